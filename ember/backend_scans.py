"""Scans the GPU backend builds from whole-array passes where CuPy lacks NumPy's ufunc methods
(``accumulate``, ``multiply.at``). Each takes the array module, so NumPy can stand in for CuPy
in the tests on a machine without a GPU; backend.py re-exports them and picks the module.
"""

from __future__ import annotations


def doubling_scan(module, ufunc: str, a, axis: int):
    """The running ``ufunc`` of ``a`` along ``axis`` with the array module ``module``:
    after pass k every element holds the combination of the 2^k elements up to it."""
    op = getattr(module, ufunc)
    out = module.moveaxis(a, axis, 0).copy()
    step = 1
    while step < out.shape[0]:
        out[step:] = op(out[step:], out[:-step])  # the right side is read before it is written
        step *= 2
    return module.moveaxis(out, 0, axis)


def segmented_reduce_at(module, ufunc: str, target, indices, values) -> None:
    """``module.<ufunc>.at(target, indices, values)`` ("multiply", "maximum", "minimum"):
    target[indices] = ufunc(target[indices], values) with repeated indices combining, with
    the array module ``module``: the values sorted by the flat place they go to, an inclusive
    scan of ``ufunc`` within each run of equal places (⌈log₂ n⌉ whole-array passes), and each
    run's last value applied once. Exact in every dtype (CuPy's maximum.at rounded float64
    values through float32 on an H200, so float64 gradients that look for the maximum found
    none)."""
    op = getattr(module, ufunc)
    places = module.arange(target.size).reshape(target.shape)[indices]
    values = module.broadcast_to(values, places.shape).reshape(-1)
    places = places.reshape(-1)
    order = module.argsort(places, kind="stable")
    key, run = places[order], values[order].astype(target.dtype)
    step = 1
    while step < key.size:  # after the pass, each element combines 2·step of its run
        same = key[step:] == key[:-step]
        run[step:] = module.where(same, op(run[step:], run[:-step]), run[step:])
        step *= 2
    last = module.ones(key.size, dtype=bool)
    last[:-1] = key[1:] != key[:-1]
    at = module.unravel_index(key[last], target.shape)
    target[at] = op(target[at], run[last])
