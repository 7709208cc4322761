"""ember.multiprocessing (torch.multiprocessing): spawn runs fn(i, *args) in N processes, a
failure in any becomes an exception in the parent carrying the child's traceback, as torch's;
a Hogwild-style shared tensor is written by spawned workers."""

from __future__ import annotations

import numpy as np
import pytest

import ember
import ember.multiprocessing as mp


def _write_rank(i, folder, scale):
    import ember as e  # the child imports ember afresh (spawn)

    e.save({"x": e.full((2,), float(i) * scale)}, f"{folder}/{i}.safetensors")


def _fail_in_one(i):
    if i == 1:
        raise ValueError(f"rank {i} could not continue")


def _exit_with(i, code):
    import os

    os._exit(code if i == 0 else 0)


def _add_into_shared(i, shared):
    shared[i] = float(i + 1)  # the workers write one memory (share_memory_)


def test_spawn_runs_each_rank_with_its_arguments(tmp_path):
    assert mp.spawn(_write_rank, args=(str(tmp_path), 2.0), nprocs=3) is None
    for i in range(3):
        got = ember.load(tmp_path / f"{i}.safetensors")["x"]
        np.testing.assert_array_equal(got.numpy(), np.full(2, 2.0 * i, np.float32))


def test_a_failure_in_one_process_raises_with_its_traceback():
    with pytest.raises(mp.ProcessRaisedException) as e:
        mp.spawn(_fail_in_one, nprocs=2)
    assert e.value.error_index == 1
    assert "Process 1 terminated with the following error" in str(e.value)
    assert "ValueError: rank 1 could not continue" in str(e.value)


def test_an_exit_without_exception_is_reported_with_its_code():
    with pytest.raises(mp.ProcessExitedException, match="process 0 terminated with exit code 3"):
        mp.spawn(_exit_with, args=(3,), nprocs=2)


def test_join_false_returns_the_context_to_wait_on(tmp_path):
    ctx = mp.start_processes(
        _write_rank, args=(str(tmp_path), 1.0), nprocs=2, join=False, start_method="fork"
    )
    assert len(ctx.pids()) == 2
    while not ctx.join(timeout=5):
        pass
    assert (tmp_path / "1.safetensors").exists()


def test_a_shared_tensor_is_written_by_forked_workers():
    shared = ember.zeros(4).share_memory_()
    mp.start_processes(_add_into_shared, args=(shared,), nprocs=2, start_method="fork")
    np.testing.assert_array_equal(shared.numpy(), np.array([1, 2, 0, 0], np.float32))


def test_sharing_strategies_and_the_stdlib_names():
    assert mp.get_all_sharing_strategies() == {"file_descriptor", "file_system"}
    mp.set_sharing_strategy("file_system")
    assert mp.get_sharing_strategy() == "file_system"
    mp.set_sharing_strategy("file_descriptor")
    with pytest.raises(ValueError, match="is not one of"):
        mp.set_sharing_strategy("shm")
    assert mp.Process is not None and callable(mp.get_context) and callable(mp.Queue)
