"""Recorded derivatives (autograd_higher.py) of the fused ops: softmax, log_softmax,
cross-entropy, GELU, layer norm, batch norm, embedding, convolution, pooling, unfold, fold,
padding and scaled dot-product attention. Several are taken through the op's composed form,
built on the spot from ops that have rules (``_vjp``); the pooling ones spread each window's
gradient by constant weights and fold it back, linear in the gradient, so recorded through Fold.
"""

from __future__ import annotations

import math

from .autograd_higher import _input, rule
from .backend import xp
from .ops import activations as A
from .ops import attention as AT
from .ops import batchnorm as BN
from .ops import conv as C
from .ops import index_put as P
from .ops import layernorm as LN
from .ops import loss as LO
from .ops import pool as PO
from .ops import reduce as R
from .ops import shape as S
from .ops import unfold as U
from .tensor import Tensor, apply


def given_inputs(fn):
    """The op's inputs as Tensors: the graph's own where they need grad, else the arrays the op
    kept in ``fn.given`` (None stays None)."""
    return [p if p is not None else (None if a is None else Tensor(a))
            for p, a in zip(fn.parents, fn.given)]  # fmt: skip


def _vjp(y, inputs, g):
    """Σ g·∂y/∂inputs, recorded, for the inputs that need grad (None for the others): the
    derivative of a fused op taken through its composed form, built on the spot. ``y`` and
    ``g`` may be lists (several outputs)."""
    from .autograd_grad import grad

    need = [t for t in inputs if t is not None and t.requires_grad]
    found = iter(grad(y, need, g, retain_graph=True, create_graph=True, allow_unused=True))
    return tuple(next(found) if t is not None and t.requires_grad else None for t in inputs)


def _slots(fn) -> list:
    """The op's parents, each behind a node of its own (p·1), for a composed form that is
    differentiated per input: a parent computed from another (β = 0.5·γ) would otherwise send
    its gradient to that one too (∂y/∂γ through β), which the engine then adds again."""
    return [p if p is None else p * 1.0 for p in fn.parents]


@rule(AT.ScaledDotProductAttention)
def _attention(fn, gys):
    """Through the composed form: O = (softmax(s·Q·Kᵀ + M) ⊙ D)·V, and the weights A."""
    q, k, v, mask = given_inputs(fn)
    scores = (q * fn.scale) @ k.transpose(-1, -2)
    if mask is not None:
        scores = scores + mask
    a = scores.softmax(-1)
    if fn.given[4] is not None:
        a = a * Tensor(fn.given[4])
    out = a @ v
    pairs = [(y, g) for y, g in zip((out, a), gys) if g is not None]
    grads = _vjp([y for y, _ in pairs], list(fn.parents), [g for _, g in pairs])
    return grads


@rule(A.GELU)
def _gelu(fn, g):
    """Through GELU's composed form: x·½(1 + erf(x/√2)), or with approximate="tanh"
    x·½(1 + tanh(√(2/π)(x + 0.044715x³)))."""
    x = fn.parents[0]
    if fn.approximate == "tanh":
        inner = (x + x * x * x * 0.044715) * math.sqrt(2.0 / math.pi)
        y = x * 0.5 * (inner.tanh() + 1.0)
    else:
        y = x * 0.5 * ((x * (1.0 / math.sqrt(2.0))).erf() + 1.0)
    return _vjp(y, [x], g)


@rule(LN.LayerNorm)
def _layer_norm(fn, g):
    """Through the composed form: μ = mean(x), σ² = mean((x − μ)²), y = γ⊙(x − μ)/√(σ² + ε) + β."""
    slots = _slots(fn)
    x = slots[0]
    w = slots[1] if len(slots) > 1 else None
    b = slots[2] if len(slots) > 2 else None
    if x is None:  # x needs no gradient: x̂ is a constant, kept by the op
        y = Tensor(fn.xhat.reshape(fn.shape))
    else:
        axes = tuple(range(x.ndim - fn.n_axes, x.ndim))
        xc = x - x.mean(axis=axes, keepdims=True)
        y = xc / ((xc * xc).mean(axis=axes, keepdims=True) + fn.eps).sqrt()
    if w is not None or fn.w_shape is not None:
        y = y * (w if w is not None else Tensor(fn.weight.reshape(fn.w_shape)))
    if b is not None:
        y = y + b
    return _vjp(y, slots, g)


@rule(S.Embedding)
def _embedding(fn, g):
    """∂L/∂W: each looked-up row's gradient added into its row (index_put with accumulate).

    With scale_grad_by_freq each position's gradient is divided by how often its index occurs,
    in value; as torch's double backward (embedding_dense_double_backward, which ignores the
    scaling), the derivative of that value with respect to the incoming gradient is left
    unscaled: g + (g/freq − g) with the bracket a constant. For losses elementwise in the
    looked-up rows this is also what finite differences of the scaled gradient give."""
    d = g.shape[-1]
    rows = g.reshape(-1, d)
    if fn.by_freq:
        freq = fn.index_frequency().astype(g.dtype).reshape(-1, 1)
        rows = rows + Tensor(rows.array / freq - rows.array)
    if fn.padding_idx is not None:
        keep = (fn.index.reshape(-1) != fn.padding_idx).astype(g.dtype)
        rows = rows * Tensor(keep.reshape(-1, 1))
    zeros = Tensor(xp.zeros(fn.shape, dtype=g.dtype))
    index = (xp.asarray(fn.index).reshape(-1),)
    return (apply(P.IndexPut, zeros, rows, indices=index, accumulate=True), None)


@rule(S.Pad)
def _pad(fn, g):
    return (apply(S.GetItem, g, index=fn.slices),)


@rule(U.Unfold)
def _unfold(fn, g):
    size, kernel, dilation, padding, stride = fn.geometry
    return (apply(U.Fold, g, output_size=tuple(size), kernel_size=kernel, dilation=dilation,
                  padding=padding, stride=stride),)  # fmt: skip


@rule(U.Fold)
def _fold(fn, g):
    kernel, dilation, padding, stride = fn.geometry
    return (apply(U.Unfold, g, kernel_size=kernel, dilation=dilation, padding=padding,
                  stride=stride),)  # fmt: skip


@rule(C.Conv2d)
def _conv2d(fn, g):
    """Through the composed form: Y_g = W_g · im2col(pad(x))_g + b, per group g (x the
    graph's own, or the array the op kept when it needs no grad, as MAML's images)."""
    x = _input(fn, 0, "input")
    w, b = _input(fn, 1, "weight"), fn.parents[2] if len(fn.parents) > 2 else None
    stride, ((top, bottom), (left, right)), dilation, groups = fn.conv_args
    if fn.one_d:  # the saved weight is already (O, C, 1, k)
        x, w = x.unsqueeze(2), w.unsqueeze(2) if w.ndim == 3 else w
    if top or bottom or left or right:
        x = apply(S.Pad, x, pad_width=((0, 0), (0, 0), (top, bottom), (left, right)))
    o, _, kh, kw = w.shape
    cols = apply(U.Unfold, x, kernel_size=(kh, kw), dilation=tuple(dilation), padding=(0, 0),
                 stride=tuple(stride))  # fmt: skip
    n, rows, length = cols.shape
    k = rows // groups
    y = w.reshape(groups, o // groups, k) @ cols.reshape(n, groups, k, length)
    ho = (x.shape[2] - dilation[0] * (kh - 1) - 1) // stride[0] + 1
    y = y.reshape(n, o, ho, length // ho)
    if fn.one_d:
        y = y.reshape(n, o, length)
    if b is not None:  # (a bias that needs no grad changes no derivative: left out)
        y = y + b.reshape(1, o, *([1] * (y.ndim - 2)))
    return _vjp(y, list(fn.parents), g)


@rule(BN.BatchNorm)
def _batch_norm(fn, gys):
    """Through the composed form: x̂ = (x − μ_B)/√(σ²_B + ε) with batch statistics, or
    (x − μ)·rstd with running ones (constants; the shift μ is in ∂y/∂γ = x̂); y = γ⊙x̂ + β."""
    g = gys[0]
    if g is None:
        return (None,) * len(fn.parents)
    slots = _slots(fn)
    x, gamma, beta = slots[:3]
    c = g.shape[1]
    col = (1, c) + (1,) * (g.ndim - 2)
    if x is None:  # x needs no gradient: x̂ is a constant, kept by the op as X − μ and rstd
        rows = fn.x_c * fn.rstd[:, None]  # (C, M) channel rows
        y = Tensor(rows.reshape((c, g.shape[0]) + tuple(g.shape[2:])).swapaxes(0, 1))
    elif fn.batch_stats:
        axes = tuple(i for i in range(x.ndim) if i != 1)
        xc = x - x.mean(axis=axes, keepdims=True)
        y = xc / ((xc * xc).mean(axis=axes, keepdims=True) + fn.eps).sqrt()
    else:
        y = (x - Tensor(fn.mu.reshape(col))) * Tensor(fn.rstd.reshape(col))
    if fn.gamma is not None:
        y = y * (gamma if gamma is not None else Tensor(fn.gamma)).reshape(*col)
    if beta is not None:
        y = y + beta.reshape(*col)
    return _vjp(y, slots, g)


def _pool_gradient(fn, g, weights, pad_shape, kernel, stride, dilation, pads, x_shape):
    """∂L/∂x of a pooling: each window's gradient spread over its pixels by ``weights``
    (N, C, kh·kw, L), constants, then summed back into the image (fold) and cropped: linear in
    ∂L/∂y, so its derivative with respect to it is recorded through Fold."""
    n, c, taps, length = weights.shape
    gcols = Tensor(weights) * g.reshape(n, c, 1, length)
    image = apply(U.Fold, gcols.reshape(n, c * taps, length), output_size=tuple(pad_shape[2:]),
                  kernel_size=tuple(kernel), dilation=tuple(dilation), padding=(0, 0),
                  stride=tuple(stride))  # fmt: skip
    (pt, _), (pl, _) = pads
    h, w = x_shape[2:]
    return apply(S.GetItem, image, index=(slice(None), slice(None), slice(pt, pt + h),
                                          slice(pl, pl + w)))  # fmt: skip


@rule(PO.MaxPool2d)
def _max_pool(fn, g):
    """The gradient of each window goes to its first maximal pixel (torch's tie rule)."""
    x_shape, kernel, stride, pads, dilation, out_hw = fn.geometry
    if fn.one_d:
        g = g.unsqueeze(2)
    x_pad = fn.x_pad
    cols = U.im2col(x_pad, tuple(kernel), tuple(dilation), (0, 0), tuple(stride))
    n, c = x_pad.shape[:2]
    cols = cols.reshape(n, c, kernel[0] * kernel[1], -1)
    first = cols.argmax(axis=2)
    onehot = xp.arange(cols.shape[2])[None, None, :, None] == first[:, :, None, :]
    gx = _pool_gradient(fn, g.reshape(n, c, -1), onehot.astype(g.dtype), x_pad.shape, kernel,
                        stride, dilation, pads, x_shape)  # fmt: skip
    return ((gx.squeeze(2) if fn.one_d else gx),)


@rule(PO.AvgPool2d)
def _avg_pool(fn, g):
    """Each window's gradient, times its 1/|R|, to every pixel of the window."""
    x_shape, pad_shape, kernel, stride, pads, out_hw = fn.geometry
    if fn.one_d:
        g = g.unsqueeze(2)
    n, c = pad_shape[:2]
    taps = kernel[0] * kernel[1]
    scale = xp.broadcast_to(xp.asarray(fn.scale, dtype=g.dtype), tuple(out_hw)).reshape(1, 1, 1, -1)
    weights = xp.broadcast_to(scale, (n, c, taps, scale.shape[-1]))
    gx = _pool_gradient(fn, g.reshape(n, c, -1), weights, pad_shape, kernel, stride, (1, 1),
                        pads, x_shape)  # fmt: skip
    return ((gx.squeeze(2) if fn.one_d else gx),)


@rule(R.Softmax)
def _softmax(fn, g):
    """y ⊙ (g − Σ g ⊙ y), the op's own backward (float16: in float32 from the half y, rounded
    once), so create_graph gives the first derivative's values."""
    y = fn.parents[0].softmax(fn.axis)
    half = y.dtype.name == "float16"
    if half:
        y, g = y.float(), g.float()
    gx = y * (g - (g * y).sum(axis=fn.axis, keepdims=True))
    return (gx.half() if half else gx,)


@rule(R.LogSoftmax)
def _log_softmax(fn, g):
    """g − e^y ⊙ Σ g, y the op's output (float16: in float32 from the half y, rounded once)."""
    y = fn.parents[0].log_softmax(fn.axis)
    half = y.dtype.name == "float16"
    if half:
        y, g = y.float(), g.float()
    gx = g - y.exp() * g.sum(axis=fn.axis, keepdims=True)
    return (gx.half() if half else gx,)


@rule(LO.CrossEntropy)
def _cross_entropy(fn, g):
    """∂ℓ_n/∂z_n = s_n·((a_n + b)·p_n − a_n·onehot(t_n) − (ε/C)·w), with a_n = (1−ε)·w_{t_n},
    b = (ε/C)·Σ_c w_c (w the class weights, ones without them) and s_n the reduction's factor
    for a kept row (0 for an ignored one)."""
    z = fn.parents[0]
    n, c = z.shape
    w = xp.ones(c, dtype=g.dtype) if fn.weight is None else fn.weight.astype(g.dtype)
    a = (1.0 - fn.eps) * w[fn.tt]
    b = fn.eps / c * float(w.sum())
    target = xp.zeros((n, c), dtype=g.dtype)
    target[fn.rows, fn.tt] = a
    target += fn.eps / c * w
    keep = Tensor(fn.keep.astype(g.dtype).reshape(n, 1))
    if fn.reduction == "mean":
        scale = keep * (g / float(fn.denom))
    elif fn.reduction == "sum":
        scale = keep * g
    else:
        scale = keep * g.reshape(n, 1)
    return (z.softmax(1) * Tensor((a + b).reshape(n, 1)) - Tensor(target)) * scale, None
