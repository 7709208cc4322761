"""Activations, functional and as modules: gradcheck, torch reference, stability at extreme
inputs, and the fused softmax held equal to its composed version."""

from __future__ import annotations

import numpy as np
import pytest

import ember
import ember.functional as F
from ember import nn
from tests.core_reference import check_gradients, compare_with_torch, randn

# name: (ember module, torch module factory args)
ACTIVATIONS = {
    "ReLU": ((), {}),
    "LeakyReLU": ((0.2,), {}),
    "LeakyReLU_default": ((), {}),
    "Sigmoid": ((), {}),
    "Tanh": ((), {}),
    "Softmax": ((), {"dim": 1}),
    "Softmax_dim0": ((), {"dim": 0}),
    "LogSoftmax": ((), {"dim": -1}),
    "GELU": ((), {}),
    "GELU_tanh": ((), {"approximate": "tanh"}),
    "SiLU": ((), {}),
    "Identity": ((), {}),
}


def _modules(torch, name):
    args, kwargs = ACTIVATIONS[name]
    cls = name.split("_")[0]
    return getattr(nn, cls)(*args, **kwargs), getattr(torch.nn, cls)(*args, **kwargs)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activation_module_matches_torch(torch, name, dtype):
    me, mt = _modules(torch, name)
    compare_with_torch(torch, me, mt, [randn(6, 5, seed=2, scale=3.0)], dtype)


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activation_module_gradcheck(torch, name):
    me, _ = _modules(torch, name)
    # scale 1 keeps points away from ReLU's kink at the finite-difference step's scale
    check_gradients(me, [randn(3, 4, seed=5) + 0.01])


def test_functional_names_match_modules(torch):
    x = randn(4, 3, seed=1)
    pairs = [
        (F.relu, torch.relu),
        (lambda t: F.leaky_relu(t, 0.1), lambda t: torch.nn.functional.leaky_relu(t, 0.1)),
        (F.sigmoid, torch.sigmoid),
        (F.tanh, torch.tanh),
        (F.silu, torch.nn.functional.silu),
        (F.swish, torch.nn.functional.silu),
        (lambda t: F.gelu(t, "tanh"), lambda t: torch.nn.functional.gelu(t, approximate="tanh")),
    ]
    for fe, ft in pairs:
        compare_with_torch(torch, fe, ft, [x])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_sigmoid_tanh_silu_at_extreme_inputs(torch, dtype):
    x = np.array([-1000.0, -100.0, -30.0, 0.0, 30.0, 100.0, 1000.0])
    for fe, ft in [
        (F.sigmoid, torch.sigmoid),
        (F.tanh, torch.tanh),
        (F.silu, torch.nn.functional.silu),
    ]:
        compare_with_torch(torch, fe, ft, [x], dtype)
    y = F.sigmoid(ember.tensor(x.astype(dtype)))
    assert np.all(np.isfinite(y.array))
    assert y.array[0] == 0.0 or y.array[0] < 1e-40


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_log_softmax_with_huge_logits(torch, dtype):
    x = np.array([[1e4, 0.0, -1e4], [3e38 if dtype == np.float32 else 1e300, 1.0, 2.0]])
    compare_with_torch(
        torch, lambda t: F.log_softmax(t, 1), lambda t: torch.log_softmax(t, 1), [x], dtype
    )
    compare_with_torch(torch, lambda t: F.softmax(t, 1), lambda t: torch.softmax(t, 1), [x], dtype)
    out = F.log_softmax(ember.tensor(x.astype(dtype)), 1)
    assert np.all(np.isfinite(out.array))


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_fused_softmax_equals_composed(dim):
    x = randn(3, 4, 5, seed=9, scale=5.0)
    for fused, composed in [
        (F.softmax, F.softmax_composed),
        (F.log_softmax, F.log_softmax_composed),
    ]:
        a = ember.tensor(x, requires_grad=True)
        b = ember.tensor(x, requires_grad=True)
        w = ember.tensor(randn(3, 4, 5, seed=1))
        ya, yb = fused(a, dim), composed(b, dim)
        np.testing.assert_allclose(ya.array, yb.array, rtol=1e-12, atol=1e-14)
        (ya * w).sum().backward()
        (yb * w).sum().backward()
        np.testing.assert_allclose(a.grad.array, b.grad.array, rtol=1e-10, atol=1e-13)
        check_gradients(lambda t, f=composed: f(t, dim), [x[:2, :2, :3]])


def test_gelu_rejects_unknown_approximation():
    with pytest.raises(ValueError, match="approximate must be 'none' or 'tanh', got 'fast'"):
        F.gelu(ember.zeros(2), approximate="fast")


def test_activation_reprs_show_options():
    assert repr(nn.LeakyReLU(0.2)) == "LeakyReLU(negative_slope=0.2)"
    assert repr(nn.Softmax(dim=1)) == "Softmax(dim=1)"
    assert repr(nn.GELU("tanh")) == "GELU(approximate='tanh')"
    assert nn.Swish is nn.SiLU


@pytest.mark.parametrize("slope", [0.0, 0.01, 0.5, 1.0, 2.0, -0.3])
def test_leaky_relu_any_slope_and_zero_input(torch, slope):
    x = np.array([-2.0, -0.5, 0.0, 0.5, 3.0])
    compare_with_torch(
        torch,
        lambda t: F.leaky_relu(t, slope),
        lambda t: torch.nn.functional.leaky_relu(t, slope),
        [x],
    )
    compare_with_torch(torch, F.relu, torch.relu, [x])  # gradient 0 at x = 0, as torch
