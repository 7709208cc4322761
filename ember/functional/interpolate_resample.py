"""F.interpolate's resampling of one axis, y = A·x along it, and the op that chains the axes.

A (m × n) holds output d's tap weights w_dk at columns i_dk (interpolate_taps.py). It is
banded: the outputs s … e−1 read only the columns lo … hi−1 their taps reach. So A is applied
in blocks of 16 rows, one small GEMM per block,

    y[s:e] = A[s:e, lo:hi] · x[lo:hi]            (∂L/∂x: the same with Aᵀ's row blocks)

a dense product's exact adjoint at a fraction of its cost: 64 → 128 bilinear did 2 × 64
multiply-adds per output as one dense GEMM, ~2 × 19 this way, and a gather per tap costs more
than either on a short last axis (each tap one strided pass). A block's GEMM multiplies its zeros
too, and 0·inf = NaN, so where a result is not finite (one sum tells), that axis is redone tap
by tap with torch's own taps, padding skipped: ±inf and NaN then land where torch puts them.
Nearest modes gather (an exact copy of any dtype); their adjoint is A's, a 0/1 matrix.

uint8 sums Σ x·w₁₆ in float GEMMs: every partial sum is an integer (times 2^−p) below
255 · Σ|w₁₆|, exact in any order in float32 while that is below 2^24 (downscaling by up to ~2
with the tent), else in float64 (≪ 2^53); torch's rounding (+ 2^(p−1), shift by p, clamp)
follows.
"""

from __future__ import annotations

import functools
import math

from ..autograd_higher import rule
from ..backend import matmul_into, scatter_add, ufunc_at, xp
from ..function import Function
from ..tensor import apply
from . import interpolate_taps as T

_BLOCK = 16  # rows per GEMM: measured against 4 … 128 on 64 … 640-long axes, 16 was fastest


def _spread(a, dim: int, ndim: int):
    """Per-row values (m,) shaped to broadcast against an array with its m at ``dim``."""
    return a.reshape(a.shape + (1,) * (ndim - dim - 1))


def _finite(y) -> bool:
    """All of y finite: one sum, which is NaN or ±inf if any term is (an overflow of the sum
    alone sends a finite y down the exact path, which is only slower). Either side of a map
    can be checked: a finite x makes the GEMMs exact (their zeros add nothing), and one
    non-finite x_j makes NaN of every output whose block reads column j."""
    return bool(xp.isfinite(y.sum()))


class AxisMap:
    """y = A·x along one axis: n inputs, m outputs, taps (idx, w, valid) in the compute type
    ct. The matrix and its row blocks (of A and of Aᵀ) are built on first use and kept."""

    def __init__(self, n: int, idx, w, valid, ct):
        self.n, self.m = n, idx.shape[0]
        self.idx, self.w, self.valid, self.ct = idx, w, valid, ct
        self._blocks: dict = {}
        # nearest by a whole factor f (i = ⌊d/f⌋, m = f·n): a repeat, and its adjoint f adds
        f = self.m // n
        self.factor = f if (w is None and 2 <= f <= 8 and self.m == f * n and bool(
            (idx[:, 0] == xp.arange(self.m) // f).all())) else 0  # fmt: skip

    def blocks(self, adjoint: bool):
        """(s, e, lo, hi, M[s:e, lo:hi]) over M = A (or Aᵀ) in blocks of ``_BLOCK`` rows, [lo, hi)
        the columns that those rows' taps reach. Built from the taps alone (no m × n matrix:
        a 4K image's axis would need 30 MB for it)."""
        if adjoint not in self._blocks:
            m, k = self.idx.shape
            d = xp.broadcast_to(xp.arange(m)[:, None], (m, k))
            w = xp.ones((m, k), self.ct) if self.w is None else self.w
            keep = xp.ones((m, k), bool) if self.valid is None else self.valid  # no padding
            d, j, w = d[keep], self.idx[keep], w[keep]
            r, c = (self.n, m) if adjoint else (m, self.n)
            if adjoint:
                d, j = j, d
            nb = -(-r // _BLOCK)
            blk = d // _BLOCK
            lo, hi = xp.full(nb, c), xp.zeros(nb, dtype=j.dtype)
            ufunc_at("minimum", lo, blk, j)
            ufunc_at("maximum", hi, blk, j + 1)
            hi = xp.maximum(lo, hi)  # a block no tap reaches: empty, its rows are zeros
            width = max(1, int((hi - lo).max()))
            dense = xp.zeros((nb, _BLOCK, width), dtype=self.ct)
            scatter_add(dense.reshape(-1), (d * width) + (j - lo[blk]), w)  # row d of block
            self._blocks[adjoint] = [
                (s, min(s + _BLOCK, r), a, b, dense[i, : min(_BLOCK, r - s), : b - a])
                for i, (s, a, b) in enumerate(zip(range(0, r, _BLOCK), lo.tolist(), hi.tolist()))
            ]
        return self._blocks[adjoint]

    def apply(self, x, dim: int):
        if self.factor:
            return xp.repeat(x, self.factor, axis=dim)
        if self.w is None:  # nearest: a gather copies exactly, whatever the dtype
            return xp.take(x, self.idx[:, 0], axis=dim)
        x = x.astype(self.ct, copy=False)
        if self.m >= self.n:  # the input is the smaller array to check: the GEMMs are exact
            return _banded(x, dim, self.blocks(False), self.m) if _finite(x) else self._taps(x, dim)
        y = _banded(x, dim, self.blocks(False), self.m)
        return y if _finite(y) else self._taps(x, dim)

    def adjoint(self, g, dim: int):
        if self.factor:  # Σ over each run of f outputs: strided adds, no multiplies
            r = g.reshape(g.shape[:dim] + (self.n, self.factor) + g.shape[dim + 1 :])
            parts = [r[(slice(None),) * (dim + 1) + (k,)] for k in range(self.factor)]
            gx = parts[0] + parts[1]
            for part in parts[2:]:
                gx += part
            return gx
        g = g.astype(self.ct, copy=False)
        if self.n >= self.m:
            return _banded(g, dim, self.blocks(True), self.n) if _finite(g) else (
                self._taps_adjoint(g, dim))  # fmt: skip
        gx = _banded(g, dim, self.blocks(True), self.n)
        return gx if _finite(gx) else self._taps_adjoint(g, dim)

    def _taps(self, x, dim: int):
        """Σ_k w_k · x[i_k] tap by tap, in torch's order; padding taps are left out."""
        y = None
        for k in range(self.idx.shape[1]):
            t = xp.take(x, self.idx[:, k], axis=dim) * _spread(self.w[:, k], dim, x.ndim)
            if self.valid is not None and not bool(self.valid[:, k].all()):
                t = xp.where(_spread(self.valid[:, k], dim, x.ndim), t, 0)
            y = t if y is None else y + t
        return y

    def _taps_adjoint(self, g, dim: int):
        """∂L/∂x[i_k] += w_k · ∂L/∂y tap by tap (torch's backward), padding left out."""
        shape = g.shape[:dim] + (self.n,) + g.shape[dim + 1 :]
        gx = xp.zeros(shape, dtype=g.dtype)
        for k in range(self.idx.shape[1]):
            v = g if self.w is None else g * _spread(self.w[:, k], dim, g.ndim)
            if self.valid is not None:
                v = xp.where(_spread(self.valid[:, k], dim, g.ndim), v, 0)
            scatter_add(xp.moveaxis(gx, dim, 0), self.idx[:, k], xp.moveaxis(v, dim, 0))
        return gx


class _Transposed:
    """Aᵀ as a map: the adjoint's forward, for the gradient of a gradient."""

    def __init__(self, a):
        self.a = a

    def apply(self, x, dim: int):
        return self.a.adjoint(x, dim)

    def adjoint(self, g, dim: int):
        return self.a.apply(g, dim)


def _banded(x, dim: int, blocks, rows: int):
    """M·x along ``dim`` block by block: x viewed as (P, n, Q), each block one GEMM."""
    shape = x.shape
    n, p, q = shape[dim], math.prod(shape[:dim]), math.prod(shape[dim + 1 :])
    if 1 < q < 8:  # rows this short make P tiny products per block: the axis goes last
        x2 = xp.moveaxis(x.reshape(p, n, q), 1, 2).reshape(p * q, n)
        y = xp.moveaxis(_banded(x2, 1, blocks, rows).reshape(p, q, rows), 2, 1)
    elif q == 1:  # the last axis: (P, w) · Bᵀ for each block, written into y's columns
        x2, y = x.reshape(p, n), xp.empty((p, rows), dtype=x.dtype)
        for s, e, lo, hi, b in blocks:
            if hi > lo:
                matmul_into(x2[:, lo:hi], b.T, y[:, s:e])
            else:
                y[:, s:e] = 0
    else:  # B · (w, Q) for each of the P slices, in one batched product per block
        x3, y = x.reshape(p, n, q), xp.empty((p, rows, q), dtype=x.dtype)
        for s, e, lo, hi, b in blocks:
            if hi > lo:
                xp.matmul(b, x3[:, lo:hi], out=y[:, s:e])
            else:
                y[:, s:e] = 0
    return y.reshape(shape[:dim] + (rows,) + shape[dim + 1 :])


class Resample(Function):
    """y = x resampled along each of ``maps``' dims in turn: y = A_K ×… A_1 x; the gradient
    ∂L/∂x = A_1ᵀ ×… A_Kᵀ ∂L/∂y, the adjoint maps in reverse order. The compute type is the
    maps'; y and ∂L/∂x come back in x's dtype."""

    def forward(self, x, maps):
        self.maps, self.dtype = maps, x.dtype
        for dim, a in maps:
            x = a.apply(x, dim)
        return x.astype(self.dtype, copy=False)

    def backward(self, gy):
        for dim, a in reversed(self.maps):
            gy = a.adjoint(gy, dim)
        return (gy.astype(self.dtype, copy=False),)


@rule(Resample)
def _resample_rule(fn, g):
    """The gradient is a resample of g by the transposed maps, recorded, so it differentiates
    again (its own gradient is the original maps)."""
    return (apply(Resample, g, maps=tuple((d, _Transposed(a)) for d, a in reversed(fn.maps))),)


# ---------------------------------------------------------------- the maps of one axis


@functools.lru_cache(maxsize=256)
def axis_map(mode: str, n: int, m: int, scale, align_corners: bool, antialias: bool,
             fast: bool, ct):  # fmt: skip
    """The map of one float axis (None where torch copies it), kept for the next call."""
    if mode in ("nearest", "nearest-exact"):
        taps = T.nearest_taps(n, m, scale, mode == "nearest-exact", fast, ct)
    elif m == n and antialias:  # the separable kernels copy an unchanged axis
        taps = None
    elif antialias:
        support, f, _ = T.FILTERS[mode]
        taps = T.aa_taps(n, m, scale, align_corners, support, f, ct)[:3]
    elif mode == "bicubic":
        taps = T.cubic_taps(n, m, scale, align_corners, ct)
    elif mode == "area":
        taps = T.area_taps(n, m, ct)
    else:
        taps = T.linear_taps(n, m, scale, align_corners, ct)
    return None if taps is None else AxisMap(n, *taps, ct)


@functools.lru_cache(maxsize=256)
def uint8_map(mode: str, n: int, m: int, scale, align_corners: bool, antialias: bool):
    """torch's integer taps as a map of the weights w₁₆ · 2^−p (exact: a power of two), in
    float32 where every partial sum of Σ x·w₁₆ + 2^(p−1) stays below 2^24 (then exact in
    float32, in any order), else in float64."""
    idx, w16, p = T.uint8_taps(mode, n, m, scale, align_corners, antialias)
    bound = 255 * float(xp.abs(w16).sum(1).max()) + 2 ** (p - 1)
    ct = xp.float32 if bound <= 2**24 else xp.float64
    return AxisMap(n, idx, (w16 * 2.0**-p).astype(ct), None, ct)


def resample_uint8(a, maps):
    """torch's uint8 path: each axis (Σ x·w₁₆ + 2^(p−1)) >> p clamped to 0 … 255, here
    ⌊Σ x·w₁₆·2^−p + ½⌋ (the same number, exactly; see the module docstring), the values kept
    as floats between axes and truncated to uint8 at the end (the floor, for values ≥ 0)."""
    y = a
    for i, (dim, amap) in enumerate(maps):
        y = _banded(y.astype(amap.ct, copy=False), dim, amap.blocks(False), amap.m)
        y += 0.5
        if i + 1 < len(maps):
            xp.floor(y, out=y)
        xp.clip(y, 0, 255, out=y)
    return y.astype(xp.uint8)
