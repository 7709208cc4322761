"""The ring all_reduce on 2 and 3 processes: every chunk reduced in the documented order
(starting at the rank that owns the chunk's index and going round), the same bits on every
rank and run after run, equal to the star within float rounding (exactly, for integers,
MIN and MAX), for SUM/AVG/PRODUCT/MIN/MAX, int and float dtypes, and tensors with fewer
elements than ranks; the size threshold and EMBER_ALLREDUCE choose between the two; ranks
that disagree all raise, and the group stays usable."""

import functools

import numpy as np
import pytest

from ember.distributed import RING_MIN_BYTES
from ember.distributed.ring import chunk_bounds
from tests.distributed.dist_harness import run_ranks
from tests.distributed.dist_workers_ring import DTYPES, SIZES, ops_for, ring_data

UFUNCS = {"SUM": np.add, "AVG": np.add, "PRODUCT": np.multiply, "MIN": np.minimum,
          "MAX": np.maximum}  # fmt: skip
ROUNDING = {"float32": {"rtol": 1e-5, "atol": 1e-3}, "float64": {"rtol": 1e-12, "atol": 1e-9}}


@pytest.fixture(scope="module", params=[2, 3], ids=["2-ranks", "3-ranks"])
def ranks(request, tmp_path_factory):
    world = request.param
    outdir = tmp_path_factory.mktemp(f"ring{world}")
    arrays, infos = run_ranks("ring", world, outdir, module="tests.distributed.dist_workers_ring")
    return world, arrays, infos


def ring_fold(op: str, arrays: list) -> np.ndarray:
    """The documented order: chunk c is ((x_c ∘ x_{c+1}) ∘ …) ∘ x_{c−1}, then ÷ W for AVG."""
    world, flat = len(arrays), [a.reshape(-1) for a in arrays]
    out = np.empty_like(flat[0])
    for c, (lo, hi) in enumerate(chunk_bounds(flat[0].size, world)):
        order = [(c + k) % world for k in range(world)]
        acc = flat[order[0]][lo:hi].copy()
        for r in order[1:]:
            acc = UFUNCS[op](acc, flat[r][lo:hi])
        if op == "AVG":
            acc /= world
        out[lo:hi] = acc
    return out.reshape(arrays[0].shape)


def star_fold(op: str, arrays: list) -> np.ndarray:
    out = functools.reduce(UFUNCS[op], arrays[1:], arrays[0].copy())
    if op == "AVG":
        out /= len(arrays)
    return out


def same_on_every_rank(arrays, key):
    first = arrays[0][key]
    for r, a in enumerate(arrays):
        assert a[key].dtype == first.dtype and a[key].tobytes() == first.tobytes(), (key, r)
    return first


def test_chunks_cover_the_tensor_even_when_smaller_than_the_world():
    assert chunk_bounds(7, 3) == [(0, 3), (3, 5), (5, 7)]
    assert chunk_bounds(1, 3) == [(0, 1), (1, 1), (1, 1)]
    assert chunk_bounds(0, 2) == [(0, 0), (0, 0)]


def test_ring_is_the_documented_order_bitwise_on_every_rank_and_run(ranks):
    world, arrays, _ = ranks
    for dtype in DTYPES:
        for op in ops_for(dtype):
            for n in SIZES:
                key = f"ring_{dtype}_{op}_{n}"
                got = same_on_every_rank(arrays, key)
                assert got.tobytes() == arrays[0][key + "_again"].tobytes(), key
                data = [ring_data(r, dtype, op, n) for r in range(world)]
                assert got.dtype == np.dtype(dtype), key
                np.testing.assert_array_equal(got, ring_fold(op, data), err_msg=key)


def test_ring_equals_the_star_within_rounding(ranks):
    """(With 2 ranks every chunk is x₀ ∘ x₁ or x₁ ∘ x₀: the star's bits, as ∘ commutes.)"""
    world, arrays, _ = ranks
    differ = 0
    for dtype in DTYPES:
        for op in ops_for(dtype):
            for n in SIZES:
                ring, star = (
                    arrays[0][f"ring_{dtype}_{op}_{n}"],
                    arrays[0][f"star_{dtype}_{op}_{n}"],
                )
                data = [ring_data(r, dtype, op, n) for r in range(world)]
                np.testing.assert_array_equal(star, star_fold(op, data))
                if dtype.startswith("int") or op in ("MIN", "MAX"):
                    np.testing.assert_array_equal(ring, star, err_msg=f"{dtype} {op} {n}")
                else:
                    np.testing.assert_allclose(ring, star, **ROUNDING[dtype])
                    differ += ring.tobytes() != star.tobytes()
    assert differ == 0 if world == 2 else differ > 0  # 3 ranks: the ring's own association


def test_tensors_async_and_the_size_threshold(ranks):
    world, arrays, _ = ranks
    data = [ring_data(r, "float32", "SUM", 105).reshape(3, 5, 7) for r in range(world)]
    np.testing.assert_array_equal(same_on_every_rank(arrays, "tensor3d"), ring_fold("SUM", data))
    data = [ring_data(r, "float64", "SUM", 1001) for r in range(world)]
    np.testing.assert_array_equal(same_on_every_rank(arrays, "async_ring"), ring_fold("SUM", data))
    # EMBER_RING_MIN_BYTES=4096: 67 float64 (536 B) by the star, 1001 (8008 B) by the ring
    assert arrays[0]["auto_67"].tobytes() == arrays[0]["star_float64_SUM_67"].tobytes()
    assert arrays[0]["auto_1001"].tobytes() == arrays[0]["ring_float64_SUM_1001"].tobytes()
    big = same_on_every_rank(arrays, "big_None")  # RING_MIN_BYTES and up: the ring by default
    assert big.nbytes >= RING_MIN_BYTES and big.tobytes() == arrays[0]["big_ring"].tobytes()


def test_disagreements_raise_on_every_rank_and_the_group_goes_on(ranks):
    world, arrays, infos = ranks
    messages = [info["messages"] for info in infos]
    for m in messages:
        assert m == messages[0]
    assert "chose different all_reduce algorithms" in messages[0]["algorithm"]
    assert "rank 0: all_reduce (ring)" in messages[0]["algorithm"]
    assert "passed tensors of different shapes or dtypes" in messages[0]["shape"]
    assert "ReduceOp.AVG needs floating-point tensors, got int64" in messages[0]["avg_int"]
    total = sum(range(1, world + 1))
    np.testing.assert_array_equal(same_on_every_rank(arrays, "after"), np.full(7, float(total)))
