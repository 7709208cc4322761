"""Layers under ember.autocast and float16 inputs into float32 normalisation layers,
against torch: the recurrent cells' and GRU's output dtypes, and torch's "mixed dtype"
layer/batch/group norm (float16 in, float16 out, float32 parameter gradients)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ember
import ember.nn as enn


def _copy(ours, ref):
    with torch.no_grad():
        for p in ref.parameters():
            p.copy_(torch.randn(p.shape, generator=torch.Generator().manual_seed(p.numel())))
    ours.load_state_dict({k: ember.tensor(v.detach().numpy()) for k, v in ref.state_dict().items()})


@pytest.mark.parametrize(
    "make, shape",
    [
        (lambda m: m.LSTMCell(4, 6), (3, 4)),
        (lambda m: m.GRUCell(4, 6), (3, 4)),
        (lambda m: m.RNNCell(4, 6), (3, 4)),
        (lambda m: m.GRU(4, 6, batch_first=True), (3, 5, 4)),
    ],
    ids=["LSTMCell", "GRUCell", "RNNCell", "GRU"],
)
def test_recurrent_layers_under_autocast_as_torch(make, shape):
    ours, ref = make(enn), make(torch.nn)
    _copy(ours, ref)
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    with ember.autocast("cpu", dtype=ember.float16):
        y = ours(ember.tensor(x))
    with torch.autocast("cpu", dtype=torch.float16):
        ry = ref(torch.from_numpy(x))
    y, ry = (y[0], ry[0]) if isinstance(ry, tuple) else (y, ry)
    assert str(y.dtype) == str(ry.dtype).removeprefix("torch.")
    np.testing.assert_allclose(
        y.detach().numpy().astype(np.float32), ry.detach().float().numpy(), atol=5e-3
    )
    y.float().sum().backward()
    assert all(p.grad.dtype == ember.float32 for p in ours.parameters())


@pytest.mark.parametrize(
    "make, shape",
    [
        (lambda m: m.LayerNorm(8), (4, 8)),
        (lambda m: m.BatchNorm1d(8), (4, 8, 3)),
        (lambda m: m.GroupNorm(2, 8), (4, 8, 3)),
    ],
    ids=["LayerNorm", "BatchNorm1d", "GroupNorm"],
)
def test_float16_input_into_float32_norm_as_torch(make, shape):
    ours, ref = make(enn), make(torch.nn)
    _copy(ours, ref)
    rng = np.random.default_rng(1)
    x, g = (rng.standard_normal(shape).astype(np.float16) for _ in range(2))
    xe, xt = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    y, ry = ours(xe), ref(xt)
    assert y.dtype == ember.float16 and ry.dtype == torch.float16
    np.testing.assert_allclose(y.detach().numpy(), ry.detach().numpy(), atol=2e-3)
    y.backward(ember.tensor(g))
    ry.backward(torch.tensor(g))
    assert xe.grad.dtype == ember.float16 and ours.weight.grad.dtype == ember.float32
    np.testing.assert_allclose(xe.grad.numpy(), xt.grad.numpy(), atol=2e-2)
    w, rw = ours.weight.grad.numpy(), ref.weight.grad.numpy()
    np.testing.assert_allclose(w, rw, atol=2e-3 * np.abs(rw).max())
    if hasattr(ours, "running_mean"):
        assert ours.running_mean.dtype == ember.float32
        np.testing.assert_allclose(ours.running_mean.numpy(), ref.running_mean.numpy(), atol=1e-6)


def test_other_mixed_dtypes_still_refused():
    with pytest.raises(TypeError, match="input dtype float64 and weight dtype float32"):
        enn.LayerNorm(8)(ember.randn(2, 8).double())
    with pytest.raises(TypeError, match="input dtype float16 and weight dtype float64"):
        enn.LayerNorm(8).double()(ember.randn(2, 8).half())


def test_sigmoid_keeps_float16():
    x = ember.tensor(np.array([-20.0, 0.0, 3.0], np.float16))
    for y in (ember.sigmoid(x), enn.functional.silu(x)):
        assert y.dtype == ember.float16
    ref = torch.sigmoid(torch.tensor([-20.0, 0.0, 3.0], dtype=torch.float16))
    np.testing.assert_array_equal(ember.sigmoid(x).numpy(), ref.numpy())


def test_autocast_training_loop_with_scaler_as_torch():
    # the whole recipe: autocast forward, scaled backward, skipped overflow steps, scale
    # backed off and grown: losses and scales equal torch's step for step
    rng = np.random.default_rng(0)
    x = rng.standard_normal((96, 20)).astype(np.float32)
    y = rng.integers(0, 3, 96)

    def make(m):
        return m.Sequential(m.Linear(20, 32), m.ReLU(), m.Linear(32, 3))

    ref, ours = make(torch.nn), make(enn)
    _copy(ours, ref)
    ropt = torch.optim.SGD(ref.parameters(), lr=0.1)
    opt = ember.optim.SGD(ours.parameters(), lr=0.1)
    rsc = torch.amp.GradScaler("cpu", init_scale=2.0**20, growth_interval=3)
    sc = ember.amp.GradScaler("cpu", init_scale=2.0**20, growth_interval=3)
    scales = set()
    for step in range(12):
        i = slice(step % 3 * 32, step % 3 * 32 + 32)
        with torch.autocast("cpu", dtype=torch.float16):
            rl = torch.nn.functional.cross_entropy(ref(torch.from_numpy(x[i])), torch.tensor(y[i]))
        with ember.autocast("cpu", dtype=ember.float16):
            loss = enn.functional.cross_entropy(ours(ember.tensor(x[i])), ember.tensor(y[i]))
        ropt.zero_grad()
        opt.zero_grad()
        rsc.scale(rl).backward()
        sc.scale(loss).backward()
        rsc.step(ropt)
        sc.step(opt)
        rsc.update()
        sc.update()
        assert loss.item() == pytest.approx(rl.item(), rel=2e-3)  # float16: ε = 9.8e-4
        assert sc.get_scale() == rsc.get_scale()
        scales.add(sc.get_scale())
    assert len(scales) > 1  # the scale moved both ways, so steps were skipped and taken
