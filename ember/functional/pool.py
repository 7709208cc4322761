"""F.max_pool1d/2d, F.avg_pool1d/2d, F.adaptive_avg_pool1d/2d with torch's signatures.

    max pool:      y[n, c, i, j] = max_{u,v} x̃[n, c, s·i + d·u, s·j + d·v]
    avg pool:      y[n, c, i, j] = (1/|R_ij|) Σ_{u,v} x̃[n, c, s·i + u, s·j + v]
    adaptive avg:  y = A_H · x · A_Wᵀ,  A[i, h] = 1/(e_i − b_i) for b_i ≤ h < e_i,
                   b_i = ⌊i·H/H_out⌋, e_i = ⌈(i+1)·H/H_out⌉   (torch's bins)

The fast pools are the ops in ``ember/ops/pool.py``; ``max_pool2d_composed`` and
``avg_pool2d_composed`` are the same equations from primitive Tensor ops, for the tests.
"""

from __future__ import annotations

import math

from ..backend import xp
from ..errors import InputError
from ..ops import pool as P
from ..ops import unpool as U
from ..ops.elementwise import not_implemented_for
from ..tensor import Tensor, apply
from .conv import _pair, accepts_unbatched, expected_input
from .shape import maximum
from .shape import pad as _pad


def _pool_args(x: Tensor, kernel_size, stride, padding, dilation, nd: int, name: str):
    if x.ndim != nd + 2:  # torch: RuntimeError
        raise InputError(f"{name}: expected {expected_input(nd)}, got shape {x.shape}")
    k = _pair(kernel_size, nd, "kernel_size")
    s = k if stride is None or stride == () else _pair(stride, nd, "stride")
    p = _pair(padding, nd, "padding")
    d = _pair(dilation, nd, "dilation")
    for label, values in (("kernel_size", k), ("stride", s), ("dilation", d)):
        if min(values) < 1:  # torch: "stride should not be zero"; here a division by zero
            raise InputError(f"{name}: {label} must be positive, got {values}")
    if min(p) < 0:
        raise InputError(f"{name}: padding must be non-negative, got {p}")
    if any(pi > ki // 2 for pi, ki in zip(p, k)):
        raise InputError(f"{name}: padding {p} must be at most half the kernel size {k}")
    if nd == 1:
        k, s, p, d = (1,) + k, (1,) + s, (0,) + p, (1,) + d
    return k, s, p, d


@accepts_unbatched(2)
def max_pool2d(
    input: Tensor,  # noqa: A002 - torch's argument name
    kernel_size,
    stride=None,
    padding=0,
    dilation=1,
    ceil_mode: bool = False,
    return_indices: bool = False,
):
    """Max over kh×kw windows of x (N, C, H, W); stride defaults to the kernel size.

    With ``return_indices`` also the flat index (h·W + w) of each maximum in its input plane
    (the switches ``max_unpool2d`` puts the maxima back with).
    """
    k, s, p, d = _pool_args(input, kernel_size, stride, padding, dilation, 2, "max_pool2d")
    return _max_pool(input, k, s, p, d, ceil_mode, return_indices)


@accepts_unbatched(1)
def max_pool1d(input: Tensor, kernel_size, stride=None, padding=0, dilation=1,  # noqa: A002
               ceil_mode: bool = False, return_indices: bool = False):  # fmt: skip
    """Max over windows of length k of x (N, C, L); indices as in max_pool2d, along L."""
    k, s, p, d = _pool_args(input, kernel_size, stride, padding, dilation, 1, "max_pool1d")
    return _max_pool(input, k, s, p, d, ceil_mode, return_indices)


def _max_pool(x, k, s, p, d, ceil_mode, return_indices):
    consts = dict(kernel_size=k, stride=s, padding=p, dilation=d, ceil_mode=ceil_mode)
    if not return_indices:
        return apply(P.MaxPool2d, x, **consts)
    y, index = apply(U.MaxPool2dWithIndices, x, **consts)
    return y, index.detach()


def max_unpool2d(input: Tensor, indices, kernel_size, stride=None, padding=0,  # noqa: A002
                 output_size=None) -> Tensor:  # fmt: skip
    """The inverse of max_pool2d with return_indices: each value back at its index, zeros
    elsewhere. Output size (H_in − 1)·stride − 2·padding + kernel unless ``output_size``
    ((H, W) or (N, C, H, W)) says otherwise, as torch."""
    return _max_unpool(input, indices, kernel_size, stride, padding, output_size, 2)


def max_unpool1d(input: Tensor, indices, kernel_size, stride=None, padding=0,  # noqa: A002
                 output_size=None) -> Tensor:  # fmt: skip
    """The inverse of max_pool1d with return_indices (see max_unpool2d)."""
    return _max_unpool(input, indices, kernel_size, stride, padding, output_size, 1)


def _max_unpool(x, indices, kernel_size, stride, padding, output_size, nd: int):
    name = f"max_unpool{nd}d"
    index = indices.array if isinstance(indices, Tensor) else xp.asarray(indices)
    if x.ndim == nd + 1:  # unbatched (C, ...), as torch takes it: one sample
        y = _max_unpool(x.unsqueeze(0), index[None], kernel_size, stride, padding,
                        output_size, nd)  # fmt: skip
        return y.squeeze(0)
    if x.ndim != nd + 2:  # torch: RuntimeError
        raise InputError(
            f"{name}: expected a {nd + 1}-D (C, ...) or {nd + 2}-D (N, C, ...) input, got shape"
            f" {x.shape}"
        )
    if index.shape != x.shape or index.dtype.kind not in "iu":
        raise InputError(
            f"{name}: indices must be integers of the input's shape {x.shape}, got"
            f" {index.dtype} of shape {index.shape}"
        )
    k = _pair(kernel_size, nd, "kernel_size")
    s = k if stride is None else _pair(stride, nd, "stride")
    p = _pair(padding, nd, "padding")
    size = tuple((n - 1) * si - 2 * pi + ki for n, si, pi, ki in zip(x.shape[2:], s, p, k))
    if output_size is not None:
        size = tuple(output_size)[-nd:]
    return apply(U.MaxUnpool2d, x, index, out_size=size)


@accepts_unbatched(2)
def avg_pool2d(
    input: Tensor,  # noqa: A002
    kernel_size,
    stride=None,
    padding=0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor_override: int | None = None,
) -> Tensor:
    """Mean over kh×kw windows of x (N, C, H, W); divisor as torch (see the module docstring)."""
    k, s, p, _ = _pool_args(input, kernel_size, stride, padding, 1, 2, "avg_pool2d")
    return apply(
        P.AvgPool2d, input, kernel_size=k, stride=s, padding=p, ceil_mode=ceil_mode,
        count_include_pad=count_include_pad, divisor_override=divisor_override,
    )  # fmt: skip


@accepts_unbatched(1)
def avg_pool1d(input: Tensor, kernel_size, stride=None, padding=0,  # noqa: A002
               ceil_mode: bool = False, count_include_pad: bool = True) -> Tensor:  # fmt: skip
    """Mean over windows of length k of x (N, C, L)."""
    k, s, p, _ = _pool_args(input, kernel_size, stride, padding, 1, 1, "avg_pool1d")
    return apply(
        P.AvgPool2d, input, kernel_size=k, stride=s, padding=p, ceil_mode=ceil_mode,
        count_include_pad=count_include_pad,
    )  # fmt: skip


def adaptive_bins(size: int, out: int, dtype) -> Tensor:
    """A (out, size): row i averages x[⌊i·size/out⌋ : ⌈(i+1)·size/out⌉]."""
    a = xp.zeros((out, size), dtype=dtype)
    for i in range(out):  # out is the small output size, not a pixel loop over the data
        b, e = (i * size) // out, math.ceil((i + 1) * size / out)
        a[i, b:e] = 1.0 / (e - b)
    return Tensor(a)


def refuse_integers(x: Tensor, kernel: str, out_size: tuple) -> None:
    """torch's adaptive average pools have no integer or bool kernel (their bins' weights are
    fractions): its NotImplementedError, once there is an output element to compute."""
    if x.array.dtype.kind in "biu" and math.prod(x.array.shape[: -len(out_size)] + out_size):
        raise not_implemented_for(kernel, x.array.dtype)


def adaptive_avg_pool2d(input: Tensor, output_size) -> Tensor:  # noqa: A002
    """y = A_H · x · A_Wᵀ over the last two dims; None in output_size keeps that size."""
    if input.ndim not in (3, 4):
        raise InputError(
            f"adaptive_avg_pool2d: expected (N, C, H, W) or (C, H, W), got {input.shape}"
        )
    h, w = input.shape[-2:]
    if h == 0 or w == 0:  # torch's rule: every non-batch dim must be non-empty
        raise InputError(f"adaptive_avg_pool2d: empty spatial size in {tuple(input.shape)}")
    if not isinstance(output_size, int) and len(output_size) != 2:
        raise InputError("adaptive_avg_pool2d: output_size must be 2")
    oh, ow = (output_size, output_size) if isinstance(output_size, int) else output_size
    oh, ow = h if oh is None else oh, w if ow is None else ow  # (0 is a size: empty output)
    if oh < 0 or ow < 0:  # torch: RuntimeError
        raise InputError(f"adaptive_avg_pool2d: output_size must be non-negative, got {(oh, ow)}")
    if (oh, ow) == (1, 1):  # global average pooling: one mean (torch's too, and its refusal)
        return input.mean(axis=(-2, -1), keepdims=True)
    refuse_integers(input, "adaptive_avg_pool2d", (oh, ow))
    return adaptive_bins(h, oh, input.dtype) @ input @ adaptive_bins(w, ow, input.dtype).T


def adaptive_avg_pool1d(input: Tensor, output_size: int) -> Tensor:  # noqa: A002
    """y = x · A_Lᵀ over the last dim: torch's adaptive bins."""
    if input.ndim not in (2, 3):
        raise InputError(f"adaptive_avg_pool1d: expected (N, C, L) or (C, L), got {input.shape}")
    out = output_size if isinstance(output_size, int) else output_size[0]
    if input.shape[-1] == 0:
        raise InputError(f"adaptive_avg_pool1d: empty length in {tuple(input.shape)}")
    refuse_integers(input, "adaptive_avg_pool2d", (out,))  # torch runs it as a 2-D pool
    return input @ adaptive_bins(input.shape[-1], out, input.dtype).T


def _slices_of_windows(x_pad: Tensor, k, s, d, out_hw):
    for u in range(k[0]):
        for v in range(k[1]):
            rows = slice(d[0] * u, d[0] * u + s[0] * (out_hw[0] - 1) + 1, s[0])
            cols = slice(d[1] * v, d[1] * v + s[1] * (out_hw[1] - 1) + 1, s[1])
            yield x_pad[:, :, rows, cols]


def max_pool2d_composed(x: Tensor, kernel_size, stride=None, padding=0, dilation=1,
                        ceil_mode: bool = False) -> Tensor:  # fmt: skip
    """max_{u,v} of the shifted views, from ``maximum`` and slicing (reference for the op)."""
    k, s, p, d = _pool_args(x, kernel_size, stride, padding, dilation, 2, "max_pool2d")
    out_hw, pads = P._geometry(x.array, k, s, p, d, ceil_mode)
    (pt, pb), (pl, pr) = pads
    x_pad = _pad(x, (pl, pr, pt, pb), value=-math.inf)
    y = None
    for part in _slices_of_windows(x_pad, k, s, d, out_hw):
        y = part if y is None else maximum(y, part)
    return y


def avg_pool2d_composed(x: Tensor, kernel_size, stride=None, padding=0, ceil_mode=False,
                        count_include_pad=True) -> Tensor:  # fmt: skip
    """(1/|R_ij|) Σ_{u,v} of the shifted views, from sums and slicing (reference for the op)."""
    k, s, p, _ = _pool_args(x, kernel_size, stride, padding, 1, 2, "avg_pool2d")
    out_hw, pads = P._geometry(x.array, k, s, p, (1, 1), ceil_mode)
    (pt, pb), (pl, pr) = pads
    x_pad = _pad(x, (pl, pr, pt, pb))
    total = None
    for part in _slices_of_windows(x_pad, k, s, (1, 1), out_hw):
        total = part if total is None else total + part
    h, w = x.shape[2:]
    dh = P._avg_divisor(xp, h, k[0], s[0], p[0], out_hw[0], count_include_pad)
    dw = P._avg_divisor(xp, w, k[1], s[1], p[1], out_hw[1], count_include_pad)
    return total / Tensor((dh[:, None] * dw[None, :]).astype(x.dtype))
