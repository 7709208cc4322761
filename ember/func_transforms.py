"""torch.func's vjp, jvp, linearize, jacrev, jacfwd and hessian, on ember's recorded
derivatives.

torch.func computes these with levels of wrapped tensors (vjp, jacrev) and dual numbers
(jvp, jacfwd), batching the rows or columns of a Jacobian with vmap. ember has one reverse
mode and a graph of its backward (``autograd.grad(create_graph=True)``), so here:

- ``vjp``: the function runs once on fresh leaves (or views of inputs that already require
  grad, so an enclosing transform still reaches them); ``vjp_fn(v)`` is one reverse sweep vᵀJ.
- ``jvp``: the double-vjp trick of ``ember.autograd.functional.jvp``: u ↦ uᵀJ is linear in
  u, so its vjp with the tangent t is J t. One forward pass, two reverse sweeps.
- ``jacrev``: one reverse sweep per output element (torch's rows, vmapped over vjp), stacked.
- ``jacfwd``: one sweep of u ↦ uᵀJ with its graph, then one reverse sweep of that per input
  element (torch's columns, vmapped over jvp), stacked.
- ``hessian``: ``jacfwd(jacrev(f))``, as torch's.

Results keep a graph only towards tensors from outside the call that require grad (an
enclosing transform's inputs, captured parameters), as ``ember.func.grad`` does, so all of
them nest with each other, with ``grad`` and with ``vmap``. Output structures, argnums and
the errors checked are torch's.
"""

from __future__ import annotations

from collections.abc import Callable

from .autograd_grad import grad as _grad
from .backend import xp
from .backend_random import vmap_levels
from .func import _argnums, _detach_unless_outer, _leaves, _reaches_outer, _rebuild
from .func_vmap import _flatten, _Level, _spec_str, _unflatten
from .function import enable_grad, is_grad_enabled
from .functional.shape import stack
from .tensor import Tensor

__all__ = ["hessian", "jacfwd", "jacrev", "jvp", "linearize", "vjp"]

_VJP = "vjp(f, *primals)"
_JVP = "jvp(f, primals, tangents)"


# ------------------------------------------------------------ the shared core
def _zeros(shape, like: Tensor) -> Tensor:
    return Tensor(xp.zeros(tuple(shape), dtype=like.dtype))


def _wrap(x, track: bool, own: set) -> Tensor:
    """A differentiable stand-in for input leaf x: a view where x already requires grad (so
    the caller's graph, an enclosing transform's, still reaches it), else a fresh leaf."""
    if not isinstance(x, Tensor):
        raise ValueError(f"Thing passed to transform API must be Tensor, got {type(x)}")
    if track and x.requires_grad:
        return x.view_as(x)
    w = x.detach().requires_grad_(True)
    own.add(id(w))
    return w


def _call(func, args: tuple, nums: tuple, has_aux: bool, api: str, kwargs=None, level=None):
    """Run func with args[n] (n in nums) made differentiable. Returns (track, own ids, flat
    differentiable inputs per argnum, flat outputs, the outputs' spec, aux)."""
    track = is_grad_enabled()
    own: set = set()
    new_args, per_arg = list(args), []
    with enable_grad():
        for n in nums:
            ws = [_wrap(x, track, own) for x in _leaves(args[n])]
            new_args[n] = _rebuild(args[n], iter(ws))
            per_arg.append(ws)
        if level is not None:
            vmap_levels().append(level)
        try:
            result = func(*new_args, **(kwargs or {}))
        finally:
            if level is not None:
                vmap_levels().pop()
    aux = None
    if has_aux:
        if not (isinstance(result, tuple) and len(result) == 2):
            raise RuntimeError(
                f"{api}: output of function f should be a tuple: (output, aux) if has_aux is True"
            )
        result, aux = result
        aux = _rebuild(aux, iter([_detach_unless_outer(x, own, track) for x in _leaves(aux)]))
    outs: list = []
    spec = _flatten(result, outs)
    if (len(outs) == 1 and outs[0] is None) or not outs:
        raise RuntimeError(
            f"{api}: Expected f to be a function that has non-empty output (got output = {outs})"
        )
    for o in outs:
        if not isinstance(o, Tensor):
            raise RuntimeError(
                f"{api}: expected f(*primals) to return only tensors, got unsupported type"
                f" {type(o)}"
            )
    return track, own, per_arg, outs, spec, aux


def _sweep(outs, ins, gos, keep: bool, own: set, materialize: bool = True) -> list:
    """Σ goᵀ ∂out/∂in for each input (zeros, or None unless ``materialize``, where none
    reaches it), keeping a graph only where it reaches outside tensors."""
    pairs = [(o, g) for o, g in zip(outs, gos) if o.requires_grad]
    if pairs:
        with enable_grad():
            res = list(_grad([o for o, _ in pairs], ins, [g for _, g in pairs],
                             retain_graph=True, create_graph=keep, allow_unused=True,
                             materialize_grads=materialize))  # fmt: skip
    else:
        res = [_zeros(x.shape, x) if materialize else None for x in ins]
    return [r if r is None or (keep and _reaches_outer(r, own)) else r.detach() for r in res]


def _basis(shape, like: Tensor) -> list:
    """The one-hot tensors of ``shape``, in row-major order."""
    n = int(xp.prod(xp.asarray(shape, dtype=xp.int64))) if shape else 1
    eye = xp.eye(n, dtype=like.dtype)
    return [Tensor(eye[k].reshape(tuple(shape))) for k in range(n)]


def _stack_as(rows: list, lead, tail, like: Tensor) -> Tensor:
    """Rows (one per element of the ``lead`` shape, each of ``tail`` shape) as lead + tail."""
    shape = tuple(lead) + tuple(tail)
    if not rows:
        return _zeros(shape, like)
    return stack(rows).reshape(shape)


def _assemble(jac, spec, args, nums, argnums):
    """torch.func's structure: jac[i][j] (output leaf i, flat input j) into the outputs' tree
    of (one argnum: the argument's tree; a tuple: a tuple of trees) of Jacobians."""
    per_out = []
    for row in jac:
        it = iter(row)
        trees = tuple(_rebuild(args[n], it) for n in nums)
        per_out.append(trees[0] if isinstance(argnums, int) else trees)
    return _unflatten(spec, iter(per_out))


def _check_floating(x, what: str) -> None:
    """Forward mode (torch's dual numbers) takes only floating or complex primals and
    tangents: torch's make_dual raises ValueError for others."""
    if isinstance(x, Tensor) and not (x.is_floating_point() or x.is_complex()):
        raise ValueError(f"Expected {what} to be floating point or complex, but got: {x.dtype}")


def _check_outputs_floating(outs) -> None:
    for o in outs:
        if not (o.is_floating_point() or o.is_complex()):
            raise RuntimeError(
                "vjp(f, ...): All outputs of f must be floating-point or complex Tensors, got"
                f" Tensor with dtype {o.dtype}"
            )


# ------------------------------------------------------------ vjp
def vjp(func: Callable, *primals, has_aux: bool = False):
    """torch.func.vjp: ``(func(*primals), vjp_fn)`` (with ``has_aux``: ``(output, vjp_fn,
    aux)``, func returning ``(output, aux)``). ``vjp_fn(cotangents)`` takes cotangents shaped
    like the output (the same tree of Tensors) and returns a tuple with one vᵀJ per primal,
    each shaped like that primal (a tree for a tree). It can be called more than once.
    Errors as torch's: a non-Tensor output, an output that is not floating point, has_aux
    without a 2-tuple, cotangents of another structure."""
    track, own, per_arg, outs, spec, aux = _call(
        func, primals, tuple(range(len(primals))), has_aux, _VJP
    )
    _check_outputs_floating(outs)
    ins = [w for ws in per_arg for w in ws]
    outer = track and any(_reaches_outer(o, own) for o in outs)

    def vjp_fn(cotangents, retain_graph: bool = True, create_graph: bool | None = None):
        flat: list = []
        cspec = _flatten(cotangents, flat)
        if cspec != spec:
            raise RuntimeError(
                "Expected pytree structure of cotangents to be the same as pytree structure of"
                f" outputs to the function. cotangents: {_spec_str(cspec)}, primal output:"
                f" {_spec_str(spec)}"
            )
        graph = is_grad_enabled() if create_graph is None else create_graph
        keep = graph and (outer or any(isinstance(c, Tensor) and c.requires_grad for c in flat))
        res = _sweep(outs, ins, flat, keep, own)
        it = iter(res)
        return tuple(_rebuild(p, it) for p in primals)

    results = _unflatten(spec, iter([o if outer else o.detach() for o in outs]))
    return (results, vjp_fn, aux) if has_aux else (results, vjp_fn)


# ------------------------------------------------------------ jvp
def _transpose(outs, ins, track: bool, own: set) -> tuple:
    """The double-vjp trick's first half: cotangent leaves u (one per output that requires
    grad) and g = uᵀJ per input (None where no output reaches it), g's graph reaching u."""
    us = [_zeros(o.shape, o).requires_grad_(True) for o in outs if o.requires_grad]
    own.update(id(u) for u in us)
    if not us:
        return us, [None] * len(ins)
    with enable_grad():
        req = [o for o in outs if o.requires_grad]
        g = _grad(req, ins, us, retain_graph=True, create_graph=True, allow_unused=True)
    return us, list(g)


def _forward(outs, us, gs, tangents, keep: bool, own: set) -> list:
    """J t per output (None for one that no differentiated input reaches), from uᵀJ."""
    pairs = [(g, t) for g, t in zip(gs, tangents) if g is not None and g.requires_grad]
    if not pairs:
        return [None] * len(outs)
    with enable_grad():
        res = iter(_grad([g for g, _ in pairs], us, [t for _, t in pairs], retain_graph=True,
                         create_graph=keep, allow_unused=True))  # fmt: skip
    out = []
    for o in outs:
        r = next(res) if o.requires_grad else None
        out.append(r if r is None or (keep and _reaches_outer(r, own)) else r.detach())
    return out


def jvp(func: Callable, primals: tuple, tangents: tuple, *, strict: bool = False,
        has_aux: bool = False):  # fmt: skip
    """torch.func.jvp: ``(func(*primals), J·tangents)`` (with ``has_aux``: ``(output,
    jvp_out, aux)``). primals is a tuple of arguments (Tensors or trees of them) and tangents
    a tuple of the same structure; jvp_out has the output's structure. An output no primal
    reaches gets a zero tangent (torch's ``strict=True`` raises instead). Computed by the
    double-vjp trick (torch uses dual numbers; the values are the same)."""
    if not isinstance(primals, tuple):
        raise RuntimeError(
            f"{_JVP}: Expected primals to be a tuple. E.g. it should be valid to call f(*primals)."
        )
    flat_p: list = []
    flat_t: list = []
    pspec, tspec = _flatten(primals, flat_p), _flatten(tangents, flat_t)
    if pspec != tspec:
        raise RuntimeError(
            f"{_JVP}: Expected primals and tangents to have the same python structure. For"
            " example, if primals is a tuple of 3 tensors, tangents also must be. Got primals"
            f" with structure {_spec_str(pspec)} and tangents with structure {_spec_str(tspec)}"
        )
    for name, flat in (("primals", flat_p), ("tangents", flat_t)):
        if not flat:
            raise RuntimeError(f"{_JVP}: Expected {name} to contain at least one Tensor.")
        for x in flat:
            if not isinstance(x, Tensor):
                raise RuntimeError(
                    f"{_JVP}: Expected {name} to only contain Tensors, got {type(x)}"
                )
    for k, (p, t) in enumerate(zip(flat_p, flat_t)):
        _check_floating(p, "primal")
        _check_floating(t, "tangent")
        if tuple(p.shape) != tuple(t.shape):
            raise RuntimeError(
                f"{_JVP}: tangent {k} has shape {tuple(t.shape)} but its primal has shape"
                f" {tuple(p.shape)}"
            )
    track, own, per_arg, outs, spec, aux = _call(
        func, primals, tuple(range(len(primals))), has_aux, _JVP
    )
    ins = [w for ws in per_arg for w in ws]
    us, gs = _transpose(outs, ins, track, own)
    keep = track and (
        any(_reaches_outer(o, own) for o in outs) or any(t.requires_grad for t in flat_t)
    )
    res = _forward(outs, us, gs, flat_t, keep, own)
    if strict and any(r is None for r in res):
        raise RuntimeError(
            "jvp(f, primals, tangents, strict=True): The output of f is independent of the"
            " inputs. This is not allowed with strict=True."
        )
    res = [_zeros(o.shape, o) if r is None else r for o, r in zip(outs, res)]
    outer = track and any(_reaches_outer(o, own) for o in outs)
    output = _unflatten(spec, iter([o if outer else o.detach() for o in outs]))
    jvp_out = _unflatten(spec, iter(res))
    return (output, jvp_out, aux) if has_aux else (output, jvp_out)


def linearize(func: Callable, *primals) -> tuple:
    """torch.func.linearize: ``(func(*primals), jvp_fn)`` where ``jvp_fn(*tangents)`` is J·t at
    the primals, for any tangents of the primals' structure, shapes and dtypes.

    func runs once: its graph and the transposed one (g = uᵀJ, the double-vjp trick's first
    half) are kept, so each ``jvp_fn`` call is one reverse sweep of g, not another run of
    func (torch traces func once for the same reason)."""
    api = "linearize(func, *primals)"
    flat_p: list = []
    pspec = _flatten(primals, flat_p)
    for x in flat_p:
        if not isinstance(x, Tensor):
            raise RuntimeError(f"{api}: Expected primals to only contain Tensors, got {type(x)}")
        _check_floating(x, "primal")
    _, own, per_arg, outs, spec, _ = _call(func, primals, tuple(range(len(primals))), False, api)
    ins = [w for ws in per_arg for w in ws]
    us, gs = _transpose(outs, ins, False, own)
    output = _unflatten(spec, iter([o.detach() for o in outs]))

    def jvp_fn(*tangents):
        flat_t: list = []
        tspec = _flatten(tangents, flat_t)
        if tspec != pspec:
            raise RuntimeError(
                f"Expected the tangents {_spec_str(tspec)} to have the same argspec as the"
                f" primals {_spec_str(pspec)}"
            )
        for k, (p, t) in enumerate(zip(flat_p, flat_t)):
            for what, got, want in (("shape", t.shape, p.shape), ("dtype", t.dtype, p.dtype)):
                if got != want:
                    raise RuntimeError(
                        f"tangent:{k} with {what} {got} in flattened pytree doesn't match the"
                        f" {what} {want} of the corresponding primal."
                    )
        res = _forward(outs, us, gs, flat_t, False, own)
        return _unflatten(spec, iter(_zeros(o.shape, o) if r is None else r
                                     for o, r in zip(outs, res)))  # fmt: skip

    return output, jvp_fn


# ------------------------------------------------------------ jacrev, jacfwd, hessian
def jacrev(func: Callable, argnums: int | tuple[int, ...] = 0, *, has_aux: bool = False,
           chunk_size: int | None = None) -> Callable:  # fmt: skip
    """torch.func.jacrev: the function ``*args ↦`` the Jacobian of func with respect to
    ``args[argnums]``, by reverse mode (one vjp per output element). For an output leaf o
    and input leaf x the block has shape ``o.shape + x.shape``; outputs that are a tree give
    a tree of blocks, a tuple of argnums a tuple per output, an argument that is a tree (a
    dict of parameters) a tree like it. With ``has_aux``: ``(jacobian, aux)``. chunk_size
    (None or > 0) bounds torch's memory; the values do not depend on it. Errors as torch's
    vjp's (jacrev reports them as vjp's)."""
    if not (chunk_size is None or chunk_size > 0):
        raise ValueError("jacrev: `chunk_size` should be greater than 0.")

    def wrapper(*args, **kwargs):
        if chunk_size is not None and not isinstance(chunk_size, int):  # torch: on the call
            raise TypeError(f"jacrev: chunk_size must be an int or None, got {type(chunk_size)}")
        nums = _argnums(argnums, len(args))
        track, own, per_arg, outs, spec, aux = _call(func, args, nums, has_aux, _VJP, kwargs)
        _check_outputs_floating(outs)
        ins = [w for ws in per_arg for w in ws]
        keep = track and any(_reaches_outer(o, own) for o in outs)
        jac = []
        for o in outs:
            rows = [_sweep([o], ins, [e], keep, own) for e in _basis(o.shape, o)]
            jac.append([_stack_as([r[j] for r in rows], o.shape, x.shape, x)
                        for j, x in enumerate(ins)])  # fmt: skip
        result = _assemble(jac, spec, args, nums, argnums)
        return (result, aux) if has_aux else result

    return wrapper


def jacfwd(func: Callable, argnums: int | tuple[int, ...] = 0, has_aux: bool = False, *,
           randomness: str = "error") -> Callable:  # fmt: skip
    """torch.func.jacfwd: the Jacobian as :func:`jacrev` gives it (same structure), by
    forward mode, one jvp per input element (here the double-vjp trick: one sweep of uᵀJ,
    then one sweep of it per column). ``randomness``: torch vmaps over the columns, so a
    random op in func raises under 'error'; under 'same' or 'different' func runs once here,
    every column seeing the same draws (torch's 'different' would draw per column)."""

    def wrapper(*args, **kwargs):
        if randomness not in ("error", "different", "same"):  # checked on the call, as torch
            raise RuntimeError(
                "Only allowed values for randomness are 'error', 'different', or 'same'. Got"
                f" {randomness}"
            )
        nums = _argnums(argnums, len(args))
        for n in nums:
            for x in _leaves(args[n]):
                _check_floating(x, "primal")
        track, own, per_arg, outs, spec, aux = _call(
            func, args, nums, has_aux, _JVP, kwargs, level=_Level(randomness)
        )
        ins = [w for ws in per_arg for w in ws]
        us, gs = _transpose(outs, ins, track, own)
        keep = track and any(_reaches_outer(o, own) for o in outs)
        blocks = []  # blocks[j][i]: input j, output i, in shape x.shape + o.shape
        for x, g in zip(ins, gs):
            cols = [_forward(outs, us, [g], [e], keep, own) for e in _basis(x.shape, x)]
            per_out = []
            for i, o in enumerate(outs):
                cs = [c[i] for c in cols]
                if any(c is None for c in cs):
                    per_out.append(_zeros(tuple(o.shape) + tuple(x.shape), o))
                    continue
                b = _stack_as(cs, x.shape, o.shape, o)  # x.shape + o.shape
                nx, no = len(x.shape), len(o.shape)
                per_out.append(b.permute(*range(nx, nx + no), *range(nx)) if nx and no else b)
            blocks.append(per_out)
        jac = [[blocks[j][i] for j in range(len(ins))] for i in range(len(outs))]
        result = _assemble(jac, spec, args, nums, argnums)
        return (result, aux) if has_aux else result

    return wrapper


def hessian(func: Callable, argnums: int | tuple[int, ...] = 0) -> Callable:
    """torch.func.hessian: ``jacfwd(jacrev(func, argnums), argnums)``, the matrix of second
    derivatives of a function with respect to ``args[argnums]`` (for a scalar f and input x,
    shape ``x.shape + x.shape``; several argnums give nested tuples)."""
    return jacfwd(jacrev(func, argnums), argnums)
