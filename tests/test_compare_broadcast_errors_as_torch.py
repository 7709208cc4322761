"""Comparisons and logical ops of shapes that do not broadcast raise torch's RuntimeError (as
ember.InputError, naming the op and the dimension), where NumPy's bare ValueError came through."""

import pytest

import ember


def _calls(lib):
    a, b = lib.ones(2), lib.ones(3)
    return [
        ("==", lambda: a == b),
        ("!=", lambda: a != b),
        ("<", lambda: a < b),
        (">=", lambda: a >= b),
        ("eq", lambda: lib.eq(a, b)),
        ("lt", lambda: lib.lt(a, b)),
        ("logical_and", lambda: lib.logical_and(a, b)),
        ("logical_xor", lambda: lib.logical_xor(a, b)),
    ]


@pytest.mark.parametrize("k", range(len(_calls(ember))))
def test_comparisons_of_shapes_that_do_not_broadcast_are_refused_as_torch(refused_alike, k):
    refused_alike(_calls, k)


def test_the_message_names_the_op_and_the_dimension():
    with pytest.raises(ember.InputError, match=r"logical_and: .*non-singleton dimension 0"):
        ember.logical_and(ember.ones(2), ember.ones(3))
