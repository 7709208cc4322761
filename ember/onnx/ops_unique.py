"""Heaviside and unique: the Heaviside and Unique ops of ops/rounding.py.

    heaviside(x, v)     Where(x = 0, v, Cast(x > 0)) (NaN: 0, as torch); bool x: Or(x, v)
    unique(x, dim)      Unique(x, sorted=1[, axis=dim]): values, and the inverse indices
                        reshaped to x's shape (dim: 1-D), and the counts; ONNX Runtime's
                        Unique takes float, double, int8 and int64, so other dtypes go through
                        the nearest of them and back (order and equality kept)

signbit has no mapping: ONNX cannot read the sign bit of a NaN (or tell −0.0 from 0.0).
"""

from __future__ import annotations

import numpy as np

from .ops_map import onnx_dtype, scalar, typed


def _heaviside(g, op):
    x, v = op.inputs[:2]
    dt = np.dtype(x.dtype)
    xs, vs = g.value(x), typed(g, v, dt)
    if dt.kind == "b":
        return [g.one("Or", [xs, vs])]
    zero = scalar(g, 0, dt)
    above = g.one("Cast", [g.one("Greater", [xs, zero])], to=onnx_dtype(g, dt))
    return [g.one("Where", [g.one("Equal", [xs, zero]), vs, above])]


def _working(dt: np.dtype) -> np.dtype:
    if dt.kind == "f":
        return np.dtype(np.float32) if dt.itemsize < 4 else dt
    if dt == np.int8:
        return dt
    return np.dtype(np.int64)


def _unique(g, op):
    x = op.inputs[0]
    dt = np.dtype(x.dtype)
    if dt.kind not in "biuf":
        raise NotImplementedError(f"ember.onnx.export: unique of {dt} tensors")
    wt = _working(dt)
    axis = op.consts.get("axis")
    attrs = {"sorted": 1} if axis is None else {"sorted": 1, "axis": int(axis)}
    y, _, inverse, counts = g.node("Unique", [typed(g, x, wt)], n_out=4, **attrs)
    if wt != dt:
        y = g.one("Cast", [y], to=onnx_dtype(g, dt))
    if axis is None and x.ndim != 1:
        inverse = g.one("Reshape", [inverse, g.one("Shape", [g.value(x)])])
    return [y, inverse, counts]


UNIQUE_CONVERTERS = {"Heaviside": _heaviside, "Unique": _unique}
