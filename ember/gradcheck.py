"""Finite-difference gradient checking, public as ``ember.gradcheck`` (torch's signature).

Every check holds ember's derivatives against central differences in float64, J_num's column
i being (f(x + ε·e_i) − f(x − ε·e_i)) / 2ε, and passes where |a − n| ≤ atol + rtol·|n|:

- reverse mode (``check_backward_ad``, on by default): the gradient of s = Σ w ⊙ f(inputs)
  (w fixed random weights, so every output element matters), i.e. wᵀJ from one backward,
  against the central difference of s; the backward is run twice over the retained graph and
  must agree with itself within ``nondet_tol`` (torch's reentrancy check), and zero
  grad_outputs must give zero gradients (torch's "backward not multiplied by grad_output");
- forward mode (``check_forward_ad``): J·e_i for every input element i, each an
  ``ember.autograd.functional.jvp`` — ember has no forward-mode AD, so J·v comes from
  differentiating the backward again (the double-vjp trick) — against J_num's columns;
- batched gradients (``check_batched_grad``): ember has no vmap, so nothing is batched; for
  each output, a stack of several random grad_outputs v_b is backpropagated one by one through
  the same graph (retain_graph) and each v_bᵀJ is compared with v_bᵀJ_num.
"""

from __future__ import annotations

from .backend import xp
from .function import enable_grad, no_grad
from .tensor import Tensor


class GradcheckError(AssertionError):
    """Analytic and numerical gradients disagree; the message names where."""


_N_BATCHED = 3  # grad_outputs stacked per output by check_batched_grad (torch vmaps over 2)

_NO_BATCHED_FORWARD = (
    "gradcheck(check_batched_forward_grad=True) needs vmap over forward-mode AD, and ember has"
    " neither: its J·v is the double-vjp of the backward, linear in v by construction, so there"
    " is no batched forward computation to check. Use check_forward_ad=True (every column J·e_i"
    " against finite differences) and check_batched_grad=True (several grad_outputs through one"
    " graph) instead."
)


def _as_tuple(out):
    return out if isinstance(out, (tuple, list)) else (out,)


def gradcheck(
    fn,
    inputs,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-4,
    seed: int = 0,
    raise_exception: bool = True,
    *,
    nondet_tol: float = 0.0,
    check_undefined_grad: bool = True,
    check_grad_dtypes: bool = False,
    check_batched_grad: bool = False,
    check_batched_forward_grad: bool = False,
    check_forward_ad: bool = False,
    check_backward_ad: bool = True,
    fast_mode: bool = False,
    masked: bool | None = None,
) -> bool:
    """Check ``fn``'s derivatives w.r.t. every input that requires grad (see the module
    docstring for what each check compares).

    ``inputs`` is a tuple of Tensors (float64: inputs of another float dtype that require grad
    are refused). ``fn`` returns a Tensor or a tuple of Tensors; only outputs that require
    grad are checked. Returns True, or raises :class:`GradcheckError` naming the input, the
    index and both values (False with ``raise_exception=False``).

    torch's options: ``check_backward_ad``, ``check_forward_ad``, ``check_batched_grad``,
    ``nondet_tol`` and ``check_grad_dtypes`` (each gradient has its input's dtype, each J·v
    its output's) do what the module docstring says, with torch's argument checks.
    ``check_forward_ad`` needs recorded second derivatives of every op ``fn`` uses (the
    error names a missing one), a custom Function's backward that stays differentiable (not
    ``once_differentiable``), and it refuses custom Functions that define ``jvp``: ember would
    never call it. ``check_batched_forward_grad=True`` raises NotImplementedError (no vmap, no
    forward mode). Accepted and not checked: ``check_undefined_grad`` (ember has no undefined
    gradients: a missing one is zeros, or None for a custom Function that asked for it),
    ``fast_mode`` (the reverse check is already one random projection) and ``masked`` (no
    sparse tensors).
    """
    if not (check_forward_ad or check_backward_ad):
        raise AssertionError(
            "Expected at least one of check_forward_ad or check_backward_ad to be True"
        )
    if check_batched_grad and not check_backward_ad:
        raise AssertionError(
            "Setting check_batched_grad=True requires check_backward_ad to be True"
        )
    if check_batched_forward_grad and not check_forward_ad:
        raise AssertionError(
            "Setting check_batched_forward_grad=True requires check_forward_ad to be True"
        )
    if check_batched_forward_grad:
        raise NotImplementedError(_NO_BATCHED_FORWARD)
    inputs = tuple(_as_tuple(inputs))
    for k, x in enumerate(inputs):
        if isinstance(x, Tensor) and x.requires_grad and x.dtype != xp.float64:
            raise TypeError(
                f"gradcheck: input {k} has dtype {x.dtype}; use float64 inputs (e.g. x.double())"
            )
    wrt = [k for k, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    outs = _as_tuple(fn(*inputs))
    out_idx = [j for j, o in enumerate(outs) if isinstance(o, Tensor) and o.requires_grad]
    if not out_idx:
        raise GradcheckError("gradcheck: no output requires grad")
    try:
        if check_backward_ad:
            _check_reverse(fn, inputs, outs, wrt, eps, atol, rtol, seed, nondet_tol,
                           check_grad_dtypes)  # fmt: skip
            _check_mul_by_grad_output(fn, inputs, wrt, out_idx)
        if check_forward_ad or check_batched_grad:
            jac = _numerical_jacobian(fn, inputs, wrt, out_idx, eps)
            if check_forward_ad:
                _check_forward(fn, inputs, wrt, out_idx, jac, atol, rtol, check_grad_dtypes)
            if check_batched_grad:
                _check_batched(fn, inputs, wrt, out_idx, jac, atol, rtol, seed)
    except GradcheckError:
        if raise_exception:
            raise
        return False
    return True


# ------------------------------------------------------------ reverse mode: wᵀJ
def _check_reverse(fn, inputs, outs, wrt, eps, atol, rtol, seed, nondet_tol, check_dtypes):
    from .autograd_grad import grad as autograd_grad

    rng = xp.random.default_rng(seed)
    weights = [rng.standard_normal(o.shape) for o in outs]

    def scalar():
        with no_grad():
            return sum(float((o.array * w).sum()) for o, w in zip(_as_tuple(fn(*inputs)), weights))

    total = None
    for o, w in zip(outs, weights):
        if o.requires_grad:
            term = (o * Tensor(w)).sum()
            total = term if total is None else total + term
    # autograd.grad, as torch: inputs that are views of other tensors get theirs too
    diff = [inputs[k] for k in wrt]
    first = autograd_grad(total, diff, retain_graph=True, allow_unused=True)
    again = autograd_grad(total, diff, allow_unused=True)
    for k, g, g_again in zip(wrt, first, again):
        x = inputs[k]
        if check_dtypes and g is not None and g.dtype != x.dtype:
            raise GradcheckError(
                f"Gradient has dtype mismatch: input {k} is {x.dtype}, its gradient {g.dtype}"
            )
        analytic = xp.zeros(x.shape) if g is None else g.array
        a_flat = analytic.reshape(-1)
        for i in range(x.numel()):
            plus, minus = _perturbed(x, i, eps, scalar)
            numeric = (plus - minus) / (2 * eps)
            if abs(numeric - a_flat[i]) > atol + rtol * abs(numeric):
                raise GradcheckError(
                    f"gradcheck failed for input {k} (shape {x.shape}) at index"
                    f" {_unravel(i, x.shape)}: analytic {float(a_flat[i])!r}, numerical"
                    f" {float(numeric)!r}"
                )
        second = xp.zeros(x.shape) if g_again is None else g_again.array
        if second.size and float(xp.abs(second - analytic).max()) > nondet_tol:
            raise GradcheckError(
                "Backward is not reentrant, i.e., running backward with same input and"
                " grad_output multiple times gives different values, although analytical"
                f" gradient matches numerical gradient. The tolerance for nondeterminism was"
                f" {nondet_tol}. (input {k}: first {a_flat[:6]}, then {second.reshape(-1)[:6]})"
            )


def _check_mul_by_grad_output(fn, inputs, wrt, out_idx) -> None:
    """torch's: zero grad_outputs must give zero gradients (a backward is linear in them)."""
    from .autograd_grad import grad as autograd_grad

    with enable_grad():
        outs = _as_tuple(fn(*inputs))
    diff_outs = [outs[j] for j in out_idx]
    zeros = [Tensor(xp.zeros(o.shape, dtype=o.dtype)) for o in diff_outs]
    grads = autograd_grad(diff_outs, [inputs[k] for k in wrt], zeros, allow_unused=True)
    for k, g in zip(wrt, grads):
        if g is not None and bool(g.array.any()):
            raise GradcheckError(
                f"backward not multiplied by grad_output (input {k}: zero grad_outputs give"
                f" {g.array.reshape(-1)[:6]})"
            )


def _perturbed(x: Tensor, i: int, eps: float, evaluate) -> tuple:
    """``evaluate()`` with element i (row-major) of x raised by ε, then lowered by ε; x is
    written through its own array at the index, so a view or a transposed input is perturbed
    as it is seen, and restored after."""
    where = _unravel(i, x.shape)
    old = x.array[where].item()  # a number: CuPy's x[where] is a view that the writes would move
    x.array[where] = old + eps
    plus = evaluate()
    x.array[where] = old - eps
    minus = evaluate()
    x.array[where] = old
    return plus, minus


def _unravel(i: int, shape: tuple) -> tuple:
    """The index tuple of flat position i in a row-major array of ``shape``."""
    where = []
    for n in reversed(shape):
        i, r = divmod(i, n)
        where.append(r)
    return tuple(reversed(where))


# ------------------------------------------------------------ the numerical Jacobian
def _numerical_jacobian(fn, inputs, wrt, out_idx, eps) -> dict:
    """{(output j, input k): J_num of shape (outs[j].size, inputs[k].size)}, column i the
    central difference along e_i."""

    def evaluate():
        with no_grad():
            outs = _as_tuple(fn(*inputs))
            return [xp.array(outs[j].array, dtype=xp.float64).reshape(-1) for j in out_idx]

    sizes = [n.size for n in evaluate()]
    jac = {}
    for k in wrt:
        cols = []
        for i in range(inputs[k].numel()):
            plus, minus = _perturbed(inputs[k], i, eps, evaluate)
            cols.append([(p - m) / (2 * eps) for p, m in zip(plus, minus)])
        for pos, j in enumerate(out_idx):
            jac[j, k] = (
                xp.stack([c[pos] for c in cols], axis=1) if cols else xp.zeros((sizes[pos], 0))
            )
    return jac


def _first_mismatch(analytic, numeric, atol, rtol) -> int | None:
    bad = xp.abs(analytic - numeric) > atol + rtol * xp.abs(numeric)
    return int(xp.argmax(bad)) if bool(bad.any()) else None


# ------------------------------------------------------------ forward mode: J·e_i
def _check_forward(fn, inputs, wrt, out_idx, jac, atol, rtol, check_dtypes) -> None:
    from .autograd_functional import jvp

    diff = tuple(inputs[k] for k in wrt)

    def f(*xs):
        """fn of the inputs that require grad, giving the outputs that do."""
        full = list(inputs)
        for k, x in zip(wrt, xs):
            full[k] = x
        outs = _as_tuple(fn(*full))
        return tuple(outs[j] for j in out_idx)

    with enable_grad():
        outs = _as_tuple(fn(*inputs))
    _refuse_custom_jvp(outs)
    for pos, k in enumerate(wrt):
        x = inputs[k]
        for i in range(x.numel()):
            v = [xp.zeros(t.shape, dtype=t.dtype) for t in diff]
            v[pos].reshape(-1)[i] = 1.0
            try:
                _, jv = jvp(f, diff, tuple(Tensor(a) for a in v))
            except (RuntimeError, NotImplementedError) as e:
                e.add_note(
                    "gradcheck(check_forward_ad=True): ember has no forward-mode AD; J·v is the"
                    " derivative of the backward (double vjp), so every op needs a recorded"
                    " second derivative and custom backwards must stay differentiable"
                )
                raise
            for out_pos, j in enumerate(out_idx):
                a = jv[out_pos].array
                if check_dtypes and a.dtype != outs[j].dtype:
                    raise GradcheckError(
                        f"Forward AD gradient has dtype mismatch: output {j} is {outs[j].dtype},"
                        f" its J·v {a.dtype}"
                    )
                bad = _first_mismatch(a.reshape(-1), jac[j, k][:, i], atol, rtol)
                if bad is not None:
                    raise GradcheckError(
                        f"gradcheck failed for the forward-mode derivative (J·v, check_forward_ad)"
                        f" of output {j} at index {_unravel(bad, outs[j].shape)} w.r.t. input"
                        f" {k} (shape {x.shape}) at index {_unravel(i, x.shape)}: analytic"
                        f" {float(a.reshape(-1)[bad])!r}, numerical {float(jac[j, k][bad, i])!r}"
                    )


def _refuse_custom_jvp(outs) -> None:
    """A custom Function's own ``jvp`` is never called (ember has no forward mode): passing
    the check would say nothing about it, so it is refused."""
    from .autograd_function import _CustomNode

    seen, stack = set(), [o._ctx for o in outs if isinstance(o, Tensor) and o._ctx is not None]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, _CustomNode) and getattr(node.cls, "jvp", None) is not None:
            raise NotImplementedError(
                f"gradcheck(check_forward_ad=True): the custom Function {node.cls.__name__}"
                " defines jvp, which ember never calls (it has no forward-mode AD; J·v comes"
                " from the backward by the double-vjp trick), so the check could not test it."
                " Check that jvp against finite differences yourself, and use"
                " check_forward_ad=False here."
            )
        parents = getattr(node, "parents", None) or ()
        stack.extend(p._ctx for p in parents if p is not None and p._ctx is not None)


# ------------------------------------------------------------ batched: v_bᵀJ, one by one
def _check_batched(fn, inputs, wrt, out_idx, jac, atol, rtol, seed) -> None:
    from .autograd_grad import grad as autograd_grad

    rng = xp.random.default_rng(seed + 2)  # neither the reverse check's nor gradgradcheck's
    diff = [inputs[k] for k in wrt]
    with enable_grad():
        outs = _as_tuple(fn(*inputs))
    for j in out_idx:
        o = outs[j]
        for b in range(_N_BATCHED):
            v = xp.asarray(rng.standard_normal(o.shape))
            grads = autograd_grad(o, diff, Tensor(v), retain_graph=True, allow_unused=True)
            for k, g in zip(wrt, grads):
                x = inputs[k]
                a = xp.zeros(x.numel()) if g is None else g.array.reshape(-1)
                n = v.reshape(-1) @ jac[j, k]
                bad = _first_mismatch(a, n, atol, rtol)
                if bad is not None:
                    raise GradcheckError(
                        f"gradcheck failed for batched gradients (check_batched_grad; no vmap:"
                        f" {_N_BATCHED} grad_outputs one by one through one graph) of output {j},"
                        f" grad_output {b}, w.r.t. input {k} (shape {x.shape}) at index"
                        f" {_unravel(bad, x.shape)}: analytic {float(a[bad])!r}, numerical"
                        f" {float(n[bad])!r}"
                    )


def gradgradcheck(
    func,
    inputs,
    grad_outputs=None,
    *,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    gen_non_contig_grad_outputs: bool = False,
    raise_exception: bool = True,
    nondet_tol: float = 0.0,
    check_undefined_grad: bool = True,
    check_grad_dtypes: bool = False,
    check_batched_grad: bool = False,
    check_fwd_over_rev: bool = False,
    check_rev_over_rev: bool = True,
    fast_mode: bool = False,
    masked: bool | None = None,
    seed: int = 0,
) -> bool:
    """Check ``func``'s second derivatives (torch.autograd.gradgradcheck's signature).

    With u the grad_outputs (random in [-1, 1) and requiring grad when not given), the first
    gradient g(x, u) = (∂f/∂x)ᵀu is taken with ``create_graph=True`` and :func:`gradcheck`
    checks g, w.r.t. every input that requires grad and every u (∂g/∂x holds the second
    derivatives; ∂g/∂u = Jᵀ the first), in float64, passing on the options as torch does:
    ``check_rev_over_rev`` is gradcheck's reverse check of g, ``check_fwd_over_rev`` its
    forward check (J_g·v by the double-vjp trick over g's graph, so third derivatives must be
    recorded), ``check_batched_grad`` its batched check. Returns True, or raises
    :class:`GradcheckError` (False with ``raise_exception=False``).

    Grad outputs stay contiguous whatever ``gen_non_contig_grad_outputs`` says (the finite
    differences write through a flat view of each array).
    """
    from .autograd_grad import grad as autograd_grad

    if not (check_fwd_over_rev or check_rev_over_rev):
        raise AssertionError(
            "Expected at least one of check_fwd_over_rev or check_rev_over_rev to be True"
        )
    if check_undefined_grad and not check_rev_over_rev:
        raise AssertionError(
            "Setting check_undefined_grad=True requires check_rev_over_rev to be True"
        )
    if check_batched_grad and not check_rev_over_rev:
        raise AssertionError(
            "Setting check_batched_grad=True requires check_rev_over_rev to be True"
        )
    inputs = tuple(_as_tuple(inputs))
    n_in = len(inputs)
    wrt = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]

    def differentiable(outs):
        return [o for o in _as_tuple(outs) if isinstance(o, Tensor) and o.requires_grad]

    if grad_outputs is None:
        with enable_grad():
            outs = differentiable(func(*inputs))
        rng = xp.random.default_rng(seed + 1)  # not gradcheck's weights
        grad_outputs = tuple(
            Tensor(2 * rng.random(o.shape) - 1, requires_grad=True, dtype=xp.float64) for o in outs
        )
    grad_outputs = tuple(_as_tuple(grad_outputs))

    def first_gradient(*args):
        """g(x, u) = Σ_k (∂f_k/∂x)ᵀ u_k, with its graph (None where f does not reach an x)."""
        xs, us = args[:n_in], args[n_in:]
        with enable_grad():
            outs = differentiable(func(*xs))
            grads = autograd_grad(
                outs, [xs[i] for i in wrt], us, create_graph=True, allow_unused=True
            )
        return tuple(g for g in grads if g is not None)

    return gradcheck(
        first_gradient,
        inputs + grad_outputs,
        eps=eps,
        atol=atol,
        rtol=rtol,
        seed=seed,
        raise_exception=raise_exception,
        nondet_tol=nondet_tol,
        check_undefined_grad=check_undefined_grad,
        check_grad_dtypes=check_grad_dtypes,
        check_batched_grad=check_batched_grad,
        check_forward_ad=check_fwd_over_rev,
        check_backward_ad=check_rev_over_rev,
        fast_mode=fast_mode,
        masked=masked,
    )
