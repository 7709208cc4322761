"""lerp, addcmul and add/sub with alpha as torch's kernels compute them (found by NaN/inf and
bit-level comparisons with torch). lerp is start + w·(end − start) for |w| < ½ and
end − (end − start)·(1 − w) otherwise: the forms differ where the values are infinite
(lerp(−inf, 1, 0.9) is −inf in torch, −inf + inf = nan in the first form alone); each is rounded
once, as torch's fused multiply-add, and quantile interpolates with the same lerp."""

import numpy as np
import pytest

import ember

INF, NAN = np.inf, np.nan


def _both(torch, start, end, weight, dtype):
    out = []
    for lib in (ember, torch):
        a = lib.tensor(np.asarray(start, dtype), requires_grad=True)
        b = lib.tensor(np.asarray(end, dtype), requires_grad=True)
        w = weight
        if isinstance(weight, list):
            w = lib.tensor(np.asarray(weight, dtype), requires_grad=True)
        y = lib.lerp(a, b, w)
        y.backward(lib.ones_like(y))
        grads = [a.grad.numpy(), b.grad.numpy()]
        if isinstance(weight, list):
            grads.append(w.grad.numpy())
        out.append([y.detach().numpy()] + grads)
    return out


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16])
@pytest.mark.parametrize("weight", [0.9, 1.0, 0.25, 1.5, -0.25, [0.9, 0.1, 1.0, 0.5, 0.3]])
def test_lerp_with_infinite_ends_and_its_gradients_as_torch(torch, dtype, weight):
    start = [-INF, 1.0, 0.1, INF, -2.0]
    end = [1.0, INF, -INF, NAN, 3.0]
    ours, theirs = _both(torch, start, end, weight, dtype)
    for e, t in zip(ours, theirs):
        np.testing.assert_allclose(e, t, rtol=1e-3 if dtype == np.float16 else 1e-6)


def test_lerp_at_weight_one_is_end_exactly(torch):
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((2, 1000)).astype(np.float32)
    y = ember.lerp(ember.tensor(a), ember.tensor(b), 1.0).numpy()
    np.testing.assert_array_equal(y, b)
    np.testing.assert_array_equal(y, torch.lerp(torch.tensor(a), torch.tensor(b), 1.0).numpy())


def test_lerp_refuses_integer_tensors_and_a_complex_weight_for_real_ones(torch):
    with pytest.raises(NotImplementedError, match="integer"):
        ember.lerp(ember.tensor([1, 2]), ember.tensor([3, 4]), 0.5)
    with pytest.raises(NotImplementedError):
        torch.lerp(torch.tensor([1, 2]), torch.tensor([3, 4]), 0.5)
    with pytest.raises(RuntimeError, match="complex"):
        ember.lerp(ember.tensor([1.0]), ember.tensor([2.0]), 0.5j)
    with pytest.raises(RuntimeError):
        torch.lerp(torch.tensor([1.0]), torch.tensor([2.0]), 0.5j)


@pytest.mark.parametrize("name", ["quantile", "nanquantile"])
def test_quantile_between_an_infinity_and_a_number_as_torch(torch, name):
    x = np.array([[1.0, NAN, INF, -INF, 2.0], [-INF, -INF, 1.0, 3.0, 0.5]], np.float32)
    # ranks 0.6 and 3.4 (of 5 values) or 0.6 and 2.4 (of row 0's 4 non-nan values): weights
    # that reach the infinite ends
    q = [0.2, 0.5, 0.8] if name == "nanquantile" else [0.15, 0.5, 0.85]
    x = x if name == "nanquantile" else np.nan_to_num(x, nan=0.0, posinf=INF, neginf=-INF)
    ours = getattr(ember, name)(ember.tensor(x), ember.tensor(np.float32(q)), dim=1).numpy()
    theirs = getattr(torch, name)(torch.tensor(x), torch.tensor(np.float32(q)), dim=1).numpy()
    assert np.isinf(theirs).any()
    np.testing.assert_allclose(ours, theirs, rtol=1e-6)


@pytest.mark.parametrize("dtype", [np.float32, np.float16])
def test_lerp_equals_torch_bit_for_bit(torch, dtype):
    # torch's kernel rounds start + w·d (or end − d·(1 − w)) once, a fused multiply-add; two
    # roundings differed from it by an ulp in 11–25 % of float32 lerps
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((2, 20000)).astype(dtype)
    wt = rng.choice([0.3, 0.7, 0.5, 0.49999997, 1.0], 20000).astype(dtype)
    for w in (0.1, 0.3, 0.7, 0.9, wt):
        ours = ember.lerp(
            ember.tensor(a), ember.tensor(b), w if np.isscalar(w) else ember.tensor(w)
        )
        theirs = torch.lerp(
            torch.tensor(a), torch.tensor(b), w if np.isscalar(w) else torch.tensor(w)
        )
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_addcmul_equals_torch_bit_for_bit(torch):
    # torch: self + (value·t1)·t2 with one rounding (fused multiply-add); two float32 roundings
    # differed from it in 15–27 % of random elements
    rng = np.random.default_rng(1)
    a, b, c = rng.standard_normal((3, 20000)).astype(np.float32)
    for value in (1, 0.3, -2.5):
        ours = ember.addcmul(ember.tensor(a), ember.tensor(b), ember.tensor(c), value=value)
        theirs = torch.addcmul(torch.tensor(a), torch.tensor(b), torch.tensor(c), value=value)
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


@pytest.mark.parametrize("name", ["add", "sub"])
def test_add_and_sub_with_alpha_equal_torch_bit_for_bit(torch, name):
    # torch: self ± alpha·other rounded once (fused multiply-add); two roundings differed in
    # 9–28 % of float32 elements; an alpha past float32's range is refused as torch refuses it
    rng = np.random.default_rng(2)
    a, b = rng.standard_normal((2, 20000)).astype(np.float32)
    for alpha in (0.3, -2.5, 0.1, 2):
        for method in (False, True):  # torch.add(x, y, alpha=…) and x.add(y, alpha=…)
            got = []
            for lib in (ember, torch):
                x, y = lib.tensor(a), lib.tensor(b)
                if method:
                    got.append(getattr(x, name)(y, alpha=alpha).numpy())
                else:
                    got.append(getattr(lib, name)(x, y, alpha=alpha).numpy())
            np.testing.assert_array_equal(got[0], got[1])
    for lib in (ember, torch):
        with pytest.raises(RuntimeError, match="without overflow"):
            getattr(lib, name)(lib.tensor(a), lib.tensor(b), alpha=1e40)


def test_xlogy_float32_takes_torchs_correctly_rounded_log(torch):
    """torch's xlogy calls the scalar logf (correctly rounded), unlike its vectorised
    torch.log; ember's float32 log z is taken in float64 and rounded once. NumPy's own float32
    log had 6 % of the products an ulp off; what remains is glibc's rare last-bit slip."""
    rng = np.random.default_rng(0)
    z = rng.uniform(0.01, 50, 100_000).astype(np.float32)
    x = rng.uniform(-5, 5, 100_000).astype(np.float32)
    x[::11], z[::13], z[::17] = 0, NAN, -1.0
    got = ember.xlogy(ember.tensor(x), ember.tensor(z)).numpy()
    want = torch.xlogy(torch.tensor(x), torch.tensor(z)).numpy()
    assert got.dtype == np.float32
    differ = (got != want) & ~(np.isnan(got) & np.isnan(want))
    assert differ.mean() < 0.003, differ.mean()
    np.testing.assert_allclose(got, want, rtol=2e-7)
