"""Activations: the seed's list, each a thin wrapper of its op.

ReLU(x)      = max(0, x)
LeakyReLU(x) = x if x > 0 else a·x
σ(x)         = 1 / (1 + e^{-x})
tanh(x)      = (e^x - e^{-x}) / (e^x + e^{-x})
softmax(x)_i = e^{x_i} / Σ_j e^{x_j}
GELU(x)      = x·Φ(x)
SiLU(x)      = Swish(x) = x·σ(x)

Signatures are torch's: with ``inplace=True`` the input itself becomes the result and is
returned (recorded as every in-place op is, ``tensor_inplace.py``: ``h = lin(x); F.relu(h,
inplace=True)`` differentiates as torch's), and softmax's ``dim=None`` keeps torch's
deprecated implicit choice, with its warning.
"""

from __future__ import annotations

import warnings

from ..errors import InputError
from ..function import is_grad_enabled
from ..ops import elementwise as E
from ..ops import reduce as R
from ..tensor import Tensor, apply
from ..tensor_aliases import require_tensor


def floating_only(x: Tensor, kernel: str) -> None:
    """torch's NotImplementedError for an activation it computes for floating and complex
    tensors only (``kernel`` names torch's kernel, as its message does)."""
    if x.array.dtype.kind not in "fc":
        raise E.not_implemented_for(kernel, x.array.dtype)


def relu(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002 - torch's names
    require_tensor("relu", input, "input")
    if input.array.dtype.kind == "b":
        raise RuntimeError("Boolean inputs not supported for relu")
    if inplace:
        return input._arith_("relu_", relu)
    return apply(E.ReLU, input)


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:  # noqa: A002
    require_tensor("leaky_relu", input, "input")
    floating_only(input, "leaky_relu_cpu")
    if inplace:
        return input._arith_("leaky_relu_", lambda x: leaky_relu(x, negative_slope))
    return apply(E.LeakyReLU, input, slope=negative_slope)


def sigmoid(input: Tensor) -> Tensor:  # noqa: A002
    """σ(x) = 1 / (1 + e⁻ˣ); integers and bools in the default float, as torch."""
    return input.sigmoid()


def tanh(input: Tensor) -> Tensor:  # noqa: A002
    """tanh x; integers and bools in the default float, as torch."""
    return input.tanh()


def _softmax_dim(name: str, ndim: int, dim, stacklevel: int) -> int:
    """torch's deprecated implicit dim (0 for 0-, 1- and 3-d input, else 1), with its warning."""
    if dim is not None:
        return dim
    warnings.warn(
        f"Implicit dimension choice for {name} has been deprecated. Change the call to include"
        " dim=X as an argument.",
        stacklevel=stacklevel,
    )
    return 0 if ndim in (0, 1, 3) else 1


def softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype=None) -> Tensor:  # noqa: A002
    """Softmax along ``dim``; the max is subtracted first, so any logits are safe. ``dtype``
    casts the input first (as torch: e.g. float32 logits, a float64 softmax)."""
    x = input if dtype is None else input.to(dtype)
    return apply(R.Softmax, x, axis=_softmax_dim("softmax", x.ndim, dim, _stacklevel))


def log_softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype=None) -> Tensor:  # noqa: A002
    x = input if dtype is None else input.to(dtype)
    return apply(R.LogSoftmax, x, axis=_softmax_dim("log_softmax", x.ndim, dim, _stacklevel))


def gelu(input: Tensor, approximate: str = "none") -> Tensor:  # noqa: A002
    """GELU, exact (erf) or ``approximate='tanh'``, as torch.nn.functional.gelu."""
    require_tensor("gelu", input, "input")
    if not isinstance(approximate, str):  # torch's TypeError, then its RuntimeError
        raise TypeError(f"gelu: approximate must be a string, got {type(approximate).__name__}")
    if approximate not in ("none", "tanh"):
        raise InputError(f"approximate must be 'none' or 'tanh', got {approximate!r}")
    floating_only(input, "GeluKernelImpl")
    return apply(E.GELU, input, approximate=approximate)


def silu(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """SiLU(x) = x·σ(x); complex input too, but, as torch, not while it would record a graph."""
    require_tensor("silu", input, "input")
    floating_only(input, "silu_cpu")
    if input.array.dtype.kind == "c" and input.requires_grad and is_grad_enabled():
        raise RuntimeError(
            f"silu(): does not support automatic differentiation for complex input (got"
            f" {input.array.dtype}), as torch; x * x.sigmoid() has torch's complex gradient,"
            " or call it under no_grad"
        )
    if inplace:
        return input._arith_("silu_", silu)
    return apply(E.SiLU, input)


swish = silu


def softmax_composed(x: Tensor, dim: int = -1) -> Tensor:
    """softmax from primitives, exp(x - max) / Σ exp(x - max): the reference for the fused op."""
    z = x - x.max(axis=dim, keepdims=True).detach()
    e = z.exp()
    return e / e.sum(axis=dim, keepdims=True)


def log_softmax_composed(x: Tensor, dim: int = -1) -> Tensor:
    z = x - x.max(axis=dim, keepdims=True).detach()
    return z - z.exp().sum(axis=dim, keepdims=True).log()
