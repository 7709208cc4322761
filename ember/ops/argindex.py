"""Index-valued ops: argmax, argmin (Tensor.argmax / argmin) and argsort.

An index has no gradient, so these are never recorded in the graph; they are ops so that the
observers of ``function.observers`` see them as any other op: the ONNX exporter writes them as
ArgMax / ArgMin / TopK nodes, the profiler times them. ``tensor_methods`` runs them through
``apply`` only while an observer is present, and calls ``forward`` directly otherwise.
"""

from __future__ import annotations

from ..backend import get_array_module
from ..errors import IndexInputError
from ..function import Function
from .complex_refuse import refuse_complex
from .index import check_dim, sort_indices


def check_arg_reduction(shape, axis, name: str) -> int | None:
    """``axis`` checked (torch's IndexError out of range; a 0-d tensor has dims 0 and −1) and
    made non-negative. argmax/argmin along an empty axis (or of an empty tensor, flattened)
    has no answer: torch's error, rather than NumPy's "attempt to get argmax of an empty
    sequence"."""
    if axis is None:
        if 0 in shape:
            raise IndexInputError(f"{name}(): the tensor of shape {tuple(shape)} is empty; give a"
                               " dim of non-zero size to reduce along")  # fmt: skip
        return None
    axis = check_dim(name, axis, len(shape))
    if shape and shape[axis] == 0:
        raise IndexInputError(f"{name}(): expected the reduced dim {axis} to have non-zero size,"
                           f" got a tensor of shape {tuple(shape)}")  # fmt: skip
    return axis


class ArgMax(Function):
    """i = argmax_axis x: the first index of the largest value along ``axis`` (of the flattened
    array when axis is None); no gradient."""

    def forward(self, x, axis=None, keepdims=False):
        return _arg_extreme(x, axis, keepdims, "argmax")

    def backward(self, gy):  # pragma: no cover - never recorded (an index)
        return (None,)


class ArgMin(ArgMax):
    """i = argmin_axis x: the first index of the smallest value; no gradient."""

    def forward(self, x, axis=None, keepdims=False):
        return _arg_extreme(x, axis, keepdims, "argmin")


def _arg_extreme(x, axis, keepdims: bool, name: str):
    """x.argmax / x.argmin along ``axis`` (None: flattened) as an int64 array; complex refused
    as torch refuses it (no order), a 0-d x has the index 0 along dims 0 and −1."""
    xp = get_array_module(x)
    refuse_complex(x, name)
    axis = check_arg_reduction(x.shape, axis, name)
    if x.ndim == 0:
        return xp.zeros((), dtype=xp.int64)
    i = getattr(x, name)(axis=axis, keepdims=keepdims)
    return i if axis is not None else xp.asarray(i)  # flat: a 0-d array


class ArgSort(Function):
    """The int64 indices that sort x along ``dim`` (stable, NaN last, as torch); no gradient."""

    def forward(self, x, dim=-1, descending=False):
        xp = get_array_module(x)
        axis = check_dim("argsort", dim, x.ndim)
        if x.ndim == 0:
            return xp.zeros((), dtype=xp.int64)
        return sort_indices(x, axis, descending).astype(xp.int64)

    def backward(self, gy):  # pragma: no cover - never recorded (an index)
        return (None,)
