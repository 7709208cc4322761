"""F.interpolate's fast paths against torch 2.13: the banded GEMMs over several blocks (long
axes, strong down- and upsampling, blocks no tap reaches), ±inf and NaN in the input and in
the upstream gradient (the exact tap-by-tap fallback), nearest by whole factors (repeat and
strided adds), the float32 antialias weights bit for bit, uint8's float32 and float64 sums."""

from __future__ import annotations

import numpy as np
import pytest

import ember
from ember.functional import interpolate
from ember.functional.interpolate_resample import uint8_map
from tests.core_reference import check_gradients, randn

F64 = dict(rtol=1e-12, atol=1e-12)
F32 = dict(rtol=1e-5, atol=1e-5)


def _compare(torch, a, kw, g=None):
    """Values and ∂L/∂x of Σ y·g against torch; NaN where torch has NaN, ±inf where it has."""
    tol = F64 if a.dtype == np.float64 else F32
    xe, xt = ember.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    ye, yt = interpolate(xe, **kw), torch.nn.functional.interpolate(xt, **kw)
    assert ye.shape == tuple(yt.shape) and ye.dtype == a.dtype, kw
    np.testing.assert_allclose(ye.array, yt.detach().numpy(), err_msg=str(kw), **tol)
    if g is None:
        g = np.random.default_rng(1).standard_normal(ye.shape).astype(a.dtype)
    ye.backward(ember.tensor(g))
    yt.backward(torch.tensor(g))
    np.testing.assert_allclose(xe.grad.array, xt.grad.numpy(), err_msg="grad " + str(kw), **tol)


# sizes that make several blocks of 16 rows in A and in Aᵀ, and Aᵀ blocks that no tap reaches
LONG = [
    ((1, 2, 3, 200), dict(size=(3, 5), mode="bilinear")),
    ((1, 2, 40, 37), dict(size=(130, 70), mode="bilinear", align_corners=True)),
    ((1, 2, 40, 37), dict(size=(9, 71), mode="bicubic")),
    ((1, 1, 67, 45), dict(size=(20, 130), mode="bicubic", align_corners=True)),
    ((1, 2, 90, 61), dict(size=(13, 40), mode="bilinear", antialias=True)),
    ((1, 1, 90, 61), dict(size=(21, 17), mode="lanczos", antialias=True)),
    ((1, 2, 90, 61), dict(size=(7, 40), mode="area")),
    ((2, 1, 100), dict(size=3, mode="linear")),
    ((1, 1, 20, 9, 40), dict(size=(33, 4, 18), mode="trilinear")),
    ((3, 2, 40, 3), dict(size=(90, 5), mode="bilinear")),  # short rows: the axis goes last
    ((1, 2, 40, 37), dict(size=(83, 9), mode="nearest")),
    ((1, 2, 40, 37), dict(scale_factor=(3, 2), mode="nearest")),
    ((1, 2, 5, 6, 7), dict(scale_factor=2, mode="nearest")),
]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape, kw", LONG)
def test_long_axes_match_torch(torch, shape, kw, dtype):
    _compare(torch, np.random.default_rng(0).standard_normal(shape).astype(dtype), kw)


SPECIAL = [
    ((1, 2, 9), dict(size=4, mode="area")),
    ((1, 2, 9), dict(size=13, mode="linear")),
    ((1, 2, 9, 8), dict(size=(4, 3), mode="area")),
    ((1, 2, 9, 8), dict(size=(15, 13), mode="bilinear", align_corners=True)),
    ((1, 2, 9, 8), dict(size=(4, 3), mode="bilinear")),
    ((1, 2, 9, 8), dict(size=(15, 13), mode="bicubic")),
    ((1, 2, 9, 8), dict(size=(5, 3), mode="bilinear", antialias=True)),
    ((1, 2, 9, 8), dict(size=(5, 3), mode="bicubic", antialias=True)),
    ((1, 2, 9, 8), dict(size=(5, 3), mode="lanczos", antialias=True)),
    ((2, 3, 40, 37), dict(size=(11, 17), mode="bilinear", antialias=True)),
    ((1, 2, 9, 8), dict(size=(15, 3), mode="nearest-exact")),
    ((1, 2, 9, 8), dict(size=(18, 16), mode="nearest")),
    ((1, 2, 5, 6, 7), dict(size=(3, 9, 4), mode="trilinear")),
    ((1, 2, 5, 6, 7), dict(size=(3, 2, 4), mode="area")),
]  # fmt: skip


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape, kw", SPECIAL)
def test_inf_and_nan_spread_as_torch(torch, shape, kw, dtype):
    """A window holding inf gives inf (NaN with −inf beside it), not the NaN of a zero weight
    times inf; NaN spreads to the outputs that read it. Then the same for ∂L/∂y."""
    rng = np.random.default_rng(2)
    for values in ([np.inf], [-np.inf], [np.nan], [np.inf, -np.inf], [np.inf, np.inf]):
        a = rng.standard_normal(shape).astype(dtype)
        a.reshape(-1)[rng.choice(a.size, len(values), replace=False)] = values
        _compare(torch, a, kw)
    a = rng.standard_normal(shape).astype(dtype)
    for value in (np.inf, -np.nan):
        y_shape = tuple(torch.nn.functional.interpolate(torch.tensor(a), **kw).shape)
        g = rng.standard_normal(y_shape).astype(dtype)
        g.reshape(-1)[rng.integers(g.size)] = value
        _compare(torch, a, kw, g)


def test_area_of_a_window_with_inf_is_inf():
    """The bug this fixed: a window shorter than the longest was padded with its own first
    index at weight 0, and 0·inf = NaN. 7 → 4: windows [0, 2), [1, 4), [3, 6), [5, 7)."""
    a = np.zeros((1, 1, 7))
    a[0, 0, 0] = np.inf
    y = interpolate(ember.tensor(a), size=4, mode="area").array[0, 0]
    assert y[0] == np.inf and (y[1:] == 0).all()


@pytest.mark.parametrize("mode", ["bilinear", "bicubic", "lanczos"])
def test_antialias_float32_weights_are_torchs(torch, mode):
    """The antialias weights are computed in float32 with torch's float/double promotions (and
    its fused multiply-adds in the cubic): resampling the identity gives them back, bit for
    bit for the tent and the cubic. Lanczos (torch's formula unknown) agrees to an ulp."""
    for n, m in [(11, 5), (16, 8), (12, 4), (5, 11), (37, 10), (29, 64)]:
        eye = np.eye(n, dtype=np.float32).reshape(1, 1, n, n)
        kw = dict(size=(n, m), mode=mode, antialias=True)
        got = interpolate(ember.tensor(eye), **kw).array
        want = torch.nn.functional.interpolate(torch.tensor(eye), **kw).numpy()
        if mode == "lanczos":
            np.testing.assert_allclose(got, want, rtol=0, atol=2e-7)
        else:
            np.testing.assert_array_equal(got, want, err_msg=f"{n} → {m}")


def test_uint8_sums_in_float32_and_float64_are_exact(torch):
    """uint8 sums in float32 while every partial sum stays below 2^24 (downscaling by ≤ ~2), in
    float64 beyond; both give torch's bytes."""
    assert uint8_map("bilinear", 640, 298, None, False, True).ct == np.float32
    assert uint8_map("bilinear", 640, 150, None, False, True).ct == np.float64
    rng = np.random.default_rng(3)
    a = rng.integers(0, 256, (1, 3, 96, 128), dtype=np.uint8)
    a[..., :40] = rng.integers(0, 2, (1, 3, 96, 40)) * 255  # hard edges: rounding at the limits
    for size in [(45, 60), (20, 30), (96, 60), (200, 251)]:
        for mode, aa in [("bilinear", True), ("bicubic", True), ("bicubic", False)]:
            kw = dict(size=size, mode=mode, antialias=aa)
            want = torch.nn.functional.interpolate(torch.tensor(a), **kw).numpy()
            np.testing.assert_array_equal(interpolate(ember.tensor(a), **kw).array, want)


@pytest.mark.parametrize(
    "shape, kw",
    [((1, 2, 4, 3), dict(scale_factor=2, mode="nearest")),
     ((1, 1, 3, 2, 2), dict(scale_factor=(3, 1, 2), mode="nearest")),
     ((1, 1, 40), dict(size=7, mode="linear")),
     ((1, 1, 5, 40), dict(size=(3, 90), mode="bilinear", antialias=True))],
)  # fmt: skip
def test_gradcheck_fast_paths(shape, kw):
    check_gradients(lambda x: interpolate(x, **kw), [randn(*shape)])


@pytest.mark.parametrize(
    "kw",
    [dict(scale_factor=2, mode="nearest"), dict(size=(37, 3), mode="bicubic"),
     dict(size=(2, 20), mode="area")],
)  # fmt: skip
def test_second_derivatives_of_fast_paths(torch, kw):
    a = randn(1, 2, 7, 19)
    out = []
    for lib in (ember, torch):
        x = lib.tensor(a, requires_grad=True)
        y = lib.nn.functional.interpolate(x, **kw)
        (g,) = lib.autograd.grad((y * y.sin()).sum(), [x], create_graph=True)
        (g * g * g).sum().backward()
        out.append((g.detach().numpy(), x.grad.numpy()))
    for e, t in zip(*out):
        np.testing.assert_allclose(e, t, **F64)


@pytest.mark.parametrize(
    "kw", [dict(size=(4, 5), mode="bilinear"), dict(scale_factor=1, mode="nearest")]
)
def test_a_size_left_unchanged_still_gives_a_new_tensor(kw):
    """torch's kernels always write a new tensor: writing into the result leaves x alone, and
    the result has its own place in the graph (∂L/∂x arrives through it)."""
    x = ember.randn(1, 2, 4, 5, requires_grad=True)
    y = interpolate(x, **kw)
    assert y is not x and y.grad_fn is not None
    (y * 3).sum().backward()
    np.testing.assert_array_equal(x.grad.array, np.full(x.shape, 3, np.float32))
    with ember.no_grad():
        y.zero_()
    assert np.abs(x.array).sum() > 0
    u = ember.tensor(np.arange(20, dtype=np.uint8).reshape(1, 1, 4, 5))
    v = interpolate(u, size=(4, 5), mode="bilinear", antialias=True)
    v.zero_()
    assert u.array.sum() == 190
