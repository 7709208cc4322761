"""Remainders and rounded quotients: the Remainder and RoundingDiv ops of ops/elementwise.py.

    fmod(a, b)             Mod(a, b, fmod=1) (C's fmod: r takes a's sign)
    remainder(a, b)        integers: Mod(a, b, fmod=0) (Python's %); floats: NumPy's divmod,
                           r = fmod(a, b), r + b where r ≠ 0 and r, b differ in sign, ±0 with
                           b's sign where r = 0 (ONNX defines fmod=0 for integers only)
    floor_divide(a, b)     integers: Div(a − Mod(a, b), b) (exact; ONNX's Div truncates);
                           floats: NumPy's divmod, d = (a − fmod(a, b)) / b, less 1 where the
                           remainder was fixed up, then Floor(d) (+1 where d − Floor(d) > ½),
                           and a / b where b = 0 — so 1 // 0.1 is 9, as NumPy and torch
    div(a, b, 'trunc')     integers: Div; floats: Where(q < 0, Ceil(q), Floor(q)), q = a / b

Bool operands are refused (ONNX's Mod and Div take numbers only).
"""

from __future__ import annotations

from .ops_map import onnx_dtype, scalar, typed


def _operands(g, op, name: str):
    dt = op.out_dtype
    if dt.kind not in "iuf":
        raise NotImplementedError(f"ember.onnx.export: {name} of {dt} tensors")
    a, b = op.inputs[:2]
    return typed(g, a, dt), typed(g, b, dt), dt


def _fixed_fmod(g, a, b, dt):
    """NumPy's divmod for floats: r = fmod(a, b) and the mask of where r moves to b's sign."""
    r = g.one("Mod", [a, b], fmod=1)
    zero = scalar(g, 0, dt)
    differ = g.one("Xor", [g.one("Less", [b, zero]), g.one("Less", [r, zero])])
    fix = g.one("And", [g.one("Not", [g.one("Equal", [r, zero])]), differ])
    return r, fix, zero


def _remainder(g, op):
    a, b, dt = _operands(g, op, "remainder")
    if op.consts.get("truncate", False):
        return [g.one("Mod", [a, b], fmod=1)]
    if dt.kind != "f":
        return [g.one("Mod", [a, b], fmod=0)]
    r, fix, zero = _fixed_fmod(g, a, b, dt)
    signed_zero = g.one("Where", [g.one("Less", [b, zero]), scalar(g, -0.0, dt), zero])
    r0 = g.one("Where", [g.one("Equal", [r, zero]), signed_zero, r])
    return [g.one("Where", [fix, g.one("Add", [r, b]), r0])]


def _rounding_div(g, op):
    mode = op.consts.get("mode", "floor")
    a, b, dt = _operands(g, op, "floor_divide" if mode == "floor" else "div")
    if dt.kind != "f":
        if mode == "trunc":
            return [g.one("Div", [a, b])]
        return [g.one("Div", [g.one("Sub", [a, g.one("Mod", [a, b], fmod=0)]), b])]
    q = g.one("Div", [a, b])
    zero = scalar(g, 0, dt)
    if mode == "trunc":
        neg = g.one("Less", [q, zero])
        return [g.one("Where", [neg, g.one("Ceil", [q]), g.one("Floor", [q])])]
    r, fix, _ = _fixed_fmod(g, a, b, dt)
    d = g.one("Div", [g.one("Sub", [a, r]), b])
    d = g.one("Sub", [d, g.one("Cast", [fix], to=onnx_dtype(g, dt))])
    f = g.one("Floor", [d])
    up = g.one("Greater", [g.one("Sub", [d, f]), scalar(g, 0.5, dt)])
    f = g.one("Add", [f, g.one("Cast", [up], to=onnx_dtype(g, dt))])
    f = g.one("Where", [g.one("Equal", [d, zero]), g.one("Mul", [q, zero]), f])  # ±0 as a / b
    return [g.one("Where", [g.one("Equal", [b, zero]), q, f])]


MOD_CONVERTERS = {"Remainder": _remainder, "RoundingDiv": _rounding_div}
