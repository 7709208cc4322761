"""im2col: the windows a convolution or a pool reads, as strided views, and their scatter back.

    X_col[(c, u, v), (n, i, j)] = x̃[n, c, s·i + d·u, s·j + d·v]     (C·kh·kw, N·Ho·Wo)

x̃ is x zero-padded, s the stride and d the dilation. ``windows`` reads X_col (or one window
per output pixel, for pooling) out of the padded input as a strided view with no copy;
``column_windows`` picks between that view and the full-width one (every padded column
computed, for long contiguous runs); ``columns_gemm`` copies X_col once and multiplies;
``add_windows`` and ``_col2im_full_width`` are col2im, the scatter of ∂L/∂X_col back onto
∂L/∂x̃, one strided add per kernel offset. conv.py's Conv2d and the pools, unfold and the
transposed convolution build on these.
"""

from __future__ import annotations

from ..backend import get_array_module, strided_view
from ..errors import InputError


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
        raise InputError(
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
        out[...] = float(value)
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


def _full_width_windows(x, kernel, stride, padding, dilation, out_h):
    """The windows of X_col over every padded column j < Wp (not only the Wo valid ones), for
    stride_w = 1, as a strided view (C, kh, kw, N, Ho, Wp) of a fresh padded buffer.

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
    return strided_view(buf, shape, strides), wp


def column_windows(x, kernel, stride, padding, dilation):
    """X_col's layout as a strided view of the padded x, (C, kh, kw, N, Ho, Wc), and Wc: the
    number of columns computed per output row, Wo or the padded width Wp (see
    _full_width_windows)."""
    n, c, h, w = x.shape
    kh, kw = kernel
    (pt, pb), (pl, pr) = padding
    ho = out_size(h, kh, stride[0], pt + pb, dilation[0])
    wo = out_size(w, kw, stride[1], pl + pr, dilation[1])
    if ho < 1 or wo < 1:
        raise ValueError(
            f"conv: input of spatial size {(h, w)} padded by {padding} is smaller than the"
            f" dilated kernel {(dilation[0] * (kh - 1) + 1, dilation[1] * (kw - 1) + 1)}"
        )
    if stride[1] == 1 and w + pl + pr <= 1.5 * wo:
        return _full_width_windows(x, (kh, kw), stride, padding, dilation, ho)
    return windows(pad2d(x, padding), (kh, kw), stride, dilation, (ho, wo), "cuvnij"), wo


def conv_columns_gemm(x, weight, stride, padding, dilation, groups):
    """Y = W_mat · X_col for x (N, C, H, W).

    Returns Y as (O, N, Ho, Wc), X_col (groups, C_g·kh·kw, N·Ho·Wc) and Wc (column_windows).
    """
    view, wc = column_windows(x, weight.shape[2:], stride, padding, dilation)
    y, cols = columns_gemm(view, weight, groups)
    return y, cols, wc


def columns_gemm(view, weight, groups):
    """Y (O, N, Ho, Wc) = W_mat · X_col per group, and X_col (groups, C_g·kh·kw, N·Ho·Wc),
    copied once out of the windows ``view`` (C, kh, kw, N, Ho, Wc)."""
    xp = get_array_module(view)
    o, c_g, kh, kw = weight.shape
    n, ho, wc = view.shape[3:]
    k = c_g * kh * kw
    cols = xp.ascontiguousarray(view).reshape(groups, k, n * ho * wc)
    y = xp.matmul(weight.reshape(groups, o // groups, k), cols)  # (groups, O_g, N·Ho·Wc)
    return y.reshape(o, n, ho, wc), cols


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
