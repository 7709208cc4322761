"""Gradient clipping: rescale or cut gradients before the optimizer step.

get_total_norm:        ‖g‖_p over all the given gradients together
clip_grads_with_norm_: g ← g · min(1, max_norm / (‖g‖ + 1e-6))  for a total norm already known
clip_grad_norm_:       the two in one: the total norm of the parameters' gradients, then the scale
clip_grad_value_:      g ← clip(g, -v, v)

``foreach`` is torch's switch between a per-tensor loop and batched kernels; ember accepts it
and computes the same either way.
"""

from __future__ import annotations

import math
import warnings

from ...backend import xp
from ...tensor import Tensor


def _with_grads(parameters):
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    return [p for p in parameters if p.grad is not None]


def _grads(parameters) -> list:
    """The gradient tensors to change, each once. They are changed as torch changes them, in
    place (a reference taken earlier sees the clipped values), by giving each its new array:
    two gradients may share one array (see tensor.py), which an in-place write would scale
    twice."""
    seen, out = set(), []
    for p in _with_grads(parameters):
        if id(p.grad) not in seen:
            seen.add(id(p.grad))
            out.append(p.grad)
    return out


def _arrays(tensors):
    if isinstance(tensors, Tensor):
        tensors = [tensors]
    return [t.array if isinstance(t, Tensor) else xp.asarray(t) for t in tensors]


def _vector_norm(a, p: float) -> float:
    """‖a‖_p of a flat array: max |a| (p = ∞), min |a| (p = −∞), the count of nonzeros (p = 0,
    where a NaN counts as one, as torch's), else (Σ |a|^p)^(1/p), NaN where a NaN is."""
    a = xp.abs(a.reshape(-1))
    if p == math.inf:
        return float(a.max())
    if p == -math.inf:
        return float(a.min())
    if p == 0:
        return float(xp.count_nonzero(a))
    return float((a**p).sum()) ** (1.0 / p)


def get_total_norm(
    tensors, norm_type: float = 2.0, error_if_nonfinite: bool = False, foreach=None
) -> Tensor:
    """The norm of the tensors' norms, as torch: ‖(‖t₁‖_p, ‖t₂‖_p, …)‖_p, which for p ≠ 0 is
    the norm of all of them taken together as one vector (max of maxima for p = ∞, min of
    minima for p = −∞)."""
    norm_type = float(norm_type)  # first, as torch's: a bad norm_type fails without grads too
    arrays = _arrays(tensors)
    if not arrays:
        return Tensor(xp.zeros((), dtype=xp.float32))
    if math.isinf(norm_type) and any(a.size == 0 for a in arrays):  # max/min have no identity
        raise RuntimeError(
            f"linalg.vector_norm cannot compute the {norm_type:g} norm on an empty tensor"
            " because the operation does not have an identity"
        )
    norms = xp.asarray([_vector_norm(a, norm_type) if a.size else 0.0 for a in arrays])
    total = _vector_norm(norms, norm_type)
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(
            f"the total norm of order {norm_type} of the gradients is {total}, so they cannot"
            " be clipped; pass error_if_nonfinite=False to clip anyway"
        )
    # in the promoted dtype of the norms, real for complex gradients (complex128 → float64)
    return Tensor(xp.asarray(total, dtype=xp.result_type(*(a.real.dtype for a in arrays))))


def clip_grads_with_norm_(parameters, max_norm: float, total_norm, foreach=None) -> None:
    """Scale the gradients by min(1, max_norm / (total_norm + 1e-6))."""
    total = float(total_norm.item() if isinstance(total_norm, Tensor) else total_norm)
    coef = max_norm / (total + 1e-6)
    if not coef >= 1.0:  # a NaN norm makes every gradient NaN, as torch's (clamp keeps NaN)
        for g in _grads(parameters):
            g.array = g.array * g.array.dtype.type(coef)


def clip_grad_norm_(
    parameters,
    max_norm: float,
    norm_type: float = 2.0,
    error_if_nonfinite: bool = False,
    foreach=None,
) -> Tensor:
    """Scale all gradients so their joint norm is at most ``max_norm``; returns the norm before."""
    params = _with_grads(parameters)
    total = get_total_norm([p.grad for p in params], norm_type, error_if_nonfinite)
    clip_grads_with_norm_(params, max_norm, total)
    return total


def clip_grad_norm(
    parameters,
    max_norm: float,
    norm_type: float = 2.0,
    error_if_nonfinite: bool = False,
    foreach=None,
) -> Tensor:
    """torch's deprecated spelling of clip_grad_norm_, with its FutureWarning."""
    warnings.warn(
        "`torch.nn.utils.clip_grad_norm` is now deprecated in favor of"
        " `torch.nn.utils.clip_grad_norm_`.",
        FutureWarning,
        stacklevel=2,
    )
    return clip_grad_norm_(parameters, max_norm, norm_type, error_if_nonfinite, foreach)


def clip_grad_value_(parameters, clip_value: float, foreach=None) -> None:
    """Clip every gradient element into [-clip_value, clip_value]."""
    grads = _grads(parameters)
    for g in grads:
        if g.array.dtype.kind == "c":  # NumPy would clip Re and zero Im; torch refuses
            raise NotImplementedError("clip_grad_value_: clamp is not supported for complex types")
    for g in grads:
        g.array = xp.clip(g.array, -clip_value, clip_value)
