"""Modules torch.nn has for 3-D data (and the lazy variants) that ember lacked: ConvTranspose3d,
AdaptiveMaxPool3d, MaxUnpool3d, LPPool3d, CircularPad3d, LazyConv3d, LazyConvTranspose3d,
LazyBatchNorm3d, LazyInstanceNorm1d/2d/3d; ``__all__`` lists them (ember.nn star-imports it).
"""

from __future__ import annotations

__all__: list[str] = []
