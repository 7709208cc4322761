"""torch.nn's Unfold, Fold, AdaptiveMaxPool1d/2d and EmbeddingBag.

Thin Modules over ``ember/functional/layers_fold.py`` with torch's names and argument orders;
EmbeddingBag keeps its table as ``weight`` (num_embeddings, embedding_dim), so torch's
state_dict loads unchanged.
"""

from __future__ import annotations

from .. import backend
from ..backend import xp
from ..errors import InputAssertionError
from ..functional import layers_fold as F
from ..tensor import Tensor
from . import init
from .linear import check_padding_idx, lookup_options, set_table
from .module import Module


class Unfold(Module):
    """X_col = im2col(x): (N, C, H, W) → (N, C·kh·kw, L), rows (c, u, v), L = Ho·Wo blocks."""

    def __init__(self, kernel_size, dilation=1, padding=0, stride=1):
        super().__init__()
        self.kernel_size, self.dilation = kernel_size, dilation
        self.padding, self.stride = padding, stride

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        x = input
        return F.unfold(x, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self) -> str:
        return (
            f"kernel_size={self.kernel_size}, dilation={self.dilation}, padding={self.padding},"
            f" stride={self.stride}"
        )


class Fold(Module):
    """x = col2im(X_col): (N, C·kh·kw, L) → (N, C, H, W), overlapping blocks summed."""

    def __init__(self, output_size, kernel_size, dilation=1, padding=0, stride=1):
        super().__init__()
        self.output_size, self.kernel_size, self.dilation = output_size, kernel_size, dilation
        self.padding, self.stride = padding, stride

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        x = input
        return F.fold(x, self.output_size, self.kernel_size, self.dilation, self.padding,
                      self.stride)  # fmt: skip

    def extra_repr(self) -> str:
        return (
            f"output_size={self.output_size}, kernel_size={self.kernel_size},"
            f" dilation={self.dilation}, padding={self.padding}, stride={self.stride}"
        )


class _AdaptiveMaxPool(Module):
    def __init__(self, output_size, return_indices: bool = False):
        super().__init__()
        self.output_size, self.return_indices = output_size, return_indices

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveMaxPool2d(_AdaptiveMaxPool):
    """y[n, c, i, j] = max of x over rows ⌊i·H/Ho⌋ … ⌈(i+1)·H/Ho⌉ − 1 and likewise columns;
    (N, C, H, W) → (N, C, Ho, Wo), with the flat indices h·W + w when ``return_indices``."""

    def forward(self, input: Tensor):  # noqa: A002
        x = input
        return F.adaptive_max_pool2d(x, self.output_size, self.return_indices)


class AdaptiveMaxPool1d(_AdaptiveMaxPool):
    """y[n, c, i] = max of x[n, c, ⌊i·L/Lo⌋ : ⌈(i+1)·L/Lo⌉]; (N, C, L) → (N, C, Lo)."""

    def forward(self, input: Tensor):  # noqa: A002
        x = input
        return F.adaptive_max_pool1d(x, self.output_size, self.return_indices)


class EmbeddingBag(Module):
    """y[b] = reduce_{k ∈ bag b} W[idx_k]: the 'sum', 'mean' or 'max' of each bag's embeddings.

    W (num_embeddings, embedding_dim), initialised N(0, 1) as torch (or ``_weight``); the
    ``padding_idx`` row starts at zero and its entries are left out of their bags. Input (B, n)
    (fixed bags) or (M,) with offsets (B,) → (B, embedding_dim); see F.embedding_bag.
    """

    def __init__(self, num_embeddings: int, embedding_dim: int, max_norm=None,
                 norm_type: float = 2.0, scale_grad_by_freq: bool = False, mode: str = "mean",
                 sparse: bool = False, _weight=None, include_last_offset: bool = False,
                 padding_idx: int | None = None, device=None, dtype=None):  # fmt: skip
        super().__init__()
        backend.check_device(device)
        if sparse:
            raise NotImplementedError(
                "EmbeddingBag: sparse=True (sparse gradients) is not supported"
            )
        if mode not in ("sum", "mean", "max"):
            raise ValueError(f"EmbeddingBag: mode has to be one of sum, mean or max, got {mode!r}")
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        self.max_norm, self.norm_type = max_norm, norm_type
        self.scale_grad_by_freq, self.mode, self.sparse = scale_grad_by_freq, mode, sparse
        self.include_last_offset = include_last_offset
        self.padding_idx = check_padding_idx(padding_idx, num_embeddings)
        set_table(self, (num_embeddings, embedding_dim), _weight, dtype)

    def reset_parameters(self) -> None:
        init.normal_(self.weight)
        if self.padding_idx is not None:
            self.weight.array[self.padding_idx] = 0

    def forward(self, input, offsets=None, per_sample_weights=None) -> Tensor:  # noqa: A002
        return F.embedding_bag(
            input, self.weight, offsets, self.max_norm, self.norm_type, self.scale_grad_by_freq,
            self.mode, self.sparse, per_sample_weights, self.include_last_offset,
            self.padding_idx,
        )  # fmt: skip

    @classmethod
    def from_pretrained(
        cls, embeddings, freeze: bool = True, max_norm: float | None = None,
        norm_type: float = 2.0, scale_grad_by_freq: bool = False, mode: str = "mean",
        sparse: bool = False, include_last_offset: bool = False, padding_idx: int | None = None,
    ) -> EmbeddingBag:  # fmt: skip
        """An EmbeddingBag whose table is ``embeddings`` (2-D, its memory shared, as torch's),
        frozen unless freeze=False."""
        w = embeddings.array if isinstance(embeddings, Tensor) else xp.asarray(embeddings)
        if w.ndim != 2:  # torch asserts it
            raise InputAssertionError(
                f"from_pretrained expects 2-D embeddings, got shape {tuple(w.shape)}"
            )
        bag = cls(
            w.shape[0], w.shape[1], max_norm, norm_type, scale_grad_by_freq, mode, sparse,
            embeddings, include_last_offset, padding_idx,
        )  # fmt: skip
        bag.weight.requires_grad = not freeze
        return bag

    def extra_repr(self) -> str:  # torch's order
        s = f"{self.num_embeddings}, {self.embedding_dim}{lookup_options(self)}"
        s += f", mode='{self.mode}'"
        return s + (f", padding_idx={self.padding_idx}" if self.padding_idx is not None else "")
