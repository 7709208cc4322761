"""Distribution: the base class of ember.distributions (torch.distributions.Distribution).

A distribution over values of shape ``sample_shape + batch_shape + event_shape``: the batch
dims index independent, differently parameterised distributions; the event dims make up one
draw (a vector for a MultivariateNormal). ``log_prob`` reduces the event dims and keeps the
batch dims. Everything is built from Tensor ops, so gradients flow from ``log_prob``,
``entropy``, ``rsample`` (the reparameterisation x = g(θ, ε), ε drawn without θ) and
``kl_divergence`` back to the parameters.

Arguments are validated unless ``validate_args=False`` (or
``Distribution.set_default_validate_args(False)``): parameters against ``arg_constraints``
at construction, values against ``support`` in ``log_prob``/``cdf``; a violation is a
ValueError naming the parameter, the constraint and the values.
"""

from __future__ import annotations

import functools
import numbers
import operator

from .. import backend
from ..backend import xp
from ..errors import InputError
from ..function import no_grad
from ..promotion import default_float
from ..tensor import Tensor
from . import constraints

lazy_property = functools.cached_property  # computed once, kept in the instance's __dict__


def as_float_tensor(value, dtype=None) -> Tensor:
    """A Tensor for a parameter: Tensors kept (integers made floating), numbers and arrays in
    ``dtype`` (default: ember's default float)."""
    if isinstance(value, Tensor):
        return value if value.dtype.kind == "f" else value.astype(default_float())
    if hasattr(value, "detach") and hasattr(value, "numpy"):  # a torch tensor
        a, native = value.detach().cpu().numpy(), True
    else:
        a, native = xp.asarray(value), backend.is_host_or_device_array(value)
    if dtype is None:
        dtype = a.dtype if native and a.dtype.kind == "f" else default_float()
    return Tensor(a.astype(dtype, copy=False))


def broadcast_all(*values) -> tuple[Tensor, ...]:
    """The values as Tensors of one broadcast shape (numbers take the dtype of the first
    floating Tensor among them); the gradient of an expanded Tensor sums back."""
    dtype = next((v.dtype for v in values if isinstance(v, Tensor) and v.dtype.kind == "f"), None)
    tensors = [as_float_tensor(v, dtype) for v in values]
    try:
        shape = xp.broadcast_shapes(*(t.shape for t in tensors))
    except ValueError:
        shapes = ", ".join(str(tuple(t.shape)) for t in tensors)
        # torch's broadcast raises RuntimeError; InputError is that and ember's ValueError
        raise InputError(f"parameters of shapes {shapes} do not broadcast together") from None
    return tuple(t if t.shape == shape else t.expand(shape) for t in tensors)


def sum_rightmost(value: Tensor, dim: int) -> Tensor:
    """Sum out the rightmost ``dim`` dims."""
    if dim <= 0:
        return value
    return value.sum(tuple(range(value.ndim - dim, value.ndim)))


def clamp_probs(probs: Tensor) -> Tensor:
    """probs clamped into [ε, 1 − ε] (ε the dtype's machine epsilon): logs stay finite."""
    eps = float(xp.finfo(probs.dtype).eps)
    return probs.clamp(min=eps, max=1 - eps)


def probs_to_logits(probs: Tensor, is_binary: bool = False) -> Tensor:
    """log p (categorical), or log p − log(1 − p) (binary), with p clamped by clamp_probs."""
    p = clamp_probs(probs)
    return p.log() - (-p).log1p() if is_binary else p.log()


def logits_to_probs(logits: Tensor, is_binary: bool = False) -> Tensor:
    """σ(logits) (binary) or softmax(logits) over the last dim."""
    return logits.sigmoid() if is_binary else logits.softmax(-1)


def draw_normal(shape, dtype):
    """Standard normal draws from ember's seeded generator (``ember.manual_seed`` repeats
    them)."""
    return backend.generator_or_default(None).standard_normal(tuple(shape), dtype)


def draw_uniform(shape, dtype):
    """Uniform draws in [0, 1) from ember's seeded generator."""
    return backend.generator_or_default(None).random(tuple(shape), dtype)


def _size(sample_shape) -> tuple:
    """sample_shape (an int or a sequence of ints) as a tuple; a float in it is refused, as
    torch.Size refuses it (int() would have truncated it silently)."""
    if isinstance(sample_shape, numbers.Integral):
        return (int(sample_shape),)
    shape = tuple(sample_shape)
    for i, n in enumerate(shape):
        if not hasattr(n, "__index__"):
            raise TypeError(
                f"sample_shape takes an iterable of 'int' (item {i} is {type(n).__name__!r})"
            )
    return tuple(operator.index(n) for n in shape)


class Distribution:
    """A probability distribution with batch and event shapes (see the module docstring).

    Subclasses set ``arg_constraints``, ``support``, ``has_rsample`` and implement what they
    can of ``rsample``/``sample``, ``log_prob``, ``entropy``, ``mean``, ``mode``,
    ``variance``, ``cdf``, ``icdf``.
    """

    has_rsample = False
    has_enumerate_support = False
    _validate_args = __debug__  # on unless Python runs with -O, as torch's default
    #: tensors ``expand`` broadcasts, with the number of event dims each keeps
    _expand_params: dict[str, int] = {}

    @staticmethod
    def set_default_validate_args(value: bool) -> None:
        """Turn argument validation on or off for every distribution made afterwards that
        does not say ``validate_args=`` itself."""
        if value not in (True, False):
            raise ValueError(f"set_default_validate_args expects True or False, got {value!r}")
        Distribution._validate_args = value

    def __init__(self, batch_shape=(), event_shape=(), validate_args: bool | None = None):
        self._batch_shape = tuple(batch_shape)
        self._event_shape = tuple(event_shape)
        if validate_args is not None:
            self._validate_args = validate_args
        if self._validate_args:
            self._validate_parameters()

    def _validate_parameters(self) -> None:
        for param, constraint in self.arg_constraints.items():
            if constraints.is_dependent(constraint):
                continue
            attr = getattr(type(self), param, None)
            if isinstance(attr, lazy_property) and param not in self.__dict__:
                continue  # made lazily from the other parameterisation: checked there
            value = getattr(self, param)
            if not xp.all(constraint.check(value)):
                raise ValueError(
                    f"Expected parameter {param} ({type(value).__name__} of shape"
                    f" {tuple(value.shape)}) of distribution {self!r} to satisfy the constraint"
                    f" {constraint!r}, but found invalid values:\n{value}"
                )

    # ------------------------------------------------------------ shapes
    @property
    def batch_shape(self) -> tuple:
        return self._batch_shape

    @property
    def event_shape(self) -> tuple:
        return self._event_shape

    def _extended_shape(self, sample_shape=()) -> tuple:
        """sample_shape + batch_shape + event_shape."""
        return _size(sample_shape) + self._batch_shape + self._event_shape

    def expand(self, batch_shape, _instance=None) -> Distribution:
        """The same distribution with its parameters broadcast to ``batch_shape`` (the new
        batch dims repeat the old ones; no copy). Values cached from the old parameters (lazy
        properties other than parameters: a variance, a covariance matrix) are left behind,
        to be computed again in the new shape."""
        batch_shape = _size(batch_shape)
        if not self._expand_params:
            raise NotImplementedError(f"{type(self).__name__} does not implement expand")
        new = type(self).__new__(type(self))
        cls = type(self)
        new.__dict__.update(
            (k, v)
            for k, v in self.__dict__.items()
            if k in self._expand_params or not isinstance(getattr(cls, k, None), lazy_property)
        )
        for name, event_dims in self._expand_params.items():
            t = self.__dict__.get(name)
            if isinstance(t, Tensor):
                new.__dict__[name] = t.expand(batch_shape + t.shape[t.ndim - event_dims :])
        new._batch_shape = batch_shape
        return new

    # ------------------------------------------------------------ declared by subclasses
    @property
    def arg_constraints(self) -> dict:
        raise NotImplementedError(f"{type(self).__name__} does not define arg_constraints")

    @property
    def support(self):
        raise NotImplementedError(f"{type(self).__name__} does not define support")

    @property
    def mean(self) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__} does not implement mean")

    @property
    def mode(self) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__} does not implement mode")

    @property
    def variance(self) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__} does not implement variance")

    @property
    def stddev(self) -> Tensor:
        return self.variance.sqrt()

    def sample(self, sample_shape=()) -> Tensor:
        """A draw of shape sample_shape + batch_shape + event_shape, outside the graph."""
        with no_grad():
            return self.rsample(sample_shape)

    def rsample(self, sample_shape=()) -> Tensor:
        """A reparameterised draw: differentiable with respect to the parameters."""
        raise NotImplementedError(
            f"{type(self).__name__} has no rsample (it is not reparameterisable here);"
            " use sample(), which carries no gradient"
        )

    def sample_n(self, n: int) -> Tensor:
        return self.sample((n,))

    def log_prob(self, value) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__} does not implement log_prob")

    def cdf(self, value) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__} does not implement cdf")

    def icdf(self, value) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__} does not implement icdf")

    def entropy(self) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__} does not implement entropy")

    def perplexity(self) -> Tensor:
        """exp(entropy)."""
        return self.entropy().exp()

    def enumerate_support(self, expand: bool = True) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__} does not implement enumerate_support")

    # ------------------------------------------------------------ validation
    def _value(self, value, dtype=None) -> Tensor:
        """``value`` as a Tensor (numbers and arrays converted), checked when validating."""
        if not isinstance(value, Tensor):
            value = as_float_tensor(value, dtype)
        if self._validate_args:
            self._validate_sample(value)
        return value

    def _validate_sample(self, value: Tensor) -> None:
        shape, event = tuple(value.shape), self._event_shape
        if shape[len(shape) - len(event) :] != event or len(shape) < len(event):
            raise ValueError(
                f"The right-most size of value must match event_shape: {shape} vs {event}."
            )
        expected = self._batch_shape + event
        for i, j in zip(reversed(shape), reversed(expected)):
            if i != 1 and j != 1 and i != j:
                raise ValueError(
                    f"Value is not broadcastable with batch_shape+event_shape: {shape} vs"
                    f" {expected}."
                )
        support = self.support
        if not xp.all(support.check(value)):
            raise ValueError(
                f"Expected value argument ({type(value).__name__} of shape {shape}) to be"
                f" within the support ({support!r}) of the distribution {self!r}, but found"
                f" invalid values:\n{value}"
            )

    def __repr__(self) -> str:
        try:
            names = [k for k in self.arg_constraints if k in self.__dict__]
        except NotImplementedError:
            names = []
        parts = []
        for k in names:
            v = self.__dict__[k]
            shown = v.array.reshape(()).item() if v.numel() == 1 else tuple(v.shape)
            parts.append(f"{k}: {shown}")
        return f"{type(self).__name__}({', '.join(parts)})"
