"""Optimizer hooks (step, global step, state_dict, load_state_dict) and torch's implementation
keywords (foreach, fused, capturable, differentiable), each against torch: the hooks' order,
arguments and return-value effects; the param_groups torch keeps; the same numbers with the
keywords set; torch's errors."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

import ember
from ember import optim
from ember.nn import Parameter
from ember.optim import optimizer as ember_optimizer
from tests.optim.optim_helpers import assert_close, ember_steps, make_params, torch_steps

NAMES = [
    "SGD",
    "Adam",
    "AdamW",
    "RMSprop",
    "Adagrad",
    "Adadelta",
    "Adamax",
    "NAdam",
    "RAdam",
    "Rprop",
    "ASGD",
    "LBFGS",
    "Adafactor",
    "Muon",
]
FUSED = ["SGD", "Adam", "AdamW", "Adagrad"]  # torch's optimizers that take fused=
OPTS = {"SGD": dict(lr=0.1, momentum=0.9), "Muon": dict(lr=0.02)}


def _pair(torch, name, **kw):
    pe, pt = make_params(torch)
    if name == "Muon":  # 2-D parameters only
        pe, pt = pe[:1], pt[:1]
    kw = {**OPTS.get(name, {}), **kw}
    return pe, pt, getattr(optim, name)(pe, **kw), getattr(torch.optim, name)(pt, **kw)


def _flags(torch, name):
    sig = inspect.signature(getattr(torch.optim, name)).parameters
    return [k for k in ("foreach", "fused", "capturable", "differentiable") if k in sig]


# ------------------------------------------------------------------ signatures, param_groups
@pytest.mark.parametrize("name", NAMES)
def test_signature_is_torchs(torch, name):
    def shape(cls):
        return [(p.name, p.kind, p.default) for p in inspect.signature(cls).parameters.values()]

    assert shape(getattr(optim, name)) == shape(getattr(torch.optim, name))


def _keywords(torch, name):
    flags = _flags(torch, name)
    cases = [{}]
    if "foreach" in flags:
        cases += [dict(foreach=True), dict(foreach=False)]
    if "fused" in flags:
        cases += [dict(fused=True), dict(fused=False, foreach=True)]
    if "capturable" in flags and "fused" in flags:
        cases.append(dict(fused=True, capturable=True))
    return cases


@pytest.mark.parametrize("name", NAMES)
def test_param_groups_are_torchs(torch, name):
    for kw in _keywords(torch, name):
        _, _, oe, ot = _pair(torch, name, **kw)
        ge, gt = oe.state_dict()["param_groups"][0], ot.state_dict()["param_groups"][0]
        assert list(ge) == list(gt), kw  # torch's keys, in torch's order
        assert ge == gt, kw
        assert oe.defaults == ot.defaults, kw


@pytest.mark.parametrize("name", [n for n in NAMES if n not in ("LBFGS", "Muon")])
def test_numbers_unchanged_by_the_keywords(torch, name):
    for kw in _keywords(torch, name):
        pe, pt, oe, ot = _pair(torch, name, **kw)
        ember_steps(pe, oe, 4)
        torch_steps(pt, ot, 4)
        # ASGD keeps eta and mu in float32 as torch does (torch's foreach and single-tensor
        # paths round them differently), so there the agreement is float32's
        assert_close(pe, pt, 1e-7 if name == "ASGD" else 1e-10)


def test_torch_state_dict_with_keywords_loads(torch):
    pe, pt, oe, ot = _pair(torch, "Adam", fused=True, capturable=True)
    torch_steps(pt, ot, 2)
    fresh = optim.Adam(pe)
    fresh.load_state_dict(ot.state_dict())
    assert fresh.param_groups[0]["fused"] is True and fresh.param_groups[0]["capturable"]
    assert fresh.state[pe[0]]["step"] == 2


# ------------------------------------------------------------------ errors
@pytest.mark.parametrize("name", FUSED)
@pytest.mark.parametrize(
    "kw, match",
    [
        (dict(fused=True, foreach=True), "cannot be `True` together"),
        (dict(fused=True, differentiable=True), "does not support `differentiable`"),
    ],
)
def test_fused_conflicts_raise_as_torch(torch, name, kw, match):
    for mod in (torch.optim, optim):
        with pytest.raises(RuntimeError, match=match):
            _pair(torch, name, **kw) if mod is optim else mod.__dict__[name](
                [torch.nn.Parameter(torch.zeros(2))], **kw
            )


@pytest.mark.parametrize("name", [n for n in NAMES if n not in FUSED])
def test_fused_refused_where_torch_has_none(torch, name):
    with pytest.raises(TypeError):
        getattr(torch.optim, name)([torch.nn.Parameter(torch.zeros(2, 2))], fused=True)
    with pytest.raises(TypeError):
        getattr(optim, name)([Parameter(np.zeros((2, 2)))], fused=True)


@pytest.mark.parametrize("name", FUSED)
def test_fused_complex_param_raises_at_step(torch, name):
    pt = torch.nn.Parameter(torch.ones(3, dtype=torch.complex64))
    pe = Parameter(np.ones(3, dtype=np.complex64))
    pt.grad, pe.grad = torch.ones_like(pt), ember.tensor(np.ones(3, dtype=np.complex64))
    for o in (getattr(torch.optim, name)([pt], fused=True), getattr(optim, name)([pe], fused=True)):
        with pytest.raises(RuntimeError, match="floating point Tensors"):
            o.step()


@pytest.mark.parametrize("name", [n for n in NAMES if n not in ("LBFGS", "Muon", "Adafactor")])
def test_capturable_on_cpu_refused_at_step_as_torch(torch, name):
    if "capturable" not in _flags(torch, name):
        with pytest.raises(TypeError):
            getattr(optim, name)([Parameter(np.zeros(2))], capturable=True)
        return
    pe, pt, oe, ot = _pair(torch, name, capturable=True)  # the constructor takes it
    for ps, o, steps in ((pt, ot, torch_steps), (pe, oe, ember_steps)):
        with pytest.raises(AssertionError, match="capturable=True"):
            steps(ps, o, 1)


@pytest.mark.parametrize("name", [n for n in NAMES if n not in ("LBFGS", "Muon", "Adafactor")])
def test_differentiable_true_is_not_implemented(torch, name):
    with pytest.raises(NotImplementedError, match="differentiable=True"):
        getattr(optim, name)([Parameter(np.zeros(2))], differentiable=True)
    # a group that gets it later (add_param_group) is refused at step
    o = getattr(optim, name)([Parameter(np.zeros(2))])
    p = Parameter(np.zeros(2))
    o.add_param_group({"params": [p], "differentiable": True})
    p.grad = ember.tensor(np.ones(2))
    with pytest.raises(NotImplementedError):
        o.step()


# ------------------------------------------------------------------ step hooks
def _record_step_hooks(lib, glob, opt, log):
    hs = [
        glob.register_optimizer_step_pre_hook(lambda o, a, k: log.append(("gpre", o is opt))),
        glob.register_optimizer_step_post_hook(lambda o, a, k: log.append(("gpost", len(a)))),
        opt.register_step_pre_hook(lambda o, a, k: log.append(("pre", a[0] is o, dict(k)))),
        opt.register_step_post_hook(lambda o, a, k: log.append(("post", len(a), dict(k)))),
    ]
    return hs


def test_step_hooks_order_arguments_and_removal(torch):
    import importlib

    logs = []
    torch_optimizer = importlib.import_module("torch.optim.optimizer")
    for lib, glob in ((torch, torch_optimizer), (ember, ember_optimizer)):
        pe, pt, oe, ot = _pair(torch, "SGD")
        opt, ps = (ot, pt) if lib is torch else (oe, pe)
        log = []
        handles = _record_step_hooks(lib, glob, opt, log)
        for p in ps:
            p.grad = lib.ones_like(p)
        opt.step()
        opt.step(closure=None)
        for h in handles:
            h.remove()
        opt.step()
        logs.append(log)
    assert logs[0] == logs[1]
    assert [e[0] for e in logs[1][:4]] == ["gpre", "pre", "post", "gpost"]
    assert logs[1][5] == ("pre", True, {"closure": None})


def test_pre_hook_return_replaces_args_and_bad_return_raises(torch):
    results = []
    for lib in (torch, ember):
        pe, pt, oe, ot = _pair(torch, "SGD")
        opt, ps = (ot, pt) if lib is torch else (oe, pe)
        for p in ps:
            p.grad = lib.zeros_like(p)
        h = opt.register_step_pre_hook(lambda o, a, k: ((a[0], lambda: 7.0), {}))
        seen = []
        opt.register_step_post_hook(lambda o, a, k, seen=seen: seen.append(len(a)))
        results.append((opt.step(), seen))
        h.remove()
        opt.register_step_pre_hook(lambda o, a, k: "bad")
        with pytest.raises(RuntimeError, match="must return None or a tuple"):
            opt.step()
    assert results[0] == results[1] == (7.0, [2])


def test_global_hook_runs_for_every_optimizer_and_handle_is_context_manager(torch):
    calls = []
    with ember_optimizer.register_optimizer_step_pre_hook(lambda o, a, k: calls.append(o)):
        pe, _, oe, _ = _pair(torch, "Adam")
        lb = optim.LBFGS([Parameter(np.ones(2))])
        for p in pe:
            p.grad = ember.tensor(np.ones(p.shape))
        oe.step()
        lb.step(lambda: (lb.param_groups[0]["params"][0] ** 2).sum())
    oe.step()
    assert calls == [oe, lb]


# ------------------------------------------------------------------ state_dict hooks
def _state_dict_hook_log(lib, opt):
    log = []
    opt.register_state_dict_pre_hook(lambda o: log.append("pre"))
    opt.register_state_dict_pre_hook(lambda o: log.append("pre0"), prepend=True)

    def post_inplace(o, sd):
        log.append("post")
        sd["extra"] = 1

    def post_replace(o, sd):
        log.append(("post2", sd.get("extra")))
        return {**sd, "replaced": True}

    opt.register_state_dict_post_hook(post_inplace)
    h = opt.register_state_dict_post_hook(post_replace)
    sd = opt.state_dict()
    log.append((sd.get("extra"), sd.get("replaced")))
    h.remove()
    log.append(sorted(opt.state_dict()))
    return log


def test_state_dict_hooks_as_torch(torch):
    _, _, oe, ot = _pair(torch, "SGD")
    assert _state_dict_hook_log(ember, oe) == _state_dict_hook_log(torch, ot)


def _load_hook_log(lib, opt, saved):
    log = []

    def pre(o, sd):
        log.append(("pre", sd is saved))
        sd["state"] = {}  # a shallow copy: the caller's dict keeps its state

    def pre_replace(o, sd):
        new = {**sd, "param_groups": [dict(g, lr=0.5) for g in sd["param_groups"]]}
        return new

    opt.register_load_state_dict_pre_hook(pre_replace)
    opt.register_load_state_dict_pre_hook(pre, prepend=True)
    opt.register_load_state_dict_post_hook(
        lambda o: log.append(("post", o.param_groups[0]["lr"], len(o.state)))
    )
    opt.load_state_dict(saved)
    log.append(len(saved["state"]))
    return log


def test_load_state_dict_hooks_as_torch(torch):
    pe, pt, oe, ot = _pair(torch, "SGD")
    ember_steps(pe, oe, 2)
    torch_steps(pt, ot, 2)
    log_e = _load_hook_log(ember, oe, oe.state_dict())
    log_t = _load_hook_log(torch, ot, ot.state_dict())
    assert log_e == log_t == [("pre", False), ("post", 0.5, 0), 3]


def test_profile_hook_step_wraps_once(torch):
    _pair(torch, "SGD")
    _pair(torch, "SGD")
    assert getattr(optim.SGD.step, "hooked", False)
    assert optim.SGD.step.__wrapped__.__name__ == "step"
    assert callable(optim.Optimizer.profile_hook_step)
