"""utils.checkpoint: outputs and gradients equal the un-checkpointed ones exactly, dropout
draws the same mask in the recomputation, checkpoint_sequential splits like torch."""

import numpy as np
import pytest

import ember
import ember.utils.checkpoint as cp
from ember import nn
from tests.core_reference import randn


def _net(seed=0, p=0.0):
    ember.manual_seed(seed)
    return nn.Sequential(
        nn.Linear(5, 8), nn.Tanh(), nn.Dropout(p), nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 3)
    ).double()


def _grads(net, x, run):
    net.zero_grad()
    xt = ember.tensor(x, requires_grad=True)
    y = run(net, xt * 2.0)  # an op before the checkpoint: its gradient must flow on
    (y * ember.tensor(randn(*y.shape, seed=5))).sum().backward()
    return y.array, xt.grad.array, [p.grad.array.copy() for p in net.parameters()]


def _same(a, b):
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert len(a[2]) == len(b[2]) == 6
    for g, h in zip(a[2], b[2]):
        np.testing.assert_array_equal(g, h)


@pytest.mark.parametrize("p", [0.0, 0.5])
def test_checkpoint_gradients_equal_plain(p):
    x = randn(4, 5, seed=1)
    net = _net(p=p)
    ember.manual_seed(7)
    plain = _grads(net, x, lambda n, v: n(v))
    ember.manual_seed(7)
    checked = _grads(net, x, lambda n, v: cp.checkpoint(n, v, use_reentrant=False))
    _same(plain, checked)
    assert (checked[1] != 0).any()


def test_rng_state_is_left_as_after_the_forward():
    net = _net(p=0.5)
    x = ember.tensor(randn(3, 5, seed=2), requires_grad=True)
    ember.manual_seed(3)
    y = cp.checkpoint(net, x)
    after_forward = ember.rand(4).array
    ember.manual_seed(3)
    y = cp.checkpoint(net, x)
    y.sum().backward()  # the recomputation rewinds and restores the generator
    np.testing.assert_array_equal(ember.rand(4).array, after_forward)


def test_multiple_outputs_constants_and_kwargs():
    lin = nn.Linear(3, 3).double()

    def f(a, scale, b, shift=0.0):
        h = lin(a) * scale
        return h + b + shift, (h * b).sum(dim=1)

    a, b = randn(2, 3, seed=3), randn(2, 3, seed=4)
    results = []
    for use_cp in (False, True):
        lin.zero_grad()
        ta, tb = ember.tensor(a, requires_grad=True), ember.tensor(b, requires_grad=True)
        out = cp.checkpoint(f, ta, 3.0, tb, shift=1.5) if use_cp else f(ta, 3.0, tb, shift=1.5)
        (out[0].sum() * 2 + (out[1] ** 2).sum()).backward()
        results.append(
            [out[0].array, out[1].array, ta.grad.array, tb.grad.array, lin.weight.grad.array]
        )
    for u, v in zip(*results):
        np.testing.assert_array_equal(u, v)


def test_parameters_only_and_no_grad():
    net = _net()
    x = ember.tensor(randn(2, 5, seed=6))  # the input needs no gradient; the weights do
    net.zero_grad()
    cp.checkpoint(net, x).sum().backward()
    g = [p.grad.array.copy() for p in net.parameters()]
    net.zero_grad()
    net(x).sum().backward()
    for u, p in zip(g, net.parameters()):
        np.testing.assert_array_equal(u, p.grad.array)
    with ember.no_grad():
        assert not cp.checkpoint(net, x).requires_grad


@pytest.mark.parametrize("segments", [1, 2, 3])
def test_checkpoint_sequential_equals_plain(torch, segments):
    x = randn(4, 5, seed=8)
    net = _net()
    plain = _grads(net, x, lambda n, v: n(v))
    checked = _grads(net, x, lambda n, v: cp.checkpoint_sequential(n, segments, v))
    _same(plain, checked)
    # the same values as torch's checkpoint_sequential on the same weights
    import torch.utils.checkpoint as tcp

    tnet = torch.nn.Sequential(
        torch.nn.Linear(5, 8),
        torch.nn.Tanh(),
        torch.nn.Dropout(0.0),
        torch.nn.Linear(8, 8),
        torch.nn.ReLU(),
        torch.nn.Linear(8, 3),
    ).double()
    tnet.load_state_dict({k: torch.tensor(v.array) for k, v in net.state_dict().items()})
    xt = torch.tensor(x * 2.0)
    yt = tcp.checkpoint_sequential(tnet, segments, xt, use_reentrant=False)
    np.testing.assert_allclose(checked[0], yt.detach().numpy(), rtol=1e-12)


def _penalised(lib, checkpoint):
    """A gradient penalty through a checkpointed block that reads a parameter, a bias and a
    tensor of the outer graph it closes over: (∂L/∂W, ∂L/∂x, then ∂(‖∂L/∂W‖² + ‖∂L/∂x‖²)/∂(W,
    b, a, x)), and W.grad (autograd.grad must leave it alone)."""
    rng = np.random.default_rng(0)
    w = lib.tensor(rng.standard_normal((3, 3)), requires_grad=True)
    b = lib.tensor(rng.standard_normal(3), requires_grad=True)
    a = lib.tensor(rng.standard_normal(3), requires_grad=True)
    x = lib.tensor(rng.standard_normal((2, 3)), requires_grad=True)
    scale = a.sigmoid()  # a non-leaf the block closes over

    def block(t):
        return (t @ w + b).tanh() * scale

    y = checkpoint(block, x * 2.0)
    loss = (y * y).sum()
    gw, gx = lib.autograd.grad(loss, [w, x], create_graph=True)
    penalty = (gw * gw).sum() + (gx * gx).sum()
    second = lib.autograd.grad(penalty, [w, b, a, x])
    return [t.detach().numpy() for t in (gw, gx, *second)], w.grad


def test_autograd_grad_and_second_derivatives_through_a_checkpoint_match_torch(torch):
    from torch.utils.checkpoint import checkpoint as torch_checkpoint

    got, w_grad = _penalised(ember, cp.checkpoint)
    want, _ = _penalised(torch, lambda f, x: torch_checkpoint(f, x, use_reentrant=False))
    plain, _ = _penalised(ember, lambda f, x: f(x))
    for g, w, p in zip(got, want, plain):
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-13)
        np.testing.assert_allclose(g, p, rtol=1e-12, atol=1e-13)
    assert w_grad is None  # the parameter's gradient was returned, not accumulated


def test_backward_reaches_a_tensor_the_block_closes_over():
    a0 = np.random.default_rng(1).standard_normal(4)

    def grads(use_checkpoint: bool):
        a = ember.tensor(a0, requires_grad=True)
        h = a * 2.0  # outside the block, read inside it

        def block(t):
            return (t * h).tanh()

        x = ember.tensor(np.arange(8.0).reshape(2, 4) / 8, requires_grad=True)
        y = cp.checkpoint(block, x) if use_checkpoint else block(x)
        y.sum().backward()
        return a.grad.numpy(), x.grad.numpy()

    for g, p in zip(grads(True), grads(False)):
        np.testing.assert_array_equal(g, p)


# ------------------------------------------------------------ torch's keywords and helpers
def test_context_fn_wraps_the_forward_and_the_recomputation():
    import contextlib

    from ember.utils.checkpoint import checkpoint

    seen = []

    def ctx(tag):
        @contextlib.contextmanager
        def cm():
            seen.append(tag)
            yield

        return cm()

    x = ember.tensor([1.0, 2.0], requires_grad=True)
    y = checkpoint(lambda a: (a * a).sum(), x, context_fn=lambda: (ctx("fwd"), ctx("re")))
    assert seen == ["fwd"]
    y.backward()
    assert seen == ["fwd", "re"]
    np.testing.assert_array_equal(x.grad.array, [2.0, 4.0])


def test_determinism_check_raises_checkpoint_error_and_none_skips_it():
    from ember.utils.checkpoint import CheckpointError, checkpoint

    def grows(a, calls=[]):  # noqa: B006 - a counter across the two passes
        calls.append(1)
        return a[: len(calls)] * 2

    x = ember.tensor([1.0, 2.0, 3.0], requires_grad=True)
    with pytest.raises(CheckpointError, match="different metadata than during the forward"):
        checkpoint(grows, x).sum().backward()
    with pytest.raises(
        ValueError, match=r"determinism_check should be one of \['default', 'none'\]"
    ):
        checkpoint(grows, x, determinism_check="strict")
    y = checkpoint(lambda a: a * 3, x, determinism_check="none", debug=True, early_stop=False)
    y.sum().backward()  # the keywords are not passed on to the function


def test_detach_variable_noop_context_and_switches_as_torch(torch):
    import ember.utils.checkpoint as C

    x = ember.tensor([1.0], requires_grad=True)
    d = C.detach_variable((x, 3))
    assert d[0] is not x and d[0].requires_grad and d[0].grad_fn is None and d[1] == 3
    for mod in (C, torch.utils.checkpoint):
        with pytest.raises(RuntimeError, match="Only tuple of tensors is supported"):
            mod.detach_variable([x])
    assert len(C.noop_context_fn()) == 2
    with C.set_checkpoint_early_stop(False), C.set_checkpoint_debug_enabled(True):
        C.checkpoint(lambda a: a * 2, x).sum().backward()


@pytest.mark.parametrize("use_reentrant", [True, False])
def test_a_tuple_of_tensors_and_other_values_comes_back_as_torch(torch, use_reentrant):
    """The function may return numbers, None or strings beside its tensors (torch passes them
    on); ember tried to read .array of each and raised AttributeError."""
    w = np.random.default_rng(0).standard_normal((4, 4))
    grads = []
    for lib, run in ((ember, cp.checkpoint), (torch, torch.utils.checkpoint.checkpoint)):
        lin = lib.nn.Linear(4, 4, bias=False).double()
        with lib.no_grad():
            lin.weight.copy_(lib.tensor(w))
        x = lib.ones(3, 4, dtype=lib.float64, requires_grad=True)
        mixed = lambda a, f=lin: (3, f(a), None, f(a).tanh(), "x")  # noqa: E731
        out = run(mixed, x, use_reentrant=use_reentrant)
        assert (out[0], out[2], out[4]) == (3, None, "x")
        (out[1].sum() + out[3].sum()).backward()
        grads.append((x.grad.numpy(), lin.weight.grad.numpy()))
    for e, t in zip(*grads):
        np.testing.assert_allclose(e, t, rtol=1e-12)
    assert cp.checkpoint(lambda a: (1, "y"), ember.ones(2, requires_grad=True)) == (1, "y")
