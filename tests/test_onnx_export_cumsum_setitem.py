"""ember.onnx.export of cumsum (ONNX CumSum), masked_select (Compress), indexing with a mask
computed in the graph (Gather / GatherND of NonZero), and in-place indexed writes x[i] = v /
index_put (ScatterElements at the positions the index addresses, ember/onnx/ops_setitem.py),
checked against onnxruntime on the traced input, other values and other sizes."""

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

import ember  # noqa: E402
import ember.nn as nn  # noqa: E402
from tests.test_onnx_export_compare import Fn, check, data  # noqa: E402

DYN = {"x": {0: "b"}, "y": {0: "b"}}


def _run(fn, shape, others, path, **kw):
    x = data(*shape)
    return check(Fn(fn), x, [data(*s, seed=k + 1) for k, s in enumerate(others)], path, **kw)


# ---------------------------------------------------------------- cumsum


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_cumsum(dim, tmp_path):
    found = _run(lambda x: x.cumsum(dim) * 2, (4, 5, 3), [(4, 5, 3), (7, 5, 3), (1, 5, 3)],
                 tmp_path / "c.onnx")  # fmt: skip
    assert "CumSum" in found


def test_reverse_cumsum_by_flip_and_integer_cumsum(tmp_path):
    """x.flip(d).cumsum(d).flip(d) (a Slice with step −1 on each side), and a cumsum of a mask
    and of int32 values, which NumPy (and torch) sum as int64."""

    def fn(x):
        return x.flip(1).cumsum(1).flip(1), (x > 0).cumsum(1), (x * 10).int().cumsum(0)

    names = ["y", "m", "i"]
    dyn = {"x": {0: "b"}, **{n: {0: "b"} for n in names}}
    found = _run(fn, (4, 6), [(4, 6), (9, 6), (1, 6)], tmp_path / "r.onnx", output_names=names,
                 dynamic_axes=dyn)  # fmt: skip
    assert {"CumSum", "Slice", "Greater"} <= found


# ---------------------------------------------------------------- masks selecting


def test_masked_select_and_mask_indexing(tmp_path):
    """masked_select and x[mask] with a mask computed in the graph: the output's length
    follows the input's values."""
    names = ["y", "z", "w", "v"]
    dyn = {"x": {0: "b"}, **{n: {0: "n"} for n in names}}

    def fn(x):
        row = x[:, 0] > 0  # a 1-D mask over the rows
        return x.masked_select(x > 0.5), x[x < 0], x[row], x[:, 1:][row, 2]

    found = _run(fn, (5, 4), [(5, 4), (8, 4), (2, 4)], tmp_path / "s.onnx", output_names=names,
                 dynamic_axes=dyn)  # fmt: skip
    assert {"Compress", "NonZero", "GatherND", "Gather"} <= found


def test_constant_mask_of_two_dims(tmp_path):
    """x[m] with a constant 2-D mask takes the places where m holds (GatherND), not the rows
    of m's first nonzero coordinates (what a Gather of np.nonzero(m)[0] gave)."""
    m = np.random.default_rng(0).random((4, 6)) > 0.5
    found = check(Fn(lambda x: x[m] * 2), data(4, 6), [data(4, 6, seed=1)], tmp_path / "m.onnx",
                  dynamic_axes=None)  # fmt: skip
    assert "GatherND" in found


def test_masked_select_broadcast_mask(tmp_path):
    def fn(x):
        return x.masked_select(x[:1] > 0)  # (1, 4) mask against (B, 4)

    dyn = {"x": {0: "b"}, "y": {0: "n"}}
    _run(fn, (3, 4), [(3, 4), (6, 4)], tmp_path / "b.onnx", dynamic_axes=dyn)


# ---------------------------------------------------------------- x[index] = v


def _write_slices(x):
    y = x * 2
    y[:, 2:4] = 0.5  # a slice, a number
    y[:, -1] = x[:, 0]  # an int index, a tensor
    y[1:, ::-2] = y[1:, ::-2] * 3  # a negative step, written from itself
    y[..., 1] = 7.0  # Ellipsis
    return y


def _write_masks(x):
    y = x + 1
    y[x < 0] = -1.0  # a 2-D mask computed in the graph, one value
    y[y > 1.5] = y[y > 1.5] * 10  # as many values as places
    y[x[:, 0] > 0, 1:3] = 0.0  # a 1-D mask over the rows, then a slice
    return y


def _write_int_array(x):
    y = x * 1
    y[:, np.array([3, 0])] = x[:, :2] * -1  # distinct places: exact
    y[np.array([-1])] = 5.0
    return y


def _write_in_place_activation(x):
    y = x * 3
    nn.functional.relu(y[:, 1:3], inplace=True)
    y[:, 0] += x[:, 1]
    return y


WRITES = {
    "slices": _write_slices,
    "masks": _write_masks,
    "int_array": _write_int_array,
    "in_place_activation": _write_in_place_activation,
}


@pytest.mark.parametrize("name", sorted(WRITES))
def test_setitem(name, tmp_path):
    found = _run(WRITES[name], (4, 5), [(4, 5), (7, 5), (2, 5)], tmp_path / f"{name}.onnx",
                 dynamic_axes=DYN)  # fmt: skip
    assert "ScatterElements" in found


def test_setitem_bounds_follow_a_dynamic_axis(tmp_path):
    """y[:, : T − 1] = … with T the input's dynamic length: the bound is T − 1 in the graph."""

    def fn(x):
        y = x * 1
        y[:, : x.shape[1] - 1] = x[:, 1:]
        return y

    dyn = {"x": {0: "b", 1: "t"}, "y": {0: "b", 1: "t"}}
    _run(fn, (3, 6), [(3, 6), (2, 9), (4, 3)], tmp_path / "t.onnx", dynamic_axes=dyn)


def test_index_put(tmp_path):
    def fn(x):
        rows = np.array([0, 2, 0])  # repeated: accumulate adds both
        y = x.index_put((ember.tensor(rows),), x[:3] * 2, accumulate=True)
        return y.index_put((x[:, 0] > 0,), ember.tensor(np.float32(-3.0)))

    _run(fn, (5, 3), [(5, 3), (8, 3), (3, 3)], tmp_path / "i.onnx", dynamic_axes=DYN)


class _Writes(nn.Module):
    def __init__(self, index, value):
        super().__init__()
        self.index, self.value = index, value

    def forward(self, x):
        y = x * 2
        y[self.index(x)] = self.value(x)
        return y


def test_setitem_refuses_what_it_cannot_write_exactly(tmp_path):
    """A repeated constant index with several values (NumPy keeps the last one; ONNX leaves
    the order open) and an index computed in the graph with several values are refused."""
    twice = _Writes(lambda x: np.array([1, 1]), lambda x: x[:2] * 3)
    with pytest.raises(NotImplementedError, match="integer index with repeated entries"):
        ember.onnx.export(twice, (data(4, 3),), str(tmp_path / "a.onnx"))
    computed = _Writes(lambda x: x[:, 0].argmax(), lambda x: x[0] * 3)
    with pytest.raises(NotImplementedError, match="integer index computed in the graph"):
        ember.onnx.export(computed, (data(4, 3),), str(tmp_path / "b.onnx"))
    one_value = _Writes(lambda x: x[:, 0].argmax(), lambda x: 0.0)  # any order: the same
    check(one_value, data(4, 3), [data(4, 3, seed=2), data(6, 3, seed=3)], tmp_path / "c.onnx")
