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


def segmented_product_at(module, target, indices, values) -> None:
    """target[indices] *= values with repeated indices multiplying, with the array module
    ``module``: the values sorted by the flat place they go to, an inclusive product scan within
    each run of equal places (⌈log₂ n⌉ whole-array passes), and each run's last product
    applied once."""
    places = module.arange(target.size).reshape(target.shape)[indices]
    values = module.broadcast_to(values, places.shape).reshape(-1)
    places = places.reshape(-1)
    order = module.argsort(places, kind="stable")
    key, prod = places[order], values[order].astype(target.dtype)
    step = 1
    while step < key.size:  # after the pass, each element holds the product of 2·step in its run
        same = key[step:] == key[:-step]
        prod[step:] = module.where(same, prod[step:] * prod[:-step], prod[step:])
        step *= 2
    last = module.ones(key.size, dtype=bool)
    last[:-1] = key[1:] != key[:-1]
    target[module.unravel_index(key[last], target.shape)] *= prod[last]
