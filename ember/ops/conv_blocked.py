"""im2col convolution in blocks of images whose columns stay in cache: for skinny products.

The same sum as conv.py's im2col path, Y = W_mat · X_col (+ b), with X_col cut by images:

    Y[:, block] = W_mat · X_col[:, block]        ∂L/∂W = Σ_blocks ∂L/∂Y[:, block] · X_col[:, block]ᵀ

A first layer such as LeNet's (1 → 6 channels, 5×5) multiplies a 6 × 25 matrix into 25 rows
of 57k columns: two flops per byte of X_col read, and BLAS, packing a 5.7 MB operand whose
other side is only 6 rows tall, runs that product at a fraction of its speed (and the
weight gradient, a 25 × 6 result summed over 57k columns, worse). Cut into blocks of a few
images (~384 KB of columns each), every block is written by the im2col copy and read by its
GEMM while it is still in the core's L2 cache; single-threaded, LeNet's first convolution
took 1065 → 789 µs forward and its ∂L/∂W 862 → 435 µs (a 3×3 conv to 8 channels on 128
MNIST images: 856 → 691 and 1380 → 665). Wider products (16 output channels and up, or
more than 32 column rows) run as fast or faster in one GEMM, so ``blocked_pays`` keeps
this path to the skinny ones.

The blocks run one after another on NumPy's matmul (a block's product is too small for
BLAS's threads or for splitting the blocks over ember's threads to pay: both were slower,
as was calling BLAS through backend.matmul_into, whose ctypes call costs ~8 µs a block). The
columns are kept per block for the backward (the forward wrote them anyway), so ∂L/∂W reads
them back block by block; each block's ∂L/∂W is its own partial sum, added in block order.
In one LeNet step (2 threads): forward 1.72 → 1.03 ms, backward (∂L/∂W, ∂L/∂b) 1.44 → 0.82 ms.
"""

from __future__ import annotations

from ..backend import get_array_module

#: Bytes of columns per block: measured on the 2-core AVX-512 machine (L2 1 MB per core),
#: where blocks of 4 LeNet images (358 KB) ran 2× faster than blocks of 8 (717 KB).
BLOCK_BYTES = 384 << 10
#: The products this path is for: few output channels against a short column.
MAX_OUT_CHANNELS = 8
MAX_COLUMN_ROWS = 32
#: Below this size the whole column matrix fits in cache already.
MIN_COLUMN_BYTES = 2 << 20


def blocked_pays(w_shape, groups: int, n_columns: int, itemsize: int) -> bool:
    """Whether the blocked im2col runs: one group, O ≤ 8, C·kh·kw ≤ 32 and a column matrix
    (C·kh·kw × ``n_columns``) too large for the cache."""
    o, c_g, kh, kw = w_shape
    rows = c_g * kh * kw
    return (groups == 1 and o <= MAX_OUT_CHANNELS and rows <= MAX_COLUMN_ROWS
            and rows * n_columns * itemsize >= MIN_COLUMN_BYTES)  # fmt: skip


def images_per_block(rows: int, per_image: int, n: int, itemsize: int) -> int:
    """How many images' columns (rows × per_image values each) make one cache-sized block."""
    return max(1, min(n, BLOCK_BYTES // (rows * per_image * itemsize)))


def conv_blocked(view, weight):
    """Y (O, N, Ho, Wc) = W_mat · X_col, block by block, and the columns of every block.

    view: the windows of the padded input as (C, kh, kw, N, Ho, Wc), a strided view (conv.py
    reads X_col through it); weight (O, C, kh, kw). Returns (Y, cols, nb): cols
    (blocks, C·kh·kw, nb·Ho·Wc), block b holding images b·nb … b·nb + nb − 1 (the last
    block may hold fewer).
    """
    xp = get_array_module(view)
    c, kh, kw, n, ho, wc = view.shape
    o, rows, per_image = weight.shape[0], c * kh * kw, ho * wc
    nb = images_per_block(rows, per_image, n, view.itemsize)
    blocks = -(-n // nb)
    cols = xp.empty((blocks, rows, nb * per_image), dtype=view.dtype)
    y = xp.empty((o, n * per_image), dtype=view.dtype)
    w_mat = weight.reshape(o, rows)

    for b in range(blocks):
        n0, n1 = b * nb, min(n, b * nb + nb)
        block = cols[b, :, : (n1 - n0) * per_image]
        block.reshape(c, kh, kw, n1 - n0, ho, wc)[...] = view[:, :, :, n0:n1]
        xp.matmul(w_mat, block, out=y[:, n0 * per_image : n1 * per_image])
    return y.reshape(o, n, ho, wc), cols, nb


def conv_blocked_grad_weight(cols, nb: int, gy_cm, wc: int):
    """∂L/∂W_mat (O, C·kh·kw) = Σ_blocks G_block · X_col[block]ᵀ from the kept columns.

    gy_cm: ∂L/∂y as (O, N, Ho, Wo) (channel-major); G_block is a block of it widened to the
    Wc computed columns per row with zeros (the columns past Wo took no part in the loss).
    """
    xp = get_array_module(cols)
    o, n, ho, wo = gy_cm.shape
    blocks, rows, _ = cols.shape
    per_image = ho * wc
    partial = xp.empty((blocks, rows, o), dtype=cols.dtype)  # X_col · Gᵀ per block

    scratch = xp.zeros((o, nb, ho, wc), dtype=cols.dtype)  # columns past Wo stay 0
    for b in range(blocks):
        n0, n1 = b * nb, min(n, b * nb + nb)
        scratch[:, : n1 - n0, :, :wo] = gy_cm[:, n0:n1]
        g = scratch.reshape(o, -1)[:, : (n1 - n0) * per_image]
        xp.matmul(cols[b, :, : (n1 - n0) * per_image], g.T, out=partial[b])
    return partial.sum(axis=0).T
