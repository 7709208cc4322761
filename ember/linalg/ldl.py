"""The LDLᵀ (LDLᴴ) factorization of a symmetric (Hermitian) indefinite matrix and its solver, as
torch.linalg's: ldl_factor, ldl_factor_ex and ldl_solve.

    A = L·D·Lᵀ  (hermitian: A = L·D·Lᴴ)     A (*, n, n), only its lower triangle read

by Bunch–Kaufman diagonal pivoting, step for step LAPACK's sytf2 / hetf2 (uplo = 'L'), so LD and
pivots are torch's (its sytrf / hetrf) up to rounding. At step k, with α = (1 + √17)/8,

    a_kk ≥ α·c                    1×1 pivot at k              c = max_{i>k} |a_ik| at row r
    a_kk·ρ ≥ α·c²                 1×1 pivot at k              ρ = max_{j≠r} |a_rj|
    |a_rr| ≥ α·ρ                  1×1 pivot: swap k ↔ r
    otherwise                     2×2 pivot: swap k+1 ↔ r

(|z| = |Re z| + |Im z| for complex, LAPACK's cabs1; a diagonal is read by its real part when
hermitian). LD (*, n, n) holds D's blocks on its diagonal (a 2×2 block also fills LD[k+1, k])
and L's multipliers below, its strict upper triangle zero; pivots (*, n) int32, 1-based:
pivots[k] = r + 1 > 0 for a 1×1 block (rows k and r swapped), pivots[k] = pivots[k+1] = −(r + 1)
for a 2×2 block (rows k+1 and r swapped). As in LAPACK, the swaps act on the trailing matrix
only: L = P₁L₁·P₂L₂⋯, the columns already written are not permuted. info = k + 1 where column
k of the trailing matrix is zero (D singular there), the first such k; 0 otherwise.

ldl_solve applies sytrs / hetrs: L y = B, D z = y, Lᵀ X = z (Lᴴ if hermitian), with the swaps.
torch has no derivative for either: their outputs require grad when A does, and backward
raises torch's RuntimeError naming the op. Work is per matrix (the pivoting of each diverges),
each step vectorised over the trailing matrix.
"""

from __future__ import annotations

import math
from collections import namedtuple

from ..backend import get_array_module, xp
from ..function import Function
from ..promotion import torch_dtype_name
from ..tensor import Tensor, apply

LDLFactorResult = namedtuple("linalg_ldl_factor", ["LD", "pivots"])
LDLFactorExResult = namedtuple("linalg_ldl_factor_ex", ["LD", "pivots", "info"])
# torch's type names (repr, type(r).__name__); the qualified names stay these modules'
# attributes, so that pickle finds the types
LDLFactorResult.__qualname__ = "LDLFactorResult"
LDLFactorExResult.__qualname__ = "LDLFactorExResult"


def _cabs1(z, xp):
    """LAPACK's size of an entry: |z| for real, |Re z| + |Im z| for complex (i?amax, cabs1)."""
    return xp.abs(z.real) + xp.abs(z.imag) if z.dtype.kind == "c" else xp.abs(z)


def _mirror(s, conj: bool):
    """The symmetric (Hermitian) matrix whose lower triangle is that of s: LAPACK computes and
    reads only the lower triangle, so the upper one is kept an exact copy of it."""
    xp = get_array_module(s)
    low = xp.tril(s)
    up = xp.swapaxes(xp.tril(low, -1), -1, -2)
    out = low + (up.conj() if conj else up)
    if conj:
        d = xp.arange(s.shape[-1])
        out[d, d] = out[d, d].real
    return out


def _factor_one(a, hermitian: bool):
    """(LD, pivots, info) of one matrix a (n, n) by sytf2 / hetf2 with uplo = 'L'."""
    xp = get_array_module(a)
    n = a.shape[-1]
    conj = hermitian and a.dtype.kind == "c"
    real = a.real.dtype.type
    alpha = (real(1) + xp.sqrt(real(17))) / real(8)
    s = _mirror(a, conj)  # the trailing matrix, both triangles
    ld = xp.zeros_like(a)
    piv = xp.zeros(n, dtype=xp.int32)
    info = 0
    k = 0
    while k < n:
        absakk = abs(s[k, k].real) if conj else _cabs1(s[k, k], xp)
        colmax, r = real(0), k
        if k + 1 < n:
            col = _cabs1(s[k + 1 :, k], xp)
            r = k + 1 + int(xp.argmax(col))
            colmax = col[r - k - 1]
        if max(absakk, colmax) == 0 or xp.isnan(absakk):  # a zero column: D_kk = 0
            info = info or k + 1
            ld[k:, k] = s[k:, k]
            piv[k] = k + 1
            k += 1
            continue
        kp, step = k, 1
        if absakk < alpha * colmax:
            row = _cabs1(s[r, k:], xp)
            row[r - k] = 0
            rowmax = row.max()
            arr = abs(s[r, r].real) if conj else _cabs1(s[r, r], xp)
            if absakk >= alpha * colmax * (colmax / rowmax):
                pass
            elif arr >= alpha * rowmax:
                kp = r
            else:
                kp, step = r, 2
        kk = k + step - 1
        if kp != kk:  # swap rows and columns kk, kp of the trailing matrix
            s[[kk, kp], k:] = s[[kp, kk], k:]
            s[k:, [kk, kp]] = s[k:, [kp, kk]]
        if step == 1:
            _pivot_1x1(s, ld, k, conj)
            piv[k] = kp + 1
        else:
            _pivot_2x2(s, ld, k, conj)
            piv[k] = piv[k + 1] = -(kp + 1)
        k += step
    return ld, piv, info


def _pivot_1x1(s, ld, k: int, conj: bool) -> None:
    """A₂₂ ← A₂₂ − x·d⁻¹·xᵀ (xᴴ), L's column x·d⁻¹: LAPACK's syr / her then scal."""
    x = s[k + 1 :, k]
    d_inv = 1 / s[k, k].real if conj else 1 / s[k, k]
    t = -d_inv * (x.conj() if conj else x)
    s[k + 1 :, k + 1 :] = _mirror(s[k + 1 :, k + 1 :] + x[:, None] * t[None, :], conj)
    ld[k, k] = s[k, k]
    ld[k + 1 :, k] = x * d_inv


def _pivot_2x2(s, ld, k: int, conj: bool) -> None:
    """A₂₂ ← A₂₂ − [c₀ c₁]·E⁻¹·[c₀ c₁]ᵀ (ᴴ) with E = [[a_kk, ·], [a_k+1,k, a_k+1,k+1]], L's
    columns [w₀ w₁] = [c₀ c₁]·E⁻¹, in sytf2's (hetf2's) scaled form."""
    c0, c1 = s[k + 2 :, k], s[k + 2 :, k + 1]
    e = s[k + 1, k]
    if conj:
        d = abs(e)
        d11, d22 = s[k + 1, k + 1].real / d, s[k, k].real / d
        tt = 1 / (d11 * d22 - 1)
        d21 = e / d
        d = tt / d
        w0 = d * (d11 * c0 - d21 * c1)
        w1 = d * (d22 * c1 - d21.conj() * c0)
        u0, u1 = w0.conj(), w1.conj()
    else:
        d11, d22 = s[k + 1, k + 1] / e, s[k, k] / e
        t = 1 / (d11 * d22 - 1)
        d21 = t / e
        w0 = d21 * (d11 * c0 - c1)
        w1 = d21 * (d22 * c1 - c0)
        u0, u1 = w0, w1
    if c0.size:
        upd = s[k + 2 :, k + 2 :] - c0[:, None] * u0[None, :] - c1[:, None] * u1[None, :]
        s[k + 2 :, k + 2 :] = _mirror(upd, conj)
    ld[k, k], ld[k + 1, k], ld[k + 1, k + 1] = s[k, k], e, s[k + 1, k + 1]
    ld[k + 2 :, k], ld[k + 2 :, k + 1] = w0, w1


class LdlFactorEx(Function):
    """(LD, pivots, info) of A (*, n, n) as the module's note; no derivative, as torch."""

    multi_output = True

    def forward(self, a, hermitian=False):
        xp = get_array_module(a)
        n = a.shape[-1]
        batch = a.shape[:-2]
        flat = a.reshape((math.prod(batch), n, n))
        ld = xp.zeros_like(flat)
        piv = xp.zeros((flat.shape[0], n), dtype=xp.int32)
        info = xp.zeros(flat.shape[0], dtype=xp.int32)
        for b in range(flat.shape[0]):
            ld[b], piv[b], info[b] = _factor_one(flat[b], hermitian)
        return ld.reshape(a.shape), piv.reshape(batch + (n,)), info.reshape(batch)

    def backward(self, *grads):
        raise RuntimeError("derivative for aten::linalg_ldl_factor_ex is not implemented")


def _solve_one(ld, piv, b, conj: bool):
    """X with A X = B for A = L·D·Lᵀ (Lᴴ) packed in ld, piv: LAPACK's sytrs / hetrs, 'L'."""
    n = ld.shape[-1]
    k = 0
    while k < n:  # L·D·y = B, the swaps in order
        p = int(piv[k])
        if p > 0:
            r = p - 1
            b[[k, r]] = b[[r, k]]
            b[k + 1 :] -= ld[k + 1 :, k, None] * b[k]
            b[k] *= 1 / ld[k, k].real if conj else 1 / ld[k, k]
            k += 1
            continue
        r = -p - 1
        b[[k + 1, r]] = b[[r, k + 1]]
        b[k + 2 :] -= ld[k + 2 :, k, None] * b[k]
        b[k + 2 :] -= ld[k + 2 :, k + 1, None] * b[k + 1]
        e = ld[k + 1, k]
        e_up = e.conj() if conj else e  # the block's upper entry, E = [[a, ē], [e, c]]
        akm1, ak = ld[k, k] / e_up, ld[k + 1, k + 1] / e
        denom = akm1 * ak - 1
        bkm1, bk = b[k] / e_up, b[k + 1] / e
        b[k], b[k + 1] = (ak * bkm1 - bk) / denom, (akm1 * bk - bkm1) / denom
        k += 2
    k = n - 1
    while k >= 0:  # Lᵀ (Lᴴ) X = z, the swaps in reverse
        p = int(piv[k])
        cols = (k,) if p > 0 else (k, k - 1)
        for j in cols:
            lj = ld[k + 1 :, j]
            b[j] -= (lj.conj() if conj else lj) @ b[k + 1 :]
        r = (p if p > 0 else -p) - 1
        b[[k, r]] = b[[r, k]]
        k -= len(cols)
    return b


class LdlSolve(Function):
    """X with A·X = B from ldl_factor's (LD, pivots), batch dims broadcast; no derivative."""

    def forward(self, ld, piv, b, hermitian=False):
        xp = get_array_module(ld, b)
        n = ld.shape[-1]
        batch = xp.broadcast_shapes(ld.shape[:-2], b.shape[:-2])
        m = math.prod(batch)
        lds = xp.broadcast_to(ld, batch + ld.shape[-2:]).reshape((m, n, n))
        pivs = xp.broadcast_to(piv, batch + piv.shape[-1:]).reshape((m, n))
        x = xp.broadcast_to(b, batch + b.shape[-2:]).reshape((m,) + b.shape[-2:]).copy()
        conj = hermitian and ld.dtype.kind == "c"
        for i in range(x.shape[0]):
            _solve_one(lds[i], pivs[i], x[i], conj)
        return x.reshape(batch + b.shape[-2:])

    def backward(self, gx):
        raise RuntimeError("derivative for aten::linalg_ldl_solve is not implemented")


def _batch(info, k: int) -> str:
    return f"(Batch element {k}): " if info.ndim > 0 else ""


def _check_singular(name: str, info) -> None:
    flat = info.reshape(-1)
    bad = xp.flatnonzero(flat)
    if bad.size:
        k = int(bad[0])
        j = int(flat[k])
        # torch 2.13 reports this through an internal assert ("Unknown error code: j"), a
        # RuntimeError too; the message here says what the code means
        raise RuntimeError(
            f"{name}: {_batch(info, k)}D[{j},{j}] is zero: the input matrix is singular"
            f" (LAPACK info {j}, torch's 'Unknown error code: {j}')"
        )


def _factor(A, hermitian: bool):  # noqa: N803
    name = "torch.linalg.ldl_factor_ex"
    A = A if isinstance(A, Tensor) else Tensor(A)  # noqa: N806
    if A.ndim < 2:
        raise RuntimeError(f"{name}: The input tensor A must have at least 2 dimensions.")
    m, n = A.shape[-2:]
    if m != n:
        raise RuntimeError(
            f"{name}: A must be batches of square matrices, but they are {m} by {n} matrices"
        )
    dt = A.dtype
    if dt.kind not in "fc":
        raise RuntimeError(
            f"{name}: Expected a floating point or complex tensor as input. Got"
            f" {torch_dtype_name(dt)}"
        )
    if dt.itemsize < 4:
        raise NotImplementedError(
            f"\"ldl_factor_kernel_cpu\" not implemented for '{torch_dtype_name(dt)}'"
        )
    LD, pivots, info = apply(LdlFactorEx, A, hermitian=bool(hermitian))  # noqa: N806
    return LD, pivots.detach(), info.detach()


def ldl_factor_ex(A, *, hermitian=False, check_errors=False) -> LDLFactorExResult:  # noqa: N803
    """(LD, pivots, info): A = L·D·Lᵀ (L·D·Lᴴ if hermitian) of A (*, n, n) by Bunch–Kaufman
    pivoting, packed as the module's note; info (*,) int32 is 0, or k when D_kk = 0 (1-based,
    the first such k). With check_errors a non-zero info raises a RuntimeError."""
    LD, pivots, info = _factor(A, hermitian)  # noqa: N806
    if check_errors:
        _check_singular("torch.linalg.ldl_factor_ex", info.array)
    return LDLFactorExResult(LD, pivots, info)


def ldl_factor(A, *, hermitian=False) -> LDLFactorResult:  # noqa: N803
    """(LD, pivots) with A = L·D·Lᵀ (L·D·Lᴴ if hermitian), as :func:`ldl_factor_ex`; a
    RuntimeError when D is singular (some info ≠ 0), as torch."""
    LD, pivots, info = _factor(A, hermitian)  # noqa: N806
    _check_singular("torch.linalg.ldl_factor", info.array)
    return LDLFactorResult(LD, pivots)


def ldl_solve(LD, pivots, B, *, hermitian=False) -> Tensor:  # noqa: N803
    """X with A·X = B from A's (LD, pivots) as :func:`ldl_factor` returns them: LD (*, n, n),
    pivots (*, n) integers, B (*, n, k); the batch dims of LD and B broadcast. ``hermitian``
    must be the one the factorization used (it matters for complex A only)."""
    name = "torch.linalg.ldl_solve"
    LD = LD if isinstance(LD, Tensor) else Tensor(LD)  # noqa: N806
    B = B if isinstance(B, Tensor) else Tensor(B)  # noqa: N806
    pivots = pivots if isinstance(pivots, Tensor) else Tensor(pivots)
    if B.ndim < 2:
        raise IndexError(
            "Dimension out of range (expected to be in range of [-1, 0], but got -2)"
            if B.ndim == 1
            else "Dimension specified as -2 but tensor has no dimensions"
        )
    if LD.ndim < 2:
        raise RuntimeError(f"{name}: The input tensor A must have at least 2 dimensions.")
    m, n = LD.shape[-2:]
    if m != n:
        raise RuntimeError(
            f"{name}: A must be batches of square matrices, but they are {m} by {n} matrices"
        )
    if LD.dtype.kind not in "fc":
        raise RuntimeError(
            f"{name}: Expected a floating point or complex tensor as input. Got"
            f" {torch_dtype_name(LD.dtype)}"
        )
    if tuple(pivots.shape) != tuple(LD.shape[:-1]):
        raise RuntimeError(
            f"{name}: Expected LD.shape[:-1] and pivots.shape to be the same, but got pivots"
            f" with shape {list(pivots.shape)} instead"
        )
    if pivots.dtype.kind not in "iu":
        raise RuntimeError(
            f"{name}: Expected pivots to be integers. Got {torch_dtype_name(pivots.dtype)}"
        )
    if B.shape[-2] != n:
        raise RuntimeError(
            f"Incompatible matrix sizes for {name}: each A matrix is {n} by {n} but each b"
            f" matrix is {B.shape[-2]} by {B.shape[-1]}"
        )
    if B.dtype != LD.dtype:
        raise RuntimeError(
            f"Expected b and A to have the same dtype, but found b of type"
            f" {torch_dtype_name(B.dtype)} and A of type {torch_dtype_name(LD.dtype)} instead."
        )
    _broadcast_check(LD.shape[:-2], B.shape[:-2])
    return apply(LdlSolve, LD, pivots.array, B, hermitian=bool(hermitian))


def _broadcast_check(a: tuple, b: tuple) -> None:
    """torch's message for batch dims that do not broadcast."""
    for i in range(1, min(len(a), len(b)) + 1):
        x, y = a[-i], b[-i]
        if x != y and x != 1 and y != 1:
            raise RuntimeError(
                f"The size of tensor a ({y}) must match the size of tensor b ({x}) at"
                f" non-singleton dimension {max(len(a), len(b)) - i}"
            )
