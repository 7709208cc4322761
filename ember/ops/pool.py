"""Max and average pooling over sliding windows, with hand-written backward.

    max pool:  y[n, c, i, j] = max_{u,v} x̃[n, c, s·i + d·u, s·j + d·v]     (x̃ padded by −∞)
    avg pool:  y[n, c, i, j] = (1 / |R_ij|) · Σ_{u,v} x̃[n, c, s·i + u, s·j + v]   (x̃ padded by 0)

|R_ij| is the window's size (count_include_pad) or the number of real pixels in it,
clipped at the padded border, as torch computes it. The gradient of the max goes to the
first maximal element of each window (torch's choice for ties), or to its last NaN where it
holds NaNs (torch's ``val > max || isnan(val)``); the average's gradient
is spread evenly. Windows are read through one strided view; the backward scatters with
one strided add per kernel offset (kh·kw of them), never a loop over pixels.

ceil_mode lets the last window hang over the right/bottom border; like torch, a
window must still start inside the input or the left padding.
"""

from __future__ import annotations

from ..backend import get_array_module
from ..errors import InputError
from ..function import Function, half_in_float32
from .complex_refuse import refuse_complex
from .elementwise import not_implemented_for
from .im2col import add_windows, channel_major, offset_slice, pad2d, zeros_nchw
from .masking import keep_where


def pool_out_size(size: int, kernel: int, stride: int, pad: int, dilation: int, ceil: bool):
    """Output length and the extra right padding that ceil_mode needs."""
    span = size + 2 * pad - dilation * (kernel - 1) - 1
    out = (span + (stride - 1 if ceil else 0)) // stride + 1  # floor division, as torch's
    if ceil and (out - 1) * stride >= size + pad:
        out -= 1  # the last window would start in the right padding
    if out < 1:  # with ceil_mode a window may hang over the end, but one must fit
        raise InputError(
            f"pool: input size {size} with padding {pad} is smaller than the window"
            f" {dilation * (kernel - 1) + 1}: the output would have {out} positions"
        )
    extra = max(0, (out - 1) * stride + dilation * (kernel - 1) + 1 - (size + 2 * pad))
    return out, extra


def _geometry(x, kernel, stride, padding, dilation, ceil_mode):
    h, w = x.shape[2:]
    ho, eh = pool_out_size(h, kernel[0], stride[0], padding[0], dilation[0], ceil_mode)
    wo, ew = pool_out_size(w, kernel[1], stride[1], padding[1], dilation[1], ceil_mode)
    pads = ((padding[0], padding[0] + eh), (padding[1], padding[1] + ew))
    return (ho, wo), pads


class MaxPool2d(Function):
    """y = max over each window; x (N, C, H, W) or (N, C, L) for the 1-D pool.

    Forward: a running ``maximum`` over the kh·kw strided views, one per kernel offset (no
    window copy, no argmax). Backward: offset k's pixel receives ∂L/∂y where it equals y and
    no earlier offset did, so ties go to the first offset in scan order, as in torch; a
    window holding NaNs (y NaN) sends it to its last NaN, as torch's kernel does.
    """

    def forward(self, x, kernel_size, stride, padding=(0, 0), dilation=(1, 1), ceil_mode=False):
        xp = get_array_module(x)
        self.one_d = x.ndim == 3
        if x.dtype.kind == "c":
            refuse_complex(x, "max_pool1d" if self.one_d else "max_pool2d", NotImplementedError)
        if self.one_d:
            x = x[:, :, None, :]
        out_hw, pads = _geometry(x, kernel_size, stride, padding, dilation, ceil_mode)
        x_pad = pad2d(x, pads, value=-xp.inf)
        kh, kw = kernel_size
        parts = [
            x_pad[offset_slice(u, v, stride, dilation, out_hw)]
            for u in range(kh)
            for v in range(kw)
        ]
        y = parts[0].copy() if len(parts) == 1 else xp.maximum(parts[0], parts[1])
        for part in parts[2:]:
            xp.maximum(y, part, out=y)
        self.x_pad, self.y = x_pad, y
        self.geometry = (x.shape, kernel_size, stride, pads, dilation, out_hw)
        return y[:, :, 0, :] if self.one_d else y

    def backward(self, gy):
        xp = get_array_module(gy)
        x_shape, (kh, kw), stride, pads, dilation, out_hw = self.geometry
        if self.one_d:
            gy = gy[:, :, None, :]
        x_pad, y = self.x_pad, self.y
        if channel_major(x_pad):  # loop in memory order: (C, N, ...) views, ~1.5× faster
            x_pad, y, gy = x_pad.swapaxes(0, 1), y.swapaxes(0, 1), gy.swapaxes(0, 1)
            swapped = True
        else:
            swapped = False
        disjoint = all(s >= d * (k - 1) + 1 for s, d, k in zip(stride, dilation, (kh, kw)))
        # windows that tile the padded image exactly write every pixel once: no zeros first
        tiled = (stride == (kh, kw) and dilation == (1, 1)
                 and x_pad.shape[2:] == (out_hw[0] * kh, out_hw[1] * kw))  # fmt: skip
        g_pad = (xp.empty if tiled else xp.zeros)(x_pad.shape, dtype=gy.dtype)
        # rest: the part of ∂L/∂y not yet given to an earlier maximum of its window; each
        # offset takes rest where it holds the maximum, and rest drops to 0 there
        rest = gy.copy()
        last = (kh - 1, kw - 1)
        # rest·hit is the fast way; where ∂L/∂y holds an inf or NaN (rare: one pass to know)
        # the selection of masking.py keeps it out of the pixels that are not its maximum
        finite = bool(xp.isfinite(gy).all())
        for u in range(kh):
            for v in range(kw):
                index = offset_slice(u, v, stride, dilation, out_hw)
                hit = x_pad[index] == y
                if disjoint and finite:  # windows do not overlap: one gradient per pixel
                    xp.multiply(rest, hit, out=g_pad[index])
                else:
                    taken = rest * hit if finite else keep_where(hit, rest)
                    if disjoint:
                        g_pad[index] = taken
                    else:
                        g_pad[index] += taken
                if (u, v) != last:
                    xp.logical_not(hit, out=hit)
                    if finite:
                        rest *= hit
                    else:
                        rest = keep_where(hit, rest)
        nan_y = xp.isnan(y)  # x == y misses NaN windows; they send ∂L/∂y to their last NaN
        if nan_y.any():
            nan_rest = keep_where(nan_y, gy)
            _last_nan_takes(xp, g_pad, x_pad, nan_rest, kh, kw, stride, dilation, out_hw)
        (pt, _), (pl, _) = pads
        h, w = x_shape[2:]
        gx = g_pad[:, :, pt : pt + h, pl : pl + w]
        if swapped:
            gx = gx.swapaxes(0, 1)
        return (gx[:, :, 0, :] if self.one_d else gx,)


def _last_nan_takes(xp, g_pad, x_pad, rest, kh, kw, stride, dilation, out_hw) -> None:
    """g_pad += ``rest`` at the last NaN of each window, in reverse scan order: torch's max
    kernels take ``val > max || isnan(val)``, so a window holding NaNs picks its last NaN."""
    for k in range(kh * kw - 1, -1, -1):
        index = offset_slice(k // kw, k % kw, stride, dilation, out_hw)
        hit = xp.isnan(x_pad[index])
        g_pad[index] += keep_where(hit, rest)
        rest = keep_where(~hit, rest)


def nan_wins(xp, best, y, offsets) -> None:
    """best ← the last offset k holding a NaN, in windows whose maximum y is NaN (torch's
    ``val > max || isnan(val)``); ``offsets`` yields (k, that offset's strided view)."""
    nan_y = xp.isnan(y)
    if nan_y.any():
        for k, part in offsets:
            best[nan_y & xp.isnan(part)] = k


def _avg_divisor(xp, size, kernel, stride, pad, out, count_include_pad):
    """|R_i| along one axis: window length clipped to the padded input, or to the input."""
    start = xp.arange(out) * stride - pad
    end = xp.minimum(start + kernel, size + pad)
    if count_include_pad:
        return end - start
    return xp.minimum(end, size) - xp.maximum(start, 0)


def refuse_small_integers(x, kernel: str) -> None:
    """torch's average pools have an integer kernel for int64 only: bool and the narrower
    integers are its NotImplementedError."""
    if x.dtype.kind == "b" or (x.dtype.kind in "iu" and x.dtype.itemsize != 8):
        raise not_implemented_for(kernel, x.dtype)


def truncated_quotient(xp, total, divisor):
    """total / divisor rounded toward 0 (C's integer division, torch's integer average)."""
    q = xp.abs(total) // xp.abs(divisor)
    return xp.where((total < 0) != (xp.asarray(divisor) < 0), -q, q)


_APART = "torch has no complex kernel for it: pool z.real and z.imag apart"


@half_in_float32
class AvgPool2d(Function):
    """y = window sum / |R_ij|; x (N, C, H, W) or (N, C, L) for the 1-D pool."""

    def forward(self, x, kernel_size, stride, padding=(0, 0), ceil_mode=False,
                count_include_pad=True, divisor_override=None):  # fmt: skip
        xp = get_array_module(x)
        self.one_d = x.ndim == 3
        if x.dtype.kind == "c":
            name = "avg_pool1d" if self.one_d else "avg_pool2d"
            refuse_complex(x, name, NotImplementedError, _APART)
        refuse_small_integers(x, "avg_pool2d")
        if self.one_d:
            x = x[:, :, None, :]
        out_hw, pads = _geometry(x, kernel_size, stride, padding, (1, 1), ceil_mode)
        x_pad = pad2d(x, pads)
        kh, kw = kernel_size
        y = None
        integer = x.dtype.kind in "iu"  # summed in int64, as torch's integer kernels
        for u in range(kh):
            for v in range(kw):
                part = x_pad[offset_slice(u, v, stride, (1, 1), out_hw)]
                if integer:
                    part = part.astype(xp.int64)
                # order "K": y keeps x's memory order (channels-last, or a conv's channel-major)
                y = part.copy(order="K") if y is None else y.__iadd__(part)
        if divisor_override == 0 and divisor_override is not None:  # (False is 0 as well)
            raise InputError("avg_pool: divisor_override must not be zero, got 0")
        if divisor_override:
            divisor = divisor_override
        else:
            h, w = x.shape[2:]
            dh = _avg_divisor(xp, h, kh, stride[0], padding[0], out_hw[0], count_include_pad)
            dw = _avg_divisor(xp, w, kw, stride[1], padding[1], out_hw[1], count_include_pad)
            divisor = dh[:, None] * dw[None, :]
        if integer:  # no gradient to keep: the sum over the divisor, truncated toward 0
            y = truncated_quotient(xp, y, divisor).astype(x.dtype)
            return y[:, :, 0, :] if self.one_d else y
        scale = xp.asarray(1.0 / divisor, dtype=x.dtype)
        y *= scale
        self.scale = scale
        self.geometry = (x.shape, x_pad.shape, kernel_size, stride, pads, out_hw)
        return y[:, :, 0, :] if self.one_d else y

    def backward(self, gy):
        xp = get_array_module(gy)
        x_shape, pad_shape, (kh, kw), stride, pads, out_hw = self.geometry
        if self.one_d:
            gy = gy[:, :, None, :]
        g = gy * self.scale
        g_pad = zeros_nchw(xp, pad_shape, gy.dtype, channel_major(gy))
        add_windows(g_pad, lambda u, v: g, (kh, kw), stride, (1, 1), out_hw)
        (pt, _), (pl, _) = pads
        h, w = x_shape[2:]
        gx = g_pad[:, :, pt : pt + h, pl : pl + w]
        return (gx[:, :, 0, :] if self.one_d else gx,)
