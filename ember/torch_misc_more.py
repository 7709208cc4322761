"""torch's window functions (hann, hamming, blackman, bartlett, kaiser), Poisson and binomial
draws, constant_pad_nd, the functional RNN cells (lstm_cell, gru_cell, rnn_tanh_cell,
rnn_relu_cell), print options, the RNG state as a tensor and the top-level in-place forms
(relu_, sigmoid_ …, dropout_) on ember.*; ``__all__`` lists them, and torch_misc.py
re-exports them.

The cells are built from ember's Tensor ops, so autograd derives their gradients; their gates
come in torch's order (LSTM: input, forget, cell, output; GRU: reset, update, new).
"""

from __future__ import annotations

import builtins
import math

from . import backend, functional, tensor_str
from .backend import xp
from .functional import linear, pad
from .functional.layers_extra import alpha_dropout, feature_alpha_dropout
from .promotion import default_float, torch_dtype_name
from .random_draws import zero_gradient
from .tensor import Tensor
from .tensor_aliases import require_tensor

__all__ = [
    "feature_alpha_dropout_",
    "alpha_dropout_",
    "dropout_",
    "set_rng_state",
    "get_rng_state",
    "set_printoptions",
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
def poisson(input, generator=None) -> Tensor:  # noqa: A002
    """torch.poisson: a Poisson draw per element with that element as its rate (input's
    floating dtype; a gradient of zeros, as torch's)."""
    require_tensor("poisson", input, "input")
    rates = backend.to_numpy(input.array)
    if rates.dtype.kind != "f":
        name = torch_dtype_name(rates.dtype)
        raise NotImplementedError(f"\"poisson_cpu\" not implemented for '{name}'")
    if not (rates >= 0).all():  # NaN too, as torch
        raise RuntimeError("invalid Poisson rate, expected rate to be non-negative")
    draws = backend.generator_or_default(generator).poisson(rates.astype(float))
    return zero_gradient(xp.asarray(draws, dtype=rates.dtype), input)


def binomial(count, prob, generator=None) -> Tensor:
    """torch.binomial: a Binomial(count, prob) draw per element (floating dtypes; prob clipped
    to [0, 1], as torch treats it; no gradient)."""
    for what, t in (("count", count), ("prob", prob)):
        if t.array.dtype.kind != "f":
            raise ValueError(
                f"binomial only supports floating-point dtypes for {what}, got:"
                f" {torch_dtype_name(t.array.dtype)}"
            )
    n = backend.to_numpy(count.array)
    p = backend.to_numpy(prob.array).clip(0, 1)
    draws = backend.generator_or_default(generator).binomial(n.astype("int64"), p)
    dtype = xp.result_type(count.array.dtype, prob.array.dtype)
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


# ---------------------------------------------------------------- printing
def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None,
                     profile=None, sci_mode=None) -> None:  # fmt: skip
    """torch.set_printoptions (tensor_str.py, where tensors are formatted as torch formats them):
    digits after the point, how many elements before a tensor is summarised, how many at each
    end of a summary, the line width, a profile ("default", "short", "full") and scientific
    notation (None: as suits the values). NumPy's own print options are left alone."""
    tensor_str.set_printoptions(precision, threshold, edgeitems, linewidth, profile, sci_mode)


# ---------------------------------------------------------------- random state
_STATE_BYTES = 48  # PCG64's state and increment (16 bytes each), its buffered uint32 (8 + 8)


def get_rng_state() -> Tensor:
    """torch.get_rng_state: the default generator's state as a uint8 tensor, for set_rng_state
    (ember's generator is NumPy's PCG64: its state is 48 bytes, not torch's 5056)."""
    state = backend.default_generator.get_state()
    words = (state["state"]["state"], state["state"]["inc"])
    raw = b"".join(w.to_bytes(16, "little") for w in words)
    raw += int(state["has_uint32"]).to_bytes(8, "little") + int(state["uinteger"]).to_bytes(
        8, "little"
    )
    return Tensor(xp.asarray(list(raw), dtype=xp.uint8))


def set_rng_state(new_state) -> None:
    """torch.set_rng_state: restore the default generator from get_rng_state's tensor, so the
    draws that followed it then repeat."""
    if not isinstance(new_state, Tensor) or new_state.dtype != xp.uint8:
        raise TypeError("RNG state must be a torch.ByteTensor")
    if new_state.numel() != _STATE_BYTES:
        raise RuntimeError(
            f"Expected an RNG state of size {_STATE_BYTES} but found the input RNG state size"
            f" to be {new_state.numel()}"
        )
    raw = bytes(backend.to_numpy(new_state.array).tobytes())
    word = [
        int.from_bytes(raw[i : i + n], "little") for i, n in ((0, 16), (16, 16), (32, 8), (40, 8))
    ]
    backend.default_generator.set_state(
        {
            "bit_generator": "PCG64",
            "state": {"state": word[0], "inc": word[1]},
            "has_uint32": word[2],
            "uinteger": word[3],
        }
    )


# ---------------------------------------------------------------- in-place top-level forms
def dropout_(input, p: float, train: bool) -> Tensor:  # noqa: A002
    """torch.dropout_: dropout written into input (recorded where a gradient is needed)."""
    require_tensor("dropout_", input, "input")
    return input._arith_("dropout_", lambda x: functional.dropout(x, p, train))


def alpha_dropout_(input, p: float, train: bool) -> Tensor:  # noqa: A002
    """torch.alpha_dropout_: alpha dropout written into input."""
    require_tensor("alpha_dropout_", input, "input")
    return input._arith_("alpha_dropout_", lambda x: alpha_dropout(x, p, train))


def feature_alpha_dropout_(input, p: float, train: bool) -> Tensor:  # noqa: A002
    """torch.feature_alpha_dropout_: feature alpha dropout written into input."""
    require_tensor("feature_alpha_dropout_", input, "input")
    return input._arith_("feature_alpha_dropout_", lambda x: feature_alpha_dropout(x, p, train))


def _inplace_form(name: str, owner: str):
    if owner == "F":

        def form(input, *args, **kwargs):  # noqa: A002
            require_tensor(name, input, "input")
            return getattr(functional, name)(input, *args, **kwargs)
    else:

        def form(input, *args, **kwargs):  # noqa: A002
            require_tensor(name, input, "input")
            return getattr(input, name)(*args, **kwargs)

    form.__name__ = form.__qualname__ = name
    where = "ember.functional" if owner == "F" else "Tensor"
    form.__doc__ = f"torch.{name}: {where}.{name} on input (in place; returns input)."
    return form


_TENSOR_FORMS = (
    "detach_ zero_ sigmoid_ tanh_ exp_ log_ sqrt_ abs_ neg_ clamp_ clip_ ceil_ floor_"
    " round_ trunc_ frac_ reciprocal_ rsqrt_ square_ sin_ cos_ erf_ expm1_ log1p_ log2_ log10_"
    " sinh_ cosh_ tan_ asin_ acos_ atan_ sinc_ deg2rad_ rad2deg_ nan_to_num_ logit_ xlogy_ fix_"
    " negative_"
).split()
_F_FORMS = "relu_ selu_ celu_ rrelu_ threshold_".split()
for _name in _TENSOR_FORMS + _F_FORMS:
    globals()[_name] = _inplace_form(_name, "F" if _name in _F_FORMS else "Tensor")
    __all__.append(_name)
del _name
