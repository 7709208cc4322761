"""async_op=True on 2 processes: the call returns at once and the collective runs on the
group's communication thread while the caller computes (its peer is still asleep when it
returns); Work.wait() blocks until the result is in place, with a timeout; queued and
synchronous collectives keep one order on every rank; a mismatch or a peer that exits fails
the Work, re-raised by wait(), and queued Works after a broken group fail too. DDP with
overlapped buckets gives the same bits as reducing them at the end, with and without
no_sync, by the star and by the ring."""

import numpy as np
import pytest

from tests.distributed.dist_harness import run_ranks

MODULE = "tests.distributed.dist_workers_ring"


@pytest.fixture(scope="module")
def ranks(tmp_path_factory):
    return run_ranks("async", 2, tmp_path_factory.mktemp("async"), module=MODULE)


def test_the_call_returns_at_once_and_runs_in_the_background(ranks):
    arrays, infos = ranks
    info = infos[0]
    assert info["launch_s"] < 0.1 and not info["completed_at_launch"]  # rank 1 sleeps 0.5 s
    assert "Work.wait() timed out after 0.05 s" in info["messages"]["wait_timeout"]
    assert info["waited"] is True and info["completed"] and info["success"]
    assert 0.4 < info["total_s"] < 3.0  # the 0.2 s of computing hid inside rank 1's sleep
    want = np.arange(1 << 16, dtype=np.float64) * 3
    for r in (0, 1):
        np.testing.assert_array_equal(arrays[r]["overlap"], want)


def test_queued_and_synchronous_collectives_keep_their_order(ranks):
    arrays, infos = ranks
    for r in (0, 1):
        assert infos[r]["two"] == [True, True, True, True]
        np.testing.assert_array_equal(arrays[r]["b"], np.full((3, 4), 2.0))
        np.testing.assert_array_equal(arrays[r]["c"], np.full(1 << 18, 5.0, np.float32))
        np.testing.assert_array_equal(arrays[r]["d"], np.full(5, 1.0))
        np.testing.assert_array_equal(arrays[r]["gathered"], [[0.0, 0.0], [10.0, 10.0]])


def test_a_mismatch_fails_the_work_on_every_rank_and_the_group_goes_on(ranks):
    arrays, infos = ranks
    for r in (0, 1):
        message = infos[r]["messages"]["mismatch"]
        assert message.startswith("DistBackendError: all_reduce: ranks passed tensors of diff")
        completed, success, error = infos[r]["mismatch_state"]
        assert completed and not success and error.startswith("DistBackendError(")
        np.testing.assert_array_equal(arrays[r]["after"], np.full(3, 3.0))


def test_a_peer_that_exits_fails_the_queued_works(ranks):
    _, infos = ranks
    messages = infos[0]["messages"]
    assert "connection to rank 1 was closed" in messages["dead"]
    assert "can no longer be used" in messages["after_dead"]


# ------------------------------------------------------------ DDP
@pytest.fixture(scope="module")
def ddp_ranks(tmp_path_factory):
    return run_ranks("ddp_overlap", 2, tmp_path_factory.mktemp("ddpov"), module=MODULE)


def test_ddp_overlapped_buckets_equal_the_synchronous_path_bitwise(ddp_ranks):
    arrays, infos = ddp_ranks
    buckets = infos[0]["buckets"]
    assert buckets >= 3
    keys = [k for k in arrays[0] if k.startswith("star_1_")]
    assert len(keys) == 4 * 6  # 3 steps of gradients and the final parameters, 6 tensors
    for algo in ("star", "ring"):
        for key in keys:
            key = key.replace("star_1_", f"{algo}_1_")
            overlapped = arrays[0][key]
            for r in (0, 1):  # the same bits on both ranks, overlapped or not
                assert arrays[r][key].tobytes() == overlapped.tobytes(), key
                synced = arrays[r][key.replace("_1_", "_0_")]
                assert synced.tobytes() == overlapped.tobytes(), key
    for r in (0, 1):  # per step: every bucket but the last async, launched during the sweep
        for algo in ("star", "ring"):  # (while gradients of earlier layers are still to come)
            step = [[True, True]] * (buckets - 1) + [[False, False]]
            assert infos[r][f"{algo}_1_calls"] == step * 3
            assert infos[r][f"{algo}_0_calls"] == [[False, False]] * (3 * buckets)
