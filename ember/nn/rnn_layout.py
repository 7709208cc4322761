"""Gate-layout converters between torch/ember, Keras and ONNX recurrent weights.

Which weight slice is which gate (rows of a stacked gate matrix, H rows each):

    framework      LSTM gates      GRU gates   weight shapes
    torch, ember   i, f, g(=C̃), o  r, z, n     W_ih (G·H, I), W_hh (G·H, H), b_ih, b_hh (G·H,)
    Keras          i, f, c, o      z, r, h     kernel (I, G·H), recurrent (H, G·H)
    ONNX           i, o, f, c      z, r, h     W (D, G·H, I), R (D, G·H, H), B (D, 2·G·H) = [Wb, Rb]

Keras' LSTM has one bias (b = b_ih + b_hh); its GRU with ``reset_after=True`` keeps two rows
(input bias, recurrent bias), which map to b_ih and b_hh. ONNX's GRU needs
``linear_before_reset=1`` to be torch's form. The functions work on NumPy arrays (or anything
``as_array`` accepts) and return NumPy arrays; ``from_*`` return a dict in torch's names for one
layer and direction, ready for ``load_state_dict`` after adding the ``_l0`` suffix.
"""

from __future__ import annotations

from ..backend import xp
from ..tensor import as_array

# position of each target gate in torch's order
_TORCH_TO_ONNX = {"LSTM": [0, 3, 1, 2], "GRU": [1, 0, 2]}
_TORCH_TO_KERAS = {"LSTM": [0, 1, 2, 3], "GRU": [1, 0, 2]}


def _gates(a, mode):
    n = 4 if mode == "LSTM" else 3
    if a.shape[0] % n:
        raise ValueError(f"{mode} weights need a first dimension divisible by {n}, got {a.shape}")
    return xp.split(a, n, axis=0)


def _reorder(a, mode, order):
    blocks = _gates(a, mode)
    return xp.concatenate([blocks[k] for k in order], axis=0)


def _inverse(order):
    inv = [0] * len(order)
    for pos, k in enumerate(order):
        inv[k] = pos
    return inv


def _check_mode(mode):
    if mode not in ("LSTM", "GRU"):
        raise ValueError(f"mode must be 'LSTM' or 'GRU', got {mode!r}")


def to_keras(weight_ih, weight_hh, bias_ih=None, bias_hh=None, mode: str = "LSTM"):
    """torch layout → Keras (kernel (I, G·H), recurrent_kernel (H, G·H), bias).

    bias is (4H,) = b_ih + b_hh for an LSTM and (2, 3H) = [b_ih; b_hh] for a GRU
    (``reset_after=True``); None without biases.
    """
    _check_mode(mode)
    order = _TORCH_TO_KERAS[mode]
    w_ih, w_hh = (_reorder(as_array(w), mode, order) for w in (weight_ih, weight_hh))
    bias = None
    if bias_ih is not None:
        b_ih, b_hh = (_reorder(as_array(b), mode, order) for b in (bias_ih, bias_hh))
        bias = b_ih + b_hh if mode == "LSTM" else xp.stack([b_ih, b_hh])
    return w_ih.T.copy(), w_hh.T.copy(), bias


def from_keras(kernel, recurrent_kernel, bias=None, mode: str = "LSTM") -> dict:
    """Keras layout → {"weight_ih", "weight_hh", "bias_ih", "bias_hh"} in torch's layout.

    A Keras LSTM's single bias goes to bias_ih (bias_hh = 0): the sum is what the cell uses.
    """
    _check_mode(mode)
    order = _inverse(_TORCH_TO_KERAS[mode])
    out = {
        "weight_ih": _reorder(as_array(kernel).T, mode, order),
        "weight_hh": _reorder(as_array(recurrent_kernel).T, mode, order),
    }
    if bias is not None:
        b = as_array(bias)
        if mode == "LSTM":
            out["bias_ih"], out["bias_hh"] = _reorder(b, mode, order), xp.zeros_like(b)
        else:
            if b.ndim != 2:
                raise ValueError(
                    f"a Keras GRU bias must be (2, 3H) (reset_after=True), got shape {b.shape}"
                )
            out["bias_ih"], out["bias_hh"] = (_reorder(r, mode, order) for r in b)
    return out


def to_onnx(weight_ih, weight_hh, bias_ih=None, bias_hh=None, mode: str = "LSTM"):
    """torch layout (one direction) → ONNX (W (1, G·H, I), R (1, G·H, H), B (1, 2·G·H))."""
    _check_mode(mode)
    order = _TORCH_TO_ONNX[mode]
    W = _reorder(as_array(weight_ih), mode, order)[None]
    R = _reorder(as_array(weight_hh), mode, order)[None]
    if bias_ih is None:
        B = xp.zeros((1, 2 * W.shape[1]), W.dtype)
    else:
        b_ih, b_hh = (_reorder(as_array(b), mode, order) for b in (bias_ih, bias_hh))
        B = xp.concatenate([b_ih, b_hh])[None]
    return W, R, B


def from_onnx(W, R, B=None, mode: str = "LSTM", direction: int = 0) -> dict:
    """ONNX (W, R, B) → torch's names for direction ``direction`` (0 forward, 1 reverse)."""
    _check_mode(mode)
    order = _inverse(_TORCH_TO_ONNX[mode])
    W, R = as_array(W)[direction], as_array(R)[direction]
    out = {"weight_ih": _reorder(W, mode, order), "weight_hh": _reorder(R, mode, order)}
    if B is not None:
        b_ih, b_hh = xp.split(as_array(B)[direction], 2)
        out["bias_ih"], out["bias_hh"] = _reorder(b_ih, mode, order), _reorder(b_hh, mode, order)
    return out
