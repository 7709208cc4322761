"""nn.Module's forward hooks (module_forward_hooks.py) against torch: pre-hooks that replace
the inputs, ``with_kwargs``, ``prepend``, ``always_call`` when forward raises, and the global
forward hooks; each scenario runs in both libraries and the logs and outputs must agree."""

# ruff: noqa: B023 - each loop builds its modules and hooks and runs them within the iteration

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import ember
from ember import nn
from ember.nn.modules import module as ember_module_mod

RNG = np.random.default_rng(0)
W = RNG.standard_normal((3, 4)).astype(np.float32)
B = RNG.standard_normal(3).astype(np.float32)
X = RNG.standard_normal((2, 4)).astype(np.float32)

LIBS = [(ember, nn, ember_module_mod), (torch, torch.nn, torch.nn.modules.module)]


def _linear(lib, lnn):
    m = lnn.Linear(4, 3)
    m.load_state_dict({"weight": lib.tensor(W), "bias": lib.tensor(B)})
    return m


def _np(t):
    return np.asarray(t.detach().numpy())


def _scaled(lnn):
    class Scaled(lnn.Module):
        def forward(self, x, scale=1.0):
            return x * scale

    return Scaled()


def test_pre_hook_result_replaces_the_input_and_its_gradient_flows():
    outs, grads = [], []
    for lib, lnn, _ in LIBS:
        m = _linear(lib, lnn)
        m.register_forward_pre_hook(lambda mod, args: args[0] * 2)  # one value: a 1-tuple
        m.register_forward_pre_hook(lambda mod, args: (args[0] + 1,))
        x = lib.tensor(X, requires_grad=True)
        y = m(x)
        y.sum().backward()
        outs.append(_np(y))
        grads.append(_np(x.grad))
    np.testing.assert_allclose(outs[0], outs[1], rtol=1e-6)
    np.testing.assert_allclose(outs[0], (2 * X + 1) @ W.T + B, rtol=1e-5)
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-6)


def test_pre_hook_with_kwargs_replaces_args_and_kwargs():
    outs = []
    for lib, lnn, _ in LIBS:
        m = _scaled(lnn)
        seen = []
        m.register_forward_pre_hook(
            lambda mod, args, kwargs: (seen.append(dict(kwargs)), ((args[0] + 1,), {"scale": 3.0}))[
                1
            ],
            with_kwargs=True,
        )
        outs.append(_np(m(lib.tensor(X), scale=2.0)))
        assert seen == [{"scale": 2.0}]
    np.testing.assert_allclose(outs[0], outs[1])
    np.testing.assert_allclose(outs[0], (X + 1) * 3.0)


def test_pre_hook_with_kwargs_bad_result_is_torch_error():
    messages = []
    for lib, lnn, _ in LIBS:
        m = _scaled(lnn)
        m.register_forward_pre_hook(lambda mod, a, k: 5, with_kwargs=True)
        with pytest.raises(RuntimeError) as err:
            m(lib.tensor(X))
        messages.append(str(err.value))
    assert messages[0] == messages[1]


def test_forward_hook_with_kwargs_and_prepend_order():
    logs, outs = [], []
    for lib, lnn, _ in LIBS:
        m = _scaled(lnn)
        log = []
        m.register_forward_hook(lambda mod, args, out: log.append("plain"))
        m.register_forward_hook(
            lambda mod, args, kwargs, out: (log.append(("kw", dict(kwargs))), out + 10)[1],
            with_kwargs=True,
        )
        m.register_forward_hook(lambda mod, args, out: log.append("first"), prepend=True)
        m.register_forward_pre_hook(lambda mod, args: log.append("pre-b"))
        m.register_forward_pre_hook(lambda mod, args: log.append("pre-a"), prepend=True)
        outs.append(_np(m(lib.tensor(X), scale=0.5)))
        logs.append(log)
    assert logs[0] == logs[1] == ["pre-a", "pre-b", "first", "plain", ("kw", {"scale": 0.5})]
    np.testing.assert_allclose(outs[0], outs[1])


def _failing(lnn):
    class Failing(lnn.Module):
        def forward(self, x):
            raise ValueError("forward failed")

    return Failing()


def test_always_call_hooks_run_when_forward_raises():
    logs, warned = [], []
    for lib, lnn, _ in LIBS:
        m = _failing(lnn)
        log = []
        m.register_forward_hook(lambda mod, args, out: log.append("never"))
        m.register_forward_hook(
            lambda mod, args, out: log.append(("always", out)), always_call=True
        )

        def loud(mod, args, kwargs, out):
            log.append("loud")
            raise KeyError("hook failed too")

        m.register_forward_hook(loud, with_kwargs=True, always_call=True)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with pytest.raises(ValueError, match="forward failed"):
                m(lib.tensor(X))
        logs.append(log)
        warned.append([str(w.message) for w in caught if "always_call" in str(w.message)])
    assert logs[0] == logs[1] == [("always", None), "loud"]
    assert warned[0] == warned[1] and len(warned[0]) == 1


def test_always_call_hook_that_ran_is_not_run_again_when_a_later_hook_raises():
    logs = []
    for lib, lnn, _ in LIBS:
        m = _scaled(lnn)
        log = []
        m.register_forward_hook(lambda mod, args, out: log.append("always"), always_call=True)

        def boom(mod, args, out):
            raise ValueError("late")

        m.register_forward_hook(boom)
        with pytest.raises(ValueError, match="late"):
            m(lib.tensor(X))
        logs.append(log)
    assert logs[0] == logs[1] == ["always"]


def test_global_forward_hooks_run_first_and_are_removed():
    logs, outs = [], []
    for lib, lnn, mod_mod in LIBS:
        seq = lnn.Sequential(_linear(lib, lnn), lnn.ReLU())
        log = []
        seq[0].register_forward_hook(lambda mod, args, out: log.append("own"))
        seq[0].register_forward_pre_hook(lambda mod, args: log.append("own-pre"))
        handles = [
            mod_mod.register_module_forward_pre_hook(
                lambda mod, args: log.append(("gpre", type(mod).__name__))
            ),
            mod_mod.register_module_forward_hook(
                lambda mod, args, kwargs, out: (log.append(("g", type(mod).__name__)), out * 2)[1],
                with_kwargs=True,
            ),
        ]
        try:
            outs.append(_np(seq(lib.tensor(X))))
        finally:
            for h in handles:
                h.remove()
        n = len(log)
        seq(lib.tensor(X))
        logs.append((log[:n], log[n:]))
    assert logs[0] == logs[1]
    np.testing.assert_allclose(outs[0], outs[1], rtol=1e-6)
    assert not ember_module_mod.register_module_forward_hook.__globals__["global_forward_hooks"]


def test_removing_a_handle_clears_its_option_flags():
    m = _scaled(nn)
    h = m.register_forward_hook(lambda *a: None, with_kwargs=True, always_call=True)
    p = m.register_forward_pre_hook(lambda *a: None, with_kwargs=True)
    assert m._forward_hooks_with_kwargs and m._forward_hooks_always_called
    h.remove()
    p.remove()
    assert m._forward_hooks == m._forward_hooks_with_kwargs == m._forward_hooks_always_called == {}
    assert m._forward_pre_hooks == m._forward_pre_hooks_with_kwargs == {}


def test_pre_hook_replacement_reaches_full_backward_hooks():
    grads = []
    for lib, lnn, _ in LIBS:
        m = _linear(lib, lnn)
        seen = []
        m.register_forward_pre_hook(lambda mod, args: (args[0] * 3,))
        m.register_full_backward_hook(lambda mod, gi, go: seen.append(_np(gi[0])))
        x = lib.tensor(X, requires_grad=True)
        m(x).pow(2).sum().backward()
        grads.append((seen[0], _np(x.grad)))
    for a, b in zip(grads[0], grads[1]):
        np.testing.assert_allclose(a, b, rtol=1e-5)


def test_hooks_may_remove_themselves_while_running():
    logs = []
    for lib, lnn, _ in LIBS:
        m = _scaled(lnn)
        log, handles = [], {}
        handles["pre"] = m.register_forward_pre_hook(
            lambda mod, args: (log.append("pre"), handles["pre"].remove())[0]
        )
        handles["post"] = m.register_forward_hook(
            lambda mod, args, out: (log.append("post"), handles["post"].remove())[0]
        )
        m.register_forward_hook(lambda mod, args, out: log.append("stays"))
        m(lib.tensor(X))
        m(lib.tensor(X))
        logs.append(log)
    assert logs[0] == logs[1] == ["pre", "post", "stays", "stays"]
