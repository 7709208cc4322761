"""torch.linalg's remaining array functions: cross, diagonal, vander, tensorinv, tensorsolve and
householder_product. Each is a composition of differentiable Tensor ops (products, slices,
reshapes, inv and solve), so its gradient is exact by construction and equals torch's formula.
"""

from __future__ import annotations

import math

from ..backend import xp
from ..errors import KernelTypeError
from ..ops import shape as S
from ..ops.linalg_funcs import NoGradient
from ..ops.linalg_more import Inv
from ..promotion import torch_dtype_name
from ..tensor import Tensor, apply
from ._common import as_tensor as _t
from ._common import tensor
from .solvers import solve


def cross(input, other, *, dim=-1) -> Tensor:  # noqa: A002 - torch's name
    """The cross product of 3-vectors along ``dim`` (default the last), the other dims
    broadcasting (both inputs of one rank, as torch's):

        a × b = (a₁b₂ − a₂b₁, a₂b₀ − a₀b₂, a₀b₁ − a₁b₀)
    """
    a, b = _t(input), _t(other)
    if a.ndim != b.ndim:
        raise RuntimeError("linalg.cross: inputs must have the same number of dimensions.")
    if a.dtype != b.dtype:
        raise RuntimeError(
            f"linalg.cross: expected both inputs of one dtype, got {torch_dtype_name(a.dtype)} and"
            f" {torch_dtype_name(b.dtype)}"
        )
    if not -a.ndim <= dim < max(a.ndim, 1):
        raise IndexError(
            f"Dimension out of range (expected to be in range of [{-a.ndim}, {a.ndim - 1}], but"
            f" got {dim})"
        )
    if a.shape[dim] != 3 or b.shape[dim] != 3:
        raise RuntimeError(
            f"linalg.cross: inputs dimension {dim} must have length 3. Got {a.shape[dim]} and"
            f" {b.shape[dim]}"
        )
    return a.cross(b, dim)


def diagonal(A, *, offset=0, dim1=-2, dim2=-1) -> Tensor:  # noqa: N803 - torch's name
    """The ``offset`` diagonal of the (dim1, dim2) planes of A, as its last dim: out[…, i] =
    A[…, i, i + offset] (for offset ≥ 0; A[…, i − offset, i] below); a view's gradient."""
    return _t(A).diagonal(offset, dim1, dim2)


def vander(x, *, N=None) -> Tensor:  # noqa: N803 - torch's names
    """The Vandermonde matrix of x (*, n): out (*, n, N), out[…, i, j] = x_iʲ (increasing powers,
    N = n by default), each column a running product x_iʲ = x_iʲ⁻¹·x_i so that the gradient
    ∂x_iʲ/∂x_i = j·x_iʲ⁻¹ stays exact at x_i = 0. Integer x gives int64, as torch's."""
    x = _t(x)
    if x.dtype.kind == "b" or x.dtype == xp.float16:
        raise RuntimeError(
            "linalg.vander supports floating point, complex, and integer tensors, but got"
            f" {torch_dtype_name(x.dtype)}"
        )
    n = (x.shape[-1] if x.ndim else 1) if N is None else N
    if n <= 1:
        raise RuntimeError("N must be greater than 1.")
    if x.dtype.kind in "biu":
        x = x.astype(xp.int64)
    cols = [Tensor(xp.ones(x.shape, dtype=x.dtype)), x]
    for _ in range(2, n):
        cols.append(cols[-1] * x)
    return apply(S.Stack, *cols, axis=-1)


def _prod_check(what: str, shape: tuple, k: int) -> tuple:
    rows, cols = math.prod(shape[:k]), math.prod(shape[k:])
    if rows != cols:
        raise RuntimeError(
            f"Expected self to satisfy the requirement prod(self.shape[{what}:]) =="
            f" prod(self.shape[:{what}]), but got {cols} != {rows}"
        )
    return rows, cols


def tensorinv(A, ind=2) -> Tensor:  # noqa: N803
    """The inverse X of A for tensordot with ``ind`` dims: tensordot(X, A, ind) = I, X of shape
    A.shape[ind:] + A.shape[:ind], i.e. X = reshape(inv(reshape(A, (p, p)))) with
    p = ∏ A.shape[:ind] = ∏ A.shape[ind:]; Ā = −Xᴴ X̄ Xᴴ through those reshapes."""
    if isinstance(ind, bool) or not isinstance(ind, int):
        raise TypeError(f"linalg_tensorinv(): argument 'ind' must be int, not {type(ind).__name__}")
    if ind <= 0:
        raise RuntimeError(f"Expected a strictly positive integer for 'ind', but got {ind}")
    A = tensor("linalg.tensorinv", A)  # noqa: N806 - a float tensor, as torch's inv takes
    p, _ = _prod_check("ind", A.shape, ind)
    return apply(Inv, A.reshape(p, p), name="inv").reshape(*(A.shape[ind:] + A.shape[:ind]))


def tensorsolve(A, B, dims=None) -> Tensor:  # noqa: N803
    """X with tensordot(A, X, X.ndim) = B: the ``dims`` of A moved to the end first, then
    X = reshape(solve(reshape(A, (p, p)), flatten(B))), X of shape A.shape[B.ndim:],
    p = ∏ B.shape; gradients those of solve (B̄ = A⁻ᴴ X̄, Ā = −B̄ Xᴴ)."""
    A, B = _t(A), _t(B)  # noqa: N806
    if dims is not None:
        dims = [dims] if isinstance(dims, int) else list(dims)
        A = A.movedim(dims, list(range(A.ndim - len(dims), A.ndim)))  # noqa: N806
    p, _ = _prod_check("other.ndim", A.shape, B.ndim)
    return solve(A.reshape(p, p), B.reshape(p)).reshape(*A.shape[B.ndim :])


def householder_product(A, tau) -> Tensor:  # noqa: N803
    """The first n columns of Q = H₁H₂⋯H_k, H_i = I − τ_i v_i v_iᴴ, from A (*, m, n), m ≥ n ≥ k,
    and tau (*, k): v_i is A's column i below the diagonal with a 1 on it (LAPACK's orgqr /
    ungqr, as torch.linalg.householder_product). Applied from the right, X ← H_i X =
    X − τ_i v_i (v_iᴴ X), starting from X = I (m × n); differentiable in A and tau."""
    name = "torch.linalg.householder_product"
    A, tau = _t(A), _t(tau)  # noqa: N806
    if A.ndim < 2:
        raise RuntimeError(f"{name}: input must have at least 2 dimensions.")
    if tau.ndim != A.ndim - 1:
        raise RuntimeError(
            f"{name}: Expected tau to have one dimension less than input, but got tau.ndim"
            f" equal to {tau.ndim} and input.ndim is equal to {A.ndim}"
        )
    m, n = A.shape[-2:]
    k = tau.shape[-1]
    if m < n:
        raise RuntimeError(
            f"{name}: input.shape[-2] must be greater than or equal to input.shape[-1]"
        )
    if n < k:
        raise RuntimeError(
            f"{name}: input.shape[-1] must be greater than or equal to tau.shape[-1]"
        )
    if tuple(tau.shape[:-1]) != tuple(A.shape[:-2]):
        raise RuntimeError(
            f"{name}: Expected batch dimensions of tau to be equal to input.shape[:-2], but got"
            f" {list(tau.shape[:-1])}"
        )
    if tau.dtype != A.dtype:
        raise RuntimeError(
            f"{name}: tau dtype {torch_dtype_name(tau.dtype)} does not match input dtype"
            f" {torch_dtype_name(A.dtype)}"
        )
    if A.dtype.kind not in "fc" or A.dtype.name == "float16":  # no LAPACK kernel, as torch
        raise KernelTypeError(f"\"orgqr_cpu\" not implemented for '{torch_dtype_name(A.dtype)}'")
    X = Tensor(xp.broadcast_to(xp.eye(m, n, dtype=A.dtype), A.shape).copy())  # noqa: N806
    if k == 0 or A.numel() == 0:  # torch's output is in the graph, its backward gives None
        return apply(NoGradient, A, tau, value=X.array)
    V = A[..., :, :k].tril(-1) + Tensor(xp.eye(m, k, dtype=A.dtype))  # noqa: N806
    for i in range(k - 1, -1, -1):
        v = V[..., :, i : i + 1]  # (*, m, 1)
        X = X - (tau[..., i : i + 1].unsqueeze(-1) * v) @ (v.mH @ X)  # noqa: N806
    return X


__all__ = ["cross", "diagonal", "householder_product", "tensorinv", "tensorsolve", "vander"]
