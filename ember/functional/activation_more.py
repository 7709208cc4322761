"""torch's other activations and distances: ops for the piecewise and the ELU family, the rest
composed from differentiable Tensor operations.

ReLU6(x)       = min(max(0, x), 6)
ELU(x)         = x if x > 0 else α·(eˣ − 1)
SELU(x)        = λ·(x if x > 0 else α·(eˣ − 1)),  α ≈ 1.6733, λ ≈ 1.0507
CELU(x)        = x if x > 0 else α·(e^{x/α} − 1)
Softplus(x)    = log(1 + e^{βx}) / β   (x where βx > threshold)
Mish(x)        = x·tanh(Softplus(x))
Softsign(x)    = x / (1 + |x|)
Hardtanh(x)    = min(max(x, min_val), max_val)
Hardsigmoid(x) = min(max(x + 3, 0), 6) / 6
Hardswish(x)   = x·Hardsigmoid(x)
GLU(a, b)      = a ⊗ σ(b)   (the input halved along dim)
Tanhshrink(x)  = x − tanh(x)
LogSigmoid(x)  = log σ(x) = −Softplus(−x)
Hardshrink(x)  = x if |x| > λ else 0
Softshrink(x)  = x − λ if x > λ, x + λ if x < −λ, else 0
Softmin(x)_i   = e^{−x_i} / Σ_j e^{−x_j}
PReLU(x)       = x if x > 0 else a·x   (a learned, one per channel or shared)

The piecewise ones (Hardtanh and ReLU6, Hardsigmoid, Hardswish, Softplus, Mish, Threshold,
Hardshrink, Softshrink, PReLU) are one op each (ops/activations_piecewise.py), with torch's
gradients at the kinks: ∂/∂x at x = threshold picks the side torch's backward does, and a NaN
input gives NaN (its gradient that of torch's scalar kernel). The branch not taken is computed
on clamped values, so it never overflows to inf. The ``where`` compositions they are tested
against, the equations as written, are in ``activation_composed``.
ELU, SELU, CELU and LogSigmoid run torch's kernels as ops (ops/activations.py): composed, their
gradients lose the tail (e^{x} below float32's half ulp of 1). ``inplace=True``, where torch
takes it, makes the input itself the result, as torch's (recorded as every in-place op is).
"""

from __future__ import annotations

import warnings

from ..backend import xp
from ..errors import InputError, InputTypeError
from ..function import is_grad_enabled, observers
from ..ops import activations as AO
from ..ops import activations_piecewise as P
from ..ops import rounding as RO
from ..ops.complex_refuse import refuse_complex
from ..ops.elementwise import not_implemented_for
from ..ops.index import check_dim
from ..promotion import promote_types
from ..tensor import Tensor, apply
from ..tensor_aliases import require_tensor
from .activation import _softmax_dim, floating_only, sigmoid, softmax
from .activation_scalars import number as _number
from .activation_scalars import threshold_scalars as _threshold_scalars

SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def hardtanh(
    input: Tensor,  # noqa: A002 - torch's argument names
    min_val: float = -1.0,
    max_val: float = 1.0,
    inplace: bool = False,
) -> Tensor:
    """Hardtanh(x) = min(max(x, min_val), max_val); ∂/∂x = 0 where x ≤ min_val or x ≥ max_val,
    else 1 (torch's test, so NaN passes through with its gradient)."""
    require_tensor("hardtanh", input, "input")
    if min_val > max_val:
        raise ValueError(
            f"hardtanh: min_val ({min_val}) cannot be greater than max_val ({max_val})"
        )
    return hardtanh_unchecked(input, min_val, max_val, inplace)


def hardtanh_unchecked(input: Tensor, min_val: float, max_val: float, inplace: bool) -> Tensor:  # noqa: A002
    """hardtanh without the min_val ≤ max_val check, as torch's hardtanh_ (a bare clamp: every
    value becomes max_val when min_val > max_val)."""
    kind = input.array.dtype.kind
    if kind == "b":
        raise RuntimeError("Bool inputs not supported for hardtanh")
    if kind == "u" and min_val < 0:
        raise RuntimeError("cannot do hardtanh on an unsigned type with negative limits")
    if inplace:
        return input._arith_("hardtanh_", lambda x: hardtanh(x, min_val, max_val))
    return apply(P.Hardtanh, input, min_val=min_val, max_val=max_val)


def relu6(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """ReLU6(x) = min(max(0, x), 6), torch's hardtanh(x, 0, 6)."""
    require_tensor("relu6", input, "input")
    return hardtanh(input, 0.0, 6.0, inplace)


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:  # noqa: A002
    """ELU(x) = x if x > 0 else α·(eˣ − 1)   (eˣ − 1 as expm1, exact near 0)."""
    require_tensor("elu", input, "input")
    floating_only(input, "elu_cpu")
    if inplace:
        return input._arith_("elu_", lambda x: elu(x, alpha))
    return apply(AO.ELU, input, alpha=alpha)


def selu(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """SELU(x) = λ·(x if x > 0 else α·(eˣ − 1)), α = 1.6732632…, λ = 1.0507009… (self-normalising,
    Klambauer et al. 2017)."""
    require_tensor("selu", input, "input")
    floating_only(input, "elu_cpu")
    if inplace:
        return input._arith_("selu_", selu)
    return apply(AO.ELU, input, alpha=SELU_ALPHA, scale=SELU_SCALE)


def celu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:  # noqa: A002
    """CELU(x) = x if x > 0 else α·(e^{x/α} − 1)   (α ≠ 0)."""
    require_tensor("celu", input, "input")
    if alpha == 0:  # torch: RuntimeError
        raise InputError("celu: alpha cannot be 0 (x/α)")
    floating_only(input, "elu_cpu")
    if inplace:
        return input._arith_("celu_", lambda x: celu(x, alpha))
    return apply(AO.ELU, input, alpha=alpha, input_scale=1.0 / alpha)


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:  # noqa: A002
    """Softplus(x) = log(1 + e^{βx}) / β, and x itself where βx > threshold (torch's rule:
    there the two agree to double precision and e^{βx} would overflow)."""
    require_tensor("softplus", input, "input")
    floating_only(input, "softplus_cpu")
    return apply(P.Softplus, input, beta=beta, threshold=threshold)


def mish(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """Mish(x) = x·tanh(Softplus(x))   (Misra 2019)."""
    require_tensor("mish", input, "input")
    floating_only(input, "mish_cpu")
    if inplace:
        return input._arith_("mish_", mish)
    return apply(P.Mish, input)


def softsign(input: Tensor) -> Tensor:  # noqa: A002
    """Softsign(x) = x / (1 + |x|) (complex and integer inputs composed, as torch's)."""
    if input.array.dtype.kind == "f":
        return apply(AO.Softsign, input)
    return input / (input.abs() + 1.0)


def hardsigmoid(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """Hardsigmoid(x) = min(max(x + 3, 0), 6) / 6: 0 below −3, 1 above 3, (x + 3)/6 between.

    ∂/∂x = 1/6 strictly between −3 and 3. (torch's CPU backward multiplies by 1/6 rounded to
    float32, 0.16666667163…; ember keeps the exact 1/6.)"""
    require_tensor("hardsigmoid", input, "input")
    floating_only(input, "hardsigmoid_cpu")
    if inplace:
        return input._arith_("hardsigmoid_", hardsigmoid)
    return apply(P.Hardsigmoid, input)


def hardswish(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """Hardswish(x) = x·min(max(x + 3, 0), 6) / 6: 0 for x ≤ −3, x for x ≥ 3, x·(x + 3)/6
    between (Howard et al. 2019, MobileNetV3). ∂/∂x = x/3 + 1/2 between, as torch.
    The middle branch sees x only where it is chosen, so ±inf get 0 and 1 (not NaN) back."""
    require_tensor("hardswish", input, "input")
    floating_only(input, "hardswish_cpu")
    if inplace:
        return input._arith_("hardswish_", hardswish)
    return apply(P.Hardswish, input)


def glu(input: Tensor, dim: int = -1) -> Tensor:  # noqa: A002
    """GLU(a, b) = a ⊗ σ(b), where a and b are the first and second halves of ``dim``."""
    if input.ndim == 0:
        raise RuntimeError("glu(): does not support scalars because halving size must be even")
    n = input.shape[check_dim("glu", dim, input.ndim)]
    if n % 2:
        raise RuntimeError(
            f"glu(): halving dimension must be even, but dimension {dim} is size {n}"
        )
    if input.dtype.kind == "c":  # torch has no complex glu kernel
        refuse_complex(input.array, "glu", NotImplementedError, "use z[:h] * z[h:].sigmoid()")
    floating_only(input, "glu_cpu")
    if input.dtype.name == "float16":  # in float32, rounded once, as torch's opmath
        return glu(input.float(), dim).half()
    a, b = input.narrow(dim, 0, n // 2), input.narrow(dim, n // 2, n // 2)
    return a * sigmoid(b)


def threshold(
    input: Tensor,  # noqa: A002
    threshold: float,
    value: float,
    inplace: bool = False,
) -> Tensor:
    """Threshold(x) = value if x ≤ threshold else x   (torch's test: NaN stays NaN)."""
    if input.array.dtype.kind == "b":
        raise not_implemented_for("threshold_cpu", input.array.dtype)
    threshold = _number("threshold", "threshold", threshold)
    value = _number("threshold", "value", value)
    threshold, value = _threshold_scalars(input.array.dtype, threshold, value)
    if inplace:
        # (the argument ``threshold`` hides this function: the module's alias calls it)
        return input._arith_("threshold_", lambda x: _threshold(x, threshold, value))
    return apply(P.Threshold, input, threshold=threshold, value=float(value))


_threshold = threshold


def tanhshrink(input: Tensor) -> Tensor:  # noqa: A002
    """Tanhshrink(x) = x − tanh(x)."""
    return input - input.tanh()


def logsigmoid(input: Tensor) -> Tensor:  # noqa: A002
    """log σ(x) = min(x, 0) − log(1 + e^{−|x|}): stable for logits of any size (no σ that rounds
    to 0 or 1 before the log) and exact below −20 too (not −Softplus(−x), whose threshold
    returns x there); ∂/∂x = σ(−x)."""
    require_tensor("log_sigmoid", input, "input")
    floating_only(input, "log_sigmoid_cpu")
    return apply(AO.LogSigmoid, input)


def hardshrink(input: Tensor, lambd: float = 0.5) -> Tensor:  # noqa: A002
    """Hardshrink(x) = 0 if −λ ≤ x ≤ λ else x   (torch's test: NaN stays NaN)."""
    require_tensor("hardshrink", input, "input")
    floating_only(input, "hardshrink_cpu")
    return apply(P.Hardshrink, input, lambd=_number("hardshrink", "lambd", lambd))


def softshrink(input: Tensor, lambd: float = 0.5) -> Tensor:  # noqa: A002
    """Softshrink(x) = x − λ above λ, x + λ below −λ, 0 between (the proximal step of λ|x|);
    λ in [0, the dtype's largest finite value] (NaN and inf refused), as torch's."""
    require_tensor("softshrink", input, "input")
    floating_only(input, "softshrink_check")  # before the lambda's check, as torch's
    lambd = _number("softshrink", "lambd", lambd)
    top = float(xp.finfo(input.array.dtype).max)
    if not 0 <= lambd <= top:  # torch: RuntimeError
        raise InputError(
            f"softshrink: lambda must be ≥ 0, got {lambd} (torch takes it in [0, {top:g}]"
            f" for input dtype {input.array.dtype}, NaN and inf refused)"
        )
    return apply(P.Softshrink, input, lambd=lambd)


def softmin(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype=None) -> Tensor:  # noqa: A002
    """Softmin(x)_i = e^{−x_i} / Σ_j e^{−x_j} = softmax(−x) along ``dim``.

    ``dim=None`` keeps torch's deprecated implicit choice (0 for 0-, 1- and 3-d input, else 1)
    and warns, as torch does."""
    # through torch's helper, so the warning points where torch's does (its caller's caller)
    dim = _softmax_dim("softmin", input.ndim, dim, _stacklevel)
    return softmax(-input, dim, dtype=dtype)  # negated first: a bool input refused, as torch


def prelu(input: Tensor, weight: Tensor) -> Tensor:  # noqa: A002
    """PReLU(x) = x if x > 0 else a·x, with ``weight`` a holding one slope or one per channel
    (dim 1 of the input; He et al. 2015)."""
    x, a = input, weight
    if not isinstance(a, Tensor):  # torch: TypeError
        raise InputTypeError(f"prelu(): argument 'weight' must be Tensor, not {type(a).__name__}")
    if a.ndim > 1:  # torch: RuntimeError
        raise InputError(
            f"prelu: expected weight to be a scalar or 1-D tensor, got ndim = {a.ndim}"
        )
    if a.numel() != 1:
        if x.ndim == 0:  # this and the next: torch's RuntimeError
            raise InputError("prelu: a 0-d input takes a single slope")
        channels = x.shape[1] if x.ndim > 1 else 1
        if channels != a.numel():
            raise InputError(
                f"prelu: mismatch of parameter numbers and input channel size. Found parameter"
                f" numbers = {a.numel()} and channel size = {channels}."
            )
    if (x.dtype.kind == "c") != (a.dtype.kind == "c"):
        raise RuntimeError(  # torch promotes neither way; two complex ones the op refuses
            f"prelu(): type promotion between input {x.dtype} and weight {a.dtype} is not"
            " supported (complex with real), as torch"
        )
    if x.dtype != a.dtype:  # nor float64 with float32, nor bool/integers with floats
        raise InputError(
            f"prelu: Type promoting not supported. Got input {x.dtype} and weight {a.dtype};"
            " cast one to the other's dtype"
        )
    if x.dtype.kind != "c":  # two complex ones the op refuses
        floating_only(x, "prelu_cpu")
    return apply(P.PReLU, x, a)  # the op lays a along dim 1


def normalize(input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12, out=None) -> Tensor:  # noqa: A002
    """v / max(‖v‖_p, ε) along ``dim``. With ``out``, as torch's: the result is written into
    out (cast to its dtype; resized, with torch's warning, if its shape differs) and out is
    returned, refused (RuntimeError) where autograd would record, input or out needing grad."""
    if out is None:
        return input / input.norm(p, dim, keepdim=True).clamp(min=eps)
    if is_grad_enabled() and (input.requires_grad or out.requires_grad):
        raise RuntimeError(
            "normalize(): functions with out=... arguments don't support automatic"
            " differentiation, but one of the arguments requires grad."
        )
    result = input / input.norm(p, dim, keepdim=True).clamp(min=eps)
    if "biufc".index(result.dtype.kind) > "biufc".index(out.dtype.kind):
        raise RuntimeError(
            f"result type {result.dtype} can't be cast to the desired output type {out.dtype}"
        )
    if out.shape != result.shape:
        if out.numel():
            warnings.warn(
                f"An output with one or more elements was resized since it had shape"
                f" {list(out.shape)}, which does not match the required output shape"
                f" {list(result.shape)}; as torch, this is deprecated",
                UserWarning,
                stacklevel=2,
            )
        out.resize_(*result.shape)
    return out.copy_(result)


def _broadcast(name: str, x1: Tensor, x2: Tensor) -> tuple:
    try:
        shape = tuple(xp.broadcast_shapes(x1.shape, x2.shape))
    except ValueError:
        raise InputError(
            f"{name}: x1 of shape {x1.shape} and x2 of shape {x2.shape} do not broadcast"
        ) from None
    return x1.expand(*shape) if x1.shape != shape else x1, (
        x2.expand(*shape) if x2.shape != shape else x2
    )


def _floor_value(n: Tensor, eps: float) -> Tensor:
    """max(n, ε) in value, with n's own gradient: torch clamps the norms in place under no_grad,
    so autograd never sees the clamp."""
    return n + (n.clamp(min=eps) - n).detach()


def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """cos(x₁, x₂) = Σ (x₁ / max(‖x₁‖, ε)) ⊗ (x₂ / max(‖x₂‖, ε)) along ``dim``.

    torch 2.x's formula: each vector is divided by its own norm first, so the result stays in
    [−1, 1]; x₁ and x₂ are broadcast against each other before the norms are taken."""
    for x in (x1, x2):
        if x.dtype.kind == "c":  # torch's check: the common dtype must be real floating
            refuse_complex(x.array, "cosine_similarity", why="take it of z.real and z.imag")
    x1, x2 = _broadcast("cosine_similarity", x1, x2)
    if x1.dtype != x2.dtype:  # both in their common dtype (float16 with int64 is float16)
        common = promote_types(x1.dtype, x2.dtype)
        x1, x2 = x1.to(common), x2.to(common)
    if x1.dtype.name == x2.dtype.name == "float16":  # in float32, rounded once
        return cosine_similarity(x1.float(), x2.float(), dim, eps).half()
    n1 = _floor_value(x1.norm(2, dim, keepdim=True), eps)
    n2 = _floor_value(x2.norm(2, dim, keepdim=True), eps)
    return ((x1 / n1) * (x2 / n2)).sum(dim=dim)


def pairwise_distance(
    x1: Tensor, x2: Tensor, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False
) -> Tensor:
    """d(x₁, x₂) = ‖x₁ − x₂ + ε‖_p over the last dimension (ε keeps the norm off 0)."""
    d = x1 - x2 + eps
    return d.norm(p, d.ndim - 1 if d.ndim else None, keepdim=keepdim)


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """One-hot encoding: an integer tensor of shape S gives an int64 tensor of shape
    S + (num_classes,) with out[..., c] = 1 where tensor == c. ``num_classes=-1`` uses
    max(tensor) + 1. No gradient (the input is an index)."""
    t = tensor.array if isinstance(tensor, Tensor) else xp.asarray(tensor)
    if t.dtype != xp.int64:  # torch: RuntimeError, int32 and the other integers too
        raise InputTypeError(
            "one_hot is only applicable to index tensor of type LongTensor (int64 integers),"
            f" got {t.dtype}"
        )
    requested = num_classes
    if t.size == 0 and num_classes <= 0:  # torch: any count but a positive one, when empty
        raise InputError(
            "one_hot: can not infer the total number of classes from an empty tensor (got"
            f" num_classes={num_classes})"
        )
    if num_classes == -1:
        num_classes = int(t.max()) + 1
    if t.size:
        lo, hi = int(t.min()), int(t.max())
        if lo < 0:
            raise InputError(f"one_hot: class values must be non-negative, found {lo}")
        if hi >= num_classes:
            raise InputError(
                f"one_hot: class values must be smaller than num_classes={num_classes}, found {hi}"
            )
    if observers:  # an op (ops/rounding.py) that the ONNX tracer sees; −1 stays max + 1 there
        return apply(RO.OneHot, t, num_classes=requested)
    out = (t[..., None] == xp.arange(num_classes)).astype(xp.int64)
    return Tensor(out)


__all__ = [
    "celu",
    "cosine_similarity",
    "elu",
    "glu",
    "hardsigmoid",
    "hardswish",
    "hardtanh",
    "mish",
    "normalize",
    "one_hot",
    "pairwise_distance",
    "prelu",
    "relu6",
    "selu",
    "softmin",
    "softplus",
    "softsign",
    "tanhshrink",
    "threshold",
]
