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
