"""Converters for the ops whose ONNX form depends on shapes: Reshape, Expand, GetItem, Diagonal.

Each tries not to bake a dimension into the graph that may differ at run time (a dynamic batch):
a Reshape reads the sizes it carries over from ``Shape(x)`` when dynamic axes are asked for,
Expand broadcasts from 1 where the input already has the size, and indexing keeps the user's
own (possibly negative) bounds.
"""

from __future__ import annotations

import numpy as np

from ..backend import to_numpy
from .ops_map import typed


def _reshape(g, op):
    """Reshape without baking in a dimension that may be dynamic. Static graphs get a constant
    shape whose leading dimensions that the reshape keeps are 0 (ONNX: copy from the input) and
    whose first other dimension is -1. With dynamic axes, each target dimension is taken from
    ``Shape(x)`` where it is a source dimension (or a product of several), so a reshape keeps
    working for other sizes of any axis it carries over."""
    x = op.inputs[0]
    src, dst = tuple(x.shape), tuple(op.outs[0].shape)
    if g.dynamic and src != dst:
        target = _shape_from_source(g, g.value(x), src, dst)
        if target is not None:
            return [g.one("Reshape", [g.value(x), target])]
    spec = list(dst)
    k = 0
    while k < min(len(src), len(dst)) and src[k] == dst[k] and dst[k] != 0:
        spec[k] = 0
        k += 1
    if k < len(dst) and -1 not in spec:
        spec[k] = -1
    return [g.one("Reshape", [g.value(x), g.ints(spec)])]


def _groups(src, dst):
    """Align the non-1 dimensions of ``src`` and ``dst`` into groups of equal products:
    [(source axes, target axes)], or None when they do not align."""
    s = [i for i, n in enumerate(src) if n != 1]
    d = [j for j, n in enumerate(dst) if n != 1]
    out, i, j = [], 0, 0
    while i < len(s) and j < len(d):
        gs, gd = [s[i]], [d[j]]
        ps, pd = src[s[i]], dst[d[j]]
        while ps != pd:
            if ps < pd and i + 1 < len(s):
                i += 1
                gs.append(s[i])
                ps *= src[s[i]]
            elif pd < ps and j + 1 < len(d):
                j += 1
                gd.append(d[j])
                pd *= dst[d[j]]
            else:
                return None
        out.append((gs, gd))
        i, j = i + 1, j + 1
    return out if i == len(s) and j == len(d) else None


def _shape_from_source(g, x: str, src, dst) -> str | None:
    groups = _groups(src, dst)
    if groups is None or 0 in src:
        return None
    shape = g.one("Shape", [x])
    parts: list = [None] * len(dst)  # what no group fills is a 1: a constant
    inferred = False
    for gs, gd in groups:
        if len(gd) == 1:  # one target axis: the product of its source axes, read at run time
            dims = g.one("Gather", [shape, g.ints(gs)], axis=0)
            parts[gd[0]] = dims if len(gs) == 1 else g.reduce("ReduceProd", dims, [0], True)
        else:  # a split: constants, with -1 for the first target axis (the one that may vary)
            for j in gd:
                parts[j] = g.ints([dst[j] if inferred or j != gd[0] else -1])
            inferred = True
    # the leading axes the reshape keeps are read from Shape(x) too, those of size 1 included:
    # a dynamic axis traced at 1 (a batch of one, a GPT at length 1) is not a constant 1
    k = 0
    while k < min(len(src), len(dst)) and src[k] == dst[k]:
        parts[k] = g.one("Gather", [shape, g.ints([k])], axis=0)
        k += 1
    parts = [p if p is not None else g.ints([1]) for p in parts]
    return g.one("Concat", parts, axis=0)


def _expand(g, op):
    """Expand broadcasts both ways in ONNX: a 1 wherever the input already has the size keeps a
    dynamic dimension dynamic."""
    x = op.inputs[0]
    dst = list(op.outs[0].shape)
    off = len(dst) - x.ndim
    spec = [1 if i >= off and x.shape[i - off] == n else n for i, n in enumerate(dst)]
    return [g.one("Expand", [g.value(x), g.ints(spec)])]


_BIG = 2**62  # "to the end" for Slice


class _Slice:
    """A slice whose start or stop may be a graph value's name (a bound that follows a size)."""

    def __init__(self, start, stop, step):
        self.start, self.stop, self.step = start, stop, step


def _slice_bounds(i, n: int):
    """ONNX Slice's (start, end, step) for ``i``, keeping the user's own (possibly negative)
    bounds so that an axis of another length slices the same way; None for a full slice."""
    step = 1 if i.step is None else int(i.step)
    if (i.start is None or i.start == 0) and i.stop is None and step == 1:
        return None
    start = i.start if i.start is not None else (0 if step > 0 else -1)
    stop = i.stop if i.stop is not None else (_BIG if step > 0 else -_BIG)
    return tuple(b if isinstance(b, str) else int(b) for b in (start, stop)) + (step,)


def slice_bounds(index) -> tuple:
    """The start and stop of each slice in a GetItem index, in order (None where not given):
    what ``sized`` compares between the two runs, and replaces where it follows a size."""
    index = index if isinstance(index, tuple) else (index,)
    return tuple(b for i in index if isinstance(i, slice) for b in (i.start, i.stop))


def _ints(g, values) -> str:
    """A 1-D int64 input from ints and graph names (1-D, one element each)."""
    if all(isinstance(v, int) for v in values):
        return g.ints(values)
    return g.one("Concat", [v if isinstance(v, str) else g.ints([v]) for v in values], axis=0)


def _getitem(g, op):
    """Basic indexing (ints, slices with steps, None, Ellipsis) as Slice/Squeeze/Unsqueeze, and
    one integer or boolean array index as Gather. ``op.consts["sized_bounds"]`` (from
    ``sized``) maps a position in ``slice_bounds`` to the graph value replacing that bound."""
    x = op.inputs[0]
    index = op.consts["index"]
    index = index if isinstance(index, tuple) else (index,)
    sized = op.consts.get("sized_bounds", {})
    if sized:  # each slice's bounds as given, or as the graph computes them
        pos, with_names = 0, []
        for i in index:
            if isinstance(i, slice):
                start, stop = sized.get(pos, i.start), sized.get(pos + 1, i.stop)
                i, pos = _Slice(start, stop, i.step), pos + 2
            with_names.append(i)
        index = tuple(with_names)
    n_real = sum(_dims_taken(i) for i in index if i is not None and i is not Ellipsis)
    if any(i is Ellipsis for i in index):
        k = index.index(Ellipsis)
        index = index[:k] + (slice(None),) * (x.ndim - n_real) + index[k + 1 :]
    name = g.value(x)
    starts, ends, axes, steps, squeeze, unsqueeze = [], [], [], [], [], []
    gathers = []
    dim = 0  # axis in x
    out_dim = 0  # axis in the result so far (after dropping ints, adding Nones)
    for i in index:
        if i is None:
            unsqueeze.append(out_dim)
            out_dim += 1
            continue
        if isinstance(i, slice | _Slice):
            bounds = _slice_bounds(i, x.shape[dim])
            if bounds is not None:
                starts.append(bounds[0]), ends.append(bounds[1]), axes.append(dim)
                steps.append(bounds[2])
            out_dim += 1
        elif isinstance(i, int | np.integer):
            i = int(i)  # a negative index stays negative: right for any length of the axis
            starts.append(i), ends.append(i + 1 if i != -1 else _BIG), axes.append(dim)
            steps.append(1)
            squeeze.append(dim)
        elif np.dtype(i.dtype) == np.bool_:  # a mask over the axes dim, dim + 1, …: its places
            idx, k = _mask_places(g, i), i.ndim
            if k > 1 and dim:
                raise NotImplementedError(
                    "ember.onnx.export: a boolean mask of several dims after the first dim"
                )
            gathers.append((dim, idx, 1 if k == 1 else -k))  # -k: GatherND over k axes
            out_dim += 1
            dim += k
            continue
        else:
            if id(i) in g.names:  # an index array computed in the graph
                idx, nd = typed(g, i, np.int64), i.ndim
            else:
                idx, nd = g.const(np.asarray(to_numpy(i), np.int64), "index"), i.ndim
            gathers.append((dim, idx, nd))
            out_dim += nd
        dim += 1
    if len(gathers) > 1:
        raise NotImplementedError("ember.onnx.export: indexing with several index arrays")
    if gathers:
        advanced = sorted(squeeze + [gathers[0][0]])  # NumPy moves separated ones to the front
        if advanced != list(range(advanced[0], advanced[0] + len(advanced))):
            raise NotImplementedError(
                "ember.onnx.export: an index array separated from integer indices by a slice"
            )
        d, nd = gathers[0][0], gathers[0][2]
        nd, taken = (nd, 1) if nd >= 0 else (1, -nd)  # a k-D mask takes k axes, gives one
        squeeze = [a + nd - taken if a > d else a for a in squeeze]
    if starts:
        name = g.one("Slice", [name, _ints(g, starts), _ints(g, ends), g.ints(axes), g.ints(steps)])
    for d, idx, nd in gathers:  # Gather replaces axis d with the index's axes
        name = g.one("Gather", [name, idx], axis=d) if nd >= 0 else g.one("GatherND", [name, idx])
    if squeeze:
        name = g.squeeze(name, squeeze)
    if unsqueeze:
        name = g.unsqueeze(name, unsqueeze)
    return [name]


def _dims_taken(i) -> int:
    """How many axes of the indexed tensor an index takes (a k-D mask takes k)."""
    if hasattr(i, "dtype") and np.dtype(i.dtype) == np.bool_:
        return i.ndim
    return 1


def _mask_places(g, mask) -> str:
    """The places where ``mask`` holds, in row-major order: the 1-D indices of a 1-D mask, the
    (K, k) index rows of a k-D one (for GatherND); NonZero at run time for a traced mask."""
    if id(mask) in g.names:
        places = g.one("NonZero", [g.value(mask)])  # (k, K)
        if mask.ndim == 1:
            return g.one("Reshape", [places, g.ints([-1])])
        return g.one("Transpose", [places], perm=[1, 0])
    arr = np.asarray(to_numpy(mask))
    rows = np.stack(np.nonzero(arr), axis=-1).astype(np.int64)
    return g.const(rows[:, 0] if arr.ndim == 1 else rows, "index")


def _diagonal(g, op):
    """x.diagonal(k, dim1, dim2): the (dim1, dim2) planes moved last and flattened to r·c, then
    one strided Slice: element (i, i + k) of a plane (k ≥ 0; (i − k, i) for k < 0) is at
    i·(c + 1) + p·c + q, p = max(0, −k), q = max(0, k), for i < n = max(0, min(r − p, c − q)).
    With dynamic axes r and c are read from Shape(x) (either may be a dynamic axis)."""
    x = op.inputs[0]
    k, a, b = int(op.consts.get("offset", 0)), op.consts.get("dim1", 0), op.consts.get("dim2", 1)
    rest = [d for d in range(x.ndim) if d not in (a, b)]
    perm = rest + [a, b]
    name = g.value(x)
    if perm != list(range(x.ndim)):
        name = g.one("Transpose", [name], perm=perm)
    p, q = max(0, -k), max(0, k)
    if not g.dynamic:
        r, c = x.shape[a], x.shape[b]
        n = max(0, min(r - p, c - q))
        flat = g.one("Reshape", [name, g.ints([0] * len(rest) + [r * c])])
        start = p * c + q
        bounds = [g.ints([start]), g.ints([start + n * (c + 1)]), g.ints([-1]), g.ints([c + 1])]
        return [g.one("Slice", [flat, *bounds])]
    shape = g.one("Shape", [name])
    lead = g.one("Gather", [shape, g.ints(range(len(rest)))], axis=0)
    r, c = (g.one("Gather", [shape, g.ints([len(rest) + j])], axis=0) for j in (0, 1))
    flat = g.one("Reshape", [name, g.one("Concat", [lead, g.one("Mul", [r, c])], axis=0)])
    n = g.one("Min", [g.one("Sub", [r, g.ints([p])]), g.one("Sub", [c, g.ints([q])])])
    n = g.one("Max", [n, g.ints([0])])
    step = g.one("Add", [c, g.ints([1])])
    start = g.one("Add", [g.one("Mul", [c, g.ints([p])]), g.ints([q])])
    end = g.one("Add", [start, g.one("Mul", [n, step])])
    return [g.one("Slice", [flat, start, end, g.ints([-1]), step])]


SHAPE_CONVERTERS = {
    "Reshape": _reshape, "Expand": _expand, "GetItem": _getitem, "Diagonal": _diagonal,
}  # fmt: skip
