"""ember.onnx.export of sorting and arg-reductions (ember/onnx/ops_sort.py): sort, topk,
x.max(dim) / x.min(dim) as ops, and argmax / argmin / argsort, which run outside ember's ops
and are exported whole; indices must match exactly, ties included."""

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
