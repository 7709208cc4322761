"""Finite-difference gradient checking, public as ``ember.gradcheck``.

The analytic gradient of s = Σ w ⊙ f(inputs) (w fixed random weights, so every
output element matters) is compared with the central difference
(s(x + ε·e_i) - s(x - ε·e_i)) / 2ε, element by element, in float64.
"""

from __future__ import annotations

from .backend import xp
from .function import no_grad
from .tensor import Tensor


class GradcheckError(AssertionError):
    """Analytic and numerical gradients disagree; the message names where."""


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
) -> bool:
    """Check ``fn``'s gradients w.r.t. every input that requires grad.

    ``inputs`` is a tuple of Tensors (float64 for a meaningful check; float32 inputs are
    promoted). ``fn`` returns a Tensor or a tuple of Tensors. Returns True, or raises
    :class:`GradcheckError` naming the input, the index and both values.
    """
    inputs = tuple(_as_tuple(inputs))
    for k, x in enumerate(inputs):
        if isinstance(x, Tensor) and x.requires_grad and x.dtype != xp.float64:
            raise TypeError(
                f"gradcheck: input {k} has dtype {x.dtype}; use float64 inputs (e.g. x.double())"
            )
    rng = xp.random.default_rng(seed)
    outs = _as_tuple(fn(*inputs))
    weights = [rng.standard_normal(o.shape) for o in outs]

    def scalar():
        with no_grad():
            return sum(float((o.array * w).sum()) for o, w in zip(_as_tuple(fn(*inputs)), weights))

    for x in inputs:
        if isinstance(x, Tensor):
            x.grad = None
    total = None
    for o, w in zip(outs, weights):
        if o.requires_grad:
            term = (o * Tensor(w)).sum()
            total = term if total is None else total + term
    if total is None:
        raise GradcheckError("gradcheck: no output requires grad")
    total.backward()

    for k, x in enumerate(inputs):
        if not (isinstance(x, Tensor) and x.requires_grad):
            continue
        analytic = xp.zeros(x.shape) if x.grad is None else x.grad.array
        flat = x.array.reshape(-1)  # a view: perturbations write through to x.array
        a_flat = analytic.reshape(-1)
        for i in range(flat.size):
            old = flat[i].item()  # a number: CuPy's flat[i] is a view that the writes would move
            flat[i] = old + eps
            plus = scalar()
            flat[i] = old - eps
            minus = scalar()
            flat[i] = old
            numeric = (plus - minus) / (2 * eps)
            if abs(numeric - a_flat[i]) > atol + rtol * abs(numeric):
                where = _unravel(i, x.shape)
                msg = (
                    f"gradcheck failed for input {k} (shape {x.shape}) at index {where}:"
                    f" analytic {float(a_flat[i])!r}, numerical {float(numeric)!r}"
                )
                if raise_exception:
                    raise GradcheckError(msg)
                return False
    return True


def _unravel(i: int, shape: tuple) -> tuple:
    """The index tuple of flat position i in a row-major array of ``shape``."""
    where = []
    for n in reversed(shape):
        i, r = divmod(i, n)
        where.append(r)
    return tuple(reversed(where))


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
    compares its recorded derivatives with central differences of g, w.r.t. every input that
    requires grad and every u (∂g/∂x holds the second derivatives; ∂g/∂u = Jᵀ the first),
    in float64. Returns True, or raises :class:`GradcheckError` (False with
    ``raise_exception=False``).

    Only reverse-over-reverse is checked: ``check_batched_grad`` and ``check_fwd_over_rev``
    raise NotImplementedError (ember has neither vmap nor forward mode). Grad outputs stay
    contiguous whatever ``gen_non_contig_grad_outputs`` says (the finite differences write
    through a flat view of each array); ``nondet_tol``, ``check_undefined_grad``,
    ``check_grad_dtypes``, ``fast_mode`` and ``masked`` are accepted and do not change the
    check, which is always the exact element-by-element one.
    """
    from .autograd_grad import grad as autograd_grad
    from .function import enable_grad

    if check_batched_grad or check_fwd_over_rev:
        raise NotImplementedError(
            "gradgradcheck: check_batched_grad and check_fwd_over_rev need vmap and forward-mode"
            " AD, which ember does not have; only reverse-over-reverse is checked"
        )
    if not check_rev_over_rev:
        return True
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
    )
