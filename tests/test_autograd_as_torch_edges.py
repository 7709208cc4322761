"""Autograd where ember used to differ from torch 2.13 (found by fuzzing both side by side):
autograd.grad's argument order, is_grads_batched and grad_outputs checks; backward's inputs
(repeated, non-leaf, not tensors); retain_grad summing over backwards; a leaf's .grad with a
graph kept by a later backward; hook results; which gradient autograd.grad returns for a
hooked non-leaf; custom Functions' gradients and outputs; grad-mode decorators on generators,
set_grad_enabled's argument; requires_grad_ and detach_ refusals."""

import warnings

import numpy as np
import pytest

import ember

X = np.array([0.5, -1.25, 2.0])


@pytest.fixture(params=["ember", "torch"])
def lib(request, torch):
    return ember if request.param == "ember" else torch


def _leaf(lib, a=X):
    return lib.tensor(a, dtype=lib.float64, requires_grad=True)


def _np(t):
    return None if t is None else t.detach().numpy()


def _both(torch, f):
    return f(ember), f(torch)


def _same(e, t):
    assert (e is None) == (t is None)
    if e is not None:
        np.testing.assert_allclose(_np(e), _np(t), rtol=1e-12, atol=1e-14)


# autograd.grad


def test_grad_takes_torchs_arguments_by_position(torch):
    def run(lib):
        x, z = _leaf(lib), _leaf(lib)
        # grad_outputs, retain_graph, create_graph, only_inputs, allow_unused,
        # is_grads_batched, materialize_grads
        return lib.autograd.grad((x * x).sum(), [x, z], None, None, False, True, None, False, True)

    (ex, ez), (tx, tz) = _both(torch, run)
    _same(ex, tx)
    _same(ez, tz)  # materialize_grads=True: zeros for the unused z


def test_only_inputs_false_warns_as_torch(lib):
    x = _leaf(lib)
    with pytest.warns(FutureWarning, match="only_inputs argument is deprecated"):
        (g,) = lib.autograd.grad((x * x).sum(), x, only_inputs=False)
    np.testing.assert_allclose(_np(g), 2 * X)


@pytest.mark.parametrize("create_graph", [False, True])
def test_is_grads_batched_gives_the_rows_stacked(torch, create_graph):
    def run(lib):
        x, w = _leaf(lib), _leaf(lib, X[::-1].copy())
        y = x.sin() * w
        v = lib.tensor(np.arange(9.0).reshape(3, 3), dtype=lib.float64)
        out = lib.autograd.grad(y, [x, w], v, is_grads_batched=True, create_graph=create_graph)
        return out, [g.requires_grad for g in out]

    (eg, ef), (tg, tf) = _both(torch, run)
    assert ef == tf
    for e, t in zip(eg, tg):
        assert tuple(e.shape) == tuple(t.shape) == (3, 3)
        _same(e, t)


def test_is_grads_batched_unused_inputs_as_torch(torch):
    def run(lib, **kw):
        x, z = _leaf(lib), _leaf(lib)
        return lib.autograd.grad(x * 2, [x, z], lib.ones(2, 3, dtype=lib.float64),
                                 is_grads_batched=True, **kw)  # fmt: skip

    for kw in ({"allow_unused": True}, {"materialize_grads": True}):
        (ex, ez), (tx, tz) = run(ember, **kw), run(torch, **kw)
        _same(ex, tx)
        _same(ez, tz)  # materialized: the input's own shape, not batched, as torch's


def _batched_misuse(lib):
    x = _leaf(lib)
    return [
        ("rows of the wrong shape", lambda: lib.autograd.grad(
            x * 2, x, lib.ones(2, 4, dtype=lib.float64), is_grads_batched=True)),
        ("unbatched grad_output", lambda: lib.autograd.grad(
            x * 2, x, lib.ones(3, dtype=lib.float64), is_grads_batched=True)),
    ]  # fmt: skip


@pytest.mark.parametrize("k", range(2))
def test_is_grads_batched_refuses_as_torch(refused_alike, k):
    refused_alike(_batched_misuse, k)


@pytest.mark.parametrize("bad", [2.0, [2.0]])
def test_grad_outputs_must_be_tensors(lib, bad):
    x = _leaf(lib)
    with pytest.raises(TypeError):
        lib.autograd.grad((x * 2).sum(), x, bad)


def test_extra_grad_outputs_are_ignored_as_torch(torch):
    def run(lib):
        x = _leaf(lib)
        g = lib.ones(3, dtype=lib.float64)
        return lib.autograd.grad([x * 2], [x], [g, g])[0]

    _same(*_both(torch, run))


# backward


@pytest.mark.parametrize("bad", [2.0, [1.0, 1.0, 1.0]])
def test_backward_gradient_must_be_a_tensor(lib, bad):
    x = _leaf(lib)
    y = (x * 2).sum() if isinstance(bad, float) else x * 2
    with pytest.raises(TypeError):
        y.backward(bad)


def test_backward_inputs_repeated_accumulate_once(torch):
    def run(lib):
        x = _leaf(lib)
        (x * 2).sum().backward(inputs=(x, x))
        return x.grad

    _same(*_both(torch, run))


def test_backward_inputs_that_are_not_tensors_are_refused(refused_alike):
    def make(lib):
        x = _leaf(lib)
        return [("an int among inputs", lambda: (x * 2).sum().backward(inputs=[3]))]

    refused_alike(make, 0)


def test_a_non_leaf_in_backward_inputs_retains_its_grad(torch):
    def run(lib, retain_first):
        x = _leaf(lib)
        h = x * 2
        if retain_first:
            h.retain_grad()
        y = h.exp().sum()
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # no "non-leaf .grad" warning on the way
            y.backward(inputs=[h], retain_graph=True)
            first = h.grad.clone()
        y.backward()  # from now on h keeps its gradient, summed
        return first, h.grad, h.retains_grad, x.grad

    for retain_first in (False, True):
        e, t = run(ember, retain_first), run(torch, retain_first)
        _same(e[0], t[0])
        _same(e[1], t[1])
        assert e[2] == t[2] is True
        _same(e[3], t[3])


def test_retain_grad_sums_over_backwards(torch):
    def run(lib):
        h = _leaf(lib) * 2
        h.retain_grad()
        y = (h * h).sum()
        y.backward(retain_graph=True)
        y.backward()
        return h.grad

    _same(*_both(torch, run))


def test_retain_grad_on_a_tensor_without_grad_is_refused(lib):
    with pytest.raises(RuntimeError):
        lib.tensor(X).retain_grad()


def test_a_grad_with_a_graph_keeps_it_through_a_later_backward(torch):
    def run(lib):
        x = _leaf(lib)
        y = (x**3).sum()
        y.backward(create_graph=True)
        g = x.grad
        y.backward()
        return x.grad, x.grad is g, x.grad.requires_grad, x.grad.grad_fn is None

    e, t = _both(torch, run)
    _same(e[0], t[0])
    assert e[1:] == t[1:] == (True, True, False)


# hooks


@pytest.mark.parametrize("result", ["float", "list"])
def test_a_hook_returning_no_tensor_is_refused(lib, result):
    x = _leaf(lib)
    x.register_hook(lambda g: 3.0 if result == "float" else g.tolist())
    with pytest.raises(TypeError):
        (x * x).sum().backward()


@pytest.mark.parametrize("leaf", [True, False])
def test_a_hook_changing_the_dtype_is_refused(lib, leaf):
    x = _leaf(lib)
    t = x if leaf else x * 2
    t.register_hook(lambda g: g.float())
    with pytest.raises(RuntimeError, match="changed the type of value"):
        (t * t).sum().backward()


def test_grad_of_a_hooked_non_leaf_as_torch(torch):
    """torch's engine: a requested non-leaf whose Function runs on (x is also requested) is
    captured before its hooks; one whose Function is only captured, after them. Its
    retain_grad .grad is the hooked gradient either way."""

    def run(lib, with_x):
        x = _leaf(lib)
        y = x * 2
        y.retain_grad()
        y.register_hook(lambda g: g * 3)
        gs = lib.autograd.grad((y * y).sum(), [x, y] if with_x else [y])
        return gs, y.grad

    for with_x in (False, True):
        (eg, ey), (tg, ty) = run(ember, with_x), run(torch, with_x)
        for e, t in zip(eg, tg):
            _same(e, t)
        _same(ey, ty)


def test_a_hook_on_a_backward_input_runs(torch):
    def run(lib):
        h = _leaf(lib).exp()
        calls = []
        h.register_hook(lambda g: calls.append(1))
        (h * h).sum().backward(inputs=[h])
        return calls, h.grad

    (ec, eg), (tc, tg) = _both(torch, run)
    assert ec == tc == [1]
    _same(eg, tg)


# custom Functions


def _custom(lib, backward, forward=None):
    def default_forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        return x * y

    return type("F", (lib.autograd.Function,), {
        "forward": staticmethod(forward or default_forward),
        "backward": staticmethod(backward),
    })  # fmt: skip


def test_custom_function_gradient_broadcast_is_summed_down(torch):
    def run(lib):
        x, y = _leaf(lib), _leaf(lib, X * 2)
        f = _custom(lib, lambda ctx, g: (g.unsqueeze(0).expand(2, 3), g * ctx.saved_tensors[0]))
        f.apply(x, y).sum().backward()
        return x.grad, y.grad

    (ex, ey), (tx, ty) = _both(torch, run)
    _same(ex, tx)
    _same(ey, ty)


def _custom_misuse(lib):
    x, y = _leaf(lib), _leaf(lib)

    def times_k(ctx, x, k):
        return x * k

    as_list = _custom(lib, lambda ctx, g: (g.tolist(), g))
    for_number = _custom(lib, lambda ctx, g: (g, g), times_k)
    return [
        ("a list for a gradient", lambda: as_list.apply(x, y).sum().backward()),
        ("a gradient for a number", lambda: for_number.apply(x, 3.0).sum().backward()),
    ]


@pytest.mark.parametrize("k", range(2))
def test_custom_function_gradients_refused_as_torch(refused_alike, k):
    refused_alike(_custom_misuse, k)


def test_custom_function_non_tensor_outputs_get_none(torch):
    def run(lib):
        seen = []

        def forward(ctx, x):
            return x * 2, 3, "label"

        def backward(ctx, g, g_int, g_str):
            seen.append((g_int, g_str))
            return g * 2

        x = _leaf(lib)
        f = type("F", (lib.autograd.Function,), {"forward": staticmethod(forward),
                                                 "backward": staticmethod(backward)})  # fmt: skip
        out = f.apply(x)
        out[0].sum().backward()
        return out[1:], seen, x.grad

    e, t = _both(torch, run)
    assert e[:2] == t[:2] == ((3, "label"), [(None, None)])
    _same(e[2], t[2])


def test_custom_function_instantiated_warns_and_refuses_the_call(lib):
    f = _custom(lib, lambda ctx, g: (g, g))
    with pytest.warns(DeprecationWarning, match="should not be instantiated"):
        legacy = f()
    with pytest.raises(RuntimeError, match="Legacy autograd function"):
        legacy(_leaf(lib), _leaf(lib))


# grad modes


@pytest.mark.parametrize("mode", ["no_grad", "enable_grad", "inference_mode"])
def test_grad_mode_decorated_generators_end_and_run_inside(lib, mode):
    def gen(x):
        yield x * 2, lib.is_grad_enabled()
        yield x * 3, lib.is_grad_enabled()
        return "done"

    decorated = getattr(lib, mode)()(gen)
    inside = mode == "enable_grad"
    with lib.set_grad_enabled(not inside):
        g = decorated(_leaf(lib))
        got = [(y.requires_grad, on) for y, on in g]
        assert lib.is_grad_enabled() is (not inside)
    assert got == [(inside, inside)] * 2


def test_grad_mode_generator_return_value(lib):
    @lib.no_grad()
    def gen():
        yield 1
        return "done"

    g = gen()
    assert next(g) == 1
    with pytest.raises(StopIteration) as stop:
        next(g)
    assert stop.value.value == "done"


def test_set_grad_enabled_takes_mode_by_name(lib):
    x = _leaf(lib)
    with lib.set_grad_enabled(mode=False):
        y = x * 2
    assert not y.requires_grad and lib.is_grad_enabled()


@pytest.mark.parametrize("mode", [1, None, "train"])
def test_set_grad_enabled_refuses_what_is_no_bool(lib, mode):
    with pytest.raises(TypeError):
        lib.set_grad_enabled(mode)
    assert lib.is_grad_enabled()


# flags


@pytest.mark.parametrize("flag", [1, "yes"])
def test_requires_grad_takes_only_a_bool(lib, flag):
    with pytest.raises(TypeError):
        lib.tensor(X).requires_grad_(flag)


@pytest.mark.parametrize("view", ["slice", "view", "expand"])
def test_detach_in_place_refuses_a_view(lib, view):
    h = _leaf(lib) * 1
    v = {"slice": lambda: h[:2], "view": lambda: h.view(3), "expand": lambda: h.expand(2, 3)}
    with pytest.raises(RuntimeError, match="Can't detach views in-place"):
        v[view]().detach_()
