"""Shape ops: reshape, permute, expand, cat, stack, split, pad, indexing, dtype casts.

Most forwards are views (no copy); each backward puts the gradient back where
the input's elements came from.
"""

from __future__ import annotations

from ..backend import cast, get_array_module, scatter_add, strided_view
from ..errors import InputError
from ..function import Function
from ..memory_formats import laid_out
from .index_order import block_move, to_numpy_order, to_torch_order


class Reshape(Function):
    def forward(self, x, shape):
        self.shape = x.shape
        return x.reshape(shape)

    def backward(self, gy):
        return (gy.reshape(self.shape),)


class Permute(Function):
    def forward(self, x, axes):
        try:
            y = x.transpose(axes)
        except ValueError as e:  # NumPy's names no dims; a dim out of range stays IndexError
            if isinstance(e, IndexError):
                raise
            raise InputError(  # torch's RuntimeError
                f"permute(): dims {tuple(axes)} must list each of the {x.ndim} dims of the"
                f" input (shape {x.shape}) exactly once"
            ) from None
        self.axes = tuple(a % x.ndim for a in axes)  # negative dims sort after the others
        return y

    def backward(self, gy):
        inverse = sorted(range(len(self.axes)), key=self.axes.__getitem__)
        return (gy.transpose(inverse),)


class Expand(Function):
    """x.expand(*shape): a broadcast view, read-only as it repeats elements (stride 0). When
    nothing is repeated (as many elements as x: the same shape, or new leading dims of 1) the
    view is x's memory reshaped, writeable as x is, as torch's x.expand(*x.shape) is."""

    def forward(self, x, shape):
        self.shape = x.shape
        try:
            y = get_array_module(x).broadcast_to(x, shape)  # checks the shapes
        except ValueError:  # torch's RuntimeError, with both shapes
            raise InputError(
                f"expand: a tensor of shape {x.shape} cannot be expanded to {tuple(shape)}: each"
                " dim must equal the target's or be 1, and the target may only add leading dims"
            ) from None
        return x.reshape(y.shape) if y.size == x.size else y

    def backward(self, gy):
        from ..function import unbroadcast

        return (unbroadcast(gy, self.shape),)


class Cat(Function):
    """Concatenate n inputs along ``axis``; backward slices the gradient apart."""

    def forward(self, *xs, axis=0):
        xp = get_array_module(xs[0])
        self.axis = axis
        self.sizes = [x.shape[axis] for x in xs]
        return xp.concatenate(xs, axis=axis)

    def backward(self, gy):
        out, start = [], 0
        index = [slice(None)] * gy.ndim
        for n, need in zip(self.sizes, self.needs_input_grad):
            if need:
                index[self.axis] = slice(start, start + n)
                out.append(gy[tuple(index)])
            else:
                out.append(None)
            start += n
        return tuple(out)


class Stack(Function):
    def forward(self, *xs, axis=0):
        xp = get_array_module(xs[0])
        self.axis = axis
        return xp.stack(xs, axis=axis)

    def backward(self, gy):
        xp = get_array_module(gy)
        parts = xp.moveaxis(gy, self.axis, 0)
        return tuple(p if need else None for p, need in zip(parts, self.needs_input_grad))


class Split(Function):
    """Split along ``axis`` at ``indices``; several outputs."""

    multi_output = True

    def forward(self, x, indices, axis=0):
        xp = get_array_module(x)
        self.axis, self.shape, self.dtype = axis, x.shape, x.dtype
        outs = xp.split(x, indices, axis=axis)
        self.sizes = [o.shape[axis] for o in outs]
        # the slices split took: x[:i₀], x[i₀:i₁], …, x[i_last:]
        bounds = [None, *indices] if not isinstance(indices, int) else None
        self.slices = (
            None if bounds is None else [slice(a, b) for a, b in zip(bounds, [*bounds[1:], None])]
        )
        return tuple(outs)

    def backward(self, *gys):
        xp = get_array_module(*[g for g in gys if g is not None])
        if self.slices is not None and sum(self.sizes) != self.shape[self.axis]:
            # indices out of order (torch's tensor_split allows [3, 1]): the pieces overlap,
            # so each gradient is added at its own slice instead of concatenated
            gx = xp.zeros(self.shape, dtype=self.dtype)
            for g, sl in zip(gys, self.slices):
                if g is not None:
                    index = (slice(None),) * self.axis + (sl,)
                    gx[index] += g
            return (gx,)
        parts = []
        for g, n in zip(gys, self.sizes):
            if g is None:
                shape = list(self.shape)
                shape[self.axis] = n
                g = xp.zeros(shape, dtype=self.dtype)
            parts.append(g)
        return (xp.concatenate(parts, axis=self.axis),)


class Pad(Function):
    """Constant padding; ``pad_width`` as NumPy's ((before, after), ...) per axis."""

    def forward(self, x, pad_width, value=0.0):
        xp = get_array_module(x)
        self.slices = tuple(slice(b, b + n) for (b, _), n in zip(pad_width, x.shape))
        if not pad_width:  # a 0-d x, nothing to pad (NumPy refuses an empty pad_width)
            return x.copy()
        return xp.pad(x, pad_width, mode="constant", constant_values=value)

    def backward(self, gy):
        return (gy[self.slices],)


def _has_array_index(index) -> bool:
    if not isinstance(index, tuple):
        index = (index,)
    return any(not isinstance(i, (int, slice, type(None), type(Ellipsis))) for i in index)


def take(a, index):
    """a[index], a view wherever indexing makes one. Where every dim is taken by an integer,
    NumPy hands back a scalar (a copy); the 0-d view of that element is taken instead, as
    torch's x[i, j] is a view (``x[0, 1].mul_(10)`` writes x)."""
    y = a[index]
    if y.__class__ is not a.__class__:  # a NumPy scalar: one more (None) dim, then reshaped away
        y = a[(*index, None) if type(index) is tuple else (index, None)].reshape(())
    # a view's base is a, or a's own base (NumPy skips views between them, but not the
    # stand-in array of an as_strided view): anything else is a copy
    base = y.base
    if (base is None or (base is not a and base is not a.base)) and type(index) is tuple:
        move = block_move(index, a.ndim)  # a copy: array indices, which torch may place apart
        if move is not None:
            return to_torch_order(y, move)
        if not y.flags.c_contiguous:  # NumPy lays some out transposed; torch's are row-major
            return get_array_module(y).ascontiguousarray(y)
    return y


class GetItem(Function):
    """x[index]; with integer-array indices the gradient accumulates over repeats."""

    def forward(self, x, index):
        self.index, self.shape, self.dtype = index, x.shape, x.dtype
        if not _has_array_index(index):  # slices and ints only: no array kept, so a later
            self.rerunnable = True  # backward may run it again (torch's SliceBackward0/Select)
        return take(x, index)

    def backward(self, gy):
        xp = get_array_module(gy)
        gx = xp.zeros(self.shape, dtype=gy.dtype)
        if _has_array_index(self.index):
            move = block_move(self.index, len(self.shape))
            scatter_add(gx, self.index, gy if move is None else to_numpy_order(gy, move))
        else:
            gx[self.index] = gy
        return (gx,)


class Astype(Function):
    def forward(self, x, dtype):
        self.dtype = x.dtype
        return cast(x, dtype)

    def backward(self, gy):
        return (gy.astype(self.dtype),)


class Copy(Function):
    """y = x in new memory: row-major, or laid out with ``strides`` (in elements: torch's
    memory formats, see memory_formats.py). A copy either way, so the gradient is gy."""

    def forward(self, x, strides=None):
        return x.copy() if strides is None else laid_out(x, strides)

    def backward(self, gy):
        return (gy,)


class Embedding(GetItem):
    """Rows of a weight table; the ``padding_idx`` row gets no gradient (as in torch).

    With ``scale_grad_by_freq`` each looked-up position's gradient is divided by how often
    its index occurs in the batch (torch's option), so frequent words do not dominate.
    ``freq`` (index's shape) gives those counts when the batch is not ``index`` itself
    (embedding_bag looks up padded bag slots but counts the input's indices).
    """

    def forward(self, w, index, padding_idx=None, scale_grad_by_freq=False, freq=None):
        self.padding_idx, self.by_freq, self.freq = padding_idx, scale_grad_by_freq, freq
        return super().forward(w, index)

    def index_frequency(self):
        """How often each looked-up position's index occurs in the batch (index's shape)."""
        if self.freq is not None:
            return self.freq
        xp = get_array_module(self.index)
        _, inverse, counts = xp.unique(self.index, return_inverse=True, return_counts=True)
        return counts[inverse.reshape(self.index.shape)]

    def backward(self, gy):
        if self.by_freq:
            freq = self.index_frequency()
            gy = gy / freq.reshape(freq.shape + (1,) * (gy.ndim - freq.ndim)).astype(gy.dtype)
        (g,) = super().backward(gy)
        if self.padding_idx is not None:
            g[self.padding_idx] = 0
        return (g,)


class Windows(Function):
    """x.unfold(dim, size, step): the windows x[..., i·step : i·step + size, ...] along ``dim``
    for i = 0 … n − 1, n = ⌊(L − size)/step⌋ + 1, with ``dim`` becoming n and a new last
    axis of length ``size``: y[..., i, ..., k] = x[..., i·step + k, ...]. A strided view, no
    copy; writeable (as x is) when the windows do not overlap (step ≥ size, or one window),
    read-only when they share elements.

    Backward: ∂L/∂x[..., j, ...] = Σ over the windows (i, k) with i·step + k = j. Windows
    i ≡ r (mod m), m = ⌈size/step⌉, never overlap, so each residue r adds its gradients
    through one writable strided view: m adds in all, not one per window.
    """

    def forward(self, x, dim, size, step):
        n = (x.shape[dim] - size) // step + 1
        self.x_shape, self.x_dtype, self.dim, self.size, self.step = (
            x.shape,
            x.dtype,
            dim,
            size,
            step,
        )
        apart = step >= size or n <= 1  # no element in two windows: writes are well defined
        return strided_view(x, *_window_layout(x.shape, x.strides, dim, size, step, n), apart)

    def backward(self, gy):
        xp = get_array_module(gy)
        dim, size, step = self.dim, self.size, self.step
        gx = xp.zeros(self.x_shape, dtype=gy.dtype)
        n = gy.shape[dim]
        m = min(n, -(-size // step)) if size else 1
        for r in range(m):
            count = len(range(r, n, m))
            shape, strides = _window_layout(gx.shape, gx.strides, dim, size, step * m, count)
            start = [slice(None)] * gx.ndim
            start[dim] = slice(r * step, None)
            target = strided_view(gx[tuple(start)], shape, strides, writeable=True)
            pick = [slice(None)] * gy.ndim
            pick[dim] = slice(r, None, m)
            target += gy[tuple(pick)]
        return (gx,)


def _window_layout(shape, strides, dim, size, step, n):
    """(shape, strides) of the windows view: ``dim`` → n windows ``step`` apart, + (size,)."""
    out_shape = shape[:dim] + (n,) + shape[dim + 1 :] + (size,)
    out_strides = strides[:dim] + (strides[dim] * step,) + strides[dim + 1 :] + (strides[dim],)
    return out_shape, out_strides


# the ops above that keep no array for backward: a later backward may run them again
# (autograd.free), as torch's nodes that saved no tensor
for _op in (Reshape, Permute, Expand, Copy, Astype, Cat, Stack):
    _op.rerunnable = True
