"""Samplers: which indices of a dataset a DataLoader visits, and in what order (torch's).

A sampler yields dataset indices; ``BatchSampler`` groups another sampler's indices into lists.
The random samplers draw a whole epoch at once (one vectorised draw, not one per sample) from
their ``generator``, or from ember's default generator when they have none. A DataLoader calls
``epoch_indices(generator)`` instead of iterating: it hands over the sampler's own generator,
or its own one for a sampler without, after recording that generator's state, so that a run
resumed mid-epoch redraws exactly the interrupted epoch's order. The draws come from ember's
PCG64 generator: torch's distributions, not torch's numbers.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Sequence, Sized

import numpy

from ..backend import Generator, generator_or_default
from ..errors import InputError
from ..tensor import Tensor
from .errors import EmptySourceError


class Sampler:
    """Base class: subclasses define ``__iter__`` (indices, or lists of them for a batch
    sampler) and usually ``__len__``. ``Sampler[int]`` subscripts as torch's generic does."""

    def __init__(self, data_source: Sized | None = None) -> None:
        pass  # torch once took data_source and ignored it; old subclasses still pass it

    def __class_getitem__(cls, item):
        return cls

    def __iter__(self) -> Iterator:
        raise NotImplementedError(f"{type(self).__name__} has no __iter__")


def _iter_epoch_indices(self) -> Iterator[int]:
    return iter(self.epoch_indices().tolist())


def _draws_whole_epochs(sampler) -> bool:
    """True when iterating ``sampler`` is iterating its ``epoch_indices()``, so the epoch can
    be drawn as one array; a subclass that overrides ``__iter__`` is iterated instead."""
    return getattr(type(sampler), "__iter__", None) is _iter_epoch_indices


def _positive_int(name: str, value) -> int:
    """torch's check: a Python int (not a bool, not a NumPy integer) above 0."""
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"{name} should be a positive integer value, but got {name}={value!r}")
    return value


def _pick(given: Generator | None, own: Generator | None) -> Generator:
    """The generator to draw an epoch from: the one handed over, else the sampler's own, else
    ember's default generator."""
    return generator_or_default(given if given is not None else own)


def _checked_generator(generator: Generator | None) -> Generator | None:
    return None if generator is None else generator_or_default(generator)


def _array(values, dtype=None) -> numpy.ndarray:
    if isinstance(values, Tensor):
        return numpy.asarray(values.array, dtype=dtype)
    if hasattr(values, "detach") and hasattr(values, "numpy"):  # a torch tensor
        return numpy.asarray(values.detach().cpu().numpy(), dtype=dtype)
    return numpy.asarray(values, dtype=dtype)


class _InfiniteConstantSampler(Sampler):
    """torch's sampler of a loader over an IterableDataset: None forever (the stream chooses
    its samples), and no length."""

    def __iter__(self) -> Iterator[None]:
        return itertools.repeat(None)


class SequentialSampler(Sampler):
    """``0, 1, …, len(data_source) − 1``, the same every epoch."""

    def __init__(self, data_source: Sized) -> None:
        self.data_source = data_source

    def epoch_indices(self, generator: Generator | None = None) -> numpy.ndarray:
        return numpy.arange(len(self.data_source))

    __iter__ = _iter_epoch_indices

    def __len__(self) -> int:
        return len(self.data_source)


class RandomSampler(Sampler):
    """Random indices of ``data_source``: a fresh permutation each epoch, or with
    ``replacement=True`` ``num_samples`` independent uniform draws.

    ``num_samples`` (default ``len(data_source)``) larger than the dataset without replacement
    gives whole permutations one after another, then part of one more, as torch does.
    """

    def __init__(
        self,
        data_source: Sized,
        replacement: bool = False,
        num_samples: int | None = None,
        generator: Generator | None = None,
    ) -> None:
        if not isinstance(replacement, bool):
            raise TypeError(
                f"replacement should be a boolean value, but got replacement={replacement!r}"
            )
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        self.generator = _checked_generator(generator)
        m = self.num_samples  # torch's check lets a bool through (True is one sample)
        if not isinstance(m, int) or m <= 0:
            raise ValueError(
                f"num_samples should be a positive integer value, but got num_samples={m!r}"
            )

    @property
    def num_samples(self) -> int:
        """Indices per epoch: ``num_samples`` if given, else the dataset's current length."""
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def epoch_indices(self, generator: Generator | None = None) -> numpy.ndarray:
        """One epoch's indices, drawn from ``generator`` (default: the sampler's own, else
        ember's default generator)."""
        g = _pick(generator, self.generator)
        n, m = len(self.data_source), self.num_samples
        if n == 0:
            raise EmptySourceError(
                f"RandomSampler: cannot draw {m} indices from an empty data_source"
            )
        if self.replacement:
            return g.integers(0, n, (int(m),))
        if m == n:
            return g.permutation(n)
        return numpy.concatenate([g.permutation(n) for _ in range(-(-m // n))])[:m]

    __iter__ = _iter_epoch_indices

    def __len__(self) -> int:
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """The elements of ``indices`` in a new random order each epoch (no replacement). As in
    torch they are handed out as ``indices[i]``: keys that are not integers (tuples, rows of
    a 2-d array, strings) come out as they are."""

    def __init__(self, indices: Sequence[int], generator: Generator | None = None) -> None:
        self.indices = indices
        self.generator = _checked_generator(generator)

    def epoch_indices(self, generator: Generator | None = None) -> numpy.ndarray:
        try:
            values = _array(self.indices)
        except ValueError:  # ragged keys: NumPy makes no array of them
            values = None
        if values is None or values.ndim != 1:
            values = numpy.empty(len(self.indices), object)  # each key kept whole
            for i in range(len(values)):
                values[i] = self.indices[i]
        return values[_pick(generator, self.generator).permutation(len(values))]

    __iter__ = _iter_epoch_indices

    def __len__(self) -> int:
        return len(self.indices)


class WeightedRandomSampler(Sampler):
    """``num_samples`` indices of ``[0, len(weights))``, index i with probability proportional
    to ``weights[i]`` (they need not sum to 1), as torch.multinomial draws them.

    With replacement the draws are independent (inverse CDF of the weights) and a zero weight
    is never drawn. Without, the indices are distinct, in the order of an exponential race:
    the smallest ``num_samples`` of ``Exp(1) / weights[i]``, which is drawing one at a time in
    proportion to the weights left; once the non-zero weights are used up, the zero-weight
    indices follow, as in torch, which asks only ``num_samples ≤ len(weights)`` (here in index
    order; torch's order among them is whatever its topk gives ties).
    Weights torch.multinomial refuses when the sampler is iterated (negative, NaN or infinite,
    none above zero, fewer than ``num_samples`` without replacement) are refused here when it
    is built, so the error comes from the line that made it: torch's RuntimeError (an
    ``InputError``, also ember's ValueError) with torch's words.
    """

    def __init__(
        self,
        weights: Sequence[float],
        num_samples: int,
        replacement: bool = True,
        generator: Generator | None = None,
    ) -> None:
        num_samples = _positive_int("num_samples", num_samples)
        if not isinstance(replacement, bool):
            raise ValueError(
                f"replacement should be a boolean value, but got replacement={replacement!r}"
            )
        if weights is None or isinstance(weights, str):  # NumPy would make a 0-d array of it
            raise TypeError(f"weights should be a sequence of numbers, got {weights!r}")
        w = _array(weights, numpy.float64)
        if w.ndim != 1:
            raise ValueError(
                f"weights should be a 1d sequence but given weights have shape {tuple(w.shape)}"
            )
        _check_weights(w, num_samples, replacement)
        self.weights = Tensor(w)
        self.num_samples = num_samples
        self.replacement = replacement
        self.generator = _checked_generator(generator)

    def epoch_indices(self, generator: Generator | None = None) -> numpy.ndarray:
        g = _pick(generator, self.generator)
        w = self.weights.array
        if self.replacement:
            cdf = numpy.cumsum(w)
            cdf /= cdf[-1]  # the last non-zero weight ends exactly at 1.0
            u = g.random((self.num_samples,), numpy.float64)  # in [0, 1)
            return numpy.searchsorted(cdf, u, side="right")  # zero-width bins are never hit
        with numpy.errstate(divide="ignore", invalid="ignore"):
            keys = -numpy.log1p(-g.random(w.shape, numpy.float64)) / w
        keys[w == 0] = numpy.inf
        return numpy.argsort(keys, kind="stable")[: self.num_samples]

    __iter__ = _iter_epoch_indices

    def __len__(self) -> int:
        return self.num_samples


def _check_weights(w: numpy.ndarray, num_samples: int, replacement: bool) -> None:
    """torch.multinomial's refusals of the weights ``w``, in its order and words."""
    if not replacement and num_samples > len(w):
        raise InputError(
            "cannot sample n_sample > prob_dist.size(-1) samples without replacement: "
            f"num_samples={num_samples} distinct indices of {len(w)} weights"
        )
    if not replacement and not (numpy.isfinite(w).all() and (w >= 0).all()):
        raise InputError(
            f"probability tensor contains either `inf`, `nan` or element < 0: weights {w}"
        )
    if replacement and ((w < 0) | numpy.isnan(w)).any():
        raise InputError(f"invalid multinomial distribution (encountering probability entry < 0):"
                         f" weights {w}")  # fmt: skip
    if replacement and numpy.isinf(w).any():
        raise InputError("invalid multinomial distribution (encountering probability entry ="
                         f" infinity or NaN): weights {w}")  # fmt: skip
    if not w.sum() > 0:
        raise InputError(f"invalid multinomial distribution (sum of probabilities <= 0): weights"
                         f" {w}")  # fmt: skip


class BatchSampler(Sampler):
    """Lists of ``batch_size`` consecutive indices of ``sampler`` (any iterable of indices);
    with ``drop_last`` the final shorter list is left out."""

    def __init__(self, sampler: Sampler | Iterable[int], batch_size: int, drop_last: bool) -> None:
        batch_size = _positive_int("batch_size", batch_size)
        if not isinstance(drop_last, bool):
            raise ValueError(
                f"drop_last should be a boolean value, but got drop_last={drop_last!r}"
            )
        self.sampler = sampler
        self.batch_size = batch_size
        self.drop_last = drop_last

    def batches(self, generator: Generator | None = None) -> Iterator:
        """The epoch's batches: slices over a SequentialSampler (views for array datasets),
        index arrays over ember's random samplers (drawn from ``generator``), lists otherwise."""
        s, size = self.sampler, self.batch_size
        if not _draws_whole_epochs(s):
            yield from self._chunks(iter(s))
            return
        sequential = type(s).epoch_indices is SequentialSampler.epoch_indices
        whole = None if sequential else s.epoch_indices(generator)
        n = len(s) if sequential else len(whole)
        stop = n - n % size if self.drop_last else n
        for start in range(0, stop, size):
            end = min(start + size, n)
            yield slice(start, end) if whole is None else whole[start:end]

    def _chunks(self, it: Iterator) -> Iterator[list]:
        while batch := list(itertools.islice(it, self.batch_size)):
            if len(batch) < self.batch_size and self.drop_last:
                return
            yield batch

    def __iter__(self) -> Iterator[list]:
        for b in self.batches():
            if isinstance(b, slice):
                yield list(range(b.start, b.stop))
            else:
                yield b.tolist() if isinstance(b, numpy.ndarray) else b

    def __len__(self) -> int:
        n = len(self.sampler)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)
