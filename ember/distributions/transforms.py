"""Bijective transforms y = f(x) with log |det ∂y/∂x|, for TransformedDistribution.

Each transform is elementwise (``event_dim`` 0 unless said) and differentiable. With
``cache_size=1`` a transform remembers its last (x, y) pair, so ``inv(y)`` of the y it just
made returns that x exactly: the SAC policy's tanh-squashed Gaussian scores its own draws
without atanh(±1) = ±∞ when tanh saturates.
"""

from __future__ import annotations

import math
import numbers

from ..backend import xp
from ..tensor import Tensor
from . import constraints
from ._special import softplus
from .distribution import sum_rightmost

__all__ = [
    "AffineTransform",
    "ComposeTransform",
    "ExpTransform",
    "SigmoidTransform",
    "TanhTransform",
    "Transform",
    "identity_transform",
]


def _all_equal(a, b) -> bool:
    """Numbers or Tensors equal everywhere (broadcast)."""
    a, b = (v.array if isinstance(v, Tensor) else xp.asarray(v) for v in (a, b))
    return bool(xp.all(a == b))


class Transform:
    """A bijection with ``__call__`` (x → y), ``inv`` (y → x), ``log_abs_det_jacobian(x, y)``,
    ``domain``, ``codomain``, ``sign`` (+1 increasing, −1 decreasing)."""

    bijective = True
    domain = constraints.real
    codomain = constraints.real
    #: torch's parameter-free transforms equal any of their class; the rest (holding transforms
    #: or a distribution) only themselves. Transforms are unhashable, as torch's
    _equal_by_type = False

    def __eq__(self, other) -> bool:
        return self is other or (self._equal_by_type and isinstance(other, type(self)))

    @property
    def sign(self):
        """+1 (increasing) or −1 (decreasing): only the elementwise bijections that declare it
        have one; the rest (Abs, Softmax, StickBreaking …) raise NotImplementedError, as
        torch's."""
        raise NotImplementedError(f"{type(self).__name__} does not define a sign")

    def __init__(self, cache_size: int = 0):
        if cache_size not in (0, 1):
            raise ValueError(f"cache_size must be 0 or 1, got {cache_size}")
        self._cache_size = cache_size
        self._cached = (None, None)

    @property
    def event_dim(self) -> int:
        if self.domain.event_dim != self.codomain.event_dim:
            raise ValueError("Please use either .domain.event_dim or .codomain.event_dim")
        return self.domain.event_dim

    def with_cache(self, cache_size: int = 1) -> Transform:
        """This transform with ``cache_size`` (0 or 1): a copy when it differs."""
        if self._cache_size == cache_size:
            return self
        new = type(self).__new__(type(self))
        new.__dict__.update(self.__dict__)
        Transform.__init__(new, cache_size)
        return new

    @property
    def inv(self) -> _InverseTransform:
        """The inverse transform: ``t.inv(y)`` is x."""
        return _InverseTransform(self)

    def __call__(self, x: Tensor) -> Tensor:
        if self._cache_size == 0:
            return self._call(x)
        x_old, y_old = self._cached
        if x is x_old:
            return y_old
        y = self._call(x)
        self._cached = (x, y)
        return y

    def _inv_call(self, y: Tensor) -> Tensor:
        if self._cache_size == 0:
            return self._inverse(y)
        x_old, y_old = self._cached
        if y is y_old:
            return x_old
        x = self._inverse(y)
        self._cached = (x, y)
        return x

    def _call(self, x):  # pragma: no cover - abstract
        raise NotImplementedError

    def _inverse(self, y):  # pragma: no cover - abstract
        raise NotImplementedError

    def log_abs_det_jacobian(self, x: Tensor, y: Tensor) -> Tensor:  # pragma: no cover
        raise NotImplementedError

    def forward_shape(self, shape) -> tuple:
        return tuple(shape)

    def inverse_shape(self, shape) -> tuple:
        return tuple(shape)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class _InverseTransform(Transform):
    """The inverse of a transform, sharing its cache."""

    def __init__(self, transform: Transform):
        super().__init__(0)
        self._inv = transform

    domain = property(lambda self: self._inv.codomain)
    codomain = property(lambda self: self._inv.domain)
    sign = property(lambda self: self._inv.sign)
    inv = property(lambda self: self._inv)
    bijective = property(lambda self: self._inv.bijective)

    def __eq__(self, other) -> bool:
        return isinstance(other, _InverseTransform) and self._inv == other._inv

    def with_cache(self, cache_size: int = 1) -> Transform:
        return self._inv.with_cache(cache_size).inv

    def __call__(self, x):
        return self._inv._inv_call(x)

    def log_abs_det_jacobian(self, x, y):
        return -self._inv.log_abs_det_jacobian(y, x)

    def forward_shape(self, shape) -> tuple:
        return self._inv.inverse_shape(shape)

    def inverse_shape(self, shape) -> tuple:
        return self._inv.forward_shape(shape)

    def __repr__(self) -> str:
        return f"{self._inv!r}.inv"


class ComposeTransform(Transform):
    """f = f_n ∘ … ∘ f_1 (``parts`` applied in order); log-Jacobians add, each part's summed
    over the event dims it does not itself couple (so parts of different event_dim compose,
    as torch's do)."""

    def __init__(self, parts, cache_size: int = 0):
        if cache_size:
            parts = [p.with_cache(cache_size) for p in parts]
        super().__init__(cache_size)
        self.parts = list(parts)

    def with_cache(self, cache_size: int = 1) -> Transform:
        return self if self._cache_size == cache_size else ComposeTransform(self.parts, cache_size)

    def __eq__(self, other) -> bool:
        return isinstance(other, ComposeTransform) and self.parts == other.parts

    @property
    def domain(self):
        if not self.parts:
            return constraints.real
        domain = self.parts[0].domain
        event_dim = self.parts[-1].codomain.event_dim  # the largest event the parts couple
        for p in reversed(self.parts):
            event_dim += p.domain.event_dim - p.codomain.event_dim
            event_dim = max(event_dim, p.domain.event_dim)
        extra = event_dim - domain.event_dim
        return constraints.independent(domain, extra) if extra > 0 else domain

    @property
    def codomain(self):
        if not self.parts:
            return constraints.real
        codomain = self.parts[-1].codomain
        event_dim = self.parts[0].domain.event_dim
        for p in self.parts:
            event_dim += p.codomain.event_dim - p.domain.event_dim
            event_dim = max(event_dim, p.codomain.event_dim)
        extra = event_dim - codomain.event_dim
        return constraints.independent(codomain, extra) if extra > 0 else codomain

    @property
    def bijective(self) -> bool:
        return all(p.bijective for p in self.parts)

    @property
    def sign(self) -> int:
        s = 1
        for p in self.parts:
            s = s * p.sign
        return s

    def _call(self, x):
        for p in self.parts:
            x = p(x)
        return x

    def _inverse(self, y):
        for p in reversed(self.parts):
            y = p.inv(y)
        return y

    def log_abs_det_jacobian(self, x, y):
        if not self.parts:
            return Tensor(xp.zeros(x.shape, x.dtype))
        xs = [x]
        for p in self.parts[:-1]:
            xs.append(p(xs[-1]))
        xs.append(y)
        total = 0.0
        event_dim = self.domain.event_dim
        for p, x_p, y_p in zip(self.parts, xs[:-1], xs[1:]):
            ladj = p.log_abs_det_jacobian(x_p, y_p)
            total = total + sum_rightmost(ladj, event_dim - p.domain.event_dim)
            event_dim += p.codomain.event_dim - p.domain.event_dim
        return total

    def forward_shape(self, shape) -> tuple:
        for p in self.parts:
            shape = p.forward_shape(shape)
        return tuple(shape)

    def inverse_shape(self, shape) -> tuple:
        for p in reversed(self.parts):
            shape = p.inverse_shape(shape)
        return tuple(shape)

    def __repr__(self) -> str:
        return f"ComposeTransform({', '.join(map(repr, self.parts))})"


identity_transform = ComposeTransform([])


class ExpTransform(Transform):
    """y = eˣ;  log |dy/dx| = x."""

    codomain = constraints.positive
    sign = 1
    _equal_by_type = True

    def _call(self, x):
        return x.exp()

    def _inverse(self, y):
        return y.log()

    def log_abs_det_jacobian(self, x, y):
        return x


class SigmoidTransform(Transform):
    """y = σ(x) = 1/(1 + e^{−x}), clamped into [tiny, 1 − eps] as torch's (a saturated draw
    stays strictly inside (0, 1), where logit y is finite);
    log |dy/dx| = −softplus(−x) − softplus(x)."""

    codomain = constraints.unit_interval
    sign = 1
    _equal_by_type = True

    def _call(self, x):
        f = xp.finfo(x.dtype)
        return x.sigmoid().clamp(min=float(f.tiny), max=1.0 - float(f.eps))

    def _inverse(self, y):
        # into [tiny, 1 − eps] as torch's, not [eps, 1 − eps]: logit 0 is log(tiny) ≈ −708,
        # so a density at (or near) 0 agrees with torch's
        f = xp.finfo(y.dtype)
        y = y.clamp(min=float(f.tiny), max=1.0 - float(f.eps))
        return y.log() - (-y).log1p()

    def log_abs_det_jacobian(self, x, y):
        return -softplus(-x) - softplus(x)


class TanhTransform(Transform):
    """y = tanh x;  x = atanh y = ½·(log(1 + y) − log(1 − y));
    log |dy/dx| = log(1 − tanh² x) = 2·(log 2 − x − softplus(−2x)) (stable for large |x|)."""

    codomain = constraints.interval(-1.0, 1.0)
    sign = 1
    _equal_by_type = True

    def _call(self, x):
        return x.tanh()

    def _inverse(self, y):
        return 0.5 * (y.log1p() - (-y).log1p())

    def log_abs_det_jacobian(self, x, y):
        return 2.0 * (math.log(2.0) - x - softplus(-2.0 * x))


class AffineTransform(Transform):
    """y = loc + scale·x;  log |dy/dx| = log |scale| (summed over ``event_dim`` dims)."""

    def __init__(self, loc, scale, event_dim: int = 0, cache_size: int = 0):
        super().__init__(cache_size)
        self.loc, self.scale, self._event_dim = loc, scale, event_dim

    def __eq__(self, other) -> bool:  # torch's test, which leaves out event_dim
        same = isinstance(other, AffineTransform) and _all_equal(self.loc, other.loc)
        return same and _all_equal(self.scale, other.scale)

    @property
    def domain(self):
        if self._event_dim:
            return constraints.independent(constraints.real, self._event_dim)
        return constraints.real

    codomain = domain

    @property
    def sign(self):
        if isinstance(self.scale, numbers.Number):
            return 1 if self.scale > 0 else -1 if self.scale < 0 else 0
        return Tensor(xp.sign(self.scale.array))

    def _call(self, x):
        return self.loc + self.scale * x

    def _inverse(self, y):
        return (y - self.loc) / self.scale

    def log_abs_det_jacobian(self, x, y):
        shape = x.shape
        if isinstance(self.scale, numbers.Number):
            out = Tensor(xp.full(shape, math.log(abs(self.scale)), dtype=x.dtype))
        else:
            out = self.scale.abs().log()
        if self._event_dim:
            n = self._event_dim
            out_shape = out.shape[: len(out.shape) - n] + (-1,)
            out = out.reshape(out_shape).sum(-1)
            shape = shape[: len(shape) - n]
        return out if out.shape == shape else out.expand(shape)

    def forward_shape(self, shape) -> tuple:
        shapes = [getattr(v, "shape", ()) for v in (self.loc, self.scale)]
        return tuple(xp.broadcast_shapes(tuple(shape), *map(tuple, shapes)))

    inverse_shape = forward_shape

    def __repr__(self) -> str:
        return "AffineTransform()"


# torch.distributions.transforms' other transforms, in two modules of their own (they import
# Transform from here)
from .transforms_compose import (  # noqa: E402
    CatTransform,
    CumulativeDistributionTransform,
    IndependentTransform,
    ReshapeTransform,
    StackTransform,
)
from .transforms_more import (  # noqa: E402
    AbsTransform,
    CorrCholeskyTransform,
    LowerCholeskyTransform,
    PositiveDefiniteTransform,
    PowerTransform,
    SoftmaxTransform,
    SoftplusTransform,
    StickBreakingTransform,
)

__all__ += [
    "AbsTransform",
    "CatTransform",
    "CorrCholeskyTransform",
    "CumulativeDistributionTransform",
    "IndependentTransform",
    "LowerCholeskyTransform",
    "PositiveDefiniteTransform",
    "PowerTransform",
    "ReshapeTransform",
    "SoftmaxTransform",
    "SoftplusTransform",
    "StackTransform",
    "StickBreakingTransform",
]
