"""Backpropagation semantics: accumulation as torch, deep graphs without recursion, freed graphs,
retain_graph, no_grad, requires_grad_, detach, retain_grad, broadcasting, observers."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import ember
from ember import function


def test_gradients_accumulate_across_backward_calls_as_torch(torch):
    x0 = np.array([1.0, -2.0, 3.0])
    xe, xt = ember.tensor(x0, requires_grad=True), torch.tensor(x0, requires_grad=True)
    for _ in range(2):
        (xe * xe).sum().backward()
        (xt * xt).sum().backward()
    np.testing.assert_array_equal(xe.grad.array, xt.grad.numpy())
    np.testing.assert_array_equal(xe.grad.array, 4 * x0)


def test_a_tensor_used_twice_sums_its_gradients(torch):
    x0 = np.array([0.5, 2.0])
    xe, xt = ember.tensor(x0, requires_grad=True), torch.tensor(x0, requires_grad=True)
    ((xe * 3).exp() + xe * xe + xe).sum().backward()
    ((xt * 3).exp() + xt * xt + xt).sum().backward()
    np.testing.assert_allclose(xe.grad.array, xt.grad.numpy(), rtol=1e-12)


def test_diamond_graph():
    x = ember.tensor([2.0], requires_grad=True)
    a = x * 3
    b, c = a.exp(), a * a
    (b + c).sum().backward()
    np.testing.assert_allclose(x.grad.array, 3 * np.exp(6.0) + 2 * 6.0 * 3)


def test_a_chain_of_100000_ops_backpropagates_without_recursion_error():
    x = ember.tensor(np.ones(3), requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y + 1.0
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.array, 1.0)
    np.testing.assert_array_equal(y.array, 100_001.0)


def test_second_backward_through_a_freed_graph_is_a_clear_error():
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    y = (x.exp() * 2).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y.backward()


def test_retain_graph_allows_a_second_backward():
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    y = (x.exp() * 2).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(x.grad.array, 4 * np.exp(x.array))


def test_backward_on_a_non_scalar_needs_a_gradient():
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    with pytest.raises(RuntimeError, match=r"needs a scalar output, got shape \(2,\)"):
        y.backward()
    y.backward(ember.tensor([1.0, 10.0]))
    np.testing.assert_array_equal(x.grad.array, [2.0, 20.0])
    with pytest.raises(RuntimeError, match=r"gradient has shape \(3,\)"):
        (x * 2).backward(np.ones(3))


def test_backward_on_a_tensor_without_grad_is_an_error():
    with pytest.raises(RuntimeError, match="does not require grad"):
        ember.tensor([1.0]).sum().backward()


def test_backward_on_a_leaf_accumulates_the_seed():
    x = ember.tensor(3.0, requires_grad=True)
    x.backward()
    assert x.grad.item() == 1.0


def test_no_grad_records_nothing_and_restores():
    x = ember.tensor([1.0], requires_grad=True)
    with ember.no_grad():
        y = x * 2
        assert not ember.is_grad_enabled()
    assert ember.is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None
    with ember.no_grad():
        with ember.enable_grad():
            z = x * 2
    assert z.requires_grad
    ember.set_grad_enabled(False)
    try:
        assert not (x * 2).requires_grad
    finally:
        ember.set_grad_enabled(True)


def test_requires_grad_and_detach():
    x = ember.tensor([1.0, 2.0])
    assert not (x * 2).requires_grad
    x.requires_grad_()
    y = x * 2
    assert y.requires_grad and not y.is_leaf
    d = y.detach()
    assert not d.requires_grad and d.grad_fn is None
    assert np.shares_memory(d.array, y.array)  # detach shares storage, as torch
    with pytest.raises(RuntimeError, match="leaf"):
        y.requires_grad_(False)
    with pytest.raises(TypeError, match="floating-point"):
        ember.tensor([1, 2]).requires_grad_()
    (y + d).sum().backward()  # the detached branch carries no gradient
    np.testing.assert_array_equal(x.grad.array, [2.0, 2.0])


def test_detach_in_place():
    x = ember.tensor([1.0], requires_grad=True)
    y = (x * 2).detach_()
    assert y.grad_fn is None and not y.requires_grad


def test_retain_grad_keeps_a_non_leaf_gradient(torch):
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    h = (x * 3).retain_grad()
    (h * h).sum().backward()
    np.testing.assert_array_equal(h.grad.array, 2 * h.array)
    h2 = x * 3
    (h2 * h2).sum().backward()
    with pytest.warns(UserWarning, match="not a leaf Tensor is being accessed"):
        assert h2.grad is None  # non-leaves keep no gradient unless asked, as torch
    t2 = torch.tensor([1.0, 2.0], requires_grad=True) * 3
    with pytest.warns(UserWarning, match="not a leaf Tensor is being accessed"):
        assert t2.grad is None  # torch warns alike
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert h.grad is not None and x.grad is not None  # retained, and a leaf: no warning


@pytest.mark.parametrize(
    "sa, sb", [((3, 4), (4,)), ((3, 1), (1, 4)), ((2, 3, 4), (1, 4)), ((5,), ()), ((2, 1), (2, 3))]
)
def test_broadcasting_gradients_are_summed_back(torch, sa, sb):
    a0 = np.random.default_rng(0).standard_normal(sa)
    b0 = np.random.default_rng(1).standard_normal(sb)
    ae, be = ember.tensor(a0, requires_grad=True), ember.tensor(b0, requires_grad=True)
    at, bt = torch.tensor(a0, requires_grad=True), torch.tensor(b0, requires_grad=True)
    (ae * be + be).sum().backward()
    (at * bt + bt).sum().backward()
    assert ae.grad.shape == sa and be.grad.shape == sb
    np.testing.assert_allclose(ae.grad.array, at.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(be.grad.array, bt.grad.numpy(), rtol=1e-12)


def test_unbroadcast_helper():
    g = np.ones((2, 3, 4))
    np.testing.assert_array_equal(function.unbroadcast(g, (3, 1)), np.full((3, 1), 8.0))
    np.testing.assert_array_equal(function.unbroadcast(g, ()), 24.0)
    assert function.unbroadcast(g, (2, 3, 4)) is g


def test_integer_array_indexing_accumulates_over_repeats(torch):
    x0 = np.arange(6.0).reshape(3, 2)
    idx = np.array([2, 0, 2, 2])
    xe, xt = ember.tensor(x0, requires_grad=True), torch.tensor(x0, requires_grad=True)
    (xe[idx] * np.arange(8.0).reshape(4, 2)).sum().backward()
    (xt[torch.tensor(idx)] * torch.arange(8.0, dtype=torch.float64).reshape(4, 2)).sum().backward()
    np.testing.assert_array_equal(xe.grad.array, xt.grad.numpy())


def test_multi_output_op_with_an_unused_output():
    x = ember.tensor(np.arange(6.0), requires_grad=True)
    a, b, c = x.split(2)
    (b * 2).sum().backward()
    np.testing.assert_array_equal(x.grad.array, [0, 0, 2, 2, 0, 0])


def test_gradients_are_never_written_in_place():
    """Add hands one array to both inputs; accumulating into one must not change the other."""
    a = ember.tensor([1.0, 1.0], requires_grad=True)
    b = ember.tensor([1.0, 1.0], requires_grad=True)
    (a + b).sum().backward()
    (a * 5).sum().backward()
    np.testing.assert_array_equal(a.grad.array, [6.0, 6.0])
    np.testing.assert_array_equal(b.grad.array, [1.0, 1.0])


def test_observers_see_every_forward_and_backward():
    class Recorder:
        def __init__(self):
            self.fwd, self.bwd = [], []

        def on_forward(self, fn, inputs, out):
            self.fwd.append(fn.name)

        def on_backward(self, fn, grad_outputs, grad_inputs):
            self.bwd.append(fn.name)

    rec = Recorder()
    function.observers.append(rec)
    try:
        x = ember.tensor([1.0], requires_grad=True)
        (x.exp() * 2).sum().backward()
    finally:
        function.observers.remove(rec)
    assert rec.fwd == ["Exp", "MulScalar", "Sum"]
    assert rec.bwd == ["Sum", "MulScalar", "Exp"]


def test_grad_fn_names_the_op():
    y = ember.tensor([1.0], requires_grad=True).exp()
    assert repr(y.grad_fn) == "<ExpBackward>"
    assert "grad_fn=<ExpBackward>" in repr(y)


@pytest.mark.parametrize("shape", [(50,), (50, 3), (8, 4, 2)])
def test_scatter_add_accumulates_like_add_at(shape):
    """The sorted fast path for long integer indices equals numpy.add.at, negatives included."""
    from ember.backend import scatter_add

    rng = np.random.default_rng(0)
    idx = rng.integers(-6, 6, size=(200,) if len(shape) == 1 else (10, 20))
    values = rng.standard_normal(idx.shape + shape[1:])
    expected = np.zeros(shape)
    np.add.at(expected, idx, values)
    got = np.zeros(shape)
    scatter_add(got, idx, values)
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


def test_next_functions_walk_the_graph_as_torch(torch):
    w, b = ember.randn(3, requires_grad=True), ember.randn(3)
    y = (w * b).exp().sum()
    tw = torch.tensor(w.detach().numpy(), requires_grad=True)
    ty = (tw * torch.tensor(b.numpy())).exp().sum()

    def walk(fn):  # the node names down the first input, and what each node's inputs are
        names = []
        while fn is not None:
            nexts = fn.next_functions
            names.append([None if f is None else type(f).__name__ for f, _ in nexts])
            fn = nexts[0][0] if nexts else None
        return names

    assert walk(y.grad_fn) == [["Exp"], ["Mul"], ["AccumulateGrad", None], []]
    torch_names = [
        [n and n.rstrip("0").removesuffix("Backward") for n in r] for r in walk(ty.grad_fn)
    ]
    assert torch_names == [["Exp"], ["Mul"], ["AccumulateGrad", None], []]
    leaf = y.grad_fn.next_functions[0][0].next_functions[0][0].next_functions[0][0]
    assert leaf.variable is w and repr(leaf) == "<AccumulateGrad>"


def test_a_gradient_takes_the_dtype_of_its_tensor_as_torch(torch):
    # torch's engine casts each gradient to its tensor's dtype (validate_outputs): through
    # x.float() into float64 arithmetic, ∂L/∂x is rounded through float32. ember passed the
    # float64 gradient straight on to x
    w = np.array([1 / 3, 0.1, -2 / 7])
    x0 = np.array([1.0, 2.0, 3.0])
    grads = {}
    for lib in (torch, ember):
        x = lib.tensor(x0, requires_grad=True)
        f32 = lib.float32
        ((x.to(f32) * lib.tensor(w)).sum() + x.sum(dtype=f32) * lib.tensor(w[0])).backward()
        grads[lib] = x.grad.numpy()
    assert grads[ember].dtype == np.float64
    np.testing.assert_array_equal(grads[ember], grads[torch])
