"""Subgroups on 4 processes: ranks and sizes within each group (-1 outside it), rank
translation, two disjoint groups reducing at once, overlapping groups called in different
orders on their shared ranks, every collective on a group of three with global src/dst (the
ring too), point to point inside a group, a group of one and a group of all, ranks that
disagree on new_group, a destroyed group; and new_group's arguments checked in one process."""

from datetime import timedelta

import numpy as np
import pytest

import ember.distributed as dist
from tests.distributed.dist_harness import free_port, run_ranks
from tests.distributed.dist_workers_p2p import data

MODULE = "tests.distributed.dist_workers_p2p"
G123 = (1, 2, 3)


@pytest.fixture(scope="module")
def ranks(tmp_path_factory):
    return run_ranks("subgroups", 4, tmp_path_factory.mktemp("subgroups"), module=MODULE)


def test_ranks_sizes_and_translation(ranks):
    _, infos = ranks
    want = [  # [get_rank, get_world_size] per group, on ranks 0 … 3
        {"g01": [0, 2], "g23": [-1, -1], "g123": [-1, -1], "all": [0, 4], "alone": [-1, -1]},
        {"g01": [1, 2], "g23": [-1, -1], "g123": [0, 3], "all": [1, 4], "alone": [-1, -1]},
        {"g01": [-1, -1], "g23": [0, 2], "g123": [1, 3], "all": [2, 4], "alone": [0, 1]},
        {"g01": [-1, -1], "g23": [1, 2], "g123": [2, 3], "all": [3, 4], "alone": [-1, -1]},
    ]
    assert [info["ranks"] for info in infos] == want
    for r, info in enumerate(infos):  # NON_GROUP_MEMBER exactly where get_rank is -1
        assert info["non_member"] == [k for k, v in want[r].items() if v[0] == -1]
    for r in G123:
        assert infos[r]["translate"] == [[0, 1, 2], [1, 2, 3], [1, 2, 3]]
        messages = infos[r]["messages"]
        assert messages["group_rank"].startswith("ValueError: Global rank 0 is not part of")
        assert messages["global_rank"].startswith("ValueError: Group rank 3 is not part of")
        want_src = "ValueError: src=0: expected one of the group's global ranks [1, 2, 3]"
        assert messages["src"] == want_src
    assert "not registered" in infos[0]["messages"]["not_registered"]


def test_two_out_of_four_disjoint_groups_at_once_without_mixing(ranks):
    arrays, _ = ranks
    for r in range(4):
        pair = (0, 1) if r < 2 else (2, 3)
        want = [sum(data(k, 4, i + 1) for k in pair) for i in range(20)]
        np.testing.assert_array_equal(arrays[r]["pair_sums"], want)
        np.testing.assert_array_equal(arrays[r]["pair_bcast"], data(pair[1], 2))
        np.testing.assert_array_equal(arrays[r]["pair_gather"], [data(k, 2) for k in pair])


def test_overlapping_groups_called_in_different_orders(ranks):
    arrays, _ = ranks
    for r in range(4):
        pair = (0, 1) if r < 2 else (2, 3)
        np.testing.assert_array_equal(arrays[r]["overlap_x"], sum(data(k, 3) for k in pair))
        y = sum(data(k, 3, 0.5) for k in G123) if r else data(0, 3, 0.5)
        np.testing.assert_array_equal(arrays[r]["overlap_y"], y)


def test_every_collective_on_a_group_of_three_with_global_ranks(ranks):
    arrays, infos = ranks
    mine = {r: data(r, 3) for r in G123}
    for k, r in enumerate(G123):  # k: the rank within the group
        a = arrays[r]
        np.testing.assert_array_equal(a["bcast"], mine[3])
        np.testing.assert_array_equal(a["gathered"], [mine[1], mine[2], mine[3]])
        np.testing.assert_array_equal(a["reduced"], mine[3] if r == 2 else mine[r])  # MAX
        np.testing.assert_array_equal(a["scatter"], mine[r])
        np.testing.assert_array_equal(a["reduce_scatter"], sum(data(q, 2, k + 1) for q in G123))
        np.testing.assert_array_equal(a["ring"], sum(data(q, 7) for q in G123))
    np.testing.assert_array_equal(arrays[3]["gather"], [mine[1], mine[2], mine[3]])
    assert infos[1]["p2p_from"] == 3
    np.testing.assert_array_equal(arrays[1]["p2p"], [3.0, 3.0])


def test_ranks_within_the_group_as_group_src_and_group_dst(ranks):
    """torch's group_src / group_dst: ranks within the group, for broadcast, reduce, send/recv
    and the object collectives; giving both a global and a group rank, or neither where torch
    needs one, or a group rank out of range, is a ValueError on every rank."""
    arrays, infos = ranks
    for r in G123:
        np.testing.assert_array_equal(arrays[r]["g_bcast"], data(3, 3))
        want = sum(data(q, 3) for q in G123) if r == 1 else data(r, 3)
        np.testing.assert_array_equal(arrays[r]["g_reduce"], want)
        assert infos[r]["g_object"] == {"from": 2}
        messages = infos[r]["messages"]
        assert messages["both"] == "ValueError: src=1 and group_src=0: give one, not both"
        assert messages["neither"].startswith("ValueError: give src (a global rank)")
        assert messages["group_src"] == "ValueError: group_src=3: expected a rank in 0 … 2"
    assert infos[1]["g_p2p_from"] == 2
    np.testing.assert_array_equal(arrays[1]["g_p2p"], [2.0, 2.0])


def test_group_of_one_group_of_all_and_the_default_group_after(ranks):
    arrays, infos = ranks
    np.testing.assert_array_equal(arrays[2]["solo"], data(2, 2))
    for r in range(4):
        total = sum(data(k, 2) for k in range(4))
        np.testing.assert_array_equal(arrays[r]["whole"], total)
        np.testing.assert_array_equal(arrays[r]["last"], total)
        assert not infos[r]["torch_loaded"]


def test_ranks_that_disagree_on_new_group_all_raise_and_destroyed_groups_refuse(ranks):
    _, infos = ranks
    for r in range(4):
        assert infos[r]["messages"]["disagree"] == (
            "DistBackendError: new_group: ranks passed different ranks=: rank 0: [0, 1];"
            " rank 1: [0, 2]; rank 2: [0, 2]; rank 3: [0, 2]"
        )
    for r in (0, 1):
        destroyed = infos[r]["messages"]["destroyed"]
        assert destroyed.startswith(f"ValueError: ProcessGroup(rank={r}, size=2, ranks=[0, 1]")
        assert destroyed.endswith("can no longer be used: destroy_process_group() was called")


def test_new_group_arguments_are_checked():
    where = f"tcp://127.0.0.1:{free_port()}"
    dist.init_process_group("gloo", init_method=where, rank=0, world_size=1,
                            timeout=timedelta(seconds=5))  # fmt: skip
    try:
        with pytest.raises(ValueError, match=r"new_group\(ranks=\[0, 0\]\): a rank appears"):
            dist.new_group([0, 0])
        with pytest.raises(ValueError, match=r"-1 is not a rank in 0 … 0"):
            dist.new_group([-1])
        with pytest.raises(ValueError, match="'nccl'"):
            dist.new_group([0], backend="nccl")
        world = dist.new_group()
        assert world is not dist.group.WORLD and dist.get_process_group_ranks(world) == [0]
        assert dist.get_group_rank(None, 0) == 0 and dist.get_global_rank(world, 0) == 0
        t = np.array([1.0, 2.0])
        assert dist.barrier(group=world, async_op=True).wait()
        with pytest.raises(ValueError, match="src=0 is this rank; a rank cannot receive from"):
            dist.irecv(t, src=0, group=world)
        with pytest.raises(ValueError, match="expected None, group.WORLD or a live group"):
            dist.all_reduce(t, group="world")
    finally:
        dist.destroy_process_group()
    assert not dist.is_initialized()
