"""Rounded division and remainders: q = a // b (floor or trunc) and r = a − b·q (torch's
remainder and fmod), with integer operands exact and torch's refusals (complex, two bools, an
integer divisor of 0). Moved from elementwise.py, which imports them back."""

from __future__ import annotations

from ..backend import errstate, get_array_module
from ..function import Function, unbroadcast
from .complex_refuse import PARTS, refuse_complex
from .elementwise import refuse_bools
from .rounding import check_integer_divisor


class RoundingDiv(Function):
    """q = a / b rounded toward -inf (``mode`` "floor", Python's //) or toward 0 ("trunc");
    integer operands give exact integers. Piecewise constant: gradient 0 to both, as torch."""

    def forward(self, a, b, mode="floor"):
        name = "floor_divide" if mode == "floor" else "div"
        for v in (a, b):  # torch's "div_floor_cpu" / "div_trunc_cpu" have no complex kernel
            if v.dtype.kind == "c":
                refuse_complex(v, name, NotImplementedError, PARTS)
        refuse_bools("div_floor_cpu" if mode == "floor" else "div_trunc_cpu", a, b)
        xp = get_array_module(a)
        self.sa, self.sb = a.shape, b.shape
        check_integer_divisor(a, b)
        with errstate(divide="ignore", invalid="ignore"):  # x // 0 is ±inf or nan, as torch
            q = xp.floor_divide(a, b)
        if mode == "trunc":
            if a.dtype.kind in "fc":
                with errstate(divide="ignore", invalid="ignore"):
                    q = xp.trunc(a / b)
            else:  # floor and trunc differ where the quotient is negative and inexact
                q = q + ((q < 0) & (q * b != a))
        self.dtype = q.dtype
        return q

    def backward(self, gy):
        xp = get_array_module(gy)
        na, nb = self.needs_input_grad
        return (
            xp.zeros(self.sa, self.dtype) if na else None,
            xp.zeros(self.sb, self.dtype) if nb else None,
        )


class Remainder(Function):
    """r = a - b·q: q = floor(a/b) (torch.remainder, Python's %: r takes b's sign) or, with
    ``truncate``, q = trunc(a/b) (torch.fmod: r takes a's sign). q is piecewise constant,
    so ∂r/∂a = 1 and ∂r/∂b = -q, as torch defines them."""

    def forward(self, a, b, truncate=False):
        for v in (a, b):  # floor/trunc of a/b: no meaning for complex numbers, as in torch
            if v.dtype.kind == "c":
                refuse_complex(v, "fmod" if truncate else "remainder", NotImplementedError, PARTS)
        refuse_bools("fmod_cpu" if truncate else "remainder_cpu", a, b)
        xp = get_array_module(a)
        self.a, self.b, self.truncate = a, b, truncate
        check_integer_divisor(a, b)
        with errstate(divide="ignore", invalid="ignore"):  # x % 0.0 is nan, as torch
            return xp.fmod(a, b) if truncate else xp.remainder(a, b)

    def backward(self, gy):
        xp = get_array_module(gy)
        a, b = self.a, self.b
        na, nb = self.needs_input_grad
        gb = None
        if nb:
            q = xp.trunc(a / b) if self.truncate else xp.floor_divide(a, b)
            gb = unbroadcast(-gy * q, b.shape)
        return (unbroadcast(gy, a.shape) if na else None, gb)
