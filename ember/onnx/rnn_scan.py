"""An LSTM layer with a projection (``proj_size``) as an ONNX Scan: ONNX's LSTM has no W_hr.

The input projection is hoisted out of the recurrence, as ember's own short path does:

    A_t = x_t·W_ihᵀ + (b_ih + b_hh)                    one MatMul over the whole sequence

and the Scan's body is one step, the equations of nn.LSTM (gates i, f, g(=C̃), o as torch
stacks them):

    i, f, C̃, o = σ, σ, tanh, σ of (A_t + h_{t-1}·W_hhᵀ)
    C_t = f ∗ C_{t-1} + i ∗ C̃
    h_t = (o ∗ tanh(C_t))·W_hrᵀ

Scan carries (h, C) and stacks h_t into y; ``direction`` reverse runs it backwards in time and
writes y in time order. The weights stay initializers under their state_dict names (the
transposes are nodes), and the body reads them from the outer graph. The sequence length and
the batch are free: a zero initial state is built from Shape(x).
"""

from __future__ import annotations

import numpy as np

from ..backend import to_numpy
from .ops_map import onnx_dtype


def _zero_state(g, x: str, size: int, dt) -> str:
    """zeros (B, size), B read from x (T, B, I) at run time."""
    batch = g.one("Gather", [g.one("Shape", [x]), g.ints([1])], axis=0)
    shape = g.one("Concat", [batch, g.ints([size])], axis=0)
    return g.one("Expand", [g.const(np.zeros((1, 1), dt), "zeros"), shape])


def _state(g, a, x: str, size: int, dt) -> str:
    if a is None or (
        id(a) not in g.names and id(a) not in g.param_names and not np.any(to_numpy(a))
    ):
        return _zero_state(g, x, size, dt)
    return g.value(a)


def lstm_scan(g, op) -> list[str]:
    """[y (T, B, P), h_n (B, P), c_n (B, H)] of one LSTMLayer with W_hr."""
    x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr = (list(op.inputs) + [None] * 8)[:8]
    H, P = w_hh.shape[0] // 4, w_hh.shape[1]
    dt = op.out_dtype
    helper = g.helper
    xs = g.value(x)
    w_ih_t = g.one("Transpose", [g.value(w_ih)], perm=[1, 0])
    A = g.one("MatMul", [xs, w_ih_t])  # (T, B, 4H)
    if b_ih is not None:
        A = g.one("Add", [A, g.one("Add", [g.value(b_ih), g.value(b_hh)])])
    w_hh_t = g.one("Transpose", [g.value(w_hh)], perm=[1, 0])  # (P, 4H), read by the body
    w_hr_t = g.one("Transpose", [g.value(w_hr)], perm=[1, 0])  # (H, P)
    split = g.ints([H] * 4)

    def n(op_type, inputs, outputs, **attrs):
        return helper.make_node(op_type, inputs, outputs, name=g.fresh(f"/scan/{op_type}"), **attrs)

    p = g.fresh("lstm_step")  # a prefix that keeps the body's names apart from the outer ones
    body_nodes = [
        n("MatMul", [f"{p}_h", w_hh_t], [f"{p}_r"]),
        n("Add", [f"{p}_a", f"{p}_r"], [f"{p}_z"]),
        n("Split", [f"{p}_z", split], [f"{p}_zi", f"{p}_zf", f"{p}_zg", f"{p}_zo"], axis=1),
        n("Sigmoid", [f"{p}_zi"], [f"{p}_i"]),
        n("Sigmoid", [f"{p}_zf"], [f"{p}_f"]),
        n("Tanh", [f"{p}_zg"], [f"{p}_g"]),
        n("Sigmoid", [f"{p}_zo"], [f"{p}_o"]),
        n("Mul", [f"{p}_f", f"{p}_c"], [f"{p}_fc"]),
        n("Mul", [f"{p}_i", f"{p}_g"], [f"{p}_ig"]),
        n("Add", [f"{p}_fc", f"{p}_ig"], [f"{p}_c_out"]),
        n("Tanh", [f"{p}_c_out"], [f"{p}_tc"]),
        n("Mul", [f"{p}_o", f"{p}_tc"], [f"{p}_m"]),
        n("MatMul", [f"{p}_m", w_hr_t], [f"{p}_h_out"]),
        n("Identity", [f"{p}_h_out"], [f"{p}_y"]),
    ]
    et = onnx_dtype(g, dt)

    def info(name, width):
        return helper.make_tensor_value_info(f"{p}_{name}", et, [None, width])

    body = helper.make_graph(
        body_nodes,
        p,
        [info("h", P), info("c", H), info("a", 4 * H)],
        [info("h_out", P), info("c_out", H), info("y", P)],
    )
    reverse = int(bool(op.consts.get("reverse", False)))
    ins = [_state(g, h0, xs, P, dt), _state(g, c0, xs, H, dt), A]
    h_n, c_n, y = g.node(
        "Scan", ins, n_out=3, body=body, num_scan_inputs=1,
        scan_input_directions=[reverse], scan_output_directions=[reverse],
    )  # fmt: skip
    return [y, h_n, c_n]
