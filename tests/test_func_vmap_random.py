"""vmap's randomness modes against torch.func.vmap's: 'error' refuses every random op (at any
level of a nest), 'different' draws per slice, 'same' draws one slice's numbers for all and
leaves the generator where one slice's draws leave it. The numbers are ember's own stream
(PCG64, not torch's Mersenne Twister), so what is compared is which entries agree."""

from __future__ import annotations

import threading

import numpy as np
import pytest

import ember
from ember.func import vmap

RANDOM_OPS = {
    "rand": lambda lib, x: lib.rand(3),
    "randn_like": lambda lib, x: lib.randn_like(x),
    "randint": lambda lib, x: lib.randint(0, 5, (3,)),
    "normal_": lambda lib, x: lib.zeros(3).normal_(),
    "bernoulli": lambda lib, x: lib.bernoulli(lib.full((3,), 0.5)),
    "dropout": lambda lib, x: lib.nn.functional.dropout(x, 0.5, training=True),
    "generator": lambda lib, x: lib.rand(3, generator=lib.Generator().manual_seed(1)),
    "randperm": lambda lib, x: lib.randperm(3),
}


def libs(torch):
    return ((torch, torch.func.vmap), (ember, vmap))


@pytest.mark.parametrize("op", list(RANDOM_OPS))
def test_error_mode_refuses_random_ops_as_torch(torch, op):
    messages = []
    for lib, v in libs(torch):
        x = lib.ones(4, 3)
        with pytest.raises(RuntimeError) as info:
            v(lambda xi, lib=lib: xi + RANDOM_OPS[op](lib, xi))(x)
        messages.append(str(info.value))
    assert messages[0] == messages[1]
    assert "randomness error mode" in messages[1]
    ember.rand(2)  # the refusal ends with the vmap


def test_no_random_op_no_error_and_eval_dropout_draws_nothing(torch):
    x = ember.ones(4, 3)
    drop = ember.nn.Dropout(0.5).eval()
    assert ember.equal(vmap(lambda r: drop(r) * 2)(x), x * 2)


@pytest.mark.parametrize("inner, outer", [("error", "different"), ("different", "error"),
                                          ("same", "error"), ("error", "same")])  # fmt: skip
def test_error_at_any_level_of_a_nest_refuses_as_torch(torch, inner, outer):
    for lib, v in libs(torch):
        f = v(v(lambda a, lib=lib: a + lib.rand(()), randomness=inner), randomness=outer)
        with pytest.raises(RuntimeError, match="randomness error mode"):
            f(lib.zeros(2, 3))


@pytest.mark.parametrize("lib_name", ["torch", "ember"])
def test_different_draws_per_slice(torch, lib_name):
    lib = torch if lib_name == "torch" else ember
    v = torch.func.vmap if lib is torch else vmap
    out = v(lambda a: a + lib.rand(3), randomness="different")(lib.zeros(4, 3))
    rows = out.numpy() if lib is torch else out.array
    assert len({tuple(r) for r in rows}) == 4
    if lib is ember:  # one slice after another from the default generator
        ember.manual_seed(7)
        looped = np.stack([ember.rand(3).array for _ in range(4)])
        ember.manual_seed(7)
        out = vmap(lambda a: a + ember.rand(3), randomness="different")(ember.zeros(4, 3))
        np.testing.assert_array_equal(out.array, looped)


@pytest.mark.parametrize("lib_name", ["torch", "ember"])
@pytest.mark.parametrize("chunk_size", [None, 2])
def test_same_draws_one_slices_numbers_and_leaves_the_generator_there(torch, lib_name,
                                                                       chunk_size):  # fmt: skip
    lib = torch if lib_name == "torch" else ember
    v = torch.func.vmap if lib is torch else vmap
    as_np = (lambda t: t.numpy()) if lib is torch else (lambda t: t.array)
    lib.manual_seed(3)
    first, second = as_np(lib.rand(3)), as_np(lib.rand(2))
    lib.manual_seed(3)
    out = v(lambda a: a + lib.rand(3), randomness="same", chunk_size=chunk_size)(lib.zeros(5, 3))
    np.testing.assert_allclose(as_np(out), np.broadcast_to(first, (5, 3)), rtol=0, atol=1e-6)
    np.testing.assert_array_equal(as_np(lib.rand(2)), second)  # as after one slice's draw


def test_same_with_an_explicit_generator_and_dropout():
    g = ember.Generator().manual_seed(11)
    expected = ember.rand(2, 3, generator=ember.Generator().manual_seed(11))
    out = vmap(lambda a: a + ember.rand(2, 3, generator=g), randomness="same")(ember.zeros(4, 2, 3))
    assert all(ember.equal(o, expected) for o in out)
    masks = vmap(lambda a: ember.nn.functional.dropout(a, 0.5), randomness="same")(
        ember.ones(6, 50))  # fmt: skip
    assert all(ember.equal(m, masks[0]) for m in masks)
    masks = vmap(lambda a: ember.nn.functional.dropout(a, 0.5), randomness="different")(
        ember.ones(6, 50))  # fmt: skip
    assert not ember.equal(masks[0], masks[1])


@pytest.mark.parametrize("inner, outer", [("different", "same"), ("same", "different")])
def test_nested_same_and_different_as_torch(torch, inner, outer):
    """torch: outer 'same' over inner 'different' gives equal rows of differing entries;
    outer 'different' over inner 'same' the transpose of that pattern."""
    patterns = []
    for lib, v in libs(torch):
        f = v(v(lambda a, lib=lib: a + lib.rand(()), randomness=inner), randomness=outer)
        out = f(lib.zeros(3, 4))
        a = out.numpy() if lib is torch else out.array
        patterns.append(((a == a[:1]).all(), (a == a[:, :1]).all()))
    assert patterns[0] == patterns[1]
    assert patterns[0] == ((True, False) if outer == "same" else (False, True))


def test_draws_in_another_thread_are_not_refused():
    """A DataLoader worker drawing while the main thread is inside vmap: vmap's say is per
    thread."""
    seen = []

    def worker():
        seen.append(ember.rand(2).shape)

    def f(a):
        t = threading.Thread(target=worker)
        t.start()
        t.join()
        return a * 2

    vmap(f)(ember.ones(2, 3))
    assert seen == [(2,), (2,)]
