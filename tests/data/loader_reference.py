"""Shared pieces of the DataLoader tests: small datasets, a Python-level dataset, helpers."""

from __future__ import annotations

import threading
import time

import numpy as np

import ember
from ember.data import Dataset, TensorDataset


def gen(seed=0):
    return ember.Generator().manual_seed(seed)


def data(n=10):
    return TensorDataset(np.arange(n * 2, dtype=np.float32).reshape(n, 2), np.arange(n))


def labels(loader):
    return [b[1].array.tolist() for b in loader]


class Plain(Dataset):
    """Samples made in Python, one __getitem__ each (no batch fetch)."""

    def __init__(self, n=23, fail_at=None, delay=0.0):
        self.n, self.fail_at, self.delay = n, fail_at, delay

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        if i == self.fail_at:
            raise KeyError(f"sample {i} is broken")
        time.sleep(self.delay)
        return {"x": np.full(3, i, np.float32), "y": i}


def loader_threads():
    return [t for t in threading.enumerate() if t.name.startswith("ember-DataLoader-worker")]
