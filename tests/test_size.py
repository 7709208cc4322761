"""ember.Size against torch.Size: construction, indexing and slicing, + and *, numel,
comparisons and hashing, pickling, the errors; Tensor.shape / size() returning one; and the
functions and methods that take a shape taking one."""

from __future__ import annotations

import copy
import json
import pickle
import re

import numpy as np
import pytest

import ember
from ember import Size


def _same(e, t):
    """e (from ember.Size) and t (from torch.Size) agree: a Size exactly where torch gives a
    torch.Size, with the same values; any other result equal and of the same type."""
    import torch

    if isinstance(t, torch.Size):
        assert type(e) is Size, (e, t)
        assert tuple(e) == tuple(t) and all(type(d) is int for d in e), (e, t)
    else:
        assert type(e) is type(t) and e == t, (e, t)


SIZES = [[2, 3], [], [4], [2, 0, 5], [1, 1, 1, 7]]


@pytest.mark.parametrize("sizes", SIZES)
def test_construction_matches_torch(torch, sizes):
    for make in (list, tuple, iter, lambda s: (d for d in s), lambda s: np.array(s, np.int64)):
        _same(Size(make(sizes)), torch.Size(make(sizes)))
    _same(Size(Size(sizes)), torch.Size(torch.Size(sizes)))
    assert Size() == () and torch.Size() == ()
    assert isinstance(Size(sizes), tuple)


def test_construction_converts_int_likes(torch):
    items = [True, np.int64(3), np.array(4), ember.tensor(5)]
    _same(Size(items), torch.Size([True, 3, 4, torch.tensor(5)]))
    _same(Size({1: "a", 2: "b"}), torch.Size({1: "a", 2: "b"}))


@pytest.mark.parametrize("bad", [[1.5], ["a"], [None], [2, 2.0], [np.float64(2.0)], "ab", [[2]]])
def test_construction_errors_match_torch(torch, bad):
    with pytest.raises(TypeError) as want:
        torch.Size(bad)
    with pytest.raises(TypeError) as got:
        Size(bad)
    # the same message, the framework's name aside: "... takes an iterable of 'int' (item 1 is
    # 'float')"
    assert str(got.value) == str(want.value).replace("torch.Size", "ember.Size")


def test_non_iterable_is_a_type_error(torch):
    for bad in (3, 2.5, None):
        with pytest.raises(TypeError):
            torch.Size(bad)
        with pytest.raises(TypeError):
            Size(bad)


@pytest.mark.parametrize("sizes", SIZES)
def test_indexing_and_slicing_match_torch(torch, sizes):
    e, t = Size(sizes), torch.Size(sizes)
    for k in range(-len(sizes), len(sizes)):
        _same(e[k], t[k])
    for sl in (slice(None), slice(1, None), slice(None, -1), slice(None, None, -1),
               slice(0, 1), slice(5, None), slice(None, None, 2)):  # fmt: skip
        _same(e[sl], t[sl])
    with pytest.raises(IndexError):
        e[len(sizes)]
    _same(len(e), len(t))
    _same(list(reversed(e)), list(reversed(t)))


def test_concatenation_matches_torch(torch):
    e, t = Size([2, 3]), torch.Size([2, 3])
    for other in [(4,), (), (5, 6), [7]]:
        for ee, tt in ((e + Size(other), t + torch.Size(other)),
                       (e + tuple(other), t + tuple(other)),
                       (tuple(other) + e, tuple(other) + t)):  # fmt: skip
            _same(ee, tt)
    # a tuple holding a non-int makes no Size: TypeError naming the item, as torch
    for ee, tt in ((lambda: e + ("a",), lambda: t + ("a",)),
                   (lambda: (None,) + e, lambda: (None,) + t),
                   (lambda: e + [4], lambda: t + [4]),
                   (lambda: e + 3, lambda: t + 3)):  # fmt: skip
        with pytest.raises(TypeError):
            tt()
        with pytest.raises(TypeError):
            ee()


def test_repetition_matches_torch(torch):
    e, t = Size([2, 3]), torch.Size([2, 3])
    for n in (0, 1, 2, -1, True, np.int64(3)):
        _same(e * n, t * n)
        if not isinstance(n, np.generic):  # a NumPy scalar on the left: see below
            _same(n * e, n * t)
    # NumPy repeats a sequence only when its type has no number-multiply slot, which a
    # Python-level Size (with its __mul__) has: np.int64 * Size is elementwise, as for an array
    np.testing.assert_array_equal(np.int64(3) * e, [6, 9])
    for n in (2.0, e):
        with pytest.raises(TypeError):
            t * (t if n is e else n)
        with pytest.raises(TypeError):
            e * n


@pytest.mark.parametrize("sizes", SIZES)
def test_numel_count_index_match_torch(torch, sizes):
    e, t = Size(sizes), torch.Size(sizes)
    _same(e.numel(), t.numel())
    for d in {*sizes, 9}:
        _same(e.count(d), t.count(d))
        if d in sizes:
            _same(e.index(d), t.index(d))
        else:
            with pytest.raises(ValueError):
                e.index(d)


def test_equality_hash_and_order_as_tuples(torch):
    e, t = Size([2, 3]), torch.Size([2, 3])
    for other in [(2, 3), [2, 3], (3, 2), Size([2, 3]), (2,), (2, 3, 1)]:
        _same(e == other, t == (torch.Size(other) if isinstance(other, Size) else other))
        _same(e != other, t != (torch.Size(other) if isinstance(other, Size) else other))
        if isinstance(other, tuple):
            _same(e < other, t < other)
            _same(e >= other, t >= other)
    assert hash(e) == hash((2, 3)) == hash(t)
    assert {(2, 3): "x"}[e] == "x" and {e: "y"}[(2, 3)] == "y"
    n, d = e
    assert (n, d) == (2, 3) and 3 in e and 4 not in e


def test_repr_str_format():
    assert repr(Size([2, 3])) == "ember.Size([2, 3])" == str(Size([2, 3]))
    assert repr(Size([])) == "ember.Size([])" and repr(Size([5])) == "ember.Size([5])"
    # in f-strings (ember's error messages) a Size reads as the plain tuple it is
    assert f"got {Size([2, 3])}" == "got (2, 3)" and format(Size([4])) == "(4,)"
    with pytest.raises(TypeError):  # a format spec is refused, as for tuples (and torch)
        format(Size([2]), ">10")


def test_pickle_copy_json(torch):
    s = Size([2, 3])
    for back in (pickle.loads(pickle.dumps(s)), copy.copy(s), copy.deepcopy(s)):
        assert type(back) is Size and back == s
    assert json.dumps(s) == json.dumps(torch.Size([2, 3])) == "[2, 3]"


def test_tensor_shape_and_size_are_sizes(torch):
    x, xt = ember.zeros(3, 4), torch.zeros(3, 4)
    _same(x.shape, xt.shape)
    _same(x.size(), xt.size())
    _same(x.size(1), xt.size(1))
    _same(x.size(-1), xt.size(-1))
    _same(ember.tensor(2.0).shape, torch.tensor(2.0).shape)
    _same(x.shape.numel(), xt.shape.numel())
    _same(x.shape[1:], xt.shape[1:])
    _same(x.shape + (1,), xt.shape + (1,))
    _same((x @ ember.zeros(4, 5)).shape, (xt @ torch.zeros(4, 5)).shape)
    _same(ember.nn.Linear(4, 2).weight.shape, torch.nn.Linear(4, 2).weight.shape)
    y = ember.randn(2, 3, requires_grad=True)
    (y * y).sum().backward()
    assert type(y.grad.shape) is Size and y.grad.shape == (2, 3)
    assert x.shape == (3, 4) and x.shape != [3, 4]  # a tuple, not a list, as torch.Size


def test_functions_and_methods_take_a_size(torch):
    x, xt = ember.randn(2, 3, 4), torch.randn(2, 3, 4)
    s, st = x.shape, xt.shape
    for make, make_t in ((ember.zeros, torch.zeros), (ember.ones, torch.ones),
                         (ember.empty, torch.empty), (ember.randn, torch.randn),
                         (ember.rand, torch.rand)):  # fmt: skip
        _same(make(s).shape, make_t(st).shape)
    _same(ember.full(s, 2.0).shape, torch.full(st, 2.0).shape)
    _same(ember.randint(0, 3, s).shape, torch.randint(0, 3, st).shape)
    for name in ("new_zeros", "new_ones", "new_empty"):
        _same(getattr(x, name)(s).shape, getattr(xt, name)(st).shape)
    _same(x.new_full(s, 1.0).shape, xt.new_full(st, 1.0).shape)
    _same(x.reshape(s[::-1]).shape, xt.reshape(st[::-1]).shape)
    _same(x.view(s[1:] + s[:1]).shape, xt.view(st[1:] + st[:1]).shape)
    _same(x.view(-1, *s[1:]).shape, xt.view(-1, *st[1:]).shape)
    _same(x[0].expand(s).shape, xt[0].expand(st).shape)
    # new leading dims: (5,) + the shape is a Size, so expand reads it as torch does
    _same(x.expand(Size([5]) + s).shape, xt.expand(torch.Size([5]) + st).shape)
    _same(x.expand(5, *s).shape, xt.expand(5, *st).shape)
    _same(x.flatten().unflatten(0, s).shape, xt.flatten().unflatten(0, st).shape)
    _same(x.repeat(Size([1, 2, 1])).shape, xt.repeat(torch.Size([1, 2, 1])).shape)
    _same(ember.broadcast_to(x, (2,) + s).shape, torch.broadcast_to(xt, (2,) + st).shape)
    np.testing.assert_array_equal(x.reshape(s[::-1]).numpy(), x.numpy().reshape(4, 3, 2))


def test_messages_print_plain_tuples():
    with pytest.raises(ValueError, match=re.escape("got shape (1, 2)")):
        ember.zeros(1, 2).item()
    with pytest.raises(ValueError, match=re.escape("shape (2, 3) (6 elements) into shape (4, 2)")):
        ember.zeros(2, 3).reshape(4, 2)
    with pytest.raises(RuntimeError, match=re.escape("got shape (2,)")):
        ember.zeros(2, requires_grad=True).backward()
