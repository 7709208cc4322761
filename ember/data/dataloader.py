"""DataLoader: batches of a Dataset in the order a sampler gives, optionally loaded ahead by
worker threads, with torch's arguments.

The random order comes from a generator owned by the loader: pass ``generator=`` or ``seed=``,
or leave both out and the loader seeds one from ember's default generator when it is built (so
``ember.manual_seed(s)`` before building it fixes every epoch's order). A random sampler with
its own generator draws from that one instead. The loader's ``state_dict()`` records the
generators' states at the start of the epoch in progress and how many batches it has handed
out, so a resumed run sees exactly the batches the interrupted one would have seen.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import numpy

from .. import backend
from ..backend import Generator, default_generator, generator_or_default
from .collate import default_collate, default_convert
from .dataset import Dataset
from .datasets_more import IterableDataset
from .passes import LoaderPass, warn_overlong, warn_pinning, warn_worker_count
from .sampler import (
    BatchSampler,
    RandomSampler,
    Sampler,
    SequentialSampler,
    _draws_whole_epochs,
    _InfiniteConstantSampler,
)
from .worker import _END, _EXHAUSTED, _check_context, _Workers


class DataLoader:
    """Iterate over ``dataset`` in batches (torch.utils.data.DataLoader's arguments).

    batch_size: samples per batch; None hands out single samples (through ``default_convert``).
    shuffle: a new permutation every epoch (a RandomSampler drawing from the loader's generator).
    sampler: the order of indices (any iterable of them, e.g. a Sampler); not with shuffle.
    batch_sampler: yields whole lists of indices; excludes batch_size, shuffle, sampler and
    drop_last. drop_last: leave out the last batch when it is smaller than ``batch_size``.
    collate_fn: turns a list of samples into a batch; without it, array datasets (TensorDataset,
    Subset of one) are gathered a whole batch at a time, whatever sampler chose the indices.
    An IterableDataset is iterated and its samples batched; it takes no sampler and no shuffle.
    generator / seed: where the loader's random order comes from (give at most one).

    num_workers > 0: batches are loaded ahead by that many threads (NumPy releases the GIL while
    it gathers and copies, and threads need no pickled copy of the dataset), at most
    ``prefetch_factor`` (default 2; 0 counts as 1) per worker in flight, handed out strictly in
    order: for a map-style dataset, the batches it gives without workers.
    ``worker_init_fn(worker_id)`` runs first in each worker, ``get_worker_info()`` answers
    there, and an exception in a worker is raised here.
    As in torch each worker iterates its own ``iter(dataset)`` of an IterableDataset, so every
    worker yields the whole stream unless ``__iter__`` splits it by ``get_worker_info()``.
    As in torch each worker draws from a default generator of its own (``ember.rand`` … in
    ``__getitem__``), seeded from the loader's generator, worker id and epoch, so a seeded run
    gives the same batches whatever the threads' timing and leaves the training's stream
    untouched; ``ember.manual_seed`` in ``worker_init_fn`` reseeds that worker's stream only.
    NumPy's and Python's global generators are per process, shared by the threads: a dataset
    that wants repeatable draws from them seeds its own ``np.random.default_rng`` per worker.
    timeout: seconds to wait for a worker's batch before RuntimeError (no effect without
    workers). These are accepted, checked as torch checks them, and change nothing here:
    pin_memory and pin_memory_device (pinned host memory only speeds copies to a GPU; ember's
    arrays never leave host memory; on the CPU each iteration warns as torch's does without an
    accelerator), multiprocessing_context (the workers are threads, there
    is no process start method), in_order (batches are always in order, which in_order=False
    merely permits not to be). persistent_workers: threads are restarted each epoch (cheap,
    and they share the dataset, so no copy is kept alive), but ``worker_init_fn`` runs only
    for the first epoch's workers, as torch initialises persistent workers once.
    """

    _FIXED = frozenset(
        ("batch_size", "batch_sampler", "sampler", "drop_last", "dataset", "persistent_workers")
    )

    def __init__(
        self,
        dataset: Dataset,
        batch_size: int | None = 1,
        shuffle: bool | None = None,
        sampler: Sampler | Iterable | None = None,
        batch_sampler: Sampler | Iterable[list] | None = None,
        num_workers: int = 0,
        collate_fn: Callable[[list], Any] | None = None,
        pin_memory: bool = False,
        drop_last: bool = False,
        timeout: float = 0,
        worker_init_fn: Callable[[int], None] | None = None,
        multiprocessing_context: Any = None,
        generator: Generator | None = None,
        *,
        prefetch_factor: int | None = None,
        persistent_workers: bool = False,
        pin_memory_device: str = "",
        in_order: bool = True,
        seed: int | None = None,
    ) -> None:
        if not isinstance(num_workers, int) or num_workers < 0:
            raise ValueError(
                "num_workers option should be non-negative; use num_workers=0 to disable "
                "multiprocessing."
            )
        if timeout < 0:
            raise ValueError("timeout option should be non-negative")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError(
                "prefetch_factor option could only be specified in multiprocessing: let "
                "num_workers > 0 to enable multiprocessing, otherwise set prefetch_factor to None."
            )
        if num_workers > 0 and prefetch_factor is None:
            prefetch_factor = 2
        elif prefetch_factor is not None and prefetch_factor < 0:
            raise ValueError("prefetch_factor option should be non-negative")
        if persistent_workers and num_workers == 0:
            raise ValueError("persistent_workers option needs num_workers > 0")
        _check_context(multiprocessing_context, num_workers)
        if generator is not None and seed is not None:
            raise ValueError("give either generator= or seed=, not both")
        self._iterable = isinstance(dataset, IterableDataset)
        if self._iterable:  # torch: an IterableDataset's order is its own, no sampler applies
            unset = {"sampler": sampler, "batch_sampler": batch_sampler, "shuffle": shuffle or None}
            for name, value in unset.items():
                if value is not None:
                    raise ValueError(
                        f"DataLoader with IterableDataset: expected unspecified {name} option, "
                        f"but got {name}={value!r}"
                    )
        shuffle = bool(shuffle)
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError(
                    "batch_sampler option is mutually exclusive with batch_size, shuffle, "
                    "sampler, and drop_last"
                )
            batch_size, drop_last = None, False
        elif batch_size is None:
            if drop_last:
                raise ValueError(
                    "batch_size=None option disables auto-batching and is mutually exclusive "
                    "with drop_last"
                )
        elif isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
        if generator is None:
            if seed is None:
                seed = int(default_generator.integers(0, 2**62, ()))
            generator = Generator().manual_seed(seed)
        self.generator = generator_or_default(generator)  # checked: an ember.Generator
        if self._iterable:  # torch's placeholders: the stream is read, not indexed
            sampler = _InfiniteConstantSampler()
        elif sampler is None:
            sampler = (RandomSampler(dataset, generator=generator) if shuffle
                       else SequentialSampler(dataset))  # fmt: skip
        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        self._auto_collation = batch_size is not None or batch_sampler is not None
        self.dataset, self.batch_size, self.drop_last = dataset, batch_size, drop_last
        self.shuffle = shuffle
        self.sampler, self.batch_sampler, self.collate_fn = sampler, batch_sampler, collate_fn
        self.num_workers, self.prefetch_factor, self.timeout = num_workers, prefetch_factor, timeout
        self.worker_init_fn, self.multiprocessing_context = worker_init_fn, multiprocessing_context
        self.pin_memory, self.pin_memory_device = pin_memory, pin_memory_device
        self.persistent_workers, self.in_order = persistent_workers, in_order
        self._workers_started = False
        self._epoch_start_state: dict | None = None  # loader generator state at the epoch start
        self._sampler_start_state: dict | None = None  # the sampler's own generator's, likewise
        self._consumed = 0  # batches handed out in the epoch in progress
        self._skip = 0  # batches to skip on the next epoch (set by load_state_dict)
        self._epoch = self._epoch_now = 0  # the next epoch's number; the current one's
        self._active = None  # the iteration whose progress the state records
        self._reported_len: int | None = None  # an IterableDataset's len() once len(loader) asked
        self._initialized = True
        warn_worker_count(self, stacklevel=3)

    def __setattr__(self, name: str, value: Any) -> None:
        if name in self._FIXED and self.__dict__.get("_initialized"):
            raise ValueError(f"{name} attribute should not be set after DataLoader is initialized")
        super().__setattr__(name, value)

    def __len__(self) -> int:
        if not self._iterable:
            return len(self.batch_sampler if self._auto_collation else self.sampler)
        n = self._reported_len = len(self.dataset)
        if self.batch_size is None:
            return n
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def check_worker_number_rationality(self) -> None:
        """torch's check, run when the loader is made and at each pass: warn when it has more
        workers than the CPUs this process may use."""
        warn_worker_count(self, stacklevel=3)

    def _own_generator(self) -> Generator | None:
        """The generator of the sampler (inside the batch sampler), if it has one of its own."""
        s = self.batch_sampler if self._auto_collation else self.sampler
        g = getattr(s.sampler if isinstance(s, BatchSampler) else s, "generator", None)
        return g if isinstance(g, Generator) and g is not self.generator else None

    def __iter__(self) -> Iterator:
        # what len(loader) has read so far counts, as for torch's iterator made here (list()
        # asks len() after iter(), and that must not count for this pass)
        return LoaderPass(self._pass(self._reported_len), self)

    def _pass(self, reported: int | None) -> Iterator:
        token = self._active = object()
        own = self._own_generator()
        self._epoch_start_state = self.generator.get_state()
        self._sampler_start_state = own.get_state() if own is not None else None
        self._epoch_now, self._epoch = self._epoch, self._epoch + 1
        skip, self._skip = self._skip, 0
        self._consumed = skip
        if self._iterable:
            tasks, make_work = itertools.repeat(None), self._stream_work
        else:
            tasks = self._tasks(self.generator if own is None else own, skip)
            make_work = lambda: self._load  # noqa: E731
            skip = 0  # skipped as indices, without loading the batches
        warn_pinning(self)
        warn_worker_count(self, stacklevel=4)
        fetched = 0
        results = self._threaded(tasks, make_work) if self.num_workers else self._inline(tasks)
        try:
            for batch, last in results:
                if skip:  # an IterableDataset is replayed to where the state was taken
                    skip -= 1
                    continue
                fetched += 1
                if self._iterable and reported is not None and fetched > reported:
                    warn_overlong(self, reported, fetched)
                if self._active is token:
                    self._consumed += 1
                    if last:
                        # The epoch is over once its last batch is handed out: a checkpoint
                        # taken while the consumer still holds it must resume at the next epoch.
                        self._end_epoch()
                yield batch
            if self._active is token:
                self._end_epoch()
        finally:
            results.close()

    def _end_epoch(self) -> None:
        self._epoch_start_state = self._sampler_start_state = None
        self._consumed = 0

    def _tasks(self, generator: Generator, skip: int) -> Iterator:
        """The epoch's indices (batches of them when batching), the first ``skip`` left out."""
        if self._auto_collation:
            bs = self.batch_sampler
            plain = isinstance(bs, BatchSampler) and type(bs).__iter__ is BatchSampler.__iter__
            it = bs.batches(generator) if plain else iter(bs)
        elif _draws_whole_epochs(self.sampler):
            it = iter(self.sampler.epoch_indices(generator).tolist())
        else:
            it = iter(self.sampler)
        return itertools.islice(it, skip, None)

    def _load(self, index: Any) -> Any:
        """The batch (or, without batching, the sample) at ``index``."""
        ds = self.dataset
        if not self._auto_collation:
            return (self.collate_fn or default_convert)(ds[index])
        if backend.is_array(index) and not isinstance(index, numpy.ndarray):
            index = backend.to_numpy(index)  # a sampler's device array: indices on the host
        if isinstance(index, slice):
            ids = range(index.start, index.stop)
        else:
            ids = index.tolist() if isinstance(index, numpy.ndarray) else list(index)
            if backend.ON_GPU:  # a sampler's device scalars: indices on the host
                ids = [i.item() if backend.is_array(i) else i for i in ids]
        if self.collate_fn is None and hasattr(ds, "fetch"):
            at = index if isinstance(index, (slice, numpy.ndarray)) else numpy.asarray(ids)
            if isinstance(at, slice) or at.dtype.kind in "iu":
                batch = ds.fetch(at)
                if batch is not None:  # a list, as torch's default_collate makes of tuples
                    return list(batch) if type(batch) is tuple else batch
        samples = ds.__getitems__(list(ids)) if hasattr(ds, "__getitems__") else None
        samples = samples if samples is not None else [ds[i] for i in ids]
        return (self.collate_fn or default_collate)(samples)

    def _stream_work(self) -> Callable[[Any], Any]:
        """Batches of one pass over the IterableDataset, one per call, then ``_EXHAUSTED``."""
        stream = iter(self.dataset)
        size = self.batch_size

        def work(_task):
            if size is None:
                sample = next(stream, _EXHAUSTED)
                convert = self.collate_fn or default_convert
                return sample if sample is _EXHAUSTED else convert(sample)
            chunk = list(itertools.islice(stream, size))
            if not chunk or (self.drop_last and len(chunk) < size):
                return _EXHAUSTED
            return (self.collate_fn or default_collate)(chunk)

        return work

    def _inline(self, tasks: Iterator) -> Iterator[tuple[Any, bool]]:
        """(batch, is_last) pairs loaded here; the next task is looked at to know the last."""
        work = self._stream_work() if self._iterable else self._load
        task = next(tasks, _END)
        while task is not _END:
            out = work(task)
            task = next(tasks, _END)
            if out is _EXHAUSTED:
                return
            yield out, task is _END

    def _threaded(self, tasks: Iterator, make_work: Callable) -> Iterator[tuple[Any, bool]]:
        """(batch, is_last) pairs loaded by worker threads. Task k goes to the next worker in
        turn that has not run out (torch's round robin), prefetch_factor of them per worker."""
        n = self.num_workers
        workers = _Workers(self, make_work, self._worker_seed())
        live, turn = [True] * n, itertools.cycle(range(n))

        def hand_out() -> None:
            if any(live) and (task := next(tasks, _END)) is not _END:
                wid = next(w for w in turn if live[w])
                workers.put(wid, task)

        try:
            for _ in range(max(1, self.prefetch_factor) * n):
                hand_out()
            while workers.order:
                wid, out = workers.get()
                if out is _EXHAUSTED:
                    live[wid] = False
                hand_out()
                if out is not _EXHAUSTED:
                    yield out, not workers.order
        finally:
            workers.close()

    def _worker_seed(self) -> int:
        """Base of the workers' seeds: from the epoch's starting state and number, not drawn
        from the generator, so loading with workers leaves the shuffle order as without."""
        key = repr((self._epoch_start_state, self._sampler_start_state, self._epoch_now))
        return int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "little") >> 1

    # ------------------------------------------------------------ resume
    def state_dict(self) -> dict:
        """Generator states at the start of the epoch in progress, and batches already given."""
        in_epoch = self._epoch_start_state is not None
        state = {
            "generator": self._epoch_start_state if in_epoch else self.generator.get_state(),
            "batches_consumed": self._consumed if in_epoch else 0,
            "epoch": self._epoch_now if in_epoch else self._epoch,
        }
        own = self._own_generator()
        if own is not None:
            state["sampler_generator"] = self._sampler_start_state if in_epoch else own.get_state()
        return state

    def load_state_dict(self, state: dict) -> None:
        """Continue where ``state`` was taken: the next iteration replays the same epoch's
        order and skips the batches already consumed (an IterableDataset is read again up to
        there, so it resumes exactly only if it streams the same samples each pass)."""
        self.generator.set_state(state["generator"])
        own = self._own_generator()
        if own is not None and state.get("sampler_generator") is not None:
            own.set_state(state["sampler_generator"])
        self._skip = int(state["batches_consumed"])
        self._epoch = int(state.get("epoch", 0))
        self._epoch_start_state = self._sampler_start_state = self._active = None
        self._consumed = 0
