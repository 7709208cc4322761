"""F.local_response_norm: each activation divided by the energy of its neighbouring channels.

    b_c = a_c / (k + (α/n) · Σ_{c' = c − ⌊n/2⌋}^{c + ⌈n/2⌉ − 1} a_{c'}²)^β

over channels c of x (N, C, *): the window of n channels is centred on c (for even n it
reaches one further back than forward), and channels beyond the edges count as zeros, so
the divisor is always n — torch's semantics exactly (Krizhevsky, Sutskever & Hinton 2012,
§3.3, used n = 5, k = 2, α = 1e-4, β = 0.75 in AlexNet).

Composed from differentiable ops, as torch composes it: square, zero-pad the channel axis,
average n neighbours with a stride-1 (n × 1) average pool over (N, 1, C, ∏rest), then the
power and the division. The pool's window walks the channel axis, so nothing loops in Python.
"""

from __future__ import annotations

from .. import backend
from ..errors import InputError
from ..ops.elementwise import not_implemented_for
from ..tensor import Tensor
from .pool import avg_pool2d
from .shape import pad


def local_response_norm(
    input: Tensor,  # noqa: A002 - torch's argument name
    size: int,
    alpha: float = 1e-4,
    beta: float = 0.75,
    k: float = 1.0,
) -> Tensor:
    """b = a / (k + α · mean of a² over ``size`` neighbouring channels)^β; x (N, C, *)."""
    if input.ndim < 3:
        raise ValueError(
            f"local_response_norm: expected 3D or higher dimensionality input (got {input.ndim}"
            " dimensions)"
        )
    if input.numel() == 0:  # torch returns an empty input before it looks at size
        return input
    if size < 1:  # torch: RuntimeError
        raise InputError(f"local_response_norm: size must be a positive integer, got {size}")
    if input.dtype.kind == "b":  # torch's average pool has no bool kernel
        kernel = "avg_pool2d" if input.ndim == 3 else "avg_pool3d_out_frame"
        raise not_implemented_for(kernel, input.dtype)
    a = input
    shape = tuple(a.shape)
    n, c = shape[0], shape[1]
    a2 = (a * a).reshape(n, 1, c, -1)  # (N, 1, C, ∏rest): channels on the pool's height axis
    a2 = pad(a2, (0, 0, size // 2, (size - 1) // 2))
    if a.dtype.kind in "iu":
        # torch pools the integer squares with an integer mean, ⌊Σ a² / n⌋, and the result
        # is in the default float dtype
        a2 = a2.double()
        mean = avg_pool2d(a2, (size, 1), stride=1).floor().reshape(shape).to(backend.DEFAULT_DTYPE)
    else:
        mean = avg_pool2d(a2, (size, 1), stride=1).reshape(shape)  # (1/n) Σ_window a²
    return a / (mean * alpha + k) ** beta
