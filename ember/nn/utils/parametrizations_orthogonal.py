"""Orthogonal weights as a parametrization (torch.nn.utils.parametrizations.orthogonal).

An orthogonal recurrent matrix keeps ‖W_hh·h‖ = ‖h‖, so the product of Jacobians through time
neither shrinks nor grows from the weights alone: the remedy for vanishing and exploding
gradients that the seed's RNN section points at (Arjovsky et al. 2016; Lezcano-Casado &
Martínez-Rubio 2019). The weight Q (n × k, n ≥ k; a wide one is handled transposed) is made
from an unconstrained matrix X in one of three ways:

    A = tril(X) − tril(X)ᴴ                         a skew-symmetric A (Aᴴ = −A)
    matrix_exp:   Q = exp(A)                        exp of a skew matrix is orthogonal
    cayley:       Q = (I − A/2)⁻¹ (I + A/2)
    householder:  Q = H₁·H₂·…·H_k,  H_i = I − τ_i·v_i·v_iᴴ,  v_i from the columns of X below
                  the diagonal, τ_i = 2 / (1 + ‖v_i‖²)   (then each column times the sign
                  torch reads from X's diagonal, as an int: 0 or ±1)

so QᴴQ = I whatever X is, and gradient descent on X moves Q on the orthogonal group.
For a tall n × k weight the first k columns of the n × n map are taken (X padded with zero
columns first). With ``use_trivialization=True`` (the default, "dynamic trivialization") a
buffer ``base`` B holds the orthogonal matrix the weight started from and Q = B·map(X); the
original X then starts at −I, whose map is I (so Q starts at B). Assigning
``module.weight = Q₀`` goes through ``right_inverse``: B becomes Q₀ (made orthogonal by QR with
a non-negative diagonal if it is not; a tall one first completed with random columns).
"""

from __future__ import annotations

from ... import linalg
from ...creation import eye, randn, zeros
from ...function import no_grad
from ...functional.shape import cat
from ...tensor import Tensor
from ...tensor_torch_more2 import geqrf
from ...torch_misc import finfo
from ..module import Module
from .parametrize import register_parametrization

_MAPS = ("matrix_exp", "cayley", "householder")


def _is_orthogonal(Q: Tensor, eps: float | None = None) -> bool:
    """QᴴQ ≈ I within 10·ε of Q's dtype (torch's test)."""
    k = Q.shape[-1]
    eps = 10 * finfo(Q.dtype).eps if eps is None else eps
    return bool((Q.mH @ Q).isclose(eye(k, dtype=Q.dtype), atol=eps).all())


def _make_orthogonal(A: Tensor) -> Tensor:
    """The Q of A = QR (A tall) with diag(R) ≥ 0: Householder QR, then each column times the
    sign of R's diagonal entry."""
    X, tau = geqrf(A)
    Q = linalg.householder_product(X, tau)
    return Q * X.diagonal(dim1=-2, dim2=-1).sgn().unsqueeze(-2)


class _Orthogonal(Module):
    """The parametrization: X ↦ Q (see the module docstring)."""

    def __init__(self, weight: Tensor, orthogonal_map: str, *, use_trivialization=True) -> None:
        super().__init__()
        if weight.dtype.kind == "c" and orthogonal_map == "householder":
            raise ValueError("The householder parametrization does not support complex tensors.")
        self.shape = tuple(weight.shape)
        self.orthogonal_map = orthogonal_map
        self.trivialized = use_trivialization
        if use_trivialization:
            self.register_buffer("base", None)

    def forward(self, X: Tensor) -> Tensor:
        n, k = X.shape[-2], X.shape[-1]
        transposed = n < k
        if transposed:
            X, n, k = X.mT, k, n
        if self.orthogonal_map in ("matrix_exp", "cayley"):
            X = X.tril()
            if n != k:  # pad to square with zero columns: Q's first k columns are the weight
                X = cat([X, zeros(*X.shape[:-2], n, n - k, dtype=X.dtype)], dim=-1)
            A = X - X.mH  # skew-symmetric (skew-Hermitian)
            if self.orthogonal_map == "matrix_exp":
                Q = linalg.matrix_exp(A)
            else:  # Cayley: (I − A/2)⁻¹ (I + A/2)
                I = eye(n, dtype=A.dtype)  # noqa: E741 - the identity, as the equations write it
                Q = linalg.solve(I - 0.5 * A, I + 0.5 * A)
            if n != k:
                Q = Q[..., :k]
        else:
            A = X.tril(diagonal=-1)
            tau = 2.0 / (1.0 + (A * A).sum(dim=-2))
            Q = linalg.householder_product(A, tau)
            Q = Q * X.diagonal(dim1=-2, dim2=-1).int().unsqueeze(-2)
        if self.trivialized:
            Q = self.base @ Q
        return Q.mT if transposed else Q

    def right_inverse(self, Q: Tensor) -> Tensor:
        with no_grad():
            return self._right_inverse(Q)

    def _right_inverse(self, Q: Tensor) -> Tensor:
        if tuple(Q.shape) != self.shape:
            raise ValueError(
                f"Expected a matrix or batch of matrices of shape {self.shape}. Got a tensor of"
                f" shape {tuple(Q.shape)}."
            )
        Q_init = Q
        n, k = Q.shape[-2], Q.shape[-1]
        transpose = n < k
        if transpose:
            Q, n, k = Q.mT, k, n
        if not self.trivialized:
            if self.orthogonal_map in ("cayley", "matrix_exp"):
                raise NotImplementedError(
                    "It is not possible to assign to the matrix exponential or the Cayley"
                    " parametrizations when use_trivialization=False."
                )
            A, tau = geqrf(Q)
            d = A.diagonal(dim1=-2, dim2=-1)  # a view: the diagonal becomes its signs, and
            d.copy_(d.sgn() * (1 - 2 * (tau == 0.0).astype(d.dtype)))  # −sign where τ = 0
            return A.mT if transpose else A
        if n == k:
            Q = Q.clone() if _is_orthogonal(Q) else _make_orthogonal(Q)
        else:  # complete the k columns with random ones, then orthogonalise
            N = randn(*Q.shape[:-2], n, n - k, dtype=Q.dtype)
            Q = _make_orthogonal(cat([Q, N], dim=-1))
        self.base = Q
        neg_eye = zeros(*Q_init.shape, dtype=Q_init.dtype)  # −I: its map is I, so Q starts at B
        neg_eye.diagonal(dim1=-2, dim2=-1).fill_(-1.0)
        return neg_eye


def orthogonal(module: Module, name: str = "weight", orthogonal_map: str | None = None, *,
               use_trivialization: bool = True) -> Module:  # fmt: skip
    """Make ``module.<name>`` orthogonal (QᴴQ = I for a tall weight, QQᴴ = I for a wide one;
    a batch of matrices for more dimensions); see the module docstring for the maps.
    ``orthogonal_map`` defaults to "matrix_exp" for a square or complex weight, "householder"
    otherwise, as torch."""
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    if weight.ndim < 2:
        raise ValueError(
            f"Expected a matrix or batch of matrices. Got a tensor of {weight.ndim} dimensions."
        )
    if orthogonal_map is None:
        square = weight.shape[-2] == weight.shape[-1]
        orthogonal_map = "matrix_exp" if square or weight.dtype.kind == "c" else "householder"
    if orthogonal_map not in _MAPS:
        raise ValueError(
            'orthogonal_map has to be one of "matrix_exp", "cayley", "householder". Got:'
            f" {orthogonal_map}"
        )
    orth = _Orthogonal(weight, orthogonal_map, use_trivialization=use_trivialization)
    register_parametrization(module, name, orth, unsafe=True)
    return module
