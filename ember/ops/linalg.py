"""Matrix products: matmul with batch broadcasting, and the fused affine map of Linear."""

from __future__ import annotations

from ..backend import get_array_module
from ..function import Function, unbroadcast


def _swap(a):
    return a.swapaxes(-1, -2)


class MatMul(Function):
    """y = a @ b with NumPy's rules (1-D operands promoted, batch dims broadcast)."""

    def forward(self, a, b):
        self.a, self.b = a, b
        return a @ b

    def backward(self, gy):
        xp = get_array_module(gy)
        a, b = self.a, self.b
        na, nb = self.needs_input_grad
        a2 = a[None, :] if a.ndim == 1 else a
        b2 = b[:, None] if b.ndim == 1 else b
        g2 = gy  # restore the axes NumPy dropped for 1-D operands (b's first: gy may be 0-d)
        if b.ndim == 1:
            g2 = xp.expand_dims(g2, -1)
        if a.ndim == 1:
            g2 = xp.expand_dims(g2, -2)
        ga = gb = None
        if na:
            ga = unbroadcast(g2 @ _swap(b2), a2.shape).reshape(a.shape)
        if nb:
            if a2.ndim == 2 and g2.ndim == 2:
                gb = (a2.T @ g2).reshape(b.shape)
            elif b2.ndim == 2 and a2.ndim > 2:
                # fold batch dims into rows: one GEMM instead of a batched one + a sum
                k = a2.shape[-1]
                gb = (a2.reshape(-1, k).T @ g2.reshape(-1, g2.shape[-1])).reshape(b.shape)
            else:
                gb = unbroadcast(_swap(a2) @ g2, b2.shape).reshape(b.shape)
        return ga, gb


class Linear(Function):
    """y = x·Wᵀ + b, x of shape (..., in), W (out, in), b (out,) or None."""

    def forward(self, x, weight, bias=None):
        self.x, self.weight = x, weight
        # one 2-D GEMM over all leading dims: NumPy runs (B, T, in) @ (in, out) as B small
        # GEMMs, about half as fast as the (B·T, in) @ (in, out) it equals
        y = x.reshape(-1, x.shape[-1]) @ weight.T if x.ndim > 2 else x @ weight.T
        if bias is not None:
            y += bias
        return y.reshape(*x.shape[:-1], weight.shape[0]) if x.ndim > 2 else y

    def backward(self, gy):
        x, w = self.x, self.weight
        nx, nw, *nb = self.needs_input_grad
        g2 = gy.reshape(-1, gy.shape[-1])
        gx = (g2 @ w).reshape(x.shape) if nx else None
        gw = gb = None
        if nw:
            gw = g2.T @ x.reshape(-1, x.shape[-1])
        if nb and nb[0]:
            # column sums as a vector-matrix product: BLAS GEMV, 2-4× faster than sum(axis=0)
            # (fresh ones, not cached: the row count B·T varies from call to call)
            gb = get_array_module(g2).ones(g2.shape[0], dtype=g2.dtype) @ g2
        return (gx, gw, gb) if nb else (gx, gw)
