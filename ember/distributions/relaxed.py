"""The Concrete / Gumbel-softmax relaxations (Maddison et al. 2017; Jang et al. 2017):
reparameterisable stand-ins for Bernoulli and one-hot categorical draws, at ``temperature``
τ > 0 (τ → 0 recovers the discrete draws), as torch.distributions has them.

LogitRelaxedBernoulli(τ, ℓ):   x = (logit u + ℓ)/τ,  u ~ U(eps, 1 − eps)
    log p(x) = log τ + (ℓ − τx) − 2·log(1 + e^{ℓ − τx})
RelaxedBernoulli = σ(LogitRelaxedBernoulli): values in (0, 1)
ExpRelaxedCategorical(τ, ℓ):   s = (ℓ + g)/τ,  g_k = −log(−log u_k);   x = s − logsumexp s
    (the log of a point of the simplex)
    log p(x) = log Γ(K) + (K − 1)·log τ + Σ_k (ℓ_k − τx_k) − K·logsumexp_k(ℓ_k − τx_k)
RelaxedOneHotCategorical = exp(ExpRelaxedCategorical): points of the simplex

Each draw is a differentiable function of ℓ (and τ) and of noise drawn without them, so
``rsample`` passes gradients to the logits (or probs) and to the temperature.
"""

from __future__ import annotations

import math

from ..tensor import Tensor
from . import constraints
from ._special import softplus
from .discrete import Categorical, _ProbsOrLogits, _ViaCategorical
from .distribution import (
    as_float_tensor,
    broadcast_all,
    clamp_probs,
    draw_uniform,
)
from .transformed import TransformedDistribution
from .transforms import ExpTransform, SigmoidTransform

__all__ = [
    "ExpRelaxedCategorical",
    "LogitRelaxedBernoulli",
    "RelaxedBernoulli",
    "RelaxedOneHotCategorical",
]


class LogitRelaxedBernoulli(_ProbsOrLogits):
    """The logit of a RelaxedBernoulli draw: ``temperature`` τ and ``probs`` or ``logits``
    (exactly one; module docstring). Values are real."""

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.real
    has_rsample = True
    _expand_params = {"probs": 0, "logits": 0}

    def __init__(self, temperature, probs=None, logits=None, validate_args=None):
        param = probs if probs is not None else logits
        dtype = param.dtype if isinstance(param, Tensor) else None
        self.temperature = as_float_tensor(temperature, dtype)
        super().__init__(probs, logits, validate_args=validate_args)

    def rsample(self, sample_shape=()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        probs = clamp_probs(self.probs.expand(shape))
        u = clamp_probs(Tensor(draw_uniform(shape, probs.dtype)))
        return (u.log() - (-u).log1p() + probs.log() - (-probs).log1p()) / self.temperature

    def log_prob(self, value) -> Tensor:
        x = self._value(value, self._param.dtype)
        logits, x = broadcast_all(self.logits, x)
        diff = logits - x * self.temperature
        return self.temperature.log() + diff - 2 * softplus(diff)


class RelaxedBernoulli(TransformedDistribution):
    """σ(X), X ~ LogitRelaxedBernoulli(τ, probs or logits): relaxed Bernoulli draws in (0, 1),
    reparameterised (module docstring)."""

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.unit_interval
    has_rsample = True

    def __init__(self, temperature, probs=None, logits=None, validate_args=None):
        base = LogitRelaxedBernoulli(temperature, probs, logits)
        super().__init__(base, SigmoidTransform(), validate_args=validate_args)

    temperature = property(lambda self: self.base_dist.temperature)
    logits = property(lambda self: self.base_dist.logits)
    probs = property(lambda self: self.base_dist.probs)


class ExpRelaxedCategorical(_ViaCategorical):
    """The log of a RelaxedOneHotCategorical draw: ``temperature`` τ and ``probs`` or
    ``logits`` over the last dim (exactly one; normalised as Categorical's). Event shape
    (K,); values are real vectors whose exponentials sum to 1 (module docstring)."""

    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}
    support = constraints.real_vector  # really a K − 1 dimensional submanifold of it
    has_rsample = True

    def __init__(self, temperature, probs=None, logits=None, validate_args=None):
        self._categorical = Categorical(probs, logits)
        self.temperature = as_float_tensor(temperature, self._categorical._param.dtype)
        self._shapes_from_categorical(validate_args)

    def rsample(self, sample_shape=()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        u = clamp_probs(Tensor(draw_uniform(shape, self.logits.dtype)))
        gumbels = -((-(u.log())).log())
        scores = (self.logits + gumbels) / self.temperature
        return scores - scores.logsumexp(-1, keepdim=True)

    def log_prob(self, value) -> Tensor:
        K = self._categorical._num_events
        x = self._value(value, self.logits.dtype)
        logits, x = broadcast_all(self.logits, x)
        tau = self.temperature
        log_scale = math.lgamma(K) + tau.log() * (K - 1)
        score = logits - x * tau
        score = (score - score.logsumexp(-1, keepdim=True)).sum(-1)
        return score + log_scale


class RelaxedOneHotCategorical(TransformedDistribution):
    """exp(X), X ~ ExpRelaxedCategorical(τ, probs or logits): relaxed one-hot draws on the
    simplex, reparameterised (module docstring). The Gumbel-softmax of a discrete VAE or a
    differentiable architecture search."""

    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}
    support = constraints.simplex
    has_rsample = True

    def __init__(self, temperature, probs=None, logits=None, validate_args=None):
        base = ExpRelaxedCategorical(temperature, probs, logits, validate_args=validate_args)
        super().__init__(base, ExpTransform(), validate_args=validate_args)

    temperature = property(lambda self: self.base_dist.temperature)
    logits = property(lambda self: self.base_dist.logits)
    probs = property(lambda self: self.base_dist.probs)
