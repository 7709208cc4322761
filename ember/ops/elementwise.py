"""Elementwise ops: arithmetic with broadcasting, unary maths (activations: activations.py).

Each backward is the derivative written next to its forward; broadcasting is
undone by the one ``unbroadcast`` helper.
"""

from __future__ import annotations

import math

from ..backend import errstate, get_array_module
from ..function import Function, unbroadcast
from ..promotion import torch_dtype_name
from .activations import GELU, LeakyReLU, ReLU, Sigmoid, SiLU, Tanh, sigmoid_array  # noqa: F401
from .complex_refuse import refuse_complex
from .masking import keep_where
from .rounding import integer_power, sign_array

#: torch's refusal of ``-b`` / ``b.neg()`` for a bool tensor (NumPy raises a TypeError).
NEG_BOOL = (
    "Negation, the `-` operator, on a bool tensor is not supported. If you are trying to invert"
    " a mask, use the `~` or `logical_not()` operator instead."
)
SUB_TWO_BOOLS = (
    "Subtraction, the `-` operator, with two bool tensors is not supported. Use the `^` or"
    " `logical_xor()` operator instead."
)
SUB_BOOL = (
    "Subtraction, the `-` operator, with a bool tensor is not supported. If you are trying to"
    " invert a mask, use the `~` or `logical_not()` operator instead."
)


def not_implemented_for(kernel: str, dtype) -> NotImplementedError:
    """torch's error for a kernel with no version for a dtype."""
    return NotImplementedError(f"\"{kernel}\" not implemented for '{torch_dtype_name(dtype)}'")


def refuse_bools(kernel: str, *arrays) -> None:
    """torch's NotImplementedError where an op whose result would be bool has no bool kernel
    (bool // bool, bool % bool, bool ** bool; NumPy computes them in int8)."""
    if all(a.dtype.kind == "b" for a in arrays):
        raise not_implemented_for(kernel, arrays[0].dtype)


class Add(Function):
    def forward(self, a, b):
        self.sa, self.sb = a.shape, b.shape
        return a + b

    def backward(self, gy):
        na, nb = self.needs_input_grad
        return (unbroadcast(gy, self.sa) if na else None, unbroadcast(gy, self.sb) if nb else None)


class Sub(Function):
    def forward(self, a, b):
        self.sa, self.sb = a.shape, b.shape
        return a - b

    def backward(self, gy):
        na, nb = self.needs_input_grad
        return (unbroadcast(gy, self.sa) if na else None, unbroadcast(-gy, self.sb) if nb else None)


class Mul(Function):
    def forward(self, a, b):
        # each factor is kept only for the other's gradient, as torch saves them
        na, nb = getattr(self, "needs_input_grad", (True, True))
        self.a, self.b = (a if nb else None), (b if na else None)
        self.shapes = a.shape, b.shape
        return a * b

    def backward(self, gy):
        na, nb = self.needs_input_grad
        a, b = self.a, self.b
        return (
            unbroadcast(gy * b, self.shapes[0]) if na else None,
            unbroadcast(gy * a, self.shapes[1]) if nb else None,
        )


class Div(Function):
    def forward(self, a, b):
        self.a, self.b = a, b
        return a / b

    def backward(self, gy):
        na, nb = self.needs_input_grad
        a, b = self.a, self.b
        ga = unbroadcast(gy / b, a.shape) if na else None
        # −ḡ·(a/b)/b, as torch: b² would underflow to 0 for |b| < 1e-154 (0/0 = nan there)
        gb = unbroadcast(-gy * ((a / b) / b), b.shape) if nb else None
        return ga, gb


class Pow(Function):
    """y = a ** b for two tensors."""

    def forward(self, a, b):
        refuse_bools("pow", a, b)
        xp = get_array_module(a)
        self.a, self.b = a, b
        if a.dtype.kind in "iub" and b.dtype.kind in "iub":
            self.y = y = integer_power(a, b)
        else:
            self.y = y = xp.power(a, b)
        return y

    def backward(self, gy):
        xp = get_array_module(gy)
        na, nb = self.needs_input_grad
        a, b, y = self.a, self.b, self.y
        ga = gb = None
        with errstate(divide="ignore", invalid="ignore"):
            if na:  # b·a^(b−1), but 0 where b = 0 (0⁰ = 1 is a constant), as torch
                ga = unbroadcast(xp.where(b == 0, 0, gy * b * xp.power(a, b - 1)), a.shape)
            if nb:  # a^b·log a: 0 where a = 0 and b ≥ 0 (b real), nan for a < 0, as torch
                real_b = b >= 0 if b.dtype.kind != "c" else (b.imag == 0) & (b.real >= 0)
                zero = (a == 0) & real_b
                gb = unbroadcast(xp.where(zero, 0, gy * y * xp.log(xp.where(zero, 1, a))), b.shape)
        return ga, gb


class AddScalar(Function):
    def forward(self, a, c):
        return a + c

    def backward(self, gy):
        return (gy,)


class MulScalar(Function):
    def forward(self, a, c):
        self.c = c
        return a * c

    def backward(self, gy):
        return (gy * self.c,)


class DivScalar(Function):
    """y = a / c, a true division as torch's (a · (1/c) differs in the last bit, and 1/0
    raises in Python where a / 0 is ±inf or nan)."""

    def forward(self, a, c):
        self.c = c
        return a / c

    def backward(self, gy):
        return (gy / self.c,)


class RSubScalar(Function):
    """y = c - a"""

    def forward(self, a, c):
        return c - a

    def backward(self, gy):
        return (-gy,)


class RDivScalar(Function):
    """y = c / a, computed as torch's ``c / tensor`` is: (1/a)·c, each rounded in a's dtype
    (one ulp from c/a at times), with its backward −(g·c)·(1/a)². float16 runs each of those
    products in float32 and rounds it to float16, as torch's half kernels do."""

    def forward(self, a, c):
        self.r, self.c = _rounded_as_half(lambda a: 1 / a, a), c
        return _rounded_as_half(lambda r: r * c, self.r)

    def backward(self, gy):
        r, c = self.r, self.c
        g_c = _rounded_as_half(lambda g: g * c, gy)
        r2 = _rounded_as_half(lambda r: r * r, r)
        return (_rounded_as_half(lambda g, q: -g * q, g_c, r2),)


def _rounded_as_half(f, *arrays):
    """f of ``arrays``; float16 ones computed in float32 and the result rounded to float16."""
    if arrays[0].dtype.name != "float16":
        return f(*arrays)
    return f(*(a.astype("float32") for a in arrays)).astype("float16")


class PowScalar(Function):
    """y = a ** c for a constant exponent c."""

    def forward(self, a, c):
        self.a, self.c = a, c
        if a.dtype.kind in "iub" and isinstance(c, int) and c < 0:
            raise RuntimeError("Integers to negative integer powers are not allowed.")
        return a**c

    def backward(self, gy):
        c = self.c
        if c == 2:
            return (gy * 2 * self.a,)
        if c == 0:  # a⁰ = 1 everywhere, 0⁰ included: no gradient (not 0·0⁻¹ = nan)
            return (get_array_module(gy).zeros_like(gy * self.a),)
        return (gy * c * self.a ** (c - 1),)


class RPowScalar(Function):
    """y = c ** a for a constant base c;  ∂y/∂a = y·log c (torch's rule at the edges: 0 where
    c = 0 and a ≥ 0, nan for c < 0)."""

    def forward(self, a, c):
        if isinstance(c, bool):  # True ** bool_tensor: torch has no bool power kernel
            refuse_bools("pow", a)
        self.a, self.c = a, c
        if a.dtype.kind in "iu" and isinstance(c, int) and a.size and a.min() < 0:
            # torch's integer power: c^(−n) is 1 for c = 1, ±1 for c = −1, else 0 (NumPy
            # refuses negative integer exponents)
            base = get_array_module(a).asarray(c).astype(a.dtype)
            self.y = y = integer_power(base, a)
            return y
        self.y = y = c**a
        return y

    def backward(self, gy):
        c = self.c
        if c > 0:
            return (gy * self.y * math.log(c),)
        xp = get_array_module(gy)
        with errstate(invalid="ignore"):
            g = gy * self.y * (-math.inf if c == 0 else math.nan)
        return (xp.where(self.a >= 0, 0, g) if c == 0 else g,)


class Neg(Function):
    def forward(self, a):
        try:
            return -a
        except TypeError:  # NumPy's refusal of a bool array: torch's RuntimeError (no cost else)
            if a.dtype.kind == "b":
                raise RuntimeError(NEG_BOOL) from None
            raise

    def backward(self, gy):
        return (-gy,)


class Exp(Function):
    def forward(self, a):
        self.y = y = get_array_module(a).exp(a)
        return y

    def backward(self, gy):
        return (gy * self.y,)


class Log(Function):
    def forward(self, a):
        self.a = a
        return get_array_module(a).log(a)

    def backward(self, gy):
        return (gy / self.a,)


class Log1p(Function):
    """y = log(1 + x), exact for small x (where 1 + x would round x away); ∂y/∂x = 1/(1 + x)."""

    def forward(self, a):
        self.a = a
        return get_array_module(a).log1p(a)

    def backward(self, gy):
        return (gy / (1 + self.a),)


class Expm1(Function):
    """y = eˣ - 1, exact for small x; ∂y/∂x = eˣ = y + 1."""

    def forward(self, a):
        self.y = y = get_array_module(a).expm1(a)
        return y

    def backward(self, gy):
        return (gy * (self.y + 1),)


class Sqrt(Function):
    def forward(self, a):
        self.y = y = get_array_module(a).sqrt(a)
        return y

    def backward(self, gy):
        return (gy / (2 * self.y),)


class Abs(Function):
    def forward(self, a):
        if a.dtype.kind == "b":  # torch has no bool kernel (NumPy's abs is the identity)
            raise not_implemented_for("abs_cpu", a.dtype)
        self.a = a
        return get_array_module(a).abs(a)

    def backward(self, gy):  # ∂|a|/∂a = sign(a): 0 at NaN, as torch's sgn
        return (gy * sign_array(self.a),)


class Sin(Function):
    def forward(self, a):
        self.a = a
        return get_array_module(a).sin(a)

    def backward(self, gy):
        return (gy * get_array_module(gy).cos(self.a),)


class Cos(Function):
    def forward(self, a):
        self.a = a
        return get_array_module(a).cos(a)

    def backward(self, gy):
        return (-gy * get_array_module(gy).sin(self.a),)


class Clip(Function):
    """y = min(max(a, lo), hi); the gradient passes where lo <= a <= hi (as torch.clamp)."""

    def forward(self, a, lo, hi):
        if a.dtype.kind == "c":
            refuse_complex(a, "clamp", NotImplementedError)
        xp = get_array_module(a)
        self.a, self.lo, self.hi = a, lo, hi
        return xp.clip(a, lo, hi)

    def backward(self, gy):
        a = self.a
        mask = True
        if self.lo is not None:
            mask = a >= self.lo
        if self.hi is not None:
            mask = mask & (a <= self.hi)
        return (keep_where(mask, gy),)  # 0 outside even for an inf gy, as torch's where


def extremum_weights(a, b, larger: bool):
    """(w_a, w_b): the share of ∂L/∂y that max(a, b) (min: larger=False) gives each operand, by
    torch's rule: ½ each on ties, all to the winner, and all to both where either is NaN (the
    loser is masked by a < b or a > b, which NaN never is)."""
    share, a_keeps, b_keeps = _extremum_parts(a, b, larger)
    return share * a_keeps, share * b_keeps


def _extremum_parts(a, b, larger: bool):
    """(½ on ties else 1, where a is not the loser, where b is not the loser)."""
    xp = get_array_module(a)
    dt = xp.result_type(a, b)
    share = xp.where(a == b, 0.5, 1.0).astype(dt if dt.kind == "f" else xp.float32, copy=False)
    a_loses, b_loses = (a < b, a > b) if larger else (a > b, a < b)
    return share, ~a_loses, ~b_loses


class Maximum(Function):
    """Elementwise max; on ties the gradient is split evenly, and where either operand is NaN
    both take it, as in torch."""

    name, larger = "maximum", True

    def forward(self, a, b):
        for v in (a, b):
            if v.dtype.kind == "c":
                refuse_complex(v, self.name)
        xp = get_array_module(a)
        self.a, self.b = a, b
        return (xp.maximum if self.larger else xp.minimum)(a, b)

    def backward(self, gy):
        a, b = self.a, self.b
        share, a_keeps, b_keeps = _extremum_parts(a, b, self.larger)
        g = gy * share  # the loser's part is selected away, not multiplied by 0 (an inf gy)
        na, nb = self.needs_input_grad
        return (
            unbroadcast(keep_where(a_keeps, g), a.shape) if na else None,
            unbroadcast(keep_where(b_keeps, g), b.shape) if nb else None,
        )


class Minimum(Maximum):
    """Elementwise min; gradients as Maximum's with the order reversed."""

    name, larger = "minimum", False


class Where(Function):
    """y = a where cond else b; cond carries no gradient."""

    def forward(self, a, b, cond):
        xp = get_array_module(a)
        self.cond, self.sa, self.sb = cond, a.shape, b.shape
        return xp.where(cond, a, b)

    def backward(self, gy):
        xp = get_array_module(gy)
        na, nb = self.needs_input_grad
        c = self.cond
        ga = unbroadcast(xp.where(c, gy, 0), self.sa) if na else None
        gb = unbroadcast(xp.where(c, 0, gy), self.sb) if nb else None
        return ga, gb


# the ops above that keep no array for backward: a later backward may run them again
# (autograd.free), as torch's nodes that saved no tensor
for _op in (Add, Sub, AddScalar, MulScalar, DivScalar, RSubScalar, Neg):
    _op.rerunnable = True

# floor/trunc division and the remainders live in elementwise_division.py (this file's size);
# imported here, after refuse_bools, so E.RoundingDiv and E.Remainder keep their old home
from .elementwise_division import Remainder, RoundingDiv  # noqa: E402, F401
