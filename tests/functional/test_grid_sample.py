"""F.grid_sample against torch: 4-D and 5-D input; bilinear (trilinear on 5-D), nearest and
bicubic (4-D only); zeros, border and reflection padding; both align_corners.

Float64 outputs and the gradients w.r.t. input and grid agree with torch to 1e-10 over odd
sizes, unit-size axes, batch 1 to 3 and points well outside [−1, 1]; again on grids placed
exactly on the kinks (pixel centres and edges, ±1), where the one-sided conventions must be
torch's; in float32; at empty sizes; with inf and NaN pixels; and at NaN and ±inf grid
points (gradients only where torch's own backward there is sound: see that test). Then
gradcheck away from the kinks, hand values, identity round trips, and torch's argument and
shape errors word for word.
"""

from __future__ import annotations

import numpy as np
import pytest

import ember
from ember.functional import spatial as S
from tests.core_reference import check_gradients, compare_with_torch, randn

MODES = ["bilinear", "nearest", "bicubic"]
PADDINGS = ["zeros", "border", "reflection"]

# (input shape, grid shape): odd sizes, batch 1, 2 and 3, unit-size axes
SHAPES_2D = [
    ((1, 2, 5, 7), (1, 4, 3, 2)),
    ((3, 3, 7, 5), (3, 5, 6, 2)),
    ((2, 1, 1, 6), (2, 3, 3, 2)),
    ((1, 2, 4, 1), (1, 2, 5, 2)),
]
SHAPES_3D = [
    ((1, 2, 3, 5, 4), (1, 2, 3, 4, 3)),
    ((2, 3, 4, 3, 5), (2, 3, 2, 4, 3)),
    ((2, 1, 1, 4, 3), (2, 2, 3, 2, 3)),
    ((1, 2, 3, 1, 1), (1, 3, 2, 2, 3)),
]
CASES = [(x, g, m) for x, g in SHAPES_2D for m in MODES]
CASES += [(x, g, m) for x, g in SHAPES_3D for m in ("bilinear", "nearest")]
MODES_BY_DIM = [(2, "bilinear"), (2, "nearest"), (2, "bicubic"), (3, "bilinear"), (3, "nearest")]


def _ids(case):
    return f"{case[2]}-{'x'.join(map(str, case[0]))}" if isinstance(case, tuple) else None


def _grid(shape, seed=1, reach=1.9):
    """Uniform in [−reach, reach]^k: points inside, near and well outside the image (bicubic
    taps reach two pixels beyond ⌊s⌋)."""
    return np.random.default_rng(seed).uniform(-reach, reach, shape)


def _compare(torch, x, g, dtype=np.float64, grad=True, **kw):
    compare_with_torch(
        torch,
        lambda x, g: S.grid_sample(x, g, **kw),
        lambda x, g: torch.nn.functional.grid_sample(x, g, **kw),
        [x, g],
        dtype=dtype,
        grad=grad,
    )


def _shapes(k, batch=2, channels=2):
    """An input of k spatial axes with odd sizes and its grid."""
    x_shape = (batch, channels, 5, 4) if k == 2 else (batch, channels, 3, 5, 4)
    return x_shape, (batch, *((3, 4, 2)[-k:]), k)


# ---------------------------------------------------------------- against torch


@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize("padding_mode", PADDINGS)
@pytest.mark.parametrize("case", CASES, ids=_ids)
def test_matches_torch(torch, case, padding_mode, align_corners):
    x_shape, g_shape, mode = case
    kw = dict(mode=mode, padding_mode=padding_mode, align_corners=align_corners)
    _compare(torch, randn(*x_shape), _grid(g_shape), **kw)


def test_grids_reach_every_branch():
    """Each test grid has points beyond the image on both sides of every axis, and inside."""
    for _, g_shape, _ in CASES:
        g = _grid(g_shape)
        for k in range(g_shape[-1]):
            assert (g[..., k] < -1.2).any() and (g[..., k] > 1.2).any(), g_shape
            assert (np.abs(g[..., k]) < 0.8).any(), g_shape


def _kink_grid(shape, sizes, seed=3):
    """Points exactly on the kinks: pixel centres under both align_corners, pixel edges, ±1,
    0 and ±3, one drawn per coordinate (sizes along the grid's components: W, H, (D))."""
    rng = np.random.default_rng(seed)
    g = np.empty(shape)
    for k, n in enumerate(sizes):
        spots = [-3.0, -1.0, -0.5, 0.0, 0.5, 1.0, 3.0]
        for p in range(-2, n + 2):
            spots += [2 * p / (n - 1) - 1 if n > 1 else 0.0, (2 * p + 1) / n - 1, 2 * p / n - 1]
        g[..., k] = rng.choice(spots, shape[:-1])
    return g


@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize("padding_mode", PADDINGS)
@pytest.mark.parametrize("k, mode", MODES_BY_DIM)
def test_matches_torch_on_the_kinks(torch, k, mode, padding_mode, align_corners):
    """Clip ends, mirrors, ⌊s⌋ crossings and round-half-to-even: torch's side of each."""
    x_shape, _ = _shapes(k)
    g_shape = (2, *((4, 5, 6)[-k:]), k)
    g = _kink_grid(g_shape, x_shape[:1:-1])
    kw = dict(mode=mode, padding_mode=padding_mode, align_corners=align_corners)
    _compare(torch, randn(*x_shape, seed=4), g, **kw)


@pytest.mark.parametrize("k, mode", MODES_BY_DIM)
def test_float32_and_grid_only_grad(torch, k, mode):
    x_shape, g_shape = _shapes(k)
    x, g = randn(*x_shape, seed=5), _grid(g_shape, seed=6)
    kw = dict(mode=mode, padding_mode="reflection", align_corners=False)
    _compare(torch, x, g, dtype=np.float32, **kw)
    # only the grid requires grad (a spatial transformer on a fixed image)
    ge, gt = ember.tensor(g, requires_grad=True), torch.tensor(g, requires_grad=True)
    S.grid_sample(ember.tensor(x), ge, **kw).sum().backward()
    torch.nn.functional.grid_sample(torch.tensor(x), gt, **kw).sum().backward()
    np.testing.assert_allclose(ge.grad.array, gt.grad.numpy(), rtol=1e-10, atol=1e-12)


EMPTY = [
    ((0, 2, 3, 4), (0, 2, 2, 2)),  # no batch
    ((1, 0, 3, 4), (1, 2, 2, 2)),  # no channels
    ((2, 3, 3, 4), (2, 0, 2, 2)),  # no output points
    ((0, 2, 2, 3, 4), (0, 2, 2, 2, 3)),
    ((1, 2, 2, 3, 4), (1, 2, 0, 2, 3)),
]


@pytest.mark.parametrize(
    "x_shape, g_shape, mode",
    [(x, g, m) for x, g in EMPTY for m in MODES if not (len(x) == 5 and m == "bicubic")],
)
def test_empty_sizes(torch, x_shape, g_shape, mode):
    _compare(torch, randn(*x_shape), _grid(g_shape), mode=mode, align_corners=False)


@pytest.mark.parametrize("padding_mode", ["zeros", "border"])
@pytest.mark.parametrize("k, mode", MODES_BY_DIM)
def test_inf_and_nan_pixels(torch, k, mode, padding_mode):
    """An inf or NaN pixel reaches only the outputs that read it: a tap outside the image
    reads 0, not 0·inf (the tap's clamped index may point at that pixel)."""
    x_shape, g_shape = _shapes(k)
    x = randn(*x_shape, seed=7)
    x[..., 0] = np.inf
    x[0, 1, ..., -1] = np.nan
    kw = dict(mode=mode, padding_mode=padding_mode, align_corners=True)
    _compare(torch, x, _grid(g_shape, seed=8, reach=2.5), **kw)


@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize("padding_mode", PADDINGS)
@pytest.mark.parametrize("k, mode", MODES_BY_DIM)
def test_non_finite_grid_points(torch, k, mode, padding_mode, align_corners):
    """NaN and ±inf points as torch: its 2-D kernel clamps NaN to 0, its 3-D kernel to n − 1;
    zeros padding gives NaN in 2-D (NaN weight · 0) and 0 in 3-D (outside corners skipped),
    bicubic NaN throughout; an outside tap's NaN weight sends the input no NaN gradient.
    Gradients only where torch's backward agrees with its forward: not 2-D linear or nearest
    with border/reflection (torch crashes: its backward's clip lets NaN through to the
    index), nor 3-D (its backward's clip keeps NaN, so the pixel its forward read at n − 1
    gets no gradient)."""
    x_shape, g_shape = _shapes(k)
    g = _grid(g_shape, seed=9)
    g[0, ..., 0, 0], g[0, ..., 1, -1], g[1, ..., 0, 1] = np.nan, np.inf, -np.inf
    kw = dict(mode=mode, padding_mode=padding_mode, align_corners=align_corners)
    grad = k == 2 and (padding_mode == "zeros" or mode == "bicubic")
    _compare(torch, randn(*x_shape, seed=10), g, grad=grad, **kw)


# ---------------------------------------------------------------- gradcheck


def _smooth_grid(shape, sizes, align_corners, seed=2):
    """Grid whose pixel coordinates have fractional parts in [0.1, 0.4] ∪ [0.6, 0.9]: away
    from the integer crossings of ⌊s⌋, the clip ends and the (half-)integer mirrors."""
    rng = np.random.default_rng(seed)
    g = np.empty(shape)
    for k, n in enumerate(sizes):  # k = 0: x along W, 1: y along H, 2: z along D
        whole = rng.integers(-3, n + 2, shape[:-1])
        frac = rng.uniform(0.1, 0.4, shape[:-1]) + 0.5 * rng.integers(0, 2, shape[:-1])
        s = whole + frac
        g[..., k] = 2 * s / (n - 1) - 1 if align_corners else (2 * s + 1) / n - 1
    return g


@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize("padding_mode", PADDINGS)
@pytest.mark.parametrize("k, mode", [(2, "bilinear"), (3, "bilinear"), (2, "bicubic")])
def test_gradcheck(k, mode, padding_mode, align_corners):
    x_shape, g_shape = _shapes(k)
    g = _smooth_grid(g_shape, x_shape[:1:-1], align_corners)
    kw = dict(mode=mode, padding_mode=padding_mode, align_corners=align_corners)
    check_gradients(lambda x, g: S.grid_sample(x, g, **kw), [randn(*x_shape), g])


@pytest.mark.parametrize("k", [2, 3])
def test_nearest_gradcheck_input(k):
    x_shape, g_shape = _shapes(k, batch=1)
    g = _smooth_grid(g_shape, x_shape[:1:-1], False)
    x = ember.tensor(randn(*x_shape), requires_grad=True)
    kw = dict(mode="nearest", padding_mode="border", align_corners=False)
    assert ember.gradcheck(lambda x: S.grid_sample(x, ember.tensor(g), **kw), (x,))


# ---------------------------------------------------------------- hand values


def test_hand_values_2d():
    """A 2×2 image read at its centre, a corner and ¼ pixel past the right edge."""
    x = ember.tensor(np.array([[[[1.0, 2.0], [3.0, 4.0]]]]))
    g = ember.tensor(np.array([[[[0.0, 0.0], [-1.0, -1.0], [1.5, 0.0]]]]))
    y = S.grid_sample(x, g, align_corners=True).array.ravel()
    np.testing.assert_allclose(y, [2.5, 1.0, 0.75 * 0.5 * (2.0 + 4.0)], rtol=1e-12)
    # align_corners=False: −1 is the outer edge of pixel 0, half of it lies in the zero pad
    y = S.grid_sample(x, g, align_corners=False).array.ravel()
    np.testing.assert_allclose(y[:2], [2.5, 0.25], rtol=1e-12)


def test_hand_values_3d():
    """A 2×2×2 volume: the centre is the mean of the eight corners (trilinear weights ⅛);
    z = −1 is the front face, (y, x) = (−1, 1) its top-right voxel."""
    v = np.arange(8.0).reshape(1, 1, 2, 2, 2)
    g = np.array([[[[[0.0, 0.0, 0.0], [1.0, -1.0, -1.0], [0.0, 0.0, -1.0]]]]])
    y = S.grid_sample(ember.tensor(v), ember.tensor(g), align_corners=True).array.ravel()
    np.testing.assert_allclose(y, [3.5, 1.0, 1.5], rtol=1e-12)


def test_bicubic_hand_values():
    """At a pixel centre bicubic reads the pixel (weights 0, 1, 0, 0); halfway between two
    pixels of a row the weights are K₂(1.5), K₁(0.5), K₁(0.5), K₂(1.5) = −3/32, 19/32, …"""
    x = randn(1, 1, 4, 5, seed=11)
    s_x, s_y = 2.5, 1.0  # align_corners=True: g = 2s/(n − 1) − 1
    g = np.array([[[[2 * 3 / 4 - 1, 2 * 2 / 3 - 1], [2 * s_x / 4 - 1, 2 * s_y / 3 - 1]]]])
    y = S.grid_sample(ember.tensor(x), ember.tensor(g), mode="bicubic", align_corners=True)
    w = np.array([-3, 19, 19, -3]) / 32
    np.testing.assert_allclose(y.array.ravel(), [x[0, 0, 2, 3], w @ x[0, 0, 1, 1:5]], rtol=1e-12)


@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize("k, mode", MODES_BY_DIM)
def test_identity_round_trip(k, mode, align_corners):
    """affine_grid(identity) + grid_sample reproduces the input, and its gradient is 1."""
    x = randn(2, 3, *((3, 5, 4)[-k:]), seed=12)
    theta = ember.tensor(np.tile(np.eye(k, k + 1), (2, 1, 1)))
    grid = S.affine_grid(theta, x.shape, align_corners=align_corners)
    xe = ember.tensor(x, requires_grad=True)
    y = S.grid_sample(xe, grid, mode=mode, align_corners=align_corners)
    np.testing.assert_allclose(y.array, x, rtol=1e-12, atol=1e-12)
    y.sum().backward()
    np.testing.assert_allclose(xe.grad.array, np.ones_like(x), rtol=1e-12, atol=1e-12)


# ---------------------------------------------------------------- errors

SHAPE_ERRORS = [
    ((1, 2, 3, 4), (2, 2, 2, 3), "bilinear"),  # batch first, even with a bad last size
    ((1, 2, 3, 4), (1, 2, 2, 3), "bilinear"),  # last size 3 for 4-D input
    ((1, 2, 3, 4, 5), (1, 2, 2, 2, 2), "nearest"),  # last size 2 for 5-D input
    ((1, 2, 0, 4), (1, 2, 2, 2), "bilinear"),  # an empty spatial axis
    ((1, 2, 3, 4), (1, 2, 2, 2, 2), "bilinear"),  # 4-D input, 5-D grid
    ((1, 2, 3, 4, 5), (1, 2, 2, 3), "bilinear"),  # 5-D input, 4-D grid
    ((2, 3, 4), (2, 3, 1), "bilinear"),  # 3-D input
    ((1, 2, 3, 4, 5, 6), (1, 2, 3, 4, 5, 4), "nearest"),  # 6-D input
    ((1, 2, 3, 4, 5), (1, 2, 2, 2, 3), "bicubic"),  # bicubic on 5-D input
]


@pytest.mark.parametrize("x_shape, g_shape, mode", SHAPE_ERRORS)
def test_shape_errors_match_torch(torch, x_shape, g_shape, mode):
    """RuntimeError with torch's words: what was expected and the sizes that came."""
    x, g = randn(*x_shape), _grid(g_shape)
    with pytest.raises(RuntimeError) as want:
        torch.nn.functional.grid_sample(torch.tensor(x), torch.tensor(g), mode=mode,
                                        align_corners=False)  # fmt: skip
    with pytest.raises(RuntimeError) as got:
        S.grid_sample(ember.tensor(x), ember.tensor(g), mode=mode, align_corners=False)
    assert str(got.value) == str(want.value)


def test_bad_arguments():
    x, g = ember.tensor(randn(1, 1, 4, 4)), ember.tensor(_grid((1, 3, 3, 2)))
    with pytest.raises(ValueError, match="expected mode to be 'bilinear', 'nearest' or"):
        S.grid_sample(x, g, mode="linear", align_corners=False)
    with pytest.raises(ValueError, match="padding_mode"):
        S.grid_sample(x, g, padding_mode="circular", align_corners=False)
    with pytest.raises(RuntimeError, match="same dtype"):
        S.grid_sample(x, ember.tensor(_grid((1, 3, 3, 2)).astype(np.float32)), align_corners=True)


@pytest.mark.parametrize("mode, dims", [("bilinear", 3), ("nearest", 3), ("bicubic", 2)])
def test_autocast_runs_every_grid_sampler_in_float32_on_cpu_as_torch(torch, mode, dims):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((1, 2) + (3,) * dims).astype(np.float16)
    g = rng.uniform(-1, 1, (1,) + (2,) * dims + (dims,)).astype(np.float16)
    with ember.autocast("cpu", dtype=ember.float16):
        y = S.grid_sample(ember.tensor(x), ember.tensor(g), mode=mode, align_corners=False)
    with torch.autocast("cpu", dtype=torch.float16):
        t = torch.nn.functional.grid_sample(
            torch.tensor(x), torch.tensor(g), mode=mode, align_corners=False
        )
    assert y.dtype == ember.float32 and t.dtype == torch.float32
