"""Index and scan functions as torch's: F.gather, F.sort, F.cumsum, … (ember.gather too).

Each one is the Tensor method of the same name (tensor_index.py), taking the tensor first;
an input that is not a Tensor (an array or a list) is taken as a constant tensor.
"""

from __future__ import annotations

from .. import backend
from ..errors import InputError, KernelTypeError
from ..tensor import Tensor


def _t(input) -> Tensor:  # noqa: A002 - torch's argument name
    return input if isinstance(input, Tensor) else Tensor(input)


def gather(input, dim, index, *, sparse_grad=False) -> Tensor:  # noqa: A002
    """out[i][j] = input[index[i][j]][j] for dim 0; the gradient adds over repeated indices."""
    return _t(input).gather(dim, index, sparse_grad=sparse_grad)


def scatter(input, dim, index, src=None, *, value=None, reduce=None) -> Tensor:  # noqa: A002
    """A copy of input with out[index[i][j]][j] = src[i][j] (or value) for dim 0 (reduce:
    'add' or 'multiply' combines them in)."""
    return _t(input).scatter(dim, index, src, value=value, reduce=reduce)


def scatter_add(input, dim, index, src) -> Tensor:  # noqa: A002
    """A copy of input with out[index[i][j]][j] += src[i][j] for dim 0."""
    return _t(input).scatter_add(dim, index, src)


def index_select(input, dim, index) -> Tensor:  # noqa: A002
    return _t(input).index_select(dim, index)


def index_add(input, dim, index, source, *, alpha=1) -> Tensor:  # noqa: A002
    """A copy of input with out[…, index[i], …] += alpha·source[…, i, …] along dim."""
    return _t(input).index_add(dim, index, source, alpha=alpha)


def index_copy(input, dim, index, source) -> Tensor:  # noqa: A002
    """A copy of input with out[…, index[i], …] = source[…, i, …] along dim."""
    return _t(input).index_copy(dim, index, source)


def index_fill(input, dim, index, value) -> Tensor:  # noqa: A002
    """A copy of input with the slices index[i] along dim set to value."""
    return _t(input).index_fill(dim, index, value)


def scatter_reduce(input, dim, index, src, reduce, *, include_self=True) -> Tensor:  # noqa: A002
    """A copy of input with src combined in at index by 'sum', 'prod', 'mean', 'amax', 'amin'."""
    return _t(input).scatter_reduce(dim, index, src, reduce, include_self=include_self)


def take_along_dim(input, indices, dim=None) -> Tensor:  # noqa: A002
    """input gathered at indices along dim (broadcast apart from dim); flattened for None."""
    return _t(input).take_along_dim(indices, dim)


def masked_select(input, mask) -> Tensor:  # noqa: A002
    return _t(input).masked_select(mask)


def cumsum(input, dim, *, dtype=None) -> Tensor:  # noqa: A002
    return _t(input).cumsum(dim, dtype=dtype)


def cumprod(input, dim, *, dtype=None) -> Tensor:  # noqa: A002
    return _t(input).cumprod(dim, dtype=dtype)


def prod(input, dim=None, keepdim=False, *, dtype=None) -> Tensor:  # noqa: A002
    return _t(input).prod(dim, keepdim, dtype=dtype)


def sort(input, dim=-1, descending=False, stable=False):  # noqa: A002
    return _t(input).sort(dim, descending, stable)


def argsort(input, dim=-1, descending=False, *, stable=False) -> Tensor:  # noqa: A002
    return _t(input).argsort(dim, descending)


def topk(input, k, dim=-1, largest=True, sorted=True):  # noqa: A002
    return _t(input).topk(k, dim, largest, sorted)


def norm(input, p="fro", dim=None, keepdim=False, dtype=None) -> Tensor:  # noqa: A002
    return _t(input).norm(p, dim, keepdim, dtype)


def repeat_interleave(input, repeats=None, dim=None, *, output_size=None) -> Tensor:  # noqa: A002
    """Each element (slice along dim) of input repeated ``repeats`` times; with input alone,
    torch's one-argument form: input holds the counts, and the result repeats 0, 1, 2, … by
    them (torch.repeat_interleave(tensor([1, 2])) = tensor([0, 1, 1]))."""
    if repeats is None:
        counts = _t(input)
        if counts.ndim != 1:
            raise InputError(
                "repeat_interleave only accept 1D vector as repeat: repeat_interleave(repeats)"
                f" got repeats of shape {tuple(counts.shape)}"
            )
        if counts.dtype.kind not in "iu":  # torch's NotImplementedError, ember's TypeError
            raise KernelTypeError(
                f'"repeat_interleave_cpu" not implemented for {counts.dtype}: repeats must be'
                " integers"
            )
        positions = Tensor(backend.xp.arange(counts.shape[0], dtype=counts.dtype))
        return positions.repeat_interleave(counts, 0, output_size=output_size)
    return _t(input).repeat_interleave(repeats, dim, output_size=output_size)


def nonzero(input, as_tuple=False):  # noqa: A002
    return _t(input).nonzero(as_tuple)


def unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None):  # noqa: A002
    return _t(input).unique(sorted, return_inverse, return_counts, dim)
