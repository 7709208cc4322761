"""im2col and col2im as ops of their own: torch's unfold (Unfold) and fold (Fold).

    Unfold:  X_col[n, (c, u, v), (i, j)] = x̃[n, c, s·i + d·u, s·j + d·v]
    Fold:    x[n, c, h, w] = Σ_{u, v, i, j} X_col[n, (c, u, v), (i, j)]
                 over s·i + d·u − p = h,  s·j + d·v − p = w

x̃ is x zero-padded by p, s the stride, d the dilation; the row index of X_col runs over
(c, u, v) with v fastest, the column index over the L = Ho·Wo window positions, rows of the
output grid first. Fold is the adjoint of Unfold (col2im: overlapping windows add up), so
each is the other's backward: ∂L/∂x = fold(∂L/∂X_col) and ∂L/∂X_col = unfold(∂L/∂x).

Both read and write through the helpers of conv.py: one strided view of the padded input for
im2col (``windows``), and one strided add per kernel offset (kh·kw of them) for col2im
(``offset_slice``, ``add_windows``), never a loop over the batch, channels or pixels.

Shapes: x (N, C, H, W) ↔ X_col (N, C·kh·kw, L), L = Ho·Wo with
Ho = ⌊(H + 2·p_h − d_h·(kh − 1) − 1) / s_h⌋ + 1 (likewise Wo).
"""

from __future__ import annotations

from ..backend import get_array_module
from ..function import Function
from .im2col import add_windows, out_size, pad2d, windows


def blocks(hw, kernel, dilation, padding, stride) -> tuple:
    """(Ho, Wo): the number of sliding-block positions along each spatial axis."""
    return tuple(
        out_size(n, k, s, 2 * p, d) for n, k, s, p, d in zip(hw, kernel, stride, padding, dilation)
    )


def im2col(x, kernel, dilation, padding, stride):
    """x (N, C, H, W) → X_col (N, C·kh·kw, Ho·Wo), one copy out of a strided view (always a
    copy: for a 1×1 kernel without padding or stride the view is x's memory as it lies, and
    torch's result never shares x's)."""
    xp = get_array_module(x)
    n, c = x.shape[:2]
    (kh, kw), (ph, pw) = kernel, padding
    out_hw = blocks(x.shape[2:], kernel, dilation, padding, stride)
    x_pad = pad2d(x, ((ph, ph), (pw, pw)))
    view = windows(x_pad, kernel, stride, dilation, out_hw, "ncijuv")  # (N, C, Ho, Wo, kh, kw)
    cols = xp.array(view.transpose(0, 1, 4, 5, 2, 3), order="C", copy=True)
    return cols.reshape(n, c * kh * kw, out_hw[0] * out_hw[1])


def col2im(cols, hw, kernel, dilation, padding, stride):
    """X_col (N, C·kh·kw, Ho·Wo) → x (N, C, H, W): each offset's columns added in place."""
    xp = get_array_module(cols)
    (kh, kw), (ph, pw), (h, w) = kernel, padding, hw
    n = cols.shape[0]
    c = cols.shape[1] // (kh * kw)
    out_hw = blocks(hw, kernel, dilation, padding, stride)
    g = cols.reshape(n, c, kh, kw, out_hw[0], out_hw[1])
    x_pad = add_windows(
        xp.zeros((n, c, h + 2 * ph, w + 2 * pw), dtype=cols.dtype),
        lambda u, v: g[:, :, u, v],
        kernel,
        dilation=dilation,
        stride=stride,
        out_hw=out_hw,
    )
    return x_pad[:, :, ph : ph + h, pw : pw + w]


def check_blocks(op: str, hw, kernel, dilation, padding, stride) -> tuple:
    """The block grid (Ho, Wo), or torch's error when it would be empty."""
    out_hw = blocks(hw, kernel, dilation, padding, stride)
    if out_hw[0] < 1 or out_hw[1] < 1:
        raise RuntimeError(
            f"{op}: given input with spatial size {tuple(hw)}, kernel_size={tuple(kernel)},"
            f" dilation={tuple(dilation)}, padding={tuple(padding)}, stride={tuple(stride)},"
            f" calculated shape of the array of sliding blocks as {out_hw}, but its components"
            " must be at least one"
        )
    return out_hw


class Unfold(Function):
    """X_col = im2col(x): x (N, C, H, W) → (N, C·kh·kw, L); backward col2im."""

    def forward(self, x, kernel_size, dilation, padding, stride):
        check_blocks("unfold", x.shape[2:], kernel_size, dilation, padding, stride)
        self.geometry = (x.shape[2:], kernel_size, dilation, padding, stride)
        return im2col(x, kernel_size, dilation, padding, stride)

    def backward(self, gy):
        return (col2im(gy, *self.geometry),)


class Fold(Function):
    """x = col2im(X_col): (N, C·kh·kw, L) → (N, C, H, W) with (H, W) = output_size;
    backward im2col."""

    def forward(self, cols, output_size, kernel_size, dilation, padding, stride):
        kh, kw = kernel_size
        if cols.shape[1] % (kh * kw):
            raise RuntimeError(
                f"fold: expected size of input's dimension 1 to be divisible by the product of"
                f" kernel_size, but got input.size(1)={cols.shape[1]} and"
                f" kernel_size={tuple(kernel_size)}"
            )
        ho, wo = check_blocks("fold", output_size, kernel_size, dilation, padding, stride)
        if cols.shape[2] != ho * wo:
            raise RuntimeError(
                f"fold: given output_size={tuple(output_size)}, kernel_size={tuple(kernel_size)},"
                f" dilation={tuple(dilation)}, padding={tuple(padding)}, stride={tuple(stride)},"
                f" expected size of input's dimension 2 to match the calculated number of"
                f" sliding blocks {ho} * {wo} = {ho * wo}, but got input.size(2)={cols.shape[2]}"
            )
        self.geometry = (kernel_size, dilation, padding, stride)
        return col2im(cols, output_size, kernel_size, dilation, padding, stride)

    def backward(self, gy):
        return (im2col(gy, *self.geometry),)
