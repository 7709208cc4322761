"""Spatial and embedding functionals where ember used to differ from torch 2.13 (found by
fuzzing both side by side): grid_sample's dtype rules (integer inputs, a grid of another
dtype, empty outputs) and its silence on ±inf grid points."""

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
