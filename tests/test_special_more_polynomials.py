"""ember.special's orthogonal polynomials against torch.special: values on (x, n) grids in
float64 and float32 (|x| > 1, the interval's ends, ±∞; negative, non-integer, large, nan and
infinite n), tensor and scalar n, broadcasting, dtypes, no gradients (as torch) and refusals."""

import numpy as np
import pytest

import ember
import ember.special as S

NAMES = [
    "chebyshev_polynomial_t", "chebyshev_polynomial_u", "chebyshev_polynomial_v",
    "chebyshev_polynomial_w", "shifted_chebyshev_polynomial_t", "shifted_chebyshev_polynomial_u",
    "shifted_chebyshev_polynomial_v", "shifted_chebyshev_polynomial_w", "hermite_polynomial_h",
    "hermite_polynomial_he", "laguerre_polynomial_l", "legendre_polynomial_p",
]  # fmt: skip

X = np.concatenate([
    np.linspace(-3.0, 3.0, 25),
    [-1.0, 1.0, 0.0, 0.5, 1e-3, -0.999999, 0.999999, 1.000001, 0.9999999, 40.0, -1e3, 1e200,
     np.inf, -np.inf],
])  # fmt: skip
# each branch of torch's: n < 0, truncation (1.9 → 1, −0.5 → 0), 0, 1, the recurrence, the
# trigonometric forms past n = 4, 6, 8, Hermite's limits (128 in float32, 512 in float64),
# and n's that are not finite or past int64 (→ 0)
N = np.array([-3.0, -0.5, 0.0, 1.0, 1.9, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 17.0,
              60.0, 128.0, 129.0, 300.0, 512.0, 513.0, np.nan, np.inf, -np.inf, 1e19])  # fmt: skip


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_float64_values_match_torch(torch, name):
    x, n = np.meshgrid(X, N, indexing="ij")
    e = getattr(S, name)(ember.tensor(x), ember.tensor(n))
    t = getattr(torch.special, name)(torch.tensor(x), torch.tensor(n))
    assert e.dtype == np.float64 and not e.requires_grad
    np.testing.assert_allclose(e.numpy(), t.numpy(), rtol=1e-10, atol=1e-12, equal_nan=True)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_float32_values_match_torch(torch, name):
    # up to n = 60: beyond it float32's rounding of n·acos(x) alone moves cos(n·acos x) by
    # ~1e-4 (torch and ember round differently, neither is exact)
    x, n = (a.astype(np.float32) for a in np.meshgrid(X, N[N <= 60], indexing="ij"))
    e = getattr(S, name)(ember.tensor(x), ember.tensor(n))
    t = getattr(torch.special, name)(torch.tensor(x), torch.tensor(n))
    assert e.dtype == np.float32
    np.testing.assert_allclose(e.numpy(), t.numpy(), rtol=2e-4, atol=2e-5, equal_nan=True)


@pytest.mark.parametrize("name", NAMES)
def test_nan_x(name):
    """torch returns an uninitialised value for x = nan in several of these (its recurrence
    loop never runs); ember returns nan for n ≥ 1, and torch's 1 for n = 0, 0 for n < 0."""
    n = ember.tensor([-1.0, 0.0, 1.0, 2.0, 5.0, 12.0], dtype=ember.float64)
    out = getattr(S, name)(ember.tensor([np.nan], dtype=ember.float64), n).numpy()
    np.testing.assert_array_equal(out[:2], [0.0, 1.0])
    assert np.isnan(out[2:]).all()


@pytest.mark.parametrize("name", NAMES)
def test_scalar_n_and_x_broadcasting_and_dtypes(torch, name):
    x = np.linspace(-1.5, 1.5, 7)
    cases = [
        (lambda m: m.tensor(x.astype(np.float32)), 3),  # float32 with a Python int
        (lambda m: m.tensor(x.astype(np.float32)), 2.7),  # a Python float n, truncated
        (lambda m: m.tensor([0, 1, 2]), 4),  # integers → float32
        (lambda m: m.tensor([0, 1, 2]), lambda m: m.tensor([2, 3, 4])),
        (0.25, lambda m: m.tensor([0, 1, 5, 12])),  # a number x with tensor n
        (lambda m: m.tensor(x.reshape(7, 1)), lambda m: m.tensor([[0.0, 1.0, 3.0, 9.0]])),
        (lambda m: m.tensor(x.astype(np.float32)), lambda m: m.tensor([2.0] * 7, dtype=m.float64)),
        (lambda m: m.tensor(x.astype(np.float32)), lambda m: m.tensor(2.0, dtype=m.float64)),
    ]
    for a, b in cases:
        ae, be = (v(ember) if callable(v) else v for v in (a, b))
        at, bt = (v(torch) if callable(v) else v for v in (a, b))
        e, t = getattr(S, name)(ae, be), getattr(torch.special, name)(at, bt)
        assert str(e.dtype) == str(t.dtype).split(".")[-1]
        assert tuple(e.shape) == tuple(t.shape)
        np.testing.assert_allclose(e.numpy(), t.numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", NAMES)
def test_no_gradient_and_refusals_as_torch(torch, name):
    xt = torch.tensor([0.3, 0.6], requires_grad=True)
    nt = torch.tensor([2.0, 3.0], requires_grad=True)
    assert not getattr(torch.special, name)(xt, nt).requires_grad
    xe = ember.tensor([0.3, 0.6], requires_grad=True)
    ne = ember.tensor([2.0, 3.0], requires_grad=True)
    assert not getattr(S, name)(xe, ne).requires_grad
    with pytest.raises(TypeError):
        getattr(S, name)(0.5, 2)
    for dtype in ("float16", "complex64"):
        with pytest.raises(NotImplementedError) as err:
            getattr(torch.special, name)(torch.ones(2, dtype=getattr(torch, dtype)), 2)
        with pytest.raises(NotImplementedError, match=str(err.value).replace('"', ".")):
            getattr(S, name)(ember.ones(2, dtype=getattr(ember, dtype)), 2)


def test_known_values():
    x = ember.tensor([0.5], dtype=ember.float64)
    expected = {
        "chebyshev_polynomial_t": 4 * 0.125 - 3 * 0.5,  # T₃ = 4x³ − 3x
        "chebyshev_polynomial_u": 8 * 0.125 - 4 * 0.5,  # U₃ = 8x³ − 4x
        "hermite_polynomial_h": 8 * 0.125 - 12 * 0.5,  # H₃ = 8x³ − 12x
        "hermite_polynomial_he": 0.125 - 3 * 0.5,  # He₃ = x³ − 3x
        "legendre_polynomial_p": (5 * 0.125 - 3 * 0.5) / 2,  # P₃ = (5x³ − 3x)/2
        "laguerre_polynomial_l": (-0.125 + 9 * 0.25 - 18 * 0.5 + 6) / 6,  # L₃
        "shifted_chebyshev_polynomial_t": 0.0,  # T*₃(½) = T₃(2·½ − 1) = T₃(0) = 0
    }
    for name, want in expected.items():
        np.testing.assert_allclose(getattr(S, name)(x, 3).numpy(), [want], atol=1e-15)


def test_large_n_runs_vectorised():
    """One recurrence over many elements with mixed n (each element leaves at its own n)."""
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, 20000)
    n = rng.integers(0, 200, 20000)
    out = S.legendre_polynomial_p(ember.tensor(x), ember.tensor(n)).numpy()
    assert np.all(np.abs(out) <= 1 + 1e-12)  # |P_n(x)| ≤ 1 on [−1, 1]
    k = np.argmax(n)
    one = S.legendre_polynomial_p(ember.tensor(x[k : k + 1]), int(n[k])).numpy()
    np.testing.assert_allclose(out[k], one[0], rtol=1e-13)
