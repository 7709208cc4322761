"""Error classes that are both what ember raised and what torch raises.

ember reports operands it cannot take (shapes that do not match, sizes out of range) as
ValueError; torch raises RuntimeError for the same mistakes. ``InputError`` is both, so code
written for torch (``except RuntimeError``) and code written for ember (``except
ValueError``) catch it alike. ``IndexInputError``, ``InputTypeError`` and ``InPlaceCastError``
do the same for ember's IndexError and TypeError; ``InputAssertionError`` pairs ember's
ValueError with the AssertionError of the checks torch makes with ``assert``
(nn.MultiheadAttention's shapes). The module sits on the bottom floor (it imports nothing),
so ops, functional and nn can all raise them.
"""

from __future__ import annotations


class InputError(ValueError, RuntimeError):
    """Operands an op cannot take (shapes, sizes or values out of range): ember's ValueError
    and torch's RuntimeError at once; the message says what was expected and what came."""


class InputAssertionError(ValueError, AssertionError):
    """Operands refused where torch checks them with ``assert`` (nn.MultiheadAttention's
    shapes, embed_dim not divisible by num_heads): torch's AssertionError, and ember's
    ValueError callers still catch it."""


class IndexInputError(IndexError, RuntimeError):
    """An index out of range where torch raises RuntimeError (gather, scatter, kthvalue):
    ember's IndexError and torch's RuntimeError at once."""


class InputTypeError(TypeError, RuntimeError):
    """An operand of a dtype the op cannot take where torch raises RuntimeError (float
    class indices, float embedding indices): ember's TypeError and torch's RuntimeError."""


class InPlaceCastError(RuntimeError, TypeError):
    """An in-place result that cannot be cast to the tensor's dtype (int64 += 0.5): torch's
    RuntimeError, and the TypeError ember raised before (either ``except`` catches it)."""


class KernelTypeError(NotImplementedError, TypeError):
    """A dtype an op has no kernel for where ember raised TypeError (hypot or logaddexp of
    integer tensors): torch's NotImplementedError ("hypot_cpu" not implemented for 'Long')
    and ember's TypeError at once."""
