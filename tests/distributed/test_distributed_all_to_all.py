"""all_to_all and all_to_all_single on 3 processes: equal and uneven splits (some pieces
empty), lists of pieces of their own shapes, async_op, 4 MiB pieces both ways at once, a
subgroup with a non-member, against closed-form expectations; the ranks' mistakes (splits
that do not match, a dim 0 that does not divide, dtypes or list lengths that differ) raised
on every rank, after which the group goes on; and the same calls with torch.distributed
(gloo) give the same results."""

import numpy as np
import pytest

from tests.distributed.dist_harness import run_ranks
from tests.distributed.dist_workers_objects import (
    BIG_ROWS,
    EQUAL_ROWS,
    piece,
    recv_shape,
    rows,
    uneven,
)

MODULE = "tests.distributed.dist_workers_objects"
WORLD = 3


@pytest.fixture(scope="module")
def ranks(tmp_path_factory):
    return run_ranks("all_to_all", WORLD, tmp_path_factory.mktemp("a2a"), module=MODULE)


@pytest.fixture(scope="module")
def torch_ranks(tmp_path_factory):
    pytest.importorskip("torch.distributed")
    return run_ranks("torch_all_to_all", WORLD, tmp_path_factory.mktemp("a2a_torch"),
                     module=MODULE)  # fmt: skip


def received_uneven(r: int) -> np.ndarray:
    """What rank r receives in the uneven split: from each rank k, the rows k cut for r."""
    parts = []
    for k in range(WORLD):
        start = sum(uneven(k, j) for j in range(r))
        parts.append(rows(k, uneven(k, r), start=start))
    return np.concatenate(parts)


def test_equal_split_is_the_transpose_of_the_pieces(ranks):
    arrays, infos = ranks
    for r in range(WORLD):
        want = np.concatenate([rows(k, EQUAL_ROWS, start=r * EQUAL_ROWS) for k in range(WORLD)])
        np.testing.assert_array_equal(arrays[r]["equal"], want)
        np.testing.assert_array_equal(arrays[r]["equal_async"], want)
        assert infos[r]["waited"] is True


def test_uneven_split_with_empty_pieces(ranks):
    arrays, _ = ranks
    assert any(uneven(k, r) == 0 for k in range(WORLD) for r in range(WORLD))
    for r in range(WORLD):
        got = arrays[r]["uneven"]
        assert got.shape == (sum(uneven(k, r) for k in range(WORLD)), 3)
        np.testing.assert_array_equal(got, received_uneven(r))


def test_lists_of_pieces_each_of_its_own_shape(ranks):
    arrays, _ = ranks
    for r in range(WORLD):
        for k in range(WORLD):
            got = arrays[r][f"list_{k}"]
            assert got.dtype == np.int64 and got.shape == recv_shape(k, r)
            np.testing.assert_array_equal(got, piece(k, r).reshape(-1))
        want = np.stack([rows(k, 2, start=2 * r) for k in range(WORLD)])
        np.testing.assert_array_equal(arrays[r]["list_equal"], want)


def test_pieces_larger_than_socket_buffers(ranks):
    arrays, infos = ranks
    for r in range(WORLD):
        start = r * BIG_ROWS
        want = np.stack([
            rows(0, 1, 4, start)[0], rows(0, 1, 4, start + BIG_ROWS - 1)[0],
            rows(1, 1, 4, start)[0], rows(2, 1, 4, start + BIG_ROWS - 1)[0],
        ]).astype(np.float32)  # fmt: skip
        np.testing.assert_array_equal(arrays[r]["big_ends"], want)
        assert infos[r]["big_s"] < 10.0


def test_subgroup_and_its_non_member(ranks):
    arrays, infos = ranks
    splits = [[1, 2], [2, 1]]  # group rank i sends splits[i][j] rows to group rank j
    members = [0, 2]
    for me, r in enumerate(members):
        want = np.concatenate([
            rows(members[j], splits[j][me], start=sum(splits[j][:me])) for j in range(2)
        ])  # fmt: skip
        np.testing.assert_array_equal(arrays[r]["sub"], want)
    assert infos[1]["non_member"] == [None, None]
    assert infos[1]["non_member_warnings"] == [
        f"Running {name} on global rank 1 which does not belong to the given group."
        for name in ("all_to_all_single", "all_to_all")
    ]


def test_mistakes_raise_on_every_rank_and_the_group_goes_on(ranks):
    arrays, infos = ranks
    messages = [info["messages"] for info in infos]
    assert messages[0] == messages[1] == messages[2]
    m = messages[0]
    assert m["splits"] == (
        "DistBackendError: all_to_all_single: the split sizes do not match: rank 0 sends 1"
        " elements to rank 1, which expects 2 from it; rank 2 sends 1 elements to rank 1, which"
        " expects 0 from it"
    )
    assert m["divide"] == (
        "DistBackendError: all_to_all_single failed on rank 0: input's dim 0 (4) does not"
        " divide among 3 ranks: pass input_split_sizes; rank 1: input's dim 0 (5) does not"
        " divide among 3 ranks: pass input_split_sizes"
    )
    assert m["dtype"] == (
        "DistBackendError: all_to_all_single: ranks passed tensors of different dtypes: rank 0:"
        " float64; rank 1: float64; rank 2: float32"
    )
    assert m["length"] == (
        "DistBackendError: all_to_all failed on rank 0: output_tensor_list must be a list of 3"
        " tensors (one per rank), got 2 entries"
    )
    for r in range(WORLD):
        np.testing.assert_array_equal(arrays[r]["after"], sum(rows(k, 1) for k in range(WORLD)))
        assert infos[r]["torch_loaded"] is False


def test_the_same_calls_give_torch_gloos_results(ranks, torch_ranks):
    arrays, _ = ranks
    torch_arrays, _ = torch_ranks
    for r in range(WORLD):
        want_keys = {"equal", "list_equal", "uneven"} | ({"sub"} if r != 1 else set())
        assert set(torch_arrays[r]) == want_keys
        for key in torch_arrays[r]:
            np.testing.assert_array_equal(arrays[r][key], torch_arrays[r][key], err_msg=key)
