"""Poisson, Geometric and Binomial, matching torch.distributions (formulas, constraints,
nan/inf conventions, shapes).

Poisson(λ):  log p(k) = k·log λ − λ − log Γ(k + 1),  mean = var = λ,  mode ⌊λ⌋
    sample: inverse transform, the least k with P(X ≤ k) = Q(k + 1, λ) > u (bisection on k)
Geometric(p), failures before the first success:  log p(k) = k·log(1 − p) + log p,
    H = (softplus(ℓ) − p·ℓ)/p (ℓ = logit p),  mean 1/p − 1,  var (1/p − 1)/p,  mode 0
    sample: ⌊log u / log(1 − p)⌋,  u ~ U(tiny, 1)
Binomial(n, p):  log p(k) = log C(n, k) + k·ℓ − n·(max(ℓ, 0) + log(1 + e^{−|ℓ|})),
    H = −Σ_k p(k)·log p(k) (one n across the batch),  mean np,  var np(1 − p),
    mode min(⌊(n + 1)p⌋, n);  sample: inverse transform, bisection on the CDF I_{1−p}(n − k, k + 1)
"""

from __future__ import annotations

import numbers

from .. import backend
from ..backend import errstate, xp
from ..tensor import Tensor
from . import constraints
from ._special import lgamma, softplus
from .discrete import _ProbsOrLogits
from .distribution import (
    Distribution,
    broadcast_all,
    draw_uniform,
)
from .exp_family import ExponentialFamily

__all__ = ["Binomial", "Geometric", "Poisson"]


def _full(like: Tensor, shape, fill) -> Tensor:
    return Tensor(xp.full(tuple(shape), fill, dtype=like.dtype))


class Poisson(ExponentialFamily):
    """The Poisson distribution, ``rate`` λ ≥ 0 (module docstring). No rsample, no entropy
    (torch has neither)."""

    arg_constraints = {"rate": constraints.nonnegative}
    support = constraints.nonnegative_integer
    _expand_params = {"rate": 0}

    def __init__(self, rate, validate_args=None):
        (self.rate,) = broadcast_all(rate)
        batch_shape = () if isinstance(rate, numbers.Number) else self.rate.shape
        super().__init__(batch_shape, validate_args=validate_args)

    @property
    def mean(self) -> Tensor:
        return self.rate

    @property
    def mode(self) -> Tensor:
        return self.rate.floor()

    @property
    def variance(self) -> Tensor:
        return self.rate

    def sample(self, sample_shape=()) -> Tensor:
        """Inverse transform: k = min{k : Q(k + 1, λ) > u}, u ~ U[0, 1), Q(k + 1, λ) = P(X ≤ k)
        the regularised upper incomplete gamma, found by bisection on k (vectorised)."""
        shape = self._extended_shape(sample_shape)
        lam = xp.broadcast_to(self.rate.array.astype(xp.float64), shape)
        u = draw_uniform(shape, xp.float64)
        lo = xp.zeros(shape)
        hi = xp.floor(lam + 20 * xp.sqrt(lam) + 40)  # P(X > hi) < 1e-80
        while xp.any(lo < hi):
            mid = xp.floor((lo + hi) / 2)
            ok = backend.gammaincc(mid + 1, lam) > u
            hi = xp.where(ok, mid, hi)
            lo = xp.where(ok, lo, mid + 1)
        return Tensor(lo.astype(self.rate.dtype))

    def log_prob(self, value) -> Tensor:
        x = self._value(value, self.rate.dtype)
        rate, x = broadcast_all(self.rate, x)
        return x.xlogy(rate) - rate - lgamma(x + 1)

    # ------------------------------------------------------------ exponential family
    @property
    def _natural_params(self) -> tuple:
        """θ = log λ of t(k) = k (carrier −log k!; its mean has no closed form, so no entropy,
        as torch)."""
        return (self.rate.log(),)

    def _log_normalizer(self, x: Tensor) -> Tensor:
        """F(θ) = e^θ."""
        return x.exp()


class Geometric(_ProbsOrLogits):
    """The number of failures before the first success of Bernoulli(p) trials, ``probs`` p in
    (0, 1] or ``logits`` (module docstring)."""

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.nonnegative_integer
    _expand_params = {"probs": 0, "logits": 0}

    def __init__(self, probs=None, logits=None, validate_args=None):
        super().__init__(probs, logits, validate_args=validate_args)
        if self._validate_args and probs is not None and not xp.all(self.probs.array > 0):
            raise ValueError(
                f"Expected parameter probs ({type(self.probs).__name__} of shape"
                f" {tuple(self.probs.shape)}) of distribution {self!r} to be positive but found"
                f" invalid values:\n{self.probs.array[~(self.probs.array > 0)]}"
            )

    @property
    def mean(self) -> Tensor:
        return 1.0 / self.probs - 1.0

    @property
    def mode(self) -> Tensor:
        return Tensor(xp.zeros_like(self.probs.array))

    @property
    def variance(self) -> Tensor:
        return (1.0 / self.probs - 1.0) / self.probs

    def sample(self, sample_shape=()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        p = self.probs.array
        tiny = float(xp.finfo(p.dtype).tiny)
        u = (tiny + (1 - tiny) * draw_uniform(shape, xp.float64)).astype(p.dtype)
        with errstate(divide="ignore"):
            return Tensor(xp.floor(xp.log(u) / xp.log1p(-p)))

    def log_prob(self, value) -> Tensor:
        x = self._value(value, self._param.dtype)
        x, probs = broadcast_all(x, self.probs)
        certain = (probs.array == 1) & (x.array == 0)  # 0·log 0 = 0, as torch
        probs = probs.where(Tensor(~certain), _full(probs, (), 0.0))
        return x * (-probs).log1p() + self.probs.log()

    def entropy(self) -> Tensor:
        return (softplus(self.logits) - self.logits * self.probs) / self.probs


class Binomial(_ProbsOrLogits):
    """The number of successes in ``total_count`` n Bernoulli(p) trials, ``probs`` p or
    ``logits`` (module docstring)."""

    arg_constraints = {
        "total_count": constraints.nonnegative_integer,
        "probs": constraints.unit_interval,
        "logits": constraints.real,
    }
    has_enumerate_support = True
    _expand_params = {"total_count": 0, "probs": 0, "logits": 0}

    def __init__(self, total_count=1, probs=None, logits=None, validate_args=None):
        (n,) = self._set_param(probs, logits, total_count)
        self.total_count = n.astype(self._param.dtype) if n.dtype != self._param.dtype else n
        # Distribution's constructor, not _ProbsOrLogits': total_count joins the broadcast
        Distribution.__init__(self, self._param.shape, validate_args=validate_args)

    @constraints.dependent_property(is_discrete=True, event_dim=0)
    def support(self):
        return constraints.integer_interval(0, self.total_count.array)

    @property
    def mean(self) -> Tensor:
        return self.total_count * self.probs

    @property
    def mode(self) -> Tensor:
        n = self.total_count
        m = ((n + 1) * self.probs).floor()
        return m.where(Tensor(m.array <= n.array), n)

    @property
    def variance(self) -> Tensor:
        return self.total_count * self.probs * (1 - self.probs)

    def sample(self, sample_shape=()) -> Tensor:
        """Inverse transform: k = min{k : P(X ≤ k) > u}, u ~ U[0, 1), with the binomial CDF
        P(X ≤ k) = I_{1−p}(n − k, k + 1) (the regularised incomplete beta), found by
        bisection on k in [0, n]: log₂ n vectorised steps, memory independent of n."""
        shape = self._extended_shape(sample_shape)
        n = xp.broadcast_to(self.total_count.array.astype(xp.float64), shape)
        p = xp.broadcast_to(self.probs.array.astype(xp.float64), shape)
        u = draw_uniform(shape, xp.float64)
        lo, hi = xp.zeros(shape), n.copy()  # P(X ≤ n) = 1 > u: the answer is in [lo, hi]
        with errstate(all="ignore"):
            while xp.any(lo < hi):
                mid = xp.floor((lo + hi) / 2)
                # I_{1−p}(n − k, k + 1) is 1 at k = n (a = 0): the bisection never asks there
                ok = backend.betainc(n - mid, mid + 1, 1 - p) > u
                hi = xp.where(ok, mid, hi)
                lo = xp.where(ok, lo, mid + 1)
        return Tensor(lo.astype(self._param.dtype))

    def log_prob(self, value) -> Tensor:
        x = self._value(value, self._param.dtype)
        n, logits = self.total_count, self.logits
        clamp_by_zero = (logits.clamp(min=0) + logits - logits.clamp(max=0)) / 2
        normalize = n * clamp_by_zero + n * (-logits.abs()).exp().log1p() - lgamma(n + 1)
        return x * logits - lgamma(x + 1) - lgamma(n - x + 1) - normalize

    def _homogeneous_count(self, what: str) -> int:
        n = self.total_count.array
        if n.size and n.min() != n.max():
            raise NotImplementedError(f"Inhomogeneous total count not supported by `{what}`.")
        return int(n.max()) if n.size else 0

    def entropy(self) -> Tensor:
        self._homogeneous_count("entropy")
        lp = self.log_prob(self.enumerate_support(False))
        return -(lp.exp() * lp).sum(0)

    def enumerate_support(self, expand: bool = True) -> Tensor:
        n = self._homogeneous_count("enumerate_support")
        k = len(self._batch_shape)
        values = Tensor(xp.arange(1 + n, dtype=self._param.dtype).reshape((-1,) + (1,) * k))
        return values.expand((1 + n,) + self._batch_shape) if expand else values
