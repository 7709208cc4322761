"""Fused recurrent layers: one Function per layer and direction over a whole sequence.

The LSTM as the seed writes it (σ the logistic sigmoid, ∗ elementwise):

    f_t = σ(W_f·[h_{t-1}, x_t] + b_f)        forget gate
    i_t = σ(W_i·[h_{t-1}, x_t] + b_i)        input gate
    C̃_t = tanh(W_C·[h_{t-1}, x_t] + b_C)     candidate cell state
    C_t = f_t ∗ C_{t-1} + i_t ∗ C̃_t          cell state
    o_t = σ(W_o·[h_{t-1}, x_t] + b_o)        output gate
    h_t = o_t ∗ tanh(C_t)                    hidden state
    (with proj_size: h_t = W_hr·(o_t ∗ tanh(C_t)), Sak et al. 2014)

Why it is fast (PERFORMANCE.md): W·[h, x] + b = W_ih·x + W_hh·h + b_ih + b_hh, so the input half
of every step is computed for all T steps in one GEMM before the loop; inside the loop there is
one gate GEMM per step. The state is kept transposed, h as (H, B), so the per-step product is
W_hh (4H×H) · h (H×B), which BLAS runs faster for small batches than B×H · H×4H. The
pre-activations of all steps live in one preallocated array A (gates×T×B) and the gate
non-linearities are applied in place on it, so A holds σ/tanh of the gates that backward reads.
Backward through time is derived by hand and walks the steps in reverse; the weight gradients
are then one GEMM each over all steps.

Variable lengths: ``lengths`` (B,) masks step t of sequence b when t ≥ lengths[b]. A masked
step keeps the previous state and outputs zero, so forward final states are taken at each
sequence's own last step, and the reverse direction starts at each sequence's own end.

Arrays here are time-major: x (T, B, I), y (T, B, H_out), h0/c0 (B, H). The equal, composed
version built from primitive ops is in ``ember/nn/rnn_cells.py``; tests hold the two equal.
"""

from __future__ import annotations

from ..backend import expit, get_array_module
from ..function import Function


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


def project_inputs_backward(fn, dA, x, w_ih):
    """Gradients of the all-steps input projection: (dx, dW_ih, db) from dA (G, T, B)."""
    T, B, I = x.shape
    dA2 = dA.reshape(dA.shape[0], T * B)
    need_x, need_w = fn.needs_input_grad[0], fn.needs_input_grad[3]
    dx = (dA2.T @ w_ih).reshape(T, B, I) if need_x else None
    dw = dA2 @ x.reshape(T * B, I) if need_w else None
    db = dA2.sum(axis=1)
    return dx, dw, db


def record_gates(recorder, named, masks):
    """Copy (H, T, B) gate arrays into ``recorder`` as (T, B, H); masked steps become 0."""
    for key, a in named.items():
        a = a.transpose(1, 2, 0)
        if masks is not None:
            a = a * masks.transpose(0, 2, 1)
        recorder[key] = a.copy()


def states_after(prev, final, reverse: bool, xp):
    """The state after every step, (T, H, B), from the states before each step and the last."""
    if reverse:
        return xp.concatenate([final[None], prev[:-1]], axis=0)
    return xp.concatenate([prev[1:], final[None]], axis=0)


class LSTMLayer(Function):
    """One LSTM layer in one direction over a sequence (see the module docstring).

    Inputs: x (T, B, I), h0 (B, P), c0 (B, H), W_ih (4H, I), W_hh (4H, P), b_ih, b_hh (4H,)
    or None, W_hr (P, H) or None (P = H without projection). Gates stacked i, f, g(=C̃), o as
    torch stores them. Outputs: y (T, B, P), h_n (B, P), c_n (B, H).
    """

    multi_output = True

    def forward(
        self, x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr, *, lengths=None, reverse=False,
        recorder=None, grad_trace=None,
    ):  # fmt: skip
        xp = get_array_module(x)
        T, B, _ = x.shape
        H, P = w_hh.shape[0] // 4, w_hh.shape[1]
        masks = step_masks(lengths, T, xp)
        A = project_inputs(x, w_ih, None if b_ih is None else b_ih + b_hh)  # (4H, T, B)
        dt = A.dtype
        Hprev, Cprev = xp.empty((T, P, B), dt), xp.empty((T, H, B), dt)
        tanhC = xp.empty((T, H, B), dt)
        M = xp.empty((T, H, B), dt) if w_hr is not None else None  # o ∗ tanh C before W_hr
        Y = xp.empty((T, P, B), dt)
        h, c = xp.ascontiguousarray(h0.T), xp.array(c0.T)
        c_new, rec, iC = xp.empty((H, B), dt), xp.empty((4 * H, B), dt), xp.empty((H, B), dt)
        for t in step_order(T, reverse):
            Hprev[t], Cprev[t] = h, c
            a = A[:, t]  # pre-activations of step t, made into gates in place
            xp.matmul(w_hh, Hprev[t], out=rec)
            a += rec
            expit(a[: 2 * H], out=a[: 2 * H])  # i_t, f_t
            xp.tanh(a[2 * H : 3 * H], out=a[2 * H : 3 * H])  # C̃_t
            expit(a[3 * H :], out=a[3 * H :])  # o_t
            i, f, C_tilde, o = a[:H], a[H : 2 * H], a[2 * H : 3 * H], a[3 * H :]
            xp.multiply(f, c, out=c_new)  # C_t = f_t ∗ C_{t-1} + i_t ∗ C̃_t
            xp.multiply(i, C_tilde, out=iC)
            c_new += iC
            xp.tanh(c_new, out=tanhC[t])
            if M is None:
                xp.multiply(o, tanhC[t], out=Y[t])  # h_t = o_t ∗ tanh(C_t)
            else:
                xp.multiply(o, tanhC[t], out=M[t])
                xp.matmul(w_hr, M[t], out=Y[t])  # h_t = W_hr·(o_t ∗ tanh(C_t))
            if masks is None:
                h = Y[t]
                c, c_new = c_new, c
            else:
                m = masks[t]
                h, c = xp.where(m, Y[t], h), xp.where(m, c_new, c)
                Y[t] *= m
        self.x, self.A, self.Hprev, self.Cprev, self.tanhC, self.M = x, A, Hprev, Cprev, tanhC, M
        self.w_ih, self.w_hh, self.w_hr, self.masks, self.reverse = w_ih, w_hh, w_hr, masks, reverse
        self.grad_trace, self.has_bias = grad_trace, b_ih is not None
        if recorder is not None:
            gates = {"i": A[:H], "f": A[H : 2 * H], "c_tilde": A[2 * H : 3 * H], "o": A[3 * H :]}
            gates["c"] = states_after(Cprev, c, reverse, xp).transpose(1, 0, 2)
            gates["h"] = Y.transpose(1, 0, 2)
            record_gates(recorder, gates, masks)
        y = xp.ascontiguousarray(Y.transpose(0, 2, 1))
        return y, xp.ascontiguousarray(h.T), xp.ascontiguousarray(c.T)

    def backward(self, gy, gh_n, gc_n):
        xp = get_array_module(self.A)
        A, Cprev, tanhC, M, w_hh, w_hr = (
            self.A,
            self.Cprev,
            self.tanhC,
            self.M,
            self.w_hh,
            self.w_hr,
        )
        _, T, B = A.shape
        H, P = w_hh.shape[0] // 4, w_hh.shape[1]
        dt = A.dtype
        dA = xp.empty_like(A)
        dh = xp.zeros((P, B), dt) if gh_n is None else xp.array(gh_n.T)
        dc = xp.zeros((H, B), dt) if gc_n is None else xp.array(gc_n.T)
        dHout = xp.empty((T, P, B), dt) if w_hr is not None else None
        trace = xp.empty((T, B)) if self.grad_trace is not None else None
        tmp, tmp2 = xp.empty((H, B), dt), xp.empty((H, B), dt)
        w_hhT = w_hh.T
        for t in step_order(T, not self.reverse):
            if gy is not None:  # a masked step's output is the constant 0: no gradient
                dh = dh + (
                    gy[t].T if self.masks is None else gy[t].T * self.masks[t]
                )  # ∂L/∂h_t: through the output and through step t+1
            if trace is not None:
                trace[t] = xp.sqrt((dh * dh).sum(axis=0))
            if self.masks is not None:  # a masked step passes its state's gradient straight on
                m = self.masks[t]
                dh_skip, dc_skip = dh * ~m, dc * ~m
                dh, dc = dh * m, dc * m
            a, da = A[:, t], dA[:, t]
            i, f, C_tilde, o = a[:H], a[H : 2 * H], a[2 * H : 3 * H], a[3 * H :]
            if w_hr is None:
                dm = dh
            else:
                dHout[t] = dh
                dm = w_hr.T @ dh
            tc = tanhC[t]
            xp.multiply(dm, tc, out=tmp)  # ∂L/∂o_t
            xp.multiply(o, 1 - o, out=tmp2)
            xp.multiply(tmp, tmp2, out=da[3 * H :])
            xp.multiply(tc, tc, out=tmp)  # ∂L/∂C_t += ∂L/∂h_t ∗ o_t ∗ (1 - tanh² C_t)
            xp.subtract(1, tmp, out=tmp)
            tmp *= o
            tmp *= dm
            dc = dc + tmp
            xp.multiply(i, 1 - i, out=tmp)  # ∂L/∂i_t = ∂L/∂C_t ∗ C̃_t
            tmp *= C_tilde
            xp.multiply(dc, tmp, out=da[:H])
            xp.multiply(C_tilde, C_tilde, out=tmp)  # ∂L/∂C̃_t = ∂L/∂C_t ∗ i_t
            xp.subtract(1, tmp, out=tmp)
            tmp *= i
            xp.multiply(dc, tmp, out=da[2 * H : 3 * H])
            xp.multiply(f, 1 - f, out=tmp)  # ∂L/∂f_t = ∂L/∂C_t ∗ C_{t-1}
            tmp *= Cprev[t]
            xp.multiply(dc, tmp, out=da[H : 2 * H])
            dc = dc * f  # ∂L/∂C_{t-1} through the conveyor belt
            dh = w_hhT @ da
            if self.masks is not None:
                dh += dh_skip
                dc += dc_skip
        if trace is not None:
            self.grad_trace.append(trace)
        dx, dw_ih, db = project_inputs_backward(self, dA, self.x, self.w_ih)
        dw_hh = xp.tensordot(dA, self.Hprev, axes=([1, 2], [0, 2]))
        dw_hr = xp.tensordot(dHout, M, axes=([0, 2], [0, 2])) if w_hr is not None else None
        db_ih, db_hh = (db, db.copy()) if self.has_bias else (None, None)
        dh0, dc0 = xp.ascontiguousarray(dh.T), xp.ascontiguousarray(dc.T)
        return dx, dh0, dc0, dw_ih, dw_hh, db_ih, db_hh, dw_hr


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
        T, B, _ = x.shape
        H = w_hh.shape[0]
        masks = step_masks(lengths, T, xp)
        A = project_inputs(x, w_ih, None if b_ih is None else b_ih + b_hh)  # (H, T, B)
        Hprev = xp.empty((T, H, B), A.dtype)
        rec = xp.empty((H, B), A.dtype)
        h = xp.ascontiguousarray(h0.T)
        for t in step_order(T, reverse):
            Hprev[t] = h
            a = A[:, t]
            xp.matmul(w_hh, Hprev[t], out=rec)
            a += rec
            if nonlinearity == "tanh":
                xp.tanh(a, out=a)
            else:
                xp.maximum(a, 0, out=a)
            h = a if masks is None else xp.where(masks[t], a, h)
        if masks is not None:
            A *= masks.transpose(1, 0, 2)  # outputs past a sequence's end are zero
        self.x, self.A, self.Hprev, self.w_ih, self.w_hh = x, A, Hprev, w_ih, w_hh
        self.masks, self.reverse, self.nonlinearity = masks, reverse, nonlinearity
        self.grad_trace, self.has_bias = grad_trace, b_ih is not None
        if recorder is not None:
            record_gates(recorder, {"h": A}, None)
        return xp.ascontiguousarray(A.transpose(1, 2, 0)), xp.ascontiguousarray(h.T)

    def backward(self, gy, gh_n):
        xp = get_array_module(self.A)
        A, w_hhT = self.A, self.w_hh.T
        H, T, B = A.shape
        dA = xp.empty_like(A)
        dh = xp.zeros((H, B), A.dtype) if gh_n is None else xp.array(gh_n.T)
        trace = xp.empty((T, B)) if self.grad_trace is not None else None
        for t in step_order(T, not self.reverse):
            if gy is not None:  # a masked step's output is the constant 0: no gradient
                dh = dh + (gy[t].T if self.masks is None else gy[t].T * self.masks[t])
            if trace is not None:
                trace[t] = xp.sqrt((dh * dh).sum(axis=0))
            h, da = A[:, t], dA[:, t]
            if self.masks is not None:
                m = self.masks[t]
                dh_skip = dh * ~m
                dh = dh * m
            if self.nonlinearity == "tanh":
                xp.multiply(h, h, out=da)  # ∂tanh = 1 - h²
                xp.subtract(1, da, out=da)
                da *= dh
            else:
                xp.multiply(dh, h > 0, out=da)
            dh = w_hhT @ da
            if self.masks is not None:
                dh += dh_skip
        if trace is not None:
            self.grad_trace.append(trace)
        dx, dw_ih, db = project_inputs_backward(self, dA, self.x, self.w_ih)
        dw_hh = xp.tensordot(dA, self.Hprev, axes=([1, 2], [0, 2]))
        db_ih, db_hh = (db, db.copy()) if self.has_bias else (None, None)
        return dx, xp.ascontiguousarray(dh.T), dw_ih, dw_hh, db_ih, db_hh
