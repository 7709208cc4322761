"""StepValue: a value with an exactly-zero gradient to its inputs, from a node that keeps no
values (the step functions' and random draws' backward)."""

from __future__ import annotations

from ..backend import get_array_module
from ..function import Function


class StepValue(Function):
    """A value that is piecewise constant in the inputs (sign, round, floor, a random draw's
    sample): the forward hands back ``value``, the backward sends each input exactly 0 (never
    0·∞ = nan), as torch's derivative of step functions. It keeps only shapes and dtypes, so a
    second backward runs it again (torch's nodes that saved nothing)."""

    rerunnable = True

    def forward(self, *xs, value):
        self.likes = [(x.shape, x.dtype) for x in xs]
        return value

    def backward(self, gy):
        xp = get_array_module(gy)
        return tuple(
            xp.zeros(shape, dtype=dtype) if need else None
            for (shape, dtype), need in zip(self.likes, self.needs_input_grad)
        )
