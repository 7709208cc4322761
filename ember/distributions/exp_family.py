"""ExponentialFamily: the base class of the distributions whose density has the form

    p_F(x; θ) = exp(⟨t(x), θ⟩ − F(θ) + k(x))

θ the natural parameters (``_natural_params``), t(x) the sufficient statistic, F the log
normaliser (``_log_normalizer``) and k the carrier measure (E_p[k(x)] is
``_mean_carrier_measure``), as torch.distributions.ExponentialFamily.

Since E_p[t(x)] = ∇F(θ), the entropy and the KL divergence between two members of one family
are Bregman divergences of F (Nielsen & Nock, "Entropies and cross-entropies of exponential
families", 2010), computed here with ember's autograd:

    H(p) = F(θ) − ⟨θ, ∇F(θ)⟩ − E_p[k(x)]
    KL(p ‖ q) = F(θ_q) − F(θ_p) − ⟨θ_q − θ_p, ∇F(θ_p)⟩

As torch, θ (θ_p for the KL) is detached into fresh leaves before ∇F is taken (with
``create_graph=True``): the entropy carries no gradient to the parameters, and the KL only
to q's. A subclass with a closed-form ``entropy`` or a registered KL keeps it; these are the
fallbacks (and checks of the closed forms).
"""

from __future__ import annotations

from ..autograd import grad
from ..backend import xp
from ..function import enable_grad
from ..tensor import Tensor
from .distribution import Distribution, sum_rightmost

__all__ = ["ExponentialFamily", "kl_expfamily_expfamily"]


def _detached_natural_params(d) -> list[Tensor]:
    return [t.detach().requires_grad_() for t in d._natural_params]


class ExponentialFamily(Distribution):
    """An exponential-family distribution (module docstring): subclasses give
    ``_natural_params`` (a tuple of Tensors θ), ``_log_normalizer(*θ)`` F(θ) and
    ``_mean_carrier_measure`` E_p[k(x)]; ``entropy`` is then the Bregman form."""

    @property
    def _natural_params(self) -> tuple:
        """The natural parameters θ, a tuple of Tensors."""
        raise NotImplementedError

    def _log_normalizer(self, *natural_params) -> Tensor:
        """The log normaliser F(θ) of the natural parameters."""
        raise NotImplementedError

    @property
    def _mean_carrier_measure(self) -> float:
        """E_p[k(x)], the expected carrier measure (needed by ``entropy``)."""
        raise NotImplementedError

    def entropy(self) -> Tensor:
        """H = F(θ) − ⟨θ, ∇F(θ)⟩ − E_p[k(x)], ∇F by autograd at a detached θ."""
        result = -self._mean_carrier_measure
        with enable_grad():
            nparams = _detached_natural_params(self)
            lg_normal = self._log_normalizer(*nparams)
            gradients = grad(lg_normal.sum(), nparams, create_graph=True)
        result = lg_normal + result
        for theta, g in zip(nparams, gradients):
            result = result - (theta * g).reshape(self._batch_shape + (-1,)).sum(-1)
        return result


def kl_expfamily_expfamily(p: ExponentialFamily, q: ExponentialFamily) -> Tensor:
    """KL(p ‖ q) = F(θ_q) − F(θ_p) − ⟨θ_q − θ_p, ∇F(θ_p)⟩ for p and q of one exponential
    family (the same class); torch's ``_kl_expfamily_expfamily``. The inner product sums each
    natural parameter's own event dims (torch sums ``len(q.event_shape)`` dims of every
    one, which mixes batch members when a parameter has fewer: e.g. Wishart's ν)."""
    if type(p) is not type(q):
        raise NotImplementedError(
            f"No KL(p || q) is implemented for p type {type(p).__name__} and q type"
            f" {type(q).__name__}: the cross KL-divergence between different exponential"
            " families cannot be computed using Bregman divergences"
        )
    with enable_grad():
        p_nparams = _detached_natural_params(p)
        lg_normal = p._log_normalizer(*p_nparams)
        gradients = grad(lg_normal.sum(), p_nparams, create_graph=True)
    q_nparams = q._natural_params
    result = q._log_normalizer(*q_nparams) - lg_normal
    batch = len(xp.broadcast_shapes(p.batch_shape, q.batch_shape))
    for pnp, qnp, g in zip(p_nparams, q_nparams, gradients):
        term = (qnp - pnp) * g
        result = result - sum_rightmost(term, term.ndim - batch)
    return result
