"""``ember.Size``: a tensor's shape, torch's ``torch.Size``.

A tuple of ints that prints as ``ember.Size([2, 3])`` and knows how many elements a tensor of
that shape holds (``numel()``). Because it is a tuple, it equals, hashes and unpacks as one
(``x.shape == (2, 3)``, ``{x.shape: ...}``, ``n, d = x.shape``), and everything that takes a
shape, here or in NumPy, takes a Size.

What torch does and this follows: slicing, ``+`` (either side, with a Size or any tuple) and
``*`` (either side, by an int) give a Size; indexing gives an int; a non-int element is a
TypeError naming it; NumPy arrays meet a Size as they meet a tuple (``arr + size`` is
elementwise).

Two departures. In an f-string or ``str.format`` a Size is written as its plain tuple,
``(2, 3)``, so that the many errors that say ``f"got shape {x.shape}"`` read as they did before
Size existed; ``str``/``repr``/``print`` still give ``ember.Size([2, 3])``. And a NumPy scalar
on the left of ``*`` multiplies elementwise (``np.int64(2) * size`` is an array, where torch
repeats its Size): NumPy repeats only sequences whose type has no number-multiply slot, and a
Python-level ``__mul__`` fills that slot.
"""

from __future__ import annotations

import math
from operator import index as _index

_tuple_new = tuple.__new__
_tuple_getitem = tuple.__getitem__


class Size(tuple):
    """The shape of a tensor: ``Size([2, 3])`` (or any iterable of ints; ``Size()`` is the
    shape of a 0-d tensor). ``numel()`` is the product of the sizes, 1 for ``Size([])``."""

    __slots__ = ()

    def __new__(cls, sizes=()):
        # not iterable: tuple()'s own TypeError, as in torch
        items = sizes if sizes.__class__ is tuple else tuple(sizes)
        for d in items:
            if d.__class__ is not int:
                items = _as_ints(items)
                break
        return _tuple_new(cls, items)

    def numel(self) -> int:
        """How many elements a tensor of this shape holds: ∏ sizes (1 for ``Size([])``)."""
        return math.prod(self)

    def __getitem__(self, key):
        if key.__class__ is slice:
            return _tuple_new(Size, _tuple_getitem(self, key))
        return _tuple_getitem(self, key)

    def __add__(self, other):
        if not isinstance(other, tuple):
            return NotImplemented
        return Size(tuple.__add__(self, other))

    def __radd__(self, other):  # tuple + Size: Python asks the subclass first
        if not isinstance(other, tuple):
            return NotImplemented
        return Size(tuple.__add__(other, self))

    def __mul__(self, n):
        out = tuple.__mul__(self, n)
        return out if out is NotImplemented else _tuple_new(Size, out)

    __rmul__ = __mul__

    def __repr__(self) -> str:
        return f"ember.Size({list(self)})"

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return format(tuple(self), spec)  # messages show "(2, 3)": see the module docstring

    def __reduce__(self):
        return Size, (tuple(self),)


def _as_ints(items: tuple) -> tuple:
    """``items`` as Python ints (numpy ints, 0-d integer arrays, bools and anything else with
    ``__index__`` qualify), or torch's TypeError naming the first that does not."""
    out = []
    for i, d in enumerate(items):
        try:
            out.append(_index(d))
        except TypeError:
            kind = type(d)
            name = kind.__name__ if kind.__module__ == "builtins" else kind.__qualname__
            if kind.__module__ == "numpy":
                name = f"numpy.{name}"
            raise TypeError(
                f"ember.Size() takes an iterable of 'int' (item {i} is '{name}')"
            ) from None
    return tuple(out)
