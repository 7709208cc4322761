"""Max pooling that also returns where each maximum came from, and its inverse, unpooling.

    y[n, c, i, j] = max_{u,v} x̃[n, c, s·i + d·u, s·j + d·v]
    (u*, v*)      = the first maximal offset in scan order (torch's choice for ties), or
                    the last NaN's where the window holds NaNs (torch's kernel too)
    I[n, c, i, j] = (s·i + d·u* − p_top)·W + (s·j + d·v* − p_left)     flat index in x's plane

    unpool:  z[n, c, I[n, c, i, j]] = y[n, c, i, j],  zero elsewhere   (z viewed as (N, C, H·W))

The indices are the "switches" of Zeiler & Fergus 2014: unpooling puts each maximum back
where it was, the way their deconvnet projects a feature map back to pixel space. Both
backwards route gradients through the same indices: max pool's gradient is scattered onto
I (adding where overlapping windows share a maximum), unpool's is gathered from I.
"""

from __future__ import annotations

import math

from ..backend import get_array_module, scatter_add
from ..errors import InputError
from ..function import Function
from .complex_refuse import refuse_complex
from .im2col import offset_slice, pad2d
from .pool import _geometry, nan_wins


def _plane_offsets(xp, n: int, c: int, plane: int):
    """(n·C + c)·plane for every (n, c): turns per-plane indices into indices of the flat array."""
    return (xp.arange(n * c, dtype=xp.int64) * plane).reshape(n, c, 1, 1)


class MaxPool2dWithIndices(Function):
    """(y, I) as above; x (N, C, H, W) or (N, C, L) for the 1-D pool (then I indexes L)."""

    multi_output = True

    def forward(self, x, kernel_size, stride, padding=(0, 0), dilation=(1, 1), ceil_mode=False):
        xp = get_array_module(x)
        self.one_d = x.ndim == 3
        refuse_complex(x, "max_pool1d" if self.one_d else "max_pool2d", NotImplementedError)
        if self.one_d:
            x = x[:, :, None, :]
        n, c, h, w = x.shape
        (ho, wo), pads = _geometry(x, kernel_size, stride, padding, dilation, ceil_mode)
        x_pad = pad2d(x, pads, value=-xp.inf)
        kh, kw = kernel_size
        y = best = None
        for k in range(kh * kw):
            part = x_pad[offset_slice(k // kw, k % kw, stride, dilation, (ho, wo))]
            if y is None:
                y, best = part.copy(), xp.zeros(part.shape, dtype=xp.int64)
                continue
            better = part > y  # strictly: an equal later value keeps the earlier offset
            xp.maximum(y, part, out=y)
            best += better * (k - best)  # best ← k where better (arithmetic, no masked store)
        offsets = range(kh * kw)
        views = (x_pad[offset_slice(k // kw, k % kw, stride, dilation, (ho, wo))] for k in offsets)
        nan_wins(xp, best, y, zip(offsets, views))
        (s_h, s_w), (d_h, d_w) = stride, dilation
        row = s_h * xp.arange(ho).reshape(ho, 1) + d_h * (best // kw) - pads[0][0]
        col = s_w * xp.arange(wo).reshape(1, wo) + d_w * (best % kw) - pads[1][0]
        index = row * w + col
        self.flat_index = index + _plane_offsets(xp, n, c, h * w)
        self.x_shape = x.shape
        if self.one_d:
            return y[:, :, 0, :], index[:, :, 0, :]
        return y, index

    def backward(self, gy, g_index):
        xp = get_array_module(gy)
        if self.one_d:
            gy = gy[:, :, None, :]
        gx = xp.zeros(math.prod(self.x_shape), dtype=gy.dtype)
        scatter_add(gx, self.flat_index.reshape(-1), gy.reshape(-1))
        gx = gx.reshape(self.x_shape)
        return (gx[:, :, 0, :] if self.one_d else gx,)


class MaxUnpool2d(Function):
    """z (N, C, *out_size) zero but for z[n, c, I] = y; y and I (N, C, ...) of one shape."""

    def forward(self, y, index, out_size):
        xp = get_array_module(y)
        n, c = y.shape[:2]
        plane = math.prod(out_size)
        if index.size and (int(index.min()) < 0 or int(index.max()) >= plane):  # RuntimeError
            raise InputError(
                f"max_unpool: indices must lie in [0, {plane}) for an output of spatial size"
                f" {tuple(out_size)}, got values from {int(index.min())} to {int(index.max())}"
            )
        offsets = _plane_offsets(xp, n, c, plane).reshape(n, c, 1)
        self.flat_index = (index.reshape(n, c, -1) + offsets).reshape(-1)
        self.y_shape = y.shape
        z = xp.zeros(n * c * plane, dtype=y.dtype)
        z[self.flat_index] = y.reshape(-1)
        return z.reshape((n, c) + tuple(out_size))

    def backward(self, gz):
        return gz.reshape(-1)[self.flat_index].reshape(self.y_shape), None
