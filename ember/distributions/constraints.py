"""Constraints: the sets a parameter or a value must lie in (torch.distributions.constraints).

``constraint.check(value)`` returns a boolean array, one entry per sample and batch element
(event dims reduced: a simplex is checked per vector). Distributions list them in
``arg_constraints`` (parameters, checked at construction) and ``support`` (values, checked by
``log_prob``/``cdf`` when ``validate_args``).
"""

from __future__ import annotations

from ..backend import xp
from ..tensor import as_array

__all__ = [
    "Constraint",
    "boolean",
    "dependent",
    "dependent_property",
    "greater_than",
    "greater_than_eq",
    "half_open_interval",
    "independent",
    "integer_interval",
    "interval",
    "is_dependent",
    "less_than",
    "lower_cholesky",
    "nonnegative",
    "nonnegative_integer",
    "one_hot",
    "positive",
    "positive_definite",
    "real",
    "real_vector",
    "simplex",
    "unit_interval",
]


class Constraint:
    """A region of the real numbers; ``event_dim`` dims make up one checked element."""

    is_discrete = False
    event_dim = 0

    def check(self, value):  # pragma: no cover - abstract
        raise NotImplementedError

    def __repr__(self) -> str:
        return type(self).__name__.lstrip("_") + "()"


def _bound(b):
    a = as_array(b)
    return a.item() if a.size == 1 else a


class _Dependent(Constraint):
    """A constraint that depends on other parameters: not checked (torch's ``dependent``)."""

    def __init__(self, *, is_discrete=NotImplemented, event_dim=NotImplemented):
        self._is_discrete, self._event_dim = is_discrete, event_dim

    @property
    def is_discrete(self) -> bool:
        """As given; not given, unknown: NotImplementedError, as torch's."""
        if self._is_discrete is NotImplemented:
            raise NotImplementedError(".is_discrete cannot be determined statically")
        return self._is_discrete

    @property
    def event_dim(self) -> int:
        """As given; not given, unknown: NotImplementedError, as torch's."""
        if self._event_dim is NotImplemented:
            raise NotImplementedError(".event_dim cannot be determined statically")
        return self._event_dim

    def __call__(self, *, is_discrete=NotImplemented, event_dim=NotImplemented):
        if is_discrete is NotImplemented:
            is_discrete = self._is_discrete
        if event_dim is NotImplemented:
            event_dim = self._event_dim
        return _Dependent(is_discrete=is_discrete, event_dim=event_dim)

    def check(self, value):
        raise ValueError("cannot determine validity of a dependent constraint")


def is_dependent(constraint) -> bool:
    return isinstance(constraint, _Dependent)


class dependent_property(property):  # noqa: N801 - torch's name
    """A property whose value is a constraint computed from the parameters (a support)."""

    def __init__(self, fget=None, *, is_discrete=False, event_dim=0):
        super().__init__(fget)
        self.is_discrete, self.event_dim = is_discrete, event_dim

    def __call__(self, fget):  # used as @dependent_property(is_discrete=…, event_dim=…)
        return dependent_property(fget, is_discrete=self.is_discrete, event_dim=self.event_dim)


class _Real(Constraint):
    def check(self, value):
        v = as_array(value)
        return v == v  # False for NaN only


class _Boolean(Constraint):
    is_discrete = True

    def check(self, value):
        v = as_array(value)
        return (v == 0) | (v == 1)


class _OneHot(Constraint):
    is_discrete, event_dim = True, 1

    def check(self, value):
        v = as_array(value)
        return ((v == 0) | (v == 1)).all(-1) & (v.sum(-1) == 1)


class _IntegerInterval(Constraint):
    is_discrete = True

    def __init__(self, lower_bound, upper_bound):
        self.lower_bound, self.upper_bound = lower_bound, upper_bound

    def check(self, value):
        v = as_array(value)
        return (v % 1 == 0) & (v >= self.lower_bound) & (v <= self.upper_bound)

    def __repr__(self) -> str:
        return (
            f"IntegerInterval(lower_bound={_bound(self.lower_bound)},"
            f" upper_bound={_bound(self.upper_bound)})"
        )


class _IntegerGreaterThan(Constraint):
    is_discrete = True

    def __init__(self, lower_bound):
        self.lower_bound = lower_bound

    def check(self, value):
        v = as_array(value)
        return (v % 1 == 0) & (v >= self.lower_bound)

    def __repr__(self) -> str:
        return f"IntegerGreaterThan(lower_bound={_bound(self.lower_bound)})"


class _GreaterThan(Constraint):
    def __init__(self, lower_bound):
        self.lower_bound = lower_bound

    def check(self, value):
        return as_array(value) > as_array(self.lower_bound)

    def __repr__(self) -> str:
        return f"GreaterThan(lower_bound={_bound(self.lower_bound)})"


class _GreaterThanEq(_GreaterThan):
    def check(self, value):
        return as_array(value) >= as_array(self.lower_bound)

    def __repr__(self) -> str:
        return f"GreaterThanEq(lower_bound={_bound(self.lower_bound)})"


class _LessThan(Constraint):
    def __init__(self, upper_bound):
        self.upper_bound = upper_bound

    def check(self, value):
        return as_array(value) < as_array(self.upper_bound)

    def __repr__(self) -> str:
        return f"LessThan(upper_bound={_bound(self.upper_bound)})"


class _Interval(Constraint):
    """lower_bound ≤ value ≤ upper_bound."""

    def __init__(self, lower_bound, upper_bound):
        self.lower_bound, self.upper_bound = lower_bound, upper_bound

    def check(self, value):
        v = as_array(value)
        return (as_array(self.lower_bound) <= v) & (v <= as_array(self.upper_bound))

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__.lstrip('_')}(lower_bound={_bound(self.lower_bound)},"
            f" upper_bound={_bound(self.upper_bound)})"
        )


class _HalfOpenInterval(_Interval):
    """lower_bound ≤ value < upper_bound."""

    def check(self, value):
        v = as_array(value)
        return (as_array(self.lower_bound) <= v) & (v < as_array(self.upper_bound))


class _Independent(Constraint):
    """``base`` checked elementwise, then all of the rightmost ``reinterpreted_batch_ndims``
    dims together (one event)."""

    def __init__(self, base_constraint, reinterpreted_batch_ndims: int):
        self.base_constraint = base_constraint
        self.reinterpreted_batch_ndims = reinterpreted_batch_ndims

    is_discrete = property(lambda self: self.base_constraint.is_discrete)
    event_dim = property(lambda self: self.base_constraint.event_dim + self._n)
    _n = property(lambda self: self.reinterpreted_batch_ndims)

    def check(self, value):
        ok = self.base_constraint.check(value)
        n = self.reinterpreted_batch_ndims
        if n:
            if ok.ndim < n:
                raise ValueError(f"expected value to have at least {self.event_dim} dims")
            ok = ok.reshape(ok.shape[: ok.ndim - n] + (-1,)).all(-1)
        return ok

    def __repr__(self) -> str:
        return f"IndependentConstraint({self.base_constraint!r}, {self.reinterpreted_batch_ndims})"


class _Simplex(Constraint):
    """Non-negative vectors summing to 1 (within 1e-6)."""

    event_dim = 1

    def check(self, value):
        v = as_array(value)
        return (v >= 0).all(-1) & (abs(v.sum(-1) - 1) < 1e-6)


class _LowerCholesky(Constraint):
    """Lower-triangular matrices with a positive diagonal."""

    event_dim = 2

    def check(self, value):
        v = as_array(value)
        lower = (xp.tril(v) == v).reshape(v.shape[:-2] + (-1,)).all(-1)
        return lower & (xp.diagonal(v, axis1=-2, axis2=-1) > 0).all(-1)


class _PositiveDefinite(Constraint):
    """Symmetric matrices (within 1e-6) whose eigenvalues are all positive."""

    event_dim = 2

    def check(self, value):
        v = as_array(value)
        if v.ndim >= 2 and v.shape[-1] != v.shape[-2]:  # not square: not positive definite
            return xp.zeros(v.shape[:-2], dtype=bool)
        sym = (abs(v - v.swapaxes(-1, -2)) <= 1e-6).reshape(v.shape[:-2] + (-1,)).all(-1)
        if not sym.all():
            return sym
        return xp.linalg.eigvalsh(v).min(-1) > 0


dependent = _Dependent()
real = _Real()
real_vector = _Independent(real, 1)
boolean = _Boolean()
one_hot = _OneHot()
nonnegative_integer = _IntegerGreaterThan(0)
integer_interval = _IntegerInterval
greater_than = _GreaterThan
greater_than_eq = _GreaterThanEq
less_than = _LessThan
positive = _GreaterThan(0.0)
nonnegative = _GreaterThanEq(0.0)
interval = _Interval
half_open_interval = _HalfOpenInterval
unit_interval = _Interval(0.0, 1.0)
independent = _Independent
simplex = _Simplex()
lower_cholesky = _LowerCholesky()
positive_definite = _PositiveDefinite()

# the rest of torch's constraints live in constraints_more.py (it imports the classes above)
from . import constraints_more  # noqa: E402
from .constraints_more import *  # noqa: E402, F403 - its __all__, added to ours below

__all__ += constraints_more.__all__
