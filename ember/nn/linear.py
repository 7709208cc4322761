"""Linear, Identity, Flatten, Embedding."""

from __future__ import annotations

import math

from .. import backend
from .. import functional as F
from ..backend import xp
from ..errors import InputAssertionError, InputError
from ..tensor import Tensor
from . import init
from .module import Module, Parameter


class Identity(Module):
    """y = x. Takes (and ignores) any arguments, as torch's, so it stands in for a layer."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__()

    def forward(self, input):  # noqa: A002
        x = input
        return x


class Linear(Module):
    """y = x·Wᵀ + b

    x: (..., in_features) → y: (..., out_features); W (out_features, in_features), b
    (out_features,). Initialised as torch: W and b uniform in ±1/√in_features.
    """

    def __init__(
        self, in_features: int, out_features: int, bias: bool = True, device=None, dtype=None
    ):
        super().__init__()
        backend.check_device(device)
        self.in_features, self.out_features = in_features, out_features
        dtype = dtype or backend.DEFAULT_DTYPE
        no_negative_size(type(self).__name__, (out_features, in_features))
        self.weight = Parameter(xp.empty((out_features, in_features), dtype=dtype))
        self.bias = Parameter(xp.empty(out_features, dtype=dtype)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            bound = 1 / math.sqrt(self.in_features) if self.in_features > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        x = input
        return F.linear(x, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, out_features={self.out_features},"
            f" bias={self.bias is not None}"
        )


class NonDynamicallyQuantizableLinear(Linear):
    """torch's class of MultiheadAttention.out_proj: a Linear whose name tells torch's
    quantization tools to leave it alone; here it keeps reprs and isinstance checks torch's."""


class Flatten(Module):
    """Flatten dims start_dim..end_dim into one (default: all but the batch dim)."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        x = input
        return x.flatten(self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


def check_padding_idx(padding_idx: int | None, num_embeddings: int) -> int | None:
    """padding_idx in [0, num_embeddings) (a negative one counts from the end), as torch,
    which checks only a nonzero one (0 passes for a table of no rows)."""
    if padding_idx is None:
        return None
    too_high = padding_idx > 0 and padding_idx >= num_embeddings
    if too_high or (padding_idx < 0 and padding_idx < -num_embeddings):
        raise AssertionError(
            f"Padding_idx must be within num_embeddings: got {padding_idx} for {num_embeddings}"
        )
    return padding_idx + num_embeddings if padding_idx < 0 else padding_idx


def lookup_options(table) -> str:
    """The options of an Embedding or EmbeddingBag that differ from the defaults, in torch's
    repr order: ", max_norm=…, norm_type=…, scale_grad_by_freq=True"."""
    s = "" if table.max_norm is None else f", max_norm={table.max_norm}"
    s += "" if table.norm_type == 2 else f", norm_type={table.norm_type}"
    return s + (", scale_grad_by_freq=True" if table.scale_grad_by_freq else "")


def no_negative_size(layer: str, shape: tuple) -> None:
    """torch's RuntimeError for a layer with a negative size (NumPy's ValueError before)."""
    if any(n < 0 for n in shape):
        raise InputError(f"{layer}: trying to create a weight with negative dimension: {shape}")


def set_table(module: Module, shape: tuple, _weight, dtype) -> None:
    """module.weight: ``_weight`` itself (checked against ``shape``; its memory shared, as
    torch's, unless ``dtype`` asks for a cast) or a fresh table initialised by the module's
    reset_parameters."""
    if _weight is None:
        no_negative_size(type(module).__name__, shape)
        module.weight = Parameter(xp.empty(shape, dtype=dtype or backend.DEFAULT_DTYPE))
        module.reset_parameters()
        return
    w = _weight.array if isinstance(_weight, Tensor) else xp.asarray(_weight)
    if tuple(w.shape) != shape:  # torch asserts it
        raise InputAssertionError(
            f"{type(module).__name__}: _weight must have shape {shape}, got {tuple(w.shape)}"
        )
    module.weight = Parameter(w if dtype is None or w.dtype == dtype else w.astype(dtype))


class Embedding(Module):
    """e = W[index]: a lookup table of ``num_embeddings`` vectors of size ``embedding_dim``.

    W (num_embeddings, embedding_dim), initialised N(0, 1) as torch; the ``padding_idx`` row
    starts at zero and receives no gradient. ``max_norm``, ``norm_type`` and
    ``scale_grad_by_freq`` as in torch (see ``F.embedding``); ``_weight`` gives the table and
    ``_freeze`` freezes it, as torch's (``from_pretrained`` uses them).
    """

    def __init__(
        self, num_embeddings: int, embedding_dim: int, padding_idx: int | None = None,
        max_norm: float | None = None, norm_type: float = 2.0, scale_grad_by_freq: bool = False,
        sparse: bool = False, _weight=None, _freeze: bool = False, device=None, dtype=None,
    ):  # fmt: skip
        super().__init__()
        backend.check_device(device)
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        self.padding_idx = check_padding_idx(padding_idx, num_embeddings)
        self.max_norm, self.norm_type = max_norm, norm_type
        self.scale_grad_by_freq, self.sparse = scale_grad_by_freq, sparse
        set_table(self, (num_embeddings, embedding_dim), _weight, dtype)
        if _freeze:
            self.weight.requires_grad_(False)

    def reset_parameters(self) -> None:
        init.normal_(self.weight)
        if self.padding_idx is not None:
            self.weight.array[self.padding_idx] = 0

    @classmethod
    def from_pretrained(
        cls, embeddings, freeze: bool = True, padding_idx: int | None = None,
        max_norm: float | None = None, norm_type: float = 2.0, scale_grad_by_freq: bool = False,
        sparse: bool = False,
    ) -> Embedding:  # fmt: skip
        """An Embedding holding a copy of ``embeddings`` (2-D), frozen unless freeze=False."""
        w = embeddings.array if isinstance(embeddings, Tensor) else xp.asarray(embeddings)
        if w.ndim != 2:  # torch asserts it
            raise InputAssertionError(
                f"from_pretrained expects 2-D embeddings, got shape {tuple(w.shape)}"
            )
        return cls(
            w.shape[0], w.shape[1], padding_idx, max_norm, norm_type, scale_grad_by_freq,
            sparse, _weight=w, _freeze=freeze,
        )  # fmt: skip

    def forward(self, input) -> Tensor:  # noqa: A002
        indices = input
        return F.embedding(
            indices, self.weight, self.padding_idx, self.max_norm, self.norm_type,
            self.scale_grad_by_freq, self.sparse,
        )  # fmt: skip

    def extra_repr(self) -> str:
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx}"
        s += lookup_options(self)
        return s + (", sparse=True" if getattr(self, "sparse", False) else "")
