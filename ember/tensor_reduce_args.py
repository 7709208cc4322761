"""How the Tensor reductions read their dim and dtype arguments, as torch's do.

``dim`` is torch's name and ``axis`` NumPy's (both taken); an empty tuple or list of dims
reduces every dim, as torch reads it (NumPy would reduce none); max/min/argmax/argmin take one
int dim. Used by tensor_methods.py.
"""

from __future__ import annotations

from .backend import xp
from .promotion import torch_dtype_name


def _mean_cast(t, dtype):
    """t cast to mean's ``dtype``, which torch wants floating or complex."""
    if xp.dtype(dtype).kind not in "fc":
        raise RuntimeError(
            "mean(): could not infer output dtype. Optional dtype must be either a floating point"
            f" or complex dtype. Got: {torch_dtype_name(xp.dtype(dtype))}"
        )
    return t.astype(dtype)


def _ax(axis, dim):
    """The dims of a reduction: ``dim`` (torch's name) or ``axis`` (NumPy's); an empty tuple or
    list means every dim, as torch's reductions read it."""
    d = dim if dim is not None else axis
    return None if isinstance(d, (tuple, list)) and not d else d


def _one_ax(name: str, axis, dim):
    """The one dim of argmax/argmin: a tuple or list is torch's TypeError (and NumPy's)."""
    d = dim if dim is not None else axis
    if isinstance(d, (tuple, list)):
        raise TypeError(f"{name}(): argument 'dim' must be int, not {type(d).__name__}")
    return d
