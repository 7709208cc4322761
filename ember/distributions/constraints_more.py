"""The rest of torch.distributions.constraints: counts summing to at most n (Multinomial), the
mixture's support, triangular/square/symmetric/semidefinite and correlation-Cholesky matrices,
and the per-slice ``cat``/``stack`` constraints of CatTransform/StackTransform.

Each ``check`` returns a boolean array with the event dims reduced, as constraints.py's do;
``constraints`` re-exports every name here.
"""

from __future__ import annotations

from ..backend import xp
from ..tensor import as_array
from .constraints import Constraint, _IntegerGreaterThan, _LowerCholesky

__all__ = [
    "MixtureSameFamilyConstraint",
    "cat",
    "corr_cholesky",
    "lower_triangular",
    "multinomial",
    "positive_integer",
    "positive_semidefinite",
    "square",
    "stack",
    "symmetric",
]


def _all_last(ok, n: int):
    """ok reduced with `all` over its last n dims."""
    return ok.reshape(ok.shape[: ok.ndim - n] + (-1,)).all(-1) if n else ok


class _Multinomial(Constraint):
    """Non-negative integer counts with Σ ≤ upper_bound (torch checks ≤, not =: sample counts
    of a Multinomial with fewer trials are accepted too). The integer part is not checked,
    as torch does not check it."""

    is_discrete, event_dim = True, 1

    def __init__(self, upper_bound):
        self.upper_bound = upper_bound

    def check(self, value):
        v = as_array(value)
        return (v >= 0).all(-1) & (v.sum(-1) <= as_array(self.upper_bound))

    def __repr__(self) -> str:
        return "Multinomial()"


class MixtureSameFamilyConstraint(Constraint):
    """A mixture's value is valid when it is valid for every component: the value gets the
    component dim back (before its event dims), the base constraint checks it there, and that
    dim is reduced with `all`."""

    def __init__(self, base_constraint: Constraint):
        if not isinstance(base_constraint, Constraint):
            raise TypeError(f"base_constraint must be a Constraint, got {base_constraint!r}")
        self.base_constraint = base_constraint

    is_discrete = property(lambda self: self.base_constraint.is_discrete)
    event_dim = property(lambda self: self.base_constraint.event_dim)

    def check(self, value):
        v = as_array(value)
        if v.ndim < self.event_dim:
            raise ValueError(f"Expected value.dim() >= {self.event_dim} but got {v.ndim}")
        ok = as_array(self.base_constraint.check(xp.expand_dims(v, -1 - self.event_dim)))
        keep = v.ndim - self.event_dim
        return ok.reshape(ok.shape[:keep] + (-1,)).all(-1)

    def __repr__(self) -> str:
        return f"MixtureSameFamilyConstraint({self.base_constraint!r})"


class _LowerTriangular(Constraint):
    """Square matrices equal to their lower triangle."""

    event_dim = 2

    def check(self, value):
        v = as_array(value)
        return _all_last(xp.tril(v) == v, 2)


class _CorrCholesky(Constraint):
    """Lower Cholesky factors whose rows have unit Euclidean norm (within 10·n·eps, torch's
    tolerance): the Cholesky factors of correlation matrices."""

    event_dim = 2

    def check(self, value):
        v = as_array(value)
        tol = float(xp.finfo(v.dtype).eps) * v.shape[-1] * 10
        unit = (abs(xp.sqrt((v * v).sum(-1)) - 1.0) <= tol).all(-1)
        return _LowerCholesky().check(v) & unit


class _Square(Constraint):
    event_dim = 2

    def check(self, value):
        v = as_array(value)
        return xp.full(v.shape[:-2], v.shape[-2] == v.shape[-1], dtype=bool)


class _Symmetric(_Square):
    """Square and equal to the transpose within torch.isclose(atol=1e-6, rtol=1e-5)."""

    def check(self, value):
        square = super().check(value)
        if not square.all():
            return square
        v = as_array(value)
        return _all_last(xp.isclose(v, v.swapaxes(-1, -2), atol=1e-6), 2)


class _PositiveSemidefinite(_Symmetric):
    def check(self, value):
        sym = super().check(value)
        if not sym.all():
            return sym
        return (xp.linalg.eigvalsh(as_array(value)) >= 0).all(-1)


def _slice(v, dim: int, start: int, length: int):
    index = [slice(None)] * v.ndim
    index[dim] = slice(start, start + length)
    return v[tuple(index)]


class _Cat(Constraint):
    """``cseq[i]`` on the i-th block of ``lengths[i]`` entries along ``dim`` (torch.cat's
    layout; CatTransform's domain and codomain)."""

    def __init__(self, cseq, dim: int = 0, lengths=None):
        self.cseq = list(cseq)
        self.lengths = list(lengths) if lengths is not None else [1] * len(self.cseq)
        if len(self.lengths) != len(self.cseq):
            raise ValueError(f"{len(self.lengths)} lengths for {len(self.cseq)} constraints")
        self.dim = dim

    is_discrete = property(lambda self: any(c.is_discrete for c in self.cseq))
    event_dim = property(lambda self: max(c.event_dim for c in self.cseq))

    def check(self, value):
        v = as_array(value)
        start, checks = 0, []
        for c, n in zip(self.cseq, self.lengths):
            checks.append(as_array(c.check(_slice(v, self.dim, start, n))))
            start += n
        return xp.concatenate(checks, self.dim)


class _Stack(Constraint):
    """``cseq[i]`` on the i-th slice along ``dim`` (torch.stack's layout; StackTransform's
    domain and codomain)."""

    def __init__(self, cseq, dim: int = 0):
        self.cseq, self.dim = list(cseq), dim

    is_discrete = property(lambda self: any(c.is_discrete for c in self.cseq))

    @property
    def event_dim(self) -> int:
        d = max(c.event_dim for c in self.cseq)
        return d + 1 if self.dim + d < 0 else d

    def check(self, value):
        v = as_array(value)
        slices = [xp.take(v, i, axis=self.dim) for i in range(v.shape[self.dim])]
        return xp.stack([as_array(c.check(s)) for s, c in zip(slices, self.cseq)], self.dim)


multinomial = _Multinomial
positive_integer = _IntegerGreaterThan(1)
lower_triangular = _LowerTriangular()
corr_cholesky = _CorrCholesky()
square = _Square()
symmetric = _Symmetric()
positive_semidefinite = _PositiveSemidefinite()
cat = _Cat
stack = _Stack
