"""Convolution as one GEMM over im2col columns, with a hand-written backward.

    y[n, o, i, j] = b[o] + Σ_{c, u, v} W[o, c, u, v] · x̃[n, g·C_g + c, s·i + d·u, s·j + d·v]

x̃ is x zero-padded, s the stride, d the dilation, g = o // O_g the group of output
channel o (C_g = C / groups input channels and O_g = O / groups output channels per
group). With the columns

    X_col[(c, u, v), (n, i, j)] = x̃[n, c, s·i + d·u, s·j + d·v]     (C·kh·kw, N·Ho·Wo)

the convolution is one matrix product per group, Y = W_mat · X_col + b, and its
gradients are two more:

    ∂L/∂W = ∂L/∂Y · X_colᵀ        ∂L/∂b = Σ_{n,i,j} ∂L/∂Y        ∂L/∂X_col = W_matᵀ · ∂L/∂Y

and ∂L/∂x̃ scatters ∂L/∂X_col back over the kh·kw kernel offsets (col2im: one strided
add per offset, never a loop over pixels, channels or the batch).

The column matrix is channel-first-then-batch, (C·kh·kw, N·Ho·Wo): it is read
straight out of the padded input through one strided view and copied once, and the
product comes out as (O, N, Ho, Wo). The output is returned as the (N, O, Ho, Wo)
transpose of that array without copying; elementwise ops downstream keep that
memory order, so the next convolution reads channel-major memory again
(PERFORMANCE.md: "channel-first-then-batch column matrices").

1-D convolution is the 2-D one on a height-1 image. LeCun et al. 1998 (LeNet);
Chellapilla et al. 2006 (convolution as unrolled matrix products).
"""

from __future__ import annotations

from ..backend import get_array_module, strided_view
from ..function import Function


def out_size(size: int, kernel: int, stride: int, pad_total: int, dilation: int) -> int:
    """⌊(size + padding − d·(k − 1) − 1) / s⌋ + 1: the number of window positions."""
    return (size + pad_total - dilation * (kernel - 1) - 1) // stride + 1


def channel_major(x) -> bool:
    """True when x (N, C, ...) lies in memory as (C, N, ...): the layout conv outputs."""
    return x.shape[0] > 1 and x.shape[1] > 1 and x.strides[1] > x.strides[0]


def zeros_nchw(xp, shape, dtype, like_channel_major: bool):
    """Zeros of logical shape (N, C, H, W), laid out channel-major when asked."""
    if like_channel_major:
        n, c = shape[:2]
        return xp.zeros((c, n) + tuple(shape[2:]), dtype=dtype).swapaxes(0, 1)
    return xp.zeros(shape, dtype=dtype)


def pad2d(x, padding, value=0.0):
    """x (N, C, H, W) padded by ((top, bottom), (left, right)), keeping its memory order."""
    (pt, pb), (pl, pr) = padding
    if not (pt or pb or pl or pr):
        return x
    xp = get_array_module(x)
    n, c, h, w = x.shape
    out = zeros_nchw(xp, (n, c, h + pt + pb, w + pl + pr), x.dtype, channel_major(x))
    if value != 0.0:
        out[...] = value
    out[:, :, pt : pt + h, pl : pl + w] = x
    return out


def windows(xpad, kernel, stride, dilation, out_hw, order: str):
    """The sliding windows of xpad (N, C, Hp, Wp) as a strided view, no copy.

    order "cuvnij" → (C, kh, kw, N, Ho, Wo): the im2col column layout.
    order "ncijuv" → (N, C, Ho, Wo, kh, kw): one window per output pixel (pooling).
    """
    sn, sc, sh, sw = xpad.strides
    n, c = xpad.shape[:2]
    (kh, kw), (s_h, s_w), (d_h, d_w), (ho, wo) = kernel, stride, dilation, out_hw
    if order == "cuvnij":
        shape = (c, kh, kw, n, ho, wo)
        strides = (sc, d_h * sh, d_w * sw, sn, s_h * sh, s_w * sw)
    else:
        shape = (n, c, ho, wo, kh, kw)
        strides = (sn, sc, s_h * sh, s_w * sw, d_h * sh, d_w * sw)
    return strided_view(xpad, shape, strides)


def offset_slice(u: int, v: int, stride, dilation, out_hw):
    """Index of the pixels that kernel offset (u, v) reads for every output position."""
    (s_h, s_w), (d_h, d_w), (ho, wo) = stride, dilation, out_hw
    return (
        slice(None),
        slice(None),
        slice(d_h * u, d_h * u + s_h * (ho - 1) + 1, s_h),
        slice(d_w * v, d_w * v + s_w * (wo - 1) + 1, s_w),
    )


def conv_columns_gemm(x, weight, stride, padding, dilation, groups):
    """Y = W_mat · X_col for x (N, C, H, W): returns Y as (O, N, Ho, Wo) and X_col."""
    xp = get_array_module(x)
    n, c, h, w = x.shape
    o, c_g, kh, kw = weight.shape
    (pt, pb), (pl, pr) = padding
    ho = out_size(h, kh, stride[0], pt + pb, dilation[0])
    wo = out_size(w, kw, stride[1], pl + pr, dilation[1])
    if ho < 1 or wo < 1:
        raise ValueError(
            f"conv: input of spatial size {(h, w)} padded by {padding} is smaller than the"
            f" dilated kernel {(dilation[0] * (kh - 1) + 1, dilation[1] * (kw - 1) + 1)}"
        )
    xpad = pad2d(x, padding)
    k = c_g * kh * kw
    cols = xp.ascontiguousarray(windows(xpad, (kh, kw), stride, dilation, (ho, wo), "cuvnij"))
    cols = cols.reshape(groups, k, n * ho * wo)
    y = xp.matmul(weight.reshape(groups, o // groups, k), cols)  # (groups, O_g, N·Ho·Wo)
    return y.reshape(o, n, ho, wo), cols


class Conv2d(Function):
    """Y = W_mat · X_col + b per group; x (N, C, H, W) or (N, C, L), W (O, C/groups, kh, kw).

    Constants: stride (sh, sw), padding ((top, bottom), (left, right)), dilation (dh, dw),
    groups. A 3-D x with a 3-D W is the 1-D convolution.

    With stride 1, ∂L/∂x is itself a convolution: of ∂L/∂y, padded by d·(k − 1) − p, with
    the kernel flipped and its in/out channels swapped. That reuses the forward's im2col +
    GEMM and is faster than W_matᵀ · ∂L/∂Y followed by col2im (one large product and
    kh·kw strided adds less); other strides take the col2im path.
    """

    def forward(self, x, weight, bias=None, stride=(1, 1), padding=((0, 0), (0, 0)),
                dilation=(1, 1), groups=1):  # fmt: skip
        self.one_d = x.ndim == 3
        if self.one_d:
            x, weight = x[:, :, None, :], weight[:, :, None, :]
        y, cols = conv_columns_gemm(x, weight, stride, padding, dilation, groups)
        if bias is not None:
            y += bias.reshape(-1, 1, 1, 1)
        self.cols = cols if self.needs_input_grad[1] else None
        self.weight = weight
        self.geometry = (x.shape, stride, padding, dilation, groups, y.shape[2:])
        y = y.swapaxes(0, 1)  # (N, O, Ho, Wo), memory still (O, N, Ho, Wo)
        return y[:, :, 0, :] if self.one_d else y

    def backward(self, gy):
        xp = get_array_module(gy)
        x_shape, stride, padding, dilation, groups, out_hw = self.geometry
        if self.one_d:
            gy = gy[:, :, None, :]
        n, o = gy.shape[:2]
        weight = self.weight
        kernel = weight.shape[2:]
        # (O, N, Ho, Wo) in memory: free when gy kept the layout this op produced
        gy_mat = xp.ascontiguousarray(gy.swapaxes(0, 1)).reshape(groups, o // groups, -1)
        need_x, need_w = self.needs_input_grad[:2]
        need_b = len(self.needs_input_grad) > 2 and self.needs_input_grad[2]
        gx = gw = gb = None
        if need_w:
            gw = xp.matmul(gy_mat, self.cols.swapaxes(1, 2))  # (groups, O_g, C_g·kh·kw)
            gw = gw.reshape(weight.shape)
            if self.one_d:
                gw = gw[:, :, 0, :]
        if need_b:
            gb = gy_mat.reshape(o, -1).sum(axis=1)
        if need_x:
            gx = self._grad_input(xp, gy, gy_mat, x_shape, kernel, stride, padding, dilation,
                                  groups, out_hw)  # fmt: skip
            if self.one_d:
                gx = gx[:, :, 0, :]
        return (gx, gw, gb) if len(self.needs_input_grad) > 2 else (gx, gw)

    def _grad_input(self, xp, gy, gy_mat, x_shape, kernel, stride, padding, dilation, groups,
                    out_hw):  # fmt: skip
        weight = self.weight
        o, c_g, kh, kw = weight.shape
        n, c, h, w = x_shape
        reach = [d * (k - 1) for d, k in zip(dilation, kernel)]
        full = [(r - a, r - b) for r, (a, b) in zip(reach, padding)]
        if stride == (1, 1) and all(a >= 0 and b >= 0 for a, b in full):
            # W'[c, o] = W[o, c] flipped in u and v, within each group
            w_flip = weight.reshape(groups, o // groups, c_g, kh, kw).swapaxes(1, 2)
            w_flip = xp.ascontiguousarray(w_flip[..., ::-1, ::-1]).reshape(c, o // groups, kh, kw)
            gx, _ = conv_columns_gemm(gy, w_flip, (1, 1), tuple(full), dilation, groups)
            return gx.swapaxes(0, 1)
        g_cols = xp.matmul(weight.reshape(groups, o // groups, -1).swapaxes(1, 2), gy_mat)
        g_cols = g_cols.reshape(c, kh, kw, n, *out_hw)
        # col2im: ∂L/∂x̃ accumulates every offset's columns; memory (C, N, Hp, Wp)
        (pt, pb), (pl, pr) = padding
        gxpad = xp.zeros((c, n, h + pt + pb, w + pl + pr), dtype=gy.dtype)
        for u in range(kh):
            for v in range(kw):
                gxpad[offset_slice(u, v, stride, dilation, out_hw)] += g_cols[:, u, v]
        return gxpad[:, :, pt : pt + h, pl : pl + w].swapaxes(0, 1)
