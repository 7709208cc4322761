"""PyTorch-parity audit of the recurrent layers: inputs and uses that are legal in torch but
unusual (or wrong, where torch raises), each compared with torch on the same weights."""

from __future__ import annotations

import re

import numpy as np
import pytest

import ember
from ember import nn


@pytest.mark.parametrize("cell", ["RNNCell", "LSTMCell", "GRUCell"])
@pytest.mark.parametrize(
    "x_shape, h_shape",
    [((3, 3), (2, 4)), ((3, 3), (3, 5)), ((3, 3), (4,)), ((3, 3), (1, 3, 4)), ((3,), (1, 4))],
)
def test_cells_reject_hx_of_the_wrong_shape_as_torch_does(torch, cell, x_shape, h_shape):
    """torch raises for each of these; a (4,) state for a batch of 3 used to broadcast."""
    tc, ec = getattr(torch.nn, cell)(3, 4), getattr(nn, cell)(3, 4)
    x, h = np.zeros(x_shape, np.float32), np.zeros(h_shape, np.float32)
    th, eh = torch.tensor(h), ember.tensor(h)
    with pytest.raises((RuntimeError, ValueError)):
        tc(torch.tensor(x), (th, th) if cell == "LSTMCell" else th)
    with pytest.raises(
        ValueError, match="expected h of shape .* got " + re.escape(str(h_shape)) + " and float32"
    ):
        ec(ember.tensor(x), (eh, eh) if cell == "LSTMCell" else eh)


def test_lstm_cell_wants_a_pair():
    with pytest.raises(TypeError, match=r"hx = \(h, c\)"):
        nn.LSTMCell(3, 4)(ember.zeros(2, 3), ember.zeros(2, 4))


@pytest.mark.parametrize("cell", ["RNNCell", "LSTMCell", "GRUCell"])
def test_cells_reject_another_dtype_as_torch_does(torch, cell):
    """torch raises; ember used to promote to float64 through F.linear."""
    with pytest.raises(RuntimeError, match="same dtype"):
        getattr(torch.nn, cell)(3, 4)(torch.zeros(2, 3).double())
    c = getattr(nn, cell)(3, 4)
    with pytest.raises(ValueError, match="weights' dtype float32, got float64"):
        c(ember.zeros(2, 3).double())
    h = ember.zeros(2, 4).double()
    with pytest.raises(ValueError, match=r"expected h of shape \(2, 4\) and dtype float32"):
        c(ember.zeros(2, 3), (h, h) if cell == "LSTMCell" else h)


@pytest.mark.parametrize("cell", ["RNNCell", "LSTMCell", "GRUCell"])
def test_unbatched_cell_with_state_matches_torch(torch, cell):
    tc, ec = getattr(torch.nn, cell)(3, 4), getattr(nn, cell)(3, 4)
    ec.load_state_dict(tc.state_dict())
    rng = np.random.default_rng(0)
    x, h = rng.standard_normal(3).astype(np.float32), rng.standard_normal(4).astype(np.float32)
    th, eh = torch.tensor(h), ember.tensor(h)
    yt = tc(torch.tensor(x), (th, th) if cell == "LSTMCell" else th)
    ye = ec(ember.tensor(x), (eh, eh) if cell == "LSTMCell" else eh)
    for a, b in zip(yt if cell == "LSTMCell" else (yt,), ye if cell == "LSTMCell" else (ye,)):
        assert b.shape == (4,)
        np.testing.assert_allclose(b.array, a.detach().numpy(), rtol=1e-5, atol=1e-6)


def test_cell_repr_shows_relu_as_torch(torch):
    assert repr(nn.RNNCell(3, 4, nonlinearity="relu")) == repr(
        torch.nn.RNNCell(3, 4, nonlinearity="relu")
    )


# ---------------------------------------------------------------- layers: checks torch makes


@pytest.mark.parametrize("mode", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize("fused", [True, False])
def test_input_or_state_of_another_dtype_is_an_error_as_in_torch(torch, mode, fused):
    """torch raises; ember used to run (the fused LSTM cast a float64 h_0 down to float32
    while fused=False promoted to float64; an int64 input ran in float64)."""
    layer = getattr(nn, mode)(3, 4, fused=fused)
    x32, x64 = ember.randn(5, 2, 3), ember.randn(5, 2, 3).double()
    with pytest.raises(ValueError, match="does not match weight dtype"):
        getattr(torch.nn, mode)(3, 4)(torch.randn(5, 2, 3).double())
    with pytest.raises(ValueError, match="dtype float32, got float64"):
        layer(x64)
    with pytest.raises(ValueError, match="dtype float32, got int64"):
        layer(ember.tensor(np.ones((5, 2, 3), np.int64)))
    with pytest.raises(ValueError, match="dtype float64, got float32"):
        layer.double()(x32)
    h = ember.zeros(1, 2, 4)  # float32 state, float64 layer and input
    with pytest.raises(ValueError, match="h_0 must have the dtype"):
        layer(x64, (h, h.double()) if mode == "LSTM" else h)


def test_hx_of_the_wrong_kind_is_a_clear_error():
    with pytest.raises(TypeError, match="expected hx to be one Tensor h_0, got a tuple of 1"):
        nn.GRU(3, 4)(ember.randn(5, 2, 3), (ember.zeros(1, 2, 4),))
    # a Tensor with num_layers = 2 used to be split along its first axis into "h_0, c_0"
    with pytest.raises(TypeError, match=r"a pair \(h_0, c_0\) of Tensors, got Tensor"):
        nn.LSTM(3, 4, num_layers=2)(ember.randn(5, 2, 3), ember.zeros(2, 2, 4))
    with pytest.raises(ValueError, match=r"\(num_layers\*num_directions, size\) for input of sha"):
        nn.GRU(3, 4)(ember.randn(5, 3), ember.zeros(1, 1, 4))


@pytest.mark.parametrize("mode", ["RNN", "GRU"])
def test_proj_size_is_lstm_only_as_in_torch(torch, mode):
    with pytest.raises(ValueError, match="proj_size"):
        getattr(torch.nn, mode)(3, 4, proj_size=2)
    with pytest.raises(ValueError, match=f"proj_size is an LSTM option; {mode}"):
        getattr(nn, mode)(3, 4, proj_size=2)


def test_dropout_checks_as_torch(torch):
    with pytest.raises(ValueError, match="dropout"):
        torch.nn.LSTM(3, 4, num_layers=2, dropout=True)
    with pytest.raises(ValueError, match="dropout must be a probability in .0, 1., got True"):
        nn.LSTM(3, 4, num_layers=2, dropout=True)
    with pytest.warns(UserWarning, match="dropout"):
        torch.nn.GRU(3, 4, dropout=0.5)
    with pytest.warns(UserWarning, match="num_layers=1"):
        nn.GRU(3, 4, dropout=0.5)


@pytest.mark.parametrize(
    "mode, kw",
    [
        ("LSTM", dict(num_layers=2, bidirectional=True, proj_size=2)),
        ("LSTM", dict(proj_size=3, bias=False, batch_first=True, dropout=0.0)),
        ("GRU", dict(num_layers=3, dropout=0.25, bias=False)),
        ("RNN", dict(nonlinearity="relu", bidirectional=True)),
    ],
)
def test_repr_and_torch_weight_lists_match_torch(torch, mode, kw):
    """repr, and _all_weights / _flat_weights_names / _flat_weights / all_weights, which torch
    code walks (e.g. to set every bias): same names, same order, same shapes."""
    t, e = getattr(torch.nn, mode)(3, 4, **kw), getattr(nn, mode)(3, 4, **kw)
    assert repr(e) == repr(t)
    assert e._all_weights == t._all_weights
    assert e._flat_weights_names == t._flat_weights_names
    assert [tuple(p.shape) for p in e._flat_weights] == [tuple(p.shape) for p in t._flat_weights]
    shapes = [[tuple(p.shape) for p in ws] for ws in e.all_weights]
    assert shapes == [[tuple(p.shape) for p in ws] for ws in t.all_weights]
    assert all(p is getattr(e, n) for n, p in zip(e._flat_weights_names, e._flat_weights))


# ---------------------------------------------------------------- nn.utils.rnn


@pytest.mark.parametrize("batch_first", [False, True])
def test_unpad_and_unpack_sequence_match_torch(torch, batch_first):
    rng = np.random.default_rng(0)
    seqs = [rng.standard_normal((n, 2)).astype(np.float32) for n in (3, 5, 1)]
    tpad = torch.nn.utils.rnn.pad_sequence([torch.tensor(s) for s in seqs], batch_first)
    epad = nn.utils.rnn.pad_sequence([ember.tensor(s) for s in seqs], batch_first)
    lengths = [3, 5, 1]
    t = torch.nn.utils.rnn.unpad_sequence(tpad, torch.tensor(lengths), batch_first)
    e = nn.utils.rnn.unpad_sequence(epad, lengths, batch_first)
    assert [x.shape for x in e] == [tuple(x.shape) for x in t]
    for a, b in zip(t, e):
        np.testing.assert_array_equal(b.array, a.numpy())
    tpk = torch.nn.utils.rnn.pack_sequence([torch.tensor(s) for s in seqs], enforce_sorted=False)
    epk = nn.utils.rnn.pack_sequence([ember.tensor(s) for s in seqs], enforce_sorted=False)
    for a, b in zip(torch.nn.utils.rnn.unpack_sequence(tpk), nn.utils.rnn.unpack_sequence(epk)):
        np.testing.assert_array_equal(b.array, a.numpy())
    perm = np.array([2, 0, 3, 1])
    inv = torch.nn.utils.rnn.invert_permutation(torch.tensor(perm))
    np.testing.assert_array_equal(nn.utils.rnn.invert_permutation(perm).array, inv.numpy())


def test_unpad_sequence_passes_gradients():
    x = ember.randn(4, 2, 3, requires_grad=True)
    a, b = nn.utils.rnn.unpad_sequence(x, [4, 2])
    (a.sum() + 2 * b.sum()).backward()
    want = np.zeros((4, 2, 3), np.float32)
    want[:, 0], want[:2, 1] = 1, 2
    np.testing.assert_array_equal(x.grad.array, want)


def test_packed_sequence_built_from_its_fields(torch):
    """torch code builds PackedSequence(data, batch_sizes, ...) itself (e.g. from arrays); the
    layer used to fail on NumPy fields (AttributeError: 'memoryview' has no 'sum')."""
    t, e = torch.nn.GRU(3, 4), nn.GRU(3, 4)
    e.load_state_dict(t.state_dict())
    data = np.random.default_rng(0).standard_normal((6, 3)).astype(np.float32)
    bs, order = np.array([3, 2, 1]), np.array([2, 0, 1])
    tp = torch.nn.utils.rnn.PackedSequence(
        torch.tensor(data), torch.tensor(bs), torch.tensor(order), torch.tensor(np.argsort(order))
    )
    ep = nn.utils.rnn.PackedSequence(ember.tensor(data), bs, order, np.argsort(order))
    (yt, ht), (ye, he) = t(tp), e(ep)
    np.testing.assert_allclose(ye.data.array, yt.data.detach().numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(he.array, ht.detach().numpy(), rtol=1e-5, atol=1e-6)
    assert ep.cpu().data is not None and ep.is_cuda is False
