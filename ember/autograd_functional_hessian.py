"""``ember.autograd.functional``'s second-order half: hessian (the jacobian of the gradient),
vhp = vᵀH and hvp = H v (the double-vjp trick on the gradient), with torch's arguments and
return structures; the helpers and the first-order half are in autograd_functional.py.
"""

from __future__ import annotations

from collections.abc import Callable

from .autograd_functional import (
    Tensors,
    _as_tuple,
    _autograd_grad,
    _check_requires_grad,
    _fill_in_zeros,
    _grad_mode,
    _grad_postprocess,
    _prepare,
    _scalar_output,
    _tuple_postprocess,
    _zeros,
    jacobian,
)
from .function import enable_grad, is_grad_enabled


def hessian(func: Callable, inputs: Tensors, create_graph: bool = False, strict: bool = False,
            vectorize: bool = False, outer_jacobian_strategy: str = "reverse-mode"):  # fmt: skip
    """H = ∂²func/∂inputs² of a function returning one single-element Tensor: the jacobian of
    its gradient. For inputs i, j the block ∂²f/∂x_i∂x_j has shape in_i.shape + in_j.shape; a
    tuple of inputs gives a tuple (over i) of tuples (over j). ``vectorize`` and the strategy
    are as in :func:`jacobian`: ``outer_jacobian_strategy="forward-mode"`` takes the
    jacobian of the gradient by forward mode through its recorded backward
    (forward-over-reverse), the same values."""
    is_in_tuple, inputs = _as_tuple(inputs, "inputs", "hessian")
    if outer_jacobian_strategy not in ("forward-mode", "reverse-mode"):
        raise AssertionError('Expected strategy to be either "forward-mode" or "reverse-mode".')

    def ensure_single_output_function(*inp):
        out = func(*inp)
        is_out_tuple, t_out = _as_tuple(out, "outputs of the user-provided function", "hessian")
        _check_requires_grad(t_out, "outputs", strict=strict)
        _scalar_output(t_out, is_out_tuple, "hessian")
        return out.squeeze()

    def jac_func(*inp):
        jac = jacobian(ensure_single_output_function, inp, create_graph=True)
        _check_requires_grad(jac, "jacobian", strict=strict)
        return jac

    res = jacobian(jac_func, inputs, create_graph=create_graph, strict=strict,
                   vectorize=vectorize, strategy=outer_jacobian_strategy)  # fmt: skip
    return _tuple_postprocess(res, (is_in_tuple, is_in_tuple))


def _gradient_with_graph(func, inputs, v, create_graph: bool, strict: bool, name: str):
    """vhp's and hvp's first step: run a single-element func, take ∇f with its graph."""
    with enable_grad():
        prepared = _prepare(func, inputs, v, create_graph, name, "inputs")
        is_in_tuple, inputs, is_out_tuple, outputs, v = prepared
        _check_requires_grad(outputs, "outputs", strict=strict)
        _scalar_output(outputs, is_out_tuple, name)
        jac = _autograd_grad(outputs, inputs, create_graph=True)
        _check_requires_grad(jac, "jacobian", strict=strict)
    return prepared, jac


def vhp(func: Callable, inputs: Tensors, v: Tensors | None = None, create_graph: bool = False,
        strict: bool = False) -> tuple:  # fmt: skip
    """(func(inputs), vᵀH): the vector-Hessian product of a single-element func, shaped as the
    inputs; the gradient ∇f taken with its graph, then differentiated once more against v."""
    prepared, jac = _gradient_with_graph(func, inputs, v, create_graph, strict, "vhp")
    is_in_tuple, inputs, is_out_tuple, outputs, v = prepared
    with _grad_mode(create_graph or is_grad_enabled()):
        grad_res = _autograd_grad(jac, inputs, v, create_graph=create_graph)
        res = _fill_in_zeros(grad_res, inputs, strict, create_graph, "double_back")
    outputs = _grad_postprocess(outputs, create_graph)
    res = _grad_postprocess(res, create_graph)
    return _tuple_postprocess(outputs, is_out_tuple), _tuple_postprocess(res, is_in_tuple)


def hvp(func: Callable, inputs: Tensors, v: Tensors | None = None, create_graph: bool = False,
        strict: bool = False) -> tuple:  # fmt: skip
    """(func(inputs), H v): the Hessian-vector product of a single-element func, shaped as the
    inputs, by the double-vjp trick on the gradient as torch computes it (H v = (vᵀH)ᵀ for a
    symmetric H, but the trick also holds where it is not). Needs third-order recording."""
    prepared, jac = _gradient_with_graph(func, inputs, v, create_graph, strict, "hvp")
    is_in_tuple, inputs, is_out_tuple, outputs, v = prepared
    with enable_grad():
        grad_jac = tuple(_zeros(inp, requires_grad=True) for inp in inputs)
        double_back = _autograd_grad(jac, inputs, grad_jac, create_graph=True)
        _check_requires_grad(jac, "hessian", strict=strict)
    with _grad_mode(create_graph or is_grad_enabled()):
        grad_res = _autograd_grad(double_back, grad_jac, v, create_graph=create_graph)
        res = _fill_in_zeros(grad_res, inputs, strict, create_graph, "double_back_trick")
    outputs = _grad_postprocess(outputs, create_graph)
    res = _grad_postprocess(res, create_graph)
    return _tuple_postprocess(outputs, is_out_tuple), _tuple_postprocess(res, is_in_tuple)
