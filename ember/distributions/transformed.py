"""TransformedDistribution (a base distribution pushed through bijections) and LogNormal."""

from __future__ import annotations

from ..function import no_grad
from ..tensor import Tensor
from . import constraints
from .continuous import Normal
from .distribution import Distribution, as_float_tensor, sum_rightmost
from .multivariate import Independent
from .transforms import ComposeTransform, ExpTransform, Transform


def expand_wrapper(dist, batch_shape):
    """A copy of ``dist``, a distribution built around ``dist.base_dist``, with the base
    expanded to ``batch_shape`` (everything else shared)."""
    new = type(dist).__new__(type(dist))
    new.__dict__.update(dist.__dict__)
    new.base_dist = dist.base_dist.expand(batch_shape)
    new._batch_shape = tuple(batch_shape)
    return new


class TransformedDistribution(Distribution):
    """The distribution of y = f(x), x ~ base, f = fₙ ∘ … ∘ f₁ (``transforms`` in order).

        log p_Y(y) = log p_X(x) − Σₖ log |det ∂fₖ/∂xₖ|,   x = f⁻¹(y)
        rsample: y = f(x), x = base.rsample()

    Shapes follow torch's: the base is expanded to what the transforms' ``forward_shape``
    needs, wrapped in Independent when the transforms couple more dims than its event
    (a StickBreakingTransform on a Normal's batch), and the event grows or shrinks with each
    transform's codomain. The SAC policy is ``TransformedDistribution(Normal(μ, σ),
    [TanhTransform(cache_size=1)])``: ``a = π.rsample()`` then ``π.log_prob(a)`` reuses the
    cached pre-tanh draw.
    """

    arg_constraints: dict = {}

    def __init__(self, base_distribution: Distribution, transforms, validate_args=None):
        if isinstance(transforms, Transform):
            transforms = [transforms]
        ok = isinstance(transforms, (list, tuple)) and all(
            isinstance(t, Transform) for t in transforms
        )
        if not ok:
            raise ValueError(
                f"transforms must be a Transform or a list of Transforms, got {transforms!r}"
            )
        self.transforms = list(transforms)
        base_shape = base_distribution.batch_shape + base_distribution.event_shape
        base_event_dim = len(base_distribution.event_shape)
        f = ComposeTransform(self.transforms)
        if len(base_shape) < f.domain.event_dim:
            raise ValueError(
                f"base_distribution needs to have shape with size at least"
                f" {f.domain.event_dim}, but got {base_shape}."
            )
        forward_shape = f.forward_shape(base_shape)
        expanded_base_shape = f.inverse_shape(forward_shape)
        if base_shape != expanded_base_shape:
            cut = len(expanded_base_shape) - base_event_dim
            base_distribution = base_distribution.expand(expanded_base_shape[:cut])
        reinterpreted = f.domain.event_dim - base_event_dim
        if reinterpreted > 0:
            base_distribution = Independent(base_distribution, reinterpreted)
        self.base_dist = base_distribution
        # the event: whatever the transforms couple, or the base's event carried through them
        change = f.codomain.event_dim - f.domain.event_dim
        event_dim = max(f.codomain.event_dim, base_event_dim + change)
        cut = len(forward_shape) - event_dim
        super().__init__(forward_shape[:cut], forward_shape[cut:], validate_args=validate_args)

    @property
    def has_rsample(self) -> bool:
        return self.base_dist.has_rsample

    @property
    def support(self):
        if not self.transforms:
            return self.base_dist.support
        s = self.transforms[-1].codomain
        extra = len(self._event_shape) - s.event_dim
        return constraints.independent(s, extra) if extra > 0 else s

    def expand(self, batch_shape, _instance=None):
        """The base expanded to the batch shape the transforms map onto ``batch_shape``."""
        batch_shape = tuple(batch_shape)
        shape = batch_shape + self._event_shape
        for t in reversed(self.transforms):
            shape = t.inverse_shape(shape)
        base_batch = shape[: len(shape) - len(self.base_dist.event_shape)]
        new = type(self).__new__(type(self))
        new.__dict__.update(self.__dict__)
        new.base_dist = self.base_dist.expand(base_batch)
        new._batch_shape = batch_shape
        return new

    def rsample(self, sample_shape=()) -> Tensor:
        x = self.base_dist.rsample(sample_shape)
        for t in self.transforms:
            x = t(x)
        return x

    def sample(self, sample_shape=()) -> Tensor:
        with no_grad():
            x = self.base_dist.sample(sample_shape)
            for t in self.transforms:
                x = t(x)
            return x

    def log_prob(self, value) -> Tensor:
        y = self._value(value, None)
        event_dim = len(self._event_shape)
        log_prob = 0.0
        for t in reversed(self.transforms):
            x = t.inv(y)
            event_dim += t.domain.event_dim - t.codomain.event_dim
            ladj = t.log_abs_det_jacobian(x, y)
            log_prob = log_prob - sum_rightmost(ladj, event_dim - t.domain.event_dim)
            y = x
        base = self.base_dist.log_prob(y)
        return log_prob + sum_rightmost(base, event_dim - len(self.base_dist.event_shape))

    def _monotonize_cdf(self, value: Tensor) -> Tensor:
        sign = 1
        for t in self.transforms:
            sign = sign * t.sign
        if isinstance(sign, int) and sign == 1:
            return value
        return sign * (value - 0.5) + 0.5

    def cdf(self, value) -> Tensor:
        y = value if isinstance(value, Tensor) else as_float_tensor(value)
        for t in reversed(self.transforms):
            y = t.inv(y)
        if self._validate_args:  # torch checks the preimage against the base's support
            self.base_dist._validate_sample(y)
        return self._monotonize_cdf(self.base_dist.cdf(y))

    def icdf(self, value) -> Tensor:
        x = self.base_dist.icdf(self._monotonize_cdf(value))
        for t in self.transforms:
            x = t(x)
        return x

    def __repr__(self) -> str:
        return f"TransformedDistribution({self.base_dist!r}, {self.transforms!r})"


class LogNormal(TransformedDistribution):
    """log X ~ N(μ, σ²): X = exp(μ + σ·ε).

    log p(x) = log N(log x; μ, σ) − log x
    H = H_N + μ,   mean = e^{μ + σ²/2},   mode = e^{μ − σ²},
    variance = (e^{σ²} − 1)·e^{2μ + σ²}
    """

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.positive
    has_rsample = True

    def __init__(self, loc, scale, validate_args=None):
        base = Normal(loc, scale, validate_args=validate_args)
        super().__init__(base, ExpTransform(), validate_args=validate_args)

    loc = property(lambda self: self.base_dist.loc)
    scale = property(lambda self: self.base_dist.scale)

    @property
    def mean(self) -> Tensor:
        return (self.loc + self.scale**2 / 2).exp()

    @property
    def mode(self) -> Tensor:
        return (self.loc - self.scale**2).exp()

    @property
    def variance(self) -> Tensor:
        s2 = self.scale**2
        return s2.expm1() * (2 * self.loc + s2).exp()

    def entropy(self) -> Tensor:
        return self.base_dist.entropy() + self.loc
