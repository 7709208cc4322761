"""Recorded derivatives (autograd_higher.py) of the remaining elementwise ops and activations
and of the reductions that are ops of their own: power with a tensor exponent, log1p, expm1,
clamp, maximum and minimum, leaky ReLU, the ELU family, log-sigmoid, the inverse and
hyperbolic trigonometric functions, atan2, hypot, logaddexp, xlogy, clone; max and min (amax
and ``max(dim)``, sort and topk values), var, std, logsumexp, p-norms, prod and cumsum.

Where an op's derivative is piecewise constant (a clamp's mask, leaky ReLU's slope, the tie
weights of max), the rule multiplies the gradient by that constant: linear in the gradient and
flat in the input, as the derivative is almost everywhere. Where it is smooth, the rule writes
it with recorded Tensor operations of the op's own inputs, so it can be differentiated again.
"""

from __future__ import annotations

import math

from .autograd_higher import _input, rule, sum_to
from .autograd_higher_activations import flat_in
from .backend import xp
from .ops import activations as A
from .ops import complex as CX
from .ops import elementwise as E
from .ops import elementwise_more as EM
from .ops import index as I
from .ops import index_put as P
from .ops import reduce as R
from .ops import rounding as RO
from .ops import scan as SC
from .ops import shape as S
from .tensor import Tensor, apply


def _const(a, like: Tensor) -> Tensor:
    """A constant (no graph) in ``like``'s dtype."""
    return Tensor(xp.asarray(a).astype(like.dtype, copy=False))


def _where(cond, a: Tensor, b: Tensor) -> Tensor:
    """a where cond else b (cond a constant array), recorded for a and b."""
    return apply(E.Where, a, b, cond=cond)


def _kept(g: Tensor, shape, axes, keepdims: bool) -> Tensor:
    """A reduction's gradient reshaped to broadcast against its input (the reduced axes as 1)."""
    if keepdims or not axes:
        return g
    return g.reshape(*[1 if i in axes else n for i, n in enumerate(shape)])


# ---------------------------------------------------------------- elementwise


@rule(E.Pow)
def _pow(fn, g):
    """y = aᵇ:  ∂y/∂a = b·a^(b−1) (0 where b = 0),  ∂y/∂b = aᵇ·log a (0 where a = 0, b ≥ 0)."""
    a, b = _input(fn, 0, "a"), _input(fn, 1, "b")
    b0 = xp.broadcast_to(fn.b == 0, fn.y.shape)
    zero = Tensor(xp.zeros((), dtype=g.dtype))
    with_exponent = _where(b0, zero, g * b * a ** (b - 1.0))
    flat = (fn.a == 0) & (fn.b >= 0)  # a = 0 with b ≥ 0: log a is −inf, the derivative 0
    safe_a = _where(flat, Tensor(xp.ones((), dtype=g.dtype)), a)
    with_base = _where(xp.broadcast_to(flat, fn.y.shape), zero, g * a**b * safe_a.log())
    return sum_to(with_exponent, a.shape), sum_to(with_base, b.shape)


@rule(E.RPowScalar)
def _rpow_scalar(fn, g):
    """y = cᵃ:  ∂y/∂a = cᵃ·log c; for c ≤ 0 the op's own constant rule (0, −inf or nan)."""
    if fn.c > 0:
        return (g * apply(E.RPowScalar, fn.parents[0], c=fn.c) * math.log(fn.c),)
    (d,) = fn.backward(xp.ones(g.shape, dtype=g.dtype))
    return (g * _const(d, g),)


@rule(E.Log1p)
def _log1p(fn, g):
    """∂ log(1 + x)/∂x = 1/(1 + x)."""
    return (g / (fn.parents[0] + 1.0),)


@rule(E.Expm1)
def _expm1(fn, g):
    """∂(eˣ − 1)/∂x = eˣ."""
    return (g * fn.parents[0].exp(),)


@rule(E.Clip, A.LeakyReLU)
def _constant_slope(fn, g):
    """Piecewise linear ops (clamp: 1 inside the bounds, 0 outside; leaky ReLU: 1 or the
    slope): ∂L/∂x = g ⊙ D with D the op's own backward of ones, a constant; leaky ReLU's
    recorded on x as torch's leaky_relu_backward is (torch's clamp masks without x)."""
    if isinstance(fn, A.LeakyReLU) and g.dtype.name == "float16":
        # the op's slope in float32 times g, rounded once (a half slope would round twice)
        d = xp.asarray(fn.x > 0, dtype=xp.float32)
        d *= 1 - fn.slope
        d += fn.slope
        return ((g.float() * flat_in(fn.parents[0], Tensor(d))).half(),)
    (d,) = fn.backward(xp.ones(g.shape, dtype=g.dtype))
    slope = _const(d, g)
    return (g * (flat_in(fn.parents[0], slope) if isinstance(fn, A.LeakyReLU) else slope),)


@rule(EM.ClampTensor)
def _clamp_tensor(fn, g):
    """clamp with tensor bounds: g passes to x inside [lo, hi], to lo where x < lo < hi, to hi
    where x > hi or hi < lo (torch's rule), each summed to its own shape."""
    x, lo, hi = fn.x, fn.lo, fn.hi
    shape = g.shape
    keep = xp.ones(shape, bool) if lo is None else xp.broadcast_to(x >= lo, shape)
    if hi is not None:
        keep = keep & (x <= hi)
    grads = [sum_to(g * _const(keep, g), x.shape)]
    if lo is not None:
        below = (x < lo) if hi is None else (x < lo) & (lo < hi)
        grads.append(sum_to(g * _const(xp.broadcast_to(below, shape), g), lo.shape))
    else:
        grads.append(None)
    if hi is not None:
        above = (x > hi) if lo is None else (x > hi) | (hi < lo)
        grads.append(sum_to(g * _const(xp.broadcast_to(above, shape), g), hi.shape))
    else:
        grads.append(None)
    return tuple(grads)


@rule(E.Maximum, E.Minimum)
def _extremum(fn, g):
    """max(a, b): g to the larger (min: the smaller), split evenly on ties, as torch."""
    a, b = fn.a, fn.b
    wa, wb = (xp.broadcast_to(w, g.shape) for w in E.extremum_weights(a, b, fn.larger))
    return sum_to(g * _const(wa, g), a.shape), sum_to(g * _const(wb, g), b.shape)


@rule(A.ELU)
def _elu(fn, g):
    """ELU/SELU/CELU: ∂y/∂x = s for x > 0, k·s·a·e^{k·x} for x ≤ 0.

    The exponential sees x only where x < 0 and 0 elsewhere (a where, not x·mask: +inf·0 would
    make the gradient NaN), so its own derivative, k²·s·a·e^{k·x}, is 0 at x = 0 as torch's
    elu_double_backward (which masks by x < 0) gives."""
    x, neg = fn.parents[0], xp.asarray(fn.neg)
    half = g.dtype.name == "float16"  # as the op: in float32, rounded once
    xf, gf = (x.float(), g.float()) if half else (x, g)
    xn = _where(xp.asarray(fn.x < 0), xf, _const(0.0, gf))
    # the op's order: g·k·(a·s)·e^{k·x} below, g·s above
    d = _where(neg, gf * fn.k * (fn.a * fn.s) * (xn * fn.k).exp(), gf * fn.s)
    return (d.to(g.dtype),)


@rule(A.LogSigmoid)
def _log_sigmoid(fn, g):
    """∂ log σ(x)/∂x = σ(−x), as the op writes it: q = z/(1 + z), z = e^{−|x|}, then 1 − q for
    x < 0 and q otherwise (−|x| taken by a where, so the second derivative at 0 is −¼, not
    abs's 0); float16 in float32 from z rounded to half, as the op and torch's buffer."""
    x = fn.parents[0]
    half = g.dtype.name == "float16"
    xf, gf = (x.float(), g.float()) if half else (x, g)
    neg = xp.asarray(fn.x < 0)
    z = _where(neg, xf, -xf).exp()
    if half:
        z = z.half().float()
    q = z / (1.0 + z)
    return ((gf * _where(neg, 1.0 - q, q)).to(g.dtype),)


@rule(S.Copy)
def _copy(fn, g):
    return (g,)


def _inv_sqrt(t: Tensor) -> Tensor:
    return 1.0 / t.sqrt()


# f'(x) of the one-input functions of elementwise_more.py, written with recorded Tensor ops
_UNARY = {
    EM.Tan: lambda x: 1.0 + x.tan() * x.tan(),
    EM.Asin: lambda x: _inv_sqrt(1.0 - x * x),
    EM.Acos: lambda x: -_inv_sqrt(1.0 - x * x),
    EM.Atan: lambda x: 1.0 / (1.0 + x * x),
    EM.Sinh: lambda x: apply(EM.Cosh, x),
    EM.Cosh: lambda x: apply(EM.Sinh, x),
    EM.Asinh: lambda x: _inv_sqrt(x * x + 1.0),
    EM.Acosh: lambda x: _inv_sqrt(x * x - 1.0),
    EM.Atanh: lambda x: 1.0 / (1.0 - x * x),
    EM.Log2: lambda x: 1.0 / (x * math.log(2.0)),
    EM.Log10: lambda x: 1.0 / (x * math.log(10.0)),
    EM.Erfc: lambda x: (-(x * x)).exp() * (-2.0 / math.sqrt(math.pi)),
    EM.Erfinv: lambda x: (apply(EM.Erfinv, x) ** 2).exp() * (math.sqrt(math.pi) / 2.0),
    EM.Lgamma: lambda x: apply(EM.Digamma, x),
}


@rule(*_UNARY)
def _unary(fn, g):
    """y = f(x):  ∂L/∂x = g · f'(x), f' recorded (the table above)."""
    return (g * _UNARY[type(fn)](fn.parents[0]),)


@rule(CX.Angle)
def _angle(fn, g):
    """A real z's angle is 0 or π: flat, ∂L/∂z = 0 (a complex z is refused before: double
    backward is real-only)."""
    return (g * 0.0,)


@rule(RO.NextAfter)
def _next_after(fn, g):
    """y = x moved by one ulp at most: ∂y/∂x = 1, ∂y/∂other = 0, as torch's."""
    x_shape, other_shape = fn.shapes
    return sum_to(g, x_shape), Tensor(xp.zeros(other_shape, dtype=g.dtype))


@rule(EM.Atan2)
def _atan2(fn, g):
    """θ = atan2(a, b):  ∂θ/∂a = b/(a² + b²),  ∂θ/∂b = −a/(a² + b²); 0 at the origin."""
    a, b = _input(fn, 0, "a"), _input(fn, 1, "b")
    origin = _const((fn.a == 0) & (fn.b == 0), g)  # a² + b² + 1 there: numerators are 0
    r = g / (a * a + b * b + origin)
    return sum_to(r * b, a.shape), sum_to(-r * a, b.shape)


@rule(EM.Hypot)
def _hypot(fn, g):
    """h = √(a² + b²):  ∂h/∂a = a/h,  ∂h/∂b = b/h."""
    a, b = _input(fn, 0, "a"), _input(fn, 1, "b")
    r = g / apply(EM.Hypot, a, b)
    return sum_to(r * a, a.shape), sum_to(r * b, b.shape)


@rule(EM.LogAddExp)
def _log_add_exp(fn, g):
    """y = log(eᵃ + eᵇ):  ∂y/∂a = σ(a − b),  ∂y/∂b = σ(b − a) (base 2: scaled by ln 2)."""
    a, b = _input(fn, 0, "a"), _input(fn, 1, "b")
    d = (a - b) * math.log(2.0) if fn.base2 else a - b
    return sum_to(g * d.sigmoid(), a.shape), sum_to(g * (-d).sigmoid(), b.shape)


@rule(EM.Xlogy)
def _xlogy(fn, g):
    """y = x·log z:  ∂y/∂x = log z (0 where x = 0 and z ≤ 0),  ∂y/∂z = x/z."""
    x, z = _input(fn, 0, "x"), _input(fn, 1, "z")
    flat = (fn.x == 0) & (fn.z <= 0)
    safe_z = _where(flat, Tensor(xp.ones((), dtype=g.dtype)), z)
    return sum_to(g * safe_z.log(), x.shape), sum_to(g * x / z, z.shape)


# ---------------------------------------------------------------- reductions


@rule(R.Max, R.Min)
def _extreme(fn, g):
    """amax/amin: g shared evenly among the tied extremes (the op's weights, a constant)."""
    mask = fn.x == fn.y
    if fn.nan_ties:
        mask |= xp.isnan(fn.x) & xp.isnan(fn.y)
    weights = mask / mask.sum(axis=fn.axes, keepdims=True)
    return (_kept(g, fn.x.shape, fn.axes, fn.keepdims) * _const(weights, g),)


def _place_along(fn, gv: Tensor) -> Tensor:
    """Sort, topk and max(dim): gv put at the picked indices along the axis of zeros."""
    if not fn.shape:
        return gv
    idx = list(xp.ogrid[tuple(slice(n) for n in fn.indices.shape)])
    idx[fn.axis] = fn.indices
    zeros = Tensor(xp.zeros(fn.shape, dtype=gv.dtype))
    return apply(P.IndexPut, zeros, gv, indices=tuple(idx))


@rule(I.Sort, I.TopK, I.ExtremeAlong)
def _pick(fn, gys):
    """(values, indices): ∂L/∂x at the picked places is ∂L/∂values, elsewhere 0."""
    gv = gys[0]
    if gv is None:
        return (None,)
    if isinstance(fn, I.ExtremeAlong) and fn.shape and not fn.keepdim:
        gv = gv.unsqueeze(fn.axis)
    return (_place_along(fn, gv),)


@rule(R.Var, R.Std)
def _var(fn, g):
    """var = Σ d²/n', d = x − mean:  ∂var/∂x = 2d/n';  std = √var:  ∂std/∂x = d/(n'·std),
    0 where std = 0 (torch's choice for a constant input)."""
    x, axes = fn.parents[0], fn.axes
    d = x - x.mean(axis=axes, keepdims=True)
    g = _kept(g, x.shape, axes, fn.keepdims)
    if isinstance(fn, R.Std):
        flat_t = _const((fn.y == 0).reshape(g.shape), g)  # g is already in the kept shape
        var = (d * d).sum(axis=axes, keepdims=True) / fn.denom
        return (g * d * (1.0 - flat_t) / ((var + flat_t).sqrt() * fn.denom),)
    return (g * d * (2.0 / fn.denom),)


@rule(R.LogSumExp)
def _log_sum_exp(fn, g):
    """∂ logsumexp(x)/∂x = softmax(x) over the reduced axes = exp(x − logsumexp(x))."""
    x = fn.parents[0]
    p = (x - apply(R.LogSumExp, x, axis=fn.axes, keepdims=True)).exp()
    return (_kept(g, x.shape, fn.axes, fn.keepdims) * p,)


@rule(SC.PNorm)
def _p_norm(fn, g):
    """∂‖x‖_p/∂x = sign(x)·|x|^{p−1}/‖x‖_p^{p−1} (x/‖x‖ for p = 2); 0 where ‖x‖ = 0, and at
    x = 0 for p < 1 (as the op)."""
    x, p = fn.parents[0], fn.p
    zero = _const(fn.y == 0, g)
    norm = apply(SC.PNorm, x, p=p, dim=fn.axes, keepdim=True) + zero
    g = _kept(g, x.shape, fn.axes, fn.keepdim) * (1.0 - zero)
    if p == 2:
        return (g * x / norm,)
    at_zero = fn.x == 0
    magnitude = (x.abs() + _const(at_zero, g)) ** (p - 1.0)
    return (g * _const(xp.sign(fn.x), g) * magnitude / norm ** (p - 1.0),)


@rule(SC.Prod)
def _prod(fn, g):
    """∂Π/∂x_i = Π_{j≠i} x_j. Without zeros that is Π/x_i; with zeros, each leave-one-out
    product is taken directly (x repeated n times with the diagonal set to 1: n² memory)."""
    x = fn.parents[0]
    dim, keepdim = fn.dim, fn.keepdim
    if x.ndim == 0:
        return (g,)
    axis = None if dim is None else dim % x.ndim
    if dim is None:
        g = g.reshape(*([1] * x.ndim))
    elif not keepdim:
        g = g.unsqueeze(axis)
    if not (fn.x == 0).any():
        return (g * apply(SC.Prod, x, dim=dim, keepdim=True) / x,)
    v = x.reshape(-1) if dim is None else x.movedim(axis, -1)
    n = v.shape[-1]
    eye = xp.eye(n, dtype=bool)
    rows = _where(eye, Tensor(xp.ones((), dtype=g.dtype)), v.unsqueeze(-2).expand(*v.shape, n))
    others = apply(SC.Prod, rows, dim=-1)  # others[..., i] = Π_{j≠i} v_j
    others = others.reshape(*x.shape) if dim is None else others.movedim(-1, axis)
    return (g * others,)


@rule(SC.CumSum)
def _cumsum(fn, g):
    """∂L/∂x_i = Σ_{j ≥ i} g_j: g's reversed cumulative sum."""
    axis = fn.axis
    return (apply(SC.CumSum, g.flip(axis), dim=axis).flip(axis),)
