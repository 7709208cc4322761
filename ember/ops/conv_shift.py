"""Stride-1 convolution as a sum of shifted GEMMs over the flat padded input.

    y[n, o, i, j] = Σ_{c, u, v} W[o, c, u, v] · x̃[n, c, i + d_h·u, j + d_w·v]

Lay the zero-padded input x̃ out channel-major and flat, every image in a frame of Fh rows
of Fw values,

    X[c, p] = x[n, c, h, w]   at p = n·Fh·Fw + (h + pt)·Fw + (w + pl),   0 elsewhere

and give the output pixel (n, i, j) the flat index p = n·Fh·Fw + i·Fw + j. Kernel offset
(u, v) then reads X a fixed distance δ_uv = d_h·u·Fw + d_w·v further on, for every pixel
at once, so on the whole grid

    Y[:, p] = Σ_{u,v} W_uv · X[:, p + δ_uv]         W_uv = W[:, :, u, v]   (O, C)

kh·kw GEMMs, each on a shifted view of X (a row-strided 2-D view, which BLAS reads as it
lies): no column matrix is built, and X (1.06× the input for 3×3 pad 1 at 32×32) is all
the forward keeps for the backward, against im2col's kh·kw× copy. y is Y at the valid
pixels (i < Ho, j < Wo); the rest of the grid is computed and dropped, so the path pays
only when Fh·Fw is not much larger than Ho·Wo. Neighbours share their padding: the
bottom rows of one image's padding are the top rows of the next one's, and a row's right
padding runs on into the next row's left padding, so Fh = H + max(pt, pb) and
Fw = W + max(pl, pr) (33×33 rather than 34×34 for 3×3 pad 1 at 32×32: 6 % fewer wasted
products), or Ho and Wo where the padding is wider than the kernel's reach. Only
p < P = (N − 1)·Fh·Fw + (Ho − 1)·Fw + Wo is needed, and X holds P + δ_max values.

Backward, with G = ∂L/∂Y on the grid: ∂L/∂y at the valid pixels and 0 elsewhere (the
dropped positions took no part in the loss):

    ∂L/∂W_uv   = G · X[:, δ_uv : δ_uv + P]ᵀ
    ∂L/∂X[:, q] = Σ_{u,v} W_uvᵀ · G[:, q − δ_uv]       (G = 0 outside [0, P))
    ∂L/∂x      = ∂L/∂X at the interior pixels

again kh·kw GEMMs each, on shifted views of G (stored after δ_max zeros, so that
q − δ_uv never runs off its start). Groups split C and O into blocks and every product
becomes a batch of one GEMM per group.
"""

from __future__ import annotations

from ..backend import get_array_module, matmul_into, split_run


def grid_geometry(x_shape, kernel, padding, dilation):
    """(Fh, Fw, Ho, Wo, P, δ, T) for a stride-1 convolution: the frame of one image, the
    output size, the number of grid positions computed, the kernel offsets' shifts and
    the length of X."""
    n, _, h, w = x_shape
    (kh, kw), (d_h, d_w) = kernel, dilation
    (pt, pb), (pl, pr) = padding
    ho, wo = h + pt + pb - d_h * (kh - 1), w + pl + pr - d_w * (kw - 1)
    fh, fw = max(h + max(pt, pb), ho), max(w + max(pl, pr), wo)
    P = (n - 1) * fh * fw + (ho - 1) * fw + wo
    delta = [d_h * u * fw + d_w * v for u in range(kh) for v in range(kw)]
    return fh, fw, ho, wo, P, delta, max(P + delta[-1], n * fh * fw)


def flat_padded(x, geometry, padding):
    """X (C, T): x (N, C, H, W) placed in its zero frames, channel-major, flat (a view when
    there is no padding and x is channel-major already)."""
    xp = get_array_module(x)
    n, c, h, w = x.shape
    fh, fw, _, _, _, _, T = geometry
    (pt, _), (pl, _) = padding
    x_cm = x.swapaxes(0, 1)
    if T == n * h * w and x_cm.flags.c_contiguous:
        return x_cm.reshape(c, T)
    # zeros then the interior: faster than zeroing only the padding (strided writes)
    X = xp.zeros((c, T), dtype=x.dtype)
    X[:, : n * fh * fw].reshape(c, n, fh, fw)[:, :, pt : pt + h, pl : pl + w] = x_cm
    return X


def per_offset_weights(weight, groups: int):
    """W_uv for every offset, batched per group: (kh·kw, groups, O_g, C_g), contiguous."""
    xp = get_array_module(weight)
    o, c_g, kh, kw = weight.shape
    W = xp.ascontiguousarray(weight.transpose(2, 3, 0, 1))
    return W.reshape(kh * kw, groups, o // groups, c_g)


def shifted_sum(W_k, X, delta, P, out) -> None:
    """out = Σ_k W_k[k] · X[..., δ_k : δ_k + P]; W_k (K, groups, A, B), X (groups, B, ≥ δ_k + P),
    out (groups, A, P). Each product is added into out by the GEMM itself (β = 1); the
    columns are cut into one range per core, each summed by single-threaded GEMMs."""

    def columns(_, lo, hi):
        for k, d in enumerate(delta):
            matmul_into(W_k[k], X[..., d + lo : d + hi], out[..., lo:hi], accumulate=k > 0)

    split_run(columns, P)


def conv_shifted(x, weight, padding, dilation, groups):
    """Y (O, N·Fh·Fw) with Y[:, :P] = Σ_{u,v} W_uv · X[:, δ_uv : δ_uv + P], and X."""
    xp = get_array_module(x)
    n, c = x.shape[:2]
    o, c_g, kh, kw = weight.shape
    geometry = grid_geometry(x.shape, (kh, kw), padding, dilation)
    fh, fw, _, _, P, delta, T = geometry
    X = flat_padded(x, geometry, padding)
    Y = xp.empty((groups, o // groups, n * fh * fw), dtype=x.dtype)
    shifted_sum(per_offset_weights(weight, groups), X.reshape(groups, c_g, T), delta, P,
                Y[..., :P])  # fmt: skip
    return Y.reshape(o, -1), X


def grid_gradient(gy_cm, grid_shape, pad_front: int):
    """G on the grid after pad_front zeros: gy_cm (O, N, Ho, Wo) at the valid pixels.

    Returns the buffer (O, pad_front + N·Fh·Fw); G[:, p] is buffer[:, pad_front + p].
    """
    xp = get_array_module(gy_cm)
    o, n, ho, wo = gy_cm.shape
    fh, fw = grid_shape
    buf = xp.zeros((o, pad_front + n * fh * fw), dtype=gy_cm.dtype)
    buf[:, pad_front:].reshape(o, n, fh, fw)[:, :, :ho, :wo] = gy_cm
    return buf


def conv_shifted_backward(gy_cm, X, weight, x_shape, padding, dilation, groups, need):
    """(∂L/∂x, ∂L/∂W) of conv_shifted from gy_cm = ∂L/∂y as (O, N, Ho, Wo); None where
    need (need_x, need_w) says no."""
    xp = get_array_module(gy_cm)
    n, c, h, w = x_shape
    o, c_g, kh, kw = weight.shape
    o_g = o // groups
    fh, fw, ho, wo, P, delta, T = grid_geometry(x_shape, (kh, kw), padding, dilation)
    d_max = delta[-1]
    G_buf = grid_gradient(gy_cm, (fh, fw), d_max)
    G = G_buf.reshape(groups, o_g, -1)
    gx = gW = None
    if need[1]:
        Xg = X.reshape(groups, c_g, -1)
        partial = {}  # ∂L/∂W_uv summed over one range of grid positions per core

        def positions(i, lo, hi):
            part = xp.empty((kh * kw, groups, o_g, c_g), dtype=gy_cm.dtype)
            Gv = G[..., d_max + lo : d_max + hi]
            for k, d in enumerate(delta):
                matmul_into(Gv, Xg[..., d + lo : d + hi].swapaxes(1, 2), part[k])
            partial[i] = part

        split_run(positions, P)
        gW_k = partial[0]
        for i in range(1, len(partial)):
            gW_k += partial[i]
        gW = gW_k.reshape(kh, kw, o, c_g).transpose(2, 3, 0, 1)
    if need[0]:
        (pt, _), (pl, _) = padding
        q0 = pt * fw + pl  # the first and one past the last interior position of X
        q1 = (n - 1) * fh * fw + (pt + h - 1) * fw + pl + w
        # ∂L/∂X[:, q] for q0 ≤ q < q1, from G[:, q − δ] = G_buf[:, d_max − δ + q]
        shifts = [d_max - d + q0 for d in delta]
        W_t = per_offset_weights(weight, groups).swapaxes(2, 3)  # W_uvᵀ (…, C_g, O_g)
        gX = xp.empty((groups, c_g, n * fh * fw), dtype=gy_cm.dtype)
        shifted_sum(W_t, G, shifts, q1 - q0, gX[..., q0:q1])
        gx = gX.reshape(c, n, fh, fw)[:, :, pt : pt + h, pl : pl + w].swapaxes(0, 1)
    return gx, gW
