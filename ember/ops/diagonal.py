"""Diagonal: x.diagonal(offset, dim1, dim2) as a strided view of x (no copy), as torch's.

A view so that writing into it writes x: ``x.diagonal().zero_()`` under no_grad zeroes x's
diagonal, as in torch. The forward only picks strides; the backward writes the gradient into
zeros through the same strides.
"""

from __future__ import annotations

from ..backend import get_array_module, strided_view
from ..function import Function
from .complex import register_own


def _diagonal_view(a, offset: int, dim1: int, dim2: int, writeable: bool):
    """a's offset diagonal of the (dim1, dim2) planes as the last axis, sharing a's memory.

    Element (i, i + k) of a plane (k = offset ≥ 0; (i − k, i) for k < 0) lies at
    (i + p)·s₁ + (i + q)·s₂ bytes from the plane's start, p = max(0, −k), q = max(0, k): a
    start shifted by p·s₁ + q·s₂ and one stride s₁ + s₂, over n = max(0, min(r − p, c − q))
    elements, r and c the two dims' sizes.
    """
    k = offset
    p, q = max(0, -k), max(0, k)
    r, c = a.shape[dim1], a.shape[dim2]
    n = max(0, min(r - p, c - q))
    rest = [d for d in range(a.ndim) if d not in (dim1, dim2)]
    shape = tuple(a.shape[d] for d in rest) + (n,)
    strides = tuple(a.strides[d] for d in rest) + (a.strides[dim1] + a.strides[dim2],)
    if n == 0:  # no element to point at (p or q may lie past the end): an empty view of a
        return strided_view(a, shape, strides, writeable=writeable)
    start = [slice(None)] * a.ndim
    start[dim1], start[dim2] = slice(p, None), slice(q, None)
    return strided_view(a[tuple(start)], shape, strides, writeable=writeable)


def _writeable(a) -> bool:
    """NumPy's flag; CuPy has none (its views are always writable, as its as_strided's are)."""
    flag = getattr(a.flags, "writeable", None)
    return True if flag is None else bool(flag)


class Diagonal(Function):
    """out[..., i] = x[..., i, i + k] (k = offset ≥ 0; x[..., i − k, i] for k < 0), the dims
    other than dim1, dim2 first in their order, the diagonal last (n = max(0, min(r − p, c − q))
    elements, p = max(0, −k), q = max(0, k)). A view of x: writable where x is.

    Backward: out picks each element of x at most once, so ∂L/∂x is ∂L/∂out placed on the same
    diagonal and zero elsewhere; written through the same view of a zeros array.
    """

    def forward(self, x, offset: int = 0, dim1: int = 0, dim2: int = 1):
        self.offset, self.dim1, self.dim2 = offset, dim1, dim2
        self.shape, self.dtype = x.shape, x.dtype
        return _diagonal_view(x, offset, dim1, dim2, writeable=_writeable(x))

    def backward(self, gy):
        xp = get_array_module(gy)
        gx = xp.zeros(self.shape, dtype=gy.dtype)
        _diagonal_view(gx, self.offset, self.dim1, self.dim2, writeable=True)[...] = gy
        return (gx,)


# linear with real coefficients (0 or 1): a complex gradient passes through backward as it is
register_own(Diagonal)
