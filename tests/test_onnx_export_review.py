"""Review of the dynamic-length export: a dynamic axis traced at size 1 (a GPT at length 1, a
batch of one) must not be baked into the graph, and the scalars the graph computes sizes
with (Range's start, limit and delta) must be ONNX scalars."""

import warnings

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

import ember  # noqa: E402
from ember import nn  # noqa: E402
from ember.models import GPT  # noqa: E402
from tests.test_onnx_export import ATOL, export_session, max_error  # noqa: E402

SEQ = {"idx": {0: "b", 1: "t"}, "logits": {0: "b", 1: "t"}}


def _tokens(B, T, seed):
    return ember.tensor(np.random.default_rng(seed).integers(0, 11, (B, T)))


@pytest.mark.parametrize("pos", ["learned", "sinusoidal"])
@pytest.mark.parametrize("opset", [13, 17])
def test_gpt_traced_at_length_one_takes_every_length(tmp_path, pos, opset):
    """Traced at T = 1 (and B = 2): the qkv reshape keeps T from Shape(x), the causal mask is
    computed for the length (its step read off the probe runs), with no cap and no warning."""
    ember.manual_seed(0)
    model = GPT(vocab_size=11, block_size=8, n_layer=1, n_head=2, n_embd=16, pos_encoding=pos)
    model.eval()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "takes inputs up to that size only"
        _, sess = export_session(
            model, _tokens(2, 1, 0), tmp_path / "g.onnx", input_names=["idx"],
            output_names=["logits"], dynamic_axes=SEQ, opset_version=opset,
        )  # fmt: skip
    for B, T in [(2, 1), (1, 1), (3, 2), (1, 5), (2, 8)]:
        assert max_error(model, sess, _tokens(B, T, 10 * B + T)) < ATOL


def test_reshape_keeps_a_dynamic_batch_traced_at_one(tmp_path):
    """x.view(B, T, 2, 4) traced at B = 1: B is read from Shape(x), not baked in as 1."""

    class Heads(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.lin = nn.Linear(3, 8)

        def forward(self, x):
            h = self.lin(x)
            return h.view(h.shape[0], h.shape[1], 2, 4).sum(2)

    ember.manual_seed(0)
    model = Heads().eval()
    x = ember.randn(1, 5, 3)
    _, sess = export_session(
        model, (x,), tmp_path / "h.onnx", input_names=["x"], output_names=["y"],
        dynamic_axes={"x": {0: "b", 1: "t"}, "y": {0: "b", 1: "t"}},
    )  # fmt: skip
    for shape in [(1, 5, 3), (4, 5, 3), (3, 2, 3)]:
        assert max_error(model, sess, ember.randn(*shape)) < ATOL


def test_range_inputs_are_scalars(tmp_path):
    """ONNX's Range takes scalars: a 1-element 1-D start/limit/delta is invalid, and breaks
    onnxruntime's graph optimizations (a GPT traced at length 1 failed in a Slice)."""
    ember.manual_seed(0)
    model = GPT(vocab_size=11, block_size=8, n_layer=1, n_head=2, n_embd=16).eval()
    proto, sess = export_session(
        model, _tokens(2, 3, 0), tmp_path / "g.onnx", input_names=["idx"],
        output_names=["logits"], dynamic_axes=SEQ,
    )  # fmt: skip
    inits = {i.name: list(i.dims) for i in proto.graph.initializer}
    ranges = [n for n in proto.graph.node if n.op_type == "Range"]
    assert ranges
    for n in ranges:
        for name in (n.input[0], n.input[2]):  # start and delta are initializers
            assert inits[name] == [], (name, inits[name])
    assert max_error(model, sess, _tokens(1, 7, 1)) < ATOL
