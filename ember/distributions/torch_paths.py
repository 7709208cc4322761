"""torch.distributions' per-distribution module paths: ``from ember.distributions.normal import
Normal`` works as ``from torch.distributions.normal import Normal`` does. ember keeps its
distributions in fewer files (by family), so each of torch's file names is a small module
object made here and registered in ``sys.modules``, holding the names torch's file defines;
``ember.distributions.utils`` holds the helpers torch keeps there."""

from __future__ import annotations

from ..module_paths import register
from . import distribution as _distribution
from . import relaxed as _relaxed
from . import transforms_more as _transforms_more

#: torch's file name → the names it defines (all of them ember's public distributions)
FILES = {
    "bernoulli": ["Bernoulli"], "beta": ["Beta"], "binomial": ["Binomial"],
    "categorical": ["Categorical"], "cauchy": ["Cauchy"], "chi2": ["Chi2"],
    "exponential": ["Exponential"], "fishersnedecor": ["FisherSnedecor"], "gamma": ["Gamma"],
    "generalized_pareto": ["GeneralizedPareto"], "geometric": ["Geometric"],
    "gumbel": ["Gumbel"], "half_cauchy": ["HalfCauchy"], "half_normal": ["HalfNormal"],
    "independent": ["Independent"], "inverse_gamma": ["InverseGamma"],
    "kumaraswamy": ["Kumaraswamy"], "laplace": ["Laplace"], "lkj_cholesky": ["LKJCholesky"],
    "log_normal": ["LogNormal"], "logistic_normal": ["LogisticNormal"],
    "lowrank_multivariate_normal": ["LowRankMultivariateNormal"],
    "mixture_same_family": ["MixtureSameFamily"], "multinomial": ["Multinomial"],
    "multivariate_normal": ["MultivariateNormal"], "negative_binomial": ["NegativeBinomial"],
    "normal": ["Normal"], "one_hot_categorical": ["OneHotCategorical",
                                                  "OneHotCategoricalStraightThrough"],
    "pareto": ["Pareto"], "poisson": ["Poisson"], "studentT": ["StudentT"],
    "transformed_distribution": ["TransformedDistribution"], "uniform": ["Uniform"],
    "weibull": ["Weibull"],
}  # fmt: skip

#: names torch's files define that ember keeps outside the package's public names
EXTRA = {
    "relaxed_bernoulli": {"RelaxedBernoulli": None,
                          "LogitRelaxedBernoulli": _relaxed.LogitRelaxedBernoulli},
    "relaxed_categorical": {"RelaxedOneHotCategorical": None,
                            "ExpRelaxedCategorical": _relaxed.ExpRelaxedCategorical},
    "utils": {
        "broadcast_all": _distribution.broadcast_all,
        "clamp_probs": _distribution.clamp_probs,
        "lazy_property": _distribution.lazy_property,
        "logits_to_probs": _distribution.logits_to_probs,
        "probs_to_logits": _distribution.probs_to_logits,
        "tril_matrix_to_vec": _transforms_more.tril_matrix_to_vec,
        "vec_to_tril_matrix": _transforms_more.vec_to_tril_matrix,
    },
}  # fmt: skip


def install(package) -> None:
    """Make and register the modules on ``package`` (ember.distributions)."""
    tables = {name: dict.fromkeys(names) for name, names in FILES.items()} | EXTRA
    for file, names in tables.items():
        values = {n: getattr(package, n) if v is None else v for n, v in names.items()}
        register(package, file, values)
