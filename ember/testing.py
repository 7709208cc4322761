"""ember.testing.assert_close: torch.testing.assert_close for ember tensors (and arrays, numbers).

    |actual − expected| ≤ atol + rtol·|expected|    elementwise

with torch's default tolerances for the dtype when none are given (float32: rtol 1.3e-6,
atol 1e-5; float64: 1e-7, 1e-7; integers and bools: exact). A failure says how many elements
are off, the largest absolute and relative differences and where they are, as torch does.
"""

from __future__ import annotations

from .backend import errstate, xp
from .tensor import Tensor

#: torch's defaults: (rtol, atol) by dtype name
_DEFAULT_TOLERANCES = {
    "float16": (1e-3, 1e-5),
    "float32": (1.3e-6, 1e-5),
    "float64": (1e-7, 1e-7),
    "complex64": (1.3e-6, 1e-5),
    "complex128": (1e-7, 1e-7),
}


def _array(x, name: str):
    if isinstance(x, Tensor):
        return x.array
    if isinstance(x, (int, float, bool, complex)) or hasattr(x, "__array__"):
        return xp.asarray(x)
    if isinstance(x, (list, tuple)):
        return xp.asarray(x)
    raise TypeError(f"assert_close: {name} must be a Tensor, an array or a number, got {type(x)}")


def assert_close(
    actual,
    expected,
    *,
    rtol: float | None = None,
    atol: float | None = None,
    equal_nan: bool = False,
    check_dtype: bool = True,
    msg: str | None = None,
) -> None:
    """Raise AssertionError unless ``actual`` and ``expected`` agree in shape, dtype (unless
    ``check_dtype=False``) and value within the tolerances."""
    if (rtol is None) != (atol is None):
        raise ValueError("assert_close: give both rtol and atol, or neither")
    a, e = _array(actual, "actual"), _array(expected, "expected")
    if a.shape != e.shape:
        raise AssertionError(
            msg or f"The values for attribute 'shape' do not match: {a.shape} != {e.shape}."
        )
    if check_dtype and a.dtype != e.dtype:
        raise AssertionError(
            msg or f"The values for attribute 'dtype' do not match: {a.dtype} != {e.dtype}."
        )
    if rtol is None:
        # the looser of the two dtypes' defaults, as torch does when check_dtype=False
        pairs = [_DEFAULT_TOLERANCES.get(d.name, (0.0, 0.0)) for d in (a.dtype, e.dtype)]
        rtol, atol = max(p[0] for p in pairs), max(p[1] for p in pairs)
    if a.dtype.kind in "biu" and e.dtype.kind in "biu":
        ok = a == e
    else:
        a64, e64 = (
            a.astype(xp.complex128 if a.dtype.kind == "c" else xp.float64),
            e.astype(xp.complex128 if e.dtype.kind == "c" else xp.float64),
        )
        with errstate(invalid="ignore"):
            ok = xp.abs(a64 - e64) <= atol + rtol * xp.abs(e64)
            ok |= a64 == e64  # equal infinities
            if equal_nan:
                ok |= xp.isnan(a64) & xp.isnan(e64)
    if bool(xp.all(ok)):
        return
    bad = ~ok
    n_bad, n = int(bad.sum()), bad.size
    diff = xp.abs(a.astype(xp.float64) - e.astype(xp.float64)) if a.dtype.kind != "c" else None
    lines = [msg] if msg else ["Tensor-likes are not close!", ""]
    lines.append(f"Mismatched elements: {n_bad} / {n} ({100.0 * n_bad / n:.1f}%)")
    if diff is not None:
        d = xp.where(bad, diff, -1.0)
        i = _unravel(_argmax_nan_first(d), a.shape)
        with errstate(divide="ignore", invalid="ignore"):
            rel = xp.where(bad, diff / xp.abs(e.astype(xp.float64)), -1.0)
        j = _unravel(_argmax_nan_first(rel), a.shape)
        lines.append(
            f"Greatest absolute difference: {float(diff[i])} at index {i} (up to {atol} allowed)"
        )
        lines.append(
            f"Greatest relative difference: {float(rel[j])} at index {j} (up to {rtol} allowed)"
        )
    raise AssertionError("\n".join(lines))


def _argmax_nan_first(d) -> int:
    """The flat index of d's largest entry, a NaN counting as the largest (a NaN against a
    number, with equal_nan=False, is a mismatch torch reports as a difference of nan)."""
    return int(xp.argmax(xp.where(xp.isnan(d), xp.inf, d)))


def _unravel(flat: int, shape) -> tuple:
    """The index tuple of flat position ``flat`` in a C-ordered array of ``shape``, in Python
    ints (CuPy's unravel_index takes no Python int)."""
    index = []
    for n in reversed(shape):
        flat, i = divmod(flat, n)
        index.append(i)
    return tuple(reversed(index))


# make_tensor and the deprecated assert_allclose: in testing_make.py (it imports this module)
from .testing_make import assert_allclose, make_tensor  # noqa: E402, F401
