"""torch's window functions (hann, hamming, blackman, bartlett, kaiser), Poisson and binomial
draws, constant_pad_nd and the functional RNN cells (lstm_cell, gru_cell, rnn_tanh_cell,
rnn_relu_cell) on ember.*; ``__all__`` lists them, and torch_misc.py re-exports them.

The cells are built from ember's Tensor ops, so autograd derives their gradients; their gates
come in torch's order (LSTM: input, forget, cell, output; GRU: reset, update, new).
"""

from __future__ import annotations

import builtins
import math

from . import backend
from .backend import xp
from .functional import linear, pad
from .promotion import default_float, torch_dtype_name
from .tensor import Tensor

__all__ = [
    "hann_window",
    "hamming_window",
    "blackman_window",
    "bartlett_window",
    "kaiser_window",
    "poisson",
    "binomial",
    "constant_pad_nd",
    "lstm_cell",
    "gru_cell",
    "rnn_tanh_cell",
    "rnn_relu_cell",
]


# ---------------------------------------------------------------- windows
def _window(name: str, window_length: int, periodic: bool, dtype, requires_grad, device, fn):
    """fn(n, m): the window's values at positions n (float64) of a symmetric window of m
    points; periodic windows are the first window_length points of one of window_length + 1."""
    backend.check_device(device)
    if window_length < 0:
        raise RuntimeError(
            f"{name} requires non-negative window_length, got window_length={window_length}"
        )
    dt = xp.dtype(default_float() if dtype is None else dtype)
    if dt.kind != "f":
        raise RuntimeError(f"{name} expects floating point dtypes, got: {torch_dtype_name(dt)}")
    if window_length <= 1:
        values = xp.ones(window_length, dtype=dt)
    else:
        m = window_length + 1 if periodic else window_length
        values = fn(xp.arange(window_length, dtype=xp.float64), m).astype(dt)
    return Tensor(values, requires_grad=requires_grad)


def hann_window(window_length: int, periodic: bool = True, *, dtype=None, layout=None,
                device=None, requires_grad=False) -> Tensor:  # fmt: skip
    """torch.hann_window: ½ − ½·cos(2πn/(N−1))."""
    return hamming_window(window_length, periodic, 0.5, 0.5, dtype=dtype, device=device,
                          requires_grad=requires_grad, _name="hann_window")  # fmt: skip


def hamming_window(window_length: int, periodic: bool = True, alpha: float = 0.54,
                   beta: float = 0.46, *, dtype=None, layout=None, device=None,
                   requires_grad=False, _name: str = "hamming_window") -> Tensor:  # fmt: skip
    """torch.hamming_window: α − β·cos(2πn/(N−1))."""
    return _window(_name, window_length, periodic, dtype, requires_grad, device,
                   lambda n, m: alpha - beta * xp.cos(2 * math.pi * n / (m - 1)))  # fmt: skip


def blackman_window(window_length: int, periodic: bool = True, *, dtype=None, layout=None,
                    device=None, requires_grad=False) -> Tensor:  # fmt: skip
    """torch.blackman_window: 0.42 − 0.5·cos(2πn/(N−1)) + 0.08·cos(4πn/(N−1))."""

    def values(n, m):
        t = 2 * math.pi * n / (m - 1)
        return 0.42 - 0.5 * xp.cos(t) + 0.08 * xp.cos(2 * t)

    return _window("blackman_window", window_length, periodic, dtype, requires_grad, device,
                   values)  # fmt: skip


def bartlett_window(window_length: int, periodic: bool = True, *, dtype=None, layout=None,
                    device=None, requires_grad=False) -> Tensor:  # fmt: skip
    """torch.bartlett_window: 1 − |2n/(N−1) − 1|."""
    return _window("bartlett_window", window_length, periodic, dtype, requires_grad, device,
                   lambda n, m: 1 - xp.abs(2 * n / (m - 1) - 1))  # fmt: skip


def kaiser_window(window_length: int, periodic: bool = True, beta: float = 12.0, *, dtype=None,
                  layout=None, device=None, requires_grad=False) -> Tensor:  # fmt: skip
    """torch.kaiser_window: I₀(β·√(1 − ((n − h)/h)²)) / I₀(β), h = (N−1)/2."""

    def values(n, m):
        h = (m - 1) / 2
        return xp.i0(beta * xp.sqrt(xp.clip(1 - ((n - h) / h) ** 2, 0, None))) / xp.i0(beta)

    return _window("kaiser_window", window_length, periodic, dtype, requires_grad, device,
                   values)  # fmt: skip


# ---------------------------------------------------------------- draws
def _host_rng(generator):
    # NumPy's Generator behind ember's (backend_random.Generator has no poisson or binomial)
    return backend.generator_or_default(generator)._rng


def poisson(input, generator=None) -> Tensor:  # noqa: A002
    """torch.poisson: a Poisson draw per element with that element as its rate (input's
    dtype; no gradient)."""
    rates = backend.to_numpy(input.data)
    if (rates < 0).any():
        raise RuntimeError("invalid Poisson rate, expected rate to be non-negative")
    draws = _host_rng(generator).poisson(rates.astype(float))
    return Tensor(xp.asarray(draws.astype(rates.dtype)))


def binomial(count, prob, generator=None) -> Tensor:
    """torch.binomial: a Binomial(count, prob) draw per element (floating dtypes; prob clipped
    to [0, 1], as torch treats it; no gradient)."""
    for what, t in (("count", count), ("prob", prob)):
        if t.data.dtype.kind != "f":
            raise ValueError(
                f"binomial only supports floating-point dtypes for {what}, got:"
                f" {torch_dtype_name(t.data.dtype)}"
            )
    n = backend.to_numpy(count.data)
    p = backend.to_numpy(prob.data).clip(0, 1)
    draws = _host_rng(generator).binomial(n.astype("int64"), p)
    dtype = xp.result_type(count.data.dtype, prob.data.dtype)
    return Tensor(xp.asarray(draws.astype(dtype)))


# ---------------------------------------------------------------- padding
def constant_pad_nd(input, pad: tuple, value=0) -> Tensor:  # noqa: A002
    """torch.constant_pad_nd: F.pad(input, pad, "constant", value), pad naming (left, right)
    amounts from the last dim back; a negative amount crops that many elements instead."""
    pad = tuple(int(p) for p in pad)
    if len(pad) % 2:
        raise RuntimeError(f"Length of pad must be even but instead it equals {len(pad)}")
    if len(pad) // 2 > input.ndim:
        raise RuntimeError(
            "Length of pad should be no more than twice the number of dimensions of the input."
            f" Pad length is {len(pad)}while the input has {input.ndim}dimensions."  # torch's
        )
    if any(p < 0 for p in pad):
        index = [slice(None)] * input.ndim
        for k in builtins.range(len(pad) // 2):
            left, right = pad[2 * k], pad[2 * k + 1]
            size = input.shape[input.ndim - 1 - k]
            index[input.ndim - 1 - k] = slice(max(-left, 0), size - max(-right, 0))
        input = input[tuple(index)]
        pad = tuple(max(p, 0) for p in pad)
    return _pad(input, pad, "constant", value) if any(pad) else input.clone()


_pad = pad


# ---------------------------------------------------------------- RNN cells
def _gates(input, hx, w_ih, w_hh, b_ih, b_hh):  # noqa: A002
    return linear(input, w_ih, b_ih), linear(hx, w_hh, b_hh)


def lstm_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):  # noqa: A002
    """torch.lstm_cell: one LSTM step; hx = (h, c); returns (h′, c′)."""
    if len(hx) != 2:
        raise RuntimeError("lstm_cell expects two hidden states")
    h, c = hx
    gi, gh = _gates(input, h, w_ih, w_hh, b_ih, b_hh)
    i, f, g, o = (gi + gh).chunk(4, 1 if gi.ndim > 1 else 0)
    c_next = f.sigmoid() * c + i.sigmoid() * g.tanh()
    return o.sigmoid() * c_next.tanh(), c_next


def gru_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):  # noqa: A002
    """torch.gru_cell: one GRU step; returns h′ = (1 − z)·n + z·h."""
    gi, gh = _gates(input, hx, w_ih, w_hh, b_ih, b_hh)
    dim = 1 if gi.ndim > 1 else 0
    i_r, i_z, i_n = gi.chunk(3, dim)
    h_r, h_z, h_n = gh.chunk(3, dim)
    r, z = (i_r + h_r).sigmoid(), (i_z + h_z).sigmoid()
    n = (i_n + r * h_n).tanh()
    return n + z * (hx - n)


def rnn_tanh_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):  # noqa: A002
    """torch.rnn_tanh_cell: tanh(x·W_ihᵀ + b_ih + h·W_hhᵀ + b_hh)."""
    gi, gh = _gates(input, hx, w_ih, w_hh, b_ih, b_hh)
    return (gi + gh).tanh()


def rnn_relu_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):  # noqa: A002
    """torch.rnn_relu_cell: relu(x·W_ihᵀ + b_ih + h·W_hhᵀ + b_hh)."""
    gi, gh = _gates(input, hx, w_ih, w_hh, b_ih, b_hh)
    return (gi + gh).relu()
