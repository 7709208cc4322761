"""torch's refusals of complex input, raised in the forward where the call is made.

Ops that need an order (max/min, amax/amin, maximum/minimum, sort/argsort/topk, clamp,
cummax/cummin, median, argmax/argmin) have no meaning for complex numbers, and torch does not
implement softmax/log_softmax for them either; ember refuses them as torch does (the same
exception class: NotImplementedError where torch raises it, a subclass of RuntimeError),
rather than computing NumPy's lexicographic order and failing later in backward. The same
holds for the ordering comparisons (<, <=, >, >=), kthvalue/mode/nanmedian, unique, searchsorted,
isin, the activations that compare x with 0 (relu, leaky_relu, elu, gelu, logsigmoid), the pools,
the rounding ops (floor/ceil/trunc/round/frac, remainder/fmod/floor_divide, ``PARTS``) and the
real special functions torch has no complex kernel for. Kept apart from ops/complex.py, which
imports the op modules that call this.
"""

from __future__ import annotations

ORDER = "complex numbers have no order: compare z.abs(), z.real or z.imag instead"
PARTS = "apply it to the real and imaginary parts apart (z.real, z.imag) and recombine them"


def refuse_complex(x, op: str, error: type[Exception] = RuntimeError, why: str = ORDER) -> None:
    """Raise ``error`` naming ``op`` and the dtype when array ``x`` is complex."""
    if x.dtype.kind == "c":
        raise error(f"{op}(): does not support complex input (got {x.dtype}), as torch; {why}")
