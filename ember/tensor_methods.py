"""Tensor's operators and the methods that run ops: the surface of ``Tensor``.

``TensorMethods`` is a mixin that ``Tensor`` (tensor.py) inherits: arithmetic and its
reflected forms, matmul, comparisons, elementwise maths, reductions and indexing (the shape
methods it inherits from tensor_shape_methods.py); most are one ``apply`` of a primitive op
from ``ember.ops``. An inherited method costs what it cost when it was written in Tensor's
own body (operator slots are inherited at class creation, method look-ups go through the
type's cache). The class core (data, grad, conversions, ``backward``), ``apply`` and
``as_array`` live in tensor.py.

The methods make their results with ``Tensor``, ``apply`` and ``as_array`` from tensor.py.
tensor.py imports this module to inherit from it, so this module cannot import them back
without an import cycle; tensor.py binds them as this module's globals right after it
defines Tensor (the imports below are for readers and type checkers only).
"""

from __future__ import annotations

import warnings
from collections import namedtuple
from typing import TYPE_CHECKING

from .autograd_inference import after_op, inference_watch
from .backend import EQ_OPERANDS, xp
from .backend import python_scalar as _py
from .errors import InputError
from .function import broadcast_error, is_grad_enabled, observers
from .function import is_numpy_broadcast_error as _unbroadcast
from .mixed_dtypes import check_one_dtype
from .ops import argindex as AI
from .ops import compare as CO
from .ops import elementwise as E
from .ops import elementwise_more as M
from .ops import index as I
from .ops import linalg as L
from .ops import reduce as R
from .ops import shape as S
from .promotion import compared, torch_dtype_name
from .promotion import wrap_int_scalar as _int_c  # torch's wrap of out-of-range ints
from .scalar_fits import check_scalar_fits
from .tensor_memory_aliases import NOTED, note_plain_view
from .tensor_operands import (  # noqa: F401 - re-exported: the mixins import them from here
    _float_operands,
    _floating,
    _for_scalar,
    _in_result_dtype,
    _promoted,
    _t,
)
from .tensor_reduce_args import _ax, _mean_cast, _one_ax
from .tensor_shape_methods import ShapeTensorMethods

if TYPE_CHECKING:  # bound at import time by tensor.py; see above
    from .tensor import Tensor, apply

_Number = (int, float)

#: What x.max(dim) and x.min(dim) return, named as torch.return_types.
MaxResult = namedtuple("max", ["values", "indices"])
MinResult = namedtuple("min", ["values", "indices"])


class TensorMethods(ShapeTensorMethods):
    """Operators and op-running methods of ``Tensor``; see the module docstring."""

    __slots__ = ()  # Tensor's instances keep no __dict__

    # ------------------------------------------------------------ arithmetic
    # Mixed dtypes follow torch, not NumPy (promotion.py): an integer meeting a float takes
    # the float's dtype, or the default float dtype where the float is a Python number.
    def __add__(self, other):
        other = _py(other)  # a NumPy scalar is the number it holds, as torch takes it
        if isinstance(other, _Number):
            return apply(E.AddScalar, _for_scalar(self, other), c=_int_c(self.array.dtype, other))
        return apply(E.Add, *_promoted(self, _t(other, self)))

    __radd__ = __add__

    def __sub__(self, other):
        if self.array.dtype.kind == "b" or _is_bool(other):
            _refuse_bool_sub(self, other)  # torch refuses a bool operand (NumPy does not)
        other = _py(other)
        if isinstance(other, _Number) and not (self.array.dtype.kind == "u" and type(other) is int):
            # (uint8 - 3 is not uint8 + (-3), which NumPy cannot hold: Sub takes it)
            return apply(E.AddScalar, _for_scalar(self, other), c=_int_c(self.array.dtype, -other))
        return apply(E.Sub, *_promoted(self, _t(other, self)))

    def __rsub__(self, other):
        if self.array.dtype.kind == "b" or _is_bool(other):
            _refuse_bool_sub(self, other)
        other = _py(other)
        if isinstance(other, _Number):
            return apply(E.RSubScalar, _for_scalar(self, other), c=_int_c(self.array.dtype, other))
        return apply(E.Sub, *_promoted(_t(other, self), self))

    def __mul__(self, other):
        other = _py(other)
        if isinstance(other, _Number):
            return apply(E.MulScalar, _for_scalar(self, other), c=_int_c(self.array.dtype, other))
        return apply(E.Mul, *_promoted(self, _t(other, self)))

    __rmul__ = __mul__

    def __truediv__(self, other):  # true division: integers divide as floats, as in torch
        other = _py(other)
        if isinstance(other, _Number):
            return apply(E.DivScalar, _floating(self), c=other)
        return apply(E.Div, *_float_operands(self, _t(other, self)))

    def __rtruediv__(self, other):  # torch's: reciprocal(self)·other, in that one's dtype too
        other = _py(other)
        if isinstance(other, _Number):
            return apply(E.RDivScalar, _floating(self), c=other)
        if isinstance(other, Tensor):  # (an int32 self with a 0-d float64 other: float32)
            return self.reciprocal() * other
        return apply(E.Div, *_float_operands(_t(other, self), self))

    def __pow__(self, other):
        other = _py(other)
        if isinstance(other, _Number):
            if self.array.dtype.kind == "b" and isinstance(other, int):  # NumPy gives int8
                y = apply(E.PowScalar, self.astype(xp.int64), c=int(other))
                return y.astype(xp.bool_) if isinstance(other, bool) else y  # torch's dtypes
            return apply(E.PowScalar, _for_scalar(self, other), c=other)
        return apply(E.Pow, *_promoted(self, _t(other, self)))

    def __rpow__(self, other):
        other = _py(other)
        if isinstance(other, _Number):
            return apply(E.RPowScalar, _for_scalar(self, other), c=_int_c(self.array.dtype, other))
        return apply(E.Pow, *_promoted(_t(other, self), self))

    def __neg__(self):
        return apply(E.Neg, self)

    def __abs__(self):  # abs(t), as torch
        return self.abs()

    def __pos__(self):
        return self

    def __matmul__(self, other):
        other = _t(other, self)
        a, b = self.array.shape, other.array.shape
        if not a or not b or a[-1] != (b[-2] if len(b) > 1 else b[0]):
            raise InputError(
                f"matmul: shapes {a} and {b} cannot be multiplied "
                f"(inner dimensions {a[-1] if a else '-'} and "
                f"{(b[-2] if len(b) > 1 else b[0]) if b else '-'} differ)"
            )
        if self.array.dtype != other.array.dtype:
            check_one_dtype("matmul", self.array, other.array)
        return apply(L.MatMul, self, other)

    def __rmatmul__(self, other):
        return _t(other, self).__matmul__(self)

    # comparisons: no gradient, boolean result; an op (ops/compare.py) while an observer watches
    def _cmp(self, other, op, cls):
        a, b = compared(self.array, other.array if isinstance(other, Tensor) else _py(other))
        try:
            return apply(cls, a, b) if observers else Tensor(op(a, b))
        except ValueError as e:  # NumPy's broadcast error: torch's RuntimeError, with shapes
            raise broadcast_error(op.__name__, (a, b)) if _unbroadcast(e) else e from None

    # <, <=, >, >= are CompareTensorMethods' (tensor_torch_logic.py): they refuse complex

    # == and != take a tensor or a number; anything else (None, a string, a list) is
    # NotImplemented, as in torch, so Python falls back to identity: t == None is False and
    # ``if mask != None`` is True, not an elementwise tensor that bool() would refuse
    def __eq__(self, o):
        if not isinstance(o, Tensor) and not isinstance(o, EQ_OPERANDS):
            return NotImplemented
        return self._cmp(o, xp.equal, CO.Equal)

    def __ne__(self, o):
        if not isinstance(o, Tensor) and not isinstance(o, EQ_OPERANDS):
            return NotImplemented
        return self._cmp(o, xp.not_equal, CO.NotEqual)

    __hash__ = object.__hash__  # defining __eq__ would otherwise make tensors unhashable

    # ------------------------------------------------------------ maths
    def exp(self):
        return apply(E.Exp, _floating(self))

    def log(self):
        return apply(E.Log, _floating(self))

    def log1p(self):
        return apply(E.Log1p, _floating(self))

    def expm1(self):
        return apply(E.Expm1, _floating(self))

    def sqrt(self):
        return apply(E.Sqrt, _floating(self))

    def abs(self):
        return apply(E.Abs, self)

    def sin(self):
        return apply(E.Sin, _floating(self))

    def cos(self):
        return apply(E.Cos, _floating(self))

    def tanh(self):
        return apply(E.Tanh, _floating(self))

    def sigmoid(self):
        return apply(E.Sigmoid, _floating(self))

    def relu(self):
        return apply(E.ReLU, self)

    def clip(self, min=None, max=None):  # noqa: A002 - torch's argument names
        min, max = _scalar_bounds(min, max)  # noqa: A001
        if self.array.dtype.kind == "b" and _is_bool(min) and _is_bool(max):  # torch: no kernel
            raise E.not_implemented_for("clamp_cpu", self.array.dtype)  # for bool in both bounds
        if isinstance(min, Tensor) or isinstance(max, Tensor):  # bounds with gradients
            ts = (None if b is None else _t(b, self) for b in (self, min, max))
            return apply(M.ClampTensor, *_in_result_dtype(*ts))
        if min is None and max is None:
            raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
        min, max = _py(min), _py(max)  # noqa: A001 - NumPy scalars as the numbers they hold
        x = self
        if x.array.dtype.kind in "iub" and any(type(b) is float for b in (min, max)):
            x = _floating(x)  # integers with float bounds: the default float, as torch
        elif x.array.dtype.kind in "iu":  # int bounds as torch converts them (uint8: -3 is 253)
            min, max = (b if b is None else check_scalar_fits(b, x.array.dtype) for b in (min, max))
        return apply(E.Clip, x, lo=min, hi=max)

    clamp = clip

    def maximum(self, other):
        return apply(E.Maximum, *_promoted(self, _t(other, self)))

    def minimum(self, other):
        return apply(E.Minimum, *_promoted(self, _t(other, self)))

    def softmax(self, dim, dtype=None):  # dim required, as torch's; dtype: the input cast first
        return apply(R.Softmax, self if dtype is None else self.astype(dtype), axis=dim)

    def log_softmax(self, dim, dtype=None):
        return apply(R.LogSoftmax, self if dtype is None else self.astype(dtype), axis=dim)

    # ------------------------------------------------------------ reductions
    # ``axis`` as in NumPy; ``dim`` accepted as torch's name for it. ``dtype`` as torch's: the
    # input cast to it first (so an integer tensor can have a floating mean). An empty tuple or
    # list of dims reduces every dim, as torch's (NumPy's would reduce none): ember's own code
    # that computes its axes skips the reduction itself when there are none.
    def sum(self, axis=None, keepdims=False, *, dim=None, keepdim=None, dtype=None):
        if dtype is not None:  # the sum in dtype (NumPy would widen int32 to int64)
            return self.astype(dtype).sum(axis, keepdims, dim=dim, keepdim=keepdim).astype(dtype)
        if self.array.dtype.kind in "bu":  # torch sums bool and unsigned into int64 (NumPy:
            return self.astype(xp.int64).sum(axis, keepdims, dim=dim, keepdim=keepdim)  # uint64)
        return apply(R.Sum, self, axis=_ax(axis, dim), keepdims=keepdims or bool(keepdim))

    def mean(self, axis=None, keepdims=False, *, dim=None, keepdim=None, dtype=None):
        """The mean over ``axis``; as torch, only of a floating or complex tensor, or with a
        floating (complex) ``dtype`` to cast to first: ``i.mean(dtype=ember.float32)``."""
        x = self if dtype is None else _mean_cast(self, dtype)
        if x.array.dtype.kind not in "fc":  # torch infers no dtype for an integer mean
            raise RuntimeError(
                "mean(): could not infer output dtype. Input dtype must be either a floating"
                f" point or complex dtype. Got: {torch_dtype_name(x.array.dtype)}"
            )
        return apply(R.Mean, x, axis=_ax(axis, dim), keepdims=keepdims or bool(keepdim))

    # var/std take torch's positional order (dim, unbiased, keepdim): x.std(0, False) is the
    # biased std along dim 0, and x.std(False) the biased std of every element
    def var(self, dim=None, unbiased=None, keepdim=None, *, correction=None, **numpy_names):
        return self._spread(R.Var, dim, unbiased, keepdim, correction, **numpy_names)

    def std(self, dim=None, unbiased=None, keepdim=None, *, correction=None, **numpy_names):
        return self._spread(R.Std, dim, unbiased, keepdim, correction, **numpy_names)

    def _spread(self, op, dim, unbiased, keepdim, correction, axis=None, keepdims=False):
        if dim.__class__ is bool:  # torch's std(unbiased) overload
            dim, unbiased = None, dim
        if unbiased is not None and correction is not None:  # no torch overload takes both
            raise TypeError(f"{op.__name__.lower()}() takes unbiased or correction, not both")
        if self.array.dtype.kind not in "fc":  # torch: no integer variance
            raise RuntimeError("std and var only support floating point and complex dtypes")
        if correction is None:
            correction = 1 if unbiased is None else int(unbiased)
        keep = keepdims or bool(keepdim)
        return apply(op, self, axis=_ax(axis, dim), keepdims=keep, correction=correction)

    def logsumexp(self, axis=None, keepdims=False, *, dim=None, keepdim=None):
        """log Σ exp over ``axis``; integers and bools in the default float, as torch."""
        x = _floating(self)
        return apply(R.LogSumExp, x, axis=_ax(axis, dim), keepdims=keepdims or bool(keepdim))

    def max(self, dim=None, keepdim=False, *, axis=None, keepdims=False):
        """torch's ``x.max()``, ``x.max(dim)`` → (values, indices), ``x.max(other)``; NumPy's
        ``axis=``/``keepdims=`` keywords give the values alone."""
        return self._extreme(R.Max, MaxResult, dim, keepdim, axis, keepdims)

    def min(self, dim=None, keepdim=False, *, axis=None, keepdims=False):
        return self._extreme(R.Min, MinResult, dim, keepdim, axis, keepdims)

    def _extreme(self, op, result, dim, keepdim, axis, keepdims):
        if isinstance(dim, Tensor):  # x.max(other): the elementwise maximum (minimum)
            return self.maximum(dim) if op is R.Max else self.minimum(dim)
        if isinstance(dim, (tuple, list)):  # torch's dim is one int (amax takes several)
            raise TypeError(
                f"{op.pick}(): argument 'dim' must be int, not {type(dim).__name__} (use"
                f" a{op.pick}(dim) to reduce several dims)"
            )
        keep = bool(keepdims or keepdim)
        if dim is None:  # NumPy's axis= (an int or a tuple): the values alone
            return apply(op, self, axis=_ax(axis, dim), keepdims=keep, nan_ties=True)
        AI.check_arg_reduction(self.array.shape, dim, op.pick)
        values, indices = apply(I.ExtremeAlong, self, dim=dim, keepdim=keep, largest=op is R.Max)
        return result(values, indices.detach())

    def argmax(self, axis=None, keepdims=False, *, dim=None, keepdim=None):
        """Index of the largest element along ``axis`` (torch's ``dim=``/``keepdim=`` too)."""
        return _arg_reduction(AI.ArgMax, self, _one_ax("argmax", axis, dim), keepdims or keepdim)

    def argmin(self, axis=None, keepdims=False, *, dim=None, keepdim=None):
        return _arg_reduction(AI.ArgMin, self, _one_ax("argmin", axis, dim), keepdims or keepdim)

    # ------------------------------------------------------------ indexing
    def __getitem__(self, index):
        index = _plain_index(index)
        if (not self.requires_grad or not is_grad_enabled()) and not observers:
            t = Tensor(S.take(self.array, index))  # no graph to record, no tracer to see it
            if self._ctx is not None or (NOTED and id(self) in NOTED):  # a graph tensor's
                note_plain_view(self, t)  # memory: its later in-place changes re-point t
            if inference_watch:  # apply's rule: a view is an inference tensor as its base
                after_op(S.GetItem, (self,), False, (t,), True)
            return t
        return apply(S.GetItem, self, index=index)

    def __iter__(self):
        return (self[i] for i in range(len(self)))


def _scalar_bounds(lo, hi):
    """clamp's bounds as torch's overloads take them: a number with a tensor picks its number
    overload, where a 0-d tensor bound is the number it holds (so int32 x clamped to
    (0, tensor(0.5, float64)) is float32, with no gradient to the bound); a tensor of more
    dims with a number is its TypeError."""
    bounds = (lo, hi)
    if not any(isinstance(b, Tensor) for b in bounds) or all(
        b is None or isinstance(b, Tensor) for b in bounds
    ):
        return lo, hi
    if any(isinstance(b, Tensor) and b.ndim for b in bounds):
        raise TypeError(
            "clamp(): the bounds must be both numbers or both tensors, got a number and a"
            " tensor of more than 0 dims"
        )
    return tuple(b.item() if isinstance(b, Tensor) else b for b in bounds)


def _is_bool(other) -> bool:
    """A Python bool or a bool tensor: what torch's subtraction refuses."""
    return other.__class__ is bool or (isinstance(other, Tensor) and other.array.dtype.kind == "b")


def _refuse_bool_sub(a: Tensor, other) -> None:
    both = a.array.dtype.kind == "b" and isinstance(other, Tensor) and _is_bool(other)
    raise RuntimeError(E.SUB_TWO_BOOLS if both else E.SUB_BOOL)


def _plain_index(index):
    if isinstance(index, Tensor):
        return _index_array(index)
    if isinstance(index, tuple):
        return tuple(_index_array(i) if isinstance(i, Tensor) else i for i in index)
    if isinstance(index, list):
        return xp.asarray(index)
    if isinstance(index, str):  # torch's TypeError (NumPy's IndexError would come through)
        raise TypeError(
            f"a tensor cannot be indexed by a string ({index!r}); index with ints, slices,"
            " None, ... or integer/bool tensors"
        )
    return index


def _index_array(t: Tensor):
    """A tensor index as an array: a uint8 tensor is a mask, as torch still reads it (with its
    deprecation warning), not integer positions."""
    a = t.array
    if a.dtype == xp.uint8:
        warnings.warn(
            "indexing with dtype torch.uint8 is now deprecated, please use a dtype torch.bool"
            " instead.",
            UserWarning,
            stacklevel=4,
        )
        return a.astype(bool)
    return a


def _arg_reduction(op, x: Tensor, axis, keep) -> Tensor:
    """argmax / argmin (ops/argindex.py), never recorded: through ``apply`` while an observer
    watches (so the ONNX tracer and the profiler see the op), else straight on the array."""
    if x.array.dtype.kind == "b":
        raise RuntimeError(f"{op.__name__.lower()}(): does not support bool input")
    keep = bool(keep)  # axis None: every dim kept as 1, as torch
    if observers:
        return apply(op, x.array, axis=axis, keepdims=keep)
    return Tensor(op().forward(x.array, axis=axis, keepdims=keep))
