"""Recorded derivatives (autograd_higher.py) of torch.special's scaled Bessel functions, erfcx
and the Hurwitz ζ (ops/special_bessel.py), written as torch writes them so that second
derivatives agree with torch's:

    ∂ i0e(x)/∂x = i1e(x) − sgn(x)·i0e(x)
    ∂ i1e(x)/∂x = i0e(x) − i1e(x)·(sgn(x) + 1/x),  ½ where |x| ≤ ε
    ∂ erfcx(x)/∂x = 2x·erfcx(x) − 2/√π
    ∂ ζ(x, q)/∂q = −x·ζ(x + 1, q)   (∂/∂x not implemented, as torch: the first-order error)

Each derivative is again an op of this family, so every order is recorded. sgn and the
tiny-x mask are piecewise constant: constants here.
"""

from __future__ import annotations

import math

from .autograd_higher import _input, rule, sum_to
from .autograd_higher_more import _const, _where
from .backend import xp
from .ops import special_bessel as SB
from .ops.elementwise import not_implemented_for
from .tensor import apply


@rule(SB.I0e)
def _i0e(fn, g):
    x = fn.parents[0]
    return (g * (apply(SB.I1e, x) - _const(xp.sign(fn.x), g) * apply(SB.I0e, x)),)


@rule(SB.I1e)
def _i1e(fn, g):
    if fn.x.dtype == xp.float16:  # torch's i1e_backward has no Half kernel
        raise not_implemented_for("i1e_backward", fn.x.dtype)
    x = fn.parents[0]
    eps = xp.finfo(fn.x.dtype).eps
    tiny = ~(xp.abs(fn.x) > eps)  # nan too, as the first derivative's guard
    safe = _where(tiny, _const(eps, g), x)
    sgn = _const(xp.sign(xp.where(tiny, eps, fn.x)), g)
    d = apply(SB.I0e, safe) - apply(SB.I1e, x) * (sgn + 1 / safe)
    return (g * _where(tiny, _const(0.5, g), d),)


@rule(SB.Erfcx)
def _erfcx(fn, g):
    x = fn.parents[0]
    return (g * (2 * x * apply(SB.Erfcx, x) - 2 / math.sqrt(math.pi)),)


@rule(SB.Zeta)
def _zeta(fn, g):
    if fn.parents[0] is not None:
        raise NotImplementedError("the derivative for 'zeta' is not implemented.")
    x, q = _input(fn, 0, "x"), _input(fn, 1, "q")
    return None, sum_to(g * (-x * apply(SB.Zeta, x + 1, q)), q.shape)
