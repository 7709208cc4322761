"""Packed sequences (ember.nn.utils.rnn) against torch.nn.utils.rnn, in float64: packing,
unpacking, padding, and RNN/LSTM/GRU run on a PackedSequence with the same weights (outputs,
final states, and the gradients of the input, the initial state and every parameter)."""

from __future__ import annotations

import numpy as np
import pytest

import ember
from ember import nn
from ember.nn.utils.rnn import (
    PackedSequence,
    pack_padded_sequence,
    pack_sequence,
    pad_packed_sequence,
    pad_sequence,
)

TOL = 1e-10


def _close(theirs, ours, what):
    a = theirs.detach().numpy() if hasattr(theirs, "detach") else np.asarray(theirs)
    b = ours.data if isinstance(ours, ember.Tensor) else np.asarray(ours)
    assert a.shape == b.shape, f"{what}: shape {b.shape}, torch {a.shape}"
    np.testing.assert_allclose(b, a, rtol=TOL, atol=TOL, err_msg=what)


def _same_indices(tp, ep):
    """batch_sizes, sorted_indices and unsorted_indices equal (both None when sorted)."""
    np.testing.assert_array_equal(ep.batch_sizes.data, tp.batch_sizes.numpy())
    assert ep.batch_sizes.data.dtype == np.int64
    for name in ("sorted_indices", "unsorted_indices"):
        t, e = getattr(tp, name), getattr(ep, name)
        assert (t is None) == (e is None), f"{name}: torch {t}, ember {e}"
        if t is not None:
            np.testing.assert_array_equal(e.data, t.numpy(), err_msg=name)


def _pair(torch, mode, I, H, **kw):
    """A torch layer and an ember layer with the same float64 weights."""
    torch.manual_seed(0)
    tmod = getattr(torch.nn, mode)(I, H, **kw).double()
    emod = getattr(nn, mode)(I, H, **kw).double()
    emod.load_state_dict(tmod.state_dict())
    return tmod, emod


def _padded(rng, T, B, I, batch_first):
    return rng.standard_normal((B, T, I) if batch_first else (T, B, I))


@pytest.mark.parametrize("mode", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize("num_layers", [1, 2])
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("enforce_sorted", [True, False])
def test_layer_on_packed_matches_torch(
    torch, mode, num_layers, bidirectional, batch_first, enforce_sorted
):
    T, B, I, H = 6, 4, 3, 5
    D = 2 if bidirectional else 1
    lengths = [6, 4, 4, 1] if enforce_sorted else [3, 6, 1, 4]
    tmod, emod = _pair(
        torch, mode, I, H, num_layers=num_layers, bidirectional=bidirectional,
        batch_first=batch_first,
    )  # fmt: skip
    rng = np.random.default_rng(0)
    x = _padded(rng, T, B, I, batch_first)
    hx = [rng.standard_normal((num_layers * D, B, H)) for _ in range(2 if mode == "LSTM" else 1)]
    xt, xe = torch.tensor(x, requires_grad=True), ember.tensor(x, requires_grad=True)
    hxt = [torch.tensor(h, requires_grad=True) for h in hx]
    hxe = [ember.tensor(h, requires_grad=True) for h in hx]

    kw = dict(batch_first=batch_first, enforce_sorted=enforce_sorted)
    pt = torch.nn.utils.rnn.pack_padded_sequence(xt, torch.tensor(lengths), **kw)
    pe = ember.nn.utils.rnn.pack_padded_sequence(xe, lengths, **kw)
    yt, st = tmod(pt, tuple(hxt) if mode == "LSTM" else hxt[0])
    ye, se = emod(pe, tuple(hxe) if mode == "LSTM" else hxe[0])

    assert isinstance(ye, PackedSequence)
    _same_indices(yt, ye)
    _close(yt.data, ye.data, "packed output data")
    padded_t, len_t = torch.nn.utils.rnn.pad_packed_sequence(yt, batch_first=batch_first)
    padded_e, len_e = pad_packed_sequence(ye, batch_first=batch_first)
    _close(padded_t, padded_e, "padded output")
    np.testing.assert_array_equal(len_e.data, len_t.numpy())
    st = st if mode == "LSTM" else (st,)
    se = se if mode == "LSTM" else (se,)
    for k, (a, b) in enumerate(zip(st, se)):
        _close(a, b, f"final state {k} (original batch order)")

    ws = [rng.standard_normal(t.shape) for t in (ye.data, *se)]
    sum((t * torch.tensor(w)).sum() for t, w in zip((yt.data, *st), ws)).backward()
    sum((t * ember.tensor(w)).sum() for t, w in zip((ye.data, *se), ws)).backward()
    _close(xt.grad, xe.grad, "input gradient")
    padding = np.arange(T)[None, :] >= np.array(lengths)[:, None]  # (B, T)
    assert not xe.grad.data[padding if batch_first else padding.T].any()
    for k, (a, b) in enumerate(zip(hxt, hxe)):
        _close(a.grad, b.grad, f"initial state {k} gradient")
    eparams = dict(emod.named_parameters())
    for name, p in tmod.named_parameters():
        _close(p.grad, eparams[name].grad, f"gradient of {name}")


def test_lstm_proj_size_on_packed_without_hx_matches_torch(torch):
    tmod, emod = _pair(torch, "LSTM", 3, 6, num_layers=2, bidirectional=True, proj_size=2)
    x = np.random.default_rng(1).standard_normal((5, 3, 3))
    lengths = [2, 5, 3]
    pt = torch.nn.utils.rnn.pack_padded_sequence(torch.tensor(x), lengths, enforce_sorted=False)
    pe = pack_padded_sequence(ember.tensor(x), lengths, enforce_sorted=False)
    yt, (ht, ct) = tmod(pt)
    ye, (he, ce) = emod(pe)
    _close(yt.data, ye.data, "output")
    _close(ht, he, "h_n")
    _close(ct, ce, "c_n")


@pytest.mark.parametrize("batch_first", [False, True])
def test_record_gates_on_packed_are_the_lengths_path_gates(batch_first):
    lstm = nn.LSTM(3, 4, bidirectional=True, batch_first=batch_first).double()
    lengths = [2, 5, 3]
    x = ember.tensor(
        np.random.default_rng(2).standard_normal((3, 5, 3) if batch_first else (5, 3, 3))
    )
    packed = pack_padded_sequence(x, lengths, batch_first=batch_first, enforce_sorted=False)
    y, (h, _), gates = lstm(packed, record_gates=True)
    y_ref, (h_ref, _), gates_ref = lstm(x, lengths=lengths, record_gates=True)
    np.testing.assert_array_equal(pad_packed_sequence(y, batch_first)[0].data, y_ref.data)
    np.testing.assert_array_equal(h.data, h_ref.data)
    assert gates.keys() == gates_ref.keys() == {"l0", "l0_reverse"}
    for key, per_gate in gates.items():
        for name, g in per_gate.items():
            assert g.shape == ((3, 5, 4) if batch_first else (5, 3, 4))
            np.testing.assert_array_equal(g.data, gates_ref[key][name].data, err_msg=name)


# ------------------------------------------------------------ the functions alone


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("padding_side", ["right", "left"])
def test_pad_sequence_matches_torch(torch, batch_first, padding_side):
    rng = np.random.default_rng(3)
    for rest in ((), (2, 3)):
        arrays = [rng.standard_normal((n, *rest)) for n in (3, 5, 0, 1)]
        st = [torch.tensor(a, requires_grad=True) for a in arrays]
        se = [ember.tensor(a, requires_grad=True) for a in arrays]
        kw = dict(batch_first=batch_first, padding_value=-1.5, padding_side=padding_side)
        pt = torch.nn.utils.rnn.pad_sequence(st, **kw)
        pe = pad_sequence(se, **kw)
        _close(pt, pe, f"pad_sequence {rest}")
        w = rng.standard_normal(pe.shape)
        (pt * torch.tensor(w)).sum().backward()
        (pe * ember.tensor(w)).sum().backward()
        for k, (a, b) in enumerate(zip(st, se)):
            _close(a.grad, b.grad, f"gradient of sequence {k}")


@pytest.mark.parametrize("enforce_sorted", [True, False])
def test_pack_sequence_and_round_trip_match_torch(torch, enforce_sorted):
    rng = np.random.default_rng(4)
    sizes = (5, 3, 3, 1) if enforce_sorted else (3, 5, 1, 3)
    arrays = [rng.standard_normal((n, 2)) for n in sizes]
    st = [torch.tensor(a, requires_grad=True) for a in arrays]
    se = [ember.tensor(a, requires_grad=True) for a in arrays]
    pt = torch.nn.utils.rnn.pack_sequence(st, enforce_sorted=enforce_sorted)
    pe = pack_sequence(se, enforce_sorted=enforce_sorted)
    _same_indices(pt, pe)
    _close(pt.data, pe.data, "packed data")
    padded, lengths = pad_packed_sequence(pe, batch_first=True)
    np.testing.assert_array_equal(lengths.data, sizes)
    for k, a in enumerate(arrays):  # the round trip gives back every sequence
        np.testing.assert_array_equal(padded.data[k, : sizes[k]], a)
        assert not padded.data[k, sizes[k] :].any()
    w = rng.standard_normal(pe.data.shape)
    (pt.data * torch.tensor(w)).sum().backward()
    (pe.data * ember.tensor(w)).sum().backward()
    for k, (a, b) in enumerate(zip(st, se)):
        _close(a.grad, b.grad, f"gradient of sequence {k}")


@pytest.mark.parametrize("batch_first", [False, True])
def test_total_length_and_padding_value_match_torch(torch, batch_first):
    rng = np.random.default_rng(5)
    x = rng.standard_normal((3, 4, 2) if batch_first else (4, 3, 2))
    lengths = [4, 1, 2]
    kw = dict(batch_first=batch_first, enforce_sorted=False)
    pt = torch.nn.utils.rnn.pack_padded_sequence(torch.tensor(x), lengths, **kw)
    pe = pack_padded_sequence(ember.tensor(x), lengths, **kw)
    for total in (None, 4, 7):
        yt, lt = torch.nn.utils.rnn.pad_packed_sequence(
            pt, batch_first=batch_first, padding_value=9.0, total_length=total
        )
        ye, le = pad_packed_sequence(pe, batch_first, padding_value=9.0, total_length=total)
        _close(yt, ye, f"total_length={total}")
        np.testing.assert_array_equal(le.data, lt.numpy())
        assert le.data.dtype == np.int64


def test_pack_then_unpack_gradcheck():
    x = ember.tensor(np.random.default_rng(6).standard_normal((4, 3, 2)), requires_grad=True)

    def round_trip(x):
        packed = pack_padded_sequence(x * x, [2, 4, 1], enforce_sorted=False)
        padded, _ = pad_packed_sequence(packed, total_length=5, padding_value=0.5)
        return padded, packed.data

    assert ember.gradcheck(round_trip, (x,))


def test_to_float_double_convert_the_data_and_keep_the_packing():
    x = ember.tensor(np.random.default_rng(7).standard_normal((4, 3, 2)), requires_grad=True)
    packed = pack_padded_sequence(x, [2, 4, 1], enforce_sorted=False)
    single = packed.float()
    assert single.data.dtype == np.float32 and packed.data.dtype == np.float64
    np.testing.assert_array_equal(single.data.data, packed.data.data.astype(np.float32))
    for a, b in zip(single[1:], packed[1:], strict=True):
        np.testing.assert_array_equal(a.data, b.data)
    assert single.double().data.dtype == np.float64
    assert packed.to("cpu").data.dtype == np.float64
    single.data.sum().backward()  # differentiable as Tensor.to is: 1 at every packed step
    inside = np.arange(4)[:, None] < np.array([2, 4, 1])[None, :]  # (T, B)
    np.testing.assert_array_equal(x.grad.data, np.repeat(inside[..., None], 2, axis=2) * 1.0)
    with pytest.raises(RuntimeError, match="cuda"):
        packed.to("cuda")


def test_reachable_as_torch_names():
    assert ember.nn.utils.rnn.pack_padded_sequence is pack_padded_sequence
    assert ember.nn.utils.clip_grad_norm_ is nn.utils.clip_grad_norm_  # clipping is still here
    from ember.nn.utils import clip_grad_value_  # noqa: F401


# ------------------------------------------------------------ mistakes, said where they are made


def test_errors_name_the_values():
    x = ember.randn(4, 3, 2)
    with pytest.raises(
        ValueError, match=r"decreasing order, got \[2, 4, 1\].*enforce_sorted=False"
    ):
        pack_padded_sequence(x, [2, 4, 1])
    with pytest.raises(ValueError, match=r"in \[1, 4\].*lengths\[2\] = 0 in \[4, 2, 0\]"):
        pack_padded_sequence(x, [4, 2, 0])
    with pytest.raises(ValueError, match=r"in \[1, 4\].*lengths\[0\] = 5 in \[5, 2, 1\]"):
        pack_padded_sequence(x, [5, 2, 1])
    with pytest.raises(ValueError, match=r"batch size 3 .*got 2 lengths \[4, 2\]"):
        pack_padded_sequence(x, [4, 2])
    with pytest.raises(ValueError, match=r"batch size 4 .*batch_first=True.*got 3 lengths"):
        pack_padded_sequence(x, [3, 2, 1], batch_first=True)
    with pytest.raises(TypeError, match="numbers, got dtype <U1"):
        pack_padded_sequence(x, np.array(["4", "2", "1"]))
    packed = pack_padded_sequence(x, [4, 2, 1])
    with pytest.raises(ValueError, match=r"at least .* 4, got total_length=3"):
        pad_packed_sequence(packed, total_length=3)
    with pytest.raises(TypeError, match="expected a PackedSequence.*got Tensor"):
        pad_packed_sequence(x)
    with pytest.raises(ValueError, match=r"sequence 1 has shape \(2, 3\)"):
        pad_sequence([ember.randn(3, 2), ember.randn(2, 3)])
    with pytest.raises(ValueError, match="padding_side must be 'left' or 'right', got 'top'"):
        pad_sequence([ember.randn(3, 2)], padding_side="top")
    lstm = nn.LSTM(2, 3)
    with pytest.raises(ValueError, match=r"no lengths=.*lengths=\[4, 2, 1\]"):
        lstm(packed, lengths=[4, 2, 1])
    with pytest.raises(ValueError, match=r"input_size=5\).*got data of shape \(7, 2\)"):
        nn.GRU(5, 3)(packed)
