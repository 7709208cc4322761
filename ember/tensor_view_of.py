"""torch.Tensor.view: the same memory under another shape (``view_of``), or the same bytes read
as another dtype (``view_dtype``), with torch's refusals. Split from tensor_views.py.

``Tensor`` is bound as this module's global by tensor.py (see the note at the end of tensor.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .backend import strided_view, xp

if TYPE_CHECKING:  # bound at import time by tensor.py
    from .tensor import Tensor  # noqa: F401


def view_dtype(t: Tensor, dtype) -> Tensor:
    """torch.Tensor.view(dtype): t's bytes read as ``dtype``, sharing t's memory, outside the
    graph as torch's (the result never requires grad). With a smaller element the last dim
    grows by the ratio, with a larger one it shrinks, as torch's; that needs the last dim
    contiguous (stride 1), a divisible size, and at least one dim."""
    from .promotion import torch_dtype_name

    a, new = t.array, xp.dtype(dtype)
    if new.itemsize != a.itemsize:
        what = (
            f"to view {torch_dtype_name(a.dtype)} as {torch_dtype_name(new)}"
            " (different element sizes)"
        )
        if a.ndim == 0:
            raise RuntimeError(f"self.dim() cannot be 0 {what}")
        if a.shape[-1] != 1 and a.strides[-1] != a.itemsize:
            raise RuntimeError(
                f"self.stride(-1) must be 1 {what}, but got {a.strides[-1] // a.itemsize}"
            )
        ratio = new.itemsize // a.itemsize
        if ratio > 1 and a.shape[-1] % ratio:
            raise RuntimeError(
                f"self.size(-1) must be divisible by {ratio} {what}, but got {a.shape[-1]}"
            )
        if ratio > 1:  # each new element must start at a whole multiple of its size
            _check_larger_elements(t, a, ratio, what)
        if a.shape[-1] == 1 and a.strides[-1] != a.itemsize:  # size-1 dim: any stride is fine
            a = strided_view(a, a.shape, a.strides[:-1] + (a.itemsize,), writeable=True)
    return Tensor(a.view(new))


def _check_larger_elements(t: Tensor, a, ratio: int, what: str) -> None:
    """torch's refusals for reading ``ratio`` elements as one: the offset and every other dim's
    stride (in elements) must be multiples of ratio, or the new elements would straddle two
    of the old ones (NumPy would read them misaligned). Dims of size 1 are not checked: their
    stride is never used (NumPy's and torch's may differ there)."""
    if t.storage_offset() % ratio:
        raise RuntimeError(
            f"self.storage_offset() must be divisible by {ratio} {what}, but got"
            f" {t.storage_offset()}"
        )
    for d, (n, step) in enumerate(zip(a.shape[:-1], a.strides[:-1])):
        if n > 1 and (step // a.itemsize) % ratio:
            raise RuntimeError(
                f"self.stride({d}) must be divisible by {ratio} {what}, but got"
                f" {step // a.itemsize}"
            )


def _is_dtype(obj) -> bool:
    return isinstance(obj, xp.dtype) or (isinstance(obj, type) and issubclass(obj, xp.generic))


def view_of(t: Tensor, shape: tuple, dtype=None) -> Tensor:
    """torch.Tensor.view: the same memory with another shape, refused as torch refuses it
    where the strides cannot say the new shape (a transpose flattened: reshape copies there);
    or, given a dtype (``view(ember.int32)`` or ``view(dtype=...)``), the same bytes read as
    that dtype (``view_dtype``)."""
    if dtype is not None or (len(shape) == 1 and _is_dtype(shape[0])):
        return view_dtype(t, dtype if dtype is not None else shape[0])
    y = t.reshape(*shape)
    a, b = t.array, y.array
    if b.size and b.strides != a.strides and not xp.may_share_memory(a, b):
        raise RuntimeError(
            f"view size is not compatible with input tensor's size and stride (shape"
            f" {t.shape}, strides {t.stride()} into {y.shape}): at least one dimension spans"
            " across two contiguous subspaces. Use .reshape(...) instead."
        )
    return y
