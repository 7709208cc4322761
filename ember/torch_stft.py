"""torch.stft and torch.istft, composed from differentiable ops (framing by Tensor.unfold,
the window product, ember.fft, overlap-add by F.fold), so every gradient is autograd's.

    X[ω, t] = s · Σₖ w[k] · x̃[t·hop + k] · e^{−2πi·ωk/n}         (stft)
    y[j]    = Σₜ w[j − t·hop] · IDFT(X[·, t])[j − t·hop] / Σₜ w²[j − t·hop]   (istft)

x̃ is x reflect-padded by n//2 on both sides when ``center`` (``pad_mode``), w the window
(rectangular of ``win_length`` by default) zero-padded to n = ``n_fft`` at its centre, hop
``hop_length`` (n//4 by default), s = 1/√n when ``normalized``. ``onesided`` keeps the
n//2 + 1 non-negative frequencies (the default for a real input and window). istft divides by
the window envelope Σₜ w²[j − t·hop] (torch's least-squares inverse) and refuses where that
envelope is ~0. Shapes: x (L) or (B, L) → X (n//2 + 1 or n, T) or (B, …, T); istft the reverse.
"""

from __future__ import annotations

import warnings

from .backend import xp
from .creation import tensor as _tensor
from .tensor import Tensor


def _window(window, win_length: int, n_fft: int, dtype, op: str, where: str) -> Tensor | None:
    """The window zero-padded to n_fft at its centre (None: rectangular of win_length)."""
    if window is not None:
        if not isinstance(window, Tensor):
            window = _tensor(window)
        if window.ndim != 1 or window.shape[0] != win_length:
            raise RuntimeError(
                f"{where} : expected a 1D window tensor of size equal to win_length={win_length},"
                f" but got window with size {list(window.shape)}"
            )
    if win_length == n_fft:
        return window
    left = (n_fft - win_length) // 2
    if window is None:
        w = xp.zeros(n_fft, dtype=dtype)
        w[left : left + win_length] = 1
        return _tensor(w)
    from .functional.shape import pad

    return pad(window, (left, n_fft - win_length - left))


def _kind(t) -> str:
    return {"float32": "Float", "float64": "Double", "complex64": "ComplexFloat",
            "complex128": "ComplexDouble"}.get(str(t.dtype).split(".")[-1], "")  # fmt: skip


def _where(op, x, n_fft, hop, win_length, window, normalized, onesided, return_complex,
           center=None, **more):  # fmt: skip
    """torch's prefix of its stft/istft errors: the call's arguments (istft names ``center``
    before ``normalized``)."""
    w = "None" if window is None else f"torch.{_kind(window)}Tensor{{{list(window.shape)}}}"
    centre = "" if center is None else f" center={int(bool(center))},"
    extra = "".join(f", {k}={v}" for k, v in more.items())
    return (
        f"{op}(torch.{_kind(x)}Tensor{list(x.shape)}, n_fft={n_fft}, hop_length={hop},"
        f" win_length={win_length}, window={w},{centre} normalized={int(bool(normalized))},"
        f" onesided={onesided}, return_complex={return_complex}{extra})"
    )


def stft(input, n_fft: int, hop_length=None, win_length=None, window=None, center=True,  # noqa: A002
         pad_mode="reflect", normalized=False, onesided=None, return_complex=None,
         align_to_window=None) -> Tensor:  # fmt: skip
    """torch.stft: the short-time Fourier transform of a 1-D signal or a batch (B, L) of them."""
    x = input if isinstance(input, Tensor) else _tensor(input)
    if x.array.dtype.kind in "biu":
        from .torch_creation import get_default_dtype

        x = x.astype(get_default_dtype())
    complex_in = x.is_complex() or (isinstance(window, Tensor) and window.is_complex())
    if return_complex is None and not complex_in:
        raise RuntimeError(
            "stft requires the return_complex parameter be given for real inputs, and will"
            " further require that return_complex=True in a future PyTorch release."
        )
    if return_complex is False:
        warnings.warn(
            "stft with return_complex=False is deprecated. In a future pytorch release, stft"
            " will return complex tensors for all inputs, and return_complex=False will raise"
            " an error.\nNote: you can still call torch.view_as_real on the complex output to"
            " recover the old return format.",
            UserWarning,
            stacklevel=2,
        )
    if align_to_window is not None:
        if center:
            raise RuntimeError("stft align_to_window should only be set when center = false")
        if align_to_window:
            raise NotImplementedError("stft: align_to_window=True is not supported in ember")
    hop = n_fft // 4 if hop_length is None else int(hop_length)
    win = n_fft if win_length is None else int(win_length)
    if x.ndim not in (1, 2):
        raise RuntimeError(f"stft: expected a 1D or 2D tensor, but got {x.ndim}D tensor")
    if center:
        from .functional.layers_more import pad

        p = n_fft // 2
        lead = x.shape[:-1]
        x = pad(x.reshape((1,) * (3 - x.ndim) + x.shape), (p, p), mode=pad_mode)
        x = x.reshape(lead + x.shape[-1:])
    where = _where("stft", x, n_fft, hop, win, window, normalized,
                   "None" if onesided is None else int(onesided),
                   int(bool(return_complex)) if return_complex is not None else "None",
                   align_to_window=align_to_window)  # fmt: skip
    batched = x.ndim == 2
    if not batched:
        x = x.reshape(1, x.shape[0])
    length = x.shape[-1]
    if not 0 < n_fft <= length:
        raise RuntimeError(f"{where} : expected 0 < n_fft < {length}, but got n_fft={n_fft}")
    if hop <= 0:
        raise RuntimeError(f"{where} : expected hop_length > 0, but got hop_length={hop}")
    if not 0 < win <= n_fft:
        raise RuntimeError(f"{where} : expected 0 < win_length <= n_fft, but got win_length={win}")
    if window is None:
        warnings.warn(
            "A window was not provided. A rectangular window will be applied,which is known to"
            " cause spectral leakage. Other windows such as torch.hann_window or"
            " torch.hamming_window are recommended to reduce spectral leakage.To suppress this"
            " warning and use a rectangular window, explicitly set `window=torch.ones(n_fft,"
            " device=<device>)`.",
            UserWarning,
            stacklevel=2,
        )
    from .ops.complex import real_dtype

    w = _window(window, win, n_fft, real_dtype(x.array.dtype), "stft", where)
    frames = x.unfold(-1, n_fft, hop)  # (B, T, n): frames[b, t, k] = x̃[b, t·hop + k]
    if w is not None:
        frames = frames * w
    one = (not complex_in) if onesided is None else bool(onesided)
    if one and complex_in:
        raise RuntimeError("Cannot have onesided output if window or input is complex")
    from . import fft

    norm = "ortho" if normalized else "backward"
    spec = (fft.rfft if one else fft.fft)(frames, dim=-1, norm=norm).transpose(1, 2)
    if not batched:
        spec = spec.squeeze(0)
    if return_complex is False:
        from .torch_math_complex import view_as_real

        return view_as_real(spec)
    return spec


def istft(input, n_fft: int, hop_length=None, win_length=None, window=None,  # noqa: A002
          center=True, normalized=False, onesided=None, length=None,
          return_complex=False) -> Tensor:  # fmt: skip
    """torch.istft: the signal whose stft is ``input`` (least-squares overlap-add inverse)."""
    from . import fft
    from .functional.layers_fold import fold

    X = input if isinstance(input, Tensor) else _tensor(input)
    if not X.is_complex():
        raise RuntimeError(
            "istft requires a complex-valued input tensor matching the output from stft with"
            " return_complex=True."
        )
    hop = n_fft // 4 if hop_length is None else int(hop_length)
    win = n_fft if win_length is None else int(win_length)
    where = _where("istft", X, n_fft, hop, win, window, normalized,
                   "None" if onesided is None else int(onesided),
                   int(bool(return_complex)), center=center, length=length)  # fmt: skip
    if X.ndim not in (2, 3):
        raise RuntimeError(f"{where}: expected a tensor with 2 or 3 dimensions of complex dtype,"
                           f" but got {X.ndim}")  # fmt: skip
    batched = X.ndim == 3
    if not batched:
        X = X.unsqueeze(0)
    n_bins, n_frames = X.shape[-2], X.shape[-1]
    one = (n_bins != n_fft) if onesided is None else bool(onesided)
    if one and n_fft // 2 + 1 != n_bins:
        raise RuntimeError(
            f"{where}: expected the frequency dimension (3rd to the last) of the input tensor to"
            f" match n_fft / 2 + 1 when onesided=True, but got {n_bins}"
        )
    if not one and n_fft != n_bins:
        raise RuntimeError(
            f"{where}: expected the frequency dimension (3rd to the last) of the input tensor to"
            f" match n_fft when onesided=False, but got {n_bins}"
        )
    if not 0 < hop <= win:
        raise RuntimeError(f"{where}: expected 0 < hop_length <= win_length")
    if not 0 < win <= n_fft:
        raise RuntimeError(f"{where}: expected 0 < win_length <= n_fft")
    if window is None:
        warnings.warn(
            "A window was not provided. A rectangular window will be applied.Please provide the"
            " same window used by stft to make the inversion lossless.To suppress this warning"
            " and use a rectangular window, explicitly set `window=torch.ones(n_fft,"
            " device=<device>)`.",
            UserWarning,
            stacklevel=2,
        )
    from .ops.complex import real_dtype

    rdt = real_dtype(X.array.dtype)
    w = _window(window, win, n_fft, rdt, "istft", where)
    if w is None:
        w = _tensor(xp.ones(n_fft, dtype=rdt))
    frames = X.transpose(1, 2)  # (B, T, bins)
    norm = "ortho" if normalized else "backward"
    if return_complex:
        if one:
            raise RuntimeError("Cannot have onesided output if window or input is complex")
        frames = fft.ifft(frames, dim=-1, norm=norm)
    else:
        if w.is_complex():
            raise RuntimeError("Complex windows are incompatible with return_complex=False")
        if not one:
            frames = frames[..., : n_fft // 2 + 1]
        frames = fft.irfft(frames, n=n_fft, dim=-1, norm=norm)
    frames = frames * w  # (B, T, n)
    total = n_fft + hop * (n_frames - 1)
    geometry = dict(output_size=(1, total), kernel_size=(1, n_fft), stride=(1, hop))
    y = fold(frames.transpose(1, 2), **geometry).reshape(X.shape[0], total)  # overlap-add
    env = fold((w * w).reshape(1, n_fft, 1).expand(1, n_fft, n_frames), **geometry)
    env = env.reshape(total)
    start = n_fft // 2 if center else 0
    end = start + int(length) if length is not None else (total - n_fft // 2 if center else total)
    y, env = y[:, start:end], env[start:end]
    if bool((env.detach().abs() < 1e-11).any()):
        raise RuntimeError(f"{where}window overlap add min: 1")
    y = y / env
    if not batched:
        y = y.squeeze(0)
    if end > total:
        warnings.warn(
            "The length of signal is shorter than the length parameter. Result is being padded"
            " with zeros in the tail. Please check your center and hop_length settings.",
            UserWarning,
            stacklevel=2,
        )
        from .functional.shape import pad

        y = pad(y, (0, end - total))
    return y


__all__ = ["stft", "istft"]
