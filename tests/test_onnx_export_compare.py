"""Comparisons and logic in a model's own code (x > 0, ==, ~, &, |, ^, logical_*, isnan…) are
ops while an observer watches (ember/ops/compare.py), so ember.onnx.export computes the mask in
the graph (ember/onnx/ops_logic.py) instead of baking in the traced input's mask; eagerly they
give what they gave before, with or without an observer."""

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

import ember  # noqa: E402
import ember.nn as nn  # noqa: E402
from ember.function import observers  # noqa: E402
from ember.onnx.trace import flatten  # noqa: E402
from tests.test_onnx_export import BATCH, export_session  # noqa: E402


class Fn(nn.Module):
    def __init__(self, fn):
        super().__init__()
        self.fn = fn

    def forward(self, x):
        return self.fn(x)


def _eager(model, x):
    with ember.no_grad():
        return [t.numpy() for t in flatten(model(x))]


def check(model, x, others, path, **kw):
    """Export (dynamic batch), then onnxruntime == ember on x and on every other input."""
    kw = {"input_names": ["x"], "output_names": ["y"], "dynamic_axes": BATCH, **kw}
    proto, sess = export_session(model, (x,), path, **kw)
    for xi in [x, *others]:
        got = sess.run(None, {"x": xi.numpy()})
        want = _eager(model, xi)
        for g, w in zip(got, want):
            assert g.shape == w.shape and g.dtype == w.dtype
            if w.dtype.kind == "f":
                np.testing.assert_allclose(g, w, rtol=1e-6, atol=0)
            else:
                np.testing.assert_array_equal(g, w)
    return {n.op_type for n in proto.graph.node}


def data(*shape, seed=0):
    """Values on both sides of the thresholds the models use, ties with 0 included."""
    rng = np.random.default_rng(seed)
    a = rng.standard_normal(shape).astype(np.float32)
    a.flat[::5] = 0.0
    return ember.tensor(a)


MODELS = {
    "leaky_where": (lambda x: ember.where(x > 0, x, 0.1 * x), {"Greater", "Where"}),
    "mul_by_mask": (lambda x: x * (x > 0), {"Greater", "Cast"}),
    "masked_fill_or": (lambda x: x.masked_fill((x < -0.5) | (x >= 1), 2.0), {"Less", "Or"}),
    "le_ge_and_not": (lambda x: ~((x <= 0.25) & (x >= -0.25)), {"LessOrEqual", "Not", "And"}),
    "eq_ne_xor": (lambda x: (x.abs() == x) ^ (x != 0), {"Equal", "Xor", "Not"}),
    "logical": (
        lambda x: ember.logical_xor(
            ember.logical_and(x, x > -1).logical_or(x.logical_not()), x < 0.5
        ),
        {"And", "Or", "Xor", "Not"},
    ),
    "scalar_condition": (lambda x: ember.where(x.sum() > 0, x, -x), {"Greater", "Where"}),
    "tensor_vs_tensor": (lambda x: ember.where(x > x.flip(0), x, x.flip(0)), {"Greater"}),
    "masked_fill_eq": (
        lambda x: x.masked_fill(x == 0, -1.0).masked_fill(x.eq(x.max()), 9.0),
        {"Equal"},
    ),  # fmt: skip
}


@pytest.mark.parametrize("name", sorted(MODELS))
def test_mask_is_computed_in_the_graph(name, tmp_path):
    fn, nodes = MODELS[name]
    model = Fn(fn)
    x = data(4, 6)
    found = check(model, x, [data(4, 6, seed=1), data(1, 6, seed=2), data(9, 6, seed=3)],
                  tmp_path / f"{name}.onnx")  # fmt: skip
    assert nodes <= found, (nodes, found)


def test_a_baked_mask_would_be_wrong_on_a_second_input(tmp_path):
    """What the export did before: the traced mask as a constant. On a second input that
    answer is wrong; the graph's answer is ember's."""
    model = Fn(lambda x: ember.where(x > 0, x, 0.1 * x))
    x, x2 = data(4, 6), data(4, 6, seed=7)
    ember.onnx.export(model, (x,), str(tmp_path / "m.onnx"), input_names=["x"])
    sess = ort.InferenceSession(str(tmp_path / "m.onnx"), providers=["CPUExecutionProvider"])
    baked = np.where(x.numpy() > 0, x2.numpy(), np.float32(0.1) * x2.numpy())
    want = _eager(model, x2)[0]
    got = sess.run(None, {"x": x2.numpy()})[0]
    assert not np.array_equal(baked, want)
    np.testing.assert_array_equal(got, want)


def test_integer_ids_padding_mask(tmp_path):
    """ids == pad on an int64 input (no gradient anywhere), at other lengths."""
    emb = nn.Embedding(10, 3)

    class Pad(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = emb

        def forward(self, ids):
            return self.emb(ids).masked_fill((ids == 0).unsqueeze(-1), 0.0), ids != 0

    ids = ember.tensor(np.array([[0, 3, 4, 0], [5, 0, 9, 1]], dtype=np.int64))
    dyn = {"x": {0: "b", 1: "t"}, "y": {0: "b", 1: "t"}, "m": {0: "b", 1: "t"}}
    rng = np.random.default_rng(3)
    others = [ember.tensor(rng.integers(0, 3, (3, 7))), ember.tensor(rng.integers(0, 10, (1, 2)))]
    kw = {"output_names": ["y", "m"], "dynamic_axes": dyn}
    found = check(Pad().eval(), ids, others, tmp_path / "p.onnx", **kw)
    assert {"Equal", "Not", "Where"} <= found


def test_nan_and_inf_tests(tmp_path):
    def fn(x):
        return x.isnan(), x.isinf(), x.isfinite(), x.isposinf(), x.isneginf(), ember.isnan(x * 0)

    a = data(4, 5).numpy()
    a[0, :3] = [np.nan, np.inf, -np.inf]
    b = data(2, 5, seed=4).numpy()
    b[1, 2:] = [-np.inf, np.nan, np.inf]
    outs = {"output_names": [f"o{k}" for k in range(6)],
            "dynamic_axes": {"x": {0: "b"}, **{f"o{k}": {0: "b"} for k in range(6)}}}  # fmt: skip
    found = check(Fn(fn), ember.tensor(a), [ember.tensor(b), data(3, 5)], tmp_path / "n.onnx",
                  **outs)  # fmt: skip
    assert {"IsNaN", "IsInf", "Not", "Or"} <= found


def test_bool_operands_and_python_numbers(tmp_path):
    """(x > 0) < (x > 1) orders bools (as uint8 in the graph); int32 against a Python int
    compares in int32, float32 against 0.1 in float32 as NumPy does."""

    def fn(x):
        i = (x * 10).int()
        j = i != ember.tensor([0, 1, 2, 3, -1, -2])  # broadcast along the rows (a list: no,
        # torch's == and != take tensors and numbers only)
        return (x > 0) < (x > 1), i >= 3, x == np.float32(0.5).item(), x > 0.1, i == True, j  # noqa: E712

    x = data(4, 6)
    x.array[0, 0] = 0.1
    x.array[0, 1] = 0.5
    names = [f"o{k}" for k in range(6)]
    dyn = {"x": {0: "b"}, **{n: {0: "b"} for n in names}}
    check(Fn(fn), x, [data(2, 6, seed=5)], tmp_path / "b.onnx", output_names=names,
          dynamic_axes=dyn)  # fmt: skip


def test_integer_bitwise_needs_opset_18(tmp_path):
    def fn(x):
        i = (x * 100).int()
        return (i & 12) | (~i ^ 5)

    x = data(3, 4)
    with pytest.raises(NotImplementedError, match="BitwiseAnd of int(32|64) .*opset_version >= 18"):
        ember.onnx.export(Fn(fn), (x,), str(tmp_path / "a.onnx"))
    found = check(Fn(fn), x, [data(5, 4, seed=1)], tmp_path / "b.onnx", opset_version=18)
    assert {"BitwiseAnd", "BitwiseOr", "BitwiseXor", "BitwiseNot"} <= found


# ---------------------------------------------------------------- eager: the same as before


class _Seen:
    def __init__(self):
        self.ops = []

    def on_forward(self, fn, arrays, out):
        self.ops.append(type(fn).__name__)


def assert_same_with_an_observer(op: str, fn) -> None:
    """fn() runs the op ``op`` (and only it) through apply while an observer watches, and
    gives the same values, dtype, shape and type as without one, never requiring grad."""
    plain = fn()
    seen = _Seen()
    observers.append(seen)
    try:
        watched = fn()
    finally:
        observers.remove(seen)
    assert seen.ops == [op]
    assert type(watched) is type(plain) and not watched.requires_grad
    assert watched.array.dtype == plain.array.dtype and watched.shape == plain.shape
    np.testing.assert_array_equal(watched.numpy(), plain.numpy())


def _cases():
    f = ember.tensor(np.array([[1.5, -2.0, 0.0], [np.nan, np.inf, -np.inf]], np.float32))
    g = ember.tensor(np.array([[1.5, 2.0, -1.0], [0.0, np.inf, 3.0]], np.float32))
    i = ember.tensor(np.array([[3, -1, 0], [7, 2, 2]], np.int32))
    b, c = f > 0, g > 0
    s = ember.tensor(np.float64(2.0))
    return [
        ("Greater", lambda: f > g), ("Less", lambda: f < 0), ("LessEqual", lambda: i <= 2),
        ("GreaterEqual", lambda: f >= 1.5), ("Equal", lambda: f == g),
        ("NotEqual", lambda: i != 2), ("Equal", lambda: s == 2), ("Greater", lambda: s > s),
        ("Equal", lambda: i.eq(i)), ("Less", lambda: f.lt(g)), ("Equal", lambda: b == True),  # noqa: E712
        ("BitwiseNot", lambda: ~b), ("BitwiseNot", lambda: ~i), ("BitwiseAnd", lambda: b & c),
        ("BitwiseOr", lambda: b | True), ("BitwiseXor", lambda: i ^ 6),
        ("BitwiseAnd", lambda: 3 & i),
        ("LogicalNot", lambda: f.logical_not()), ("LogicalAnd", lambda: ember.logical_and(f, i)),
        ("LogicalOr", lambda: f.logical_or(0)), ("LogicalXor", lambda: ember.logical_xor(i, b)),
        ("IsNaN", lambda: f.isnan()), ("IsInf", lambda: ember.isinf(f)),
        ("IsFinite", lambda: f.isfinite()), ("IsFinite", lambda: i.isfinite()),
        ("IsPosInf", lambda: f.isposinf()), ("IsNegInf", lambda: ember.isneginf(f)),
        ("Astype", lambda: b.float()), ("Sum", lambda: g.sum()),  # a cast; a 0-d result
    ]  # fmt: skip


@pytest.mark.parametrize("k", range(len(_cases())))
def test_eager_results_are_the_same_with_an_observer(k):
    assert_same_with_an_observer(*_cases()[k])


@pytest.mark.parametrize("watch", [False, True])
def test_complex_refusals_stay(watch):
    z = ember.tensor(np.array([1 + 1j, 2], np.complex64))
    seen = _Seen()
    if watch:
        observers.append(seen)
    try:
        for fn in (lambda: z < 1, lambda: z >= z, lambda: ember.ones(2) > z, lambda: z.gt(0)):
            with pytest.raises(NotImplementedError):
                fn()
        np.testing.assert_array_equal((z == z).numpy(), [True, True])  # equality is defined
        np.testing.assert_array_equal((z != 2).numpy(), [True, False])
    finally:
        if watch:
            observers.remove(seen)
    assert seen.ops == (["Equal", "NotEqual"] if watch else [])
