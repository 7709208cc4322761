"""The continuous Bernoulli distribution on [0, 1] (Loaiza-Ganem & Cunningham 2019, "The
continuous Bernoulli: fixing a pervasive error in variational autoencoders").

    p(x | λ) = C(λ)·λˣ·(1 − λ)^{1−x},   x ∈ [0, 1],   λ = probs = σ(logits) ∈ (0, 1)
    log p(x) = x·ℓ − softplus(ℓ) + log C(λ)        (ℓ = logits: −BCE(ℓ, x) + log C)
    C(λ) = 2·atanh(1 − 2λ)/(1 − 2λ) = |log(1 − λ) − log λ| / |1 − 2λ|   (C(½) = 2)
    F(x) = (λˣ(1 − λ)^{1−x} + λ − 1)/(2λ − 1),   F⁻¹(u) = log1p(−λ + u(2λ − 1)) − log1p(−λ))
                                                        / (log λ − log1p(−λ))
    mean = λ/(2λ − 1) + 1/(log(1 − λ) − log λ)
    variance = λ(λ − 1)/(1 − 2λ)² + 1/(log(1 − λ) − log λ)²
    H = mean·(log(1 − λ) − log λ) − log C(λ) − log(1 − λ)

Near λ = ½ (λ in (0.499, 0.501], torch's ``lims``) these are 0/0: there, as torch, log C,
mean and variance are their Taylor series in (λ − ½), and F and F⁻¹ the uniform's. A
reparameterised draw is F⁻¹(u), u ~ U[0, 1).
"""

from __future__ import annotations

import math

from ..backend import xp
from ..tensor import Tensor
from . import constraints
from ._special import softplus
from .discrete import _one_of, _ProbsOrLogits
from .distribution import (
    broadcast_all,
    clamp_probs,
    draw_uniform,
    lazy_property,
    logits_to_probs,
)
from .exp_family import ExponentialFamily

__all__ = ["ContinuousBernoulli"]


def _where(cond, a: Tensor, b) -> Tensor:
    """a where ``cond`` (an array), b elsewhere (a Tensor or a number)."""
    if not isinstance(b, Tensor):
        b = Tensor(xp.asarray(b, a.dtype))
    return a.where(Tensor(xp.asarray(cond)), b)


class ContinuousBernoulli(_ProbsOrLogits, ExponentialFamily):
    """The continuous Bernoulli distribution, ``probs`` λ ∈ (0, 1) or ``logits`` (exactly
    one; module docstring). ``probs`` is not a probability and ``logits`` no log-odds of the
    value: the names follow the Bernoulli it relaxes."""

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.unit_interval
    has_rsample = True
    _mean_carrier_measure = 0
    _expand_params = {"probs": 0, "logits": 0}

    def __init__(self, probs=None, logits=None, lims=(0.499, 0.501), validate_args=None):
        _one_of(probs, logits)
        # torch checks the raw probs only when validate_args is given; then clamps them
        if probs is not None and validate_args is not None:
            (p,) = broadcast_all(probs)
            if not xp.all(constraints.unit_interval.check(p)):
                raise ValueError("The parameter probs has invalid values")
        self._lims = lims
        super().__init__(probs, logits, validate_args=validate_args)

    def _set_param(self, probs, logits, *others):
        out = super()._set_param(probs, logits, *others)
        if self._given == "probs":
            self.probs = clamp_probs(self.probs)
        return out

    @lazy_property
    def probs(self) -> Tensor:
        return clamp_probs(logits_to_probs(self.logits, is_binary=True))

    # ------------------------------------------------------------ the unstable region
    def _outside_unstable_region(self):
        p = self.probs.array
        return (p <= self._lims[0]) | (p > self._lims[1])

    def _cut_probs(self) -> Tensor:
        """λ outside (lims₀, lims₁], lims₀ inside (where the closed forms are 0/0)."""
        return _where(self._outside_unstable_region(), self.probs, self._lims[0])

    def _cont_bern_log_norm(self) -> Tensor:
        """log C(λ), the log normalising constant (module docstring)."""
        cut = self._cut_probs()
        below = cut.array <= 0.5
        cut_below = _where(below, cut, 0.0)
        cut_above = _where(cut.array >= 0.5, cut, 1.0)
        log_norm = ((-cut).log1p() - cut.log()).abs().log() - _where(
            below, (-2.0 * cut_below).log1p(), (2.0 * cut_above - 1.0).log()
        )
        x = (self.probs - 0.5) ** 2
        taylor = math.log(2.0) + (4.0 / 3.0 + 104.0 / 45.0 * x) * x
        return _where(self._outside_unstable_region(), log_norm, taylor)

    # ------------------------------------------------------------ moments
    @property
    def mean(self) -> Tensor:
        cut = self._cut_probs()
        mus = cut / (2.0 * cut - 1.0) + 1.0 / ((-cut).log1p() - cut.log())
        x = self.probs - 0.5
        taylor = 0.5 + (1.0 / 3.0 + 16.0 / 45.0 * x**2) * x
        return _where(self._outside_unstable_region(), mus, taylor)

    @property
    def variance(self) -> Tensor:
        cut = self._cut_probs()
        v = cut * (cut - 1.0) / (1.0 - 2.0 * cut) ** 2 + 1.0 / ((-cut).log1p() - cut.log()) ** 2
        x = (self.probs - 0.5) ** 2
        taylor = 1.0 / 12.0 - (1.0 / 15.0 - 128.0 / 945.0 * x) * x
        return _where(self._outside_unstable_region(), v, taylor)

    @property
    def stddev(self) -> Tensor:
        return self.variance.sqrt()

    # ------------------------------------------------------------ densities and draws
    def log_prob(self, value) -> Tensor:
        x = self._value(value, self._param.dtype)
        logits, x = broadcast_all(self.logits, x)
        return logits * x - softplus(logits) + self._cont_bern_log_norm()

    def cdf(self, value) -> Tensor:
        x = self._value(value, self._param.dtype)
        cut = self._cut_probs()
        cdfs = (cut**x * (1.0 - cut) ** (1.0 - x) + cut - 1.0) / (2.0 * cut - 1.0)
        cdfs, x = broadcast_all(cdfs, x)
        unbounded = _where(self._outside_unstable_region(), cdfs, x)
        inside = _where(x.array >= 1.0, Tensor(xp.ones_like(x.array)), unbounded)
        return _where(x.array <= 0.0, Tensor(xp.zeros_like(x.array)), inside)

    def icdf(self, value) -> Tensor:
        u = value if isinstance(value, Tensor) else Tensor(xp.asarray(value, self.probs.dtype))
        cut = self._cut_probs()
        num = (-cut + u * (2.0 * cut - 1.0)).log1p() - (-cut).log1p()
        inv = num / (cut.log() - (-cut).log1p())
        inv, u = broadcast_all(inv, u)
        return _where(self._outside_unstable_region(), inv, u)

    def rsample(self, sample_shape=()) -> Tensor:
        """F⁻¹(u), u ~ U[0, 1): differentiable in λ."""
        shape = self._extended_shape(sample_shape)
        return self.icdf(Tensor(draw_uniform(shape, self.probs.dtype)))

    def entropy(self) -> Tensor:
        log_p0 = (-self.probs).log1p()
        log_p1 = self.probs.log()
        return self.mean * (log_p0 - log_p1) - self._cont_bern_log_norm() - log_p0

    # ------------------------------------------------------------ exponential family
    @property
    def _natural_params(self) -> tuple:
        return (self.logits,)

    def _log_normalizer(self, x: Tensor) -> Tensor:
        """log((eˣ − 1)/x) of the natural parameter x = ℓ (Taylor series near 0)."""
        outside = (x.array <= self._lims[0] - 0.5) | (x.array > self._lims[1] - 0.5)
        cut = _where(outside, x, self._lims[0] - 0.5)
        log_norm = cut.expm1().abs().log() - cut.abs().log()
        taylor = 0.5 * x + x**2 / 24.0 - x**4 / 2880.0
        return _where(outside, log_norm, taylor)
