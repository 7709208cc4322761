"""The fused Elman RNN over a whole sequence: h_t = tanh(W_ih·x_t + b_ih + W_hh·h_{t-1} + b_hh).

The inputs of all T steps are projected in one GEMM before the loop; each step is one GEMM
and the non-linearity, in place on a preallocated state buffer; backward through time is
written by hand. Layout, masking and buffer conventions are those of ``recurrent.py``.
"""

from __future__ import annotations

from ..backend import get_array_module
from ..function import Function
from .recurrent_steps import (
    fresh_pair,
    grad_outputs_in_step_order,
    output_from_states,
    project_inputs,
    record_gates,
    rows_by_time,
    step_masks,
    step_order,
    weight_grads_from_steps,
)


class RNNLayer(Function):
    """One Elman RNN layer in one direction: h_t = tanh(W_ih·x_t + b_ih + W_hh·h_{t-1} + b_hh).

    ``nonlinearity`` "tanh" or "relu". Inputs: x (T, B, I), h0 (B, H), W_ih (H, I), W_hh (H, H),
    b_ih, b_hh (H,) or None. Outputs: y (T, B, H), h_n (B, H).
    """

    multi_output = True

    def forward(
        self, x, h0, w_ih, w_hh, b_ih, b_hh, *, nonlinearity="tanh", lengths=None, reverse=False,
        recorder=None, grad_trace=None,
    ):  # fmt: skip
        xp = get_array_module(x)
        self.given = (x, h0, w_ih, w_hh, b_ih, b_hh)  # references, for recorded derivatives
        T, B, _ = x.shape
        H = w_hh.shape[0]
        masks = step_masks(lengths, T, xp)
        A = project_inputs(x, w_ih, None if b_ih is None else b_ih + b_hh)  # (H, T, B)
        Hs = xp.empty((T + 1, H, B), A.dtype)
        Hs[0] = h0.T
        h = xp.empty((H, B), A.dtype) if masks is not None else None
        for k, t in enumerate(step_order(T, reverse)):
            a = Hs[k + 1] if masks is None else h
            xp.matmul(w_hh, Hs[k], out=a)
            a += A[:, t]
            if nonlinearity == "tanh":
                xp.tanh(a, out=a)
            else:
                xp.maximum(a, 0, out=a)
            if masks is not None:
                Hs[k + 1] = Hs[k]
                xp.copyto(Hs[k + 1], h, where=masks[t])
        self.x, self.Hs, self.w_ih, self.w_hh = x, Hs, w_ih, w_hh
        self.masks, self.reverse, self.nonlinearity = masks, reverse, nonlinearity
        self.grad_trace, self.has_bias = grad_trace, b_ih is not None
        if recorder is not None:
            record_gates(recorder, {"h": Hs[1:]}, reverse, masks)
        return output_from_states(Hs[1:], reverse, masks, xp), xp.ascontiguousarray(Hs[T].T)

    def backward(self, gy, gh_n):
        xp = get_array_module(self.Hs)
        Hs, w_hhT, masks = self.Hs, xp.ascontiguousarray(self.w_hh.T), self.masks
        T, H, B = Hs.shape[0] - 1, Hs.shape[1], Hs.shape[2]
        if self.nonlinearity == "tanh":
            D = 1 - Hs[1:] * Hs[1:]  # tanh' = 1 - h², every step at once
        else:
            D = (Hs[1:] > 0).astype(Hs.dtype)
        if masks is not None:  # a masked step's state is a copy: no gradient through the cell
            D *= masks[list(step_order(T, self.reverse))]
        gyk = grad_outputs_in_step_order(gy, self.reverse, masks, Hs.dtype, xp)
        dA = xp.empty_like(D)
        dh = xp.zeros((H, B), Hs.dtype) if gh_n is None else xp.array(gh_n.T, dtype=Hs.dtype)
        trace = xp.empty((T, B)) if self.grad_trace is not None else None
        ts = list(step_order(T, self.reverse))
        for k in range(T - 1, -1, -1):
            if gyk is not None:
                dh += gyk[k]
            if trace is not None:
                # in float64: a norm of float32 values below ~1e-19 would square to 0
                trace[ts[k]] = xp.sqrt(xp.square(dh, dtype=xp.float64).sum(axis=0))
            xp.multiply(dh, D[k], out=dA[k])
            if masks is not None:
                dh *= ~masks[ts[k]]
                dh += w_hhT @ dA[k]
            else:
                dh = w_hhT @ dA[k]
        if trace is not None:
            self.grad_trace.append(trace)
        dA2, Hs2 = rows_by_time(dA, self.reverse), rows_by_time(Hs[:T], self.reverse)
        dx, dw_ih, dw_hh, db = weight_grads_from_steps(self, dA2, self.x, self.w_ih, Hs2)
        db_ih, db_hh = fresh_pair(db, self.has_bias)
        return dx, xp.ascontiguousarray(dh.T), dw_ih, dw_hh, db_ih, db_hh
