"""Discrete Fourier transforms over any set of axes, with their adjoints as backward.

With F the unnormalised DFT (F_kj = e^{−2πi·jk/n}) and s the scale that ``norm`` gives
("backward": 1 forward, 1/n inverse; "ortho": 1/√n both; "forward": 1/n forward, 1 inverse):

    fftn:   y = s·F·pad(x)          g_x = crop(s·Fᴴ·g_y)       = crop(ifftn(g_y, norm=dual))
    ifftn:  y = s·Fᴴ·pad(x)         g_x = crop(s·F·g_y)        = crop(fftn(g_y, norm=dual))
    rfftn:  y = P·s·F·pad(x)        g_x = Re crop(s·Fᴴ·Pᵀg_y)  (P keeps the first n//2+1 bins
                                                                 of the last axis; x real)
    irfftn: y = irfft of the Hermitian extension of X
            g_X = c ⊙ rfftn(g_y, norm=dual), c = 2 on the bins that stand for two (1 … n/2−1,
            or … (n−1)/2 for odd n), 1 on bin 0 (and n/2): torch's doubling of fft_c2r_backward

where pad/crop bring an axis to the transform length ``s[i]`` (zeros, or cut) and back, and
``dual`` swaps "backward" and "forward" (a scale s on one side is the same s on the adjoint).
The gradients follow torch's complex convention (ops/complex.py), so these ops handle complex
gradients themselves; a real input of fftn keeps the real part (the engine's rule).
NumPy ≥ 2 transforms float32/complex64 in single precision; outputs are cast to torch's
dtypes (float32 → complex64, float64 → complex128) in any case.
"""

from __future__ import annotations

from ..backend import get_array_module
from ..function import Function
from .complex import complex_dtype, real_dtype, register_own

DUAL = {"backward": "forward", "forward": "backward", "ortho": "ortho"}


def fit(g, shape, axes):
    """g brought to ``shape`` along ``axes``: cut where longer, zero-padded where shorter."""
    xp = get_array_module(g)
    for ax in axes:
        n, m = shape[ax], g.shape[ax]
        if m > n:
            g = g[(slice(None),) * ax + (slice(0, n),)]
        elif m < n:
            pad = [(0, 0)] * g.ndim
            pad[ax] = (0, n - m)
            g = xp.pad(g, pad)
    return g


class FFTn(Function):
    """y = fftn(x) (``inverse``: ifftn) over ``axes`` with lengths ``s``; x real or complex."""

    def forward(self, x, s, axes, norm="backward", inverse=False):
        xp = get_array_module(x)
        self.shape, self.axes, self.norm, self.inverse = x.shape, axes, norm, inverse
        self.cdtype = complex_dtype(x.dtype)
        f = xp.fft.ifftn if inverse else xp.fft.fftn
        return f(x, s=s, axes=axes, norm=norm).astype(self.cdtype, copy=False)

    def backward(self, gy):
        xp = get_array_module(gy)
        f = xp.fft.fftn if self.inverse else xp.fft.ifftn
        g = f(gy, axes=self.axes, norm=DUAL[self.norm])
        return (fit(g, self.shape, self.axes).astype(self.cdtype, copy=False),)


class RFFTn(Function):
    """y = rfftn(x) of a real x: the last axis keeps bins 0 … n//2."""

    def forward(self, x, s, axes, norm="backward"):
        xp = get_array_module(x)
        self.shape, self.s, self.axes, self.norm, self.dtype = x.shape, s, axes, norm, x.dtype
        return xp.fft.rfftn(x, s=s, axes=axes, norm=norm).astype(complex_dtype(x.dtype), copy=False)

    def backward(self, gy):
        xp = get_array_module(gy)
        full = list(gy.shape)
        full[self.axes[-1]] = self.s[-1]
        g = fit(gy, full, self.axes[-1:])  # Pᵀ: the dropped bins get zeros
        g = xp.fft.ifftn(g, axes=self.axes, norm=DUAL[self.norm]).real
        return (fit(g, self.shape, self.axes).astype(self.dtype, copy=False),)


class IRFFTn(Function):
    """y = irfftn(X) (real, last axis of length s[-1]) from a complex half spectrum X."""

    def forward(self, x, s, axes, norm="backward"):
        xp = get_array_module(x)
        self.shape, self.s, self.axes, self.norm, self.dtype = x.shape, s, axes, norm, x.dtype
        return xp.fft.irfftn(x, s=s, axes=axes, norm=norm).astype(real_dtype(x.dtype), copy=False)

    def backward(self, gy):
        xp = get_array_module(gy)
        g = xp.fft.rfftn(gy, axes=self.axes, norm=DUAL[self.norm])
        n, ax = self.s[-1], self.axes[-1]
        m = g.shape[ax]
        top = m - 1 if n % 2 == 0 else m  # bin n/2 (even n) stands for itself, as bin 0
        if top > 1:
            g[(slice(None),) * ax + (slice(1, top),)] *= 2
        return (fit(g, self.shape, self.axes).astype(self.dtype, copy=False),)


for _cls in (FFTn, RFFTn, IRFFTn):
    register_own(_cls)
