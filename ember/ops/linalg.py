"""Matrix products: matmul with batch broadcasting, and the fused affine map of Linear."""

from __future__ import annotations

import math

from ..backend import get_array_module
from ..function import Function, unbroadcast


def _swap(a):
    return a.swapaxes(-1, -2)


class MatMul(Function):
    """y = a @ b with NumPy's rules (1-D operands promoted, batch dims broadcast)."""

    def forward(self, a, b):
        # each operand is kept only for the other's gradient, as torch saves them: a later write
        # into an operand nobody differentiates through misleads nothing (autograd_saved_writes)
        na, nb = getattr(self, "needs_input_grad", (True, True))
        self.a, self.b = (a if nb else None), (b if na else None)
        self.shapes = a.shape, b.shape
        return a @ b

    def backward(self, gy):
        xp = get_array_module(gy)
        a, b = self.a, self.b
        a_shape, b_shape = self.shapes
        na, nb = self.needs_input_grad
        a2_shape = (1, *a_shape) if len(a_shape) == 1 else a_shape
        g2 = gy  # restore the axes NumPy dropped for 1-D operands (b's first: gy may be 0-d)
        if len(b_shape) == 1:
            g2 = xp.expand_dims(g2, -1)
        if len(a_shape) == 1:
            g2 = xp.expand_dims(g2, -2)
        ga = gb = None
        if na:
            b2 = b[:, None] if b.ndim == 1 else b
            ga = unbroadcast(g2 @ _swap(b2), a2_shape).reshape(a_shape)
        if nb:
            a2 = a[None, :] if a.ndim == 1 else a
            b2_shape = (*b_shape, 1) if len(b_shape) == 1 else b_shape
            if a2.ndim == 2 and g2.ndim == 2:
                gb = (a2.T @ g2).reshape(b_shape)
            elif len(b2_shape) == 2 and a2.ndim > 2:
                # fold batch dims into rows: one GEMM instead of a batched one + a sum (the
                # row count spelled out: an empty operand leaves -1 nothing to infer from)
                r = math.prod(a2.shape[:-1])
                gb = (a2.reshape(r, a2.shape[-1]).T @ g2.reshape(r, g2.shape[-1])).reshape(b_shape)
            else:
                gb = unbroadcast(_swap(a2) @ g2, b2_shape).reshape(b_shape)
        return ga, gb


class Linear(Function):
    """y = x·Wᵀ + b, x of shape (..., in), W (out, in), b (out,) or None."""

    def forward(self, x, weight, bias=None):
        # x is kept for ∂L/∂W and W for ∂L/∂x, each only when asked for, as torch saves them
        nx, nw = getattr(self, "needs_input_grad", (True, True))[:2]
        self.x, self.weight = (x if nw else None), (weight if nx else None)
        self.x_shape = x.shape
        # one 2-D GEMM over all leading dims: NumPy runs (B, T, in) @ (in, out) as B small
        # GEMMs, about half as fast as the (B·T, in) @ (in, out) it equals
        # (the row count spelled out, not -1: an empty x leaves nothing to infer it from)
        if x.ndim > 2:
            y = x.reshape(math.prod(x.shape[:-1]), x.shape[-1]) @ weight.T
        else:
            y = x @ weight.T
        if bias is not None:
            y += bias
        return y.reshape(*x.shape[:-1], weight.shape[0]) if x.ndim > 2 else y

    def backward(self, gy):
        x, w = self.x, self.weight
        nx, nw, *nb = self.needs_input_grad
        rows = math.prod(gy.shape[:-1])  # not -1: an empty gy leaves nothing to infer it from
        g2 = gy.reshape(rows, gy.shape[-1])
        gx = (g2 @ w).reshape(self.x_shape) if nx else None
        gw = gb = None
        if nw:
            gw = g2.T @ x.reshape(rows, x.shape[-1])
        if nb and nb[0]:
            # column sums as a vector-matrix product: BLAS GEMV, 2-4× faster than sum(axis=0)
            # (fresh ones, not cached: the row count B·T varies from call to call)
            gb = get_array_module(g2).ones(g2.shape[0], dtype=g2.dtype) @ g2
        return (gx, gw, gb) if nb else (gx, gw)
