"""Recorded derivatives (autograd_higher.py) of the special functions and the remaining
elementwise ops, scans and reductions: digamma and polygamma, sinc, logit, I₀ (and the I₁ it
needs), the incomplete gammas, ndtri, log_ndtr, xlog1py, entr, the distributions' softplus,
remainder and fmod, the rounding divisions, frexp's mantissa; cumprod (zeros included),
logcumsumexp, median's evenly shared value, cdist's ∞-norm and the negative-p vector norms.

They were the ops a ``create_graph=True`` gradient still stopped at with "no recorded
derivative". Each rule writes the op's derivative with recorded Tensor operations of the op's
own inputs, as torch writes it (so second derivatives agree with torch's), and where that
derivative is another op of this family (ψ⁽ⁿ⁾ → ψ⁽ⁿ⁺¹⁾, I₀ → I₁ → I₀, cumprod → cumprod), every
order is recorded. Piecewise constant factors (masks, signs, tie weights) are constants.
"""

from __future__ import annotations

import math

from .autograd_higher import _input, rule, sum_to
from .autograd_higher_more import _const, _kept, _where
from .backend import errstate, get_array_module, xp
from .distributions import _special as DS
from .function import Function
from .ops import elementwise as E
from .ops import elementwise_more as EM
from .ops import linalg_decomp as D
from .ops import linalg_funcs as LF
from .ops import reduce_more as RM
from .ops import scan as SC
from .ops import special as SP
from .ops import special_linalg as SL
from .tensor import Tensor, apply

_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)


def _ones(g: Tensor) -> Tensor:
    return Tensor(xp.ones((), dtype=g.dtype))


# ---------------------------------------------------------------- the gamma family


@rule(EM.Digamma)
def _digamma(fn, g):
    """∂ψ(x)/∂x = ψ⁽¹⁾(x), the trigamma (torch's values: SL.Polygamma's n = 1)."""
    return (g * apply(SL.Polygamma, fn.parents[0], n=1),)


@rule(SL.Polygamma)
def _polygamma(fn, g):
    """∂ψ⁽ⁿ⁾(x)/∂x = ψ⁽ⁿ⁺¹⁾(x): every order is one more polygamma."""
    return (g * apply(SL.Polygamma, fn.parents[0], n=fn.n + 1),)


@rule(SL.Igamma)
def _igamma(fn, g):
    """∂P(a, x)/∂x = −∂Q(a, x)/∂x = exp((a − 1)·log x − x − log Γ(a)), recorded in a and x
    (a's own derivative is not implemented, as torch: the first-order error)."""
    if fn.parents[0] is not None:
        name = "igammac" if fn.upper else "igamma"
        raise NotImplementedError(f"the derivative for '{name}: input' is not implemented.")
    a, x = _input(fn, 0, "a"), _input(fn, 1, "x")
    d = ((a - 1.0) * x.log() - x - a.lgamma()).exp()
    return None, sum_to(g * (-d if fn.upper else d), x.shape)


# ---------------------------------------------------------------- Bessel I₀ and I₁


class BesselI1(Function):
    """y = I₁(x);  ∂y/∂x = I₀(x) − I₁(x)/x, ½ at x = 0 (the limit). The derivative of I₀, an op
    here so that I₀'s derivative can be recorded; torch's ``special.i1``."""

    def forward(self, x):
        self.x = x
        self.y = SL.i1(x)
        return self.y

    def backward(self, gy):
        ax = get_array_module(gy)
        if self.x.dtype == ax.float16:  # torch's i1_backward has no Half kernel
            raise E.not_implemented_for("i1_backward", self.x.dtype)
        # ½ where |x| > ε fails, nan included, as torch's guard (not nan: I₀(nan) − …)
        x, tiny = self.x, ~(ax.abs(self.x) > ax.finfo(self.x.dtype).eps)
        safe = ax.where(tiny, 1, x)
        with errstate(all="ignore"):  # I₀(±∞) − I₁(±∞)/±∞ is nan, as torch's, silently
            d = ax.i0(safe).astype(x.dtype, copy=False) - SL.i1(safe) / safe
        return (gy * ax.where(tiny, 0.5, d),)


@rule(SL.I0)
def _i0(fn, g):
    """∂I₀(x)/∂x = I₁(x)."""
    return (g * apply(BesselI1, fn.parents[0]),)


@rule(BesselI1)
def _i1(fn, g):
    """∂I₁(x)/∂x = I₀(x) − I₁(x)/x, ½ where |x| ≤ ε (torch's guard; I₁'' is 0 there)."""
    if fn.x.dtype == xp.float16:  # torch's i1_backward has no Half kernel
        raise E.not_implemented_for("i1_backward", fn.x.dtype)
    x = fn.parents[0]
    tiny = ~(xp.abs(fn.x) > xp.finfo(fn.x.dtype).eps)
    safe = _where(tiny, _ones(g), x)
    d = apply(SL.I0, safe) - apply(BesselI1, safe) / safe
    return (g * _where(tiny, _const(0.5, g), d),)


# ---------------------------------------------------------------- one-input functions


@rule(EM.Sinc)
def _sinc(fn, g):
    """∂ sinc(x)/∂x = (πx·cos πx − sin πx)/(πx²) (torch's form), and −(π²/3)·x at x = 0:
    its value there is 0 (the limit, as the op's) and its slope the true sinc''(0) = −π²/3."""
    x = fn.parents[0]
    zero = fn.x == 0
    safe = _where(zero, _ones(g), x)
    px = safe * math.pi
    d = (px * px.cos() - px.sin()) / (px * safe)
    return (g * _where(zero, x * (-(math.pi**2) / 3.0), d),)


@rule(EM.Logit)
def _logit(fn, g):
    """∂ logit(x)/∂x = 1/(x(1 − x)) inside [ε, 1 − ε] (or [0, 1] without eps); outside, 0 with
    eps (the clamp is flat) and nan without (logit is undefined there), as torch."""
    x, eps = fn.parents[0], fn.eps
    lo, hi = (0.0, 1.0) if eps is None else (eps, 1.0 - eps)
    inside = (fn.x >= lo) & (fn.x <= hi)
    safe = _where(inside, x, _const(0.5, g))  # the branch not taken stays finite
    outside = _const(xp.nan if eps is None else 0.0, g)
    return (_where(inside, g / (safe * (1.0 - safe)), outside),)


@rule(SP.Ndtri)
def _ndtri(fn, g):
    """y = Φ⁻¹(p):  ∂y/∂p = √(2π)·e^{y²/2}, y recorded."""
    y = apply(SP.Ndtri, fn.parents[0])
    return (g * (y * y * 0.5 + _LOG_SQRT_2PI).exp(),)


@rule(SP.LogNdtr)
def _log_ndtr(fn, g):
    """y = log Φ(x):  ∂y/∂x = φ(x)/Φ(x) = exp(−x²/2 − ½·log 2π − y), y recorded."""
    x = fn.parents[0]
    return (g * (x * x * -0.5 - _LOG_SQRT_2PI - apply(SP.LogNdtr, x)).exp(),)


@rule(SP.Xlog1py)
def _xlog1py(fn, g):
    """y = x·log(1 + z):  ∂y/∂x = log(1 + z) (0 where x = 0 and z ≤ −1),  ∂y/∂z = x/(1 + z)."""
    x, z = _input(fn, 0, "x"), _input(fn, 1, "z")
    flat = (fn.x == 0) & (fn.z <= -1)
    safe_z = _where(flat, Tensor(xp.zeros((), dtype=g.dtype)), z)
    return sum_to(g * safe_z.log1p(), x.shape), sum_to(g * x / (z + 1.0), z.shape)


@rule(SP.Entr)
def _entr(fn, g):
    """y = −x·log x:  ∂y/∂x = −(1 + log x) (+∞ at 0, nan below, as torch)."""
    return (-g * (fn.parents[0].log() + 1.0),)


@rule(DS.Softplus)
def _softplus(fn, g):
    """y = log(1 + eˣ):  ∂y/∂x = σ(x)."""
    return (g * fn.parents[0].sigmoid(),)


@rule(LF.FrexpMantissa)
def _frexp(fn, g):
    """m = x·2⁻ᵉ with e piecewise constant:  ∂m/∂x = 2⁻ᵉ, a constant."""
    return (g * _const(xp.ldexp(xp.ones((), dtype=g.dtype), -fn.exponent), g),)


@rule(E.Remainder)
def _remainder(fn, g):
    """r = a − b·q, q = floor(a/b) (trunc for fmod), piecewise constant:
    ∂r/∂a = 1,  ∂r/∂b = −q (a constant)."""
    a, b = fn.a, fn.b
    gb = None
    if fn.parents[1] is not None:
        q = xp.trunc(a / b) if fn.truncate else xp.floor_divide(a, b)
        gb = sum_to(-g * _const(q, g), xp.shape(b))
    ga = sum_to(g, xp.shape(a)) if fn.parents[0] is not None else None
    return ga, gb


@rule(E.RoundingDiv)
def _rounding_div(fn, g):
    """Floor and trunc division are piecewise constant: 0 to both, as torch (and the op)."""
    return tuple(None if p is None else Tensor(xp.zeros(s, dtype=g.dtype))
                 for p, s in zip(fn.parents, (fn.sa, fn.sb)))  # fmt: skip


# ---------------------------------------------------------------- scans


def _reversed_cumsum(t: Tensor, axis: int) -> Tensor:
    """r_i = Σ_{j ≥ i} t_j along axis, recorded."""
    return apply(SC.CumSum, t.flip(axis), dim=axis).flip(axis)


@rule(SC.CumProd)
def _cumprod(fn, g):
    """y_k = Π_{j ≤ k} x_j:  ∂L/∂x_i = Σ_{k ≥ i} g_k·Π_{j ≤ k, j ≠ i} x_j.

    Without zeros that is (Σ_{k ≥ i} g_k·y_k)/x_i (torch's form). With a zero, the products
    that leave x_i out are taken directly, as torch's differentiable path does: row i of x
    repeated with its i-th entry set to 1, then a cumprod along it (n² memory along dim)."""
    x, axis = fn.parents[0], fn.axis
    if not (fn.x == 0).any():
        return (_reversed_cumsum(g * apply(SC.CumProd, x, dim=axis), axis) / x,)
    v, gv = x.movedim(axis, -1), g.movedim(axis, -1)
    n = v.shape[-1]
    rows = _where(xp.eye(n, dtype=bool), _ones(g), v.unsqueeze(-2).expand(*v.shape, n))
    left_out = apply(SC.CumProd, rows, dim=rows.ndim - 1)  # [..., i, k] = Π_{j ≤ k, j ≠ i} x_j
    later = _const(xp.triu(xp.ones((n, n), dtype=bool)), g)  # k ≥ i
    gx = (left_out * later * gv.unsqueeze(-2)).sum(axis=-1)
    return (gx.movedim(-1, axis),)


@rule(RM.LogCumSumExp)
def _log_cum_sum_exp(fn, g):
    """∂L/∂x_i = Σ_{k ≥ i} g_k·e^{x_i − y_k}, in log space with g split by sign (torch's form):
    e^{x_i + R⁺_i} − e^{x_i + R⁻_i},  R^±_i = logcumsumexp reversed of log g^±_k − y_k. An
    absent sign is a huge finite negative number (torch's −∞ stand-in is the dtype's lowest;
    a 64th of it leaves room for the sums of the next orders), and log|g| is taken of 1 where
    g = 0, so that the next derivatives stay finite (torch's third derivative is not).

    Where g has zeros the log-space form drops them, and with them the derivative with
    respect to g there, which forward mode needs (its tangents are this rule's derivative at
    g = 0): then the sum is taken as it stands, Σ_k M_ik·g_k with M_ik = e^{x_i − y_k} for
    k ≥ i (each ≤ 1: no overflow), n² memory along dim."""
    x, d = fn.parents[0], fn.axis
    y = apply(RM.LogCumSumExp, x, dim=d)
    ga = g.array
    lowest = _const(xp.finfo(g.dtype).min / 64, g)
    if (ga == 0).any():
        xv, yv, gv = x.movedim(d, -1), y.movedim(d, -1), g.movedim(d, -1)
        n = xv.shape[-1]
        later = xp.triu(xp.ones((n, n), dtype=bool))  # [i, k]: k ≥ i
        m = _where(later, xv.unsqueeze(-1) - yv.unsqueeze(-2), lowest).exp()
        return ((m * gv.unsqueeze(-2)).sum(axis=-1).movedim(-1, d),)
    log_g = g.abs().log()
    gx = None
    for sign in (ga > 0, ga < 0):
        if not sign.any():
            continue
        r = apply(RM.LogCumSumExp, (_where(sign, log_g, lowest) - y).flip(d), dim=d).flip(d)
        part = (x + r).exp()
        gx = part if gx is None else gx - part
    return (gx,)


# ---------------------------------------------------------------- reductions


@rule(RM.EvenlyShared)
def _evenly_shared(fn, g):
    """median() of all elements: g shared evenly among the tied elements (constant weights)."""
    tied = xp.isnan(fn.x) if xp.isnan(fn.v) else fn.x == fn.v
    return (g * _const(tied / tied.sum(), g),)


@rule(RM.MaxAbs)
def _max_abs(fn, g):
    """‖d‖_∞ over the last axis: sign(d_i) to every tied extreme (cdist's p = ∞), constant."""
    d = fn.d
    return (g.unsqueeze(-1) * _const(xp.sign(d) * (xp.abs(d) == fn.y), g),)


@rule(D.NegativePNorm)
def _negative_p_norm(fn, g):
    """∂‖x‖_p/∂x_i = sign(x_i)·|x_i|^{p−1}·‖x‖_p^{1−p} for p < 0, 0 at x_i = 0 (as the op)."""
    x, p = fn.parents[0], fn.p
    zero = fn.x == 0
    safe = _where(zero, _ones(g), x.abs())
    y = apply(D.NegativePNorm, x, p=p, axes=fn.axes, keepdim=True)
    g = _kept(g, fn.x.shape, fn.axes, fn.keepdim)
    return (g * _const(xp.sign(fn.x), g) * safe ** (p - 1.0) * y ** (1.0 - p),)
