"""Corners of the optimizers found by a parity audit against torch: a 0-d (scalar) parameter,
loading a torch optimizer's state_dict, Adam's decoupled_weight_decay, and the like."""

from __future__ import annotations

import numpy as np
import pytest

import ember
from ember.nn import Parameter

# every per-parameter optimizer, with options that use all of its state
SCALAR_CASES = [
    ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.1)),
    ("SGD", dict(lr=0.1, momentum=0.9, dampening=0.3, maximize=True)),
    ("Adam", dict(lr=0.01, amsgrad=True, weight_decay=0.1)),
    ("AdamW", dict(lr=0.01, maximize=True)),
    ("RMSprop", dict(lr=0.01, centered=True, momentum=0.9, weight_decay=0.1)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.01, initial_accumulator_value=0.5)),
    ("Adadelta", dict(lr=0.5, weight_decay=0.1)),
    ("Adamax", dict(lr=0.01, weight_decay=0.1)),
    ("NAdam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True)),
    ("RAdam", dict(lr=0.01, weight_decay=0.1)),
    ("Rprop", dict(lr=0.05)),
    ("ASGD", dict(lr=0.05, t0=5)),
]


def _grad(p: np.ndarray, step: int) -> np.ndarray:
    noise = np.random.default_rng(step).standard_normal(p.shape)
    return np.asarray(np.sin(3 * p) + 0.3 * noise, dtype=p.dtype)


@pytest.mark.parametrize("name, opts", SCALAR_CASES, ids=[f"{n}-{o}" for n, o in SCALAR_CASES])
def test_scalar_parameter_matches_torch(torch, name, opts):
    # 0-d arrays do arithmetic into NumPy scalars: state updated "in place" was lost (SGD's
    # momentum stayed at its first value) or crashed (Adam's out= into a scalar)
    values = [np.asarray(0.7), np.array([0.3, -1.2])]
    ps_e = [Parameter(ember.tensor(v.copy())) for v in values]
    ps_t = [torch.nn.Parameter(torch.tensor(v.copy())) for v in values]
    oe = getattr(ember.optim, name)(ps_e, **opts)
    ot = getattr(torch.optim, name)(ps_t, **opts)
    for step in range(20):
        for pe, pt in zip(ps_e, ps_t):
            g = _grad(pt.detach().numpy(), step)
            pe.grad, pt.grad = ember.tensor(g.copy()), torch.tensor(g.copy())
        oe.step()
        ot.step()
        for pe, pt in zip(ps_e, ps_t):
            np.testing.assert_allclose(pe.data, pt.detach().numpy(), rtol=1e-12, atol=1e-12)
    assert ps_e[0].data.shape == ()
    se, st = oe.state[ps_e[0]], ot.state[ps_t[0]]
    assert list(se) == list(st)
    for k, v in st.items():
        assert np.shape(se[k]) == tuple(v.shape), k
        np.testing.assert_allclose(np.asarray(se[k]), v.numpy(), rtol=1e-12, atol=1e-12)
