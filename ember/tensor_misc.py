"""torch's remaining Tensor conveniences: the casts float/double/long and ``.to``, memory and
layout queries (stride, nbytes …) and as_strided, the memory formats (contiguous,
is_contiguous and clone with ``memory_format=``; the rules are in memory_formats.py),
sampling methods, the conjugate-transpose family for real tensors, and the hooks that fire after
a leaf's gradient is accumulated.

ember conjugates eagerly (no lazy conj or neg bits): conj() of a complex tensor is a new
tensor, of a real one self; resolve_conj and resolve_neg return self, is_conj and is_neg are
False; H / mH / adjoint() are conjugate transposes. The casts to the dtypes ember lacks
(bfloat16, complex32) are a clear TypeError.

``Tensor``, ``apply`` and ``as_array`` are bound as this module's globals by tensor.py (see the
note at the end of tensor.py).
"""

from __future__ import annotations

import warnings
import weakref
from typing import TYPE_CHECKING

from . import autograd, backend
from . import memory_formats as MF
from .backend import xp
from .memory_formats import contiguous_format, preserve_format
from .ops import as_strided as AS
from .ops import shape as S

if TYPE_CHECKING:  # bound at import time by tensor.py
    from .tensor import Tensor, apply, as_array  # noqa: F401

#: register_post_accumulate_grad_hook's hooks by id(leaf), as tensor.py's _leaf_hooks (a
#: finalizer drops the entry with the tensor); Tensor._accumulate_grad calls them, and the
#: engine accumulates these leaves as soon as they are complete (autograd.py keeps the dict)
post_accumulate_hooks = autograd.post_accumulate_hooks


def get_grad(t):
    """Tensor.grad. Reading it on a tensor that an op made (not a leaf) and that does not retain
    its gradient warns as torch does: backward never fills it, which is easy to miss."""
    g = t._grad
    if g is None and t._ctx is not None and not t._retain:
        warnings.warn(
            "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its"
            " .grad attribute won't be populated during backward(). If you want it, call"
            " .retain_grad() on the non-leaf Tensor before backward; if you meant the leaf"
            " (a parameter, or a tensor made with requires_grad=True), read its .grad instead.",
            UserWarning,
            stacklevel=2,
        )
    return g


def set_grad(t, value) -> None:
    """``t.grad = value``: None, or a tensor of t's shape and dtype (torch's refusals, raised at
    the assignment rather than at the optimizer step that would trip over it)."""
    if value is not None:
        shape, dtype = getattr(value, "shape", None), getattr(value, "dtype", None)
        if shape is None or dtype is None:
            raise TypeError(
                f"assigned grad expected to be a Tensor or None but got grad of type"
                f" {type(value).__name__}"
            )
        if tuple(shape) != tuple(t.array.shape):
            raise RuntimeError(
                f"attempting to assign a gradient of size '{list(shape)}' to a tensor of size"
                f" '{list(t.array.shape)}'. Please ensure that the gradient and the tensor are"
                " the same size"
            )
        if dtype != t.array.dtype:
            raise RuntimeError(
                f"attempting to assign a gradient with dtype '{dtype}' to a tensor with dtype"
                f" '{t.array.dtype}'. The gradient must match the tensor's dtype"
            )
    t._grad = value


_address = AS.address  # the address of an array's first element (tensor_inplace.py uses it)


def _unsupported_dtype(name: str) -> TypeError:
    return TypeError(
        f"{name}(): ember has no {name_of_dtype[name]} dtype (its dtypes are NumPy's real"
        " ones: bool, integers, float16, float32, float64)"
    )


name_of_dtype = {
    "bfloat16": "bfloat16",
    "cfloat": "complex64",
    "cdouble": "complex128",
    "chalf": "complex32",
}


def to_arguments(args, dtype=None, device=None):
    """The dtype asked for by torch's ``.to(*args, dtype=, device=)`` (None: keep it), once the
    device named there is checked: a device name or object, a dtype, or a tensor (its dtype)."""
    for a in args:
        if isinstance(a, Tensor):
            dtype = a.dtype
        elif isinstance(a, (str, backend.device)):
            device = a
        else:
            dtype = a
    if device is not None:  # "cpu" is where everything lives
        backend.check_device(device)
    return dtype


class MiscTensorMethods:
    """torch's remaining Tensor conveniences; see the module docstring."""

    __slots__ = ()

    # ------------------------------------------------------------ casts and .to
    def float(self, *, memory_format=preserve_format) -> Tensor:
        """torch.Tensor.float: to float32, laid out as ``memory_format`` says (see ``to``)."""
        return self._relayout(self.astype(xp.float32), memory_format, "float")

    def double(self, *, memory_format=preserve_format) -> Tensor:
        """torch.Tensor.double: to float64, laid out as ``memory_format`` says."""
        return self._relayout(self.astype(xp.float64), memory_format, "double")

    def long(self, *, memory_format=preserve_format) -> Tensor:
        """torch.Tensor.long: to int64, laid out as ``memory_format`` says."""
        return self._relayout(self.astype(xp.int64), memory_format, "long")

    def to(self, *args, dtype=None, device=None, non_blocking=False, copy=False,
           memory_format=None) -> Tensor:  # fmt: skip
        """torch's ``x.to(device)``, ``x.to(dtype)``, ``x.to(device, dtype)``, ``x.to(other)``;
        ``non_blocking`` is accepted and means nothing on the host. The result is self when
        nothing changes; ``memory_format`` lays out a copy (channels_last …), and counts as no
        change when self's strides already rank like it (torch's suggest_memory_format);
        unset or preserve_format, a copy keeps self's layout."""
        dtype = to_arguments(args, dtype, device)
        out = self if dtype is None else self.astype(dtype)
        fmt = preserve_format if memory_format is None else memory_format
        return self._relayout(out, fmt, "to", copy)

    # ------------------------------------------------------------ memory formats
    def is_contiguous(self, *, memory_format=contiguous_format) -> bool:
        """torch.Tensor.is_contiguous: whether the elements lie in memory in the order
        ``memory_format`` says: row-major by default (a transpose is not), NHWC for
        channels_last on a 4-D tensor, NDHWC for channels_last_3d on a 5-D one (False on other
        ranks). Dims of size 1 may have any stride; an empty tensor is contiguous."""
        if memory_format is contiguous_format:  # NumPy's flag follows torch's rule, quickly
            return bool(self.array.flags.c_contiguous)
        fmt = MF.check(memory_format, "is_contiguous")
        return MF.is_contiguous(self.array.shape, self.stride(), fmt)

    def contiguous(self, *, memory_format=contiguous_format) -> Tensor:
        """torch.Tensor.contiguous: self when laid out as ``memory_format`` already, else a copy
        that is (gradient 1, as clone). channels_last needs a 4-D tensor, channels_last_3d a
        5-D one; preserve_format is refused (unless self is row-major), as torch refuses it."""
        if memory_format is not contiguous_format:
            MF.check(memory_format, "contiguous")
        if self.is_contiguous(memory_format=memory_format):
            return self
        if memory_format is contiguous_format:
            return apply(S.Copy, self)
        if memory_format is preserve_format:
            raise RuntimeError("preserve memory format is unsupported by the contiguous operator")
        return self.clone(memory_format=memory_format)

    def clone(self, *, memory_format=preserve_format) -> Tensor:
        """torch.Tensor.clone: a copy that autograd differentiates through (gradient 1), laid
        out in ``memory_format``; by default as self is (its very strides when its elements
        fill their memory densely, else packed in the same order of strides)."""
        a = self.array
        if memory_format is preserve_format and a.flags.c_contiguous and 1 not in a.shape:
            return apply(S.Copy, self)  # the common case, quickly: a row-major copy
        fmt = MF.check(memory_format, "clone")
        return self._laid_out(MF.target_strides(a.shape, self.stride(), fmt))

    def _laid_out(self, strides) -> Tensor:
        """A copy of self with ``strides`` (elements): NumPy's row-major copy when they are
        row-major (the common case, and the plain Copy op that tracers know)."""
        if strides == MF.contiguous_strides(self.array.shape):
            return apply(S.Copy, self)
        return apply(S.Copy, self, strides=strides)

    def _relayout(self, out: Tensor, memory_format, name: str, copy: bool = False) -> Tensor:
        """``out`` (self, or self cast to another dtype) laid out as torch's
        ``to(dtype, memory_format=, copy=)`` lays out its result (``name`` is the method, for a
        TypeError): self itself when nothing changes, which for a new format means self's
        strides already rank like it; else a copy in the format (preserve_format: self's
        layout)."""
        if memory_format is preserve_format and not copy:
            a = self.array  # NumPy's astype keeps a row-major array row-major: the quick case
            if out is self or (
                a.flags.c_contiguous and out.array.flags.c_contiguous and 1 not in a.shape
            ):  # size-1 dims' strides are kept too
                return out
        fmt = MF.check(memory_format, name)
        shape, strides = self.array.shape, self.stride()
        if out is self and not copy and MF.suggest(shape, strides) is fmt:
            return self
        target = MF.target_strides(shape, strides, fmt)
        return out._laid_out(target) if out is self or out.stride() != target else out

    # ------------------------------------------------------------ sampling
    def bernoulli(self, p=None, *, generator=None) -> Tensor:
        """torch.Tensor.bernoulli: 1 with probability self (or p) elementwise, else 0."""
        from .torch_creation import bernoulli

        return bernoulli(self, p, generator=generator)

    def multinomial(self, num_samples: int, replacement: bool = False, *, generator=None):
        """torch.Tensor.multinomial: num_samples int64 indices per row drawn by weight."""
        from .torch_creation import multinomial

        return multinomial(self, num_samples, replacement, generator=generator)

    # ------------------------------------------------------------ shape
    def broadcast_to(self, size) -> Tensor:
        """torch.Tensor.broadcast_to: alias of expand (size a sequence, or one int)."""
        return self.expand(*((size,) if isinstance(size, int) else size))

    def narrow_copy(self, dim: int, start: int, length: int) -> Tensor:
        """torch.Tensor.narrow_copy: narrow(dim, start, length) as a new row-major tensor."""
        return self.narrow(dim, start, length).clone(memory_format=contiguous_format)

    def as_strided(self, size, stride, storage_offset: int | None = None) -> Tensor:
        """torch.Tensor.as_strided: the view y[i₀, …] = storage[offset + Σ_k i_k·stride_k] of
        self's memory (sizes, strides and offset in elements; the offset defaults to self's
        storage_offset()). Read-only where its elements overlap; see ops/as_strided.py."""
        return apply(AS.AsStrided, self, size=tuple(size), stride=tuple(stride),
                     storage_offset=storage_offset)  # fmt: skip

    # ------------------------------------------------------------ memory and layout
    is_cpu = property(lambda self: not backend.ON_GPU)
    itemsize = property(lambda self: int(self.array.itemsize))
    nbytes = property(lambda self: int(self.array.nbytes))
    retains_grad = property(lambda self: bool(self._ctx is not None and self._retain))

    def stride(self, dim: int | None = None):
        """torch.Tensor.stride: the step in elements between neighbours along each dim (a
        tuple), or along ``dim``."""
        a = self.array
        if a.size:
            strides = tuple(int(s) // a.itemsize for s in a.strides)
        else:  # torch gives an empty tensor contiguous strides, counting size-0 dims as 1
            strides, step = [], 1
            for n in reversed(a.shape):
                strides.insert(0, step)
                step *= max(n, 1)
            strides = tuple(strides)
        if dim is None:
            return strides
        from .tensor_stats_more import wrap_dim

        return strides[wrap_dim(dim, self.ndim)]

    def storage_offset(self) -> int:
        """torch.Tensor.storage_offset: elements from the start of the memory self views (0 for
        an array that owns its memory; unfold's windows count from their input's memory)."""
        return AS.storage_offset(self.array)

    def data_ptr(self) -> int:
        """torch.Tensor.data_ptr: the address of the first element."""
        return int(_address(self.array))

    def untyped_storage(self):
        """torch.Tensor.untyped_storage: the memory self views, as bytes, with no copy
        (ember/storage.py); tensors share memory when their storages' data_ptr() agree."""
        from .storage import UntypedStorage

        return UntypedStorage._over(self.array)

    def storage(self):
        """torch.Tensor.storage (deprecated in torch, which warns once): the memory self views,
        read as self's dtype."""
        from .storage import typed_storage_of

        return typed_storage_of(self.array)

    def storage_type(self):
        """torch.Tensor.storage_type: the legacy storage class of self's dtype (FloatStorage …)."""
        from .storage import LEGACY_CLASSES, _legacy_name

        return LEGACY_CLASSES[_legacy_name(self.array.dtype)]

    def get_device(self) -> int:
        """torch.Tensor.get_device: -1 for the CPU, else the GPU's index."""
        return backend.DEVICE.index if backend.ON_GPU else -1

    def is_inference(self) -> bool:
        """torch.Tensor.is_inference: whether this tensor was made inside an enabled
        inference_mode region (or is a view of one that was; autograd_inference.py)."""
        return getattr(self, "_inference", False)

    # ------------------------------------------------------------ conjugation (real dtypes)
    @property
    def H(self) -> Tensor:  # noqa: N802 - torch's name
        """torch.Tensor.H: the conjugate transpose of a matrix (the transpose, for reals)."""
        if self.ndim == 0:
            warnings.warn(
                "Tensor.H is deprecated on 0-D tensors. Consider using x.conj().", stacklevel=2
            )
            return self
        if self.ndim != 2:
            more = " For batches of matrices, consider using tensor.mH" if self.ndim > 2 else ""
            raise RuntimeError(
                "tensor.H is only supported on matrices (2-D tensors). Got"
                f" {self.ndim}-D tensor.{more}"
            )
        return self.transpose(0, 1).conj()

    @property
    def mH(self) -> Tensor:  # noqa: N802 - torch's name
        """torch.Tensor.mH: the conjugate transpose of the last two dims."""
        return self._adjoint("tensor.mH", "Tensor.mH")

    def adjoint(self) -> Tensor:
        """torch.Tensor.adjoint: the conjugate transpose of the last two dims."""
        return self._adjoint("tensor.adjoint()", "adjoint()")

    def _adjoint(self, name: str, short: str) -> Tensor:
        if self.ndim == 0:
            warnings.warn(
                f"{short} is deprecated on 0-D tensors. Consider using x.conj().", stacklevel=3
            )
            return self
        if self.ndim < 2:
            raise RuntimeError(
                f"{name} is only supported on matrices or batches of matrices. Got"
                f" {self.ndim}-D tensor."
            )
        return self.transpose(-2, -1).conj()

    def conj(self) -> Tensor:
        """torch.Tensor.conj: x − iy (a copy here, torch's is lazy); self for a real tensor."""
        if self.array.dtype.kind == "c":
            from .ops.complex import Conj

            return apply(Conj, self)
        return self

    def conj_physical(self) -> Tensor:
        """torch.Tensor.conj_physical: the conjugate, materialised (as conj() here)."""
        return self.conj()

    def resolve_conj(self) -> Tensor:
        """torch.Tensor.resolve_conj: self (no lazy conjugation in ember)."""
        return self

    def resolve_neg(self) -> Tensor:
        """torch.Tensor.resolve_neg: self (no lazy negation in ember)."""
        return self

    def is_conj(self) -> bool:
        """torch.Tensor.is_conj: False (no lazy conjugation in ember)."""
        return False

    def is_neg(self) -> bool:
        """torch.Tensor.is_neg: False (no lazy negation in ember)."""
        return False

    def isreal(self) -> Tensor:
        """torch.Tensor.isreal: True where the imaginary part is 0 (everywhere, for reals)."""
        if self.array.dtype.kind == "c":
            return Tensor(self.array.imag == 0)
        return Tensor(xp.ones(self.array.shape, dtype=xp.bool_))

    # ------------------------------------------------------------ dtypes ember lacks
    def bfloat16(self, *, memory_format=preserve_format) -> Tensor:
        """torch.Tensor.bfloat16: refused, ember has no bfloat16 dtype."""
        raise _unsupported_dtype("bfloat16")

    def cfloat(self, *, memory_format=preserve_format) -> Tensor:
        """torch.Tensor.cfloat: a complex64 copy (the imaginary part 0 for real tensors), laid
        out as ``memory_format`` says."""
        return self._relayout(self.astype(xp.complex64), memory_format, "cfloat")

    def cdouble(self, *, memory_format=preserve_format) -> Tensor:
        """torch.Tensor.cdouble: a complex128 copy, laid out as ``memory_format`` says."""
        return self._relayout(self.astype(xp.complex128), memory_format, "cdouble")

    def chalf(self, *, memory_format=preserve_format) -> Tensor:
        """torch.Tensor.chalf: refused, ember has no complex32 dtype."""
        raise _unsupported_dtype("chalf")

    # ------------------------------------------------------------ Python-callable fills
    # ------------------------------------------------------------ hooks
    def register_post_accumulate_grad_hook(self, hook):
        """torch.Tensor.register_post_accumulate_grad_hook: call ``hook(self)`` each time
        backward has accumulated a gradient into this leaf's ``.grad``; returns a handle whose
        ``remove()`` takes the hook off again."""
        if not self.requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self._ctx is not None:
            raise RuntimeError(
                "post accumulate grad hooks cannot be registered on non-leaf tensors"
            )
        hooks = post_accumulate_hooks.get(id(self))
        if hooks is None:
            hooks = post_accumulate_hooks[id(self)] = []
            weakref.finalize(self, post_accumulate_hooks.pop, id(self), None)
        hooks.append(hook)
        from .tensor import RemovableHandle  # tensor.py imports this module: not at the top

        return RemovableHandle(hooks, hook)
