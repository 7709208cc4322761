"""The rest of torch's refusals of complex input, at the call, with torch's exception class and
a message naming the op and the dtype (tests/test_complex_refusals.py has the first ones): the
ordering comparisons (<, <=, >, >= and torch's lt/le/gt/ge/greater/less…, a complex operand on
either side), sign (torch points to sgn), kthvalue/mode/nanmedian, fmax/fmin, clamp with tensor
bounds, relu/leaky_relu/elu/selu/celu/gelu, heaviside, round/floor/ceil/trunc/frac,
unique/unique_consecutive, searchsorted/bucketize, isin, max_pool1d/2d/3d, nansum/nanmean,
remainder/fmod/floor_divide/div's rounding modes, atan2, silu while it would record a graph,
and the real special functions (erf/erfc/erfinv/lgamma/digamma/logit/i0), deg2rad/rad2deg,
signbit/copysign, hypot, xlogy, logaddexp2, logsigmoid, avg_pool1d/2d, adaptive_max_pool1d/2d/3d
and histc.
Each case runs in torch first, so a torch that starts accepting one fails here."""

import numpy as np
import pytest

import ember
from tests.test_complex_refusals import Z0, _fn, assert_refused_as_torch


def _seq(lib):
    return lib.tensor(np.array([0.5, 1.0, 2.5]))


# name → (op name in the message, f(lib, z)); z is a complex (2, 3) tensor that requires grad
CASES = {
    "ge": ("ge", lambda lib, z: z >= z),
    "gt_scalar": ("gt", lambda lib, z: z > 1),
    "lt": ("lt", lambda lib, z: z < z),
    "le_fn": ("le", lambda lib, z: lib.le(z, z)),
    "gt_fn": ("gt", lambda lib, z: lib.gt(z, 0.5)),
    "ge_fn": ("ge", lambda lib, z: lib.ge(z, z)),
    "lt_fn": ("lt", lambda lib, z: lib.lt(z, z.real)),
    "real_ge_complex": ("ge", lambda lib, z: z.real >= z),
    "real_lt_complex_scalar": ("lt", lambda lib, z: z.real < 1j),
    "reflected_scalar": ("lt", lambda lib, z: 1 > z),
    "gt_method": ("gt", lambda lib, z: z.gt(z)),
    "le_method": ("le", lambda lib, z: z.real.le(z)),
    "greater": ("gt", lambda lib, z: lib.greater(z, z)),
    "greater_equal_method": ("ge", lambda lib, z: z.greater_equal(z)),
    "less": ("lt", lambda lib, z: lib.less(z, 0)),
    "less_equal_method": ("le", lambda lib, z: z.less_equal(z)),
    "sign": ("sign", lambda lib, z: z.sign()),
    "sign_fn": ("sign", lambda lib, z: lib.sign(z)),
    "kthvalue": ("kthvalue", lambda lib, z: z.kthvalue(1)),
    "kthvalue_fn": ("kthvalue", lambda lib, z: lib.kthvalue(z, 2, 0)),
    "mode": ("mode", lambda lib, z: z.mode()),
    "mode_fn": ("mode", lambda lib, z: lib.mode(z, 0)),
    "nanmedian": ("nanmedian", lambda lib, z: z.nanmedian()),
    "nanmedian_dim": ("nanmedian", lambda lib, z: lib.nanmedian(z, 1)),
    "fmax": ("fmax", lambda lib, z: lib.fmax(z, z)),
    "fmin_method": ("fmin", lambda lib, z: z.fmin(z)),
    "clamp_tensor": ("clamp", lambda lib, z: z.clamp(z.real, z.real + 1)),
    "clamp_tensor_min": ("clamp", lambda lib, z: lib.clamp(z, min=z.real)),
    "clip_tensor_max": ("clamp", lambda lib, z: lib.clip(z, max=z)),
    "relu": ("relu", lambda lib, z: _fn(lib).relu(z)),
    "relu_method": ("relu", lambda lib, z: z.relu()),
    "relu_torch": ("relu", lambda lib, z: lib.relu(z)),
    "leaky_relu": ("leaky_relu", lambda lib, z: _fn(lib).leaky_relu(z, 0.2)),
    "elu": ("elu", lambda lib, z: _fn(lib).elu(z)),
    "selu": ("elu", lambda lib, z: _fn(lib).selu(z)),
    "celu": ("elu", lambda lib, z: _fn(lib).celu(z, 0.5)),
    "gelu": ("gelu", lambda lib, z: _fn(lib).gelu(z)),
    "gelu_tanh": ("gelu", lambda lib, z: _fn(lib).gelu(z, approximate="tanh")),
    "silu_with_grad": ("silu", lambda lib, z: _fn(lib).silu(z)),
    "heaviside": ("heaviside", lambda lib, z: lib.heaviside(z, z)),
    "heaviside_method": ("heaviside", lambda lib, z: z.heaviside(z)),
    "round": ("round", lambda lib, z: z.round()),
    "round_decimals": ("round", lambda lib, z: lib.round(z, decimals=1)),
    "floor": ("floor", lambda lib, z: z.floor()),
    "ceil": ("ceil", lambda lib, z: lib.ceil(z)),
    "trunc": ("trunc", lambda lib, z: z.trunc()),
    "fix": ("trunc", lambda lib, z: lib.fix(z)),
    "frac": ("frac", lambda lib, z: z.frac()),
    "unique": ("unique", lambda lib, z: lib.unique(z)),
    "unique_method": ("unique", lambda lib, z: z.unique(return_counts=True)),
    "unique_consecutive": ("unique_consecutive", lambda lib, z: lib.unique_consecutive(z)),
    "searchsorted": ("searchsorted", lambda lib, z: lib.searchsorted(z[0].detach(), z.detach())),
    "searchsorted_values": ("searchsorted", lambda lib, z: lib.searchsorted(_seq(lib),
                                                                            z.detach())),
    "bucketize": ("searchsorted", lambda lib, z: lib.bucketize(z.detach(), _seq(lib))),
    "isin": ("isin", lambda lib, z: lib.isin(z, z)),
    "isin_real_test": ("isin", lambda lib, z: lib.isin(z, _seq(lib))),
    "max_pool1d": ("max_pool1d", lambda lib, z: _fn(lib).max_pool1d(z[None], 2)),
    "max_pool1d_unbatched": ("max_pool1d", lambda lib, z: _fn(lib).max_pool1d(z, 2, 1)),
    "max_pool2d": ("max_pool2d", lambda lib, z: _fn(lib).max_pool2d(z[None], 2, 1)),
    "max_pool2d_indices": ("max_pool2d", lambda lib, z: _fn(lib).max_pool2d(
        z[None, None], 1, return_indices=True)),
    "max_pool3d": ("max_pool3d", lambda lib, z: _fn(lib).max_pool3d(z[None, None], (1, 1, 2))),
    "nansum": ("nansum", lambda lib, z: z.nansum()),
    "nansum_dim": ("nansum", lambda lib, z: lib.nansum(z, 1)),
    "nanmean": ("nanmean", lambda lib, z: z.nanmean()),
    "remainder": ("remainder", lambda lib, z: z % 2),
    "remainder_fn": ("remainder", lambda lib, z: lib.remainder(z, z)),
    "remainder_reflected": ("remainder", lambda lib, z: 2 % z),
    "fmod": ("fmod", lambda lib, z: lib.fmod(z, 2)),
    "fmod_method": ("fmod", lambda lib, z: z.real.fmod(z)),
    "floor_divide": ("floor_divide", lambda lib, z: z // 2),
    "floor_divide_fn": ("floor_divide", lambda lib, z: lib.floor_divide(z, z)),
    "floor_divide_reflected": ("floor_divide", lambda lib, z: 2 // z),
    "div_trunc": ("div", lambda lib, z: lib.div(z, 2, rounding_mode="trunc")),
    "div_floor": ("floor_divide", lambda lib, z: z.div(z, rounding_mode="floor")),
    "atan2": ("atan2", lambda lib, z: lib.atan2(z, z)),
    "arctan2_real_complex": ("atan2", lambda lib, z: lib.arctan2(z.real, z)),
    "atan2_method": ("atan2", lambda lib, z: z.atan2(z.real)),
    # real special functions and the rest of the activations, pools and bit tests
    "erf": ("erf", lambda lib, z: lib.erf(z)),
    "erfc": ("erfc", lambda lib, z: z.erfc()),
    "erfinv": ("erfinv", lambda lib, z: lib.erfinv(z)),
    "lgamma": ("lgamma", lambda lib, z: z.lgamma()),
    "digamma": ("digamma", lambda lib, z: lib.digamma(z)),
    "logit": ("logit", lambda lib, z: lib.logit(z)),
    "logit_eps": ("logit", lambda lib, z: z.logit(1e-3)),
    "i0": ("i0", lambda lib, z: lib.i0(z)),
    "deg2rad": ("deg2rad", lambda lib, z: lib.deg2rad(z)),
    "rad2deg": ("rad2deg", lambda lib, z: z.rad2deg()),
    "signbit": ("signbit", lambda lib, z: lib.signbit(z)),
    "copysign": ("copysign", lambda lib, z: lib.copysign(z, z)),
    "copysign_real_complex": ("copysign", lambda lib, z: z.real.copysign(z)),
    "hypot": ("hypot", lambda lib, z: lib.hypot(z, z)),
    "xlogy": ("xlogy", lambda lib, z: lib.xlogy(z, z)),
    "xlogy_real_complex": ("xlogy", lambda lib, z: z.real.xlogy(z)),
    "logaddexp2": ("logaddexp2", lambda lib, z: lib.logaddexp2(z, z)),
    "logsigmoid": ("logsigmoid", lambda lib, z: _fn(lib).logsigmoid(z)),
    "avg_pool1d": ("avg_pool1d", lambda lib, z: _fn(lib).avg_pool1d(z[None], 2)),
    "avg_pool2d": ("avg_pool2d", lambda lib, z: _fn(lib).avg_pool2d(z[None, None], 1)),
    "adaptive_max_pool1d": ("adaptive_max_pool1d", lambda lib, z: _fn(lib).adaptive_max_pool1d(
        z[None], 1)),
    "adaptive_max_pool2d": ("adaptive_max_pool2d", lambda lib, z: _fn(lib).adaptive_max_pool2d(
        z[None], 1)),
    "adaptive_max_pool3d": ("adaptive_max_pool3d", lambda lib, z: _fn(lib).adaptive_max_pool3d(
        z[None, None], 1)),
    "histc": ("histc", lambda lib, z: lib.histc(z.detach(), 4)),
}  # fmt: skip


@pytest.mark.parametrize("dtype", [np.complex64, np.complex128])
@pytest.mark.parametrize("name", sorted(CASES))
def test_refused_at_the_call_as_torch(torch, name, dtype):
    assert_refused_as_torch(torch, *CASES[name], dtype)


@pytest.mark.parametrize("name", ["gt_scalar", "sign", "relu", "floor", "remainder", "unique",
                                  "kthvalue", "max_pool2d", "atan2", "clamp_tensor"])  # fmt: skip
def test_refused_without_grad_too(torch, name):
    op, f = CASES[name]
    with torch.no_grad(), pytest.raises(RuntimeError):
        f(torch, torch.tensor(Z0))
    with ember.no_grad(), pytest.raises(RuntimeError, match=rf"^{op}\(\): .*complex128"):
        f(ember, ember.tensor(Z0))


X0 = Z0.real + np.arange(6).reshape(2, 3) * 0.1  # no ties; negatives, zeros apart

# the same calls on real input run and match torch, values and gradients
REAL = ["ge", "gt_scalar", "lt", "le_fn", "gt_fn", "reflected_scalar", "gt_method", "greater",
        "less", "less_equal_method", "sign", "kthvalue", "kthvalue_fn", "mode_fn", "nanmedian",
        "nanmedian_dim", "fmax", "fmin_method", "clamp_tensor", "clamp_tensor_min", "relu",
        "relu_method", "leaky_relu", "elu", "selu", "celu", "gelu", "gelu_tanh",
        "silu_with_grad", "heaviside", "round", "round_decimals", "floor", "ceil", "trunc",
        "frac", "unique", "unique_method", "unique_consecutive", "searchsorted_values",
        "bucketize", "isin_real_test", "max_pool1d", "max_pool2d", "max_pool2d_indices",
        "max_pool3d", "nansum", "nansum_dim", "nanmean", "remainder", "remainder_fn",
        "remainder_reflected", "fmod", "floor_divide", "floor_divide_fn", "div_trunc",
        "atan2", "atan2_method", "erf", "erfc", "lgamma", "digamma", "i0", "deg2rad", "rad2deg",
        "signbit", "copysign", "hypot", "xlogy", "logaddexp2", "logsigmoid", "avg_pool1d",
        "avg_pool2d", "adaptive_max_pool1d", "adaptive_max_pool2d", "adaptive_max_pool3d",
        "histc"]  # fmt: skip

# the differentiable ones (torch has no derivative for floor_divide, nor for remainder's other;
# digamma's, the trigamma, is ember's SciPy polygamma, 5e-10 relative from torch's own)
GRADIENTS = {"sign", "kthvalue", "kthvalue_fn", "mode_fn", "nanmedian", "nanmedian_dim", "fmax",
             "fmin_method", "clamp_tensor", "clamp_tensor_min", "relu", "relu_method",
             "leaky_relu", "elu", "selu", "celu", "gelu", "gelu_tanh", "silu_with_grad", "round",
             "round_decimals", "floor", "ceil", "trunc", "frac", "max_pool1d", "max_pool2d",
             "max_pool2d_indices", "max_pool3d", "nansum", "nansum_dim", "nanmean", "remainder",
             "remainder_fn", "fmod", "div_trunc", "atan2", "atan2_method", "erf", "erfc",
             "lgamma", "i0", "deg2rad", "rad2deg", "copysign", "hypot", "xlogy",
             "logaddexp2", "logsigmoid", "avg_pool1d", "avg_pool2d", "adaptive_max_pool1d",
             "adaptive_max_pool2d", "adaptive_max_pool3d"}  # fmt: skip


def _np(t):
    return t.detach().numpy() if hasattr(t, "detach") else np.asarray(t)


@pytest.mark.parametrize("name", REAL)
def test_real_inputs_still_match_torch(torch, name):
    f = CASES[name][1]
    x, t = ember.tensor(X0, requires_grad=True), torch.tensor(X0, requires_grad=True)
    got, want = f(ember, x), f(torch, t)
    got = got if isinstance(got, tuple) else (got,)
    want = want if isinstance(want, tuple) else (want,)
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert _np(g).dtype == _np(w).dtype, (name, _np(g).dtype, _np(w).dtype)
        np.testing.assert_allclose(_np(g), _np(w), rtol=1e-12, atol=1e-15, err_msg=name)
    if name not in GRADIENTS:
        return
    weights = np.linspace(-1.0, 2.0, want[0].numel()).reshape(tuple(want[0].shape))
    (got[0] * ember.tensor(weights)).sum().backward()
    (want[0] * torch.tensor(weights)).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-12, atol=1e-15)


def test_equality_and_silu_without_grad_stay_supported(torch):
    # torch accepts these for complex input, so ember must not refuse them
    for f in (lambda lib, z: z == 1j, lambda lib, z: lib.ne(z, z), lambda lib, z: z.sgn(),
              lambda lib, z: z.abs() > 1,
              lambda lib, z: z.real.clamp(z.imag, z.imag + 1)):  # fmt: skip
        np.testing.assert_allclose(
            _np(f(ember, ember.tensor(Z0))), _np(f(torch, torch.tensor(Z0))), rtol=1e-12
        )
