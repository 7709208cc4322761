"""Step functions (sign, round, floor, ceil, trunc) and random draws (normal) send their inputs
exactly 0 through a node that keeps no values (ops.elementwise_more.StepValue), as torch's
nodes that save nothing: a second backward without retain_graph runs them again, where
ember's recorded Where(False, …) had been spent by the first."""

import math

import pytest

import ember

_STEPS = {
    "round": lambda lib, x: x.round(),
    "round decimals": lambda lib, x: x.round(decimals=1),
    "floor": lambda lib, x: x.floor(),
    "ceil": lambda lib, x: x.ceil(),
    "trunc": lambda lib, x: x.trunc(),
    "sign": lambda lib, x: x.sign(),
    "normal mean": lambda lib, x: lib.normal(x, 1.0),
    "normal both": lambda lib, x: lib.normal(x, x.detach().abs() + 1),
    "normal std": lambda lib, x: lib.normal(0.0, x[:3] + 5),
}


@pytest.mark.parametrize("name", sorted(_STEPS))
def test_a_second_backward_runs_again(torch, name):
    grads = []
    for lib in (ember, torch):
        x = lib.tensor([0.4, 1.6, -3.0, math.inf], requires_grad=True)
        y = (_STEPS[name](lib, x) + 2).sum()
        y.backward()
        y.backward()
        grads.append(x.grad.tolist())
    assert grads[0] == grads[1]


def test_the_value_and_dtype_are_the_steps(torch):
    x = ember.tensor([0.25, -1.5, 2.5], dtype=ember.float64, requires_grad=True)
    y = x.round()
    assert y.dtype == ember.float64 and y.tolist() == [0.0, -2.0, 2.0] and y.requires_grad
    assert y.grad_fn is not None
