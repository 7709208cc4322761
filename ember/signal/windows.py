"""torch.signal.windows: the window functions w_n, n = 0 … M−1, with torch's arguments.

Symmetric windows (``sym=True``, for filter design) are even about (M−1)/2; periodic ones
(``sym=False``, for spectral analysis) are the first M points of the symmetric window of
M+1 points. The values are computed in float64 and rounded once to the dtype asked for.

    general_cosine:  w_n = Σ_i (−1)^i a_i cos(2π i n / N)       N = M−1 (sym) or M
    hann, hamming:   general_cosine with a = (½, ½), (0.54, 0.46); general_hamming (α, 1−α)
    blackman:        a = (0.42, 0.5, 0.08);  nuttall: a = (0.3635819, 0.4891775, 0.1365995,
                     0.0106411)
    bartlett:        w_n = 1 − |2n/N − 1|
    cosine:          w_n = sin(π (n + ½) / M')                   M' = M (sym) or M+1
    gaussian:        w_n = exp(−(n − c)² / (2σ²))                c = N/2
    exponential:     w_n = exp(−|n − c| / τ)                     c = N/2 unless given
    kaiser:          w_n = I₀(β √(1 − (2n/N − 1)²)) / I₀(β)
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from ..backend import xp
from ..promotion import default_float
from ..tensor import Tensor
from ..torch_misc import strided

__all__ = [
    "bartlett",
    "blackman",
    "cosine",
    "exponential",
    "gaussian",
    "general_cosine",
    "general_hamming",
    "hamming",
    "hann",
    "kaiser",
    "nuttall",
]


def _checked(name: str, M: int, dtype, layout):
    """torch's checks of every window; the dtype to return."""
    dt = xp.dtype(default_float() if dtype is None else dtype)
    if M < 0:
        raise ValueError(f"{name} requires non-negative window length, got M={M}")
    if layout is not strided:
        raise ValueError(f"{name} is implemented for strided tensors only, got: {layout}")
    if dt not in (xp.float32, xp.float64):
        raise ValueError(f"{name} expects float32 or float64 dtypes, got: ember.{dt}")
    return dt


def _out(values, dt, requires_grad: bool) -> Tensor:
    return Tensor(xp.asarray(values, dtype=xp.float64).astype(dt), requires_grad=requires_grad)


def _span(M: int, sym: bool) -> int:
    """N: the symmetric window's M−1, or M for a periodic one (M > 1)."""
    return M - 1 if sym or M <= 1 else M


def general_cosine(M, *, a: Iterable, sym: bool = True, dtype=None, layout=strided,
                   device=None, requires_grad: bool = False) -> Tensor:  # fmt: skip
    """w_n = Σ_i (−1)^i a_i cos(2π i n / N)."""
    dt = _checked("general_cosine", M, dtype, layout)
    if M <= 1:
        return _out(xp.ones(M), dt, requires_grad)
    if not isinstance(a, Iterable):
        raise TypeError("Coefficients must be a list/tuple")
    a = list(a)
    if not a:
        raise ValueError("Coefficients cannot be empty")
    k = 2 * math.pi * xp.arange(M) / _span(M, sym)
    return _out(sum((-1) ** i * w * xp.cos(i * k) for i, w in enumerate(a)), dt, requires_grad)


def general_hamming(M, *, alpha: float = 0.54, sym: bool = True, dtype=None, layout=strided,
                    device=None, requires_grad: bool = False) -> Tensor:  # fmt: skip
    """general_cosine with a = (α, 1 − α)."""
    return general_cosine(M, a=[alpha, 1.0 - alpha], sym=sym, dtype=dtype, layout=layout,
                          device=device, requires_grad=requires_grad)  # fmt: skip


def hamming(M: int, *, sym: bool = True, dtype=None, layout=strided, device=None,
            requires_grad: bool = False) -> Tensor:  # fmt: skip
    """w_n = 0.54 − 0.46 cos(2πn/N)."""
    return general_hamming(M, sym=sym, dtype=dtype, layout=layout, device=device,
                           requires_grad=requires_grad)  # fmt: skip


def hann(M: int, *, sym: bool = True, dtype=None, layout=strided, device=None,
         requires_grad: bool = False) -> Tensor:  # fmt: skip
    """w_n = ½ − ½ cos(2πn/N)."""
    return general_hamming(M, alpha=0.5, sym=sym, dtype=dtype, layout=layout, device=device,
                           requires_grad=requires_grad)  # fmt: skip


def blackman(M: int, *, sym: bool = True, dtype=None, layout=strided, device=None,
             requires_grad: bool = False) -> Tensor:  # fmt: skip
    """w_n = 0.42 − 0.5 cos(2πn/N) + 0.08 cos(4πn/N)."""
    _checked("blackman", M, dtype, layout)
    return general_cosine(M, a=[0.42, 0.5, 0.08], sym=sym, dtype=dtype, layout=layout,
                          device=device, requires_grad=requires_grad)  # fmt: skip


def nuttall(M: int, *, sym: bool = True, dtype=None, layout=strided, device=None,
            requires_grad: bool = False) -> Tensor:  # fmt: skip
    """The minimum 4-term Blackman-Harris window of Nuttall (1981)."""
    return general_cosine(M, a=[0.3635819, 0.4891775, 0.1365995, 0.0106411], sym=sym,
                          dtype=dtype, layout=layout, device=device,
                          requires_grad=requires_grad)  # fmt: skip


def bartlett(M: int, *, sym: bool = True, dtype=None, layout=strided, device=None,
             requires_grad: bool = False) -> Tensor:  # fmt: skip
    """The triangle w_n = 1 − |2n/N − 1|."""
    dt = _checked("bartlett", M, dtype, layout)
    if M <= 1:
        return _out(xp.ones(M), dt, requires_grad)
    return _out(1 - xp.abs(2 * xp.arange(M) / _span(M, sym) - 1), dt, requires_grad)


def cosine(M: int, *, sym: bool = True, dtype=None, layout=strided, device=None,
           requires_grad: bool = False) -> Tensor:  # fmt: skip
    """The sine window w_n = sin(π (n + ½) / M') (M' = M, or M + 1 if periodic)."""
    dt = _checked("cosine", M, dtype, layout)
    width = M + 1 if not sym and M > 1 else M
    return _out(xp.sin(math.pi * (xp.arange(M) + 0.5) / max(width, 1)), dt, requires_grad)


def gaussian(M: int, *, std: float = 1.0, sym: bool = True, dtype=None, layout=strided,
             device=None, requires_grad: bool = False) -> Tensor:  # fmt: skip
    """w_n = exp(−(n − N/2)² / (2σ²))."""
    dt = _checked("gaussian", M, dtype, layout)
    if std <= 0:
        raise ValueError(f"Standard deviation must be positive, got: {std} instead.")
    k = (xp.arange(M) - _span(M, sym) / 2.0) / (std * math.sqrt(2))
    return _out(xp.exp(-(k**2)), dt, requires_grad)


def exponential(M: int, *, center: float | None = None, tau: float = 1.0, sym: bool = True,
                dtype=None, layout=strided, device=None,
                requires_grad: bool = False) -> Tensor:  # fmt: skip
    """The Poisson window w_n = exp(−|n − c| / τ), c = N/2 unless ``center`` is given (only
    for periodic windows)."""
    dt = _checked("exponential", M, dtype, layout)
    if tau <= 0:
        raise ValueError(f"Tau must be positive, got: {tau} instead.")
    if sym and center is not None:
        raise ValueError("Center must be None for symmetric windows")
    c = _span(M, sym) / 2.0 if center is None else center
    return _out(xp.exp(-xp.abs(xp.arange(M) - c) / tau), dt, requires_grad)


def kaiser(M: int, *, beta: float = 12.0, sym: bool = True, dtype=None, layout=strided,
           device=None, requires_grad: bool = False) -> Tensor:  # fmt: skip
    """w_n = I₀(β √(1 − (2n/N − 1)²)) / I₀(β)."""
    dt = _checked("kaiser", M, dtype, layout)
    if beta < 0:
        raise ValueError(f"beta must be non-negative, got: {beta} instead.")
    if M <= 1:
        return _out(xp.ones(M), dt, requires_grad)
    k = -beta + 2.0 * beta / _span(M, sym) * xp.arange(M)
    return _out(xp.i0(xp.sqrt(xp.clip(beta * beta - k**2, 0, None))) / xp.i0(beta), dt,
                requires_grad)  # fmt: skip
