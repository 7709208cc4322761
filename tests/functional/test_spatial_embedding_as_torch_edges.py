"""Spatial and embedding functionals where ember used to differ from torch 2.13 (found by
fuzzing both side by side): grid_sample's dtype rules (integer inputs, a grid of another
dtype, empty outputs), its silence on ±inf grid points and its 3-D backward at non-finite
points; affine_grid's missing half kernel; F.pad's non-constant modes as torch's kernels
(negative pads crop before the mirror or edge is taken, the ranks and pad lengths they take,
empty dims), the circular pad modules, and a constant that does not fit the dtype. The
embedding, one_hot, embedding_bag, fold/unfold and ctc_loss cases are in
test_embedding_fold_ctc_as_torch_edges.py."""

import warnings

import numpy as np
import pytest

import ember


def _F(lib):
    return ember.functional if lib is ember else lib.nn.functional


def _same(e, t, rtol=1e-12):
    assert tuple(e.shape) == tuple(t.shape)
    assert str(e.dtype).split(".")[-1] == str(t.dtype).split(".")[-1]
    np.testing.assert_allclose(e.detach().numpy(), t.detach().numpy(), rtol=rtol, atol=rtol)


# ---------------------------------------------------------------- grid_sample


def _grid_samples(lib):
    def sample(xs, gs, xd=lib.float64, gd=lib.float64):
        return lambda: _F(lib).grid_sample(
            lib.zeros(xs, dtype=xd), lib.zeros(gs, dtype=gd), align_corners=False
        )

    return [
        ("int 2-D input", sample((1, 1, 2, 2), (1, 1, 1, 2), lib.int64, lib.int64)),
        ("int 3-D input", sample((1, 1, 2, 2, 2), (1, 1, 1, 1, 3), lib.int32, lib.int32)),
        ("empty int 3-D input", sample((0, 1, 2, 2, 2), (0, 1, 1, 1, 3), lib.int32, lib.int32)),
        ("bool input", sample((1, 1, 2, 2), (1, 1, 1, 2), lib.bool, lib.bool)),
        ("int input, float grid", sample((1, 1, 2, 2), (1, 1, 1, 2), lib.int32, lib.float32)),
    ]


@pytest.mark.parametrize("k", range(5))
def test_grid_sample_refuses_integer_inputs_as_a_missing_kernel(refused_alike, k):
    refused_alike(_grid_samples, k, NotImplementedError)


@pytest.mark.parametrize(
    "xs, gs, xd, gd",
    [
        ((0, 3, 2, 5), (0, 4, 1, 2), "int32", "int32"),
        ((1, 0, 5, 5), (1, 1, 4, 2), "int64", "float32"),
        ((2, 1, 3, 3), (2, 1, 0, 2), "float64", "float32"),
        ((1, 1, 1, 3, 2), (1, 0, 1, 1, 3), "float32", "float64"),
        ((1, 0, 1, 3, 2), (1, 1, 1, 1, 3), "float64", "int64"),
    ],
)
def test_grid_sample_of_an_empty_output_reads_no_dtype(torch, xs, gs, xd, gd):
    """torch's kernels return an empty output before the dtype checks (2-D even for integer
    inputs); a float input's output still carries its gradient."""
    outs = []
    for lib in (ember, torch):
        x = lib.zeros(xs, dtype=getattr(lib, xd), requires_grad=xd.startswith("float"))
        y = _F(lib).grid_sample(x, lib.zeros(gs, dtype=getattr(lib, gd)), align_corners=False)
        assert y.requires_grad == x.requires_grad
        if y.requires_grad:
            y.sum().backward()
            outs.append(x.grad)
        outs.append(y)
    for e, t in zip(outs[: len(outs) // 2], outs[len(outs) // 2 :]):
        _same(e, t)


@pytest.mark.parametrize(
    "mode, padding_mode",
    [("bilinear", "zeros"), ("bicubic", "zeros"), ("bicubic", "border"),
     ("bilinear", "reflection"), ("nearest", "reflection"), ("bicubic", "reflection")],
)  # fmt: skip
def test_grid_sample_at_infinite_grid_points_is_silent(torch, mode, padding_mode):
    rs = np.random.RandomState(0)
    x, g = rs.randn(1, 2, 3, 4), rs.uniform(-1.2, 1.2, (1, 2, 3, 2))
    g[0, 0, 0, 0], g[0, 1, 2, 1] = np.inf, -np.inf
    outs = []
    for lib in (ember, torch):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            outs.append(
                _F(lib).grid_sample(
                    lib.tensor(x), lib.tensor(g), mode, padding_mode, align_corners=False
                )
            )
    _same(*outs)


@pytest.mark.parametrize(
    "mode, padding_mode, bad, shape",
    [
        ("bilinear", "zeros", np.inf, (1, 2, 2, 3, 2)),
        ("bilinear", "border", np.nan, (1, 2, 2, 3, 2)),
        ("bilinear", "reflection", -np.inf, (1, 2, 2, 3, 2)),
        ("nearest", "border", np.nan, (1, 2, 2, 3, 2)),
        ("nearest", "reflection", np.inf, (1, 2, 2, 3, 2)),
        ("bilinear", "border", np.inf, (1, 2, 2, 1, 2)),  # ∞·0: s is NaN on the size-1 axis
    ],
)
def test_grid_sample_3d_backward_drops_non_finite_points_as_torch(
    torch, mode, padding_mode, bad, shape
):
    """torch's 3-D backward recomputes each point's source index without the forward's clip
    of NaN: a point with a NaN index gives the input no gradient and the grid a zero one
    (ember differentiated the pixel its forward read, or gave the grid NaN)."""
    rs = np.random.RandomState(1)
    x, g = rs.randn(*shape), rs.uniform(-1.2, 1.2, (1, 2, 2, 2, 3))
    g[0, 0, 1, 0, 1], g[0, 1, 0, 1, 2] = bad, bad
    gy = rs.randn(1, 2, 2, 2, 2)
    outs = []
    for lib in (ember, torch):
        xs, gs = lib.tensor(x, requires_grad=True), lib.tensor(g, requires_grad=True)
        y = _F(lib).grid_sample(xs, gs, mode, padding_mode, align_corners=True)
        y.backward(lib.tensor(gy))
        outs.append((y, xs.grad, gs.grad))
    for e, t in zip(*outs):
        _same(e, t)


def _affine_grids(lib):
    def grid(theta, size):
        return lambda: _F(lib).affine_grid(theta, size, align_corners=False)

    half = lib.zeros(2, 2, 3, dtype=lib.float16)
    return [
        ("half theta, a unit-size axis", grid(half, (2, 3, 1, 4)), NotImplementedError),
        ("half theta, 3-D, a unit-size axis", grid(half.new_zeros(2, 3, 4), (2, 1, 2, 1, 2)),
         NotImplementedError),
        ("half theta of another batch, a unit-size axis", grid(half, (3, 3, 1, 2)),
         NotImplementedError),
    ]  # fmt: skip


@pytest.mark.parametrize("k", range(3))
def test_affine_grid_refuses_as_torch(refused_alike, k):
    refused_alike(lambda lib: [c[:2] for c in _affine_grids(lib)], k, _affine_grids(ember)[k][2])


# ---------------------------------------------------------------- pad


def _pads(lib):
    x, z = lib.arange(12.0).reshape(1, 3, 4), lib.zeros

    def pad(t, p, mode, **kw):
        return lambda: _F(lib).pad(t, p, mode, **kw)

    return [
        ("reflect of a 1-D input", pad(x[0, 0], (1, 1), "reflect")),
        ("circular of a 1-D input", pad(x[0, 0], (1, 1), "circular")),
        ("reflect of two dims of a 2-D input", pad(x[0], (1, 1, 1, 1), "reflect")),
        ("replicate of one dim of a 4-D input", pad(x[None], (1, 1), "replicate")),
        ("replicate of no dims", pad(x, (), "replicate")),
        ("reflect of an empty channel dim", pad(z(2, 0, 3), (1, 1), "reflect")),
        ("replicate of an empty unbatched dim", pad(z(0, 3), (1, 1), "replicate")),
        ("reflect of bools", pad(z(2, 3, dtype=lib.bool), (1, 1), "reflect")),
        ("replicate of bools", pad(z(2, 3, dtype=lib.bool), (1, 1), "replicate")),
        ("a negative constant into uint8", pad(z(2, 3, dtype=lib.uint8), (1, 0), "constant",
                                               value=-2.0)),
        ("a constant past int8", pad(z(2, 3, dtype=lib.int8), (1, 0), "constant", value=300.0)),
    ]  # fmt: skip


_PAD_CLASSES = [NotImplementedError] * 5 + [RuntimeError] * 2 + [NotImplementedError] * 2
_PAD_CLASSES += [RuntimeError] * 2


@pytest.mark.parametrize("k", range(len(_PAD_CLASSES)))
def test_pad_refuses_as_torch(refused_alike, k):
    refused_alike(_pads, k, _PAD_CLASSES[k])


@pytest.mark.parametrize(
    "shape, pad, mode",
    [
        ((1, 3, 4), (0, 0, -1, -2), "reflect"),
        ((1, 3, 4), (-4, 0, 0, 0), "reflect"),
        ((1, 3, 4), (0, 0, -1, -2), "replicate"),
        ((1, 3, 4), (-1, -3, 2, 1), "replicate"),
        ((1, 1, 3, 4), (0, 0, 0, 0, -1, 0), "replicate"),
    ],
)
def test_pad_modes_allow_an_empty_dim_beside_others_as_torch(torch, shape, pad, mode):
    """torch's reflect and replicate kernels refuse an output only when every padded dim is
    empty; ember refused each dim that negative pads emptied."""
    a = np.random.RandomState(0).randn(*shape)
    outs, grads = [], []
    for lib in (ember, torch):
        x = lib.tensor(a, requires_grad=True)
        y = _F(lib).pad(x, pad, mode)
        (y * lib.tensor(np.arange(float(y.numel())).reshape(tuple(y.shape)))).sum().backward()
        outs.append(y)
        grads.append(x.grad)
    _same(*outs)
    _same(*grads)


def _circular_pads(lib):
    x = lib.zeros(2, 2, 3, 1)
    return [
        ("CircularPad2d cropping a dim below empty", lambda: lib.nn.CircularPad2d(-2)(x)),
        ("CircularPad1d cropping below empty", lambda: lib.nn.CircularPad1d((-2, 0))(x[0, :, 0])),
    ]


@pytest.mark.parametrize("k", range(2))
def test_circular_pad_modules_check_as_f_pad(refused_alike, k):
    """The modules call F.pad as torch's, so they refuse what it refuses (they cropped first
    and then wrapped a positive pad, which no longer saw the size the crop went below)."""
    refused_alike(_circular_pads, k)


def test_circular_pad_to_an_empty_dim_as_torch(torch):
    """An output with an empty dim reads nothing, so no wrap is refused there."""
    outs = []
    for lib in (ember, torch):
        x = lib.ones(2, 4, 1, dtype=lib.float64, requires_grad=True)
        y = lib.nn.CircularPad2d((1, -2, 1, -1))(x)
        y.sum().backward()
        outs += [y, x.grad]
    _same(outs[0], outs[2])
    _same(outs[1], outs[3])


@pytest.mark.parametrize(
    "shape, pad, mode, dtype, value",
    [
        ((0, 3), (-3, 3), "circular", "float64", None),  # nothing to read: no wrap refused
        ((0, 3, 2), (2, -3), "circular", "uint8", None),
        ((1, 0), (), "constant", "uint8", -2.0),  # nothing filled: the value is not checked
    ],
)
def test_pad_of_nothing_checks_nothing_as_torch(torch, shape, pad, mode, dtype, value):
    outs = []
    for lib in (ember, torch):
        kw = {} if value is None else {"value": value}
        outs.append(_F(lib).pad(lib.zeros(shape, dtype=getattr(lib, dtype)), pad, mode, **kw))
    _same(*outs)
