"""Samplers and the DataLoader's sampler, batch_sampler and worker arguments, against torch's
semantics: orders, distributions, lengths, argument errors, threads, and mid-epoch resume."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
import torch
import torch.utils.data as tud

import ember
from ember.data import DataLoader, Dataset, IterableDataset, TensorDataset, get_worker_info
from ember.data.sampler import (
    BatchSampler,
    RandomSampler,
    Sampler,
    SequentialSampler,
    SubsetRandomSampler,
    WeightedRandomSampler,
)


def _gen(seed=0):
    return ember.Generator().manual_seed(seed)


def _data(n=10):
    return TensorDataset(np.arange(n * 2, dtype=np.float32).reshape(n, 2), np.arange(n))


def _labels(loader):
    return [b[1].data.tolist() for b in loader]


class Plain(Dataset):
    """Samples made in Python, one __getitem__ each (no batch fetch)."""

    def __init__(self, n=23, fail_at=None, delay=0.0):
        self.n, self.fail_at, self.delay = n, fail_at, delay

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        if i == self.fail_at:
            raise KeyError(f"sample {i} is broken")
        time.sleep(self.delay)
        return {"x": np.full(3, i, np.float32), "y": i}


def _loader_threads():
    return [t for t in threading.enumerate() if t.name.startswith("ember-DataLoader-worker")]


# ------------------------------------------------------------ samplers
def test_sequential_sampler_is_torchs_order():
    assert list(SequentialSampler(range(7))) == list(tud.SequentialSampler(range(7)))
    assert len(SequentialSampler(range(7))) == 7


def test_random_sampler_permutes_and_repeats_with_the_seed():
    e1 = list(RandomSampler(range(50), generator=_gen(1)))
    assert sorted(e1) == list(range(50)) and e1 != list(range(50))
    assert list(RandomSampler(range(50), generator=_gen(1))) == e1
    assert list(RandomSampler(range(50), generator=_gen(2))) != e1
    s = RandomSampler(range(50), generator=_gen(1))
    assert list(s) == e1 and list(s) != e1  # the next epoch is a new permutation
    assert len(s) == 50 and all(type(i) is int for i in s)


def test_random_sampler_num_samples_and_replacement():
    long = list(RandomSampler(range(4), num_samples=10, generator=_gen()))
    assert len(long) == 10  # torch: two whole permutations, then half of a third
    assert sorted(long[:4]) == sorted(long[4:8]) == [0, 1, 2, 3] and len(set(long[8:])) == 2
    short = list(RandomSampler(range(20), num_samples=5, generator=_gen()))
    assert len(short) == 5 and len(set(short)) == 5
    drawn = list(RandomSampler(range(5), replacement=True, num_samples=2000, generator=_gen()))
    counts = np.bincount(drawn, minlength=5)
    assert len(drawn) == 2000 and counts.sum() == 2000 and (abs(counts - 400) < 80).all()
    ember.manual_seed(3)
    a = list(RandomSampler(range(30)))  # without a generator: ember's default one
    ember.manual_seed(3)
    assert list(RandomSampler(range(30))) == a


@pytest.mark.parametrize(
    "kwargs,error",
    [
        ({"replacement": 1}, TypeError),
        ({"num_samples": 0}, ValueError),
        ({"num_samples": -3}, ValueError),
        ({"num_samples": 2.5}, ValueError),
    ],
)
def test_random_sampler_argument_errors_as_torch(kwargs, error):
    with pytest.raises(error):
        tud.RandomSampler(range(5), **kwargs)
    with pytest.raises(error, match="should be a"):
        RandomSampler(range(5), **kwargs)
    with pytest.raises(ValueError, match="num_samples=0"):  # an empty dataset, as torch
        RandomSampler([])
    with pytest.raises(TypeError, match="ember.Generator"):
        RandomSampler(range(5), generator=torch.Generator())


def test_subset_random_sampler_covers_exactly_its_indices():
    idx = [3, 17, 4, 9, 11, 30]
    s = SubsetRandomSampler(idx, generator=_gen(4))
    e1, e2 = list(s), list(s)
    assert sorted(e1) == sorted(e2) == sorted(idx) and e1 != e2 and len(s) == 6
    assert list(SubsetRandomSampler(idx, generator=_gen(4))) == e1


def test_weighted_sampler_frequencies_follow_the_weights():
    w = np.array([1.0, 0.0, 3.0, 2.0, 0.0, 4.0])
    n = 20000
    drawn = np.array(list(WeightedRandomSampler(w, n, generator=_gen(7))))
    freq = np.bincount(drawn, minlength=len(w)) / n
    p = w / w.sum()
    assert freq[1] == freq[4] == 0  # zero weights are never drawn
    assert (np.abs(freq - p) <= 4 * np.sqrt(p * (1 - p) / n) + 1e-12).all(), (freq, p)
    assert len(WeightedRandomSampler(w, 7)) == 7


def test_weighted_sampler_without_replacement():
    w = np.array([5.0, 0.0, 1.0, 2.0, 0.0, 1.0, 1.0])
    g = _gen(8)
    for _ in range(50):
        got = list(WeightedRandomSampler(w, 4, replacement=False, generator=g))
        assert len(set(got)) == 4 and not {1, 4} & set(got)
    every = list(WeightedRandomSampler(w, 5, replacement=False, generator=g))
    assert sorted(every) == [0, 2, 3, 5, 6]
    # the first draw is index i with probability w_i / sum(w), as torch.multinomial's
    firsts = [list(WeightedRandomSampler(w, 2, False, generator=g))[0] for _ in range(4000)]
    freq, p = np.bincount(firsts, minlength=len(w)) / 4000, w / w.sum()
    assert (np.abs(freq - p) <= 4 * np.sqrt(p * (1 - p) / 4000) + 1e-12).all(), (freq, p)


def test_weighted_sampler_argument_errors():
    for args, error in [(([[1.0, 2.0]], 2), ValueError), (([1.0], 0), ValueError)]:
        with pytest.raises(error):
            tud.WeightedRandomSampler(*args)
        with pytest.raises(error, match="should be a"):
            WeightedRandomSampler(*args)
    with pytest.raises(ValueError, match="boolean"):
        tud.WeightedRandomSampler([1.0], 1, replacement=None)
    with pytest.raises(ValueError, match="boolean"):
        WeightedRandomSampler([1.0], 1, replacement=None)
    with pytest.raises(ValueError, match="non-negative"):
        WeightedRandomSampler([1.0, -1.0], 2)
    with pytest.raises(ValueError, match="all be zero"):
        WeightedRandomSampler([0.0, 0.0], 2)
    with pytest.raises(ValueError, match="only 2 weights are non-zero"):
        WeightedRandomSampler([1.0, 0.0, 2.0], 3, replacement=False)


@pytest.mark.parametrize(
    "n,size,drop_last", [(10, 3, False), (10, 3, True), (9, 3, True), (2, 5, False)]
)
def test_batch_sampler_batches_and_lengths_as_torch(n, size, drop_last):
    ours = BatchSampler(SequentialSampler(range(n)), size, drop_last)
    theirs = tud.BatchSampler(tud.SequentialSampler(range(n)), size, drop_last)
    assert list(ours) == list(theirs) and len(ours) == len(theirs)
    order = [4, 1, 7, 0, 9, 3, 2, 8, 6, 5][:n]  # any iterable of indices, as in torch
    assert list(BatchSampler(order, size, drop_last)) == list(
        tud.BatchSampler(order, size, drop_last)
    )
    shuffled = BatchSampler(RandomSampler(range(n), generator=_gen()), size, drop_last)
    batches = list(shuffled)
    assert len(batches) == len(theirs) and all(len(b) == size for b in batches[: n // size])
    assert len(set(sum(batches, []))) == len(sum(batches, []))


def test_batch_sampler_argument_errors_as_torch():
    for args in [(range(4), 0, False), (range(4), True, False), (range(4), 2, 1)]:
        with pytest.raises(ValueError):
            tud.BatchSampler(*args)
        with pytest.raises(ValueError, match="should be a"):
            BatchSampler(*args)


def test_custom_sampler_subclass_is_iterated():
    class Reversed(Sampler[int]):
        def __init__(self, n):
            self.n = n

        def __iter__(self):
            return iter(range(self.n - 1, -1, -1))

        def __len__(self):
            return self.n

    loader = DataLoader(_data(5), batch_size=2, sampler=Reversed(5))
    assert _labels(loader) == [[4, 3], [2, 1], [0]] and len(loader) == 3


# ------------------------------------------------------------ DataLoader with samplers
def test_loader_with_sampler_and_batch_sampler():
    idx = [2, 5, 7, 8, 11]
    loader = DataLoader(_data(12), batch_size=2, sampler=SubsetRandomSampler(idx, _gen(1)))
    got = _labels(loader)
    assert [len(b) for b in got] == [2, 2, 1] and sorted(sum(got, [])) == idx
    assert got == [
        b[1].data.tolist()
        for b in DataLoader(_data(12), batch_size=2, sampler=SubsetRandomSampler(idx, _gen(1)))
    ]
    plan = [[3, 0], [9], [1, 2, 4]]
    assert _labels(DataLoader(_data(10), batch_sampler=plan)) == plan
    assert len(DataLoader(_data(10), batch_sampler=plan)) == 3
    bs = BatchSampler(SequentialSampler(range(7)), 3, True)
    assert _labels(DataLoader(_data(10), batch_sampler=bs)) == [[0, 1, 2], [3, 4, 5]]
    x, _ = next(iter(DataLoader(_data(10), batch_sampler=[[6, 2]])))
    np.testing.assert_array_equal(x.data, [[12.0, 13.0], [4.0, 5.0]])


def test_sampled_batches_are_still_fetched_whole():
    class Counting(TensorDataset):
        calls = 0

        def __getitem__(self, i):
            Counting.calls += 1
            return super().__getitem__(i)

    ds = Counting(np.arange(40.0), np.arange(40))
    for kw in [
        {"batch_size": 8, "sampler": RandomSampler(ds, replacement=True)},
        {"batch_size": 8, "sampler": WeightedRandomSampler(np.ones(40), 16), "num_workers": 2},
        {"batch_sampler": BatchSampler(SubsetRandomSampler(range(9)), 4, drop_last=False)},
        {"batch_sampler": [[1, 2], [39, 0, 5]]},
    ]:
        batches = list(DataLoader(ds, **kw))
        assert all(np.array_equal(x.data, y.data.astype(float)) for x, y in batches)
    assert Counting.calls == 0


def test_loader_with_weighted_sampler_and_python_dataset():
    w = [0.0] * 10 + [1.0] * 13
    loader = DataLoader(
        Plain(), batch_size=4, sampler=WeightedRandomSampler(w, 40, generator=_gen(2))
    )
    ys = sum((b["y"].data.tolist() for b in loader), [])
    assert len(ys) == 40 and len(loader) == 10 and min(ys) >= 10


def _both(kind, **kw):
    """Build torch's and ember's loader from the same arguments: errors raised by each."""
    out, n = [], 6
    for lib in ("torch", "ember"):
        if kind == "iterable":
            base = tud.IterableDataset if lib == "torch" else IterableDataset
            ds = type("Stream", (base,), {"__iter__": lambda self: iter(range(n))})()
        elif lib == "torch":
            ds = tud.TensorDataset(torch.arange(n))
        else:
            ds = TensorDataset(np.arange(n))
        args = dict(kw)
        if args.get("sampler") == "seq":
            args["sampler"] = (tud if lib == "torch" else ember.data.sampler).SequentialSampler(ds)
        if args.get("batch_sampler") == "plan":
            args["batch_sampler"] = [[0, 1], [2]]
        try:
            (tud.DataLoader if lib == "torch" else DataLoader)(ds, **args)
            out.append(None)
        except (ValueError, TypeError) as e:
            out.append(type(e))
    return out


@pytest.mark.parametrize(
    "kind,kw",
    [
        ("map", {"sampler": "seq", "shuffle": True}),
        ("map", {"sampler": "seq", "shuffle": False}),
        ("map", {"batch_sampler": "plan"}),
        ("map", {"batch_sampler": "plan", "batch_size": 2}),
        ("map", {"batch_sampler": "plan", "shuffle": True}),
        ("map", {"batch_sampler": "plan", "sampler": "seq"}),
        ("map", {"batch_sampler": "plan", "drop_last": True}),
        ("map", {"batch_size": None}),
        ("map", {"batch_size": None, "drop_last": True}),
        ("map", {"num_workers": -1}),
        ("map", {"prefetch_factor": 2}),
        ("map", {"num_workers": 2, "prefetch_factor": -1}),
        ("map", {"persistent_workers": True}),
        ("map", {"num_workers": 2, "persistent_workers": True}),
        ("map", {"timeout": -1}),
        ("map", {"multiprocessing_context": "spawn"}),
        ("map", {"num_workers": 2, "multiprocessing_context": "spawn"}),
        ("map", {"num_workers": 2, "multiprocessing_context": "teleport"}),
        ("map", {"num_workers": 2, "multiprocessing_context": 3}),
        ("map", {"pin_memory": True, "in_order": False}),
        ("iterable", {"shuffle": True}),
        ("iterable", {"shuffle": False}),
        ("iterable", {"sampler": [0, 1]}),
        ("iterable", {"batch_sampler": "plan"}),
    ],
)
def test_argument_errors_match_torch(kind, kw):
    theirs, ours = _both(kind, **kw)
    assert ours == theirs, (kw, theirs, ours)


def test_attributes_are_fixed_after_init_as_in_torch():
    loader = DataLoader(_data(), batch_size=2)
    with pytest.raises(ValueError, match="batch_size attribute should not be set"):
        loader.batch_size = 4
    loader.num_workers = 0  # not one torch fixes


def test_batch_size_none_hands_out_converted_samples():
    samples = list(DataLoader(_data(3), batch_size=None))
    assert len(samples) == 3 and isinstance(samples[1], list)  # torch: a tuple becomes a list
    assert samples[1][0].data.tolist() == [2.0, 3.0] and samples[1][1].item() == 1


# ------------------------------------------------------------ workers
def _run(loader):
    return [{k: v.data.tolist() for k, v in b.items()} for b in loader]


def test_workers_give_the_batches_without_workers():
    for kw in [{"shuffle": True, "seed": 4}, {"sampler": WeightedRandomSampler([1.0] * 23, 30)}]:
        if "sampler" in kw:
            kw["sampler"].generator = _gen(5)
        serial = DataLoader(Plain(), batch_size=4, **kw)
        two_epochs = _run(serial) + _run(serial)
        if "sampler" in kw:
            kw["sampler"].generator = _gen(5)
        threaded = DataLoader(Plain(), batch_size=4, num_workers=2, **kw)
        assert _run(threaded) + _run(threaded) == two_epochs
    a = _labels(DataLoader(_data(50), batch_size=7, shuffle=True, seed=1))
    b = _labels(DataLoader(_data(50), batch_size=7, shuffle=True, seed=1, num_workers=3))
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

    loader = DataLoader(_data(20), batch_size=2, num_workers=2, worker_init_fn=init)
    _labels(loader)
    assert sorted(s[:3] for s in seen) == [(0, 0, 2), (1, 1, 2)]
    assert all(name.startswith("ember-DataLoader-worker") for *_, name in seen)
    assert get_worker_info() is None
    _labels(loader)
    assert len(seen) == 4  # workers start afresh each epoch
    persistent = DataLoader(
        _data(20), batch_size=2, num_workers=2, worker_init_fn=init, persistent_workers=True
    )
    seen.clear()
    _labels(persistent), _labels(persistent)
    assert len(seen) == 2  # initialised once, as torch's persistent workers


def test_worker_seeds_differ_per_worker_and_per_epoch():
    class Seeds(Plain):
        def __getitem__(self, i):
            info = get_worker_info()
            return np.array([info.id, info.seed % 2**31])

    loader = DataLoader(Seeds(4), batch_size=1, num_workers=2, seed=0)
    e1, e2 = [b.data[0].tolist() for b in loader], [b.data[0].tolist() for b in loader]
    assert [w for w, _ in e1] == [0, 1, 0, 1]
    assert e1[0][1] != e1[1][1] and e1[0][1] == e1[2][1] and e1[0][1] != e2[0][1]


def test_an_exception_in_a_worker_is_raised_in_the_caller():
    loader = DataLoader(Plain(fail_at=9), batch_size=4, num_workers=2)
    with pytest.raises(KeyError, match="sample 9 is broken") as info:
        _run(loader)
    assert "DataLoader worker 0" in str(info.value.__notes__)
    assert _loader_threads() == []

    def bad_init(worker_id):
        raise RuntimeError(f"no setup for {worker_id}")

    with pytest.raises(RuntimeError, match="no setup for 0"):
        _run(DataLoader(Plain(), batch_size=4, num_workers=2, worker_init_fn=bad_init))
    assert _loader_threads() == []


def test_breaking_out_early_stops_the_threads():
    loader = DataLoader(Plain(200, delay=0.002), batch_size=4, num_workers=3, prefetch_factor=2)
    start = time.perf_counter()
    for _ in loader:
        break
    assert time.perf_counter() - start < 5 and _loader_threads() == []
    it = iter(loader)
    next(it), next(it)
    it.close()
    assert _loader_threads() == []


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
    plain = [b.data.tolist() for b in DataLoader(Shards(), batch_size=4)]
    assert plain == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert len(DataLoader(Shards(), batch_size=4)) == 3
    assert len(DataLoader(Shards(), batch_size=4, drop_last=True)) == 2
    # torch's order: worker batches in turn; a worker that has run out drops out of the turn
    threaded = [b.data.tolist() for b in DataLoader(Shards(11), batch_size=2, num_workers=2)]
    assert threaded == [[0, 2], [1, 3], [4, 6], [5, 7], [8, 10], [9]]
    dropped = DataLoader(Shards(11), batch_size=2, num_workers=2, drop_last=True)
    assert [b.data.tolist() for b in dropped] == [[0, 2], [1, 3], [4, 6], [5, 7], [8, 10]]
    assert [b.item() for b in DataLoader(Shards(3), batch_size=None)] == [0.0, 1.0, 2.0]

    class Uneven(IterableDataset):  # worker 0 streams 9 samples, worker 1 three
        def __iter__(self):
            info = get_worker_info()
            n, off = (9, 0) if info is None or info.id == 0 else (3, 100)
            return iter([np.float32(off + i) for i in range(n)])

    # what torch's DataLoader yields for the same dataset and arguments
    assert [b.data.tolist() for b in DataLoader(Uneven(), batch_size=2, num_workers=2)] == [
        [0, 1], [100, 101], [2, 3], [102], [4, 5], [6, 7], [8]
    ]  # fmt: skip
    three = DataLoader(Uneven(), batch_size=2, num_workers=3, drop_last=True)
    assert [b.data.tolist() for b in three] == [
        [0, 1], [100, 101], [100, 101], [2, 3], [4, 5], [6, 7]
    ]  # fmt: skip


# ------------------------------------------------------------ resume
@pytest.mark.parametrize(
    "make",
    [
        lambda: {"sampler": RandomSampler(range(30), generator=_gen(11))},
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
        return DataLoader(_data(30), seed=seed, **{k: v for k, v in kw.items() if v is not None})

    loader = fresh(1)
    _labels(loader)  # one full epoch first
    it = iter(loader)
    first = [next(it)[1].data.tolist() for _ in range(3)]
    state = loader.state_dict()
    rest = [b[1].data.tolist() for b in it]
    following = _labels(loader)

    other = fresh(99)  # another seed, and a sampler generator in another state
    if isinstance(other.sampler, RandomSampler) and other.sampler.generator is not None:
        other.sampler.generator.manual_seed(123)
    other.load_state_dict(state)
    assert _labels(other) == rest
    assert _labels(other) == following
    assert len(rest) > 0 and first + rest != following


def test_resume_an_iterable_dataset_replays_to_the_same_place():
    loader = DataLoader(Shards(11), batch_size=2, num_workers=2)
    it = iter(loader)
    next(it), next(it)
    state = loader.state_dict()
    rest = [b.data.tolist() for b in it]
    other = DataLoader(Shards(11), batch_size=2, num_workers=2)
    other.load_state_dict(state)
    assert [b.data.tolist() for b in other] == rest == [[4, 6], [5, 7], [8, 10], [9]]


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
        weights = WeightedRandomSampler(np.linspace(0.1, 1, 90), 70, generator=_gen(seed))
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
        assert a.data.tobytes() == b.data.tobytes(), k
