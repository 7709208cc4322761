"""Fused recurrent layers: one Function per layer and direction over a whole sequence.

The LSTM as the seed writes it (σ the logistic sigmoid, ∗ elementwise):

    f_t = σ(W_f·[h_{t-1}, x_t] + b_f)        forget gate
    i_t = σ(W_i·[h_{t-1}, x_t] + b_i)        input gate
    C̃_t = tanh(W_C·[h_{t-1}, x_t] + b_C)     candidate cell state
    C_t = f_t ∗ C_{t-1} + i_t ∗ C̃_t          cell state
    o_t = σ(W_o·[h_{t-1}, x_t] + b_o)        output gate
    h_t = o_t ∗ tanh(C_t)                    hidden state
    (with proj_size: h_t = W_hr·(o_t ∗ tanh(C_t)), Sak et al. 2014)

Why it is fast (PERFORMANCE.md): the LSTM computes W·[h_{t-1}, x_t] + b as the seed writes it,
one GEMM per step of W = [W_hh, W_ih, b_ih + b_hh] (4H × (P+I+1)) on the stacked column
Z_k = [h_{t-1}; x_t; 1] (torch's split W_ih·x_t + b_ih + W_hh·h_{t-1} + b_hh is the same sum);
the x rows and the ones of every Z_k are laid out before the loop and the recurrence writes h_t
straight into the next Z, so there is no separate input projection and no per-step add (the
other layers project the inputs of all T steps in one GEMM before the loop). The state is kept
transposed, h as (H, B), so the per-step product is (4H×K) · (K×B), which BLAS runs faster for
small batches than B×K · K×4H. Every per-step array lives in one preallocated buffer (gates G
(T, 4H, B), states (T+1, ·, B)) written in place. All four gate non-linearities are one tanh
over the whole gate block: σ(a) = ½·tanh(½a) + ½, and the ½ is folded into the weights of the
σ rows (scaling by ½ is exact in floating point), so a step's gates cost tanh, one multiply and
one add. Backward through time is
derived by hand: every factor that does not depend on the incoming gradient (σ' = σ(1-σ),
tanh' = 1-tanh², and the partner each gate multiplies) is computed for a block of steps at once
(for the LSTM a cache-sized block, just before the steps that use it), so the reverse loop does
about six small elementwise operations and one GEMM per step; the weight gradients are one GEMM
each over all steps, on gradients laid out (rows, T·B) (for the LSTM one GEMM on the stacked Z
gives ∂L/∂W_hh, ∂L/∂W_ih and ∂L/∂b together).

Buffers are indexed by processing step k (k = t forward, k = T-1-t for the reverse direction),
except the input projection and the LSTM's pre-activation gradients, which are in time order.

Variable lengths: ``lengths`` (B,) masks step t of sequence b when t ≥ lengths[b]. A masked
step keeps the previous state and outputs zero, so forward final states are taken at each
sequence's own last step, and the reverse direction starts at each sequence's own end.

Arrays here are time-major: x (T, B, I), y (T, B, H_out), h0/c0 (B, H). The equal, composed
version built from primitive ops is in ``ember/nn/rnn_cells.py``; tests hold the two equal.
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
)


def concat_weights(w_hh, w_ih, b_ih, b_hh, dt, xp):
    """W = [W_hh, W_ih, b_ih + b_hh] as one (G, P + I (+ 1)) matrix: the seed's W·[h, x] + b.

    W·[h_{t-1}; x_t; 1] = W_hh·h_{t-1} + W_ih·x_t + b_ih + b_hh, torch's split form.
    """
    G, P = w_hh.shape
    I, nb = w_ih.shape[1], b_ih is not None
    W = xp.empty((G, P + I + nb), dt)
    W[:, :P], W[:, P : P + I] = w_hh, w_ih
    if nb:
        xp.add(b_ih, b_hh, out=W[:, P + I])
    return W


def scaled_gate_weights(w_hh, w_ih, b_ih, b_hh, dt, xp):
    """s ⊙ W with W = [W_hh, W_ih, b_ih + b_hh] (concat_weights), its rows in the internal
    order o, i, f, C̃ and scaled by gate_scales(4, H, 3): ½ on the σ rows, 1 on C̃'s.

    Written block by block in one pass over the weights (torch's rows i, f, C̃, o: the σ rows
    o, i, f are its [3H, 4H) and [0, 2H), C̃ its [2H, 3H)); the same numbers as
    ``(concat_weights(...)[perm] * gate_scales(...))``, which makes three passes. A streaming
    step (T = 1) would be mostly this setup (SHORT_SEQUENCE_STEPS skips it there).
    """
    G, P = w_hh.shape
    H, I, nb = G // 4, w_ih.shape[1], b_ih is not None
    W_s = xp.empty((G, P + I + nb), dt)
    for dst, src, scale in (
        (slice(0, H), slice(3 * H, G), 0.5),  # o
        (slice(H, 3 * H), slice(0, 2 * H), 0.5),  # i, f
        (slice(3 * H, G), slice(2 * H, 3 * H), 1.0),  # C̃
    ):
        xp.multiply(w_hh[src], scale, out=W_s[dst, :P])
        xp.multiply(w_ih[src], scale, out=W_s[dst, P : P + I])
        if nb:
            b = W_s[dst, P + I]
            xp.add(b_ih[src], b_hh[src], out=b)
            b *= scale
    return W_s


def scale_into_gate_order(a, g, H: int, xp) -> None:
    """g = s ⊙ a with a's rows in torch's order i, f, C̃, o and g's in o, i, f, C̃."""
    xp.multiply(a[3 * H :], 0.5, out=g[:H])
    xp.multiply(a[: 2 * H], 0.5, out=g[H : 3 * H])
    g[3 * H :] = a[2 * H : 3 * H]


#: Sequences up to this long compute W_hh·h + W_ih·x + b from torch's layout instead of
#: first building the scaled [W_hh, W_ih, b] (a pass over every weight): measured with a
#: CharLSTM layer (I = 128, H = 256; forward µs, this path against the fused one): batch 32,
#: T = 1 167/228, 4 615/640, 8 1211/1228, 16 2471/2368; batch 1, T = 1 33/97, 8 176/261.
SHORT_SEQUENCE_STEPS = 8


def stacked_inputs(x, P: int, with_one: bool, reverse: bool, dt, xp):
    """Z (T+1, P + I (+ 1), B): Z[k] = [h_k; x_t; 1] with x_t of step k (t = k, or T-1-k).

    The x rows (and the row of ones that carries the bias) are filled for every step at once;
    the h rows are written by the recurrence itself, so each step is one GEMM W·Z[k].
    Why: for the sizes here one (G × (P+I+1)) product per step is faster than a separate
    input projection plus a per-step add (lstm_small forward 4.7 → 3.8 ms).
    """
    T, B, I = x.shape
    Z = xp.empty((T + 1, P + I + with_one, B), dt)
    Z[:T, P : P + I] = (x[::-1] if reverse else x).transpose(0, 2, 1)
    Z[T, P:] = 0
    if with_one:
        Z[:, P + I] = 1
    return Z


def lstm_factors(G, Cs, TC, H, lo, hi, E, K):
    """Backward factors of steps lo..hi-1 into E[:n], K[:n] (n = hi - lo), gates o, i, f, C̃.

    E: ∂(gate)/∂(pre-activation) times what each gate multiplies: σ' = σ(1 - σ) for o, i, f and
    tanh' = 1 - C̃² for C̃, times tanh(C_t), C̃_t, C_{t-1} and i_t (∂h_t/∂o_t, ∂C_t/∂i_t,
    ∂C_t/∂f_t, ∂C_t/∂C̃_t). K = ∂h_t/∂C_t = o_t ∗ (1 - tanh² C_t).
    """
    g, e, k = G[lo:hi], E[: hi - lo], K[: hi - lo]
    xp = get_array_module(g)
    xp.subtract(1, g, out=e)
    e[:, : 3 * H] *= g[:, : 3 * H]  # σ(1 - σ): the three σ gates are one block
    e[:, 3 * H :] *= 1 + g[:, 3 * H :]  # 1 - C̃²
    e[:, :H] *= TC[lo:hi]
    e[:, H : 2 * H] *= g[:, 3 * H :]
    e[:, 2 * H : 3 * H] *= Cs[lo:hi]
    e[:, 3 * H :] *= g[:, H : 2 * H]
    xp.multiply(TC[lo:hi], TC[lo:hi], out=k)
    xp.subtract(1, k, out=k)
    k *= g[:, :H]


def internal_gate_order(H: int, xp):
    """Row order o, i, f, C̃ of torch's i, f, C̃, o: the σ gates (o, i, f) are one contiguous
    block for the forward's ½·tanh + ½, and the gates that multiply ∂L/∂C_t (i, f, C̃) are one
    block for the backward's product; ``perm`` reorders torch's rows, ``inverse`` undoes it."""
    blocks = xp.arange(4 * H).reshape(4, H)
    perm = blocks[[3, 0, 1, 2]].reshape(-1)
    return perm, xp.argsort(perm)


#: Widest input for which the LSTM's backward takes ∂L/∂x_t from each step's GEMM (measured:
#: per-step wins at I = 32 and 128 with H = 128-256, one GEMM after the loop at I = 256).
PER_STEP_DX_MAX_INPUT = 128


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
        self.given = (x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr)  # for recorded derivatives
        T, B, _ = x.shape
        H, P = w_hh.shape[0] // 4, w_hh.shape[1]
        dt = xp.result_type(x, w_ih)
        masks = step_masks(lengths, T, xp)
        # s·W, W = [W_hh, W_ih, b] in the gate order o, i, f, C̃ (the backward rebuilds W); a
        # short sequence (a streaming step) skips that pass over all the weights, which pays
        # back only over many steps, and reads torch's W_hh and W_ih as they are
        short = T <= SHORT_SEQUENCE_STEPS
        if short:
            A = project_inputs(x, w_ih, None if b_ih is None else b_ih + b_hh)
            a = xp.empty((4 * H, B), dt)
        else:
            W_s = scaled_gate_weights(w_hh, w_ih, b_ih, b_hh, dt, xp)
        Z = stacked_inputs(x, P, b_ih is not None, reverse, dt, xp)  # Z[k] = [h; x_t; 1]
        Hs = Z[:, :P]  # h_k lives in the first P rows of Z[k]: the next step reads it there
        Hs[0] = h0.T
        G = xp.empty((T, 4 * H, B), dt)  # gates o, i, f, C̃ of every step
        Cs = xp.empty((T + 1, H, B), dt)
        TC = xp.empty((T, H, B), dt)  # tanh(C_t)
        M = xp.empty((T, H, B), dt) if w_hr is not None else None  # o_t ∗ tanh(C_t)
        Cs[0] = c0.T
        iC = xp.empty((H, B), dt)
        if masks is not None:  # a masked step computes into these, then keeps the old state
            c_buf, h_buf = xp.empty((H, B), dt), xp.empty((P, B), dt)
        for k, t in enumerate(step_order(T, reverse)):
            g = G[k]
            sigma_rows = g[: 3 * H]
            if short:  # W_hh·h_{t-1} + (W_ih·x_t + b), torch's rows i, f, C̃, o → s·(…) in g
                xp.matmul(w_hh, Hs[k], out=a)
                a += A[:, t]
                scale_into_gate_order(a, g, H, xp)
            else:
                xp.matmul(W_s, Z[k], out=g)  # s·(W·[h_{t-1}, x_t] + b): one GEMM
            xp.tanh(g, out=g)  # o_t, i_t, f_t = σ(...) and C̃_t = tanh(...)
            sigma_rows *= 0.5  # σ = ½·tanh + ½ on the σ rows only, as scalar ufuncs (on one
            sigma_rows += 0.5  # contiguous block ~3× faster than a broadcast column)
            o, i, f, C_tilde = g[:H], g[H : 2 * H], g[2 * H : 3 * H], g[3 * H :]
            c = Cs[k + 1] if masks is None else c_buf
            xp.multiply(f, Cs[k], out=c)  # C_t = f_t ∗ C_{t-1} + i_t ∗ C̃_t
            xp.multiply(i, C_tilde, out=iC)
            c += iC
            xp.tanh(c, out=TC[k])
            h = Hs[k + 1] if masks is None else h_buf
            if M is None:
                xp.multiply(o, TC[k], out=h)  # h_t = o_t ∗ tanh(C_t)
            else:
                xp.multiply(o, TC[k], out=M[k])
                xp.matmul(w_hr, M[k], out=h)  # h_t = W_hr·(o_t ∗ tanh(C_t))
            if masks is not None:  # past its end a sequence keeps its state
                Hs[k + 1], Cs[k + 1] = Hs[k], Cs[k]
                xp.copyto(Hs[k + 1], h, where=masks[t])
                xp.copyto(Cs[k + 1], c, where=masks[t])
        self.Z, self.G, self.Cs, self.TC, self.M, self.dt = Z, G, Cs, TC, M, dt
        self.w_hr, self.masks, self.reverse, self.P = w_hr, masks, reverse, P
        self.grad_trace, self.has_bias = grad_trace, b_ih is not None
        if recorder is not None:
            named = {"i": G[:, H : 2 * H], "f": G[:, 2 * H : 3 * H], "g": G[:, 3 * H :]}
            named.update(o=G[:, :H], c=Cs[1:], h=Hs[1:])
            record_gates(recorder, named, reverse, masks)
        y = output_from_states(Hs[1:], reverse, masks, xp)
        return y, xp.ascontiguousarray(Hs[T].T), xp.ascontiguousarray(Cs[T].T)

    def backward(self, gy, gh_n, gc_n):
        xp = get_array_module(self.G)
        G, Cs, TC, w_hr, masks = self.G, self.Cs, self.TC, self.w_hr, self.masks
        H4 = G.shape[1]
        _, _, _, w_ih, w_hh, b_ih, b_hh, _ = self.given
        perm, inverse = internal_gate_order(H4 // 4, xp)
        W = concat_weights(w_hh, w_ih, b_ih, b_hh, self.dt, xp)[perm]  # W = [W_hh, W_ih, b]
        T, _, B = G.shape
        H, P, I = G.shape[1] // 4, self.P, self.Z.shape[1] - self.P - self.has_bias
        dt = G.dtype
        # The factors that do not depend on the incoming gradient are computed for a block of
        # steps at a time (about 512 KB of gates: the block stays in cache for its steps).
        chunk = max(1, (1 << 17) // (4 * H * B))
        E, K = xp.empty((chunk, 4 * H, B), dt), xp.empty((chunk, H, B), dt)
        E3 = E[:, H:].reshape(chunk, 3, H, B)  # the i, f, C̃ rows: each multiplies ∂L/∂C_t
        dG = xp.empty((T, 4 * H, B), dt)  # ∂L/∂(pre-activations), time order
        gyk = grad_outputs_in_step_order(gy, self.reverse, masks, dt, xp)
        # ∂L/∂[h_{t-1}, x_t] = Wᵀ·∂L/∂(pre-activations): for narrow inputs one GEMM per step
        # gives both; for wide ones, ∂L/∂x is one GEMM over all steps after the loop (faster
        # than widening every step's product by I rows)
        need_x = self.needs_input_grad[0]
        x_per_step = need_x and I <= PER_STEP_DX_MAX_INPUT
        # Wᵀ copied contiguous once: the per-step GEMMs run 5-8% faster than on a transposed view
        WT = xp.ascontiguousarray(W[:, : P + I].T if x_per_step else W[:, :P].T)
        dZ = xp.empty((T, WT.shape[0], B), dt)
        dh = xp.zeros((P, B), dt) if gh_n is None else xp.array(gh_n.T, dtype=dt)
        dc = xp.zeros((H, B), dt) if gc_n is None else xp.array(gc_n.T, dtype=dt)
        dHs = xp.empty((T, P, B), dt) if w_hr is not None else None
        trace = xp.empty((T, B)) if self.grad_trace is not None else None
        ts = list(step_order(T, self.reverse))
        dm, dmK = xp.empty((H, B), dt), xp.empty((H, B), dt)
        for k in range(T - 1, -1, -1):
            j = k % chunk
            if k == T - 1 or j == chunk - 1:
                lstm_factors(G, Cs, TC, H, k - j, k + 1, E, K)
            t = ts[k]
            if gyk is not None:
                dh += gyk[k]  # ∂L/∂h_t: through the output and through step t+1
            if trace is not None:
                # in float64: a norm of float32 values below ~1e-19 would square to 0
                trace[t] = xp.sqrt(xp.square(dh, dtype=xp.float64).sum(axis=0))
            if masks is not None:  # a masked step passes its state's gradient straight on
                m = masks[t]
                dh_skip, dc_skip = dh * ~m, dc * ~m
                dh *= m
                dc *= m
            if w_hr is None:
                dm = dh
            else:
                dHs[k] = dh
                xp.matmul(w_hr.T, dh, out=dm)
            xp.multiply(dm, K[j], out=dmK)
            dc += dmK  # ∂L/∂C_t
            dg = dG[t]
            xp.multiply(E3[j], dc, out=dg[H:].reshape(3, H, B))  # ∂L/∂(pre i, f, C̃)
            xp.multiply(E[j, :H], dm, out=dg[:H])  # ∂L/∂(pre o)
            dc *= G[k, 2 * H : 3 * H]  # ∂L/∂C_{t-1} along the conveyor belt: ∗ f_t
            xp.matmul(WT, dg, out=dZ[k])
            dh = dZ[k, :P]  # ∂L/∂h_{t-1}
            if masks is not None:
                dh += dh_skip
                dc += dc_skip
        if trace is not None:
            self.grad_trace.append(trace)
        # Σ_t ∂L/∂(pre-activations)_t · [h_{t-1}, x_t, 1]ᵀ: every weight and the bias, one GEMM
        # (rows back in torch's gate order i, f, C̃, o)
        dG = rows_by_time(dG, False)  # (4H, T·B): one copy, GEMM-ready
        dW = (dG @ rows_by_time(self.Z[:T], self.reverse).T)[inverse]
        dw_hh, dw_ih = xp.ascontiguousarray(dW[:, :P]), xp.ascontiguousarray(dW[:, P : P + I])
        dx = None
        if x_per_step:  # the x rows of ∂L/∂Z, (T, I, B) in step order → (T, B, I) in time order
            dxs = dZ[:, P:]
            dx = xp.ascontiguousarray((dxs[::-1] if self.reverse else dxs).transpose(0, 2, 1))
        elif need_x:  # ∂L/∂x_t = W_ihᵀ·∂L/∂(pre-activations)_t for every t at once
            dx = (dG.T @ W[:, P : P + I]).reshape(T, B, I)
        dw_hr = None
        if w_hr is not None:  # Σ_t ∂L/∂h_t · (o_t ∗ tanh C_t)ᵀ as one GEMM
            dw_hr = rows_by_time(dHs, False) @ rows_by_time(self.M, False).T
        db_ih, db_hh = fresh_pair(xp.ascontiguousarray(dW[:, -1]), self.has_bias)
        dh0, dc0 = xp.ascontiguousarray(dh.T), xp.ascontiguousarray(dc.T)
        return dx, dh0, dc0, dw_ih, dw_hh, db_ih, db_hh, dw_hr
