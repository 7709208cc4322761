"""More dataset combinators, as torch.utils.data's: ConcatDataset, IterableDataset, ChainDataset.

DataLoader indexes map-style datasets (``len`` and ``ds[i]``) in the order of its sampler
(sampler.py); an IterableDataset it iterates, batching the stream as it comes.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Iterator

import numpy

from ..backend import to_numpy
from ..tensor import Tensor
from .dataset import Dataset


class ConcatDataset(Dataset):
    """The samples of several datasets one after another: index i falls in the dataset k with
    cumulative_sizes[k-1] ≤ i < cumulative_sizes[k], at local index i − cumulative_sizes[k-1].
    """

    def __init__(self, datasets: Iterable[Dataset]) -> None:
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("datasets should not be an empty iterable")
        for d in self.datasets:
            if isinstance(d, IterableDataset):
                raise TypeError("ConcatDataset does not support IterableDataset")
        self.cumulative_sizes = numpy.cumsum([len(d) for d in self.datasets]).tolist()

    def __len__(self) -> int:
        return self.cumulative_sizes[-1]

    def _locate(self, index: int) -> tuple[int, int]:
        n = len(self)
        if index < 0:
            if -index > n:
                raise ValueError("absolute value of index should not exceed dataset length")
            index += n
        if index >= n:
            raise IndexError(f"index {index} is out of range for a dataset of {n} samples")
        k = bisect.bisect_right(self.cumulative_sizes, index)
        return k, index - (self.cumulative_sizes[k - 1] if k else 0)

    def __getitem__(self, index):
        k, local = self._locate(int(index))
        return self.datasets[k][local]

    def fetch(self, indices):
        """A whole batch when every part can fetch one and returns tensors; else None (the
        DataLoader then indexes sample by sample)."""
        if not all(hasattr(d, "fetch") for d in self.datasets):
            return None
        if isinstance(indices, slice):
            indices = numpy.arange(*indices.indices(len(self)))
        indices = numpy.asarray(indices, dtype=numpy.int64)
        bounds = numpy.asarray(self.cumulative_sizes)
        which = numpy.searchsorted(bounds, indices, side="right")
        starts = numpy.concatenate([[0], bounds[:-1]])
        out = None
        for k in numpy.unique(which):
            mask = which == k
            part = self.datasets[k].fetch(indices[mask] - starts[k])
            if not isinstance(part, tuple) or not all(isinstance(p, Tensor) for p in part):
                return None
            if out is None:
                out = [
                    numpy.empty((len(indices),) + p.array.shape[1:], p.array.dtype) for p in part
                ]
            if len(part) != len(out):
                return None
            for o, p in zip(out, part):
                o[mask] = to_numpy(p.array)
        return tuple(Tensor(o) for o in out)


class IterableDataset(Dataset):
    """A stream of samples: subclasses define ``__iter__`` (no indexing, no length needed)."""

    def __iter__(self) -> Iterator:  # pragma: no cover - abstract
        raise NotImplementedError(f"{type(self).__name__} has no __iter__")

    def __getitem__(self, index):
        raise TypeError(f"{type(self).__name__} is an IterableDataset: iterate it, not index it")

    def __add__(self, other: IterableDataset) -> ChainDataset:
        return ChainDataset([self, other])


class ChainDataset(IterableDataset):
    """Several IterableDatasets one after another, lazily."""

    def __init__(self, datasets: Iterable[IterableDataset]) -> None:
        self.datasets = list(datasets)

    def __iter__(self) -> Iterator:
        for d in self.datasets:
            if not isinstance(d, IterableDataset):
                raise TypeError("ChainDataset only supports IterableDataset")
            yield from d

    def __len__(self) -> int:
        total = 0
        for d in self.datasets:
            if not isinstance(d, IterableDataset):
                raise TypeError("ChainDataset only supports IterableDataset")
            total += len(d)
        return total


class StackDataset(Dataset):
    """torch.utils.data.StackDataset: several datasets of one length side by side; item i is
    ``(a[i], b[i], ...)`` for ``StackDataset(a, b)`` or ``{"image": a[i], ...}`` for
    ``StackDataset(image=a, ...)``. A batch is fetched from each part in one call where every
    part can (``fetch``, ``__getitems__``), so stacking TensorDatasets stays vectorised."""

    def __init__(self, *args: Dataset, **kwargs: Dataset) -> None:
        if args and kwargs:
            raise ValueError(
                "Supported either ``tuple``- (via ``args``) or``dict``- (via ``kwargs``) like"
                " input/output, but both types are given."
            )
        if not args and not kwargs:
            raise ValueError("At least one dataset should be passed")
        parts = list(args) if args else list(kwargs.values())
        self._length = len(parts[0])
        if any(len(d) != self._length for d in parts):
            sizes = [len(d) for d in parts]
            raise ValueError(f"Size mismatch between datasets: lengths {sizes}")
        self.datasets = tuple(args) if args else dict(kwargs)

    def __len__(self) -> int:
        return self._length

    def _pack(self, values: list):
        if isinstance(self.datasets, dict):
            return dict(zip(self.datasets, values))
        return tuple(values)

    def __getitem__(self, index):
        parts = self.datasets.values() if isinstance(self.datasets, dict) else self.datasets
        return self._pack([d[index] for d in parts])

    def __getitems__(self, indices: list) -> list:
        parts = self.datasets.values() if isinstance(self.datasets, dict) else self.datasets
        columns = []
        for d in parts:
            items = d.__getitems__(indices) if hasattr(d, "__getitems__") else None
            items = items if items is not None else [d[i] for i in indices]
            if len(items) != len(indices):
                raise ValueError(
                    f"Nested dataset's output size mismatch. Expected {len(indices)},"
                    f" got {len(items)}"
                )
            columns.append(items)
        return [self._pack(list(row)) for row in zip(*columns)]

    def fetch(self, indices):
        """The collated batch, when every part fetches its own batch in one call."""
        parts = self.datasets.values() if isinstance(self.datasets, dict) else self.datasets
        batches = []
        for d in parts:
            batch = d.fetch(indices) if hasattr(d, "fetch") else None
            if batch is None:
                return None
            batches.append(batch)
        return self._pack(batches)
