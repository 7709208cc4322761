"""3-D max and average pooling over sliding windows, with hand-written backward.

    max pool:  y[n, c, t, i, j] = max_{a,u,v} x̃[n, c, s_d·t + d_d·a, s_h·i + d_h·u, s_w·j + d_w·v]
    avg pool:  y[n, c, t, i, j] = (1/|R_tij|) · Σ_{a,u,v} x̃[n, c, s_d·t + a, s_h·i + u, s_w·j + v]

x̃ is x padded by −∞ (max) or 0 (average). |R| is the window's volume clipped to the padded
input (count_include_pad) or to the input, as torch computes it; divisor_override replaces
it. The max's gradient goes to the first maximal offset of each window in (a, u, v) scan
order, as torch's CPU kernel (``val > maxval``: a later equal value does not win). Every
loop runs over the kd·kh·kw kernel offsets, one strided view or add each.

ceil_mode lets the last window hang over the far border; like torch, a window must still
start inside the input or the near padding.
"""

from __future__ import annotations

from ..backend import get_array_module
from ..errors import InputError
from ..function import Function
from .complex_refuse import refuse_complex
from .conv3d import crop, kernel_offsets, offset_slice3d, pad3d
from .pool import (
    _avg_divisor,
    nan_wins,
    pool_out_size,
    refuse_small_integers,
    truncated_quotient,
)


def pool3d_geometry(x_shape, kernel, stride, padding, dilation, ceil_mode):
    """(Do, Ho, Wo) and the padding ((before, after) per dim) that ceil_mode may widen."""
    outs, pads = [], []
    for n, k, s, p, d in zip(x_shape[2:], kernel, stride, padding, dilation):
        o, extra = pool_out_size(n, k, s, p, d, ceil_mode)
        outs.append(o)
        pads.append((p, p + extra))
    return tuple(outs), tuple(pads)


class MaxPool3d(Function):
    """y = max over each window; x (N, C, D, H, W).

    Forward: a running ``maximum`` over the kd·kh·kw strided views, remembering the first
    offset that reached it (``best``). Backward: offset k's voxels receive ∂L/∂y where
    best = k.
    """

    def forward(self, x, kernel_size, stride, padding=(0, 0, 0), dilation=(1, 1, 1),
                ceil_mode=False):  # fmt: skip
        refuse_complex(x, "max_pool3d", NotImplementedError)
        xp = get_array_module(x)
        out_dhw, pads = pool3d_geometry(x.shape, kernel_size, stride, padding, dilation,
                                        ceil_mode)  # fmt: skip
        x_pad = pad3d(x, pads, value=-xp.inf)
        y = best = None
        for k, offset in enumerate(kernel_offsets(kernel_size)):
            part = x_pad[offset_slice3d(offset, stride, dilation, out_dhw)]
            if y is None:
                y, best = part.copy(), xp.zeros(part.shape, dtype=xp.int64)
                continue
            better = part > y  # strictly: an equal later value keeps the earlier offset
            xp.maximum(y, part, out=y)
            best += better * (k - best)
        views = (
            x_pad[offset_slice3d(offset, stride, dilation, out_dhw)]
            for offset in kernel_offsets(kernel_size)
        )
        nan_wins(xp, best, y, enumerate(views))
        self.best = best
        self.geometry = (x.shape, x_pad.shape, kernel_size, stride, pads, dilation, out_dhw)
        return y

    def backward(self, gy):
        xp = get_array_module(gy)
        x_shape, pad_shape, kernel, stride, pads, dilation, out_dhw = self.geometry
        g_pad = xp.zeros(pad_shape, dtype=gy.dtype)
        for k, offset in enumerate(kernel_offsets(kernel)):
            g_pad[offset_slice3d(offset, stride, dilation, out_dhw)] += gy * (self.best == k)
        return (g_pad[(slice(None), slice(None)) + crop(pads, x_shape[2:])],)

    def flat_index(self, xp):
        """Index of each maximum in its input volume, t·H·W + i·W + j (torch's indices)."""
        x_shape, _, kernel, stride, pads, dilation, out_dhw = self.geometry
        _, kh, kw = kernel
        a, u, v = self.best // (kh * kw), (self.best // kw) % kh, self.best % kw
        index = 0
        for axis, off in enumerate((a, u, v)):
            shape = [1, 1, 1]
            shape[axis] = out_dhw[axis]
            start = stride[axis] * xp.arange(out_dhw[axis]).reshape(shape) - pads[axis][0]
            index = index * x_shape[2 + axis] + start + dilation[axis] * off
        return index


class MaxPool3dWithIndices(MaxPool3d):
    """(y, I): the pool and the flat index of each maximum in its (D, H, W) volume."""

    multi_output = True

    def forward(self, x, **constants):
        y = super().forward(x, **constants)
        return y, self.flat_index(get_array_module(x))

    def backward(self, gy, g_index=None):
        return super().backward(gy)


class AvgPool3d(Function):
    """y = window sum / |R_tij|; x (N, C, D, H, W)."""

    def forward(self, x, kernel_size, stride, padding=(0, 0, 0), ceil_mode=False,
                count_include_pad=True, divisor_override=None):  # fmt: skip
        xp = get_array_module(x)
        refuse_small_integers(x, "avg_pool3d_out_frame")
        out_dhw, pads = pool3d_geometry(x.shape, kernel_size, stride, padding, (1, 1, 1),
                                        ceil_mode)  # fmt: skip
        x_pad = pad3d(x, pads)
        y = None
        integer = x.dtype.kind in "iu"  # summed in int64, as torch's integer kernels
        for offset in kernel_offsets(kernel_size):
            part = x_pad[offset_slice3d(offset, stride, (1, 1, 1), out_dhw)]
            if integer:
                part = part.astype(xp.int64)
            y = part.copy() if y is None else y.__iadd__(part)
        if divisor_override == 0 and divisor_override is not None:  # (False is 0 as well)
            raise InputError("avg_pool3d: divisor_override must not be zero, got 0")
        if divisor_override:
            divisor = divisor_override
        else:
            dd, dh, dw = (
                _avg_divisor(xp, n, k, s, p, o, count_include_pad)
                for n, k, s, p, o in zip(x.shape[2:], kernel_size, stride, padding, out_dhw)
            )
            divisor = dd[:, None, None] * dh[None, :, None] * dw[None, None, :]
        if integer:  # no gradient to keep: the sum over the divisor, truncated toward 0
            return truncated_quotient(xp, y, divisor).astype(x.dtype)
        scale = xp.asarray(1.0 / divisor, dtype=x.dtype)
        y *= scale
        self.scale = scale
        self.geometry = (x.shape, x_pad.shape, kernel_size, stride, pads, out_dhw)
        return y

    def backward(self, gy):
        xp = get_array_module(gy)
        x_shape, pad_shape, kernel, stride, pads, out_dhw = self.geometry
        g = gy * self.scale
        g_pad = xp.zeros(pad_shape, dtype=gy.dtype)
        for offset in kernel_offsets(kernel):
            g_pad[offset_slice3d(offset, stride, (1, 1, 1), out_dhw)] += g
        return (g_pad[(slice(None), slice(None)) + crop(pads, x_shape[2:])],)
