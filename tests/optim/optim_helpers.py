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
            p.grad = ember.tensor(grad_for(p.array, step, k))
        opt.step()


def torch_steps(ps, opt, n, start=0):
    import torch

    for step in range(start, start + n):
        for k, p in enumerate(ps):
            p.grad = torch.tensor(grad_for(p.detach().numpy(), step, k))
        opt.step()


def assert_close(ps_e, ps_t, tol):
    for pe, pt in zip(ps_e, ps_t):
        np.testing.assert_allclose(pe.array, pt.detach().numpy(), rtol=tol, atol=tol)


def check_state_dict_round_trip(torch, make, name: str, opts: dict, state_keys: set, n: int):
    """Run n steps, save, load into a fresh optimizer on copies, run n more; torch the same.
    The resumed run equals torch's resumed run to 1e-10, and the uninterrupted one bit for bit
    wherever torch's does (torch's load casts NAdam's mu_product to the parameter's dtype, so
    there it differs in the last bits); the saved state does not alias the loaded one, and
    names and layout are torch's."""
    import copy

    ps_a, ps_t = make_params(torch)
    ps_b, ps_tb = make_params(torch)
    oa, ob = make(ps_a, **opts), make(ps_b, **opts)
    ot, otb = (getattr(torch.optim, name)(ps, **opts) for ps in (ps_t, ps_tb))
    ember_steps(ps_a, oa, n)
    torch_steps(ps_t, ot, n)
    saved = oa.state_dict()
    for pa, pb in zip(ps_a, ps_b):
        pb.array[...] = pa.array
    ob.load_state_dict(saved)
    with torch.no_grad():
        for pt, ptb in zip(ps_t, ps_tb):
            ptb.copy_(pt)
    otb.load_state_dict(copy.deepcopy(ot.state_dict()))  # torch's state_dict aliases its state
    for st in saved["state"].values():  # the loaded state must not alias the saved copy
        for v in st.values():
            if isinstance(v, np.ndarray):
                v += 100.0
    ember_steps(ps_a, oa, n, start=n)
    torch_steps(ps_t, ot, n, start=n)
    ember_steps(ps_b, ob, n, start=n)
    torch_steps(ps_tb, otb, n, start=n)
    assert_close(ps_a, ps_t, 1e-10)
    assert_close(ps_b, ps_tb, 1e-10)
    torch_same = all(torch.equal(pt, ptb) for pt, ptb in zip(ps_t, ps_tb))
    assert torch_same == all(np.array_equal(pa.array, pb.array) for pa, pb in zip(ps_a, ps_b))
    # torch's layout: integer ids, groups listing them, torch's state names and group keys
    assert saved["param_groups"][0]["params"] == [0, 1, 2]
    assert set(saved["state"]) == {0, 1, 2}
    assert set(saved["state"][0]) == state_keys == set(ot.state_dict()["state"][0])
    theirs = {k for k in ot.state_dict()["param_groups"][0] if k in oa.defaults}
    assert theirs == set(oa.defaults)
