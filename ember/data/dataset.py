"""Datasets: indexable collections of samples, with a batch path for arrays.

A ``Dataset`` answers ``len(ds)`` and ``ds[i]``. Datasets backed by arrays also answer
``ds.fetch(indices)``: a whole batch with one fancy-index per array, which is what the
DataLoader uses, so a batch of 128 MNIST images costs one gather rather than 128 Python calls.
A fetched batch is the caller's own (fresh arrays, as torch's default_collate stacks copies):
writing into it never writes into the dataset.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence

import numpy

from ..backend import Generator, generator_or_default, to_numpy
from ..errors import InputAssertionError
from ..function import is_grad_enabled
from ..tensor import Tensor
from .errors import NoSampleDimError


class Dataset:
    """Base class: subclasses define ``__getitem__(i)`` and usually ``__len__()``. As in
    torch there is no default ``__len__``: ``len()`` of a dataset without one (an
    IterableDataset's stream, and a DataLoader over it) is Python's TypeError."""

    def __getitem__(self, index):  # pragma: no cover - abstract
        raise NotImplementedError(f"{type(self).__name__} has no __getitem__")

    def __add__(self, other: Dataset):
        """``a + b``: the samples of ``a`` then those of ``b`` (a ConcatDataset), as torch."""
        from .datasets_more import ConcatDataset  # the floor beside this one, imported on use

        return ConcatDataset([self, other])


def _array_of(t) -> numpy.ndarray:
    if isinstance(t, Tensor):
        return t.array
    if hasattr(t, "detach") and hasattr(t, "numpy"):  # a torch tensor
        return t.detach().cpu().numpy()
    return numpy.asarray(t)


class TensorDataset(Dataset):
    """Samples are the i-th rows of equally long arrays: ``ds[i] = (x[i], y[i])``.

    Accepts ember Tensors, NumPy arrays or torch tensors; yields ember Tensors. As in torch
    the ember Tensors given are kept (``ds.tensors`` are they), and one that requires grad
    is indexed as a Tensor, so its samples and batches stay in its graph.
    """

    def __init__(self, *tensors) -> None:
        if not tensors:
            raise NoSampleDimError("TensorDataset needs at least one tensor")
        self.arrays = [_array_of(t) for t in tensors]
        self._given = tuple(t if isinstance(t, Tensor) else None for t in tensors)
        for k, a in enumerate(self.arrays):
            if a.ndim == 0:
                raise NoSampleDimError(
                    f"TensorDataset: tensor {k} is 0-d, it has no first dimension to hold samples"
                )
        n = len(self.arrays[0])
        lengths = [len(a) for a in self.arrays]
        if any(m != n for m in lengths):  # torch's assert
            raise InputAssertionError(
                f"Size mismatch between tensors: all need the same first dimension, got {lengths}"
            )

    @property
    def tensors(self) -> tuple[Tensor, ...]:
        return tuple(t if t is not None else Tensor(a) for t, a in zip(self._given, self.arrays))

    def _graphed(self) -> tuple:
        """The Tensors given that require grad (None for the others, read as arrays)."""
        on = is_grad_enabled()
        return tuple(t if on and t is not None and t.requires_grad else None for t in self._given)

    def __len__(self) -> int:
        return len(self.arrays[0])

    def __getitem__(self, index):
        graphed = self._graphed()
        return tuple(Tensor(a[index]) if t is None else t[index]
                     for t, a in zip(graphed, self.arrays))  # fmt: skip

    def fetch(self, indices) -> tuple[Tensor, ...]:
        """The batch at ``indices`` (an integer array or a slice): one gather per array, into
        fresh arrays as torch's default_collate stacks copies (a slice would give views, so
        writing into a batch would write into the dataset)."""
        graphed = self._graphed()
        if isinstance(indices, slice):
            if any(t is not None for t in graphed):  # a gather copies, as torch's stack
                return self.fetch(numpy.arange(*indices.indices(len(self))))
            return tuple(Tensor(a[indices].copy()) for a in self.arrays)
        return tuple(  # fancy indexing copies
            Tensor(a[indices]) if t is None else t[Tensor(indices)]
            for t, a in zip(graphed, self.arrays)
        )


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``, in that order: ``sub[i] = dataset[indices[i]]``.

    ``indices`` is kept as given (a list stays a list, so ``a.indices + b.indices`` joins
    them) and read only when a sample is asked for, as in torch: an index out of range, or a
    key of a dict-like dataset, is the dataset's own business at access time. Batches come
    from the dataset's ``fetch`` in one gather where the indices there are integers.
    """

    def __init__(self, dataset: Dataset, indices: Sequence[int]) -> None:
        self.dataset = dataset
        self.indices = indices
        # torch's rule: a subclass that reads samples its own way must batch them its way too,
        # or the DataLoader's batched path (__getitems__, fetch) would bypass its __getitem__
        own = type(self)
        if own.__getitem__ is not Subset.__getitem__ and own.__getitems__ is Subset.__getitems__:
            raise NotImplementedError(
                f"{own.__name__} overrides __getitem__ but not __getitems__. When subclassing"
                " Subset and overriding __getitem__, you must also override __getitems__ to"
                " ensure DataLoader works correctly with your custom logic. A simple"
                " implementation:\n\ndef __getitems__(self, indices):\n    return"
                " [self.__getitem__(idx) for idx in indices]"
            )

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, index):
        if isinstance(index, list):
            return self.dataset[[self.indices[i] for i in index]]
        return self.dataset[self.indices[index]]

    def __getitems__(self, indices: list) -> list:
        if callable(getattr(self.dataset, "__getitems__", None)):
            return self.dataset.__getitems__([self.indices[i] for i in indices])
        return [self.dataset[self.indices[i]] for i in indices]

    def fetch(self, indices):
        """The batch at ``indices`` (an integer array or a slice) through the dataset's
        ``fetch``, or None where it has none or the subset's indices there are not integers
        (the DataLoader then goes through ``__getitems__``)."""
        if not hasattr(self.dataset, "fetch") or type(self).__getitems__ is not Subset.__getitems__:
            return None
        own = self.indices
        if isinstance(own, Tensor):
            own = to_numpy(own.array)
        if isinstance(own, numpy.ndarray) and own.ndim == 1 and own.dtype.kind in "iu":
            at = own[indices]  # one gather; read now, so a changed array is seen, as in torch
        else:  # a list (random_split's) or other sequence: only the batch's entries are read
            positions = range(len(self))[indices] if isinstance(indices, slice) else indices
            at = numpy.array(list(map(own.__getitem__, numpy.asarray(positions).tolist())))
        if at.ndim != 1 or at.dtype.kind not in "iu":
            return None
        return self.dataset.fetch(at)


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
            if isinstance(c, bool) or c < 0:
                raise ValueError(
                    f"random_split: lengths must be non-negative integers (or fractions summing"
                    f" to 1), got {c!r} at index {i} of {lengths}"
                )
        if sum(lengths) != n:
            raise ValueError(
                f"lengths {lengths} sum to {sum(lengths)}, the dataset has {n} samples"
            )
        for i, c in enumerate(lengths):
            if not isinstance(c, (int, numpy.integer)):  # torch's randperm(sum) refuses it
                raise TypeError(
                    f"random_split: lengths must be integers, or fractions summing to 1; got"
                    f" {c!r} at index {i} of {lengths}"
                )
        counts = [int(c) for c in lengths]
    # torch's Subsets hold lists (so a.indices + b.indices joins them)
    perm = generator_or_default(generator).permutation(n).tolist()
    out, start = [], 0
    for c in counts:
        out.append(Subset(dataset, perm[start : start + c]))
        start += c
    return out
