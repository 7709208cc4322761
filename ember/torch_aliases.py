"""ember.* functions for torch's aliases, predicates and small conveniences (concat, greater,
less_equal, absolute, fix, fliplr, ravel, tile, broadcast_tensors, allclose, equal, argwhere,
fmax, isposinf, logspace, rsub, promote_types, result_type, can_cast …), as torch's top-level
functions; ``__all__`` lists them. Most call the Tensor methods of tensor_aliases.py, so the
method and the function are one implementation.
"""

from __future__ import annotations

import builtins

from . import backend, promotion
from .backend import xp
from .functional.shape import cat
from .memory_formats import preserve_format
from .ops.index_put import broadcast_shape
from .scalar_fits import check_scalar_fits
from .size import Size
from .tensor import Tensor
from .tensor_aliases import require_tensor, torch_dtype_name
from .tensor_methods import _t as _operand

__all__ = [
    "concat",
    "concatenate",
    "greater",
    "greater_equal",
    "less",
    "less_equal",
    "not_equal",
    "absolute",
    "positive",
    "fix",
    "fliplr",
    "flipud",
    "ravel",
    "tile",
    "unflatten",
    "broadcast_tensors",
    "broadcast_shapes",
    "unravel_index",
    "detach",
    "clone",
    "allclose",
    "equal",
    "argwhere",
    "isneginf",
    "isposinf",
    "fmax",
    "fmin",
    "nextafter",
    "logspace",
    "rsub",
    "promote_types",
    "result_type",
    "can_cast",
    "bitwise_left_shift",
    "bitwise_right_shift",
]


def _t(input) -> Tensor:  # noqa: A002 - torch's argument name
    return input if isinstance(input, Tensor) else Tensor(xp.asarray(input))


# ------------------------------------------------------------ concatenation
def concat(tensors, dim: int = 0) -> Tensor:
    """torch.concat: alias of cat."""
    return cat(tensors, dim)


def concatenate(tensors, axis: int = 0) -> Tensor:
    """torch.concatenate: alias of cat."""
    return cat(tensors, axis)


# ------------------------------------------------------------ comparisons
def greater(input, other) -> Tensor:  # noqa: A002
    """torch.greater: alias of gt."""
    return _t(input).greater(other)


def greater_equal(input, other) -> Tensor:  # noqa: A002
    """torch.greater_equal: alias of ge."""
    return _t(input).greater_equal(other)


def less(input, other) -> Tensor:  # noqa: A002
    """torch.less: alias of lt."""
    return _t(input).less(other)


def less_equal(input, other) -> Tensor:  # noqa: A002
    """torch.less_equal: alias of le."""
    return _t(input).less_equal(other)


def not_equal(input, other) -> Tensor:  # noqa: A002
    """torch.not_equal: alias of ne."""
    return _t(input).not_equal(other)


def equal(input, other) -> bool:  # noqa: A002
    """torch.equal: same shape and same values (a Python bool)."""
    require_tensor("equal", input, "input", 1)
    require_tensor("equal", other, "other", 2)
    return input.equal(other)


def allclose(
    input,  # noqa: A002
    other,
    rtol: float = 1e-05,
    atol: float = 1e-08,
    equal_nan: bool = False,
) -> bool:
    """torch.allclose: |input - other| ≤ atol + rtol·|other| everywhere (a Python bool)."""
    require_tensor("allclose", input, "input", 1)
    require_tensor("allclose", other, "other", 2)
    a, b = input.array, other.array
    if a.dtype != b.dtype:
        raise RuntimeError(f"{torch_dtype_name(a.dtype)} did not match {torch_dtype_name(b.dtype)}")
    broadcast_shape(tuple(a.shape), tuple(b.shape))
    return bool(xp.allclose(a, b, rtol, atol, equal_nan))


# ------------------------------------------------------------ sign, rounding, extrema
def absolute(input) -> Tensor:  # noqa: A002
    """torch.absolute: alias of abs."""
    return _t(input).absolute()


def positive(input) -> Tensor:  # noqa: A002
    """torch.positive: input itself (a bool tensor is refused)."""
    return _t(input).positive()


def fix(input) -> Tensor:  # noqa: A002
    """torch.fix: alias of trunc."""
    return _t(input).fix()


def fmax(input, other) -> Tensor:  # noqa: A002
    """torch.fmax: the larger of two, ignoring a NaN where one operand is NaN."""
    require_tensor("fmax", input, "input", 1)
    require_tensor("fmax", other, "other", 2)
    return input.fmax(other)


def fmin(input, other) -> Tensor:  # noqa: A002
    """torch.fmin: the smaller of two, ignoring a NaN where one operand is NaN."""
    require_tensor("fmin", input, "input", 1)
    require_tensor("fmin", other, "other", 2)
    return input.fmin(other)


def nextafter(input, other) -> Tensor:  # noqa: A002
    """torch.nextafter: the next float after input towards other (gradient 1 w.r.t. input)."""
    require_tensor("nextafter", input, "input", 1)
    require_tensor("nextafter", other, "other", 2)
    return input.nextafter(other)


def rsub(input, other, *, alpha=1) -> Tensor:  # noqa: A002
    """torch.rsub: other - alpha·input."""
    x = _t(input)
    if x.array.dtype == xp.bool_ and isinstance(other, Tensor) and other.array.dtype == xp.bool_:
        raise RuntimeError(
            "Subtraction, the `-` operator, with two bool tensors is not supported. Use the `^`"
            " or `logical_xor()` operator instead."
        )
    return _operand(other, x).sub(x, alpha=alpha)


def isneginf(input) -> Tensor:  # noqa: A002
    """torch.isneginf: whether each element is -inf (bool)."""
    return _t(input).isneginf()


def isposinf(input) -> Tensor:  # noqa: A002
    """torch.isposinf: whether each element is +inf (bool)."""
    return _t(input).isposinf()


def argwhere(input) -> Tensor:  # noqa: A002
    """torch.argwhere: the indices of the nonzero elements, one row each (int64)."""
    return _t(input).argwhere()


def bitwise_left_shift(input, other) -> Tensor:  # noqa: A002
    """torch.bitwise_left_shift: input << other (integers)."""
    if not isinstance(input, Tensor):
        input = Tensor(xp.asarray(input, dtype=_scalar_dtype(input)))  # noqa: A001
    return input.bitwise_left_shift(other)


def bitwise_right_shift(input, other) -> Tensor:  # noqa: A002
    """torch.bitwise_right_shift: input >> other (integers, arithmetic)."""
    if not isinstance(input, Tensor):
        input = Tensor(xp.asarray(input, dtype=_scalar_dtype(input)))  # noqa: A001
    return input.bitwise_right_shift(other)


# ------------------------------------------------------------ shapes
def fliplr(input) -> Tensor:  # noqa: A002
    """torch.fliplr: flip along dim 1 (a tensor of ≥ 2 dims)."""
    return _t(input).fliplr()


def flipud(input) -> Tensor:  # noqa: A002
    """torch.flipud: flip along dim 0 (a tensor of ≥ 1 dim)."""
    return _t(input).flipud()


def ravel(input) -> Tensor:  # noqa: A002
    """torch.ravel: the elements as a 1-D tensor."""
    return _t(input).ravel()


def tile(input, dims) -> Tensor:  # noqa: A002
    """torch.tile: repeat input dims times, dims padded with leading ones."""
    return _t(input).tile(tuple(dims))


def unflatten(input, dim: int, sizes) -> Tensor:  # noqa: A002
    """torch.unflatten: split dim into sizes."""
    return _t(input).unflatten(dim, sizes)


def detach(input) -> Tensor:  # noqa: A002
    """torch.detach: input cut from the graph (shares its data)."""
    return input.detach()


def clone(input, *, memory_format=preserve_format) -> Tensor:  # noqa: A002
    """torch.clone: a copy of input that autograd differentiates through, laid out in
    ``memory_format`` (by default as input is; see Tensor.clone)."""
    return input.clone(memory_format=memory_format)


def broadcast_tensors(*tensors) -> tuple:
    """torch.broadcast_tensors: each tensor expanded to their common broadcast shape."""
    for i, x in enumerate(tensors):
        if not isinstance(x, Tensor):
            raise TypeError(
                f"expected Tensor as element {i} in argument 0, but got {type(x).__name__}"
            )
    shape: tuple = ()
    for x in tensors:
        shape = broadcast_shape(shape, tuple(x.shape))
    return tuple(x if tuple(x.shape) == shape else x.expand(*shape) for x in tensors)


def broadcast_shapes(*shapes) -> Size:
    """torch.broadcast_shapes: the shape tensors of these shapes broadcast to (an ember.Size)."""
    shapes = [(s,) if isinstance(s, int) else tuple(s) for s in shapes]
    if any(d < 0 for s in shapes for d in s):
        raise ValueError("Attempting to broadcast a dimension with negative length!")
    out = [1] * builtins.max((len(s) for s in shapes), default=0)
    for k, s in enumerate(shapes):
        for i in range(1, len(s) + 1):
            if s[-i] == 1 or s[-i] == out[-i]:
                continue
            if out[-i] != 1:
                raise RuntimeError(
                    f"Attempting to broadcast a dimension of length {s[-i]} at {-i}! Mismatching"
                    f" argument at index {k} had {s}; but expected shape should be broadcastable"
                    f" to {out}"
                )
            out[-i] = s[-i]
    return Size(out)


def unravel_index(indices, shape) -> tuple:
    """torch.unravel_index: flat indices as a tuple of int64 coordinate tensors into shape."""
    idx = _t(indices)
    if idx.array.dtype.kind not in "iu":
        raise TypeError(f"expected 'indices' to be integer dtype, but got torch.{idx.array.dtype}")
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    if any(d < 0 for d in shape):
        raise ValueError(f"'shape' cannot have negative values, but got {shape}")
    if 0 in shape:
        raise RuntimeError("ZeroDivisionError")
    sizes = xp.asarray(shape, dtype=xp.int64)
    coefs = xp.cumprod(xp.asarray((shape + (1,))[:0:-1], dtype=xp.int64))[::-1]
    a = idx.array.astype(xp.int64)[..., None]
    coords = (a // coefs) % sizes
    return tuple(Tensor(coords[..., i]) for i in range(len(shape)))


# ------------------------------------------------------------ creation
def logspace(
    start, end, steps: int, base: float = 10.0, *, dtype=None, device=None, requires_grad=False
) -> Tensor:
    """torch.logspace: steps values base**t for t evenly spaced from start to end."""
    backend.check_device(device)
    if steps < 0:
        raise RuntimeError("number of steps must be non-negative")
    start, end = (float(v.item()) if isinstance(v, Tensor) else v for v in (start, end))
    dt = xp.dtype(backend.DEFAULT_DTYPE if dtype is None else dtype)
    if dt.kind in "iub":  # torch takes integer ends for an integer dtype, then truncates
        for v in (start, end) if steps else ():  # refused where they do not fit, as torch
            check_scalar_fits(v, dt)  # (−0.5 into uint8)
        if steps != 1:  # one step is base**start with start as given (torch's fill)
            start, end = int(start), int(end)
    t = xp.linspace(start, end, steps, dtype=xp.float64)
    with backend.errstate(over="ignore", invalid="ignore"):  # too large: inf, as torch
        if dt.kind in "fc":  # the powers in the dtype itself, as torch computes them
            values = xp.power(xp.asarray(base, dtype=dt), t.astype(dt))
        else:
            values = xp.trunc(xp.power(xp.float64(base), t))
        return Tensor(values.astype(dt), requires_grad=requires_grad)


# ------------------------------------------------------------ dtype rules
def _is_complex(dt) -> bool:
    return dt is not None and dt.kind == "c"


def _is_float(dt) -> bool:
    return dt is not None and dt.kind == "f"


def promote_types(type1, type2):
    """torch.promote_types: the smallest dtype both dtypes convert to without losing category."""
    a, b = xp.dtype(type1), xp.dtype(type2)
    out = xp.dtype(promotion.promote_types(a, b))
    if out.kind == "c" and xp.dtype(xp.float64) in (a, b):  # complex meeting float64: complex128
        out = xp.dtype(xp.complex128)
    return out


def _scalar_dtype(value):
    if isinstance(value, bool):
        return xp.dtype(xp.bool_)
    if isinstance(value, int):
        return xp.dtype(xp.int64)
    if isinstance(value, float):
        return xp.dtype(backend.DEFAULT_DTYPE)
    if isinstance(value, complex):
        return xp.dtype(xp.complex128 if backend.DEFAULT_DTYPE == xp.float64 else xp.complex64)
    raise TypeError(
        f"result_type() received an invalid combination of arguments - got"
        f" ({type(value).__name__}), but expected a Tensor or a Number"
    )


def _combine(higher, lower):
    """torch's combine_categories: a lower-priority group's dtype only raises the category."""
    if _is_complex(higher):
        return higher
    if _is_complex(lower):
        if _is_float(higher):  # torch's toComplexType(higher)
            return xp.dtype(xp.complex128 if higher == xp.float64 else xp.complex64)
        return lower
    if _is_float(higher):
        return higher
    if higher is not None and (higher == xp.bool_ or _is_float(lower)):
        return higher if lower is None else promote_types(higher, lower)
    return higher if higher is not None else lower


def result_type(tensor1, tensor2):
    """torch.result_type: the dtype arithmetic on the two operands gives (tensors with dims
    rank over 0-dim tensors, which rank over Python numbers, within a category)."""
    groups = [None, None, None]  # dimensioned tensors, 0-dim tensors, Python numbers
    for v in (tensor1, tensor2):
        if isinstance(v, Tensor):
            g, dt = (0 if v.ndim else 1), v.array.dtype
        else:
            g, dt = 2, _scalar_dtype(v)
        groups[g] = dt if groups[g] is None else promote_types(groups[g], dt)
    return _combine(groups[0], _combine(groups[1], groups[2]))


def can_cast(from_, to) -> bool:
    """torch.can_cast: whether torch's casting rules allow from_ to to (no lower category)."""
    a, b = xp.dtype(from_), xp.dtype(to)
    if a.kind == "c" and b.kind != "c":
        return False
    if a.kind == "f" and b.kind in "iub":
        return False
    return not (a.kind != "b" and b.kind == "b")
