"""Recorded derivatives (autograd_higher.py) of the placement and selection ops, the 3-D
convolution and pooling, max pooling with indices and unpooling, and the chunked linear
cross-entropy: indexing with integer arrays or masks (x[idx], x[mask], take, diagonal, trace),
``x[index] = v``, index_put, masked_select, masked_scatter, index_add, index_copy, index_fill,
scatter_reduce, unfold (the windows view), max_pool3d, avg_pool3d, max_pool2d with
return_indices, max_unpool2d, grid_sample, conv3d and F.linear_cross_entropy's chunked path.

Every selection and placement is one linear map given by flat positions: the positions of the
op's picks are found by running the op's own indexing on ``arange`` (positions[j] = the flat
place of x that output element j reads), and the map and its transpose are then a gather of g
at those positions and a scatter_add into zeros (``_take`` and ``_put_add``), each the
other's derivative (autograd_higher_index_loss.py), so every order is recorded. What stays
constant (the places a write covers, a max pool's winners, tie weights) is a constant mask.
The GetItem rule (basic and advanced indices) lives here, beside SetItem and IndexPut, its
derivatives. grid_sample, conv3d and the chunked cross-entropy are
differentiated through composed forms.
"""

from __future__ import annotations

from math import prod

from .autograd_higher import _input, rule, sum_to
from .autograd_higher_fused import _vjp
from .backend import scatter_add, strided_view, xp
from .ops import conv3d as C3
from .ops import grid_sample as GS
from .ops import index as I
from .ops import index_more as IM
from .ops import index_put as P
from .ops import linear_cross_entropy as LCE
from .ops import loss as LO
from .ops import pool3d as P3
from .ops import shape as S
from .ops import unpool as UP
from .tensor import Tensor, apply


def _positions(shape):
    """positions[i] = i, shaped ``shape``: indexed like x, it names the places x's picks read."""
    return xp.arange(prod(shape), dtype=xp.int64).reshape(tuple(shape))


def _take(g: Tensor, pos) -> Tensor:
    """g's elements at the flat positions ``pos`` (any shape), shaped as pos; recorded (Gather)."""
    pos = xp.asarray(pos)
    picked = apply(I.Gather, g.reshape(-1), xp.ascontiguousarray(pos).reshape(-1), dim=0)
    return picked.reshape(tuple(pos.shape))


def _put_add(shape, pos, h: Tensor) -> Tensor:
    """zeros(shape) with h's elements added at the flat positions ``pos`` (h shaped as pos;
    repeats add up); recorded (ScatterAdd), the transpose of ``_take``."""
    zeros = Tensor(xp.zeros(prod(shape), dtype=h.dtype))
    pos = xp.ascontiguousarray(xp.asarray(pos)).reshape(-1)
    return apply(I.ScatterAdd, zeros, h.reshape(-1), pos, dim=0).reshape(tuple(shape))


def _kept_except(shape, index, g: Tensor) -> Tensor:
    """g with the places x[index] zeroed (written over: their old values are gone)."""
    keep = xp.ones(tuple(shape), dtype=g.dtype)
    keep[index] = 0
    return g * Tensor(keep)


def _to_value_shape(t: Tensor, v_shape) -> Tensor:
    """The gradient of the written places summed down to the value's shape (v may carry
    leading 1-dims that the target lacks)."""
    if t.ndim < len(v_shape):
        t = t.reshape(*((1,) * (len(v_shape) - t.ndim) + tuple(t.shape)))
    return sum_to(t, v_shape)


# ---------------------------------------------------------------- indexing and placement


@rule(S.GetItem)
def _getitem(fn, g):
    """y = x[index]:  ∂L/∂x = g added back at the places the index read (repeats add up).
    A basic index (ints, slices, None, Ellipsis) reads each place at most once: g written into
    zeros there; integer arrays, masks and their mixtures with slices: a scatter-add."""
    if not S._has_array_index(fn.index):
        zeros = Tensor(xp.zeros(fn.shape, dtype=g.dtype))
        return (apply(P.SetItem, zeros, g, index=fn.index),)
    return (_put_add(fn.shape, _positions(fn.shape)[fn.index], g),)


@rule(P.SetItem)
def _setitem(fn, g):
    """y = x, y[index] = v:  ∂L/∂x = g zeroed at the written places;  ∂L/∂v = g[index]."""
    gx = gv = None
    if fn.parents[0] is not None:
        gx = _kept_except(g.shape, fn.index, g)
    if fn.parents[1] is not None:
        gv = _to_value_shape(_take(g, _positions(g.shape)[fn.index]), fn.v_shape)
    return gx, gv


@rule(P.IndexPut)
def _index_put(fn, g):
    """y = x, y[indices] = v (or += with accumulate):  ∂L/∂x = g (zeroed at the written places
    unless accumulate);  ∂L/∂v = g[indices] summed to v's shape."""
    gx = gv = None
    if fn.parents[0] is not None:
        gx = g if fn.accumulate else _kept_except(g.shape, fn.idx, g)
    if fn.parents[1] is not None:
        gv = _to_value_shape(_take(g, _positions(g.shape)[fn.idx]), fn.v_shape)
    return gx, gv


@rule(I.MaskedSelect)
def _masked_select(fn, g):
    """y = x[mask] (1-D):  ∂L/∂x = g put back where mask holds, summed over broadcasting."""
    m = fn.mask
    return sum_to(_put_add(m.shape, _positions(m.shape)[m], g), fn.shape), None


@rule(P.MaskedScatter)
def _masked_scatter(fn, g):
    """y = x, y[mask] = src's first k elements:  ∂L/∂x = g off the mask (summed to x's shape);
    ∂L/∂src = g at the masked places, in order, in src's first k elements (0 beyond)."""
    gx = gsrc = None
    if fn.parents[0] is not None:
        gx = sum_to(g * Tensor((~fn.m).astype(g.dtype)), fn.x_shape)
    if fn.parents[1] is not None:
        picked = _take(g, _positions(fn.m.shape)[fn.m])
        gsrc = _put_add(fn.src_shape, xp.arange(fn.k), picked)
    return gx, gsrc, None


def _slices_at(fn, shape, src_shape):
    """The flat positions, in y, of the slices index_add/index_copy write (shaped as src)."""
    return IM._take_rows(_positions(shape), fn.dim, fn.index, src_shape)


@rule(IM.IndexAdd)
def _index_add(fn, g):
    """y = x, y[…, index[i], …] += α·src[…, i, …]:  ∂L/∂x = g;  ∂L/∂src = α·g at index."""
    gsrc = None
    if fn.parents[1] is not None:
        gsrc = _take(g, _slices_at(fn, g.shape, fn.src_shape))
        gsrc = gsrc * fn.alpha if fn.alpha != 1 else gsrc
    return (g if fn.parents[0] is not None else None), gsrc, None


def _rows_zeroed(fn, g: Tensor) -> Tensor:
    keep = xp.ones(g.shape, dtype=g.dtype)
    IM._rows(keep, fn.dim)[fn.index] = 0
    return g * Tensor(keep)


@rule(IM.IndexCopy)
def _index_copy(fn, g):
    """y = x, y[…, index[i], …] = src[…, i, …]:  ∂L/∂x = g zeroed on the copied slices;
    ∂L/∂src = g at index."""
    gx = _rows_zeroed(fn, g) if fn.parents[0] is not None else None
    gsrc = None
    if fn.parents[1] is not None:
        gsrc = _take(g, _slices_at(fn, g.shape, fn.src_shape))
    return gx, gsrc, None


@rule(IM.IndexFill)
def _index_fill(fn, g):
    """y = x with the slices at index filled:  ∂L/∂x = g zeroed on them."""
    return _rows_zeroed(fn, g), None


@rule(IM.ScatterReduce)
def _scatter_reduce(fn, g):
    """The op's own rules ('sum' g; 'mean' g/count; 'amax'/'amin' g shared among the tied
    extremes; 'prod' g·y/x and g·y/src with y recorded), each gathered at the written places for
    src; places of x written without include_self get none."""
    pos = _positions(g.shape)[fn.where]  # where each src element went, shaped as the index
    x, s, y, red = fn.x, fn.s, fn.y, fn.reduce
    if red == "sum":
        gx, gs = g, _take(g, pos)
    elif red == "mean":
        gq = g / Tensor(fn.count.astype(g.dtype))
        gx, gs = gq, _take(gq, pos)
    elif red in ("amax", "amin"):
        x_is, s_is = (x == y).astype(g.dtype), (s == y[fn.where]).astype(g.dtype)
        n = x_is.copy()
        scatter_add(n, fn.where, s_is)  # how many share each extreme
        gq = g / Tensor(n)
        gx, gs = gq * Tensor(x_is), _take(gq, pos) * Tensor(s_is)
    else:
        if (x == 0).any() or (s == 0).any():
            raise NotImplementedError(
                "scatter_reduce(): the backward of reduce='prod' with a zero in self or src"
                " is not implemented"
            )
        x_t = _input(fn, 0, "x")
        s_t = Tensor(s) if fn.parents[1] is None else fn.parents[1][I._leading(fn.index_shape)]
        y_t = apply(IM.ScatterReduce, x_t, s_t, fn.where[fn.dim], dim=fn.dim, reduce="prod",
                    include_self=fn.include_self)  # fmt: skip
        gx, gs = g * y_t / x_t, _take(g * y_t, pos) / s_t
    if not fn.include_self:
        gx = gx * Tensor((~fn.hit).astype(g.dtype))
    gsrc = None
    if fn.parents[1] is not None:
        gsrc = _put_add(fn.src_shape, _positions(fn.src_shape)[I._leading(fn.index_shape)], gs)
    return (gx if fn.parents[0] is not None else None), gsrc, None


@rule(S.Windows)
def _windows(fn, g):
    """x.unfold(dim, size, step):  ∂L/∂x = each window's gradient added back where it reads."""
    at = _positions(fn.x_shape)
    n = (fn.x_shape[fn.dim] - fn.size) // fn.step + 1
    pos = strided_view(at, *S._window_layout(at.shape, at.strides, fn.dim, fn.size, fn.step, n))
    return (_put_add(fn.x_shape, pos, g),)


# ---------------------------------------------------------------- pooling and unpooling


@rule(UP.MaxPool2dWithIndices)
def _max_pool_with_indices(fn, gys):
    """(y, I): ∂L/∂x = ∂L/∂y added at the maxima's places (the indices carry no gradient)."""
    g = gys[0]
    if g is None:
        return (None,)
    gx = _put_add(fn.x_shape, fn.flat_index, g.reshape(*fn.flat_index.shape))
    n, c, _, w = fn.x_shape
    return ((gx.reshape(n, c, w) if fn.one_d else gx),)


@rule(UP.MaxUnpool2d)
def _max_unpool(fn, g):
    """z[I] = y, 0 elsewhere:  ∂L/∂y = ∂L/∂z taken at I."""
    return _take(g, fn.flat_index).reshape(*fn.y_shape), None


def _places_3d(x_shape, pads):
    """Flat positions in x of the padded volume's voxels, −1 in the padding."""
    return C3.pad3d(_positions(x_shape), pads, value=-1)


def _spread(x_shape, pos, h: Tensor) -> Tensor:
    """h added at the positions pos of x; positions −1 (padding) take nothing."""
    inside = pos >= 0
    return _put_add(x_shape, xp.where(inside, pos, 0), h * Tensor(inside.astype(h.dtype)))


@rule(P3.MaxPool3d, P3.MaxPool3dWithIndices)
def _max_pool3d(fn, g):
    """Each window's gradient to its first maximal voxel (the op's ``best`` offset)."""
    if fn.n_outputs > 1:  # with indices: (y, I), I carries no gradient
        g = g[0]
        if g is None:
            return (None,)
    x_shape, _, kernel, stride, pads, dilation, out_dhw = fn.geometry
    places = _places_3d(x_shape, pads)
    pos = xp.zeros(fn.best.shape, dtype=xp.int64)
    for k, offset in enumerate(C3.kernel_offsets(kernel)):
        part = places[C3.offset_slice3d(offset, stride, dilation, out_dhw)]
        pos = xp.where(fn.best == k, part, pos)
    return (_spread(x_shape, pos, g),)


@rule(P3.AvgPool3d)
def _avg_pool3d(fn, g):
    """Each window's gradient, times its 1/|R|, to every voxel of the window."""
    x_shape, _, kernel, stride, pads, out_dhw = fn.geometry
    places = _places_3d(x_shape, pads)
    offsets = C3.kernel_offsets(kernel)
    pos = xp.stack([places[C3.offset_slice3d(o, stride, (1, 1, 1), out_dhw)] for o in offsets])
    h = (g * Tensor(xp.asarray(fn.scale, dtype=g.dtype))).unsqueeze(0)
    return (_spread(x_shape, pos, h.expand(len(offsets), *g.shape)),)


# ---------------------------------------------------------------- composed forms


@rule(C3.Conv3d)
def _conv3d(fn, g):
    """Through the composed form: Y_g = W_g · X_col,g + b per group, the columns X_col gathered
    from the padded input at the positions the op's own im2col view reads (the array the op
    kept when x needs no grad)."""
    x_shape, pad_shape, stride, padding, dilation, groups, out_dhw = fn.geometry
    w = _input(fn, 1, "weight")
    o, c_g = w.shape[:2]
    kernel = tuple(w.shape[2:])
    x = fn.parents[0]
    if x is None:
        cols = Tensor(fn.X_col)
    else:
        if any(a or b for a, b in padding):
            x = apply(S.Pad, x, pad_width=((0, 0), (0, 0)) + tuple(map(tuple, padding)))
        at = C3.columns(_positions(pad_shape), kernel, stride, dilation, out_dhw)
        cols = _take(x, at)  # (C, kd, kh, kw, N, Do, Ho, Wo)
    k = c_g * prod(kernel)
    y = w.reshape(groups, o // groups, k) @ cols.reshape(groups, k, -1)
    y = y.reshape(o, x_shape[0], *out_dhw).permute(1, 0, 2, 3, 4)
    b = fn.parents[2] if len(fn.parents) > 2 else None
    if b is not None:  # (a bias that needs no grad changes no derivative: left out)
        y = y + b.reshape(1, o, 1, 1, 1)
    return _vjp(y, list(fn.parents), g)


@rule(LCE.LinearCrossEntropy)
def _linear_cross_entropy(fn, g):
    """Through the reference form, cross_entropy(x·Wᵀ + b, t): the (N, C) logits are built
    whole for the recorded pass (the chunked op saves them only in first-order backward)."""
    x, w = _input(fn, 0, "x"), _input(fn, 1, "w")
    z = x @ w.transpose(0, 1)
    b = fn.parents[2] if fn.parents[2] is not None else (None if fn.b is None else Tensor(fn.b))
    if b is not None:
        z = z + b
    t = xp.where(fn.keep, fn.tt, -100)
    loss = apply(LO.CrossEntropy, z, t, weight=fn.weight, ignore_index=-100,
                 label_smoothing=fn.eps, reduction=fn.reduction)  # fmt: skip
    return _vjp(loss, list(fn.parents), g)


def _along_grid(grid: Tensor, k: int, f0, ds) -> Tensor:
    """A fraction of coordinate k as a function of the grid, flat (P, 1): f₀ + ∂s/∂g·(g − g₀),
    its value f₀ and its slope the op's ∂s/∂g."""
    d = ds.reshape(-1, 1)
    return grid[..., k].reshape(-1, 1) * Tensor(d) + Tensor(
        f0 - grid.array[..., k].reshape(-1, 1) * d
    )


@rule(GS.GridSample2d)
def _grid_sample(fn, g):
    """Through the composed form y = Σ_corners w_c·v_c: v_c the corner pixels gathered from x
    (0 outside the image), w_c the bilinear weights (1 for nearest). The pixel coordinate is
    piecewise linear in the grid, s = s₀ + ∂s/∂g·(g − g₀) around the op's own point, so the
    fractions e = s − ⌊s⌋, n are recorded from the grid that way; constants where the grid
    (or x) needs no grad, from what the op kept."""
    x, grid = fn.parents
    x_shape, grid_shape, row_list, masks, geometry = fn.saved
    c = x_shape[1]
    flat_grid = None if grid is None else Tensor(xp.zeros(grid_shape, dtype=g.dtype))
    if fn.mode == "nearest" and x is None:  # piecewise constant in the grid: 0, as the op's
        return None, flat_grid
    if x is not None:
        flat = x.permute(0, 2, 3, 1).reshape(-1)  # channels-last, as the op's rows
        channel = xp.arange(c, dtype=xp.int64)
        values = [_take(flat, row[:, None] * c + channel) * Tensor(m)
                  for row, m in zip(row_list, masks)]  # fmt: skip
    else:
        values = [Tensor(v) for v in geometry[4]]
    if fn.mode == "nearest":
        out = values[0]
    else:
        if grid is None:
            weights = [Tensor(w) for w in fn.weights]
        else:
            e0, n0, dsx, dsy, _ = geometry
            e, n = _along_grid(grid, 0, e0, dsx), _along_grid(grid, 1, n0, dsy)
            weights = [(1.0 - n) * (1.0 - e), (1.0 - n) * e, n * (1.0 - e), n * e]
        out = sum((w * v for w, v in zip(weights[1:], values[1:])), weights[0] * values[0])
    n_, ho, wo = grid_shape[:3]
    y = out.reshape(n_, ho, wo, c).permute(0, 3, 1, 2)
    if fn.mode == "nearest":
        return _vjp(y, [x], g)[0], flat_grid
    return _vjp(y, list(fn.parents), g)
