"""ember.distributions: torch.distributions' core, differentiable end to end.

    import ember.distributions as D
    pi = D.Categorical(logits=policy(obs))
    a = pi.sample()
    loss = -(pi.log_prob(a) * advantage).mean() - 0.01 * pi.entropy().mean()

    q = D.Normal(mu, log_sigma.exp())            # a VAE's posterior
    z = q.rsample()                              # z = μ + σ·ε: gradients reach μ and σ
    kl = D.kl_divergence(q, D.Normal(0.0, 1.0)).sum(-1)

Every density, entropy, KL and reparameterised draw is composed from ember's Tensor ops (erf,
lgamma, digamma …), ember.linalg (Cholesky, triangular solves) and three Functions of its own
(an exact softplus, ``_special.py``; a gamma draw with its implicit reparameterisation
gradient and the gamma CDF, ``gamma_beta.py``), so ``backward()`` reaches the parameters. Draws come
from ember's seeded generator: ``ember.manual_seed`` repeats them (the streams differ from
torch's).
"""

from . import constraints, transforms
from .constraints import Constraint
from .continuous import Exponential, Laplace, Normal, Uniform
from .continuous_more import Cauchy, Chi2, HalfCauchy, HalfNormal, StudentT
from .dirichlet import Dirichlet
from .discrete import Bernoulli, Categorical, OneHotCategorical, OneHotCategoricalStraightThrough
from .discrete_more import Binomial, Geometric, Poisson
from .distribution import Distribution
from .gamma_beta import Beta, Gamma
from .kl import kl_divergence, register_kl
from .multivariate import Independent, MultivariateNormal
from .transformed import LogNormal, TransformedDistribution
from .transforms import (
    AffineTransform,
    ComposeTransform,
    ExpTransform,
    SigmoidTransform,
    TanhTransform,
    Transform,
)

__all__ = [
    "AffineTransform",
    "Bernoulli",
    "Beta",
    "Binomial",
    "Categorical",
    "Cauchy",
    "Chi2",
    "ComposeTransform",
    "Constraint",
    "Dirichlet",
    "Distribution",
    "ExpTransform",
    "Exponential",
    "Gamma",
    "Geometric",
    "HalfCauchy",
    "HalfNormal",
    "Independent",
    "Laplace",
    "LogNormal",
    "MultivariateNormal",
    "Normal",
    "OneHotCategorical",
    "OneHotCategoricalStraightThrough",
    "Poisson",
    "SigmoidTransform",
    "StudentT",
    "TanhTransform",
    "Transform",
    "TransformedDistribution",
    "Uniform",
    "constraints",
    "kl_divergence",
    "register_kl",
    "transforms",
]
