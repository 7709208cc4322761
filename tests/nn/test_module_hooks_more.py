"""nn.Module backward hooks, state-dict hooks, extra state and the smaller torch methods
(module_hooks.py, module_backward_hooks.py), each checked against torch on the same modules,
weights and inputs."""

# ruff: noqa: B023 - each loop builds its modules and hooks and runs them within the iteration

from __future__ import annotations

import numpy as np
import pytest
import torch

import ember
from ember import nn
from ember.nn.module_hooks import register_module_full_backward_hook

RNG = np.random.default_rng(0)
W = RNG.standard_normal((3, 4)).astype(np.float32)
X = RNG.standard_normal((2, 4)).astype(np.float32)


def _np(t):
    return None if t is None else np.asarray(t.detach().numpy() if hasattr(t, "numpy") else t)


def _shapes(gs):
    return [None if g is None else tuple(g.shape) for g in gs]


def _pair(lib):
    """The same three-input, three-output module in ember (lib=ember) or torch."""
    base = nn.Module if lib is ember else torch.nn.Module

    class Multi(base):
        def forward(self, a, k, b):
            return a * b * k, b + 1, 3

    return Multi()


def _log_hooks(m, log, grad_scale=None):
    def pre(mod, go):
        log.append(("pre", _shapes(go)))

    def full(mod, gi, go):
        log.append(("full", [_np(g) for g in gi], [_np(g) for g in go]))
        if grad_scale is not None:
            return tuple(None if g is None else g * grad_scale for g in gi)

    m.register_full_backward_pre_hook(pre)
    m.register_full_backward_hook(full)


def _same_log(a, b):
    assert len(a) == len(b)
    for ea, eb in zip(a, b):
        assert ea[0] == eb[0]
        if ea[0] == "pre":
            assert ea[1] == eb[1]
            continue
        for la, lb in zip(ea[1:], eb[1:]):
            assert [x is None for x in la] == [x is None for x in lb]
            for x, y in zip(la, lb):
                if x is not None:
                    np.testing.assert_allclose(x, y, rtol=1e-6)


@pytest.mark.parametrize("b_grad", [False, True])
def test_full_hooks_multi_io_match_torch(b_grad):
    logs = []
    for lib in (ember, torch):
        m, log = _pair(lib), []
        _log_hooks(m, log)
        a = lib.tensor(X[0], requires_grad=True)
        b = lib.tensor(X[1] + 2, requires_grad=b_grad)
        o1, o2, o3 = m(a, 5.0, b)
        assert o3 == 3 and o2.requires_grad == b_grad
        o1.sum().backward()
        logs.append(log)
    _same_log(*logs)
    # torch: the tensor input that needs no grad gets zeros, the float None
    assert logs[1][1][1][1] is None and (b_grad or not logs[1][1][1][2].any())


def test_hook_order_and_replacement_reach_inputs_and_parameters():
    grads, orders = [], []
    for lib in (ember, torch):
        lin = (nn if lib is ember else torch.nn).Linear(4, 3)
        lin.weight.data = lib.tensor(W)
        lin.bias.data = lib.tensor(np.zeros(3, np.float32))
        order = []
        lin.register_full_backward_hook(lambda m, gi, go: order.append("h1"))
        lin.register_full_backward_hook(lambda m, gi, go: (order.append("h2"), (gi[0] * 3,))[1])
        lin.register_full_backward_hook(lambda m, gi, go: order.append("h0"), prepend=True)
        lin.register_full_backward_pre_hook(lambda m, go: (order.append("p"), (go[0] * 2,))[1])
        x = lib.tensor(X, requires_grad=True)
        (lin(x) ** 2).sum().backward()
        orders.append(order)
        grads.append([_np(x.grad), _np(lin.weight.grad), _np(lin.bias.grad)])
    assert orders[0] == orders[1] == ["p", "h0", "h1", "h2"]
    for e, t in zip(*grads):
        np.testing.assert_allclose(e, t, rtol=1e-5)


def test_no_input_requires_grad_hook_gets_none_and_may_not_replace():
    logs = []
    for lib in (ember, torch):
        lin = (nn if lib is ember else torch.nn).Linear(4, 3)
        lin.weight.data = lib.tensor(W)
        log = []
        lin.register_full_backward_hook(lambda m, gi, go, log=log: log.append((gi, _shapes(go))))
        lin(lib.tensor(X)).sum().backward()
        logs.append(log)
        lin.register_full_backward_hook(lambda m, gi, go: (lib.ones(2),))
        with pytest.raises(RuntimeError, match="no input requires gradient"):
            lin(lib.tensor(X)).sum().backward()
    assert logs[0] == logs[1] == [((None,), [(2, 3)])] * 2


def test_wrong_length_returns_are_refused_as_torch():
    for lib in (ember, torch):
        lin = (nn if lib is ember else torch.nn).Linear(4, 3)
        h = lin.register_full_backward_hook(lambda m, gi, go: (gi[0], gi[0]))
        with pytest.raises(RuntimeError, match="invalid number of grad_input, got 2"):
            lin(lib.tensor(X, requires_grad=True)).sum().backward()
        h.remove()
        lin.register_full_backward_pre_hook(lambda m, go: (go[0], go[0]))
        with pytest.raises(RuntimeError, match="invalid number of grad_output, got 2"):
            lin(lib.tensor(X, requires_grad=True)).sum().backward()


def test_remove_no_grad_kwargs_and_dict_outputs():
    for lib in (ember, torch):
        base = nn.Module if lib is ember else torch.nn.Module

        class K(base):
            def forward(self, x, y=None):
                return x * y

        class D(base):
            def forward(self, x):
                return {"a": x * 2}

        log = []
        k, d = K(), D()
        h = k.register_full_backward_hook(lambda m, gi, go: log.append(len(gi)))
        d.register_full_backward_hook(lambda m, gi, go: log.append("dict"))
        x = lib.ones(2, requires_grad=True)
        k(x, y=lib.ones(2, requires_grad=True)).sum().backward()  # kwargs are not counted
        d(x)["a"].sum().backward()  # a dict output is not wrapped: the hook never runs
        with lib.no_grad():
            assert not k(x, y=x).requires_grad
        h.remove()
        k(x, y=x).sum().backward()
        assert log == [1]


def test_inplace_forward_is_refused_and_identity_is_wrapped():
    for lib in (ember, torch):
        r = (nn if lib is ember else torch.nn).ReLU(inplace=True)
        r.register_full_backward_hook(lambda m, gi, go: None)
        # torch's message: "... is a view and is being modified inplace"; ember's own view
        # check refuses the same in-place change before the module returns
        with pytest.raises(RuntimeError, match="is a view and is being modified inplace|view of"):
            r(lib.ones(3, requires_grad=True) * 1)
        ident = (nn if lib is ember else torch.nn).Identity()
        ident.register_full_backward_hook(lambda m, gi, go: None)
        x = lib.ones(3, requires_grad=True)
        assert ident(x) is not x


def test_both_kinds_refused_and_deprecated_hook_on_last_op():
    logs = []
    for lib in (ember, torch):
        base = nn.Module if lib is ember else torch.nn.Module

        class Scale(base):
            def __init__(self):
                super().__init__()
                self.w = (nn if lib is ember else torch.nn).Parameter(lib.tensor(W[0]))

            def forward(self, x):
                return x * self.w

        s, log = Scale(), []
        s.register_backward_hook(lambda m, gi, go: log.append(([_np(g) for g in gi], _np(go[0]))))
        with pytest.raises(RuntimeError, match="Cannot use both"):
            s.register_full_backward_hook(lambda *a: None)
        s(lib.tensor(X, requires_grad=True)).sum().backward()
        logs.append(log)
    (ge, oe), (gt, ot) = logs[0][0], logs[1][0]
    np.testing.assert_allclose(oe, ot)
    for a, b in zip(ge, gt):
        np.testing.assert_allclose(a, b, rtol=1e-6)


def test_global_full_backward_hook():
    log = []
    h = register_module_full_backward_hook(lambda m, gi, go: log.append(type(m).__name__))
    try:
        nn.Linear(4, 3)(ember.tensor(X, requires_grad=True)).sum().backward()
    finally:
        h.remove()
    nn.Linear(4, 3)(ember.tensor(X, requires_grad=True)).sum().backward()
    assert log == ["Linear"]
    from ember.nn.modules.module import register_module_full_backward_hook as again

    assert again is register_module_full_backward_hook


# ------------------------------------------------------------ state-dict hooks, extra state
def _net(lib):
    mod = nn if lib is ember else torch.nn

    class Counter(mod.Module):
        def __init__(self):
            super().__init__()
            self.fc = mod.Linear(2, 2)
            self.steps = 0

        def get_extra_state(self):
            return {"steps": self.steps}

        def set_extra_state(self, state):
            self.steps = state["steps"]

    class Net(mod.Module):
        def __init__(self):
            super().__init__()
            self.a = Counter()
            self.b = mod.Linear(2, 1)

    return Net()


def test_state_dict_hooks_order_and_extra_state_keys_match_torch():
    keys, calls = [], []
    for lib in (ember, torch):
        net, log = _net(lib), []
        net.a.steps = 7
        net.register_state_dict_pre_hook(lambda m, p, kv: log.append(("pre", p, kv)))
        net.a.register_state_dict_pre_hook(lambda m, p, kv: log.append(("pre.a", p, kv)))
        net.a.register_state_dict_post_hook(
            lambda m, sd, p, meta: log.append(("post.a", p, sorted(sd)))
        )
        net.register_state_dict_post_hook(lambda m, sd, p, meta: sd.pop("b.bias") and None)
        sd = net.state_dict()
        keys.append(list(sd))
        calls.append(log)
        assert sd["a._extra_state"] == {"steps": 7}
        with pytest.raises(RuntimeError, match="must return None"):
            net.register_state_dict_post_hook(lambda m, sd, p, meta: sd)
            net.state_dict()
    assert keys[0] == keys[1]
    assert calls[0] == calls[1]


def test_extra_state_round_trip_and_strictness_match_torch():
    results = {}
    for lib in (ember, torch):
        got = results[lib] = []
        src, dst = _net(lib), _net(lib)
        src.a.steps = 11
        sd = src.state_dict()
        dst.load_state_dict(sd)
        assert dst.a.steps == 11
        np.testing.assert_array_equal(_np(dst.a.fc.weight), _np(src.a.fc.weight))
        del sd["a._extra_state"]
        r = dst.load_state_dict(sd, strict=False)
        got.append((list(r.missing_keys), list(r.unexpected_keys)))
        with pytest.raises(RuntimeError, match=r'Missing key\(s\) in state_dict: "a._extra_state"'):
            dst.load_state_dict(sd)
        plain = (nn if lib is ember else torch.nn).Linear(2, 1)
        r = plain.load_state_dict({**plain.state_dict(), "_extra_state": 1}, strict=False)
        got.append((list(r.missing_keys), list(r.unexpected_keys)))
    assert results[ember] == results[torch]
    assert results[torch] == [(["a._extra_state"], []), ([], ["_extra_state"])]


def test_load_state_dict_hooks_match_torch():
    out = []
    for lib in (ember, torch):
        net, log = _net(lib), []

        def pre(m, sd, prefix, meta, strict, missing, unexpected, errors, log=log):
            log.append(("pre", prefix, strict))
            if "old.weight" in sd:  # rename an old checkpoint's keys in place
                sd["b.weight"] = sd.pop("old.weight")

        def post(m, keys, log=log, name="net"):
            log.append(("post", name, list(keys.missing_keys), list(keys.unexpected_keys)))
            keys.missing_keys.clear()

        net.register_load_state_dict_pre_hook(pre)
        net.a.register_load_state_dict_post_hook(lambda m, k, log=log: log.append(("post.a",)))
        net.register_load_state_dict_post_hook(post)
        sd = dict(_net(lib).state_dict())
        sd["old.weight"] = sd.pop("b.weight")
        del sd["b.bias"]
        r = net.load_state_dict(sd)  # strict: passes because the post hook cleared missing
        np.testing.assert_array_equal(_np(net.b.weight), _np(sd["old.weight"]))
        assert "old.weight" in sd and "b.weight" not in sd  # the hook edited a copy
        out.append((log, list(r.missing_keys)))
        net.register_load_state_dict_pre_hook(
            lambda m, sd, p, meta, s, mk, uk, errors: errors.append("nope")
        )
        with pytest.raises(RuntimeError, match="nope"):
            net.load_state_dict(sd)
    assert out[0] == out[1]


# ------------------------------------------------------------ smaller methods
def test_get_buffer_set_submodule_match_torch():
    for lib in (ember, torch):
        mod = nn if lib is ember else torch.nn
        seq = mod.Sequential(mod.Linear(2, 2), mod.BatchNorm1d(2))
        assert seq.get_buffer("1.running_mean") is seq[1].running_mean
        with pytest.raises(AttributeError, match="is not a buffer"):
            seq.get_buffer("1.weight")
        with pytest.raises(AttributeError, match="has no attribute `nothing`"):
            seq.get_buffer("1.nothing")
        new = mod.ReLU()
        seq.set_submodule("0", new)
        assert seq[0] is new
        seq.set_submodule("1.extra", mod.Tanh())
        assert isinstance(seq[1].extra, mod.Tanh)
        with pytest.raises(AttributeError, match="has no attribute `other`"):
            seq.set_submodule("1.other", mod.Tanh(), strict=True)
        with pytest.raises(AttributeError, match="is not an nn.Module"):
            seq.set_submodule("1.weight", mod.Tanh())


def test_to_empty_type_bfloat16_compile():
    lin = nn.Linear(2, 3)
    w = lin.weight
    assert lin.to_empty(device="cpu") is lin and lin.weight is w and w.shape == (3, 2)
    assert lin.type(ember.float64) is lin and lin.weight.dtype == ember.float64
    tl = torch.nn.Linear(2, 3).type(torch.float64)
    assert tl.weight.dtype == torch.float64
    bn = nn.BatchNorm1d(2).type(ember.float32)
    assert bn.num_batches_tracked.dtype == ember.float32  # torch: integer buffers cast too
    assert torch.nn.BatchNorm1d(2).type(torch.float32).num_batches_tracked.dtype == torch.float32
    with pytest.raises(TypeError, match="no bfloat16"):
        lin.bfloat16()
    before = lin.weight.detach().numpy().copy()
    assert lin.compile(mode="reduce-overhead") is None
    np.testing.assert_array_equal(lin.weight.detach().numpy(), before)


def test_one_handle_class_for_module_and_optimizer_hooks():
    from ember.utils.hooks import RemovableHandle

    m = nn.Linear(2, 2)
    opt = ember.optim.SGD(m.parameters(), lr=0.1)
    handles = [
        m.register_forward_hook(lambda *a: None),
        opt.register_step_pre_hook(lambda *a: None),
    ]
    assert all(isinstance(h, RemovableHandle) for h in handles)
    assert handles[0].id != handles[1].id
    with m.register_forward_pre_hook(lambda *a: None):
        assert len(m._forward_pre_hooks) == 1
    assert len(m._forward_pre_hooks) == 0
