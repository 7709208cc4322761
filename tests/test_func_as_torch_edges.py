"""ember.func, ember.vmap and ember.utils.checkpoint where ember used to differ from torch 2.13
(found by fuzzing both side by side): integer primals and tangents in forward mode, jacrev of
a bool output, a chunk_size or an in_dim that is not an int; checkpoint's outputs when nothing
needs a gradient, outputs that are lists, dicts or integer tensors, what use_reentrant=True
refuses, the warning when use_reentrant is left out, and checkpoint_sequential's keywords."""

import warnings

import numpy as np
import pytest

import ember

RNG = np.random.default_rng(0)
X, W = RNG.standard_normal((4, 3)), RNG.standard_normal((3, 3))


@pytest.fixture(params=["ember", "torch"])
def lib(request, torch):
    return ember if request.param == "ember" else torch


def _cp(lib):
    return ember.utils.checkpoint if lib is ember else lib.utils.checkpoint


def _vmap(lib):
    return ember.vmap if lib is ember else lib.vmap


# ------------------------------------------------------------ func and vmap
def _forward_mode_with_integers(lib):
    F, i, x = lib.func, lib.arange(3), lib.tensor(X[0])
    return [
        ("jvp int primal", lambda: F.jvp(lambda a: a * 2, (i,), (i,))),
        ("jvp int tangent", lambda: F.jvp(lambda a: a * 2, (x,), (i,))),
        ("jacfwd int", lambda: F.jacfwd(lambda a: a * 2)(i)),
        ("hessian int", lambda: F.hessian(lambda a: a.sum())(i)),
        ("linearize int", lambda: F.linearize(lambda a: a * 2, i)),
    ]


@pytest.mark.parametrize("k", range(5))
def test_forward_mode_refuses_integer_primals_and_tangents_with_value_error(refused_alike, k):
    refused_alike(_forward_mode_with_integers, k, ValueError)


def test_jacrev_refuses_an_output_that_is_not_floating_point(refused_alike):
    def make(lib):
        return [("bool out", lambda: lib.func.jacrev(lambda a: a > 0)(lib.tensor(X[0])))]

    refused_alike(make, 0, RuntimeError)


def test_a_chunk_size_that_is_not_an_int_is_refused_on_the_call(lib):
    x = lib.tensor(X)
    mapped = _vmap(lib)(lambda a: a * 2, chunk_size=1.5)  # accepted until the call
    jac = lib.func.jacrev(lambda a: a.sin(), chunk_size=2.0)
    with pytest.raises(TypeError):
        mapped(x)
    with pytest.raises(TypeError):
        jac(x[0])


def test_an_in_dim_that_is_a_bool_is_refused(lib):
    x = lib.tensor(X)
    for in_dims in (True, (True,)):
        with pytest.raises(TypeError):
            _vmap(lib)(lambda a: a, in_dims=in_dims)(x)


# ------------------------------------------------------------ checkpoint
def test_the_output_needs_no_grad_when_nothing_does(lib):
    cp, x, w = _cp(lib), lib.tensor(X), lib.tensor(W)
    assert not cp.checkpoint(lambda a, b: (a @ b).tanh(), x, w, use_reentrant=False).requires_grad
    assert not cp.checkpoint(lambda: x * 2, use_reentrant=False).requires_grad
    seq = lib.nn.Sequential(lib.nn.Tanh(), lib.nn.Sigmoid(), lib.nn.Tanh())
    assert not cp.checkpoint_sequential(seq, 2, x, use_reentrant=False).requires_grad
    # a tensor the function closes over that needs grad still makes the output need it
    w.requires_grad_(True)
    assert cp.checkpoint(lambda a: (a @ w).tanh(), x, use_reentrant=False).requires_grad


def _structured(lib):
    """(outputs, gradient of their squares' sum) for functions returning lists, dicts and
    values that are not tensors, checkpointed."""
    cp = _cp(lib)
    x = lib.tensor(X, requires_grad=True)
    w = lib.tensor(W, requires_grad=True)
    fns = [
        lambda a: [(a @ w).tanh(), a * 2],
        lambda a: {"h": (a @ w).sin(), "rest": [a.exp(), None, 3]},
        lambda a: ((a @ w).cos(), a.argmax(1), a > 0),
    ]
    results = []
    for fn in fns:
        out = cp.checkpoint(fn, x, use_reentrant=False)
        flat = out if isinstance(out, (list, tuple)) else [out["h"], *out["rest"]]
        loss = sum((t**2).sum() for t in flat if isinstance(t, lib.Tensor) and t.requires_grad)
        grads = lib.autograd.grad(loss, [x, w])
        results.append((out, [t.requires_grad for t in flat if isinstance(t, lib.Tensor)], grads))
    return results


def test_list_dict_and_integer_outputs_come_back_as_torch(torch):
    for (oe, rge, ge), (ot, rgt, gt) in zip(_structured(ember), _structured(torch)):
        assert type(oe) is type(ot) and rge == rgt
        if isinstance(ot, dict):
            assert list(oe) == list(ot) and oe["rest"][1:] == ot["rest"][1:] == [None, 3]
            oe, ot = [oe["h"], oe["rest"][0]], [ot["h"], ot["rest"][0]]
        for e, t in zip([*oe, *ge], [*ot, *gt]):
            np.testing.assert_allclose(e.detach().numpy(), t.detach().numpy(), rtol=1e-12)


def _reentrant_refusals(lib):
    cp, x = _cp(lib), lib.tensor(X, requires_grad=True)
    seq = [lib.nn.Tanh()]
    return [
        ("kwargs", lambda: cp.checkpoint(lambda a, b=1: a * b, x, use_reentrant=True, b=2)),
        (
            "context_fn",
            lambda: cp.checkpoint(
                lambda a: a * 2, x, use_reentrant=True, context_fn=lambda: cp.noop_context_fn()
            ),
        ),  # fmt: skip
        ("debug", lambda: cp.checkpoint(lambda a: a * 2, x, use_reentrant=True, debug=True)),
        ("sequential kw", lambda: cp.checkpoint_sequential(seq, 1, x, use_reentrant=False, k=1)),
    ]


@pytest.mark.parametrize("k", range(4))
def test_what_reentrant_checkpointing_and_checkpoint_sequential_refuse(refused_alike, k):
    refused_alike(_reentrant_refusals, k, ValueError)


def test_reentrant_mode_leaves_determinism_check_unread_as_torch(lib):
    x = lib.tensor(X, requires_grad=True)
    y = _cp(lib).checkpoint(lambda a: a * 2, x, use_reentrant=True, determinism_check="x")
    assert y.requires_grad
    with pytest.raises(ValueError):
        _cp(lib).checkpoint(lambda a: a * 2, x, use_reentrant=False, determinism_check="x")


def test_use_reentrant_left_out_warns_as_torch(lib):
    cp, x = _cp(lib), lib.tensor(X, requires_grad=True)
    seq = [lib.nn.Tanh(), lib.nn.Sigmoid()]
    with pytest.warns(UserWarning, match="use_reentrant parameter should be passed explicitly"):
        cp.checkpoint(lambda a: a * 2, x)
    with pytest.warns(UserWarning, match="use_reentrant parameter should be passed explicitly"):
        cp.checkpoint_sequential(seq, 2, x)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cp.checkpoint(lambda a: a * 2, x, use_reentrant=False)
        cp.checkpoint_sequential(seq, 2, x, use_reentrant=False, preserve_rng_state=False)
