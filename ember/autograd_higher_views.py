"""Recorded derivative (autograd_higher.py) of as_strided, the view of a tensor's memory with
any sizes, strides and offset (ops/as_strided.py).

Its backward is linear in g and made of two placements by storage position: g is added into a
zero buffer over the storage at the positions y reads (scatter_add, repeats adding up), and x
takes the buffer at its own positions (gather), divided by how many of x's elements share a
position when x overlaps. Both are recorded ops (``_put_add`` and ``_take``, each the other's
derivative), so every order is.
"""

from __future__ import annotations

from .autograd_higher import rule
from .autograd_higher_special2 import _put_add, _take
from .backend import xp
from .ops import as_strided as AS
from .tensor import Tensor


@rule(AS.AsStrided)
def _as_strided(fn, g):
    """y[i] = storage[p_y(i)]:  ∂L/∂x[j] = Σ_{i: p_y(i) = p_x(j)} ∂L/∂y[i] / count(p_x(j))."""
    y_at, x_at, count, length = fn.places(xp)
    gx = _take(_put_add((length,), y_at, g), x_at)
    if count is not None:  # x's repeated elements share their position's gradient
        gx = gx / Tensor(count.astype(gx.dtype))
    return (gx,)
