"""logit and xlogy on raw arrays, with their derivatives (torch's edges: the clamp of logit's
eps, xlogy's 0 where x = 0). Moved from elementwise_more.py, which imports them back."""

from __future__ import annotations

from ..backend import errstate, get_array_module
from ..function import Function, unbroadcast
from .complex_refuse import REAL_ONLY as _REAL_ONLY
from .complex_refuse import refuse_complex


class Logit(Function):
    """y = log(z/(1 − z)), z = x clamped to [ε, 1 − ε] when eps is given, else z = x.

    The clamp is torch's: z = ε where x < ε, else 1 − ε where x > 1 − ε, so for ε > ½ (an
    empty interval) x below ε takes ε, not NumPy's clip's 1 − ε; a negative ε is no eps.
    ∂y/∂x = 1/(x(1 − x)) where x is inside [ε, 1 − ε] (0 outside: the clamp is flat there);
    without eps (or ε < 0), nan outside [0, 1], where logit is undefined (as torch).
    """

    def forward(self, x, eps=None):
        if x.dtype.kind == "c":
            refuse_complex(x, "logit", NotImplementedError, _REAL_ONLY)
        xp = get_array_module(x)
        if eps is not None and eps < 0:
            eps = None
        self.x, self.eps = x, eps
        z = x if eps is None else xp.where(x < eps, eps, xp.where(x > 1 - eps, 1 - eps, x))
        with errstate(all="ignore"):  # ±∞ at 0 and 1, nan outside: torch's, silently
            return xp.log(z / (1 - z)).astype(x.dtype, copy=False)

    def backward(self, gy):
        xp = get_array_module(gy)
        x, eps = self.x, self.eps
        with errstate(all="ignore"):
            g = gy / (x * (1 - x))
        if eps is None:
            return (xp.where((x < 0) | (x > 1), xp.nan, g),)
        return (xp.where((x < eps) | (x > 1 - eps), 0, g),)


def _xlogy(xp, x, z):
    """x·log z with 0 where x = 0 and nan where z is nan (on arrays). A float32 log z is taken
    in float64 and rounded once: torch's xlogy calls the scalar, correctly rounded logf (its
    torch.log does not), and NumPy's float32 log is an ulp off for 6 % of inputs."""
    with errstate(divide="ignore", invalid="ignore"):
        if z.dtype == xp.float32:
            y = x * xp.log(z.astype(xp.float64)).astype(xp.float32)
        else:
            y = x * xp.log(z)
    y = xp.where(x == 0, 0, y)
    return xp.where(xp.isnan(z), xp.nan, y).astype(y.dtype, copy=False)


class Xlogy(Function):
    """y = x·log(z), defined as 0 where x = 0 (even at z = 0, where 0·log 0 would be nan),
    and nan wherever z is nan.

    ∂y/∂x = log z, taken as 0 where x = 0 and z ≤ 0 (log z is −inf or nan there; torch's
    choice), computed as xlogy(∂L/∂y, z) so a zero upstream gradient stays 0;  ∂y/∂z = x/z.
    """

    def forward(self, x, z):
        for v in (x, z):  # its x = 0 and z ≤ 0 cases compare: no complex kernel in torch
            if v.dtype.kind == "c":
                refuse_complex(v, "xlogy", NotImplementedError, "compute x * z.log() instead")
        xp = get_array_module(x)
        self.x, self.z = x, z
        return _xlogy(xp, x, z)

    def backward(self, gy):
        xp = get_array_module(gy)
        nx, nz = self.needs_input_grad
        x, z = self.x, self.z
        gx = gz = None
        if nx:
            gx = xp.where((x == 0) & (z <= 0), 0, _xlogy(xp, gy, z))
            gx = unbroadcast(gx, x.shape)
        if nz:
            with errstate(all="ignore"):  # x/0: ±∞ or nan, as torch's, without a warning
                gz = unbroadcast(gy * x / z, z.shape)
        return gx, gz
