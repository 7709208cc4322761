"""Where torch and NumPy put the dims of array indices apart.

Both follow the same rule for array (advanced) indices: their broadcast dims replace the
indexed dims in place when the array indices stand together in the index, and go first
when something stands between them. They differ in what counts:

    NumPy:  an integer (or a 0-d integer array) beside array indices is an array index too;
            any slice, None or Ellipsis between them separates them
    torch:  an integer (or a 0-d integer tensor) is a select, taken first, and separates
            nothing; nor does an Ellipsis that stands for no dims

So ``x[0, :, idx]`` is (S, *idx.shape) in torch (select row 0, then x₀[:, idx], together)
but (*idx.shape, S) in NumPy (0 and idx are apart). ``block_move`` finds where the two
disagree; torch's result is NumPy's with the block of B broadcast dims moved from where
NumPy puts it to where torch does (after the dims of the slices, Nones and Ellipsis before
the first array index).
"""

from __future__ import annotations

from ..backend import get_array_module, xp

_BASIC = (slice, type(None), type(Ellipsis))
_PLAIN = frozenset((int, *_BASIC))


def _kind(e):
    """('int', consumed dims), ('array', consumed dims, broadcast ndim) or ('basic', …)."""
    if isinstance(e, _BASIC):
        return ("basic",)
    if isinstance(e, bool):
        return ("array", 0, 1)  # a scalar mask: one dim of size 0 or 1, as a 0-d bool array
    if isinstance(e, int):
        return ("int", 1)
    a = e if hasattr(e, "dtype") and hasattr(e, "ndim") else xp.asarray(e)
    if a.dtype.kind == "b":
        return ("array", a.ndim, 1)  # a mask: its dims become one (the True places)
    if a.ndim == 0:
        return ("int", 1)
    return ("array", 1, a.ndim)


def block_move(index, ndim: int):
    """(B, p_numpy, p_torch): torch's x[index] is NumPy's with its B broadcast dims moved
    from position p_numpy to p_torch; None where the two agree."""
    if type(index) is not tuple or len(index) < 2:
        return None
    for e in index:
        if e.__class__ not in _PLAIN:  # (a bool, an int subclass, goes on: it is a mask)
            break
    else:
        return None  # no array index: integers are selects in both
    kinds = [_kind(e) for e in index]
    names = [k[0] for k in kinds]
    if "array" not in names:
        return None
    consumed = sum(k[1] for k in kinds if k[0] != "basic") + sum(
        1 for e in index if isinstance(e, slice)
    )
    widths = [  # output dims each basic entry gives
        (ndim - consumed if e is Ellipsis else 1) if n == "basic" else 0
        for e, n in zip(index, names)
    ]
    # NumPy: integers are array indices too; any slice, None or Ellipsis separates
    numpy_at = _place([n != "basic" for n in names], [n == "basic" for n in names], widths)
    # torch: integers are selects (no dims, no separation), and so is an Ellipsis of no dims
    parts = [n == "array" for n in names]
    separates = [n == "basic" and w > 0 for n, w in zip(names, widths)]
    torch_at = _place(parts, separates, widths)
    if numpy_at == torch_at:
        return None
    return max(k[2] for k in kinds if k[0] == "array"), numpy_at, torch_at


def _place(advanced, separates, widths) -> int:
    """Where the broadcast dims go: after the basic dims before the first advanced entry
    when the advanced entries stand together (nothing that separates between them), else 0."""
    at = [i for i, a in enumerate(advanced) if a]
    if any(separates[i] for i in range(at[0], at[-1] + 1)):
        return 0
    return sum(widths[: at[0]])


def to_torch_order(y, move):
    """NumPy's result y → torch's layout, contiguous (both results are new memory)."""
    b, p, q = move
    xq = get_array_module(y)
    return xq.ascontiguousarray(xq.moveaxis(y, tuple(range(p, p + b)), tuple(range(q, q + b))))


def to_numpy_order(y, move):
    """An array in torch's layout → NumPy's (the inverse move), a view."""
    b, p, q = move
    return get_array_module(y).moveaxis(y, tuple(range(q, q + b)), tuple(range(p, p + b)))


def value_in_numpy_order(a, index, v, move):
    """v for NumPy's ``a[index] = v``: broadcast to torch's a[index] shape (as torch
    broadcasts it), then laid out in NumPy's order."""
    b, p, q = move
    shape = a[index].shape  # NumPy's order (the copy is the price of this rare case)
    rest = shape[:p] + shape[p + b :]
    torch_shape = rest[:q] + shape[p : p + b] + rest[q:]
    return to_numpy_order(get_array_module(a).broadcast_to(v, torch_shape), move)
