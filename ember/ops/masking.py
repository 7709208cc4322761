"""Branch-free selection for backward passes, bit for bit what ``xp.where`` gives.

A masked gradient is torch's ``mask ? grad : 0``, not ``grad·mask``: where an upstream
gradient is ±inf or NaN at a place the mask shuts (sqrt(relu(x)) at x < 0, log(clamp(x, min=0))),
the product is NaN and the selection 0. ``xp.where`` with an unpredictable mask is branchy
(~13× slower than a multiply on a LeNet activation), so these select through the floats' bits:
with M all ones where the mask holds, a where m else b is (a & M) | (b & ~M), and a where m
else +0 is a & M (one pass more than the multiply it replaces).
"""

from __future__ import annotations

from ..backend import get_array_module


def _ones_where(m, it, shape, xp):
    """The integer mask M (all bits set where m) of dtype ``it`` and the result's shape."""
    M = xp.broadcast_to(xp.asarray(m), shape).astype(it)
    xp.negative(M, out=M)
    return M


def select(m, a, b):
    """``a`` where ``m`` else ``b``, bit for bit ``xp.where(m, a, b)`` (``b`` is cast to a's
    dtype; ``m`` has the result's shape): each bit is (a & M) | (b & ~M), M all ones where m."""
    xp = get_array_module(m)
    a = xp.asarray(a)
    b = xp.asarray(b, dtype=a.dtype)
    if a.dtype.kind not in "fiu":
        return xp.where(m, a, b)
    it = xp.dtype(f"i{a.dtype.itemsize}")
    M = _ones_where(m, it, xp.broadcast_shapes(xp.asarray(m).shape, a.shape, b.shape), xp)
    out = xp.bitwise_and(a.view(it), M)
    xp.invert(M, out=M)
    M &= b.view(it)
    out |= M
    return out.view(a.dtype)


def keep_where(m, a):
    """``a`` where ``m`` else +0 in a's dtype, broadcast (``xp.where(m, a, 0)``): an inf or NaN
    of ``a`` where m is False gives 0, as torch's masked backwards do."""
    xp = get_array_module(a)
    a = xp.asarray(a)
    kind = a.dtype.kind
    if kind not in "fiu":
        return xp.where(m, a, xp.zeros((), dtype=a.dtype))
    it = _SIGNED[a.dtype.itemsize]
    if getattr(m, "shape", None) == a.shape:  # the usual case: three passes, no broadcasting
        M = xp.asarray(m).astype(it)  # asarray: a NumPy bool scalar's astype gives a scalar
        xp.negative(M, out=M)
    else:
        shape = xp.broadcast_shapes(xp.asarray(m).shape, a.shape)
        M = _ones_where(m, it, shape, xp)
        a = xp.broadcast_to(a, shape)
    xp.bitwise_and(a.view(it), M, out=M)
    return M.view(a.dtype)


_SIGNED = {1: "i1", 2: "i2", 4: "i4", 8: "i8"}
