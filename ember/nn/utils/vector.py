"""Flatten parameters into one vector and back (torch.nn.utils.parameters_to_vector and
vector_to_parameters): θ = [vec(W₁); vec(b₁); …], as second-order and evolutionary methods
and weight averaging want it."""

from __future__ import annotations

from ...errors import InputError
from ...functional.shape import cat
from ...tensor import Tensor


def parameters_to_vector(parameters) -> Tensor:
    """One 1-D tensor of every parameter, flattened and concatenated in order; it is
    differentiable with respect to the parameters (a ``cat`` of ``reshape(-1)`` views)."""
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    flat = [p.reshape(-1) for p in parameters]
    if not flat:
        raise ValueError("parameters_to_vector got no parameters")
    return cat(flat)


def vector_to_parameters(vec: Tensor, parameters) -> None:
    """Copy consecutive slices of ``vec`` into the parameters, in order (in place, no graph)."""
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected an ember Tensor, but got: {type(vec).__name__}")
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    parameters = list(parameters)
    total = sum(p.numel() for p in parameters)
    if vec.ndim != 1 or vec.numel() < total:  # (a longer one gives its first elements, as torch)
        raise InputError(
            f"vector_to_parameters needs a 1-D vector of {total} elements (the parameters'"
            f" total), got shape {vec.shape}"
        )
    start = 0
    for p in parameters:
        n = p.numel()
        p.array = vec.array[start : start + n].reshape(p.shape).astype(p.array.dtype, copy=True)
        start += n
