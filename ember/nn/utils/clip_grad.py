"""Gradient clipping: rescale or cut gradients before the optimizer step.

clip_grad_norm_:  g ← g · min(1, max_norm / ‖g‖)    with ‖g‖ over all parameters together
clip_grad_value_: g ← clip(g, -v, v)
"""

from __future__ import annotations

import math

from ...backend import xp
from ...tensor import Tensor


def _with_grads(parameters):
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    return [p for p in parameters if p.grad is not None]


def clip_grad_norm_(
    parameters, max_norm: float, norm_type: float = 2.0, error_if_nonfinite: bool = False
) -> Tensor:
    """Scale all gradients so their joint norm is at most ``max_norm``; returns the norm before."""
    params = _with_grads(parameters)
    if not params:
        return Tensor(xp.zeros((), dtype=xp.float32))
    grads = [p.grad.data for p in params]
    if norm_type == math.inf:
        total = max(float(xp.abs(g).max()) for g in grads)
    else:
        total = sum(float((xp.abs(g) ** norm_type).sum()) for g in grads) ** (1.0 / norm_type)
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(f"the total norm of order {norm_type} of the gradients is {total}")
    coef = max_norm / (total + 1e-6)
    if coef < 1.0:
        for p in params:
            # new arrays: a gradient array may be shared by two parameters (see tensor.py)
            p.grad = Tensor(p.grad.data * p.grad.data.dtype.type(coef))
    return Tensor(xp.asarray(total, dtype=grads[0].dtype))


def clip_grad_value_(parameters, clip_value: float) -> None:
    """Clip every gradient element into [-clip_value, clip_value]."""
    for p in _with_grads(parameters):
        p.grad = Tensor(xp.clip(p.grad.data, -clip_value, clip_value))
