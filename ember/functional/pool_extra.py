"""Functions torch.nn.functional has that ember lacked: fractional_max_pool2d/3d (and
_with_indices), the in-place activations relu_, elu_, selu_, celu_, leaky_relu_, hardtanh_,
rrelu_, threshold_, and the deprecated upsample, upsample_bilinear, upsample_nearest;
``__all__`` lists them (ember.functional star-imports it).
"""

from __future__ import annotations

__all__: list[str] = []
