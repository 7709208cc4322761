"""ember.onnx.export of sorting and arg-reductions (ember/onnx/ops_sort.py): sort, topk,
x.max(dim) / x.min(dim), argmax, argmin and Tensor.argsort as ops (ops/argindex.py); indices
must match exactly, ties included."""

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

import ember  # noqa: E402
import ember.nn as nn  # noqa: E402
from ember.onnx.trace import flatten  # noqa: E402
from tests.test_onnx_export import export_session  # noqa: E402


class Sorts(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(6, 6)

    def forward(self, x):
        y = self.fc(x)  # integers (see below): ties, which must keep ember's (stable) order
        return (
            *ember.sort(y, dim=-1), *y.sort(dim=0, descending=True), *y.topk(3, dim=1),
            *y.topk(2, dim=-1, largest=False), *y.max(dim=1), *y.min(dim=0, keepdim=True),
            y.argmax(-1), y.argmin(dim=0, keepdim=True), y.argmax(),
            y.argsort(dim=1, descending=True), y.argsort(dim=0), ember.argmax(y, 1),
        )  # fmt: skip


def _errors(model, sess, x):
    got = sess.run(None, {"x": x.numpy()})
    with ember.no_grad():
        want = [t.numpy() for t in flatten(model(x))]
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert g.shape == w.shape and g.dtype == w.dtype
    return [float(np.abs(g - w).max()) for g, w in zip(got, want)]


def _integers(*shape, seed=0):
    return ember.tensor(np.random.default_rng(seed).integers(-2, 3, shape).astype(np.float32))


def test_sort_topk_and_arg_reductions_match_exactly(tmp_path):
    model = Sorts().eval()
    rng = np.random.default_rng(0)
    model.fc.weight.array[...] = rng.integers(-1, 2, (6, 6))  # integer outputs, with ties
    model.fc.bias.array[...] = 0
    _, sess = export_session(
        model, _integers(4, 6), tmp_path / "s.onnx", input_names=["x"],
        dynamic_axes={"x": {0: "b"}},
    )  # fmt: skip
    assert max(_errors(model, sess, _integers(4, 6, seed=1))) == 0.0
    assert max(_errors(model, sess, _integers(7, 6, seed=2))) == 0.0  # another batch size


class Greedy(nn.Module):
    """The index of the largest logit, fed back through an embedding (greedy decoding)."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(5, 7)
        self.emb = nn.Embedding(7, 3)

    def forward(self, x):
        return self.emb(self.fc(x).argmax(-1))


def test_argmax_is_computed_in_the_graph(tmp_path):
    """Before, argmax's result was baked in as a constant of the traced input."""
    model = Greedy().eval()
    proto, sess = export_session(
        model, ember.randn(3, 5), tmp_path / "g.onnx", input_names=["x"],
        dynamic_axes={"x": {0: "b"}},
    )  # fmt: skip
    assert "ArgMax" in {n.op_type for n in proto.graph.node}
    for B in (3, 8):
        assert max(_errors(model, sess, ember.randn(B, 5))) == 0.0


class ScalarSort(nn.Module):
    def forward(self, x):
        return x.sum().sort()[0]


def test_sorting_a_0d_tensor_is_refused(tmp_path):
    with pytest.raises(NotImplementedError, match="sort of a 0-d tensor"):
        ember.onnx.export(ScalarSort(), ember.randn(3), tmp_path / "z.onnx")


class Recorder:
    """An observer that only lists the ops it sees."""

    def __init__(self):
        self.names = []

    def on_forward(self, fn, arrays, out):
        self.names.append(fn.name)


@pytest.mark.parametrize("method", ["argmax", "argmin"])
def test_arg_reductions_are_ops_that_observers_see_and_never_recorded(method):
    """With an observer present they run through apply (the exporter and the profiler see the
    op); without, straight on the array; the same indices either way, and no graph."""
    from ember.function import observers

    a = _integers(3, 5).numpy()
    x = ember.tensor(a, requires_grad=True)
    calls = [  # (arguments, keywords, NumPy's)
        ((), {}, {}), ((1,), {}, {"axis": 1}),
        ((), {"dim": 0, "keepdim": True}, {"axis": 0, "keepdims": True}),
        ((-1,), {"keepdims": True}, {"axis": -1, "keepdims": True}),
    ]  # fmt: skip
    plain = [getattr(x, method)(*args, **kw) for args, kw, _ in calls]
    rec = Recorder()
    observers.append(rec)
    try:
        seen = [getattr(x, method)(*args, **kw) for args, kw, _ in calls]
    finally:
        observers.remove(rec)
    assert rec.names == ["ArgMax" if method == "argmax" else "ArgMin"] * len(calls)
    for p, s, (_, _, np_kw) in zip(plain, seen, calls):
        want = getattr(np, method)(a, **np_kw)
        assert p.dtype == s.dtype == np.int64 and not p.requires_grad and not s.requires_grad
        np.testing.assert_array_equal(p.numpy(), want)
        np.testing.assert_array_equal(s.numpy(), want)
    with pytest.raises(RuntimeError, match=r"argmax\(\): expected the reduced dim 0 to have"):
        ember.zeros(0, 3).argmax(0)


class OpArgsort(nn.Module):
    """The ArgSort op applied directly (Tensor.argsort runs it while an observer watches)."""

    def forward(self, x):
        from ember.ops.argindex import ArgSort
        from ember.tensor import apply

        return apply(ArgSort, x, dim=1, descending=True), apply(ArgSort, x * 2.0, dim=0)


def test_argsort_op_converts_to_topk_indices(tmp_path):
    model = OpArgsort().eval()
    proto, sess = export_session(
        model, _integers(4, 6), tmp_path / "a.onnx", input_names=["x"],
        dynamic_axes={"x": {0: "b"}},
    )  # fmt: skip
    assert [n.op_type for n in proto.graph.node].count("TopK") == 2
    for B, seed in ((4, 1), (7, 2)):
        x = _integers(B, 6, seed=seed)
        assert max(_errors(model, sess, x)) == 0.0
        with ember.no_grad():
            np.testing.assert_array_equal(model(x)[0].numpy(), x.argsort(1, True).numpy())


def test_tensor_argsort_is_an_op_that_observers_see_and_never_recorded():
    """Tensor.argsort runs the ArgSort op while an observer watches (the exporter sees it, so
    no profile hook is needed) and straight on the array otherwise: the same indices."""
    from ember.function import observers

    x = ember.tensor(_integers(3, 5).numpy(), requires_grad=True)
    calls = [((), {}), ((0,), {}), ((), {"dim": 1, "descending": True}), ((-2, True), {})]
    plain = [x.argsort(*args, **kw) for args, kw in calls]
    rec = Recorder()
    observers.append(rec)
    try:
        seen = [x.argsort(*args, **kw) for args, kw in calls]
    finally:
        observers.remove(rec)
    assert rec.names == ["ArgSort"] * len(calls)
    for p, s in zip(plain, seen):
        assert p.dtype == s.dtype == np.int64 and not p.requires_grad and not s.requires_grad
        np.testing.assert_array_equal(p.numpy(), s.numpy())
    np.testing.assert_array_equal(plain[1].numpy(), np.argsort(x.detach().numpy(), 0, "stable"))
    assert ember.tensor(3.0).argsort().item() == 0
