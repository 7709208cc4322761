"""Transforms built from other transforms or distributions (torch.distributions.transforms):
reshape the event, reinterpret batch dims as event dims, apply one transform per block
(``CatTransform``) or per slice (``StackTransform``), and a distribution's CDF as a map onto
[0, 1] (copulas)."""

from __future__ import annotations

from ..backend import xp
from ..functional import cat, stack
from ..tensor import Tensor
from . import constraints
from .distribution import sum_rightmost
from .transforms import Transform

__all__ = [
    "CatTransform",
    "CumulativeDistributionTransform",
    "IndependentTransform",
    "ReshapeTransform",
    "StackTransform",
]


class IndependentTransform(Transform):
    """``base_transform`` with its rightmost ``reinterpreted_batch_ndims`` batch dims made part
    of the event: the same values, log |det J| summed over those dims."""

    def __init__(
        self, base_transform: Transform, reinterpreted_batch_ndims: int, cache_size: int = 0
    ):
        super().__init__(cache_size)
        self.base_transform = base_transform.with_cache(cache_size)
        self.reinterpreted_batch_ndims = reinterpreted_batch_ndims

    def with_cache(self, cache_size: int = 1) -> Transform:
        if self._cache_size == cache_size:
            return self
        return IndependentTransform(
            self.base_transform, self.reinterpreted_batch_ndims, cache_size=cache_size
        )

    @property
    def domain(self):
        return constraints.independent(self.base_transform.domain, self.reinterpreted_batch_ndims)

    @property
    def codomain(self):
        return constraints.independent(self.base_transform.codomain, self.reinterpreted_batch_ndims)

    bijective = property(lambda self: self.base_transform.bijective)
    sign = property(lambda self: self.base_transform.sign)

    def _call(self, x):
        if x.ndim < self.domain.event_dim:
            raise ValueError("Too few dimensions on input")
        return self.base_transform(x)

    def _inverse(self, y):
        if y.ndim < self.codomain.event_dim:
            raise ValueError("Too few dimensions on input")
        return self.base_transform.inv(y)

    def log_abs_det_jacobian(self, x, y):
        ladj = self.base_transform.log_abs_det_jacobian(x, y)
        return sum_rightmost(ladj, self.reinterpreted_batch_ndims)

    def forward_shape(self, shape) -> tuple:
        return self.base_transform.forward_shape(shape)

    def inverse_shape(self, shape) -> tuple:
        return self.base_transform.inverse_shape(shape)

    def __repr__(self) -> str:
        return f"IndependentTransform({self.base_transform!r}, {self.reinterpreted_batch_ndims})"


class ReshapeTransform(Transform):
    """The rightmost dims of shape ``in_shape`` reshaped to ``out_shape`` (same number of
    elements); log |det J| = 0."""

    def __init__(self, in_shape, out_shape, cache_size: int = 0):
        self.in_shape, self.out_shape = tuple(in_shape), tuple(out_shape)
        if int(xp.prod(self.in_shape)) != int(xp.prod(self.out_shape)):
            raise ValueError("in_shape, out_shape have different numbers of elements")
        super().__init__(cache_size)

    @property
    def domain(self):
        return constraints.independent(constraints.real, len(self.in_shape))

    @property
    def codomain(self):
        return constraints.independent(constraints.real, len(self.out_shape))

    def _call(self, x):
        batch = x.shape[: x.ndim - len(self.in_shape)]
        return x.reshape(tuple(batch) + self.out_shape)

    def _inverse(self, y):
        batch = y.shape[: y.ndim - len(self.out_shape)]
        return y.reshape(tuple(batch) + self.in_shape)

    def log_abs_det_jacobian(self, x, y):
        return Tensor(xp.zeros(x.shape[: x.ndim - len(self.in_shape)], x.dtype))

    @staticmethod
    def _swap(shape, old: tuple, new: tuple) -> tuple:
        shape = tuple(shape)
        if len(shape) < len(old):
            raise ValueError("Too few dimensions on input")
        cut = len(shape) - len(old)
        if shape[cut:] != old:
            raise ValueError(f"Shape mismatch: expected {shape[cut:]} but got {old}")
        return shape[:cut] + new

    def forward_shape(self, shape) -> tuple:
        return self._swap(shape, self.in_shape, self.out_shape)

    def inverse_shape(self, shape) -> tuple:
        return self._swap(shape, self.out_shape, self.in_shape)


def _narrow(t: Tensor, dim: int, start: int, length: int) -> Tensor:
    index = [slice(None)] * t.ndim
    index[dim] = slice(start, start + length)
    return t[tuple(index)]


def _check_dim(t: Tensor, dim: int, size: int, what: str) -> None:
    if not -t.ndim <= dim < t.ndim:
        raise ValueError(f"dim {dim} out of range for {what} with {t.ndim} dimensions")
    if t.shape[dim] != size:
        raise ValueError(f"{what}.size({dim}) = {t.shape[dim]} must equal {size}")


class CatTransform(Transform):
    """``tseq[i]`` on the i-th block of ``lengths[i]`` entries along ``dim``, the results
    concatenated (torch.cat's layout); log |det J| likewise, summed to the largest event_dim."""

    def __init__(self, tseq, dim: int = 0, lengths=None, cache_size: int = 0):
        if cache_size:
            tseq = [t.with_cache(cache_size) for t in tseq]
        super().__init__(cache_size)
        self.transforms = list(tseq)
        self.lengths = list(lengths) if lengths is not None else [1] * len(self.transforms)
        if len(self.lengths) != len(self.transforms):
            raise ValueError(f"{len(self.lengths)} lengths for {len(self.transforms)} transforms")
        self.dim = dim

    def with_cache(self, cache_size: int = 1) -> Transform:
        if self._cache_size == cache_size:
            return self
        return CatTransform(self.transforms, self.dim, self.lengths, cache_size)

    @property
    def event_dim(self) -> int:
        return max(t.event_dim for t in self.transforms)

    @property
    def length(self) -> int:
        return sum(self.lengths)

    bijective = property(lambda self: all(t.bijective for t in self.transforms))

    @property
    def domain(self):
        return constraints.cat([t.domain for t in self.transforms], self.dim, self.lengths)

    @property
    def codomain(self):
        return constraints.cat([t.codomain for t in self.transforms], self.dim, self.lengths)

    def _blocks(self, t: Tensor, what: str):
        _check_dim(t, self.dim, self.length, what)
        start = 0
        for n in self.lengths:
            yield _narrow(t, self.dim, start, n)
            start += n

    def _call(self, x):
        ys = [f(b) for f, b in zip(self.transforms, self._blocks(x, "x"))]
        return cat(ys, self.dim)

    def _inverse(self, y):
        xs = [f.inv(b) for f, b in zip(self.transforms, self._blocks(y, "y"))]
        return cat(xs, self.dim)

    def log_abs_det_jacobian(self, x, y):
        parts = []
        blocks = zip(self.transforms, self._blocks(x, "x"), self._blocks(y, "y"))
        for f, xb, yb in blocks:
            ladj = f.log_abs_det_jacobian(xb, yb)
            parts.append(sum_rightmost(ladj, self.event_dim - f.event_dim))
        dim = self.dim - x.ndim if self.dim >= 0 else self.dim
        dim += self.event_dim
        # the cat dim survives in log |det J| only when it is a batch dim
        return cat(parts, dim) if dim < 0 else sum(parts[1:], parts[0])


class StackTransform(Transform):
    """``tseq[i]`` on the i-th slice along ``dim``, the results stacked (torch.stack's
    layout); log |det J| stacked likewise."""

    def __init__(self, tseq, dim: int = 0, cache_size: int = 0):
        if cache_size:
            tseq = [t.with_cache(cache_size) for t in tseq]
        super().__init__(cache_size)
        self.transforms = list(tseq)
        self.dim = dim

    def with_cache(self, cache_size: int = 1) -> Transform:
        if self._cache_size == cache_size:
            return self
        return StackTransform(self.transforms, self.dim, cache_size)

    bijective = property(lambda self: all(t.bijective for t in self.transforms))

    @property
    def domain(self):
        return constraints.stack([t.domain for t in self.transforms], self.dim)

    @property
    def codomain(self):
        return constraints.stack([t.codomain for t in self.transforms], self.dim)

    def _slices(self, t: Tensor, what: str):
        _check_dim(t, self.dim, len(self.transforms), what)
        return [t.select(self.dim, i) for i in range(t.shape[self.dim])]

    def _call(self, x):
        return stack([f(s) for f, s in zip(self.transforms, self._slices(x, "x"))], self.dim)

    def _inverse(self, y):
        return stack([f.inv(s) for f, s in zip(self.transforms, self._slices(y, "y"))], self.dim)

    def log_abs_det_jacobian(self, x, y):
        pairs = zip(self.transforms, self._slices(x, "x"), self._slices(y, "y"))
        return stack([f.log_abs_det_jacobian(a, b) for f, a, b in pairs], self.dim)


class CumulativeDistributionTransform(Transform):
    """y = F(x), the CDF of ``distribution`` (its support onto [0, 1]); inv = F⁻¹;
    log |dy/dx| = log p(x)."""

    codomain = constraints.unit_interval
    sign = 1

    def __init__(self, distribution, cache_size: int = 0):
        super().__init__(cache_size)
        self.distribution = distribution

    @property
    def domain(self):
        return self.distribution.support

    def _call(self, x):
        return self.distribution.cdf(x)

    def _inverse(self, y):
        return self.distribution.icdf(y)

    def log_abs_det_jacobian(self, x, y):
        return self.distribution.log_prob(x)
