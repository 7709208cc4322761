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
from .distribution import clamp_probs

__all__ = [
    "AffineTransform",
    "ComposeTransform",
    "ExpTransform",
    "SigmoidTransform",
    "TanhTransform",
    "Transform",
]


class Transform:
    """A bijection with ``__call__`` (x → y), ``inv`` (y → x), ``log_abs_det_jacobian(x, y)``,
    ``domain``, ``codomain``, ``sign`` (+1 increasing, −1 decreasing)."""

    bijective = True
    domain = constraints.real
    codomain = constraints.real
    sign = 1

    def __init__(self, cache_size: int = 0):
        if cache_size not in (0, 1):
            raise ValueError(f"cache_size must be 0 or 1, got {cache_size}")
        self._cache_size = cache_size
        self._cached = (None, None)

    @property
    def event_dim(self) -> int:
        return self.domain.event_dim

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

    def __call__(self, x):
        return self._inv._inv_call(x)

    def log_abs_det_jacobian(self, x, y):
        return -self._inv.log_abs_det_jacobian(y, x)


class ComposeTransform(Transform):
    """f = f_n ∘ … ∘ f_1 (``parts`` applied in order); log-Jacobians add."""

    def __init__(self, parts, cache_size: int = 0):
        super().__init__(cache_size)
        self.parts = list(parts)

    domain = property(lambda self: self.parts[0].domain if self.parts else constraints.real)
    codomain = property(lambda self: self.parts[-1].codomain if self.parts else constraints.real)

    @property
    def sign(self) -> int:
        s = 1
        for p in self.parts:
            s *= p.sign
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
        total = 0.0
        for p in self.parts:
            y_p = p(x)
            total = total + p.log_abs_det_jacobian(x, y_p)
            x = y_p
        return total

    def __repr__(self) -> str:
        return f"ComposeTransform({', '.join(map(repr, self.parts))})"


class ExpTransform(Transform):
    """y = eˣ;  log |dy/dx| = x."""

    codomain = constraints.positive

    def _call(self, x):
        return x.exp()

    def _inverse(self, y):
        return y.log()

    def log_abs_det_jacobian(self, x, y):
        return x


class SigmoidTransform(Transform):
    """y = σ(x) = 1/(1 + e^{−x});  log |dy/dx| = −softplus(−x) − softplus(x)."""

    codomain = constraints.unit_interval

    def _call(self, x):
        return x.sigmoid()

    def _inverse(self, y):
        y = clamp_probs(y)
        return y.log() - (-y).log1p()

    def log_abs_det_jacobian(self, x, y):
        return -softplus(-x) - softplus(x)


class TanhTransform(Transform):
    """y = tanh x;  x = atanh y = ½·(log(1 + y) − log(1 − y));
    log |dy/dx| = log(1 − tanh² x) = 2·(log 2 − x − softplus(−2x)) (stable for large |x|)."""

    codomain = constraints.interval(-1.0, 1.0)

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

    def __repr__(self) -> str:
        return "AffineTransform()"
