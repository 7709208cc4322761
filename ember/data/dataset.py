"""Datasets: indexable collections of samples, with a batch path for arrays.

A ``Dataset`` answers ``len(ds)`` and ``ds[i]``. Datasets backed by arrays also answer
``ds.fetch(indices)``: a whole batch with one fancy-index per array, which is what the
DataLoader uses, so a batch of 128 MNIST images costs one gather rather than 128 Python calls.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence

import numpy

from ..backend import Generator, default_generator
from ..tensor import Tensor


class Dataset:
    """Base class: subclasses define ``__getitem__(i)`` and usually ``__len__()``. As in
    torch there is no default ``__len__``: ``len()`` of a dataset without one (an
    IterableDataset's stream, and a DataLoader over it) is Python's TypeError."""

    def __getitem__(self, index):  # pragma: no cover - abstract
        raise NotImplementedError(f"{type(self).__name__} has no __getitem__")


def _array_of(t) -> numpy.ndarray:
    if isinstance(t, Tensor):
        return t.array
    if hasattr(t, "detach") and hasattr(t, "numpy"):  # a torch tensor
        return t.detach().cpu().numpy()
    return numpy.asarray(t)


class TensorDataset(Dataset):
    """Samples are the i-th rows of equally long arrays: ``ds[i] = (x[i], y[i])``.

    Accepts ember Tensors, NumPy arrays or torch tensors; yields ember Tensors.
    """

    def __init__(self, *tensors) -> None:
        if not tensors:
            raise ValueError("TensorDataset needs at least one tensor")
        self.arrays = [_array_of(t) for t in tensors]
        n = len(self.arrays[0])
        lengths = [len(a) for a in self.arrays]
        if any(m != n for m in lengths):
            raise ValueError(
                f"TensorDataset: all tensors need the same first dimension, got {lengths}"
            )

    @property
    def tensors(self) -> tuple[Tensor, ...]:
        return tuple(Tensor(a) for a in self.arrays)

    def __len__(self) -> int:
        return len(self.arrays[0])

    def __getitem__(self, index):
        return tuple(Tensor(a[index]) for a in self.arrays)

    def fetch(self, indices) -> tuple[Tensor, ...]:
        """The batch at ``indices`` (an integer array or a slice): one gather per array."""
        return tuple(Tensor(a[indices]) for a in self.arrays)


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``, in that order."""

    def __init__(self, dataset: Dataset, indices: Sequence[int]) -> None:
        self.dataset = dataset
        self.indices = numpy.asarray(indices, dtype=numpy.int64)
        if self.indices.ndim != 1:
            raise ValueError(f"Subset indices must be 1-D, got shape {self.indices.shape}")
        # negative indices count from the end, as the dataset's own indexing (and torch's)
        n = len(dataset)
        if len(self.indices) and (self.indices.min() < -n or self.indices.max() >= n):
            raise IndexError(
                f"Subset indices must lie in [{-n}, {n}) for a dataset of {n} samples, got"
                f" [{self.indices.min()}, {self.indices.max()}]"
            )

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, index):
        return self.dataset[int(self.indices[index])]

    def fetch(self, indices):
        if not hasattr(self.dataset, "fetch"):
            return None
        return self.dataset.fetch(self.indices[indices])


def random_split(
    dataset: Dataset, lengths: Sequence[int | float], generator: Generator | None = None
) -> list[Subset]:
    """Split into non-overlapping Subsets of the given lengths, or of the given fractions of
    the dataset when they sum to 1 (torch's rule: floor(n·f) each, the remainder handed out
    round-robin from the first split)."""
    n = len(dataset)
    lengths = list(lengths)
    if math.isclose(sum(lengths), 1) and sum(lengths) <= 1:
        for i, f in enumerate(lengths):
            if not 0 <= f <= 1:
                raise ValueError(f"random_split: fraction at index {i} is not between 0 and 1,"
                                 f" got {f!r} in {lengths}")  # fmt: skip
        counts = [int(math.floor(n * f)) for f in lengths]
        for i in range(n - sum(counts)):
            counts[i % len(counts)] += 1
        for i, c in enumerate(counts):
            if c == 0:
                warnings.warn(f"Length of split at index {i} is 0. This might result in an empty"
                              " dataset.", stacklevel=2)  # fmt: skip
    else:
        for i, c in enumerate(lengths):
            if isinstance(c, bool) or int(c) != c or c < 0:
                raise ValueError(
                    f"random_split: lengths must be non-negative integers (or fractions summing"
                    f" to 1), got {c!r} at index {i} of {lengths}"
                )
        counts = [int(c) for c in lengths]
    if sum(counts) != n:
        raise ValueError(f"lengths {counts} sum to {sum(counts)}, the dataset has {n} samples")
    perm = (generator or default_generator).permutation(n)
    out, start = [], 0
    for c in counts:
        out.append(Subset(dataset, perm[start : start + c]))
        start += c
    return out
