"""ember.* functions for torch's scatter variants and the neural-network functions torch also
exposes at its top level (slice_scatter, select_scatter, diagonal_scatter, split_with_sizes,
index_reduce; torch.conv2d, torch.layer_norm, torch.dropout … with torch's own top-level
signatures), as torch's top-level functions; ``__all__`` lists them.
"""

from __future__ import annotations

__all__: list[str] = []
