"""torch's remaining top-level numerical functions: randomized low-rank SVD and PCA
(svd_lowrank, pca_lowrank), the deprecated norm entry points (nuclear_norm, frobenius_norm),
torch.matrix_rank (removed in torch, so it raises as torch does) and the ATen-level
native_layer_norm / native_batch_norm / native_group_norm / native_dropout, which return the
output with what ATen saves for the backward. histogramdd and segment_reduce live in
torch_lowrank_more.py.

Everything differentiable is composed from differentiable ember operations (matmul,
linalg.qr, linalg.svd, the norms, F.layer_norm / F.batch_norm), so the gradients are those of
the composition, as torch's. Saved statistics carry no gradient where torch's carry none.
"""

from __future__ import annotations

import warnings

from . import backend
from . import functional as F
from . import linalg as LA
from .backend import xp
from .function import no_grad
from .tensor import Tensor, as_array
from .tensor_stats_more import _dtype_name
from .torch_lowrank_more import *  # noqa: F403
from .torch_lowrank_more import __all__ as _more_all
from .torch_shape import _t

__all__ = [
    "svd_lowrank",
    "pca_lowrank",
    "matrix_rank",
    "nuclear_norm",
    "frobenius_norm",
    "native_layer_norm",
    "native_batch_norm",
    "native_group_norm",
    "native_dropout",
    *_more_all,
]


# ------------------------------------------------------------ randomized low-rank SVD / PCA
def _mH(x: Tensor) -> Tensor:
    """The conjugate transpose of the last two dims."""
    return x.mH


def _floating_dtype(a: Tensor):
    """torch's _linalg_utils.get_floating_dtype: a's dtype if floating or complex, else
    float32."""
    return xp.dtype(a.dtype) if a.dtype.kind in "fc" else xp.dtype(xp.float32)


def _approximate_basis(A: Tensor, q: int, niter: int, M: Tensor | None) -> Tensor:
    """Q (m × q, orthonormal columns) with Q Qᴴ (A − M) ≈ A − M (Halko et al. 2009, Alg. 4.4):

        Ω ~ N(0, 1)^{n×q}                 one draw, shared by every matrix of a batch
        Q = qr((A − M) Ω).Q
        repeat niter times:               subspace (power) iterations, re-orthonormalised
            Q = qr((A − M)ᴴ Q).Q
            Q = qr((A − M) Q).Q

    A − M is never formed: each product is A·X − M·X, as torch does (M may be a broadcast)."""
    from . import complex as make_complex
    from . import randn

    dtype = _floating_dtype(A)
    if dtype.kind == "c":  # torch's complex normal: real and imaginary parts each N(0, ½)
        real = xp.zeros((), dtype).real.dtype
        parts = randn(A.shape[-1], q, dtype=real), randn(A.shape[-1], q, dtype=real)
        R = make_complex(*parts) / 2**0.5
    else:
        R = randn(A.shape[-1], q, dtype=dtype)
    X = A.matmul(R)
    if M is not None:
        X = X - M.matmul(R)
    Q = LA.qr(X).Q
    for _ in range(niter):
        X = _mH(A).matmul(Q)
        if M is not None:
            X = X - _mH(M).matmul(Q)
        Q = LA.qr(X).Q
        X = A.matmul(Q)
        if M is not None:
            X = X - M.matmul(Q)
        Q = LA.qr(X).Q
    return Q


def svd_lowrank(A, q: int | None = 6, niter: int | None = 2, M=None):
    """torch.svd_lowrank: (U, S, V) with A − M ≈ U diag(S) Vᴴ, of rank ≤ q, by randomized
    range finding (Halko, Martinsson & Tropp 2009, "Finding structure with randomness",
    Alg. 5.1):

        Q = approximate_basis(A − M, q, niter)     m × q, orthonormal
        B = Qᴴ (A − M)                             q × n, small
        B = Û S Vᴴ                                 the exact thin SVD of the small matrix
        U = Q Û

    A wide matrix (m < n) is handled through its conjugate transpose, whose U and V swap.
    A is (*, m, n); M (optional) broadcasts to A. The random test matrix Ω is drawn from
    ember's generator (ember.manual_seed makes it repeatable), so results differ from torch's
    by the draw, not the method. Differentiable through the composition (qr, svd, matmul)."""
    A = _t(A)
    q = 6 if q is None else q
    niter = 2 if niter is None else niter
    if A.ndim < 2:
        raise RuntimeError(
            f"svd_lowrank: expected A of shape (*, m, n) with at least 2 dims, got {list(A.shape)}"
        )
    if A.dtype.kind not in "fc":  # torch fails in matmul: A's dtype against Ω's float32
        raise RuntimeError(
            f"svd_lowrank: expected a floating point or complex A, got dtype {A.dtype}"
        )
    m, n = A.shape[-2:]
    if M is not None:
        M = _t(M).broadcast_to(A.shape)
    if m < n:
        A = _mH(A)
        if M is not None:
            M = _mH(M)
    Q = _approximate_basis(A, q, niter, M)
    B = _mH(Q).matmul(A)
    if M is not None:
        B = B - _mH(Q).matmul(M)
    U, S, Vh = LA.svd(B, full_matrices=False)
    V = _mH(Vh)
    U = Q.matmul(U)
    if m < n:
        U, V = V, U
    return U, S, V


def pca_lowrank(A, q: int | None = None, center: bool = True, niter: int = 2):
    """torch.pca_lowrank: svd_lowrank of the column-centred data,

        C = mean over rows of A  (1 × n per matrix),    (U, S, V) = svd_lowrank(A − C, q)

    A is (*, m, n): m samples of n features. V's columns are the principal directions,
    S²/(m − 1) the variances along them, A V[:, :k] the data in the first k components.
    center=False takes A as already centred. q defaults to min(6, m, n)."""
    A = _t(A)
    if A.ndim < 2:
        raise RuntimeError(
            f"pca_lowrank: expected A of shape (*, m, n) with at least 2 dims, got {list(A.shape)}"
        )
    m, n = A.shape[-2:]
    if q is None:
        q = min(6, m, n)
    elif not (q >= 0 and q <= min(m, n)):
        raise ValueError(
            f"q(={q}) must be non-negative integer and not greater than min(m, n)={min(m, n)}"
        )
    if not (niter >= 0):
        raise ValueError(f"niter(={niter}) must be non-negative integer")
    if not center:
        return svd_lowrank(A, q, niter=niter, M=None)
    C = A.mean(-2, keepdim=True)
    return svd_lowrank(A - C, q, niter=niter, M=None)


# ------------------------------------------------------------ deprecated torch entry points
def matrix_rank(*args, **kwargs):
    """torch.matrix_rank was removed in torch 1.9 and now raises on every call; this raises the
    same. Use ember.linalg.matrix_rank (``symmetric`` is its ``hermitian``)."""
    raise RuntimeError(
        "This function was deprecated since version 1.9 and is now removed.\nPlease use the"
        " `torch.linalg.matrix_rank` function instead. The parameter 'symmetric' was renamed in"
        " `torch.linalg.matrix_rank()` to 'hermitian'."
    )


def nuclear_norm(input, dim=None, keepdim: bool = False) -> Tensor:  # noqa: A002
    """torch.nuclear_norm: ‖A‖_* = Σ_i σ_i(A), the sum of the singular values, of the matrices
    over dim (a pair; default the last two). torch's overloads (input, keepdim) and
    (input, dim, keepdim) are both accepted: a bool in dim's place is keepdim.
    linalg.matrix_norm(A, 'nuc', dim, keepdim) underneath, with its checks and gradient."""
    warnings.warn(
        "at::nuclear_norm is deprecated and it is just left for JIT compatibility. It will be"
        " removed in a future PyTorch release. Please use `linalg.matrix_norm(A, 'nuc', dim,"
        " keepdim)` instead",
        UserWarning,
        stacklevel=2,
    )
    if isinstance(dim, bool):
        dim, keepdim = None, dim
    return LA.matrix_norm(_t(input), "nuc", (-2, -1) if dim is None else dim, keepdim)


def frobenius_norm(input, dim, keepdim: bool = False) -> Tensor:  # noqa: A002
    """torch.frobenius_norm: ‖x‖_F = √(Σ |x_ij|²) over dim (one or two dims; an empty dim is
    every dim), complex input giving a real result. linalg.vector_norm(x, 2, dim, keepdim)
    underneath, with its checks and gradient."""
    warnings.warn(
        "at::frobenius_norm is deprecated and it is just left for JIT compatibility. It will be"
        " removed in a future PyTorch release. Please use `linalg.vector_norm(A, 2., dim,"
        " keepdim)` instead",
        UserWarning,
        stacklevel=2,
    )
    x = _t(input)
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    if len(dims) > 2:
        raise RuntimeError(
            f"Expected at most 2 dimensions, but got {len(dims)} dimensions instead."
        )
    if x.dtype.kind not in "fc":
        raise RuntimeError(
            "norm(): input dtype should be either floating point or complex. Got"
            f" {_torch_name(x)} instead."
        )
    return LA.vector_norm(x, 2, dims if dims else None, keepdim)


def _torch_name(x: Tensor) -> str:
    """torch's capitalised dtype name (Int, Long, Bool, …) for error messages."""
    name = _dtype_name(x.array)
    return name[0].upper() + name[1:]


# ------------------------------------------------------------ ATen-level native_* entry points


def _mean_rstd(a, axes: tuple, eps: float):
    """μ and 1/√(σ² + ε) (σ² the biased variance) over axes, kept as size-1 dims, computed in
    at least float32 (torch's accumulation type for half) and returned in a's dtype."""
    acc = xp.promote_types(a.dtype, xp.float32)
    x = a.astype(acc)
    mu = x.mean(axis=axes, keepdims=True)
    var = ((x - mu) ** 2).mean(axis=axes, keepdims=True)
    return mu.astype(a.dtype), (1.0 / xp.sqrt(var + eps)).astype(a.dtype)


def native_layer_norm(input, normalized_shape, weight, bias, eps: float):  # noqa: A002
    """torch.native_layer_norm: (out, mean, rstd) of layer norm over the trailing
    normalized_shape dims,

        μ = mean(x),  rstd = 1/√(mean((x − μ)²) + ε),  out = (x − μ)·rstd·γ + β

    mean and rstd have x's leading dims and size-1 trailing dims (shape x.shape[:k] + (1,)·n);
    they carry no gradient, as torch's. out is F.layer_norm's."""
    x = _t(input)
    out = F.layer_norm(x, normalized_shape, weight, bias, eps)
    k = len(tuple(normalized_shape)) if not isinstance(normalized_shape, int) else 1
    axes = tuple(range(x.ndim - k, x.ndim))
    mu, rstd = _mean_rstd(x.array, axes, eps)
    return out, Tensor(mu), Tensor(rstd)


def native_batch_norm(
    input,  # noqa: A002
    weight,
    bias,
    running_mean,
    running_var,
    training: bool,
    momentum: float,
    eps: float,
):
    """torch.native_batch_norm: (out, save_mean, save_invstd) of batch norm over (N, C, …),

        training:  μ_c, σ²_c over every dim but C;  out = (x − μ)/√(σ² + ε)·γ + β
                   running stats updated in place (the variance unbiased), as F.batch_norm;
                   save_mean = μ (C,), save_invstd = 1/√(σ² + ε) (C,)
        eval:      out from the running stats; save_mean and save_invstd empty, shape (0,)

    out is F.batch_norm's (differentiable); the saved statistics carry no gradient."""
    x = _t(input)
    out = F.batch_norm(x, running_mean, running_var, weight, bias, training, momentum, eps)
    if not training:
        empty = Tensor(xp.zeros((0,), dtype=x.array.dtype))
        return out, empty, Tensor(xp.zeros((0,), dtype=x.array.dtype))
    axes = (0,) + tuple(range(2, x.ndim))
    mu, rstd = _mean_rstd(x.array, axes, eps)
    return out, Tensor(mu.reshape(-1)), Tensor(rstd.reshape(-1))


def native_group_norm(input, weight, bias, N: int, C: int, HxW: int, group: int, eps: float):  # noqa: A002
    """torch.native_group_norm: (out, mean, rstd) of group norm of x viewed as (N, C, HxW), the
    C channels split into ``group`` groups of C/group:

        μ_ng = mean over the group's channels and positions,  rstd_ng = 1/√(σ²_ng + ε)
        out = (x − μ_ng)·rstd_ng·γ_c + β_c

    mean and rstd are (N, group), and differentiable, as torch's."""
    x = _t(input)
    if x.array.size != N * C * HxW:
        raise RuntimeError(
            f"native_group_norm: expected input to hold N·C·HxW = {N}·{C}·{HxW} ="
            f" {N * C * HxW} elements, got shape {list(x.shape)} ({x.array.size} elements)"
        )
    if group <= 0 or C % group:
        raise RuntimeError(
            "Expected number of channels in input to be divisible by num_groups, but got input"
            f" of shape {list(x.shape)} and num_groups={group}"
        )
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and (t.ndim != 1 or t.shape[0] != C):
            raise RuntimeError(
                f"Expected {name} to be a vector of size equal to the number of channels in"
                f" input, but got {name} of shape {list(t.shape)} and input of shape"
                f" {list(x.shape)}"
            )
    xg = x.reshape(N, group, -1)
    mu = xg.mean(2, keepdim=True)
    xc = xg - mu
    var = (xc * xc).mean(2, keepdim=True)
    rstd = (var + eps).rsqrt()
    out = (xc * rstd).reshape(x.shape)
    shape = (1, C) + (1,) * max(x.ndim - 2, 0)
    if weight is not None:
        out = out * weight.reshape(shape)
    if bias is not None:
        out = out + bias.reshape(shape)
    return out, mu.reshape(N, group), rstd.reshape(N, group)


def native_dropout(input, p: float, train):  # noqa: A002
    """torch.native_dropout: (out, mask). Training (train True or None): keep each element
    with probability 1 − p,

        mask ~ Bernoulli(1 − p) (bool),   out = (x · mask) · 1/(1 − p)   (0 when p = 1)

    drawn from ember's generator. Eval (train False): out a copy of x, mask all True. The
    gradient reaches x through out (mask·scale in training, 1 in eval)."""
    x = _t(input)
    a = x.array
    if a.size == 0:
        return x, Tensor(xp.empty_like(a))
    if train is not None and not train:
        return x.clone(), Tensor(xp.ones(a.shape, dtype=bool))
    keep = 1.0 - p
    if not 0.0 <= keep <= 1.0:
        raise RuntimeError(f"bernoulli_ expects p to be in [0, 1], but got p={keep}")
    if a.dtype.kind not in "fc":
        raise RuntimeError(
            f"result type Float can't be cast to the desired output type {_torch_name(x)}"
        )
    with no_grad():
        mask = backend.default_generator.bernoulli_mask(keep, a.shape, bool)
    scale = 0.0 if keep == 0 else 1.0 / keep
    out = (x * Tensor(as_array(mask).astype(a.dtype))) * scale
    return out, Tensor(mask)
