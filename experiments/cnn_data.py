"""Minimal local readers for the shared datasets (numpy + gzip), for the CNN experiments.

The project's loaders live in ``ember.data`` (the workflow branch); these few lines keep the
experiment scripts runnable on their own: MNIST/Fashion-MNIST IDX files and the MNIST-1D npz
from ``../shared/data`` (or $EMBER_SHARED_DATA).
"""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def shared_data() -> Path:
    env = os.environ.get("EMBER_SHARED_DATA")
    return Path(env) if env else ROOT.parent / "shared" / "data"


def _idx(path: Path) -> np.ndarray:
    raw = gzip.decompress(path.read_bytes())
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def load_idx_dataset(name: str):
    """(x_train, y_train, x_test, y_test): images (N, 1, 28, 28) float32 in [0, 1], labels int64."""
    d = shared_data() / name
    x_tr = _idx(d / "train-images-idx3-ubyte.gz").astype(np.float32)[:, None] / 255.0
    y_tr = _idx(d / "train-labels-idx1-ubyte.gz").astype(np.int64)
    x_te = _idx(d / "t10k-images-idx3-ubyte.gz").astype(np.float32)[:, None] / 255.0
    y_te = _idx(d / "t10k-labels-idx1-ubyte.gz").astype(np.int64)
    return x_tr, y_tr, x_te, y_te


def load_mnist1d():
    """(x, y, x_test, y_test): 4000 / 1000 signals of length 40 (float32) and labels."""
    with np.load(shared_data() / "mnist1d" / "mnist1d_data.npz", allow_pickle=False) as z:
        return (
            z["x"].astype(np.float32),
            z["y"].astype(np.int64),
            z["x_test"].astype(np.float32),
            z["y_test"].astype(np.int64),
        )
