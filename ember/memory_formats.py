"""torch's memory formats: the order in which a tensor's elements lie in memory.

A 4-D image batch (N, C, H, W) is row-major by default (``contiguous_format``: W varies
fastest); ``channels_last`` keeps the same shape and values but lays them out as NHWC, so the
strides become (H·W·C, 1, W·C, C); ``channels_last_3d`` does the same for (N, C, D, H, W) as
NDHWC. ``preserve_format`` asks a copy to keep its input's layout. NumPy arrays carry strides,
so a channels_last tensor is the NHWC array transposed back to NCHW: no new storage type.

The rules below are torch's (c10/core/Contiguity.h, MemoryFormat.h, TensorImpl.h and
ATen's infer_dense_strides), on shapes and strides counted in elements:

- contiguous in a format: the strides the format gives, except that dims of size 1 may have
  any stride; an empty tensor is (row-major) contiguous.
- strides like channels_last: what ``suggest_memory_format`` reads to keep a layout through
  ``.to`` (it looks at the strides of size-1 dims too, and calls ambiguous cases row-major).
- preserve: a copy keeps the input's exact strides when its elements tile their memory with
  no gaps or overlaps; otherwise the dims keep their order of strides, packed densely.

Strides here are non-negative, as torch's are: a NumPy view with a negative stride (ember's
flip, a view where torch's flip copies) counts by the stride's size.

Where ember's layouts part from torch's (values and gradients agree everywhere):

- convolutions (1-D, 2-D, 3-D, transposed) and batch norm return ember's channel-major layout
  (memory (C, N, …), the one their GEMMs and per-channel rows are built on, PERFORMANCE.md)
  whatever the input's; torch returns channels-last for a channels-last input. Adaptive
  pooling and interpolate (matrix products) return row-major. Elementwise ops, cat, dropout,
  max_pool2d and avg_pool2d keep channels-last as torch's do; softmax keeps it too (NumPy's
  ufuncs keep a memory order) where torch's returns row-major.
- a leaf's ``.grad`` has the layout its backward made; torch lays it out as the leaf.
- an empty tensor reports row-major strides (NumPy gives empty arrays zero strides, so no
  layout survives): an empty channels-last tensor is not channels-last contiguous here.
- pickle and ember.save store a row-major copy (torch's keep strides); copy.deepcopy and
  load_state_dict (a copy into the parameter) keep them.
"""

from __future__ import annotations

from . import backend
from .backend import xp


class memory_format:  # noqa: N801 - torch's name
    """torch.memory_format: the type of ember.contiguous_format, ember.channels_last,
    ember.channels_last_3d and ember.preserve_format. Its four instances are the only ones (as
    torch's, it cannot be instantiated); each prints as its name under ``ember.`` and pickles
    as a reference to it."""

    __slots__ = ("_name",)

    def __new__(cls, *args, **kwargs):
        raise TypeError("cannot create 'ember.memory_format' instances")

    @classmethod
    def _make(cls, name: str) -> memory_format:
        fmt = object.__new__(cls)
        fmt._name = name
        return fmt

    def __repr__(self) -> str:
        return f"ember.{self._name}"

    def __reduce__(self) -> str:  # a global of the ember package: unpickles to the same object
        return self._name


memory_format.__module__ = "ember"  # prints as <class 'ember.memory_format'>; pickle finds it
contiguous_format = memory_format._make("contiguous_format")
channels_last = memory_format._make("channels_last")
channels_last_3d = memory_format._make("channels_last_3d")
preserve_format = memory_format._make("preserve_format")

#: per channels-last format: the rank it needs, and its dims from the fastest to the slowest
_CHANNELS_LAST = {channels_last: (4, (1, 3, 2, 0)), channels_last_3d: (5, (1, 4, 3, 2, 0))}


def check(fmt, fn: str) -> memory_format:
    """``fmt`` when it is a memory format, else torch's TypeError naming ``fn``'s argument."""
    if not isinstance(fmt, memory_format):
        raise TypeError(
            f"{fn}(): argument 'memory_format' must be ember.memory_format, not"
            f" {type(fmt).__name__}"
        )
    return fmt


def element_strides(a) -> tuple:
    """Tensor.stride() of the array ``a``: its strides in elements, or the row-major ones of
    its shape when it is empty (NumPy gives an empty array zero strides)."""
    if a.size:
        return tuple(int(s) // a.itemsize for s in a.strides)
    return contiguous_strides(a.shape)


def contiguous_strides(shape) -> tuple:
    """Row-major strides, a dim of size 0 counting as 1 (torch's, for empty tensors too)."""
    strides, step = [0] * len(shape), 1
    for d in range(len(shape) - 1, -1, -1):
        strides[d] = step
        step *= max(shape[d], 1)
    return tuple(strides)


def format_strides(shape, fmt: memory_format) -> tuple:
    """The strides of a new tensor of ``shape`` laid out in ``fmt`` (torch's
    empty(memory_format=)); torch's RuntimeError for a channels-last format on another rank."""
    if fmt is contiguous_format:
        return contiguous_strides(shape)
    if fmt is preserve_format:
        raise RuntimeError("unsupported memory format Preserve")
    rank, order = _CHANNELS_LAST[fmt]
    if len(shape) != rank:
        raise RuntimeError(f"required rank {rank} tensor to use {fmt._name} format")
    strides, step = [0] * rank, 1
    for d in order:  # torch multiplies by the raw size here, 0 included
        strides[d] = step
        step *= shape[d]
    return tuple(strides)


def is_contiguous(shape, strides, fmt: memory_format) -> bool:
    """torch's Tensor.is_contiguous(memory_format=fmt): the strides are ``fmt``'s ones, dims
    of size 1 excepted. Channels-last formats hold only at their rank (4, or 5 for 3d); an
    empty tensor is row-major contiguous (but channels-last only when its strides say so);
    preserve_format asks the row-major question."""
    if fmt is contiguous_format or fmt is preserve_format:
        if 0 in shape:
            return True
        dims = range(len(shape) - 1, -1, -1)
    else:
        rank, dims = _CHANNELS_LAST[fmt]
        if len(shape) != rank:
            return False
    expected = 1
    for d in dims:
        if shape[d] != 1:
            if strides[d] != expected:
                return False
            expected *= shape[d]
    return True


def strides_like(shape, strides, fmt: memory_format) -> bool:
    """torch's is_channels_last_strides_2d / _3d: whether the strides, those of size-1 dims
    included, rank the dims as ``fmt`` does (channel fastest, batch slowest), with torch's
    fallbacks to row-major for the cases strides cannot tell apart."""
    rank, order = _CHANNELS_LAST[fmt]
    if len(shape) != rank or strides[1] == 0:  # a broadcast channel dim: call it row-major
        return False
    low = 0
    for d in order:
        if shape[d] == 0 or strides[d] < low:
            return False
        # N111 with equal strides (N11W sliced on W, or NC11 sliced on C): row-major
        if d == 0 and low == strides[1]:
            return False
        low = strides[d] * shape[d] if shape[d] > 1 else strides[d]
    return True


def suggest(shape, strides) -> memory_format:
    """torch's suggest_memory_format: channels_last (or _3d) for a 4-D (5-D) tensor whose
    strides rank its dims that way, else contiguous_format."""
    if len(shape) == 4 and strides_like(shape, strides, channels_last):
        return channels_last
    if len(shape) == 5 and strides_like(shape, strides, channels_last_3d):
        return channels_last_3d
    return contiguous_format


def non_overlapping_and_dense(shape, strides) -> bool:
    """torch's is_non_overlapping_and_dense: sorted by stride, the dims of size ≥ 2 tile
    memory exactly (each stride the product of the faster dims' sizes)."""
    if any(is_contiguous(shape, strides, f) for f in (contiguous_format, *_CHANNELS_LAST)):
        return True  # torch's shortcut (an empty tensor is row-major contiguous)
    need = 1
    for d in sorted((d for d in range(len(shape)) if shape[d] >= 2), key=strides.__getitem__):
        if strides[d] != need:
            return False
        need *= shape[d]
    return True


def aten_insertion_sort(perm: list, order) -> None:
    """Sort ``perm`` in place as ATen sorts dims: an insertion sort whose comparison
    ``order(d0, d1)`` answers 1 (swap), -1 (stop) or 0 (no opinion: look further back), which
    is not a total order, so the algorithm itself is part of torch's answer."""
    for i in range(1, len(perm)):
        d1 = i
        for d0 in range(i - 1, -1, -1):
            c = order(perm[d0], perm[d1])
            if c > 0:
                perm[d0], perm[d1] = perm[d1], perm[d0]
                d1 = d0
            elif c < 0:
                break


def dense_strides(shape, strides) -> tuple:
    """torch's infer_dense_strides: packed strides that keep the order of ``strides`` (the dims
    sorted as TensorIterator sorts them: a zero stride never moves, equal strides put the
    smaller dim first, ties keep the row-major order)."""
    ndim = len(shape)
    if ndim < 2:
        return (1,) * ndim
    perm = list(range(ndim - 1, -1, -1))  # fastest first

    def after(d0: int, d1: int) -> int:  # 1: d0 goes after d1, -1: before, 0: either
        s0, s1 = strides[d0], strides[d1]
        if s0 == 0 or s1 == 0:
            return 0
        if s0 != s1:
            return -1 if s0 < s1 else 1
        return 1 if shape[d0] > shape[d1] else 0

    aten_insertion_sort(perm, after)
    out, step = [0] * ndim, 1
    for d in perm:
        out[d] = step
        step *= shape[d] if shape[d] > 1 else 1
    return tuple(out)


def target_strides(shape, strides, fmt: memory_format) -> tuple:
    """The strides of a copy in ``fmt`` of a tensor with ``shape`` and ``strides`` (torch's
    empty_like and _to_copy): preserve_format keeps the input's strides where the input is
    dense, packs them in the same order where it is not; other formats give their own."""
    if fmt is not preserve_format:
        return format_strides(shape, fmt)
    strides = tuple(abs(s) for s in strides)
    if non_overlapping_and_dense(shape, strides):
        return strides
    return dense_strides(shape, strides)


def empty_strided(shape, strides, dtype):
    """An uninitialised array of ``shape`` whose elements lie ``strides`` elements apart (a
    dense layout: no gaps, no overlaps)."""
    n = 1
    for m in shape:
        n *= m
    extent = n and 1 + sum((m - 1) * s for m, s in zip(shape, strides, strict=True))
    return strided(xp.empty(max(n, extent), dtype=dtype), shape, strides)


def strided(flat, shape, strides):
    """The writeable 1-D array ``flat`` seen with ``shape`` and ``strides`` (in elements,
    dense). Where it can be, this is the row-major array of the dims sorted slowest first,
    transposed back: an ordinary NumPy view; only odd strides on size-1 dims need a strided
    view."""
    shape, strides = tuple(shape), tuple(strides)
    # slowest first; a size-1 dim sharing its stride with a longer one goes inside it
    order = sorted(range(len(shape)), key=lambda d: (-strides[d], shape[d] == 1, d))
    inverse = sorted(range(len(order)), key=order.__getitem__)
    n = 1
    for m in shape:
        n *= m
    a = flat[:n].reshape(tuple(shape[d] for d in order)).transpose(inverse)
    if not n or element_strides(a) == strides:
        return a
    byte_strides = tuple(s * flat.itemsize for s in strides)
    return backend.strided_view(flat, shape, byte_strides, writeable=True)


def laid_out(a, strides):
    """A copy of the array ``a`` with ``strides``."""
    out = empty_strided(a.shape, strides, a.dtype)
    out[...] = a
    return out


def like(source, a, fmt, fn: str):
    """The new array ``a`` (made row-major with ``source``'s shape by a ``*_like`` maker) laid
    out as ``fmt`` asks for a copy of ``source`` (an array): ``a`` itself when the layout is
    row-major already. ``fn`` names the maker in a TypeError. None is preserve_format, as
    torch's makers read it."""
    if fmt is None:
        fmt = preserve_format
    if fmt is preserve_format and source.flags.c_contiguous and 1 not in source.shape:
        return a  # the common case, quickly: a row-major source's copy is row-major
    target = target_strides(source.shape, element_strides(source), check(fmt, fn))
    return a if target == element_strides(a) else laid_out(a, target)
