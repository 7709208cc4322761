"""F.conv1d / F.conv2d with torch's signatures, and the composed reference convolution.

    y[n, o, i, j] = b[o] + Σ_{c, u, v} W[o, c, u, v] · x̃[n, c, s·i + d·u, s·j + d·v]

The fast path is the im2col + GEMM op in ``ember/ops/conv.py``; ``conv2d_composed``
builds the same sum from primitive Tensor ops (pad, strided slices, matmul), one term
per kernel offset (u, v), and the tests hold the two equal.
"""

from __future__ import annotations

import functools

from ..amp.autocast_mode import autocast_active
from ..errors import InputError, InputTypeError
from ..ops import conv as C
from ..ops.im2col import out_size
from ..tensor import Tensor, apply
from .shape import cat
from .shape import pad as _pad


def _pair(value, n: int, name: str) -> tuple:
    if isinstance(value, int):
        return (value,) * n
    value = tuple(value)
    if len(value) != n or not all(isinstance(v, int) for v in value):
        raise InputError(f"{name} must be an int or {n} ints, got {value!r}")
    return value


def conv_padding(padding, kernel, dilation, stride, n: int) -> tuple:
    """torch's ``padding`` (int, ints, 'valid' or 'same') as ((before, after), ...) per dim.

    'same' pads d·(k − 1) in total, the extra pixel of an odd total after, as torch does.
    """
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0),) * n
        if padding == "same":
            if any(s != 1 for s in stride):
                raise ValueError(f"padding='same' needs stride 1, got stride {stride}")
            totals = [d * (k - 1) for k, d in zip(kernel, dilation)]
            return tuple((t // 2, t - t // 2) for t in totals)
        raise ValueError(f"padding must be an int, a tuple, 'valid' or 'same', got {padding!r}")
    p = _pair(padding, n, "padding")
    if any(v < 0 for v in p):
        raise InputError(f"padding must be non-negative, got {padding!r}")
    return tuple((v, v) for v in p)


def accepts_unbatched(nd: int):
    """torch's convolutions and pools also take one unbatched sample, (C, L) or (C, H, W):
    it runs as a batch of one and comes back without the batch axis (each of a tuple's
    tensors, for return_indices)."""

    def wrap(fn):
        @functools.wraps(fn)
        def run(input, *args, **kwargs):  # noqa: A002 - torch's argument name
            if not (isinstance(input, Tensor) and input.ndim == nd + 1):
                return fn(input, *args, **kwargs)
            out = fn(input.unsqueeze(0), *args, **kwargs)
            if isinstance(out, tuple):
                return tuple(o.squeeze(0) for o in out)
            return out.squeeze(0)

        return run

    return wrap


def expected_input(nd: int) -> str:
    spatial = {1: "L", 2: "H, W", 3: "D, H, W"}[nd]
    return f"a {nd + 1}-D (C, {spatial}) or {nd + 2}-D (N, C, {spatial}) input"


def _check_ndim(x: Tensor, weight: Tensor, nd: int, name: str) -> None:
    if x.ndim != nd + 2:
        raise InputError(f"{name}: expected {expected_input(nd)}, got shape {x.shape}")
    if weight.ndim != nd + 2:
        raise InputError(f"{name}: expected a {nd + 2}-D weight, got shape {weight.shape}")


def _check_bias_dtype(
    x: Tensor, weight: Tensor, bias, o: int, name: str, bias_cast: bool = False
) -> None:
    """Input and bias of the weight's dtype (``bias_cast``: a bias of another dtype is cast,
    as torch's conv_transpose1d/2d do)."""
    if bias is not None and bias.shape != (o,):
        raise InputError(f"{name}: bias must have shape ({o},), got {bias.shape}")
    if autocast_active():  # the op's policy casts them all
        return
    for label, t in (("input", x), ("bias", None if bias_cast else bias)):
        if t is not None and t.dtype != weight.dtype:
            raise InputTypeError(
                f"{name}: {label} dtype {t.dtype} and weight dtype {weight.dtype} differ"
            )


def _check(x: Tensor, weight: Tensor, bias, groups: int, nd: int, name: str) -> None:
    _check_ndim(x, weight, nd, name)
    c, o, c_g = x.shape[1], weight.shape[0], weight.shape[1]
    if groups < 1 or c % groups or o % groups:
        raise InputError(
            f"{name}: groups={groups} must divide in_channels={c} and out_channels={o}"
        )
    if c_g * groups != c:
        raise InputError(
            f"{name}: input has {c} channels, but weight of shape {weight.shape} with"
            f" groups={groups} expects {c_g * groups}"
        )
    _check_bias_dtype(x, weight, bias, o, name)


@accepts_unbatched(2)
def conv2d(
    input: Tensor,  # noqa: A002 - torch's argument name
    weight: Tensor,
    bias: Tensor | None = None,
    stride=1,
    padding=0,
    dilation=1,
    groups: int = 1,
) -> Tensor:
    """2-D convolution (cross-correlation, as torch): x (N, C, H, W), W (O, C/groups, kh, kw)."""
    return _conv(input, weight, bias, stride, padding, dilation, groups, 2)


@accepts_unbatched(1)
def conv1d(
    input: Tensor,  # noqa: A002
    weight: Tensor,
    bias: Tensor | None = None,
    stride=1,
    padding=0,
    dilation=1,
    groups: int = 1,
) -> Tensor:
    """1-D convolution: x (N, C, L), W (O, C/groups, k); the 2-D op on a height-1 image."""
    return _conv(input, weight, bias, stride, padding, dilation, groups, 1)


def _conv(x, weight, bias, stride, padding, dilation, groups: int, nd: int) -> Tensor:
    _check(x, weight, bias, groups, nd, f"conv{nd}d")
    stride, dilation = _pair(stride, nd, "stride"), _pair(dilation, nd, "dilation")
    pads = conv_padding(padding, weight.shape[2:], dilation, stride, nd)
    if nd == 1:  # the 2-D op on a height-1 image
        stride, pads, dilation = (1,) + stride, ((0, 0),) + pads, (1,) + dilation
    return apply(
        C.Conv2d, x, weight, bias, stride=stride, padding=pads, dilation=dilation, groups=groups
    )


def conv2d_composed(
    x: Tensor, W: Tensor, b: Tensor | None = None, stride=1, padding=0, dilation=1, groups=1
) -> Tensor:
    """The equation term by term: Σ_{u,v} x̃[:, :, s·i + d·u, s·j + d·v] · W[:, :, u, v].

    Slow (one matmul per kernel offset and group) and obviously right; the reference for
    the fused op.
    """
    _check(x, W, b, groups, 2, "conv2d_composed")
    s, d = _pair(stride, 2, "stride"), _pair(dilation, 2, "dilation")
    (pt, pb), (pl, pr) = conv_padding(padding, W.shape[2:], d, s, 2)
    x_pad = _pad(x, (pl, pr, pt, pb))
    n, c, hp, wp = x_pad.shape
    o, c_g, kh, kw = W.shape
    ho = out_size(hp, kh, s[0], 0, d[0])
    wo = out_size(wp, kw, s[1], 0, d[1])
    o_g = o // groups
    outs = []
    for g in range(groups):
        y_g = None
        for u in range(kh):
            for v in range(kw):
                rows = slice(d[0] * u, d[0] * u + s[0] * (ho - 1) + 1, s[0])
                cols = slice(d[1] * v, d[1] * v + s[1] * (wo - 1) + 1, s[1])
                x_uv = x_pad[:, g * c_g : (g + 1) * c_g, rows, cols]  # (N, C_g, Ho, Wo)
                W_uv = W[g * o_g : (g + 1) * o_g, :, u, v]  # (O_g, C_g)
                term = x_uv.permute(0, 2, 3, 1) @ W_uv.T  # (N, Ho, Wo, O_g)
                y_g = term if y_g is None else y_g + term
        outs.append(y_g)
    y = outs[0] if groups == 1 else cat(outs, dim=3)
    if b is not None:
        y = y + b
    return y.permute(0, 3, 1, 2)
