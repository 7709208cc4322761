"""Second and higher derivatives: ``ember.autograd.grad(..., create_graph=True)``.

The backward sweep is ``autograd.grad``'s, but every gradient is a Tensor and every step is
recorded: each op's derivative is written again here with Tensor operations on the op's own
inputs (``fn.parents``, or constants for inputs that need no gradient), so the gradient it
returns has a graph of its own and can be differentiated again. This serves gradient penalties
(‖∇ₓD(x)‖ in WGAN-GP), Hessian-vector products, and networks trained on their own derivatives
(physics-informed networks: u(x) and ∂²u/∂x²).

An op's fast ``backward`` works on raw arrays and records nothing; the rules below are its
recorded twin, held equal to it by the tests (first derivatives) and to torch (second). An op
without a rule is a clear error naming it; what is covered: the arithmetic (tensor and scalar
operands, broadcasting), abs, exp, log, sqrt, erf, sin, cos, GELU (both forms), softmax,
log_softmax, cross_entropy (class indices, class weights too), layer norm, embedding,
convolution (1-D and 2-D, through im2col), sum, mean, matmul, linear, reshape, permute, expand,
cat, stack, split, basic indexing, where, astype, and in autograd_higher_fused.py constant
padding, unfold and fold, batch norm, max and average pooling (1-D and 2-D), scaled dot-product
attention; in autograd_higher_more.py tensor powers, log1p, expm1, clamp, maximum/minimum, leaky
ReLU, the ELU family, log-sigmoid, the inverse and hyperbolic trigonometric functions, atan2,
hypot, logaddexp, xlogy, clone, amax/amin, max(dim)/sort/topk values, var, std, logsumexp,
p-norms, prod and cumsum; in autograd_higher_index_loss.py gather, index_select, scatter_add,
the NLL and binary cross-entropy losses, einsum and the transposed convolution; in
autograd_higher_rnn.py the LSTM, GRU and RNN layers; in autograd_higher_special.py digamma,
polygamma, sinc, logit, i0, igamma(c), ndtri, log_ndtr, xlog1py, entr, remainder/fmod, the
rounding divisions, frexp, cumprod, logcumsumexp, median and the ∞- and negative-p norms; in
autograd_higher_special2.py indexing with arrays and masks, item assignment, index_put,
masked_select/scatter, index_add/copy/fill, scatter_reduce, unfold, grid_sample, 3-D convolution
and pooling, max pooling with indices, unpooling and the chunked linear cross-entropy; in
autograd_higher_special3.py i0e, i1e, erfcx and zeta; and in
autograd_higher_activations.py tanh, sigmoid, SiLU, ReLU and the piecewise activations
(hardtanh, ReLU6, hardsigmoid, hardswish, softplus, mish, threshold, the shrinks, PReLU); in
autograd_higher_views.py as_strided.
A fused op's rule may differentiate its composed form, built on the spot (``_vjp``).
"""

from __future__ import annotations

import math
from heapq import heappop, heappush

from .autograd import FREED_GRAPH_MESSAGE, check_saved, newest_write, unpack_saved
from .autograd_node_hooks import run_post_hooks, run_pre_hooks
from .backend import xp
from .ops import elementwise as E
from .ops import elementwise_more as EM
from .ops import linalg as L
from .ops import reduce as R
from .ops import shape as S
from .tensor import Tensor, _leaf_hooks, apply, check_hook_result

RULES: dict = {}


def rule(*classes):
    def register(fn):
        for c in classes:
            RULES[c] = fn
        return fn

    return register


def _input(fn, i: int, saved: str):
    """Input i of fn as a Tensor: the graph's own where it needs grad, else the saved array."""
    p = fn.parents[i]
    return p if p is not None else Tensor(getattr(fn, saved))


def sum_to(g: Tensor, shape) -> Tensor:
    """g summed over the axes that broadcasting added or stretched, down to ``shape``
    (Tensor.sum_to_size, recorded; g itself when it already has that shape)."""
    shape = tuple(shape)
    return g if tuple(g.shape) == shape else g.sum_to_size(shape)


@rule(E.Add)
def _add(fn, g):
    return sum_to(g, fn.sa), sum_to(g, fn.sb)


@rule(E.Sub)
def _sub(fn, g):
    return sum_to(g, fn.sa), sum_to(-g, fn.sb)


@rule(E.Mul)
def _mul(fn, g):
    a, b = _input(fn, 0, "a"), _input(fn, 1, "b")
    return sum_to(g * b, a.shape), sum_to(g * a, b.shape)


@rule(E.Div)
def _div(fn, g):
    a, b = _input(fn, 0, "a"), _input(fn, 1, "b")
    return sum_to(g / b, a.shape), sum_to(-g * a / (b * b), b.shape)


@rule(E.AddScalar)
def _add_scalar(fn, g):
    return (g,)


@rule(E.MulScalar)
def _mul_scalar(fn, g):
    return (g * fn.c,)


@rule(E.DivScalar)
def _div_scalar(fn, g):
    return (g / fn.c,)


@rule(E.RSubScalar, E.Neg)
def _negated(fn, g):
    return (-g,)


@rule(E.RDivScalar)
def _rdiv_scalar(fn, g):
    a = _input(fn, 0, "a")
    return (-g * fn.c / (a * a),)


@rule(E.PowScalar)
def _pow_scalar(fn, g):
    a, c = _input(fn, 0, "a"), fn.c
    return (g * 0.0 * a,) if c == 0 else (g * c * a ** (c - 1),)


@rule(EM.Erf)
def _erf(fn, g):
    x = fn.parents[0]
    return (g * (2.0 / math.sqrt(math.pi)) * (-(x * x)).exp(),)


@rule(E.Exp)
def _exp(fn, g):
    return (g * fn.parents[0].exp(),)


@rule(E.Log)
def _log(fn, g):
    return (g / fn.parents[0],)


@rule(E.Sqrt)
def _sqrt(fn, g):
    return (g / (fn.parents[0].sqrt() * 2.0),)


@rule(E.Sin)
def _sin(fn, g):
    return (g * fn.parents[0].cos(),)


@rule(E.Cos)
def _cos(fn, g):
    return (-g * fn.parents[0].sin(),)


@rule(R.Sum, R.Mean)
def _sum(fn, g):
    if not fn.keepdims and fn.axes:
        g = g.reshape(*[1 if i in fn.axes else n for i, n in enumerate(fn.shape)])
    g = g.expand(*fn.shape)
    return (g / fn.n,) if isinstance(fn, R.Mean) else (g,)


@rule(L.MatMul)
def _matmul(fn, g):
    """y = a @ b:  ∂L/∂a = g·bᵀ,  ∂L/∂b = aᵀ·g, summed over broadcast batch dims. A 1-D a is
    a row (1, n) and a 1-D b a column (n, 1), as matmul reads them; g gets those 1s back."""
    a, b = _input(fn, 0, "a"), _input(fn, 1, "b")
    a2 = a.reshape(1, *a.shape) if a.ndim == 1 else a
    b2 = b.reshape(*b.shape, 1) if b.ndim == 1 else b
    batch = xp.broadcast_shapes(tuple(a2.shape[:-2]), tuple(b2.shape[:-2]))
    g2 = g.reshape(*batch, a2.shape[-2], b2.shape[-1])
    ga = sum_to(g2 @ b2.transpose(-1, -2), a2.shape).reshape(*a.shape)
    gb = sum_to(a2.transpose(-1, -2) @ g2, b2.shape).reshape(*b.shape)
    return ga, gb


@rule(L.Linear)
def _linear(fn, g):
    x, w = _input(fn, 0, "x"), _input(fn, 1, "weight")
    out, n_in = w.shape
    g2, x2 = g.reshape(-1, out), x.reshape(-1, n_in)
    grads = [(g2 @ w).reshape(*x.shape), g2.transpose(0, 1) @ x2]
    if len(fn.parents) > 2:
        grads.append(g2.sum(axis=0))
    return tuple(grads)


@rule(S.Reshape)
def _reshape(fn, g):
    return (g.reshape(*fn.shape),)


@rule(S.Permute)
def _permute(fn, g):
    inverse = [0] * len(fn.axes)
    for i, a in enumerate(fn.axes):
        inverse[a] = i
    return (g.permute(*inverse),)


@rule(S.Expand)
def _expand(fn, g):
    return (sum_to(g, fn.shape),)


@rule(S.Split)
def _split(fn, gys):
    if fn.slices is not None and sum(fn.sizes) != fn.shape[fn.axis]:
        # pieces that overlap (tensor_split at unsorted indices): each gradient padded back
        # to its own place in x's shape, and the pieces summed
        total = None
        for g, sl, n in zip(gys, fn.slices, fn.sizes):
            if g is None or n == 0:
                continue
            start = sl.indices(fn.shape[fn.axis])[0]
            pads = [(0, 0)] * len(fn.shape)
            pads[fn.axis] = (start, fn.shape[fn.axis] - start - n)
            piece = apply(S.Pad, g, pad_width=tuple(pads))
            total = piece if total is None else total + piece
        return (total if total is not None else Tensor(xp.zeros(fn.shape, dtype=fn.dtype)),)
    parts = []
    for g, n in zip(gys, fn.sizes):
        if g is None:
            shape = list(fn.shape)
            shape[fn.axis] = n
            g = Tensor(xp.zeros(shape, dtype=fn.dtype))
        parts.append(g)
    return (apply(S.Cat, *parts, axis=fn.axis),)


@rule(S.Cat)
def _cat(fn, g):
    out, start = [], 0
    for n in fn.sizes:
        index = (slice(None),) * fn.axis + (slice(start, start + n),)
        out.append(apply(S.GetItem, g, index=index))
        start += n
    return tuple(out)


@rule(S.Stack)
def _stack(fn, g):
    return tuple(apply(S.GetItem, g, index=(slice(None),) * fn.axis + (i,))
                 for i in range(len(fn.parents)))  # fmt: skip


@rule(E.Where)
def _where(fn, g):
    zero = Tensor(xp.zeros((), dtype=g.dtype))
    ga = apply(E.Where, g, zero, cond=fn.cond)
    gb = apply(E.Where, zero, g, cond=fn.cond)
    return sum_to(ga, fn.sa), sum_to(gb, fn.sb)


@rule(S.Astype)
def _astype(fn, g):
    return (g.astype(fn.dtype),)


def _hooks_refused() -> NotImplementedError:
    return NotImplementedError(
        "create_graph=True runs the hooks of register_hook only: this tensor has another kind"
        " (an array-level hook of ember's own), whose gradient would be left out; remove it"
        " for the recorded pass"
    )


def _run_hooks(hooks, g: Tensor) -> Tensor:
    """A tensor's register_hook hooks, in order, on its recorded gradient: each hook's own
    ops are recorded too (torch's create_graph runs hooks the same way)."""
    for on_grad in hooks:
        user = getattr(on_grad, "user_hook", None)
        if user is None:
            raise _hooks_refused()
        out = user(g)
        if out is not None:
            check_hook_result(user, out.shape, g.shape)
            g = out
    return g


def _recorded_hooks(fn, gys: list) -> None:
    """fn's tensors' hooks, then retain_grad (the hooked gradient, recorded, summed over
    backwards as torch's .grad), on the recorded gradients gys (updated in place)."""
    for idx, output_hooks in fn.__dict__.get("hooks", {}).items():
        if gys[idx] is not None:
            gys[idx] = _run_hooks(output_hooks, gys[idx])
    for idx, t in fn.__dict__.get("retained", {}).items():
        if gys[idx] is not None:
            t.grad = gys[idx] if t._grad is None else t._grad + gys[idx]


def recorded_grad(seeds, ins, wanted, needed, allow_unused: bool, materialize: bool) -> tuple:
    """Σ d(out)/d(ins)·g over the (out, g) seeds with every step recorded (see the module
    docstring). The Functions in ``wanted`` receive gradients; only those in ``needed`` (on a
    path to an input) are differentiated, the rest only made a requested non-leaf input."""
    grads, heap = {}, []

    def push(fn, idx, g):
        if fn not in wanted:
            return
        slot = grads.get(fn)
        if slot is None:
            slot = grads[fn] = [None] * fn.n_outputs
            heappush(heap, (-fn.seq, fn))
        slot[idx] = g if slot[idx] is None else slot[idx] + g

    found = [None] * len(ins)
    leaf_at = {id(t): i for i, t in enumerate(ins) if t._ctx is None}
    slot_at = {(id(t._ctx), t._idx): i for i, t in enumerate(ins) if t._ctx is not None}

    def collect(i, g):
        found[i] = g if found[i] is None else found[i] + g

    for o, g in seeds:
        if o._ctx is None:
            if id(o) in leaf_at:
                collect(leaf_at[id(o)], g)
            continue
        push(o._ctx, o._idx, g)
    while heap:
        fn = heappop(heap)[1]
        gys = grads.pop(fn)
        if fn.freed:
            raise RuntimeError(FREED_GRAPH_MESSAGE)
        if fn.seq < newest_write[0]:
            check_saved(fn)
        run = fn in needed
        if not run:  # only captured: hooked first, as the first-order sweep (autograd_grad.py)
            _recorded_hooks(fn, gys)
        for idx, g in enumerate(gys):
            i = slot_at.get((id(fn), idx))
            if i is not None and g is not None:
                collect(i, g)
        if not run:
            continue
        _recorded_hooks(fn, gys)
        node_hooks = fn.__dict__.get("node_hooks")  # grad_fn.register_prehook / register_hook
        if node_hooks and node_hooks[0]:
            gys = run_pre_hooks(node_hooks[0], gys, recorded=True)
        derivative = RULES.get(type(fn))
        if derivative is None:
            raise NotImplementedError(
                f"create_graph=True: {type(fn).__name__} has no recorded derivative yet (ember's"
                " second derivatives cover: "
                + ", ".join(sorted({c.__name__ for c in RULES}))
                + "); compose it from those ops, or ask for first derivatives only"
            )
        packed = fn.__dict__.get("packed")
        if packed:  # saved_tensors_hooks packed what forward saved: unpack it for the rule
            unpack_saved(fn.__dict__, packed)
        in_grads = derivative(fn, gys[0] if fn.n_outputs == 1 else gys)
        if node_hooks and node_hooks[1]:
            in_grads = run_post_hooks(fn, node_hooks[1], in_grads, gys, recorded=True)
        if packed:  # this sweep keeps the graph: the markers again
            fn.__dict__.update(packed)
        for p, gi in zip(fn.parents, in_grads):
            if p is None or gi is None:
                continue
            if p._ctx is None:
                if id(p) in leaf_at:
                    collect(leaf_at[id(p)], gi)
                continue
            push(p._ctx, p._idx, gi)
    for key, i in leaf_at.items():  # a leaf's hooks see the sum of its consumers' gradients
        if found[i] is not None and _leaf_hooks.get(key):
            found[i] = _run_hooks(_leaf_hooks[key], found[i])
    for i, t in enumerate(ins):
        if found[i] is None:
            if not allow_unused:
                raise RuntimeError(
                    f"One of the differentiated Tensors (inputs[{i}]) appears to not have been"
                    " used in the graph. Set allow_unused=True if this is the desired behavior."
                )
            if materialize:
                found[i] = Tensor(xp.zeros(t.shape, dtype=t.dtype))
    return tuple(found)


# the rules of the fused ops (convolution, the norms, pooling, the softmax family …) live in
# their own module, which registers them into RULES when it is imported, here at the end
from . import (  # noqa: E402, F401
    autograd_higher_activations,
    autograd_higher_fused,
    autograd_higher_index_loss,
    autograd_higher_linalg,
    autograd_higher_linalg_decomp,
    autograd_higher_linalg_spectral,
    autograd_higher_more,
    autograd_higher_rnn,
    autograd_higher_special,
    autograd_higher_special2,
    autograd_higher_special3,
    autograd_higher_views,
)
