"""DataLoader: batches of a Dataset, optionally shuffled with its own seeded generator.

The shuffle order comes from a generator owned by the loader: pass ``generator=`` or
``seed=``, or leave both out and the loader seeds one from ember's default generator when it
is built (so ``ember.manual_seed(s)`` before building it fixes every epoch's order). The
loader's ``state_dict()`` records where it stands, mid-epoch included, so a resumed run sees
exactly the batches the interrupted one would have seen.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy

from ..backend import Generator, default_generator
from ..tensor import Tensor
from .dataset import Dataset


def default_collate(samples: list) -> Any:
    """Stack a list of samples into a batch: tuples/dicts element-wise, arrays on a new axis 0."""
    first = samples[0]
    if isinstance(first, (tuple, list)):
        return type(first)(default_collate(list(parts)) for parts in zip(*samples))
    if isinstance(first, dict):
        return {k: default_collate([s[k] for s in samples]) for k in first}
    if isinstance(first, str):
        return list(samples)
    arrays = [s.data if isinstance(s, Tensor) else numpy.asarray(s) for s in samples]
    shapes = {a.shape for a in arrays}
    if len(shapes) > 1:
        raise ValueError(
            f"default_collate: samples have different shapes {sorted(shapes)}; pass a "
            "collate_fn that pads them"
        )
    return Tensor(numpy.stack(arrays))


class DataLoader:
    """Iterate over ``dataset`` in batches of ``batch_size`` (torch's argument names).

    shuffle: a new permutation every epoch, drawn from the loader's generator.
    drop_last: leave out the last batch when it is smaller than ``batch_size``.
    collate_fn: turns a list of samples into a batch; without it, array datasets
    (TensorDataset, Subset of one) are gathered a whole batch at a time.
    """

    def __init__(
        self,
        dataset: Dataset,
        batch_size: int = 1,
        shuffle: bool = False,
        drop_last: bool = False,
        collate_fn: Callable[[list], Any] | None = None,
        generator: Generator | None = None,
        seed: int | None = None,
    ) -> None:
        if not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
        if generator is not None and seed is not None:
            raise ValueError("give either generator= or seed=, not both")
        self.dataset = dataset
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.drop_last = drop_last
        self.collate_fn = collate_fn
        if generator is None:
            if seed is None:
                seed = int(default_generator.integers(0, 2**62, ()))
            generator = Generator().manual_seed(seed)
        self.generator = generator
        self._epoch_start_state: dict | None = None  # generator state before this epoch's shuffle
        self._consumed = 0  # batches handed out in the epoch in progress
        self._skip = 0  # batches to skip on the next epoch (set by load_state_dict)

    def __len__(self) -> int:
        n = len(self.dataset)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def __iter__(self) -> Iterator:
        n = len(self.dataset)
        self._epoch_start_state = self.generator.get_state()
        order = self.generator.permutation(n) if self.shuffle else None
        skip, self._skip = self._skip, 0
        self._consumed = skip
        last = len(self) - 1
        if skip > last:  # nothing left of this epoch
            self._epoch_start_state, self._consumed = None, 0
        for b in range(skip, last + 1):
            start, stop = b * self.batch_size, min((b + 1) * self.batch_size, n)
            # unshuffled batches are slices: views, no copy
            index = order[start:stop] if order is not None else slice(start, stop)
            batch = self._batch(index)
            self._consumed = b + 1
            if b == last:
                # The epoch is over once its last batch is handed out: a checkpoint taken
                # while the consumer still holds it must resume at the next epoch.
                self._epoch_start_state, self._consumed = None, 0
            yield batch

    def _batch(self, index):
        if self.collate_fn is None and hasattr(self.dataset, "fetch"):
            batch = self.dataset.fetch(index)
            if batch is not None:
                return batch
        ids = range(index.start, index.stop) if isinstance(index, slice) else index.tolist()
        return (self.collate_fn or default_collate)([self.dataset[i] for i in ids])

    # ------------------------------------------------------------ resume
    def state_dict(self) -> dict:
        """Generator state at the start of the epoch in progress, and batches already given."""
        in_epoch = self._epoch_start_state is not None
        return {
            "generator": self._epoch_start_state if in_epoch else self.generator.get_state(),
            "batches_consumed": self._consumed if in_epoch else 0,
        }

    def load_state_dict(self, state: dict) -> None:
        """Continue where ``state`` was taken: the next iteration replays the same epoch's
        order and skips the batches already consumed."""
        self.generator.set_state(state["generator"])
        self._skip = int(state["batches_consumed"])
        self._epoch_start_state = None
        self._consumed = 0
