"""More dataset combinators, as torch.utils.data's: ConcatDataset, IterableDataset, ChainDataset.

DataLoader indexes map-style datasets (``len`` and ``ds[i]``) in the order of its sampler
(sampler.py); an IterableDataset it iterates, batching the stream as it comes.
"""

from __future__ import annotations

import abc
import bisect
import collections.abc
import functools
import itertools
import warnings
from collections.abc import Iterable, Iterator

import numpy

from ..backend import to_numpy
from ..errors import InputAssertionError, InputError
from ..promotion import promote_types
from ..tensor import Tensor
from .dataset import Dataset
from .errors import DatasetKindError, NotIndexableError


class ConcatDataset(Dataset):
    """The samples of several datasets one after another: index i falls in the dataset k with
    cumulative_sizes[k-1] ≤ i < cumulative_sizes[k], at local index i − cumulative_sizes[k-1].
    """

    def __init__(self, datasets: Iterable[Dataset]) -> None:
        self.datasets = list(datasets)
        if not self.datasets:  # torch's asserts
            raise InputAssertionError("datasets should not be an empty iterable")
        for d in self.datasets:
            if isinstance(d, IterableDataset):
                raise DatasetKindError("ConcatDataset does not support IterableDataset")
        self.cumulative_sizes = self.cumsum(self.datasets)

    @staticmethod
    def cumsum(sequence) -> list[int]:
        """The running total of the lengths: ``[len(a), len(a) + len(b), …]`` (torch's)."""
        return list(itertools.accumulate(len(d) for d in sequence))

    def __len__(self) -> int:
        return self.cumulative_sizes[-1]

    @property
    def cummulative_sizes(self) -> list[int]:
        """torch's old misspelt name of ``cumulative_sizes``, with its FutureWarning."""
        warnings.warn("`cummulative_sizes` attribute is renamed to `cumulative_sizes`",
                      FutureWarning, stacklevel=2)  # fmt: skip
        return self.cumulative_sizes

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
        k, local = self._locate(index)  # as given: the part's own indexing judges its type
        return self.datasets[k][local]

    def fetch(self, indices):
        """The batch at ``indices`` (an integer array or a slice) from the parts' own batch
        fetches, as torch's default_collate would stack the samples: negative indices count
        from the end, the dtype is torch's promotion of the dtypes of the parts the batch
        touches (an int64 part with a float32 one gives float32), and parts whose samples
        differ in shape are torch's RuntimeError. None where a part cannot fetch tensors or an
        index is out of range (the DataLoader then indexes sample by sample)."""
        if not all(hasattr(d, "fetch") for d in self.datasets):
            return None
        n = len(self)
        if isinstance(indices, slice):
            indices = numpy.arange(*indices.indices(n))
        indices = numpy.asarray(indices, dtype=numpy.int64)
        if not len(indices) or indices.min() < -n or indices.max() >= n:
            return None  # ds[i] raises the error of the index out of range
        indices = numpy.where(indices < 0, indices + n, indices)
        bounds = numpy.asarray(self.cumulative_sizes)
        which = numpy.searchsorted(bounds, indices, side="right")
        parts = []  # (mask, fetched part) for each part the batch touches
        for k in numpy.unique(which).tolist():
            mask = which == k
            part = self.datasets[k].fetch(indices[mask] - (bounds[k - 1] if k else 0))
            if not isinstance(part, tuple) or not all(isinstance(p, Tensor) for p in part):
                return None
            parts.append((mask, part))
        if len({len(part) for _, part in parts}) > 1:
            return None  # default_collate raises torch's "equal size" error for the samples
        if len(parts) == 1:
            return parts[0][1]  # the part's own fetch is a fresh batch already
        if any(t.requires_grad for _, part in parts for t in part):
            return None  # merged as arrays it would leave the graph: stacked sample by sample
        return tuple(_merged([(m, p[c].array) for m, p in parts]) for c in range(len(parts[0][1])))


def _merged(pieces: list) -> Tensor:
    """One column of a batch gathered from several parts: ``pieces`` are (mask of the batch
    positions, that part's rows), written into one array of torch's stacked dtype."""
    first = {}  # each sample shape: the first batch position holding one
    for m, a in pieces:
        shape, at = tuple(a.shape[1:]), int(m.argmax())
        first[shape] = min(at, first.get(shape, at))
    if len(first) > 1:  # torch names the first sample and the first that differs from it
        (shape0, _), (shape_j, j) = sorted(first.items(), key=lambda kv: kv[1])[:2]
        raise InputError(
            f"stack expects each tensor to be equal size, but got {list(shape0)} at entry 0 and"
            f" {list(shape_j)} at entry {j}"
        )
    shape = next(iter(first))
    dtype = functools.reduce(promote_types, {a.dtype for _, a in pieces})
    out = numpy.empty((len(pieces[0][0]), *shape), dtype)
    for m, a in pieces:
        out[m] = to_numpy(a)  # cast into the promoted dtype as it is written
    return Tensor(out)


class IterableDataset(Dataset, collections.abc.Iterable):
    """A stream of samples: subclasses define ``__iter__`` (no indexing, no length needed).
    As torch's it is an abstract Iterable: a subclass without ``__iter__`` cannot be made."""

    @abc.abstractmethod
    def __iter__(self) -> Iterator:  # pragma: no cover - abstract
        raise NotImplementedError(f"{type(self).__name__} has no __iter__")

    def __getitem__(self, index):  # torch's Dataset.__getitem__: NotImplementedError
        raise NotIndexableError(
            f"{type(self).__name__} is an IterableDataset: iterate it, not index it"
        )

    def __add__(self, other: IterableDataset) -> ChainDataset:
        return ChainDataset([self, other])


class ChainDataset(IterableDataset):
    """Several IterableDatasets one after another, lazily."""

    def __init__(self, datasets: Iterable[IterableDataset]) -> None:
        self.datasets = list(datasets)

    def __iter__(self) -> Iterator:
        for d in self.datasets:
            if not isinstance(d, IterableDataset):
                raise DatasetKindError("ChainDataset only supports IterableDataset")
            yield from d

    def __len__(self) -> int:
        total = 0
        for d in self.datasets:
            if not isinstance(d, IterableDataset):
                raise DatasetKindError("ChainDataset only supports IterableDataset")
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
            # a part's tuple sample collates into a list, as torch's default_collate makes it
            batches.append(list(batch) if type(batch) is tuple else batch)
        return self._pack(batches)
