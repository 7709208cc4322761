"""NumPy's floating-point errors, handled as torch handles them (re-exported by backend.py).

torch computes ±inf and nan silently where NumPy warns at each (overflow, divide by zero,
invalid value): a warnings filter ignores those raised in ember's own code (the warning's
module), at no cost per op, while the user's own NumPy calls still warn. ``errstate`` silences
them around one computation (on the GPU CuPy never warns: a context that does nothing), and
``cast`` changes a dtype without them, as torch's casts do.
"""

from __future__ import annotations

import warnings

import numpy

from .backend import ON_GPU

warnings.filterwarnings(
    "ignore",
    message=r"(overflow|divide by zero|invalid value|underflow) encountered",
    category=RuntimeWarning,
    module=r"ember(\.|$)",
)


def errstate(**kwargs):
    """numpy.errstate on the CPU; on the GPU CuPy never warns about floating-point errors, so
    a context that does nothing."""
    return _NoErrors() if ON_GPU else numpy.errstate(**kwargs)


def cast(a, dtype):
    """a.astype(dtype), silent as torch's casts where a value does not fit: a float past the
    target's range becomes ±inf, a NaN or ±inf made an integer is what the hardware gives;
    NumPy would warn (overflow or invalid value encountered in cast)."""
    dtype = numpy.dtype(dtype)
    if a.dtype.kind == "c" and dtype.kind != "c":  # torch's UserWarning, not NumPy's own class
        warnings.warn(
            "Casting complex values to real discards the imaginary part", UserWarning, stacklevel=3
        )
        a = a.real
    if a.dtype.kind in "fc" and (dtype.kind in "biu" or dtype.itemsize < a.dtype.itemsize):
        with errstate(over="ignore", invalid="ignore"):
            return a.astype(dtype)
    return a.astype(dtype)


class _NoErrors:
    def __enter__(self):
        return self

    def __exit__(self, *exc) -> bool:
        return False
