"""Lazy modules: layers whose input size is read from the first input (torch.nn.modules.lazy).

``LazyLinear(out_features)`` is a Linear whose ``in_features`` is not known yet. Until the
first forward its parameters are ``UninitializedParameter``s: real Parameters (so
``parameters()`` yields them and an optimizer can be built on them) that hold no values. Any
use of one as an array raises an error naming the module and the parameter; its shape raises
too; its dtype is known (``.double()`` before the first forward sets it).

The first call infers the size (``in_features = x.shape[-1]``, ``in_channels = x.shape[1]``,
``num_features = x.shape[1]``), materialises the SAME Parameter objects in place (an optimizer
built earlier keeps working), initialises them exactly as the concrete layer does, and turns the
module into that layer (``cls_to_become``: LazyLinear → Linear, LazyConv2d → Conv2d, …).
``load_state_dict`` into a lazy module does the same from the loaded shapes, then copies the
values in. (A parent's load_state_dict, a Sequential holding a lazy layer, cannot do this yet:
Module.load_state_dict has no per-module hook, so it raises an UninitializedError naming the
parameter; run one forward first, or load into the lazy layer itself.)

The data slot of an uninitialised tensor holds an ``_Unmaterialized`` record (owner, dtype)
instead of an array; materialising swaps in an array and the class (UninitializedParameter →
Parameter, UninitializedBuffer → Tensor), as torch does.
"""

from __future__ import annotations

from .. import backend
from ..backend import xp
from ..tensor import Tensor, as_array
from .conv import Conv1d, Conv2d, _ConvNd
from .conv_transpose import ConvTranspose1d, ConvTranspose2d, _ConvTransposeNd
from .linear import Linear
from .module import Module, Parameter
from .module_state_load import save_own
from .normalization import BatchNorm1d, BatchNorm2d, _BatchNorm, _NormBase


class UninitializedError(RuntimeError, ValueError):
    """Raised on any use of an uninitialised parameter or buffer. Both of torch's types: torch
    raises RuntimeError for its shape and ValueError for its use in an op."""


class _Unmaterialized:
    """The 'array' of an uninitialised tensor: a dtype and an owner's name, no values."""

    __slots__ = ("owner", "dtype")

    def __init__(self, owner: str, dtype):
        self.owner, self.dtype = owner, xp.dtype(dtype)

    def astype(self, dtype, copy: bool = True) -> _Unmaterialized:
        return _Unmaterialized(self.owner, dtype)  # Module.double()/float() before the forward

    _HINT = (
        ": a lazy module's parameters get their shape from the first input. Call the module on"
        " a batch first (or load a state_dict into the lazy module itself)"
    )

    @property
    def shape(self):
        raise UninitializedError(
            f"Can't access the shape of {self.owner}, still uninitialized{self._HINT}"
        )

    ndim = size = shape

    def _use(self, *args, **kwargs):
        raise UninitializedError(f"Attempted to use {self.owner}, still uninitialized{self._HINT}")

    def __getattr__(self, name):
        if name.startswith("__"):  # protocol probes (copy, pickle, numpy) find nothing
            raise AttributeError(name)
        raise UninitializedError(
            f"Attempted to use {self.owner} (.{name}), still uninitialized{self._HINT}"
        )


for _name in ("__array__", "__array_ufunc__", "__array_function__", "__getitem__",
              "__setitem__", "__len__", "__iter__", "__neg__", "__add__", "__radd__", "__sub__",
              "__rsub__", "__mul__", "__rmul__", "__truediv__", "__rtruediv__", "__matmul__",
              "__rmatmul__", "__pow__", "__rpow__"):  # fmt: skip
    setattr(_Unmaterialized, _name, _Unmaterialized._use)


class _Uninitialized:
    """What UninitializedParameter and UninitializedBuffer share (no slots of its own, so the
    class can be swapped for Parameter/Tensor when the values arrive)."""

    __slots__ = ()
    cls_to_become: type = Tensor

    def _start(self, requires_grad: bool, device, dtype) -> None:
        backend.check_device(device)
        self.array = _Unmaterialized(f"an {type(self).__name__}", dtype or backend.DEFAULT_DTYPE)
        self.grad, self.requires_grad = None, requires_grad
        self._ctx, self._idx, self._retain = None, 0, False

    def materialize(self, shape, device=None, dtype=None) -> None:
        """Give the tensor values (uninitialised memory) of ``shape``; it becomes a plain
        Parameter (or Tensor), the same object."""
        backend.check_device(device)
        dtype = dtype or self.array.dtype
        self.array = xp.empty(tuple(shape), dtype=dtype)
        self.__class__ = self.cls_to_become

    def __repr__(self) -> str:
        return f"<{type(self).__name__}>"


class UninitializedParameter(_Uninitialized, Parameter):
    """A Parameter with no values yet (torch.nn.parameter.UninitializedParameter)."""

    __slots__ = ()
    cls_to_become = Parameter

    def __init__(self, requires_grad: bool = True, device=None, dtype=None):
        self._start(requires_grad, device, dtype)


class UninitializedBuffer(_Uninitialized, Tensor):
    """A buffer with no values yet (torch.nn.parameter.UninitializedBuffer)."""

    __slots__ = ()
    cls_to_become = Tensor

    def __init__(self, requires_grad: bool = False, device=None, dtype=None):
        self._start(requires_grad, device, dtype)


def is_lazy(t) -> bool:
    """Whether ``t`` is an uninitialised parameter or buffer (torch.nn.parameter.is_lazy)."""
    return isinstance(t, _Uninitialized)


def _infer_parameters(module: LazyModuleMixin, args) -> None:
    """The forward pre-hook: build the module from its first input."""
    if not args or not isinstance(args[0], Tensor):
        raise TypeError(f"{type(module).__name__}: the first forward needs an input Tensor")
    module._build(module._size_of_input(args[0]))


class LazyModuleMixin:
    """What every lazy module shares. A subclass says how to read the size from an input
    (``_size_of_input``) and from a state_dict (``_size_of_state``), and ``_build`` sets the
    size, materialises and initialises its tensors; ``_finish`` then turns it into
    ``cls_to_become``."""

    cls_to_become: type | None = None

    def _lazy_start(self) -> None:
        """End of __init__: name the uninitialised tensors after their module, hook forward."""
        for name, t in self._members()[0]:
            if is_lazy(t):
                t.array.owner = f"{type(self).__name__}.{name}"
        self._initialize_hook = self.register_forward_pre_hook(_infer_parameters)

    def has_uninitialized_params(self) -> bool:
        return any(is_lazy(t) for _, t in self._members()[0])

    def reset_parameters(self) -> None:
        """The concrete layer's initialisation once the parameters have shapes; before that
        nothing (torch's lazy modules do the same)."""
        concrete = getattr(super(), "reset_parameters", None)
        if concrete is not None and not self.has_uninitialized_params():
            concrete()

    def initialize_parameters(self, input: Tensor) -> None:  # noqa: A002 - torch's name
        """Infer the size from ``input`` and build (what the first forward does)."""
        self._build(self._size_of_input(input))

    def _finish(self) -> None:
        hook = self.__dict__.pop("_initialize_hook", None)
        if hook is not None:
            hook.remove()
        if self.cls_to_become is not None:
            self.__class__ = self.cls_to_become

    def _save_to_state_dict(self, destination, prefix: str, keep_vars: bool) -> None:
        """torch's: uninitialised tensors go into the state_dict as they are."""
        save_own(self, destination, prefix, keep_vars, as_is=is_lazy)

    def _pre_load_state_dict(self, state_dict, prefix: str) -> None:
        """Called by Module.load_state_dict on every submodule before shapes are compared:
        materialise from the loaded shapes (and initialise as the first forward would, so a
        failed load leaves a working layer); the values are then copied in as usual."""
        if "_initialize_hook" in self.__dict__ and self.has_uninitialized_params():
            own = {k[len(prefix) :]: v for k, v in state_dict.items() if k.startswith(prefix)}
            size = self._size_of_state(own)
            if size is None:
                raise KeyError(
                    f"{type(self).__name__}.load_state_dict: the state_dict holds no"
                    f" initialized '{prefix}{self._size_key()}', so the input size cannot be"
                    " inferred"
                )
            self._build(size)

    def _loaded_shape(self, state_dict, key: str):
        v = state_dict.get(key)
        return None if v is None or is_lazy(v) else tuple(as_array(v).shape)

    def _size_of_state(self, state_dict):
        shape = self._loaded_shape(state_dict, self._size_key())
        return None if shape is None else self._size_from_shape(shape)


def _materialize(t, shape) -> None:
    if is_lazy(t):
        t.materialize(shape)


# ---------------------------------------------------------------- linear


class LazyLinear(LazyModuleMixin, Linear):
    """Linear with in_features inferred from the first input: x (..., in_features)."""

    cls_to_become = Linear

    def __init__(self, out_features: int, bias: bool = True, device=None, dtype=None):
        Module.__init__(self)
        backend.check_device(device)
        self.in_features, self.out_features = 0, out_features
        self.weight = UninitializedParameter(dtype=dtype)
        self.bias = UninitializedParameter(dtype=dtype) if bias else None
        self._lazy_start()

    def _size_of_input(self, x: Tensor) -> int:
        if x.ndim == 0:
            raise ValueError(
                f"{type(self).__name__}: expected an input (..., in_features), got 0-D"
            )
        return x.shape[-1]

    def _size_key(self) -> str:
        return "weight"

    def _size_from_shape(self, shape) -> int:
        return shape[1]

    def _build(self, in_features: int) -> None:
        self.in_features = in_features
        _materialize(self.weight, (self.out_features, in_features))
        if self.bias is not None:
            _materialize(self.bias, (self.out_features,))
        self.reset_parameters()
        self._finish()


# ---------------------------------------------------------------- convolutions


class _LazyConvMixin(LazyModuleMixin):
    transposed = False

    def _make_parameters(self, shape: tuple, out_channels: int, bias: bool, dtype) -> None:
        # called by the concrete layer's __init__: the weight's shape is not known yet
        self.weight = UninitializedParameter(dtype=dtype)
        self.bias = UninitializedParameter(dtype=dtype) if bias else None

    def _size_of_input(self, x: Tensor) -> int:
        unbatched, batched = self.nd + 1, self.nd + 2
        if x.ndim not in (unbatched, batched):
            raise ValueError(
                f"Expected {unbatched}D (unbatched) or {batched}D (batched) input to"
                f" {type(self).__name__}, but got input of size: {tuple(x.shape)}"
            )
        return x.shape[1] if x.ndim == batched else x.shape[0]

    def _size_key(self) -> str:
        return "weight"

    def _size_from_shape(self, shape) -> int:
        return shape[0] if self.transposed else shape[1] * self.groups

    def _build(self, in_channels: int) -> None:
        if in_channels % self.groups:
            raise ValueError(
                f"{type(self).__name__}: in_channels must be divisible by groups, got"
                f" in_channels={in_channels} and groups={self.groups}"
            )
        self.in_channels, out, g = in_channels, self.out_channels, self.groups
        lead = (in_channels, out // g) if self.transposed else (out, in_channels // g)
        _materialize(self.weight, lead + self.kernel_size)
        if self.bias is not None:
            _materialize(self.bias, (out,))
        self.reset_parameters()
        self._finish()


class _LazyConv(_LazyConvMixin, _ConvNd):
    def __init__(self, out_channels: int, kernel_size, stride=1, padding=0, dilation=1,
                 groups: int = 1, bias: bool = True, padding_mode: str = "zeros", device=None,
                 dtype=None):  # fmt: skip
        _ConvNd.__init__(self, 0, out_channels, kernel_size, stride, padding, dilation, groups,
                         bias, padding_mode, device, dtype)  # fmt: skip
        self._lazy_start()


class _LazyConvTranspose(_LazyConvMixin, _ConvTransposeNd):
    transposed = True

    def __init__(self, out_channels: int, kernel_size, stride=1, padding=0, output_padding=0,
                 groups: int = 1, bias: bool = True, dilation=1, padding_mode: str = "zeros",
                 device=None, dtype=None):  # fmt: skip
        _ConvTransposeNd.__init__(self, 0, out_channels, kernel_size, stride, padding,
                                  output_padding, groups, bias, dilation, padding_mode, device,
                                  dtype)  # fmt: skip
        self._lazy_start()


class LazyConv1d(_LazyConv, Conv1d):
    """Conv1d with in_channels inferred from the first input, x (N, C, L) or (C, L)."""

    nd, cls_to_become = 1, Conv1d


class LazyConv2d(_LazyConv, Conv2d):
    """Conv2d with in_channels inferred from the first input, x (N, C, H, W) or (C, H, W)."""

    nd, cls_to_become = 2, Conv2d


class LazyConvTranspose1d(_LazyConvTranspose, ConvTranspose1d):
    """ConvTranspose1d with in_channels inferred from the first input."""

    nd, cls_to_become = 1, ConvTranspose1d


class LazyConvTranspose2d(_LazyConvTranspose, ConvTranspose2d):
    """ConvTranspose2d with in_channels inferred from the first input."""

    nd, cls_to_become = 2, ConvTranspose2d


# ---------------------------------------------------------------- batch norm


class _LazyNormBase(LazyModuleMixin, _NormBase):
    """torch's base of the lazy batch and instance norms: num_features from the first input
    (``_size_of_input``) or from a loaded weight or running_mean."""

    def __init__(self, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = True,
                 track_running_stats: bool = True, device=None, dtype=None, *,
                 bias: bool = True):  # fmt: skip
        _NormBase.__init__(self, 0, eps, momentum, affine, track_running_stats, device, dtype,
                           bias=bias)  # fmt: skip
        if affine:  # same attribute order as the concrete layer: state_dict keys in torch's order
            self.weight = UninitializedParameter(dtype=dtype)
            self.bias = UninitializedParameter(dtype=dtype) if bias else None
        if track_running_stats:
            self.running_mean = UninitializedBuffer(dtype=dtype)
            self.running_var = UninitializedBuffer(dtype=dtype)
        self._lazy_start()

    def _size_key(self) -> str:
        return "weight" if self.affine else "running_mean"

    def _size_from_shape(self, shape) -> int:
        return shape[0]

    def _build(self, num_features: int) -> None:
        self.num_features = num_features
        for t, fill in ((self.weight, 1), (self.bias, 0), (self.running_mean, 0),
                        (self.running_var, 1)):  # fmt: skip
            if t is not None and is_lazy(t):
                t.materialize((num_features,))
                t.array[...] = fill
        self._finish()


class _LazyBatchNorm(_LazyNormBase, _BatchNorm):
    # as torch's, a lazy batch norm is no BatchNorm1d/2d/3d until it becomes one
    def _size_of_input(self, x: Tensor) -> int:
        if x.ndim not in self.allowed_ndims:
            ndims = " or ".join(map(str, self.allowed_ndims))
            raise ValueError(
                f"{type(self).__name__}: expected a {ndims}-D input, got shape {tuple(x.shape)}"
            )
        return x.shape[1]


class LazyBatchNorm1d(_LazyBatchNorm):
    """BatchNorm1d with num_features inferred from the first input, x (N, C) or (N, C, L)."""

    allowed_ndims, cls_to_become = BatchNorm1d.allowed_ndims, BatchNorm1d


class LazyBatchNorm2d(_LazyBatchNorm):
    """BatchNorm2d with num_features inferred from the first input, x (N, C, H, W)."""

    allowed_ndims, cls_to_become = BatchNorm2d.allowed_ndims, BatchNorm2d


__all__ = [
    "LazyBatchNorm1d",
    "LazyBatchNorm2d",
    "LazyConv1d",
    "LazyConv2d",
    "LazyConvTranspose1d",
    "LazyConvTranspose2d",
    "LazyLinear",
    "LazyModuleMixin",
    "UninitializedBuffer",
    "UninitializedError",
    "UninitializedParameter",
    "is_lazy",
]
