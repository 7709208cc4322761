"""Weight normalisation and spectral normalisation as parametrizations (torch's
torch.nn.utils.parametrizations), on any module's weight.

Weight norm (Salimans & Kingma 2016): the direction and the length of each output unit's
weight vector are learned separately,

    w = g · v / ‖v‖            ‖v‖ over every dimension but ``dim`` (dim=None: the whole tensor)

with g = ``original0`` (one length per slice along dim) and v = ``original1``.

Spectral norm (Miyato et al. 2018): the weight divided by its largest singular value σ,
estimated by power iteration on W as a matrix (``dim`` first, the rest flattened),

    u ← normalise(W·v),  v ← normalise(Wᵀ·u)      (in training mode, at every forward)
    σ = uᵀ·W·v,          w = W / σ

so the layer is 1-Lipschitz (GAN discriminators). u and v are buffers (``_u``, ``_v``) of the
parametrization, not learned; the gradient flows through σ with u and v held fixed, as torch.
"""

from __future__ import annotations

from ... import functional as F
from ...backend import generator_or_default, xp
from ...function import no_grad
from ...tensor import Tensor
from ..module import Module
from .parametrize import register_parametrization


def _norm_except_dim(v: Tensor, dim: int | None) -> Tensor:
    """‖v‖₂ over every dimension but ``dim``, kept as size-1 axes (dim None: one number)."""
    if dim is None or dim == -1:
        return (v * v).sum().sqrt()
    axes = tuple(a for a in range(v.ndim) if a != dim % v.ndim)
    squares = v * v  # no other dim (a 1-D v): nothing to sum (an empty dim list sums them all)
    return (squares.sum(axis=axes, keepdims=True) if axes else squares).sqrt()


def weight_matrix(w, dim: int):
    """W as (shape[dim], rest): dim moved first, the other axes flattened (arrays or Tensors
    alike); the matrix whose largest singular value spectral norm divides by."""
    if dim != 0:
        order = (dim,) + tuple(a for a in range(w.ndim) if a != dim)
        w = w.permute(*order) if isinstance(w, Tensor) else w.transpose(order)
    return w.reshape(w.shape[0], -1)


def normalise(a, eps: float):
    """a / max(‖a‖, eps)."""
    return a / max(float(xp.linalg.norm(a)), eps)


def divide_by_sigma(weight: Tensor, dim: int, u, v) -> Tensor:
    """W / σ with σ = uᵀ·W·v, u and v (arrays) held fixed: the gradient flows through W only."""
    sigma = (Tensor(u.copy()) * (weight_matrix(weight, dim) @ Tensor(v.copy()))).sum()
    return weight / sigma


class _WeightNorm(Module):
    def __init__(self, dim: int | None = 0) -> None:
        super().__init__()
        self.dim = -1 if dim is None else dim

    def forward(self, weight_g: Tensor, weight_v: Tensor) -> Tensor:
        return weight_v * (weight_g / _norm_except_dim(weight_v, self.dim))

    def right_inverse(self, weight: Tensor):
        return _norm_except_dim(weight, self.dim), weight


def weight_norm(module: Module, name: str = "weight", dim: int | None = 0) -> Module:
    """w = g·v/‖v‖ on ``module.<name>``: originals g (``original0``) and v (``original1``)."""
    weight = getattr(module, name, None)
    ndim = max(getattr(weight, "ndim", 1), 1)
    if dim is not None and not -ndim <= dim < ndim:  # torch's IndexError (ember wrapped it)
        raise IndexError(f"weight_norm: dim {dim} is out of range for a {ndim}-D {name}")
    register_parametrization(module, name, _WeightNorm(dim), unsafe=True)
    return module


class _SpectralNorm(Module):
    def __init__(
        self, weight: Tensor, n_power_iterations: int = 1, dim: int = 0, eps: float = 1e-12
    ) -> None:
        super().__init__()
        ndim = weight.ndim
        if dim >= ndim or dim < -ndim:
            raise IndexError(f"dim must be in [-{ndim}, {ndim - 1}], got {dim}")
        if n_power_iterations <= 0:
            raise ValueError(
                f"spectral_norm: n_power_iterations must be positive, got {n_power_iterations}"
            )
        self.dim = dim if dim >= 0 else dim + ndim
        self.eps = eps
        if ndim > 1:
            self.n_power_iterations = n_power_iterations
            w = weight_matrix(weight.array, self.dim)
            h, wd = w.shape
            gen = generator_or_default(None)
            u = gen.standard_normal((h,), w.dtype)
            v = gen.standard_normal((wd,), w.dtype)
            self.register_buffer("_u", Tensor(normalise(u, eps)))
            self.register_buffer("_v", Tensor(normalise(v, eps)))
            self._power_method(w, 15)

    def _power_method(self, w, n: int) -> None:
        u, v = self._u.array, self._v.array
        for _ in range(n):
            u = normalise(w @ v, self.eps)
            v = normalise(w.T @ u, self.eps)
        self._u.array[...], self._v.array[...] = u, v

    def forward(self, weight: Tensor) -> Tensor:
        if weight.ndim == 1:
            return F.normalize(weight, dim=0, eps=self.eps)
        if self.training:
            self._power_method(weight_matrix(weight.array, self.dim), self.n_power_iterations)
        return divide_by_sigma(weight, self.dim, self._u.array, self._v.array)

    def right_inverse(self, value: Tensor) -> Tensor:
        return value


def spectral_norm(
    module: Module,
    name: str = "weight",
    n_power_iterations: int = 1,
    eps: float = 1e-12,
    dim: int | None = None,
) -> Module:
    """w = W/σ(W) on ``module.<name>`` (see the module docstring); dim defaults to 1 for
    transposed convolutions (their output channels), 0 otherwise."""
    weight = module.__dict__.get(name)
    if not isinstance(weight, Tensor):
        raise ValueError(f"module {type(module).__name__} has no parameter named {name!r}")
    if dim is None:
        dim = 1 if "ConvTranspose" in type(module).__name__ else 0
    with no_grad():
        norm = _SpectralNorm(weight, n_power_iterations, dim, eps)
    register_parametrization(module, name, norm)
    return module


# orthogonal (matrix_exp, Cayley, Householder maps): in parametrizations_orthogonal.py
from .parametrizations_orthogonal import orthogonal  # noqa: E402, F401
