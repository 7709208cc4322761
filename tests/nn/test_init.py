"""nn.init: each initialiser's statistics (mean, std, bounds, orthogonality) against the formula
torch uses, with the same fan and gain computations as torch."""

from __future__ import annotations

import math

import numpy as np
import pytest

import ember
from ember.nn import init

SHAPE = (400, 300)  # 120,000 draws: sample std within ~0.5% of the true one


def _t(*shape):
    return ember.empty(*shape)


def test_uniform_normal_constant():
    w = init.uniform_(_t(*SHAPE), -0.2, 0.6).array
    assert w.min() >= -0.2 and w.max() < 0.6
    assert abs(w.mean() - 0.2) < 0.005 and abs(w.std() - 0.8 / math.sqrt(12)) < 0.003
    w = init.normal_(_t(*SHAPE), 1.5, 0.3).array
    assert abs(w.mean() - 1.5) < 0.005 and abs(w.std() - 0.3) < 0.003
    np.testing.assert_array_equal(init.constant_(_t(3, 2), 0.7).array, np.float32(0.7))
    np.testing.assert_array_equal(init.zeros_(_t(3)).array, 0)
    np.testing.assert_array_equal(init.ones_(_t(3)).array, 1)


@pytest.mark.parametrize("shape", [(400, 300), (64, 32, 3, 3)])
def test_fans_match_torch(torch, shape):
    from torch.nn.init import _calculate_fan_in_and_fan_out as torch_fans

    assert init._calculate_fan_in_and_fan_out(_t(*shape)) == torch_fans(torch.empty(shape))


@pytest.mark.parametrize(
    "name, param",
    [
        ("linear", None),
        ("tanh", None),
        ("relu", None),
        ("leaky_relu", 0.2),
        ("leaky_relu", None),
        ("sigmoid", None),
        ("selu", None),
        ("conv2d", None),
        ("conv_transpose1d", None),
        ("conv_transpose2d", 3),
        ("conv_transpose3d", None),
        ("leaky_relu", 0),
        ("leaky_relu", 3),
    ],
)
def test_calculate_gain_matches_torch(torch, name, param):
    assert init.calculate_gain(name, param) == pytest.approx(
        torch.nn.init.calculate_gain(name, param)
    )


def test_unknown_nonlinearity_is_an_error():
    with pytest.raises(ValueError, match="unknown nonlinearity 'swish'"):
        init.calculate_gain("swish")
    for slope in (True, "0.2"):  # torch: a bool or a string is no slope
        with pytest.raises(ValueError, match="not a valid number"):
            init.calculate_gain("leaky_relu", slope)


@pytest.mark.parametrize("gain", [1.0, 2.0])
def test_xavier(gain):
    fan_in, fan_out = SHAPE[1], SHAPE[0]
    std = gain * math.sqrt(2.0 / (fan_in + fan_out))
    w = init.xavier_uniform_(_t(*SHAPE), gain).array
    bound = math.sqrt(3.0) * std
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.99 * bound
    assert abs(w.std() - std) < 0.01 * std and abs(w.mean()) < 0.01 * std
    w = init.xavier_normal_(_t(*SHAPE), gain).array
    assert abs(w.std() - std) < 0.01 * std and abs(w.mean()) < 0.01 * std


@pytest.mark.parametrize("mode", ["fan_in", "fan_out"])
@pytest.mark.parametrize("nonlinearity, a", [("relu", 0.0), ("leaky_relu", 0.1)])
def test_kaiming(mode, nonlinearity, a):
    fan = SHAPE[1] if mode == "fan_in" else SHAPE[0]
    std = init.calculate_gain(nonlinearity, a) / math.sqrt(fan)
    w = init.kaiming_uniform_(_t(*SHAPE), a, mode, nonlinearity).array
    bound = math.sqrt(3.0) * std
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.99 * bound
    assert abs(w.std() - std) < 0.01 * std
    w = init.kaiming_normal_(_t(*SHAPE), a, mode, nonlinearity).array
    assert abs(w.std() - std) < 0.01 * std and abs(w.mean()) < 0.01 * std
    with pytest.raises(ValueError, match="mode must be"):
        init.kaiming_normal_(_t(3, 3), mode="fan")


@pytest.mark.parametrize("shape", [(6, 4), (4, 6), (5, 5), (6, 2, 2)])
def test_orthogonal(shape):
    w = init.orthogonal_(_t(*shape).double(), gain=2.0).array.reshape(shape[0], -1)
    rows, cols = w.shape
    if rows <= cols:  # orthonormal rows (times the gain)
        np.testing.assert_allclose(w @ w.T, 4.0 * np.eye(rows), atol=1e-10)
    else:  # orthonormal columns
        np.testing.assert_allclose(w.T @ w, 4.0 * np.eye(cols), atol=1e-10)


def test_init_keeps_dtype_and_records_no_graph():
    p = ember.nn.Parameter(np.zeros((3, 4), np.float32))
    init.xavier_uniform_(p)
    assert p.dtype == np.float32 and p.grad_fn is None and p.requires_grad


def test_fans_need_two_dims():
    with pytest.raises(ValueError, match=r"at least 2 dims, got \(5,\)"):
        init.xavier_uniform_(_t(5))


def test_initialisers_are_seeded():
    ember.manual_seed(3)
    a = init.normal_(_t(4, 4)).array.copy()
    ember.manual_seed(3)
    np.testing.assert_array_equal(a, init.normal_(_t(4, 4)).array)
