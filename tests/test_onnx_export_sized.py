"""ember.onnx.export of constants the forward builds from a dynamic size (ember/onnx/sized.py):
GPT with a dynamic sequence length (position ids from an arange, the causal mask, rotary and
sinusoidal tables), zero states, and the refusals with their reasons."""

import warnings

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

import ember  # noqa: E402
import ember.nn as nn  # noqa: E402
from ember.backend import xp  # noqa: E402
from ember.models import GPT  # noqa: E402
from tests.test_onnx_export import ATOL, export_session, max_error  # noqa: E402

SEQ = {"idx": {0: "b", 1: "t"}, "logits": {0: "b", 1: "t"}}


def _tokens(B, T, V, seed):
    return ember.tensor(np.random.default_rng(seed).integers(0, V, (B, T)))


def _export(model, args, path, **kw):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        proto, sess = export_session(model, args, path, **kw)
    return proto, sess, [str(w.message) for w in caught if "ember.onnx" in str(w.message)]


@pytest.mark.parametrize("pos", ["learned", "rotary", "sinusoidal"])
def test_gpt_dynamic_batch_and_sequence(tmp_path, pos):
    """Traced at block_size: every shorter length and any batch runs, without a warning."""
    model = GPT(
        vocab_size=13, block_size=8, n_layer=2, n_head=2, n_embd=16, pos_encoding=pos
    ).eval()
    proto, sess, warned = _export(
        model, _tokens(2, 8, 13, 0), tmp_path / "g.onnx", input_names=["idx"],
        output_names=["logits"], dynamic_axes=SEQ,
    )  # fmt: skip
    assert not warned
    dims = proto.graph.input[0].type.tensor_type.shape.dim
    assert [d.dim_param for d in dims] == ["b", "t"]
    ops = {n.op_type for n in proto.graph.node}
    assert "Shape" in ops and "Where" in ops  # the causal mask, computed for the length
    if pos == "learned":
        assert "Range" in ops  # the position ids
    for B, T in [(2, 8), (1, 1), (3, 5), (5, 2)]:
        assert max_error(model, sess, _tokens(B, T, 13, B * 10 + T)) < ATOL


def test_gpt_learned_positions_take_any_length_traced(tmp_path):
    """Position ids and the causal mask are computed from the length: a short trace serves
    every length up to block_size; so does a sinusoidal table, which is a buffer's prefix."""
    for pos in ("learned", "sinusoidal"):
        model = GPT(vocab_size=11, block_size=8, n_layer=1, n_head=2, n_embd=16, pos_encoding=pos)
        _, sess, warned = _export(
            model.eval(), _tokens(2, 3, 11, 0), tmp_path / "g.onnx", input_names=["idx"],
            output_names=["logits"], dynamic_axes=SEQ,
        )  # fmt: skip
        assert not warned
        assert max_error(model, sess, _tokens(3, 8, 11, 1)) < ATOL
        assert max_error(model, sess, _tokens(1, 6, 11, 2)) < ATOL


def test_rotary_traced_short_warns_of_its_cap(tmp_path):
    """Rotary angles are computed per call for the traced positions: the graph holds them for
    the traced length only, and the export says so (the model would take longer inputs)."""
    model = GPT(vocab_size=11, block_size=8, n_layer=1, n_head=2, n_embd=16, pos_encoding="rotary")
    _, sess, warned = _export(
        model.eval(), _tokens(2, 5, 11, 0), tmp_path / "g.onnx", input_names=["idx"],
        output_names=["logits"], dynamic_axes=SEQ,
    )  # fmt: skip
    assert len(warned) == 1 and "for 5 along the dynamic axis 't'" in warned[0]
    assert max_error(model, sess, _tokens(3, 4, 11, 1)) < ATOL


class ZeroState(nn.Module):
    """A state built as zeros(B, H) then added to, and a bool causal mask built with tril."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 4)

    def forward(self, x):
        B, T, _ = x.shape
        h = ember.tensor(xp.ones((B, 1, 4), dtype=x.dtype)) * 0.5
        keep = ember.tensor(xp.tril(xp.ones((T, T), dtype=bool)))
        y = nn.functional.scaled_dot_product_attention(x, x, x, attn_mask=keep)
        return self.fc(y) + h


def test_constant_along_the_axis_and_a_bool_causal_mask(tmp_path):
    model = ZeroState().eval()
    dyn = {"x": {0: "b", 1: "t"}, "y": {0: "b", 1: "t"}}
    proto, sess, warned = _export(
        model, ember.randn(2, 5, 4), tmp_path / "z.onnx", input_names=["x"],
        output_names=["y"], dynamic_axes=dyn,
    )  # fmt: skip
    assert not warned and "Expand" in {n.op_type for n in proto.graph.node}
    assert max_error(model, sess, ember.randn(2, 5, 4)) < ATOL
    assert max_error(model, sess, ember.randn(7, 9, 4)) < ATOL


class Ramp(nn.Module):
    def forward(self, x):
        return x * ember.tensor(xp.linspace(0.0, 1.0, x.shape[1], dtype=x.dtype))


def test_other_size_dependent_constants_are_refused(tmp_path):
    with pytest.raises(
        NotImplementedError, match=r"op Mul \(in the root Ramp\).*neither an arange"
    ):
        ember.onnx.export(
            Ramp(), ember.randn(2, 5), tmp_path / "r.onnx", input_names=["x"],
            dynamic_axes={"x": {1: "t"}},
        )  # fmt: skip
    assert not (tmp_path / "r.onnx").exists()


def test_dynamic_axes_of_equal_size_are_ambiguous(tmp_path):
    """Batch and length both 4: a (4, 4) mask could follow either, so the export asks for
    distinct sizes."""
    model = GPT(vocab_size=11, block_size=8, n_layer=1, n_head=2, n_embd=16).eval()
    with pytest.raises(NotImplementedError, match=r"dynamic axes \['b', 't'\] have the same size"):
        ember.onnx.export(
            model, _tokens(4, 4, 11, 0), tmp_path / "g.onnx", input_names=["idx"],
            dynamic_axes={"idx": {0: "b", 1: "t"}},
        )  # fmt: skip


class Positions(nn.Module):
    """Learned positions sliced to the length (W[0:T]) and a slice that keeps all but the last
    two steps (x[:, : T − 2], written with the size)."""

    def __init__(self):
        super().__init__()
        self.pos = nn.positional.LearnedPositionalEmbedding(12, 4)

    def forward(self, x):
        y = self.pos(x)
        return y[:, : y.shape[1] - 2] * 2


def test_slice_bounds_that_follow_the_length(tmp_path):
    model = Positions().eval()
    dyn = {"x": {0: "b", 1: "t"}, "y": {0: "b", 1: "t"}}
    _, sess, warned = _export(
        model, ember.randn(2, 6, 4), tmp_path / "p.onnx", input_names=["x"],
        output_names=["y"], dynamic_axes=dyn,
    )  # fmt: skip
    assert not warned
    for B, T in [(2, 6), (3, 12), (1, 3)]:
        assert max_error(model, sess, ember.randn(B, T, 4)) < ATOL


class Halves(nn.Module):
    def forward(self, x):
        return x[:, : x.shape[1] // 2]


def test_slice_bounds_of_another_form_are_refused(tmp_path):
    """T // 2 fits T − 3 at T = 6 and 5, not at 4: three sizes tell it apart."""
    with pytest.raises(NotImplementedError, match=r"GetItem .*bounds taken from the inputs"):
        ember.onnx.export(
            Halves(), ember.randn(2, 6), tmp_path / "h.onnx", input_names=["x"],
            dynamic_axes={"x": {1: "t"}},
        )  # fmt: skip


def test_gpt_dynamic_sequence_at_opset_13(tmp_path):
    """Before opset 17 LayerNorm is written out; Range, the mask and the slices need 13."""
    model = GPT(vocab_size=11, block_size=8, n_layer=1, n_head=2, n_embd=16).eval()
    proto, sess, _ = _export(
        model, _tokens(2, 8, 11, 0), tmp_path / "g.onnx", input_names=["idx"],
        output_names=["logits"], dynamic_axes=SEQ, opset_version=13,
    )  # fmt: skip
    assert "LayerNormalization" not in {n.op_type for n in proto.graph.node}
    assert max_error(model, sess, _tokens(3, 5, 11, 1)) < ATOL
