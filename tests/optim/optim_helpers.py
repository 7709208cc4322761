"""What the optimizer tests share: parameters made alike in ember and torch, a
parameter-dependent gradient, n steps on each side, and the closeness check."""

from __future__ import annotations

import numpy as np

import ember
from ember.nn import Parameter

SHAPES = [(4, 3), (3,), (2, 2, 2)]


def grad_for(p: np.ndarray, step: int, k: int) -> np.ndarray:
    """A gradient that depends on the parameter (so trajectories must agree) and on the step."""
    noise = np.random.default_rng(1000 * step + k).standard_normal(p.shape)
    return (np.sin(3 * p) + 0.3 * noise).astype(p.dtype)


def make_params(torch, dtype=np.float64, seed=0):
    rng = np.random.default_rng(seed)
    arrays = [rng.standard_normal(s).astype(dtype) for s in SHAPES]
    ps_e = [Parameter(a.copy()) for a in arrays]
    ps_t = [torch.nn.Parameter(torch.tensor(a.copy())) for a in arrays]
    return ps_e, ps_t


def ember_steps(ps, opt, n, start=0):
    for step in range(start, start + n):
        for k, p in enumerate(ps):
            p.grad = ember.tensor(grad_for(p.data, step, k))
        opt.step()


def torch_steps(ps, opt, n, start=0):
    import torch

    for step in range(start, start + n):
        for k, p in enumerate(ps):
            p.grad = torch.tensor(grad_for(p.detach().numpy(), step, k))
        opt.step()


def assert_close(ps_e, ps_t, tol):
    for pe, pt in zip(ps_e, ps_t):
        np.testing.assert_allclose(pe.data, pt.detach().numpy(), rtol=tol, atol=tol)
