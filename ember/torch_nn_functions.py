"""ember.* functions for torch's scatter variants and the neural-network functions torch also
exposes at its top level (slice_scatter, select_scatter, diagonal_scatter, split_with_sizes,
index_reduce; torch.conv2d, torch.layer_norm, torch.dropout … with torch's own top-level
signatures), as torch's top-level functions; ``__all__`` lists them.

The top-level nn functions are torch's ATen signatures, not ``torch.nn.functional``'s: the
losses take ``reduction`` as an int (0 'none', 1 'mean', 2 'sum'; a string is accepted too)
and, left out, it is 0: ATen's schema says ``reduction=Mean`` but torch's Python binding
parses that default as 0, so ``torch.kl_div(x, y)`` is elementwise (as here);
``torch.embedding`` takes the weight first, ``torch.dropout(input, p, train)`` has no defaults,
``torch.batch_norm`` puts weight and bias before the running statistics, and the cudnn flags
are accepted and ignored. Each is a thin wrapper over ``ember.functional``.
"""

from __future__ import annotations

from . import backend
from . import functional as F
from .backend import xp
from .functional.layers_more import instance_norm_kernel
from .functional.normalization import batch_norm_kernel, group_norm_kernel
from .tensor import Tensor

__all__: list[str] = [
    "slice_scatter",
    "select_scatter",
    "diagonal_scatter",
    "split_with_sizes",
    "index_reduce",
    "conv1d",
    "conv2d",
    "conv3d",
    "conv_transpose1d",
    "conv_transpose2d",
    "batch_norm",
    "layer_norm",
    "group_norm",
    "instance_norm",
    "rms_norm",
    "embedding",
    "dropout",
    "alpha_dropout",
    "feature_alpha_dropout",
    "celu",
    "selu",
    "prelu",
    "rrelu",
    "hardshrink",
    "threshold",
    "pixel_shuffle",
    "pixel_unshuffle",
    "channel_shuffle",
    "native_channel_shuffle",
    "conv_tbc",
    "bilinear",
    "cosine_similarity",
    "pairwise_distance",
    "pdist",
    "cosine_embedding_loss",
    "ctc_loss",
    "kl_div",
    "margin_ranking_loss",
    "hinge_embedding_loss",
    "triplet_margin_loss",
    "poisson_nll_loss",
    "binary_cross_entropy_with_logits",
    "max_pool1d",
    "max_pool2d",
    "max_pool3d",
    "avg_pool1d",
    "adaptive_avg_pool1d",
    "adaptive_max_pool1d",
]

#: ATen's reduction enum, as torch's top-level losses take it
_REDUCTIONS = {0: "none", 1: "mean", 2: "sum"}


def _reduction(reduction) -> str:
    if isinstance(reduction, str):
        return reduction
    if isinstance(reduction, bool) or reduction not in _REDUCTIONS:
        raise ValueError(
            f"reduction must be 0 ('none'), 1 ('mean') or 2 ('sum'), got {reduction!r}"
        )
    return _REDUCTIONS[reduction]


# ------------------------------------------------------------ scatter variants
def slice_scatter(input, src, dim=0, start=None, end=None, step=1) -> Tensor:  # noqa: A002
    """torch.slice_scatter: a copy of input with input[…, start:end:step, …] (along dim) = src."""
    return input.slice_scatter(src, dim, start, end, step)


def select_scatter(input, src, dim, index) -> Tensor:  # noqa: A002
    """torch.select_scatter: a copy of input with input.select(dim, index) = src."""
    return input.select_scatter(src, dim, index)


def diagonal_scatter(input, src, offset=0, dim1=0, dim2=1) -> Tensor:  # noqa: A002
    """torch.diagonal_scatter: a copy of input with input.diagonal(offset, dim1, dim2) = src."""
    return input.diagonal_scatter(src, offset, dim1, dim2)


def split_with_sizes(input, split_sizes, dim=0) -> tuple:  # noqa: A002
    """torch.split_with_sizes: input split along dim into parts of the listed sizes."""
    return input.split_with_sizes(split_sizes, dim)


def index_reduce(input, dim, index, source, reduce, *, include_self=True) -> Tensor:  # noqa: A002
    """torch.index_reduce: source's slices combined into input's at index along dim by reduce
    ('prod', 'mean', 'amax', 'amin')."""
    return input.index_reduce(dim, index, source, reduce, include_self=include_self)


# ------------------------------------------------------------ convolutions
# torch's top-level convolutions take F's arguments in F's order: the same functions
conv1d, conv2d, conv3d = F.conv1d, F.conv2d, F.conv3d
conv_transpose1d, conv_transpose2d = F.conv_transpose1d, F.conv_transpose2d


# ------------------------------------------------------------ normalisation
def batch_norm(  # noqa: PLR0913
    input,  # noqa: A002
    weight,
    bias,
    running_mean,
    running_var,
    training,
    momentum,
    eps,
    cudnn_enabled,
) -> Tensor:
    """torch.batch_norm: F.batch_norm with weight and bias first, without F's N and ε checks."""
    return batch_norm_kernel(
        input, running_mean, running_var, weight, bias, bool(training), momentum, eps
    )


def instance_norm(  # noqa: PLR0913
    input,  # noqa: A002
    weight,
    bias,
    running_mean,
    running_var,
    use_input_stats,
    momentum,
    eps,
    cudnn_enabled,
) -> Tensor:
    """torch.instance_norm: F.instance_norm, weight and bias first, without F's pixel check."""
    return instance_norm_kernel(
        input, running_mean, running_var, weight, bias, bool(use_input_stats), momentum, eps
    )


def layer_norm(  # noqa: A002
    input, normalized_shape, weight=None, bias=None, eps=1e-05, cudnn_enable=True
) -> Tensor:
    """torch.layer_norm (as F.layer_norm); cudnn_enable is ignored."""
    return F.layer_norm(input, normalized_shape, weight, bias, eps)


def group_norm(  # noqa: A002
    input, num_groups, weight=None, bias=None, eps=1e-05, cudnn_enabled=True
) -> Tensor:
    """torch.group_norm (F.group_norm without its check of the values per group)."""
    return group_norm_kernel(input, num_groups, weight, bias, eps)


def rms_norm(input, normalized_shape, weight=None, eps=None) -> Tensor:  # noqa: A002
    """torch.rms_norm (as F.rms_norm)."""
    return F.rms_norm(input, normalized_shape, weight, eps)


def embedding(  # noqa: A002
    weight, indices, padding_idx=-1, scale_grad_by_freq=False, sparse=False
) -> Tensor:
    """torch.embedding: the rows of weight at indices (weight first, unlike F.embedding); a
    negative padding_idx means none (F.embedding maps its negative ones before calling this)."""
    return F.embedding(
        indices,
        weight,
        padding_idx=None if padding_idx is None or padding_idx < 0 else padding_idx,
        scale_grad_by_freq=scale_grad_by_freq,
        sparse=sparse,
    )


# ------------------------------------------------------------ dropout and activations
def dropout(input, p, train) -> Tensor:  # noqa: A002
    """torch.dropout(input, p, train) (as F.dropout)."""
    return F.dropout(input, p, bool(train))


def alpha_dropout(input, p, train) -> Tensor:  # noqa: A002
    """torch.alpha_dropout(input, p, train) (as F.alpha_dropout)."""
    return F.alpha_dropout(input, p, bool(train))


def feature_alpha_dropout(input, p, train) -> Tensor:  # noqa: A002
    """torch.feature_alpha_dropout(input, p, train) (as F.feature_alpha_dropout)."""
    return F.feature_alpha_dropout(input, p, bool(train))


def celu(input, alpha=1.0) -> Tensor:  # noqa: A002
    """torch.celu: x for x > 0, α·(e^{x/α} − 1) otherwise."""
    return F.celu(input, alpha)


def selu(input) -> Tensor:  # noqa: A002
    """torch.selu: λ·(x for x > 0, α·(eˣ − 1) otherwise), λ ≈ 1.0507, α ≈ 1.6733."""
    return F.selu(input)


def prelu(input, weight) -> Tensor:  # noqa: A002
    """torch.prelu: x for x > 0, a_c·x otherwise (one learnt slope per channel, or one)."""
    return F.prelu(input, weight)


def rrelu(input, lower=0.125, upper=1.0 / 3.0, training=False, generator=None) -> Tensor:  # noqa: A002
    """torch.rrelu (as F.rrelu); in training, the slopes a ~ U(lower, upper) are drawn from
    ``generator`` when one is given (ember's default stream otherwise), y = x·a where x ≤ 0."""
    if generator is None or not training or lower > upper or input.dtype.kind == "c":
        return F.rrelu(input, lower, upper, bool(training))
    x = input
    a = backend.generator_or_default(generator).uniform(lower, upper, x.shape, x.dtype)
    noise = xp.where(x.array <= 0, a, xp.ones((), dtype=x.dtype)).astype(x.dtype, copy=False)
    return x * Tensor(noise)


def hardshrink(input, lambd=0.5) -> Tensor:  # noqa: A002
    """torch.hardshrink: x where |x| > λ, 0 elsewhere."""
    return F.hardshrink(input, lambd)


def threshold(input, threshold, value) -> Tensor:  # noqa: A002
    """torch.threshold: value where input ≤ threshold, input elsewhere."""
    return F.threshold(input, threshold, value)


# ------------------------------------------------------------ shuffles, similarities
def pixel_shuffle(input, upscale_factor) -> Tensor:  # noqa: A002
    """torch.pixel_shuffle: (*, C·r², H, W) → (*, C, H·r, W·r), channel blocks to pixels."""
    return F.pixel_shuffle(input, upscale_factor)


def pixel_unshuffle(input, downscale_factor) -> Tensor:  # noqa: A002
    """torch.pixel_unshuffle: (*, C, H·r, W·r) → (*, C·r², H, W), the inverse shuffle."""
    return F.pixel_unshuffle(input, downscale_factor)


def channel_shuffle(input, groups) -> Tensor:  # noqa: A002
    """torch.channel_shuffle: (N, g·m, *) with channel i·m + j moved to j·g + i."""
    return F.channel_shuffle(input, groups)


native_channel_shuffle = channel_shuffle


def conv_tbc(input, weight, bias, pad: int = 0) -> Tensor:  # noqa: A002
    """torch.conv_tbc: a 1-D convolution in time-batch-channel layout (F.conv_tbc)."""
    from .functional.layers_extra import conv_tbc as tbc

    return tbc(input, weight, bias, pad)


def bilinear(input1, input2, weight, bias=None) -> Tensor:
    """torch.bilinear: y_k = x₁ᵀ W_k x₂ + b_k."""
    return F.bilinear(input1, input2, weight, bias)


def cosine_similarity(x1, x2, dim=1, eps=1e-08) -> Tensor:
    """torch.cosine_similarity: x₁·x₂ / max(‖x₁‖·‖x₂‖, ε) along dim."""
    return F.cosine_similarity(x1, x2, dim, eps)


def pairwise_distance(x1, x2, p=2.0, eps=1e-06, keepdim=False) -> Tensor:
    """torch.pairwise_distance: ‖x₁ − x₂ + ε‖_p along the last dim."""
    return F.pairwise_distance(x1, x2, p, eps, keepdim)


def pdist(input, p=2.0) -> Tensor:  # noqa: A002
    """torch.pdist: ‖x_i − x_j‖_p for every row pair i < j of x (N, M), as (N(N−1)/2,)."""
    return F.pdist(input, p)


# ------------------------------------------------------------ losses (reduction as an int)
def cosine_embedding_loss(input1, input2, target, margin=0.0, reduction=0) -> Tensor:
    """torch.cosine_embedding_loss: 1 − cos(x₁, x₂) for y = 1, max(0, cos(x₁, x₂) − margin)
    for y = −1."""
    return F.cosine_embedding_loss(input1, input2, target, margin, reduction=_reduction(reduction))


def ctc_loss(  # noqa: PLR0913
    log_probs,
    targets,
    input_lengths,
    target_lengths,
    blank=0,
    reduction=0,
    zero_infinity=False,
) -> Tensor:
    """torch.ctc_loss: −log Σ over the alignments of each target, of Π_t p_t(aligned label)."""
    return F.ctc_loss(
        log_probs,
        targets,
        input_lengths,
        target_lengths,
        blank,
        _reduction(reduction),
        zero_infinity,
    )


def kl_div(input, target, reduction=0, *, log_target=False) -> Tensor:  # noqa: A002
    """torch.kl_div (reduction 1 is the plain mean, not 'batchmean')."""
    return F.kl_div(input, target, reduction=_reduction(reduction), log_target=log_target)


def margin_ranking_loss(input1, input2, target, margin=0.0, reduction=0) -> Tensor:
    """torch.margin_ranking_loss: max(0, −y·(x₁ − x₂) + margin)."""
    return F.margin_ranking_loss(input1, input2, target, margin, reduction=_reduction(reduction))


def hinge_embedding_loss(input, target, margin=1.0, reduction=0) -> Tensor:  # noqa: A002
    """torch.hinge_embedding_loss: x for y = 1, max(0, margin − x) for y = −1."""
    return F.hinge_embedding_loss(input, target, margin, reduction=_reduction(reduction))


def triplet_margin_loss(  # noqa: PLR0913
    anchor, positive, negative, margin=1.0, p=2.0, eps=1e-06, swap=False, reduction=0
) -> Tensor:
    """torch.triplet_margin_loss: max(d(a, p) − d(a, n) + margin, 0), d the p-norm distance."""
    return F.triplet_margin_loss(
        anchor, positive, negative, margin, p, eps, swap, reduction=_reduction(reduction)
    )


def poisson_nll_loss(input, target, log_input, full, eps, reduction) -> Tensor:  # noqa: A002
    """torch.poisson_nll_loss (every argument required, as torch's top-level one)."""
    return F.poisson_nll_loss(
        input, target, log_input, full, eps=eps, reduction=_reduction(reduction)
    )


def binary_cross_entropy_with_logits(  # noqa: A002
    input, target, weight=None, pos_weight=None, reduction=0
) -> Tensor:
    """torch.binary_cross_entropy_with_logits: pos_weight before reduction, unlike F's."""
    return F.binary_cross_entropy_with_logits(
        input, target, weight=weight, reduction=_reduction(reduction), pos_weight=pos_weight
    )


# ------------------------------------------------------------ pooling
def _stride(stride):
    """ATen's empty stride (its default) means the kernel size, as F's None."""
    if stride is None or (isinstance(stride, (tuple, list)) and len(stride) == 0):
        return None
    return stride


def max_pool1d(  # noqa: A002
    input, kernel_size, stride=(), padding=0, dilation=1, ceil_mode=False
) -> Tensor:
    """torch.max_pool1d (values only; F.max_pool1d gives the indices)."""
    return F.max_pool1d(input, kernel_size, _stride(stride), padding, dilation, ceil_mode)


def max_pool2d(  # noqa: A002
    input, kernel_size, stride=(), padding=0, dilation=1, ceil_mode=False
) -> Tensor:
    """torch.max_pool2d (values only)."""
    return F.max_pool2d(input, kernel_size, _stride(stride), padding, dilation, ceil_mode)


def max_pool3d(  # noqa: A002
    input, kernel_size, stride=(), padding=0, dilation=1, ceil_mode=False
) -> Tensor:
    """torch.max_pool3d (values only)."""
    return F.max_pool3d(input, kernel_size, _stride(stride), padding, dilation, ceil_mode)


def avg_pool1d(  # noqa: A002
    input, kernel_size, stride=(), padding=0, ceil_mode=False, count_include_pad=True
) -> Tensor:
    """torch.avg_pool1d: the mean of each window of x (N, C, L) or (C, L) along L."""
    return F.avg_pool1d(input, kernel_size, _stride(stride), padding, ceil_mode, count_include_pad)


def adaptive_avg_pool1d(input, output_size) -> Tensor:  # noqa: A002
    """torch.adaptive_avg_pool1d: the mean over bins ⌊i·L/Lo⌋ ≤ · < ⌈(i+1)·L/Lo⌉ along L."""
    return F.adaptive_avg_pool1d(input, output_size)


def adaptive_max_pool1d(input, output_size) -> tuple:  # noqa: A002
    """torch.adaptive_max_pool1d: (values, indices), always both at torch's top level."""
    return F.adaptive_max_pool1d(input, output_size, return_indices=True)
