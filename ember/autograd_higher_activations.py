"""Recorded derivatives (autograd_higher.py) of the activation ops: Tanh, Sigmoid, SiLU, ReLU
and Softsign (ops/activations.py), and the piecewise ones of ops/activations_piecewise.py: Hardtanh
(ReLU6), Hardsigmoid, Threshold, Hardshrink, Softshrink, Hardswish, Softplus, Mish and PReLU,
so that ``create_graph=True`` differentiates them again.

Where the derivative is piecewise constant (ReLU, abs, Hardtanh, Hardsigmoid, Threshold, the
shrinks, leaky ReLU) the rule multiplies the gradient by the op's own mask: linear in the
gradient, flat in the input, yet recorded on the input as torch's are (``flat_in``).
Elsewhere it writes the derivative with recorded Tensor operations of the op's inputs, each
branch fed only the inputs where it is chosen (a ``where`` first), so a discarded branch never
turns inf into NaN.
"""

from __future__ import annotations

from .autograd_higher import rule, sum_to
from .backend import xp
from .ops import activations as A
from .ops import activations_piecewise as P
from .ops import elementwise as E
from .ops.rounding import sign_array
from .tensor import Tensor, apply

# The rules round as the ops' own backward do, step for step, so that create_graph=True gives
# the plain gradient's values to the last bit, as torch's do.


@rule(A.Tanh)
def _tanh(fn, g):
    """1 − y² as the op rounds it: (1 − y)(1 + y), float16 from y² in float64 (times g in
    float32)."""
    y = fn.parents[0].tanh()
    if y.dtype.name != "float16":
        return (g * ((1.0 - y) * (1.0 + y)),)
    yd = y.double()
    d = (1.0 - yd * yd).float()
    return ((d * g.float()).to(g.dtype),)


@rule(A.Sigmoid)
def _sigmoid(fn, g):
    """g·(1 − σ)·σ in the op's order, each step in σ's dtype."""
    s = fn.parents[0].sigmoid()
    return ((1.0 - s) * g * s,)


@rule(A.SiLU)
def _silu(fn, g):
    x = fn.parents[0]
    s = x.sigmoid()
    return (g * (s + x * s * (1.0 - s)),)


def flat_in(x: Tensor | None, mask: Tensor) -> Tensor:
    """``mask`` (a constant slope) recorded as a function of x with derivative 0, where x needs
    grad: torch's backward of a piecewise-linear op keeps x in the graph (relu's
    threshold_backward, abs's sgn, leaky_relu_backward), so a second ``autograd.grad`` to x
    gets zeros where a bare constant would give "x was not used in the graph"."""
    if x is None or not x.requires_grad:
        return mask
    return apply(E.Where, x, mask, cond=xp.zeros(mask.shape, dtype=bool))


@rule(A.ReLU)
def _relu(fn, g):
    x = fn.parents[0]  # NaN passes the gradient, as the first derivative's y ≠ 0 and torch's
    return (g * flat_in(x, Tensor((~(x.array <= 0)).astype(g.dtype))),)


@rule(E.Abs)
def _abs(fn, g):
    x = fn.parents[0]
    return (g * flat_in(x, Tensor(sign_array(x.array).astype(g.dtype))),)


def _const(a, like: Tensor) -> Tensor:
    """A constant (no graph) in ``like``'s dtype."""
    return Tensor(xp.asarray(a).astype(like.dtype, copy=False))


def _where(cond, a: Tensor, b: Tensor) -> Tensor:
    """a where cond else b (cond a constant array), recorded for a and b."""
    return apply(E.Where, a, b, cond=cond)


def _x(fn, saved: str = "x") -> Tensor:
    """The op's input x: the graph's own where it needs grad, else the saved array."""
    p = fn.parents[0]
    return p if p is not None else Tensor(getattr(fn, saved))


@rule(A.Softsign)
def _softsign(fn, g):
    """∂y/∂x = 1/d², d = 1 + |x|, taken as (1/d)/d as the first derivative is."""
    x = fn.parents[0]
    d = 1.0 + x.abs() if x is not None else Tensor(fn.d)
    return (g / d / d,)


@rule(P.Hardsigmoid)
def _hardsigmoid(fn, g):
    """g/6 inside (−3, 3), 0 outside, as the op divides (g·(1/6) rounds differently);
    float16 in float32, rounded once."""
    inside = (fn.x > -3.0) & (fn.x < 3.0)
    gf = g.float() if g.dtype.name == "float16" else g
    d = gf * flat_in(fn.parents[0], _const(inside, gf)) / 6.0
    return (d.to(g.dtype),)


@rule(P.Hardtanh, P.Threshold, P.Hardshrink, P.Softshrink)
def _constant_slope(fn, g):
    """∂L/∂x = g ⊙ D, D the op's own backward of ones: 1 on the side
    that passes the gradient, 0 on the other, a constant."""
    (d,) = fn.backward(xp.ones(g.shape, dtype=g.dtype))
    return (g * flat_in(fn.parents[0], _const(d, g)),)


@rule(P.Hardswish)
def _hardswish(fn, g):
    """∂y/∂x = 0 for x ≤ −3, x/3 + 1/2 between, 1 for x ≥ 3 (and NaN): the middle branch
    sees x only where it is chosen, 0 elsewhere."""
    mid = (fn.x > -3.0) & ~fn.upper
    half = g.dtype.name == "float16"  # as the op: in float32, rounded once
    gf = g.float() if half else g
    x = _x(fn)
    xm = _where(mid, x.float() if half and x.dtype.name == "float16" else x, _const(0.0, gf))
    return (((xm / 3.0 + _const(mid * 0.5 + fn.upper, gf)) * gf).to(g.dtype),)


@rule(P.Softplus)
def _softplus(fn, g):
    """∂y/∂x = σ(βx) where βx ≤ threshold, 1 above it (σ never overflows). σ is recorded
    only where βx < threshold: at βx = threshold its value is a constant, so the second
    derivative there is 0, as torch's softplus_double_backward (masked by βx < threshold)."""
    x = _x(fn)
    beta, z = fn.beta, fn.z
    bx = fn.x * beta if beta != 1 else fn.x
    below = xp.asarray(bx < fn.threshold)
    # g·e/(e + 1), e = e^{βx}, in the op's order; x fed only where βx < threshold (no overflow);
    # float16 as the op: βx in half, the rest in float32, rounded once
    half = g.dtype.name == "float16"
    gf = g.float() if half else g
    bxt = _where(below, x, _const(0.0, x))
    bxt = bxt * beta if beta != 1 else bxt
    e = (bxt.float() if half else bxt).exp()
    zc = _const(z, gf)  # at the kink: the op's z, unrecorded
    d = _where(below, gf * e / (e + 1.0), _where(fn.above, gf, gf * zc / (zc + 1.0)))
    return (d.to(g.dtype),)


@rule(P.Mish)
def _mish(fn, g):
    """∂y/∂x = tanh(s) + x·σ(x)·(1 − tanh²(s)), s = Softplus(x), as torch's differentiable
    backward writes it."""
    x = _x(fn)
    t = apply(P.Softplus, x).tanh()
    return (g * (t + x * x.sigmoid() * (1.0 - t * t)),)


@rule(P.PReLU)
def _prelu(fn, g):
    """∂L/∂x = g where x > 0, else a·g;  ∂L/∂a = Σ (0 where x > 0, else x·g) over every axis
    but the channel."""
    x = _x(fn)
    a = fn.parents[1]
    a = Tensor(fn.a) if a is None else a.reshape(*fn.a.shape)
    zero = _const(0.0, g)
    # the slope recorded on x too (flat_in), as torch's prelu backward keeps x in the graph
    gx = g * flat_in(fn.parents[0], _where(fn.pos, _const(1.0, g), a))
    ga = sum_to(_where(fn.pos, zero, g * x), fn.a.shape).reshape(*fn.shape)
    return gx, ga
