"""DistributedDataParallel and SyncBatchNorm on a subgroup (ranks 1 and 2 of 3): the replicas
start from the group's first rank (global 1), 4 SGD steps on half a batch each equal one
process on the whole batch, SyncBatchNorm's statistics cover the pair's batches only, and rank
0's own collectives meanwhile are untouched."""

import numpy as np
import pytest

import ember
import ember.nn.functional as F
from ember import nn
from tests.distributed.dist_harness import run_ranks
from tests.distributed.dist_workers import batch, make_mlp, params_of


@pytest.fixture(scope="module")
def ranks(tmp_path_factory):
    return run_ranks(
        "ddp_subgroup", 3, tmp_path_factory.mktemp("ddp_subgroup"),
        module="tests.distributed.dist_workers_ddp_group",
    )  # fmt: skip


def test_ddp_on_a_pair_equals_one_process_on_the_whole_batch(ranks):
    arrays, infos = ranks
    assert [info["pair_rank"] for info in infos] == [-1, 0, 1]
    ember.manual_seed(31)  # global rank 1's seed: the group's first rank
    model = make_mlp()
    start = np.concatenate([p.ravel() for p in params_of(model)])
    for r in (1, 2):
        np.testing.assert_array_equal(arrays[r]["init"], start)
    opt = ember.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    x, y = batch(5)
    for _ in range(4):
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        opt.step()
    for i, p in enumerate(params_of(model)):
        assert arrays[1][f"p{i}"].tobytes() == arrays[2][f"p{i}"].tobytes()
        np.testing.assert_allclose(arrays[1][f"p{i}"], p, rtol=0, atol=1e-12)
        assert not np.allclose(p, start[: p.size].reshape(p.shape))  # it did train
    for info in infos:
        assert not info["torch_loaded"]


def test_sync_batchnorm_on_a_pair_and_the_rank_outside_it(ranks):
    arrays, _ = ranks
    x, _ = batch(5)
    bn = nn.BatchNorm1d(5).double()
    bn(x)  # the pair's two halves together
    for r in (1, 2):
        np.testing.assert_allclose(arrays[r]["running_mean"], bn.running_mean.numpy(), atol=1e-14)
        np.testing.assert_allclose(arrays[r]["running_var"], bn.running_var.numpy(), atol=1e-14)
    np.testing.assert_array_equal(arrays[0]["alone"], np.arange(4.0))  # a group of one: x
