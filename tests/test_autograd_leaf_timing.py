"""A leaf with post-accumulate-grad hooks gets its .grad as soon as the last edge into it has
run (torch's AccumulateGrad timing), so a hook can start work (DDP's all_reduce) while the
sweep goes on; the gradients are the same bits either way."""

import numpy as np

import ember
import ember.nn as nn


def two_layer_net(seed=0):
    ember.manual_seed(seed)
    return nn.Sequential(nn.Linear(5, 7), nn.Tanh(), nn.Linear(7, 3))


def test_a_leaf_is_accumulated_when_ready_not_after_the_sweep(torch):
    """The last layer's weight gets its .grad before the sweep reaches the hidden layer (whose
    output's tensor hook runs there), and the first layer's after it: torch's order."""

    def order_seen(lib, lin1, lin2):
        seen = []
        lin2.weight.register_post_accumulate_grad_hook(lambda p: seen.append("w2"))
        lin1.weight.register_post_accumulate_grad_hook(lambda p: seen.append("w1"))
        h = lin1(lib.ones(4, 5)).tanh()
        h.register_hook(lambda g: seen.append("h"))
        lin2(h).sum().backward()
        return seen

    ours = order_seen(ember, nn.Linear(5, 7), nn.Linear(7, 3))
    theirs = order_seen(torch, torch.nn.Linear(5, 7), torch.nn.Linear(7, 3))
    assert ours == theirs == ["w2", "h", "w1"]


def grads(net, with_hooks: bool, twice: bool = False):
    w = net[0].weight
    if with_hooks:
        for p in net.parameters():
            p.register_post_accumulate_grad_hook(lambda p: None)
    x = ember.randn(6, 5, generator=ember.Generator().manual_seed(1))
    # w used twice (shared) and a second backward accumulating onto .grad
    loss = (net(x) ** 2).sum() + (x @ w.T).sum()
    loss.backward(retain_graph=twice)
    if twice:
        loss.backward()
    return [p.grad.numpy().copy() for p in net.parameters()]


def test_gradients_are_the_same_bits_with_and_without_hooks():
    for twice in (False, True):
        plain = grads(two_layer_net(), False, twice)
        hooked = grads(two_layer_net(), True, twice)
        for a, b in zip(plain, hooked):
            assert a.dtype == b.dtype and np.array_equal(a, b)


def test_a_leaf_whose_consumer_gets_no_gradient_is_still_accumulated_at_the_end():
    a = ember.randn(3, requires_grad=True)
    b = ember.randn(3, requires_grad=True)
    calls = []
    a.register_post_accumulate_grad_hook(lambda p: calls.append("a"))
    b.register_post_accumulate_grad_hook(lambda p: calls.append("b"))
    unused = b * 2  # noqa: F841 - a consumer of b outside the loss's graph
    (a * b).sum().backward()
    assert calls == ["a", "b"] or calls == ["b", "a"]
    assert np.allclose(a.grad.numpy(), b.detach().numpy())
    assert np.allclose(b.grad.numpy(), a.detach().numpy())
