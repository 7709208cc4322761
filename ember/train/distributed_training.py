"""Data-parallel training for the Trainer: what each of W ranks does, as torchrun + DDP does it.

When ``ember.distributed`` has a process group of W > 1 ranks (``python -m
ember.distributed.run --nproc-per-node W script.py``, then ``init_process_group()``), or
``Trainer(distributed=True)`` is asked for, the Trainer runs one replica per rank:

    model      wrapped in DistributedDataParallel (a model already wrapped is kept): every
               backward averages the gradients over the ranks, so the replicas stay identical
    train      the loader's dataset is split by a DistributedSampler (rank r takes every W-th
               index of each epoch's permutation, padded to equal shares); ``batch_size`` is
               per rank, as in torch, so one step sees W · batch_size samples; ``set_epoch``
               is called every epoch, so the shuffle changes per epoch and agrees across ranks
    step       the loss sums, counts and correct predictions are all-reduced: every rank sees
               the global train loss, and a non-finite loss on any rank stops every rank
               before the update; a stop asked for on one rank (a callback) stops all
    evaluate   each rank scores every W-th validation example (no padding, so nothing counts
               twice) and the sums are all-reduced: every rank reports the global numbers
    files      only rank 0 prints, writes metrics.jsonl, checkpoints and best weights (of the
               unwrapped model, so a single process loads them); every rank waits at a
               barrier after a checkpoint, so a resumed run finds a complete file
    resume     every rank loads the same checkpoint; it holds each rank's own random state
               (dropout, augmentation) and the sampler's seed, epoch and position

Every decision that ends a loop is taken from all-reduced numbers, so no rank is left waiting
in a collective that the others have stopped calling.
"""

from __future__ import annotations

import json

import numpy

from .. import backend
from .. import distributed as dist
from ..data import DataLoader, DistributedSampler, IterableDataset
from ..data.sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler
from ..nn.parallel import DistributedDataParallel


def unwrap(model):
    """The plain model inside a DistributedDataParallel wrapper (the model itself otherwise)."""
    return model.module if isinstance(model, DistributedDataParallel) else model


def detect(distributed: bool | None) -> DataParallel | None:
    """The data-parallel context the Trainer should run in, or None for one process.

    None: data-parallel when a process group of more than one rank is initialised.
    True: always (a group of one included); False: never, whatever the group.
    """
    if distributed is False:
        return None
    if not dist.is_initialized():
        if distributed:
            raise RuntimeError(
                "Trainer(distributed=True) needs a process group: call "
                "ember.distributed.init_process_group() first (python -m ember.distributed.run "
                "--nproc-per-node N script.py starts the ranks and sets RANK and WORLD_SIZE)"
            )
        return None
    rank, world = dist.get_rank(), dist.get_world_size()
    if world == 1 and not distributed:
        return None
    return DataParallel(rank, world)


class RankShard(Sampler):
    """Indices ``rank, rank + W, rank + 2W, …`` of ``0 … n − 1``: this rank's share of an
    evaluation set, unpadded, so the shares of all ranks are the whole set exactly once."""

    def __init__(self, n: int, rank: int, world: int) -> None:
        self.n, self.rank, self.world = n, rank, world

    def __iter__(self):
        return iter(range(self.rank, self.n, self.world))

    def __len__(self) -> int:
        return len(range(self.rank, self.n, self.world))


class DataParallel:
    """This rank's place in the job, and the few collectives the Trainer needs."""

    def __init__(self, rank: int, world: int) -> None:
        self.rank, self.world = rank, world
        self.is_main = rank == 0
        self._eval_loaders: dict[int, tuple] = {}  # id(loader) -> (loader, shard, reduce)
        self._train_loaders: dict[int, tuple] = {}  # id(loader) -> (loader, split)

    # ------------------------------------------------------------ the model
    def wrap(self, model):
        """The model in DistributedDataParallel (broadcasting rank 0's weights to all ranks)."""
        if isinstance(model, DistributedDataParallel):
            return model
        return DistributedDataParallel(model)

    def sync_buffers(self, module) -> None:
        """Rank 0's buffers (BatchNorm's running statistics) on every rank, so all evaluate
        the model that rank 0 saves; DDP broadcasts them again at the next training forward."""
        for b in module.buffers():
            dist.broadcast(b, 0)

    # ------------------------------------------------------------ the data
    def train_loader(self, loader):
        """``loader`` with its dataset split over the ranks by a DistributedSampler.

        A DataLoader whose sampler is already a DistributedSampler is kept as it is; one in
        order or shuffled (``shuffle=True``) is rebuilt with the same batch size (per rank),
        collate_fn and workers. Other iterables are the caller's to split, as in torch.
        """
        known = self._train_loaders.get(id(loader))
        if known is not None and known[0] is loader:  # fit again: the same split, continued
            return known[1]
        split = self._split_train(loader)
        self._train_loaders[id(loader)] = (loader, split)
        return split

    def _split_train(self, loader):
        if not isinstance(loader, DataLoader):
            return loader
        sampler = loader.sampler
        if isinstance(sampler, DistributedSampler):
            if sampler.num_replicas != self.world or sampler.rank != self.rank:
                raise ValueError(
                    f"the train loader's DistributedSampler is for rank {sampler.rank} of "
                    f"{sampler.num_replicas}, but this process is rank {self.rank} of "
                    f"{self.world}"
                )
            return loader
        why = _unsplittable(loader)
        if why:
            raise ValueError(
                f"data-parallel training splits the train loader's dataset over {self.world} "
                f"ranks with a DistributedSampler, which needs a DataLoader with a batch_size "
                f"over a map-style dataset, in order or with shuffle=True; got {why}. Build "
                "the DataLoader with sampler=DistributedSampler(dataset) yourself"
            )
        seed = self.agreed_seed(loader.generator) if isinstance(sampler, RandomSampler) else 0
        split = DistributedSampler(
            loader.dataset, num_replicas=self.world, rank=self.rank,
            shuffle=isinstance(sampler, RandomSampler), seed=seed,
        )  # fmt: skip
        return _rebuilt(loader, split)

    def agreed_seed(self, generator) -> int:
        """A seed drawn from rank 0's loader generator, the same on every rank: the shuffles of
        all ranks must be one permutation, or some examples would be seen twice, others never."""
        seed = numpy.asarray([generator.integers(0, 2**31 - 1, ())], dtype=numpy.int64)
        dist.broadcast(seed, 0)
        return int(seed[0])

    def set_epoch(self, loader, epoch: int) -> None:
        """torch's ``sampler.set_epoch(epoch)`` (0-based), where the loader's sampler has it."""
        sampler = getattr(loader, "sampler", None)
        if hasattr(sampler, "set_epoch"):
            sampler.set_epoch(epoch)

    def check_same_length(self, loader) -> None:
        """Every rank must take as many steps per epoch, or one would wait for the others'
        gradients forever; say so before the first step rather than hang in it."""
        if not hasattr(loader, "__len__"):
            return
        n = len(loader)
        spread = numpy.asarray([n, -n], dtype=numpy.int64)
        dist.all_reduce(spread, op=dist.ReduceOp.MAX)
        if spread[0] != -spread[1]:
            raise ValueError(
                f"the ranks' train loaders have different numbers of batches (from "
                f"{-spread[1]} to {spread[0]}; this rank's has {n}): every rank must take the "
                "same steps; split the data with a DistributedSampler"
            )

    def eval_loader(self, loader) -> tuple:
        """(the loader this rank evaluates, whether its sums are all-reduced).

        A DataLoader in order or shuffled is cut to this rank's share (``RankShard``); one with
        a DistributedSampler is used as it is (torch's way: padding examples count twice);
        anything else is evaluated whole on every rank and not reduced.
        """
        known = self._eval_loaders.get(id(loader))
        if known is not None and known[0] is loader:
            return known[1], known[2]
        if isinstance(loader, DataLoader) and isinstance(loader.sampler, DistributedSampler):
            shard, reduce = loader, True
        elif isinstance(loader, DataLoader) and not _unsplittable(loader):
            n = len(loader.dataset)
            shard, reduce = _rebuilt(loader, RankShard(n, self.rank, self.world)), True
        else:
            shard, reduce = loader, False
        self._eval_loaders[id(loader)] = (loader, shard, reduce)
        return shard, reduce

    # ------------------------------------------------------------ agreeing
    def sums(self, *values: float) -> list[float]:
        """The sums over the ranks of ``values`` (float64, the same bits on every rank)."""
        a = numpy.asarray(values, dtype=numpy.float64)
        dist.all_reduce(a)
        return a.tolist()

    def any(self, flag: bool) -> bool:
        """True on every rank when ``flag`` is True on some rank."""
        a = numpy.asarray([1 if flag else 0], dtype=numpy.int64)
        dist.all_reduce(a, op=dist.ReduceOp.MAX)
        return bool(a[0])

    def barrier(self) -> None:
        dist.barrier()

    # ------------------------------------------------------------ per-rank random state
    def gather_states(self, state: dict) -> list[dict]:
        """Every rank's ``state`` (JSON-able), in rank order, on every rank."""
        raw = numpy.frombuffer(json.dumps(state).encode(), dtype=numpy.uint8)
        lengths = [numpy.zeros(1, dtype=numpy.int64) for _ in range(self.world)]
        dist.all_gather(lengths, numpy.asarray([raw.size], dtype=numpy.int64))
        size = max(int(n[0]) for n in lengths)
        padded = numpy.zeros(size, dtype=numpy.uint8)
        padded[: raw.size] = raw
        got = [numpy.zeros(size, dtype=numpy.uint8) for _ in range(self.world)]
        dist.all_gather(got, padded)
        return [json.loads(g[: int(n[0])].tobytes()) for g, n in zip(got, lengths)]


def rank_random_state(augment) -> dict:
    """What differs between ranks and must continue on each: ember's default generator
    (dropout) and the training-batch augmentation's generator."""
    state = {"ember": backend.default_generator.get_state(), "augment": None}
    if hasattr(augment, "state_dict"):
        try:
            json.dumps(augment.state_dict())
            state["augment"] = augment.state_dict()
        except TypeError:  # not JSON: the checkpoint keeps rank 0's, as for one process
            pass
    return state


def set_rank_random_state(state: dict, augment) -> None:
    backend.default_generator.set_state(state["ember"])
    if state.get("augment") is not None and hasattr(augment, "load_state_dict"):
        augment.load_state_dict(state["augment"])


def _unsplittable(loader: DataLoader) -> str:
    """Why the rows of ``loader`` cannot be re-split over ranks ("" when they can)."""
    if isinstance(loader.dataset, IterableDataset):
        return "a loader over an IterableDataset"
    if loader.batch_size is None or type(loader.batch_sampler) is not BatchSampler:
        return "a loader with a batch_sampler or without batching"
    sampler = loader.sampler
    if type(sampler) is SequentialSampler:
        return ""
    if type(sampler) is RandomSampler and not sampler.replacement:
        if sampler.num_samples == len(loader.dataset):
            return ""
    return f"a loader with a {type(sampler).__name__}"


def _rebuilt(loader: DataLoader, sampler) -> DataLoader:
    # generator= is handed over, not drawn anew: building a loader without one would draw
    # from ember's default generator and shift every later random draw (dropout)
    return DataLoader(
        loader.dataset, batch_size=loader.batch_size, sampler=sampler,
        num_workers=loader.num_workers, collate_fn=loader.collate_fn,
        drop_last=loader.drop_last, timeout=loader.timeout,
        worker_init_fn=loader.worker_init_fn, generator=loader.generator,
        prefetch_factor=loader.prefetch_factor, persistent_workers=loader.persistent_workers,
    )  # fmt: skip


class DataParallelTraining:
    """The Trainer's data-parallel half (see the module docstring); ``_dp`` is None for one
    process, and then every method here leaves the single-process loop as it was."""

    _dp: DataParallel | None = None

    @property
    def module(self):
        """The plain model (the one inside DistributedDataParallel): what checkpoints hold."""
        return unwrap(self.model)

    @property
    def is_main(self) -> bool:
        """Whether this process prints and writes files: rank 0, or the only process."""
        return self._dp is None or self._dp.is_main

    def _global_step_sums(self, value: float, n: int, correct: int) -> tuple:
        """(mean loss, count, correct) of the step over all ranks; this rank's alone when
        there is one. A non-finite loss on any rank makes the mean non-finite on all."""
        if self._dp is None:
            return value, n, correct
        total, n, correct = self._dp.sums(value * n, n, correct)
        return total / n, int(n), int(correct)

    def _share_train_loader(self, loader):
        """This rank's share of ``loader`` (``DataParallel.train_loader``), and a check that
        every rank has as many batches; ``loader`` itself for one process."""
        if self._dp is None:
            return loader
        loader = self._dp.train_loader(loader)
        self._dp.check_same_length(loader)
        return loader

    def _set_sampler_epoch(self, loader) -> None:
        """torch's ``sampler.set_epoch(epoch)``, 0-based: a new shuffle per epoch, one for all
        ranks (a resumed epoch gets its number again, so its order too)."""
        if self._dp is not None:
            self._dp.set_epoch(loader, self.epoch - 1)

    def _evaluation_sums(self, loader) -> tuple:
        """(loss sum, correct, count) of ``loader`` from ``_score``: over all ranks' shares."""
        if self._dp is None:
            return self._score(loader)
        loader, reduce = self._dp.eval_loader(loader)
        self._dp.sync_buffers(self.module)
        wrapped, self.model = self.model, self.module
        try:  # the plain model: shares of unequal length must not meet DDP's collectives
            total, correct, count = self._score(loader)
        finally:
            self.model = wrapped
        if not reduce:
            return total, correct, count
        total, correct, count = self._dp.sums(total, correct, count)
        return total, int(correct), int(count)

    def _agree_stop(self) -> None:
        """Stop on every rank when one was asked to (by a callback, say), so that no rank
        goes on to a collective the others never reach."""
        if self._dp is None:
            return
        if self._dp.any(self.should_stop) and not self.should_stop:
            self.should_stop = True
            self.stop_reason = self.stop_reason or "another rank asked to stop"
