"""DistributedSampler: each of ``num_replicas`` processes visits its own share of a dataset.

torch's partition rule, exactly: the epoch's order (0 … n − 1, or with ``shuffle`` a
permutation drawn from a generator seeded with ``seed + epoch``, the same on every rank) is
padded by repeating its first indices up to a multiple of ``num_replicas`` (or, with
``drop_last``, cut down to one), and rank r takes every ``num_replicas``-th index starting at
r: ``indices[r::num_replicas]``. So each rank gets ⌈n / R⌉ indices (⌊n / R⌋ with drop_last),
every index appears on some rank, and only the padding repeats. The permutation is ember's
(PCG64), not torch's: the same seed gives the same order on every ember rank, not torch's.

Call ``set_epoch(epoch)`` at the start of each epoch, as with torch, or every epoch repeats
the first one's order.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sized

from ..backend import Generator
from ..errors import InputError, InputTypeError
from .errors import ArgumentTypeError
from .sampler import Sampler


class DistributedSampler(Sampler):
    """torch.utils.data.DistributedSampler: this rank's share of ``dataset`` (see above).

    ``num_replicas`` and ``rank`` default to the process group's world size and rank
    (ember.distributed.init_process_group first).
    """

    def __init__(self, dataset: Sized, num_replicas: int | None = None, rank: int | None = None,
                 shuffle: bool = True, seed: int = 0, drop_last: bool = False) -> None:  # fmt: skip
        if num_replicas is None or rank is None:
            from .. import distributed as dist

            if not dist.is_initialized():  # torch's ValueError (ember's was RuntimeError)
                raise InputError(
                    "Default process group has not been initialized, please make sure to call"
                    " init_process_group. (DistributedSampler reads num_replicas and rank from"
                    " it where they are not given: ember.distributed.init_process_group())"
                )
            num_replicas = dist.get_world_size() if num_replicas is None else num_replicas
            rank = dist.get_rank() if rank is None else rank
        if not isinstance(num_replicas, int):  # torch's TypeError comes when it slices with it
            raise ArgumentTypeError(f"num_replicas should be an integer, got {num_replicas!r}")
        if rank >= num_replicas or rank < 0:  # torch's check, which also refuses num_replicas < 1
            raise ValueError(
                f"Invalid rank {rank}, rank should be in the interval [0, {num_replicas - 1}]"
            )
        self.dataset, self.num_replicas, self.rank = dataset, num_replicas, rank
        self.epoch, self.shuffle, self.seed, self.drop_last = 0, bool(shuffle), seed, drop_last
        n = len(dataset)
        if drop_last and n % num_replicas:
            self.num_samples = math.ceil((n - num_replicas) / num_replicas)  # torch's formula
        else:
            self.num_samples = math.ceil(n / num_replicas)
        self.total_size = self.num_samples * num_replicas

    def __iter__(self) -> Iterator[int]:
        n = len(self.dataset)
        if self.shuffle:
            seed = self.seed + self.epoch
            if isinstance(seed, bool) or not isinstance(seed, int):  # torch's manual_seed
                raise InputTypeError(
                    f"manual_seed expected a long, but got {type(seed).__name__}: seed"
                    f" {self.seed!r} + epoch {self.epoch!r}"
                )
            indices = Generator().manual_seed(seed).permutation(n).tolist()
        else:
            indices = list(range(n))
        if not self.drop_last:
            pad = self.total_size - len(indices)
            if pad <= len(indices):
                indices += indices[:pad]
            else:  # fewer samples than replicas: repeat the whole order as often as needed
                indices += (indices * math.ceil(pad / len(indices)))[:pad]
        else:
            indices = indices[: self.total_size]
        return iter(indices[self.rank : self.total_size : self.num_replicas])

    def __len__(self) -> int:
        return self.num_samples

    def set_epoch(self, epoch: int) -> None:
        """The epoch whose order to draw next (seed + epoch seeds the permutation)."""
        self.epoch = epoch
