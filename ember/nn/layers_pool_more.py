"""Modules torch.nn has that ember lacked: FractionalMaxPool2d, FractionalMaxPool3d,
AdaptiveLogSoftmaxWithLoss; ``__all__`` lists them (ember.nn star-imports it).
"""

from __future__ import annotations

__all__: list[str] = []
