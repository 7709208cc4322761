"""The piecewise activation ops (ops/activations_piecewise.py) against the ``where``
compositions they replace (functional/activation_composed.py): values and gradients equal in
float64 on every branch, the kinks, NaN, ±inf and huge inputs; gradcheck away from the kinks;
dtypes kept; in-place forms; the bitwise ``select`` against ``where``."""

from __future__ import annotations

import numpy as np
import pytest

import ember
import ember.functional.activation_more as A
from ember.functional.activation_composed import COMPOSED
from ember.ops import activations_piecewise as P
from tests.core_reference import check_gradients, randn

# the kinks (±3, 0, 6, ±λ, thresholds), both sides, 20 (softplus), non-finite and huge values
EDGES = [np.nan, np.inf, -np.inf, -1e4, 1e4, -800.0, 800.0, -3.0, 3.0, -3.0 - 1e-9, 3.0 + 1e-9]
EDGES += [0.0, -0.0, 1e-9, -1e-9, 0.5, -0.5, 1.2, -1.2, 1.0, -1.0, 6.0, 2.5, -2.0, 5.0]
EDGES += [19.9, 20.0, 20.1, 10.0, 10.1, -20.0, -7.5]
X = np.concatenate([EDGES, randn(72 - len(EDGES), seed=3, scale=5.0)]).reshape(6, 12)
SMOOTH = np.array([[-4.5, -2.9, -1.7, -0.6, -0.2, 0.3], [0.8, 1.4, 2.6, 3.5, 5.2, 7.0]])

# case: (function name, arguments after the input)
CASES = {
    "hardtanh": ("hardtanh", ()),
    "hardtanh_range": ("hardtanh", (-2.0, 5.0)),
    "relu6_bounds": ("hardtanh", (0.0, 6.0)),
    "hardsigmoid": ("hardsigmoid", ()),
    "hardswish": ("hardswish", ()),
    "softplus": ("softplus", ()),
    "softplus_beta": ("softplus", (2.0, 5.0)),
    "softplus_small_beta": ("softplus", (0.3, 3.0)),
    "mish": ("mish", ()),
    "threshold": ("threshold", (1.0, -7.5)),
    "threshold_at_zero": ("threshold", (0.0, 2.0)),
    "hardshrink": ("hardshrink", ()),
    "hardshrink_lambd": ("hardshrink", (1.2,)),
    "softshrink": ("softshrink", ()),
    "softshrink_lambd": ("softshrink", (1.2,)),
    "softshrink_zero": ("softshrink", (0.0,)),
}
NAMES = sorted(CASES)


def _values_and_grads(f, arrays, gy):
    ts = [ember.tensor(a, requires_grad=True) for a in arrays]
    y = f(*ts)
    (y * ember.tensor(gy)).sum().backward()
    return y, [t.grad.array for t in ts]


def _equal(op_out, ref_out, what, atol=0.0):
    """Equal to float64's last bits (NaN where the other is NaN): the op computes torch's
    formula for the derivative, the composition autograd's chain of the same terms. Where a
    derivative is a difference of O(1) terms (Mish's, near its zero) the last bits are those
    of the terms: ``atol`` a few ulps of 1."""
    np.testing.assert_allclose(op_out, ref_out, rtol=1e-14, atol=atol, err_msg=what)


@pytest.mark.parametrize("name", NAMES)
def test_op_equals_composition(name):
    fname, args = CASES[name]
    op, ref = getattr(A, fname), COMPOSED[fname]
    gy = randn(*X.shape, seed=5)
    y, (gx,) = _values_and_grads(lambda t: op(t, *args), [X], gy)
    y_ref, (gx_ref,) = _values_and_grads(lambda t: ref(t, *args), [X], gy)
    assert y.dtype == np.float64 and gx.dtype == np.float64
    assert np.isnan(y.array[np.isnan(X)]).all()  # NaN in, NaN out (mish(−inf) too, as torch)
    _equal(y.array, y_ref.array, f"{name}: values")
    _equal(gx, gx_ref, f"{name}: gradients", atol=1e-15)  # |gy| ≤ 3: the terms are O(1)
    assert type(y.grad_fn).__module__ == P.__name__  # one op, not a graph of them


@pytest.mark.parametrize(
    "xshape, wsize", [((3, 4, 6), 4), ((3, 4, 6), 1), ((6, 4), 4), ((12,), 1), ((2, 3, 2, 2), 3)]
)
def test_prelu_op_equals_composition(xshape, wsize):
    n = int(np.prod(xshape))
    x = X.reshape(-1)[:n].reshape(xshape)
    x = np.where(np.isfinite(x), x, 0.7)  # finite: the weight's gradient sums x·g
    w = np.array([0.25, -0.5, 1.5, 0.0][:wsize])
    gy = randn(*xshape, seed=6)
    f = lambda t, a: A.prelu(t, a)  # noqa: E731
    y, (gx, gw) = _values_and_grads(f, [x, w], gy)
    y_ref, (gx_ref, gw_ref) = _values_and_grads(COMPOSED["prelu"], [x, w], gy)
    assert y.shape == y_ref.shape == xshape and gw.shape == w.shape
    _equal(y.array, y_ref.array, "values")
    _equal(gx, gx_ref, "input gradients", atol=1e-15)
    np.testing.assert_allclose(gw, gw_ref, rtol=1e-13, atol=1e-14, err_msg="weight gradients")


def test_prelu_at_nan_and_inf_as_torch(torch):
    """NaN gives NaN and the slope's gradient a·g; +inf passes through and gives the weight a
    gradient of 0 (torch's kernel), where the composition's 0·inf made it NaN."""
    x = np.array([[np.nan, np.inf, -np.inf, -2.0, 3.0]])
    w = np.array([0.25])
    ye, (gx, gw) = _values_and_grads(A.prelu, [x[:, 1:], w], np.ones((1, 4)))
    xt, wt = torch.tensor(x[:, 1:], requires_grad=True), torch.tensor(w, requires_grad=True)
    torch.nn.functional.prelu(xt, wt).sum().backward()
    np.testing.assert_array_equal(ye.array, [[np.inf, -np.inf, -0.5, 3.0]])
    np.testing.assert_array_equal(gx, xt.grad.numpy())
    np.testing.assert_array_equal(gw, wt.grad.numpy())  # −inf − 2, the +inf term 0
    yn, (gn, _) = _values_and_grads(A.prelu, [x[:, :1], w], np.ones((1, 1)))
    assert np.isnan(yn.array).all() and gn.tolist() == [[0.25]]


@pytest.mark.parametrize("name", NAMES)
def test_gradcheck_away_from_kinks(name):
    fname, args = CASES[name]
    check_gradients(lambda t: getattr(A, fname)(t, *args), [SMOOTH])


def test_prelu_gradcheck_both_inputs():
    check_gradients(A.prelu, [SMOOTH.reshape(2, 3, 2), np.array([0.3, -0.7, 1.4])])
    check_gradients(A.prelu, [SMOOTH, np.array([0.3])])


@pytest.mark.parametrize("dtype", [np.float32, np.float16])
@pytest.mark.parametrize("name", NAMES + ["prelu"])
def test_dtype_is_kept_through_forward_and_backward(name, dtype):
    x = ember.tensor(SMOOTH.astype(dtype), requires_grad=True)
    if name == "prelu":
        w = ember.tensor(np.array([0.25], dtype), requires_grad=True)
        y = A.prelu(x, w)
    else:
        fname, args = CASES[name]
        y, w = getattr(A, fname)(x, *args), None
    y.sum().backward()
    assert y.dtype == dtype and x.grad.dtype == dtype
    assert w is None or w.grad.dtype == dtype
    ref = COMPOSED[name] if name == "prelu" else None
    if ref is None:
        fname, args = CASES[name]
        want = COMPOSED[fname](ember.tensor(SMOOTH.astype(dtype)), *args).array
    else:
        want = ref(ember.tensor(SMOOTH.astype(dtype)), ember.tensor(np.array([0.25], dtype)))
        want = want.array
    # the op divides by 6 and by β where the composition multiplies by 1/6 and 1/β: an ulp
    np.testing.assert_allclose(y.array, want, rtol=2 * np.finfo(dtype).eps, atol=0)


@pytest.mark.parametrize(
    "fname, args",
    [("hardtanh", (-0.5, 2.0)), ("hardsigmoid", ()), ("hardswish", ()), ("mish", ()),
     ("threshold", (0.1, 2.0))],
)  # fmt: skip
def test_inplace_is_the_op_on_a_non_leaf(fname, args):
    """f(h, inplace=True) makes h the result (recorded as the op) and differentiates as f(h)."""
    w = randn(*SMOOTH.shape, seed=7)
    grads = []
    for inplace in (False, True):
        x = ember.tensor(SMOOTH, requires_grad=True)
        h = x * 1.5
        y = getattr(A, fname)(h, *args, inplace=inplace)
        if inplace:
            assert y is h and type(h.grad_fn).__module__ == P.__name__
        (y * ember.tensor(w)).sum().backward()
        grads.append(x.grad.array)
    np.testing.assert_array_equal(grads[0], grads[1])


def test_errors_name_what_was_expected():
    x = ember.tensor(SMOOTH)
    with pytest.raises(ValueError, match=r"min_val \(2.0\) cannot be greater than max_val"):
        A.hardtanh(x, 2.0, 1.0)
    with pytest.raises(ValueError, match="lambda must be ≥ 0, got -1"):
        A.softshrink(x, -1.0)
    with pytest.raises(ValueError, match="parameter numbers = 3 and channel size = 6"):
        A.prelu(x, ember.tensor(np.ones(3)))


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.float16, np.int64, np.int8])
def test_select_is_where_bit_for_bit(dtype):
    rng = np.random.default_rng(0)
    a = (rng.standard_normal((5, 7)) * 100).astype(dtype)
    b = (rng.standard_normal((5, 7)) * 100).astype(dtype)
    if np.dtype(dtype).kind == "f":
        a.flat[:4] = [np.nan, np.inf, -np.inf, -0.0]
        b.flat[4:8] = [np.nan, np.inf, -np.inf, -0.0]
    m = rng.random((5, 7)) > 0.5
    for x, y in [(a, b), (a, np.asarray(3, dtype)), (np.asarray(-2, dtype), b), (a[::-1], b.T.T)]:
        got, want = P.select(m, x, y), np.where(m, x, np.asarray(y, dtype))
        assert got.dtype == want.dtype == dtype and got.shape == m.shape
        np.testing.assert_array_equal(got.view(f"u{got.itemsize}"), want.view(f"u{want.itemsize}"))
    zero_d = P.select(np.asarray(True), np.asarray(1.5), np.asarray(2.5))
    assert zero_d.shape == () and float(zero_d) == 1.5


def test_integer_inputs(torch):
    """hardtanh and threshold keep integers, as torch's; the smooth ones refuse them, as
    torch's (it has no integer kernel for them)."""
    a = np.array([-5, -3, -1, 0, 1, 2, 3, 7])
    for name, args in [("hardtanh", (-2, 4)), ("threshold", (1, -7))]:
        y = getattr(A, name)(ember.tensor(a), *args)
        want = getattr(torch.nn.functional, name)(torch.tensor(a), *args).numpy()
        assert y.dtype == np.int64
        np.testing.assert_array_equal(y.array, want)
    for name in ("hardsigmoid", "hardswish", "softplus", "mish"):
        with pytest.raises(NotImplementedError, match=f'"{name}_cpu" not implemented for'):
            getattr(A, name)(ember.tensor(a))
        with pytest.raises(NotImplementedError, match=f'"{name}_cpu" not implemented for'):
            getattr(torch.nn.functional, name)(torch.tensor(a))


@pytest.mark.parametrize("shape", [(), (0, 3), (1,)])
def test_zero_d_and_empty_inputs_as_torch(torch, shape):
    """Shapes NumPy hands back as scalars (0-d) or empty keep torch's shape, values, gradients."""
    for v in (-4.0, -1.0, 0.3, 2.0, 25.0):
        a = np.full(shape, v)
        fs = [(getattr(A, n), getattr(torch.nn.functional, n), args) for n, args in CASES.values()]
        fs.append((lambda t: A.prelu(t, ember.tensor([0.25], dtype=t.dtype)),
                   lambda t: torch.nn.functional.prelu(t, torch.tensor([0.25], dtype=t.dtype)),
                   ()))  # fmt: skip
        for fe, ft, args in fs:
            # torch's CPU hardsigmoid gradient is 1/6 rounded to float32; ember's the exact 1/6
            rtol = 1e-7 if fe is A.hardsigmoid else 1e-12
            x, xt = ember.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
            y, yt = fe(x, *args), ft(xt, *args)
            y.sum().backward()
            yt.sum().backward()
            assert y.shape == tuple(yt.shape) and x.grad.shape == shape
            np.testing.assert_allclose(y.array, yt.detach().numpy(), rtol=1e-12)
            np.testing.assert_allclose(x.grad.array, xt.grad.numpy(), rtol=rtol)


def test_hardswish_at_the_infinities_as_torch(torch):
    """x·0 below −3: −0 for finite x and NaN at −inf, as torch's (ember gave −0 at −inf)."""
    x = np.array([-np.inf, -5.0, -3.0, -0.0, 0.0, 3.0, np.inf, np.nan])
    y, (g,) = _values_and_grads(A.hardswish, [x], np.ones_like(x))
    t = torch.tensor(x, requires_grad=True)
    yt = torch.nn.functional.hardswish(t)
    yt.sum().backward()
    np.testing.assert_array_equal(y.array, yt.detach().numpy())
    np.testing.assert_array_equal(np.signbit(y.array), np.signbit(yt.detach().numpy()))
    # at NaN torch's gradient depends on its SIMD path (1 on AVX-512 machines and in its scalar
    # tail, NaN in its AVX2 loop): ember keeps its documented 1
    np.testing.assert_array_equal(g[:-1], t.grad.numpy()[:-1])
    assert g[-1] == 1.0
