"""Converters for the layer ops: convolution, pooling, normalisation, attention.

ember runs a 1-D convolution or pooling as the 2-D op on an (N, C, L) input with a 1 × k
window, so each converter drops the leading window dimension when the input is 3-D.
"""

from __future__ import annotations

import numpy as np

from ..backend import to_numpy
from .ops_map import scalar, typed


def _spatial(op, values):
    """The per-axis constants the ONNX node needs: the last one for a 1-D op."""
    values = list(values)
    return values[-1:] if op.inputs[0].ndim == 3 else values


def _conv_inputs_and_attributes(g, op):
    """The inputs (x, W and b if given) and the attributes Conv and ConvTranspose share."""
    x, w = op.inputs[:2]
    b = op.inputs[2] if len(op.inputs) > 2 else None
    c = op.consts
    ins = [g.value(x), g.value(w)] + ([g.value(b)] if b is not None else [])
    attrs = dict(
        kernel_shape=list(w.shape[2:]),
        strides=[int(s) for s in _spatial(op, c.get("stride", (1, 1)))],
        dilations=[int(d) for d in _spatial(op, c.get("dilation", (1, 1)))],
        group=int(c.get("groups", 1)),
    )
    return ins, attrs


def _conv(g, op):
    ins, attrs = _conv_inputs_and_attributes(g, op)
    pads = [tuple(int(v) for v in p) for p in op.consts.get("padding", ((0, 0), (0, 0)))]
    pads = _spatial(op, pads)
    return [g.one("Conv", ins, pads=[p[0] for p in pads] + [p[1] for p in pads], **attrs)]


def _conv_transpose(g, op):
    ins, attrs = _conv_inputs_and_attributes(g, op)
    c = op.consts
    pads = [int(p) for p in _spatial(op, c.get("padding", (0, 0)))]
    output_padding = [int(p) for p in _spatial(op, c.get("output_padding", (0, 0)))]
    return [g.one("ConvTranspose", ins, pads=pads + pads, output_padding=output_padding, **attrs)]


def _resample(g, op):
    """interpolate / Upsample: one linear map per resized axis. Nearest is a Gather of the
    source indices; the others multiply by the map's matrix A (m × n, built by applying the map
    to the identity) along that axis: y = A ×_dim x."""
    x = op.inputs[0]
    if np.dtype(x.dtype).kind != "f":
        raise NotImplementedError("ember.onnx.export: resampling an integer image")
    y, nd, dt = g.value(x), x.ndim, op.out_dtype
    for dim, amap in op.consts["maps"]:
        if amap is None:
            continue
        dim = int(dim) % nd
        if amap.w is None:
            idx = g.const(np.asarray(to_numpy(amap.idx[:, 0]), np.int64), "index")
            y = g.one("Gather", [y, idx], axis=dim)
            continue
        eye = np.eye(amap.n, dtype=np.dtype(amap.ct))
        A = np.asarray(to_numpy(amap.apply(eye, 0)), dtype=dt)  # (m, n)
        perm = [a for a in range(nd) if a != dim] + [dim]
        back = [perm.index(a) for a in range(nd)]
        t = g.one("Transpose", [y], perm=perm)
        t = g.one("MatMul", [t, g.const(np.ascontiguousarray(A.T), "resample")])
        y = g.one("Transpose", [t], perm=back)
    return [y]


def _pool_attrs(op):
    c = op.consts
    pads = [int(p) for p in _spatial(op, c.get("padding", (0, 0)))]
    return dict(
        kernel_shape=[int(k) for k in _spatial(op, c["kernel_size"])],
        strides=[int(s) for s in _spatial(op, c["stride"])],
        pads=pads + pads,
        ceil_mode=int(bool(c.get("ceil_mode", False))),
    )


def _max_pool(g, op):
    attrs = _pool_attrs(op)
    dil = [int(d) for d in _spatial(op, op.consts.get("dilation", (1, 1)))]
    if any(d != 1 for d in dil):
        attrs["dilations"] = dil
    return [g.one("MaxPool", [g.value(op.inputs[0])], **attrs)]


def _avg_pool(g, op):
    if op.consts.get("divisor_override") is not None:
        raise NotImplementedError("ember.onnx.export: AvgPool2d with divisor_override")
    attrs = _pool_attrs(op)
    attrs["count_include_pad"] = int(bool(op.consts.get("count_include_pad", True)))
    return [g.one("AveragePool", [g.value(op.inputs[0])], **attrs)]


def _batch_norm(g, op):
    x, gamma, beta, mean, var = (list(op.inputs) + [None] * 5)[:5]
    if op.consts.get("use_batch_stats", False) or mean is None:
        raise NotImplementedError(
            "ember.onnx.export: BatchNorm with batch statistics (training mode, or "
            "track_running_stats=False); call model.eval() with running statistics"
        )
    dt = op.out_dtype
    C = x.shape[1]
    gamma = g.value(gamma) if gamma is not None else g.const(np.ones(C, dt), "ones")
    beta = g.value(beta) if beta is not None else g.const(np.zeros(C, dt), "zeros")
    ins = [g.value(x), gamma, beta, typed(g, mean, dt), typed(g, var, dt)]
    eps = float(op.consts.get("eps", 1e-5))
    return [g.one("BatchNormalization", ins, epsilon=eps)]


def _layer_norm(g, op):
    x, w, b = (list(op.inputs) + [None] * 3)[:3]
    n_axes = int(op.consts.get("n_axes", 1))
    dt, shape = op.out_dtype, x.shape[x.ndim - n_axes :]
    w = g.value(w) if w is not None else g.const(np.ones(shape, dt), "ones")
    ins = [g.value(x), w] + ([g.value(b)] if b is not None else [])
    eps = float(op.consts.get("eps", 1e-5))
    if g.opset >= 17:
        return [g.one("LayerNormalization", ins, axis=-n_axes, epsilon=eps)]
    # before opset 17: (x − μ) / √(σ² + ε) · w + b, with μ, σ² over the last n_axes axes
    axes = list(range(-n_axes, 0))
    d = g.one("Sub", [ins[0], g.reduce("ReduceMean", ins[0], axes, True)])
    var = g.reduce("ReduceMean", g.one("Mul", [d, d]), axes, True)
    y = g.one("Div", [d, g.one("Sqrt", [g.one("Add", [var, scalar(g, eps, dt)])])])
    y = g.one("Mul", [y, w])
    return [g.one("Add", [y, ins[2]]) if len(ins) > 2 else y]


def _attention(g, op):
    """O = softmax((s·Q)·Kᵀ + M)·V and the weights, as MatMul / Softmax nodes."""
    q, k, v, mask = (list(op.inputs) + [None] * 4)[:4]
    if op.consts.get("dropout_mask") is not None:
        raise NotImplementedError("ember.onnx.export: attention with dropout (call model.eval())")
    dt = op.out_dtype
    scale = op.consts.get("scale", 1.0)
    qs = g.one("Mul", [g.value(q), scalar(g, scale, dt)])
    perm = list(range(k.ndim - 2)) + [k.ndim - 1, k.ndim - 2]
    s = g.one("MatMul", [qs, g.one("Transpose", [g.value(k)], perm=perm)])
    if mask is not None:
        s = g.one("Add", [s, typed(g, mask, dt)])
    p = g.one("Softmax", [s], axis=-1)
    return [g.one("MatMul", [p, g.value(v)]), p]


NN_CONVERTERS = {
    "Conv2d": _conv,
    "ConvTranspose2d": _conv_transpose,
    "Resample": _resample,
    "MaxPool2d": _max_pool,
    "AvgPool2d": _avg_pool,
    "BatchNorm": _batch_norm,
    "LayerNorm": _layer_norm,
    "ScaledDotProductAttention": _attention,
}
