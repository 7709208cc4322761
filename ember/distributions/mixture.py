"""MixtureSameFamily: a batch of mixtures whose K components are the rightmost batch dim of
one distribution (torch.distributions.MixtureSameFamily).

With mixing weights π = softmax(mixture logits) and components p_k:

    log p(x) = logsumexp_k (log π_k + log p_k(x))
    F(x) = Σ_k π_k·F_k(x)   (scalar events)
    mean = Σ_k π_k·μ_k,   variance = Σ_k π_k·σ_k² + Σ_k π_k·(μ_k − mean)²   (total variance)
    sample: k ~ Categorical(π), then x ~ p_k   (no rsample: the choice of k is discrete)

Gradients of log_prob reach the mixture logits and the components' parameters (a Gaussian
mixture fitted by maximum likelihood).
"""

from __future__ import annotations

from ..backend import xp
from ..function import no_grad
from ..tensor import Tensor
from . import constraints
from .discrete import Categorical
from .distribution import Distribution

__all__ = ["MixtureSameFamily"]


class MixtureSameFamily(Distribution):
    """A mixture of ``component_distribution``'s K members (its batch_shape[-1] == K), weighted
    by ``mixture_distribution``, a Categorical over K whose batch shape broadcasts with the
    component's remaining batch dims: batch_shape = component.batch_shape[:-1], event_shape
    = component.event_shape (module docstring)."""

    arg_constraints: dict = {}
    has_rsample = False

    def __init__(
        self,
        mixture_distribution: Categorical,
        component_distribution: Distribution,
        validate_args: bool | None = None,
    ):
        if not isinstance(mixture_distribution, Categorical):
            raise ValueError(
                " The Mixture distribution needs to be an  instance of"
                " ember.distributions.Categorical"
            )
        if not isinstance(component_distribution, Distribution):
            raise ValueError(
                "The Component distribution needs to be an instance of"
                " ember.distributions.Distribution"
            )
        self._mixture_distribution = mixture_distribution
        self._component_distribution = component_distribution
        mdbs = mixture_distribution.batch_shape
        cdbs = component_distribution.batch_shape[:-1]
        for m, c in zip(reversed(mdbs), reversed(cdbs)):
            if m != 1 and c != 1 and m != c:
                raise ValueError(
                    f"`mixture_distribution.batch_shape` ({mdbs}) is not compatible with"
                    f" `component_distribution.batch_shape`({cdbs})"
                )
        km = mixture_distribution.logits.shape[-1]
        kc = component_distribution.batch_shape[-1]
        if km != kc:
            raise ValueError(
                f"`mixture_distribution component` ({km}) does not equal"
                f" `component_distribution.batch_shape[-1]` ({kc})"
            )
        self._num_component = km
        event_shape = component_distribution.event_shape
        self._event_ndims = len(event_shape)
        super().__init__(cdbs, event_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        batch_shape = tuple(batch_shape)
        new = type(self).__new__(type(self))
        new.__dict__.update(self.__dict__)
        new._component_distribution = self._component_distribution.expand(
            batch_shape + (self._num_component,)
        )
        new._mixture_distribution = self._mixture_distribution.expand(batch_shape)
        new._batch_shape = batch_shape
        return new

    @constraints.dependent_property
    def support(self):
        return constraints.MixtureSameFamilyConstraint(self._component_distribution.support)

    @property
    def mixture_distribution(self) -> Categorical:
        return self._mixture_distribution

    @property
    def component_distribution(self) -> Distribution:
        return self._component_distribution

    def _pad(self, x: Tensor) -> Tensor:
        """x with a component dim before its event dims."""
        return x.unsqueeze(-1 - self._event_ndims)

    def _pad_mixture_dimensions(self, x: Tensor) -> Tensor:
        """Mixture weights (…, K) shaped to broadcast against the components' (…, K, *event)
        (torch's reshaping, including its choice to add no dims for a 1-d batch)."""
        dist_batch_ndims = len(self._batch_shape)
        cat_batch_ndims = len(self.mixture_distribution.batch_shape)
        pad_ndims = 0 if cat_batch_ndims == 1 else dist_batch_ndims - cat_batch_ndims
        xs = tuple(x.shape)
        return x.reshape(xs[:-1] + (1,) * pad_ndims + xs[-1:] + (1,) * self._event_ndims)

    @property
    def mean(self) -> Tensor:
        probs = self._pad_mixture_dimensions(self.mixture_distribution.probs)
        return (probs * self.component_distribution.mean).sum(-1 - self._event_ndims)

    @property
    def variance(self) -> Tensor:
        probs = self._pad_mixture_dimensions(self.mixture_distribution.probs)
        dim = -1 - self._event_ndims
        comp = self.component_distribution
        mean_cond_var = (probs * comp.variance).sum(dim)
        var_cond_mean = (probs * (comp.mean - self._pad(self.mean)) ** 2).sum(dim)
        return mean_cond_var + var_cond_mean

    def cdf(self, x) -> Tensor:
        x = x if isinstance(x, Tensor) else Tensor(xp.asarray(x))
        cdf_x = self.component_distribution.cdf(self._pad(x))
        return (cdf_x * self.mixture_distribution.probs).sum(-1)

    def log_prob(self, x) -> Tensor:
        x = self._value(x, self.mixture_distribution.logits.dtype)
        log_prob_x = self.component_distribution.log_prob(self._pad(x))  # (S, B, K)
        log_mix_prob = self.mixture_distribution.logits.log_softmax(-1)  # (B, K)
        return (log_prob_x + log_mix_prob).logsumexp(-1)

    def sample(self, sample_shape=()) -> Tensor:
        """Every component drawn, then the drawn component's value picked (torch's
        construction: K draws per sample)."""
        with no_grad():
            sample_shape = tuple(sample_shape)
            gather_dim = len(sample_shape) + len(self._batch_shape)
            es = self._event_shape
            k = self.mixture_distribution.sample(sample_shape).array
            k = xp.broadcast_to(k, sample_shape + self._batch_shape)  # a shared mixture too
            comp = self.component_distribution.sample(sample_shape).array
            index = k.reshape(k.shape + (1,) * (len(es) + 1))
            index = xp.broadcast_to(index, k.shape + (1,) + es)
            return Tensor(xp.take_along_axis(comp, index, gather_dim).squeeze(gather_dim))

    def __repr__(self) -> str:
        return (
            f"MixtureSameFamily(\n  {self.mixture_distribution},\n  {self.component_distribution})"
        )
