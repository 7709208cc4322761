"""The ops of ops/elementwise_more.py and ops/reduce_more.py on raw arrays: float32 stays float32
through forward and backward, and each hand-written backward agrees with the composition of
existing ops it stands in for, where that composition is well defined."""

from __future__ import annotations

import numpy as np
import pytest

import ember
from ember.function import Function
from ember.ops import elementwise_more as M
from ember.ops import reduce_more as RM
from tests.core_reference import randn

BINARY = {"Atan2", "Hypot", "Xlogy", "LogAddExp"}
OPS = sorted(
    name
    for name, c in vars(M).items()
    if isinstance(c, type)
    and issubclass(c, Function)
    and c.__module__ == M.__name__
    and not name.startswith("_")
)


def _run(op: Function, *arrays, **constants):
    op.needs_input_grad = (True,) * len(arrays)
    y = op.forward(*arrays, **constants)
    return y, op.backward(np.ones_like(y))


@pytest.mark.parametrize("name", OPS)
def test_float32_in_float32_out_and_back(name):
    x = np.linspace(0.1, 0.9, 6, dtype=np.float32).reshape(2, 3)
    arrays = (x, x[::-1] + 0.5) if name in BINARY else (x + 1 if name == "Acosh" else x,)
    if name == "ClampTensor":  # x and its two bounds
        arrays = (x, x[::-1] - 0.2, x[::-1] + 0.2)
    y, grads = _run(getattr(M, name)(), *arrays)
    assert y.dtype == np.float32 and all(g.dtype == np.float32 for g in grads)
    assert np.isfinite(y).all() and all(np.isfinite(g).all() for g in grads)


def test_reduce_ops_keep_float32():
    x = np.linspace(-2, 2, 8, dtype=np.float32).reshape(2, 4)
    y, (g,) = _run(RM.LogCumSumExp(), x, dim=1)
    assert y.dtype == g.dtype == np.float32
    y, (g,) = _run(RM.EvenlyShared(), x, value=x[0, 1].copy())
    assert y.dtype == g.dtype == np.float32 and g.sum() == 1.0
    y, (g,) = _run(RM.MaxAbs(), x)
    assert y.dtype == g.dtype == np.float32 and y.tolist() == [2.0, 2.0]


def _grads(f, *arrays):
    ts = [ember.tensor(a, requires_grad=True) for a in arrays]
    out = f(*ts)
    out.backward(ember.tensor(np.random.default_rng(0).standard_normal(out.shape)))
    return out.detach().numpy(), [t.grad.numpy() for t in ts]


# (id, the op through its public name, the composition it replaces, inputs where both are sound)
COMPOSED = [
    ("logaddexp", lambda a, b: a.logaddexp(b), lambda a, b: (a.exp() + b.exp()).log()),
    ("logaddexp2", lambda a, b: a.logaddexp2(b), lambda a, b: (2.0**a + 2.0**b).log() / np.log(2)),
    ("hypot", lambda a, b: a.hypot(b), lambda a, b: (a * a + b * b).sqrt()),
    ("xlogy", lambda a, b: a.xlogy(b.abs() + 0.5), lambda a, b: a * (b.abs() + 0.5).log()),
    ("atan2", lambda a, b: a.atan2(b.abs() + 0.5), lambda a, b: (a / (b.abs() + 0.5)).atan()),
]


@pytest.mark.parametrize("name,op,composed", COMPOSED, ids=[c[0] for c in COMPOSED])
def test_op_agrees_with_its_composition(name, op, composed):
    a, b = randn(3, 4, seed=1), randn(3, 4, seed=2)
    (y1, g1), (y2, g2) = _grads(op, a, b), _grads(composed, a, b)
    np.testing.assert_allclose(y1, y2, rtol=1e-12)
    for u, v in zip(g1, g2):
        np.testing.assert_allclose(u, v, rtol=1e-10, atol=1e-12)


def test_logcumsumexp_agrees_with_log_cumsum_exp():
    x = randn(3, 5, seed=3)
    (y1, (g1,)), (y2, (g2,)) = (
        _grads(lambda t: t.logcumsumexp(1), x),
        _grads(lambda t: t.exp().cumsum(1).log(), x),
    )
    np.testing.assert_allclose(y1, y2, rtol=1e-12)
    np.testing.assert_allclose(g1, g2, rtol=1e-10)


def test_logcumsumexp_keeps_terms_far_below_the_maximum():
    """A global shift by max(x) would flush e^{−1000 − 1000} to 0 and give −inf."""
    x = ember.tensor([-1000.0, 1000.0, -1000.0], dtype=ember.float64)
    y = x.logcumsumexp(0).numpy()
    assert y[0] == -1000.0 and y[1] == 1000.0 and y[2] == 1000.0


def test_cum_extreme_and_median_indices():
    x = np.array([[1.0, 3.0, 3.0, 2.0, 5.0], [2.0, np.nan, 1.0, np.nan, 0.0]])
    assert RM.cum_extreme_indices(x, 1, True).tolist() == [[0, 1, 2, 2, 4], [0, 1, 1, 3, 3]]
    assert RM.cum_extreme_indices(x, 1, False).tolist() == [[0, 0, 0, 0, 0], [0, 1, 1, 3, 3]]
    assert RM.median_index(x, 1).tolist() == [[1], [1]]  # lower median 3 (first of ties); nan
