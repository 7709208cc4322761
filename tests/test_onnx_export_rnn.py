"""ember.onnx.export of recurrent and transformer models: nn.LSTM / nn.GRU (layers,
directions, batch_first, initial states), CharLSTM, GPT and attention, against onnxruntime."""

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

import ember  # noqa: E402
import ember.nn as nn  # noqa: E402
from ember.models import GPT, CharLSTM  # noqa: E402
from tests.test_onnx_export import ATOL, export_session, max_error  # noqa: E402

RNN_CASES = [  # num_layers, bidirectional, batch_first, states given
    (1, False, False, False),
    (2, True, True, False),
    (2, False, True, True),
    (1, True, False, True),
]


def _states(mode, L, D, B, H):
    h0 = ember.randn(L * D, B, H)
    return (h0, ember.randn(L * D, B, H)) if mode == "LSTM" else h0


@pytest.mark.parametrize("mode", ["LSTM", "GRU"])
@pytest.mark.parametrize("case", RNN_CASES)
def test_rnn_matches_onnxruntime(tmp_path, mode, case):
    L, bi, bf, given = case
    D, H = 2 if bi else 1, 5
    model = getattr(nn, mode)(4, H, num_layers=L, bidirectional=bi, batch_first=bf).eval()
    b_axis = 0 if bf else 1

    def inputs(B, T=3):
        x = ember.randn(B, T, 4) if bf else ember.randn(T, B, 4)
        return (x, _states(mode, L, D, B, H)) if given else (x,)

    names = ["x"] + (["h0", "c0"] if given and mode == "LSTM" else ["h0"] if given else [])
    outs = ["y", "h_n"] + (["c_n"] if mode == "LSTM" else [])
    dyn = {"x": {b_axis: "batch"}, "y": {b_axis: "batch"}}
    dyn.update({n: {1: "batch"} for n in names[1:] + outs[1:]})
    proto, sess = export_session(
        model, inputs(2), tmp_path / "rnn.onnx", input_names=names, output_names=outs,
        dynamic_axes=dyn,
    )  # fmt: skip
    assert sum(n.op_type == mode for n in proto.graph.node) == L * D
    inits = {i.name for i in proto.graph.initializer}  # named after weight_ih_l0 and so on
    assert {"onnx_W_l0", "onnx_R_l0", "onnx_B_l0"} <= inits
    assert max_error(model, sess, inputs(2)) < ATOL
    assert max_error(model, sess, inputs(4)) < ATOL  # another batch size


def test_lstm_from_torch_state_dict_matches_torch(tmp_path):
    torch = pytest.importorskip("torch")
    tl = torch.nn.LSTM(4, 6, num_layers=2, bidirectional=True, batch_first=True)
    el = nn.LSTM(4, 6, num_layers=2, bidirectional=True, batch_first=True)
    el.load_state_dict({k: v.detach().numpy() for k, v in tl.state_dict().items()})
    dyn = {"x": {0: "b"}, "y": {0: "b"}}
    _, sess = export_session(
        el.eval(), ember.randn(2, 5, 4), tmp_path / "l.onnx", input_names=["x"],
        output_names=["y", "h", "c"], dynamic_axes=dyn,
    )  # fmt: skip
    x = np.random.default_rng(2).standard_normal((3, 5, 4)).astype(np.float32)
    y = sess.run(None, {"x": x})[0]
    with torch.no_grad():
        want = tl(torch.from_numpy(x))[0].numpy()
    assert np.abs(y - want).max() < ATOL


@pytest.mark.parametrize("case", RNN_CASES)
def test_lstm_with_projection_runs_as_a_scan(tmp_path, case):
    """proj_size: ONNX's LSTM has no W_hr, so each layer and direction is a Scan over one step;
    the batch and the sequence length stay dynamic."""
    L, bi, bf, given = case
    D, H, P = 2 if bi else 1, 6, 3
    model = nn.LSTM(4, H, num_layers=L, bidirectional=bi, batch_first=bf, proj_size=P).eval()
    b_axis, t_axis = (0, 1) if bf else (1, 0)

    def inputs(B, T):
        x = ember.randn(B, T, 4) if bf else ember.randn(T, B, 4)
        return (x, (ember.randn(L * D, B, P), ember.randn(L * D, B, H))) if given else (x,)

    names = ["x"] + (["h0", "c0"] if given else [])
    dyn = {"x": {b_axis: "b", t_axis: "t"}, "y": {b_axis: "b", t_axis: "t"}}
    dyn.update({n: {1: "b"} for n in names[1:] + ["h_n", "c_n"]})
    proto, sess = export_session(
        model, inputs(2, 5), tmp_path / "p.onnx", input_names=names,
        output_names=["y", "h_n", "c_n"], dynamic_axes=dyn,
    )  # fmt: skip
    assert sum(n.op_type == "Scan" for n in proto.graph.node) == L * D
    assert "weight_hr_l0" in {i.name for i in proto.graph.initializer}
    assert max_error(model, sess, inputs(2, 5)) < ATOL
    assert max_error(model, sess, inputs(3, 2)) < ATOL  # another batch and length
    assert max_error(model, sess, inputs(1, 9)) < ATOL


def test_lstm_projection_from_torch_matches_torch(tmp_path):
    torch = pytest.importorskip("torch")
    tl = torch.nn.LSTM(4, 6, num_layers=2, bidirectional=True, batch_first=True, proj_size=2)
    el = nn.LSTM(4, 6, num_layers=2, bidirectional=True, batch_first=True, proj_size=2)
    el.load_state_dict({k: v.detach().numpy() for k, v in tl.state_dict().items()})
    _, sess = export_session(
        el.eval(), ember.randn(2, 5, 4), tmp_path / "l.onnx", input_names=["x"],
        output_names=["y", "h", "c"], dynamic_axes={"x": {0: "b", 1: "t"}},
    )  # fmt: skip
    x = np.random.default_rng(3).standard_normal((3, 7, 4)).astype(np.float32)
    got = sess.run(None, {"x": x})
    with torch.no_grad():
        y, (h, c) = tl(torch.from_numpy(x))
    for g, w in zip(got, (y, h, c)):
        assert np.abs(g - w.numpy()).max() < ATOL


def test_packed_sequences_are_refused(tmp_path):
    class Packed(nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn = nn.GRU(4, 5, batch_first=True)

        def forward(self, x):
            packed = nn.utils.rnn.pack_padded_sequence(x, [3, 2], batch_first=True)
            return self.rnn(packed)[1]

    with pytest.raises(NotImplementedError, match="packed sequences"):
        ember.onnx.export(Packed().eval(), ember.randn(2, 3, 4), tmp_path / "k.onnx")


def _tokens(B, T, V, seed):
    return ember.tensor(np.random.default_rng(seed).integers(0, V, (B, T)))


def test_char_lstm_exports(tmp_path):
    model = CharLSTM(11, embedding_dim=8, hidden_size=6, num_layers=2).eval()
    proto, sess = export_session(
        model, _tokens(2, 5, 11, 0), tmp_path / "char.onnx", input_names=["idx"],
        output_names=["logits", "h", "c"],
        dynamic_axes={"idx": {0: "b"}, "logits": {0: "b"}, "h": {1: "b"}, "c": {1: "b"}},
    )  # fmt: skip
    assert "embedding.weight" in {i.name for i in proto.graph.initializer}
    assert proto.graph.input[0].type.tensor_type.elem_type == onnx.TensorProto.INT64
    assert max_error(model, sess, _tokens(2, 5, 11, 1)) < ATOL
    assert max_error(model, sess, _tokens(7, 5, 11, 2)) < ATOL


@pytest.mark.parametrize("pos", ["learned", "rotary"])
def test_gpt_exports(tmp_path, pos):
    model = GPT(
        vocab_size=13, block_size=8, n_layer=2, n_head=2, n_embd=16, pos_encoding=pos,
        gelu_approximate="tanh",
    ).eval()  # fmt: skip
    proto, sess = export_session(
        model, _tokens(2, 8, 13, 0), tmp_path / "gpt.onnx", input_names=["idx"],
        output_names=["logits"], dynamic_axes={"idx": {0: "b"}, "logits": {0: "b"}},
    )  # fmt: skip
    ops = {n.op_type for n in proto.graph.node}
    assert {"LayerNormalization", "Gather", "Softmax", "MatMul"} <= ops
    assert max_error(model, sess, _tokens(2, 8, 13, 1)) < ATOL
    assert max_error(model, sess, _tokens(5, 8, 13, 2)) < ATOL


def test_attention_layers_export(tmp_path):
    model = nn.TransformerEncoderLayer(16, 4, dim_feedforward=32, dropout=0.0, batch_first=True)
    model.eval()
    _, sess = export_session(
        model, ember.randn(2, 6, 16), tmp_path / "enc.onnx", input_names=["x"],
        output_names=["y"], dynamic_axes={"x": {0: "b"}, "y": {0: "b"}},
    )  # fmt: skip
    assert max_error(model, sess, ember.randn(2, 6, 16)) < ATOL
    assert max_error(model, sess, ember.randn(3, 6, 16)) < ATOL


def test_dynamic_sequence_length(tmp_path):
    """A time axis named in dynamic_axes: the recurrent and attention graphs take other
    lengths (GPT's, whose positions and mask are built from the length, are in
    test_onnx_export_sized.py)."""
    model = CharLSTM(11, embedding_dim=8, hidden_size=6, num_layers=1).eval()
    dyn = {"idx": {0: "b", 1: "t"}, "logits": {0: "b", 1: "t"}}
    _, sess = export_session(
        model, _tokens(2, 5, 11, 0), tmp_path / "c.onnx", input_names=["idx"],
        output_names=["logits"], dynamic_axes=dyn,
    )  # fmt: skip
    assert max_error(model, sess, _tokens(3, 9, 11, 1)) < ATOL
    enc = nn.TransformerEncoderLayer(16, 4, dim_feedforward=32, dropout=0.0, batch_first=True)
    _, sess = export_session(
        enc.eval(), ember.randn(2, 6, 16), tmp_path / "e.onnx", input_names=["x"],
        output_names=["y"], dynamic_axes={"x": {0: "b", 1: "t"}, "y": {0: "b", 1: "t"}},
    )  # fmt: skip
    assert max_error(enc, sess, ember.randn(3, 4, 16)) < ATOL
