"""The DataLoader's worker threads and its mid-epoch resume with samplers and workers:
the same batches as without workers, worker_init_fn and get_worker_info, errors, early exits,
timeouts, IterableDataset shards, and resumed runs that continue exactly."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

import ember
from ember.data import DataLoader, IterableDataset, TensorDataset, get_worker_info
from ember.data.sampler import (
    BatchSampler,
    RandomSampler,
    SubsetRandomSampler,
    WeightedRandomSampler,
)
from tests.data.loader_reference import Plain, data, gen, labels, loader_threads


# ------------------------------------------------------------ workers
def _run(loader):
    return [{k: v.array.tolist() for k, v in b.items()} for b in loader]


def test_workers_give_the_batches_without_workers():
    for kw in [{"shuffle": True, "seed": 4}, {"sampler": WeightedRandomSampler([1.0] * 23, 30)}]:
        if "sampler" in kw:
            kw["sampler"].generator = gen(5)
        serial = DataLoader(Plain(), batch_size=4, **kw)
        two_epochs = _run(serial) + _run(serial)
        if "sampler" in kw:
            kw["sampler"].generator = gen(5)
        threaded = DataLoader(Plain(), batch_size=4, num_workers=2, **kw)
        assert _run(threaded) + _run(threaded) == two_epochs
    a = labels(DataLoader(data(50), batch_size=7, shuffle=True, seed=1))
    b = labels(DataLoader(data(50), batch_size=7, shuffle=True, seed=1, num_workers=3))
    assert a == b and sorted(sum(a, [])) == list(range(50))

    def collate(samples):
        return [s["y"] * 10 for s in samples]

    args = {"batch_size": 5, "collate_fn": collate, "drop_last": True}
    c = list(DataLoader(Plain(), **args))
    assert list(DataLoader(Plain(), num_workers=2, prefetch_factor=1, **args)) == c
    assert c[-1] == [150, 160, 170, 180, 190]


def test_worker_init_fn_runs_once_per_worker_with_worker_info():
    seen = []

    def init(worker_id):
        info = get_worker_info()
        seen.append((worker_id, info.id, info.num_workers, threading.current_thread().name))

    loader = DataLoader(data(20), batch_size=2, num_workers=2, worker_init_fn=init)
    labels(loader)
    assert sorted(s[:3] for s in seen) == [(0, 0, 2), (1, 1, 2)]
    assert all(name.startswith("ember-DataLoader-worker") for *_, name in seen)
    assert get_worker_info() is None
    labels(loader)
    assert len(seen) == 4  # workers start afresh each epoch
    persistent = DataLoader(
        data(20), batch_size=2, num_workers=2, worker_init_fn=init, persistent_workers=True
    )
    seen.clear()
    labels(persistent), labels(persistent)
    assert len(seen) == 2  # initialised once, as torch's persistent workers


def test_worker_seeds_differ_per_worker_and_per_epoch():
    class Seeds(Plain):
        def __getitem__(self, i):
            info = get_worker_info()
            return np.array([info.id, info.seed % 2**31])

    loader = DataLoader(Seeds(4), batch_size=1, num_workers=2, seed=0)
    e1, e2 = [b.array[0].tolist() for b in loader], [b.array[0].tolist() for b in loader]
    assert [w for w, _ in e1] == [0, 1, 0, 1]
    assert e1[0][1] != e1[1][1] and e1[0][1] == e1[2][1] and e1[0][1] != e2[0][1]


class RandomAugment(Plain):
    """A sample drawn with ember's default generator (a random augmentation), after a random
    delay that shuffles which worker finishes first."""

    def __getitem__(self, i):
        time.sleep(float(np.random.default_rng().random()) * 2e-3)
        info = get_worker_info()
        return np.array([info.id, ember.initial_seed() == info.seed, ember.rand(()).item()])


def test_each_worker_draws_from_a_default_generator_of_its_own():
    def epoch(**kw):
        ember.manual_seed(7)
        loader = DataLoader(RandomAugment(12), batch_size=1, num_workers=3, **kw)
        got = [b.array[0].tolist() for b in loader]
        return got, ember.rand(4).array  # the main thread's stream, after the epoch

    first, after = epoch()
    second, after_again = epoch()
    assert first == second  # a seeded run repeats whatever the threads' timing
    assert [int(w) for w, _, _ in first] == [0, 1, 2] * 4
    assert all(seeded for _, seeded, _ in first)  # ember.initial_seed() is the worker's seed
    draws = [d for _, _, d in first]
    assert len(set(draws)) == 12  # the workers' streams differ
    # the workers took nothing from the main thread's stream: it continues as if no epoch ran
    ember.manual_seed(7)
    DataLoader(RandomAugment(12), batch_size=1, num_workers=3)  # draws the loader's seed
    np.testing.assert_array_equal(after, ember.rand(4).array)
    np.testing.assert_array_equal(after, after_again)


def test_manual_seed_in_worker_init_fn_reseeds_that_worker_only():
    def init(worker_id):
        ember.manual_seed(100 + worker_id)

    ember.manual_seed(0)
    before = ember.rand(3).array
    ember.manual_seed(0)
    loader = DataLoader(RandomAugment(4), batch_size=1, num_workers=2, worker_init_fn=init)
    ember.manual_seed(0)  # the main stream restarts; the workers' seeds stay theirs
    got = [b.array[0].tolist() for b in loader]
    expected = [ember.Generator().manual_seed(100 + w) for w in (0, 1)]
    want = [ember.rand((), generator=expected[w]).item() for w in (0, 1, 0, 1)]
    assert [d for _, _, d in got] == want
    assert [bool(s) for _, s, _ in got] == [False] * 4  # initial_seed() now says 100 + id
    np.testing.assert_array_equal(ember.rand(3).array, before)


def test_an_exception_in_a_worker_is_raised_in_the_caller():
    loader = DataLoader(Plain(fail_at=9), batch_size=4, num_workers=2)
    with pytest.raises(KeyError, match="sample 9 is broken") as info:
        _run(loader)
    assert "DataLoader worker 0" in str(info.value.__notes__)
    assert loader_threads() == []

    def bad_init(worker_id):
        raise RuntimeError(f"no setup for {worker_id}")

    with pytest.raises(RuntimeError, match="no setup for 0"):
        _run(DataLoader(Plain(), batch_size=4, num_workers=2, worker_init_fn=bad_init))
    assert loader_threads() == []


def test_breaking_out_early_stops_the_threads():
    loader = DataLoader(Plain(200, delay=0.002), batch_size=4, num_workers=3, prefetch_factor=2)
    start = time.perf_counter()
    for _ in loader:
        break
    assert time.perf_counter() - start < 5 and loader_threads() == []
    it = iter(loader)
    next(it), next(it)
    it.close()
    assert loader_threads() == []


def test_timeout_for_a_slow_worker():
    loader = DataLoader(Plain(2, delay=0.1), batch_size=2, num_workers=1, timeout=0.05)
    with pytest.raises(RuntimeError, match="timed out after 0.05 seconds"):
        _run(loader)


class Shards(IterableDataset):
    """0..n-1, split between workers by get_worker_info() as torch's docs show."""

    def __init__(self, n=10):
        self.n = n

    def __iter__(self):
        info = get_worker_info()
        step, first = (1, 0) if info is None else (info.num_workers, info.id)
        return iter(np.arange(first, self.n, step, dtype=np.float32))

    def __len__(self):
        return self.n


def test_iterable_dataset_batches_and_worker_shards():
    plain = [b.array.tolist() for b in DataLoader(Shards(), batch_size=4)]
    assert plain == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert len(DataLoader(Shards(), batch_size=4)) == 3
    assert len(DataLoader(Shards(), batch_size=4, drop_last=True)) == 2
    # torch's order: worker batches in turn; a worker that has run out drops out of the turn
    threaded = [b.array.tolist() for b in DataLoader(Shards(11), batch_size=2, num_workers=2)]
    assert threaded == [[0, 2], [1, 3], [4, 6], [5, 7], [8, 10], [9]]
    dropped = DataLoader(Shards(11), batch_size=2, num_workers=2, drop_last=True)
    assert [b.array.tolist() for b in dropped] == [[0, 2], [1, 3], [4, 6], [5, 7], [8, 10]]
    assert [b.item() for b in DataLoader(Shards(3), batch_size=None)] == [0.0, 1.0, 2.0]

    class Uneven(IterableDataset):  # worker 0 streams 9 samples, worker 1 three
        def __iter__(self):
            info = get_worker_info()
            n, off = (9, 0) if info is None or info.id == 0 else (3, 100)
            return iter([np.float32(off + i) for i in range(n)])

    # what torch's DataLoader yields for the same dataset and arguments
    assert [b.array.tolist() for b in DataLoader(Uneven(), batch_size=2, num_workers=2)] == [
        [0, 1], [100, 101], [2, 3], [102], [4, 5], [6, 7], [8]
    ]  # fmt: skip
    three = DataLoader(Uneven(), batch_size=2, num_workers=3, drop_last=True)
    assert [b.array.tolist() for b in three] == [
        [0, 1], [100, 101], [100, 101], [2, 3], [4, 5], [6, 7]
    ]  # fmt: skip


# ------------------------------------------------------------ resume
@pytest.mark.parametrize(
    "make",
    [
        lambda: {"sampler": RandomSampler(range(30), generator=gen(11))},
        lambda: {"sampler": RandomSampler(range(30), replacement=True)},
        lambda: {"shuffle": True, "num_workers": 2},
        lambda: {"sampler": WeightedRandomSampler(np.arange(30.0), 25), "num_workers": 2},
        lambda: {"batch_sampler": BatchSampler(SubsetRandomSampler(range(5, 30)), 4, False)},
    ],
)
def test_resume_mid_epoch_gives_the_remaining_batches(make):
    def fresh(seed):
        kw = make()
        kw.setdefault("batch_size", None if "batch_sampler" in kw else 4)
        return DataLoader(data(30), seed=seed, **{k: v for k, v in kw.items() if v is not None})

    loader = fresh(1)
    labels(loader)  # one full epoch first
    it = iter(loader)
    first = [next(it)[1].array.tolist() for _ in range(3)]
    state = loader.state_dict()
    rest = [b[1].array.tolist() for b in it]
    following = labels(loader)

    other = fresh(99)  # another seed, and a sampler generator in another state
    if isinstance(other.sampler, RandomSampler) and other.sampler.generator is not None:
        other.sampler.generator.manual_seed(123)
    other.load_state_dict(state)
    assert labels(other) == rest
    assert labels(other) == following
    assert len(rest) > 0 and first + rest != following


def test_resume_an_iterable_dataset_replays_to_the_same_place():
    loader = DataLoader(Shards(11), batch_size=2, num_workers=2)
    it = iter(loader)
    next(it), next(it)
    state = loader.state_dict()
    rest = [b.array.tolist() for b in it]
    other = DataLoader(Shards(11), batch_size=2, num_workers=2)
    other.load_state_dict(state)
    assert [b.array.tolist() for b in other] == rest == [[4, 6], [5, 7], [8, 10], [9]]


def test_trainer_resumes_bit_identically_with_a_sampler_and_workers(tmp_path):
    from ember import optim
    from ember.models import MLP
    from ember.train import Trainer

    rng = np.random.default_rng(0)
    x = rng.standard_normal((90, 6)).astype(np.float32)
    ds = TensorDataset(x, (x[:, 0] > 0).astype(np.int64))

    def run(seed, run_dir, **fit):
        ember.manual_seed(seed)
        model = MLP(6, (16,), 2)
        weights = WeightedRandomSampler(np.linspace(0.1, 1, 90), 70, generator=gen(seed))
        loader = DataLoader(ds, batch_size=16, sampler=weights, num_workers=2)
        trainer = Trainer(model, optim.Adam(model.parameters(), lr=0.01), run_dir=run_dir,
                          progress=False)  # fmt: skip
        trainer.fit(loader, epochs=3, **fit)
        return trainer

    straight = run(0, tmp_path / "straight")
    run(0, tmp_path / "resumed", max_steps=7)  # stops mid-epoch 2 and writes a checkpoint
    resumed = run(999, tmp_path / "resumed", resume=tmp_path / "resumed")
    assert resumed.step == straight.step == 15
    for (k, a), (_, b) in zip(
        straight.model.state_dict().items(), resumed.model.state_dict().items()
    ):
        assert a.array.tobytes() == b.array.tobytes(), k
