"""torch.Tensor's memory methods that ember lacked (resize_, resize_as_, set_, new,
new_empty_strided, as_strided_, as_strided_scatter) and the Householder QR pair geqrf / ormqr,
as methods and as the top-level functions ``geqrf`` and ``ormqr`` (for ember/__init__).

ember's storage model is torch's (ops/as_strided.py): a tensor views one flat run of memory,
its storage, at an offset with strides. resize_ and set_ work on it as torch does: shrinking
keeps self's memory (other views still see the elements they share), and a resize beyond the
storage copies it into a new, larger one. Two differences, both because a NumPy array cannot
grow in place: the elements a resize adds are zeros (torch leaves them uninitialised), and
other tensors viewing the old storage keep viewing it (in torch they see the grown one).
``new(2, 3)``, torch's uninitialised legacy constructor, gives zeros too.

Tensor inherits these through ``MoreTorchTensorMethods`` (tensor_torch_more.py), whose
module globals ``Tensor``, ``apply`` and ``as_array`` tensor.py binds; this module reads them
there (``_m``), so it needs no wiring of its own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import memory_formats as MF
from . import tensor_torch_more as _m  # partly initialised here: read at call time only
from .backend import get_array_module, strided_view, xp
from .function import Function, is_grad_enabled
from .ops import as_strided as AS
from .promotion import torch_dtype_name
from .size import Size

if TYPE_CHECKING:
    from .tensor import Tensor


def _sizes(name: str, sizes) -> tuple:
    """torch's ``*sizes``: ints, or one tuple / list / Size of them; none negative."""
    if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
        sizes = sizes[0]
    out = tuple(int(n.__index__()) for n in sizes)
    if any(n < 0 for n in out):
        raise RuntimeError(f"{name}: Trying to create tensor with negative dimension: {list(out)}")
    return out


_C_TYPES = {"float16": "c10::Half", "float32": "float", "float64": "double", "int64": "long int",
            "int32": "int", "int16": "short", "int8": "signed char", "uint8": "unsigned char",
            "bool": "bool", "complex64": "c10::complex<float>",
            "complex128": "c10::complex<double>"}  # fmt: skip


def _c_name(dtype) -> str:
    """The C++ type torch's set_ names in its dtype error."""
    return _C_TYPES.get(str(dtype), str(dtype))


def _contiguous_strides(shape) -> tuple:
    strides, step = [], 1
    for n in reversed(shape):
        strides.append(step)
        step *= max(n, 1)
    return tuple(reversed(strides))


def _clone_strides(a) -> tuple:
    """The strides torch's clone() gives (preserve_format): a's own where a is non-overlapping
    and dense (its elements fill one block of memory, as a permutation of a contiguous
    tensor's do), else the contiguous ones."""
    itemsize, shape = a.itemsize, a.shape
    strides = tuple(s // itemsize for s in a.strides)
    dims = sorted((s, n) for n, s in zip(shape, strides) if n != 1)
    expected = 1
    for s, n in dims:
        if s != expected:
            return _contiguous_strides(shape)
        expected *= n
    return tuple(strides[d] if shape[d] != 1 else 1 for d in range(len(shape))) if dims else (
        _contiguous_strides(shape))  # fmt: skip


class AsStridedScatter(Function):
    """out = a copy of x with the elements at as_strided(size, stride, offset) set from src.

    The positions count in the storage of x's copy, laid out as torch's clone() lays it out
    (x's strides where x is dense, else row-major), from offset 0 by default. Backward:
    ∂L/∂src = ∂L/∂out at the written positions; ∂L/∂x = ∂L/∂out with those positions zeroed.
    """

    def forward(self, x, src, size, stride, storage_offset=None):
        xp_ = get_array_module(x)
        lay = _clone_strides(x)
        n = 0 if x.size == 0 else 1 + sum((m - 1) * s for m, s in zip(x.shape, lay))
        offset = 0 if storage_offset is None else int(storage_offset)
        AS.check_geometry(size, stride, offset, n, x.itemsize)
        if tuple(src.shape) != tuple(size):
            raise RuntimeError(
                "expected src to have a size equal to the slice of self. src size ="
                f" {list(src.shape)}, slice size = {list(size)}"
            )
        if AS.may_overlap(size, stride):
            raise RuntimeError(
                "unsupported operation: more than one element of the written-to tensor refers"
                " to a single memory location. Please clone() the tensor before performing the"
                " operation."
            )
        self.x_at = AS.places(xp_, x.shape, lay, 0)
        self.y_at = AS.places(xp_, size, stride, offset)
        self.n, self.src_dtype = n, src.dtype
        buf = xp_.zeros(n, dtype=x.dtype)
        buf[self.x_at] = x
        buf[self.y_at] = src.astype(x.dtype, copy=False)
        return strided_view(buf, x.shape, tuple(s * x.itemsize for s in lay), True)

    def backward(self, gy):
        xp_ = get_array_module(gy)
        g = xp_.zeros(self.n, dtype=gy.dtype)
        g[self.x_at] = gy
        gsrc = g[self.y_at].astype(self.src_dtype, copy=False)
        g[self.y_at] = 0
        return g[self.x_at], gsrc


class Geqrf(Function):
    """(a, tau) = geqrf(A): LAPACK's compact QR (R on and above a's diagonal, the Householder
    vectors below it). Not differentiable, as torch's: backward raises as torch's does."""

    multi_output = True

    def forward(self, A):  # noqa: N803
        xp_ = get_array_module(A)
        h, tau = xp_.linalg.qr(A, mode="raw")  # h is a transposed (LAPACK's column order)
        return xp_.ascontiguousarray(xp_.swapaxes(h, -1, -2)).astype(A.dtype), tau.astype(A.dtype)

    def backward(self, ga, gtau):
        raise NotImplementedError("the derivative for 'geqrf' is not implemented.")


def geqrf(input) -> tuple:  # noqa: A002 - torch's argument name
    """torch.geqrf: (a, tau), A = QR in LAPACK's compact form: R on and above a's diagonal,
    the Householder vectors v_i below it (v_i[i] = 1 implied), Q = H₁⋯H_k with
    H_i = I − τ_i v_i v_iᴴ and k = min(m, n). Use ormqr (or orgqr) to apply (or form) Q."""
    if input.ndim < 2:
        raise RuntimeError("torch.geqrf: input must have at least 2 dimensions.")
    if input.dtype.kind not in "fc":
        raise NotImplementedError(
            f"\"geqrf_cpu\" not implemented for '{torch_dtype_name(input.dtype)}'"
        )
    return _m.apply(Geqrf, input)


def ormqr(input, input2, input3, left: bool = True, transpose: bool = False) -> Tensor:  # noqa: A002
    """torch.ormqr: Q·C (left) or C·Q (right), with Q (or Qᴴ, ``transpose``) given by geqrf's
    (input, tau = input2) and C = input3: the reflectors H_i = I − τ_i v_i v_iᴴ applied one at
    a time, H_i C = C − τ_i v_i (v_iᴴ C), never forming Q; differentiable in all three."""
    A, tau, C = input, input2, input3  # noqa: N806
    _check_ormqr(A, tau, C, left)
    k = tau.shape[-1]
    mn = A.shape[-2]
    V = A[..., :, :k].tril(-1) + _m.Tensor(xp.eye(mn, k, dtype=A.dtype))  # noqa: N806
    # Q = H₁⋯H_k: Q·C applies H_k first, Qᴴ·C H₁ᴴ first; C·Q H₁ first, C·Qᴴ H_kᴴ first
    order = range(k) if left == transpose else range(k - 1, -1, -1)
    for i in order:
        v = V[..., :, i : i + 1]
        t = tau[..., i : i + 1].unsqueeze(-1)
        if transpose:
            t = t.conj()
        C = C - (t * v) @ (v.mH @ C) if left else C - (C @ v) @ (t * v.mH)  # noqa: N806
    return C


def _check_ormqr(A, tau, C, left: bool) -> None:  # noqa: N803
    """torch's refusals, with its messages."""
    name = "torch.ormqr"
    for t, what in ((A, "input"), (C, "other")):
        if t.ndim < 2:
            raise RuntimeError(f"{name}: {what} must have at least 2 dimensions.")
    if tau.ndim != A.ndim - 1:
        raise RuntimeError(
            f"{name}: Expected tau to have one dimension less than input, but got tau.ndim"
            f" equal to {tau.ndim} and input.ndim is equal to {A.ndim}"
        )
    if C.ndim != A.ndim:
        raise RuntimeError(
            f"{name}: Expected other to have the same number of dimensions as input, but got"
            f" other.ndim equal to {C.ndim} and input.ndim is equal to {A.ndim}"
        )
    side = -2 if left else -1
    if C.shape[side] != A.shape[-2]:
        raise RuntimeError(f"{name}: other.shape[{side}] must be equal to input.shape[-2]")
    if tau.shape[-1] != min(C.shape[side], A.shape[-1]):
        raise RuntimeError(
            f"{name}: tau.shape[-1] must be equal to min(other.shape[{side}], input.shape[-1])"
        )
    for t, what in ((tau, "tau"), (C, "other")):
        if tuple(t.shape[: A.ndim - 2]) != tuple(A.shape[:-2]):
            raise RuntimeError(
                f"{name}: Expected batch dimensions of {what} to be equal to input.shape[:-2],"
                f" but got {list(t.shape[: A.ndim - 2])}"
            )
        if t.dtype != A.dtype:
            raise RuntimeError(
                f"{name}: Expected input and {what} to have the same dtype, but input has dtype"
                f"{torch_dtype_name(A.dtype)} and {what} has dtype {torch_dtype_name(t.dtype)}"
            )
    if A.dtype.kind not in "fc":
        raise NotImplementedError(
            f"\"ormqr_cpu\" not implemented for '{torch_dtype_name(A.dtype)}'"
        )


class MoreTorchTensorMethods2:
    """torch.Tensor's memory methods and geqrf / ormqr; see the module docstring."""

    __slots__ = ()

    # ------------------------------------------------------------ resizing in place
    def resize_(self, *sizes, memory_format=None) -> Tensor:
        """torch.Tensor.resize_: self becomes a contiguous tensor of ``sizes`` over its own
        storage from its offset, so a shrink keeps the first elements of that memory (for a
        contiguous tensor: the first in row-major order). Growing past the storage copies it
        into a new one, the added elements zeros (uninitialised in torch). The same sizes
        change nothing. With ``memory_format`` the strides become that format's (the same
        memory read in another order, even at the same sizes, as torch's). Refused on a tensor
        that requires grad, as torch refuses it."""
        size = _sizes("resize_", sizes)
        if self.requires_grad:
            raise RuntimeError("cannot resize variables that require grad")
        strides = None
        if memory_format is not None:
            if MF.check(memory_format, "resize_") is MF.preserve_format:
                raise RuntimeError("Unsupported memory formatPreserve")  # sic, torch's
            strides = MF.format_strides(size, memory_format)
        elif size == self.array.shape:
            return self
        flat, offset = AS.storage_of(self.array)
        n = 1
        for m in size:
            n *= m
        if offset + n > flat.size:  # a new storage: the old one's elements, then zeros
            grown = xp.zeros(offset + n, dtype=self.array.dtype)
            grown[: flat.size] = flat
            flat = grown
        part = flat[offset : offset + n]
        self._rebind(part.reshape(size) if strides is None else MF.strided(part, size, strides))
        return self

    def resize_as_(self, the_template, memory_format=None) -> Tensor:
        """torch.Tensor.resize_as_: resize_(the_template.shape, memory_format=);
        preserve_format there takes the layout the template's strides suggest."""
        if memory_format is MF.preserve_format:
            memory_format = MF.suggest(the_template.shape, the_template.stride())
        return self.resize_(tuple(the_template.shape), memory_format=memory_format)

    def set_(self, source=None, storage_offset: int = 0, size=None, stride=None) -> Tensor:
        """torch.Tensor.set_: ``set_(source)``: self views source's memory with its shape,
        strides and offset (writes show through both); ``set_(source, offset, size, stride)``:
        self views source's storage with that geometry (row-major strides when none are given);
        ``set_()``: self becomes empty (shape (0,)); a storage (``x.untyped_storage()``) as
        source is viewed as self's dtype. Geometries beyond the storage are refused (torch
        grows it)."""
        self._refuse_grad("set_", source)
        if source is None:
            self._rebind(xp.empty((0,), dtype=self.array.dtype))
            return self
        from .storage import TypedStorage, UntypedStorage, elements_of

        if isinstance(source, (UntypedStorage, TypedStorage)):  # its bytes as self's dtype
            flat = elements_of(source, self.array.dtype)
            size = (flat.size - int(storage_offset),) if size is None else size  # all, 1-D
            return self._set_view(flat, storage_offset, size, stride)
        if not isinstance(source, _m.Tensor):
            raise TypeError(
                f"set_(): source must be an ember Tensor or a storage, got {type(source).__name__}"
            )
        if source.array.dtype != self.array.dtype:
            raise RuntimeError(
                f"Could not set tensor of type {_c_name(source.array.dtype)} to a tensor of"
                f" type {_c_name(self.array.dtype)}"
            )
        if size is None:
            self._rebind(source.array)
            return self
        flat, _ = AS.storage_of(source.array)
        return self._set_view(flat, storage_offset, size, stride)

    def _set_view(self, flat, storage_offset, size, stride) -> Tensor:
        size = tuple(int(n) for n in size)
        stride = _contiguous_strides(size) if not stride else tuple(int(s) for s in stride)
        AS.check_geometry(size, stride, int(storage_offset), flat.size, flat.itemsize)
        steps = tuple(s * flat.itemsize for s in stride)
        view = strided_view(flat[int(storage_offset) :], size, steps,
                            not AS.may_overlap(size, stride))  # fmt: skip
        self._rebind(view)
        return self

    def as_strided_(self, size, stride, storage_offset: int | None = None) -> Tensor:
        """torch.Tensor.as_strided_: self becomes self.as_strided(size, stride, offset), a
        view of its own storage. Refused, while grad mode is on, on a tensor that requires
        grad (torch refuses a leaf; ember cannot record it on a non-leaf either)."""
        self._refuse_grad("as_strided_")
        view = self.detach().as_strided(size, stride, storage_offset)
        self._rebind(view.array)
        return self

    def _refuse_grad(self, name: str, source=None) -> None:
        if not is_grad_enabled():
            return
        if self.requires_grad and self._ctx is None:
            raise RuntimeError(
                "a leaf Variable that requires grad is being used in an in-place operation."
            )
        if self.requires_grad or getattr(source, "requires_grad", False):
            raise RuntimeError(
                f"{name}(): ember does not record {name} in the graph; call it under"
                " ember.no_grad() or on tensor.detach()"
            )

    def _rebind(self, array) -> None:
        """self now holds ``array``: no view link to its old memory remains."""
        self.array = array
        if getattr(self, "_link", None) is not None:
            self._link = None

    # ------------------------------------------------------------ new tensors like self
    def new(self, *args, device=None) -> Tensor:
        """torch.Tensor.new, the legacy constructor, in self's dtype: ``new()`` an empty
        tensor; ``new(2, 3)`` or ``new((2, 3))`` a tensor of that shape (zeros here; torch
        leaves it uninitialised); ``new([1, 2])`` one from data (a list, cast to self's dtype);
        ``new(t)`` t itself when its dtype is self's (torch aliases it too)."""
        if device is not None:
            from .backend import check_device

            check_device(device)
        dt = self.array.dtype
        if not args:
            return _m.Tensor(xp.empty((0,), dtype=dt))
        if len(args) == 1 and isinstance(args[0], _m.Tensor):
            if args[0].array.dtype != dt:
                raise TypeError(
                    f"new(): expected a tensor of dtype {torch_dtype_name(dt)}, got"
                    f" {torch_dtype_name(args[0].array.dtype)}"
                )
            return args[0]
        if (
            len(args) == 1
            and not isinstance(args[0], (int, Size))
            and not hasattr(args[0], "__index__")
        ):
            data = args[0]
            if isinstance(data, float) or not hasattr(data, "__len__"):
                raise TypeError(f"new(): data must be a sequence (got {type(data).__name__})")
            return _m.Tensor(_m.as_array(data, dt))
        return _m.Tensor(xp.zeros(_sizes("new", args), dtype=dt))

    def new_empty_strided(self, size, stride, *, dtype=None, layout=None, device=None,
                          requires_grad=False, pin_memory=False) -> Tensor:  # fmt: skip
        """torch.Tensor.new_empty_strided: ember.empty_strided(size, stride) in self's dtype
        unless ``dtype`` is given (values uninitialised, as torch's)."""
        from .torch_misc import empty_strided

        return empty_strided(size, stride, dtype=self.array.dtype if dtype is None else dtype,
                             device=device, requires_grad=requires_grad)  # fmt: skip

    # ------------------------------------------------------------ out of place
    def as_strided_scatter(self, src, size, stride, storage_offset=None) -> Tensor:
        """torch.Tensor.as_strided_scatter: a copy of self whose elements at
        copy.as_strided(size, stride, storage_offset) are src's (cast to self's dtype); see
        AsStridedScatter. Differentiable in self and src."""
        if not isinstance(src, _m.Tensor):
            raise TypeError(f"as_strided_scatter(): src must be a Tensor, got {type(src).__name__}")
        return _m.apply(AsStridedScatter, self, src, size=tuple(int(n) for n in size),
                     stride=tuple(int(s) for s in stride),
                     storage_offset=storage_offset)  # fmt: skip

    def geqrf(self) -> tuple:
        """torch.Tensor.geqrf: see ``geqrf``."""
        return geqrf(self)

    def ormqr(self, input2, input3, left: bool = True, transpose: bool = False) -> Tensor:
        """torch.Tensor.ormqr: see ``ormqr``."""
        return ormqr(self, input2, input3, left, transpose)

    # ------------------------------------------------------------ memory identity
    def const_data_ptr(self) -> int:
        """torch.Tensor.const_data_ptr: the address of the first element, as data_ptr."""
        return self.data_ptr()

    def is_set_to(self, tensor) -> bool:
        """torch.Tensor.is_set_to: whether self and ``tensor`` are the same memory seen the
        same way (same first element, dtype, size and strides)."""
        if not isinstance(tensor, _m.Tensor):
            raise TypeError(
                f"is_set_to(): argument 'tensor' must be Tensor, not {type(tensor).__name__}"
            )
        a, b = self.array, tensor.array
        return (a.dtype == b.dtype and a.shape == b.shape and self.stride() == tensor.stride()
                and self.data_ptr() == tensor.data_ptr())  # fmt: skip
