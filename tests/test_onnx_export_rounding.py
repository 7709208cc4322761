"""round / floor / ceil / trunc / frac / sign, all / any / count_nonzero, isclose, nonzero /
argwhere and one_hot in a model's own code are ops while an observer watches
(ember/ops/rounding.py), so ember.onnx.export computes them in the graph
(ember/onnx/ops_rounding.py) rather than refusing a value made from the input outside the
trace; eagerly they give what they gave before (with torch's zero gradient for the step
functions), with or without an observer."""

import numpy as np
import pytest
import torch

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

import ember  # noqa: E402
import ember.nn.functional as F  # noqa: E402
from ember.function import observers  # noqa: E402
from tests.test_onnx_export import export_session  # noqa: E402
from tests.test_onnx_export_compare import (  # noqa: E402
    Fn,
    _eager,
    _Seen,
    assert_same_with_an_observer,
)


def check_exact(model, x, others, path, n_out=1, batch_out=True):
    """Export with a dynamic batch; onnxruntime equals ember exactly (NaN where NaN) on x and on
    every other input. Returns the graph's node types."""
    names = [f"o{k}" for k in range(n_out)]
    dyn = {"x": {0: "b"}, **({n: {0: "n"} for n in names} if batch_out else {})}
    proto, sess = export_session(model, (x,), path, input_names=["x"], output_names=names,
                                 dynamic_axes=dyn)  # fmt: skip
    for xi in [x, *others]:
        got = sess.run(None, {"x": xi.numpy()})
        want = _eager(model, xi)
        assert len(got) == len(want) == n_out
        for g, w in zip(got, want):
            assert g.shape == w.shape and g.dtype == w.dtype, (g.shape, w.shape, g.dtype, w.dtype)
            np.testing.assert_array_equal(g, w)
    return {n.op_type for n in proto.graph.node}


def halves(*shape, seed=0, scale=4.0, dtype=np.float32):
    """Values with exact ties (k + ½, both signs), zeros, and random values."""
    rng = np.random.default_rng(seed)
    a = (rng.standard_normal(shape) * scale).astype(dtype)
    flat = a.reshape(-1)
    flat[::3] = (rng.integers(-6, 6, flat[::3].shape) + 0.5).astype(dtype)
    flat[1::7] = 0.0
    return ember.tensor(a)


def _others(*shape, dtype=np.float32):
    rest = shape[1:]
    return [halves(*shape, seed=1, dtype=dtype), halves(1, *rest, seed=2, dtype=dtype),
            halves(7, *rest, seed=3, dtype=dtype)]  # fmt: skip


MODELS = {
    "round": (lambda x: x.round(), {"Round"}),
    "round_decimals": (lambda x: (x * 0.37).round(decimals=2), {"Round", "Mul", "Div"}),
    "round_negative_decimals": (lambda x: ember.round(x * 37, decimals=-1), {"Round"}),
    "floor_ceil": (lambda x: x.floor() + 10 * x.ceil(), {"Floor", "Ceil"}),
    "trunc_frac_fix": (lambda x: x.trunc() * 3 + x.frac() + ember.fix(x * 0.3), {"Where"}),
    "sign_sgn": (lambda x: x.sign() * x.abs() + ember.sgn(x - 1), {"Sign", "IsNaN"}),
    "fake_quant": (lambda x: (x / 0.25).round().clamp(-8, 7) * 0.25, {"Round"}),
    "straight_through": (lambda x: x + (x.round() - x).detach(), {"Round"}),
}


@pytest.mark.parametrize("name", sorted(MODELS))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_rounding_is_computed_in_the_graph(name, dtype, tmp_path):
    fn, nodes = MODELS[name]
    x = halves(4, 6, dtype=dtype)
    found = check_exact(Fn(fn), x, _others(4, 6, dtype=dtype), tmp_path / f"{name}.onnx")
    assert nodes <= found, (nodes, found)


def test_sign_of_nan_and_infinities(tmp_path):
    a = halves(3, 5).numpy()
    a[0, :4] = [np.nan, np.inf, -np.inf, -0.0]
    b = halves(2, 5, seed=9).numpy()
    b[1, 1:3] = [np.nan, -np.inf]
    found = check_exact(Fn(lambda x: x.sign()), ember.tensor(a), [ember.tensor(b)],
                        tmp_path / "s.onnx")  # fmt: skip
    assert {"Sign", "IsNaN", "Where"} <= found


def test_integer_input_rounds_to_itself_and_signs(tmp_path):
    def fn(x):
        return x.round() + x.floor() * 3 + x.ceil() * 5 + x.trunc() * 7, x.sign()

    ints = ember.tensor(np.array([[3, -1, 0, 8], [-7, 2, 2, 0]], np.int64))
    others = [ember.tensor(np.arange(-6, 6, dtype=np.int64).reshape(3, 4))]
    found = check_exact(Fn(fn), ints, others, tmp_path / "i.onnx", n_out=2)
    assert {"Identity", "Sign"} <= found


def test_all_any_count_nonzero(tmp_path):
    def fn(x):
        m = x > 0
        return (m.all(dim=1), x.any(dim=1, keepdim=True), ember.all(x.round()),
                m.any(), x.count_nonzero(dim=1), ember.count_nonzero(x.round()),
                (x > -3).all(dim=(0, 1)))  # fmt: skip

    a = halves(4, 5).numpy()
    a[1] = np.abs(a[1]) + 0.5  # a row that is all positive
    a[2] = 0.0  # a row that is all zero
    a[3, 0] = np.nan  # NaN is nonzero
    b = halves(3, 5, seed=6).numpy()
    b[0] = 1.0
    names = 7
    found = check_exact(Fn(fn), ember.tensor(a), [ember.tensor(b), halves(1, 5, seed=2)],
                        tmp_path / "a.onnx", n_out=names, batch_out=False)  # fmt: skip
    assert {"ReduceSum", "Equal", "Greater"} <= found


def test_isclose(tmp_path):
    def fn(x):
        y = x.round(1)
        z = x * 0 + 1  # NaN where x is NaN
        d = x.double()  # isclose takes one dtype, as torch's
        return (ember.isclose(x, y, atol=0.03), x.isclose(y, rtol=0.01, atol=0.0),
                ember.isclose(x, z, equal_nan=True), d.isclose(d + 1e-9))  # fmt: skip

    a = halves(4, 6).numpy()
    a[0, :3] = [np.nan, np.inf, -np.inf]
    b = halves(2, 6, seed=8).numpy()
    b[1, 3:5] = [np.inf, np.nan]
    found = check_exact(Fn(fn), ember.tensor(a), [ember.tensor(b), halves(5, 6, seed=4)],
                        tmp_path / "c.onnx", n_out=4)  # fmt: skip
    assert {"Abs", "Sub", "LessOrEqual", "IsInf"} <= found


def test_nonzero_and_argwhere(tmp_path):
    """The number of rows is the run's own: NonZero computes it in the graph."""

    def fn(x):
        rows, cols = (x > 1).nonzero(as_tuple=True)
        return (x > 0).nonzero(), ember.argwhere(x.round()), rows * 10 + cols, x[x.round() != 0]

    found = check_exact(Fn(fn), halves(4, 6), _others(4, 6), tmp_path / "z.onnx", n_out=4)
    assert {"NonZero", "Transpose"} <= found


def test_one_hot(tmp_path):
    def fn(ids):
        return F.one_hot(ids, 7), F.one_hot(ids)

    ids = ember.tensor(np.array([[0, 3, 4], [5, 0, 2]], np.int64))
    others = [ember.tensor(np.array([[6, 1, 1]], np.int64)),
              ember.tensor(np.array([[1, 1, 2]] * 4, np.int64))]  # fmt: skip
    found = check_exact(Fn(fn), ids, others, tmp_path / "h.onnx", n_out=2)
    assert {"Equal", "Range", "ReduceMax"} <= found
    sess = ort.InferenceSession(str(tmp_path / "h.onnx"), providers=["CPUExecutionProvider"])
    assert sess.run(None, {"x": others[0].numpy()})[1].shape == (1, 3, 7)  # max + 1 at run time


def test_one_hot_from_a_rounded_float(tmp_path):
    """A class index the model computes from a float input: round, cast, one_hot."""
    fn = Fn(lambda x: F.one_hot((x.abs() * 2).round().clamp(0, 5).long(), 6).float().sum(1))
    found = check_exact(fn, halves(4, 6), _others(4, 6), tmp_path / "q.onnx")
    assert {"Round", "Equal"} <= found


# ---------------------------------------------------------------- eager: the same as before


def _cases():
    f = ember.tensor(
        np.array([[1.5, -2.5, 0.0, 0.25], [np.nan, np.inf, -np.inf, -0.5]], np.float32)
    )
    g = ember.tensor(np.array([[1.5, 2.0, -1.0, 0.25], [np.nan, np.inf, 3.0, -0.5]], np.float32))
    i = ember.tensor(np.array([[3, -1, 0, 4], [7, 2, 2, 0]], np.int32))
    ids = ember.tensor(np.array([2, 0, 4], np.int64))
    m = f > 9
    return [
        ("Round", lambda: f.round()), ("Round", lambda: f.round(decimals=1)),
        ("Round", lambda: ember.round(i)), ("Floor", lambda: f.floor()), ("Ceil", lambda: i.ceil()),
        ("Trunc", lambda: ember.trunc(f)), ("Sign", lambda: f.sign()), ("Sign", lambda: i.sign()),
        ("Sign", lambda: ember.sgn(f)), ("All", lambda: f.all()), ("All", lambda: i.all(dim=1)),
        ("Any", lambda: ember.any(f, 0, True)), ("Any", lambda: m.any()),
        ("CountNonzero", lambda: i.count_nonzero()), ("CountNonzero", lambda: f.count_nonzero(0)),
        ("IsClose", lambda: f.isclose(g)), ("IsClose", lambda: ember.isclose(f, g, equal_nan=True)),
        ("Nonzero", lambda: i.nonzero()), ("Nonzero", lambda: f.argwhere()),
        ("OneHot", lambda: F.one_hot(ids)), ("OneHot", lambda: F.one_hot(ids, 6)),
    ]  # fmt: skip


@pytest.mark.parametrize("k", range(len(_cases())))
def test_eager_results_are_the_same_with_an_observer(k):
    assert_same_with_an_observer(*_cases()[k])


def test_nonzero_as_tuple_with_an_observer():
    x = ember.tensor(np.array([[0, 2, 0], [1, 0, 3]], np.int64))
    plain = x.nonzero(as_tuple=True)
    observers.append(_Seen())
    try:
        watched = x.nonzero(as_tuple=True)
    finally:
        observers.pop()
    assert len(watched) == len(plain) == 2
    for w, p in zip(watched, plain):
        assert w.array.dtype == p.array.dtype == np.int64
        np.testing.assert_array_equal(w.numpy(), p.numpy())


STEPS = ["round", "floor", "ceil", "trunc", "sign", "frac"]


@pytest.mark.parametrize("watch", [False, True])
@pytest.mark.parametrize("name", STEPS)
def test_gradient_is_torchs_with_and_without_an_observer(name, watch):
    """torch records the step functions with gradient 0 (frac: 1); so does ember, whether the
    result is a Where over a constant (eager) or the op itself (an observer watches)."""
    a = np.array([[0.5, -1.5, 2.25], [-0.0, 3.7, -2.5]], np.float64)
    tx = torch.tensor(a, requires_grad=True)
    ty = getattr(tx, name)()
    (ty * torch.arange(6.0, dtype=torch.float64).reshape(2, 3)).sum().backward()
    x = ember.tensor(a, requires_grad=True)
    seen = _Seen()
    if watch:
        observers.append(seen)
    try:
        y = getattr(x, name)()
    finally:
        if watch:
            observers.remove(seen)
    assert y.requires_grad and y.grad_fn is not None
    (y * ember.arange(6.0, dtype=ember.float64).reshape(2, 3)).sum().backward()
    np.testing.assert_array_equal(y.detach().numpy(), ty.detach().numpy())
    np.testing.assert_array_equal(x.grad.numpy(), tx.grad.numpy())
    if watch and name != "frac":
        assert seen.ops == [name.capitalize()]
    with ember.no_grad():
        assert not getattr(x, name)().requires_grad


@pytest.mark.parametrize("watch", [False, True])
def test_sign_matches_torch_at_nan_and_on_bool(watch):
    """torch.sign is (x > 0) − (x < 0): 0 at NaN (NumPy's sign gives NaN); a bool tensor is
    its own sign (NumPy has no bool sign)."""
    a = np.array([np.nan, -0.0, 2.0, -np.inf, np.inf, -3.0], np.float32)
    b = np.array([True, False, True])
    seen = _Seen()
    if watch:
        observers.append(seen)
    try:
        s, sb, sg = ember.tensor(a).sign(), ember.tensor(b).sign(), ember.sgn(ember.tensor(a))
    finally:
        if watch:
            observers.remove(seen)
    want = torch.sign(torch.tensor(a)).numpy()
    np.testing.assert_array_equal(s.numpy(), want)
    np.testing.assert_array_equal(sg.numpy(), torch.sgn(torch.tensor(a)).numpy())
    assert sb.array.dtype == np.bool_
    np.testing.assert_array_equal(sb.numpy(), torch.sign(torch.tensor(b)).numpy())


@pytest.mark.parametrize("watch", [False, True])
def test_complex_refusals_stay(watch):
    z = ember.tensor(np.array([1 + 1j, 2], np.complex64))
    seen = _Seen()
    if watch:
        observers.append(seen)
    try:
        for name in ("round", "floor", "ceil", "trunc", "sign", "frac"):
            with pytest.raises(NotImplementedError):
                getattr(z, name)()
    finally:
        if watch:
            observers.remove(seen)
    assert seen.ops == []


@pytest.mark.parametrize(
    "fn",
    [
        lambda x: x.signbit(),
        lambda x: ember.tensor(x.detach().numpy().round()),
    ],
    ids=["signbit", "numpy_round_trip"],
)
def test_an_output_computed_outside_the_ops_is_refused(fn, tmp_path):
    """Returned as they are, such values used to become a constant Identity output (the traced
    input's answer for every input); the probe runs now tell that they follow the input."""
    with pytest.raises(NotImplementedError, match="output 0 .* outside ember's ops"):
        ember.onnx.export(Fn(fn), (halves(4, 6),), str(tmp_path / "m.onnx"))


def test_a_constant_output_is_still_exported(tmp_path):
    """An output made outside the ops that does not follow the input stays a constant."""
    fn = Fn(lambda x: (x.round(), ember.tensor(np.arange(3.0, dtype=np.float32))))
    found = check_exact(fn, halves(4, 6), _others(4, 6), tmp_path / "k.onnx", n_out=2,
                        batch_out=False)  # fmt: skip
    assert "Round" in found


def test_bucketize_and_searchsorted(tmp_path):
    """Constant boundaries and a sequence sorted from the input itself (row by row), both
    sides, int32 and int64, NaN values and NaN entries where NumPy puts them."""
    bounds = ember.tensor(np.array([-2.0, -0.5, 0.0, 0.5, 2.0, np.nan], np.float32))

    def fn(x):
        rows = x.sort(dim=1)[0]
        return (ember.bucketize(x, bounds), ember.bucketize(x, bounds, right=True, out_int32=True),
                ember.searchsorted(rows, x.round()), ember.searchsorted(rows, x, side="right"),
                ember.searchsorted(bounds, x.double() * 0.5))  # fmt: skip

    a = halves(4, 6).numpy()
    a[0, :2] = [np.nan, 0.5]
    a[2, 0] = np.nan  # a NaN entry in a sorted row too
    b = halves(2, 6, seed=3).numpy()
    b[1, 3] = np.nan
    found = check_exact(Fn(fn), ember.tensor(a), [ember.tensor(b), halves(5, 6, seed=9)],
                        tmp_path / "b.onnx", n_out=5)  # fmt: skip
    assert {"Less", "LessOrEqual", "ReduceSum"} <= found


def test_searchsorted_eager_is_the_same_with_an_observer():
    seq = ember.tensor(np.array([[1.0, 2.0, 2.0, np.nan], [0.0, 0.5, 3.0, 4.0]]))
    v = ember.tensor(np.array([[2.0, np.nan, 0.0], [3.0, 5.0, -1.0]]))
    plain = [ember.searchsorted(seq, v, right=r) for r in (False, True)]
    seen = _Seen()
    observers.append(seen)
    try:
        watched = [ember.searchsorted(seq, v, right=r) for r in (False, True)]
    finally:
        observers.remove(seen)
    assert seen.ops == ["SearchSorted"] * 2
    for w, p in zip(watched, plain):
        assert w.array.dtype == p.array.dtype
        np.testing.assert_array_equal(w.numpy(), p.numpy())
