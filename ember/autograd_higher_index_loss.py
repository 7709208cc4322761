"""Recorded derivatives (autograd_higher.py) of the index ops, the diagonal view, the losses
that are ops of their own, einsum and the transposed convolution.

The index ops' derivatives are each other: a gather's is a scatter_add of g into zeros, a
scatter_add's (with respect to src) a gather of g, so every order is recorded through the two.
The diagonal's is g written on the diagonal of zeros (diagonal_scatter), whose own derivative
with respect to g is the diagonal again.
NLL is linear in its input and BCE's derivatives are short formulas, written out; einsum's is
another einsum; the transposed convolution is differentiated through its composed form, a
stride-1 convolution of the zero-inserted input with the flipped kernel.
"""

from __future__ import annotations

from .autograd_higher import _input, rule, sum_to
from .autograd_higher_fused import _vjp
from .backend import errstate, xp
from .ops import conv as C
from .ops import conv_transpose as CT
from .ops import elementwise as E
from .ops import index as I
from .ops import loss as LO
from .ops import shape as S
from .ops.diagonal import Diagonal
from .ops.einsum import Einsum, diagonal_spread
from .tensor import Tensor, apply


def _scatter_add_into(shape, index, dim: int, g: Tensor) -> Tensor:
    """scatter_add(zeros(shape), dim, index, g), recorded: g's elements added at their index."""
    zeros = Tensor(xp.zeros(shape, dtype=g.dtype))
    return apply(I.ScatterAdd, zeros, g, index, dim=dim)


@rule(I.Gather)
def _gather(fn, g):
    """∂L/∂x = scatter_add(zeros_like(x), dim, index, g): repeated indices accumulate."""
    return _scatter_add_into(fn.shape, fn.where[fn.dim], fn.dim, g), None


@rule(I.IndexSelect)
def _index_select(fn, g):
    """∂L/∂x[…, m, …] = Σ_{i: index[i] = m} g[…, i, …]: a scatter_add along dim with the 1-D
    index spread over g's shape."""
    if not fn.shape:  # a 0-d x: every pick is x itself, and y is 0-d too
        return g, None
    spread = [-1 if d == fn.dim else 1 for d in range(g.ndim)]
    index = xp.broadcast_to(fn.index.reshape(spread), g.shape)
    return _scatter_add_into(fn.shape, index, fn.dim, g), None


@rule(I.Scatter, I.ScatterAdd)
def _scatter(fn, g):
    """scatter_add: ∂L/∂x = g; scatter: g with the written places zeroed (a scatter of 0);
    both: ∂L/∂src = gather(g, dim, index) in src's leading block (the part index reads), 0
    beyond it."""
    index = fn.where[fn.dim]
    gx = gsrc = None
    if fn.parents[0] is not None:
        gx = g if fn.add else apply(I.Scatter, g, None, index, dim=fn.dim, value=0)
    if fn.parents[1] is not None:
        gsrc = apply(I.Gather, g, index, dim=fn.dim)
        if tuple(fn.src_shape) != tuple(fn.index_shape):
            widths = tuple((0, s - i) for s, i in zip(fn.src_shape, fn.index_shape))
            gsrc = apply(S.Pad, gsrc, pad_width=widths)
    return gx, gsrc, None


@rule(Diagonal)
def _diagonal(fn, g):
    """out[..., i] = x[..., i, i + k] picks each element once: ∂L/∂x = g on that diagonal of
    zeros_like(x), 0 elsewhere (diagonal_scatter, recorded)."""
    zeros = Tensor(xp.zeros(fn.shape, dtype=g.dtype))
    return (zeros.diagonal_scatter(g, fn.offset, fn.dim1, fn.dim2),)


@rule(LO.NLLLoss)
def _nll_loss(fn, g):
    """ℓ_n = −w_{t_n}·x_{n,t_n} is linear in x: ∂L/∂x = scatter_add(0, 1, t, −w_t·s), with s
    the reduction's factor (g/Σ_n w_{t_n} for mean, g for sum, g_n for none); an ignored row
    gets 0 (also where Σw = 0 makes the others' NaN or ±inf, as the first-order backward)."""
    n = fn.shape[0]
    coef = -fn.w_t
    if fn.reduction == "mean":
        with errstate(invalid="ignore", divide="ignore"):
            coef = coef / fn.denom
    coef = xp.where(fn.keep, coef, 0).astype(fn.dtype)
    values = (Tensor(coef) * g).reshape(n, 1)
    return _scatter_add_into(fn.shape, fn.tt.reshape(n, 1), 1, values), None


def _scale(fn, g, n: int) -> Tensor:
    """The reduction's factor of each element's loss: g/n for mean, g for sum and none."""
    return g / n if fn.reduction == "mean" and n else g


def _softplus_neg(z: Tensor) -> Tensor:
    """softplus(−z) = log(1 + e^{−z}), recorded: log(1 + e^{−z}) where z ≥ 0 and
    log(1 + e^{z}) − z elsewhere, each branch fed only the z of its own side (0 on the other)
    so that no exp overflows and the branch not taken passes a finite 0 gradient."""
    pos = z.array >= 0
    zero = Tensor(xp.zeros((), dtype=z.dtype))
    zp = apply(E.Where, z, zero, cond=pos)
    zn = apply(E.Where, zero, z, cond=pos)
    a = ((-zp).exp() + 1.0).log()
    b = (zn.exp() + 1.0).log() - zn
    return apply(E.Where, a, b, cond=pos)


@rule(LO.BCEWithLogits)
def _bce_with_logits(fn, g):
    """ℓ = w·[(1 − y)·z + (1 + (p − 1)·y)·softplus(−z)] (p = pos_weight, 1 without it):
    ∂ℓ/∂z = w·[(1 + (p − 1)·y)·σ(z) − p·y];   ∂ℓ/∂y = w·[(p − 1)·softplus(−z) − z];
    times the reduction's factor."""
    z, y = _input(fn, 0, "z"), _input(fn, 1, "y")
    w = None if fn.weight is None else Tensor(fn.weight)
    pw = None if fn.pos_weight is None else Tensor(fn.pos_weight)
    s = _scale(fn, g, fn.n)
    gz = gy = None
    if fn.parents[0] is not None:
        if pw is None:
            gz = z.sigmoid() - y
        else:
            gz = (y * (pw - 1.0) + 1.0) * z.sigmoid() - pw * y
        gz = sum_to((gz if w is None else gz * w) * s, z.shape)
    if fn.parents[1] is not None:
        gy = -z if pw is None else (pw - 1.0) * _softplus_neg(z) - z
        gy = sum_to((gy if w is None else gy * w) * s, y.shape)
    return gz, gy


@rule(LO.BCE)
def _bce(fn, g):
    """ℓ = −w·[y·max(log x, −100) + (1 − y)·max(log(1 − x), −100)]:
    ∂ℓ/∂x = w·(x − y)/max(x·(1 − x), ε)  (ε = float32's 1e-12, a constant where it binds);
    ∂ℓ/∂y = w·[log(1 − x) − log x];  times the reduction's factor."""
    x, y = _input(fn, 0, "x"), _input(fn, 1, "y")
    n = fn.x.size if fn.reduction == "mean" else 1
    gx = gy = None
    if fn.parents[0] is not None:  # the first-order backward's order of operations
        eps = float(xp.float32(1e-12))
        xa = fn.x
        denom = apply(E.Where, x * (1.0 - x), Tensor(xp.asarray(eps, dtype=xa.dtype)),
                      cond=xa * (1 - xa) >= eps)  # fmt: skip
        gx = g * (x - y) / denom
        gx = (gx if fn.weight is None else gx * Tensor(fn.weight)) / n
        gx = sum_to(gx, x.shape)
    if fn.parents[1] is not None:
        gy = g * ((1.0 - x).log() - x.log())
        gy = (gy if fn.weight is None else gy * Tensor(fn.weight)) / n
        gy = sum_to(gy, y.shape)
    return gx, gy


@rule(Einsum)
def _einsum(fn, g):
    """∂L/∂A_k[s_k] = Σ_{indices not in s_k} g[o]·Π_{j≠k} A_j[s_j], itself an einsum; then
    broadcast along indices that A_k alone sums out, placed on the diagonal (times δ(i, i'))
    where s_k repeats an index, and summed over A_k's dims of size 1 that broadcast."""
    operands = [p if p is not None else Tensor(a) for p, a in zip(fn.parents, fn.arrays)]
    sizes = {}
    for s, a in zip(fn.ins, fn.arrays):
        for c, n in zip(s, a.shape):
            sizes[c] = max(sizes.get(c, 1), n)
    return tuple(None if p is None else _einsum_grad(fn, k, g, operands, sizes)
                 for k, p in enumerate(fn.parents))  # fmt: skip


def _einsum_grad(fn, k: int, g: Tensor, operands, sizes) -> Tensor:
    """Einsum.backward's _grad for operand k, with every step recorded."""
    a, s = fn.arrays[k], fn.ins[k]
    others = [t for j, t in enumerate(operands) if j != k]
    other_subs = [t for j, t in enumerate(fn.ins) if j != k]
    seen = set(fn.out).union(*other_subs)
    unique = "".join(dict.fromkeys(s))
    kept = "".join(c for c in unique if c in seen)
    gk = apply(Einsum, g, *others, equation=",".join([fn.out, *other_subs]) + "->" + kept)
    if kept != unique:  # summed out of A_k alone: the gradient is constant along those
        gk = gk.reshape(*(sizes[c] if c in kept else 1 for c in unique))
        gk = gk.expand(*(sizes[c] for c in unique))
    if len(unique) != len(s):  # a repeated index: the gradient lives on the diagonal
        equation, deltas = diagonal_spread(s, unique)
        eyes = [Tensor(xp.eye(sizes[d[0]], dtype=g.dtype)) for d in deltas]
        gk = apply(Einsum, gk, *eyes, equation=equation)
    axes = tuple(i for i, (n, m) in enumerate(zip(a.shape, gk.shape)) if n == 1 and m != 1)
    if axes:
        gk = gk.sum(axis=axes, keepdims=True)
    return gk if gk.dtype == a.dtype else gk.astype(a.dtype)


@rule(CT.ConvTranspose2d)
def _conv_transpose2d(fn, g):
    """Through the composed form (functional/conv_transpose.py): conv_transpose(x, W) =
    conv(x̃, W̃) + b at stride 1 and dilation d, with x̃ = x with s − 1 zeros between pixels,
    padded by d·(k − 1) − pad (and output_padding more after), and W̃ = W flipped with its
    in and out channels swapped per group; so ∂L/∂x is a convolution of g with W and ∂L/∂W
    a correlation of x with g, recorded through the convolution's rule."""
    from .functional.conv_transpose import as_stride_one_convolution

    (n, c, h, w), stride, padding, dilation, groups, out_hw, _ = fn.geometry
    weight = _input(fn, 1, "weight")
    if fn.one_d and weight.ndim == 3:
        weight = weight.unsqueeze(2)
    x = fn.parents[0]
    if x is not None:
        x = x.unsqueeze(2) if fn.one_d else x
    elif fn.X_mat is not None:  # kept as (groups, C_g, N·H·W), channel-major
        x = Tensor(fn.X_mat.reshape(c, n, h, w).swapaxes(0, 1))
    else:  # only the bias needs grad, and its derivative does not depend on x
        x = Tensor(xp.zeros((n, c, h, w), dtype=g.dtype))
    kernel = weight.shape[2:]
    output_padding = tuple(
        o - ((a - 1) * s - 2 * p + d * (k - 1) + 1)
        for o, a, s, p, d, k in zip(out_hw, (h, w), stride, padding, dilation, kernel)
    )
    x_t, w_t = as_stride_one_convolution(x, weight, stride, padding, output_padding, dilation,
                                         groups)  # fmt: skip
    b = fn.parents[2] if len(fn.parents) > 2 else None  # a constant bias changes no derivative
    y = apply(C.Conv2d, x_t, w_t, b, stride=(1, 1), padding=((0, 0), (0, 0)),
              dilation=tuple(dilation), groups=groups)  # fmt: skip
    if fn.one_d:
        y = y.squeeze(2)
    return _vjp(y, list(fn.parents), g)
