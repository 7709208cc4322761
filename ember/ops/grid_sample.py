"""grid_sample on 4-D and 5-D input: bilinear (trilinear), nearest and bicubic (4-D) sampling
at the grid's points, hand-written backward for the input and the grid.

A grid coordinate g ∈ [−1, 1] along a spatial axis of size n (g_x = grid[..., 0] along W,
g_y along H, g_z along D) is first unnormalised to a pixel coordinate (torch's
``grid_sampler_unnormalize``):

    align_corners=True:   s = (g + 1)/2 · (n − 1)        ∂s/∂g = (n − 1)/2
    align_corners=False:  s = ((g + 1) · n − 1)/2        ∂s/∂g = n/2

then, for linear and nearest, moved inside the image by the padding mode
(``compute_coordinates``):

    zeros:       s unchanged; corners outside the image read 0
    border:      s ← clip(s, 0, n − 1)                      ∂ = 1 strictly inside, else 0
    reflection:  s ← clip(reflect(s, lo, hi), 0, n − 1),    [lo, hi] = [0, n − 1] (align_corners)
                 or [−½, n − ½]; reflect mirrors s about the ends of [lo, hi] repeatedly,
                 ∂ = ±1 by the parity of the number of mirrors (and the side of lo)

Linear over k axes (bilinear k = 2, trilinear k = 3), with i_a = ⌊s_a⌋ and the fraction
f_a = s_a − i_a: corner c ∈ {0, 1}^k is the pixel i + c, read as v_c, and

    w_c = ∏_a ω_a(c_a),   ω_a(0) = 1 − f_a,  ω_a(1) = f_a      y = Σ_c w_c · v_c
    ∂y/∂s_a = Σ_c (2c_a − 1) · ∏_{b≠a} ω_b(c_b) · v_c

In 2-D (e = f_x east, n = f_y south) that is y = (1−n)(1−e)·v_nw + (1−n)e·v_ne +
n(1−e)·v_sw + ne·v_se with ∂y/∂s_x = (v_ne − v_nw)(1−n) + (v_se − v_sw)·n; in 3-D
(t = f_z) the top four corners carry (1 − t)·(the 2-D weights), the bottom four t·(them).

Nearest reads the pixel at rint(s) (round half to even, as torch's ``nearbyint``) and has no
gradient w.r.t. the grid (torch's is zeros).

Bicubic (4-D only) takes the unnormalised s itself, neither clipped nor reflected (that would
move ⌊s⌋), i = ⌊s⌋, t = s − i, and Keys' cubic convolution with A = −0.75 over the taps
i − 1, i, i + 1, i + 2 (torch's ``get_cubic_upsample_coefficients``):

    K₁(d) = ((A + 2)·d − (A + 3))·d² + 1         K₁'(d) = (3(A + 2)·d − 2(A + 3))·d    |d| ≤ 1
    K₂(d) = ((A·d − 5A)·d + 8A)·d − 4A           K₂'(d) = (3A·d − 10A)·d + 8A      1 < |d| < 2
    w₀ = K₂(1 + t)   w₁ = K₁(t)   w₂ = K₁(1 − t)   w₃ = K₂(2 − t)           (Σ w = 1)
    w₀' = K₂'(1 + t)   w₁' = K₁'(t)   w₂' = −K₁'(1 − t)   w₃' = −K₂'(2 − t)   (d/dt)

    y = Σ_{p,q} w_p(t_x) · w_q(t_y) · v(i_x − 1 + p, i_y − 1 + q)
    ∂y/∂s_x = Σ w_p'(t_x) w_q(t_y) v_pq        ∂y/∂s_y = Σ w_p(t_x) w_q'(t_y) v_pq

Each tap's coordinate goes through the padding mode on its own (torch's
``get_value_bounded``): zeros reads 0 outside, border clips it, reflection mirrors then
clips. The taps sit at integers, so ∂s/∂g is the unnormalising factor alone.

Non-finite grid points follow torch's forward, whose 2-D and 3-D kernels differ: the clip
sends NaN (reflection turns ±inf into NaN) to 0 in 2-D, to n − 1 in 3-D; with zeros padding
a NaN or ±inf point gives NaN in 2-D (NaN weight · 0) but 0 in 3-D (outside corners are
skipped). A tap outside the image reads 0 by selection, not by multiplying a mask, so an
inf or NaN pixel its clamped index points at never leaks into y or into the input gradient.

Storage: the taps are gathered for all N, output points and C at once as rows of the
channels-last input (N·∏S, C); the input's gradient is one ``scatter_add`` of those rows.
"""

from __future__ import annotations

from math import prod

from ..backend import get_array_module, scatter_add
from ..function import Function

MODES = ("bilinear", "nearest", "bicubic")
PADDING_MODES = ("zeros", "border", "reflection")
A = -0.75  # torch's cubic convolution constant


def _clip(xp, s, n: int, nan_high: bool = False):
    """clip(s, 0, n − 1) and its derivative (0 on and beyond the ends, as torch). NaN goes to
    0, or to n − 1 with ``nan_high``: torch's 2-D kernel clamps NaN to 0, its 3-D kernel's
    std::min(n − 1, std::max(s, 0)) gives n − 1 (reflection turns ±inf into NaN first)."""
    top = n - 1
    c = xp.fmax(xp.fmin(s, top), 0) if nan_high else xp.fmin(xp.fmax(s, 0), top)
    return c, ((s > 0) & (s < top)).astype(s.dtype)


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


def unnormalize(xp, g, n: int, align_corners: bool):
    """Pixel coordinate s of normalised coordinates g along an axis of size n, and ∂s/∂g."""
    if align_corners:
        s, ds = (g + 1) / 2 * (n - 1), (n - 1) / 2
    else:
        s, ds = ((g + 1) * n - 1) / 2, n / 2
    return s, xp.full(g.shape, ds, dtype=g.dtype)


def compute_coordinates(xp, s, n: int, padding_mode: str, align_corners: bool, nan_high=False):
    """s moved inside [0, n − 1] by the padding mode (unchanged for zeros), and ∂/∂s."""
    if padding_mode == "border":
        return _clip(xp, s, n, nan_high)
    if padding_mode == "reflection":
        twice = (0, 2 * (n - 1)) if align_corners else (-1, 2 * n - 1)
        s, dr = _reflect(xp, s, *twice)
        s, dc = _clip(xp, s, n, nan_high)
        return s, dr * dc
    return s, None


def source_index(xp, g, n: int, padding_mode: str, align_corners: bool, nan_high=False):
    """torch's ``grid_sampler_compute_source_index``: unnormalise, then pad; s and ∂s/∂g."""
    s, ds = unnormalize(xp, g, n, align_corners)
    s, dc = compute_coordinates(xp, s, n, padding_mode, align_corners, nan_high)
    return s, ds if dc is None else ds * dc


def _tap(xp, c, n: int):
    """Index of the integer-valued coordinate c along an axis of size n (0 where outside, so
    far-off or NaN coordinates never overflow the cast) and whether it lies inside."""
    inside = (c >= 0) & (c <= n - 1)
    return xp.where(inside, c, 0).astype(xp.int64), inside


def _products(factors):
    """Every product of one factor per axis, the first axis varying fastest."""
    out = [1]
    for axis in factors:
        out = [p * f for f in axis for p in out]
    return out


def _gather(xp, x, grid, axes):
    """x at every combination of the per-axis taps ``axes[a]`` (lists of (index, inside)
    along grid component a), the first component fastest: per tap the row index into the
    channels-last rows (N·∏S, C), whether it is inside (M, 1) and the values (M, C), 0
    outside."""
    N, C, *S = x.shape
    M = prod(grid.shape[:-1])
    rows = x.transpose(0, *range(2, x.ndim), 1).reshape(N * prod(S), C)
    strides = [prod(S[len(S) - a :]) for a in range(len(S))]  # W: 1, H: W, D: H·W
    base = (xp.arange(N, dtype=xp.int64) * prod(S)).reshape((N,) + (1,) * (grid.ndim - 2))
    taps = [(base, True)]
    for per_axis, stride in zip(axes, strides):
        taps = [(r + i * stride, m & inside) for i, inside in per_axis for r, m in taps]
    index = [r.reshape(M) for r, _ in taps]
    inside = [m.reshape(M, 1) for _, m in taps]
    # where, not ·mask: an inf or NaN pixel read by an outside tap must not leak into y
    return index, inside, [xp.where(m, rows[r], 0) for r, m in zip(index, inside)]


class _Sampler(Function):
    """The samplers' shared backward. forward sets ``saved = (x_shape, grid_shape, row_list,
    masks, geometry)`` (a row index array and an inside mask per tap; geometry None unless
    the grid needs grad), ``weights`` (an (M, 1) weight per tap; None: one tap of weight 1)
    and ``mode``; ``slopes(geometry)`` gives ∂y/∂s_a (M, C) and ∂s_a/∂g_a per grid component.
    """

    def backward(self, gy):
        xp = get_array_module(gy)
        x_shape, grid_shape, row_list, masks, geometry = self.saved
        N, C, *S = x_shape
        M = prod(grid_shape[:-1])
        g = gy.transpose(0, *range(2, gy.ndim), 1).reshape(M, C)  # like the gathered rows
        gx = ggrid = None
        if self.needs_input_grad[0]:
            taps = masks  # where, not w·mask: a NaN weight of an outside tap adds nothing
            if self.weights is not None:
                taps = [xp.where(m > 0, w, 0) for w, m in zip(self.weights, masks)]
            g_rows = xp.zeros((N * prod(S), C), dtype=gy.dtype)
            scatter_add(g_rows, xp.concatenate(row_list), xp.concatenate([g * t for t in taps]))
            gx = g_rows.reshape(N, *S, C).transpose(0, len(S) + 1, *range(1, len(S) + 1))
        if len(self.needs_input_grad) > 1 and self.needs_input_grad[1]:
            if self.mode == "nearest":
                ggrid = xp.zeros(grid_shape, dtype=gy.dtype)
            else:
                slopes, ds = self.slopes(geometry)
                parts = [
                    (g * d).sum(axis=1).reshape(grid_shape[:-1]) * s for d, s in zip(slopes, ds)
                ]
                ggrid = xp.stack(parts, -1)
                if getattr(self, "dead", None) is not None:  # 3-D points torch's backward drops
                    ggrid = xp.where(self.dead.reshape(*grid_shape[:-1], 1), 0, ggrid)
        return gx, ggrid


class GridSampleNd(_Sampler):
    """y[n, c, o] = x sampled at grid[n, o], linear or nearest, for k = 2 or 3 spatial axes
    (x: N, C, *S; grid: N, *O, k with grid[..., a] along S[k − 1 − a])."""

    def forward(self, x, grid, mode="bilinear", padding_mode="zeros", align_corners=False):
        xp = get_array_module(x, grid)
        k = grid.shape[-1]
        sizes = x.shape[:1:-1]  # along grid components 0, 1, (2): W, H, (D)
        coords = [
            source_index(xp, grid[..., a], n, padding_mode, align_corners, nan_high=k == 3)
            for a, n in enumerate(sizes)
        ]
        M = prod(grid.shape[:-1])
        self.mode = mode
        # torch's 3-D backward recomputes s without the forward's clip of NaN: a point whose
        # s is NaN on some axis (zeros: ±inf too; reflection turns ±inf into NaN, but maps
        # everything to 0 on an aligned axis of size 1) gives the input no gradient and the
        # grid a zero one, though its forward read a pixel
        self.dead = None
        if k == 3:
            bad = False
            for a, n in enumerate(sizes):
                s = unnormalize(xp, grid[..., a], n, align_corners)[0]  # ∞·0 = NaN when n = 1
                if padding_mode == "border":
                    bad = bad | xp.isnan(s)
                elif padding_mode == "zeros" or n > 1 or not align_corners:
                    bad = bad | ~xp.isfinite(s)
            self.dead = bad.reshape(M, 1) if xp.any(bad) else None
        if mode == "nearest":
            axes = [[_tap(xp, xp.rint(s), n)] for (s, _), n in zip(coords, sizes)]
            index, inside, values = _gather(xp, x, grid, axes)
            out = values[0]
            masks = [self._live(m).astype(x.dtype) for m in inside]
            self.saved = (x.shape, grid.shape, index, masks, None)
            self.weights = None
        else:
            floors = [xp.floor(s) for s, _ in coords]
            axes = [[_tap(xp, i, n), _tap(xp, i + 1, n)] for i, n in zip(floors, sizes)]
            index, inside, values = _gather(xp, x, grid, axes)
            masks = [self._live(m).astype(x.dtype) for m in inside]
            fracs = [(s - i).reshape(M, 1) for (s, _), i in zip(coords, floors)]
            self.weights = _products([[1 - f, f] for f in fracs])
            if k == 3:  # torch's 3-D kernel skips outside corners, NaN weights (±inf s) too
                self.weights = [xp.where(m, w, 0) for w, m in zip(self.weights, inside)]
            out = sum(w * v for w, v in zip(self.weights, values))
            need_grid = len(self.needs_input_grad) > 1 and self.needs_input_grad[1]
            geometry = (*fracs, *[ds for _, ds in coords], values)  # fx, fy, dsx, dsy, v in 2-D
            self.saved = (x.shape, grid.shape, index, masks, geometry if need_grid else None)
        return out.reshape(*grid.shape[:-1], x.shape[1]).transpose(0, k + 1, *range(1, k + 1))

    def _live(self, inside):
        """The tap masks of the backward: none for the points torch's backward drops."""
        return inside if self.dead is None else inside & ~self.dead

    def slopes(self, geometry):
        """∂y/∂s_a = Σ_c (2c_a − 1) ∏_{b≠a} ω_b(c_b) v_c, for each grid component a."""
        k = (len(geometry) - 1) // 2
        fracs, ds, values = geometry[:k], geometry[k : 2 * k], geometry[-1]
        slopes = []
        for a in range(k):
            factors = [[-1, 1] if b == a else [1 - f, f] for b, f in enumerate(fracs)]
            slopes.append(sum(p * v for p, v in zip(_products(factors), values)))
        return slopes, ds


class GridSample2d(GridSampleNd):
    """Bilinear or nearest grid_sample of 4-D x (N, C, H, W) at grid (N, H_out, W_out, 2)."""


class GridSample3d(GridSampleNd):
    """Trilinear or nearest grid_sample of 5-D x (N, C, D, H, W) at grid (N, D', H', W', 3)."""


def cubic_coefficients(t):
    """w₀ … w₃ of the taps i − 1 … i + 2 at fraction t (torch's cubic_convolution1/2)."""

    def k1(d):
        return ((A + 2) * d - (A + 3)) * d * d + 1

    def k2(d):
        return ((A * d - 5 * A) * d + 8 * A) * d - 4 * A

    return [k2(1 + t), k1(t), k1(1 - t), k2(2 - t)]


def cubic_derivatives(t):
    """dw₀/dt … dw₃/dt."""

    def k1(d):
        return (3 * (A + 2) * d - 2 * (A + 3)) * d

    def k2(d):
        return (3 * A * d - 10 * A) * d + 8 * A

    return [k2(1 + t), k1(t), -k1(1 - t), -k2(2 - t)]


class GridSampleBicubic2d(_Sampler):
    """Bicubic grid_sample of 4-D x (N, C, H, W) at grid (N, H_out, W_out, 2): 4×4 taps."""

    def forward(self, x, grid, padding_mode="zeros", align_corners=False):
        xp = get_array_module(x, grid)
        sizes = x.shape[:1:-1]  # W, H
        M = prod(grid.shape[:-1])
        coords = [unnormalize(xp, grid[..., a], n, align_corners) for a, n in enumerate(sizes)]
        axes, w, dw = [], [], []
        for (s, _), n in zip(coords, sizes):
            i = xp.floor(s)
            t = (s - i).reshape(M, 1)
            taps = [compute_coordinates(xp, i + p, n, padding_mode, align_corners)[0]
                    for p in (-1, 0, 1, 2)]  # fmt: skip
            axes.append([_tap(xp, c, n) for c in taps])
            w.append(cubic_coefficients(t))
            dw.append(cubic_derivatives(t))
        index, inside, values = _gather(xp, x, grid, axes)
        masks = [m.astype(x.dtype) for m in inside]
        self.weights = _products(w)
        out = sum(wt * v for wt, v in zip(self.weights, values))
        geometry = None
        if len(self.needs_input_grad) > 1 and self.needs_input_grad[1]:
            d_sx = sum(p * v for p, v in zip(_products([dw[0], w[1]]), values))
            d_sy = sum(p * v for p, v in zip(_products([w[0], dw[1]]), values))
            geometry = ((d_sx, d_sy), (coords[0][1], coords[1][1]))
        self.saved = (x.shape, grid.shape, index, masks, geometry)
        self.mode = "bicubic"
        N, Ho, Wo, _ = grid.shape
        return out.reshape(N, Ho, Wo, x.shape[1]).transpose(0, 3, 1, 2)

    def slopes(self, geometry):
        """∂y/∂s_x, ∂y/∂s_y (kept by forward) and ∂s/∂g (the unnormalising factor)."""
        return geometry
