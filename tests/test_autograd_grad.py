"""ember.autograd.grad against torch.autograd.grad on the same graphs."""

import numpy as np
import pytest
import torch

import ember
from ember.autograd import grad

rng = np.random.default_rng(0)


def pair(*shape):
    a = rng.standard_normal(shape)
    return ember.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)


def close(e, t):
    assert e is not None and t is not None
    np.testing.assert_allclose(e.numpy(), t.detach().numpy(), rtol=1e-10, atol=1e-12)


def test_leaf_inputs_scalar_output_and_grad_untouched():
    (x, tx), (w, tw) = pair(4, 3), pair(3, 2)
    ge = grad((x @ w).tanh().sum(), [x, w])
    gt = torch.autograd.grad((tx @ tw).tanh().sum(), [tx, tw])
    for e, t in zip(ge, gt):
        close(e, t)
    assert x.grad is None and w.grad is None
    assert not ge[0].requires_grad


def test_single_tensor_input_returns_tuple():
    x, tx = pair(5)
    (g,) = grad((x * x).sum(), x)
    close(g, torch.autograd.grad((tx * tx).sum(), tx)[0])


def test_non_leaf_inputs():
    x, tx = pair(3, 4)
    h, th = x.sigmoid(), tx.sigmoid()
    y, ty = h * h * 3.0, th * th * 3.0
    loss, tloss = (y.sum(1) ** 2).sum(), (ty.sum(1) ** 2).sum()
    ge = grad(loss, [y, h, x])
    gt = torch.autograd.grad(tloss, [ty, th, tx])
    for e, t in zip(ge, gt):
        close(e, t)


def test_several_outputs_with_grad_outputs():
    x, tx = pair(2, 3)
    a, b = x.exp(), (x * 2.0).sum(0)
    ta, tb = tx.exp(), (tx * 2.0).sum(0)
    ga, gb = rng.standard_normal((2, 3)), rng.standard_normal(3)
    ge = grad([a, b], [x], grad_outputs=[ember.tensor(ga), ember.tensor(gb)])
    gt = torch.autograd.grad([ta, tb], [tx], grad_outputs=[torch.tensor(ga), torch.tensor(gb)])
    close(ge[0], gt[0])


def test_mixed_scalar_outputs_need_no_grad_outputs():
    x, tx = pair(3)
    ge = grad([(x * x).sum(), x.sin().sum()], x)
    gt = torch.autograd.grad([(tx * tx).sum(), tx.sin().sum()], tx)
    close(ge[0], gt[0])


def test_input_used_twice_and_broadcast():
    x, tx = pair(3)
    b, tb = pair(2, 3)
    out, tout = (x * b + x).sum() * x.sum(), (tx * tb + tx).sum() * tx.sum()
    ge = grad(out, [x, b])
    gt = torch.autograd.grad(tout, [tx, tb])
    for e, t in zip(ge, gt):
        close(e, t)


def test_output_is_input():
    x, tx = pair(3)
    g = rng.standard_normal(3)
    close(grad(x, x, ember.tensor(g))[0], torch.autograd.grad(tx, tx, torch.tensor(g))[0])
    y = x * 2.0
    np.testing.assert_allclose(grad(y, y, ember.tensor(g))[0].numpy(), g)


def test_allow_unused_and_materialize():
    x, _ = pair(3)
    z, _ = pair(2)
    with pytest.raises(RuntimeError, match="index 1 appears to not have been used"):
        grad(x.sum(), [x, z], retain_graph=True)
    gx, gz = grad((x * 2.0).sum(), [x, z], allow_unused=True)
    assert gz is None
    np.testing.assert_allclose(gx.numpy(), 2.0)
    _, gz = grad((x * 2.0).sum(), [x, z], materialize_grads=True)
    np.testing.assert_allclose(gz.numpy(), np.zeros(2))
    with pytest.raises(ValueError):
        grad(x.sum(), [x], allow_unused=False, materialize_grads=True)


def test_graph_freed_unless_retain_graph():
    x, _ = pair(3)
    s = (x * 2.0).exp().sum()
    g1 = grad(s, x, retain_graph=True)[0]
    g2 = grad(s, x)[0]
    np.testing.assert_allclose(g1.numpy(), g2.numpy())
    with pytest.raises(RuntimeError, match="second time"):
        grad(s, x)
    with pytest.raises(RuntimeError, match="second time"):
        s.backward()


def test_grad_then_backward_with_retain():
    x, _ = pair(3)
    s = (x * x).sum()
    g = grad(s, x, retain_graph=True)[0]
    s.backward()
    np.testing.assert_allclose(x.grad.numpy(), g.numpy())


def test_errors():
    x, _ = pair(3)
    with pytest.raises(RuntimeError, match="scalar outputs"):
        grad(x * 2.0, x)
    with pytest.raises(RuntimeError, match="does not require grad"):
        grad(x.sum(), ember.tensor([1.0]))
    with pytest.raises(RuntimeError, match="element 0"):
        grad(ember.tensor([1.0]).sum(), x)
    with pytest.raises(RuntimeError, match="Mismatch in shape"):
        grad(x.sum(), x, ember.ones(2))
    (g,) = grad((x * x).sum(), x, create_graph=True)  # recorded (test_autograd_higher.py)
    assert g.requires_grad


def test_hooks_match_torch():
    x, tx = pair(3)
    ex, tix = [], []
    x.register_hook(lambda g: g * 2.0)
    tx.register_hook(lambda g: g * 2.0)
    y, ty = x * 2.0, tx * 2.0
    y.retain_grad()
    ty.retain_grad()
    y.register_hook(lambda g: ex.append(1) or g * 3.0)
    ty.register_hook(lambda g: tix.append(1) or g * 3.0)
    ge = grad((y * y).sum(), [x, y])
    gt = torch.autograd.grad((ty * ty).sum(), [tx, ty])
    for e, t in zip(ge, gt):
        close(e, t)
    close(y.grad, ty.grad)
    assert x.grad is None and ex == tix == [1]


def test_only_paths_to_inputs_run():
    x, _ = pair(3)
    w, _ = pair(3)
    calls = []
    side = w.exp()
    side.register_hook(lambda g: calls.append(1))
    out = (x * 2.0).sum() + side.sum()
    grad(out, x)
    assert calls == []  # the branch through w is not needed for x
    assert w.grad is None
