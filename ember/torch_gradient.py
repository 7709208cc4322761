"""torch.gradient: the derivative of a sampled function by central differences inside and
one-sided differences of order ``edge_order`` at the edges, along each asked dimension, with
uniform steps, per-dimension steps or coordinates (torch's ``spacing``). A composition of
differentiable ops (narrow, arithmetic, cat), so autograd gives its gradient. ember.gradient
(exported through torch_special_linalg.py's ``__all__``).
"""

from __future__ import annotations

import numbers

from .tensor import Tensor
from .tensor_methods import _floating
from .torch_linalg_funcs import _t


def _gradient_dims(f: Tensor, spacing, dim) -> tuple[list, list]:
    if dim is None:
        dims = list(range(f.ndim))
    else:
        dims = [dim] if isinstance(dim, numbers.Integral) else list(dim)
        for d in dims:
            if not -f.ndim <= d < max(f.ndim, 1):
                raise IndexError(
                    f"Dimension out of range (expected to be in range of [{-f.ndim},"
                    f" {f.ndim - 1}], but got {d})"
                )
        dims = [d % f.ndim for d in dims]
        seen = set()
        for d in dims:
            if d in seen:
                raise RuntimeError(f"dim {d} appears multiple times in the list of dims")
            seen.add(d)
    if isinstance(spacing, Tensor) and spacing.ndim == 0:
        spacing = spacing.item()
    if isinstance(spacing, (list, tuple)):
        if len(spacing) != len(dims):
            if dim is None:
                raise RuntimeError(
                    "torch.gradient expected spacing to be unspecified, a scalar, or a list of"
                    f" length equal to 'self.dim() = {f.ndim}', since dim argument was not"
                    f" given, but got a list of length {len(spacing)}"
                )
            raise RuntimeError(
                "torch.gradient expected spacing to be unspecified, a scalar or it's spacing and"
                " dim arguments to have the same length, but got a spacing argument of length"
                f" {len(spacing)} and a dim argument of length {len(dims)}."
            )
        return dims, list(spacing)
    return dims, [spacing] * len(dims)


def _along(t: Tensor, d: int, ndim: int) -> Tensor:
    """A 1-D t shaped to broadcast along dim d of an ndim tensor."""
    shape = [1] * ndim
    shape[d] = -1
    return t.reshape(shape)


def gradient(input, *, spacing=1, dim=None, edge_order=1) -> tuple:  # noqa: A002
    """torch.gradient: ∂f/∂x_d per dim d by central differences in the interior,
    f′_i = (h₋² f_{i+1} + (h₊² − h₋²) f_i − h₊² f_{i−1}) / (h₋ h₊ (h₋ + h₊)), and one-sided
    differences of order ``edge_order`` (1 or 2) at the ends; spacing: a step per dim or the
    coordinates along it."""
    f = _floating(_t(input))
    if edge_order not in (1, 2):
        raise RuntimeError("torch.gradient only supports edge_order=1 and edge_order=2.")
    dims, steps = _gradient_dims(f, spacing, dim)
    for d in dims:
        if f.shape[d] < edge_order + 1:
            raise RuntimeError(
                "torch.gradient expected each dimension size to be at least edge_order+1"
            )
    return tuple(_gradient_along(f, d, h, edge_order) for d, h in zip(dims, steps))


def _gradient_along(f: Tensor, d: int, h, edge_order: int) -> Tensor:
    n = f.shape[d]

    def s(start: int, length: int) -> Tensor:
        return f.narrow(d, start, length)

    if not isinstance(h, Tensor):  # a uniform step h
        center = (s(2, n - 2) - s(0, n - 2)) / (2.0 * h)
        if edge_order == 1:
            first = (s(1, 1) - s(0, 1)) / h
            last = (s(n - 1, 1) - s(n - 2, 1)) / h
        else:
            first = (s(0, 1) * -1.5 + s(1, 1) * 2.0 - s(2, 1) * 0.5) / h
            last = (s(n - 3, 1) * 0.5 - s(n - 2, 1) * 2.0 + s(n - 1, 1) * 1.5) / h
        return _cat([first, center, last], d)
    x = h
    if x.ndim != 1 or x.shape[0] != n:
        raise RuntimeError(
            f"The size of tensor a ({n}) must match the size of tensor b"
            f" ({x.shape[0] if x.ndim else 1}) at non-singleton dimension {d}"
        )
    dx = x.narrow(0, 1, n - 1) - x.narrow(0, 0, n - 1)  # h_i = x_{i+1} − x_i
    h1, h2 = dx.narrow(0, 0, n - 2), dx.narrow(0, 1, n - 2)  # h₋, h₊ around each interior i
    a = _along(-h2 / (h1 * (h1 + h2)), d, f.ndim)
    b = _along((h2 - h1) / (h1 * h2), d, f.ndim)
    c = _along(h1 / (h2 * (h1 + h2)), d, f.ndim)
    center = a * s(0, n - 2) + b * s(1, n - 2) + c * s(2, n - 2)
    d0, d1 = dx[0], dx[n - 2]
    if edge_order == 1:
        first = (s(1, 1) - s(0, 1)) / d0
        last = (s(n - 1, 1) - s(n - 2, 1)) / d1
    else:
        e0, e1 = dx[1], dx[n - 3]  # the second step at each end
        first = (
            s(0, 1) * (-(2.0 * d0 + e0) / (d0 * (d0 + e0)))
            + s(1, 1) * ((d0 + e0) / (d0 * e0))
            + s(2, 1) * (-d0 / (e0 * (d0 + e0)))
        )
        last = (
            s(n - 3, 1) * (d1 / (e1 * (d1 + e1)))
            + s(n - 2, 1) * (-(d1 + e1) / (d1 * e1))
            + s(n - 1, 1) * ((2.0 * d1 + e1) / (d1 * (d1 + e1)))
        )
    return _cat([first, center, last], d)


def _cat(tensors: list, d: int) -> Tensor:
    from .functional.shape import cat  # imported late: functional is above this floor

    return cat(tensors, d)
