"""ember.fft: torch.fft's discrete Fourier transforms, differentiable (ops/fft.py).

    fft(x)[k] = Σⱼ x[j]·e^{−2πi·jk/n}        ifft(X)[j] = (1/n)·Σₖ X[k]·e^{2πi·jk/n}

with ``norm`` "backward" (no scale forward, 1/n inverse: the default), "ortho" (1/√n both
ways) or "forward" (1/n forward, none inverse). ``n`` (1-D) or ``s`` (2-D, n-D) zero-pads or
cuts each transformed dim to that length first (−1 in ``s``: keep the dim's length); ``dim``
picks the dims. rfft keeps the n//2 + 1 non-negative frequencies of a real signal, irfft
inverts it (output length n, 2·(m − 1) by default), hfft/ihfft (and hfft2/hfftn,
ihfft2/ihfftn) are the same pair for a signal that is Hermitian in time. Outputs have torch's
dtypes: float32 → complex64, float64 → complex128, integers → complex64 (and back for irfft,
hfft).
"""

from __future__ import annotations

import math

from ..backend import xp
from ..creation import tensor as _tensor
from ..ops import fft as F
from ..promotion import torch_dtype_name as _name
from ..tensor import Tensor, apply
from ..torch_creation import get_default_dtype
from . import _args as A


def _input(x, want_real=False, want_complex=False, name="rfft") -> Tensor:
    """x as a floating tensor: integers in the default float, complex where asked."""
    if not isinstance(x, Tensor):
        x = _tensor(x)
    kind = x.array.dtype.kind
    if want_real and kind == "c":
        raise RuntimeError(f"{name} expects a real input tensor, but got {_name(x.dtype)}")
    if kind in "biu":
        x = x.astype(get_default_dtype())
    if want_complex and x.array.dtype.kind != "c":
        d = x.array.dtype
        x = x.astype(xp.complex128 if d == xp.float64 else xp.complex64)
    return x


def _c2c(x, s, dim, norm, inverse, one=False):
    x = _input(x)
    sizes, dims = A.one_dim(x.shape, s, dim) if one else A.n_dims(x.shape, s, dim)
    return apply(F.FFTn, x, s=sizes, axes=dims, norm=A.norm_mode(norm), inverse=inverse)


def _r2c(x, s, dim, norm, one=False, name="rfft"):
    x = _input(x, want_real=True, name=name)
    sizes, dims = A.one_dim(x.shape, s, dim) if one else A.n_dims(x.shape, s, dim)
    if not dims:
        raise RuntimeError(f"{name}n must transform at least one axis")
    return apply(F.RFFTn, x, s=sizes, axes=dims, norm=A.norm_mode(norm))


def _c2r(x, s, dim, norm, one=False, name="irfft"):
    x = _input(x, want_complex=True)
    if one:  # output length n, 2·(m − 1) by default
        sizes, dims = A.one_dim(x.shape, s, dim, lambda m: 2 * (m - 1))
    else:
        sizes, dims = A.c2r_dims(name + "n", x.shape, s, dim)
    return apply(F.IRFFTn, x, s=sizes, axes=dims, norm=A.norm_mode(norm))


def fft(input, n=None, dim=-1, norm=None) -> Tensor:  # noqa: A002 - torch's names
    """torch.fft.fft: the 1-D DFT along ``dim``."""
    return _c2c(input, n, dim, norm, False, one=True)


def ifft(input, n=None, dim=-1, norm=None) -> Tensor:  # noqa: A002
    """torch.fft.ifft: the inverse 1-D DFT along ``dim``."""
    return _c2c(input, n, dim, norm, True, one=True)


def fft2(input, s=None, dim=(-2, -1), norm=None) -> Tensor:  # noqa: A002
    """torch.fft.fft2: the 2-D DFT over the last two dims (or ``dim``)."""
    return _c2c(input, s, dim, norm, False)


def ifft2(input, s=None, dim=(-2, -1), norm=None) -> Tensor:  # noqa: A002
    """torch.fft.ifft2: the inverse 2-D DFT."""
    return _c2c(input, s, dim, norm, True)


def fftn(input, s=None, dim=None, norm=None) -> Tensor:  # noqa: A002
    """torch.fft.fftn: the DFT over ``dim`` (all dims, or the last len(s), by default)."""
    return _c2c(input, s, dim, norm, False)


def ifftn(input, s=None, dim=None, norm=None) -> Tensor:  # noqa: A002
    """torch.fft.ifftn: the inverse n-D DFT."""
    return _c2c(input, s, dim, norm, True)


def rfft(input, n=None, dim=-1, norm=None) -> Tensor:  # noqa: A002
    """torch.fft.rfft: the n//2 + 1 non-negative frequencies of a real signal's DFT."""
    return _r2c(input, n, dim, norm, one=True)


def rfft2(input, s=None, dim=(-2, -1), norm=None) -> Tensor:  # noqa: A002
    """torch.fft.rfft2: rfft over the last dim, fft over the one before."""
    return _r2c(input, s, dim, norm)


def rfftn(input, s=None, dim=None, norm=None) -> Tensor:  # noqa: A002
    """torch.fft.rfftn: rfft over the last of ``dim``, fft over the others."""
    return _r2c(input, s, dim, norm)


def irfft(input, n=None, dim=-1, norm=None) -> Tensor:  # noqa: A002
    """torch.fft.irfft: the real signal of length n (2·(m − 1) by default) whose rfft is
    ``input`` (imaginary parts of bin 0 and, for even n, bin n/2 are ignored)."""
    return _c2r(input, n, dim, norm, one=True)


def irfft2(input, s=None, dim=(-2, -1), norm=None) -> Tensor:  # noqa: A002
    """torch.fft.irfft2: the inverse of rfft2."""
    return _c2r(input, s, dim, norm)


def irfftn(input, s=None, dim=None, norm=None) -> Tensor:  # noqa: A002
    """torch.fft.irfftn: the inverse of rfftn."""
    return _c2r(input, s, dim, norm)


_SWAP = {None: "forward", "backward": "forward", "forward": "backward", "ortho": "ortho"}


def hfft(input, n=None, dim=-1, norm=None) -> Tensor:  # noqa: A002
    """torch.fft.hfft: the real spectrum (length n) of a signal Hermitian in time, given its
    first half: irfft(conj(input)) with the scale moved to the other side."""
    x = _input(input, want_complex=True).conj()
    return _c2r(x, n, dim, _SWAP.get(norm, norm), one=True, name="hfft")


def ihfft(input, n=None, dim=-1, norm=None) -> Tensor:  # noqa: A002
    """torch.fft.ihfft: the inverse of hfft, conj(rfft(input)) with the scale swapped."""
    return _r2c(input, n, dim, _SWAP.get(norm, norm), one=True, name="ihfft").conj()


def _real_only(x):
    """torch's refusal of complex input to ihfft2/ihfftn (before any promotion)."""
    x = x if isinstance(x, Tensor) else _tensor(x)
    if x.array.dtype.kind == "c":
        raise RuntimeError(f"Only supports floating-point dtypes, but found: {_name(x.dtype)}")
    return x


def hfft2(input, s=None, dim=(-2, -1), norm=None) -> Tensor:  # noqa: A002
    """torch.fft.hfft2: hfftn over the last two dims (or ``dim``)."""
    return hfftn(input, s, dim, norm)


def hfftn(input, s=None, dim=None, norm=None) -> Tensor:  # noqa: A002
    """torch.fft.hfftn: the real n-D spectrum of a signal Hermitian in time, given the half
    of it along the last of ``dim`` (output length 2·(m − 1) there by default, or s[-1]):

        hfftn(x) = irfftn(conj(x)) with the scale on the other side ("backward": none)

    Composed of differentiable ops, so its gradient is irfftn's adjoint, conjugated."""
    x = _input(input, want_complex=True).conj()
    return _c2r(x, s, dim, _SWAP.get(norm, norm), name="hfft")


def ihfft2(input, s=None, dim=(-2, -1), norm=None) -> Tensor:  # noqa: A002
    """torch.fft.ihfft2: ihfftn over the last two dims (or ``dim``)."""
    return ihfftn(input, s, dim, norm)


def ihfftn(input, s=None, dim=None, norm=None) -> Tensor:  # noqa: A002
    """torch.fft.ihfftn: the inverse of hfftn for a real signal, its n//2 + 1 non-negative
    frequencies along the last of ``dim``:

        ihfftn(x) = conj(rfftn(x)) with the scale on the other side ("backward": 1/n)"""
    x = input if isinstance(input, Tensor) else _tensor(input)
    sizes, dims = A.n_dims(x.shape, s, dim)  # torch checks dims, then norm, then the dtype
    if not dims:
        raise RuntimeError("ihfftn must transform at least one axis")
    mode = A.norm_mode(_SWAP.get(norm, norm))
    x = _input(_real_only(x))
    return apply(F.RFFTn, x, s=sizes, axes=dims, norm=mode).conj()


def _frequencies(name: str, n, d, dtype, requires_grad: bool, length) -> Tensor:
    """The first ``length`` of k / (d·n) as torch computes them: the integers k (0, 1, …, then
    for fftfreq −⌊n/2⌋, …, −1) in ``dtype`` times the scale 1/(n·d), an infinite one when
    n·d = 0 (so 0 → NaN, k ≠ 0 → ±inf, as torch's); n, dtype and length checked as torch."""
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(
            f"fft_{name}(): argument 'n' (position 1) must be int, not {type(n).__name__}"
        )
    dtype = xp.dtype(dtype or get_default_dtype())
    if dtype.kind not in "fc":
        raise RuntimeError(f"{name} requires a floating point or complex dtype")
    if dtype.kind == "c":  # torch builds k with arange, which has no complex kernel
        raise NotImplementedError(f"\"arange_cpu\" not implemented for '{_name(dtype)}'")
    length = length(n)
    if length < 0:
        raise RuntimeError(f"Trying to create tensor with negative dimension {length}: [{length}]")
    k = xp.arange(length)
    if name == "fftfreq":
        k[(n + 1) // 2 :] -= n  # the negative frequencies
    nd = n * float(d)
    scale = 1.0 / nd if nd != 0 else math.copysign(math.inf, nd)
    work = xp.float64 if dtype == xp.float64 else xp.float32  # torch's opmath type
    with xp.errstate(invalid="ignore"):
        f = k.astype(work) * work(scale)
    return _tensor(f.astype(dtype), requires_grad=requires_grad)


def fftfreq(n, d=1.0, *, dtype=None, requires_grad=False, **_device) -> Tensor:
    """torch.fft.fftfreq: the sample frequencies [0, 1, …, ⌈n/2⌉−1, −⌊n/2⌋, …, −1] / (d·n)."""
    return _frequencies("fftfreq", n, d, dtype, requires_grad, lambda n: n)


def rfftfreq(n, d=1.0, *, dtype=None, requires_grad=False, **_device) -> Tensor:
    """torch.fft.rfftfreq: the non-negative frequencies [0, 1, …, n//2] / (d·n) (n/2 rounded
    toward zero as C++ does, so n = −1 still gives one frequency, as torch's)."""
    return _frequencies("rfftfreq", n, d, dtype, requires_grad, lambda n: int(n / 2) + 1)


def _shift(x, dim, sign):
    x = x if isinstance(x, Tensor) else _tensor(x)
    dims = tuple(range(x.ndim)) if dim is None else ((dim,) if isinstance(dim, int) else dim)
    if not dims:  # torch's roll refuses an empty list of dims
        raise RuntimeError("`shifts` required")
    shifts = tuple(sign * (x.shape[d] // 2) for d in dims)
    return x.roll(shifts, tuple(dims))


def fftshift(input, dim=None) -> Tensor:  # noqa: A002
    """torch.fft.fftshift: the zero frequency moved to the centre (a roll by n//2)."""
    return _shift(input, dim, 1)


def ifftshift(input, dim=None) -> Tensor:  # noqa: A002
    """torch.fft.ifftshift: fftshift undone (a roll by −(n//2))."""
    return _shift(input, dim, -1)


__all__ = [
    "fft", "ifft", "fft2", "ifft2", "fftn", "ifftn", "rfft", "irfft", "rfft2", "irfft2",
    "rfftn", "irfftn", "hfft", "ihfft", "hfft2", "hfftn", "ihfft2", "ihfftn", "fftfreq",
    "rfftfreq", "fftshift", "ifftshift",
]  # fmt: skip
