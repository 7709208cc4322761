"""Non-blocking point to point on 3 processes: isend/irecv return at once and run in the
background (two ranks isend 16 MiB to each other before either receives, in both orders),
is_completed() before and after, batch_isend_irecv round a ring, messages matched by tag in
sending order and across queued collectives, errors raised by wait() (shape, dtype, a
receive that times out, a peer that exits), and a subgroup of 2 out of 3 with a non-member.
The ring exchange and the subgroup's results are compared with torch.distributed (gloo)
running the same calls."""

import numpy as np
import pytest

from tests.distributed.dist_harness import run_ranks
from tests.distributed.dist_workers_p2p import BIG, data

MODULE = "tests.distributed.dist_workers_p2p"


@pytest.fixture(scope="module")
def ranks(tmp_path_factory):
    return run_ranks("p2p", 3, tmp_path_factory.mktemp("p2p"), module=MODULE)


@pytest.fixture(scope="module")
def torch_ranks(tmp_path_factory):
    pytest.importorskip("torch.distributed")
    return run_ranks("torch_mirror", 3, tmp_path_factory.mktemp("p2p_torch"), module=MODULE)


def test_isend_and_irecv_both_ways_before_waiting(ranks):
    arrays, infos = ranks
    for r in (0, 1):
        assert infos[r]["launch_s"] < 0.5  # 16 MiB each way: the calls did not wait for it
        assert infos[r]["cross"] == [True, True, 1 - r]  # wait() results, then the sender
        assert infos[r]["reverse"] == [True, True]  # irecv first, then isend
        np.testing.assert_array_equal(arrays[r]["cross"], np.full(3, 2.0 - r, np.float32))
        np.testing.assert_array_equal(arrays[r]["reverse"], np.full(2, 4.0 - 2 * r))
    assert BIG * 4 > 8 << 20  # more than loopback sockets buffer both ways


def test_is_completed_is_false_until_the_message_is_in(ranks):
    arrays, infos = ranks
    assert infos[0]["pending"] == [False, False]
    assert 0.25 < infos[0]["late_s"] < 5.0  # rank 2 sent 0.3 s after rank 0 said go
    assert infos[0]["done"] == [True, True, True]
    np.testing.assert_array_equal(arrays[0]["late"], data(2, 3))


def test_batch_isend_irecv_ring_exchange(ranks):
    arrays, infos = ranks
    for r in range(3):
        assert infos[r]["ring"] == [True, True]
        np.testing.assert_array_equal(arrays[r]["ring"], data((r - 1) % 3, 4))


def test_messages_match_by_tag_in_sending_order_and_cross_collectives(ranks):
    arrays, infos = ranks
    want = [[9.0, 9.0], [0.0, 0.0], [1.0, 1.0], [2.0, 2.0]]  # tag 6 asked first, then 5s
    np.testing.assert_array_equal(arrays[1]["tags"], want)
    assert infos[1]["any_from"] == 2
    np.testing.assert_array_equal(arrays[1]["any"], [42.0, 42.0])
    for r in range(3):
        np.testing.assert_array_equal(arrays[r]["reduced"], sum(data(k, 3) for k in range(3)))


def test_errors_surface_from_wait_and_name_ranks_shapes_dtypes(ranks):
    arrays, infos = ranks
    messages = infos[1]["messages"]
    assert messages["shape"] == (
        "DistBackendError: recv on rank 1: rank 0 sent a tensor of shape (3,) and dtype"
        " float64 (tag 11), but this rank receives into shape (2, 2) and dtype float64"
    )
    assert "rank 0 sent a tensor of shape (2, 2) and dtype int32 (tag 12)" in messages["dtype"]
    for r in (0, 1):  # the group went on after them
        np.testing.assert_array_equal(arrays[r]["after"], data(0, 2) + data(1, 2) + data(2, 2))
    assert messages["timeout"].startswith(
        "DistNetworkError: rank 1: timed out after 1 s waiting for a message from rank 0 (tag"
        " 0, shape (2,), dtype float64)"
    )
    assert 0.9 < infos[1]["timeout_s"] < 4.0
    for r in (0, 1):  # rank 2 exited while both waited for its message
        dead = infos[r]["messages"]["dead"]
        assert dead.startswith(f"DistNetworkError: rank {r}: the connection to rank 2 was closed")
        assert "can no longer be used" in infos[r]["messages"]["after_dead"]


def test_subgroup_of_two_out_of_three_and_its_non_member(ranks):
    arrays, infos = ranks
    assert [info["sub_rank"] for info in infos] == [[0, 2], [-1, -1], [1, 2]]
    for r in (0, 2):
        np.testing.assert_array_equal(arrays[r]["sub_sum"], data(0, 3) + data(2, 3))
        np.testing.assert_array_equal(arrays[r]["sub_bcast"], data(2, 3))  # src: global 2
        np.testing.assert_array_equal(arrays[r]["sub_gather"], [data(0, 3), data(2, 3)])
    assert infos[1]["non_member_returns"] == [None, None, None, -1]
    assert infos[1]["non_member_warnings"] == [
        f"Running {name} on global rank 1 which does not belong to the given group."
        for name in ("all_reduce", "barrier", "isend", "recv")
    ]
    np.testing.assert_array_equal(arrays[1]["untouched"], data(1, 3))
    assert not any(info["torch_loaded"] for info in infos[:2])


def test_the_same_calls_give_torch_gloos_results(ranks, torch_ranks):
    arrays, infos = ranks
    torch_arrays, torch_infos = torch_ranks
    for r in range(3):
        assert infos[r]["sub_rank"] == torch_infos[r]["sub_rank"]
        for key in torch_arrays[r]:
            np.testing.assert_array_equal(arrays[r][key], torch_arrays[r][key], err_msg=key)
    assert torch_infos[1]["non_member_returns"] == [None]
    assert sorted(torch_arrays[0]) == ["ring", "sub_bcast", "sub_gather", "sub_sum"]
