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
            np.testing.assert_allclose(pe.array, pt.detach().numpy(), rtol=1e-12, atol=1e-12)
    assert ps_e[0].array.shape == ()
    se, st = oe.state[ps_e[0]], ot.state[ps_t[0]]
    assert list(se) == list(st)
    for k, v in st.items():
        assert np.shape(se[k]) == tuple(v.shape), k
        np.testing.assert_allclose(np.asarray(se[k]), v.numpy(), rtol=1e-12, atol=1e-12)


def _fresh_pair(torch, dtype):
    values = [np.asarray(0.7), np.array([[0.3, -1.2, 0.4], [1.1, 0.2, -0.5]])]
    ps_e = [Parameter(ember.tensor(v.astype(dtype))) for v in values]
    ps_t = [torch.nn.Parameter(torch.tensor(v.astype(dtype))) for v in values]
    return ps_e, ps_t


def _steps(ps, opt, lib, start, n):
    for step in range(start, start + n):
        for p in ps:
            current = np.asarray(p.detach().numpy() if lib is not ember else p.array)
            p.grad = lib.tensor(_grad(current, step))
        opt.step()


LOAD_CASES = [
    ("SGD", dict(lr=0.1, momentum=0.9)),
    ("Adam", dict(lr=0.01, amsgrad=True)),
    ("AdamW", dict(lr=0.01)),
    ("RMSprop", dict(lr=0.01, centered=True, momentum=0.5)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.01)),
    ("Adadelta", dict()),
    ("Adamax", dict()),
    ("NAdam", dict(lr=0.01)),
    ("RAdam", dict(lr=0.01)),
    ("Rprop", dict()),
    ("ASGD", dict(lr=0.05, t0=3)),
]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name, opts", LOAD_CASES, ids=[f"{n}-{o}" for n, o in LOAD_CASES])
def test_loads_a_torch_state_dict_and_continues_as_torch(torch, name, opts, dtype):
    # torch's state holds tensors, 0-d ones for step (float32), NAdam's mu_product and ASGD's
    # eta, mu: they were kept as torch.Tensors and the next step crashed
    import copy

    ps_e, ps_t = _fresh_pair(torch, dtype)
    ot = getattr(torch.optim, name)(ps_t, **opts)
    _steps(ps_t, ot, torch, 0, 10)
    for pe, pt in zip(ps_e, ps_t):
        pe.array[...] = pt.detach().numpy()
    oe = getattr(ember.optim, name)(ps_e, **opts)
    saved = copy.deepcopy(ot.state_dict())  # torch's state_dict aliases its live state
    oe.load_state_dict(saved)
    loaded = oe.state[ps_e[1]]
    assert all(not isinstance(v, torch.Tensor) for v in loaded.values())
    assert all(v.dtype == dtype for v in loaded.values() if isinstance(v, np.ndarray))
    # torch casts all floating state but step to the parameter's dtype, and so must ember
    for k in opts_scalar_state(name):
        assert np.asarray(loaded[k]).dtype == dtype
    if "step" in loaded:
        assert loaded["step"] == 10 and isinstance(loaded["step"], int)
    _steps(ps_t, ot, torch, 10, 10)
    _steps(ps_e, oe, ember, 10, 10)
    tol = 1e-12 if dtype == np.float64 else 1e-5
    for pe, pt in zip(ps_e, ps_t):
        np.testing.assert_allclose(pe.array, pt.detach().numpy(), rtol=tol, atol=tol)


def opts_scalar_state(name):
    return {"NAdam": ("mu_product",), "ASGD": ("eta", "mu")}.get(name, ())


@pytest.mark.parametrize("line_search_fn", [None, "strong_wolfe"])
def test_lbfgs_loads_a_torch_state_dict_and_continues_as_torch(torch, line_search_fn):
    # LBFGS's history is lists of tensors: each element is converted, as torch casts each
    import copy

    x0 = np.array([-1.2, 1.0, 0.5])
    pt = torch.nn.Parameter(torch.tensor(x0))
    opts = dict(lr=0.5, max_iter=4, history_size=3, line_search_fn=line_search_fn)
    ot = torch.optim.LBFGS([pt], **opts)

    def rosenbrock(x):
        return (100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2).sum()

    def closure_t():
        ot.zero_grad()
        loss = rosenbrock(pt)
        loss.backward()
        return loss

    for _ in range(3):
        ot.step(closure_t)
    pe = Parameter(ember.tensor(pt.detach().numpy().copy()))
    oe = ember.optim.LBFGS([pe], **opts)
    oe.load_state_dict(copy.deepcopy(ot.state_dict()))

    def closure_e():
        oe.zero_grad()
        loss = rosenbrock(pe)
        loss.backward()
        return loss

    for _ in range(3):
        ot.step(closure_t)
        oe.step(closure_e)
    np.testing.assert_allclose(pe.array, pt.detach().numpy(), rtol=1e-10, atol=1e-12)
    assert oe.state[pe]["func_evals"] == ot.state[pt]["func_evals"]


@pytest.mark.parametrize("amsgrad", [False, True])
def test_adam_decoupled_weight_decay_as_torch(torch, amsgrad):
    # torch's Adam takes decoupled_weight_decay (AdamW is Adam with it on) and keeps it in each
    # group, so a group may switch it, and torch's state_dicts carry it
    opts = dict(lr=0.01, weight_decay=0.2, amsgrad=amsgrad)
    ps_e, ps_t = _fresh_pair(torch, np.float64)
    groups_e = [dict(params=[ps_e[0]]), dict(params=[ps_e[1]], decoupled_weight_decay=False)]
    groups_t = [dict(params=[ps_t[0]]), dict(params=[ps_t[1]], decoupled_weight_decay=False)]
    oe = ember.optim.Adam(groups_e, decoupled_weight_decay=True, **opts)
    ot = torch.optim.Adam(groups_t, decoupled_weight_decay=True, **opts)
    _steps(ps_t, ot, torch, 0, 15)
    _steps(ps_e, oe, ember, 0, 15)
    for pe, pt in zip(ps_e, ps_t):
        np.testing.assert_allclose(pe.array, pt.detach().numpy(), rtol=1e-12, atol=1e-12)
    for cls in ("Adam", "AdamW"):
        mine = getattr(ember.optim, cls)(ps_e).param_groups[0]["decoupled_weight_decay"]
        assert mine == getattr(torch.optim, cls)(ps_t).param_groups[0]["decoupled_weight_decay"]


def test_named_parameters_as_torch(torch):
    # torch takes model.named_parameters(): the names go into the group as param_names
    m_e, m_t = ember.nn.Linear(3, 2), torch.nn.Linear(3, 2)
    oe = ember.optim.SGD(m_e.named_parameters(), lr=0.1, momentum=0.9)
    ot = torch.optim.SGD(m_t.named_parameters(), lr=0.1, momentum=0.9)
    ge, gt = oe.state_dict()["param_groups"][0], ot.state_dict()["param_groups"][0]
    assert ge["param_names"] == gt["param_names"] == ["weight", "bias"]
    assert ge["params"] == gt["params"] == [0, 1]
    assert oe.param_groups[0]["params"] == [m_e.weight, m_e.bias]
    with pytest.raises(ValueError, match="all optimizer params should be with/without names"):
        ember.optim.SGD([("w", m_e.weight), m_e.bias], lr=0.1)
    with pytest.raises(ValueError, match="param groups should be with/without names"):
        oe.add_param_group({"params": [Parameter(ember.zeros(2))]})


def test_param_group_checks_as_torch(torch):
    p, q = Parameter(ember.zeros(3)), Parameter(ember.zeros(2))
    opt = ember.optim.SGD([p], lr=0.1)
    # a set's order, so the state_dict's ids, changes from run to run: torch refuses it
    with pytest.raises(TypeError, match="ordered collections"):
        opt.add_param_group({"params": {q}})
    with pytest.raises(TypeError, match="param_group must be a dict, but got list"):
        opt.add_param_group([q])
    # a tensor computed from a parameter: stepping it would not move the parameter
    with pytest.raises(ValueError, match="can't optimize a non-leaf Tensor"):
        ember.optim.SGD([p * 2], lr=0.1)
    with pytest.warns(UserWarning, match="duplicate parameters"):
        ember.optim.SGD([q, q], lr=0.1)
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": [p]})
