"""PyTorch's Tensor comparisons, logic and in-place writes (split from tensor_torch.py).

``TorchLogicMethods`` is a mixin that ``TorchTensorMethods`` (tensor_torch.py) inherits, so
``Tensor`` has these methods as before; it inherits the arithmetic methods of
``TorchArithMethods`` (tensor_torch_arith.py) in turn. The comparisons record no graph (their
results are bool tensors or Python bools); clamp_ records one as every in-place method does
(tensor_inplace.py), and the random fills refuse a tensor that requires grad while grad mode
is on.

``Tensor`` and ``as_array`` are bound as this module's globals by tensor.py (see the note at
the end of tensor.py).
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING

from . import backend
from .autograd_saved_writes import note_tensor_write
from .backend import xp
from .function import broadcast_error, dual_levels, is_grad_enabled, observers
from .function import is_numpy_broadcast_error as _unbroadcast
from .ops import compare as CO
from .ops import reduce as R
from .ops import rounding as RO
from .ops.complex_refuse import refuse_complex
from .promotion import compared
from .random_fill_checks import check_bernoulli_p, check_normal, check_uniform_bounds
from .tensor_inplace_forms import _writeable, needs_grad
from .tensor_methods import TensorMethods, _t
from .tensor_torch_arith import TorchArithMethods

if TYPE_CHECKING:  # bound at import time by tensor.py
    from .tensor import Tensor, apply, as_array  # noqa: F401


# the complex dtypes, either byte order: a set lookup is the cheapest dtype test (~30 ns)
_COMPLEX = frozenset(xp.dtype(c).newbyteorder(o) for c in "FDG" for o in "<>")
_REAL_SCALARS = frozenset((int, float, bool))


def _refuse(x: Tensor, o, name: str) -> None:
    """torch's NotImplementedError when either operand is complex (a number in x's precision,
    as torch promotes it: float32 < 1j names complex64)."""
    refuse_complex(x.array, name, NotImplementedError)
    refuse_complex(_t(o, x).array, name, NotImplementedError)


def _named_compare(x: Tensor, other, name: str, operator) -> Tensor:
    """x.eq(other) / x.ne(other): the operator's result, or torch's TypeError where the
    operator would return NotImplemented (None, a string, a list)."""
    result = operator(x, other)
    if result is NotImplemented:
        raise TypeError(
            f"{name}() received an invalid combination of arguments - got"
            f" ({type(other).__name__}), but expected a Tensor or a number"
        )
    return result


class CompareTensorMethods:
    """The ordering operators <, <=, >, >=: bool results, no gradient, a tensor or a number on
    the other side. Complex numbers have no order: torch refuses them ("lt_cpu" not implemented
    for 'ComplexFloat', on either side), where NumPy would compare lexicographically; so does
    ember, at the cost of one set lookup of each operand's dtype. Tensor lists this mixin before
    ``TensorMethods`` (whose __eq__/__ne__ stay, equality being defined for complex numbers).
    While an observer watches (the ONNX tracer), each runs as its op (ops/compare.py)."""

    __slots__ = ()

    def _order(self, o, op, name: str, cls) -> Tensor:
        a = self.array
        if isinstance(o, Tensor):
            b = o.array
            if a.dtype in _COMPLEX or b.dtype in _COMPLEX:
                _refuse(self, o, name)
        else:
            b = backend.python_scalar(o)  # a NumPy scalar is a weak number too, as in torch
            if a.dtype in _COMPLEX or type(b) not in _REAL_SCALARS:  # (a list: its dtype)
                _refuse(self, o, name)
        if type(b) is not float or a.dtype.kind != "f":  # (x > 0.5 on floats: as it is)
            a, b = compared(a, b)  # in torch's result dtype, not NumPy's wider one
        try:
            if observers:  # the ONNX tracer and the profiler see the op; it is never recorded
                return apply(cls, a, b)
            return Tensor(op(a, b))
        except ValueError as e:  # NumPy's broadcast error: torch's RuntimeError, with shapes
            raise broadcast_error(name, (a, b)) if _unbroadcast(e) else e from None

    def __lt__(self, o):
        return self._order(o, xp.less, "lt", CO.Less)

    def __le__(self, o):
        return self._order(o, xp.less_equal, "le", CO.LessEqual)

    def __gt__(self, o):
        return self._order(o, xp.greater, "gt", CO.Greater)

    def __ge__(self, o):
        return self._order(o, xp.greater_equal, "ge", CO.GreaterEqual)


class TorchLogicMethods(TorchArithMethods):
    """Comparisons, logic and in-place writes under torch's names; see the module docstring."""

    __slots__ = ()

    # ------------------------------------------------------------ comparisons and logic
    # torch's names for the comparison operators: bool results, no gradient, tensor or number
    def eq(self, other) -> Tensor:
        """self == other elementwise; other a tensor or a number (else torch's TypeError)."""
        return _named_compare(self, other, "eq", TensorMethods.__eq__)

    def ne(self, other) -> Tensor:
        """self != other elementwise; other a tensor or a number (else torch's TypeError)."""
        return _named_compare(self, other, "ne", TensorMethods.__ne__)

    lt, le = CompareTensorMethods.__lt__, CompareTensorMethods.__le__
    gt, ge = CompareTensorMethods.__gt__, CompareTensorMethods.__ge__

    # (each runs as its op of ops/compare.py while an observer watches, straight on the array
    # otherwise)
    def isnan(self) -> Tensor:
        """True where self is nan."""
        return apply(CO.IsNaN, self.array) if observers else Tensor(xp.isnan(self.array))

    def isinf(self) -> Tensor:
        """True where self is ±inf."""
        return apply(CO.IsInf, self.array) if observers else Tensor(xp.isinf(self.array))

    def isfinite(self) -> Tensor:
        """True where self is neither nan nor ±inf."""
        return apply(CO.IsFinite, self.array) if observers else Tensor(xp.isfinite(self.array))

    def logical_and(self, other) -> Tensor:
        """Elementwise AND of the truth values."""
        return logic(CO.LogicalAnd, self.array, as_array(other))

    def logical_or(self, other) -> Tensor:
        """Elementwise OR of the truth values."""
        return logic(CO.LogicalOr, self.array, as_array(other))

    def logical_not(self) -> Tensor:
        """Elementwise NOT of the truth values."""
        return logic(CO.LogicalNot, self.array)

    def all(self, dim=None, keepdim: bool = False) -> Tensor:
        """Whether every element (along ``dim``) is nonzero (bool; uint8 for uint8, as torch)."""
        dim = _truth_dims(dim, self.ndim)
        if observers:  # an op (ops/rounding.py) that the ONNX tracer sees
            return apply(RO.All, self.array, dim=dim, keepdim=keepdim)
        return Tensor(RO.truth_reduce(True, self.array, dim, keepdim))

    def any(self, dim=None, keepdim: bool = False) -> Tensor:
        """Whether some element (along ``dim``) is nonzero (bool; uint8 for uint8, as torch)."""
        dim = _truth_dims(dim, self.ndim)
        if observers:
            return apply(RO.Any, self.array, dim=dim, keepdim=keepdim)
        return Tensor(RO.truth_reduce(False, self.array, dim, keepdim))

    def allclose(self, other, rtol: float = 1e-05, atol: float = 1e-08, equal_nan=False) -> bool:
        """|self - other| ≤ atol + rtol·|other| everywhere (a Python bool)."""
        return bool(xp.allclose(self.array, as_array(other), rtol, atol, equal_nan))

    # ------------------------------------------------------------ in place
    def clamp_(self, min=None, max=None) -> Tensor:  # noqa: A002 - torch's argument names
        """Clip self into [min, max] in place; returns self."""
        if min is None and max is None:
            raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
        return self._arith_("clamp_", lambda s: s.clamp(min, max))

    clip_ = clamp_

    def uniform_(self, a: float = 0.0, b: float = 1.0, *, generator=None) -> Tensor:
        """Fill with draws from U(a, b); returns self (a floating or complex tensor, as torch)."""
        check_uniform_bounds(self.array, a, b)
        self._inplace("uniform_")
        gen = backend.generator_or_default(generator)
        self._check_writeable("uniform_")  # torch's RuntimeError for shared memory
        self.array[...] = gen.uniform(a, b, self.array.shape, self.array.dtype)
        note_tensor_write(self)
        return self

    def normal_(self, mean: float = 0.0, std: float = 1.0, *, generator=None) -> Tensor:
        """Fill with draws from N(mean, std²); returns self. A complex tensor gets both parts
        from N(mean, std²/2), as torch; an integer or bool tensor is refused, as torch."""
        check_normal(self.array, std)
        self._inplace("normal_")
        gen = backend.generator_or_default(generator)
        self._check_writeable("normal_")  # torch's RuntimeError for shared memory
        self.array[...] = gen.normal(mean, std, self.array.shape, self.array.dtype)
        note_tensor_write(self)
        return self

    def bernoulli_(self, p: float = 0.5, *, generator=None) -> Tensor:
        """Fill with 1 with probability p, else 0; returns self (p checked as torch checks
        it: random_fill_checks.check_bernoulli_p)."""
        if isinstance(p, Tensor):
            p = p.item() if p.ndim == 0 else p.array
        check_bernoulli_p(p)
        self._inplace("bernoulli_")
        if self.array.size == 0:  # torch fills nothing and checks a tensor p no further
            return self
        check_bernoulli_p(p, self.array)
        u = backend.generator_or_default(generator).random(self.array.shape, xp.float64)
        self._check_writeable("bernoulli_")  # torch's RuntimeError for shared memory
        self.array[...] = u < p
        note_tensor_write(self)
        return self

    def masked_fill_(self, mask, value) -> Tensor:
        """torch.Tensor.masked_fill_: ``value`` where ``mask`` is True (recorded where a
        gradient is needed, as every in-place method). Into memory that several elements share
        (a plain expanded tensor) only the masked places are written, with torch's
        deprecation warning."""
        plain = not (is_grad_enabled() and (self.requires_grad or needs_grad(value)))
        if plain and not dual_levels and not _writeable(self.array):
            target = self._writable("masked_fill_", overlap_ok=True)
            cond, v = self._masked_fill_args(mask, value)  # with torch's checks
            warnings.warn(
                "Use of masked_fill_ on expanded tensors is deprecated. Please clone() the"
                " tensor before performing this operation. This also applies to advanced"
                " indexing e.g. tensor[mask] = scalar",
                UserWarning,
                stacklevel=2,
            )
            target[xp.broadcast_to(cond, target.shape)] = v.array
            note_tensor_write(self)
            return self
        return self._arith_("masked_fill_", lambda s: s.masked_fill(mask, value))

    def fill_diagonal_(self, fill_value, wrap: bool = False) -> Tensor:
        """torch.Tensor.fill_diagonal_: the main diagonal (all indices equal) set to
        ``fill_value``; for a tall matrix with ``wrap``, it starts again every N+1 rows."""
        if self.ndim < 2 or (self.ndim > 2 and len(set(self.shape)) != 1):
            raise RuntimeError(
                "fill_diagonal_(): all dimensions of input must be of equal length (or the"
                f" input 2-D), got shape {list(self.shape)}"
            )
        mask = xp.zeros(self.array.size, dtype=bool)
        if self.ndim == 2:
            rows, cols = self.shape
            step, end = cols + 1, None if wrap else min(rows, cols) * cols
        else:
            step, end = sum(self.shape[0] ** k for k in range(self.ndim)), None
        mask[:end:step] = True
        mask = mask.reshape(self.shape)
        return self._arith_("fill_diagonal_", lambda s: s.masked_fill(mask, fill_value))


def logic(cls, *arrays) -> Tensor:
    """``cls.fn(*arrays)`` (ops/compare.py) as a Tensor: through ``apply`` while an observer
    watches (the ONNX tracer sees the op; it is never recorded), else straight on the arrays."""
    try:
        if observers:
            return apply(cls, *arrays)
        return Tensor(cls.fn(*arrays))
    except ValueError as e:  # NumPy's broadcast error: torch's RuntimeError, with shapes
        name = "".join("_" + c.lower() if c.isupper() else c for c in cls.__name__)[1:]
        raise broadcast_error(name, arrays) if _unbroadcast(e) else e from None


def _truth_dims(dim, ndim: int):
    """all/any's dim checked as torch's (a dim named twice: its RuntimeError, not NumPy's
    ValueError); a 0-d tensor takes dim 0 or −1 and keeps its one element (NumPy's AxisError)."""
    if dim is None:
        return None
    axes = R.normalize_axis(tuple(dim) if isinstance(dim, list) else dim, ndim)
    if ndim == 0:
        return None
    return axes if isinstance(dim, (tuple, list)) else axes[0]
