"""F.interpolate's modes against torch 2.13: values and input gradients for every mode ×
align_corners × up/down/non-integer scales × size vs scale_factor × recompute_scale_factor,
float64 and float32; antialias; uint8 bit for bit (torch's AVX path, C ≤ 4, and its generic
one); gradcheck; second derivatives; the errors; nn.Upsample with the new modes."""

from __future__ import annotations

import numpy as np
import pytest

import ember
from ember.functional import interpolate
from ember.nn import Upsample
from tests.core_reference import check_gradients, randn

F64 = dict(rtol=1e-12, atol=1e-12)
# torch computes bicubic and antialias weights in float32 arithmetic: against its own float64
# result it is off by up to 6e-6 on these N(0, 1) inputs, so float32 compares to 1e-5
F32 = dict(rtol=1e-5, atol=1e-5)


def _compare(torch, shape, kw, dtype=np.float64, grad=True, seed=0):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal(shape).astype(dtype)
    xe = ember.tensor(a, requires_grad=grad)
    xt = torch.tensor(a, requires_grad=grad)
    ye, yt = interpolate(xe, **kw), torch.nn.functional.interpolate(xt, **kw)
    tol, what = (F64 if dtype == np.float64 else F32), f"{shape} {kw}"
    assert ye.shape == tuple(yt.shape) and ye.dtype == a.dtype, what
    np.testing.assert_allclose(ye.array, yt.detach().numpy(), err_msg=what, **tol)
    if grad:
        g = rng.standard_normal(ye.shape).astype(dtype)
        (ye * ember.tensor(g)).sum().backward()
        (yt * torch.tensor(g)).sum().backward()
        np.testing.assert_allclose(xe.grad.array, xt.grad.numpy(), err_msg="grad " + what, **tol)


# (shape, kwargs): up, down, non-integer and per-axis mixed factors, size or scale_factor (the
# kernel then reads 1/s unless recompute_scale_factor), odd sizes, batch 1
CASES = {
    1: [((1, 2, 7), dict(size=13)), ((2, 3, 9), dict(size=4)), ((1, 2, 7), dict(size=7)),
        ((1, 2, 7), dict(scale_factor=2.0)), ((2, 1, 9), dict(scale_factor=0.5)),
        ((1, 2, 7), dict(scale_factor=1.7)), ((1, 2, 7), dict(scale_factor=2.5)),
        ((1, 2, 7), dict(scale_factor=1.7, recompute_scale_factor=True)),
        ((1, 2, 11), dict(scale_factor=0.6, recompute_scale_factor=True)),
        ((1, 1, 1), dict(size=5))],
    2: [((1, 3, 5, 7), dict(size=(11, 3))), ((2, 2, 9, 4), dict(size=(2, 14))),
        ((1, 3, 5, 7), dict(scale_factor=2)), ((1, 3, 5, 7), dict(scale_factor=(1.5, 0.6))),
        ((1, 2, 9, 6), dict(scale_factor=(0.37, 2.3))), ((1, 3, 6, 5), dict(size=(1, 1))),
        ((1, 3, 5, 7), dict(scale_factor=1.7, recompute_scale_factor=True)),
        ((1, 2, 7, 9), dict(scale_factor=(0.7, 1.3), recompute_scale_factor=False))],
    3: [((1, 2, 3, 5, 4), dict(size=(5, 2, 7))), ((1, 2, 3, 5, 4), dict(scale_factor=2.0)),
        ((2, 1, 4, 3, 5), dict(scale_factor=(0.7, 1.5, 2.5))),
        ((1, 2, 5, 4, 3), dict(scale_factor=1.6, recompute_scale_factor=True))],
}  # fmt: skip
MODES = [("nearest", 1), ("nearest", 2), ("nearest", 3), ("nearest-exact", 1),
         ("nearest-exact", 2), ("nearest-exact", 3), ("area", 1), ("area", 2), ("area", 3),
         ("linear", 1), ("bilinear", 2), ("bicubic", 2), ("trilinear", 3)]  # fmt: skip
PLAIN = [(m, d, None) for m, d in MODES if m in ("nearest", "nearest-exact", "area")]
SMOOTH = [(m, d, ac) for m, d in MODES if (m, d, None) not in PLAIN for ac in (False, True)]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("mode, spatial, align_corners", PLAIN + SMOOTH)
def test_modes_match_torch(torch, mode, spatial, align_corners, dtype):
    for shape, kw in CASES[spatial]:
        kw = dict(kw, mode=mode)
        if align_corners is not None:
            kw["align_corners"] = align_corners
        _compare(torch, shape, kw, dtype)


def test_scale_factor_is_used_unless_recomputed(torch):
    """1.7 · 7 = 11.9 → 11 outputs: the kernel reads 1/1.7, or 7/11 when recomputed; both
    as torch, and they differ."""
    for r in (False, True):
        _compare(torch, (1, 2, 7), dict(scale_factor=1.7, mode="linear", recompute_scale_factor=r))
    x = ember.tensor(randn(1, 2, 7))
    a, b = (interpolate(x, scale_factor=1.7, mode="linear", recompute_scale_factor=r).array
            for r in (False, True))  # fmt: skip
    assert a.shape == b.shape == (1, 2, 11) and not np.allclose(a, b)


@pytest.mark.parametrize("shape, kw", [
    ((1, 2, 3, 20), dict(scale_factor=2.3)), ((1, 2, 3, 70), dict(scale_factor=2.3)),
    ((1, 2, 5, 70), dict(scale_factor=(1.1, 2.0))), ((1, 5, 1, 1), dict(scale_factor=2.3)),
    ((1, 5, 1, 1, 1), dict(scale_factor=2.3)), ((1, 2, 3, 70), dict(scale_factor=(2.3, 1.9))),
])  # fmt: skip
@pytest.mark.parametrize("mode", ["nearest", "nearest-exact"])
def test_nearest_follows_torchs_kernel_choice(torch, shape, kw, mode):
    """torch's 2-D nearest kernel depends on the output size (H' + W' ≤ 128: shortcuts for an
    unchanged or doubled axis, float32 ratio) and on C > 3 with one pixel; the values follow
    it. torch's backward always takes the shortcut kernel, so only the values are compared
    here; ember's gradient is the forward's adjoint (gradcheck)."""
    _compare(torch, shape, dict(kw, mode=mode), grad=False)
    check_gradients(lambda x: interpolate(x, **kw, mode=mode), [randn(*shape)])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize(
    "mode, align_corners",
    [("bilinear", False), ("bilinear", True), ("bicubic", False), ("bicubic", True),
     ("lanczos", False)],
)  # fmt: skip
def test_antialias_matches_torch(torch, mode, align_corners, dtype):
    """Downsampling by 2 and by 3.7, up and down mixed per axis, and upsampling."""
    for shape, kw in [((1, 3, 20, 17), dict(scale_factor=0.5)),
                      ((2, 2, 31, 26), dict(scale_factor=1 / 3.7)),
                      ((1, 3, 20, 17), dict(size=(6, 34))), ((1, 1, 9, 31), dict(size=(22, 9))),
                      ((1, 2, 9, 31), dict(scale_factor=(2.5, 0.3))),
                      ((1, 2, 6, 5), dict(scale_factor=2.5))]:  # fmt: skip
        _compare(torch, shape, dict(kw, mode=mode, align_corners=align_corners, antialias=True),
                 dtype)  # fmt: skip


def test_antialias_upsampling_is_the_plain_filter():
    """Upsampling, the antialias filter is not widened: bilinear equals the linear mode."""
    x = ember.tensor(randn(1, 2, 5, 6))
    aa = interpolate(x, size=(11, 13), mode="bilinear", antialias=True)
    np.testing.assert_allclose(aa.array, interpolate(x, size=(11, 13), mode="bilinear").array,
                               **F64)  # fmt: skip


@pytest.mark.parametrize("channels", [3, 5])  # torch: AVX kernel for C ≤ 4, generic above
@pytest.mark.parametrize(
    "mode, antialias",
    [("nearest", False), ("nearest-exact", False), ("bilinear", False), ("bilinear", True),
     ("bicubic", False), ("bicubic", True), ("lanczos", True)],
)  # fmt: skip
def test_uint8_matches_torch_exactly(torch, mode, antialias, channels):
    rng = np.random.default_rng(1)
    corners = {"nearest": [None], "nearest-exact": [None], "lanczos": [False]}.get(
        mode, [False, True]
    )
    for shape in [(2, channels, 37, 29), (1, channels, 8, 8)]:
        a = rng.integers(0, 256, shape, dtype=np.uint8)
        h, w = shape[2:]
        for kw in [dict(scale_factor=0.5), dict(scale_factor=1 / 3.7),
                   dict(size=(2 * h + 1, 3 * w)), dict(scale_factor=(2.3, 0.45)),
                   dict(size=(h, w // 2))]:  # fmt: skip
            for ac in corners:
                args = dict(kw, mode=mode, align_corners=ac, antialias=antialias)
                want = torch.nn.functional.interpolate(torch.tensor(a), **args).numpy()
                got = interpolate(ember.tensor(a), **args)
                assert got.dtype == np.uint8 and got.shape == want.shape, args
                np.testing.assert_array_equal(got.array, want, err_msg=f"{shape} {args}")


def test_uint8_rounds_and_clamps_as_torch(torch):
    """Bicubic overshoots a 0/255 checkerboard: the float result leaves 0 … 255, the uint8 one
    is clamped, and both agree with torch."""
    a = (np.indices((1, 3, 6, 6)).sum(0) % 2 * 255).astype(np.uint8)
    kw = dict(size=(13, 11), mode="bicubic")
    f = interpolate(ember.tensor(a.astype(np.float64)), **kw).array
    assert f.min() < 0 and f.max() > 255
    want = torch.nn.functional.interpolate(torch.tensor(a), **kw).numpy()
    np.testing.assert_array_equal(interpolate(ember.tensor(a), **kw).array, want)
    for nd in (1, 3):  # nearest on 1-D and 3-D uint8
        b = np.random.default_rng(2).integers(0, 256, (1, 2) + (5,) * nd, dtype=np.uint8)
        want = torch.nn.functional.interpolate(torch.tensor(b), scale_factor=1.7).numpy()
        np.testing.assert_array_equal(interpolate(ember.tensor(b), scale_factor=1.7).array, want)


@pytest.mark.parametrize(
    "shape, kw",
    [((1, 2, 5), dict(size=8, mode="nearest")), ((1, 1, 4, 5), dict(size=(7, 3),
                                                                     mode="nearest-exact")),
     ((1, 2, 5), dict(scale_factor=1.7, mode="linear", align_corners=True)),
     ((1, 1, 4, 5), dict(size=(7, 3), mode="bilinear")),
     ((1, 1, 4, 5), dict(size=(7, 3), mode="bicubic")),
     ((1, 1, 4, 5), dict(size=(3, 8), mode="bicubic", align_corners=True)),
     ((1, 1, 3, 4, 3), dict(size=(4, 2, 5), mode="trilinear")),
     ((1, 2, 7, 5), dict(size=(3, 2), mode="area")),
     ((1, 1, 7, 3, 5), dict(size=(3, 2, 4), mode="area")),
     ((1, 1, 9, 7), dict(size=(4, 10), mode="bilinear", antialias=True)),
     ((1, 1, 9, 7), dict(size=(2, 3), mode="bicubic", antialias=True, align_corners=True)),
     ((1, 1, 9, 7), dict(size=(4, 10), mode="lanczos", antialias=True)),
     # where torch's backward departs from its forward: ember's is the forward's adjoint
     ((1, 2, 5), dict(scale_factor=1.3, mode="nearest")),
     ((1, 1, 4, 5), dict(scale_factor=1.1, mode="bicubic")),
     ((1, 1, 5, 9), dict(scale_factor=(1.1, 0.3), mode="bilinear", antialias=True))],
)  # fmt: skip
def test_gradcheck(shape, kw):
    check_gradients(lambda x: interpolate(x, **kw), [randn(*shape)])


@pytest.mark.parametrize(
    "kw",
    [dict(mode="bicubic", align_corners=True), dict(mode="bilinear", antialias=True),
     dict(mode="area")],
)  # fmt: skip
def test_second_derivatives_match_torch(torch, kw):
    """The resample is built from recorded ops, so its gradient differentiates again."""
    a = randn(1, 2, 7, 5)
    out = []
    for lib in (ember, torch):
        x = lib.tensor(a, requires_grad=True)
        y = lib.nn.functional.interpolate(x, size=(4, 8), **kw)
        (g,) = lib.autograd.grad((y * y.sin()).sum(), [x], create_graph=True)
        (g * g * g).sum().backward()
        out.append((g.detach().numpy(), x.grad.numpy()))
    for e, t in zip(*out):
        np.testing.assert_allclose(e, t, **F64)


ERRORS = [
    ((1, 1, 4, 4), dict(size=3, scale_factor=2.0), ValueError, "exactly one of size"),
    ((1, 1, 4, 4), dict(), ValueError, "exactly one of size"),
    ((1, 1, 4, 4), dict(size=3, align_corners=True), ValueError, "align_corners option"),
    ((1, 1, 4, 4), dict(size=3, mode="area", align_corners=False), ValueError, "align_corners"),
    ((1, 1, 4), dict(size=3, mode="bilinear"), NotImplementedError, "bilinear mode needs 4-D"),
    ((1, 1, 4), dict(size=3, mode="bicubic"), NotImplementedError, "bicubic mode needs 4-D"),
    ((1, 1, 4, 4), dict(size=3, mode="linear"), NotImplementedError, "linear mode needs 3-D"),
    ((1, 1, 4, 4), dict(size=3, mode="trilinear"), NotImplementedError, "needs 5-D"),
    ((1, 1, 4, 4), dict(size=3, mode="cubic"), NotImplementedError, "'cubic' is not one of"),
    ((4, 4), dict(size=3), NotImplementedError, "3-D, 4-D or 5-D input"),
    ((1, 1, 4, 4), dict(size=(3, 3, 3)), ValueError, "needs 2 output sizes"),
    ((1, 1, 4, 4), dict(scale_factor=(2.0,)), ValueError, "needs 2 scale factors"),
    ((1, 1, 4, 4), dict(size=(3.0, 3)), TypeError, "int or a tuple of ints"),
    ((1, 1, 4, 4), dict(size=3, recompute_scale_factor=True), ValueError, "not meaningful"),
    ((1, 1, 4, 4), dict(scale_factor=0.1), RuntimeError, "greater than 0"),
    ((1, 1, 4, 4), dict(size=3, antialias=True), ValueError, "Anti-alias option"),
    ((1, 1, 4), dict(size=3, mode="linear", antialias=True), ValueError, "Anti-alias option"),
    ((1, 1, 4, 4, 4), dict(size=3, mode="bicubic", antialias=True), ValueError, "4-D tensor"),
    ((1, 1, 4, 4), dict(size=3, mode="lanczos"), ValueError, "lanczos mode needs antialias"),
]  # fmt: skip


@pytest.mark.parametrize("shape, kw, error, match", ERRORS)
def test_errors_as_torch(torch, shape, kw, error, match):
    with pytest.raises(error, match=match):
        interpolate(ember.zeros(*shape), **kw)
    with pytest.raises(error):  # the same kind of error as torch's
        torch.nn.functional.interpolate(torch.zeros(*shape), **kw)


@pytest.mark.parametrize(
    "shape, kw",
    [((2, 1, 4, 1, 1), dict(scale_factor=0.75, recompute_scale_factor=True)),
     ((2, 2, 1, 1), dict(scale_factor=(1.7, 0.5))), ((2, 2, 3), dict(size=0))],
)  # fmt: skip
def test_area_to_an_empty_size_as_torch(torch, shape, kw):
    # torch's area mode is adaptive average pooling, which allows an output size 0 (the
    # other modes refuse it); ember refused it for area too. Its gradient is zeros (torch's
    # backward refuses the empty gradient)
    x = np.random.default_rng(0).standard_normal(shape)
    ex = ember.tensor(x, requires_grad=True)
    y = interpolate(ex, mode="area", **kw)
    ref = torch.nn.functional.interpolate(torch.tensor(x), mode="area", **kw)
    assert y.shape == tuple(ref.shape) and y.numel() == 0
    y.sum().backward()
    np.testing.assert_array_equal(ex.grad.array, np.zeros(shape))


def test_dtypes(torch):
    """uint8 takes no area or trilinear (nor does torch); other integers take the nearest
    modes only (torch: none)."""
    u8 = ember.tensor(np.zeros((1, 1, 4, 4), np.uint8))
    with pytest.raises(NotImplementedError, match="not implemented for dtype uint8"):
        interpolate(u8, size=2, mode="area")
    i64 = ember.tensor(np.arange(16).reshape(1, 1, 4, 4))
    with pytest.raises(NotImplementedError, match="dtype int64"):
        interpolate(i64, size=2, mode="bilinear")
    y = interpolate(i64, scale_factor=2, mode="nearest-exact")
    want = torch.nn.functional.interpolate(torch.arange(16.0).reshape(1, 1, 4, 4),
                                           scale_factor=2, mode="nearest-exact")  # fmt: skip
    assert y.dtype == np.int64 and np.array_equal(y.array, want.numpy())


def test_empty_batch(torch):
    kws = [dict(scale_factor=2, mode="bilinear"), dict(size=3, mode="area"),
           dict(size=(3, 5), mode="bicubic", antialias=True)]  # fmt: skip
    for kw in kws:
        want = torch.nn.functional.interpolate(torch.zeros(0, 2, 4, 4), **kw)
        assert interpolate(ember.zeros(0, 2, 4, 4), **kw).shape == tuple(want.shape)


@pytest.mark.parametrize(
    "shape, kw",
    [((2, 3, 5), dict(size=8, mode="linear", align_corners=True)),
     ((1, 2, 5, 4), dict(scale_factor=1.5, mode="bicubic")),
     ((1, 2, 5, 4), dict(scale_factor=(0.5, 2.0), mode="nearest-exact")),
     ((1, 2, 6, 4), dict(size=(4, 3), mode="area")),
     ((1, 2, 3, 4, 2), dict(scale_factor=2, mode="trilinear", recompute_scale_factor=True))],
)  # fmt: skip
def test_upsample_module(torch, shape, kw):
    """nn.Upsample takes every mode (and, as torch's, no antialias)."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal(shape)
    xe, xt = ember.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    me, mt = Upsample(**kw), torch.nn.Upsample(**kw)
    ye, yt = me(xe), mt(xt)
    np.testing.assert_allclose(ye.array, yt.detach().numpy(), **F64)
    ye.sum().backward()
    yt.sum().backward()
    np.testing.assert_allclose(xe.grad.array, xt.grad.numpy(), **F64)
    assert repr(me).replace("ember.", "") == repr(mt)
