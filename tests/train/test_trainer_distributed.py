"""The Trainer on two ranks (ember.distributed): the replicas stay identical and equal one
process stepping on the union of the ranks' batches; validation numbers are those of the whole
set; only rank 0 writes; a stopped and resumed run ends where an unstopped one does; a rank
that fails ends the job instead of hanging it. The ranks run tests/train/dist_workers_train.py
(one start of two processes serves the first four tests)."""

from __future__ import annotations

import numpy as np
import pytest

import ember
import ember.nn.functional as F
from ember.data import DataLoader, DistributedSampler
from ember.train import Trainer, load_checkpoint
from tests.train.dist_workers_train import (
    BATCH,
    EPOCHS,
    STOP_AT,
    digits_subsets,
    load_results,
    make_model,
    make_optimizer,
    run_ranks,
)


@pytest.fixture(scope="module")
def two_ranks(tmp_path_factory):
    from tests.conftest import shared_data_dir

    root = shared_data_dir() / "digits"
    if not root.is_dir():
        pytest.skip(f"shared data folder not found at {root}")
    outdir = tmp_path_factory.mktemp("ddp-train")
    done, _ = run_ranks("train", outdir, root)
    for r, (code, out, err) in enumerate(done):
        assert code == 0, f"rank {r} exited {code}:\n{out}\n{err}"
    return (outdir, root, *load_results(outdir))


@pytest.fixture
def float64():
    before = ember.get_default_dtype()
    ember.set_default_dtype(ember.float64)
    yield
    ember.set_default_dtype(ember.float32 if before == np.float32 else ember.float64)


def _group(arrays: dict, run: str) -> dict:
    return {k.split(".", 1)[1]: v for k, v in arrays.items() if k.startswith(run + ".")}


def test_replicas_match_one_process_on_the_union_of_the_ranks_batches(two_ranks, float64):
    _, root, arrays, infos = two_ranks
    final = [_group(a, "straight") for a in arrays]
    for k in final[0]:  # DDP's all-reduce gives every rank the same bits
        assert final[0][k].tobytes() == final[1][k].tobytes(), k
    assert infos[0]["wrapped"] == "DistributedDataParallel"

    # one process, one step per pair of rank batches: the mean loss over their union is the
    # mean of the two ranks' means (equal shares, so equal batch sizes), as DDP averages
    train_set, _ = digits_subsets(root)
    x, y = train_set.tensors
    model = make_model(100)  # rank 0's initialisation, which DDP broadcast
    optimizer = make_optimizer(model)
    seed = infos[0]["sampler_seed"]
    assert infos[1]["sampler_seed"] == seed  # one permutation for both ranks
    samplers = [DistributedSampler(train_set, 2, r, shuffle=True, seed=seed) for r in (0, 1)]
    steps = 0
    for epoch in range(EPOCHS):
        shares = []
        for s in samplers:
            s.set_epoch(epoch)
            shares.append(list(s))
        for at in range(0, len(shares[0]), BATCH):
            rows = shares[0][at : at + BATCH] + shares[1][at : at + BATCH]
            loss = F.cross_entropy(model(x[rows]), y[rows])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            steps += 1
    assert steps == 12 and infos[0]["history"][-1]["step"] == 12
    for k, v in model.state_dict().items():
        got = v.detach().numpy()
        np.testing.assert_allclose(final[0][k], got, rtol=1e-10, atol=1e-12, err_msg=k)


def test_validation_numbers_are_those_of_the_whole_set(two_ranks, float64):
    outdir, root, arrays, infos = two_ranks
    vals = [[r for r in info["history"] if r["split"] == "val"] for info in infos]
    assert vals[0] == vals[1] and len(vals[0]) == EPOCHS  # every rank reports the same
    # one process scores the saved final model on all 41 examples
    _, val_set = digits_subsets(root)
    model = make_model(0)
    model.load_state_dict(load_checkpoint(outdir / "runs" / "straight")["model"])
    trainer = Trainer(model, make_optimizer(model), progress=False)
    whole = trainer.evaluate(DataLoader(val_set, batch_size=1000))
    assert vals[0][-1]["accuracy"] == whole["accuracy"]
    assert vals[0][-1]["loss"] == pytest.approx(whole["loss"], rel=1e-12)
    x, y = val_set.tensors
    with ember.no_grad():
        correct = int((model.eval()(x).argmax(dim=1) == y).sum())
    assert whole["accuracy"] == correct / 41


def test_only_rank_0_writes_and_the_checkpoint_loads_in_one_process(two_ranks):
    outdir, _, arrays, infos = two_ranks
    assert infos[1]["written"] == []
    written = {p.split("/")[1] for p in infos[0]["written"] if "/" in p}
    assert {"checkpoint.safetensors", "checkpoint.json", "metrics.jsonl"} <= written
    run = outdir / "runs" / "straight"
    state = load_checkpoint(run)
    assert state["loop"]["world_size"] == 2 and len(state["rng"]["ranks"]) == 2
    assert not any(k.startswith("module.") for k in state["model"])  # the plain model's keys
    for k, v in _group(arrays[0], "straight").items():
        assert state["model"][k].numpy().tobytes() == v.tobytes()
    assert (run / "best.safetensors").is_file()


def test_stopped_and_resumed_on_two_ranks_equals_an_unstopped_run(two_ranks):
    _, _, arrays, infos = two_ranks
    assert infos[0]["stopped_at"] == STOP_AT
    straight = [_group(a, "dropout") for a in arrays]
    resumed = [_group(a, "resumed") for a in arrays]
    for r in (0, 1):
        for k in straight[0]:
            assert resumed[r][k].tobytes() == straight[0][k].tobytes(), (r, k)
    # the records of the resumed run continue those of the stopped one
    assert [r["step"] for r in infos[0]["resumed_history"] if r["split"] == "val"] == [6, 12]


def test_a_stop_seen_on_one_rank_stops_every_rank_at_the_same_step(two_ranks):
    _, _, arrays, infos = two_ranks
    # rank 1's loss was infinite at the 4th step: no rank took it, and the weights agree
    assert [info["diverged"] for info in infos] == [[True, 3], [True, 3]]
    diverged = [_group(a, "diverged") for a in arrays]
    for k in diverged[0]:
        assert diverged[0][k].tobytes() == diverged[1][k].tobytes(), k
    # a callback on rank 0 stopped it after step 2; rank 1 stopped there too
    assert infos[0]["stopped"][0] == infos[1]["stopped"][0] == 2
    assert infos[1]["stopped"][1] == "another rank asked to stop"


def test_a_failing_rank_ends_the_job_quickly(tmp_path, shared_data):
    done, seconds = run_ranks("fail", tmp_path, shared_data / "digits", timeout=60)
    assert done[1][0] != 0 and "rank 1 fails at step 3" in done[1][2]
    assert done[0][0] != 0, "rank 0 finished although rank 1 failed"
    assert seconds < 20  # rank 0 learnt of it from the closed connection, not a timeout
