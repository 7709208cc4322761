"""Finite-difference gradient checking, public as ``ember.gradcheck`` (torch's signature).

Every check holds ember's derivatives against central differences in float64, J_num's column
i being (f(x + ε·e_i) − f(x − ε·e_i)) / 2ε, and passes where |a − n| ≤ atol + rtol·|n|:

- reverse mode (``check_backward_ad``, on by default): the whole Jacobian, as torch's default
  (slow) mode: row e of ∂out/∂input is the backward of the one-hot grad_output e, held
  against row e of J_num. With ``fast_mode=True``, only the gradient of s = Σ w ⊙ f(inputs)
  (w fixed random weights, so every output element matters), i.e. wᵀJ from one backward,
  against the central difference of s. Either way wᵀJ's backward is run twice over the
  retained graph and must agree with itself within ``nondet_tol`` (torch's reentrancy
  check), and zero grad_outputs must give zero gradients (torch's "backward not multiplied
  by grad_output");
- forward mode (``check_forward_ad``): J·e_i for every input element i, each by one pass of
  forward-mode AD (``ember.autograd.forward_ad``, a custom Function's own ``jvp``), against
  J_num's columns; ``check_batched_forward_grad`` adds J·v for three random v with every input
  dual at once (torch vmaps these; ember's vmap would loop over them anyway);
- batched gradients (``check_batched_grad``): as torch, ``vmap`` of the backward over a stack
  of several random grad_outputs v_b per output, through the same graph; ember's vmap loops
  over the v_b, so this is one backward per v_b, and each v_bᵀJ is compared with v_bᵀJ_num.
"""

from __future__ import annotations

from .backend import xp
from .function import enable_grad, no_grad
from .gradcheck_jacobian import (  # noqa: F401 - GradcheckError: public as ember.GradcheckError
    GradcheckError,
    JacobianDifference,
    _analytical_jacobian,
    _as_tuple,
    _check_batched,
    _check_forward,
    _difference,
    _first_mismatch,
    _largest_note,
    _numerical_jacobian,
    _perturbed,
    _unravel,
)
from .tensor import Tensor


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

    ``inputs`` is a tuple of Tensors (float64 or complex128: inputs of another float dtype
    that require grad are refused; complex inputs and outputs are checked as (Re, Im) pairs,
    as torch does, so each complex gradient is held to g_z = ∂L/∂x + i·∂L/∂y). ``fn``
    returns a Tensor or a tuple of Tensors; only outputs that require grad are checked.
    Returns True, or raises :class:`GradcheckError` naming the input, the
    index and both values, and the largest difference over the Jacobian (False with
    ``raise_exception=False``); :func:`gradcheck_report` gives those numbers without a test.

    torch's options: ``check_backward_ad``, ``check_forward_ad``, ``check_batched_grad``,
    ``nondet_tol`` and ``check_grad_dtypes`` (each gradient has its input's dtype, each J·v
    its output's) do what the module docstring says, with torch's argument checks.
    ``check_forward_ad`` needs a recorded derivative of every op ``fn`` uses (the error names
    a missing one) and a ``jvp`` in every custom Function, as torch's forward mode does.
    Accepted and not checked: ``check_undefined_grad`` (ember has no undefined
    gradients: a missing one is zeros, or None for a custom Function that asked for it),
    and ``masked`` (no sparse tensors). ``fast_mode=False`` (the default, as torch) compares
    the whole Jacobian: row e of ∂out/∂input from a backward of the one-hot grad_output e,
    against the central differences, element by element; ``fast_mode=True`` compares only the
    random projection wᵀJ (one backward), still element by element over the inputs.
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
    fn, inputs = _realified(fn, inputs)
    inputs, wrt, outs, out_idx = _evaluate(fn, inputs, "gradcheck")
    try:
        jac = None
        if check_backward_ad:
            _check_reverse(fn, inputs, outs, wrt, eps, atol, rtol, seed, nondet_tol,
                           check_grad_dtypes, fast_mode)  # fmt: skip
            if not fast_mode:  # every row of J by its own backward, against J_num (torch's)
                jac = _numerical_jacobian(fn, inputs, wrt, out_idx, eps)
                _check_jacobian(inputs, outs, wrt, out_idx, jac, atol, rtol)
            _check_mul_by_grad_output(fn, inputs, wrt, out_idx)
        if check_forward_ad or check_batched_grad:
            if jac is None:
                jac = _numerical_jacobian(fn, inputs, wrt, out_idx, eps)
            if check_forward_ad:
                _check_forward(fn, inputs, wrt, out_idx, jac, atol, rtol, check_grad_dtypes,
                               check_batched_forward_grad, seed)  # fmt: skip
            if check_batched_grad:
                _check_batched(fn, inputs, wrt, out_idx, jac, atol, rtol, seed)
    except GradcheckError:
        if raise_exception:
            raise
        return False
    return True


def gradcheck_report(fn, inputs, eps: float = 1e-6) -> dict[int, JacobianDifference]:
    """How close ``fn``'s derivatives come to central differences: for each input k that
    requires grad, the whole Jacobian J = ∂outputs/∂inputs[k] (row e the backward of the
    one-hot grad_output e, as gradcheck's default mode) against J_num (column i being
    (f(x + ε·e_i) − f(x − ε·e_i)) / 2ε), over every output that requires grad:

        max_abs_diff = max |J − J_num|
        max_rel_diff = max |J − J_num| / |J_num|     over the entries where J_num ≠ 0

    Returns {k: JacobianDifference}, which also gives where the largest absolute difference
    sits (``output``, ``output_index``, ``input_index``) and both values there; ``str()`` of
    one reads as a sentence. Checks nothing and raises nothing about tolerances: set your own
    (``gradcheck`` passes where |J − J_num| ≤ atol + rtol·|J_num| everywhere). ``fn`` and
    ``inputs`` are as for :func:`gradcheck` (float64 inputs that require grad). In float64
    with ε = 1e-6 a correct smooth function is typically within 1e-8 to 1e-10.
    """
    fn, inputs = _realified(fn, inputs)
    inputs, wrt, outs, out_idx = _evaluate(fn, inputs, "gradcheck_report")
    numeric = _numerical_jacobian(fn, inputs, wrt, out_idx, eps)
    analytic = _analytical_jacobian(inputs, outs, wrt, out_idx)
    return {k: _difference(k, inputs, outs, out_idx, analytic, numeric) for k in wrt}


def _realified(fn, inputs):
    """Complex numbers checked as torch does: each complex input that requires grad becomes
    a float64 tensor of (Re, Im) pairs (view_as_real: its real and imaginary parts are
    perturbed separately) and each complex output its view_as_real. The real Jacobian of
    (Re, Im) → (Re, Im) then holds every complex gradient to torch's convention
    g_z = ∂L/∂x + i·∂L/∂y, through view_as_complex's and view_as_real's own backward."""
    from .torch_math_complex import view_as_complex, view_as_real

    inputs = tuple(_as_tuple(inputs))
    cplx = [isinstance(x, Tensor) and x.requires_grad and x.array.dtype.kind == "c"
            for x in inputs]  # fmt: skip
    if any(cplx):
        inputs = tuple(
            Tensor(view_as_real(x.detach()).array, requires_grad=True) if c else x
            for x, c in zip(inputs, cplx)
        )

    def real_fn(*args):
        args = [view_as_complex(a) if c else a for a, c in zip(args, cplx)]
        outs = fn(*args)
        one = not isinstance(outs, (tuple, list))
        outs = [
            view_as_real(o) if isinstance(o, Tensor) and o.array.dtype.kind == "c" else o
            for o in ((outs,) if one else outs)
        ]
        return outs[0] if one else tuple(outs)

    return real_fn, inputs


def _evaluate(fn, inputs, caller: str):
    """(inputs as a tuple, positions that require grad, fn's outputs, positions of those that
    require grad), refusing inputs that require grad in a dtype other than float64."""
    inputs = tuple(_as_tuple(inputs))
    for k, x in enumerate(inputs):
        if isinstance(x, Tensor) and x.requires_grad and x.dtype != xp.float64:
            raise TypeError(
                f"{caller}: input {k} has dtype {x.dtype}; use float64 inputs (e.g. x.double())"
            )
    wrt = [k for k, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    outs = _as_tuple(fn(*inputs))
    out_idx = [j for j, o in enumerate(outs) if isinstance(o, Tensor) and o.requires_grad]
    if not out_idx:
        raise GradcheckError(f"{caller}: no output requires grad")
    return inputs, wrt, outs, out_idx


# ------------------------------------------------------------ reverse mode: wᵀJ, and J
def _check_reverse(fn, inputs, outs, wrt, eps, atol, rtol, seed, nondet_tol, check_dtypes,
                   fast_mode):  # fmt: skip
    """wᵀJ from one backward, run twice (reentrancy, dtypes); with ``fast_mode`` also held
    against the central difference of wᵀf, input element by input element (otherwise
    _check_jacobian compares all of J)."""
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
    again = autograd_grad(total, diff, retain_graph=not fast_mode, allow_unused=True)
    for k, g, g_again in zip(wrt, first, again):
        x = inputs[k]
        if check_dtypes and g is not None and g.dtype != x.dtype:
            raise GradcheckError(
                f"Gradient has dtype mismatch: input {k} is {x.dtype}, its gradient {g.dtype}"
            )
        analytic = xp.zeros(x.shape) if g is None else g.array
        a_flat = analytic.reshape(-1)
        if fast_mode:  # every element's central difference of wᵀf, then the comparison
            numeric = xp.zeros(x.numel())
            for i in range(x.numel()):
                plus, minus = _perturbed(x, i, eps, scalar)
                numeric[i] = (plus - minus) / (2 * eps)
            bad = _first_mismatch(a_flat, numeric, atol, rtol)
            if bad is not None:
                raise GradcheckError(
                    f"gradcheck failed for input {k} (shape {x.shape}) at index"
                    f" {_unravel(bad, x.shape)}: analytic {float(a_flat[bad])!r}, numerical"
                    f" {float(numeric[bad])!r}" + _largest_note(a_flat, numeric, "wᵀJ", x.shape)
                )
        second = xp.zeros(x.shape) if g_again is None else g_again.array
        if second.size and float(xp.abs(second - analytic).max()) > nondet_tol:
            raise GradcheckError(
                "Backward is not reentrant, i.e., running backward with same input and"
                " grad_output multiple times gives different values, although analytical"
                f" gradient matches numerical gradient. The tolerance for nondeterminism was"
                f" {nondet_tol}. (input {k}: first {a_flat[:6]}, then {second.reshape(-1)[:6]})"
            )


def _check_jacobian(inputs, outs, wrt, out_idx, jac, atol, rtol) -> None:
    """torch's slow mode: row e of ∂outs[j]/∂inputs[k] is the backward of the one-hot
    grad_output e_e, each held against the same row of J_num, element by element; the error
    names the first wrong entry and the largest difference over the whole Jacobian."""
    analytic = _analytical_jacobian(inputs, outs, wrt, out_idx)
    for j in out_idx:
        o = outs[j]
        for k in wrt:
            bad = _first_mismatch(analytic[j, k], jac[j, k], atol, rtol)
            if bad is not None:
                e, i = divmod(bad, max(1, inputs[k].numel()))
                worst = max((_difference(m, inputs, outs, out_idx, analytic, jac) for m in wrt),
                            key=lambda d: d.max_abs_diff)  # fmt: skip
                raise GradcheckError(
                    f"Jacobian mismatch for output {j} (shape {tuple(o.shape)}) with respect to"
                    f" input {k} (shape {tuple(inputs[k].shape)}) at output index"
                    f" {_unravel(e, o.shape)}, input index {_unravel(i, inputs[k].shape)}:"
                    f" analytic {float(analytic[j, k][e, i])!r}, numerical"
                    f" {float(jac[j, k][e, i])!r}; the largest |analytic − numerical| over the"
                    f" whole Jacobian is {worst.max_abs_diff!r}, at output {worst.output} index"
                    f" {worst.output_index}, input {worst.input} index {worst.input_index}"
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
    forward check (J_g·v by forward-mode AD through g's recorded backward, so every op of that
    backward needs a recorded derivative), ``check_batched_grad`` its batched check. Returns
    True, or raises :class:`GradcheckError` (False with ``raise_exception=False``).

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
