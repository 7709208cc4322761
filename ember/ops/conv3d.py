"""3-D (volumetric) convolution as one GEMM per group over im2col columns.

    y[n, o, t, i, j] = b[o] + Σ_{c, a, u, v} W[o, c, a, u, v]
                                · x̃[n, g·C_g + c, s_d·t + d_d·a, s_h·i + d_h·u, s_w·j + d_w·v]

x̃ is x zero-padded, s the stride, d the dilation, g = o // O_g the group of output
channel o. With the columns

    X_col[(c, a, u, v), (n, t, i, j)] = x̃[n, c, s_d·t + d_d·a, s_h·i + d_h·u, s_w·j + d_w·v]

(C·kd·kh·kw rows, N·Do·Ho·Wo columns) the convolution is Y = W_mat · X_col + b per group,
and its gradients are

    ∂L/∂W = ∂L/∂Y · X_colᵀ        ∂L/∂b = Σ_{n,t,i,j} ∂L/∂Y        ∂L/∂X_col = W_matᵀ · ∂L/∂Y

with ∂L/∂x̃ the col2im scatter of ∂L/∂X_col: one strided add per kernel offset (a, u, v),
never a loop over voxels, channels or the batch. The columns are read out of the padded
input through one strided view (channel-first-then-batch, as ops/conv.py) and copied once.
Video: Tran et al. 2015 (C3D); medical volumes: Çiçek et al. 2016 (3-D U-Net).
"""

from __future__ import annotations

from ..backend import get_array_module, strided_view
from ..errors import InputError
from ..function import Function
from .im2col import out_size


def pad3d(x, padding, value=0.0):
    """x (N, C, D, H, W) padded by ((front, back), (top, bottom), (left, right))."""
    if not any(a or b for a, b in padding):
        return x
    xp = get_array_module(x)
    shape = x.shape[:2] + tuple(s + a + b for s, (a, b) in zip(x.shape[2:], padding))
    out = xp.full(shape, value, dtype=x.dtype)
    out[(slice(None), slice(None)) + crop(padding, x.shape[2:])] = x
    return out


def crop(padding, size):
    """The slices of the padded volume that hold the input of spatial ``size``."""
    return tuple(slice(a, a + n) for (a, _), n in zip(padding, size))


def offset_slice3d(offset, stride, dilation, out_dhw):
    """Index of the voxels kernel offset (a, u, v) reads for every output position, over
    (N, C, Dp, Hp, Wp) or (C, N, Dp, Hp, Wp)."""
    return (slice(None), slice(None)) + tuple(
        slice(d * k, d * k + s * (o - 1) + 1, s)
        for k, s, d, o in zip(offset, stride, dilation, out_dhw)
    )


def kernel_offsets(kernel):
    """Every (a, u, v) with a < kd, u < kh, v < kw, in scan order (the torch tie order)."""
    kd, kh, kw = kernel
    return [(a, u, v) for a in range(kd) for u in range(kh) for v in range(kw)]


def columns(xpad, kernel, stride, dilation, out_dhw):
    """X_col of xpad (N, C, Dp, Hp, Wp) as a strided view (C, kd, kh, kw, N, Do, Ho, Wo)."""
    sn, sc, sd, sh, sw = xpad.strides
    n, c = xpad.shape[:2]
    shape = (c,) + tuple(kernel) + (n,) + tuple(out_dhw)
    strides = (sc, dilation[0] * sd, dilation[1] * sh, dilation[2] * sw, sn,
               stride[0] * sd, stride[1] * sh, stride[2] * sw)  # fmt: skip
    return strided_view(xpad, shape, strides)


def conv3d_geometry(x_shape, w_shape, stride, padding, dilation):
    """(Do, Ho, Wo), or a ValueError when the padded input is smaller than the kernel."""
    out = tuple(
        out_size(n, k, s, a + b, d)
        for n, k, s, (a, b), d in zip(x_shape[2:], w_shape[2:], stride, padding, dilation)
    )
    if min(out) < 1:
        reach = tuple(d * (k - 1) + 1 for k, d in zip(w_shape[2:], dilation))
        raise InputError(  # torch: RuntimeError
            f"conv3d: input of spatial size {tuple(x_shape[2:])} padded by {padding} is"
            f" smaller than the dilated kernel {reach}"
        )
    return out


class Conv3d(Function):
    """y = conv(x, W) + b; x (N, C, D, H, W), W (O, C/groups, kd, kh, kw), b (O,) or None.

    Constants: stride (s_d, s_h, s_w), padding ((front, back), (top, bottom), (left,
    right)), dilation (d_d, d_h, d_w), groups.
    """

    def forward(self, x, weight, bias=None, stride=(1, 1, 1),
                padding=((0, 0), (0, 0), (0, 0)), dilation=(1, 1, 1), groups=1):  # fmt: skip
        xp = get_array_module(x)
        n = x.shape[0]
        o, c_g = weight.shape[:2]
        kernel = weight.shape[2:]
        out_dhw = conv3d_geometry(x.shape, weight.shape, stride, padding, dilation)
        xpad = pad3d(x, padding)
        k = c_g * kernel[0] * kernel[1] * kernel[2]
        X_col = xp.ascontiguousarray(columns(xpad, kernel, stride, dilation, out_dhw))
        X_col = X_col.reshape(groups, k, -1)  # (groups, C_g·kd·kh·kw, N·Do·Ho·Wo)
        W_mat = weight.reshape(groups, o // groups, k)
        Y = xp.matmul(W_mat, X_col).reshape((o, n) + out_dhw)  # (O, N, Do, Ho, Wo)
        if bias is not None:
            Y += bias.reshape(-1, 1, 1, 1, 1)
        self.X_col = X_col if self.needs_input_grad[1] else None
        self.weight = weight
        self.geometry = (x.shape, xpad.shape, stride, padding, dilation, groups, out_dhw)
        return Y.swapaxes(0, 1)  # (N, O, Do, Ho, Wo), memory still (O, N, ...)

    def backward(self, gy):
        xp = get_array_module(gy)
        x_shape, pad_shape, stride, padding, dilation, groups, out_dhw = self.geometry
        weight = self.weight
        o, c_g = weight.shape[:2]
        kernel = weight.shape[2:]
        need = self.needs_input_grad
        gY = xp.ascontiguousarray(gy.swapaxes(0, 1)).reshape(groups, o // groups, -1)
        gx = gw = gb = None
        if need[1]:
            gw = xp.matmul(gY, self.X_col.swapaxes(1, 2)).reshape(weight.shape)
        if len(need) > 2 and need[2]:
            gb = gY.reshape(o, -1).sum(axis=1)
        if need[0]:
            n, c = x_shape[:2]
            W_mat = weight.reshape(groups, o // groups, -1)
            g_col = xp.matmul(W_mat.swapaxes(1, 2), gY)  # (groups, C_g·kd·kh·kw, N·Do·Ho·Wo)
            g_col = g_col.reshape((c,) + tuple(kernel) + (n,) + tuple(out_dhw))
            # col2im: the windows of different offsets overlap, so the adds accumulate
            g_pad = xp.zeros((c, n) + tuple(pad_shape[2:]), dtype=gy.dtype)
            for a, u, v in kernel_offsets(kernel):
                g_pad[offset_slice3d((a, u, v), stride, dilation, out_dhw)] += g_col[:, a, u, v]
            gx = g_pad[(slice(None), slice(None)) + crop(padding, x_shape[2:])].swapaxes(0, 1)
        return (gx, gw, gb) if len(need) > 2 else (gx, gw)
