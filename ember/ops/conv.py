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

Stride-1 convolutions with enough channels take another route to the same sum, kh·kw
shifted GEMMs on the flat padded input with no column matrix (conv_shift.py), and 3×3
pad-1 ones a third, Winograd's F(2×2, 3×3) (conv_winograd.py); Conv2d picks per call
(``winograd_pays``, ``shifted_pays``).

1-D convolution is the 2-D one on a height-1 image. LeCun et al. 1998 (LeNet);
Chellapilla et al. 2006 (convolution as unrolled matrix products).
"""

from __future__ import annotations

from ..backend import get_array_module, strided_view
from ..function import Function
from .conv_shift import conv_shifted, conv_shifted_backward, grid_geometry
from .conv_winograd import conv_winograd, conv_winograd_backward, winograd_fits

#: The algorithm Conv2d runs. "auto" picks per call with ``winograd_pays`` and
#: ``shifted_pays``; "im2col", "shifted" and "winograd" force one (tests run each over the
#: same cases). Shifted GEMMs need stride 1, Winograd a 3×3 kernel, stride 1, padding 1, no
#: dilation, no groups: elsewhere "winograd" picks as "auto" does, and convolutions that
#: are not stride 1 run im2col whatever this says.
POLICY = "auto"


def out_size(size: int, kernel: int, stride: int, pad_total: int, dilation: int) -> int:
    """⌊(size + padding − d·(k − 1) − 1) / s⌋ + 1: the number of window positions."""
    return (size + pad_total - dilation * (kernel - 1) - 1) // stride + 1


def check_geometry(x_shape, w_shape, stride, padding, dilation, one_d=False) -> None:
    """Raise unless every stride and dilation is ≥ 1 and the dilated kernel fits the padded
    input (torch's checks), before any algorithm runs: each would otherwise divide by zero,
    return an empty output, or read past the input."""
    dims = slice(1, None) if one_d else slice(None)  # a 1-D convolution's height is not its own
    if min(stride) < 1 or min(dilation) < 1:
        raise ValueError(
            f"conv: stride and dilation must be positive, got stride {stride[dims]} and"
            f" dilation {dilation[dims]}"
        )
    padded = [s + a + b for s, (a, b) in zip(x_shape[2:], padding)]
    reach = [d * (k - 1) + 1 for d, k in zip(dilation, w_shape[2:])]
    if any(p < r for p, r in zip(padded, reach)):
        raise ValueError(
            f"conv: the padded input of spatial size {tuple(padded[dims])} is smaller than the"
            f" dilated kernel {tuple(reach[dims])} (input {tuple(x_shape[2:][dims])}, padding"
            f" {padding[dims]})"
        )


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


def add_windows(canvas, piece, kernel, stride, dilation, out_hw):
    """col2im's scatter: canvas[window of offset (u, v)] += piece(u, v) for every kernel
    offset, one strided add each (the windows of different offsets overlap, so the adds
    accumulate); returns canvas."""
    kh, kw = kernel
    for u in range(kh):
        for v in range(kw):
            canvas[offset_slice(u, v, stride, dilation, out_hw)] += piece(u, v)
    return canvas


def _full_width_columns(x, kernel, stride, padding, dilation, out_h):
    """X_col over every padded column j < Wp (not only the Wo valid ones), for stride_w = 1.

    Then for fixed (c, u, v, n) the rows i = 0…Ho−1 of the window are one contiguous run
    of Ho·Wp values in the padded image (when stride_h = 1), so the im2col copy moves long
    runs instead of Wo-long pieces. The extra Wp − Wo outputs per row are computed and
    dropped; the padded buffer carries d·(kw − 1) zeros of slack so the last runs stay
    inside it.
    """
    xp = get_array_module(x)
    n, c, h, w = x.shape
    (pt, pb), (pl, pr) = padding
    (kh, kw), (s_h, _), (d_h, d_w) = kernel, stride, dilation
    hp, wp = h + pt + pb, w + pl + pr
    plane = hp * wp
    buf = xp.zeros(c * n * plane + d_w * (kw - 1), dtype=x.dtype)
    xpad = buf[: c * n * plane].reshape(c, n, hp, wp)  # channel-major
    xpad[:, :, pt : pt + h, pl : pl + w] = x.swapaxes(0, 1)
    e = buf.itemsize
    shape = (c, kh, kw, n, out_h, wp)
    strides = (n * plane * e, d_h * wp * e, d_w * e, plane * e, s_h * wp * e, e)
    return xp.ascontiguousarray(strided_view(buf, shape, strides)), wp


def conv_columns_gemm(x, weight, stride, padding, dilation, groups):
    """Y = W_mat · X_col for x (N, C, H, W).

    Returns Y as (O, N, Ho, Wc), X_col (groups, C_g·kh·kw, N·Ho·Wc) and Wc: the number of
    columns computed per output row, Wo or the padded width Wp (see _full_width_columns).
    """
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
    if stride[1] == 1 and w + pl + pr <= 1.5 * wo:
        cols, wc = _full_width_columns(x, (kh, kw), stride, padding, dilation, ho)
    else:
        xpad = pad2d(x, padding)
        cols = xp.ascontiguousarray(windows(xpad, (kh, kw), stride, dilation, (ho, wo), "cuvnij"))
        wc = wo
    k = c_g * kh * kw
    cols = cols.reshape(groups, k, n * ho * wc)
    y = xp.matmul(weight.reshape(groups, o // groups, k), cols)  # (groups, O_g, N·Ho·Wc)
    return y.reshape(o, n, ho, wc), cols, wc


def shifted_pays(x_shape, w_shape, stride, padding, dilation, groups) -> bool:
    """Whether the shifted-GEMM path (conv_shift.py) should run rather than im2col."""
    if stride != (1, 1) or POLICY == "im2col":
        return False
    if POLICY == "shifted":
        return True
    fh, fw, ho, wo, _, _, _ = grid_geometry(x_shape, w_shape[2:], padding, dilation)
    return w_shape[1] >= SHIFTED_MIN_CHANNELS and fh * fw <= SHIFTED_MAX_GRID * ho * wo


def winograd_pays(x_shape, w_shape, stride, padding, dilation, groups) -> bool:
    """Whether Winograd F(2×2, 3×3) (conv_winograd.py) should run rather than the others."""
    if POLICY in ("im2col", "shifted"):
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
        if self.one_d:
            x, weight = x[:, :, None, :], weight[:, :, None, :]
        check_geometry(x.shape, weight.shape, stride, padding, dilation, self.one_d)
        self.winograd = winograd_pays(x.shape, weight.shape, stride, padding, dilation, groups)
        if self.winograd:  # never for 1-D: its kernel is 1 × k
            return self._forward_winograd(x, weight, bias)
        self.shifted = shifted_pays(x.shape, weight.shape, stride, padding, dilation, groups)
        if self.shifted:
            return self._forward_shifted(x, weight, bias, padding, dilation, groups)
        y, cols, wc = conv_columns_gemm(x, weight, stride, padding, dilation, groups)
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
        gy_t = gy.swapaxes(0, 1)  # (O, N, Ho, Wo): free when gy kept this op's layout
        if wc != out_hw[1]:  # the columns past Wo take zero gradient
            gy_full = xp.zeros((o, n, out_hw[0], wc), dtype=gy.dtype)
            gy_full[..., : out_hw[1]] = gy_t
            gy_t = gy_full
        gy_mat = xp.ascontiguousarray(gy_t).reshape(groups, o // groups, -1)
        need_x, need_w = self.needs_input_grad[:2]
        need_b = len(self.needs_input_grad) > 2 and self.needs_input_grad[2]
        gx = gw = gb = None
        if need_w:
            # X_col · ∂L/∂Yᵀ, then transposed: faster in BLAS than ∂L/∂Y · X_colᵀ for skinny O
            gw = xp.matmul(self.cols, gy_mat.swapaxes(1, 2)).swapaxes(1, 2)
            gw = gw.reshape(weight.shape)
            if self.one_d:
                gw = gw[:, :, 0, :]
        if need_b:
            gb = gy_mat.reshape(o, -1).sum(axis=1)
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


def _col2im_full_width(xp, g_cols, pad_shape, kernel, dilation, out_h):
    """col2im for full-width columns at stride 1: offset (u, v) adds a block of Ho·Wp runs
    starting u·d·Wp + v·d further into the flat padded image (columns past Wo carry zero)."""
    c, n, hp, wp = pad_shape
    (kh, kw), (d_h, d_w) = kernel, dilation
    plane = hp * wp
    total = c * n * plane
    reach = d_h * (kh - 1) * wp + d_w * (kw - 1)
    buf = xp.zeros(total + reach, dtype=g_cols.dtype)
    g_cols = g_cols.reshape(c, kh, kw, n, out_h * wp)
    for u in range(kh):
        for v in range(kw):
            off = d_h * u * wp + d_w * v
            buf[off : off + total].reshape(c, n, plane)[:, :, : out_h * wp] += g_cols[:, u, v]
    return buf[:total].reshape(c, n, hp, wp)
