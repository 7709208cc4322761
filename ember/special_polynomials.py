"""torch.special's classical orthogonal polynomials p_n(x) (ember.special re-exports them):

    chebyshev_polynomial_t/u/v/w(x, n)      T_n, U_n, V_n, W_n: the four Chebyshev kinds,
        T_{k+1} = 2x·T_k − T_{k−1} (all four), T_1 = x, U_1 = 2x, V_1 = 2x − 1, W_1 = 2x + 1;
        T_n(cos θ) = cos nθ, U_n(cos θ) = sin((n+1)θ)/sin θ
    shifted_chebyshev_polynomial_t/u/v/w    p*_n(x) = p_n(2x − 1), orthogonal on [0, 1]
    hermite_polynomial_h(x, n)              H_{k+1} = 2x·H_k − 2k·H_{k−1}   (physicists')
    hermite_polynomial_he(x, n)             He_{k+1} = x·He_k − k·He_{k−1}  (probabilists')
    laguerre_polynomial_l(x, n)             (k+1)·L_{k+1} = (2k + 1 − x)·L_k − k·L_{k−1}
    legendre_polynomial_p(x, n)             (k+1)·P_{k+1} = (2k + 1)·x·P_k − k·P_{k−1}

Arguments as torch's: ``x`` and ``n`` (its keyword names; its docs say ``input``) are tensors
or numbers (not both numbers), broadcast; the result has torch's dtype for the pair (integers
→ the default float, float32 stays float32; float16 and complex are refused). n is truncated
toward zero (2.7 → 2, −0.5 → 0); n < 0, nan or ±∞ give 0. Any x is taken (|x| > 1 and x
outside [0, 1] run the recurrence; large n may overflow to ±∞ or nan, as torch). Hermite's
are nan past n = 128 (float32) or 512 (float64), torch's limit. No gradients: torch has none
(the outputs never require grad). Evaluated in ops/special_polynomials.py.
"""

from __future__ import annotations

from .ops import special_polynomials as SP
from .special_more import _common
from .tensor import Tensor

__all__ = [
    "chebyshev_polynomial_t", "chebyshev_polynomial_u", "chebyshev_polynomial_v",
    "chebyshev_polynomial_w", "hermite_polynomial_h", "hermite_polynomial_he",
    "laguerre_polynomial_l", "legendre_polynomial_p", "shifted_chebyshev_polynomial_t",
    "shifted_chebyshev_polynomial_u", "shifted_chebyshev_polynomial_v",
    "shifted_chebyshev_polynomial_w",
]  # fmt: skip


def _polynomial(name: str, fn, input, n) -> Tensor:  # noqa: A002
    x, n = _common(name, input, n)
    return Tensor(fn(x.array, n.array))  # recorded nowhere: torch has no derivative here


def chebyshev_polynomial_t(x, n) -> Tensor:
    """T_n(x), the Chebyshev polynomial of the first kind: T_n(cos θ) = cos nθ."""
    return _polynomial("chebyshev_polynomial_t", SP.chebyshev_t, x, n)


def chebyshev_polynomial_u(x, n) -> Tensor:
    """U_n(x), the second kind: U_n(cos θ) = sin((n + 1)θ)/sin θ."""
    return _polynomial("chebyshev_polynomial_u", SP.chebyshev_u, x, n)


def chebyshev_polynomial_v(x, n) -> Tensor:
    """V_n(x), the third kind: V_n(cos θ) = cos((n + ½)θ)/cos(θ/2)."""
    return _polynomial("chebyshev_polynomial_v", SP.chebyshev_v, x, n)


def chebyshev_polynomial_w(x, n) -> Tensor:
    """W_n(x), the fourth kind: W_n(cos θ) = sin((n + ½)θ)/sin(θ/2)."""
    return _polynomial("chebyshev_polynomial_w", SP.chebyshev_w, x, n)


def shifted_chebyshev_polynomial_t(x, n) -> Tensor:
    """T*_n(x) = T_n(2x − 1), the first kind shifted to [0, 1]."""
    return _polynomial("shifted_chebyshev_polynomial_t", SP.shifted_chebyshev_t, x, n)


def shifted_chebyshev_polynomial_u(x, n) -> Tensor:
    """U*_n(x) = U_n(2x − 1)."""
    return _polynomial("shifted_chebyshev_polynomial_u", SP.shifted_chebyshev_u, x, n)


def shifted_chebyshev_polynomial_v(x, n) -> Tensor:
    """V*_n(x) = V_n(2x − 1)."""
    return _polynomial("shifted_chebyshev_polynomial_v", SP.shifted_chebyshev_v, x, n)


def shifted_chebyshev_polynomial_w(x, n) -> Tensor:
    """W*_n(x) = W_n(2x − 1)."""
    return _polynomial("shifted_chebyshev_polynomial_w", SP.shifted_chebyshev_w, x, n)


def hermite_polynomial_h(x, n) -> Tensor:
    """H_n(x), the physicists' Hermite polynomial (weight e^{−x²}): H_2 = 4x² − 2."""
    return _polynomial("hermite_polynomial_h", SP.hermite_h, x, n)


def hermite_polynomial_he(x, n) -> Tensor:
    """He_n(x), the probabilists' Hermite polynomial (weight e^{−x²/2}): He_2 = x² − 1."""
    return _polynomial("hermite_polynomial_he", SP.hermite_he, x, n)


def laguerre_polynomial_l(x, n) -> Tensor:
    """L_n(x), the Laguerre polynomial (weight e^{−x} on [0, ∞)): L_2 = (x² − 4x + 2)/2."""
    return _polynomial("laguerre_polynomial_l", SP.laguerre_l, x, n)


def legendre_polynomial_p(x, n) -> Tensor:
    """P_n(x), the Legendre polynomial (weight 1 on [−1, 1]): P_2 = (3x² − 1)/2."""
    return _polynomial("legendre_polynomial_p", SP.legendre_p, x, n)
