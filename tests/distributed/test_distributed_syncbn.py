"""SyncBatchNorm on 2 and 3 processes (3 with unequal slices, and with an empty one): each
rank's outputs and ∂L/∂x are torch's BatchNorm's rows on the whole batch, Σ_r ∂L/∂γ and
Σ_r ∂L/∂β are its parameter gradients, the running statistics are its own and the same bits
on every rank; one message forward and one backward, none in eval; inside DDP, three SGD
steps equal one process with BatchNorm on the whole batch; ranks that disagree raise errors
that name the layer. In one process: a group of one rank, or none, is BatchNorm exactly."""

import numpy as np
import pytest

import ember
import ember.distributed as dist
import ember.nn.functional as F
from ember import nn
from tests.distributed.dist_harness import free_port
from tests.distributed.dist_workers_syncbn import (
    CASES,
    SPLITS,
    STEPS,
    case_data,
    convnet_batch,
    make_convnet,
    my_rows,
    run_ranks,
)

TOL = {"float64": {"rtol": 1e-10, "atol": 1e-12}, "float32": {"rtol": 1e-5, "atol": 1e-5}}


_RUNS: dict = {}  # world size → (world, arrays, infos): one spawn per world size per session


def spawned(world: int, tmp_path_factory):
    if world not in _RUNS:
        _RUNS[world] = (world, *run_ranks("syncbn", world, tmp_path_factory.mktemp("syncbn")))
    return _RUNS[world]


@pytest.fixture(params=[2, 3], ids=["2-ranks", "3-ranks"])
def ranks(request, tmp_path_factory):
    return spawned(request.param, tmp_path_factory)


@pytest.fixture
def two_ranks(tmp_path_factory):
    return spawned(2, tmp_path_factory)


def torch_reference(torch, name: str, rows: int) -> dict:
    """torch's BatchNorm{1,2,3}d on the whole batch of every step, then in eval."""
    shape, dtype, kw = CASES[name]
    cls = {2: torch.nn.BatchNorm1d, 3: torch.nn.BatchNorm1d, 4: torch.nn.BatchNorm2d,
           5: torch.nn.BatchNorm3d}[len(shape) + 1]  # fmt: skip
    layer = cls(shape[0], **kw).to(getattr(torch, dtype))
    ref = {}
    for step in range(STEPS):
        d = case_data(name, step, rows)
        if layer.weight is not None:
            with torch.no_grad():
                layer.weight.copy_(torch.tensor(d["gamma"]))
                layer.bias.copy_(torch.tensor(d["beta"]))
            layer.weight.grad = layer.bias.grad = None
        x = torch.tensor(d["x"], requires_grad=True)
        y = layer(x)
        (y * torch.tensor(d["w"])).sum().backward()
        ref[f"y_{step}"], ref[f"gx_{step}"] = y.detach().numpy(), x.grad.numpy()
        if layer.weight is not None:
            ref[f"gw_{step}"], ref[f"gb_{step}"] = (
                layer.weight.grad.numpy(),
                layer.bias.grad.numpy(),
            )
    ref["rm"], ref["rv"] = layer.running_mean.numpy(), layer.running_var.numpy()
    layer.eval()
    ref["eval"] = layer(torch.tensor(case_data(name, STEPS, rows)["x"])).detach().numpy()
    return ref


def same_bits(arrays: list, key: str) -> np.ndarray:
    for r, a in enumerate(arrays):
        assert a[key].dtype == arrays[0][key].dtype, (key, r)
        assert a[key].tobytes() == arrays[0][key].tobytes(), (key, r)
    return arrays[0][key]


def cases_of(world: int):
    for prefix, split in SPLITS[world].items():
        for name in ["bn2d_f64"] if prefix else CASES:
            yield prefix + name, name, split


def test_every_rank_holds_torchs_rows_of_the_whole_batch(torch, ranks):
    world, arrays, infos = ranks
    for tag, name, split in cases_of(world):
        ref, tol = torch_reference(torch, name, sum(split)), TOL[CASES[name][1]]
        for r in range(world):
            for step in range(STEPS):
                for key in ("y", "gx"):
                    got = arrays[r][f"{tag}_{key}_{step}"]
                    assert got.dtype == np.dtype(CASES[name][1])
                    want = my_rows(ref[f"{key}_{step}"], split, r)
                    np.testing.assert_allclose(got, want, **tol, err_msg=f"{tag} {key} rank {r}")
            want = my_rows(ref["eval"], split, r)
            np.testing.assert_allclose(arrays[r][f"{tag}_eval"], want, **tol, err_msg=tag)
        for step in range(STEPS):  # γ, β: each rank's own share, which DDP then averages
            for key in ("gw", "gb") if f"gw_{step}" in ref else ():
                total = sum(
                    arrays[r][f"{tag}_{key}_{step}"].astype(np.float64) for r in range(world)
                )
                np.testing.assert_allclose(total, ref[f"{key}_{step}"], **tol, err_msg=tag)


def test_running_statistics_are_torchs_and_the_same_bits_on_every_rank(torch, ranks):
    world, arrays, _ = ranks
    for tag, name, split in cases_of(world):
        ref, tol = torch_reference(torch, name, sum(split)), TOL[CASES[name][1]]
        np.testing.assert_allclose(same_bits(arrays, f"{tag}_rm"), ref["rm"], **tol)
        np.testing.assert_allclose(same_bits(arrays, f"{tag}_rv"), ref["rv"], **tol)
        assert same_bits(arrays, f"{tag}_nbt") == STEPS


def test_one_message_forward_one_backward_none_in_eval(ranks):
    world, _, infos = ranks
    for info in infos:
        for tag, _, _ in cases_of(world):
            for step in range(STEPS):
                assert info[f"{tag}_messages_{step}"] == [1, 1], tag
            assert info[f"{tag}_eval_messages"] == 0, tag
        assert info["no_input_grad_messages"] == 1  # forward's only: x needs no gradient
        assert not info["torch_loaded"]


def test_in_ddp_three_steps_equal_one_process_with_batchnorm_on_the_whole_batch(two_ranks):
    _, arrays, infos = two_ranks
    assert infos[0]["converted"] == "SyncBatchNorm"
    ember.manual_seed(7)
    model = make_convnet()
    opt = ember.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    for step in range(3):
        x, y = convnet_batch(step)
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        opt.step()
    start = make_convnet().state_dict()
    for k, v in model.state_dict().items():
        got = same_bits(arrays, f"ddp_{k}")
        np.testing.assert_allclose(got, v.detach().numpy(), rtol=1e-10, atol=1e-12, err_msg=k)
        if k.endswith("weight"):
            assert not np.allclose(got, start[k].detach().numpy())  # it did train


def test_ranks_that_disagree_raise_errors_naming_the_layer(two_ranks):
    _, _, infos = two_ranks
    first, second = infos[0]["errors"], infos[1]["errors"]
    for r, got in enumerate((first["models"], second["models"])):  # 3 channels vs 4
        assert got.startswith(f"DistBackendError: SyncBatchNorm({3 + r}) with input shape"
                              f" (2, {3 + r}, 2, 2): the ranks' batch statistics")  # fmt: skip
        assert got.endswith(
            "rank 0: shape (3, 3) dtype float64; rank 1: shape (4, 3) dtype float64"
        )
    # rank 1 fed 4 channels to SyncBatchNorm(3): it says so, and rank 0 does not wait for it
    assert (
        second["input"] == "ValueError: SyncBatchNorm(3): input has 4 channels (shape (2, 4, 2, 2))"
    )
    assert first["input"].startswith("DistBackendError: SyncBatchNorm(3) with input shape")
    assert first["input"].endswith("rank 1: shape (0, 3) dtype float64")
    assert first["after"] is None and second["after"] is None  # the group still works


# ------------------------------------------------------------ one process
@pytest.fixture
def group_of_one():
    dist.init_process_group(init_method=f"tcp://127.0.0.1:{free_port()}", rank=0, world_size=1)
    try:
        yield
    finally:
        dist.destroy_process_group()


@pytest.mark.parametrize("with_group", [False, True], ids=["no-group", "group-of-one"])
def test_a_single_process_is_batchnorm2d_exactly(request, with_group):
    if with_group:
        request.getfixturevalue("group_of_one")
        assert dist.is_initialized() and dist.get_world_size() == 1
    g = np.random.default_rng(5)
    a, w = g.standard_normal((6, 3, 4, 5)), g.standard_normal((6, 3, 4, 5))
    ours, plain = nn.SyncBatchNorm(3).double(), nn.BatchNorm2d(3).double()
    for layer in (ours, plain):
        layer.weight.array[...] = np.array([0.5, 1.0, 2.0])
        layer.bias.array[...] = np.array([0.1, -0.2, 0.3])
    results = []
    for layer in (ours, plain):
        got = []
        for step in range(2):
            x = ember.tensor(a + step, requires_grad=True)
            layer.weight.grad = layer.bias.grad = None
            y = layer(x)
            (y * ember.tensor(w)).sum().backward()
            got += [y.detach().numpy(), x.grad.numpy(), layer.weight.grad.numpy()]
        layer.eval()
        got += [layer(ember.tensor(a)).detach().numpy()]
        got += [b.numpy() for b in layer.buffers()]
        results.append(got)
    for mine, theirs in zip(*results):
        np.testing.assert_array_equal(mine, theirs)
