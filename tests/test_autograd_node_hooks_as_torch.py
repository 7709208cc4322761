"""Hooks on a graph node (``grad_fn.register_prehook`` / ``register_hook``), ``metadata`` and
``name()``, against torch 2.13: the order of the calls (the output tensor's hooks, then
retain_grad, then the node's pre-hooks, its backward, its hooks), what each sees, what a
returned tuple replaces, torch's refusals of a malformed return, removal, autograd.grad and
create_graph sweeps. ember used to have none of these (``name`` was a plain string)."""

import numpy as np
import pytest

import ember


@pytest.fixture(params=["ember", "torch"])
def lib(request, torch):
    return ember if request.param == "ember" else torch


def _arr(t):
    return None if t is None else t.detach().numpy().copy()


def _leaves(lib):
    x = lib.tensor(np.array([1.0, -2.0, 0.5]), requires_grad=True)
    w = lib.tensor(np.array([3.0, 0.25, -1.0]), requires_grad=True)
    return x, w


def _grads(*ts):
    return [_arr(t.grad) for t in ts]


def _same(a, b):
    assert len(a) == len(b)
    for u, v in zip(a, b):
        if u is None or v is None:
            assert u is None and v is None
        else:
            np.testing.assert_allclose(u, v, rtol=1e-12)


def _order_and_values(lib):
    x, w = _leaves(lib)
    y = x * w
    log = []
    y.grad_fn.register_prehook(lambda go: log.append(("pre", [_arr(g) for g in go])))
    y.grad_fn.register_hook(
        lambda gi, go: log.append(("post", [_arr(g) for g in gi], [_arr(g) for g in go]))
    )
    y.register_hook(lambda g: log.append(("tensor", [_arr(g)])) or g * 10)
    y.retain_grad()
    (y * y).sum().backward()
    return log, _grads(x, w, y)


def test_the_hooks_run_in_torchs_order_and_see_torchs_values(torch):
    (log_e, grads_e), (log_t, grads_t) = _order_and_values(ember), _order_and_values(torch)
    assert (
        [entry[0] for entry in log_e]
        == [entry[0] for entry in log_t]
        == [
            "tensor",
            "pre",
            "post",
        ]
    )
    for a, b in zip(log_e, log_t):
        for u, v in zip(a[1:], b[1:]):
            _same(u, v)
    _same(grads_e, grads_t)


def _replaced(lib, pre, post):
    x, w = _leaves(lib)
    y = x * w
    y.retain_grad()  # sees the gradient before the node's pre-hook
    if pre:
        y.grad_fn.register_prehook(lambda go: (go[0] * 2,))
    if post:
        y.grad_fn.register_hook(lambda gi, go: (gi[0] + 100, None))
    (y**2).sum().backward()
    return _grads(x, w, y)


@pytest.mark.parametrize("pre, post", [(True, False), (False, True), (True, True)])
def test_a_returned_tuple_replaces_the_gradients_and_none_drops_one(torch, pre, post):
    _same(_replaced(ember, pre, post), _replaced(torch, pre, post))


def test_hooks_chain_and_a_removed_one_is_not_called(torch):
    def run(lib):
        x, w = _leaves(lib)
        y = (x * w).exp()
        calls = []
        y.grad_fn.register_prehook(lambda go: calls.append("a") or (go[0] + 1,))
        handle = y.grad_fn.register_prehook(lambda go: calls.append("b"))
        y.grad_fn.register_prehook(lambda go: calls.append("c") or (go[0] * 3,))
        y.grad_fn.register_hook(lambda gi, go: calls.append("d"))
        handle.remove()
        y.sum().backward()
        return calls, _grads(x, w)

    (calls_e, g_e), (calls_t, g_t) = run(ember), run(torch)
    assert calls_e == calls_t == ["a", "c", "d"]
    _same(g_e, g_t)


def test_an_input_needing_no_gradient_is_none_in_grad_inputs(torch):
    def run(lib):
        x, _ = _leaves(lib)
        c = lib.tensor(np.array([2.0, 2.0, 2.0]))
        y = x * c
        seen = []
        y.grad_fn.register_hook(lambda gi, go: seen.append([g is None for g in gi]))
        y.sum().backward()
        return seen

    assert run(ember) == run(torch) == [[False, True]]


def _autograd_grad(lib, create_graph):
    x, w = _leaves(lib)
    y = (x * w).sin()
    y.grad_fn.register_prehook(lambda go: (go[0] * x,))  # a recorded product under create_graph
    y.grad_fn.register_hook(lambda gi, go: (gi[0] - 1,))
    (gx,) = lib.autograd.grad(y.sum(), x, create_graph=create_graph)
    out = [_arr(gx)]
    if create_graph:
        (ggx,) = lib.autograd.grad(gx.sum(), x)
        out.append(_arr(ggx))
    return out


@pytest.mark.parametrize("create_graph", [False, True])
def test_autograd_grad_and_create_graph_run_the_hooks(torch, create_graph):
    _same(_autograd_grad(ember, create_graph), _autograd_grad(torch, create_graph))


BAD_PRE = {
    "a bare tensor": (lambda go: go[0], TypeError, "expected tuple, but hook returned"),
    "a list": (lambda go: [go[0]], TypeError, "expected tuple, but hook returned 'list'"),
    "two values": (lambda go: (go[0], go[0]), RuntimeError, "incorrect number of values"),
    "a number": (lambda go: (1.0,), TypeError, "expected Variable, but hook returned 'float'"),
    "another dtype": (lambda go: (go[0].float(),), RuntimeError, "changed the type of value"),
    "another shape": (lambda go: (go[0][:1],), RuntimeError, "changed the size of value"),
}


@pytest.mark.parametrize("case", sorted(BAD_PRE))
def test_a_malformed_pre_hook_result_is_refused_as_torch_refuses_it(lib, case):
    hook, cls, message = BAD_PRE[case]
    x, w = _leaves(lib)
    y = x * w
    y.grad_fn.register_prehook(hook)
    with pytest.raises(cls, match=message):
        y.sum().backward()


BAD_POST = {
    "one value for two inputs": (lambda gi, go: (gi[0],), RuntimeError, "incorrect number"),
    "a list": (lambda gi, go: list(gi), TypeError, "expected tuple, but hook returned 'list'"),
    "another shape": (lambda gi, go: (gi[0][:1], None), RuntimeError, "changed the size"),
}


@pytest.mark.parametrize("case", sorted(BAD_POST))
def test_a_malformed_hook_result_is_refused_as_torch_refuses_it(lib, case):
    hook, cls, message = BAD_POST[case]
    x, w = _leaves(lib)
    y = x * w
    y.grad_fn.register_hook(hook)
    with pytest.raises(cls, match=message):
        y.sum().backward()


def test_metadata_is_the_nodes_own_dict_and_name_is_callable(lib):
    x, w = _leaves(lib)
    y = x * w
    y.grad_fn.metadata["step"] = 3
    assert y.grad_fn.metadata == {"step": 3}
    assert y.grad_fn.name().startswith("MulBackward")  # torch: MulBackward0, ember: MulBackward
    assert repr(y.grad_fn).strip("<>").startswith(y.grad_fn.name())


def test_a_custom_function_node_takes_hooks_too(torch):
    def run(lib):
        class Square(lib.autograd.Function):
            @staticmethod
            def forward(ctx, a):
                ctx.save_for_backward(a)
                return a * a

            @staticmethod
            def backward(ctx, g):
                (a,) = ctx.saved_tensors
                return 2 * a * g

        x, _ = _leaves(lib)
        y = Square.apply(x)
        y.grad_fn.register_hook(lambda gi, go: (gi[0] * 5,))
        y.sum().backward()
        return y.grad_fn.name(), _grads(x)

    (name_e, g_e), (name_t, g_t) = run(ember), run(torch)
    assert name_e == "SquareBackward" and name_t == "SquareBackward"
    _same(g_e, g_t)


def test_hooks_on_a_leafs_accumulate_grad_node_are_refused_with_the_way_round():
    x = ember.ones(2, requires_grad=True)
    acc = (x * 2).grad_fn.next_functions[0][0]
    for register in (acc.register_prehook, acc.register_hook):
        with pytest.raises(NotImplementedError, match="register_post_accumulate_grad_hook"):
            register(lambda *a: None)
