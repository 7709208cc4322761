"""Floating-point operations of the ops that carry a network's arithmetic, for
``profile(with_flops=True)``.

As torch's profiler, only the matrix-product ops are counted (torch: mm, addmm, bmm,
baddbmm, conv), a multiply-add as 2 FLOPs, and elementwise work is left out; ember's fused
ops (attention, whole-sequence RNNs, linear + cross-entropy) count the products inside them.
With y = A·B, A (m × k), B (k × n):

    forward                  F = 2·m·k·n
    backward                 ∂L/∂A = ∂L/∂y·Bᵀ and ∂L/∂B = Aᵀ·∂L/∂y cost F each

so an op's backward counts F once per operand that receives a gradient (twice the forward
for a layer whose input and weight both do). Per op (``out`` the output):

    MatMul, Linear           F = 2·|out|·k            k: the contracted size
    Conv2d, Conv3d           F = 2·|out|·(C_in/groups)·∏kernel
    ConvTranspose2d          F = 2·|x|·(C_out/groups)·∏kernel
    ScaledDotProductAttention  F_QK = 2·(|q|/E)·S·E,  F_PV = 2·(|q|/E)·S·E_v
    LinearCrossEntropy       F = 2·n·C·E
    LSTM/GRU/RNN layer       F_x = 2·T·B·G·I (input products), F_h = 2·T·B·G·P (recurrent),
                             G gate rows; the LSTM's projection F_r = 2·T·B·H·P

Backward of attention: ∂P = ∂O·Vᵀ (F_PV, when q or k needs a gradient), ∂V (F_PV), ∂Q and
∂K (F_QK each). Backward of a recurrent layer: the recurrence (F_h + F_r) always, ∂x and
∂W_ih F_x each, ∂W_hh F_h, ∂W_hr F_r.
"""

from __future__ import annotations


def _size(a) -> int:
    return int(getattr(a, "size", 0) or 0)


def _per_operand(costs: dict, always: int = 0):
    """The backward's count: ``always`` plus the cost of each operand given a gradient."""
    return lambda got: always + sum(f for i, f in costs.items() if i in got)


def _bilinear(f: int) -> tuple:
    return f, _per_operand({0: f, 1: f})


def _matmul(inputs, out):
    a = inputs[0]
    k = a.shape[-1] if getattr(a, "ndim", 0) else 1
    return _bilinear(2 * _size(out) * k)


def _linear(inputs, out):
    return _bilinear(2 * _size(out) * inputs[1].shape[1])


def _conv(inputs, out):
    w = inputs[1]
    return _bilinear(2 * _size(out) * (_size(w) // w.shape[0]))


def _conv_transpose(inputs, out):
    x, w = inputs[0], inputs[1]
    return _bilinear(2 * _size(x) * (_size(w) // w.shape[0]))


def _attention(inputs, out):
    q, k, v = inputs[0], inputs[1], inputs[2]
    rows = _size(q) // q.shape[-1]  # batch · heads · L
    f_qk = 2 * rows * k.shape[-2] * q.shape[-1]
    f_pv = 2 * rows * k.shape[-2] * v.shape[-1]
    operands = _per_operand({0: f_qk, 1: f_qk, 2: f_pv})
    return f_qk + f_pv, lambda got: operands(got) + (f_pv if got & {0, 1} else 0)


def _linear_cross_entropy(inputs, out):
    x, w = inputs[0], inputs[1]
    return _bilinear(2 * x.shape[0] * w.shape[0] * x.shape[1])


def _recurrent(weights_at: int, projection_at: int | None):
    """Inputs (x, state…, W_ih, W_hh, …, W_hr): W_ih at ``weights_at``, W_hr (the LSTM's
    projection, or None) at ``projection_at``."""

    def count(inputs, out):
        x, w_hh = inputs[0], inputs[weights_at + 1]
        T, B, I = x.shape
        G, P = w_hh.shape
        f_x, f_h = 2 * T * B * G * I, 2 * T * B * G * P
        w_hr = inputs[projection_at] if projection_at is not None else None
        f_r = 2 * T * B * w_hr.shape[1] * P if w_hr is not None else 0
        costs = {0: f_x, weights_at: f_x, weights_at + 1: f_h}
        if w_hr is not None:
            costs[projection_at] = f_r
        return f_x + f_h + f_r, _per_operand(costs, always=f_h + f_r)

    return count


COUNTERS = {
    "MatMul": _matmul,
    "Linear": _linear,
    "Conv2d": _conv,
    "Conv3d": _conv,
    "ConvTranspose2d": _conv_transpose,
    "ScaledDotProductAttention": _attention,
    "LinearCrossEntropy": _linear_cross_entropy,
    "LSTMLayer": _recurrent(3, 7),
    "GRULayer": _recurrent(2, None),
    "RNNLayer": _recurrent(2, None),
}


def forward_flops(fn, inputs, out) -> int:
    """The forward FLOPs of op ``fn`` on ``inputs`` (arrays); 0 for ops that are not counted.
    Keeps on ``fn`` what its backward's count needs."""
    counter = COUNTERS.get(type(fn).__name__)
    if counter is None:
        return 0
    try:
        forward, backward = counter(inputs, out)
    except (AttributeError, IndexError, TypeError, ValueError):  # an unexpected layout: uncounted
        return 0
    fn._profiler_flops = backward
    return int(forward)


def backward_flops(fn, grad_inputs) -> int:
    """The FLOPs of ``fn``'s backward, given which of its inputs received a gradient."""
    backward = getattr(fn, "_profiler_flops", None)
    if backward is None:
        return 0
    if not isinstance(grad_inputs, tuple | list):
        grad_inputs = (grad_inputs,)
    return int(backward({i for i, g in enumerate(grad_inputs) if g is not None}))


def flops_unit(values) -> tuple[float, str]:
    """torch's column scale: the unit of the smallest non-zero count (FLOPs … PFLOPs)."""
    units = ("FLOPs", "KFLOPs", "MFLOPs", "GFLOPs", "TFLOPs", "PFLOPs")
    counted = [v for v in values if v > 0]
    if not counted:
        return 1.0, units[0]
    digits = len(str(int(min(counted)))) - 1  # floor(log10)
    step = max(0, min(digits // 3, len(units) - 1))
    return 10.0 ** (-3 * step), units[step]
