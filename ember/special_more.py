"""torch.special's Bessel family, the scaled functions, ζ and the gamma family's remaining names
(ember.special re-exports them; the orthogonal polynomials are in special_polynomials.py):

    bessel_j0, bessel_j1 = J₀, J₁;  bessel_y0, bessel_y1 = Y₀, Y₁ (nan for x < 0, −∞ at 0)
    modified_bessel_i0/i1 = I₀, I₁;  modified_bessel_k0/k1 = K₀, K₁ (nan for x < 0, ∞ at 0)
    scaled_modified_bessel_k0/k1 = eˣ·K₀(x), eˣ·K₁(x);  airy_ai = Ai;  spherical_bessel_j0 = sin x/x
    i0, i1 = I₀, I₁;  i0e, i1e = e^{−|x|}·I₀(x), e^{−|x|}·I₁(x);  erfcx = e^{x²}·erfc(x)
    zeta(x, q) = Σ_{k≥0} (k + q)^{−x} (Hurwitz);  gammainc = P(a, x), gammaincc = Q(a, x)
    polygamma(n, x) = ψ⁽ⁿ⁾(x)

Gradients exactly where torch has them: i0, i1, i0e, i1e, erfcx, polygamma, zeta (in q;
∂/∂x raises NotImplementedError as torch), gammainc/gammaincc (in x; ∂/∂a raises). The
first group (bessel_*, modified_bessel_*, scaled_*, airy_ai, spherical_bessel_j0) has none in
torch: their outputs never require grad, here as there. dtypes as torch: integers and bools
compute in the default float, float32 stays float32; complex input and (except i0, i1, i0e,
i1e, polygamma, gammainc) float16 are refused with torch's NotImplementedError.
"""

from __future__ import annotations

import numbers

from .autograd_higher_special import BesselI1
from .backend import xp
from .function import broadcast_error
from .ops import special_bessel as SB
from .promotion import torch_dtype_name
from .tensor import Tensor, apply
from .tensor_methods import _floating
from .torch_aliases import result_type
from .torch_creation import get_default_dtype
from .torch_shape import _t as _as_tensor
from .torch_special_linalg import i0, igamma, igammac, polygamma  # i0, polygamma: torch's own

__all__ = [
    "airy_ai", "bessel_j0", "bessel_j1", "bessel_y0", "bessel_y1", "erfcx", "gammainc",
    "gammaincc", "i0", "i0e", "i1", "i1e", "modified_bessel_i0", "modified_bessel_i1",
    "modified_bessel_k0", "modified_bessel_k1", "polygamma", "scaled_modified_bessel_k0",
    "scaled_modified_bessel_k1", "spherical_bessel_j0", "zeta",
]  # fmt: skip


def refuse_dtype(name: str, dtype, half_ok: bool = False) -> None:
    """torch's NotImplementedError for the dtypes its kernel has no case for."""
    if dtype.kind == "c" or (dtype == xp.float16 and not half_ok):
        raise NotImplementedError(f"\"{name}_cpu\" not implemented for '{torch_dtype_name(dtype)}'")


def _input(name: str, input, half_ok: bool = False) -> Tensor:  # noqa: A002
    x = _floating(_as_tensor(input))
    refuse_dtype(name, x.array.dtype, half_ok)
    return x


def _plain(name: str, fn, input) -> Tensor:  # noqa: A002
    """fn on input's array, recorded nowhere: torch has no derivative for these."""
    return Tensor(fn(_input(name, input).array))


def bessel_j0(input) -> Tensor:  # noqa: A002 - torch's argument name
    """J₀(x) = (1/π)∫₀^π cos(x·sin θ) dθ, the Bessel function of the first kind of order 0."""
    return _plain("bessel_j0", lambda a: SB.bessel("j0", a), input)


def bessel_j1(input) -> Tensor:  # noqa: A002
    """J₁(x) = (1/π)∫₀^π cos(θ − x·sin θ) dθ; J₁ = −J₀′."""
    return _plain("bessel_j1", lambda a: SB.bessel("j1", a), input)


def bessel_y0(input) -> Tensor:  # noqa: A002
    """Y₀(x), the Bessel function of the second kind of order 0 (−∞ at 0, nan for x < 0)."""
    return _plain("bessel_y0", lambda a: SB.bessel("y0", a), input)


def bessel_y1(input) -> Tensor:  # noqa: A002
    """Y₁(x), the Bessel function of the second kind of order 1 (−∞ at 0, nan for x < 0)."""
    return _plain("bessel_y1", lambda a: SB.bessel("y1", a), input)


def modified_bessel_i0(input) -> Tensor:  # noqa: A002
    """I₀(x) = Σ_k (x/2)^{2k}/(k!)² (no gradient, unlike i0, as torch)."""
    return _plain("modified_bessel_i0", lambda a: SB.bessel("i0", a), input)


def modified_bessel_i1(input) -> Tensor:  # noqa: A002
    """I₁(x) = Σ_k (x/2)^{2k+1}/(k!·(k+1)!) (no gradient, unlike i1, as torch)."""
    return _plain("modified_bessel_i1", lambda a: SB.bessel("i1", a), input)


def modified_bessel_k0(input) -> Tensor:  # noqa: A002
    """K₀(x) = ∫₀^∞ e^{−x·cosh t} dt (∞ at 0, nan for x < 0)."""
    return _plain("modified_bessel_k0", lambda a: SB.bessel("k0", a), input)


def modified_bessel_k1(input) -> Tensor:  # noqa: A002
    """K₁(x) = ∫₀^∞ e^{−x·cosh t}·cosh t dt (∞ at 0, nan for x < 0)."""
    return _plain("modified_bessel_k1", lambda a: SB.bessel("k1", a), input)


def scaled_modified_bessel_k0(x) -> Tensor:  # x: torch's keyword name here (input elsewhere)
    """eˣ·K₀(x), finite where K₀ underflows."""
    return _plain("scaled_modified_bessel_k0", lambda a: SB.bessel("k0e", a), x)


def scaled_modified_bessel_k1(x) -> Tensor:  # x: torch's keyword name here (input elsewhere)
    """eˣ·K₁(x), finite where K₁ underflows."""
    return _plain("scaled_modified_bessel_k1", lambda a: SB.bessel("k1e", a), x)


def airy_ai(x) -> Tensor:  # x: torch's keyword name here (input elsewhere)
    """Ai(x), the Airy function: the solution of y″ = x·y that decays as x → +∞."""
    return _plain("airy_ai", SB.airy_ai, x)


def spherical_bessel_j0(x) -> Tensor:  # x: torch's keyword name here (input elsewhere)
    """j₀(x) = sin(x)/x, 1 at 0 and 0 at ±∞."""
    return _plain("spherical_bessel_j0", SB.spherical_j0, x)


def i1(input) -> Tensor:  # noqa: A002
    """I₁(x), the modified Bessel function of order 1;  ∂/∂x = I₀(x) − I₁(x)/x (½ at 0)."""
    return apply(BesselI1, _input("i1", input, half_ok=True))


def i0e(input) -> Tensor:  # noqa: A002
    """e^{−|x|}·I₀(x), finite where I₀ overflows;  ∂/∂x = i1e(x) − sgn(x)·i0e(x)."""
    return apply(SB.I0e, _input("i0e", input, half_ok=True))


def i1e(input) -> Tensor:  # noqa: A002
    """e^{−|x|}·I₁(x);  ∂/∂x = i0e(x) − i1e(x)·(sgn(x) + 1/x) (½ at 0)."""
    return apply(SB.I1e, _input("i1e", input, half_ok=True))


def erfcx(input) -> Tensor:  # noqa: A002
    """e^{x²}·erfc(x), the scaled complementary error function (finite for large x, where
    erfc underflows);  ∂/∂x = 2x·erfcx(x) − 2/√π."""
    return apply(SB.Erfcx, _input("erfcx", input))


def _common(name: str, a, b) -> tuple[Tensor, Tensor]:
    """Two operands (tensors or numbers, not both numbers) in torch's result dtype, integers
    promoted to the default float."""
    if not isinstance(a, Tensor) and not isinstance(b, Tensor):
        raise TypeError(
            f"special_{name}() received an invalid combination of arguments - got"
            f" ({type(a).__name__}, {type(b).__name__}), but expected one of: (Tensor, Tensor),"
            " (Number, Tensor), (Tensor, Number)"
        )
    for v in (a, b):
        if not isinstance(v, (Tensor, numbers.Number)):
            raise TypeError(f"special_{name}(): expected a Tensor or a number, got {type(v)}")
    if isinstance(a, Tensor) and isinstance(b, Tensor):
        try:  # torch's RuntimeError (InputError), not NumPy's ValueError from inside the kernel
            xp.broadcast_shapes(a.shape, b.shape)
        except ValueError:
            raise broadcast_error(f"special_{name}", (a, b)) from None
    dtype = xp.dtype(result_type(a, b))
    if dtype.kind not in "fc":
        dtype = xp.dtype(get_default_dtype())
    refuse_dtype(name, dtype)

    def cast(v):
        if not isinstance(v, Tensor):
            return Tensor(xp.asarray(v, dtype=dtype))
        return v if v.array.dtype == dtype else v.astype(dtype)

    return cast(a), cast(b)


def zeta(input, other) -> Tensor:  # noqa: A002
    """ζ(x, q) = Σ_{k≥0} (k + q)^{−x}, the Hurwitz zeta function (x = input, q = other):
    ∞ at x = 1, nan for x < 1, ∞ at q ∈ {0, −1, −2, …}, ζ(x, 1) = ζ(x) Riemann's. Broadcast;
    ∂/∂q = −x·ζ(x + 1, q); ∂/∂x is not implemented, as in torch."""
    x, q = _common("zeta", input, other)
    return apply(SB.Zeta, x, q)


def _tensor_args(name: str, input, other) -> None:  # noqa: A002
    for position, (arg, v) in enumerate((("input", input), ("other", other)), 1):
        if not isinstance(v, Tensor):
            raise TypeError(
                f"{name}(): argument '{arg}' (position {position}) must be Tensor, not"
                f" {type(v).__name__}"
            )


def gammainc(input, other) -> Tensor:  # noqa: A002
    """P(a, x) = γ(a, x)/Γ(a) = (1/Γ(a))∫₀ˣ t^{a−1}e^{−t} dt (a = input), torch.igamma;
    differentiable in x only, as torch."""
    _tensor_args("special_gammainc", input, other)
    return igamma(input, other)


def gammaincc(input, other) -> Tensor:  # noqa: A002
    """Q(a, x) = 1 − P(a, x) = Γ(a, x)/Γ(a) (a = input), torch.igammac; differentiable in x
    only, as torch."""
    _tensor_args("special_gammaincc", input, other)
    return igammac(input, other)
