"""What ember adds to recurrent layers: streaming, gate recording, lengths, init options,
gate-layout converters, clear errors, deterministic dropout."""

from __future__ import annotations

import numpy as np
import pytest

import ember
from ember import nn
from ember.nn import rnn_layout


def _x(*shape, seed=0):
    return ember.tensor(np.random.default_rng(seed).standard_normal(shape))


@pytest.mark.parametrize("mode", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize("batch_first", [False, True])
def test_stepping_equals_whole_sequence(mode, batch_first):
    layer = getattr(nn, mode)(3, 5, num_layers=2, batch_first=batch_first).double()
    x = _x(4, 6, 3) if batch_first else _x(6, 4, 3)
    y, final = layer(x)
    state, ys = None, []
    for t in range(6):
        y_t, state = layer.step(x[:, t] if batch_first else x[t], state)
        ys.append(y_t.array)
    got = np.stack(ys, axis=1 if batch_first else 0)
    np.testing.assert_allclose(got, y.array, atol=1e-12)
    for a, b in zip(state if mode == "LSTM" else (state,), final if mode == "LSTM" else (final,)):
        np.testing.assert_allclose(a.array, b.array, atol=1e-12)


def test_stream_state_saved_and_restored():
    lstm = nn.LSTM(2, 4).double()
    x = _x(10, 1, 2)
    whole, _ = lstm(x)
    s = lstm.stream()
    first = [s(x[t, 0]).array for t in range(5)]
    saved = s.state_dict()
    second = [s(x[t, 0]).array for t in range(5, 10)]
    np.testing.assert_allclose(np.stack(first + second), whole.array[:, 0], atol=1e-12)
    s.reset()
    assert s.state is None
    s.load_state_dict(saved)
    again = [s(x[t, 0]).array for t in range(5, 10)]
    np.testing.assert_allclose(np.stack(again), np.stack(second), atol=1e-12)


def test_step_rejects_bidirectional():
    with pytest.raises(ValueError, match="bidirectional"):
        nn.GRU(2, 3, bidirectional=True).step(_x(1, 2))


@pytest.mark.parametrize("mode", ["LSTM", "GRU", "RNN"])
def test_recording_does_not_change_outputs(mode):
    layer = getattr(nn, mode)(3, 4, num_layers=2, bidirectional=True, batch_first=True)
    x = ember.randn(2, 5, 3)
    y, s = layer(x)
    y2, s2, gates = layer(x, record_gates=True)
    np.testing.assert_array_equal(y.array, y2.array)
    assert set(gates) == {"l0", "l0_reverse", "l1", "l1_reverse"}
    names = {"LSTM": {"i", "f", "g", "o", "c", "h"}, "GRU": {"r", "z", "n", "h"},
             "RNN": {"h"}}[mode]  # fmt: skip
    for g in gates.values():
        assert set(g) == names
        for a in g.values():
            assert a.shape == (2, 5, 4)
    # the recorded h of the last layer is the output (forward half, then reverse half)
    np.testing.assert_allclose(gates["l1"]["h"].array, y.array[..., :4], rtol=1e-6)
    np.testing.assert_allclose(gates["l1_reverse"]["h"].array, y.array[..., 4:], rtol=1e-6)


def test_recorded_lstm_gates_obey_the_seed_equations():
    lstm = nn.LSTM(3, 4).double()
    x = _x(6, 2, 3)
    _, (h_n, c_n), g = lstm(x, record_gates=True)
    g = {k: v.array for k, v in g["l0"].items()}
    C_prev = np.vstack([np.zeros((1, 2, 4)), g["c"][:-1]])
    np.testing.assert_allclose(g["c"], g["f"] * C_prev + g["i"] * g["g"], atol=1e-12)
    np.testing.assert_allclose(g["h"], g["o"] * np.tanh(g["c"]), atol=1e-12)
    W_f = lstm.weight_ih_l0.array[4:8]
    f0 = 1 / (
        1 + np.exp(-(x.array[0] @ W_f.T + lstm.bias_ih_l0.array[4:8] + lstm.bias_hh_l0.array[4:8]))
    )
    np.testing.assert_allclose(g["f"][0], f0, atol=1e-12)
    np.testing.assert_allclose(g["c"][-1], c_n.array[0], atol=1e-12)


@pytest.mark.parametrize("mode", ["RNN", "LSTM", "GRU"])
def test_lengths_equal_running_each_sequence_alone(mode):
    layer = getattr(nn, mode)(3, 4, num_layers=2, bidirectional=True).double()
    x = _x(6, 3, 3)
    lengths = [6, 2, 4]
    y, final = layer(x, lengths=lengths)
    finals = final if mode == "LSTM" else (final,)
    for b, n in enumerate(lengths):
        yb, fb = layer(x[:n, b : b + 1])
        np.testing.assert_allclose(y.array[:n, b], yb.array[:, 0], atol=1e-12)
        assert np.all(y.array[n:, b] == 0)
        for a, c in zip(finals, fb if mode == "LSTM" else (fb,)):
            np.testing.assert_allclose(a.array[:, b], c.array[:, 0], atol=1e-12)


def test_default_init_is_torch_uniform():
    lstm = nn.LSTM(10, 16, num_layers=2)
    for name, p in lstm.named_parameters():
        assert np.abs(p.array).max() <= 0.25 + 1e-7, name
        assert np.abs(p.array).max() > 0.2, name


def test_forget_bias_and_orthogonal_options():
    lstm = nn.LSTM(3, 8, num_layers=2, forget_bias=1.0, recurrent_init="orthogonal")
    for k in range(2):
        b = getattr(lstm, f"bias_ih_l{k}").array + getattr(lstm, f"bias_hh_l{k}").array
        np.testing.assert_allclose(b[8:16], 1.0)
        w = getattr(lstm, f"weight_hh_l{k}").array
        for g in range(4):
            block = w[g * 8 : (g + 1) * 8].astype(np.float64)
            np.testing.assert_allclose(block @ block.T, np.eye(8), atol=1e-5)
    with pytest.raises(ValueError, match="recurrent_init"):
        nn.LSTM(3, 4, recurrent_init="identity")


def test_dropout_between_layers_is_deterministic_under_a_seed():
    gru = nn.GRU(3, 4, num_layers=3, dropout=0.5)
    x = ember.randn(5, 2, 3)
    ember.manual_seed(7)
    a, _ = gru(x)
    ember.manual_seed(7)
    b, _ = gru(x)
    np.testing.assert_array_equal(a.array, b.array)
    gru.eval()
    c, _ = gru(x)
    d, _ = gru(x)
    np.testing.assert_array_equal(c.array, d.array)
    assert not np.allclose(a.array, c.array)


def test_clear_errors():
    lstm = nn.LSTM(3, 4, num_layers=2)
    with pytest.raises(ValueError, match="input_size = 3"):
        lstm(ember.randn(5, 2, 7))
    with pytest.raises(ValueError, match=r"h_0 must have shape \(2, 2, 4\)"):
        lstm(ember.randn(5, 2, 3), (ember.zeros(1, 2, 4), ember.zeros(1, 2, 4)))
    with pytest.raises(ValueError, match="lengths"):
        lstm(ember.randn(5, 2, 3), lengths=[6, 1])
    with pytest.raises(ValueError, match="at least one time step"):
        lstm(ember.randn(0, 2, 3))
    with pytest.raises(ValueError, match="proj_size"):
        nn.LSTM(3, 4, proj_size=4)


def _keras_lstm(x, kernel, recurrent_kernel, bias):
    """Keras' LSTM as keras/src/layers/rnn/lstm.py computes it: z = x·K + h·R + b; i, f, c, o."""
    T, B, _ = x.shape
    H = recurrent_kernel.shape[0]
    h, c = np.zeros((B, H)), np.zeros((B, H))
    sig = lambda v: 1 / (1 + np.exp(-v))  # noqa: E731
    for t in range(T):
        z = x[t] @ kernel + h @ recurrent_kernel + bias
        i, f, cc, o = np.split(z, 4, axis=-1)
        c = sig(f) * c + sig(i) * np.tanh(cc)
        h = sig(o) * np.tanh(c)
    return h


def test_keras_layout_roundtrip_and_equations():
    lstm = nn.LSTM(3, 4).double()
    K, R, b = rnn_layout.to_keras(lstm.weight_ih_l0, lstm.weight_hh_l0, lstm.bias_ih_l0,
                                  lstm.bias_hh_l0)  # fmt: skip
    assert K.shape == (3, 16) and R.shape == (4, 16) and b.shape == (16,)
    x = _x(5, 2, 3)
    _, (h_n, _) = lstm(x)
    np.testing.assert_allclose(_keras_lstm(x.array, K, R, b), h_n.array[0], atol=1e-12)
    back = rnn_layout.from_keras(K, R, b)
    lstm2 = nn.LSTM(3, 4).double()
    lstm2.load_state_dict({f"{k}_l0": v for k, v in back.items()})
    np.testing.assert_allclose(lstm2(x)[0].array, lstm(x)[0].array, atol=1e-12)
    gru = nn.GRU(3, 4).double()
    g = rnn_layout.from_keras(*rnn_layout.to_keras(*gru.parameters(), mode="GRU"), mode="GRU")
    for name, p in zip(("weight_ih", "weight_hh", "bias_ih", "bias_hh"), gru.parameters()):
        np.testing.assert_array_equal(g[name], p.array)


@pytest.mark.parametrize("mode", ["LSTM", "GRU"])
def test_onnx_layout_against_onnx_reference(mode):
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper
    from onnx.reference import ReferenceEvaluator

    layer = getattr(nn, mode)(3, 4).double()
    W, R, B = rnn_layout.to_onnx(*layer.parameters(), mode=mode)
    extra = {"linear_before_reset": 1} if mode == "GRU" else {}
    node = helper.make_node(mode, ["X", "W", "R", "B"], ["Y", "Y_h"], hidden_size=4, **extra)
    D = TensorProto.DOUBLE
    graph = helper.make_graph(
        [node], "g",
        [helper.make_tensor_value_info(n, D, None) for n in ("X", "W", "R", "B")],
        [helper.make_tensor_value_info(n, D, None) for n in ("Y", "Y_h")],
    )  # fmt: skip
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 14)])
    x = _x(5, 2, 3)
    Y, Y_h = ReferenceEvaluator(model).run(None, {"X": x.array, "W": W, "R": R, "B": B})
    y, _ = layer(x)[:2]
    np.testing.assert_allclose(Y[:, 0], y.array, atol=1e-12)  # ONNX Y is (T, D, B, H)
    back = rnn_layout.from_onnx(W, R, B, mode=mode)
    for name, p in zip(("weight_ih", "weight_hh", "bias_ih", "bias_hh"), layer.parameters()):
        np.testing.assert_array_equal(back[name], p.array)
    assert onnx is not None


def test_record_gates_context_manager_on_a_model():
    from ember.models import CharLSTM

    model = CharLSTM(12, embedding_dim=4, hidden_size=6)
    x = np.random.default_rng(0).integers(0, 12, (2, 5))
    plain, _ = model(ember.tensor(x))
    with nn.record_gates(model) as rec:
        logits, _ = model(ember.tensor(x))
        model(ember.tensor(x[:, :2]))
    np.testing.assert_array_equal(plain.array, logits.array)
    assert list(rec) == ["lstm"] and len(rec["lstm"]) == 2
    assert rec["lstm"][0]["l1"]["f"].shape == (2, 5, 6)  # batch_first layout
    assert rec["lstm"][1]["l0"]["c"].shape == (2, 2, 6)
    model(ember.tensor(x))
    assert len(rec["lstm"]) == 2  # recording stops with the block


def test_base_classes_have_torch_names_for_isinstance_checks():
    torch = pytest.importorskip("torch")
    pairs = [(nn.RNN, torch.nn.RNN), (nn.LSTM, torch.nn.LSTM), (nn.GRU, torch.nn.GRU)]
    for ours, theirs in pairs:
        assert issubclass(ours, nn.RNNBase) and issubclass(theirs, torch.nn.RNNBase)
        assert not issubclass(ours, nn.RNNCellBase)
    cells = [(nn.RNNCell, torch.nn.RNNCell), (nn.LSTMCell, torch.nn.LSTMCell)]
    for ours, theirs in cells + [(nn.GRUCell, torch.nn.GRUCell)]:
        assert issubclass(ours, nn.RNNCellBase) and issubclass(theirs, torch.nn.RNNCellBase)
        assert not issubclass(ours, nn.RNNBase)
    # a model walk that picks out the recurrent layers, as torch code writes it
    model = nn.Sequential(nn.Linear(3, 4), nn.LSTM(4, 5), nn.GRUCell(5, 6))
    kinds = [type(m).__name__ for m in model.modules() if isinstance(m, nn.RNNBase)]
    assert kinds == ["LSTM"]
