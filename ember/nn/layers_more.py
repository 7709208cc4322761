"""More of torch.nn: Upsample, PixelShuffle/PixelUnshuffle, InstanceNorm1d/2d, RMSNorm, the
padding layers, Dropout1d/2d, Unflatten, Bilinear, and (from parameter_containers.py)
ParameterList and ParameterDict.

Each is a thin Module over ``ember/functional/layers_more.py`` with torch's names, argument
orders and parameter layouts, so torch state_dicts load unchanged.
"""

from __future__ import annotations

import math
import warnings

from .. import backend
from ..backend import xp
from ..function import is_grad_enabled
from ..functional import layers_more as F
from ..functional.interpolate import interpolate
from ..mistakes import check_training_mode_in_no_grad
from ..tensor import Tensor
from . import init
from .dropout import _DropoutNd
from .linear import no_negative_size
from .module import Module, Parameter
from .normalization import _NormBase
from .parameter_containers import ParameterDict, ParameterList  # noqa: F401 - re-exported

# ---------------------------------------------------------------- resizing


class Upsample(Module):
    """y = interpolate(x, size or scale_factor, mode, align_corners), torch's nn.Upsample.

    Every mode of F.interpolate: 'nearest', 'nearest-exact', 'linear' (N, C, L), 'bilinear' and
    'bicubic' (N, C, H, W), 'trilinear' (N, C, D, H, W), 'area'; its docstring has the source
    coordinate and kernel formulas. As torch's, no antialias argument: downsampling by a large
    factor aliases (use F.interpolate(..., antialias=True) for PIL-like resizing).
    """

    def __init__(self, size=None, scale_factor=None, mode: str = "nearest",
                 align_corners: bool | None = None,
                 recompute_scale_factor: bool | None = None):  # fmt: skip
        super().__init__()
        self.size, self.mode, self.align_corners = size, mode, align_corners
        self.scale_factor = (
            tuple(float(s) for s in scale_factor)
            if isinstance(scale_factor, (tuple, list))
            else (float(scale_factor) if scale_factor else None)
        )
        self.recompute_scale_factor = recompute_scale_factor

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        x = input
        return interpolate(
            x, self.size, self.scale_factor, self.mode, self.align_corners,
            recompute_scale_factor=self.recompute_scale_factor,
        )  # fmt: skip

    def extra_repr(self) -> str:
        what = (  # torch's: the scale factor when given, else the size
            f"scale_factor={self.scale_factor}" if self.scale_factor is not None
            else f"size={self.size}"
        )  # fmt: skip
        return f"{what}, mode='{self.mode}'"


class PixelShuffle(Module):
    """(*, C·r², H, W) → (*, C, H·r, W·r): y[c, h·r + i, w·r + j] = x[c·r² + i·r + j, h, w]
    (Shi et al. 2016, sub-pixel convolution)."""

    def __init__(self, upscale_factor: int):
        super().__init__()
        self.upscale_factor = upscale_factor

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        x = input
        return F.pixel_shuffle(x, self.upscale_factor)

    def extra_repr(self) -> str:
        return f"upscale_factor={self.upscale_factor}"


class PixelUnshuffle(Module):
    """(*, C, H·r, W·r) → (*, C·r², H, W): the inverse of PixelShuffle."""

    def __init__(self, downscale_factor: int):
        super().__init__()
        self.downscale_factor = downscale_factor

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        x = input
        return F.pixel_unshuffle(x, self.downscale_factor)

    def extra_repr(self) -> str:
        return f"downscale_factor={self.downscale_factor}"


# ---------------------------------------------------------------- normalisation


class _InstanceNorm(_NormBase):
    """x̂ = (x − μ_nc) / √(σ²_nc + ε),  y = γ_c · x̂ + β_c  (μ, σ² per sample and channel).

    affine=True adds weight (γ, ones) and bias (β, zeros); track_running_stats=True keeps
    running_mean, running_var and num_batches_tracked (torch's names; the count stays 0, as
    torch's), updated in training and used in eval. Ulyanov, Vedaldi & Lempitsky 2016.
    """

    batched_ndim: int = 3

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = False, track_running_stats: bool = False, device=None,
                 dtype=None, *, bias: bool = True):  # fmt: skip
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype,
                         bias=bias)  # fmt: skip

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        x = input
        nd = self.batched_ndim
        if x.ndim not in (nd - 1, nd):
            raise ValueError(
                f"{type(self).__name__}: expected a {nd - 1}-D or {nd}-D input, got {x.shape}"
            )
        unbatched = x.ndim == nd - 1
        if unbatched:
            x = x.unsqueeze(0)
        if x.shape[1] != self.num_features:
            dim, name = int(not unbatched), type(self).__name__
            if self.affine:
                raise ValueError(f"{name}({self.num_features}): input has {x.shape[1]} channels")
            # torch's warning: the count is unused without γ, β (running statistics of that
            # size would then refuse the input in instance_norm)
            warnings.warn(f"input's size at dim={dim} does not match num_features. You can silence"
                          " this warning by not passing in num_features, which is not used because"
                          " affine=False", stacklevel=2)  # fmt: skip
        if self.training and not is_grad_enabled():
            check_training_mode_in_no_grad(type(self).__name__)
        # torch's InstanceNorm never counts batches (num_batches_tracked stays 0) and reads
        # momentum=None as 0: the running statistics then do not move
        momentum = 0.0 if self.momentum is None else self.momentum
        use_input_stats = self.training or not self.track_running_stats
        y = F.instance_norm(
            x, self.running_mean, self.running_var, self.weight, self.bias,
            use_input_stats, momentum, self.eps,
        )  # fmt: skip
        return y.squeeze(0) if unbatched else y


class InstanceNorm1d(_InstanceNorm):
    """Instance norm over x (N, C, L) or (C, L)."""

    batched_ndim = 3


class InstanceNorm2d(_InstanceNorm):
    """Instance norm over x (N, C, H, W) or (C, H, W)."""

    batched_ndim = 4


class RMSNorm(Module):
    """y = x / √(mean(x²) + ε) ⊙ γ over the trailing ``normalized_shape`` dims.

    γ (``weight``, ones, shape normalized_shape) when elementwise_affine; ε = None means
    finfo(x.dtype).eps (float32's for float16), as torch. Zhang & Sennrich 2019.
    """

    def __init__(self, normalized_shape, eps: float | None = None,
                 elementwise_affine: bool = True, device=None, dtype=None):  # fmt: skip
        super().__init__()
        backend.check_device(device)
        if isinstance(normalized_shape, int):
            normalized_shape = (normalized_shape,)
        self.normalized_shape = tuple(normalized_shape)
        self.eps, self.elementwise_affine = eps, elementwise_affine
        if elementwise_affine:
            no_negative_size("RMSNorm", self.normalized_shape)
        dtype = dtype or backend.DEFAULT_DTYPE
        self.weight = (
            Parameter(xp.ones(self.normalized_shape, dtype)) if elementwise_affine else None
        )

    def reset_parameters(self) -> None:
        if self.weight is not None:
            self.weight.array[...] = 1

    def forward(self, x: Tensor) -> Tensor:
        return F.rms_norm(x, self.normalized_shape, self.weight, self.eps)

    def extra_repr(self) -> str:
        return (
            f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"
        )


# ---------------------------------------------------------------- padding


def _pairs(padding, n: int) -> tuple:
    """One number for every side of the n last dims, or a tuple kept as given: F.pad takes
    (or refuses) it at the forward, as torch's padding modules hand theirs on (ZeroPad2d((1,
    2)) pads the last dim only)."""
    try:
        return tuple(padding)
    except TypeError:
        return (padding,) * (2 * n)


class _Pad(Module):
    """Pad the last dims; ``padding`` = (left, right[, top, bottom]) or one int for all (None:
    the subclass sets ``self.padding`` itself, as one written on torch's bases does)."""

    dims: int = 1
    mode: str = "constant"

    def __init__(self, padding=None, value: float = 0.0):
        super().__init__()
        if padding is not None:
            self.padding = _pairs(padding, self.dims)
        self.value = value

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        x = input
        return F.pad(x, self.padding, self.mode, self.value)  # value is 0.0 for the other modes

    def extra_repr(self) -> str:
        if self.mode == "constant":
            return f"padding={self.padding}, value={self.value}"
        return f"{self.padding}"


class _ConstantPadNd(_Pad):
    """torch's base of ConstantPad1d/2d/3d (and so of the zero pads): pad with ``value``.
    torch's argument, the value alone first: a subclass passes ``padding`` or sets it."""

    def __init__(self, value: float, padding=None):
        super().__init__(padding, value)


class ConstantPad1d(_ConstantPadNd):
    """y = x with ``value`` added left and right of the last dim."""

    dims = 1

    def __init__(self, padding, value: float):
        super().__init__(value, padding)


class ConstantPad2d(_ConstantPadNd):
    """y = x with ``value`` around the last two dims (left, right, top, bottom)."""

    dims = 2

    def __init__(self, padding, value: float):
        super().__init__(value, padding)


def padding_repr(self) -> str:
    """The ZeroPad layers' repr, torch's: the padding alone (``ZeroPad2d((1, 1, 1, 1))``)."""
    return f"{self.padding}"


class ZeroPad1d(ConstantPad1d):
    """Zeros left and right of the last dim."""

    extra_repr = padding_repr

    def __init__(self, padding):
        super().__init__(padding, 0.0)


class ZeroPad2d(ConstantPad2d):
    """Zeros around the last two dims (left, right, top, bottom)."""

    extra_repr = padding_repr

    def __init__(self, padding):
        super().__init__(padding, 0.0)


class _ReflectionPadNd(_Pad):
    """Mirror about the edge: [a b c d] padded (2, 2) → [c b a b c d c b]."""

    mode = "reflect"

    def __init__(self, padding=None):
        super().__init__(padding)


class ReflectionPad1d(_ReflectionPadNd):
    """Reflection padding of the last dim (left, right)."""

    dims = 1


class ReflectionPad2d(_ReflectionPadNd):
    """Reflection padding of the last two dims (left, right, top, bottom)."""

    dims = 2


class _ReplicationPadNd(_Pad):
    """Repeat the edge: [a b c d] padded (2, 2) → [a a a b c d d d]."""

    mode = "replicate"

    def __init__(self, padding=None):
        super().__init__(padding)


class ReplicationPad1d(_ReplicationPadNd):
    """Replication padding of the last dim (left, right)."""

    dims = 1


class ReplicationPad2d(_ReplicationPadNd):
    """Replication padding of the last two dims (left, right, top, bottom)."""

    dims = 2


# ---------------------------------------------------------------- dropout, shapes


class Dropout1d(_DropoutNd):
    """Channel dropout over (N, C, L) or (C, L)."""

    fn = staticmethod(F.dropout1d)


class Dropout2d(_DropoutNd):
    """Channel dropout over (N, C, H, W) (a 3-D input is taken as (N, C, L), as torch)."""

    fn = staticmethod(F.dropout2d)


class Unflatten(Module):
    """Split dim ``dim`` into ``unflattened_size``: (N, 12) → (N, 3, 4) for (1, (3, 4))."""

    def __init__(self, dim: int, unflattened_size):
        super().__init__()
        if isinstance(dim, int):  # torch's TypeErrors; the size is kept as given (its repr)
            if not isinstance(unflattened_size, (tuple, list)):
                raise TypeError(
                    "unflattened_size must be tuple of ints, but found type"
                    f" {type(unflattened_size).__name__}"
                )
            for i, n in enumerate(unflattened_size):
                if not isinstance(n, int):
                    raise TypeError(
                        "unflattened_size must be tuple of ints, but found element of type"
                        f" {type(n).__name__} at pos {i}"
                    )
        self.dim, self.unflattened_size = dim, unflattened_size

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        x = input
        return x.unflatten(self.dim, tuple(self.unflattened_size))

    def extra_repr(self) -> str:
        return f"dim={self.dim}, unflattened_size={self.unflattened_size!r}"


# ---------------------------------------------------------------- bilinear


class Bilinear(Module):
    """y_o = x₁ᵀ A_o x₂ + b_o

    x₁ (..., in1_features), x₂ (..., in2_features) → y (..., out_features); weight A
    (out_features, in1_features, in2_features), bias b (out_features,), both uniform in
    ±1/√in1_features, as torch initialises them.
    """

    def __init__(self, in1_features: int, in2_features: int, out_features: int,
                 bias: bool = True, device=None, dtype=None):  # fmt: skip
        super().__init__()
        backend.check_device(device)
        if in1_features <= 0:  # torch's refusal (the init's bound 1/√in1 would divide by 0)
            raise ValueError(f"in1_features must be > 0, but got (in1_features={in1_features})")
        self.in1_features, self.in2_features = in1_features, in2_features
        self.out_features = out_features
        dtype = dtype or backend.DEFAULT_DTYPE
        no_negative_size("Bilinear", (out_features, in1_features, in2_features))
        self.weight = Parameter(xp.empty((out_features, in1_features, in2_features), dtype))
        self.bias = Parameter(xp.empty(out_features, dtype)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        bound = 1 / math.sqrt(self.weight.shape[1])
        init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input1: Tensor, input2: Tensor) -> Tensor:
        return F.bilinear(input1, input2, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (
            f"in1_features={self.in1_features}, in2_features={self.in2_features},"
            f" out_features={self.out_features}, bias={self.bias is not None}"
        )
