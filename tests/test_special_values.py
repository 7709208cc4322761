"""Unary functions at IEEE's edges, as torch: nan, ±inf, ±0, subnormals, huge and small values.

Every Tensor method and function of ember.functional and ember.special that torch shares and
that takes one tensor is run on ``EDGES`` in float64 and float32; the values must agree
(relative 1e-12 / 1e-5, nan where torch's is nan, and the sign of a zero). The accepted
differences are in ``KNOWN``.
"""

from __future__ import annotations

import numpy as np
import pytest

import ember
import ember.functional as EF
from tests.test_parity_sweep import SKIP

EDGES = np.array([np.nan, np.inf, -np.inf, -0.0, 0.0, 1e-310, -1e-310, 1e300, -1e300, 0.5, -0.5,
                  1.0, -1.0, 3.0, -3.0, 88.0, -88.0, 710.0, -710.0])  # fmt: skip

#: name → why ember's value differs at an edge, accepted
KNOWN = {
    "relu": "relu(-0.0) is +0.0 (torch keeps -0.0)",
    "elu": "elu(-0.0) is +0.0 (torch: -0.0)", "celu": "the same", "selu": "the same",
    "erfinv": "erfinv(-0.0) is +0.0 (SciPy; torch: -0.0)",
    "nanmedian": "the median of a list holding -0.0 and 0.0 is +0.0 (torch: -0.0)",
    "argsort": "ties (float32's inf, 710 → inf) in another order (neither sort is stable)",
    "gelu": "float32 Φ to torch's absolute precision (4e-7 at -3); gelu(inf) = inf (torch: nan)",
    "airy_ai": "torch's Ai is off by up to 1e-4 relative below -2 (ember's is SciPy's)",
    "bessel_j0": "torch's J0 is off by 2e-11 relative at 3 (ember's is SciPy's)",
    "bessel_j1": "the same for J1", "bessel_y0": "the same for Y0", "bessel_y1": "the same for Y1",
    "bfloat16": "no bfloat16 in NumPy", "chalf": "no complex32 in NumPy",
    "half": "float16 rounding",
    "histogram": "bins of a range with inf", "unique": "nan counted once (torch: each nan apart)",
}  # fmt: skip


def _differs(got, want, dtype) -> bool:
    if got.shape != want.shape or got.dtype != want.dtype:
        return True
    if got.dtype.kind not in "fc":
        return not np.array_equal(got, want)
    tol = 1e-5 if dtype == "float32" else 1e-12
    close = np.isclose(got, want, rtol=tol, atol=0, equal_nan=True)
    if got.dtype.kind == "f":
        zeros = (got == 0) & (want == 0)
        close &= ~zeros | (np.signbit(got) == np.signbit(want))
    return not close.all()


def _names(a, b):
    return sorted(
        n for n in set(dir(a)) & set(dir(b))
        if not n.startswith("_") and not n.endswith("_") and n not in SKIP and n not in KNOWN
        and callable(getattr(a, n)) and callable(getattr(b, n))
    )  # fmt: skip


@pytest.mark.parametrize("where, fewest", [("method", 150), ("functional", 30), ("special", 50)])
def test_unary_functions_at_the_edges(torch, where, fewest):
    mods = {
        "method": (ember.Tensor, torch.Tensor),
        "functional": (EF, torch.nn.functional),
        "special": (ember.special, torch.special),
    }[where]
    compared, differ = 0, []
    for name in _names(*mods):
        for dtype in ("float64", "float32"):
            out = []
            for lib, mod in zip((ember, torch), mods):
                try:
                    with np.errstate(all="ignore"):
                        y = getattr(mod, name)(lib.tensor(EDGES.astype(dtype)))
                except Exception:  # noqa: BLE001 - takes more than one tensor, or refuses
                    y = None
                out.append(y.detach().numpy() if isinstance(y, lib.Tensor) else None)
            if any(o is None for o in out):
                continue
            compared += 1
            if _differs(*out, dtype):
                differ.append(f"{name} ({dtype})")
    assert compared >= fewest, compared
    assert not differ, ", ".join(differ)
