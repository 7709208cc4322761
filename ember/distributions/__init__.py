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

# kl_cross, kl_more and kl_more2 register their KL formulas when imported
from . import (
    constraint_registry,
    constraints,
    kl_cross,
    kl_more,
    kl_more2,
    transforms,
)
from .constraint_registry import biject_to, transform_to
from .constraints import Constraint
from .continuous import Exponential, Laplace, Normal, Uniform
from .continuous_bernoulli import ContinuousBernoulli
from .continuous_more import Cauchy, Chi2, HalfCauchy, HalfNormal, StudentT
from .counts import Multinomial, NegativeBinomial
from .dirichlet import Dirichlet
from .discrete import Bernoulli, Categorical, OneHotCategorical, OneHotCategoricalStraightThrough
from .discrete_more import Binomial, Geometric, Poisson
from .distribution import Distribution
from .exp_family import ExponentialFamily
from .extreme import Gumbel, Pareto, Weibull
from .fisher_pareto import FisherSnedecor, GeneralizedPareto
from .gamma_beta import Beta, Gamma
from .kl import kl_divergence, register_kl
from .lkj import LKJCholesky
from .lowrank import LowRankMultivariateNormal
from .mixture import MixtureSameFamily
from .multivariate import Independent, MultivariateNormal
from .relaxed import RelaxedBernoulli, RelaxedOneHotCategorical
from .transformed import LogNormal, TransformedDistribution
from .transformed_more import InverseGamma, Kumaraswamy, LogisticNormal
from .transforms import (
    AbsTransform,
    AffineTransform,
    CatTransform,
    ComposeTransform,
    CorrCholeskyTransform,
    CumulativeDistributionTransform,
    ExpTransform,
    IndependentTransform,
    LowerCholeskyTransform,
    PositiveDefiniteTransform,
    PowerTransform,
    ReshapeTransform,
    SigmoidTransform,
    SoftmaxTransform,
    SoftplusTransform,
    StackTransform,
    StickBreakingTransform,
    TanhTransform,
    Transform,
    identity_transform,
)
from .von_mises import VonMises
from .wishart import Wishart

__all__ = [
    "AbsTransform",
    "AffineTransform",
    "Bernoulli",
    "Beta",
    "Binomial",
    "CatTransform",
    "Categorical",
    "Cauchy",
    "Chi2",
    "ComposeTransform",
    "Constraint",
    "ContinuousBernoulli",
    "CorrCholeskyTransform",
    "CumulativeDistributionTransform",
    "Dirichlet",
    "Distribution",
    "ExpTransform",
    "Exponential",
    "ExponentialFamily",
    "FisherSnedecor",
    "Gamma",
    "GeneralizedPareto",
    "Geometric",
    "Gumbel",
    "HalfCauchy",
    "HalfNormal",
    "Independent",
    "IndependentTransform",
    "InverseGamma",
    "Kumaraswamy",
    "LKJCholesky",
    "Laplace",
    "LogNormal",
    "LogisticNormal",
    "LowRankMultivariateNormal",
    "LowerCholeskyTransform",
    "MixtureSameFamily",
    "Multinomial",
    "MultivariateNormal",
    "NegativeBinomial",
    "Normal",
    "OneHotCategorical",
    "OneHotCategoricalStraightThrough",
    "Pareto",
    "Poisson",
    "PositiveDefiniteTransform",
    "PowerTransform",
    "RelaxedBernoulli",
    "RelaxedOneHotCategorical",
    "ReshapeTransform",
    "SigmoidTransform",
    "SoftmaxTransform",
    "SoftplusTransform",
    "StackTransform",
    "StickBreakingTransform",
    "StudentT",
    "TanhTransform",
    "Transform",
    "TransformedDistribution",
    "Uniform",
    "VonMises",
    "Weibull",
    "Wishart",
    "biject_to",
    "constraint_registry",
    "constraints",
    "identity_transform",
    "kl_divergence",
    "register_kl",
    "transform_to",
    "transforms",
]

# torch's per-distribution module paths (ember.distributions.normal …): torch_paths.py
import sys  # noqa: E402

from . import torch_paths as _torch_paths  # noqa: E402

_torch_paths.install(sys.modules[__name__])
