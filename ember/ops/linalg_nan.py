"""Where LAPACK and NumPy part ways on bad matrices, and ember takes LAPACK's (torch's) side:
potrf's info for each matrix of a batch, including its stop at a NaN pivot, and the matrices
holding NaN, whose LU results torch carries as NaN where NumPy calls them singular."""

from __future__ import annotations

import math

from ..backend import get_array_module


def cholesky_info(a):
    """potrf's info for each matrix of a (*, n, n) (its lower triangle read): 0, or the order
    j of the first leading minor that is not positive-definite (its factorization fails)."""
    xp = get_array_module(a)
    batch, n = a.shape[:-2], a.shape[-1]
    flat = a.reshape((math.prod(batch), n, n))  # not -1: nothing to infer it from if n = 0
    info = xp.zeros(flat.shape[0], dtype=xp.int32)
    try:  # the common case, all positive-definite: one batched factorization
        return nan_pivot(xp.linalg.cholesky(flat)).reshape(batch)
    except xp.linalg.LinAlgError:
        pass
    for b in range(flat.shape[0]):
        try:
            info[b] = nan_pivot(xp.linalg.cholesky(flat[b]))
            continue
        except xp.linalg.LinAlgError:
            pass
        for j in range(1, n + 1):  # the first leading minor whose factorization fails
            try:
                if xp.isnan(xp.linalg.cholesky(flat[b, :j, :j])[j - 1, j - 1]):
                    info[b] = j
                    break
            except xp.linalg.LinAlgError:
                info[b] = j
                break
    return info.reshape(batch)


def nan_pivot(l):
    """potrf's info from a factor L (*, n, n) that NumPy computed without complaint: LAPACK
    also stops at a NaN pivot (``ajj <= 0 or isnan(ajj)``), which NumPy lets through."""
    xp = get_array_module(l)
    bad = xp.isnan(xp.diagonal(l, axis1=-2, axis2=-1).real)
    if bad.shape[-1] == 0:  # 0×0 matrices factor trivially
        return xp.zeros(bad.shape[:-1], dtype=xp.int32)
    return xp.where(bad.any(-1), bad.argmax(-1) + 1, 0).astype(xp.int32)


def nan_matrices(a):
    """Which matrices of a (*, n, n) hold a NaN: torch's LU gives them NaN results (det,
    inverse, solution), where NumPy calls them singular (det 0) or raises."""
    xp = get_array_module(a)
    return xp.isnan(a).any(axis=(-2, -1))


def without_nan_matrices(a, nan):
    """a with each matrix that holds a NaN replaced by I, so that the rest of a batch is solved
    as usual and only those results are set to NaN afterwards."""
    xp = get_array_module(a)
    return xp.where(nan[..., None, None], xp.eye(a.shape[-1], dtype=a.dtype), a)
