"""torch's checks on the arguments of the random in-place fills (``Tensor.uniform_``,
``Tensor.normal_`` and nn.init's fills built on the same draws): NumPy would fill NaN or inf,
draw from [b, a], or take a negative std as its absolute value, without a word."""

from __future__ import annotations

from .backend import xp
from .errors import InputError
from .ops.elementwise import not_implemented_for
from .promotion import torch_dtype_name


def check_uniform_bounds(array, a: float, b: float) -> None:
    """torch's check_uniform_bounds for a fill of ``array`` (made even when it has no
    elements, as torch's): a floating or complex dtype, a and b within the (real part's)
    dtype's range, a ≤ b, and b − a representable."""
    if array.dtype.kind not in "fc":
        raise not_implemented_for("check_uniform_bounds", array.dtype)
    info = xp.finfo(array.dtype)  # a complex dtype's: its real part's
    name, top = torch_dtype_name(info.dtype), float(info.max)
    for value, which in ((a, "from"), (b, "to")):
        if not -top <= value <= top:
            raise InputError(f"{which} is out of bounds for {name}: expected within ±{top}")
    if a > b:
        raise InputError(
            f"uniform_ expects to return a [from, to) range, but found from={a} > to={b}"
        )
    if b - a > top:
        raise InputError(
            f"uniform_ expects to-from <= std::numeric_limits<{name}>::max(), but found to={b}"
            f" and from={a} which result in to-from to exceed the limit"
        )


def check_normal(array, std: float) -> None:
    """torch's normal_ checks: std ≥ 0 (NaN refused too), then a floating or complex dtype
    unless there is nothing to fill."""
    if not std >= 0.0:
        raise InputError(f"normal expects std >= 0.0, but found std {std}")
    if array.size and array.dtype.kind not in "fc":
        raise not_implemented_for("normal_kernel_cpu", array.dtype)


def check_bernoulli_p(p, array=None) -> None:
    """torch's checks of bernoulli_'s p: a number within [0, 1] (NaN refused); given the
    ``array`` to fill (once it is known to have elements: torch checks no further for an
    empty one), its dtype not complex, and an array p floating, expanding to the array's
    shape, every value within [0, 1]."""
    tensor_p = getattr(p, "ndim", 0) > 0  # a NumPy scalar or 0-d array is a number
    if not tensor_p and not 0 <= p <= 1:
        raise InputError(f"bernoulli_ expects p to be in [0, 1], but got p={p}")
    if array is None:
        return
    if array.dtype.kind == "c":
        kernel = "bernoulli_tensor_cpu_self_" if tensor_p else "bernoulli_scalar_cpu_"
        raise not_implemented_for(kernel, array.dtype)
    if not tensor_p:
        return
    shape = array.shape
    if p.dtype.kind != "f":
        raise not_implemented_for("bernoulli_tensor_cpu_p_", p.dtype)
    if p.ndim > len(shape) or any(m not in (1, n) for m, n in zip(p.shape[::-1], shape[::-1])):
        raise InputError(
            f"bernoulli_: p of shape {tuple(p.shape)} does not expand to self's shape"
            f" {tuple(shape)}"
        )
    if not bool(xp.all((p >= 0) & (p <= 1))):
        raise InputError(
            "bernoulli_ expects every probability in [0, 1] (torch: Expected p_in >= 0 &&"
            " p_in <= 1 to be true, but got false)"
        )
