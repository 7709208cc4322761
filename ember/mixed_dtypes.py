"""Products that refuse operands of different dtypes, as torch's do (matmul, mm, bmm, dot,
einsum, the bias of linear and conv): NumPy would promote float32 and float64 to a float64
result without a word, which hides a model fed float64 data, or an int tensor where a float one
was meant. A real operand with a complex one is ember's extension, kept. Inside an enabled
autocast region the op's policy casts the operands first, so mixed dtypes are let through
there, as the layers already do."""

from __future__ import annotations

from .errors import InputTypeError


def check_one_dtype(op: str, *operands) -> None:
    """Refuse ``operands`` (tensors or arrays) of more than one dtype, outside autocast."""
    first = operands[0].dtype
    if all(t.dtype == first for t in operands[1:]):
        return
    if any(t.dtype.kind == "c" for t in operands):  # ember's extension: a real operand of a
        return  # complex product is taken as complex (tests/test_complex_guard.py)
    from .amp.autocast_mode import autocast_active  # lazily: only a mismatch pays for it

    if autocast_active():
        return
    names = " and ".join(str(t.dtype) for t in operands)
    raise InputTypeError(
        f"{op}: expected operands of the same dtype, got {names} (convert one with"
        " .to(dtype); torch refuses mixed dtypes here too)"
    )
