"""Bernoulli, Categorical and OneHotCategorical (with its straight-through variant).

Each takes ``probs`` or ``logits`` (exactly one); the other is made from it on first use.
Gradients flow from ``log_prob`` and ``entropy`` to whichever was given; sampling is discrete
(no ``rsample``, except the straight-through estimator).
"""

from __future__ import annotations

import numbers

from ..backend import xp
from ..errors import InputError
from ..tensor import Tensor
from . import constraints
from ._special import softplus
from .distribution import (
    Distribution,
    as_float_tensor,
    broadcast_all,
    draw_uniform,
    lazy_property,
    logits_to_probs,
    probs_to_logits,
)
from .exp_family import ExponentialFamily


def _one_of(probs, logits) -> None:
    if (probs is None) == (logits is None):
        raise ValueError("Either `probs` or `logits` must be specified, but not both.")


class _ProbsOrLogits(Distribution):
    """``probs`` or ``logits`` (exactly one; the other made lazily), binary."""

    def __init__(self, probs=None, logits=None, validate_args=None):
        self._set_param(probs, logits)
        param = probs if probs is not None else logits
        batch_shape = () if isinstance(param, numbers.Number) else self._param.shape
        super().__init__(batch_shape, validate_args=validate_args)

    def _set_param(self, probs, logits, *others):
        _one_of(probs, logits)
        self._given = "probs" if probs is not None else "logits"
        out = broadcast_all(*others, probs if probs is not None else logits)
        setattr(self, self._given, out[-1])
        return out[:-1]

    @property
    def _param(self) -> Tensor:
        return getattr(self, self._given)

    @property
    def param_shape(self) -> tuple:
        return self._param.shape

    @lazy_property
    def logits(self) -> Tensor:
        return probs_to_logits(self.probs, is_binary=True)

    @lazy_property
    def probs(self) -> Tensor:
        return logits_to_probs(self.logits, is_binary=True)


class Bernoulli(_ProbsOrLogits, ExponentialFamily):
    """The Bernoulli distribution on {0, 1}: P(x = 1) = p, p = σ(logits).

    log p(x) = x·log p + (1 − x)·log(1 − p) = x·ℓ − softplus(ℓ),   ℓ = logit p
    H = softplus(ℓ) − p·ℓ,   mean = p,   variance = p·(1 − p)
    mode = 1 if p > ½, 0 if p < ½, nan at p = ½
    """

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.boolean
    _mean_carrier_measure = 0
    has_enumerate_support = True
    _expand_params = {"probs": 0, "logits": 0}

    @property
    def mean(self) -> Tensor:
        return self.probs

    @property
    def mode(self) -> Tensor:
        p = self.probs.array  # 1 above ½, 0 below, nan at ½ (also for a 0-d p)
        return Tensor(xp.asarray(xp.where(p == 0.5, xp.nan, p > 0.5), dtype=p.dtype))

    @property
    def variance(self) -> Tensor:
        return self.probs * (1 - self.probs)

    def sample(self, sample_shape=()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        p = self.probs.array
        return Tensor((draw_uniform(shape, xp.float64) < p).astype(p.dtype))

    def log_prob(self, value) -> Tensor:
        x = self._value(value, self._param.dtype)
        logits, x = broadcast_all(self.logits, x)
        # −BCE-with-logits in torch's arrangement, (1 − x)·ℓ + softplus(−ℓ) (equal to
        # softplus(ℓ) − x·ℓ): an infinite logit gives torch's −∞/nan, not 0·∞ elsewhere
        return -((1 - x) * logits + softplus(-logits))

    def entropy(self) -> Tensor:
        return softplus(self.logits) - self.logits * self.probs

    def enumerate_support(self, expand: bool = True) -> Tensor:
        n = len(self._batch_shape)
        values = Tensor(xp.arange(2, dtype=self._param.dtype).reshape((2,) + (1,) * n))
        return values.expand((2,) + self._batch_shape) if expand else values

    # ------------------------------------------------------------ exponential family
    @property
    def _natural_params(self) -> tuple:
        """θ = ℓ = logit p of t(x) = x."""
        return (self.logits,)

    def _log_normalizer(self, x: Tensor) -> Tensor:
        """F(θ) = log(1 + e^θ)."""
        return softplus(x)


class Categorical(Distribution):
    """The categorical distribution over {0, …, K − 1}: P(x = k) = p_k = softmax(logits)_k.

    ``probs`` (…, K) need not sum to 1 (they are normalised); ``logits`` are normalised to
    log-probabilities (ℓ − logsumexp ℓ). The last dim indexes the categories; the others are
    batch dims.

        log p(k) = ℓ_k,   H = −Σ_k p_k·ℓ_k,   mode = argmax_k p_k
    """

    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}
    has_enumerate_support = True
    _expand_params = {"probs": 1, "logits": 1}

    def __init__(self, probs=None, logits=None, validate_args=None):
        _one_of(probs, logits)
        if probs is not None:
            probs = as_float_tensor(probs)
            if probs.ndim < 1:
                raise ValueError("`probs` parameter must be at least one-dimensional.")
            self.probs = probs / probs.sum(-1, keepdim=True)
        else:
            logits = as_float_tensor(logits)
            if logits.ndim < 1:
                raise ValueError("`logits` parameter must be at least one-dimensional.")
            self.logits = logits - logits.logsumexp(-1, keepdim=True)
        self._given = "probs" if probs is not None else "logits"
        self._num_events = self._param.shape[-1]
        super().__init__(self._param.shape[:-1], validate_args=validate_args)

    @property
    def _param(self) -> Tensor:
        return getattr(self, self._given)

    @lazy_property
    def logits(self) -> Tensor:
        return probs_to_logits(self.probs)

    @lazy_property
    def probs(self) -> Tensor:
        return logits_to_probs(self.logits)

    @property
    def param_shape(self) -> tuple:
        return self._param.shape

    @constraints.dependent_property(is_discrete=True, event_dim=0)
    def support(self):
        return constraints.integer_interval(0, self._num_events - 1)

    def _nan(self) -> Tensor:
        return Tensor(xp.full(self._extended_shape(), xp.nan, dtype=self._param.dtype))

    @property
    def mean(self) -> Tensor:
        return self._nan()

    @property
    def mode(self) -> Tensor:
        return Tensor(self.probs.array.argmax(-1))

    @property
    def variance(self) -> Tensor:
        return self._nan()

    def sample(self, sample_shape=()) -> Tensor:
        """Inverse-CDF draws: k = #{j : P_j ≤ u}, P_j = Σ_{i≤j} p_i, u ~ U[0, 1)."""
        shape = self._extended_shape(sample_shape)
        p = self.probs.array.astype(xp.float64)
        cdf = xp.cumsum(p, -1)
        cdf /= cdf[..., -1:]
        u = draw_uniform(shape, xp.float64)
        k = (cdf <= u[..., None]).sum(-1)
        return Tensor(xp.minimum(k, self._num_events - 1).astype(xp.int64))

    def log_prob(self, value) -> Tensor:
        if not isinstance(value, Tensor):
            value = Tensor(xp.asarray(value))
        if self._validate_args:
            self._validate_sample(value)
        k = value.array.astype(xp.int64)
        logits = self.logits
        try:
            shape = xp.broadcast_shapes(k.shape, logits.shape[:-1])
        except ValueError:  # torch's broadcast raises RuntimeError: InputError is both
            raise InputError(
                f"value of shape {k.shape} does not broadcast with batch_shape"
                f" {tuple(logits.shape[:-1])}"
            ) from None
        if logits.shape[:-1] != shape:
            logits = logits.expand(shape + (self._num_events,))
        index = xp.broadcast_to(k, shape)[..., None]
        return logits.gather(-1, index).squeeze(-1)

    def entropy(self) -> Tensor:
        # ℓ_k = −∞ where p_k = 0: clamped to the lowest finite value, so 0·ℓ_k = 0, not nan
        logits = self.logits.clamp(min=float(xp.finfo(self.logits.dtype).min))
        return -(logits * self.probs).sum(-1)

    def enumerate_support(self, expand: bool = True) -> Tensor:
        n = len(self._batch_shape)
        values = Tensor(xp.arange(self._num_events).reshape((-1,) + (1,) * n))
        return values.expand((self._num_events,) + self._batch_shape) if expand else values


class _ViaCategorical(Distribution):
    """A distribution over K categories built on ``self._categorical`` (a Categorical): its
    ``probs``, ``logits`` and ``param_shape`` are the Categorical's."""

    @property
    def probs(self) -> Tensor:
        return self._categorical.probs

    @property
    def logits(self) -> Tensor:
        return self._categorical.logits

    @property
    def param_shape(self) -> tuple:
        return self._categorical.param_shape

    def _shapes_from_categorical(self, validate_args) -> None:
        """Distribution's constructor with the Categorical's batch shape and event shape (K,)."""
        c = self._categorical
        Distribution.__init__(self, c.batch_shape, c.param_shape[-1:], validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = type(self).__new__(type(self))
        new.__dict__.update(self.__dict__)
        new._categorical = self._categorical.expand(batch_shape)
        new._batch_shape = tuple(batch_shape)
        return new


class OneHotCategorical(_ViaCategorical):
    """The categorical distribution with its draws one-hot encoded: a draw is a vector e_k
    (event shape (K,)) with P(e_k) = p_k.

        log p(e_k) = ℓ_k,   H = −Σ_k p_k·ℓ_k,   mean = p,   variance = p·(1 − p)
    """

    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}
    support = constraints.one_hot
    has_enumerate_support = True

    def __init__(self, probs=None, logits=None, validate_args=None):
        self._categorical = Categorical(probs, logits, validate_args=False)
        self._shapes_from_categorical(validate_args)

    @property
    def mean(self) -> Tensor:
        return self.probs

    @property
    def mode(self) -> Tensor:
        p = self.probs.array
        return Tensor((p.argmax(-1)[..., None] == xp.arange(p.shape[-1])).astype(p.dtype))

    @property
    def variance(self) -> Tensor:
        return self.probs * (1 - self.probs)

    def sample(self, sample_shape=()) -> Tensor:
        k = self._categorical.sample(sample_shape).array
        n = self._categorical._num_events
        return Tensor((k[..., None] == xp.arange(n)).astype(self.probs.dtype))

    def log_prob(self, value) -> Tensor:
        if not isinstance(value, Tensor):
            value = Tensor(xp.asarray(value))
        if self._validate_args:
            self._validate_sample(value)
        return self._categorical.log_prob(Tensor(value.array.argmax(-1)))

    def entropy(self) -> Tensor:
        return self._categorical.entropy()

    def enumerate_support(self, expand: bool = True) -> Tensor:
        n = self.event_shape[0]
        eye = xp.eye(n, dtype=self.probs.dtype).reshape((n,) + (1,) * len(self._batch_shape) + (n,))
        values = Tensor(eye)
        return values.expand((n,) + self._batch_shape + (n,)) if expand else values


class OneHotCategoricalStraightThrough(OneHotCategorical):
    """OneHotCategorical whose ``rsample`` passes gradients straight through (Bengio et al.
    2013): the forward value is the one-hot draw s, the gradient that of p.

        rsample = s + (p − stop_gradient(p))
    """

    has_rsample = True

    def rsample(self, sample_shape=()) -> Tensor:
        s = self.sample(sample_shape)
        p = self.probs
        return s + (p - p.detach())
