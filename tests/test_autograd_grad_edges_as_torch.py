"""autograd.grad computes only the edges that lead to the inputs it was asked for, as torch's
engine: a node's other gradients are neither computed nor required to exist. Before, ember ran
each node's backward for every input that required grad, so asking for zeta's gradient wrt q
while x also required grad raised x's "not implemented"."""

import pytest

import ember

_ASKED_FOR_ONE = {
    "zeta wrt q": (lambda lib, x, q: lib.special.zeta(x, q), 1),
    "igamma wrt x": (lambda lib, a, x: lib.special.gammainc(a, x), 1),
    "igammac wrt x": (lambda lib, a, x: lib.special.gammaincc(a, x), 1),
}


@pytest.mark.parametrize("name", sorted(_ASKED_FOR_ONE))
def test_grad_wrt_one_input_of_a_node_whose_other_gradient_is_not_implemented(torch, name):
    f, which = _ASKED_FOR_ONE[name]
    grads = []
    for lib in (ember, torch):
        a = lib.tensor([2.0, 3.5], dtype=lib.float64, requires_grad=True)
        b = lib.tensor([1.5, 2.0], dtype=lib.float64, requires_grad=True)
        (g,) = lib.autograd.grad(f(lib, a, b).sum(), (a, b)[which])
        grads.append(g.tolist())
    assert grads[0] == pytest.approx(grads[1], rel=1e-12)


def test_a_gradient_penalty_wrt_the_input_leaves_the_weights_alone(monkeypatch):
    """Only ∂L/∂x is computed: the Linear's backward is told its weight's and bias's gradients
    are not wanted, and its node says they are again after the sweep."""
    layer = ember.nn.Linear(4, 3)
    x = ember.randn(5, 4, requires_grad=True)
    y = layer(x).square().sum()
    linear = next(fn for fn in _nodes(y.grad_fn) if fn.parents[0] is x)
    seen = []
    original = type(linear).backward

    def spy(fn, *gys):
        seen.append(fn.needs_input_grad)
        return original(fn, *gys)

    monkeypatch.setattr(type(linear), "backward", spy)
    (gx,) = ember.autograd.grad(y, x, retain_graph=True)
    assert seen == [(True, False, False)]
    assert linear.needs_input_grad == (True, True, True)
    assert gx.shape == (5, 4) and layer.weight.grad is None


def _nodes(root):
    seen, stack = [], [root]
    while stack:
        fn = stack.pop()
        seen.append(fn)
        stack.extend(p._ctx for p in fn.parents if p is not None and p._ctx is not None)
    return seen
