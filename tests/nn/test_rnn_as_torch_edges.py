"""Edges of the recurrent layers and packing utilities where ember used to differ from torch
2.13 (found by fuzzing both side by side): hand-built PackedSequences, float and 2-D lengths,
unpad_sequence past T, zero-sized cells, and torch's RuntimeError class for its refusals."""

import numpy as np
import pytest

import ember
from ember import nn
from ember.nn.utils.rnn import (
    PackedSequence,
    pack_padded_sequence,
    pad_packed_sequence,
    unpack_sequence,
    unpad_sequence,
)


def _hand_built(torch, tr):
    """A PackedSequence built by hand with sorted_indices only, in ember and torch."""
    d = np.arange(9.0).reshape(9, 1)
    bs, order = [3, 3, 2, 1], [1, 2, 0]
    t = tr.PackedSequence(torch.tensor(d), torch.tensor(bs), torch.tensor(order))
    e = PackedSequence(ember.tensor(d), ember.tensor(np.array(bs)), ember.tensor(np.array(order)))
    return e, t


def test_hand_built_packed_sequence_inverts_its_sorted_indices(torch):
    tr = torch.nn.utils.rnn
    e, t = _hand_built(torch, tr)
    np.testing.assert_array_equal(e.unsorted_indices.numpy(), t.unsorted_indices.numpy())
    for batch_first in (False, True):
        pe, le = pad_packed_sequence(e, batch_first=batch_first)
        pt, lt = tr.pad_packed_sequence(t, batch_first=batch_first)
        np.testing.assert_array_equal(pe.numpy(), pt.numpy())
        np.testing.assert_array_equal(le.numpy(), lt.numpy())
    for se, st in zip(unpack_sequence(e), tr.unpack_sequence(t)):
        np.testing.assert_array_equal(se.numpy(), st.numpy())
    # and through a recurrent layer: the same packed output and h_n as torch's
    torch.manual_seed(0)
    tg = torch.nn.GRU(1, 2, dtype=torch.float64)
    eg = nn.GRU(1, 2, dtype=ember.float64)
    eg.load_state_dict({k: v.detach().numpy() for k, v in tg.state_dict().items()})
    (oe, he), (ot, ht) = eg(e), tg(t)
    np.testing.assert_allclose(oe.data.detach().numpy(), ot.data.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(he.detach().numpy(), ht.detach().numpy(), rtol=1e-12)


def test_packed_sequence_from_one_pair_and_replace_keeps_fields(torch):
    data, bs = ember.randn(3, 2), ember.tensor(np.array([2, 1]))
    p = PackedSequence((data, bs))
    assert p.data is data and p.batch_sizes is bs
    assert p.sorted_indices is None and p.unsorted_indices is None
    q = p._replace(data=ember.zeros(3, 2))  # NamedTuple's own methods still work
    assert isinstance(q, PackedSequence) and q.batch_sizes is bs
    with pytest.raises(TypeError, match="one pair"):
        PackedSequence(data)


def test_float_lengths_are_cut_to_ints_and_2d_lengths_refused(torch):
    tr = torch.nn.utils.rnn
    x = np.random.default_rng(0).standard_normal((4, 3, 2))
    e = pack_padded_sequence(ember.tensor(x), [3.7, 2.0, 1.0])
    t = tr.pack_padded_sequence(torch.tensor(x), [3.7, 2.0, 1.0])
    np.testing.assert_array_equal(e.batch_sizes.numpy(), t.batch_sizes.numpy())
    np.testing.assert_array_equal(e.data.numpy(), t.data.numpy())
    with pytest.raises(RuntimeError):
        tr.pack_padded_sequence(torch.tensor(x), torch.tensor([[3, 2, 1]]))
    with pytest.raises(RuntimeError, match=r"1-D .* got shape \(1, 3\)"):
        pack_padded_sequence(ember.tensor(x), ember.tensor(np.array([[3, 2, 1]])))


def test_unpad_sequence_takes_the_steps_below_each_length_as_torch(torch):
    x = np.random.default_rng(1).standard_normal((4, 3, 2))
    lengths = [5, 1, -1]  # past T: all of it; below 0: nothing
    got = unpad_sequence(ember.tensor(x), ember.tensor(np.array(lengths)))
    want = torch.nn.utils.rnn.unpad_sequence(torch.tensor(x), torch.tensor(lengths))
    assert [tuple(g.shape) for g in got] == [tuple(w.shape) for w in want]
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g.numpy(), w.numpy())
    with pytest.raises(ValueError, match="expected 3 lengths"):
        unpad_sequence(ember.tensor(x), [2, 1])


@pytest.mark.parametrize("cls", ["RNNCell", "LSTMCell", "GRUCell"])
@pytest.mark.parametrize("sizes", [(3, 0), (0, 3)])
def test_zero_sized_cells_run_as_torch(torch, cls, sizes):
    torch.manual_seed(0)
    tm = getattr(torch.nn, cls)(*sizes, dtype=torch.float64)
    em = getattr(nn, cls)(*sizes, dtype=ember.float64)
    em.load_state_dict({k: v.detach().numpy() for k, v in tm.state_dict().items()})
    x = np.random.default_rng(2).standard_normal((2, sizes[0]))
    xe, xt = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ye, yt = em(xe), tm(xt)
    if cls == "LSTMCell":
        ye, yt = ye[0] + ye[1], yt[0] + yt[1]
    np.testing.assert_allclose(ye.detach().numpy(), yt.detach().numpy(), rtol=1e-12)
    ye.sum().backward()
    yt.sum().backward()
    np.testing.assert_allclose(xe.grad.numpy(), xt.grad.numpy(), rtol=1e-12)
    with pytest.raises(RuntimeError, match="must not be negative"):
        getattr(nn, cls)(-1, 3)


def _refusals(m):
    """(name, call) pairs that torch refuses with a RuntimeError; m is ember or torch."""
    nn_, z, f64 = m.nn, m.zeros, m.float64
    tr = m.nn.utils.rnn
    x = z(4, 3, 2)
    return [
        ("cell batch", lambda: nn_.RNNCell(3, 4)(z(2, 3), z(3, 4))),
        ("cell hidden size", lambda: nn_.RNNCell(3, 4)(z(2, 3), z(2, 5))),
        ("cell c batch", lambda: nn_.LSTMCell(3, 4)(z(2, 3), (z(2, 4), z(3, 4)))),
        ("cell input dtype", lambda: nn_.GRUCell(3, 4)(z(2, 3, dtype=f64))),
        ("cell h dtype", lambda: nn_.GRUCell(3, 4)(z(2, 3), z(2, 4, dtype=f64))),
        ("cell three states", lambda: nn_.LSTMCell(3, 4)(z(2, 3), (z(2, 4),) * 3)),
        ("no time steps", lambda: nn_.GRU(3, 4)(z(0, 2, 3))),
        ("h0 dtype", lambda: nn_.GRU(3, 4)(z(5, 2, 3), z(1, 2, 4, dtype=f64))),
        ("packed feature size", lambda: nn_.GRU(3, 4)(tr.pack_sequence([z(2, 5)]))),
        ("lstm three states", lambda: nn_.LSTM(3, 4)(z(5, 2, 3), (z(1, 2, 4),) * 3)),
        ("unsorted lengths", lambda: tr.pack_padded_sequence(x, [2, 3, 1])),
        ("unsorted sequences", lambda: tr.pack_sequence([z(1, 2), z(2, 2)])),
        ("zero length", lambda: tr.pack_padded_sequence(x, [3, 2, 0])),
        ("zero-length sequence", lambda: tr.pack_sequence([z(2, 2), z(0, 2)])),
        ("lengths count", lambda: tr.pack_padded_sequence(x, [3, 2])),
        ("no sequences", lambda: tr.pad_sequence([])),
        ("padding side", lambda: tr.pad_sequence([z(2)], padding_side="top")),
        ("trailing shapes", lambda: tr.pad_sequence([z(2, 2), z(2, 3)])),
    ]


@pytest.mark.parametrize("k", range(18))
def test_refusals_are_torchs_runtime_errors(refused_alike, k):
    refused_alike(_refusals, k)
