"""Layer normalisation, fused and composed.

y = γ ⊙ (x - μ) / √(σ² + ε) + β,  μ and σ² over the trailing ``normalized_shape`` axes.
"""

from __future__ import annotations

from ..errors import InputError
from ..ops.elementwise import not_implemented_for
from ..ops.layernorm import LayerNorm
from ..tensor import Tensor, apply
from ..tensor_aliases import require_tensor
from .normalization import check_same_dtype


def _normalized_shape(x: Tensor, normalized_shape) -> tuple:
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    if not shape or x.shape[x.ndim - len(shape) :] != shape or len(shape) > x.ndim:
        raise InputError(
            f"layer_norm: input of shape {x.shape} does not end in normalized_shape {shape}"
        )
    return shape


def _check_affine(name, t, shape):
    if t is not None and tuple(t.shape) != shape:
        raise InputError(f"layer_norm: {name} has shape {tuple(t.shape)}, expected {shape}")


def layer_norm(
    input: Tensor,  # noqa: A002 - torch's argument name
    normalized_shape,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    eps: float = 1e-5,
) -> Tensor:
    """torch.nn.functional.layer_norm as one fused op with a hand-written backward.

    input (..., *normalized_shape) → same shape; weight γ and bias β of normalized_shape.
    """
    if not isinstance(input, Tensor) or not isinstance(weight, (Tensor, type(None))):
        require_tensor("layer_norm", input, "input", 1)  # torch's TypeError, not AttributeError
        require_tensor("layer_norm", weight, "weight", 3)
    if not isinstance(bias, (Tensor, type(None))):
        require_tensor("layer_norm", bias, "bias", 4)
    if input.dtype.kind in "biu":  # torch's refusal (NumPy's UFuncTypeError named no op)
        raise not_implemented_for("LayerNormKernelImpl", input.dtype)
    shape = _normalized_shape(input, normalized_shape)
    _check_affine("weight", weight, shape)
    _check_affine("bias", bias, shape)
    if check_same_dtype("layer_norm", input, weight=weight, bias=bias):
        return layer_norm(input.float(), normalized_shape, weight, bias, eps).to(input.dtype)
    return apply(LayerNorm, input, weight, bias, n_axes=len(shape), eps=eps)


def layer_norm_composed(
    input: Tensor,  # noqa: A002
    normalized_shape,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    eps: float = 1e-5,
) -> Tensor:
    """The same maths from primitives: the reference for the fused op.

    μ = mean(x);  σ² = mean((x - μ)²);  x̂ = (x - μ)/√(σ² + ε);  y = γ ⊙ x̂ + β
    """
    shape = _normalized_shape(input, normalized_shape)
    axes = tuple(range(input.ndim - len(shape), input.ndim))
    mu = input.mean(axis=axes, keepdims=True)
    xc = input - mu
    var = (xc * xc).mean(axis=axes, keepdims=True)
    xhat = xc / (var + eps).sqrt()
    y = xhat if weight is None else xhat * weight
    return y if bias is None else y + bias
