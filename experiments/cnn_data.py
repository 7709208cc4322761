"""Where the experiment scripts find their data: the one thing ember.data does not decide.

The reading, the sha256 checks and the shape checks are ember.data's (``load_mnist``,
``load_fashion_mnist``, ``load_mnist1d``, each given ``root=data_root()``). ember.data has no
notion of the project's local copies in ``../shared/data`` beside the checkout: left to
itself it looks in its cache (``$EMBER_DATA``, default ``~/.cache/ember``) and downloads what
is missing. ``data_root`` points it at those copies instead, as the tests do.
"""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def data_root() -> Path | None:
    """The folder to pass ember.data's loaders as ``root=``, or None for ember.data's own cache.

    None where ``$EMBER_DATA`` is set (ember.data's own setting wins); otherwise
    ``$EMBER_SHARED_DATA`` or ``../shared/data`` beside the checkout if it exists (the
    project's local copies: no download), else None.
    """
    if os.environ.get("EMBER_DATA"):
        return None
    env = os.environ.get("EMBER_SHARED_DATA")
    shared = Path(env) if env else ROOT.parent / "shared" / "data"
    return shared if shared.is_dir() else None
