"""grid_sample on 4-D input: bilinear and nearest sampling at the grid's points, hand-written
backward for the input and the grid.

A grid point (g_x, g_y) ∈ [−1, 1]² is first unnormalised to a pixel coordinate along an axis
of size n (torch's ``grid_sampler_unnormalize``):

    align_corners=True:   s = (g + 1)/2 · (n − 1)        ∂s/∂g = (n − 1)/2
    align_corners=False:  s = ((g + 1) · n − 1)/2        ∂s/∂g = n/2

then moved inside the image by the padding mode (``compute_coordinates``):

    zeros:       s unchanged; corners outside the image read 0
    border:      s ← clip(s, 0, n − 1)                      ∂ = 1 strictly inside, else 0
    reflection:  s ← clip(reflect(s, lo, hi), 0, n − 1),    [lo, hi] = [0, n − 1] (align_corners)
                 or [−½, n − ½]; reflect mirrors s about the ends of [lo, hi] repeatedly,
                 ∂ = ±1 by the parity of the number of mirrors (and the side of lo)

Bilinear with x₀ = ⌊s_x⌋, y₀ = ⌊s_y⌋, e = s_x − x₀ (east weight), n = s_y − y₀ (south):

    y = (1−n)(1−e)·v_nw + (1−n)·e·v_ne + n·(1−e)·v_sw + n·e·v_se
    ∂y/∂s_x = (v_ne − v_nw)(1−n) + (v_se − v_sw)·n
    ∂y/∂s_y = (v_sw − v_nw)(1−e) + (v_se − v_ne)·e

Nearest reads the pixel at (rint(s_x), rint(s_y)) (round half to even, as torch's
``nearbyint``) and has no gradient w.r.t. the grid. The four corners are gathered for all
N, C, H_out, W_out at once as rows of the channels-last input (N·H·W, C); the input's
gradient is one ``scatter_add`` of those rows.
"""

from __future__ import annotations

from ..backend import get_array_module, scatter_add
from ..function import Function

MODES = ("bilinear", "nearest")
PADDING_MODES = ("zeros", "border", "reflection")


def _clip(xp, s, n: int):
    """clip(s, 0, n − 1) and its derivative (0 on and beyond the ends, as torch)."""
    top = n - 1
    return xp.clip(s, 0, top), ((s > 0) & (s < top)).astype(s.dtype)


def _reflect(xp, s, twice_low: int, twice_high: int):
    """torch's ``reflect_coordinates``: s mirrored into [low, high], and ∂/∂s (±1)."""
    if twice_low == twice_high:
        return xp.zeros_like(s), xp.zeros_like(s)
    low = twice_low / 2
    span = (twice_high - twice_low) / 2
    d = s - low
    sign = xp.where(d < 0, -1.0, 1.0).astype(s.dtype)
    d = xp.abs(d)
    extra = xp.fmod(d, span)
    even = xp.floor(d / span) % 2 == 0
    out = xp.where(even, extra + low, span - extra + low)
    return out, xp.where(even, sign, -sign)


def source_index(xp, g, n: int, padding_mode: str, align_corners: bool):
    """Pixel coordinate s of normalised coordinates g along an axis of size n, and ∂s/∂g."""
    if align_corners:
        s, ds = (g + 1) / 2 * (n - 1), (n - 1) / 2
    else:
        s, ds = ((g + 1) * n - 1) / 2, n / 2
    ds = xp.full(g.shape, ds, dtype=g.dtype)
    if padding_mode == "border":
        s, dc = _clip(xp, s, n)
        ds = ds * dc
    elif padding_mode == "reflection":
        twice = (0, 2 * (n - 1)) if align_corners else (-1, 2 * n - 1)
        s, dr = _reflect(xp, s, *twice)
        s, dc = _clip(xp, s, n)
        ds = ds * dr * dc
    return s, ds


class GridSample2d(Function):
    """y[n, c, i, j] = x sampled at grid[n, i, j] (x: N, C, H, W; grid: N, H_out, W_out, 2)."""

    def forward(self, x, grid, mode="bilinear", padding_mode="zeros", align_corners=False):
        xp = get_array_module(x, grid)
        N, C, H, W = x.shape
        _, Ho, Wo, _ = grid.shape
        sx, dsx = source_index(xp, grid[..., 0], W, padding_mode, align_corners)
        sy, dsy = source_index(xp, grid[..., 1], H, padding_mode, align_corners)
        # channels-last rows: one gather per corner reads C contiguous values
        rows = x.transpose(0, 2, 3, 1).reshape(N * H * W, C)
        base = (xp.arange(N, dtype=xp.int64) * (H * W)).reshape(N, 1, 1)

        def corner(ix, iy):
            """Row index of pixel (iy, ix) (clamped) and whether it lies inside the image."""
            inside = (ix >= 0) & (ix < W) & (iy >= 0) & (iy < H)
            row = base + xp.clip(iy, 0, H - 1) * W + xp.clip(ix, 0, W - 1)
            return row.reshape(-1), inside.astype(x.dtype).reshape(-1, 1)

        if mode == "nearest":
            ix = xp.rint(sx).astype(xp.int64)
            iy = xp.rint(sy).astype(xp.int64)
            row, inside = corner(ix, iy)
            out = rows[row] * inside
            self.saved = (x.shape, grid.shape, [row], [inside], None)
        else:
            fx, fy = xp.floor(sx), xp.floor(sy)
            e, s = sx - fx, sy - fy
            x0, y0 = fx.astype(xp.int64), fy.astype(xp.int64)
            weights = [(1 - s) * (1 - e), (1 - s) * e, s * (1 - e), s * e]  # nw, ne, sw, se
            corners = [corner(x0, y0), corner(x0 + 1, y0), corner(x0, y0 + 1)]
            corners.append(corner(x0 + 1, y0 + 1))
            row_list = [r for r, _ in corners]
            masks = [m for _, m in corners]
            values = [rows[r] * m for r, m in corners]  # (N·Ho·Wo, C), 0 outside (zeros pad)
            out = sum(w.reshape(-1, 1) * v for w, v in zip(weights, values))
            need_grid = len(self.needs_input_grad) > 1 and self.needs_input_grad[1]
            geometry = (e.reshape(-1, 1), s.reshape(-1, 1), dsx, dsy, values)
            self.saved = (x.shape, grid.shape, row_list, masks, geometry if need_grid else None)
            self.weights = [w.reshape(-1, 1) for w in weights]
        self.mode = mode
        return out.reshape(N, Ho, Wo, C).transpose(0, 3, 1, 2)

    def backward(self, gy):
        xp = get_array_module(gy)
        x_shape, grid_shape, row_list, masks, geometry = self.saved
        N, C, H, W = x_shape
        g = gy.transpose(0, 2, 3, 1).reshape(-1, C)  # (N·Ho·Wo, C) like the gathered rows
        gx = ggrid = None
        if self.needs_input_grad[0]:
            if self.mode == "nearest":
                parts = [g * masks[0]]
            else:
                parts = [g * (w * m) for w, m in zip(self.weights, masks)]
            g_rows = xp.zeros((N * H * W, C), dtype=gy.dtype)
            scatter_add(g_rows, xp.concatenate(row_list), xp.concatenate(parts, axis=0))
            gx = g_rows.reshape(N, H, W, C).transpose(0, 3, 1, 2)
        if len(self.needs_input_grad) > 1 and self.needs_input_grad[1]:
            if self.mode == "nearest":
                ggrid = xp.zeros(grid_shape, dtype=gy.dtype)
            else:
                e, s, dsx, dsy, (v_nw, v_ne, v_sw, v_se) = geometry
                g_sx = (g * ((v_ne - v_nw) * (1 - s) + (v_se - v_sw) * s)).sum(axis=1)
                g_sy = (g * ((v_sw - v_nw) * (1 - e) + (v_se - v_ne) * e)).sum(axis=1)
                shape = grid_shape[:3]
                ggrid = xp.stack([g_sx.reshape(shape) * dsx, g_sy.reshape(shape) * dsy], -1)
        return gx, ggrid
