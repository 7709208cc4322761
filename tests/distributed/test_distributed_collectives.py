"""ember.distributed's collectives on 2 and 3 processes on localhost: every result against
NumPy's own computation in rank order, the same bits on every rank; the errors (before
init, ranks that disagree, a peer that dies or stays silent, rendezvous that never
completes) raised on every rank, quickly."""

import functools
import socket
import time
from datetime import timedelta

import numpy as np
import pytest

import ember
import ember.distributed as dist
from tests.distributed.dist_harness import free_port, run_ranks
from tests.distributed.dist_workers import rank_data

UFUNCS = {
    "SUM": np.add,
    "PRODUCT": np.multiply,
    "MIN": np.minimum,
    "MAX": np.maximum,
    "AVG": np.add,
    "BAND": np.bitwise_and,
    "BOR": np.bitwise_or,
    "BXOR": np.bitwise_xor,
}


def fold(op: str, arrays: list) -> np.ndarray:
    """op over the ranks' arrays in rank order, ((x₀ ∘ x₁) ∘ x₂), as NumPy computes it."""
    out = functools.reduce(UFUNCS[op], arrays[1:], arrays[0].copy())
    if op == "AVG":
        out /= len(arrays)
    return out


@pytest.fixture(scope="module", params=[2, 3], ids=["2-ranks", "3-ranks"])
def collectives(request, tmp_path_factory):
    world = request.param
    arrays, infos = run_ranks("collectives", world, tmp_path_factory.mktemp(f"coll{world}"))
    return world, arrays, infos, [rank_data(r) for r in range(world)]


def same_on_every_rank(arrays, key):
    first = arrays[0][key]
    for r, a in enumerate(arrays):
        assert a[key].dtype == first.dtype and a[key].tobytes() == first.tobytes(), (key, r)
    return first


def test_reductions_equal_numpy_in_rank_order_bitwise_on_every_rank(collectives):
    world, arrays, infos, data = collectives
    expected = fold("SUM", [d["f32"] for d in data])
    np.testing.assert_array_equal(same_on_every_rank(arrays, "sum_f32"), expected)
    assert expected.dtype == np.float32
    for op in ("SUM", "PRODUCT", "MIN", "MAX", "AVG"):
        got = same_on_every_rank(arrays, f"{op}_f64")
        np.testing.assert_array_equal(got, fold(op, [d["f64"] for d in data]), err_msg=op)
    for op in ("SUM", "MIN", "MAX", "BAND", "BOR", "BXOR"):
        key = "bits" if op.startswith("B") else "i64"
        got = same_on_every_rank(arrays, f"{op}_i64")
        np.testing.assert_array_equal(got, fold(op, [d[key] for d in data]), err_msg=op)
    big = same_on_every_rank(arrays, "big")
    np.testing.assert_array_equal(big, fold("SUM", [d["big"] for d in data]))
    assert float(same_on_every_rank(arrays, "scalar")) == float(np.prod(np.arange(1, world + 1)))
    assert same_on_every_rank(arrays, "empty").shape == (0, 3)
    # async_op=True: a Work that is already complete
    assert all(info["waited"] == [[True, True]] * 5 for info in infos)


def test_broadcast_gather_scatter(collectives):
    world, arrays, _, data = collectives
    for src in (0, world - 1):
        got = same_on_every_rank(arrays, f"broadcast_{src}")
        np.testing.assert_array_equal(got, data[src]["f32"])
    stacked = np.stack([d["f32"] for d in data])
    np.testing.assert_array_equal(same_on_every_rank(arrays, "all_gather"), stacked)
    np.testing.assert_array_equal(
        same_on_every_rank(arrays, "all_gather_into_tensor"), stacked.reshape(world * 3, 4)
    )
    total = fold("SUM", [d["f64"] for d in data])
    for r in range(world):  # reduce: dst has the sum, the others keep their own tensor
        want = total if r == 1 else data[r]["f64"]
        np.testing.assert_array_equal(arrays[r]["reduce"], want)
        want = np.stack([d["f64"] for d in data]) if r == world - 1 else np.zeros(0)
        np.testing.assert_array_equal(arrays[r]["gather"], want)
        np.testing.assert_array_equal(arrays[r]["scatter"], data[r]["f64"] * 10)
        s = sum(k + 1 for k in range(world))  # rank k sent arange(2W)·(k + 1)
        want = [2 * r * s, (2 * r + 1) * s]
        np.testing.assert_array_equal(arrays[r]["reduce_scatter_tensor"], want)
        want = fold("SUM", [d["f64"] * (r + 1) for d in data])
        np.testing.assert_array_equal(arrays[r]["reduce_scatter"], want)


def test_send_recv_by_tag_from_any_rank_and_across_a_collective(collectives):
    world, arrays, infos, _ = collectives
    last = world - 1
    np.testing.assert_array_equal(arrays[last]["tags"], [[1.0, 2.0], [3.0, 4.0]])
    assert infos[last]["tag2_from"] == 0 and infos[last]["irecv_waited"] is True
    assert infos[0]["any_from"] == 1  # recv(src=None) says who sent
    np.testing.assert_array_equal(arrays[0]["early"], [7, 7, 7])


# ------------------------------------------------------------ errors, on every rank
@pytest.fixture(scope="module")
def errors(tmp_path_factory):
    return run_ranks("errors", 3, tmp_path_factory.mktemp("errors"))


def test_mismatched_calls_raise_on_every_rank_naming_ranks_shapes_dtypes(errors):
    arrays, infos = errors
    messages = [info["messages"] for info in infos]
    for m in messages:  # the same error everywhere, so no rank waits for another
        assert m["shape"] == messages[0]["shape"] and m["local"] == messages[0]["local"]
    assert messages[0]["shape"] == (
        "DistBackendError: all_reduce: ranks passed tensors of different shapes or dtypes:"
        " ranks 0, 1: shape (2, 2) dtype float32; rank 2: shape (3,) dtype float32"
    )
    assert "rank 1: shape (4,) dtype float64" in messages[1]["dtype"]
    assert "ranks 0, 2: all_reduce; rank 1: broadcast" in messages[2]["op"]
    assert "failed on rank 1: tensor_list must be a list of 3 tensors" in messages[0]["local"]
    for r in range(3):  # the group still works after a mismatch
        np.testing.assert_array_equal(arrays[r]["after"], [6.0, 6.0])


def test_a_dead_peer_raises_at_once_on_the_others(errors):
    _, infos = errors
    for r in (0, 1):
        message = infos[r]["messages"]["dead"]
        assert "connection to rank 2 was closed" in message, message
        assert infos[r]["dead_s"] < 3.0  # the timeout was 20 s: the closed socket told them
        assert "can no longer be used" in infos[r]["messages"]["broken"]


def test_a_silent_peer_raises_after_the_timeout(errors):
    _, infos = errors
    message = infos[0]["messages"]["silent"]
    assert "timed out after 1 s waiting for rank 1" in message
    assert 0.9 < infos[0]["silent_s"] < 3.0
    assert "rank 0" in infos[1]["messages"]["silent"]  # the late rank is told, not left hanging


# ------------------------------------------------------------ in this process
@pytest.fixture
def group_of_one():
    dist.init_process_group("gloo", f"tcp://127.0.0.1:{free_port()}", rank=0, world_size=1)
    yield
    if dist.is_initialized():
        dist.destroy_process_group()


def test_calls_before_init_process_group_say_to_call_it():
    assert not dist.is_initialized() and dist.is_available()
    for call in (lambda: dist.all_reduce(ember.ones(2)), dist.get_rank, dist.barrier):
        with pytest.raises(RuntimeError, match="init_process_group"):
            call()


def test_group_of_one(group_of_one):
    assert (dist.get_rank(), dist.get_world_size(), dist.get_backend()) == (0, 1, "gloo")
    t = ember.tensor([1.0, 2.0])
    work = dist.all_reduce(t, op=dist.ReduceOp.AVG, async_op=True)
    assert work.wait() and work.is_completed() and work.result()[0] is t
    np.testing.assert_array_equal(t.numpy(), [1.0, 2.0])
    with pytest.raises(RuntimeError, match="twice"):
        dist.init_process_group("gloo", init_method="tcp://127.0.0.1:1", rank=0, world_size=1)
    with pytest.raises(ValueError, match="src=1"):
        dist.broadcast(t, src=1)
    with pytest.raises(TypeError, match="expected an ember Tensor or a NumPy array"):
        dist.all_reduce([1.0, 2.0])
    with pytest.raises(ValueError, match=r"new_group\(ranks=\[0, 1\]\): 1 is not a rank in 0"):
        dist.new_group([0, 1])
    alone = dist.new_group([0])  # a subgroup of one: its collectives need no messages
    assert (dist.get_rank(alone), dist.get_world_size(alone)) == (0, 1)
    dist.all_reduce(t, group=alone)
    np.testing.assert_array_equal(t.numpy(), [1.0, 2.0])
    dist.destroy_process_group()
    assert not dist.is_initialized()


def test_init_arguments_are_checked(monkeypatch):
    with pytest.raises(ValueError, match="'gloo'"):
        dist.init_process_group("nccl")
    for name in ("MASTER_ADDR", "MASTER_PORT", "RANK", "WORLD_SIZE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MASTER_ADDR", "127.0.0.1")
    with pytest.raises(ValueError, match="MASTER_PORT, RANK, WORLD_SIZE are not set"):
        dist.init_process_group("gloo")
    with pytest.raises(ValueError, match="tcp://host:port"):
        dist.init_process_group("gloo", init_method="tcp://nowhere", rank=0, world_size=2)
    with pytest.raises(ValueError, match="0 <= rank < world_size"):
        dist.init_process_group("gloo", init_method="tcp://127.0.0.1:5", rank=2, world_size=2)
    assert not dist.is_initialized()


def test_rendezvous_that_never_completes_raises_after_the_timeout():
    port = free_port()
    start = time.monotonic()
    where, short = f"tcp://127.0.0.1:{port}", timedelta(seconds=0.5)
    with pytest.raises(dist.DistNetworkError, match=f"could not connect to rank 0 at .*:{port}"):
        dist.init_process_group(init_method=where, rank=1, world_size=2, timeout=short)
    with pytest.raises(dist.DistNetworkError, match="waiting for rank\\(s\\) 1 to join"):
        dist.init_process_group(init_method=where, rank=0, world_size=2, timeout=short)
    assert time.monotonic() - start < 4.0 and not dist.is_initialized()
    with socket.create_server(("", port)):  # rank 0 let its port go: it binds again
        pass
