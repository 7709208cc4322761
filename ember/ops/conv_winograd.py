"""Winograd F(2×2, 3×3): the 3×3, stride-1, pad-1 convolution in 2.25× fewer multiplies.

Lavin & Gray 2016 ("Fast Algorithms for Convolutional Neural Networks"). Cut the output into
2×2 tiles; the tile Y (2×2) of one output channel is a sum over input channels of what one
4×4 window d of the padded input x̃ and the 3×3 kernel g give:

    Y = Aᵀ [ Σ_c (G g_oc Gᵀ) ⊙ (Bᵀ d_c B) ] A       U = G g Gᵀ,  V = Bᵀ d B   (4×4 each)

        Bᵀ = [1  0 −1  0]      G = [ 1    0    0 ]      Aᵀ = [1  1  1  0]
             [0  1  1  0]          [ ½    ½    ½ ]           [0  1 −1 −1]
             [0 −1  1  0]          [ ½   −½    ½ ]
             [0  1  0 −1]          [ 0    0    1 ]

The sum over c of the 16 elementwise products is 16 GEMMs, one per transform point (ξ, ν):
M_ξν = U_ξν · V_ξν, (O × C)·(C × tiles), 16 multiplies per tile and channel pair where the
direct sum takes 36. It pays with NumPy passes over 4× the input (V) and 4× the output (M),
which is why it runs only where the GEMMs dominate: enough channels for the image size
(conv.py's ``winograd_pays``, measured against the shifted GEMMs of conv_shift.py).

Backward, with ∂L/∂M = A ∂L/∂Y Aᵀ per tile:

    ∂L/∂U_ξν = Σ_tiles ∂L/∂M_ξν · V_ξνᵀ        ∂L/∂g = Gᵀ ∂L/∂U G
    ∂L/∂x    = the same forward on ∂L/∂y, the kernel flipped in u, v and its C, O swapped

(a 3×3 pad-1 stride-1 convolution's input gradient is again one of those). ∂L/∂M's row and
column 3 are kept negated (the adds are cheaper) and the sign fixed in ``GG_T_SIGNED``.

Layout. x is split into four polyphase planes x[n, c, 2i + a, 2j + b] (a, b ∈ {0, 1}), each
laid out flat, channel by channel, in frames of (Th + 1) × (Tw + 1) tile positions per image
(Th = ⌈H/2⌉, Tw = ⌈W/2⌉; the last frame row and column stay zero, as do the plane entries an
odd H or W lacks, which is the zero padding that makes H and W even). Tile (i, j) reads its
window from the planes at positions q, q + 1, q + Tw + 1, q + Tw + 2, and the padding by 1 is
the same planes read one row or column earlier, landing in the previous frame's zero row or
column: so every transform is one contiguous pass over all channels of a block at once (a
pass over a strided (C, m) view costs 2.5× as much). The frames' zero row and column are
junk tiles, computed and dropped (13 % more GEMM work at 32×32, 27 % at 16×16). Images go in
blocks of ``BLOCK`` positions × channels, whole blocks per core, BLAS held to one thread
(backend.split_run, as conv_shift.py); per block the 4×4 transform domain is walked one
column ν at a time so that V and M stay in cache. The forward keeps the blocks' planes
(1.13× x at 32×32) for ∂L/∂W, which recomputes V from them (keeping V, 4.5× x, was no faster).
"""

from __future__ import annotations

from ..backend import get_array_module, matmul_into, split_run, xp

#: The kernel transform (Bᵀ and Aᵀ, all ±1, are written out as adds in ``bt`` and ``at``).
G = xp.array([[1.0, 0.0, 0.0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0.0, 0.0, 1.0]])
#: G ⊗ G (16 × 9): row 4ξ + ν takes a kernel's 9 taps 3u + v to U_ξν (U = G g Gᵀ, flat).
GG = xp.kron(G, G)
#: ∂L/∂g = Gᵀ ∂L/∂U G, flat: (G ⊗ G)ᵀ, with the signs of ∂L/∂M's negated row and column 3.
_SIGNS = xp.asarray([1.0, 1.0, 1.0, -1.0])
GG_T_SIGNED = GG.T * xp.outer(_SIGNS, _SIGNS).reshape(1, 16)

#: Tile positions × channels per block (cache blocking; each core takes whole blocks).
BLOCK = 192 * 1024


def winograd_fits(x_shape, w_shape, stride, padding, dilation, groups) -> bool:
    """Whether F(2×2, 3×3) computes this convolution: a genuinely 2-D 3×3 kernel (a 1-D
    convolution's is 1 × k), stride 1, padding 1 on every side, no dilation, no groups."""
    return (len(x_shape) == 4 and tuple(w_shape[2:]) == (3, 3) and stride == (1, 1)
            and padding == ((1, 1), (1, 1)) and dilation == (1, 1) and groups == 1
            and min(x_shape) > 0)  # fmt: skip


def bt(d0, d1, d2, d3, out) -> None:
    """Bᵀ along one tile axis: out[0..3] = d0 − d2, d1 + d2, d2 − d1, d1 − d3."""
    xq = get_array_module(out)
    xq.subtract(d0, d2, out=out[0])
    xq.add(d1, d2, out=out[1])
    xq.subtract(d2, d1, out=out[2])
    xq.subtract(d1, d3, out=out[3])


def at(m0, m1, m2, m3, out0, out1) -> None:
    """Aᵀ along one tile axis: out0 = m0 + m1 + m2, out1 = m1 − m2 − m3."""
    xq = get_array_module(out0)
    xq.add(m0, m1, out=out0)
    out0 += m2
    xq.subtract(m1, m2, out=out1)
    out1 -= m3


class Frames:
    """Tile geometry: frames of (Th + 1) × (Tw + 1) positions per image, in blocks of `step`
    images; a block's planes are (C, Lc) rows: F zeros, m = step·Q positions, F zeros (F is
    the farthest a window reads before or after its position)."""

    def __init__(self, n, h, w, channels):
        self.n, self.h, self.w = n, h, w
        self.th, self.tw = (h + 1) // 2, (w + 1) // 2
        self.w1 = self.tw + 1  # one frame row
        self.q = (self.th + 1) * self.w1  # one frame
        self.F = self.w1 + 1
        blocks = -(-n * self.q * channels // BLOCK)
        blocks = min(n, -(-blocks // 2) * 2)  # an even count: whole blocks per core
        self.step = -(-n // blocks)
        self.m = self.step * self.q
        self.lc = self.m + 2 * self.F
        self.blocks = [(n0, min(n0 + self.step, n)) for n0 in range(0, n, self.step)]

    def grid(self, rows, k):
        """The tile positions (i < Th, j < Tw) of a block's k images in rows (…, ≥ k·Q)."""
        frames = rows[..., : k * self.q].reshape(*rows.shape[:-1], k, self.th + 1, self.w1)
        return frames[..., : self.th, : self.tw]

    def parity(self, a, b):
        """(rows, columns) of plane (a, b) that hold pixels: one fewer where H or W is odd."""
        return (self.h + 1 - a) // 2, (self.w + 1 - b) // 2


def fill(P, x_cm, fr: Frames, n0, n1) -> None:
    """Images n0..n1 of x_cm (C, N, H, W) into a block's planes P (2, 2, C, Lc): plane
    (a, b) holds x[..., 2i + a, 2j + b] at frame position (i, j). Writes only there: the
    rest of P, zeroed once, stays zero block after block."""
    for a in range(2):
        for b in range(2):
            r, s = fr.parity(a, b)
            fr.grid(P[a, b, :, fr.F :], n1 - n0)[..., :r, :s] = x_cm[:, n0:n1, a::2, b::2]


def input_rows(P, fr: Frames, T) -> None:
    """T (4, 2, C, Lc): Bᵀ over the rows of the pad-1 windows of a block's planes P, at both
    column parities, in flat passes over all channels. Padded row 2i + ρ is x's row
    2i + ρ − 1: plane row i − 1 of parity 1 (ρ = 0), i of 0 (ρ = 1), i of 1 (ρ = 2), i + 1
    of 0 (ρ = 3); padded column 2j + b is plane column j − 1 + b of parity 1 − b."""
    Pf, Tf = P.reshape(2, 2, -1), T.reshape(4, 2, -1)
    w1, t0 = fr.w1, fr.F
    n = Pf.shape[-1] - 2 * t0
    for b in range(2):
        s = 1 - b
        even, odd = Pf[1, s], Pf[0, s]  # padded rows 2i + 0 / 2 and 2i + 1 / 3
        d0, d2 = even[t0 - w1 - s : t0 - w1 - s + n + 1], even[t0 - s : t0 - s + n + 1]
        d1, d3 = odd[t0 - s : t0 - s + n + 1], odd[t0 + w1 - s : t0 + w1 - s + n + 1]
        bt(d0, d1, d2, d3, Tf[:, b, t0 : t0 + n + 1])


def input_column(T, fr: Frames, l, out) -> None:
    """out (4, C, Lc) = V[:, l]: column l of Bᵀ d B from T; the window's columns 0..3 are
    the parities 0, 1 at t and at t + 1. One pass for all four rows."""
    xq = get_array_module(out)
    Tf, of = T.reshape(4, 2, -1), out.reshape(4, -1)
    t0 = fr.F
    n = Tf.shape[-1] - 2 * t0
    e = [Tf[:, 0, t0 : t0 + n], Tf[:, 1, t0 : t0 + n], Tf[:, 0, t0 + 1 : t0 + n + 1],
         Tf[:, 1, t0 + 1 : t0 + n + 1]]  # fmt: skip
    i, j = [(0, 2), (1, 2), (2, 1), (1, 3)][l]
    (xq.add if l == 1 else xq.subtract)(e[i], e[j], out=of[:, t0 : t0 + n])


class Scratch:
    """One core's buffers for the forward of one block, reused block after block (allocated
    per call, as conv_shift.py does: caching them across calls made no measurable difference)."""

    def __init__(self, c, o, fr: Frames, dtype):
        xq = get_array_module(G)
        self.T = xq.empty((4, 2, c, fr.lc), dtype)
        self.V = xq.empty((4, c, fr.lc), dtype)  # one column l of V
        self.M = xq.empty((4, o, fr.m), dtype)
        self.S = xq.empty((2, 4, o, fr.m), dtype)  # Aᵀ M: output row a, transform column l
        self.Y = xq.empty((2, o, fr.m), dtype)

    def conv(self, P, U, fr: Frames, n0, n1, y) -> None:
        """y[:, n0:n1] = the pad-1 convolution of a block's planes P by U (4, 4, O, C), one
        column l of the 4×4 transform domain at a time (so that V and M stay in cache)."""
        input_rows(P, fr, self.T)
        for l in range(4):
            input_column(self.T, fr, l, self.V)
            for k in range(4):
                matmul_into(U[k, l], self.V[k, :, fr.F : fr.F + fr.m], self.M[k])
            at(*self.M, self.S[0, l], self.S[1, l])
        for a in range(2):
            at(*self.S[a], self.Y[0], self.Y[1])
            for b in range(2):
                r, s = fr.parity(a, b)
                y[:, n0:n1, a::2, b::2] = fr.grid(self.Y[b], n1 - n0)[..., :r, :s]


def kernel_gemm(K, src, out) -> None:
    """out (r, P) = K (r, q) · src (q, P), the columns cut into one range per core, each by
    a single-threaded GEMM, however small: a 2-thread OpenBLAS call leaves its worker spinning
    on the second core a while, and the passes after it ran at half speed (the BasicBlock
    conv's forward took 29 ms instead of 16)."""
    K = K.astype(out.dtype)

    def columns(_, lo, hi):
        matmul_into(K, src[:, lo:hi], out[:, lo:hi])

    split_run(columns, out.shape[1], min_part=1)


def weight_transform(w, flip: bool = False):
    """U (4, 4, O, C) = G g Gᵀ for every kernel g = w[o, c], contiguous: one GEMM by G ⊗ G
    over the O·C kernels (multiply-adds along the kernel axes took 6.2 ms at C = O = 256).
    With ``flip``, U of the kernels flipped in u and v, O and C swapped: (4, 4, C, O)."""
    xq = get_array_module(w)
    o, c = w.shape[:2]
    U = xq.empty((16, o * c), w.dtype)
    # flipping g in u and v reverses its 9 taps 3u + v: G ⊗ G's columns reversed
    kernel_gemm(GG[:, ::-1] if flip else GG, xq.ascontiguousarray(w).reshape(o * c, 9).T, U)
    U = U.reshape(4, 4, o, c)
    return xq.ascontiguousarray(U.swapaxes(2, 3)) if flip else U


def conv_winograd(x, weight, keep: bool):
    """y as (O, N, H, W), contiguous, and what the backward needs: (planes, frames), the
    planes (every block's, (blocks, 2, 2, C, Lc)) only with ``keep`` (∂L/∂W wanted)."""
    xq = get_array_module(x)
    n, c, h, w = x.shape
    o = weight.shape[0]
    fr = Frames(n, h, w, max(c, o))
    x_cm, U = x.swapaxes(0, 1), weight_transform(weight)
    y = xq.empty((o, n, h, w), x.dtype)
    planes = xq.zeros((len(fr.blocks), 2, 2, c, fr.lc), x.dtype) if keep else None

    def part(_, lo, hi):
        s = Scratch(c, o, fr, x.dtype)
        own = None if keep else xq.zeros((2, 2, c, fr.lc), x.dtype)  # reused block to block
        for i in range(lo, hi):
            P = planes[i] if keep else own
            fill(P, x_cm, fr, *fr.blocks[i])
            s.conv(P, U, fr, *fr.blocks[i], y)

    split_run(part, len(fr.blocks), min_part=1)
    return y, (planes, fr)


def conv_winograd_backward(gy_cm, saved, weight, need):
    """(∂L/∂x, ∂L/∂W) of conv_winograd from gy_cm = ∂L/∂y as (O, N, H, W); None where need
    (need_x, need_w) says no. Per block, ∂L/∂y's planes serve both: as the input of ∂L/∂x's
    convolution and, transformed, as ∂L/∂M."""
    xq = get_array_module(gy_cm)
    planes, fr = saved
    o, c = weight.shape[:2]
    need_x, need_w = need
    dtype = gy_cm.dtype
    gx = U_flip = None
    if need_x:
        gx = xq.empty((c, fr.n, fr.h, fr.w), dtype)
        U_flip = weight_transform(weight, flip=True)
    partial = {}  # ∂L/∂U summed over one range of blocks per core

    def part(p, lo, hi):
        # R: rows of A ∂L/∂Y over the tiles (R[0], R[3]: ∂L/∂y's planes, zero off the images)
        R = xq.zeros((4, 2, o, fr.lc), dtype)
        s = Scratch(o, c, fr, dtype) if need_x else None
        if need_w:
            gU = xq.zeros((4, 4, o, c), dtype)
            gM = xq.empty((2, 4, o, fr.lc), dtype)  # columns 1, 2 of ∂L/∂M
            T, V = xq.empty((4, 2, c, fr.lc), dtype), xq.empty((4, c, fr.lc), dtype)
        for i in range(lo, hi):
            n0, n1 = fr.blocks[i]
            fill(R[0::3], gy_cm, fr, n0, n1)
            if need_x:
                s.conv(R[0::3], U_flip, fr, n0, n1, gx)
            if not need_w:
                continue
            input_rows(planes[i], fr, T)  # the forward's V again, one column l at a time
            xq.add(R[0], R[3], out=R[1])
            xq.subtract(R[0], R[3], out=R[2])
            xq.add(R[:, 0], R[:, 1], out=gM[0])
            xq.subtract(R[:, 0], R[:, 1], out=gM[1])
            # this block's images only (a short last block leaves the previous one's after)
            valid = slice(fr.F, fr.F + (n1 - n0) * fr.q)
            for l, gMl in enumerate((R[:, 0], gM[0], gM[1], R[:, 1])):
                input_column(T, fr, l, V)
                for k in range(4):
                    matmul_into(gMl[k, :, valid], V[k, :, valid].T, gU[k, l], accumulate=True)
        if need_w:
            partial[p] = gU

    split_run(part, len(fr.blocks), min_part=1)
    gw = None
    if need_w:
        gg = xq.empty((9, o * c), dtype)
        kernel_gemm(GG_T_SIGNED, sum(partial.values()).reshape(16, o * c), gg)
        gw = gg.reshape(3, 3, o, c).transpose(2, 3, 0, 1)
    return None if gx is None else gx.swapaxes(0, 1), gw
