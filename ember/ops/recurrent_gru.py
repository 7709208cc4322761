"""Fused GRU layer: one Function per layer and direction over a whole sequence.

    r_t = σ(W_ir·x_t + b_ir + W_hr·h_{t-1} + b_hr)          reset gate
    z_t = σ(W_iz·x_t + b_iz + W_hz·h_{t-1} + b_hz)          update gate
    n_t = tanh(W_in·x_t + b_in + r_t ∗ (W_hn·h_{t-1} + b_hn))   candidate (reset_after, torch)
    n_t = tanh(W_in·x_t + b_in + W_hn·(r_t ∗ h_{t-1}) + b_hn)   candidate (Cho et al. 2014)
    h_t = (1 - z_t) ∗ n_t + z_t ∗ h_{t-1}

Same layout and method as ``recurrent.py``: all input projections in one GEMM, the state kept
transposed (H, B), preallocated step buffers written in place, σ(a) = ½·tanh(½a) + ½ with the ½
folded into the r and z rows of the weights, the step-independent factors of backward computed
for all steps at once, the weight gradients one GEMM each. Gates are stacked r, z, n as torch
stores them.
"""

from __future__ import annotations

from ..backend import get_array_module
from ..function import Function
from .recurrent_steps import (
    gate_scales,
    grad_outputs_in_step_order,
    output_from_states,
    project_inputs,
    record_gates,
    rows_by_time,
    step_masks,
    step_order,
    weight_grads_from_steps,
)


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
        self.given = (x, h0, w_ih, w_hh, b_ih, b_hh)  # references, for recorded derivatives
        T, B, _ = x.shape
        H = w_hh.shape[0] // 3
        dt = xp.result_type(x, w_ih)
        masks = step_masks(lengths, T, xp)
        s = gate_scales(2, H, None, dt, xp)  # the r and z rows
        s3 = xp.concatenate([s, xp.ones((H, 1), dt)])
        A = project_inputs(x, w_ih * s3, None if b_ih is None else b_ih * s3[:, 0])  # (3H, T, B)
        w_hh_s = w_hh * s3
        b_h = None if b_hh is None else (b_hh * s3[:, 0])[:, None]
        G = xp.empty((T, 3 * H, B), dt)  # r_t, z_t, n_t of every step
        Gh = xp.empty((T, H, B), dt)  # W_hn·h_{t-1} + b_hn   (Cho: W_hn·(r_t ∗ h_{t-1}) + b_hn)
        RH = None if reset_after else xp.empty((T, H, B), dt)  # r_t ∗ h_{t-1} (Cho)
        Hs = xp.empty((T + 1, H, B), dt)
        Hs[0] = h0.T
        rec = xp.empty((3 * H, B), dt)
        h_buf = xp.empty((H, B), dt) if masks is not None else None
        for k, t in enumerate(step_order(T, reverse)):
            g, hp = G[k], Hs[k]
            if reset_after:
                xp.matmul(w_hh_s, hp, out=rec)
            else:
                xp.matmul(w_hh_s[: 2 * H], hp, out=rec[: 2 * H])
            if b_h is not None:
                rec += b_h
            xp.add(rec[: 2 * H], A[: 2 * H, t], out=g[: 2 * H])
            xp.tanh(g[: 2 * H], out=g[: 2 * H])  # r_t, z_t = σ(...)
            g[: 2 * H] *= 0.5  # σ = ½·tanh + ½: a scalar is ~3× faster than a broadcast column
            g[: 2 * H] += 0.5
            r, z, n = g[:H], g[H : 2 * H], g[2 * H :]
            if reset_after:
                Gh[k] = rec[2 * H :]
            else:
                xp.multiply(r, hp, out=RH[k])
                xp.matmul(w_hh[2 * H :], RH[k], out=Gh[k])
                if b_h is not None:
                    Gh[k] += b_h[2 * H :]
            if reset_after:
                xp.multiply(r, Gh[k], out=n)
            else:
                n[...] = Gh[k]
            n += A[2 * H :, t]
            xp.tanh(n, out=n)
            h = Hs[k + 1] if masks is None else h_buf
            xp.subtract(hp, n, out=h)  # h_t = n_t + z_t ∗ (h_{t-1} - n_t)
            h *= z
            h += n
            if masks is not None:
                Hs[k + 1] = hp
                xp.copyto(Hs[k + 1], h, where=masks[t])
        self.x, self.G, self.Gh, self.Hs, self.RH, self.masks = x, G, Gh, Hs, RH, masks
        self.w_ih, self.w_hh, self.reverse, self.reset_after = w_ih, w_hh, reverse, reset_after
        self.grad_trace, self.has_bias = grad_trace, b_ih is not None
        if recorder is not None:
            named = {"r": G[:, :H], "z": G[:, H : 2 * H], "n": G[:, 2 * H :], "h": Hs[1:]}
            record_gates(recorder, named, reverse, masks)
        return output_from_states(Hs[1:], reverse, masks, xp), xp.ascontiguousarray(Hs[T].T)

    def backward(self, gy, gh_n):
        xp = get_array_module(self.G)
        G, Gh, Hs, w_hh, masks = self.G, self.Gh, self.Hs, self.w_hh, self.masks
        T, _, B = G.shape
        H, dt = w_hh.shape[0] // 3, G.dtype
        r, z, n = G[:, :H], G[:, H : 2 * H], G[:, 2 * H :]
        hp = Hs[:T]
        # step-independent factors, every step at once:
        # ∂h_t/∂(pre z) = (h_{t-1} - n_t) ∗ z(1 - z),  ∂h_t/∂(pre n) = (1 - z_t)(1 - n_t²)
        E = xp.empty((T, 2, H, B), dt)
        xp.subtract(hp, n, out=E[:, 0])
        E[:, 0] *= z
        E[:, 0] *= 1 - z
        xp.multiply(n, n, out=E[:, 1])
        xp.subtract(1, E[:, 1], out=E[:, 1])
        E[:, 1] *= 1 - z
        Rr = r * (1 - r)  # σ'(pre r), times what r multiplies: W_hn·h + b_hn, or (Cho) h_{t-1}
        Rr *= Gh if self.reset_after else hp
        Z = z if masks is None else z * masks[list(step_order(T, self.reverse))]
        dG = xp.empty_like(G)
        dG2 = dG[:, H:].reshape(T, 2, H, B)
        dGh = xp.empty((T, H, B), dt)  # ∂L/∂(W_hn·h + b_hn)   (Cho: ∂L/∂(W_hn·(r ∗ h) + b_hn))
        gyk = grad_outputs_in_step_order(gy, self.reverse, masks, dt, xp)
        dh = xp.zeros((H, B), dt) if gh_n is None else xp.array(gh_n.T, dtype=dt)
        trace = xp.empty((T, B)) if self.grad_trace is not None else None
        ts = list(step_order(T, self.reverse))
        # transposed weights copied contiguous once: per-step GEMMs on them run 5-8% faster
        # than on transposed views
        w_hhT = xp.ascontiguousarray(w_hh.T)
        w_rzT, w_nT = w_hhT[:, : 2 * H], w_hhT[:, 2 * H :]
        dcat = xp.empty((3 * H, B), dt)
        for k in range(T - 1, -1, -1):
            if gyk is not None:
                dh += gyk[k]
            if trace is not None:
                # in float64: a norm of float32 values below ~1e-19 would square to 0
                trace[ts[k]] = xp.sqrt(xp.square(dh, dtype=xp.float64).sum(axis=0))
            if masks is not None:
                m = masks[ts[k]]
                dh_skip = dh * ~m
                dh *= m
            xp.multiply(E[k], dh, out=dG2[k])  # ∂L/∂(pre z), ∂L/∂(pre n)
            dpre_n = dG[k, 2 * H :]
            if self.reset_after:
                xp.multiply(dpre_n, r[k], out=dGh[k])
                xp.multiply(dpre_n, Rr[k], out=dG[k, :H])  # ∂L/∂(pre r)
                dcat[: 2 * H] = dG[k, : 2 * H]
                dcat[2 * H :] = dGh[k]
                dh_prev = w_hhT @ dcat
            else:
                dGh[k] = dpre_n
                drh = w_nT @ dpre_n  # ∂L/∂(r_t ∗ h_{t-1})
                xp.multiply(drh, Rr[k], out=dG[k, :H])
                dh_prev = w_rzT @ dG[k, : 2 * H]
                drh *= r[k]
                dh_prev += drh
            dh *= Z[k]  # the direct path h_t = ... + z_t ∗ h_{t-1}
            dh += dh_prev
            if masks is not None:
                dh += dh_skip
        if trace is not None:
            self.grad_trace.append(trace)
        dx, dw_ih, _, db_ih = weight_grads_from_steps(
            self, rows_by_time(dG, self.reverse), self.x, self.w_ih, None
        )
        # W_hh's gradient: rows r, z from ∂L/∂(pre r, z), rows n from ∂L/∂(W_hn·h + b_hn)
        dGh_all = xp.concatenate([dG[:, : 2 * H], dGh], axis=1)
        dGh2 = rows_by_time(dGh_all, False)
        if self.reset_after:
            dw_hh = dGh2 @ rows_by_time(hp, False).T
        else:
            hp2 = rows_by_time(hp, False)
            dw_hh = xp.concatenate(
                [dGh2[: 2 * H] @ hp2.T, dGh2[2 * H :] @ rows_by_time(self.RH, False).T]
            )
        db_hh = dGh2.sum(axis=1)
        if not self.has_bias:
            db_ih = db_hh = None
        return dx, xp.ascontiguousarray(dh.T), dw_ih, dw_hh, db_ih, db_hh
