"""Scans and product-like reductions: cumsum, cumprod, prod, and the p-norm.

The products' backwards never divide by an element that is zero: where there are zeros, a
product of the other elements is built from exclusive prefix and suffix products instead, so
inputs with one or many zeros get the exact gradient (as torch's).
"""

from __future__ import annotations

from ..backend import errstate, get_array_module
from ..function import Function, half_in_float32
from .reduce import _expand, normalize_axis


def reverse_cumsum(a, axis: int):
    """r_i = Σ_{j ≥ i} a_j along ``axis``."""
    xp = get_array_module(a)
    return xp.flip(xp.cumsum(xp.flip(a, axis=axis), axis=axis), axis=axis)


def exclusive_cumprod(a, axis: int = -1, reverse: bool = False):
    """e_i = Π_{j < i} a_j (or Π_{j > i} a_j with ``reverse``) along ``axis``; e of an end is 1."""
    xp = get_array_module(a)
    a = xp.moveaxis(a, axis, -1)
    if reverse:
        a = xp.flip(a, axis=-1)
    ones = xp.ones(a.shape[:-1] + (1,), dtype=a.dtype)
    e = xp.concatenate([ones, xp.cumprod(a[..., :-1], axis=-1)], axis=-1)
    if reverse:
        e = xp.flip(e, axis=-1)
    return xp.moveaxis(e, -1, axis)


@half_in_float32
class CumSum(Function):
    """y_i = Σ_{j ≤ i} x_j along dim;  ∂L/∂x_i = Σ_{j ≥ i} ∂L/∂y_j (a reversed cumsum)."""

    def forward(self, x, dim):
        self.axis = dim
        return get_array_module(x).cumsum(x, axis=dim)

    def backward(self, gy):
        return (reverse_cumsum(gy, self.axis),)


@half_in_float32
class CumProd(Function):
    """y_k = Π_{j ≤ k} x_j along dim.

    ∂L/∂x_i = Σ_{k ≥ i} ∂L/∂y_k · Π_{j ≤ k, j ≠ i} x_j. With z₁, z₂ the first and second zero
    of a row (z₂ = n if there is no second):
      i < z₁:  x_i ≠ 0, so this is (Σ_{i ≤ k < z₁} ∂L/∂y_k · y_k) / x_i exactly;
      i = z₁:  Π_{j < z₁} x_j · Σ_{z₁ ≤ k < z₂} ∂L/∂y_k · Π_{z₁ < j ≤ k} x_j;
      i > z₁:  0 (every term holds the factor x_z₁ = 0).
    Rows without a zero take the first line everywhere (torch's approach, O(n) per row). The
    sums stop where their terms become 0 (torch's masks), so an inf or nan past a zero, whose
    product with that zero is nan, cannot reach the gradient of an element before it.
    """

    def forward(self, x, dim):
        self.axis = dim
        self.x, self.y = x, get_array_module(x).cumprod(x, axis=dim)
        return self.y

    def backward(self, gy):
        xp = get_array_module(gy)
        if self.x.shape[self.axis] == 1:  # y = x: the gradient as it came (torch's; the
            return (gy.copy(),)  # formula below would turn a nan x into a nan gradient)
        x, y, g = (xp.moveaxis(a, self.axis, -1) for a in (self.x, self.y, gy))
        zero = x == 0
        with errstate(invalid="ignore", divide="ignore", over="ignore"):
            if not zero.any():
                return (xp.moveaxis(reverse_cumsum(g * y, -1) / x, -1, self.axis),)
            seen = xp.cumsum(zero, axis=-1)  # the zeros up to each position
            before, first = seen == 0, zero & (seen == 1)  # [0, z₁) and z₁
            kept = xp.where(before, g * y, 0)
            gx = xp.where(before, reverse_cumsum(kept, -1) / xp.where(before, x, 1), 0)
            between = (seen == 1) & ~zero  # (z₁, z₂): Π_{z₁ < j ≤ k} x_j as a cumprod of this
            run = xp.cumprod(xp.where(between, x, 1), axis=-1) * xp.where(seen == 1, g, 0)
            z = xp.argmax(zero, axis=-1)[..., None]
            prior = xp.take_along_axis(exclusive_cumprod(x), z, axis=-1)  # Π_{j < z₁} x_j
            gx = xp.where(first, prior * run.sum(axis=-1, keepdims=True), gx)
        return (xp.moveaxis(gx, -1, self.axis),)


@half_in_float32
class Prod(Function):
    """y = Π_i x_i over dim (all elements when dim is None), with torch's backward:

    torch's backward, case for case: where no element of x is zero, ∂L/∂x_i = ∂L/∂y · y / x_i
    (so a nan, or an overflow to inf, in y reaches every element); else Π_{j < i} x_j ·
    Π_{j > i} x_j along the reduced axis, exclusive prefix times exclusive suffix products
    (no division by x_i), except that over every element (dim None) two or more zeros give 0.
    """

    def forward(self, x, dim=None, keepdim=False):
        self.x, self.dim, self.keepdim = x, dim, keepdim
        return x.prod(axis=dim, keepdims=keepdim)

    def backward(self, gy):
        xp = get_array_module(gy)
        x = self.x
        if x.size == 0:  # no element to send a gradient to (exclusive_cumprod would pad a 1)
            return (xp.zeros_like(x),)
        if x.ndim == 0:
            return (gy.copy(),)
        axis = -1 if self.dim is None else self.dim
        v = x.reshape(-1) if self.dim is None else x
        zeros = int((v == 0).sum())  # torch looks at the whole tensor, not row by row
        with errstate(invalid="ignore", divide="ignore", over="ignore"):
            if zeros == 0:
                others = v.prod(axis=axis, keepdims=True) / v
            elif zeros > 1 and self.dim is None:
                others = xp.zeros_like(v)
            else:
                others = exclusive_cumprod(v, axis) * exclusive_cumprod(v, axis, reverse=True)
        if self.dim is None:
            return ((gy.reshape(()) * others).reshape(x.shape),)
        g = gy if self.keepdim else xp.expand_dims(gy, self.dim)
        return (g * others,)


@half_in_float32
class PNorm(Function):
    """‖x‖_p = (Σ_i |x_i|^p)^{1/p} over dims, for a finite p > 0 (p = 2 as √(Σ x_i²)).

    ∂‖x‖_p/∂x_i = sign(x_i) · |x_i|^{p-1} / ‖x‖_p^{p-1}  (x_i / ‖x‖_2 for p = 2).
    Subgradients as torch's: 0 where ‖x‖_p = 0 (no 0/0), and 0 at x_i = 0 also for p < 1,
    where |x_i|^{p-1} is infinite.
    """

    def forward(self, x, p=2.0, dim=None, keepdim=False):
        xp = get_array_module(x)
        self.axes, self.keepdim, self.p, self.x = normalize_axis(dim, x.ndim), keepdim, p, x
        if p == 2:
            sq = (x.real * x.real + x.imag * x.imag) if x.dtype.kind == "c" else x * x  # |x|²
            y = xp.sqrt(sq.sum(axis=self.axes, keepdims=True))
        else:
            y = (xp.abs(x) ** p).sum(axis=self.axes, keepdims=True) ** (1.0 / p)
        self.y = y
        return y if keepdim else y.reshape([n for d, n in enumerate(y.shape) if d not in self.axes])

    def backward(self, gy):
        xp = get_array_module(gy)
        x, y, p = self.x, self.y, self.p
        g = _expand(gy, x.shape, self.axes, self.keepdim)
        zero_norm = y == 0
        safe_y = xp.where(zero_norm, 1, y)
        if p == 2:
            d = x / safe_y
        else:
            a = xp.abs(x)
            # sign(0) = 0 zeroes x_i = 0 whatever p; the 1 only keeps 0^(p-1) finite
            d = xp.sign(x) * xp.where(a == 0, 1, a) ** (p - 1) / safe_y ** (p - 1)
        return (xp.where(zero_norm, 0, d) * g,)
