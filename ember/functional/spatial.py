"""Spatial transformers and sampling: F.affine_grid, F.grid_sample, F.gumbel_softmax, F.pdist,
with torch.nn.functional's names, arguments and semantics.

    affine_grid:     G[n, h, w] = θ_n · (x_w, y_h, 1)ᵀ        (2-D; 3-D adds z_d)
                     x_w = −1 + 2w/(W − 1)            (align_corners=True)
                     x_w = (−1 + 2w/(W − 1)) · (W − 1)/W   (align_corners=False: pixel centres)
    grid_sample:     y[n, c, i, j] = x[n, c] read at G[n, i, j]  (5-D: y[n, c, d, i, j];
                     bilinear/trilinear, nearest, bicubic: ops/grid_sample.py)
    gumbel_softmax:  y = softmax((ℓ + g)/τ),  g = −log(E), E ~ Exp(1)   (Gumbel(0, 1) noise)
                     hard: y_hard − sg(y) + y   (one-hot forward, the soft gradient)
    pdist:           d_k = ‖x_i − x_j‖_p for i < j, in row-major order of (i, j)

affine_grid and pdist are compositions (a matmul with a constant base grid; a gather and a
vector norm), so their gradients are right by construction. Spatial Transformer Networks:
Jaderberg et al., 2015.
"""

from __future__ import annotations

import warnings

from .. import backend
from ..backend import xp
from ..errors import InputError
from ..linalg.norms import vector_norm
from ..ops import grid_sample as G
from ..ops.complex_refuse import refuse_complex
from ..ops.elementwise import not_implemented_for
from ..tensor import Tensor, apply
from ..tensor_aliases import require_tensor
from .activation import softmax

_ALIGN_WARNING = (
    "Default grid_sample and affine_grid behavior has changed "
    "to align_corners=False since 1.3.0. Please specify "
    "align_corners=True if the old behavior is desired. "
    "See the documentation of grid_sample for details."
)


def _align(align_corners) -> bool:
    """torch warns when align_corners is left as None, then uses False."""
    if align_corners is None:
        warnings.warn(_ALIGN_WARNING, UserWarning, stacklevel=3)
        return False
    return bool(align_corners)


# ---------------------------------------------------------------- affine_grid


def _linspace(n: int, align_corners: bool, dtype):
    """torch's ``linspace_from_neg_one``: n points in [−1, 1] (pixel centres unless aligned)."""
    if n <= 1:
        return xp.zeros(1, dtype=dtype)
    r = xp.linspace(-1.0, 1.0, n, dtype=dtype)
    if not align_corners:
        r = r * (n - 1) / n
    return r


def affine_grid(theta: Tensor, size, align_corners: bool | None = None) -> Tensor:
    """Sampling grid of the affine maps θ: (N, 2, 3) → (N, H, W, 2) for size (N, C, H, W),
    or (N, 3, 4) → (N, D, H, W, 3) for size (N, C, D, H, W). Differentiable w.r.t. θ."""
    align_corners = _align(align_corners)
    if not xp.issubdtype(theta.dtype, xp.floating):
        raise ValueError(f"Expected theta to have floating point type, but got {theta.dtype}")
    size = tuple(int(s) for s in size)
    spatial = len(size) - 2
    if spatial not in (2, 3):
        raise NotImplementedError(
            "affine_grid only supports 4D and 5D sizes, for 2D and 3D affine transforms,"
            f" respectively. Got size {size}."
        )
    rows, cols = (2, 3) if spatial == 2 else (3, 4)
    if theta.ndim != 3 or tuple(theta.shape[1:]) != (rows, cols):
        raise ValueError(
            f"Expected a batch of {spatial}D affine matrices of shape Nx{rows}x{cols} for size"
            f" {list(size)}. Got {tuple(theta.shape)}."
        )
    dims = size[2:]
    if align_corners and min(dims) == 1:
        warnings.warn(
            "Since version 1.3.0, affine_grid behavior has changed for unit-size grids when"
            " align_corners=True. This is not an intended use case of affine_grid. See the"
            " documentation of affine_grid for details.",
            UserWarning,
            stacklevel=2,
        )
    elif min(size) <= 0:
        raise ValueError(f"Expected non-zero, positive output size. Got {list(size)}")
    if theta.dtype == xp.float16 and 1 in dims:  # torch's 0-d tensor for a unit axis has no
        raise not_implemented_for("tensor_cpu", theta.dtype)  # half kernel on the CPU
    if theta.shape[0] != size[0]:  # (torch's batched matmul refuses it after the base grid)
        raise InputError(f"affine_grid: theta has batch {theta.shape[0]}, size has {size[0]}")
    # base[..., k] is the k-th coordinate (x, y[, z]) of every output point, then 1
    axes = [_linspace(n, align_corners, theta.dtype) for n in dims]
    mesh = xp.meshgrid(*axes, indexing="ij")  # (D,) H, W order
    base = xp.stack([*reversed(mesh), xp.ones(dims, dtype=theta.dtype)], axis=-1)
    base = Tensor(base.reshape(-1, cols))
    out = base @ theta.transpose(1, 2)  # (N, ∏dims, rows)
    return out.reshape(size[0], *dims, rows)


# ---------------------------------------------------------------- grid_sample


def grid_sample(
    input: Tensor,  # noqa: A002 - torch's argument name
    grid: Tensor,
    mode: str = "bilinear",
    padding_mode: str = "zeros",
    align_corners: bool | None = None,
) -> Tensor:
    """Sample x (N, C, H, W) at grid (N, H_out, W_out, 2) → (N, C, H_out, W_out), or
    x (N, C, D, H, W) at grid (N, D_out, H_out, W_out, 3) → (N, C, D_out, H_out, W_out).

    grid[..., 0] is the x (width) coordinate, grid[..., 1] the y and grid[..., 2] the z
    (depth), all in [−1, 1]; modes 'bilinear' (trilinear on 5-D input), 'nearest' and
    'bicubic' (4-D only), padding 'zeros', 'border' and 'reflection' (equations in
    ``ember/ops/grid_sample.py``). Gradients w.r.t. x and the grid (zero for 'nearest').
    """
    if mode not in G.MODES:
        raise ValueError(
            "nn.functional.grid_sample(): expected mode to be 'bilinear', 'nearest' or"
            f" 'bicubic', but got: '{mode}'"
        )
    if padding_mode not in G.PADDING_MODES:
        raise ValueError(
            "nn.functional.grid_sample(): expected padding_mode to be 'zeros', 'border', or"
            f" 'reflection', but got: '{padding_mode}'"
        )
    align_corners = _align(align_corners)
    _check_grid_sampler(input, grid, mode)
    empty = 0 in (*input.shape[:2], *grid.shape[1:-1])  # torch's kernels then read nothing
    if input.dtype.kind != "f":  # dispatched on the input's dtype: floating kernels only,
        if empty and input.ndim == 4:  # but the 2-D one returns an empty output first
            return Tensor(xp.zeros((*input.shape[:2], *grid.shape[1:-1]), dtype=input.dtype))
        kernel = "grid_sampler_2d_cpu_kernel_impl" if input.ndim == 4 else "grid_sampler3d_cpu"
        if input.dtype.kind == "c":
            refuse_complex(input.array, "grid_sample", NotImplementedError, "sample z.real, z.imag")
        raise not_implemented_for(kernel, input.dtype)
    if input.dtype != grid.dtype:
        if not empty:  # the kernel reads the grid as the input's dtype
            raise RuntimeError(
                "grid_sampler(): expected input and grid to have the same dtype, but input has"
                f" {input.dtype} and grid has {grid.dtype}"
            )
        grid = grid.to(input.dtype)  # nothing is sampled: only the gradients' dtypes matter
    if mode == "bicubic":
        op, kw = G.GridSampleBicubic2d, {}
    else:
        op, kw = (G.GridSample2d if input.ndim == 4 else G.GridSample3d), {"mode": mode}
    with backend.errstate(invalid="ignore", over="ignore"):  # ±inf in the grid: torch is silent
        return apply(op, input, grid, padding_mode=padding_mode, align_corners=align_corners, **kw)


def _check_grid_sampler(input: Tensor, grid: Tensor, mode: str) -> None:  # noqa: A002
    """torch's shape checks (check_grid_sampler_common, _2d, _3d), in its order and words."""
    sizes = f"input with sizes {list(input.shape)} and grid with sizes {list(grid.shape)}"
    k = input.ndim - 2
    if input.ndim >= 1 and grid.ndim >= 1 and input.shape[0] != grid.shape[0]:
        raise RuntimeError(
            f"grid_sampler(): expected grid and input to have same batch size, but got {sizes}"
        )
    if grid.ndim >= 1 and grid.shape[-1] != k:
        raise RuntimeError(
            f"grid_sampler(): expected grid to have size {k} in last dimension, but got grid"
            f" with sizes {list(grid.shape)}"
        )
    for i in range(2, input.ndim):
        if input.shape[i] == 0:
            raise RuntimeError(
                "grid_sampler(): expected input to have non-empty spatial dimensions, but"
                f" input has sizes {list(input.shape)} with dimension {i} being empty"
            )
    want = 4 if input.ndim == 4 else 5
    if input.ndim != want or grid.ndim != want:
        raise RuntimeError(
            f"grid_sampler(): expected {want}D input and grid with same number of dimensions,"
            f" but got {sizes}"
        )
    if want == 5 and mode == "bicubic":
        raise RuntimeError("grid_sampler(): bicubic interpolation only supports 4D input")


# ---------------------------------------------------------------- gumbel_softmax


def gumbel_softmax(
    logits: Tensor, tau: float = 1, hard: bool = False, eps: float = 1e-10, dim: int = -1
) -> Tensor:
    """A sample from the Gumbel-softmax (Concrete) distribution over ``dim``.

        y = softmax((ℓ + g)/τ),   g = −log E,  E ~ Exp(1)

    ``hard=True`` returns the one-hot of argmax y with y's gradient (straight-through):
    y_hard − sg(y) + y. ``eps`` is unused, as in torch. The noise is drawn from ember's
    default generator (``ember.manual_seed``). Jang et al., 2016; Maddison et al., 2016.
    """
    del eps  # deprecated and unused in torch
    require_tensor("gumbel_softmax", logits, "logits")
    gen = backend.generator_or_default(None)
    dtype = logits.dtype
    u = gen.random(tuple(logits.shape), xp.float64)
    expo = xp.maximum(-xp.log1p(-u), xp.finfo(xp.float64).tiny)  # Exp(1), never exactly 0
    gumbels = Tensor((-xp.log(expo)).astype(dtype))
    y_soft = softmax((logits + gumbels) / tau, dim=dim)
    if not hard:
        return y_soft
    axis = dim % max(logits.ndim, 1)
    index = xp.expand_dims(xp.argmax(y_soft.array, axis=axis), axis)
    y_hard = xp.zeros(y_soft.shape, dtype=dtype)
    xp.put_along_axis(y_hard, index, 1.0, axis=axis)
    return Tensor(y_hard) - y_soft.detach() + y_soft


# ---------------------------------------------------------------- pdist


def pdist(input: Tensor, p: float = 2) -> Tensor:  # noqa: A002 - torch's argument name
    """‖x_i − x_j‖_p for every pair of rows i < j of x (N, M) → (N(N−1)/2,), torch's order.

    The gradient is the vector norm's (0 where two rows coincide, as torch).
    """
    require_tensor("pdist", input, "input")
    x = input
    if x.ndim != 2:
        raise RuntimeError(f"pdist only supports 2D tensors, got: {x.ndim}D")
    if p < 0:
        raise RuntimeError("pdist only supports non-negative p values")
    if x.dtype.kind == "c":  # torch's check: floating point only
        raise RuntimeError(f"pdist(): only supports floating-point dtypes, got {x.dtype} (complex)")
    n = x.shape[0]
    i, j = (k.astype(xp.int64) for k in xp.triu_indices(n, k=1))
    d = x.index_select(0, i) - x.index_select(0, j)
    return count_distance(d, 1) if p == 0 else vector_norm(d, p, dim=1)


def count_distance(diff: Tensor, dim: int) -> Tensor:
    """‖diff‖_0 along dim as torch's cdist and pdist kernels give it: the count of nonzero
    coordinates, and NaN where one is NaN (its vector_norm, like ember's, counts it as 1)."""
    d = vector_norm(diff, 0, dim=dim)
    nan = xp.isnan(diff.array).any(dim)
    return d.masked_fill(Tensor(nan), float("nan")) if nan.any() else d
