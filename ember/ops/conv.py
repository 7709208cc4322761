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
straight out of the padded input through one strided view and copied once (im2col.py), and
the product comes out as (O, N, Ho, Wo). The output is returned as the (N, O, Ho, Wo)
transpose of that array without copying; elementwise ops downstream keep that
memory order, so the next convolution reads channel-major memory again
(PERFORMANCE.md: "channel-first-then-batch column matrices").

Stride-1 convolutions with enough channels take another route to the same sum, kh·kw
shifted GEMMs on the flat padded input with no column matrix (conv_shift.py), and 3×3
pad-1 ones a third, Winograd's F(2×2, 3×3) (conv_winograd.py); skinny im2col products
(a few output channels, a short column, such as LeNet's first layer) run in blocks of
images whose columns stay in cache (conv_blocked.py). Conv2d picks per call
(``winograd_pays``, ``shifted_pays``, ``blocked_runs``).

1-D convolution is the 2-D one on a height-1 image. LeCun et al. 1998 (LeNet);
Chellapilla et al. 2006 (convolution as unrolled matrix products).
"""

from __future__ import annotations

from ..backend import get_array_module
from ..function import Function
from .conv_blocked import blocked_pays, conv_blocked, conv_blocked_grad_weight
from .conv_shift import conv_shifted, conv_shifted_backward, grid_geometry
from .conv_winograd import conv_winograd, conv_winograd_backward, winograd_fits
from .im2col import (
    _col2im_full_width,
    add_windows,
    check_geometry,
    column_windows,
    columns_gemm,
    conv_columns_gemm,
    out_size,
)

#: The algorithm Conv2d runs. "auto" picks per call with ``winograd_pays``,
#: ``shifted_pays`` and (among im2col runs) ``blocked_runs``; "im2col", "shifted",
#: "winograd" and "blocked" force one (tests run each over the same cases). Shifted GEMMs
#: need stride 1, Winograd a 3×3 kernel, stride 1, padding 1, no dilation, no groups,
#: blocked im2col no groups: elsewhere "winograd" picks as "auto" does, convolutions that
#: are not stride 1 run im2col (blocked or not) whatever this says, and "im2col" is the
#: one-GEMM im2col.
POLICY = "auto"


def blocked_runs(w_shape, groups: int, n_columns: int, itemsize: int) -> bool:
    """Whether an im2col convolution runs blocked by images (conv_blocked.py)."""
    if POLICY == "blocked":
        return groups == 1
    return POLICY == "auto" and blocked_pays(w_shape, groups, n_columns, itemsize)


def shifted_pays(x_shape, w_shape, stride, padding, dilation, groups) -> bool:
    """Whether the shifted-GEMM path (conv_shift.py) should run rather than im2col."""
    if stride != (1, 1) or POLICY in ("im2col", "blocked"):
        return False
    if POLICY == "shifted":
        return True
    fh, fw, ho, wo, _, _, _ = grid_geometry(x_shape, w_shape[2:], padding, dilation)
    return w_shape[1] >= SHIFTED_MIN_CHANNELS and fh * fw <= SHIFTED_MAX_GRID * ho * wo


def winograd_pays(x_shape, w_shape, stride, padding, dilation, groups) -> bool:
    """Whether Winograd F(2×2, 3×3) (conv_winograd.py) should run rather than the others."""
    if POLICY in ("im2col", "shifted", "blocked"):
        return False
    if not winograd_fits(x_shape, w_shape, stride, padding, dilation, groups):
        return False
    if POLICY == "winograd":
        return True
    channels, side = min(w_shape[:2]), min(x_shape[2:])
    return (channels >= WINOGRAD_MIN_CHANNELS and side >= WINOGRAD_MIN_SIDE
            and channels * side >= WINOGRAD_MIN_CHANNELS_X_SIDE)  # fmt: skip


#: Where Winograd beats the shifted path, measured with benchmarks/winograd_crossover.py (2
#: threads, float32, 3×3 pad 1; shifted time ÷ Winograd time for the forward / forward + ∂x
#: + ∂W, ranges over 2–5 runs on a noisy 2-core VM), by min(C, O) @ image side, N = 32:
#: 32 @ 32: 0.54–0.88 / 0.71–0.93; 32 → 64 @ 32: 0.86–0.89 / 1.10–1.20; 64 @ 32 (ResNet's
#: BasicBlock): 1.12–1.18 / 1.08–1.29; 64 @ 16: 0.62–0.83 / 0.81–1.08; 128 @ 16: 1.19–1.35 /
#: 1.23–1.47; 64 @ 8: 0.50–0.57 / 0.55–0.57; 128 @ 8: 0.53–0.62 / 1.02–1.05; 256 @ 8:
#: 1.16–1.17 / 1.17–1.25; 512 @ 4: 1.14–1.24 / 0.87–0.94; N = 8: 64 @ 56: 1.20–1.22 /
#: 1.18–1.19; 256 @ 14: 1.06–1.37 / 1.04–1.16; 512 @ 7: 0.91–0.97 / 0.75–0.96. The
#: transforms' passes over 4× the input and output cost per channel, the GEMMs they save per
#: channel pair, and small images waste more junk tiles (their frames' zero row and column)
#: and copy shorter rows: so at least 64 channels, more the smaller the image, and no image
#: under 8×8.
WINOGRAD_MIN_CHANNELS = 64
WINOGRAD_MIN_SIDE = 8
WINOGRAD_MIN_CHANNELS_X_SIDE = 2048


#: The crossover, measured with benchmarks/conv_crossover.py (1 thread, forward + backward,
#: 3×3 pad 1, N = 32, O = 64; im2col time ÷ shifted time): at 32×32, 0.17 at C = 1, 0.63
#: at 8, 0.93 at 16, 1.13 at 32, 1.30 at 64, 1.14 at 128. At C = 64 by image size (the
#: grid Fh·Fw ÷ the output Ho·Wo): 16×16 (1.13) 1.41, 8×8 (1.27) 1.09, 4×4 (1.56) 0.97.
SHIFTED_MIN_CHANNELS = 32
SHIFTED_MAX_GRID = 1.4


class Conv2d(Function):
    """y = conv(x, W) + b; x (N, C, H, W) or (N, C, L), W (O, C/groups, kh, kw).

    Constants: stride (sh, sw), padding ((top, bottom), (left, right)), dilation (dh, dw),
    groups. A 3-D x with a 3-D W is the 1-D convolution.

    Three algorithms, the same sum: 3×3 stride-1 pad-1 convolutions with enough channels
    run Winograd's F(2×2, 3×3) (conv_winograd.py: 16 GEMMs on transformed tiles, 2.25×
    fewer multiplies); other stride-1 convolutions with enough input channels per group
    run kh·kw shifted GEMMs on the flat padded input (conv_shift.py: no column matrix,
    nothing larger than the padded input kept for backward); the rest, im2col:
    Y = W_mat · X_col + b per group, as below. ``POLICY`` forces one.

    ∂L/∂x takes the cheaper of two routes. col2im: ∂L/∂X_col = W_matᵀ · ∂L/∂Y, then one
    strided add per kernel offset. Or, with stride 1, ∂L/∂x is itself a convolution: of
    ∂L/∂y, padded by d·(k − 1) − p, with the kernel flipped and its in/out channels
    swapped; that reuses the forward's im2col + GEMM and needs no adds, and wins when its
    column matrix (O·kh·kw, N·H·W) is no larger than col2im's (C·kh·kw, N·Ho·Wo).
    """

    def forward(self, x, weight, bias=None, stride=(1, 1), padding=((0, 0), (0, 0)),
                dilation=(1, 1), groups=1):  # fmt: skip
        self.one_d = x.ndim == 3
        self.conv_args = (stride, padding, dilation, groups)  # for recorded derivatives
        # an input that needs no grad (MAML's images) is not in fn.parents; the recorded
        # derivative (create_graph=True) rebuilds the convolution from it: a reference, no copy
        self.input = None if self.needs_input_grad[0] else x
        if self.one_d:
            x, weight = x[:, :, None, :], weight[:, :, None, :]
        check_geometry(x.shape, weight.shape, stride, padding, dilation, self.one_d)
        self.winograd = winograd_pays(x.shape, weight.shape, stride, padding, dilation, groups)
        if self.winograd:  # never for 1-D: its kernel is 1 × k
            return self._forward_winograd(x, weight, bias)
        self.shifted = shifted_pays(x.shape, weight.shape, stride, padding, dilation, groups)
        if self.shifted:
            return self._forward_shifted(x, weight, bias, padding, dilation, groups)
        view, wc = column_windows(x, weight.shape[2:], stride, padding, dilation)
        self.images_per_block = None
        if blocked_runs(weight.shape, groups, x.shape[0] * view.shape[4] * wc, x.itemsize):
            y, cols, self.images_per_block = conv_blocked(view, weight)  # conv_blocked.py
        else:
            y, cols = columns_gemm(view, weight, groups)
        if bias is not None:
            y += bias.reshape(-1, 1, 1, 1)
        self.cols = cols if self.needs_input_grad[1] else None
        self.weight = weight
        wo = out_size(x.shape[3], weight.shape[3], stride[1], sum(padding[1]), dilation[1])
        self.geometry = (x.shape, stride, padding, dilation, groups, (y.shape[2], wo), wc)
        y = y[..., :wo].swapaxes(0, 1)  # (N, O, Ho, Wo), memory still (O, N, Ho, Wc)
        return y[:, :, 0, :] if self.one_d else y

    def _forward_shifted(self, x, weight, bias, padding, dilation, groups):
        n, o = x.shape[0], weight.shape[0]
        fh, fw, ho, wo, _, _, _ = grid_geometry(x.shape, weight.shape[2:], padding, dilation)
        Y, X = conv_shifted(x, weight, padding, dilation, groups)
        y = Y.reshape(o, n, fh, fw)[:, :, :ho, :wo]  # the valid pixels of the grid
        if bias is not None:
            y += bias.reshape(-1, 1, 1, 1)
        self.X = X if self.needs_input_grad[1] else None
        self.weight = weight
        self.geometry = (x.shape, padding, dilation, groups)
        y = y.swapaxes(0, 1)  # (N, O, Ho, Wo), memory (O, N, Fh, Fw)
        return y[:, :, 0, :] if self.one_d else y

    def _forward_winograd(self, x, weight, bias):
        self.shifted = False
        # the planes of x only when ∂L/∂W will be asked for (∂L/∂x needs only the weight)
        y, self.saved = conv_winograd(x, weight, keep=self.needs_input_grad[1])
        if bias is not None:
            y += bias.reshape(-1, 1, 1, 1)
        self.weight = weight
        return y.swapaxes(0, 1)  # (N, O, H, W), memory (O, N, H, W)

    def _backward_gemms(self, gy):
        """∂L/∂x, ∂L/∂W, ∂L/∂b of the shifted or the Winograd path."""
        need = self.needs_input_grad
        gy_cm = gy.swapaxes(0, 1)  # (O, N, Ho, Wo)
        if self.winograd:
            gx, gw = conv_winograd_backward(gy_cm, self.saved, self.weight, need[:2])
        else:
            x_shape, padding, dilation, groups = self.geometry
            gx, gw = conv_shifted_backward(gy_cm, self.X, self.weight, x_shape, padding,
                                           dilation, groups, need[:2])  # fmt: skip
        if self.one_d:
            gx = None if gx is None else gx[:, :, 0, :]
            gw = None if gw is None else gw[:, :, 0, :]
        if len(need) > 2:
            gb = gy_cm.sum(axis=(1, 2, 3)) if need[2] else None
            return gx, gw, gb
        return gx, gw

    def backward(self, gy):
        xp = get_array_module(gy)
        if self.one_d:
            gy = gy[:, :, None, :]
        if self.shifted or self.winograd:
            return self._backward_gemms(gy)
        x_shape, stride, padding, dilation, groups, out_hw, wc = self.geometry
        n, o = gy.shape[:2]
        weight = self.weight
        gy_cm = gy.swapaxes(0, 1)  # (O, N, Ho, Wo): free when gy kept this op's layout
        need_x, need_w = self.needs_input_grad[:2]
        need_b = len(self.needs_input_grad) > 2 and self.needs_input_grad[2]
        blocked = self.images_per_block is not None
        gy_mat = None
        if need_x or (need_w and not blocked):
            gy_t = gy_cm
            if wc != out_hw[1]:  # the columns past Wo take zero gradient
                gy_t = xp.zeros((o, n, out_hw[0], wc), dtype=gy.dtype)
                gy_t[..., : out_hw[1]] = gy_cm
            gy_mat = xp.ascontiguousarray(gy_t).reshape(groups, o // groups, -1)
        gx = gw = gb = None
        if need_w and blocked:
            gw = conv_blocked_grad_weight(self.cols, self.images_per_block, gy_cm, wc)
            gw = gw.reshape(weight.shape)
        elif need_w:
            # X_col · ∂L/∂Yᵀ, then transposed: faster in BLAS than ∂L/∂Y · X_colᵀ for skinny O
            gw = xp.matmul(self.cols, gy_mat.swapaxes(1, 2)).swapaxes(1, 2)
            gw = gw.reshape(weight.shape)
        if need_w and self.one_d:
            gw = gw[:, :, 0, :]
        if need_b:
            gb = gy_cm.sum(axis=(1, 2, 3))
        if need_x:
            gx = self._grad_input(xp, gy, gy_mat, x_shape, stride, padding, dilation, groups,
                                  out_hw, wc)  # fmt: skip
            if self.one_d:
                gx = gx[:, :, 0, :]
        return (gx, gw, gb) if len(self.needs_input_grad) > 2 else (gx, gw)

    def _grad_input(self, xp, gy, gy_mat, x_shape, stride, padding, dilation, groups,
                    out_hw, wc):  # fmt: skip
        weight = self.weight
        o, c_g, kh, kw = weight.shape
        n, c, h, w = x_shape
        reach = [d * (k - 1) for d, k in zip(dilation, (kh, kw))]
        full = [(r - a, r - b) for r, (a, b) in zip(reach, padding)]
        flip_fits = all(a >= 0 and b >= 0 for a, b in full)
        if stride == (1, 1) and flip_fits and o * h * w <= c * out_hw[0] * out_hw[1]:
            # W'[c, o] = W[o, c] flipped in u and v, within each group
            w_flip = weight.reshape(groups, o // groups, c_g, kh, kw).swapaxes(1, 2)
            w_flip = xp.ascontiguousarray(w_flip[..., ::-1, ::-1]).reshape(c, o // groups, kh, kw)
            gx, _, _ = conv_columns_gemm(gy, w_flip, (1, 1), tuple(full), dilation, groups)
            return gx[..., :w].swapaxes(0, 1)
        g_cols = xp.matmul(weight.reshape(groups, o // groups, -1).swapaxes(1, 2), gy_mat)
        (pt, pb), (pl, pr) = padding
        hp, wp = h + pt + pb, w + pl + pr
        if stride == (1, 1) and wc == wp:
            gxpad = _col2im_full_width(xp, g_cols, (c, n, hp, wp), (kh, kw), dilation, out_hw[0])
        else:
            g_cols = g_cols.reshape(c, kh, kw, n, out_hw[0], wc)[..., : out_hw[1]]
            # col2im: ∂L/∂x̃ accumulates every offset's columns; memory (C, N, Hp, Wp)
            gxpad = add_windows(
                xp.zeros((c, n, hp, wp), dtype=gy.dtype),
                lambda u, v: g_cols[:, u, v],
                (kh, kw),
                stride,
                dilation,
                out_hw,
            )
        return gxpad[:, :, pt : pt + h, pl : pl + w].swapaxes(0, 1)
