"""torch.backends.cpu: the CPU's vector capability, as torch reports it."""

from __future__ import annotations

import functools


@functools.cache
def get_cpu_capability() -> str:
    """torch's name for the widest vector instructions this CPU has and NumPy's loops use:
    "AVX512", "AVX2", or "DEFAULT" (NumPy's own dispatch list says which it found)."""
    import numpy as np

    found = set()
    try:
        config = np.show_config(mode="dicts")  # NumPy ≥ 1.26
        simd = config.get("SIMD Extensions", {})
        found = {str(s).upper() for s in [*simd.get("baseline", []), *simd.get("found", [])]}
    except (TypeError, AttributeError):
        pass
    if "X86_V4" in found or any(s.startswith("AVX512") for s in found):
        return "AVX512"  # (NumPy 2 names the levels X86_V2/V3/V4: V4 is AVX-512, V3 AVX2)
    if "X86_V3" in found or "AVX2" in found:
        return "AVX2"
    return "DEFAULT"
