"""Input-shape helpers shared by the image models (no parameters, no maths)."""

from __future__ import annotations

from ..tensor import Tensor


def spatial_shape(input_size, dims: int) -> tuple:
    """``input_size`` (int or tuple) as a tuple of ``dims`` spatial sizes."""
    if isinstance(input_size, int):
        return (input_size,) * dims
    size = tuple(int(s) for s in input_size)
    if len(size) != dims:
        raise ValueError(f"input_size {input_size!r} does not have {dims} spatial dims")
    return size


def as_image_batch(x: Tensor, in_channels: int, size: tuple) -> Tensor:
    """Accept (N, C, *size), (N, *size) or flat (N, C·∏size) and return (N, C, *size)."""
    full = (in_channels,) + tuple(size)
    if tuple(x.shape[1:]) == full:
        return x
    n_flat = 1
    for s in full:
        n_flat *= s
    if tuple(x.shape[1:]) == tuple(size) and in_channels == 1:
        return x.reshape((x.shape[0],) + full)
    if x.ndim == 2 and x.shape[1] == n_flat:
        return x.reshape((x.shape[0],) + full)
    raise ValueError(
        f"expected input of shape (N, {', '.join(map(str, full))}) (or flattened), got {x.shape}"
    )
