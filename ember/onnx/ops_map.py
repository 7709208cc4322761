"""Converters from recorded ember ops to ONNX nodes: elementwise, activations, shape, reductions.

A converter is ``convert(g, op) -> list of output names`` (one per output array of the op);
``op.inputs`` are the raw input arrays (or None), ``op.consts`` the keyword constants ``apply``
passed, ``op.outs`` the output arrays. Convolution, pooling, normalisation and attention live in
``ops_nn``, the recurrent layers in ``rnn``; ``CONVERTERS`` merges them all.
"""

from __future__ import annotations

import math

import numpy as np

from ..backend import to_numpy


class Op:
    """One recorded op, as a converter sees it."""

    __slots__ = ("name", "inputs", "consts", "outs")

    def __init__(self, name, inputs, consts, outs):
        self.name, self.inputs, self.consts, self.outs = name, inputs, consts, outs

    @property
    def out_dtype(self):
        return np.dtype(self.outs[0].dtype)


def onnx_dtype(g, dtype) -> int:
    return g.helper.np_dtype_to_tensor_dtype(np.dtype(dtype))


def typed(g, a, dtype) -> str:
    """The name of array ``a`` as ``dtype``: a constant is converted here, a traced value cast."""
    dtype = np.dtype(dtype)
    if id(a) in g.names or id(a) in g.param_names:
        name = g.value(a)
        if np.dtype(a.dtype) == dtype:
            return name
        return g.one("Cast", [name], to=onnx_dtype(g, dtype))
    return g.value(np.asarray(to_numpy(a), dtype=dtype) if a is not None else a)


def scalar(g, c, dtype) -> str:
    return g.const(np.asarray(c, dtype=dtype), "scalar")


# ---------------------------------------------------------------- elementwise


def _binary(onnx_op):
    def convert(g, op):
        a, b = op.inputs[:2]
        dt = op.out_dtype
        return [g.one(onnx_op, [typed(g, a, dt), typed(g, b, dt)])]

    return convert


def _scalar_op(onnx_op, reverse=False):
    def convert(g, op):
        x = typed(g, op.inputs[0], op.out_dtype)
        c = scalar(g, op.consts["c"], op.out_dtype)
        return [g.one(onnx_op, [c, x] if reverse else [x, c])]

    return convert


def _unary(onnx_op, **attrs):
    def convert(g, op):
        return [g.one(onnx_op, [g.value(op.inputs[0])], **attrs)]

    return convert


def _log1p(g, op):
    x = g.value(op.inputs[0])
    return [g.one("Log", [g.one("Add", [x, scalar(g, 1, op.out_dtype)])])]


def _expm1(g, op):
    x = g.value(op.inputs[0])
    return [g.one("Sub", [g.one("Exp", [x]), scalar(g, 1, op.out_dtype)])]


def _silu(g, op):
    """x·σ(x) as x / (1 + e^{−x}): onnxruntime's Sigmoid is off by a few ulps for x ≪ 0, which
    the product with x makes visible (2e-6 at x = −16); its Exp is not."""
    x = g.value(op.inputs[0])
    d = g.one("Add", [g.one("Exp", [g.one("Neg", [x])]), scalar(g, 1, op.out_dtype)])
    return [g.one("Div", [x, d])]


def _gelu(g, op):
    x, dt = g.value(op.inputs[0]), op.out_dtype
    half = g.one("Mul", [x, scalar(g, 0.5, dt)])
    if op.consts.get("approximate", "none") == "tanh":  # ½x(1 + tanh(√(2/π)(x + 0.044715x³)))
        x3 = g.one("Mul", [g.one("Mul", [x, x]), x])
        inner = g.one("Add", [x, g.one("Mul", [x3, scalar(g, 0.044715, dt)])])
        t = g.one("Tanh", [g.one("Mul", [inner, scalar(g, math.sqrt(2 / math.pi), dt)])])
    else:  # ½x(1 + erf(x/√2))
        t = g.one("Erf", [g.one("Mul", [x, scalar(g, 1 / math.sqrt(2), dt)])])
    return [g.one("Mul", [half, g.one("Add", [t, scalar(g, 1, dt)])])]


def _leaky_relu(g, op):
    return [g.one("LeakyRelu", [g.value(op.inputs[0])], alpha=float(op.consts["slope"]))]


def _elu(g, op):
    """ELU, SELU (scale s) and CELU (input scale k = 1/α) are one ember op; anything else is
    written out: s·x where x > 0 (or NaN), else s·α·(e^{k·min(x, 0)} − 1)."""
    c, x, dt = op.consts, g.value(op.inputs[0]), op.out_dtype
    a, s, k = (float(c.get(n, 1.0)) for n in ("alpha", "scale", "input_scale"))
    if s == 1.0 and k == 1.0:
        return [g.one("Elu", [x], alpha=a)]
    if k == 1.0:
        return [g.one("Selu", [x], alpha=a, gamma=s)]
    if s == 1.0 and np.float32(k) == np.float32(1.0 / a) and dt == np.float32:  # Celu: float
        return [g.one("Celu", [x], alpha=a)]
    xn = g.one("Mul", [g.one("Min", [x, scalar(g, 0.0, dt)]), scalar(g, k, dt)])
    neg = g.one(
        "Mul", [g.one("Sub", [g.one("Exp", [xn]), scalar(g, 1.0, dt)]), scalar(g, a * s, dt)]
    )
    pos = g.one("Mul", [x, scalar(g, s, dt)])
    return [g.one("Where", [g.one("LessOrEqual", [x, scalar(g, 0.0, dt)]), neg, pos])]


def _log_sigmoid(g, op):  # log σ(x) = −softplus(−x)
    x = g.value(op.inputs[0])
    return [g.one("Neg", [g.one("Softplus", [g.one("Neg", [x])])])]


def _clip(g, op):
    x, dt = g.value(op.inputs[0]), op.out_dtype
    lo, hi = op.inputs[1:3] if len(op.inputs) >= 3 else (op.consts.get("lo"), op.consts.get("hi"))
    bounds = ["" if v is None else scalar(g, to_numpy(v), dt) for v in (lo, hi)]
    return [g.one("Clip", [x, *bounds])]


def _where(g, op):
    a, b = op.inputs[:2]
    cond = op.inputs[2] if len(op.inputs) > 2 else op.consts["cond"]
    dt = op.out_dtype
    return [g.one("Where", [typed(g, cond, bool), typed(g, a, dt), typed(g, b, dt)])]


def _softmax(onnx_op):
    def convert(g, op):
        return [g.one(onnx_op, [g.value(op.inputs[0])], axis=int(op.consts.get("axis", -1)))]

    return convert


# ---------------------------------------------------------------- shape


def _permute(g, op):
    axes = [int(a) % op.inputs[0].ndim for a in op.consts["axes"]]
    return [g.one("Transpose", [g.value(op.inputs[0])], perm=axes)]


def _cat(g, op):
    dt = op.out_dtype
    names = [typed(g, a, dt) for a in op.inputs if a is not None]
    axis = int(op.consts.get("axis", 0)) % op.outs[0].ndim
    return [g.one("Concat", names, axis=axis)]


def _stack(g, op):
    axis = int(op.consts.get("axis", 0)) % op.outs[0].ndim
    names = [g.unsqueeze(typed(g, a, op.out_dtype), [axis]) for a in op.inputs]
    return [g.one("Concat", names, axis=axis)]


def _split(g, op):
    axis = int(op.consts.get("axis", 0)) % op.inputs[0].ndim
    sizes = [o.shape[axis] for o in op.outs]
    return g.node("Split", [g.value(op.inputs[0]), g.ints(sizes)], n_out=len(sizes), axis=axis)


def _pad(g, op):
    x = op.inputs[0]
    pw = op.consts["pad_width"]
    begins, ends = [int(p[0]) for p in pw], [int(p[1]) for p in pw]
    value = scalar(g, op.consts.get("value", 0.0), op.out_dtype)
    return [g.one("Pad", [g.value(x), g.ints(begins + ends), value], mode="constant")]


def _astype(g, op):
    return [g.one("Cast", [g.value(op.inputs[0])], to=onnx_dtype(g, op.out_dtype))]


def _embedding(g, op):
    w = op.inputs[0]
    idx = op.inputs[1] if len(op.inputs) > 1 else op.consts["index"]  # the input's own array
    return [g.one("Gather", [g.value(w), typed(g, idx, np.int64)], axis=0)]


# ---------------------------------------------------------------- reductions, matmul


def _reduce(onnx_op):
    def convert(g, op):
        axis = op.consts.get("axis")
        x = g.value(op.inputs[0])
        return [g.reduce(onnx_op, x, axis, op.consts.get("keepdims", False))]

    return convert


def _matmul(g, op):
    dt = op.out_dtype
    return [g.one("MatMul", [typed(g, op.inputs[0], dt), typed(g, op.inputs[1], dt)])]


def _linear(g, op):
    """y = x·Wᵀ + b: Gemm for a matrix (W keeps its state_dict name), MatMul on Wᵀ otherwise."""
    x, w, b = (list(op.inputs) + [None, None])[:3]
    if x.ndim == 2:
        ins = [g.value(x), g.value(w)] + ([g.value(b)] if b is not None else [])
        return [g.one("Gemm", ins, transB=1)]
    y = g.one("MatMul", [g.value(x), g.one("Transpose", [g.value(w)], perm=[1, 0])])
    if b is not None:
        y = g.one("Add", [y, g.value(b)])
    return [y]


CONVERTERS = {
    "Add": _binary("Add"),
    "Sub": _binary("Sub"),
    "Mul": _binary("Mul"),
    "Div": _binary("Div"),
    "Pow": _binary("Pow"),
    "Maximum": _binary("Max"),
    "Minimum": _binary("Min"),
    "AddScalar": _scalar_op("Add"),
    "MulScalar": _scalar_op("Mul"),
    "DivScalar": _scalar_op("Div"),
    "RSubScalar": _scalar_op("Sub", reverse=True),
    "RDivScalar": _scalar_op("Div", reverse=True),
    "PowScalar": _scalar_op("Pow"),
    "RPowScalar": _scalar_op("Pow", reverse=True),
    "Neg": _unary("Neg"),
    "Exp": _unary("Exp"),
    "Log": _unary("Log"),
    "Log1p": _log1p,
    "Expm1": _expm1,
    "Sqrt": _unary("Sqrt"),
    "Abs": _unary("Abs"),
    "Sin": _unary("Sin"),
    "Cos": _unary("Cos"),
    "Clip": _clip,
    "Where": _where,
    "ReLU": _unary("Relu"),
    "Sigmoid": _unary("Sigmoid"),
    "Tanh": _unary("Tanh"),
    "GELU": _gelu,
    "SiLU": _silu,
    "LeakyReLU": _leaky_relu,
    "ELU": _elu,
    "LogSigmoid": _log_sigmoid,
    "Softmax": _softmax("Softmax"),
    "LogSoftmax": _softmax("LogSoftmax"),
    "Permute": _permute,
    "Cat": _cat,
    "Stack": _stack,
    "Split": _split,
    "Pad": _pad,
    "Astype": _astype,
    "Copy": _unary("Identity"),
    "Embedding": _embedding,
    "Sum": _reduce("ReduceSum"),
    "Mean": _reduce("ReduceMean"),
    "Max": _reduce("ReduceMax"),
    "Min": _reduce("ReduceMin"),
    "LogSumExp": _reduce("ReduceLogSumExp"),
    "MatMul": _matmul,
    "Linear": _linear,
}
