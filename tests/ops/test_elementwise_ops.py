"""Elementwise ops: gradcheck in float64 and torch reference (outputs and gradients) in float64
and float32, with broadcasting."""

from __future__ import annotations

import numpy as np
import pytest

import ember
from tests.core_reference import check_gradients, compare_with_torch, positive, randn

# name: (ember f, torch f, input maker); inputs away from kinks (abs at 0, clip at bounds)
UNARY = {
    "neg": (lambda x: -x, lambda x: -x, randn),
    "exp": (lambda x: x.exp(), lambda x: x.exp(), randn),
    "log": (lambda x: x.log(), lambda x: x.log(), positive),
    "sqrt": (lambda x: x.sqrt(), lambda x: x.sqrt(), positive),
    "abs": (lambda x: x.abs(), lambda x: x.abs(), lambda *s, seed=0: randn(*s, seed=seed) + 0.05),
    "sin": (lambda x: x.sin(), lambda x: x.sin(), randn),
    "cos": (lambda x: x.cos(), lambda x: x.cos(), randn),
    "tanh": (lambda x: x.tanh(), lambda x: x.tanh(), randn),
    "sigmoid": (lambda x: x.sigmoid(), lambda x: x.sigmoid(), randn),
    "relu": (lambda x: x.relu(), lambda x: x.relu(), randn),
    "clip": (lambda x: x.clip(-0.5, 0.7), lambda x: x.clamp(-0.5, 0.7), randn),
    "clip_min": (lambda x: x.clamp(min=0.1), lambda x: x.clamp(min=0.1), randn),
    "add_scalar": (lambda x: x + 2.5, lambda x: x + 2.5, randn),
    "radd_scalar": (lambda x: 2.5 + x, lambda x: 2.5 + x, randn),
    "sub_scalar": (lambda x: x - 1.5, lambda x: x - 1.5, randn),
    "rsub_scalar": (lambda x: 1.5 - x, lambda x: 1.5 - x, randn),
    "mul_scalar": (lambda x: x * -3.0, lambda x: x * -3.0, randn),
    "div_scalar": (lambda x: x / 4.0, lambda x: x / 4.0, randn),
    "rdiv_scalar": (lambda x: 2.0 / x, lambda x: 2.0 / x, positive),
    "pow_2": (lambda x: x**2, lambda x: x**2, randn),
    "pow_3.5": (lambda x: x**3.5, lambda x: x**3.5, positive),
    "pow_-1": (lambda x: x**-1, lambda x: x**-1, positive),
    "rpow": (lambda x: 2.0**x, lambda x: 2.0**x, randn),
}


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_gradcheck(name):
    fe, _, make = UNARY[name]
    check_gradients(fe, [make(3, 4)])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_matches_torch(torch, name, dtype):
    fe, ft, make = UNARY[name]
    compare_with_torch(torch, fe, ft, [make(5, 7, seed=1)], dtype)


BINARY = {
    "add": (lambda a, b: a + b, randn, randn),
    "sub": (lambda a, b: a - b, randn, randn),
    "mul": (lambda a, b: a * b, randn, randn),
    "div": (lambda a, b: a / b, randn, positive),
    "pow": (lambda a, b: a**b, positive, randn),
}
BROADCAST = [((3, 4), (3, 4)), ((3, 4), (4,)), ((2, 3, 4), (3, 1)), ((1, 4), (3, 1)), ((3, 4), ())]


@pytest.mark.parametrize("shapes", BROADCAST, ids=str)
@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_gradcheck_with_broadcasting(name, shapes):
    f, ma, mb = BINARY[name]
    check_gradients(f, [ma(*shapes[0], seed=1), mb(*shapes[1], seed=2)])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shapes", BROADCAST, ids=str)
@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_matches_torch(torch, name, shapes, dtype):
    f, ma, mb = BINARY[name]
    compare_with_torch(torch, f, f, [ma(*shapes[0], seed=1), mb(*shapes[1], seed=2)], dtype)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_maximum_minimum_where(torch, dtype):
    a, b = randn(3, 4, seed=1), randn(4, seed=2)
    cond = randn(3, 4, seed=3) > 0
    compare_with_torch(torch, ember.maximum, torch.maximum, [a, b], dtype)
    compare_with_torch(torch, ember.minimum, torch.minimum, [a, b], dtype)
    compare_with_torch(
        torch,
        lambda x, y: ember.where(ember.tensor(cond), x, y),
        lambda x, y: torch.where(torch.tensor(cond), x, y),
        [a, b],
        dtype,
    )
    check_gradients(ember.maximum, [a, b])
    check_gradients(ember.minimum, [a, b])
    check_gradients(lambda x, y: ember.where(cond, x, y), [a, b])


def test_maximum_splits_gradient_on_ties_as_torch(torch):
    a = np.array([1.0, 2.0, 3.0])
    b = np.array([1.0, 0.0, 3.0])
    compare_with_torch(torch, ember.maximum, torch.maximum, [a, b])
    compare_with_torch(torch, ember.minimum, torch.minimum, [a, b])


def test_leaky_relu_gelu_silu_ops_gradcheck():
    F = ember.functional
    x = randn(4, 5)
    check_gradients(lambda t: F.leaky_relu(t, 0.2), [x])
    check_gradients(lambda t: F.gelu(t), [x])
    check_gradients(lambda t: F.gelu(t, approximate="tanh"), [x])
    check_gradients(F.silu, [x])


def test_float32_stays_float32():
    x = ember.randn(3, 3, requires_grad=True)
    y = ((x * 2 + 1).exp() / 3.0 - x**2).tanh().sigmoid()
    assert y.dtype == np.float32
    y.sum().backward()
    assert x.grad.dtype == np.float32


def test_where_of_a_condition_alone_is_its_indices(torch):
    """torch.where(condition): nonzero(condition, as_tuple=True); one of x, y alone is refused."""
    a = np.array([[0.0, 1.5], [-2.0, 0.0], [3.0, 4.0]])
    for cond in (lambda lib: lib.tensor(a), lambda lib: lib.tensor(a) > 0):
        got, want = ember.where(cond(ember)), torch.where(cond(torch))
        assert len(got) == len(want) == 2
        for g, w in zip(got, want):
            np.testing.assert_array_equal(g.numpy(), w.numpy())
    with pytest.raises(TypeError, match="both x and y, or neither"):
        ember.where(ember.tensor(a) > 0, 1.0)
