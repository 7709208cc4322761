"""One pass over a DataLoader (what ``iter(loader)`` gives) and the warnings torch gives
while making or running one."""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from .. import backend

if TYPE_CHECKING:
    from .dataloader import DataLoader


class LoaderPass:
    """One pass over a DataLoader, as ``iter(loader)`` gives it: an iterator that answers
    ``len()`` as torch's does (the batches of a pass; a stream has none to give)."""

    __slots__ = ("_batches", "_loader")

    def __init__(self, batches: Iterator, loader: DataLoader) -> None:
        self._batches, self._loader = batches, loader

    def __iter__(self) -> LoaderPass:
        return self

    def __next__(self) -> Any:
        return next(self._batches)

    def __len__(self) -> int:
        if self._loader._iterable:  # torch's: the length of its endless sampler
            raise TypeError("a pass over an IterableDataset has no len(); len(loader) reads it")
        return len(self._loader)

    def close(self) -> None:
        self._batches.close()


def warn_pinning(loader: DataLoader) -> None:
    """torch's warnings at each iteration: pinned memory serves only an accelerator, and
    ember's arrays are pinned by nothing (on the CPU torch would pin nothing either)."""
    if loader.pin_memory and loader.pin_memory_device:
        warnings.warn("pin_memory_device is deprecated, the current accelerator will be used"
                      f" as the device,ignore pin_memory_device='{loader.pin_memory_device}'.",
                      stacklevel=4)  # fmt: skip
    if loader.pin_memory and not backend.ON_GPU:
        warnings.warn("'pin_memory' argument is set as true but no accelerator is found, then"
                      " device pinned memory won't be used.", stacklevel=4)  # fmt: skip


def warn_overlong(loader: DataLoader, reported: int, fetched: int) -> None:
    """torch's warning: the stream gave more than the ``len(dataset)`` that ``len(loader)``
    read (torch compares the batches handed out with it, whatever the batch size)."""
    msg = (
        f"Length of IterableDataset {loader.dataset} was reported to be {reported} (when"
        f" accessing len(dataloader)), but {fetched} samples have been fetched. "
    )
    if loader.num_workers > 0:
        msg += ("For multiprocessing data-loading, this could be caused by not properly"
                " configuring the IterableDataset replica at each worker. Please see"
                " https://pytorch.org/docs/stable/data.html#torch.utils.data.IterableDataset"
                " for examples.")  # fmt: skip
    warnings.warn(msg, stacklevel=4)


def warn_worker_count(loader: DataLoader, stacklevel: int) -> None:
    """torch's warning when the loader is made and at each pass with workers: more workers
    than the CPUs this process may use (threads here, but as many busy threads as processes
    would be on as few cores)."""
    n = loader.num_workers
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    if not n or (cpus is not None and n <= cpus):
        return
    suggested = (
        "DataLoader is not able to compute a suggested max number of worker in current system."
        if cpus is None
        else f"Our suggested max number of worker in current system is {cpus}"
        + ("" if hasattr(os, "sched_getaffinity") else " (`cpuset` is not taken into account)")
        + ", which is smaller than what this DataLoader is going to create."
    )
    warnings.warn(
        f"This DataLoader will create {n} worker threads in total. {suggested} Please be aware"
        " that excessive worker creation might get DataLoader running slow or even freeze,"
        " lower the worker number to avoid potential slowness/freeze if necessary.",
        stacklevel=stacklevel,
    )
