"""torch's global registration hooks (ember/nn/module_registration.py) against torch: the same
program over ``lib`` calls the hooks with the same modules, names and values, in the same
order, and a value a hook returns takes the given one's place."""

from __future__ import annotations

import pytest

import ember
from ember.nn import module_registration as R
from ember.nn.module import Module

torch = pytest.importorskip("torch")


def _trace(lib):
    mm = lib.nn.modules.module
    events = []
    handles = [
        mm.register_module_parameter_registration_hook(
            lambda m, n, v: events.append(("parameter", type(m).__name__, n, tuple(v.shape)))
        ),
        mm.register_module_buffer_registration_hook(
            lambda m, n, v: events.append(("buffer", type(m).__name__, n, v is None))
        ),
        mm.register_module_module_registration_hook(
            lambda m, n, v: events.append(("module", type(m).__name__, n, type(v).__name__))
        ),
    ]
    nn = lib.nn
    nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3), nn.LSTM(3, 4))
    ml = nn.ModuleList([nn.ReLU(), nn.Tanh()])
    ml.append(nn.ReLU())
    ml[0] = nn.Tanh()
    md = nn.ModuleDict({"a": nn.ReLU()})
    md["b"] = nn.Tanh()
    pl = nn.ParameterList([nn.Parameter(lib.ones(2))])
    pl.append(nn.Parameter(lib.ones(1)))
    nn.ParameterDict({"w": nn.Parameter(lib.ones(2))})
    m = nn.Module()
    m.register_buffer("buf", None)
    m.register_buffer("_private", lib.ones(1))
    m.register_parameter("w", None)  # a parameter set to None: no hook, as torch
    m.sub = nn.ReLU()
    m.sub = None  # a submodule set to None: the hook sees None
    for h in handles:
        h.remove()
    nn.Linear(1, 1)  # after remove(): nothing more
    return events


def test_hooks_see_what_torchs_see():
    want, got = _trace(torch), _trace(ember)
    assert got == want
    assert len(got) > 20


def test_a_returned_value_takes_the_given_ones_place():
    def replaced(lib):
        made = []

        def hook(m, n, p):
            if n == "bias":
                made.append(lib.nn.Parameter(lib.zeros(p.shape)))
                return made[-1]
            return None

        h = lib.nn.modules.module.register_module_parameter_registration_hook(hook)
        try:
            lin = lib.nn.Linear(2, 3)
        finally:
            h.remove()
        return lin.bias is made[0], [n for n, _ in lin.named_parameters()]

    assert replaced(ember) == replaced(torch) == (True, ["weight", "bias"])


def test_assignment_runs_the_hooks_only_while_registered():
    assert Module.__setattr__ is R.assign  # torch's kind checks; the hooks when there are any
    seen = []
    h = R.register_module_module_registration_hook(lambda m, n, v: seen.append(n))
    try:
        ember.nn.Sequential(ember.nn.ReLU())
    finally:
        h.remove()
    ember.nn.Sequential(ember.nn.Tanh())
    assert seen == ["0"]
