"""linear_cross_entropy: cross-entropy of linearly projected features, torch 2.13's
``F.linear_cross_entropy``, and ``LinearCrossEntropyOptions``, the switch to its chunked path.

With ``options=None`` it is exactly ``cross_entropy(linear(input, W, b), target, ...)``. With
options, class-index targets go through ``ops.linear_cross_entropy.LinearCrossEntropy``, which
runs the batch in chunks and never holds the whole (N, C) logits; anything that path does not
cover falls back to the reference with a warning, as torch's does.
"""

from __future__ import annotations

import dataclasses
import math
import warnings

from ..errors import InputTypeError
from ..ops import linear_cross_entropy as LCE
from ..tensor import Tensor, apply, as_array
from .layers import linear
from .loss import _class_targets, _class_weight, check_reduction, cross_entropy

_ACC_POLICIES = ("auto", "accurate", "balanced", "compact")
_ACC_DTYPES = ("float16", "bfloat16", "float32", "float64")


def _dtype_name(dtype) -> str:
    """'float32' for torch.float32, numpy.float32, numpy.dtype('float32') or 'float32'."""
    name = dtype.__name__ if isinstance(dtype, type) else str(dtype)
    return name.rsplit(".", 1)[-1]


@dataclasses.dataclass(slots=True, frozen=True)
class LinearCrossEntropyOptions:
    """How ``linear_cross_entropy`` chunks the batch; torch's fields, values and checks.

    ``batch_chunk_size`` (rows per chunk) and ``chunking_method`` decide the chunk as torch's:
    ``"auto"`` is ``"aspect_ratio:2"`` (torch's pick for float32/float64), unless
    ``batch_chunk_size`` is given; ``"aspect_ratio[:k]"`` sizes each (B, C) chunk of logits
    like the (N, D) input, B = next_pow2(⌈N / ⌈C/D⌉⌉) // k; ``None`` uses ``batch_chunk_size``
    (None: one chunk). An explicit size that disagrees with an explicit method is an error.

    ``acc_policy`` and ``acc_dtype`` (torch's precision/memory trade-offs for half precision)
    are checked and kept but change nothing here: ember computes in the input's dtype.
    ``allow_retain_graph`` is kept too; ember's backward recomputes the logits from the saved
    inputs, so a second backward works either way.
    """

    allow_retain_graph: bool = False
    batch_chunk_size: int | None = None
    chunking_method: str | None = "auto"
    acc_policy: str = "auto"
    acc_dtype: object = None

    def __post_init__(self):
        if self.acc_policy not in _ACC_POLICIES:
            raise ValueError(f"invalid acc_policy: {self.acc_policy!r}")
        if self.chunking_method is not None and self.chunking_method != "auto":
            name, sep, factor = str(self.chunking_method).partition(":")
            factor = factor if sep else "1"
            if not (name == "aspect_ratio" and factor.isdigit() and int(factor) > 0):
                raise ValueError(f"invalid chunking_method: {self.chunking_method!r}")
        size = self.batch_chunk_size
        if not (size is None or (isinstance(size, int) and size > 0)):
            raise ValueError(f"batch_chunk_size must be positive int or None, got {size!r}")
        if self.acc_dtype is not None and _dtype_name(self.acc_dtype) not in _ACC_DTYPES:
            raise ValueError(
                "acc_dtype must be one of {None, torch.float16, torch.bfloat16, torch.float32,"
                f" torch.float64}}, got {self.acc_dtype!r}. Pass acc_dtype=None to let the op"
                " pick automatically."
            )

    def chunk_size(self, num_batches: int, in_features: int, num_classes: int) -> int:
        """The rows per chunk for an (N, D) input and C classes, resolved as torch's."""
        method = self.chunking_method
        if method == "auto":
            method = None if self.batch_chunk_size is not None else "aspect_ratio:2"
        size = num_batches if self.batch_chunk_size is None else self.batch_chunk_size
        size = min(size, num_batches)
        if method is not None:
            factor = int(method.split(":", 1)[1]) if ":" in method else 1
            ratio = max(1, -(-num_classes // max(in_features, 1)))  # ⌈C/D⌉
            rows = -(-num_batches // ratio)  # ⌈N / ⌈C/D⌉⌉
            size = min((1 << (rows - 1).bit_length()) // factor, num_batches)
            if self.batch_chunk_size is not None and self.batch_chunk_size != size:
                raise ValueError(
                    f"batch_chunk_size (={self.batch_chunk_size}) and chunking_method"
                    f" ('{method}') give different chunk sizes ({self.batch_chunk_size} vs"
                    f" {size}); pass only one."
                )
        return max(1, size)


def _as_options(options) -> LinearCrossEntropyOptions:
    """ember's options, or the same fields read off torch's LinearCrossEntropyOptions."""
    if isinstance(options, LinearCrossEntropyOptions):
        return options
    names = [f.name for f in dataclasses.fields(LinearCrossEntropyOptions)]
    return LinearCrossEntropyOptions(**{k: getattr(options, k) for k in names})


def _check(input, linear_weight, linear_bias, weight, label_smoothing):  # noqa: A002
    """torch's checks, in torch's order and words."""
    if input.ndim < 1 or input.ndim > 2:
        raise RuntimeError(f"expected input with dimensionality 1 or 2, got {input.ndim}")
    if linear_weight.ndim < 2:
        raise RuntimeError(
            f"expected linear_weight with dimensionality at least 2, got {linear_weight.ndim}"
        )
    if input.shape[-1] != linear_weight.shape[-1]:
        raise RuntimeError(
            "expected equal input and linear_weight last dimensions (in_features), got"
            f" {input.shape[-1]} and {linear_weight.shape[-1]}, respectively"
        )
    num_classes, out_features = linear_weight.shape[0], tuple(linear_weight.shape[1:-1])
    if linear_bias is not None and tuple(linear_bias.shape) != (num_classes, *out_features):
        raise RuntimeError(
            f"expected linear_bias shape {(num_classes, *out_features)}, got"
            f" {tuple(linear_bias.shape)}"
        )
    if out_features and input.ndim == 1:
        raise RuntimeError(
            f"K-dimensional loss defined by linear_weight shape {tuple(linear_weight.shape)}"
            f" requires batched input, (N, {input.shape[-1]}), got unbatched input with shape"
            f" {tuple(input.shape)}"
        )
    if not 0.0 <= label_smoothing <= 1.0:
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
    if weight is not None and tuple(as_array(weight).shape) != (num_classes,):
        raise RuntimeError(
            f"weight tensor should be defined either for all {num_classes} classes or no"
            f" classes but got weight tensor of shape: {list(as_array(weight).shape)}"
        )
    return num_classes, out_features


def linear_cross_entropy(
    input: Tensor,  # noqa: A002
    linear_weight: Tensor,
    target,
    *,
    linear_bias: Tensor | None = None,
    weight=None,
    reduction: str = "mean",
    ignore_index: int | None = None,
    label_smoothing: float = 0.0,
    options: LinearCrossEntropyOptions | None = None,
) -> Tensor:
    """ℓ = logsumexp(z) − z_t with z = W·x + b: cross-entropy of linearly projected features.

    input (D,) or (N, D); linear_weight (C, D), or (C, d_1, …, d_K, D) for a K-dimensional
    loss (batched input only), linear_bias shaped (C, d_1, …, d_K); target class indices
    ((), (N,) or (N, d_1, …, d_K)) or class probabilities shaped like the logits
    (N, C, d_1, …, d_K). ``weight``, ``reduction`` and ``label_smoothing`` are
    cross_entropy's (ℓ_n = (1−ε)·w_t·(lse − z_t) + (ε/C)·Σ_c w_c·(lse − z_c)); ``ignore_index``
    None means −100 for class indices and may not be given with probabilities.

    ``options=None`` is the reference, ``cross_entropy(linear(input, W, b), target, ...)``,
    which keeps the (N, C) logits and their log-softmax from forward to backward. With a
    ``LinearCrossEntropyOptions`` the batch runs in chunks of B rows: forward keeps one (B, C)
    chunk of logits at a time and saves only the (N,) log-sum-exp; backward recomputes each
    chunk's logits and accumulates ∂L/∂x, ∂L/∂W, ∂L/∂b (see ops.linear_cross_entropy). That
    saves N·C floats of logits (and as many of log-softmax) for one more x·Wᵀ. The chunked
    path takes class indices with weight, ignore_index, label_smoothing and every reduction
    (torch's also leaves label smoothing to the reference); K-dimensional weights and
    probability targets fall back to the reference with a warning, as torch's.
    """
    check_reduction(reduction)
    num_classes, out_features = _check(input, linear_weight, linear_bias, weight, label_smoothing)
    batch = tuple(input.shape[:-1])
    logits_shape = (*batch, num_classes, *out_features)
    t_arr = as_array(target)
    if tuple(t_arr.shape) == logits_shape and ignore_index is not None:
        raise RuntimeError("ignore_index cannot be specified when target contains probabilities")
    ignore_index = -100 if ignore_index is None else ignore_index
    if options is not None:
        options = _as_options(options)
        if not out_features and t_arr.dtype.kind in "iu":
            return _chunked(
                input, linear_weight, t_arr, linear_bias, weight, reduction, ignore_index,
                label_smoothing, options,
            )  # fmt: skip
        warnings.warn(
            "linear_cross_entropy: ``options`` ignored; chunked path needs class-index"
            " (integer) targets and out_features == (). Got"
            f" target.dtype={t_arr.dtype}, out_features={out_features}, linear_bias.shape="
            f"{tuple(linear_bias.shape) if linear_bias is not None else None}.",
            stacklevel=2,
        )
    if out_features:
        flat = math.prod(out_features, start=num_classes)
        linear_weight = linear_weight.reshape(flat, input.shape[-1])
        if linear_bias is not None:
            linear_bias = linear_bias.reshape(flat)
    logits = linear(input, linear_weight, linear_bias).reshape(*logits_shape)
    return cross_entropy(
        logits,
        target,
        weight,
        ignore_index=ignore_index,
        reduction=reduction,
        label_smoothing=label_smoothing,
    )


def _chunked(
    input, linear_weight, t_arr, linear_bias, weight, reduction, ignore_index,  # noqa: A002
    label_smoothing, options,
):  # fmt: skip
    """The chunked path for input (D,) or (N, D), W (C, D) and class indices."""
    if input.dtype != linear_weight.dtype:  # linear's words
        raise InputTypeError(
            f"linear: input dtype {input.dtype} and weight dtype {linear_weight.dtype} differ"
            f" (convert the input with .to({linear_weight.dtype}) or the layer with .to(dtype))"
        )
    c, d = linear_weight.shape
    logits_shape = (c,) if input.ndim == 1 else (input.shape[0], c)
    t = _class_targets(t_arr, c, ignore_index, logits_shape, "linear_cross_entropy")
    x = input.reshape(1, d) if input.ndim == 1 else input
    w = _class_weight(weight, c, input.dtype, "linear_cross_entropy")
    chunk = options.chunk_size(x.shape[0], d, c)
    loss = apply(
        LCE.LinearCrossEntropy, x, linear_weight, linear_bias, t, weight=w,
        ignore_index=ignore_index, label_smoothing=float(label_smoothing),
        reduction=reduction, chunk=chunk,
    )  # fmt: skip
    return loss.reshape(()) if reduction == "none" and input.ndim == 1 else loss
