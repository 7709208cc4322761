"""torch's refusals of complex input, raised in the forward where the call is made.

Ops that need an order (max/min, amax/amin, maximum/minimum, sort/argsort/topk, clamp,
cummax/cummin, median, argmax/argmin) have no meaning for complex numbers, and torch does not
implement softmax/log_softmax for them either; ember refuses them as torch does (the same
exception class: NotImplementedError where torch raises it, a subclass of RuntimeError),
rather than computing NumPy's lexicographic order and failing later in backward. The same
holds for the ordering comparisons (<, <=, >, >=), kthvalue/mode/nanmedian, unique, searchsorted,
isin, the activations that compare x with 0 (relu, leaky_relu, elu, gelu, logsigmoid), the pools,
the rounding ops (floor/ceil/trunc/round/frac, remainder/fmod/floor_divide, ``PARTS``), the
real special functions torch has no complex kernel for, the piecewise activations (hardtanh,
hardsigmoid, hardswish, softplus, mish, threshold, the shrinks, prelu, rrelu, glu), the
dropouts while they draw a mask (``NOISE``), the classification and smooth losses, the
normalisations (layer/batch/instance/group norm), cdist/pdist/cosine_similarity, interpolate
and scaled_dot_product_attention. Kept apart from ops/complex.py, which imports the op modules
that call this.
"""

from __future__ import annotations

ORDER = "complex numbers have no order: compare z.abs(), z.real or z.imag instead"
NOISE = "torch has no complex Bernoulli draw: multiply z by a real mask instead"
PARTS = "apply it to the real and imaginary parts apart (z.real, z.imag) and recombine them"
REAL_ONLY = "torch has no complex kernel for it (SciPy's real special functions behind it)"


def refuse_mixed(op: str, x, **others) -> None:
    """torch's RuntimeError where a complex tensor meets a real one that must have x's dtype
    (lerp's end and weight): ``others`` maps each argument's name to a Tensor or None."""
    for name, t in others.items():
        a = getattr(t, "array", None)
        if a is not None and a.dtype != x.array.dtype and "c" in (a.dtype.kind, x.dtype.kind):
            raise RuntimeError(
                f"{op}(): expected dtype {x.dtype} for `{name}` but got dtype {a.dtype} (complex"
                " and real tensors do not mix here, as in torch)"
            )


def refuse_complex(x, op: str, error: type[Exception] = RuntimeError, why: str = ORDER) -> None:
    """Raise ``error`` naming ``op`` and the dtype when array ``x`` is complex."""
    if x.dtype.kind == "c":
        raise error(f"{op}(): does not support complex input (got {x.dtype}), as torch; {why}")
