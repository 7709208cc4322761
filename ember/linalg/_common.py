"""Input checks shared by ember.linalg's functions, with torch's error types (RuntimeError) and
messages that name the offending shape."""

from __future__ import annotations

from ..backend import xp
from ..errors import KernelTypeError
from ..tensor import Tensor


def as_tensor(a) -> Tensor:
    """``a`` as a Tensor, of any dtype."""
    return a if isinstance(a, Tensor) else Tensor(a)


#: The functions of this package that torch computes in float16 too (no LAPACK call).
_HALF_OK = frozenset({"linalg.multi_dot", "linalg.vecdot", "linalg.norm", "linalg.vector_norm",
                      "linalg.matrix_norm", "linalg.matrix_power"})  # fmt: skip
#: The ones torch computes for integer tensors too (products only).
_INT_OK = frozenset({"linalg.multi_dot"})


def tensor(name: str, a) -> Tensor:
    """``a`` as a Tensor of a floating or complex dtype. Others are refused as torch refuses
    them: an integer or bool tensor with a NotImplementedError (a RuntimeError, which torch
    raises for some of these functions and ember raised for all), float16 where torch's
    LAPACK kernels have no half version with a KernelTypeError (also the TypeError NumPy's
    linalg raised)."""
    t = a if isinstance(a, Tensor) else Tensor(a)
    if t.dtype.kind not in "fc" and not (name in _INT_OK and t.dtype.kind in "iu"):
        raise NotImplementedError(
            f"{name}: Expected a floating point tensor as input. Got {t.dtype} (shape {t.shape})"
        )
    if t.dtype.name == "float16" and name not in _HALF_OK:
        raise KernelTypeError(
            f"{name}: torch's linalg kernels have no float16 version (got shape {t.shape});"
            " convert with .float()"
        )
    return t


def matrices(name: str, a, arg: str = "A") -> Tensor:
    """A float Tensor of shape (*, m, n)."""
    t = tensor(name, a)
    if t.ndim < 2:
        raise RuntimeError(
            f"{name}: The input tensor {arg} must have at least 2 dimensions, got shape {t.shape}."
        )
    return t


def square(name: str, a, arg: str = "A") -> Tensor:
    """A float Tensor of shape (*, n, n)."""
    t = matrices(name, a, arg)
    m, n = t.shape[-2:]
    if m != n:
        raise RuntimeError(
            f"{name}: {arg} must be batches of square matrices, but they are {m} by {n} matrices"
            f" (shape {t.shape})"
        )
    return t


def same_dtype(name: str, a: Tensor, b: Tensor) -> None:
    if a.dtype != b.dtype:
        raise RuntimeError(
            f"{name}: Expected A and B to have the same dtype, but found A of type {a.dtype}"
            f" and B of type {b.dtype} instead"
        )


def batch_shape(name: str, a: Tensor, b: Tensor, a_rows: int, b_rows: int, what: str) -> None:
    """Check that the rows match and that the batch dims broadcast."""
    if a_rows != b_rows:
        raise RuntimeError(
            f"{name}: Incompatible shapes of A and B for the equation {what}"
            f" ({a.shape} and {b.shape})"
        )
    try:
        xp.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    except ValueError:
        raise RuntimeError(
            f"{name}: the batch dimensions of A {a.shape} and B {b.shape} do not broadcast"
        ) from None


def is_vector_rhs(a: Tensor, b: Tensor) -> bool:
    """torch's rule for B in solve/lstsq: a vector (batch) when B is 1-D, or (*, n) with A of
    shape (*, n, n), i.e. B.shape == A.shape[:-1]."""
    return b.ndim == 1 or (b.ndim == a.ndim - 1 and b.shape == a.shape[:-1])


def real_dtype(like: Tensor):
    """A's dtype, or for a complex A the float dtype of its precision (that of σ and |λ|)."""
    return xp.empty((), like.dtype).real.dtype


def tolerance(value, like: Tensor):
    """atol / rtol (None, a number or a Tensor) as an array of A's real dtype, or None."""
    if value is None:
        return None
    a = value.array if isinstance(value, Tensor) else xp.asarray(value)
    return a.astype(real_dtype(like))
