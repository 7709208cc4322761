"""torch's complex-number functions on ``ember.*``: real, imag, angle, conj_physical,
view_as_real, view_as_complex, complex and polar, all differentiable with torch's convention
(g_z = ∂L/∂x + i·∂L/∂y for z = x + iy; ops/complex.py).

    complex(x, y) = x + iy                 polar(r, θ) = r·cos θ + i·r·sin θ
    view_as_real(z)[..., 0] = Re z, [..., 1] = Im z   (copies here, views in torch)
"""

from __future__ import annotations

from .ops import complex as C
from .ops.elementwise import not_implemented_for
from .ops.index_put import broadcast_shape
from .tensor import Tensor, apply
from .tensor_aliases import require_tensor


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
    """torch.complex: real + i·imag from two float tensors of one dtype (broadcast)."""
    x, y = _operand("complex", real, "real", 1), _operand("complex", imag, "imag", 2)
    if x.array.dtype != y.array.dtype or x.array.dtype.kind != "f":
        raise RuntimeError(
            f"complex(): expected both inputs to be Float or Double tensors of one dtype, got"
            f" {x.dtype} and {y.dtype}"
        )
    broadcast_shape(x.shape, y.shape)  # torch's error, naming the last dims that clash
    return apply(C.Complex, x, y)


def polar(abs, angle) -> Tensor:  # noqa: A002 - torch's argument names
    """torch.polar: abs·(cos angle + i·sin angle), from two float32 or float64 tensors of one
    dtype (torch has no float16 kernel)."""
    r, theta = _operand("polar", abs, "abs", 1), _operand("polar", angle, "angle", 2)
    dr, dt = r.array.dtype, theta.array.dtype
    if dr.kind != "f" or dt.kind != "f":
        raise RuntimeError(
            f"Expected both inputs to be Half, Float or Double tensors but got {r.dtype} and"
            f" {theta.dtype}"
        )
    if dr != dt:
        raise RuntimeError(
            f"Expected object of scalar type {r.dtype} but got scalar type {theta.dtype} for"
            " second argument"
        )
    if dr.itemsize < 4:
        raise not_implemented_for("polar_cpu", dr)
    broadcast_shape(r.shape, theta.shape)
    # torch's backward sends abs Re(ḡ·sgn z), the gradient of |abs|·e^{iθ}: a negative abs
    # gets sign(abs) times the true derivative. |r| − (|r| − r) is r with that gradient.
    if r.requires_grad:
        r = r.abs() - (r.abs() - r).detach()
    return complex(r * theta.cos(), r * theta.sin())


def _operand(fn: str, value, name: str, position: int) -> Tensor:
    """A tensor argument, or torch's TypeError naming it (a number or list is refused)."""
    require_tensor(fn, value, name, position)
    return value


__all__ = [
    "angle", "complex", "conj_physical", "imag", "polar", "real", "view_as_complex",
    "view_as_real",
]  # fmt: skip
