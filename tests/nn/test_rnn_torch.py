"""PyTorch parity: a torch nn.RNN/LSTM/GRU state_dict loads into the ember layer, and outputs,
final states and every gradient (input, h0, c0, each weight) agree in float32."""

from __future__ import annotations

import numpy as np
import pytest

import ember
from ember import nn

# float32: 1e-5 relative. The absolute floor scales with the tensor's largest element: a bias
# gradient sums T·B terms in a different order in torch and NumPy, so an element that cancels
# to near 0 keeps an error of a few float32 ulps of the terms (seen: 1.3e-6 on a bias of ~10).
RTOL, ATOL = 1e-5, 1e-6


def _pair(torch, mode, I, H, **kw):
    torch.manual_seed(0)
    tmod = getattr(torch.nn, mode)(I, H, **kw)
    emod = getattr(nn, mode)(I, H, **kw)
    emod.load_state_dict(tmod.state_dict())
    return tmod, emod


def _close(a, b, what):
    a = a.detach().numpy() if hasattr(a, "detach") else a
    scale = max(1.0, float(np.abs(a).max()))
    np.testing.assert_allclose(b, a, rtol=RTOL, atol=ATOL * scale, err_msg=what)


def _check(torch, mode, tmod, emod, x, hx, lengths=None):
    """Run both, backprop the same random weighting of every output, compare everything."""
    rng = np.random.default_rng(1)
    bf = tmod.batch_first
    xt = torch.tensor(x, requires_grad=True)
    xe = ember.tensor(x, requires_grad=True)
    hxt = hxe = None
    if hx is not None:
        hxt = tuple(torch.tensor(h, requires_grad=True) for h in hx)
        hxe = tuple(ember.tensor(h, requires_grad=True) for h in hx)
    t_in = hxt if mode == "LSTM" else (None if hxt is None else hxt[0])
    e_in = hxe if mode == "LSTM" else (None if hxe is None else hxe[0])
    if lengths is None:
        yt, st = tmod(xt, t_in)
    else:
        pack = torch.nn.utils.rnn.pack_padded_sequence(
            xt, torch.tensor(lengths), batch_first=bf, enforce_sorted=False
        )
        yp, st = tmod(pack, t_in)
        total = x.shape[1] if bf else x.shape[0]
        yt, _ = torch.nn.utils.rnn.pad_packed_sequence(yp, batch_first=bf, total_length=total)
    ye, se = emod(xe, e_in, lengths=lengths)
    st = st if mode == "LSTM" else (st,)
    se = se if mode == "LSTM" else (se,)
    _close(yt, ye.array, "output")
    for k, (a, b) in enumerate(zip(st, se)):
        _close(a, b.array, f"final state {k}")
    ws = [rng.standard_normal(y.shape).astype(np.float32) for y in (ye, *se)]
    sum((t * torch.tensor(w)).sum() for t, w in zip((yt, *st), ws)).backward()
    sum((t * ember.tensor(w)).sum() for t, w in zip((ye, *se), ws)).backward()
    _close(xt.grad, xe.grad.array, "input gradient")
    if hx is not None:
        for k, (a, b) in enumerate(zip(hxt, hxe)):
            _close(a.grad, b.grad.array, f"initial state {k} gradient")
    eparams = dict(emod.named_parameters())
    for name, p in tmod.named_parameters():
        _close(p.grad, eparams[name].grad.array, f"gradient of {name}")


def _inputs(mode, L, D, B, T, I, H, P, batch_first, given_state):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((B, T, I) if batch_first else (T, B, I)).astype(np.float32)
    if not given_state:
        return x, None
    hx = [rng.standard_normal((L * D, B, P or H)).astype(np.float32)]
    if mode == "LSTM":
        hx.append(rng.standard_normal((L * D, B, H)).astype(np.float32))
    return x, hx


@pytest.mark.parametrize("mode", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize("num_layers", [1, 2, 3])
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("given_state", [False, True])
def test_matches_torch(torch, mode, num_layers, bidirectional, batch_first, given_state):
    T, B, I, H = 6, 3, 5, 7
    tmod, emod = _pair(
        torch, mode, I, H, num_layers=num_layers, bidirectional=bidirectional,
        batch_first=batch_first,
    )  # fmt: skip
    D = 2 if bidirectional else 1
    x, hx = _inputs(mode, num_layers, D, B, T, I, H, 0, batch_first, given_state)
    _check(torch, mode, tmod, emod, x, hx)


@pytest.mark.parametrize("mode", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("batch_first", [False, True])
def test_lengths_match_packed_torch(torch, mode, bidirectional, batch_first):
    T, B, I, H, L = 7, 4, 3, 5, 2
    tmod, emod = _pair(
        torch, mode, I, H, num_layers=L, bidirectional=bidirectional, batch_first=batch_first
    )
    x, hx = _inputs(mode, L, 2 if bidirectional else 1, B, T, I, H, 0, batch_first, True)
    _check(torch, mode, tmod, emod, x, hx, lengths=[7, 2, 5, 1])


@pytest.mark.parametrize("num_layers", [1, 2])
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("use_lengths", [False, True])
def test_lstm_proj_size_matches_torch(torch, num_layers, bidirectional, use_lengths):
    T, B, I, H, P = 5, 3, 4, 6, 3
    tmod, emod = _pair(
        torch, "LSTM", I, H, num_layers=num_layers, bidirectional=bidirectional, proj_size=P
    )
    x, hx = _inputs("LSTM", num_layers, 2 if bidirectional else 1, B, T, I, H, P, False, True)
    _check(torch, "LSTM", tmod, emod, x, hx, lengths=[5, 3, 1] if use_lengths else None)


@pytest.mark.parametrize("mode", ["RNN", "LSTM", "GRU"])
def test_no_bias_and_relu_match_torch(torch, mode):
    kw = {"nonlinearity": "relu"} if mode == "RNN" else {}
    tmod, emod = _pair(torch, mode, 4, 5, num_layers=2, bias=False, **kw)
    x, hx = _inputs(mode, 2, 1, 3, 6, 4, 5, 0, False, True)
    _check(torch, mode, tmod, emod, x, hx)


@pytest.mark.parametrize("mode", ["RNN", "LSTM", "GRU"])
def test_unbatched_input_matches_torch(torch, mode):
    tmod, emod = _pair(torch, mode, 4, 5)
    x = np.random.default_rng(0).standard_normal((6, 4)).astype(np.float32)
    yt, _ = tmod(torch.tensor(x))
    ye, _ = emod(ember.tensor(x))
    _close(yt, ye.array, "unbatched output")


@pytest.mark.parametrize("cell", ["RNNCell", "LSTMCell", "GRUCell"])
def test_cells_match_torch(torch, cell):
    tc = getattr(torch.nn, cell)(4, 5)
    ec = getattr(nn, cell)(4, 5)
    ec.load_state_dict(tc.state_dict())
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 4)).astype(np.float32)
    h = rng.standard_normal((3, 5)).astype(np.float32)
    xt, ht = torch.tensor(x, requires_grad=True), torch.tensor(h, requires_grad=True)
    xe, he = ember.tensor(x, requires_grad=True), ember.tensor(h, requires_grad=True)
    if cell == "LSTMCell":
        outs_t, outs_e = tc(xt, (ht, ht * 0.5)), ec(xe, (he, he * 0.5))
    else:
        outs_t, outs_e = (tc(xt, ht),), (ec(xe, he),)
    for a, b in zip(outs_t, outs_e):
        _close(a, b.array, f"{cell} output")
    sum(o.sum() * (k + 1) for k, o in enumerate(outs_t)).backward()
    sum(o.sum() * (k + 1) for k, o in enumerate(outs_e)).backward()
    _close(xt.grad, xe.grad.array, "x gradient")
    _close(ht.grad, he.grad.array, "h gradient")
    for name, p in tc.named_parameters():
        _close(p.grad, dict(ec.named_parameters())[name].grad.array, name)
