"""Placement ops as torch's: index_put (x[indices] = v, or += with accumulate), Python's
x[index] = v (SetItem), and masked_scatter (x's masked places filled in order from src).

Each forward writes values into a copy of x; each backward gathers the gradient of the written
places back to the values and sends the rest of it to x (the written places too, where the
values were added rather than written over).
"""

from __future__ import annotations

from math import prod

from ..backend import get_array_module, scatter_add
from ..errors import InputError
from ..function import Function, unbroadcast
from ..promotion import torch_dtype_name as torch_name
from .index_order import block_move, to_torch_order, value_in_numpy_order


def int_indices(x_shape, indices) -> tuple:
    """``indices`` (integer or boolean arrays, in torch's order from dim 0) as a tuple of
    integer arrays addressing x: each mask becomes its nonzero() positions, each index is
    checked against its dim's size, with torch's errors."""
    masks = [i.dtype.kind == "b" or str(i.dtype) == "uint8" for i in indices]  # uint8: a mask
    used = sum(i.ndim if b else 1 for i, b in zip(indices, masks))
    if used > len(x_shape):
        raise IndexError(
            f"too many indices for tensor of dimension {len(x_shape)} (got {len(indices)})"
        )
    out, d = [], 0
    for i, is_mask in zip(indices, masks):
        if is_mask:
            i = i.astype(bool, copy=False)
            for j, n in enumerate(i.shape):
                if n != x_shape[d + j]:
                    raise IndexError(
                        f"The shape of the mask {list(i.shape)} at index {j} does not match the"
                        f" shape of the indexed tensor {list(x_shape)} at index {d + j}"
                    )
            out.extend(i.nonzero())
            d += i.ndim
            continue
        if str(i.dtype) not in ("int64", "int32"):
            raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
        size = x_shape[d]
        bad = (i < -size) | (i >= size)
        if bad.any():
            xp = get_array_module(i)
            value = int(i.reshape(-1)[xp.argmax(bad.reshape(-1))])
            raise IndexError(f"index {value} is out of bounds for dimension {d} with size {size}")
        out.append(i)
        d += 1
    return tuple(out)


def _wrapped(x_shape, indices) -> tuple:
    """The integer indices taken modulo their dim's size (masks as they are): the shape of
    what they address, for the checks torch makes before the range."""
    out, d = [], 0
    for i in indices:
        if i.dtype.kind == "b" or str(i.dtype) == "uint8":
            out.append(i)
            d += i.ndim
        else:
            out.append(i % x_shape[d] if d < len(x_shape) and x_shape[d] else i)
            d += 1
    return tuple(out)


class IndexPut(Function):
    """y = x, then y[indices] = v (v broadcast to the indexed shape), or y[indices] += v with
    accumulate, where repeated indices add up.

    ∂L/∂v = ∂L/∂y[indices] summed down to v's shape (every repeat gets its place's gradient);
    ∂L/∂x = ∂L/∂y, zero at the written places unless accumulate.
    """

    def forward(self, x, v, indices, accumulate=False):
        xp = get_array_module(x)
        try:
            idx, out_of_range = int_indices(x.shape, indices), None
        except IndexError as e:  # torch names a shape or dtype mismatch first (but for an
            if 0 in x.shape:  # empty dim): the shape comes from the indices wrapped into range
                raise
            idx, out_of_range = int_indices(x.shape, _wrapped(x.shape, indices)), e
        target = x[idx].shape
        try:
            vb = xp.broadcast_to(v, target)
        except ValueError:
            raise RuntimeError(
                f"shape mismatch: value tensor of shape {list(v.shape)} cannot be broadcast to"
                f" indexing result of shape {list(target)}"
            ) from None
        if v.dtype != x.dtype:
            raise RuntimeError(
                f"Index put requires the source and destination dtypes match, got"
                f" {torch_name(x.dtype)} for the destination and {torch_name(v.dtype)} for the"
                f" source."
            )
        if out_of_range is not None:
            raise out_of_range
        y = x.copy()
        if accumulate:
            scatter_add(y, idx, vb)
        else:
            y[idx] = vb
        self.idx, self.v_shape, self.accumulate = idx, v.shape, accumulate
        return y

    def backward(self, gy):
        gx = gv = None
        if self.needs_input_grad[0]:
            gx = gy
            if not self.accumulate:
                gx = get_array_module(gy).array(gy)  # a copy (a 0-d one may be a scalar)
                gx[self.idx] = 0
        if self.needs_input_grad[1]:
            gv = unbroadcast(gy[self.idx], self.v_shape)
        return gx, gv


class SetItem(Function):
    """y = x, then y[index] = v (v broadcast to x[index]'s shape): Python's ``x[index] = v``,
    for any index NumPy takes (ints, slices, None, Ellipsis, masks, integer arrays).

    ∂L/∂v = ∂L/∂y[index] summed down to v's shape; ∂L/∂x = ∂L/∂y, zero at the written places.
    """

    def forward(self, x, v, index):
        y = x.copy()
        self.move = block_move(index, x.ndim)  # torch's place for the array indices' dims
        y[index] = v if self.move is None else value_in_numpy_order(x, index, v, self.move)
        self.index, self.v_shape = index, v.shape
        return y

    def backward(self, gy):
        gx = gv = None
        if self.needs_input_grad[0]:
            gx = get_array_module(gy).array(gy)  # a copy; a 0-d gradient may come as a scalar
            gx[self.index] = 0
        if self.needs_input_grad[1]:
            g = gy[self.index]
            if self.move is not None:
                g = to_torch_order(g, self.move)
            if g.ndim < len(self.v_shape):  # v may carry leading 1-dims the target lacks
                g = g.reshape((1,) * (len(self.v_shape) - g.ndim) + g.shape)
            gv = unbroadcast(g, self.v_shape)
        return gx, gv


class MaskedScatter(Function):
    """y = x (broadcast with mask), then the places where mask is True are filled, in
    row-major order, with src's first elements (src flattened).

    ∂L/∂x = ∂L/∂y where mask is False (summed down to x's shape);
    ∂L/∂src = ∂L/∂y at the masked places, in order, in src's first elements (0 elsewhere).
    """

    def forward(self, x, src, mask):
        xp = get_array_module(x)
        if mask.dtype != bool:
            raise RuntimeError(
                f"masked_scatter_ only supports boolean masks, but got mask with dtype"
                f" {torch_name(mask.dtype)}"
            )
        if src.dtype != x.dtype:
            raise RuntimeError(
                f"masked_scatter: expected self and source to have same dtypes but got"
                f"{torch_name(x.dtype)} and {torch_name(src.dtype)}"
            )
        shape = broadcast_shape(mask.shape, x.shape)
        m = xp.broadcast_to(mask, shape)
        k = int(m.sum())
        if src.size < k:
            raise RuntimeError("Number of elements of source < number of ones in mask")
        y = xp.broadcast_to(x, shape).copy()
        y[m] = src.reshape(-1)[:k]
        self.m, self.k, self.x_shape, self.src_shape = m, k, x.shape, src.shape
        return y

    def backward(self, gy):
        xp = get_array_module(gy)
        gx = gsrc = None
        if self.needs_input_grad[0]:
            g = gy.copy()
            g[self.m] = 0
            gx = unbroadcast(g, self.x_shape)
        if self.needs_input_grad[1]:
            g = xp.zeros(prod(self.src_shape), dtype=gy.dtype)
            g[: self.k] = gy[self.m]
            gsrc = g.reshape(self.src_shape)
        return gx, gsrc, None


def broadcast_shape(a, b) -> tuple:
    """The broadcast of shapes a and b, or torch's error naming the first dims that clash."""
    n = max(len(a), len(b))
    pa, pb = (1,) * (n - len(a)) + tuple(a), (1,) * (n - len(b)) + tuple(b)
    for d in reversed(range(n)):  # torch names the last dims that clash
        i, j = pa[d], pb[d]
        if i != j and i != 1 and j != 1:
            raise InputError(
                f"The size of tensor a ({i}) must match the size of tensor b ({j}) at"
                f" non-singleton dimension {d}"
            )
    return tuple(j if i == 1 else i for i, j in zip(pa, pb))
