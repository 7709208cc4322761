"""Transposed convolution: against torch, finite differences, and the composed reference."""

from __future__ import annotations

import numpy as np
import pytest

import ember
from ember.functional import conv_transpose as FT
from ember.nn import conv_transpose as NT
from tests.core_reference import check_gradients, compare_with_torch

# (N, C, H, W, O, groups, kernel, stride, padding, output_padding, dilation)
GRID_2D = [
    (1, 1, 4, 4, 1, 1, 1, 1, 0, 0, 1),  # 1×1, batch 1
    (2, 3, 5, 4, 2, 1, 2, 1, 0, 0, 1),
    (2, 2, 5, 7, 3, 1, 3, 2, 1, 1, 1),  # odd sizes, stride 2, output_padding
    (1, 4, 3, 4, 6, 2, 4, 3, 2, 2, 1),  # groups, stride 3, output_padding 2
    (2, 2, 4, 3, 4, 2, 3, 1, 2, 1, 2),  # output_padding < dilation with stride 1
    (1, 3, 4, 5, 2, 1, (2, 3), (3, 1), (0, 2), (1, 0), (2, 1)),  # rectangular everything
    (2, 4, 3, 3, 4, 4, 3, 2, 0, 0, 2),  # depthwise, dilation
    (1, 2, 6, 5, 3, 1, 4, 2, 2, 0, 1),  # padding crops into the stamps
    (2, 1, 1, 1, 2, 1, 1, 3, 1, 2, 1),  # output only output_padding and bias
    (1, 2, 2, 2, 2, 1, 3, 3, 0, 0, 1),  # stride > kernel: gaps in the output
]

# (N, C, L, O, groups, kernel, stride, padding, output_padding, dilation)
GRID_1D = [
    (1, 1, 5, 1, 1, 1, 1, 0, 0, 1),
    (2, 3, 7, 4, 1, 3, 2, 1, 1, 1),
    (2, 4, 6, 2, 2, 4, 3, 2, 1, 2),
    (1, 2, 4, 3, 1, 2, 1, 0, 1, 2),
]


def _inputs(cfg, seed=0):
    n, c, h, w, o, g, k, s, p, op, d = cfg
    kk = (k, k) if isinstance(k, int) else k
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, c, h, w))
    W = rng.standard_normal((c, o // g) + kk)
    b = rng.standard_normal(o)
    return x, W, b, dict(stride=s, padding=p, output_padding=op, groups=g, dilation=d)


def _inputs_1d(cfg, seed=0):
    n, c, length, o, g, k, s, p, op, d = cfg
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, c, length))
    W = rng.standard_normal((c, o // g, k))
    b = rng.standard_normal(o)
    return x, W, b, dict(stride=s, padding=p, output_padding=op, groups=g, dilation=d)


@pytest.mark.parametrize("cfg", GRID_2D)
def test_conv_transpose2d_matches_torch(torch, cfg):
    x, W, b, kw = _inputs(cfg)
    compare_with_torch(
        torch,
        lambda x, W, b: FT.conv_transpose2d(x, W, b, **kw),
        lambda x, W, b: torch.nn.functional.conv_transpose2d(x, W, b, **kw),
        [x, W, b],
    )


@pytest.mark.parametrize("cfg", GRID_2D[:4])
def test_conv_transpose2d_no_bias_matches_torch(torch, cfg):
    x, W, _, kw = _inputs(cfg, seed=1)
    compare_with_torch(
        torch,
        lambda x, W: FT.conv_transpose2d(x, W, **kw),
        lambda x, W: torch.nn.functional.conv_transpose2d(x, W, **kw),
        [x, W],
    )


@pytest.mark.parametrize("cfg", GRID_1D)
def test_conv_transpose1d_matches_torch(torch, cfg):
    x, W, b, kw = _inputs_1d(cfg)
    compare_with_torch(
        torch,
        lambda x, W, b: FT.conv_transpose1d(x, W, b, **kw),
        lambda x, W, b: torch.nn.functional.conv_transpose1d(x, W, b, **kw),
        [x, W, b],
    )


def test_conv_transpose_exhaustive_small_grid(torch):
    """Every kernel 1–4 × stride 1–3 × padding 0–2 × dilation 1–2 on one small image."""
    tF = torch.nn.functional
    rng = np.random.default_rng(5)
    x = rng.standard_normal((1, 2, 4, 3))
    for k in range(1, 5):
        W = rng.standard_normal((2, 2, k, k))
        for s in range(1, 4):
            for p in range(3):
                for d in (1, 2):
                    op = max(s, d) - 1
                    kw = dict(stride=s, padding=p, output_padding=op, dilation=d)
                    if (3 - 1) * s - 2 * p + d * (k - 1) + op + 1 < 1:
                        with pytest.raises(ValueError, match="output size"):
                            FT.conv_transpose2d(ember.tensor(x), ember.tensor(W), **kw)
                        continue
                    compare_with_torch(
                        torch,
                        lambda x, W, kw=kw: FT.conv_transpose2d(x, W, **kw),
                        lambda x, W, kw=kw: tF.conv_transpose2d(x, W, **kw),
                        [x, W],
                    )


@pytest.mark.parametrize("cfg", GRID_2D)
def test_conv_transpose2d_equals_composed(cfg):
    x, W, b, kw = _inputs(cfg, seed=2)
    results = []
    for f in (FT.conv_transpose2d, FT.conv_transpose2d_composed):
        ts = [ember.tensor(a, requires_grad=True) for a in (x, W, b)]
        y = f(*ts, **kw)
        gy = np.random.default_rng(3).standard_normal(y.shape)
        y.backward(ember.tensor(gy))
        results.append([y.array] + [t.grad.array for t in ts])
    for fast, slow in zip(*results):
        np.testing.assert_allclose(fast, slow, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("cfg", [GRID_2D[2], GRID_2D[3], GRID_2D[4], GRID_2D[7]])
def test_conv_transpose2d_gradcheck(cfg):
    x, W, b, kw = _inputs(cfg, seed=4)
    check_gradients(lambda x, W, b: FT.conv_transpose2d(x, W, b, **kw), [x[:1], W, b])


def test_conv_transpose1d_gradcheck():
    x, W, b, kw = _inputs_1d(GRID_1D[2], seed=4)
    check_gradients(lambda x, W, b: FT.conv_transpose1d(x, W, b, **kw), [x, W, b])


def test_conv_transpose_float32_matches_torch(torch):
    x, W, b, kw = _inputs((2, 4, 6, 6, 6, 2, 3, 2, 1, 1, 1))
    compare_with_torch(
        torch,
        lambda x, W, b: FT.conv_transpose2d(x, W, b, **kw),
        lambda x, W, b: torch.nn.functional.conv_transpose2d(x, W, b, **kw),
        [x, W, b],
        dtype=np.float32,
    )


@pytest.mark.parametrize(
    "ours, theirs, shape",
    [
        (NT.ConvTranspose2d, "ConvTranspose2d", (2, 4, 5, 6)),
        (NT.ConvTranspose1d, "ConvTranspose1d", (2, 4, 7)),
    ],
)
def test_module_loads_torch_state_dict(torch, ours, theirs, shape):
    kw = dict(kernel_size=3, stride=2, padding=1, output_padding=1, groups=2, dilation=1)
    t = getattr(torch.nn, theirs)(4, 6, **kw).double()
    m = ours(4, 6, **kw, dtype=np.float64)
    m.load_state_dict(t.state_dict())
    assert m.weight.shape == tuple(t.weight.shape) == (4, 3) + (3,) * (len(shape) - 2)
    assert set(m.state_dict()) == set(t.state_dict())
    x = np.random.default_rng(0).standard_normal(shape)
    compare_with_torch(torch, lambda x: m(x), lambda x: t(x), [x])
    assert m.weight.grad is not None
    np.testing.assert_allclose(m.weight.grad.array, t.weight.grad.numpy(), rtol=1e-10)
    np.testing.assert_allclose(m.bias.grad.array, t.bias.grad.numpy(), rtol=1e-10)


@pytest.mark.parametrize("size", [(9, 11), (10, 12), (2, 6, 10, 11)])
def test_module_output_size(torch, size):
    t = torch.nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1).double()
    m = NT.ConvTranspose2d(4, 6, 3, stride=2, padding=1, dtype=np.float64)
    m.load_state_dict(t.state_dict())
    x = np.random.default_rng(1).standard_normal((2, 4, 5, 6))
    compare_with_torch(torch, lambda x: m(x, output_size=size), lambda x: t(x, size), [x])


def test_module_output_size_out_of_range():
    m = NT.ConvTranspose2d(4, 6, 3, stride=2, padding=1)
    x = ember.randn(2, 4, 5, 6)
    with pytest.raises(ValueError, match="valid sizes range from 9 to 10"):
        m(x, output_size=(11, 11))


def test_module_init_matches_torch_bounds(torch):
    """W ~ U(±1/√fan_in) and b ~ U(±1/√fan_in) with torch's fan_in = out/groups·kh·kw."""
    m = NT.ConvTranspose2d(8, 12, (3, 2), groups=2)
    t = torch.nn.ConvTranspose2d(8, 12, (3, 2), groups=2)
    bound = 1 / np.sqrt(6 * 3 * 2)
    assert m.weight.shape == tuple(t.weight.shape) == (8, 6, 3, 2)
    for ours, theirs in ((m.weight, t.weight), (m.bias, t.bias)):
        assert np.abs(ours.array).max() <= bound
        assert np.abs(theirs.detach().numpy()).max() <= bound
        assert np.abs(ours.array).max() > 0.8 * bound  # spread over the whole interval
    assert m.weight.dtype == np.float32
    assert "output_padding" in repr(NT.ConvTranspose1d(2, 2, 3, stride=2, output_padding=1))


def test_errors():
    x = ember.randn(2, 4, 5, 5)
    with pytest.raises(ValueError, match="input has 4 channels.*expects 3"):
        FT.conv_transpose2d(x, ember.randn(3, 2, 3, 3))
    with pytest.raises(ValueError, match="groups=3 must divide in_channels=4"):
        FT.conv_transpose2d(x, ember.randn(4, 2, 3, 3), groups=3)
    with pytest.raises(ValueError, match="output_padding"):
        FT.conv_transpose2d(x, ember.randn(4, 2, 3, 3), stride=2, output_padding=2)
    with pytest.raises(ValueError, match="output_padding"):
        NT.ConvTranspose1d(4, 2, 3, output_padding=1)
    with pytest.raises(ValueError, match="bias must have shape"):
        FT.conv_transpose2d(x, ember.randn(4, 2, 3, 3), ember.randn(3))
    with pytest.raises(ValueError, match=r"or 4-D \(N, C, H, W\) input"):
        FT.conv_transpose2d(ember.randn(1, 1, 4, 5, 5), ember.randn(4, 2, 3, 3))
    with pytest.raises(ValueError, match="groups=3 must divide in_channels=4 and out_channels=6"):
        NT.ConvTranspose2d(4, 6, 3, groups=3)
    with pytest.raises(ValueError, match="padding_mode"):
        NT.ConvTranspose2d(4, 6, 3, padding_mode="reflect")
    with pytest.raises(ValueError, match="output size"):
        FT.conv_transpose2d(ember.randn(1, 4, 1, 1), ember.randn(4, 2, 1, 1), padding=1)
    with pytest.raises(RuntimeError, match="device 'cuda' was asked for"):
        NT.ConvTranspose2d(4, 6, 3, device="cuda")
    m = NT.ConvTranspose2d(3, 6, 3)
    with pytest.raises(ValueError, match="input has 4 channels"):
        m(x)
