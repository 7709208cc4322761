"""The maths of the basic layers: linear, dropout, embedding."""

from __future__ import annotations

from .. import backend
from ..amp.autocast_mode import autocast_active
from ..errors import IndexInputError, InputAssertionError, InputError, InputTypeError
from ..function import is_grad_enabled
from ..ops import linalg as L
from ..ops import shape as S
from ..ops.complex_refuse import NOISE, refuse_complex
from ..ops.elementwise import Mul
from ..tensor import Tensor, apply
from ..tensor_aliases import require_tensor


def linear(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """y = x·Wᵀ + b, with x (..., in_features) and W (out_features, in_features)."""
    if x.array.shape[-1:] != weight.array.shape[-1:]:
        raise InputError(
            f"linear: input of shape {x.shape} has {x.shape[-1] if x.shape else '-'} features,"
            f" but the weight of shape {weight.shape} expects {weight.shape[-1]}"
        )
    # torch: "mat1 and mat2 must have the same dtype"; under autocast the op casts both
    if x.dtype != weight.dtype and not autocast_active():
        raise InputTypeError(
            f"linear: input dtype {x.dtype} and weight dtype {weight.dtype} differ (convert"
            f" the input with .to({weight.dtype}) or the layer with .to(dtype))"
        )
    if bias is not None and bias.dtype != weight.dtype and not autocast_active():
        raise InputTypeError(
            f"linear: bias dtype {bias.dtype} and weight dtype {weight.dtype} differ"
        )
    if weight.ndim == 1:  # torch takes a weight vector: y = x·w (+ b), the last dim gone
        y = x @ weight
        return y if bias is None else y + bias
    if bias is None:
        return apply(L.Linear, x, weight)
    return apply(L.Linear, x, weight, bias)


def dropout(
    input: Tensor,  # noqa: A002 - torch's argument name
    p: float = 0.5,
    training: bool = True,
    inplace: bool = False,
) -> Tensor:
    """Zero each element with probability p and scale the rest by 1/(1-p) (inverted dropout);
    with ``inplace``, the input itself becomes the result (recorded as every in-place op is)."""
    require_tensor("dropout", input, "input")
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability must be in [0, 1], got {p}")
    if inplace and training and p > 0:  # as torch: in eval (or p = 0) the input is returned as is
        return input._arith_("dropout_", lambda s: dropout(s, p, training))
    if not training or p == 0.0:
        return input
    if input.dtype.kind in "biu":  # torch's RuntimeError (NumPy's UFuncTypeError named no op)
        raise InputTypeError(
            f"dropout: result type Float can't be cast to the desired output type of this"
            f" {input.dtype} tensor; dropout needs a floating input"
        )
    if p == 1.0:
        return input * 0.0
    if (
        input.dtype.kind == "c"
    ):  # torch draws the mask in the input's dtype, and has no complex Bernoulli
        refuse_complex(input.array, "dropout", NotImplementedError, NOISE)
    mask = backend.default_generator.bernoulli_mask(1.0 - p, input.array.shape, input.dtype)
    mask *= 1.0 / (1.0 - p)
    return apply(Mul, input, Tensor(mask))


def is_long_or_int(dtype) -> bool:
    """Whether ``dtype`` is torch's index dtype, int64 or int32 (read by kind and size: NumPy's
    dtype.name costs microseconds, and embedding runs every step)."""
    return dtype.kind == "i" and dtype.itemsize in (4, 8)


def embedding(
    input,  # noqa: A002 - torch's argument name
    weight: Tensor,
    padding_idx: int | None = None,
    max_norm: float | None = None,
    norm_type: float = 2.0,
    scale_grad_by_freq: bool = False,
    sparse: bool = False,
) -> Tensor:
    """Rows of ``weight`` picked by integer ``input``; repeated rows accumulate gradient.

    The row at ``padding_idx`` receives no gradient, as in torch. ``max_norm``: every row
    looked up whose ``norm_type``-norm exceeds it is first scaled down to that norm, in place
    in ``weight`` (torch's renormalisation, by max_norm / (norm + 1e-7)).
    ``scale_grad_by_freq``: each position's gradient is divided by its index's count in the
    batch.
    """
    n = weight.shape[0] if weight.ndim else 0
    if padding_idx is not None:  # torch's F.embedding checks it first, with an assert
        if (padding_idx > 0 and padding_idx >= n) or padding_idx < -n:
            raise InputAssertionError(
                f"Padding_idx must be within num_embeddings: padding_idx={padding_idx} for"
                f" {n} embeddings"
            )
        padding_idx += n if padding_idx < 0 else 0
        padding_idx = padding_idx if n else None  # (0 passes for an empty table: no row)
    if weight.dtype.kind == "c" and weight.requires_grad and is_grad_enabled():
        raise RuntimeError(  # torch computes it, but has no derivative for complex outputs
            f"embedding(): does not support automatic differentiation for outputs with complex"
            f" dtype (got {weight.dtype}), as torch; detach the inputs"
        )
    if sparse:
        raise NotImplementedError(
            "embedding: sparse=True (sparse gradients) is not supported; ember's gradient of"
            " an embedding is a dense array with the lookups scattered into it"
        )
    if weight.ndim != 2:  # torch: RuntimeError "'weight' must be 2-D"
        raise InputError(f"embedding: weight must be 2-D (num_embeddings, dim), got {weight.shape}")
    idx = input.array if isinstance(input, Tensor) else backend.asarray(input)
    whole = idx.dtype.kind in "iu"  # a tensor (not a list, ember's extension) as torch's:
    if not whole or (isinstance(input, Tensor) and not is_long_or_int(idx.dtype)):
        raise InputTypeError(  # torch's RuntimeError: int64 or int32 indices only
            "embedding indices must be integers of the scalar type Long (int64) or Int"
            f" (int32), got {idx.dtype}"
        )
    if idx.size and (idx.min() < 0 or idx.max() >= n):  # torch: RuntimeError
        bad = idx.max() if idx.max() >= n else idx.min()
        raise IndexInputError(f"embedding index {int(bad)} is out of range for {n} embeddings")
    if max_norm is not None:
        _renorm_rows(weight.array, idx, float(max_norm), float(norm_type))
    return apply(
        S.Embedding,
        weight,
        index=idx,
        padding_idx=padding_idx,
        scale_grad_by_freq=scale_grad_by_freq,
    )


def _renorm_rows(w, idx, max_norm: float, norm_type: float) -> None:
    """Rows idx of w scaled in place to at most max_norm in the norm_type-norm (torch's
    embedding_renorm_: max_norm / (norm + 1e-7), only where the norm exceeds max_norm)."""
    xp = backend.get_array_module(w)
    if idx.size and w.dtype.kind not in "fc":  # torch's norm: RuntimeError
        raise InputError(f"embedding_renorm_: the norm of {w.dtype} rows; a float weight needed")
    if idx.size and not w.shape[1] and (norm_type < 0 or norm_type == float("inf")):
        raise InputError(  # a norm without an identity over rows of no elements
            f"embedding_renorm_: cannot compute the {norm_type} norm of empty rows"
        )
    rows = xp.unique(idx.reshape(-1))
    picked = w[rows] if w.dtype.kind == "c" else w[rows].astype(xp.float64)  # (|z| of complex)
    norms = xp.linalg.norm(picked, ord=norm_type, axis=1)
    big = norms > max_norm
    scale = (max_norm / (norms[big] + 1e-7)).astype(w.dtype)
    w[rows[big]] *= scale[:, None]
