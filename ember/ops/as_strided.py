"""torch.as_strided: a view of a tensor's memory with any sizes, strides and storage offset.

ember's storage model is torch's: the storage of an array is the memory of the root array it
views (follow ``.base`` up, through the helper objects NumPy's stride tricks leave on the way),
taken as one flat run of elements of the array's dtype; ``Tensor.storage_offset()`` is where the
array's first element lies in it and ``Tensor.stride()`` its steps, in elements. as_strided
reads

    y[i₀, …, i_{d−1}] = storage[offset + Σ_k i_k·s_k]

with no copy. y is writeable when x is and no two of its elements share a memory location;
the test is the usual sufficient one (strides sorted: each steps past everything the smaller
ones reach), so an interleaved layout that happens not to overlap is read-only too.

Backward (torch's as_strided_backward): the output's gradient is added into a storage-length
buffer at the positions y reads (repeats add up), then each element of x takes the buffer at
its own position — divided by the number of x's elements sharing that position when x itself
overlaps (an expanded x), so that summing them back gives the buffer once. Positions x does not
cover get nothing.
"""

from __future__ import annotations

from ..backend import get_array_module, scatter_add, strided_view
from ..function import Function


def address(a) -> int:
    """The address of an array's first element (host or device memory)."""
    cuda = getattr(a, "__cuda_array_interface__", None)
    return (cuda or a.__array_interface__)["data"][0]


def storage_root(a):
    """The array whose memory ``a`` views: ``.base`` followed to the end. NumPy's
    ``as_strided`` (unfold, windows) puts a non-array helper between a view and its base;
    following ``.base`` through it keeps the root, so offsets are counted from the same start
    as torch's."""
    xp = get_array_module(a)
    root, obj = a, a
    while (obj := getattr(obj, "base", None)) is not None:
        if isinstance(obj, xp.ndarray):
            root = obj
    return root


def _extent(a) -> tuple[int, int]:
    """[lo, hi): the byte addresses an array's elements span (negative strides included)."""
    lo = hi = address(a)
    if a.size == 0:
        return lo, lo
    for n, s in zip(a.shape, a.strides):
        if s < 0:
            lo += (n - 1) * s
        else:
            hi += (n - 1) * s
    return lo, hi + a.itemsize


def storage_offset(a) -> int:
    """Elements of ``a``'s dtype from the start of its storage to its first element."""
    lo, _ = _extent(storage_root(a))
    return (address(a) - lo) // a.itemsize


def storage_of(a, writeable: bool = True):
    """(flat, offset): the storage of ``a`` as a 1-D view of its root's memory in ``a``'s dtype
    (no copy; writeable when asked and the root is), and ``a``'s offset in it."""
    root = storage_root(a)
    lo, hi = _extent(root)
    if root.ndim:  # a view of root starting at its lowest address
        first = tuple(slice(None, None, -1) if s < 0 else slice(None) for s in root.strides)
        root = root[first][(slice(0, 1),) * root.ndim]
    flat = strided_view(root, ((hi - lo) // root.itemsize,), (root.itemsize,), writeable)
    if flat.dtype != a.dtype:  # a is a reinterpreting view (x.view(dtype)) of its root
        flat = flat.view(a.dtype)
    return flat, (address(a) - lo) // a.itemsize


def may_overlap(size, stride) -> bool:
    """False when no two elements of the layout share a position: with the dims of more than
    one element sorted by stride, each stride exceeds the reach Σ (n_j − 1)·s_j of the smaller
    ones. Sufficient, not necessary (sizes (3, 2), strides (2, 3) do not overlap, yet fail)."""
    if any(n == 0 for n in size):
        return False
    reach = 0
    for s, n in sorted((s, n) for n, s in zip(size, stride) if n > 1):
        if s <= reach:
            return True
        reach += (n - 1) * s
    return False


def check_geometry(size, stride, offset: int, storage_size: int, itemsize: int) -> None:
    """torch's refusals of an as_strided geometry, with the same content."""
    if len(size) != len(stride):
        raise RuntimeError(
            f"mismatch in length of strides and shape: as_strided got sizes {list(size)} and"
            f" strides {list(stride)}"
        )
    if any(n < 0 for n in size):
        raise RuntimeError(f"as_strided: negative size in sizes {list(size)}")
    if any(s < 0 for s in stride):
        raise RuntimeError(
            f"as_strided: Negative strides are not supported at the moment, got strides:"
            f" {list(stride)}"
        )
    if offset < 0:
        raise RuntimeError(f"Tensor: invalid storage offset {offset}")
    if any(n == 0 for n in size):
        return  # no element: nothing to reach (torch needs no storage either)
    need = offset + sum((n - 1) * s for n, s in zip(size, stride)) + 1
    if need > storage_size:
        raise RuntimeError(
            f"setStorage: sizes {list(size)}, strides {list(stride)}, storage offset {offset},"
            f" and itemsize {itemsize} requiring a storage size of {need * itemsize} are out of"
            f" bounds for storage of size {storage_size * itemsize}"
        )


def places(xp, shape, strides, offset: int):
    """The storage position of each element of a layout: offset + Σ_k i_k·s_k, shaped ``shape``
    (built one dim at a time by broadcasting: no loop over elements)."""
    pos = xp.asarray(offset, dtype=xp.int64)
    for n, s in zip(shape, strides):
        pos = pos[..., None] + xp.arange(n, dtype=xp.int64) * s
    return pos


def _is_writeable(a) -> bool:
    """NumPy's flag; CuPy has none (its arrays are always writeable)."""
    return getattr(a.flags, "writeable", True)


class AsStrided(Function):
    """y = as_strided(x, size, stride, storage_offset); see the module docstring."""

    def forward(self, x, size, stride, storage_offset=None):
        size, stride = tuple(int(n) for n in size), tuple(int(s) for s in stride)
        flat, x_offset = storage_of(x)
        offset = x_offset if storage_offset is None else int(storage_offset)
        check_geometry(size, stride, offset, flat.size, x.itemsize)
        self.size, self.stride, self.offset = size, stride, offset
        self.x_shape, self.x_offset, self.dtype = x.shape, x_offset, x.dtype
        self.x_stride = tuple(s // x.itemsize for s in x.strides)
        # several elements of y in one place: read-only, so in-place writes refuse it (torch
        # refuses a write to its stride-0 views the same way)
        writeable = _is_writeable(x) and not may_overlap(size, stride)
        steps = tuple(s * x.itemsize for s in stride)
        return strided_view(flat[offset:], size, steps, writeable)

    def places(self, xp):
        """(y's positions, x's positions, count at x's positions or None, length): storage
        positions shifted to start at 0 over the span both layouts touch; ``count`` the number
        of x's elements at each x position, given only when x may overlap."""
        y_at = places(xp, self.size, self.stride, self.offset)
        x_at = places(xp, self.x_shape, self.x_stride, self.x_offset)
        used = [p for p in (y_at, x_at) if p.size]
        lo = min(int(p.min()) for p in used) if used else 0
        length = max(int(p.max()) for p in used) - lo + 1 if used else 0
        y_at, x_at = y_at - lo, x_at - lo
        count = None
        if may_overlap(self.x_shape, [abs(s) for s in self.x_stride]):
            count = xp.bincount(x_at.reshape(-1), minlength=length)[x_at]
        return y_at, x_at, count, length

    def backward(self, gy):
        xp = get_array_module(gy)
        y_at, x_at, count, length = self.places(xp)
        buffer = xp.zeros(length, dtype=gy.dtype)
        if may_overlap(self.size, self.stride):
            scatter_add(buffer, y_at.reshape(-1), gy.reshape(-1))
        else:  # each position once: a plain assignment
            buffer[y_at] = gy
        gx = buffer[x_at]
        if count is not None:
            gx = gx / count.astype(gx.dtype)
        return (gx,)
