"""torch's remaining top-level conveniences on ember.*: creation (empty_like, asarray …), dtype
and device queries, windows, RNG state, switches that ember accepts for torch code's sake,
and the in-place top-level forms; ``__all__`` lists them."""

from __future__ import annotations

__all__: list[str] = []
