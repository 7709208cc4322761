"""Tensor methods for torch's further shape ops, each a composition of differentiable ops
(so autograd gives their gradients): flatten, unfold, unflatten, flip, roll, narrow, diff,
tensor_split, rot90, hsplit, vsplit, dsplit, msort and kthvalue, with torch's argument checks
in its order.

``Tensor``, ``apply`` and ``as_array`` are bound as this module's globals by tensor.py.
"""

from __future__ import annotations

import math
import warnings
from collections import namedtuple
from typing import TYPE_CHECKING

from .backend import xp
from .errors import IndexInputError, InputError
from .memory_formats import contiguous_format
from .ops import shape as S
from .ops.complex_refuse import refuse_complex
from .ops.index import check_dim, int_argument
from .tensor_operands import _in_result_dtype
from .tensor_shape_methods import shape_arg as _shape_arg

if TYPE_CHECKING:  # bound at import time by tensor.py
    from .tensor import Tensor, apply, as_array  # noqa: F401


def _dims(dims) -> tuple:
    return (dims,) if isinstance(dims, int) else tuple(dims)


#: What kthvalue() returns, named as torch.return_types: ``values, indices = x.kthvalue(2)``
KthvalueResult = namedtuple("kthvalue", ["values", "indices"])


def _split_along(x, name: str, min_ndim: int, dim: int, indices_or_sections) -> tuple:
    if x.ndim < min_ndim:
        raise RuntimeError(
            f"torch.{name} requires a tensor with at least {min_ndim} dimension"
            f"{'s' if min_ndim > 1 else ''}, but got a tensor with {x.ndim} dimensions!"
        )
    if isinstance(indices_or_sections, int) and not isinstance(indices_or_sections, bool):
        size = x.shape[dim]
        if indices_or_sections <= 0 or size % indices_or_sections:
            raise RuntimeError(
                f"torch.{name} attempted to split along dimension {dim}, but the size of the"
                f" dimension {size} is not divisible by the split_size {indices_or_sections}!"
            )
    return x.tensor_split(indices_or_sections, dim)


def reversed_dims(t):
    """``t.T``: the dims in reverse order. On a tensor of other than 2 dims torch warns that
    this use is deprecated (and names what to use instead); ember warns alike."""
    if t.ndim == 0:
        warnings.warn(
            "Tensor.T is deprecated on 0-D tensors. This function is the identity in these cases.",
            UserWarning,
            stacklevel=2,
        )
    elif t.ndim != 2:
        warnings.warn(
            "The use of `x.T` on tensors of dimension other than 2 to reverse their shape is"
            " deprecated and it will throw an error in a future release. Consider `x.mT` to"
            " transpose batches of matrices or `x.permute(*torch.arange(x.ndim - 1, -1, -1))`"
            " to reverse the dimensions of a tensor.",
            UserWarning,
            stacklevel=2,
        )
    return t.permute(*reversed(range(t.ndim)))


class ShapeMoreTensorMethods:
    """flatten / unfold / unflatten / flip / roll / narrow / diff / tensor_split / rot90 /
    hsplit / vsplit / dsplit / msort / kthvalue; see above."""

    __slots__ = ()

    def flatten(self, start_dim=0, end_dim=-1):
        """Dims start_dim..end_dim merged into one (a 0-d tensor becomes 1-D); torch's dim
        checks and errors. One dim to merge (a 1-D tensor, start_dim = end_dim) gives the
        tensor itself, as torch's."""
        nd = self.ndim
        n = max(nd, 1)
        for d in (start_dim, end_dim):
            if not -n <= d < n:  # torch's message and error type
                raise IndexError(
                    f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], but"
                    f" got {d})"
                )
        if start_dim % n > end_dim % n:
            raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
        if nd == 0:
            return self.reshape(1)
        s, e = start_dim % nd, end_dim % nd
        if s == e:  # nothing to merge: torch hands back the tensor itself, not a view of it
            return self
        shape = self.array.shape
        n = 1
        for k in shape[s : e + 1]:
            n *= k
        return self.reshape(shape[:s] + (n,) + shape[e + 1 :])

    def rot90(self, k: int = 1, dims=(0, 1)) -> Tensor:
        """self rotated by 90° k times in the plane of dims, from dims[0] towards dims[1]."""
        dims = tuple(dims)
        if len(dims) != 2:
            raise RuntimeError(f"expected total rotation dims == 2, but got dims = {len(dims)}")
        if self.ndim < 2:
            raise RuntimeError(f"expected total dims >= 2, but got total dims = {self.ndim}")
        d0, d1 = (check_dim("rot90", d, self.ndim) for d in dims)
        if d0 == d1:
            raise RuntimeError(
                f"expected rotation dims to be different, but got dim0 = {dims[0]} and"
                f" dim1 = {dims[1]}"
            )
        k %= 4
        if k == 1:
            return self.flip(d1).transpose(d0, d1)
        if k == 2:
            return self.flip(d0, d1)
        if k == 3:
            return self.flip(d0).transpose(d0, d1)
        return self.clone(memory_format=contiguous_format)  # k = 0: torch's copy is row-major

    def hsplit(self, indices_or_sections) -> tuple:
        """tensor_split along dim 1 (dim 0 of a 1-D tensor); an int must divide that size."""
        return _split_along(self, "hsplit", 1, 0 if self.ndim == 1 else 1, indices_or_sections)

    def vsplit(self, indices_or_sections) -> tuple:
        """tensor_split along dim 0 of a tensor of ≥ 2 dims; an int must divide that size."""
        return _split_along(self, "vsplit", 2, 0, indices_or_sections)

    def dsplit(self, indices_or_sections) -> tuple:
        """tensor_split along dim 2 of a tensor of ≥ 3 dims; an int must divide that size."""
        return _split_along(self, "dsplit", 3, 2, indices_or_sections)

    def msort(self) -> Tensor:
        """The values sorted along dim 0 (ascending)."""
        return self.sort(0).values

    def kthvalue(self, k: int, dim: int = -1, keepdim: bool = False):
        """(values, indices) of the k-th smallest element (1-based) along dim, the gradient to
        the element at the index; among equal values the first of a stable sort, nan largest."""
        k = int_argument("kthvalue", "k", 2, k)
        refuse_complex(self.array, "kthvalue", NotImplementedError)
        d = check_dim("kthvalue", dim, self.ndim)
        x = self.reshape(1) if self.ndim == 0 else self
        n = x.shape[d]
        if not 1 <= k <= n:
            raise IndexInputError(
                f"kthvalue(): selected number k out of range for dimension {dim}: expected"
                f" 1 <= k <= {n}, got k = {k}"
            )
        if self.array.dtype.kind == "b" and self.ndim:  # torch has no bool kernel (checked
            # after k, as torch; a 0-d tensor is its own k-th value there)
            raise NotImplementedError("\"kthvalue_cpu\" not implemented for 'Bool'")
        index = xp.take(xp.argsort(x.array, axis=d, kind="stable"), [k - 1], axis=d)
        index = index.astype(xp.int64)
        return self._values_at(x, d, index, keepdim, KthvalueResult)

    def unfold(self, dimension: int, size: int, step: int) -> Tensor:
        """Every window of ``size`` elements along ``dimension``, ``step`` apart, as a new last
        axis (torch's Tensor.unfold; ``F.unfold`` is the image one, im2col)."""
        if self.ndim == 0:  # torch: a scalar unfolds as a one-element vector (dim 0 or -1)
            check_dim("unfold", dimension, 0)
            return self.reshape(1).unfold(0, size, step).reshape(size)
        if not -self.ndim <= dimension < self.ndim:
            raise IndexError(f"unfold: dimension {dimension} out of range for a"
                             f" {self.ndim}-D tensor of shape {self.shape}")  # fmt: skip
        d = dimension % self.ndim
        if step < 1:  # torch's RuntimeError (and ember's ValueError, as before)
            raise InputError(f"unfold: step must be positive, got {step}")
        if not 0 <= size <= self.shape[d]:
            raise InputError(f"unfold: window size {size} must be within 0 and the size"
                             f" {self.shape[d]} of dimension {d} (shape {self.shape})")  # fmt: skip
        return apply(S.Windows, self, dim=d, size=size, step=step)

    def unflatten(self, dim: int, sizes) -> Tensor:
        """Split dimension ``dim`` into ``sizes`` (one of them may be -1, inferred from that
        dimension's size, also where the tensor is empty), with torch's errors."""
        if not tuple(sizes):  # torch checks the sizes first, then the dim
            raise RuntimeError("unflatten: sizes must be non-empty")
        if self.ndim == 0:
            check_dim("unflatten", dim, 0)  # out of range: IndexError
            raise RuntimeError(f"unflatten(): dim {dim} given, but the tensor has no dimensions")
        d, sizes = check_dim("unflatten", dim, self.ndim), tuple(int(n) for n in sizes)
        n, known, inferred = self.shape[d], math.prod(s for s in sizes if s != -1), -1 in sizes
        if sizes.count(-1) > 1:  # (empty sizes were refused above)
            raise RuntimeError(
                f"unflatten: sizes must be non-empty with at most one -1, got {list(sizes)}"
            )
        if inferred and known == 0 and n == 0:
            raise RuntimeError(f"unflatten: the -1 in {list(sizes)} is ambiguous for a size of 0")
        if (n % known if known else True) if inferred else known != n:
            raise RuntimeError(
                f"unflatten: Provided sizes {list(sizes)} don't multiply up to the size of dim"
                f" {d} ({n}) in the input tensor"
            )
        sizes = tuple(n // known if s == -1 else s for s in sizes)
        return self.reshape(self.shape[:d] + sizes + self.shape[d + 1 :])

    def flip(self, *dims) -> Tensor:
        """Reverse the order of elements along ``dims``: a copy, as torch's (a NumPy flip is
        a view, and an in-place change of the result must not reach self)."""
        index, dims = [slice(None)] * self.ndim, _dims(_shape_arg(dims))
        for d in dims:  # torch names a dim out of range before one named twice
            check_dim("flip", d, self.ndim)
        if len({d % max(self.ndim, 1) for d in dims}) < len(dims):  # torch refuses (flip once?)
            raise InputError(f"flip: dims {tuple(dims)} name a dim more than once")
        for d in dims:
            if self.ndim == 0:  # torch takes dim 0 or -1 of a 0-d tensor: nothing to reverse
                check_dim("flip", d, 0)
                continue
            index[d] = slice(None, None, -1)
        return self[tuple(index)].clone()

    def roll(self, shifts, dims=None) -> Tensor:
        """Shift elements cyclically by ``shifts`` along ``dims`` (flattened when None). A new
        tensor, as torch's, also where every shift is a whole turn."""
        if not _dims(shifts):
            raise InputError("roll: `shifts` required (got none)")
        if dims is None or (isinstance(dims, (tuple, list)) and not dims):  # (): as None
            if len(_dims(shifts)) != 1:
                raise InputError(
                    f"roll: shifts and dimensions must align: {len(_dims(shifts))} shifts for"
                    " the flattened tensor; give one"
                )
            return self.flatten().roll(shifts, 0).reshape(self.shape)
        out, shifts, dims = self, _dims(shifts), _dims(dims)
        if len(shifts) != len(dims):
            raise InputError(f"roll: {len(shifts)} shifts for {len(dims)} dims; give one per dim")
        for s, d in zip(shifts, dims):
            n = out.shape[check_dim("roll", d, self.ndim)]
            k = s % n if n else 0
            if k:  # out[i] = x[i - k]: the last k elements come first
                tail, head = out.split([n - k, k], d)
                out = apply(S.Cat, head, tail, axis=d)
        return self.clone() if out is self else out

    def narrow(self, dim: int, start: int, length: int) -> Tensor:
        """Elements ``start`` … ``start + length - 1`` along ``dim`` (a view), with torch's
        errors for a start or length that does not fit."""
        if self.ndim == 0:
            raise InputError("narrow() cannot be applied to a 0-dim tensor.")
        start, length = int(start), int(length)
        if length < 0:  # torch checks the length before the dim
            raise RuntimeError("narrow(): length must be non-negative.")
        d = check_dim("narrow", dim, self.ndim)
        n = self.shape[d]
        if not -n <= start <= n:
            raise IndexError(
                f"start out of range (expected to be in range of [{-n}, {n}], but got {start})"
            )
        s = start + n if start < 0 else start
        if s + length > n:
            raise RuntimeError(f"start ({s}) + length ({length}) exceeds dimension size ({n}).")
        index = [slice(None)] * self.ndim
        index[d] = slice(s, s + length)
        return self[tuple(index)]

    def diff(self, n: int = 1, dim: int = -1, prepend=None, append=None) -> Tensor:
        """The n-th forward difference along dim, out_i = x_{i+1} − x_i applied n times
        (bool: x_{i+1} ≠ x_i), after joining prepend and append along dim."""
        if self.ndim == 0:
            raise RuntimeError("diff expects input to be at least one-dimensional (got a 0-d one)")
        if n < 0:  # torch checks the order before the dim
            raise InputError(f"diff(): order must be non-negative but got {n}")
        if n == 0:  # torch: a copy of self, prepend and append unused (the dim then checked)
            if prepend is not None or append is not None:
                check_dim("diff", dim, self.ndim)
            return self.clone()
        d = check_dim("diff", dim, self.ndim)
        parts = [p for p in (prepend, self, append) if p is not None]
        if len(parts) > 1:
            parts = [self._edge(p, d) if p is not self else p for p in parts]
            x = apply(S.Cat, *_in_result_dtype(*parts), axis=d)  # int with float32: float32
        else:
            x = self
        for _ in range(n):
            m = x.shape[d]
            if m == 0:
                break
            hi, lo = x.narrow(d, 1, m - 1), x.narrow(d, 0, m - 1)
            x = Tensor(hi.array != lo.array) if x.array.dtype.kind == "b" else hi - lo
        return x

    def _edge(self, p, d):
        """prepend/append checked as torch's: a tensor (a number is its TypeError) of self's
        number of dims and self's sizes except along d (else its RuntimeError)."""
        if not isinstance(p, Tensor):
            raise TypeError(f"diff(): prepend and append must be tensors, got {type(p).__name__}")
        if p.ndim != self.ndim:
            raise InputError(
                "diff expects prepend or append to be the same dimension as input: input has"
                f" {self.ndim} dims, got {p.ndim}"
            )
        if any(a != b for k, (a, b) in enumerate(zip(self.shape, p.shape)) if k != d):
            raise InputError(
                "diff expects the shape of tensor to prepend or append to match that of input"
                f" except along the differencing dimension {d}: input {tuple(self.shape)}, got"
                f" {tuple(p.shape)}"
            )
        return p

    def tensor_split(self, indices_or_sections, dim: int = 0) -> tuple:
        """Split along dim into k parts (the first n mod k one longer), or at the listed
        indices (x[:i₀], x[i₀:i₁], …, x[i_last:])."""
        if self.ndim == 0:
            raise InputError(
                "tensor_split expected at least a 1-dimensional tensor, but got a tensor with 0"
                " dims"
            )
        d = check_dim("tensor_split", dim, self.ndim)
        s = indices_or_sections
        if isinstance(s, Tensor):
            s = s.array.item() if s.ndim == 0 else s.array.tolist()
        if isinstance(s, int):
            if s <= 0:
                raise InputError(f"tensor_split(): number of sections must be positive, got {s}")
            q, r = divmod(self.shape[d], s)
            bounds = [i * q + min(i, r) for i in range(1, s)]
        else:
            bounds = [int(i) for i in s]
        return tuple(apply(S.Split, self, indices=bounds, axis=d))
