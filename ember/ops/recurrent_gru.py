"""Fused GRU layer: one Function per layer and direction over a whole sequence.

    r_t = σ(W_ir·x_t + b_ir + W_hr·h_{t-1} + b_hr)          reset gate
    z_t = σ(W_iz·x_t + b_iz + W_hz·h_{t-1} + b_hz)          update gate
    n_t = tanh(W_in·x_t + b_in + r_t ∗ (W_hn·h_{t-1} + b_hn))   candidate (reset_after, torch)
    n_t = tanh(W_in·x_t + b_in + W_hn·(r_t ∗ h_{t-1}) + b_hn)   candidate (Cho et al. 2014)
    h_t = (1 - z_t) ∗ n_t + z_t ∗ h_{t-1}

Same layout and method as ``recurrent.py``: all input projections in one GEMM, the state kept
transposed (H, B), gates made in place in the preallocated pre-activation array, backward
through time by hand. Gates are stacked r, z, n as torch stores them.
"""

from __future__ import annotations

from ..backend import expit, get_array_module
from ..function import Function
from .recurrent import project_inputs, project_inputs_backward, record_gates, step_masks, step_order


class GRULayer(Function):
    """Inputs: x (T, B, I), h0 (B, H), W_ih (3H, I), W_hh (3H, H), b_ih, b_hh (3H,) or None.

    Outputs: y (T, B, H), h_n (B, H). ``reset_after=True`` is torch's (and cuDNN's, Keras's
    default) form; ``False`` is the original form of Cho et al. 2014.
    """

    multi_output = True

    def forward(
        self, x, h0, w_ih, w_hh, b_ih, b_hh, *, reset_after=True, lengths=None, reverse=False,
        recorder=None, grad_trace=None,
    ):  # fmt: skip
        xp = get_array_module(x)
        T, B, _ = x.shape
        H = w_hh.shape[0] // 3
        masks = step_masks(lengths, T, xp)
        A = project_inputs(x, w_ih, b_ih)  # (3H, T, B): W_i·x_t + b_i, then r, z, n in place
        dt = A.dtype
        Gh = xp.empty((T, 3 * H, B), dt)  # W_h·h_{t-1} + b_h (the n rows: W_hn·(r ∗ h) for Cho)
        Hprev, Y = xp.empty((T, H, B), dt), xp.empty((T, H, B), dt)
        RH = None if reset_after else xp.empty((T, H, B), dt)
        bias_h = None if b_hh is None else b_hh[:, None]
        h = xp.ascontiguousarray(h0.T)
        for t in step_order(T, reverse):
            Hprev[t] = h
            a, gh = A[:, t], Gh[t]
            if reset_after:
                xp.matmul(w_hh, Hprev[t], out=gh)
            else:
                xp.matmul(w_hh[: 2 * H], Hprev[t], out=gh[: 2 * H])
            if bias_h is not None:
                gh[: 2 * H] += bias_h[: 2 * H]
            a[: 2 * H] += gh[: 2 * H]
            expit(a[: 2 * H], out=a[: 2 * H])  # r_t, z_t
            r, z, n = a[:H], a[H : 2 * H], a[2 * H :]
            if not reset_after:
                xp.multiply(r, Hprev[t], out=RH[t])
                xp.matmul(w_hh[2 * H :], RH[t], out=gh[2 * H :])
            if bias_h is not None:
                gh[2 * H :] += bias_h[2 * H :]
            if reset_after:
                n += r * gh[2 * H :]
            else:
                n += gh[2 * H :]
            xp.tanh(n, out=n)
            xp.subtract(Hprev[t], n, out=Y[t])  # h_t = n_t + z_t ∗ (h_{t-1} - n_t)
            Y[t] *= z
            Y[t] += n
            if masks is None:
                h = Y[t]
            else:
                h = xp.where(masks[t], Y[t], h)
                Y[t] *= masks[t]
        self.x, self.A, self.Gh, self.Hprev, self.RH, self.masks = x, A, Gh, Hprev, RH, masks
        self.w_ih, self.w_hh, self.reverse, self.reset_after = w_ih, w_hh, reverse, reset_after
        self.grad_trace, self.has_bias = grad_trace, b_ih is not None
        if recorder is not None:
            gates = {"r": A[:H], "z": A[H : 2 * H], "n": A[2 * H :], "h": Y.transpose(1, 0, 2)}
            record_gates(recorder, gates, masks)
        return xp.ascontiguousarray(Y.transpose(0, 2, 1)), xp.ascontiguousarray(h.T)

    def backward(self, gy, gh_n):
        xp = get_array_module(self.A)
        A, Gh, Hprev, w_hh = self.A, self.Gh, self.Hprev, self.w_hh
        _, T, B = A.shape
        H = w_hh.shape[0] // 3
        dA, dGh = xp.empty_like(A), xp.empty_like(Gh)
        dh = xp.zeros((H, B), A.dtype) if gh_n is None else xp.array(gh_n.T)
        trace = xp.empty((T, B)) if self.grad_trace is not None else None
        tmp = xp.empty((H, B), A.dtype)
        for t in step_order(T, not self.reverse):
            if gy is not None:  # a masked step's output is the constant 0: no gradient
                dh = dh + (gy[t].T if self.masks is None else gy[t].T * self.masks[t])
            if trace is not None:
                trace[t] = xp.sqrt((dh * dh).sum(axis=0))
            if self.masks is not None:
                m = self.masks[t]
                dh_skip = dh * ~m
                dh = dh * m
            a, da, dgh, hp = A[:, t], dA[:, t], dGh[t], Hprev[t]
            r, z, n = a[:H], a[H : 2 * H], a[2 * H :]
            xp.subtract(1, n * n, out=tmp)  # ∂L/∂(pre n) = ∂L/∂h_t ∗ (1 - z_t) ∗ (1 - n_t²)
            tmp *= 1 - z
            xp.multiply(dh, tmp, out=da[2 * H :])
            dpre_n = da[2 * H :]
            xp.subtract(hp, n, out=tmp)  # ∂L/∂(pre z) = ∂L/∂h_t ∗ (h_{t-1} - n_t) ∗ z(1 - z)
            tmp *= dh
            tmp *= z
            xp.multiply(tmp, 1 - z, out=da[H : 2 * H])
            dh_direct = dh * z
            if self.reset_after:
                xp.multiply(dpre_n, r, out=dgh[2 * H :])
                dr = dpre_n * Gh[t, 2 * H :]
            else:
                dgh[2 * H :] = dpre_n
                drh = w_hh[2 * H :].T @ dpre_n  # ∂L/∂(r_t ∗ h_{t-1})
                dr = drh * hp
                dh_direct += drh * r
            dr *= r
            xp.multiply(dr, 1 - r, out=da[:H])
            dgh[: 2 * H] = da[: 2 * H]
            if self.reset_after:
                dh = w_hh.T @ dgh
            else:
                dh = w_hh[: 2 * H].T @ dgh[: 2 * H]
            dh += dh_direct
            if self.masks is not None:
                dh += dh_skip
        if trace is not None:
            self.grad_trace.append(trace)
        dx, dw_ih, db_ih = project_inputs_backward(self, dA, self.x, self.w_ih)
        if self.reset_after:
            dw_hh = xp.tensordot(dGh, Hprev, axes=([0, 2], [0, 2]))
        else:
            dw_hh = xp.concatenate(
                [
                    xp.tensordot(dGh[:, : 2 * H], Hprev, axes=([0, 2], [0, 2])),
                    xp.tensordot(dGh[:, 2 * H :], self.RH, axes=([0, 2], [0, 2])),
                ]
            )
        if not self.has_bias:
            db_ih = db_hh = None
        else:
            db_hh = dGh.sum(axis=(0, 2))
        return dx, xp.ascontiguousarray(dh.T), dw_ih, dw_hh, db_ih, db_hh
