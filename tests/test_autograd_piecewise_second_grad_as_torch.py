"""A gradient taken with create_graph through a piecewise-linear op (relu, abs, leaky ReLU,
hardtanh, hardsigmoid, threshold, the shrinks) stays in the graph of its input, as torch's
backward formulas keep it (threshold_backward, sgn, leaky_relu_backward …): a second
autograd.grad to the input gets zeros. ember's rules multiplied by a constant mask, so the
gradient did not require grad and the second grad raised "not used in the graph". torch's
clamp masks without its input, and so does ember's."""

import pytest

import ember

_OPS = {
    "abs": lambda lib, x: x.abs(),
    "relu": lambda lib, x: lib.relu(x),
    "relu_": lambda lib, x: x.clone().relu_(),
    "relu6": lambda lib, x: lib.nn.functional.relu6(x),
    "leaky_relu": lambda lib, x: lib.nn.functional.leaky_relu(x, 0.1),
    "hardtanh": lambda lib, x: lib.nn.functional.hardtanh(x),
    "threshold": lambda lib, x: lib.nn.functional.threshold(x, 0.1, 20.0),
    "hardshrink": lambda lib, x: lib.nn.functional.hardshrink(x),
    "softshrink": lambda lib, x: lib.nn.functional.softshrink(x),
    "clamp": lambda lib, x: x.clamp(min=0.0),
}


def _second_grad(lib, op):
    x = lib.tensor([-1.0, 0.3, 2.0], dtype=lib.float64, requires_grad=True)
    (g,) = lib.autograd.grad(_OPS[op](lib, x).sum(), x, create_graph=True, retain_graph=True)
    if not g.requires_grad:
        return False, None
    (gg,) = lib.autograd.grad(g.sum(), x)
    return True, (gg + 0).tolist()  # + 0: torch's abs gives an unallocated zero tensor


@pytest.mark.parametrize("op", list(_OPS))
def test_the_gradient_stays_on_its_inputs_graph_as_torchs(torch, op):
    assert _second_grad(ember, op) == _second_grad(torch, op)


def test_hardsigmoids_second_gradient_is_zero_where_torch_has_no_formula():
    x = ember.tensor([-4.0, 0.3, 4.0], dtype=ember.float64, requires_grad=True)
    (g,) = ember.autograd.grad(ember.nn.functional.hardsigmoid(x).sum(), x, create_graph=True)
    assert g.requires_grad and ember.autograd.grad(g.sum(), x)[0].tolist() == [0.0] * 3


def test_a_gradient_penalty_through_relu_reaches_the_input(torch):
    got = []
    for lib in (ember, torch):
        x = lib.tensor([[-1.0, 0.5]], dtype=lib.float64, requires_grad=True)
        w = lib.tensor([[2.0, -1.0], [0.5, 3.0]], dtype=lib.float64, requires_grad=True)
        y = lib.relu(x @ w).sum()
        (g,) = lib.autograd.grad(y, x, create_graph=True)
        gx, gw = lib.autograd.grad((g * g).sum(), (x, w))
        got.append((g.tolist(), gx.tolist(), gw.tolist()))
    assert got[0] == got[1]
