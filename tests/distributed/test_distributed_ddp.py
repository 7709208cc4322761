"""DistributedDataParallel on 2 processes: the replicas start from rank 0's weights and stay
bitwise equal, and 5 SGD steps on half a batch each equal one process on the whole batch;
no_sync accumulates locally and the next backward averages the sum; buffers come from rank
0; find_unused_parameters counts unused parameters as zero; without it, torch's error."""

import numpy as np
import pytest

import ember
import ember.distributed as dist
import ember.nn.functional as F
from ember import nn
from ember.nn.parallel import DistributedDataParallel as DDP
from tests.distributed.dist_harness import free_port, run_ranks
from tests.distributed.dist_workers import ThreeHeads, batch, half, make_mlp, params_of

TIGHT = {"rtol": 0, "atol": 1e-12}  # float64: what the order of a sum of 8 terms can change


@pytest.fixture(scope="module")
def ranks(tmp_path_factory):
    return run_ranks("ddp", 2, tmp_path_factory.mktemp("ddp"))


def grads(model, x, y, **kw) -> list:
    model.zero_grad()
    F.cross_entropy(model(x, **kw), y).backward()
    return [p.grad.numpy().copy() if p.grad is not None else None for p in model.parameters()]


def test_two_ranks_on_half_batches_equal_one_process_on_the_whole_batch(ranks):
    arrays, infos = ranks
    ember.manual_seed(10)  # rank 0's seed: the replicas start from its weights
    model = make_mlp()
    start = np.concatenate([p.ravel() for p in params_of(model)])
    for r in (0, 1):
        np.testing.assert_array_equal(arrays[r]["eq_init"], start)
    opt = ember.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    x, y = batch(0)
    for _ in range(5):
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()  # the mean over all 8
        opt.step()
    for i, p in enumerate(params_of(model)):
        assert arrays[0][f"eq_{i}"].tobytes() == arrays[1][f"eq_{i}"].tobytes()
        np.testing.assert_allclose(arrays[0][f"eq_{i}"], p, **TIGHT)
        assert not np.allclose(p, start[: p.size].reshape(p.shape))  # it did train
    keys = ["module.0.weight", "module.0.bias", "module.2.weight", "module.2.bias"]
    assert infos[0]["keys"] == keys
    assert not infos[0]["torch_loaded"] and not infos[1]["torch_loaded"]


def test_no_sync_accumulates_locally_then_one_backward_averages_the_sum(ranks):
    arrays, _ = ranks
    ember.manual_seed(20)
    model = make_mlp()
    (xa, ya), (xb, yb) = batch(1), batch(2)
    local = [grads(model, half(xa, r), half(ya, r)) for r in (0, 1)]
    later = [grads(model, half(xb, r), half(yb, r)) for r in (0, 1)]
    for i, p in enumerate(model.parameters()):
        for r in (0, 1):  # inside no_sync: this rank's own gradient, nothing exchanged
            np.testing.assert_allclose(arrays[r][f"ns_local_{i}"], local[r][i], **TIGHT)
        assert not np.allclose(arrays[0][f"ns_local_{i}"], arrays[1][f"ns_local_{i}"])
        want = ((local[0][i] + later[0][i]) + (local[1][i] + later[1][i])) / 2
        assert arrays[0][f"ns_grad_{i}"].tobytes() == arrays[1][f"ns_grad_{i}"].tobytes()
        np.testing.assert_allclose(arrays[0][f"ns_grad_{i}"], want, **TIGHT)
        step = p.detach().numpy() - 0.1 * want  # one SGD step on the averaged sum
        np.testing.assert_allclose(arrays[1][f"ns_param_{i}"], step, **TIGHT)


def test_buffers_come_from_rank_0_at_construction_and_before_each_forward(ranks):
    arrays, _ = ranks
    np.testing.assert_array_equal(arrays[1]["bn_init"], np.zeros(4))  # not rank 1's 7.0
    np.testing.assert_array_equal(arrays[1]["nobn_init"], np.full(4, 7.0))  # kept: not asked
    for i in range(3):  # running_mean, running_var, num_batches_tracked
        seen, rank0 = arrays[1][f"bn_seen2_{i}"], arrays[0][f"bn_after1_{i}"]
        assert seen.dtype == rank0.dtype and seen.tobytes() == rank0.tobytes()
        own = arrays[1][f"nobn_after1_{i}"]
        assert arrays[1][f"nobn_seen2_{i}"].tobytes() == own.tobytes()
    assert not np.allclose(arrays[0]["bn_after1_0"], arrays[1]["bn_after1_0"])  # it mattered


def test_find_unused_parameters_counts_them_as_zero(ranks):
    arrays, _ = ranks
    ember.manual_seed(50)
    model = ThreeHeads().double()
    x, y = batch(3)
    g0 = grads(model, half(x, 0), half(y, 0), use_b=True)
    g1 = grads(model, half(x, 1), half(y, 1), use_b=False)
    names = [n for n, _ in model.named_parameters()]
    for i, name in enumerate(names):
        got = arrays[0][f"fu_{name}"]
        assert got.tobytes() == arrays[1][f"fu_{name}"].tobytes()
        if name.startswith("a."):
            np.testing.assert_allclose(got, (g0[i] + g1[i]) / 2, **TIGHT)
        elif name.startswith("b."):  # used on rank 0 only: rank 1 counts zero
            assert g1[i] is None
            np.testing.assert_allclose(got, g0[i] / 2, **TIGHT)
        else:  # used by no rank: .grad stays None
            assert got.shape == (0,)


def test_an_unused_parameter_without_find_unused_raises_torchs_error(ranks):
    _, infos = ranks
    for r in (0, 1):
        message = infos[r]["unused"]
        assert message.startswith("Expected to have finished reduction in the prior iteration")
        assert "find_unused_parameters=True" in message
        assert message.endswith(f"did not receive grad for rank {r}: c.weight, c.bias")


def test_different_models_on_the_ranks_are_named(ranks):
    _, infos = ranks
    want = "parameter 'weight' has shape (3, 5) on rank 0 but (4, 5) on rank 1"
    assert infos[0]["model"].endswith(want) and infos[1]["model"].endswith(want)


def test_in_one_process_the_wrapper_is_torchs():
    with pytest.raises(RuntimeError, match="init_process_group"):
        DDP(nn.Linear(2, 2))
    dist.init_process_group("gloo", f"tcp://127.0.0.1:{free_port()}", rank=0, world_size=1)
    try:
        inner = nn.Linear(3, 2)
        model = DDP(inner, device_ids=None, bucket_cap_mb=1)
        assert model.module is inner
        assert list(model.state_dict()) == ["module.weight", "module.bias"]
        twin = DDP(nn.Linear(3, 2))
        twin.load_state_dict(model.state_dict())
        loaded, saved = twin.module.weight.detach().numpy(), inner.weight.detach().numpy()
        np.testing.assert_array_equal(loaded, saved)
        x = ember.randn(4, 3)
        np.testing.assert_array_equal(model(x).detach().numpy(), inner(x).detach().numpy())
        with pytest.raises(ValueError, match="single element"):
            DDP(inner, device_ids=[0, 1])
        frozen = nn.Linear(2, 2).requires_grad_(False)
        with pytest.raises(RuntimeError, match="doesn't have any parameter that requires"):
            DDP(frozen)
        assert nn.parallel.DistributedDataParallel is DDP
    finally:
        dist.destroy_process_group()
