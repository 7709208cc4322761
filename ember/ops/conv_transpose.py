"""Transposed convolution: the gradient of a convolution with respect to its input.

    y[n, o, i, j] = b[o] + Σ_{c, u, v} x[n, c, p, q] · W[c, o', u, v]
                    over s·p + d·u − pad = i  and  s·q + d·v − pad = j

with o = g·O_g + o' for the group g = c // C_g of input channel c (C_g = C / groups input
and O_g = O / groups output channels per group). Each input pixel x[n, c, p, q] stamps
its kernel W[c, :, u, v], scaled, onto the output at s·p + d·u, s·q + d·v; the first
``pad`` rows and columns of that canvas are cropped, and ``output_padding`` more rows and
columns are kept at the far end. Shapes: x (N, C, H, W), W (C, O/groups, kh, kw),

    H_out = (H − 1)·s − 2·pad + d·(kh − 1) + output_padding + 1     (W_out alike)

With the weight as W_mat[g] (C_g, O_g·kh·kw) and the input as X_mat[g] (C_g, N·H·W), the
stamps are one GEMM per group and one strided add per kernel offset (col2im), exactly
how a convolution computes its input gradient:

    Y_col = W_matᵀ · X_mat          y = col2im(Y_col)[pad : pad + H_out, …] + b

Backward is the convolution itself: ∂L/∂x = conv2d(∂L/∂y, W) with the same stride,
padding and dilation (im2col + GEMM, ``conv_columns_gemm``), whose column matrix
G_col (O_g·kh·kw, N·H·W) also gives ∂L/∂W[g] = X_mat[g] · G_col[g]ᵀ (the convolution's
weight gradient with the roles of x and y swapped), and ∂L/∂b = Σ_{n,i,j} ∂L/∂y.

1-D is the 2-D op on a height-1 image. Dumoulin & Visin 2016 (a guide to convolution
arithmetic); Zeiler et al. 2010 (deconvolutional networks).
"""

from __future__ import annotations

from ..backend import get_array_module
from ..errors import InputError
from ..function import Function
from .im2col import add_windows, conv_columns_gemm


def transposed_out_size(size: int, kernel: int, stride: int, padding: int, dilation: int,
                        output_padding: int) -> int:  # fmt: skip
    """(H − 1)·s − 2·pad + d·(k − 1) + output_padding + 1."""
    return (size - 1) * stride - 2 * padding + dilation * (kernel - 1) + output_padding + 1


def check_output_padding(output_padding, stride, dilation) -> None:
    """torch's rule: each output_padding must be smaller than its stride or its dilation."""
    for op, s, d in zip(output_padding, stride, dilation):
        if op < 0 or not (op < s or op < d):  # torch: RuntimeError
            raise InputError(
                f"output_padding {tuple(output_padding)} must be non-negative and smaller than"
                f" either stride {tuple(stride)} or dilation {tuple(dilation)}"
            )


class ConvTranspose2d(Function):
    """y = conv_transpose(x, W) + b; x (N, C, H, W) or (N, C, L), W (C, O/groups, kh, kw).

    Constants: stride (sh, sw), padding (ph, pw), output_padding (oph, opw), dilation
    (dh, dw), groups. A 3-D x with a 3-D W is the 1-D transposed convolution.
    """

    def forward(self, x, weight, bias=None, stride=(1, 1), padding=(0, 0),
                output_padding=(0, 0), dilation=(1, 1), groups=1):  # fmt: skip
        xp = get_array_module(x)
        self.one_d = x.ndim == 3
        if self.one_d:
            x, weight = x[:, :, None, :], weight[:, :, None, :]
        n, c, h, w = x.shape
        _, o_g, kh, kw = weight.shape
        c_g, o = c // groups, o_g * groups
        out_hw = tuple(
            transposed_out_size(*a)
            for a in zip((h, w), (kh, kw), stride, padding, dilation, output_padding)
        )
        if min(out_hw) < 1:
            raise InputError(
                f"conv_transpose: input of spatial size {(h, w)} with kernel {(kh, kw)},"
                f" stride {stride}, padding {padding} gives output size {out_hw}"
            )
        # the canvas every stamp lands on, (H − 1)·s + d·(k − 1) + 1 rows, plus room for
        # output_padding rows past its end (they receive no stamp, only the bias)
        canvas = tuple(
            (a - 1) * s + d * (k - 1) + 1 for a, s, d, k in zip((h, w), stride, dilation, (kh, kw))
        )
        room = tuple(max(cv, p + oa) for cv, p, oa in zip(canvas, padding, out_hw))
        X_mat = xp.ascontiguousarray(x.swapaxes(0, 1)).reshape(groups, c_g, n * h * w)
        W_mat = weight.reshape(groups, c_g, o_g * kh * kw)
        Y_col = xp.matmul(W_mat.swapaxes(1, 2), X_mat)  # (groups, O_g·kh·kw, N·H·W)
        Y_col = Y_col.reshape(o, kh, kw, n, h, w)
        # col2im: one strided add per kernel offset; memory (O, N, Hc, Wc)
        y_canvas = add_windows(
            xp.zeros((o, n) + room, dtype=x.dtype),
            lambda u, v: Y_col[:, u, v],
            (kh, kw),
            stride,
            dilation,
            (h, w),
        )
        (ph, pw), (ho, wo) = padding, out_hw
        y = y_canvas[:, :, ph : ph + ho, pw : pw + wo]
        if bias is not None:
            y += bias.reshape(-1, 1, 1, 1)
        self.X_mat = X_mat if self.needs_input_grad[1] else None
        self.weight = weight
        self.geometry = (x.shape, stride, padding, dilation, groups, out_hw, canvas)
        y = y.swapaxes(0, 1)  # (N, O, Ho, Wo), memory (O, N, Hc, Wc)
        return y[:, :, 0, :] if self.one_d else y

    def backward(self, gy):
        xp = get_array_module(gy)
        if self.one_d:
            gy = gy[:, :, None, :]
        (n, c, h, w), stride, padding, dilation, groups, out_hw, canvas = self.geometry
        weight = self.weight
        _, o_g, kh, kw = weight.shape
        c_g = c // groups
        need_x, need_w = self.needs_input_grad[:2]
        need_b = len(self.needs_input_grad) > 2 and self.needs_input_grad[2]
        gx = gw = gb = None
        if need_x or need_w:
            # ∂L/∂x = conv2d(∂L/∂y, W): W (C, O_g, kh, kw) is a conv weight from O to C channels
            g_in, conv_pad = _onto_canvas(xp, gy, padding, out_hw, canvas)
            gx_full, G_col, wc = conv_columns_gemm(g_in, weight, stride, conv_pad, dilation,
                                                   groups)  # fmt: skip
            if need_x:
                gx = gx_full[..., :w].swapaxes(0, 1)  # (N, C, H, W), memory (C, N, H, Wc)
                if self.one_d:
                    gx = gx[:, :, 0, :]
            if need_w:
                X_mat = self.X_mat
                if wc != w:  # G_col holds Wc ≥ W columns per row; x is zero past W
                    X_pad = xp.zeros((c, n, h, wc), dtype=X_mat.dtype)
                    X_pad[..., :w] = X_mat.reshape(c, n, h, w)
                    X_mat = X_pad.reshape(groups, c_g, -1)
                # ∂L/∂W[g] = X_mat[g] · G_col[g]ᵀ  (C_g, O_g·kh·kw)
                gw = xp.matmul(X_mat, G_col.swapaxes(1, 2)).reshape(weight.shape)
                if self.one_d:
                    gw = gw[:, :, 0, :]
        if need_b:
            gb = gy.sum(axis=(0, 2, 3))
        return (gx, gw, gb) if len(self.needs_input_grad) > 2 else (gx, gw)


def _onto_canvas(xp, gy, padding, out_hw, canvas):
    """∂L/∂y placed on the stamp canvas, as (array, conv padding) for conv_columns_gemm.

    Output pixel i sits at canvas row pad + i; rows past the canvas (output_padding) got no
    stamp and are dropped, the pad rows cropped in forward come back as zero padding. Then
    the convolution over the canvas has exactly H × W window positions.
    """
    if all(p <= cv for p, cv in zip(padding, canvas)):
        rows = [min(oa, cv - p) for p, cv, oa in zip(padding, canvas, out_hw)]
        g = gy[:, :, : rows[0], : rows[1]]
        return g, tuple((p, cv - p - r) for p, cv, r in zip(padding, canvas, rows))
    # a padding beyond the whole canvas: every output pixel is output_padding
    return xp.zeros(gy.shape[:2] + tuple(canvas), dtype=gy.dtype), ((0, 0), (0, 0))
