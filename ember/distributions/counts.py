"""Multinomial and NegativeBinomial: counts, as torch.distributions has them.

Multinomial(n, p), counts x over K categories with Σ_k x_k = n:
    log p(x) = log Γ(Σ_k x_k + 1) − Σ_k log Γ(x_k + 1) + Σ_k x_k·log p_k   (0·log 0 = 0)
    H = n·H(Cat(p)) − log Γ(n + 1) + Σ_k Σ_{j=1..n} Bin(j; n, p_k)·log Γ(j + 1)
    mean n·p,   variance n·p·(1 − p);   sample: n categorical draws, counted
NegativeBinomial(r, p), the successes before the r-th failure, success probability p:
    log p(k) = r·log(1 − p) + k·log p + log Γ(r + k) − log Γ(k + 1) − log Γ(r)
               (log σ(±ℓ) of the logits ℓ; 0 where r + k = 0, the certain count)
    mean r·p/(1 − p),   variance mean/(1 − p),   mode ⌊(r − 1)·p/(1 − p)⌋₊
    sample: Poisson(λ) with λ ~ Gamma(r, rate (1 − p)/p)   (the gamma–Poisson mixture)
"""

from __future__ import annotations

from ..backend import xp
from ..tensor import Tensor
from . import constraints
from ._special import lgamma, softplus
from .discrete import Categorical, _ProbsOrLogits, _ViaCategorical
from .discrete_more import Binomial, Poisson
from .distribution import (
    Distribution,
    broadcast_all,
)
from .gamma_beta import Gamma

__all__ = ["Multinomial", "NegativeBinomial"]


class Multinomial(_ViaCategorical):
    """The counts of ``total_count`` n draws from a categorical over the last dim of
    ``probs`` or ``logits`` (exactly one; normalised as Categorical's): batch_shape =
    param.shape[:-1], event_shape = (K,). ``log_prob`` reads n from the value (so n may be
    left at 1 for scoring); ``sample`` and ``entropy`` need the one integer n.
    The equations are in the module docstring.
    """

    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}

    def __init__(self, total_count: int = 1, probs=None, logits=None, validate_args=None):
        if not isinstance(total_count, int):
            raise NotImplementedError("inhomogeneous total_count is not supported")
        self.total_count = total_count
        self._categorical = Categorical(probs=probs, logits=logits)
        self._binomial = Binomial(total_count=total_count, probs=self.probs)
        self._shapes_from_categorical(validate_args)

    def expand(self, batch_shape, _instance=None):
        new = super().expand(batch_shape)
        new._binomial = self._binomial.expand(tuple(batch_shape) + self._event_shape)
        return new

    @constraints.dependent_property(is_discrete=True, event_dim=1)
    def support(self):
        return constraints.multinomial(self.total_count)

    @property
    def mean(self) -> Tensor:
        return self.probs * self.total_count

    @property
    def variance(self) -> Tensor:
        return self.total_count * self.probs * (1 - self.probs)

    def sample(self, sample_shape=()) -> Tensor:
        """n categorical draws per sample and batch element, counted per category (torch's
        construction: memory grows with n)."""
        n, K = self.total_count, self._event_shape[0]
        k = self._categorical.sample((n,) + tuple(sample_shape)).array  # (n, *S, *B)
        rest = k.shape[1:]
        cells = int(xp.prod(rest)) if rest else 1
        flat = k.reshape(n, cells) + K * xp.arange(cells)  # category k of cell c → c·K + k
        counts = xp.bincount(flat.reshape(-1), minlength=cells * K)
        return Tensor(counts.reshape(tuple(rest) + (K,)).astype(self.probs.dtype))

    def log_prob(self, value) -> Tensor:
        x = self._value(value, self.logits.dtype)
        logits, x = broadcast_all(self.logits, x)
        # 0·log 0 = 0: a category with p = 0 and no draws contributes nothing
        zero = (x.array == 0) & (logits.array == -xp.inf)
        if zero.any():
            logits = logits.where(Tensor(~zero), Tensor(xp.zeros((), logits.dtype)))
        log_factorial_n = lgamma(x.sum(-1) + 1)
        log_factorial_xs = lgamma(x + 1).sum(-1)
        return log_factorial_n - log_factorial_xs + (logits * x).sum(-1)

    def entropy(self) -> Tensor:
        n = self.total_count
        term1 = n * self._categorical.entropy() - float(lgamma(Tensor(xp.asarray(n + 1.0))))
        support = self._binomial.enumerate_support(expand=False)[1:]
        binomial_probs = self._binomial.log_prob(support).exp()
        weights = lgamma(support + 1)
        return term1 + (binomial_probs * weights).sum((0, -1))


class NegativeBinomial(_ProbsOrLogits):
    """The number of successes before ``total_count`` r ≥ 0 failures of Bernoulli trials with
    success probability ``probs`` p in [0, 1) or ``logits`` ℓ (exactly one; module
    docstring). r may be real."""

    arg_constraints = {
        "total_count": constraints.greater_than_eq(0),
        "probs": constraints.half_open_interval(0.0, 1.0),
        "logits": constraints.real,
    }
    support = constraints.nonnegative_integer
    _expand_params = {"total_count": 0, "probs": 0, "logits": 0}

    def __init__(self, total_count, probs=None, logits=None, validate_args=None):
        (r,) = self._set_param(probs, logits, total_count)  # the probs/logits: _ProbsOrLogits
        self.total_count = r if r.dtype == self._param.dtype else r.astype(self._param.dtype)
        Distribution.__init__(self, self._param.shape, validate_args=validate_args)

    @property
    def mean(self) -> Tensor:
        return self.total_count * self.logits.exp()

    @property
    def mode(self) -> Tensor:
        return ((self.total_count - 1) * self.logits.exp()).floor().clamp(min=0.0)

    @property
    def variance(self) -> Tensor:
        return self.mean / (-self.logits).sigmoid()

    def sample(self, sample_shape=()) -> Tensor:
        # r = 0 is allowed here (a point mass at 0), so the gamma is not validated
        rate = Gamma(self.total_count, (-self.logits).exp(), validate_args=False).sample(
            sample_shape
        )
        return Poisson(rate, validate_args=False).sample()

    def log_prob(self, value) -> Tensor:
        k = self._value(value, self._param.dtype)
        r, logits = self.total_count, self.logits
        # log σ(−ℓ) = −softplus(ℓ): log(1 − p);  log σ(ℓ) = −softplus(−ℓ): log p
        log_unnormalized = -r * softplus(logits) - k * softplus(-logits)
        log_normalization = -lgamma(r + k) + lgamma(1.0 + k) + lgamma(r)
        certain = xp.broadcast_to((r + k).array == 0, log_normalization.shape)
        if certain.any():  # r = k = 0: probability 1, but lgamma(0) = ∞
            zero = Tensor(xp.zeros((), log_normalization.dtype))
            log_normalization = log_normalization.where(Tensor(~certain), zero)
        return log_unnormalized - log_normalization
