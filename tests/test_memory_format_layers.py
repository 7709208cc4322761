"""torch's memory formats in use, against torch: gradients through the layout copies,
nn.Module.to(memory_format=), and convolution (every algorithm), batch norm, pooling and
interpolation on channels-last inputs: values, gradients, and the layouts that survive."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ember
import ember.nn.functional as F
from ember import nn
from ember.ops import conv as CV


def fmt(lib, name):
    return getattr(lib, name)


# ---------------------------------------------------------------- gradients
def _layout_copy(how, lib, leaf, f):
    if how == "contiguous":
        return leaf.contiguous(memory_format=f)
    if how == "clone":
        return leaf.clone(memory_format=f)
    if how == "to":
        return leaf.to(memory_format=f)
    if how == "to_double":  # a cast and a layout in one copy
        return leaf.float().to(lib.float64, memory_format=f)
    return leaf.float(memory_format=f).double()


@pytest.mark.parametrize("how", ["contiguous", "clone", "to", "to_double", "float"])
@pytest.mark.parametrize("shape, name", [((2, 3, 4, 5), "channels_last"),
                                         ((2, 3, 2, 4, 3), "channels_last_3d")])  # fmt: skip
def test_gradients_flow_through_layout_copies_as_torch(how, shape, name):
    rng = np.random.default_rng(1)
    x, g = rng.standard_normal(shape), rng.standard_normal(shape)
    outs = []
    for lib in (torch, ember):
        leaf = lib.tensor(x, requires_grad=True)
        y = _layout_copy(how, lib, leaf, fmt(lib, name))
        assert y.is_contiguous(memory_format=fmt(lib, name))
        ((y * y).sum() + (y * lib.tensor(g)).sum()).backward()
        outs.append((y.stride(), y.detach().numpy(), leaf.grad.numpy()))
    (st, yt, gt), (se, ye, ge) = outs
    assert se == st
    np.testing.assert_allclose(ye, yt, rtol=1e-6)
    np.testing.assert_allclose(ge, gt, rtol=1e-6)


def test_layout_copy_passes_gradcheck():
    x = ember.randn(2, 3, 3, 2, dtype=ember.float64, requires_grad=True)
    assert ember.gradcheck(lambda a: a.contiguous(memory_format=ember.channels_last) * a, (x,))
    assert ember.gradcheck(lambda a: a.permute(0, 2, 3, 1).clone() ** 2, (x,))


# ---------------------------------------------------------------- nn.Module.to
class _TorchNet(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 4, 3, padding=1)
        self.bn = torch.nn.BatchNorm2d(4)
        self.conv2 = torch.nn.Conv2d(4, 2, 3, stride=2)
        self.fc = torch.nn.Linear(2 * 3 * 3, 5)

    def forward(self, x):
        x = torch.nn.functional.max_pool2d(torch.relu(self.bn(self.conv(x))), 2, 1)
        return self.fc(torch.flatten(torch.nn.functional.avg_pool2d(self.conv2(x), 1), 1))


class _EmberNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.bn = nn.BatchNorm2d(4)
        self.conv2 = nn.Conv2d(4, 2, 3, stride=2)
        self.fc = nn.Linear(2 * 3 * 3, 5)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.bn(self.conv(x))), 2, 1)
        return self.fc(ember.flatten(F.avg_pool2d(self.conv2(x), 1), 1))


def test_module_to_channels_last_as_torch():
    torch.manual_seed(0)
    tm = _TorchNet().double()
    em = _EmberNet().double()
    em.load_state_dict({k: v.detach().numpy() for k, v in tm.state_dict().items()})
    for m in (tm, em):
        for p in m.parameters():
            p.grad = p.detach() * 0 + 1  # a gradient there before: it is laid out too
    before = {k: (p, p.grad) for k, p in em.named_parameters()}
    assert em.to(memory_format=ember.channels_last) is em
    tm.to(memory_format=torch.channels_last)
    tp = dict(tm.named_parameters())
    for k, p in em.named_parameters():
        assert p is before[k][0] and p.grad is before[k][1]  # identities kept, as torch's
        assert p.stride() == tp[k].stride(), k
        assert p.grad.stride() == tp[k].grad.stride(), k
        np.testing.assert_array_equal(p.detach().numpy(), tp[k].detach().numpy())
    assert em.conv.weight.is_contiguous(memory_format=ember.channels_last)
    x = np.random.default_rng(2).standard_normal((2, 3, 8, 8))
    xt = torch.tensor(x).contiguous(memory_format=torch.channels_last).requires_grad_()
    xe = ember.tensor(x).contiguous(memory_format=ember.channels_last).requires_grad_()
    for m in (tm, em):
        m.zero_grad()
    tm(xt).square().sum().backward()
    em(xe).square().sum().backward()
    np.testing.assert_allclose(xe.grad.numpy(), xt.grad.numpy(), rtol=1e-9, atol=1e-12)
    for k, p in em.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), tp[k].grad.numpy(), rtol=1e-9, atol=1e-12)
    em.to(memory_format=ember.contiguous_format)
    assert em.conv.weight.is_contiguous() and em.conv.weight.stride() == (27, 9, 3, 1)


@pytest.mark.parametrize("make, name", [("Conv3d", "channels_last"), ("Conv2d", "channels_last_3d"),
                                        ("Conv3d", "channels_last_3d"), ("Linear", "channels_last"),
                                        ("Conv2d", "preserve_format")])  # fmt: skip
def test_module_to_memory_format_takes_4d_and_5d_tensors_as_torch(make, name):
    args = (2, 3) if make == "Linear" else (2, 3, 2)
    tm, em = getattr(torch.nn, make)(*args), getattr(nn, make)(*args)
    try:
        tm.to(memory_format=fmt(torch, name))
    except RuntimeError as err:
        with pytest.raises(RuntimeError) as ours:
            em.to(memory_format=fmt(ember, name))
        assert str(ours.value) == str(err)
        return
    em.to(memory_format=fmt(ember, name))
    for (k, p), q in zip(em.named_parameters(), tm.parameters()):
        assert p.stride() == q.stride(), k


def test_module_to_dtype_and_memory_format_together():
    m = nn.Conv2d(2, 3, 3).to(ember.float64, memory_format=ember.channels_last)
    assert m.weight.dtype == ember.float64 and m.weight.stride() == (18, 1, 6, 2)


# ---------------------------------------------------------------- layers on channels-last input
def _both(x, name="channels_last", grad=True):
    xt = torch.tensor(x).contiguous(memory_format=fmt(torch, name)).requires_grad_(grad)
    xe = ember.tensor(x).contiguous(memory_format=fmt(ember, name)).requires_grad_(grad)
    return xt, xe


def _check(yt, ye, leaves, rtol=1e-9):
    np.testing.assert_allclose(ye.detach().numpy(), yt.detach().numpy(), rtol=rtol, atol=1e-10)
    g = np.random.default_rng(5).standard_normal(tuple(yt.shape))
    (yt * torch.tensor(g)).sum().backward()
    (ye * ember.tensor(g)).sum().backward()
    for lt, le in leaves:
        np.testing.assert_allclose(le.grad.numpy(), lt.grad.numpy(), rtol=rtol, atol=1e-10)


@pytest.mark.parametrize("policy", ["im2col", "shifted", "winograd", "blocked", "auto"])
@pytest.mark.parametrize("stride, padding, groups", [(1, 1, 1), (2, 0, 1), (1, 1, 2)])
def test_conv2d_on_channels_last_as_torch(monkeypatch, policy, stride, padding, groups):
    monkeypatch.setattr(CV, "POLICY", policy)
    rng = np.random.default_rng(3)
    xt, xe = _both(rng.standard_normal((2, 4, 7, 6)))
    w = rng.standard_normal((6, 4 // groups, 3, 3))
    wt, we = _both(w)  # a channels-last weight too (Module.to(channels_last) gives one)
    b = rng.standard_normal(6)
    bt, be = torch.tensor(b, requires_grad=True), ember.tensor(b, requires_grad=True)
    yt = torch.nn.functional.conv2d(xt, wt, bt, stride=stride, padding=padding, groups=groups)
    ye = F.conv2d(xe, we, be, stride=stride, padding=padding, groups=groups)
    _check(yt, ye, [(xt, xe), (wt, we), (bt, be)])


def test_conv_transpose2d_and_conv3d_on_channels_last_as_torch():
    rng = np.random.default_rng(4)
    xt, xe = _both(rng.standard_normal((2, 4, 5, 6)))
    wt, we = _both(rng.standard_normal((4, 3, 3, 3)))
    _check(torch.nn.functional.conv_transpose2d(xt, wt, stride=2, padding=1),
           F.conv_transpose2d(xe, we, stride=2, padding=1), [(xt, xe), (wt, we)])  # fmt: skip
    xt, xe = _both(rng.standard_normal((2, 3, 4, 5, 4)), "channels_last_3d")
    wt, we = _both(rng.standard_normal((2, 3, 2, 3, 2)), "channels_last_3d")
    _check(torch.nn.functional.conv3d(xt, wt, padding=1), F.conv3d(xe, we, padding=1),
           [(xt, xe), (wt, we)])  # fmt: skip


@pytest.mark.parametrize("training", [True, False])
def test_batch_norm_on_channels_last_as_torch(training):
    rng = np.random.default_rng(6)
    xt, xe = _both(rng.standard_normal((3, 4, 5, 6)))
    gamma, beta = rng.standard_normal(4), rng.standard_normal(4)
    gt, ge = torch.tensor(gamma, requires_grad=True), ember.tensor(gamma, requires_grad=True)
    bt, be = torch.tensor(beta, requires_grad=True), ember.tensor(beta, requires_grad=True)
    mean, var = rng.standard_normal(4), rng.random(4) + 0.5
    rmt, rvt = torch.tensor(mean), torch.tensor(var)
    rme, rve = ember.tensor(mean), ember.tensor(var)
    yt = torch.nn.functional.batch_norm(xt, rmt, rvt, gt, bt, training=training)
    ye = F.batch_norm(xe, rme, rve, ge, be, training=training)
    _check(yt, ye, [(xt, xe), (gt, ge), (bt, be)])
    np.testing.assert_allclose(rme.numpy(), rmt.numpy(), rtol=1e-12)
    np.testing.assert_allclose(rve.numpy(), rvt.numpy(), rtol=1e-12)
    xt, xe = _both(rng.standard_normal((2, 3, 2, 4, 3)), "channels_last_3d")
    _check(torch.nn.functional.batch_norm(xt, None, None, training=True),
           F.batch_norm(xe, None, None, training=True), [(xt, xe)])  # fmt: skip


POOLS = {
    "max_pool2d": lambda F, x: F.max_pool2d(x, 3, 2, 1),
    "max_pool2d_dilated": lambda F, x: F.max_pool2d(x, 2, 1, dilation=2),
    "avg_pool2d": lambda F, x: F.avg_pool2d(x, 2),
    "avg_pool2d_padded": lambda F, x: F.avg_pool2d(x, 3, 2, 1, count_include_pad=False),
    "adaptive_avg_pool2d": lambda F, x: F.adaptive_avg_pool2d(x, (3, 2)),
    "adaptive_avg_pool2d_global": lambda F, x: F.adaptive_avg_pool2d(x, 1),
    "adaptive_max_pool2d": lambda F, x: F.adaptive_max_pool2d(x, 3),
    "interpolate_nearest": lambda F, x: F.interpolate(x, scale_factor=2),
    "interpolate_bilinear": lambda F, x: F.interpolate(x, size=(5, 9), mode="bilinear"),
}


@pytest.mark.parametrize("op", POOLS)
def test_pooling_on_channels_last_as_torch(op):
    rng = np.random.default_rng(7)
    xt, xe = _both(rng.standard_normal((2, 3, 7, 8)))
    _check(POOLS[op](torch.nn.functional, xt), POOLS[op](F, xe), [(xt, xe)])


def test_pooling_3d_on_channels_last_3d_as_torch():
    rng = np.random.default_rng(8)
    for op in ("max_pool3d", "avg_pool3d"):
        xt, xe = _both(rng.standard_normal((2, 3, 4, 6, 4)), "channels_last_3d")
        _check(getattr(torch.nn.functional, op)(xt, 2), getattr(F, op)(xe, 2), [(xt, xe)])


@pytest.mark.parametrize("op", ["relu", "add", "mul", "sigmoid", "max_pool2d", "avg_pool2d",
                                "dropout", "cat", "hardtanh"])  # fmt: skip
def test_layouts_survive_as_torch(op):
    # the ops that keep channels-last in torch and in ember alike (see memory_formats.py for
    # the ones whose output layout is ember's own)
    run = {"relu": lambda L, F, x: F.relu(x), "add": lambda L, F, x: x + x,
           "mul": lambda L, F, x: x * 2.0, "sigmoid": lambda L, F, x: L.sigmoid(x),
           "max_pool2d": lambda L, F, x: F.max_pool2d(x, 2),
           "avg_pool2d": lambda L, F, x: F.avg_pool2d(x, 2),
           "dropout": lambda L, F, x: F.dropout(x, 0.5, training=False),
           "cat": lambda L, F, x: L.cat([x, x], 1),
           "hardtanh": lambda L, F, x: F.hardtanh(x)}[op]  # fmt: skip
    xt, xe = _both(np.random.default_rng(9).standard_normal((2, 3, 6, 4)), grad=False)
    yt, ye = run(torch, torch.nn.functional, xt), run(ember, F, xe)
    assert yt.is_contiguous(memory_format=torch.channels_last)
    assert ye.is_contiguous(memory_format=ember.channels_last)
    assert ye.stride() == yt.stride()


# ---------------------------------------------------------------- copies that stay row-major
@pytest.mark.parametrize("op", ["permute_copy", "t_copy", "transpose_copy", "alias_copy",
                                "detach_copy", "narrow_copy", "rot90", "expand_copy"])  # fmt: skip
def test_torchs_row_major_copies_stay_row_major(op):
    # clone() keeps a layout now (preserve_format); these copies are row-major in torch
    run = {"permute_copy": lambda L, x: L.permute_copy(x, (2, 0, 1)),
           "t_copy": lambda L, x: L.t_copy(x[0]),
           "transpose_copy": lambda L, x: L.transpose_copy(x, 0, 2),
           "alias_copy": lambda L, x: L.alias_copy(x),
           "detach_copy": lambda L, x: L.detach_copy(x),
           "narrow_copy": lambda L, x: x.narrow_copy(1, 0, 2),
           "rot90": lambda L, x: L.rot90(x, 0, (0, 1)),
           "expand_copy": lambda L, x: L.expand_copy(x[:, :1], (4, 3, 2))}[op]  # fmt: skip
    x = np.arange(24.0).reshape(2, 3, 4)
    t = run(torch, torch.tensor(x).permute(2, 1, 0))
    e = run(ember, ember.tensor(x).permute(2, 1, 0))
    assert e.stride() == t.stride() and e.is_contiguous()
    np.testing.assert_array_equal(e.numpy(), t.numpy())
