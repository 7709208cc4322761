"""F.batch_norm and F.group_norm with torch's signatures.

Batch norm (Ioffe & Szegedy 2015), per channel c over the M = N·(pixels) positions:

    x̂ = (x − μ_B) / √(σ²_B + ε),   y = γ · x̂ + β
    running_mean ← (1 − momentum) · running_mean + momentum · μ_B
    running_var  ← (1 − momentum) · running_var  + momentum · σ²_B · M/(M − 1)   (unbiased)

Group norm (Wu & He 2018): the same x̂ with μ and σ² taken per sample over each group
of C/G channels and all pixels; γ, β per channel.

``batch_norm`` runs the fused op of ``ember/ops/batchnorm.py``; ``batch_norm_composed``
is the equation from primitive Tensor ops, and the tests hold the two equal.
"""

from __future__ import annotations

import math

from ..errors import InputError, InputTypeError
from ..function import no_grad
from ..ops import batchnorm as B
from ..ops.complex_refuse import refuse_complex
from ..ops.elementwise import not_implemented_for
from ..tensor import Tensor, apply


def check_same_dtype(name: str, x: Tensor, **params) -> bool:
    """The statistics and affine parameters must share the input's dtype, as torch requires:
    a float64 input into a float32 layer would otherwise run, promoted. torch's one "mixed
    dtype" case is allowed: a float16 input (autocast's output) into float32 parameters; the
    answer is True then, and the caller normalises in float32 and answers in float16."""
    given = [t for t in params.values() if t is not None]
    if given and x.dtype.itemsize == 2 and x.dtype.kind == "f":
        if all(t.dtype == given[0].dtype and t.dtype.name == "float32" for t in given):
            return True
    for label, t in params.items():
        if t is not None and t.dtype != x.dtype:
            raise InputTypeError(
                f"{name}: input dtype {x.dtype} and {label} dtype {t.dtype} differ (convert the"
                f" input with .to({t.dtype}) or the layer with .to(dtype))"
            )
    return False


def batch_norm(
    input: Tensor,  # noqa: A002 - torch's argument name
    running_mean: Tensor | None,
    running_var: Tensor | None,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    training: bool = False,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    """Normalise each channel of x (N, C, ...); update the running stats in place in training.

    The checks come in torch's order, so that a call with several mistakes names the one
    torch names: the batch size and ε first, then the rank, the shapes and the running
    statistics, and the dtype last."""
    x, eps = input, float(eps)  # a 0-d tensor ε is its number, as torch parses it
    if training:
        verify_batch_size(x.array.shape)  # (the tuple: a Size slices slowly)
        if eps <= 0.0:  # torch's: 1/√(σ² + ε) of a constant channel would be 1/0
            raise ValueError(f"batch_norm eps must be positive during training, but got {eps}")
    elif eps < 0.0:
        raise ValueError(f"batch_norm eps must be non-negative, but got {eps}")
    return batch_norm_kernel(x, running_mean, running_var, weight, bias, training, momentum, eps)


def batch_norm_kernel(x: Tensor, running_mean: Tensor | None, running_var: Tensor | None,
                      weight: Tensor | None, bias: Tensor | None, training: bool,
                      momentum: float, eps: float) -> Tensor:  # fmt: skip
    """batch_norm past F's own checks of the batch size and ε: torch.batch_norm, which has
    none of them (one value per channel normalises to 0, its unbiased variance is nan)."""
    eps = float(eps)  # None is torch's TypeError; a 0-d tensor ε is its number
    if x.ndim < 2:
        raise InputError(
            f"batch_norm: expected an input of at least 2 dims (N, C, ...), got {x.shape}"
        )
    if not training and running_mean is None:
        raise InputError("batch_norm: evaluation needs running_mean and running_var, got None")
    c = x.shape[1]
    for name, t in (("running_mean", running_mean), ("running_var", running_var),
                    ("weight", weight), ("bias", bias)):  # fmt: skip
        if t is not None and t.shape != (c,):
            raise InputError(f"batch_norm: {name} must have shape ({c},), got {t.shape}")
    if not training and running_var is None:
        raise InputError("batch_norm: evaluation needs running_var too, got None")
    if training and (running_mean is None) != (running_var is None):  # torch's ValueError
        raise ValueError("running_mean and running_var must either both be None or neither be None")
    if x.dtype.kind in "biu":  # torch's refusal (NumPy failed inside, or cast the statistics)
        raise not_implemented_for("batch_norm", x.dtype)
    if x.dtype.kind == "c":  # torch has no complex batch_norm kernel
        refuse_complex(x.array, "batch_norm", NotImplementedError, "normalise z.real, z.imag")
    if check_same_dtype("batch_norm", x, weight=weight, bias=bias, running_mean=running_mean,
                        running_var=running_var):  # fmt: skip
        args = (running_mean, running_var, weight, bias, training, momentum, eps)
        return batch_norm_kernel(x.float(), *args).to(x.dtype)
    m = x.array.size // c if c else 0
    if m == 0:  # an empty batch (or no channels): an empty result, the running stats untouched
        return _affine(x, weight, bias, (1, c) + (1,) * (x.ndim - 2))
    y, mu, var = apply(
        B.BatchNorm, x, weight, bias,
        None if training else running_mean.array, None if training else running_var.array,
        use_batch_stats=training, eps=eps,
    )  # fmt: skip
    if training and running_mean is not None:
        with no_grad():
            update_running_stat(running_mean, mu.array, momentum)
            unbiased = var.array * (m / (m - 1)) if m > 1 else var.array + float("nan")
            update_running_stat(running_var, unbiased, momentum)
    return y


def verify_batch_size(shape: tuple) -> None:
    """torch's training check: N·(pixels) == 1 leaves one value per channel, which normalises
    to 0 (torch counts N and the pixels only, so a (1, 0) input is refused too)."""
    if not shape:
        return  # the rank check names this mistake
    size = shape[0]
    for k in shape[2:]:
        size *= k
    if size == 1:
        raise ValueError(
            f"Expected more than 1 value per channel when training, got input size {tuple(shape)}"
        )


def verify_spatial_size(shape: tuple) -> None:
    """torch's check for instance norm with the input's statistics: one pixel per instance
    normalises to 0 (the rank is not checked here, so a (N, C) input is refused too)."""
    size = 1
    for k in shape[2:]:
        size *= k
    if size == 1:
        raise ValueError(
            f"Expected more than 1 spatial element when training, got input size {tuple(shape)}"
        )


def update_running_stat(run: Tensor, stat, momentum: float) -> None:
    """run ← (1 − momentum)·run + momentum·stat, in place, in run's dtype."""
    run.array *= 1 - momentum
    run.array += momentum * stat.astype(run.array.dtype, copy=False)


def _affine(x_hat: Tensor, weight: Tensor | None, bias: Tensor | None, shape: tuple) -> Tensor:
    """γ·x̂ + β with γ, β (C,) broadcast over ``shape`` (1, C, 1, ...); either may be None."""
    if weight is not None:
        x_hat = x_hat * weight.reshape(shape)
    if bias is not None:
        x_hat = x_hat + bias.reshape(shape)
    return x_hat


def batch_norm_composed(x: Tensor, weight: Tensor | None, bias: Tensor | None,
                        eps: float = 1e-5) -> Tensor:  # fmt: skip
    """Training-mode batch norm from primitives: the reference for the fused op."""
    axes = (0,) + tuple(range(2, x.ndim))
    shape = (1, x.shape[1]) + (1,) * (x.ndim - 2)
    mu_B = x.mean(axis=axes, keepdims=True)
    var_B = ((x - mu_B) ** 2).mean(axis=axes, keepdims=True)
    x_hat = (x - mu_B) / (var_B + eps).sqrt()
    return _affine(x_hat, weight, bias, shape)


def group_norm(
    input: Tensor,  # noqa: A002
    num_groups: int,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    eps: float = 1e-5,
) -> Tensor:
    """x̂ per sample and group of C/G channels, then γ·x̂ + β per channel; the checks in
    torch's order (rank, one value per group, the groups, γ and β, the dtype)."""
    x = input
    n, c, spatial = _group_norm_sizes(x)
    if num_groups > 0 and n * c // num_groups * spatial == 1:  # torch counts before dividing
        raise ValueError(
            f"group_norm: expected more than 1 value per channel when training, got input"
            f" {x.shape} with num_groups={num_groups}"
        )
    return group_norm_kernel(x, num_groups, weight, bias, eps)


def _group_norm_sizes(x: Tensor) -> tuple[int, int, int]:
    """(N, C, the number of values per channel) of group_norm's input, or torch's refusal of
    a rank below 2."""
    if x.ndim < 2:
        raise InputError(f"group_norm: expected an input (N, C, ...), got shape {x.shape}")
    n, c = x.array.shape[:2]
    return n, c, math.prod(x.array.shape[2:])


def group_norm_kernel(x: Tensor, num_groups: int, weight: Tensor | None, bias: Tensor | None,
                      eps: float) -> Tensor:  # fmt: skip
    """group_norm past F's check of one value per group: torch.group_norm, which has none."""
    eps = float(eps)  # None is torch's TypeError (ember normalised to nan)
    n, c, spatial = _group_norm_sizes(x)
    if num_groups < 1 or c % num_groups:
        raise InputError(f"group_norm: num_groups={num_groups} must divide {c} channels")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and t.shape != (c,):  # torch's RuntimeError (NumPy broadcast or failed)
            raise InputError(
                f"group_norm: expected {name} to be a vector of {c} values, one per channel of"
                f" the input {x.shape}, got shape {t.shape}"
            )
    if x.dtype.kind in "biu":  # torch's refusal (NumPy's mean failed with another error)
        raise not_implemented_for("GroupNormKernelImpl", x.dtype)
    if x.dtype.kind == "c":  # torch has no complex group_norm kernel
        refuse_complex(x.array, "group_norm", NotImplementedError, "normalise z.real, z.imag")
    if check_same_dtype("group_norm", x, weight=weight, bias=bias):
        return group_norm_kernel(x.float(), num_groups, weight, bias, eps).to(x.dtype)
    if x.dtype.name == "float16":  # in float32, rounded once, as torch's half kernel
        up = [None if t is None else t.float() for t in (weight, bias)]
        return group_norm_kernel(x.float(), num_groups, *up, eps).to(x.dtype)
    shape = (1, c) + (1,) * (x.ndim - 2)
    if x.array.size == 0:  # nothing to normalise (and no mean of an empty group to warn of)
        return _affine(x, weight, bias, shape)
    x_g = x.reshape(n, num_groups, c // num_groups * spatial)  # (no -1: n may be 0)
    mu = x_g.mean(axis=2, keepdims=True)
    x_c = x_g - mu
    var = (x_c * x_c).mean(axis=2, keepdims=True)
    x_hat = (x_c / (var + eps).sqrt()).reshape(x.shape)
    return _affine(x_hat, weight, bias, shape)
