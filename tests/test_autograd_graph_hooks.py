"""torch.autograd.graph against torch: saved_tensors_hooks (identity, round-trips, compressing,
nesting, call counts), save_on_cpu, disable_saved_tensors_hooks, register_multi_grad_hook."""

from __future__ import annotations

import numpy as np
import pytest
from ember.autograd.graph import (
    disable_saved_tensors_hooks,
    register_multi_grad_hook,
    save_on_cpu,
    saved_tensors_hooks,
)

import ember

RNG = np.random.default_rng(0)
X0, W10, B10, W20 = (RNG.standard_normal(s) for s in [(5, 4), (4, 6), (6,), (6, 3)])
T0 = RNG.standard_normal((5, 3))


def _mlp(lib, x, w1, b1, w2):
    """A small MLP in ops whose decomposition ember and torch share."""
    h = (x @ w1 + b1).tanh()
    return ((h @ w2).sigmoid() * lib.tensor(T0, dtype=x.dtype)).sum()


def _grads(lib, dtype, hooks=None):
    """Gradients of the MLP with respect to its four inputs, under ``hooks`` if given."""
    args = [lib.tensor(a, dtype=dtype, requires_grad=True) for a in (X0, W10, B10, W20)]
    if hooks is None:
        loss = _mlp(lib, *args)
    else:
        with lib.autograd.graph.saved_tensors_hooks(*hooks):
            loss = _mlp(lib, *args)
    loss.backward()
    return [a.grad.detach().numpy() for a in args]


def test_identity_and_round_trip_hooks_leave_the_gradients_unchanged(torch):
    ref = _grads(torch, torch.float64)
    plain = _grads(ember, ember.float64)
    for g, r in zip(plain, ref):
        np.testing.assert_allclose(g, r, rtol=1e-10)
    cases = [
        (lambda t: t, lambda t: t),
        (lambda t: t.clone(), lambda t: t.clone()),
        (lambda t: (t.dtype, t.to(ember.float64)), lambda p: p[1].to(p[0])),
    ]
    for pack, unpack in cases:
        for g, r in zip(_grads(ember, ember.float64, (pack, unpack)), plain):
            np.testing.assert_array_equal(g, r)
    # float32 saved values round-tripped through float64: unchanged too
    f32 = _grads(ember, ember.float32)
    hooked = _grads(ember, ember.float32, cases[2])
    for g, r in zip(hooked, f32):
        np.testing.assert_array_equal(g, r)
        assert g.dtype == np.float32


def _count(lib, make):
    calls = {"pack": 0, "unpack": 0}

    def pack(t):
        calls["pack"] += 1
        return t

    def unpack(t):
        calls["unpack"] += 1
        return t

    hooks = lib.autograd.graph.saved_tensors_hooks
    x = lib.tensor(X0[:3, :3], requires_grad=True)
    w = lib.tensor(W10[:3, :3], requires_grad=True)
    with hooks(pack, unpack):
        loss = make(x, w)
    after_forward = dict(calls)
    loss.backward(retain_graph=True)
    after_backward = dict(calls)
    loss.backward()
    return after_forward, after_backward, dict(calls)


@pytest.mark.parametrize(
    "make",
    [
        lambda x, w: (x * w).sum(),  # mul saves both operands
        lambda x, w: (x @ w).exp().sum(),  # matmul both, exp its output
        lambda x, w: ((x @ w).tanh() * x).sum(),
    ],
)
def test_pack_once_per_saved_value_unpack_on_each_backward_as_torch(torch, make):
    ours, theirs = _count(ember, make), _count(torch, make)
    assert ours == theirs
    forward, first, second = ours
    assert forward["unpack"] == 0 and forward["pack"] > 0  # unpack waits for backward
    assert first == {"pack": forward["pack"], "unpack": forward["pack"]}
    assert second == {"pack": forward["pack"], "unpack": 2 * forward["pack"]}


def test_every_saved_value_of_a_small_mlp_is_packed_once_and_unpacked_in_backward():
    seen, unpacked = [], []

    def pack(t):
        seen.append(t)
        return len(seen) - 1

    def unpack(i):
        unpacked.append(i)
        return seen[i]

    args = [ember.tensor(a, requires_grad=True) for a in (X0, W10, B10, W20)]
    with saved_tensors_hooks(pack, unpack):
        loss = _mlp(ember, *args)
    assert seen and not unpacked
    assert all(isinstance(t, ember.Tensor) for t in seen)
    assert any(t is args[0] for t in seen)  # a saved input is passed as the input itself
    loss.backward()
    assert sorted(unpacked) == list(range(len(seen)))  # each unpacked once, in backward
    for g, r in zip([a.grad.numpy() for a in args], _grads(ember, ember.float64)):
        np.testing.assert_array_equal(g, r)
    with ember.no_grad(), saved_tensors_hooks(pack, unpack):  # nothing recorded: nothing packed
        n = len(seen)
        _mlp(ember, *args)
    assert len(seen) == n


def test_a_compressing_hook_gives_torchs_gradients_with_the_same_hook(torch):
    ours = _grads(ember, ember.float32, (lambda t: t.to(ember.float16), lambda t: t.float()))
    theirs = _grads(torch, torch.float32, (lambda t: t.to(torch.float16), lambda t: t.float()))
    exact = _grads(torch, torch.float64)
    for g, r, e in zip(ours, theirs, exact):
        assert g.dtype == np.float32
        np.testing.assert_allclose(g, r, rtol=1e-3, atol=1e-3)
        np.testing.assert_allclose(g, e, rtol=2e-2, atol=2e-2)


def _nesting(lib, hooks):
    log = []

    def pair(tag):
        return (lambda t: (log.append(f"pack {tag}"), t)[1]), (
            lambda t: (log.append(f"unpack {tag}"), t)[1]
        )

    x = lib.tensor(X0, requires_grad=True)
    y0 = x.exp()  # recorded before any block: never packed
    with hooks(*pair("outer")):
        y = y0.exp()
        with hooks(*pair("inner")):
            y = y.exp()
        y = y.exp()
    with hooks(*pair("at backward")):  # hooks open at backward time do not apply
        y.sum().backward()
    return log


def test_nesting_uses_the_innermost_hooks_of_recording_time_as_torch(torch):
    ours = _nesting(ember, saved_tensors_hooks)
    assert ours == _nesting(torch, torch.autograd.graph.saved_tensors_hooks)
    assert ours[:3] == ["pack outer", "pack inner", "pack outer"]


def test_save_on_cpu_keeps_the_gradients(torch):
    ref = _grads(ember, ember.float64)
    args = [ember.tensor(a, requires_grad=True) for a in (X0, W10, B10, W20)]
    with save_on_cpu(pin_memory=False):
        loss = _mlp(ember, *args)
    loss.backward()
    for a, r in zip(args, ref):
        np.testing.assert_array_equal(a.grad.numpy(), r)


def test_a_custom_functions_saved_tensors_are_packed_and_unpacked_per_access_as_torch(torch):
    """save_for_backward's tensors (an input and an output) go through pack when the node is
    recorded and through unpack at each ``ctx.saved_tensors``, as torch's."""

    def run(lib):
        log = []

        class SqExp(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                y = x.exp()
                ctx.save_for_backward(x, y)
                return x * y

            @staticmethod
            def backward(ctx, g):
                x, y = ctx.saved_tensors
                (_, y_again) = ctx.saved_tensors
                return g * (y + x * y_again)

        def pack(t):
            log.append("pack")
            return t * 4

        def unpack(t):
            log.append("unpack")
            return t / 4

        x = lib.tensor(X0[0], requires_grad=True)
        with (
            saved_tensors_hooks(pack, unpack)
            if lib is ember
            else (torch.autograd.graph.saved_tensors_hooks(pack, unpack))
        ):
            out = SqExp.apply(x)
        out.sum().backward()
        return log, x.grad.detach().numpy()

    (log_e, g_e), (log_t, g_t) = run(ember), run(torch)
    assert log_e == log_t == ["pack", "pack"] + ["unpack"] * 4
    np.testing.assert_allclose(g_e, g_t, rtol=1e-6)


def test_unpack_must_return_a_tensor():
    x = ember.tensor(X0, requires_grad=True)
    with saved_tensors_hooks(lambda t: t, lambda t: t.numpy()):
        y = x.exp().sum()
    with pytest.raises(TypeError, match="unpack_hook expected to be a Tensor"):
        y.backward()


def test_disable_saved_tensors_hooks_raises_its_message_as_torch(torch):
    for lib, graph in ((ember, ember.autograd.graph), (torch, torch.autograd.graph)):
        with graph.disable_saved_tensors_hooks("no hooks here"):
            with pytest.raises(RuntimeError, match="no hooks here"):
                with graph.saved_tensors_hooks(lambda t: t, lambda t: t):
                    pass
        with graph.saved_tensors_hooks(lambda t: t, lambda t: t):  # allowed again after
            lib.tensor(X0, requires_grad=True).exp()

    @disable_saved_tensors_hooks("decorated")
    def f():
        with saved_tensors_hooks(lambda t: t, lambda t: t):
            pass

    with pytest.raises(RuntimeError, match="decorated"):
        f()


def _multi(lib, mode, backward_kw):
    got = []
    a = lib.tensor(X0[:2, :3], requires_grad=True)
    b = lib.tensor(W10[:2, :3], requires_grad=True)
    c, d = a * b, a * b
    h = lib.autograd.graph.register_multi_grad_hook((a, b, c, d), got.append, mode=mode)
    c.sum().backward(retain_graph=True, **backward_kw)
    (c * 2 + d).sum().backward(retain_graph=True)
    h.remove()
    c.sum().backward()
    out = []
    for call in got:
        if mode == "all":
            out.append([None if g is None else g.detach().numpy() for g in call])
        else:
            out.append(call.detach().numpy())
    return out


def test_register_multi_grad_hook_all_as_torch(torch):
    ours, theirs = _multi(ember, "all", {}), _multi(torch, "all", {})
    assert len(ours) == len(theirs) == 2  # once per backward, none after remove()
    for call_e, call_t in zip(ours, theirs):
        assert [g is None for g in call_e] == [g is None for g in call_t]
        for ge, gt in zip(call_e, call_t):
            if ge is not None:
                np.testing.assert_allclose(ge, gt, rtol=1e-12)
    assert [g is None for g in ours[0]] == [False, False, False, True]


def test_register_multi_grad_hook_any_as_torch(torch):
    ours, theirs = _multi(ember, "any", {}), _multi(torch, "any", {})
    assert len(ours) == len(theirs) == 2
    for ge, gt in zip(ours, theirs):
        np.testing.assert_allclose(ge, gt, rtol=1e-12)
    with pytest.raises(ValueError, match="mode"):
        register_multi_grad_hook([ember.tensor(X0, requires_grad=True)], print, mode="some")
