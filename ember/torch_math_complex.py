"""torch's complex-number functions on ``ember.*``: real, imag, angle, conj_physical,
view_as_real, view_as_complex, complex and polar, all differentiable with torch's convention
(g_z = ∂L/∂x + i·∂L/∂y for z = x + iy; ops/complex.py).

    complex(x, y) = x + iy                 polar(r, θ) = r·cos θ + i·r·sin θ
    view_as_real(z)[..., 0] = Re z, [..., 1] = Im z   (copies here, views in torch)
"""

from __future__ import annotations

from .ops import complex as C
from .tensor import Tensor, apply
from .tensor_methods import _t


def _tensor(x) -> Tensor:
    return x if isinstance(x, Tensor) else Tensor(x)


def real(input) -> Tensor:  # noqa: A002 - torch's argument name
    """torch.real: the real part (the tensor itself when real)."""
    return _tensor(input).real


def imag(input) -> Tensor:  # noqa: A002
    """torch.imag: the imaginary part of a complex tensor."""
    return _tensor(input).imag


def angle(input) -> Tensor:  # noqa: A002
    """torch.angle: atan2(Im, Re) elementwise."""
    return _tensor(input).angle()


def conj_physical(input) -> Tensor:  # noqa: A002
    """torch.conj_physical: the conjugate."""
    return _tensor(input).conj()


def view_as_real(input) -> Tensor:  # noqa: A002
    """torch.view_as_real: a complex tensor as a real one with a last dim of 2 (Re, Im)."""
    z = _tensor(input)
    if z.array.dtype.kind != "c":
        raise RuntimeError("view_as_real is only supported for complex tensors")
    return apply(C.ViewAsReal, z)


def view_as_complex(input) -> Tensor:  # noqa: A002
    """torch.view_as_complex: a float tensor whose last dim is 2 read as complex numbers."""
    x = _tensor(input)
    if x.array.dtype.kind != "f":
        raise RuntimeError(
            f"view_as_complex is only supported for floating point tensors, got {x.dtype}"
        )
    return apply(C.ViewAsComplex, x)


def complex(real, imag) -> Tensor:  # noqa: A001 - torch's name
    """torch.complex: real + i·imag from two float tensors of one dtype."""
    x, y = _tensor(real), _tensor(imag)
    if x.array.dtype != y.array.dtype or x.array.dtype.kind != "f":
        raise RuntimeError(
            f"complex(): expected both inputs to be Float or Double tensors of one dtype, got"
            f" {x.dtype} and {y.dtype}"
        )
    return apply(C.Complex, x, y)


def polar(abs, angle) -> Tensor:  # noqa: A002 - torch's argument names
    """torch.polar: abs·(cos angle + i·sin angle)."""
    r = _tensor(abs)
    theta = _t(angle, r)
    return complex(r * theta.cos(), r * theta.sin())


__all__ = [
    "angle", "complex", "conj_physical", "imag", "polar", "real", "view_as_complex",
    "view_as_real",
]  # fmt: skip
