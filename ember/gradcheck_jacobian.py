"""gradcheck's numerical side: the perturbations, the numerical Jacobian, and the checks that
compare against it column by column (forward mode) or grad_output by grad_output (batched).

Split from ``gradcheck.py``, which holds the public functions and the reverse-mode checks.
"""

from __future__ import annotations

from .backend import xp
from .function import enable_grad, no_grad
from .tensor import Tensor


class GradcheckError(AssertionError):
    """Analytic and numerical gradients disagree; the message names where."""


_N_BATCHED = 3  # grad_outputs stacked per output by check_batched_grad (torch vmaps over 2)


def _as_tuple(out):
    return out if isinstance(out, (tuple, list)) else (out,)


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
