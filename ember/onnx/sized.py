"""Constants whose size follows a dynamic axis: position ids, causal masks, position tables.

A forward builds some arrays from a size it reads off its input: ``arange(T)`` for the
positions of a GPT, the (T, T) causal mask of its attention, the (T, d) cos/sin tables of a
rotary embedding, ``zeros(B, H)``. The trace sees them as constants. The exporter runs the
model first on inputs resized along the dynamic axes (``consistency``), so while it converts
an op it knows which of the op's constants changed size, and along which axes; such a
constant becomes nodes that compute it from ``Shape(input)`` at run time, N being that axis's
size there:

    arange(s, s + T)              Range(s, s + N, 1)                 any N
    the same along the axis       Expand(one slice, … N …)           any N
    f(j − i), a step in j − i     Where(j − i ≥ c, u, l)             any N  (causal masks)
    a prefix of the traced one    Slice(the traced table, 0, N)      N ≤ the traced size
    a slice bound T + c           N + c, in the graph's Slice         any N

The last form caps the axis at the size traced (at the buffer's size when the constant is a
leading block of one of the model's buffers, a sinusoidal table); the export warns unless the
model itself refuses longer inputs. Anything else is refused, naming the op and its module.
"""

from __future__ import annotations

import numpy as np

from ..backend import to_numpy
from .ops_map import onnx_dtype


class Dim:
    """One dynamic axis of one input: its size traced and in each probe run, its label, its
    graph input."""

    def __init__(self, k: int, axis: int, traced: int, probed, label: str, name: str):
        self.k, self.axis, self.traced, self.probed = k, axis, traced, tuple(probed)
        self.label, self.name = label, name


class SizedConstants:
    """Binds the size-following constants of each op before the op is converted.

    ``probes``: the ConstantLogs (with arrays) of the runs on resized inputs; a form must fit
    the traced run and every probe (two sizes besides the traced one, so that T // 2 is not
    mistaken for T − 3)."""

    def __init__(self, graph, probes, dims: list[Dim], tables=frozenset()):
        self.g, self.probes, self.dims = graph, probes, dims
        self.tables = tables  # ids of the model's parameter and buffer arrays
        self.aligned = True  # the traced run has run the probes' ops so far
        self.handled: set[tuple] = set()  # (op index, slot): compare skips them
        self.caps: dict[str, tuple[Dim, int]] = {}  # label -> (axis, largest size taken)
        self._sizes: dict[tuple[int, int, int], str] = {}

    def _entries(self, k: int, name: str):
        """The probes' entries for op k, or None once the runs went other ways."""
        if self.aligned and all(k < len(p.log) and p.log[k][0] == name for p in self.probes):
            return [dict((e[0], e) for e in p.log[k][1]) for p in self.probes]
        self.aligned = False  # other ops on other inputs: compare() warns
        return None

    def bind(self, k: int, name: str, found, where) -> None:
        """``found``: the op's constant (slot, array) pairs; bind those whose shape differs
        from the probes' to nodes computing them."""
        entries = self._entries(k, name)
        if entries is None:
            return
        for slot, a in found:
            es = [e.get(slot) for e in entries]
            if any(e is None or e[1] == "zeros" or e[3] is None for e in es):
                continue  # compare() refuses what it must, with its message
            if all(tuple(e[1]) == tuple(a.shape) for e in es):
                continue
            bs = [np.asarray(to_numpy(e[3])) for e in es]
            if any(b.ndim != a.ndim for b in bs):
                continue
            out = self._convert(np.asarray(to_numpy(a)), bs, slot, name, where)
            self.g.bind(a, out, produced=False)
            self.handled.add((k, slot))

    def bounds(self, k: int, traced: tuple, where, name: str = "GetItem") -> dict[int, str]:
        """GetItem's (or SetItem's) slice bounds that changed with the sizes (``x[:, :T]``,
        ``W[0:T]``): {position in ``slice_bounds``: N + c}, N a dynamic axis's size at run
        time."""
        entries = self._entries(k, name)
        if entries is None:
            return {}
        probed = [e["bounds"][1] for e in entries]
        if all(p == traced for p in probed):
            return {}
        out = {}
        for pos, vs in enumerate(zip(traced, *probed)):
            if len(set(vs)) == 1 or None in vs:
                continue
            c = vs[0]
            found = [
                d for d in self.dims if all(n - v == d.traced - c for n, v in zip(d.probed, vs[1:]))
            ]
            if len({d.label for d in found}) != 1:
                return {}  # compare() refuses it with its message
            size = self._size(found[0], scalar=False)
            c -= found[0].traced
            out[pos] = size if c == 0 else self.g.one("Add", [size, self.g.ints([c])])
        self.handled.add((k, "bounds"))
        return out

    # ---------------------------------------------------------------- sizes at run time

    def _size(self, d: Dim, scalar: bool) -> str:
        key = (d.k, d.axis, int(scalar))
        if key not in self._sizes:
            g = self.g
            shape = g.one("Shape", [d.name])
            idx = g.const(np.int64(d.axis), "axis") if scalar else g.ints([d.axis])
            self._sizes[key] = g.one("Gather", [shape, idx], axis=0)
        return self._sizes[key]

    def _dims(self, a, bs, slot, name, where) -> dict[int, Dim]:
        """axis of the constant -> the dynamic input axis it follows."""
        out = {}
        for ax in range(a.ndim):
            ns = (a.shape[ax], *(b.shape[ax] for b in bs))
            if len(set(ns)) == 1:
                continue
            found = [d for d in self.dims if (d.traced, *d.probed) == ns]
            labels = sorted({d.label for d in found})
            if len(labels) != 1:
                why = (
                    f"no dynamic axis of the inputs has these sizes {ns}"
                    if not labels
                    else f"the dynamic axes {labels} have the same size {ns[0]}: trace with "
                    "inputs whose dynamic axes differ in size"
                )
                raise NotImplementedError(
                    f"ember.onnx.export: input {slot} of op {name} (in {where()}) is an array the "
                    f"forward built with a size taken from the inputs ({a.shape} here, "
                    f"{bs[0].shape} for other sizes of the dynamic axes), and {why}"
                )
            out[ax] = found[0]
        return out

    # ---------------------------------------------------------------- the four forms

    def _convert(self, a, bs, slot, name, where) -> str:
        dims = self._dims(a, bs, slot, name, where)
        for form in (self._arange, self._uniform, self._step, self._prefix):
            out = form(a, bs, dims)
            if out is not None:
                return out
        raise NotImplementedError(
            f"ember.onnx.export: input {slot} of op {name} (in {where()}) is an array the "
            f"forward built with a size taken from the inputs ({a.shape} here, {bs[0].shape} "
            "for other sizes of the dynamic axes) that is neither an arange, nor constant along "
            "those axes, nor a causal mask, nor a prefix of a fixed table: the graph would only "
            "work for the traced size (or it was computed from the inputs outside ember's ops: "
            "a NumPy round trip, a method without an op such as round)"
        )

    def _arange(self, a, bs, dims):
        if a.ndim != 1 or a.dtype.kind not in "iuf" or a.size == 0:
            return None
        s = a[0]
        if not all(np.array_equal(x, s + np.arange(x.size)) for x in (a, *bs)):
            return None
        g, dt = self.g, a.dtype
        n = self._size(dims[0], scalar=True)
        if dt != np.int64:
            n = g.one("Cast", [n], to=onnx_dtype(g, dt))
        start = g.const(np.asarray(s, dt), "start")
        limit = g.one("Add", [n, start])
        return g.one("Range", [start, limit, g.const(np.asarray(1, dt), "delta")])

    def _uniform(self, a, bs, dims):
        first = tuple(slice(0, 1) if ax in dims else slice(None) for ax in range(a.ndim))
        base = a[first]
        if any(x.size == 0 for x in (a, *bs)):
            return None
        if not all(_same_along(x, base) for x in (a, *bs)):
            return None
        g = self.g
        parts = [self._size(dims[ax], False) if ax in dims else g.ints([1]) for ax in range(a.ndim)]
        shape = g.one("Concat", parts, axis=0)
        return g.one("Expand", [g.const(np.ascontiguousarray(base), "sized"), shape])

    def _step(self, a, bs, dims):
        """a[…, i, j] = u where j − i ≥ c, else l (the last two axes, both dynamic)."""
        if a.ndim < 2 or set(dims) != {a.ndim - 2, a.ndim - 1}:
            return None
        if any(n != 1 for n in a.shape[:-2]):
            return None
        lead = (0,) * (a.ndim - 2)
        # the step is read off the runs at least 2 × 2 (a trace at length 1 has a 1 × 1 mask,
        # which any step fits); every run, smaller ones included, must follow it
        ms = [x[lead] for x in (a, *bs)]
        wide = [m for m in ms if min(m.shape) >= 2]
        step = _step_of(wide[0]) if wide else None
        if step is None or any(_step_of(m) != step for m in wide[1:]):
            return None
        c, u, l = step
        for m in ms:
            j_minus_i = np.arange(m.shape[1])[None, :] - np.arange(m.shape[0])[:, None]
            if not np.array_equal(m, np.where(j_minus_i >= c, u, l)):
                return None
        g, dt = self.g, a.dtype
        zero, one = g.const(np.int64(0), "start"), g.const(np.int64(1), "delta")
        rows = g.one("Range", [zero, self._size(dims[a.ndim - 2], True), one])
        cols = g.one("Range", [zero, self._size(dims[a.ndim - 1], True), one])
        diff = g.one("Sub", [g.unsqueeze(cols, [0]), g.unsqueeze(rows, [1])])  # j − i
        cond = g.one("GreaterOrEqual", [diff, g.const(np.int64(c), "offset")])
        out = g.one(
            "Where", [cond, g.const(np.asarray(u, dt), "u"), g.const(np.asarray(l, dt), "l")]
        )
        return g.unsqueeze(out, list(range(a.ndim - 2))) if a.ndim > 2 else out

    def _prefix(self, a, bs, dims):
        arrays = [a, *bs]
        big = max(arrays, key=lambda x: x.size)
        if any(x.shape[ax] > big.shape[ax] for x in arrays for ax in dims):
            return None  # one run longer along an axis, another along another
        table = _table(a)  # a leading block of a buffer (a position table): all of it
        if id(table) in self.tables:
            big = table
        for x in arrays:
            cut = tuple(slice(0, n) for n in x.shape)
            if not np.array_equal(big[cut], x, equal_nan=True):
                return None
        g = self.g
        axes = sorted(dims)
        ends = g.one("Concat", [self._size(dims[ax], False) for ax in axes], axis=0)
        table = g.const(np.ascontiguousarray(big), "table")
        out = g.one("Slice", [table, g.ints([0] * len(axes)), ends, g.ints(axes)])
        for ax in axes:
            d = dims[ax]
            cap = self.caps.get(d.label)
            if cap is None or big.shape[ax] < cap[1]:
                self.caps[d.label] = (d, big.shape[ax])
        return out


def _table(a):
    """The array that ``a`` is a leading block of (``table[:T]``), or None."""
    t = a.base
    if not isinstance(t, np.ndarray) or t.ndim != a.ndim or t.dtype != a.dtype:
        return None
    if t.strides != a.strides or any(n > m for n, m in zip(a.shape, t.shape)):
        return None
    same_start = a.__array_interface__["data"][0] == t.__array_interface__["data"][0]
    return t if same_start else None


def _same_along(x, base) -> bool:
    return np.array_equal(np.broadcast_to(base, x.shape), x, equal_nan=True)


def _step_of(m):
    """(c, u, l) when m[i, j] = u for j − i ≥ c and l otherwise (u ≠ l), else None."""
    L, S = m.shape
    values = []
    for k in range(-L + 1, S):  # one value per diagonal j − i = k
        d = np.diagonal(m, k)
        if not np.all(d == d[0]):
            return None
        values.append(d[0])
    steps = [i for i in range(1, len(values)) if values[i] != values[i - 1]]
    if len(steps) != 1:
        return None
    i = steps[0]
    return i - L + 1, values[i], values[i - 1]
