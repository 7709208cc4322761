"""``ember.autograd.functional``: torch.autograd.functional's jacobian, hessian, vjp, jvp, hvp
and vhp over ember's recorded derivatives.

For f: inputs ↦ outputs with Jacobian J = ∂f/∂x and, for a scalar f, Hessian H = ∂²f/∂x²:

- ``vjp``  = vᵀJ   (one reverse sweep);
- ``jvp``  = J v   (the double-vjp trick: u ↦ uᵀJ is linear in u, so its vjp with v is J v);
- ``jacobian`` = J, one vjp per output element, stacked (shape ``out.shape + in.shape``);
- ``hessian``  = H, the jacobian of the jacobian;
- ``vhp`` = vᵀH and ``hvp`` = H v (the double-vjp trick on the gradient).

Argument names, defaults, return structures and errors are torch's: a single Tensor input
gives single Tensors back, a tuple input gives tuples (and for ``jacobian``/``hessian`` of
several inputs and outputs, nested tuples). Results are detached unless ``create_graph=True``.
Second derivatives need the recorded rules of autograd_higher.py for every op ``func`` uses.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable

from .autograd_grad import grad as _grad
from .backend import xp
from .function import enable_grad, is_grad_enabled, set_grad_enabled
from .tensor import Tensor

Tensors = Tensor | tuple[Tensor, ...]

__all__ = ["vjp", "jvp", "jacobian", "hessian", "hvp", "vhp"]


# ------------------------------------------------------------ helpers (torch's, on ember)
def _as_tuple(inp, arg_name: str, fn_name: str) -> tuple[bool, tuple]:
    """(was it a tuple, the tuple of Tensors); torch's TypeError for anything else."""
    is_tuple = isinstance(inp, tuple)
    tup = inp if is_tuple else (inp,)
    for i, el in enumerate(tup):
        if not isinstance(el, Tensor):
            where = f"the value at index {i} has" if is_tuple else f"the given {arg_name} has"
            raise TypeError(
                f"The {arg_name} given to {fn_name} must be either a Tensor or a tuple of"
                f" Tensors but {where} type {type(el)}."
            )
    return is_tuple, tup


def _tuple_postprocess(res, to_unpack):
    """Undo ``_as_tuple``: unwrap one level (bool) or two levels (pair of bools)."""
    if isinstance(to_unpack, tuple):
        if not to_unpack[1]:
            res = tuple(el[0] for el in res)
        if not to_unpack[0]:
            res = res[0]
    elif not to_unpack:
        res = res[0]
    return res


def _zeros(ref: Tensor, requires_grad: bool = False) -> Tensor:
    return Tensor(xp.zeros(ref.shape, dtype=ref.dtype), requires_grad=requires_grad)


def _grad_preprocess(inputs: tuple, create_graph: bool, need_graph: bool) -> tuple:
    """Always new Tensor objects, so inputs the function also captures are told apart: a
    differentiable view where the caller's graph must reach them, else detached copies."""
    out = []
    for inp in inputs:
        if create_graph and inp.requires_grad:
            out.append(inp.view_as(inp))
        else:
            out.append(inp.detach().requires_grad_(need_graph))
    return tuple(out)


def _grad_postprocess(inputs: tuple, create_graph: bool) -> tuple:
    """Results keep their graph only when asked (nested tuples for jacobian and hessian)."""
    if isinstance(inputs[0], Tensor):
        return inputs if create_graph else tuple(t.detach() for t in inputs)
    return tuple(_grad_postprocess(t, create_graph) for t in inputs)


def _validate_v(v: tuple, other: tuple, is_other_tuple: bool) -> None:
    if len(other) != len(v):
        if is_other_tuple:
            raise RuntimeError(
                f"v is a tuple of invalid length: should be {len(other)} but got {len(v)}."
            )
        raise RuntimeError("The given v should contain a single Tensor.")
    for idx, (el_v, el_other) in enumerate(zip(v, other)):
        if tuple(el_v.shape) != tuple(el_other.shape):
            prepend = f"Entry {idx} in " if is_other_tuple else ""
            raise RuntimeError(
                f"{prepend}v has invalid size: should be {tuple(el_other.shape)} but got"
                f" {tuple(el_v.shape)}."
            )


# torch's strict-mode messages, by what was found not to require grad
_STRICT = " This is not allowed in strict mode."
_NOT_REQUIRING = {
    "hessian": "The hessian of the user-provided function with respect to input {i} is"
    " independent of the input." + _STRICT + " You should ensure that your function is thrice"
    " differentiable and that the hessian depends on the inputs.",
    "jacobian": "While computing the hessian, found that the jacobian of the user-provided"
    " function with respect to input {i} is independent of the input." + _STRICT + " You"
    " should ensure that your function is twice differentiable and that the jacobian depends"
    " on the inputs (this would be violated by a linear function for example).",
    "grad_inputs": "The gradient with respect to input {i} is independent of the inputs of the"
    " user-provided function." + _STRICT,
    "outputs": "Output {i} of the user-provided function does not require gradients. The"
    " outputs must be computed in a differentiable manner from the input when running in"
    " strict mode.",
}


def _check_requires_grad(inputs: tuple, input_type: str, strict: bool) -> None:
    if not strict:
        return
    for i, inp in enumerate(inputs):
        if inp is None:  # only a gradient can be missing
            raise RuntimeError(_MISSING["back"].format(i=i) + _STRICT)
        if not inp.requires_grad:
            raise RuntimeError(_NOT_REQUIRING[input_type].format(i=i))


def _autograd_grad(outputs: tuple, inputs: tuple, grad_outputs=None, create_graph=False,
                   retain_graph=None) -> tuple:  # fmt: skip
    """autograd.grad over the outputs that require grad (None where an input is unused)."""
    if grad_outputs is None:
        grad_outputs = (None,) * len(outputs)
    pairs = [(o, g) for o, g in zip(outputs, grad_outputs) if o is not None and o.requires_grad]
    if not pairs:
        return (None,) * len(inputs)
    outs, gos = zip(*pairs)
    return _grad(outs, inputs, gos, retain_graph=retain_graph, create_graph=create_graph,
                 allow_unused=True)  # fmt: skip


# torch's strict-mode messages for a gradient that never reached an input, by stage
_MISSING = {
    "back": "The output of the user-provided function is independent of input {i}.",
    "back_trick": "The gradient with respect to the input is independent of entry {i} in the"
    " grad_outputs when using the double backward trick to compute forward mode gradients.",
    "double_back": "The jacobian of the user-provided function is independent of input {i}.",
    "double_back_trick": "The hessian of the user-provided function is independent of entry {i}"
    " in the grad_jacobian.",
}


def _fill_in_zeros(grads: tuple, refs: tuple, strict: bool, create_graph: bool,
                   stage: str) -> tuple:  # fmt: skip
    """Zeros for the inputs a gradient never reached (the mathematical value), or torch's
    strict-mode errors."""
    res = []
    for i, g in enumerate(grads):
        if g is None:
            if strict:
                raise RuntimeError(_MISSING[stage].format(i=i) + _STRICT)
            g = _zeros(refs[i])
        elif strict and create_graph and not g.requires_grad:
            what = "hessian" if "double" in stage else "jacobian"
            raise RuntimeError(
                f"The {what} of the user-provided function is independent of input {i}. This"
                " is not allowed in strict mode when create_graph=True."
            )
        res.append(g)
    return tuple(res)


@contextlib.contextmanager
def _grad_mode(mode: bool):
    prev = is_grad_enabled()
    set_grad_enabled(bool(mode))
    try:
        yield
    finally:
        set_grad_enabled(prev)


def _prepare(func, inputs, v, create_graph: bool, name: str, v_matches: str):
    """Preprocess inputs and v, run func; v is checked against the inputs or the outputs."""
    is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", name)
    inputs = _grad_preprocess(inputs, create_graph=create_graph, need_graph=True)
    outputs = func(*inputs)
    is_outputs_tuple, outputs = _as_tuple(outputs, "outputs of the user-provided function", name)
    ref, is_ref_tuple = (
        (outputs, is_outputs_tuple) if v_matches == "outputs" else (inputs, is_inputs_tuple)
    )
    if v is not None:
        _, v = _as_tuple(v, "v", name)
        v = _grad_preprocess(v, create_graph=create_graph, need_graph=False)
        _validate_v(v, ref, is_ref_tuple)
    elif len(ref) != 1 or ref[0].numel() != 1:
        what = (
            "the user-provided function returns"
            if v_matches == "outputs"
            else "the input to the user-provided function is"
        )
        raise RuntimeError(
            f"The vector v can only be None if {what} a single Tensor with a single element."
        )
    return is_inputs_tuple, inputs, is_outputs_tuple, outputs, v


def _scalar_output(outputs: tuple, is_outputs_tuple: bool, name: str) -> None:
    if is_outputs_tuple:
        raise RuntimeError(f"The function given to {name} should return a single Tensor")
    if outputs[0].numel() != 1:
        raise RuntimeError(
            f"The Tensor returned by the function given to {name} should contain a single element"
        )


# ------------------------------------------------------------ public API
def vjp(func: Callable, inputs: Tensors, v: Tensors | None = None, create_graph: bool = False,
        strict: bool = False) -> tuple:  # fmt: skip
    """(func(inputs), vᵀ·∂func/∂inputs): the vector-Jacobian product, shaped as the inputs.

    v has the outputs' shapes; it may be omitted when func returns one single-element Tensor.
    strict: raise where the outputs do not depend on an input instead of giving zeros.
    """
    with enable_grad():
        is_in_tuple, inputs, is_out_tuple, outputs, v = _prepare(
            func, inputs, v, create_graph, "vjp", "outputs"
        )
        _check_requires_grad(outputs, "outputs", strict=strict)
    with _grad_mode(create_graph or is_grad_enabled()):
        grad_res = _autograd_grad(outputs, inputs, v, create_graph=create_graph)
        res = _fill_in_zeros(grad_res, inputs, strict, create_graph, "back")
    outputs = _grad_postprocess(outputs, create_graph)
    res = _grad_postprocess(res, create_graph)
    return _tuple_postprocess(outputs, is_out_tuple), _tuple_postprocess(res, is_in_tuple)


def jvp(func: Callable, inputs: Tensors, v: Tensors | None = None, create_graph: bool = False,
        strict: bool = False) -> tuple:  # fmt: skip
    """(func(inputs), ∂func/∂inputs·v): the Jacobian-vector product, shaped as the outputs.

    By the double-vjp trick: g(u) = uᵀJ is linear in u, so the vjp of g with v is (vᵀJᵀ)ᵀ = J v;
    u's value never enters the result (zeros here). Needs second derivatives of func's ops.
    """
    with enable_grad():
        is_in_tuple, inputs, is_out_tuple, outputs, v = _prepare(
            func, inputs, v, create_graph, "jvp", "inputs"
        )
        _check_requires_grad(outputs, "outputs", strict=strict)
        grad_outputs = tuple(_zeros(o, requires_grad=True) for o in outputs)
        grad_inputs = _autograd_grad(outputs, inputs, grad_outputs, create_graph=True)
        _check_requires_grad(grad_inputs, "grad_inputs", strict=strict)
    with _grad_mode(create_graph or is_grad_enabled()):
        grad_res = _autograd_grad(grad_inputs, grad_outputs, v, create_graph=create_graph)
        res = _fill_in_zeros(grad_res, outputs, strict, create_graph, "back_trick")
    outputs = _grad_postprocess(outputs, create_graph)
    res = _grad_postprocess(res, create_graph)
    return _tuple_postprocess(outputs, is_out_tuple), _tuple_postprocess(res, is_out_tuple)


def _stack_rows(rows: list, out: Tensor, inp: Tensor, create_graph: bool) -> Tensor:
    """The rows ∂out_j/∂inp (one per output element) as one Tensor of out.shape + inp.shape."""
    shape = tuple(out.shape) + tuple(inp.shape)
    if not rows:
        return Tensor(xp.zeros(shape, dtype=inp.dtype))
    if create_graph:
        from .functional.shape import stack

        return stack(rows, 0).reshape(shape)
    return Tensor(xp.stack([r.array for r in rows]).reshape(shape))


def jacobian(func: Callable, inputs: Tensors, create_graph: bool = False, strict: bool = False,
             vectorize: bool = False, strategy: str = "reverse-mode"):  # fmt: skip
    """J = ∂func/∂inputs: for output i and input j a Tensor of shape out_i.shape + in_j.shape.

    A single Tensor for one input and one output; a tuple over inputs (or over outputs) when
    that side is a tuple; a tuple over outputs of tuples over inputs when both are. Each row
    ∂out_i[k]/∂inputs is one reverse sweep seeded with the one-hot e_k.

    ``vectorize=True`` computes the same result the same way (ember's vmap would loop too);
    with it, ``strategy="forward-mode"`` computes each column ∂outputs/∂inputs[j][k] by one
    forward-mode pass (``ember.autograd.forward_ad``) with the one-hot tangent e_k, as torch
    does. torch's refusals are kept: forward mode without ``vectorize``, with ``create_graph``
    (NotImplementedError) or with ``strict`` (RuntimeError).
    """
    if strategy not in ("forward-mode", "reverse-mode"):
        raise AssertionError(
            'Expected strategy to be either "forward-mode" or "reverse-mode". Hint: If your'
            ' function has more outputs than inputs, "forward-mode" tends to be more'
            ' performant. Otherwise, prefer to use "reverse-mode".'
        )
    if strategy == "forward-mode":
        for flag, on, exc in (("create_graph", create_graph, NotImplementedError),
                                ("strict", strict, RuntimeError)):  # fmt: skip
            if on:
                raise exc(
                    f'torch.autograd.functional.jacobian: `{flag}=True` and `strategy="forward-'
                    f'mode"` are not supported together (yet). Please either set `{flag}=False`'
                    ' or `strategy="reverse-mode"`.'
                )
        if not vectorize:
            raise NotImplementedError(
                "Computing Jacobian using forward-AD or forward-over-reverse Hessian is only"
                " implemented for `vectorize=True`."
            )
        return _jacobian_forward(func, inputs)
    with enable_grad():
        is_in_tuple, inputs = _as_tuple(inputs, "inputs", "jacobian")
        inputs = _grad_preprocess(inputs, create_graph=create_graph, need_graph=True)
        outputs = func(*inputs)
        is_out_tuple, outputs = _as_tuple(
            outputs, "outputs of the user-provided function", "jacobian"
        )
        _check_requires_grad(outputs, "outputs", strict=strict)
        if vectorize and strict:
            raise RuntimeError(
                "torch.autograd.functional.jacobian: `strict=True` and `vectorized=True` are"
                " not supported together. Please either set `strict=False` or"
                " `vectorize=False`."
            )
        jac = []
        for i, out in enumerate(outputs):
            rows = [[] for _ in inputs]
            n = out.numel() if out.requires_grad else 0  # else: all rows are zeros
            seed = xp.zeros(out.numel(), dtype=out.dtype)
            for k in range(n):
                seed[k] = 1
                vj = _grad((out,), inputs, (seed.reshape(out.shape).copy(),),
                           retain_graph=True, create_graph=create_graph,
                           allow_unused=True)  # fmt: skip
                seed[k] = 0
                for j, (g, inp) in enumerate(zip(vj, inputs)):
                    if g is None:
                        if strict:
                            raise RuntimeError(
                                f"Output {i} of the user-provided function is independent of"
                                f" input {j}. This is not allowed in strict mode."
                            )
                        g = _zeros(inp)
                    elif strict and create_graph and not g.requires_grad:
                        raise RuntimeError(
                            "The jacobian of the user-provided function is independent of"
                            f" input {i}. This is not allowed in strict mode when"
                            " create_graph=True."
                        )
                    rows[j].append(g)
            jac.append(
                tuple(_stack_rows(r, out, inp, create_graph) for r, inp in zip(rows, inputs))
            )
        jac = _grad_postprocess(tuple(jac), create_graph)
        return _tuple_postprocess(jac, (is_out_tuple, is_in_tuple))


def _jacobian_forward(func: Callable, inputs: Tensors):
    """jacobian(strategy="forward-mode"): column k of ∂out_i/∂inputs[j] is the tangent of out_i
    when inputs[j] carries the one-hot tangent e_k (one forward-mode pass per column)."""
    from . import autograd_forward_ad as fwAD

    is_in_tuple, inputs = _as_tuple(inputs, "inputs", "jacobian")
    # leaves that require grad, as torch's: a function that differentiates its inputs (the
    # gradient inside a forward-over-reverse hessian) keeps their tangents through its views
    inputs = _grad_preprocess(inputs, create_graph=False, need_graph=True)
    with enable_grad():
        outs = func(*inputs)
    is_out_tuple, outs = _as_tuple(outs, "outputs of the user-provided function", "jacobian")
    cols: list = [[[] for _ in inputs] for _ in outs]
    for j, x in enumerate(inputs):
        e = xp.zeros(x.numel(), dtype=x.dtype)
        for k in range(x.numel()):
            e[k] = 1
            with fwAD.dual_level(), enable_grad():
                args = list(inputs)
                args[j] = fwAD.make_dual(x, Tensor(e.reshape(x.shape).copy()))
                _, got = _as_tuple(func(*args), "outputs of the user-provided function",
                                   "jacobian")  # fmt: skip
                for i, out in enumerate(got):
                    tangent = fwAD.unpack_dual(out).tangent
                    col = xp.zeros(out.shape, out.dtype) if tangent is None else tangent.array
                    cols[i][j].append(col.copy())
            e[k] = 0
    jac = [
        [
            Tensor(
                xp.moveaxis(xp.stack(c), 0, -1).reshape(tuple(o.shape) + tuple(x.shape))
                if c
                else xp.zeros(tuple(o.shape) + tuple(x.shape), o.dtype)
            )  # fmt: skip
            for c, x in zip(row, inputs)
        ]
        for row, o in zip(cols, outs)
    ]
    return _tuple_postprocess(jac, (is_out_tuple, is_in_tuple))


# hessian, vhp and hvp: in autograd_functional_hessian.py, which builds on the helpers above
from .autograd_functional_hessian import hessian, hvp, vhp  # noqa: E402, F401
