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

from ..backend import xp
from ..creation import tensor as _tensor
from ..ops import fft as F
from ..promotion import torch_dtype_name as _name
from ..tensor import Tensor, apply
from ..torch_creation import get_default_dtype

_NORMS = ("backward", "ortho", "forward")


def _norm(norm):
    if norm is None:
        return "backward"
    if norm not in _NORMS:
        raise ValueError(f'Invalid normalization mode: "{norm}"')
    return norm


def _input(x, want_real=False, want_complex=False) -> Tensor:
    """x as a floating tensor: integers in the default float, complex where asked."""
    if not isinstance(x, Tensor):
        x = _tensor(x)
    kind = x.array.dtype.kind
    if kind in "biu":
        x = x.astype(get_default_dtype())
    if want_real and x.array.dtype.kind == "c":
        raise RuntimeError("rfft expects a real input tensor, but got " + str(x.dtype))
    if want_complex and x.array.dtype.kind != "c":
        d = x.array.dtype
        x = x.astype(xp.complex128 if d == xp.float64 else xp.complex64)
    return x


def _dims_and_sizes(x: Tensor, s, dim, default_dim):
    """torch's rules for (s, dim): dim None and s given → the last len(s) dims; both None →
    ``default_dim`` (all dims for fftn); s None → each dim's length; −1 in s → that length."""
    nd = x.ndim
    if dim is None:
        dim = tuple(range(nd - len(s), nd)) if s is not None else default_dim
        if dim is None:
            dim = tuple(range(nd))
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    dims = tuple(d % nd if nd else d for d in dims)
    if len(set(dims)) != len(dims):
        raise RuntimeError(f"FFT dims must be unique, got {dims}")
    if s is None:
        sizes = [x.shape[d] for d in dims]
    else:
        if len(s) != len(dims):
            raise RuntimeError(
                f"When given, dim and shape arguments must have the same length, got {len(dims)}"
                f" dims and {len(s)} sizes"
            )
        sizes = [x.shape[d] if n == -1 else int(n) for n, d in zip(s, dims)]
    if any(n < 1 for n in sizes):
        raise RuntimeError(f"Invalid number of data points ({min(sizes)}) specified")
    return tuple(sizes), dims


def _c2c(x, s, dim, norm, inverse, default_dim):
    x = _input(x)
    sizes, dims = _dims_and_sizes(x, s, dim, default_dim)
    return apply(F.FFTn, x, s=sizes, axes=dims, norm=_norm(norm), inverse=inverse)


def _r2c(x, s, dim, norm, default_dim):
    x = _input(x, want_real=True)
    sizes, dims = _dims_and_sizes(x, s, dim, default_dim)
    return apply(F.RFFTn, x, s=sizes, axes=dims, norm=_norm(norm))


def _c2r(x, s, dim, norm, default_dim):
    x = _input(x, want_complex=True)
    nd = x.ndim
    if dim is None:
        dim = tuple(range(nd - len(s), nd)) if s is not None else tuple(range(nd))
    dims = tuple(d % nd for d in ((dim,) if isinstance(dim, int) else dim))
    sizes = [x.shape[d] for d in dims]
    sizes[-1] = 2 * (sizes[-1] - 1)  # torch's default output length
    if s is not None:
        if len(s) != len(dims):
            raise RuntimeError(
                f"When given, dim and shape arguments must have the same length, got {len(dims)}"
                f" dims and {len(s)} sizes"
            )
        sizes = [old if n == -1 else int(n) for n, old in zip(s, sizes)]
    if any(n < 1 for n in sizes):
        raise RuntimeError(f"Invalid number of data points ({min(sizes)}) specified")
    return apply(F.IRFFTn, x, s=tuple(sizes), axes=dims, norm=_norm(norm))


def _one(n):
    return None if n is None else (n,)


def fft(input, n=None, dim=-1, norm=None) -> Tensor:  # noqa: A002 - torch's names
    """torch.fft.fft: the 1-D DFT along ``dim``."""
    return _c2c(input, _one(n), dim, norm, False, None)


def ifft(input, n=None, dim=-1, norm=None) -> Tensor:  # noqa: A002
    """torch.fft.ifft: the inverse 1-D DFT along ``dim``."""
    return _c2c(input, _one(n), dim, norm, True, None)


def fft2(input, s=None, dim=(-2, -1), norm=None) -> Tensor:  # noqa: A002
    """torch.fft.fft2: the 2-D DFT over the last two dims (or ``dim``)."""
    return _c2c(input, s, dim, norm, False, None)


def ifft2(input, s=None, dim=(-2, -1), norm=None) -> Tensor:  # noqa: A002
    """torch.fft.ifft2: the inverse 2-D DFT."""
    return _c2c(input, s, dim, norm, True, None)


def fftn(input, s=None, dim=None, norm=None) -> Tensor:  # noqa: A002
    """torch.fft.fftn: the DFT over ``dim`` (all dims, or the last len(s), by default)."""
    return _c2c(input, s, dim, norm, False, None)


def ifftn(input, s=None, dim=None, norm=None) -> Tensor:  # noqa: A002
    """torch.fft.ifftn: the inverse n-D DFT."""
    return _c2c(input, s, dim, norm, True, None)


def rfft(input, n=None, dim=-1, norm=None) -> Tensor:  # noqa: A002
    """torch.fft.rfft: the n//2 + 1 non-negative frequencies of a real signal's DFT."""
    return _r2c(input, _one(n), dim, norm, None)


def rfft2(input, s=None, dim=(-2, -1), norm=None) -> Tensor:  # noqa: A002
    """torch.fft.rfft2: rfft over the last dim, fft over the one before."""
    return _r2c(input, s, dim, norm, None)


def rfftn(input, s=None, dim=None, norm=None) -> Tensor:  # noqa: A002
    """torch.fft.rfftn: rfft over the last of ``dim``, fft over the others."""
    return _r2c(input, s, dim, norm, None)


def irfft(input, n=None, dim=-1, norm=None) -> Tensor:  # noqa: A002
    """torch.fft.irfft: the real signal of length n (2·(m − 1) by default) whose rfft is
    ``input`` (imaginary parts of bin 0 and, for even n, bin n/2 are ignored)."""
    return _c2r(input, _one(n), dim, norm, None)


def irfft2(input, s=None, dim=(-2, -1), norm=None) -> Tensor:  # noqa: A002
    """torch.fft.irfft2: the inverse of rfft2."""
    return _c2r(input, s, dim, norm, None)


def irfftn(input, s=None, dim=None, norm=None) -> Tensor:  # noqa: A002
    """torch.fft.irfftn: the inverse of rfftn."""
    return _c2r(input, s, dim, norm, None)


_SWAP = {None: "forward", "backward": "forward", "forward": "backward", "ortho": "ortho"}


def hfft(input, n=None, dim=-1, norm=None) -> Tensor:  # noqa: A002
    """torch.fft.hfft: the real spectrum (length n) of a signal Hermitian in time, given its
    first half: irfft(conj(input)) with the scale moved to the other side."""
    _norm(norm)
    return irfft(_input(input, want_complex=True).conj(), n, dim, _SWAP[norm])


def ihfft(input, n=None, dim=-1, norm=None) -> Tensor:  # noqa: A002
    """torch.fft.ihfft: the inverse of hfft, conj(rfft(input)) with the scale swapped."""
    _norm(norm)
    return rfft(input, n, dim, _SWAP[norm]).conj()


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
    _norm(norm)
    return irfftn(_input(input, want_complex=True).conj(), s, dim, _SWAP[norm])


def ihfft2(input, s=None, dim=(-2, -1), norm=None) -> Tensor:  # noqa: A002
    """torch.fft.ihfft2: ihfftn over the last two dims (or ``dim``)."""
    return ihfftn(input, s, dim, norm)


def ihfftn(input, s=None, dim=None, norm=None) -> Tensor:  # noqa: A002
    """torch.fft.ihfftn: the inverse of hfftn for a real signal, its n//2 + 1 non-negative
    frequencies along the last of ``dim``:

        ihfftn(x) = conj(rfftn(x)) with the scale on the other side ("backward": 1/n)"""
    _norm(norm)
    return rfftn(_real_only(input), s, dim, _SWAP[norm]).conj()


def fftfreq(n, d=1.0, *, dtype=None, requires_grad=False, **_device) -> Tensor:
    """torch.fft.fftfreq: the sample frequencies [0, 1, …, ⌈n/2⌉−1, −⌊n/2⌋, …, −1] / (d·n)."""
    return _tensor(xp.fft.fftfreq(n, d), dtype=dtype or get_default_dtype(),
                   requires_grad=requires_grad)  # fmt: skip


def rfftfreq(n, d=1.0, *, dtype=None, requires_grad=False, **_device) -> Tensor:
    """torch.fft.rfftfreq: the non-negative frequencies [0, 1, …, n//2] / (d·n)."""
    return _tensor(xp.fft.rfftfreq(n, d), dtype=dtype or get_default_dtype(),
                   requires_grad=requires_grad)  # fmt: skip


def _shift(x, dim, sign):
    x = x if isinstance(x, Tensor) else _tensor(x)
    dims = tuple(range(x.ndim)) if dim is None else ((dim,) if isinstance(dim, int) else dim)
    if not dims:
        return x
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
