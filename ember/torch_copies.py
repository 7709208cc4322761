"""torch's remaining top-level functions: the ``*_copy`` forms of the views and the top-level
in-place forms (acosh_ … addmv_); torch_copies_more.py adds the flags and conveniences
(randint_like, empty_permuted, typename, anomaly and warn-always switches, DLPack, frombuffer …).
``__all__`` lists them all.

A ``X_copy(input, …)`` is torch's ``X(input, …)`` written into fresh row-major memory: the same
values, shape and dtype, never sharing memory with ``input``, so writing into one leaves the
other alone. Each is the ember view followed by a row-major clone (torch's copies are
row-major whatever the view's strides), so the gradient is the view's gradient: the copy's
gradient is 1.
"""

from __future__ import annotations

from . import promotion
from .backend import xp
from .memory_formats import contiguous_format
from .tensor import Tensor
from .tensor_aliases import require_tensor
from .tensor_stats_more import wrap_dim

__all__ = [
    "alias_copy",
    "as_strided_copy",
    "detach_copy",
    "diagonal_copy",
    "expand_copy",
    "permute_copy",
    "select_copy",
    "slice_copy",
    "split_copy",
    "split_with_sizes_copy",
    "squeeze_copy",
    "t_copy",
    "transpose_copy",
    "unbind_copy",
    "unfold_copy",
    "unsqueeze_copy",
    "view_copy",
    "view_as_real_copy",
    "view_as_complex_copy",
    "clamp_max_",
    "clamp_min_",
    "gcd_",
    "lcm_",
    "ldexp_",
    "fill_",
    "addmv_",
]


def _row_major(view: Tensor) -> Tensor:
    """A row-major copy of ``view``: torch's ``*_copy`` results are, whatever its strides."""
    return view.clone(memory_format=contiguous_format)


def _input(op: str, input) -> Tensor:  # noqa: A002 - torch's argument name
    require_tensor(op, input, "input")
    return input


def _size(op: str, size, name: str = "size") -> tuple:
    """An int list argument as a tuple, torch's TypeError for anything else (an int included)."""
    if not isinstance(size, (tuple, list)) or not all(isinstance(n, int) for n in size):
        raise TypeError(
            f"{op}(): argument '{name}' (position 2) must be tuple of ints, not"
            f" {type(size).__name__}"
        )
    return tuple(size)


# ------------------------------------------------------------ single-output copies
def alias_copy(input) -> Tensor:  # noqa: A002
    """torch.alias_copy: a copy of input (torch.alias is input itself, as a view)."""
    return _row_major(_input("alias_copy", input))


def detach_copy(input) -> Tensor:  # noqa: A002
    """torch.detach_copy: a copy of input outside the graph (requires_grad False)."""
    return _row_major(_input("detach_copy", input).detach())


def as_strided_copy(input, size, stride, storage_offset: int | None = None) -> Tensor:  # noqa: A002
    """torch.as_strided_copy: the elements as_strided(size, stride, storage_offset) reads,
    copied."""
    x = _input("as_strided_copy", input)
    return _row_major(x.as_strided(tuple(size), tuple(stride), storage_offset))


def diagonal_copy(input, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:  # noqa: A002
    """torch.diagonal_copy: the ``offset`` diagonal of the (dim1, dim2) planes, copied."""
    return _row_major(_input("diagonal_copy", input).diagonal(offset, dim1, dim2))


def expand_copy(input, size, *, implicit: bool = False) -> Tensor:  # noqa: A002
    """torch.expand_copy: input broadcast to ``size`` (−1 keeps a dim), materialised.
    ``implicit`` is torch's tracing flag and changes nothing."""
    x = _input("expand_copy", input)
    return _row_major(x.expand(*_size("expand_copy", size)))


def permute_copy(input, dims) -> Tensor:  # noqa: A002
    """torch.permute_copy: input with its dims reordered as ``dims``, copied."""
    x = _input("permute_copy", input)
    dims = _size("permute_copy", dims, "dims")
    if len(dims) != x.ndim:
        raise RuntimeError(
            "permute(sparse_coo): number of dimensions in the tensor input does not match the"
            " length of the desired ordering of dimensions i.e. input.dim() ="
            f" {x.ndim} is not equal to len(dims) = {len(dims)}"
        )
    return _row_major(x.permute(*dims))


def select_copy(input, dim: int, index: int) -> Tensor:  # noqa: A002
    """torch.select_copy: the slice at ``index`` along ``dim`` (that dim removed), copied."""
    return _row_major(_input("select_copy", input).select(dim, index))


def slice_copy(input, dim: int = 0, start: int | None = None, end: int | None = None,  # noqa: A002
               step: int = 1) -> Tensor:  # fmt: skip
    """torch.slice_copy: input[..., start:end:step, ...] along ``dim``, copied. Out-of-range
    bounds are clamped as in Python's slicing; step must be positive, as in torch."""
    x = _input("slice_copy", input)
    d = wrap_dim(dim, x.ndim)
    if step <= 0:
        raise RuntimeError("slice step must be positive")
    return _row_major(x[(slice(None),) * d + (slice(start, end, step),)])


def squeeze_copy(input, dim=None) -> Tensor:  # noqa: A002
    """torch.squeeze_copy: input without its size-1 dims (all, or those of ``dim``), copied."""
    x = _input("squeeze_copy", input)
    for d in (dim,) if isinstance(dim, int) else dim or ():
        wrap_dim(d, x.ndim)  # torch's IndexError for a dim out of range
    return _row_major(x.squeeze(dim))


def t_copy(input) -> Tensor:  # noqa: A002
    """torch.t_copy: the transpose of a matrix (a vector or scalar unchanged), copied."""
    return _row_major(_input("t_copy", input).t())


def transpose_copy(input, dim0: int, dim1: int) -> Tensor:  # noqa: A002
    """torch.transpose_copy: input with dims dim0 and dim1 swapped, copied."""
    return _row_major(_input("transpose_copy", input).transpose(dim0, dim1))


def unfold_copy(input, dimension: int, size: int, step: int) -> Tensor:  # noqa: A002
    """torch.unfold_copy: the windows of ``size`` elements, ``step`` apart, along
    ``dimension`` (a new last dim holds each window), copied."""
    return _row_major(_input("unfold_copy", input).unfold(dimension, size, step))


def unsqueeze_copy(input, dim: int) -> Tensor:  # noqa: A002
    """torch.unsqueeze_copy: input with a size-1 dim inserted at ``dim``, copied."""
    x = _input("unsqueeze_copy", input)
    return _row_major(x.unsqueeze(wrap_dim(dim, x.ndim + 1)))


def view_as_real_copy(input) -> Tensor:  # noqa: A002
    """torch.view_as_real_copy: a complex tensor as (…, 2) reals (real, imaginary), copied."""
    from .torch_math_complex import view_as_real

    return _row_major(view_as_real(_input("view_as_real_copy", input)))


def view_as_complex_copy(input) -> Tensor:  # noqa: A002
    """torch.view_as_complex_copy: (…, 2) reals as complex numbers re + i·im, copied."""
    from .torch_math_complex import view_as_complex

    return _row_major(view_as_complex(_input("view_as_complex_copy", input)))


def view_copy(input, size) -> Tensor:  # noqa: A002
    """torch.view_copy(input, size): input's elements in row-major order, reshaped to ``size``
    (one −1 inferred), copied. torch.view_copy(input, dtype): input's bytes read as ``dtype``;
    the last dim grows or shrinks by the ratio of the element sizes. The dtype form is not
    differentiable in torch (its result never requires grad), nor here."""
    x = _input("view_copy", input)
    if isinstance(size, (tuple, list)):
        n, known = x.numel(), [s for s in size if s != -1]
        prod = 1
        for s in known:
            prod *= s
        if (
            size.count(-1) > 1
            or any(s < -1 for s in size)
            or (prod != n if len(known) == len(size) else prod == 0 or n % prod)
        ):
            shape = ", ".join(str(s) for s in size)
            raise RuntimeError(f"shape '[{shape}]' is invalid for input of size {n}")
        return _row_major(x.view(tuple(size)))
    return _view_dtype(x, xp.dtype(size))


def _view_dtype(x: Tensor, dt) -> Tensor:
    """x's bytes as dtype ``dt``, with torch's conditions where the element size changes: the
    last dim must be contiguous and, going to a larger element, its size and the other strides
    divisible by the ratio (so that every new element lies inside one row)."""
    a, old = x.array, x.array.dtype
    if dt.itemsize != old.itemsize:
        big, small = max(dt.itemsize, old.itemsize), min(dt.itemsize, old.itemsize)
        ratio = big // small
        names = f"{promotion.torch_dtype_name(old)} as {promotion.torch_dtype_name(dt)}"
        where = f"to view {names} (different element sizes)"
        if a.ndim == 0:
            raise RuntimeError(f"self.dim() cannot be 0 {where}")
        if x.stride(-1) != 1:
            raise RuntimeError(f"self.stride(-1) must be 1 {where}, but got {x.stride(-1)}")
        if dt.itemsize > old.itemsize:
            if a.shape[-1] % ratio:
                raise RuntimeError(
                    f"self.size(-1) must be divisible by {ratio} {where}, but got {a.shape[-1]}"
                )
            if x.storage_offset() % ratio:
                raise RuntimeError(
                    f"self.storage_offset() must be divisible by {ratio} {where}, but got"
                    f" {x.storage_offset()}"
                )
            for i, s in enumerate(x.stride()[:-1]):
                if s % ratio:
                    raise RuntimeError(
                        f"self.stride({i}) must be divisible by {ratio} {where}, but got {s}"
                    )
    return Tensor(a.copy(order="C").view(dt))


# ------------------------------------------------------------ multi-output copies
def split_copy(input, split_size: int, dim: int = 0) -> tuple:  # noqa: A002
    """torch.split_copy: input cut along ``dim`` into pieces of ``split_size`` (the last may
    be shorter), each copied."""
    x = _input("split_copy", input)
    if not isinstance(split_size, int):
        raise TypeError(
            "split_copy(): argument 'split_size' (position 2) must be int, not"
            f" {type(split_size).__name__}"
        )
    return tuple(_row_major(p) for p in x.split(split_size, dim))


def split_with_sizes_copy(input, split_sizes, dim: int = 0) -> tuple:  # noqa: A002
    """torch.split_with_sizes_copy: input cut along ``dim`` into pieces of the given sizes
    (which must sum to that dim's size), each copied."""
    x = _input("split_with_sizes_copy", input)
    return tuple(_row_major(p) for p in x.split_with_sizes(list(split_sizes), dim))


def unbind_copy(input, dim: int = 0) -> tuple:  # noqa: A002
    """torch.unbind_copy: the slices along ``dim`` (that dim removed), each copied."""
    return tuple(_row_major(p) for p in _input("unbind_copy", input).unbind(dim))


# ------------------------------------------------------------ top-level in-place forms
def _inplace(name: str):
    """torch.<name>(input): Tensor.<name> on input (in place; returns input)."""

    def form(input) -> Tensor:  # noqa: A002
        return getattr(_input(name, input), name)()

    form.__name__ = form.__qualname__ = name
    form.__doc__ = f"torch.{name}: Tensor.{name} on input (in place; returns input)."
    return form


_UNARY_FORMS = (
    "acosh_ arccos_ arccosh_ arcsin_ arcsinh_ arctan_ arctanh_ asinh_ atanh_ erfc_ exp2_ i0_"
).split()
for _name in _UNARY_FORMS:
    globals()[_name] = _inplace(_name)
    __all__.append(_name)
del _name


def clamp_max_(input, max) -> Tensor:  # noqa: A002
    """torch.clamp_max_: input = min(input, max), in place; ``max`` a number or a tensor."""
    return _input("clamp_max_", input).clamp_max_(max)


def clamp_min_(input, min) -> Tensor:  # noqa: A002
    """torch.clamp_min_: input = max(input, min), in place; ``min`` a number or a tensor."""
    return _input("clamp_min_", input).clamp_min_(min)


def gcd_(input, other) -> Tensor:  # noqa: A002
    """torch.gcd_: input = gcd(input, other) elementwise, in place (integer dtypes)."""
    return _input("gcd_", input).gcd_(other)


def lcm_(input, other) -> Tensor:  # noqa: A002
    """torch.lcm_: input = lcm(input, other) elementwise, in place (integer dtypes)."""
    return _input("lcm_", input).lcm_(other)


def ldexp_(input, other) -> Tensor:  # noqa: A002
    """torch.ldexp_: input = input · 2^other, in place; ``other`` a tensor."""
    x = _input("ldexp_", input)
    require_tensor("ldexp_", other, "other", 2)
    return x.ldexp_(other)


def fill_(input, value) -> Tensor:  # noqa: A002
    """torch.fill_: every element of input set to ``value`` (a number or a 0-d tensor)."""
    return _input("fill_", input).fill_(value)


def addmv_(input, mat, vec, *, beta=1, alpha=1) -> Tensor:  # noqa: A002
    """torch.addmv_: input = β·input + α·(mat @ vec), in place."""
    return _input("addmv_", input).addmv_(mat, vec, beta=beta, alpha=alpha)


from . import torch_copies_more as _more  # noqa: E402 - after this module's names
from .torch_copies_more import *  # noqa: E402, F403 - randint_like … is_inference

__all__ += _more.__all__
