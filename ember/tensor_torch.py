"""PyTorch's Tensor conveniences that compose ops ember already has (no new primitive).

``TorchTensorMethods`` is a mixin that ``Tensor`` (tensor.py) inherits, as it inherits
``TensorMethods``: device and dtype helpers, ``new_*`` makers, ``*_as`` shape helpers,
matrix products under torch's names, elementwise maths under torch's method names; and,
from ``TorchLogicMethods`` (tensor_torch_logic.py), comparisons, logic and in-place writes.
Each method is a few lines over Tensor's own operators and methods, so its gradient is right
by construction; tests hold each against torch.

``Tensor``, ``apply`` and ``as_array`` are bound as this module's globals by tensor.py (see
the note at the end of tensor.py).

``register_hook`` is not here but in tensor.py: a hook that rewrites the gradient flowing into
a tensor runs inside the backward engine (autograd.py), which no composition of ops can do.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import backend
from .amp.composite import as_one_op
from .backend import xp
from .errors import InputError
from .memory_formats import preserve_format
from .ops import elementwise as E
from .ops import shape as S
from .promotion import C_TYPE_NAMES
from .scalar_fits import CHECKED_SCALARS, check_scalar_fits, number_argument
from .tensor_methods import _promoted, _t
from .tensor_rounding import RoundingTensorMethods
from .tensor_shape_methods import shape_arg as _shape_arg

if TYPE_CHECKING:  # bound at import time by tensor.py
    from .tensor import Tensor, apply, as_array  # noqa: F401

#: torch's legacy type names, as ``Tensor.type()`` reports them (with ember's prefix).
_TYPE_NAMES = dict(
    zip(
        "float32 float64 float16 int64 int32 int16 int8 uint8 bool".split(),
        "Float Double Half Long Int Short Char Byte Bool".split(),
    )
)
_DTYPE_OF_NAME = {f"{v}Tensor": k for k, v in _TYPE_NAMES.items()}


class TorchTensorMethods(RoundingTensorMethods):
    """PyTorch's Tensor conveniences composed from existing ops; see the module docstring."""

    __slots__ = ()

    # ------------------------------------------------------------ device and dtype
    def cpu(self) -> Tensor:
        """The tensor on the CPU: itself. Every tensor of a process lives on its one device
        (EMBER_DEVICE); on the GPU this stays there, so torch's ``x.cpu().numpy()`` works,
        ``.numpy()`` making the host copy."""
        return self

    def cuda(self, device=None) -> Tensor:
        """The tensor on the GPU: itself in a process on the GPU (EMBER_DEVICE=cuda), a clear
        RuntimeError in one on the CPU."""
        backend.check_cuda(device)
        return self

    is_cuda = property(lambda self: backend.ON_GPU)

    def type(self, dtype=None):
        """No argument: the type name ("ember.FloatTensor"…); with a dtype or name: a cast."""
        if dtype is None:
            name = self.array.dtype.name
            return f"ember.{_TYPE_NAMES[name]}Tensor" if name in _TYPE_NAMES else name
        if isinstance(dtype, str):
            dtype = _DTYPE_OF_NAME.get(dtype.rpartition(".")[2], dtype)
        dtype = getattr(dtype, "_ember_legacy_dtype", dtype)  # x.type(ember.LongTensor)
        return self.astype(dtype)

    def type_as(self, other: Tensor) -> Tensor:
        """Cast to ``other``'s dtype."""
        return self.astype(other.dtype)

    def int(self, *, memory_format=preserve_format) -> Tensor:
        """Cast to int32; ``memory_format`` lays the result out (see ``to``)."""
        return self._relayout(self.astype(xp.int32), memory_format, "int")

    def half(self, *, memory_format=preserve_format) -> Tensor:
        """Cast to float16 (differentiable, as a float-to-float cast); ``memory_format`` lays
        the result out (see ``to``)."""
        return self._relayout(self.astype(xp.float16), memory_format, "half")

    def bool(self, *, memory_format=preserve_format) -> Tensor:
        """Cast to bool (nonzero is True); ``memory_format`` lays the result out (see ``to``)."""
        return self._relayout(self.astype(xp.bool_), memory_format, "bool")

    def element_size(self) -> int:
        """Bytes per element."""
        return int(self.array.itemsize)

    def nelement(self) -> int:
        """Number of elements (torch's alias of numel)."""
        return int(self.array.size)

    # ------------------------------------------------------------ makers (no gradient)
    def _new(self, make, size, dtype, device, requires_grad) -> Tensor:
        backend.check_device(device)
        a = make(_shape_arg(size), dtype=self.array.dtype if dtype is None else dtype)
        return Tensor(a, requires_grad=requires_grad)

    def new_zeros(self, *size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
        """Zeros of ``size``, self's dtype unless ``dtype`` is given."""
        return self._new(xp.zeros, size, dtype, device, requires_grad)

    def new_ones(self, *size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
        """Ones of ``size``, self's dtype unless ``dtype`` is given."""
        return self._new(xp.ones, size, dtype, device, requires_grad)

    def new_empty(self, *size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
        """A tensor of ``size`` (zero-filled here: reading it is then at least reproducible)."""
        return self._new(xp.zeros, size, dtype, device, requires_grad)

    def new_full(
        self, size, fill_value, *, dtype=None, device=None, requires_grad: bool = False
    ) -> Tensor:
        """``fill_value`` everywhere in ``size``, self's dtype unless ``dtype`` is given."""
        fill_value = number_argument(fill_value, "new_full", "fill_value", 2)
        t = self._new(xp.empty, (size,), dtype, device, requires_grad)
        if type(fill_value) in CHECKED_SCALARS:
            fill_value = check_scalar_fits(fill_value, t.array.dtype)
        t.array.fill(fill_value)
        return t

    def new_tensor(self, data, *, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
        """A copy of ``data`` (no graph), self's dtype unless ``dtype`` is given."""
        backend.check_device(device)
        a = xp.array(as_array(data), dtype=self.array.dtype if dtype is None else dtype)
        return Tensor(a, requires_grad=requires_grad)

    # ------------------------------------------------------------ shapes
    def view_as(self, other: Tensor) -> Tensor:
        """Reshape to ``other``'s shape."""
        return self.reshape(other.shape)

    reshape_as = view_as

    def expand_as(self, other: Tensor) -> Tensor:
        """Broadcast to ``other``'s shape (the gradient sums back)."""
        return self.expand(*other.shape)

    def repeat(self, *sizes) -> Tensor:
        """Tile ``sizes[i]`` times along dim i; extra leading sizes add leading dims."""
        sizes = _shape_arg(sizes)
        if len(sizes) < self.ndim or min(sizes, default=0) < 0:
            raise InputError(
                f"repeat: sizes {tuple(sizes)} for a tensor of {self.ndim} dims; give at least"
                f" {self.ndim}, none negative"
            )
        shape = (1,) * (len(sizes) - self.ndim) + self.shape
        # (s_0, s_1, …) → (1, s_0, 1, s_1, …) → expand to (r_0, s_0, r_1, s_1, …) → merge pairs
        inter = tuple(k for n in shape for k in (1, n))
        grown = tuple(k for r, n in zip(sizes, shape) for k in (r, n))
        merged = tuple(r * n for r, n in zip(sizes, shape))
        out = self.reshape(inter).expand(*grown).reshape(merged)
        # repeating nothing leaves a view of self: torch's result is always new memory
        return out.clone() if all(r == 1 for r in sizes) else out

    def tile(self, *dims) -> Tensor:
        """torch.tile: repeat with ``dims`` padded by leading ones to self's rank."""
        dims = _shape_arg(dims)
        return self.repeat((1,) * (self.ndim - len(dims)) + dims)

    def unbind(self, dim: int = 0) -> tuple:
        """The slices along ``dim``, that dimension removed."""
        n = self.shape[dim]
        if n == 0:
            return ()
        parts = self.split(1, dim)
        return tuple(p.squeeze(dim) for p in parts)

    def t(self) -> Tensor:
        """Transpose a matrix; a tensor of fewer than 2 dims comes back as a view of itself
        (a new tensor over the same memory, as torch's: changing either's shape in place
        leaves the other's)."""
        if self.ndim > 2:  # torch's RuntimeError (and ember's ValueError, as before)
            raise InputError(f"t() expects a tensor of at most 2 dims, got {self.ndim}")
        return self.reshape(self.shape) if self.ndim < 2 else self.transpose(0, 1)

    mT = property(lambda self: self.transpose(-2, -1))

    def _band(self, keep, name: str) -> Tensor:
        """self where keep(i, j) over the last two dims, else 0 (Where: no 0·inf = nan); a
        tensor of fewer than 2 dims is torch's RuntimeError."""
        if self.ndim < 2:
            raise InputError(
                f"{name}: input tensor must have at least 2 dimensions, got {self.ndim}"
                f" (shape {tuple(self.shape)})"
            )
        r, c = self.shape[-2:]
        mask = keep(xp.arange(r)[:, None], xp.arange(c)[None, :])
        return apply(E.Where, self, Tensor(xp.zeros((), self.array.dtype)), cond=mask)

    def tril(self, diagonal: int = 0) -> Tensor:
        """Lower triangle: keep j - i ≤ diagonal, zero the rest."""
        return self._band(lambda i, j: j - i <= diagonal, "tril")

    def triu(self, diagonal: int = 0) -> Tensor:
        """Upper triangle: keep j - i ≥ diagonal, zero the rest."""
        return self._band(lambda i, j: j - i >= diagonal, "triu")

    def diag(self, diagonal: int = 0) -> Tensor:
        """1-D → the matrix with self on that diagonal; 2-D → that diagonal as a 1-D tensor."""
        k = diagonal
        if self.ndim == 2:
            r, c = self.shape
            i = xp.arange(max(0, -k), max(0, min(r, c - k)))
            return self[i, i + k]
        if self.ndim != 1:
            raise InputError(f"diag expects a 1-D or 2-D tensor, got {self.ndim} dims")
        n = self.shape[0] + abs(k)
        # out[i, i+k] = x[i] (k ≥ 0): row i holds x[i]; out[j-k, j] = x[j] (k < 0): column j
        x = apply(S.Pad, self, pad_width=((0, abs(k)),), value=0.0)
        x = x.reshape(n, 1) if k >= 0 else x.reshape(1, n)
        i = xp.arange(n)
        zero = Tensor(xp.zeros((), self.array.dtype))
        return apply(E.Where, x.expand(n, n), zero, cond=(i[None, :] - i[:, None]) == k)

    # ------------------------------------------------------------ products
    def _need(self, other, nd: tuple, name: str) -> None:
        if self.ndim != nd[0] or other.ndim != nd[1]:
            raise InputError(
                f"{name} expects {nd[0]}-D and {nd[1]}-D tensors, got shapes {self.shape}"
                f" and {other.shape}"
            )

    def mm(self, other: Tensor) -> Tensor:
        """Matrix product of two 2-D tensors."""
        self._need(other, (2, 2), "mm")
        return self @ other

    def bmm(self, other: Tensor) -> Tensor:
        """Batched matrix product of (b, n, m) and (b, m, p)."""
        self._need(other, (3, 3), "bmm")
        return self @ other

    def matmul(self, other: Tensor) -> Tensor:
        """torch.matmul (the @ operator)."""
        return self @ other

    @as_one_op("dot")
    def dot(self, other: Tensor) -> Tensor:
        """Inner product of two 1-D tensors: Σ a_i b_i."""
        self._need(other, (1, 1), "dot")
        return self @ other

    def outer(self, other: Tensor) -> Tensor:
        """Outer product of two 1-D tensors: out[i, j] = a_i b_j."""
        self._need(other, (1, 1), "outer")
        return self.reshape(-1, 1) * other.reshape(1, -1)

    @as_one_op("addmm")
    def addmm(self, mat1: Tensor, mat2: Tensor, *, beta=1, alpha=1) -> Tensor:
        """β·self + α·(mat1 @ mat2); with β = 0 self is ignored (its nan too), as in torch."""
        out = mat1.mm(mat2)
        if alpha != 1:
            out = out * alpha
        if beta == 0:  # self's values are ignored, but its gradient is 0 (not None), as torch's
            return out * zero_grad_one(self) if self.requires_grad else out
        return out + (self if beta == 1 else self * beta)

    # ------------------------------------------------------------ elementwise maths
    def neg(self) -> Tensor:
        """-self."""
        return -self

    def pow(self, exponent) -> Tensor:
        """self ** exponent (a number or a tensor)."""
        return self**exponent

    def square(self) -> Tensor:
        """self² (of a bool tensor: int64, as ``**`` gives it)."""
        return self**2

    def rsqrt(self) -> Tensor:
        """1/√self, as torch computes it (self^-½ would give +0 at -inf and +inf at -0)."""
        return self.sqrt().reciprocal()

    def reciprocal(self) -> Tensor:
        """1/self."""
        return 1.0 / self

    def masked_fill(self, mask, value) -> Tensor:
        """``value`` where ``mask`` is True, else self (value may be a 0-d tensor)."""
        cond, v = self._masked_fill_args(mask, value)
        return apply(E.Where, v, self, cond=cond)

    def _masked_fill_args(self, mask, value) -> tuple:
        """masked_fill's mask as a bool array and value as a Tensor of self's dtype, with
        torch's refusals (a mask not bool, a complex value into a real tensor)."""
        if type(value) in CHECKED_SCALARS:
            value = check_scalar_fits(value, self.array.dtype)
        elif isinstance(value, Tensor) and value.ndim:  # NumPy would broadcast it
            raise InputError(
                "masked_fill_ only supports a 0-dimensional value tensor, but got tensor with"
                f" {value.ndim} dimension(s)."
            )
        cond = as_array(mask)
        if cond.dtype.kind != "b":  # torch: no integer or float masks (an easy mix-up)
            raise RuntimeError(
                "masked_fill_ only supports boolean masks, but got mask with dtype"
                f" {C_TYPE_NAMES.get(cond.dtype.name, cond.dtype.name)}"
            )
        v = value if isinstance(value, Tensor) else Tensor(xp.asarray(value, self.array.dtype))
        if v.array.dtype != self.array.dtype:  # a 0-d tensor value takes self's dtype, as torch
            if v.array.dtype.kind == "c" and self.array.dtype.kind != "c" and v.ndim == 0:
                check_scalar_fits(complex(v.item()), self.array.dtype)  # an imaginary part: no
                v = v.real
            v = v.astype(self.array.dtype)
        return cond, v

    def where(self, condition, other) -> Tensor:
        """self where ``condition`` else ``other`` (torch's Tensor.where), in torch's result
        dtype (an int tensor with 0.5: float32; with a 0-d int64 tensor: its own dtype)."""
        return apply(E.Where, *_promoted(self, _t(other, self)), cond=as_array(condition))


def zero_grad_one(t: Tensor) -> Tensor:
    """1, of t's shape and dtype, whose gradient to t is 0: out·zero_grad_one(t) keeps out's
    values (−0.0 and all) yet gives t the zero gradient torch gives an ignored input."""
    zero = Tensor(xp.zeros((), dtype=t.dtype))
    return t.where(xp.zeros(t.shape, dtype=bool), zero) + 1
