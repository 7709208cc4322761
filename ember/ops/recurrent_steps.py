"""What every fused recurrent layer (LSTM, GRU, tanh/ReLU RNN) shares: step order and masks
for variable lengths, the input projection of all steps in one GEMM, gate scales, recorded
gates, outputs and output gradients laid out in step order, and the weight gradients as one
GEMM over all steps. Conventions (time-major arrays, buffers indexed by processing step k,
states kept transposed (H, B)) are those of ``recurrent.py``'s module docstring.
"""

from __future__ import annotations

from ..backend import get_array_module


def step_order(T: int, reverse: bool):
    return range(T - 1, -1, -1) if reverse else range(T)


def step_masks(lengths, T: int, xp):
    """(T, 1, B) booleans: True where step t is inside sequence b; None without lengths."""
    if lengths is None:
        return None
    return (xp.arange(T)[:, None] < lengths[None, :])[:, None, :]


def project_inputs(x, w_ih, bias):
    """A = W_ih·x_t + b for every step at once: (G, T, B) from x (T, B, I) and W_ih (G, I)."""
    T, B, I = x.shape
    A = w_ih @ x.reshape(T * B, I).T
    if bias is not None:
        A += bias[:, None]
    return A.reshape(-1, T, B)


def gate_scales(n_gates: int, H: int, tanh_rows: int | None, dtype, xp):
    """Column s of length n_gates·H: ½ on σ rows, 1 on the tanh row block ``tanh_rows``.

    With pre-activations scaled by s, σ(a) = ½·tanh(s·a) + ½ on σ rows and tanh(a) on the
    tanh rows (None for all σ); the ½·(·) + ½ is applied to the σ row blocks as scalars.
    """
    s = xp.full((n_gates * H, 1), 0.5, dtype)
    if tanh_rows is not None:
        s[tanh_rows * H : (tanh_rows + 1) * H] = 1.0
    return s


def record_gates(recorder, named, reverse: bool, masks):
    """Copy (T, H, B) arrays in step order into ``recorder`` as (T, B, H) in time order.

    Masked steps (past a sequence's end) are recorded as 0.
    """
    for key, a in named.items():
        a = (a[::-1] if reverse else a).transpose(0, 2, 1)
        if masks is not None:
            a = a * masks.transpose(0, 2, 1)
        recorder[key] = xp_copy(a)


def xp_copy(a):
    return get_array_module(a).ascontiguousarray(a)


def output_from_states(Hs, reverse: bool, masks, xp):
    """y (T, B, H) in time order from the states after each step (T, H, B), zero where masked."""
    Y = (Hs[::-1] if reverse else Hs).transpose(0, 2, 1)
    if masks is not None:
        Y = Y * masks.transpose(0, 2, 1)
    return xp.ascontiguousarray(Y)


def grad_outputs_in_step_order(gy, reverse: bool, masks, dtype, xp):
    """The output gradient (T, B, H) as (T, H, B) in step order, contiguous; masked steps 0."""
    if gy is None:
        return None
    g = gy.transpose(0, 2, 1)
    if masks is not None:
        g = g * masks
    return xp.ascontiguousarray((g[::-1] if reverse else g), dtype=dtype)


def rows_by_time(a, reverse: bool):
    """(T, R, B) in step order → (R, T·B) in time order, contiguous: one copy."""
    xp = get_array_module(a)
    T, R, B = a.shape
    return xp.ascontiguousarray((a[::-1] if reverse else a).transpose(1, 0, 2)).reshape(R, T * B)


def weight_grads_from_steps(fn, dG2, x, w_ih, Hs2):
    """dx, dW_ih, dW_hh, db from the pre-activation gradients dG2 (G, T·B) in time order.

    With dG and the states entering each step laid out as (rows, T·B), every weight gradient
    is one GEMM over all steps: dW_ih = Σ_t dG_t·x_tᵀ, dW_hh = Σ_t dG_t·h_{t-1}ᵀ.
    """
    T, B, I = x.shape
    dx = (dG2.T @ w_ih).reshape(T, B, I) if fn.needs_input_grad[0] else None
    dw_ih = dG2 @ x.reshape(T * B, I)
    dw_hh = dG2 @ Hs2.T if Hs2 is not None else None
    return dx, dw_ih, dw_hh, dG2.sum(axis=1)


def fresh_pair(db, has_bias):
    return (db, db.copy()) if has_bias else (None, None)
