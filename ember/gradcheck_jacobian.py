"""gradcheck's numerical side: the perturbations, both Jacobians, how far apart they are, and
the checks that compare against J_num column by column (forward mode) or grad_output by
grad_output (batched).

Split from ``gradcheck.py``, which holds the public functions and the reverse-mode checks.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

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


def _analytical_jacobian(inputs, outs, wrt, out_idx) -> dict:
    """{(output j, input k): J of shape (outs[j].size, inputs[k].size)}, row e the backward
    of the one-hot grad_output e (torch's slow mode; zeros where an input is not reached)."""
    from .autograd_grad import grad as autograd_grad

    diff = [inputs[k] for k in wrt]
    jac = {}
    for j in out_idx:
        o = outs[j]
        rows = {k: xp.zeros((o.numel(), inputs[k].numel())) for k in wrt}
        for e in range(o.numel()):
            one_hot = xp.zeros(o.shape, dtype=o.dtype)
            one_hot.reshape(-1)[e] = 1
            grads = autograd_grad(o, diff, Tensor(one_hot), retain_graph=True, allow_unused=True)
            for k, g in zip(wrt, grads):
                if g is not None:
                    rows[k][e] = g.array.reshape(-1)
        jac.update({(j, k): rows[k] for k in wrt})
    return jac


def _first_mismatch(analytic, numeric, atol, rtol) -> int | None:
    # written as "not within" so that a NaN on either side is a mismatch (torch.allclose:
    # NaN is never close), where "> tolerance" would let it pass
    bad = ~(xp.abs(analytic - numeric) <= atol + rtol * xp.abs(numeric))
    return int(xp.argmax(bad)) if bool(bad.any()) else None


def _largest(analytic, numeric) -> tuple[float, int]:
    """(max |analytic − numerical|, the flat position where it sits); (0.0, 0) when empty."""
    d = xp.abs(xp.asarray(analytic) - xp.asarray(numeric)).reshape(-1)
    if d.size == 0:
        return 0.0, 0
    i = int(xp.argmax(d))
    return float(d[i]), i


def _largest_note(analytic, numeric, what: str, out_shape: tuple, in_shape=None) -> str:
    """The clause a mismatch message ends with: the largest difference over ``what`` (a
    vector over ``out_shape``, or with ``in_shape`` a Jacobian's rows × columns) and where."""
    worst, i = _largest(analytic, numeric)
    if in_shape is None:
        where = f"index {_unravel(i, tuple(out_shape))}"
    else:
        e, col = divmod(i, max(1, math.prod(in_shape)))
        rows, cols = _unravel(e, tuple(out_shape)), _unravel(col, tuple(in_shape))
        where = f"output index {rows}, input index {cols}"
    return f"; the largest |analytic − numerical| over {what} is {worst!r}, at {where}"


@dataclass(frozen=True)
class JacobianDifference:
    """How far ∂outputs/∂input (one input of ``gradcheck_report``) is from central differences.

        d = |J − J_num|          elementwise, over every output that requires grad
        max_abs_diff = max d     max_rel_diff = max d / |J_num| where J_num ≠ 0

    (entries with J_num = 0 count in the absolute difference only, as numpy's assert_allclose
    reports). ``output``, ``output_index``, ``input_index``, ``analytic`` and ``numerical``
    say where the largest absolute difference sits and both values there.
    """

    input: int
    max_abs_diff: float
    max_rel_diff: float
    output: int
    output_index: tuple
    input_index: tuple
    analytic: float
    numerical: float

    def __str__(self) -> str:
        return (
            f"input {self.input}: max |analytic − numerical| {self.max_abs_diff:.3g} at output"
            f" {self.output} index {self.output_index}, input index {self.input_index}"
            f" (analytic {self.analytic!r}, numerical {self.numerical!r}); max relative"
            f" difference {self.max_rel_diff:.3g}"
        )


def _difference(k, inputs, outs, out_idx, analytic, numeric) -> JacobianDifference:
    """The JacobianDifference of input k over every output in ``out_idx``."""
    best, rel = None, 0.0  # best: (|a − n|, output j, flat position in J[j, k])
    for j in out_idx:
        a, n = analytic[j, k], numeric[j, k]
        if a.size == 0:
            continue
        worst, i = _largest(a, n)
        # `not x <= y`: larger, or NaN (the worst of all; the first NaN stays)
        if best is None or (best[0] == best[0] and not worst <= best[0]):
            best = (worst, j, i)
        nonzero = n != 0
        if bool(nonzero.any()):
            r = float((xp.abs(a - n)[nonzero] / xp.abs(n[nonzero])).max())
            rel = r if rel == rel and not r <= rel else rel
    if best is None:  # an empty input, or outputs with no elements
        return JacobianDifference(k, 0.0, 0.0, out_idx[0], (), (), 0.0, 0.0)
    worst, j, i = best
    e, col = divmod(i, inputs[k].numel())
    return JacobianDifference(
        input=k,
        max_abs_diff=worst,
        max_rel_diff=rel,
        output=j,
        output_index=_unravel(e, tuple(outs[j].shape)),
        input_index=_unravel(col, tuple(inputs[k].shape)),
        analytic=float(analytic[j, k][e, col]),
        numerical=float(numeric[j, k][e, col]),
    )


# ------------------------------------------------------------ forward mode: J·e_i
_FORWARD_NOTE = (
    "gradcheck(check_forward_ad=True) runs ember's forward-mode AD: every op needs a recorded"
    " derivative (autograd_higher.py) and a custom Function its jvp"
)


def _tangents_out(fn, inputs, out_idx, tangents: dict) -> dict:
    """The outputs' tangents (arrays, zeros where none) with input k dual with tangents[k]."""
    from . import autograd_forward_ad as fwAD

    with fwAD.dual_level():
        full = list(inputs)
        for k, v in tangents.items():
            full[k] = fwAD.make_dual(inputs[k], Tensor(v))
        try:
            outs = _as_tuple(fn(*full))
        except (RuntimeError, NotImplementedError) as e:
            e.add_note(_FORWARD_NOTE)
            raise
        got = {}
        for j in out_idx:
            tangent = fwAD.unpack_dual(outs[j]).tangent
            a = outs[j].array
            got[j] = xp.zeros(a.shape, a.dtype) if tangent is None else tangent.array.copy()
    return got


def _check_forward(fn, inputs, wrt, out_idx, jac, atol, rtol, check_dtypes, batched=False,
                   seed=0) -> None:  # fmt: skip
    """J·e_i for every element i of every input by forward-mode AD (autograd_forward_ad.py),
    against J_num's columns; with ``batched`` also J·v for a few random v (torch vmaps its
    forward mode over them; ember's vmap loops, so these are separate forward passes)."""
    with enable_grad():
        outs = _as_tuple(fn(*inputs))
    for k in wrt:
        x = inputs[k]
        # every column J·e_i first, then the comparison, so a failure can say how far off
        # the whole of ∂out/∂x is, not only its first wrong entry
        cols = {j: xp.zeros((outs[j].numel(), x.numel())) for j in out_idx}
        for i in range(x.numel()):
            v = xp.zeros(x.shape, dtype=x.dtype)
            v.reshape(-1)[i] = 1.0
            for j, a in _tangents_out(fn, inputs, out_idx, {k: v}).items():
                if check_dtypes and a.dtype != outs[j].dtype:
                    raise GradcheckError(
                        f"Forward AD gradient has dtype mismatch: output {j} is {outs[j].dtype},"
                        f" its J·v {a.dtype}"
                    )
                cols[j][:, i] = a.reshape(-1)
        for i in range(x.numel()):
            for j in out_idx:
                bad = _first_mismatch(cols[j][:, i], jac[j, k][:, i], atol, rtol)
                if bad is not None:
                    what = f"all of J (output {j}, input {k})"
                    raise GradcheckError(
                        f"gradcheck failed for the forward-mode derivative (J·v, check_forward_ad)"
                        f" of output {j} at index {_unravel(bad, outs[j].shape)} w.r.t. input"
                        f" {k} (shape {x.shape}) at index {_unravel(i, x.shape)}: analytic"
                        f" {float(cols[j][bad, i])!r}, numerical {float(jac[j, k][bad, i])!r}"
                        + _largest_note(cols[j], jac[j, k], what, outs[j].shape, x.shape)
                    )
    if batched:
        _check_forward_batched(fn, inputs, wrt, out_idx, jac, atol, rtol, seed)


def _check_forward_batched(fn, inputs, wrt, out_idx, jac, atol, rtol, seed) -> None:
    """J·v with every input dual at once, for three random tangents v, against J_num·v."""
    rng = xp.random.default_rng(seed + 3)
    for b in range(3):
        vs = {k: rng.standard_normal(inputs[k].shape).astype(inputs[k].dtype) for k in wrt}
        got = _tangents_out(fn, inputs, out_idx, vs)
        for j in out_idx:
            want = sum(jac[j, k] @ vs[k].reshape(-1) for k in wrt)
            bad = _first_mismatch(got[j].reshape(-1), want, atol, rtol)
            if bad is not None:
                raise GradcheckError(
                    "gradcheck failed for the batched forward-mode derivative"
                    f" (check_batched_forward_grad): J·v of output {j} for random tangent {b}"
                    f" at index {_unravel(bad, got[j].shape)}: analytic"
                    f" {float(got[j].reshape(-1)[bad])!r}, numerical {float(want[bad])!r}"
                )


# ------------------------------------------------------------ batched: vmap over v_b
def _check_batched(fn, inputs, wrt, out_idx, jac, atol, rtol, seed) -> None:
    from .autograd_grad import grad as autograd_grad
    from .func_vmap import vmap

    rng = xp.random.default_rng(seed + 2)  # neither the reverse check's nor gradgradcheck's
    diff = [inputs[k] for k in wrt]
    with enable_grad():
        outs = _as_tuple(fn(*inputs))
    for j in out_idx:
        o = outs[j]
        vs = xp.asarray(rng.standard_normal((_N_BATCHED, *o.shape)))

        def vjp(v, o=o):
            return autograd_grad(o, diff, v, retain_graph=True, materialize_grads=True)

        batched = vmap(vjp)(Tensor(vs))  # torch's way: vmap over the stacked grad_outputs
        for b in range(_N_BATCHED):
            v = vs[b]
            for k, g in zip(wrt, batched):
                x = inputs[k]
                a = g.array[b].reshape(-1)
                n = v.reshape(-1) @ jac[j, k]
                bad = _first_mismatch(a, n, atol, rtol)
                if bad is not None:
                    raise GradcheckError(
                        f"gradcheck failed for batched gradients (check_batched_grad: vmap over"
                        f" {_N_BATCHED} grad_outputs through one graph) of output {j},"
                        f" grad_output {b}, w.r.t. input {k} (shape {x.shape}) at index"
                        f" {_unravel(bad, x.shape)}: analytic {float(a[bad])!r}, numerical"
                        f" {float(n[bad])!r}" + _largest_note(a, n, "this v_bᵀJ", x.shape)
                    )
