"""torch.fft's argument checks, in torch's order and with its error classes (SpectralOps.cpp).

A transform first wraps each dim (IndexError when out of range; a 0-d tensor has no dim to
transform), then refuses repeated dims, an ``s`` whose length is not that of ``dim`` or that
names more dims than the tensor has, and any length below 1 (RuntimeError), and only then reads
``norm`` (RuntimeError for a mode it does not know). ``n`` of a 1-D transform is a length as
given: −1 there is refused, while −1 in ``s`` keeps the dim's length.
"""

from __future__ import annotations

from ..errors import InputError

NORMS = ("backward", "ortho", "forward")


def norm_mode(norm) -> str:
    """``norm`` checked: None is "backward"; torch's RuntimeError (InputError, ember's ValueError
    too) for anything else outside the three modes."""
    if norm is None:
        return "backward"
    if norm not in NORMS:
        raise InputError(f'Invalid normalization mode: "{norm}"')
    return norm


def wrap_dim(dim: int, ndim: int) -> int:
    """torch's maybe_wrap_dim without scalar wrapping: a dim in [−ndim, ndim) made ≥ 0."""
    if ndim == 0:
        raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions")
    if not -ndim <= dim < ndim:
        raise IndexError(
            f"Dimension out of range (expected to be in range of [{-ndim}, {ndim - 1}], but got"
            f" {dim})"
        )
    return dim % ndim


def check_sizes(sizes) -> None:
    for n in sizes:
        if n < 1:
            raise RuntimeError(f"Invalid number of data points ({n}) specified")


def one_dim(shape: tuple, n, dim: int, default_n=None) -> tuple:
    """((n,), (dim,)) of a 1-D transform: n defaults to ``default_n(length)`` (the dim's length
    when None); an n given is used as it is (−1 included, and refused)."""
    d = wrap_dim(dim, len(shape))
    if n is None:
        n = shape[d] if default_n is None else default_n(shape[d])
    check_sizes((n,))
    return (int(n),), (d,)


def n_dims(shape: tuple, s, dim) -> tuple:
    """(sizes, dims) of an n-D transform, torch's canonicalize_fft_shape_and_dim_args: dim None
    and s given → the last len(s) dims; both None → every dim; −1 in s → the dim's length."""
    nd = len(shape)
    dims = None
    if dim is not None:
        dims = tuple(wrap_dim(d, nd) for d in ((dim,) if isinstance(dim, int) else dim))
        if len(set(dims)) != len(dims):
            raise RuntimeError(f"FFT dims must be unique, got {tuple(dim)}")
    if s is not None:
        s = tuple(s)
        if dims is not None and len(dims) != len(s):
            raise RuntimeError(
                f"When given, dim and shape arguments must have the same length, got {len(dims)}"
                f" dims and {len(s)} sizes"
            )
        if len(s) > nd:
            raise RuntimeError(
                f"Got shape with {len(s)} values but input tensor only has {nd} dimensions."
            )
        if dims is None:
            dims = tuple(range(nd - len(s), nd))
        sizes = tuple(shape[d] if n == -1 else int(n) for n, d in zip(s, dims))
    else:
        dims = tuple(range(nd)) if dims is None else dims
        sizes = tuple(shape[d] for d in dims)
    check_sizes(sizes)
    return sizes, dims


def c2r_dims(name: str, shape: tuple, s, dim) -> tuple:
    """(output sizes, dims) of irfftn / hfftn: n_dims's, with the last output length s[-1], or
    2·(m − 1) for the input's length m there when s is None or s[-1] is −1."""
    sizes, dims = n_dims(shape, s, dim)
    if not dims:
        raise RuntimeError(f"{name} must transform at least one axis")
    last = 2 * (shape[dims[-1]] - 1) if s is None or tuple(s)[-1] == -1 else sizes[-1]
    check_sizes((last,))
    return sizes[:-1] + (last,), dims
