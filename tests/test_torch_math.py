"""torch's further elementwise maths (tensor_torch_math.py, torch_math.py) against torch: values
and gradients in float64 and float32 on inputs that reach every branch (zeros, poles' edges,
infinities, nan), float64 gradchecks, and torch's dtypes for integer inputs."""

from __future__ import annotations

import numpy as np
import pytest

import ember
from tests.core_reference import (
    check_gradients,
    compare_same_code,
    compare_with_torch,
    positive,
    randn,
)

A, B = randn(3, 4, seed=1), randn(3, 4, seed=2)
P = positive(3, 4, seed=3)
U = np.random.default_rng(4).uniform(-0.9, 0.9, (3, 4))  # inside (−1, 1): asin, atanh, erfinv
G = np.random.default_rng(5).uniform(1.1, 3.0, (3, 4))  # above 1: acosh
Q = np.random.default_rng(6).uniform(0.05, 0.95, (3, 4))  # inside (0, 1): logit
GAMMA = np.array([[-2.5, -0.5, 0.3, 1.7], [4.5, 10.25, -1.2, 0.01]])  # away from the poles
# zeros and an integer; no |x| below 0.03, where torch's float32 slope cancels (1.4 % off at
# 1e-3) and ember takes the series (tests/ops/test_unary_extremes.py holds it to the exact one)
SINC = np.array([[0.0, 0.5, -1.5, 2.25], [0.125, -0.0, 3.0, -0.7]])
EDGE = np.array([[-0.5, 0.0, 0.05, 0.5], [0.95, 1.0, 1.2, 0.3]])  # logit's eps clamp
XS = np.array([0.0, 0.0, 1.5, -2.0, 0.0, 0.7])  # xlogy: x = 0 with y = 0, y > 0 and y < 0
YS = np.array([0.0, 2.0, 0.5, 3.0, -1.0, np.inf])
BIG_A = np.array([1000.0, -1000.0, 0.0, 3.0, -np.inf, 20.0])  # logaddexp: no overflow, −inf
BIG_B = np.array([999.0, -1001.0, 0.0, -np.inf, 2.0, -30.0])
INF = np.array([[np.nan, np.inf, -np.inf, 1.5], [-2.0, np.nan, 0.25, np.inf]])
SIGNED = np.array([[-1.5, -0.0, 0.0, 2.0], [0.0, -3.0, 1.0, -0.0]])

# (id, call with m = ember or torch, inputs); method and function forms both appear
SAME = [
    ("tan", lambda m, x: m.tan(x), [U]),
    ("asin", lambda m, x: x.asin(), [U]),
    ("arcsin", lambda m, x: m.arcsin(x), [U]),
    ("acos", lambda m, x: m.acos(x), [U]),
    ("atan", lambda m, x: x.atan(), [A]),
    ("arctan", lambda m, x: x.arctan(), [A]),
    ("sinh", lambda m, x: m.sinh(x), [A]),
    ("cosh", lambda m, x: x.cosh(), [A]),
    ("asinh", lambda m, x: m.asinh(x), [A]),
    ("acosh", lambda m, x: x.acosh(), [G]),
    ("atanh", lambda m, x: m.atanh(x), [U]),
    ("arctanh", lambda m, x: x.arctanh(), [U]),
    ("log2", lambda m, x: m.log2(x), [P]),
    ("log10", lambda m, x: x.log10(), [P]),
    ("exp2", lambda m, x: m.exp2(x), [A]),
    ("erf", lambda m, x: m.erf(x), [A]),
    ("erfc", lambda m, x: x.erfc(), [A * 3]),
    ("erfinv", lambda m, x: m.erfinv(x), [U]),
    ("lgamma", lambda m, x: m.lgamma(x), [GAMMA]),
    ("sinc", lambda m, x: m.sinc(x), [SINC]),
    ("logit", lambda m, x: m.logit(x), [Q]),
    ("logit_eps", lambda m, x: x.logit(eps=0.1), [EDGE]),
    ("deg2rad", lambda m, x: m.deg2rad(x), [A * 90]),
    ("rad2deg", lambda m, x: x.rad2deg(), [A]),
    ("sgn", lambda m, x: m.sgn(x) + x, [SIGNED]),  # + x: sgn's own gradient is 0
    ("nan_to_num", lambda m, x: m.nan_to_num(x), [INF]),
    ("nan_to_num_values", lambda m, x: x.nan_to_num(nan=-7.0, posinf=9.0, neginf=-9.0), [INF]),
    ("atan2", lambda m, y, x: m.atan2(y, x), [A, B]),
    ("atan2_broadcast", lambda m, y, x: y.atan2(x), [A, B[0]]),
    ("arctan2", lambda m, y, x: m.arctan2(y, x), [A, P]),
    ("hypot", lambda m, x, y: m.hypot(x, y), [A, B]),
    ("hypot_broadcast", lambda m, x, y: x.hypot(y), [A[:, :1], B]),
    ("xlogy", lambda m, x, y: m.xlogy(x, y), [A, P]),
    ("xlogy_zeros", lambda m, x, y: m.xlogy(x, y), [XS, YS]),
    ("xlogy_scalar_other", lambda m, x: m.xlogy(x, 3.0), [A]),
    ("xlogy_scalar_self", lambda m, y: m.xlogy(2.0, y), [P]),
    ("logaddexp", lambda m, x, y: m.logaddexp(x, y), [A, B]),
    ("logaddexp_extremes", lambda m, x, y: x.logaddexp(y), [BIG_A, BIG_B]),
    ("logaddexp2", lambda m, x, y: m.logaddexp2(x, y), [A, B]),
    ("logaddexp2_extremes", lambda m, x, y: x.logaddexp2(y), [BIG_A, BIG_B]),
    ("float_power", lambda m, x: m.float_power(x, 2.5), [P]),
    ("float_power_tensor", lambda m, x, y: x.float_power(y), [P, B]),
    ("float_power_int_exponent", lambda m, x: m.float_power(x, 3), [A]),
    ("float_power_scalar_base", lambda m, y: m.float_power(2.0, y), [A]),
    ("addcmul", lambda m, a, b, c: m.addcmul(a, b, c), [A, B, P]),
    ("addcmul_value", lambda m, a, b, c: a.addcmul(b, c, value=-0.5), [A, B[0], P]),
    ("addcdiv", lambda m, a, b, c: m.addcdiv(a, b, c, value=2.0), [A, B, P]),
    ("addcdiv_method", lambda m, a, b, c: a.addcdiv(b, c), [A, B, P]),
    ("clamp_min", lambda m, x: m.clamp_min(x, 0.1), [A]),
    ("clamp_max", lambda m, x: x.clamp_max(-0.2), [A]),
    ("clamp_min_tensor", lambda m, x, lo: m.clamp_min(x, lo), [A, B]),
    ("clamp_max_tensor", lambda m, x, hi: x.clamp_max(hi), [A, B[1]]),
    ("clamp_min_ties", lambda m, x, lo: x.clamp_min(lo), [A, np.where(A > 0, A, -A)]),
    ("clamp_max_ties", lambda m, x, hi: m.clamp_max(x, hi), [A, np.where(A > 0, A, 0.0)]),
]

# values only: bool results, torch's heaviside (no derivative), digamma (see its own test)
VALUES = [
    ("digamma", lambda m, x: x.digamma(), [GAMMA]),
    ("signbit", lambda m, x: m.signbit(x), [SIGNED]),
    ("heaviside", lambda m, x, v: m.heaviside(x, v), [SIGNED, np.array([0.5, -1.0, 2.0, 0.0])]),
    ("isclose", lambda m, x, y: m.isclose(x, y), [A, A + np.array([0.0, 1e-9, 1e-4, 1.0])]),
    ("isclose_tol", lambda m, x, y: x.isclose(y, rtol=0.0, atol=1e-3), [A, A + 5e-4]),
    ("isclose_nan", lambda m, x, y: m.isclose(x, y, equal_nan=True), [INF, INF]),
    ("isclose_nan_unequal", lambda m, x, y: m.isclose(x, y), [INF, INF]),
    ("logical_xor", lambda m, x, y: m.logical_xor(x > 0, y > 0), [A, B]),
    ("logical_xor_numbers", lambda m, x, y: x.logical_xor(y), [SIGNED, A[:2]]),
]


@pytest.mark.parametrize("name,f,arrays", SAME, ids=[c[0] for c in SAME])
@pytest.mark.filterwarnings(
    "ignore:invalid value:RuntimeWarning", "ignore:divide by zero:RuntimeWarning"
)
def test_matches_torch(torch, name, f, arrays):
    """Outputs and gradients (where torch has any) in float64, then again in float32."""
    compare_same_code(torch, f, arrays)


@pytest.mark.parametrize("name,f,arrays", VALUES, ids=[c[0] for c in VALUES])
def test_values_match_torch(torch, name, f, arrays):
    for dtype in (np.float64, np.float32):
        fe, ft = (lambda *t: f(ember, *t)), (lambda *t: f(torch, *t))
        compare_with_torch(torch, fe, ft, arrays, dtype=dtype, grad=False)


def test_digamma_gradient_is_the_trigamma(torch):
    """ψ′ from SciPy's polygamma(1, x): exact to ~1e-16 (ψ′(1) = π²/6); torch's trigamma series
    is good to ~5e-10 relative, so the comparison with torch allows that much."""
    x = ember.tensor(GAMMA, requires_grad=True)
    x.digamma().sum().backward()
    t = torch.tensor(GAMMA, requires_grad=True)
    t.digamma().sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=2e-9)
    one = ember.tensor([1.0], dtype=ember.float64, requires_grad=True)
    one.digamma().sum().backward()
    np.testing.assert_allclose(one.grad.tolist(), [np.pi**2 / 6], rtol=1e-15)


# differentiable functions away from their non-differentiable points, for gradcheck
GRADCHECK = [
    ("tan", lambda x: ember.tan(x), [U]),
    ("asin", lambda x: x.asin(), [U]),
    ("acos", lambda x: x.acos(), [U]),
    ("atan", lambda x: x.atan(), [A]),
    ("sinh", lambda x: x.sinh(), [A]),
    ("cosh", lambda x: x.cosh(), [A]),
    ("asinh", lambda x: x.asinh(), [A]),
    ("acosh", lambda x: x.acosh(), [G]),
    ("atanh", lambda x: x.atanh(), [U]),
    ("log2", lambda x: x.log2(), [P]),
    ("log10", lambda x: x.log10(), [P]),
    ("exp2", lambda x: x.exp2(), [A]),
    ("erf", lambda x: x.erf(), [A]),
    ("erfc", lambda x: x.erfc(), [A]),
    ("erfinv", lambda x: x.erfinv(), [U]),
    ("lgamma", lambda x: x.lgamma(), [GAMMA]),
    ("digamma", lambda x: x.digamma(), [GAMMA]),
    ("sinc", lambda x: x.sinc(), [SINC + 0.1]),
    ("logit", lambda x: x.logit(), [Q]),
    ("logit_eps", lambda x: x.logit(eps=0.02), [Q]),
    ("deg2rad", lambda x: x.deg2rad(), [A]),
    ("nan_to_num", lambda x: x.nan_to_num(), [A]),
    ("atan2", lambda y, x: y.atan2(x), [A, B]),
    ("hypot", lambda x, y: x.hypot(y), [A, B[0]]),
    ("xlogy", lambda x, y: x.xlogy(y), [A, P]),
    ("logaddexp", lambda x, y: x.logaddexp(y), [A * 5, B]),
    ("logaddexp2", lambda x, y: x.logaddexp2(y), [A, B * 5]),
    ("float_power", lambda x, y: x.float_power(y), [P, B]),
    ("addcmul", lambda a, b, c: a.addcmul(b, c, value=0.7), [A, B, P]),
    ("addcdiv", lambda a, b, c: a.addcdiv(b, c, value=0.7), [A, B, P]),
    ("clamp_min", lambda x, lo: x.clamp_min(lo), [A, B]),
    ("clamp_max", lambda x: x.clamp_max(0.3), [A]),
]


@pytest.mark.parametrize("name,f,arrays", GRADCHECK, ids=[c[0] for c in GRADCHECK])
def test_gradcheck(name, f, arrays):
    check_gradients(f, arrays)


UNARY_FLOATING = (
    "tan asin acos atan sinh cosh asinh acosh atanh log2 log10 exp2 erf erfc erfinv lgamma"
    " digamma sinc logit deg2rad rad2deg"
).split()


@pytest.mark.filterwarnings(
    "ignore:invalid value:RuntimeWarning", "ignore:divide by zero:RuntimeWarning"
)
@pytest.mark.parametrize("name", UNARY_FLOATING)
@pytest.mark.parametrize("dtype", ["int64", "int32", "uint8", "bool"])
def test_integer_input_computes_in_the_default_float(torch, name, dtype):
    a = np.array([0, 1, 2, 3]).astype(dtype)
    got, want = getattr(ember, name)(ember.tensor(a)), getattr(torch, name)(torch.tensor(a))
    assert got.dtype == np.float32 and str(want.dtype) == "torch.float32"
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-6, equal_nan=True)


@pytest.mark.parametrize("name", ["atan2", "xlogy"])
def test_integer_pairs_compute_in_the_default_float(torch, name):
    a, b = np.array([0, 1, -2, 3]), np.array([2, 1, 5, 4], dtype=np.int32)
    got = getattr(ember, name)(ember.tensor(a), ember.tensor(b))
    want = getattr(torch, name)(torch.tensor(a), torch.tensor(b))
    assert got.dtype == np.float32 and str(want.dtype) == "torch.float32"
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-6)


@pytest.mark.parametrize("name", ["hypot", "logaddexp", "logaddexp2"])
def test_integer_pairs_refused_where_torch_refuses_them(torch, name):
    a = np.array([1, 2])
    with pytest.raises(RuntimeError):
        getattr(torch, name)(torch.tensor(a), torch.tensor(a))
    with pytest.raises(TypeError, match="integer"):
        getattr(ember, name)(ember.tensor(a), ember.tensor(a))
    mixed = getattr(ember, name)(ember.tensor(a), ember.tensor([0.5, 1.5]))  # one float: fine
    assert mixed.dtype == np.float32


def test_integer_dtypes_kept_as_torch_keeps_them(torch):
    a = np.array([-2, 0, 3])
    for name in ("sgn", "nan_to_num"):
        got, want = getattr(ember, name)(ember.tensor(a)), getattr(torch, name)(torch.tensor(a))
        assert got.dtype == np.int64 and str(want.dtype) == "torch.int64"
        assert got.tolist() == want.tolist()
    flags = np.array([True, False])
    assert ember.sgn(ember.tensor(flags)).tolist() == torch.sgn(torch.tensor(flags)).tolist()
    assert ember.signbit(ember.tensor(a)).tolist() == [True, False, False]
    h = ember.heaviside(ember.tensor(a), ember.tensor([7]))
    assert h.dtype == np.int64 and h.tolist() == [0, 7, 1]
    assert ember.isclose(ember.tensor([1, 2]), ember.tensor([1, 3])).tolist() == [True, False]
    fp = ember.float_power(ember.tensor(a), 2)
    assert fp.dtype == np.float64 and fp.tolist() == [4.0, 0.0, 9.0]
    assert ember.clamp_min(ember.tensor(a), 0.5).dtype == np.float32  # as torch's promotion


def test_float_power_runs_in_float64_and_sends_float32_gradients_back(torch):
    x = ember.tensor(np.array([0.5, 1.5, 2.0], np.float32), requires_grad=True)
    y = x.float_power(3.5)
    assert y.dtype == np.float64
    y.sum().backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_allclose(x.grad.numpy(), 3.5 * x.detach().numpy() ** 2.5, rtol=1e-6)


def test_sinc_at_zero_is_one_with_gradient_zero():
    x = ember.tensor([0.0, 1.0], dtype=ember.float64, requires_grad=True)
    y = x.sinc()
    assert y.tolist()[0] == 1.0 and abs(y.tolist()[1]) < 1e-16
    y.sum().backward()
    assert x.grad.tolist()[0] == 0.0
    np.testing.assert_allclose(x.grad.tolist()[1], -1.0)  # (π cos π − sin π)/π = −1


def test_xlogy_is_zero_at_zero_and_nan_at_nan():
    x = ember.tensor([0.0, 0.0, 0.0, 2.0], dtype=ember.float64)
    y = ember.tensor([0.0, np.inf, np.nan, np.nan], dtype=ember.float64)
    out = ember.xlogy(x, y).numpy()
    assert out[0] == 0.0 and out[1] == 0.0 and np.isnan(out[2]) and np.isnan(out[3])


@pytest.mark.filterwarnings(
    "ignore:overflow:RuntimeWarning", "ignore:divide by zero:RuntimeWarning"
)
def test_logaddexp_stays_finite_where_the_naive_formula_overflows():
    a = ember.tensor([1000.0, -1000.0, -np.inf], dtype=ember.float64)
    b = ember.tensor([1000.0, -1000.0, -np.inf], dtype=ember.float64)
    out = ember.logaddexp(a, b).numpy()
    np.testing.assert_allclose(out[:2], [1000.0 + np.log(2), -1000.0 + np.log(2)], rtol=1e-15)
    assert out[2] == -np.inf
    naive = (a.exp() + b.exp()).log().numpy()
    assert np.isinf(naive[0]) and np.isinf(naive[1])  # what the stable form avoids
    out2 = ember.logaddexp2(a, b).numpy()
    np.testing.assert_allclose(out2[:2], [1001.0, -999.0], rtol=1e-15)


def test_erfc_keeps_relative_precision_in_the_tail(torch):
    x = np.array([5.0, 10.0, 20.0])
    got = ember.erfc(ember.tensor(x)).numpy()
    np.testing.assert_allclose(got, torch.erfc(torch.tensor(x)).numpy(), rtol=1e-13)
    assert got[1] > 0 and (1 - ember.erf(ember.tensor(x)).numpy())[1] == 0.0


def test_logit_gradient_zero_outside_the_eps_clamp_and_nan_outside_0_1():
    x = ember.tensor([0.01, 0.5, 0.99, 1.5], dtype=ember.float64, requires_grad=True)
    x.logit(eps=0.05).sum().backward()
    assert x.grad.tolist()[0] == 0.0 and x.grad.tolist()[2] == 0.0 and x.grad.tolist()[3] == 0.0
    np.testing.assert_allclose(x.grad.tolist()[1], 4.0)
    x.grad = None
    with np.errstate(invalid="ignore"):
        x.logit().sum().backward()
    assert np.isnan(x.grad.tolist()[3])


def test_nan_to_num_gradient_passes_only_where_finite():
    x = ember.tensor(INF, dtype=ember.float64, requires_grad=True)
    x.nan_to_num().sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.isfinite(INF).astype(float))


def test_refusals_as_torch(torch):
    x32, x64 = ember.tensor([0.0, 1.0]), ember.tensor([0.0, 1.0], dtype=ember.float64)
    with pytest.raises(TypeError, match="dtype"):
        ember.heaviside(x32, x64)
    with pytest.raises(RuntimeError):
        torch.heaviside(torch.tensor([0.0, 1.0]), torch.tensor([0.0, 1.0], dtype=torch.float64))
    ints = ember.tensor([1, 2])
    with pytest.raises(TypeError, match="integer"):
        ember.addcdiv(x32, ints, ints)
    with pytest.raises(RuntimeError):
        torch.addcdiv(torch.zeros(2), torch.tensor([1, 2]), torch.tensor([1, 2]))


def test_is_floating_point_and_top_level_names():
    assert ember.tensor([1.0]).is_floating_point() is True
    assert ember.is_floating_point(ember.tensor([1])) is False
    assert ember.tensor([1.0], dtype=ember.float16).is_floating_point()
    assert ember.tan([0.0]).tolist() == [0.0]  # a list taken as a constant tensor
    from ember import torch_math

    assert all(hasattr(ember, n) for n in torch_math.__all__)
