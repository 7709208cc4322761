"""ember.* functions for torch's further index and shape functions (index_put, masked_scatter, put,
take, select, movedim/moveaxis, diagflat, atleast_1d/2d/3d, column_stack, row_stack, hstack,
vstack, dstack), as torch's top-level functions; ``__all__`` lists them.
"""

from __future__ import annotations

__all__: list[str] = []
