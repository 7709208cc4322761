"""Rounding and sign as Tensor methods: round, floor, ceil, trunc, frac, sign.

torch gives the step functions gradient 0 (they are recorded, and send zeros back), which
``_constant`` reproduces: Where(False, self, value) is ``value`` in the forward and sends
exactly 0 to self. While an observer watches (the ONNX tracer), each runs as its op of
ops/rounding.py instead, recorded with the same zero gradient, so that a value a model rounds
from its input is computed in the graph; otherwise the array is computed directly, as before.

``Tensor``, ``apply`` and ``as_array`` are bound as this module's globals by tensor.py.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .backend import xp
from .function import is_grad_enabled, observers
from .ops import rounding as R
from .ops.complex_refuse import PARTS, refuse_complex
from .ops.elementwise import not_implemented_for
from .ops.step_value import StepValue
from .tensor_torch_logic import TorchLogicMethods

if TYPE_CHECKING:  # bound at import time by tensor.py
    from .tensor import Tensor, apply, as_array  # noqa: F401


def _rounded(t, name: str, cls, f) -> Tensor:
    """f(t) with gradient 0 (the op ``cls`` while an observer watches). torch rounds integers
    to themselves, in their own dtype (NumPy's floor makes float64), and refuses complex and
    bool tensors (NotImplementedError, as its kernels)."""
    kind = t.array.dtype.kind
    if kind in "bc":
        if kind == "b":
            raise not_implemented_for(f"{name}_vml_cpu", t.array.dtype)
        refuse_complex(t.array, name, NotImplementedError, PARTS)
    if observers:  # the op, which the ONNX tracer sees; recorded with gradient 0
        return apply(cls, t)
    return t._constant(f(t.array) if kind == "f" else t.array.copy())


class RoundingTensorMethods(TorchLogicMethods):
    """round, floor, ceil, trunc, frac and sign, with torch's gradient 0 (frac: 1)."""

    __slots__ = ()

    def _constant(self, value) -> Tensor:
        """``value`` with gradient exactly 0 to self, as torch's derivative of step functions
        (a node that keeps no values: a second backward runs it again)."""
        if self.requires_grad and is_grad_enabled():
            return apply(StepValue, self, value=value)
        return Tensor(value)

    def sign(self) -> Tensor:
        """-1, 0 or 1 (0 at NaN, as torch; a bool tensor is its own sign) (gradient 0); complex
        input is refused as torch does (use sgn)."""
        refuse_complex(self.array, "sign", NotImplementedError, "use sgn(z) = z/|z| instead")
        if observers:  # the op, which the ONNX tracer sees; recorded with gradient 0
            return apply(R.Sign, self)
        return self._constant(R.sign_array(self.array))

    def round(self, decimals: int | None = None) -> Tensor:
        """Round half to even, to ``decimals`` places (gradient 0). As torch: an integer tensor
        rounds to itself, but not with ``decimals`` given (even 0), and a bool one never
        (NotImplementedError, as its kernels)."""
        if isinstance(decimals, (bool, float)):  # torch's parser: an int only, before the dtype
            raise TypeError(
                f"round(): argument 'decimals' must be int, not {type(decimals).__name__}"
            )
        refuse_complex(self.array, "round", NotImplementedError, PARTS)
        kind = self.array.dtype.kind
        if kind == "b" or (kind in "iu" and decimals is not None):
            kernel = "round_cpu" if decimals else "round_vml_cpu"
            raise not_implemented_for(kernel, self.array.dtype)
        decimals = 0 if decimals is None else int(decimals)
        if observers:
            return apply(R.Round, self, decimals=decimals)
        return self._constant(R.round_array(self.array, decimals))

    def floor(self) -> Tensor:
        """Largest integer ≤ self (gradient 0)."""
        return _rounded(self, "floor", R.Floor, xp.floor)

    def ceil(self) -> Tensor:
        """Smallest integer ≥ self (gradient 0)."""
        return _rounded(self, "ceil", R.Ceil, xp.ceil)

    def trunc(self) -> Tensor:
        """Round toward zero (gradient 0)."""
        return _rounded(self, "trunc", R.Trunc, xp.trunc)

    def frac(self) -> Tensor:
        """self - trunc(self) (gradient 1); as torch, of a floating tensor only (bool and integer
        tensors: NotImplementedError, as its kernel)."""
        if self.array.dtype.kind in "biu":
            raise not_implemented_for("frac_cpu", self.array.dtype)
        refuse_complex(self.array, "frac", NotImplementedError, PARTS)
        return self - self.trunc()
