"""Samplers and the DataLoader's sampler and batch_sampler arguments, against torch's
semantics: orders, distributions, lengths and argument errors (workers and resume:
test_dataloader_workers.py)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.utils.data as tud

import ember
from ember.data import DataLoader, IterableDataset, TensorDataset
from ember.data.sampler import (
    BatchSampler,
    RandomSampler,
    Sampler,
    SequentialSampler,
    SubsetRandomSampler,
    WeightedRandomSampler,
)
from tests.data.loader_reference import Plain, data, gen, labels


# ------------------------------------------------------------ samplers
def test_sequential_sampler_is_torchs_order():
    assert list(SequentialSampler(range(7))) == list(tud.SequentialSampler(range(7)))
    assert len(SequentialSampler(range(7))) == 7


def test_random_sampler_permutes_and_repeats_with_the_seed():
    e1 = list(RandomSampler(range(50), generator=gen(1)))
    assert sorted(e1) == list(range(50)) and e1 != list(range(50))
    assert list(RandomSampler(range(50), generator=gen(1))) == e1
    assert list(RandomSampler(range(50), generator=gen(2))) != e1
    s = RandomSampler(range(50), generator=gen(1))
    assert list(s) == e1 and list(s) != e1  # the next epoch is a new permutation
    assert len(s) == 50 and all(type(i) is int for i in s)


def test_random_sampler_num_samples_and_replacement():
    long = list(RandomSampler(range(4), num_samples=10, generator=gen()))
    assert len(long) == 10  # torch: two whole permutations, then half of a third
    assert sorted(long[:4]) == sorted(long[4:8]) == [0, 1, 2, 3] and len(set(long[8:])) == 2
    short = list(RandomSampler(range(20), num_samples=5, generator=gen()))
    assert len(short) == 5 and len(set(short)) == 5
    drawn = list(RandomSampler(range(5), replacement=True, num_samples=2000, generator=gen()))
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
    s = SubsetRandomSampler(idx, generator=gen(4))
    e1, e2 = list(s), list(s)
    assert sorted(e1) == sorted(e2) == sorted(idx) and e1 != e2 and len(s) == 6
    assert list(SubsetRandomSampler(idx, generator=gen(4))) == e1


def test_weighted_sampler_frequencies_follow_the_weights():
    w = np.array([1.0, 0.0, 3.0, 2.0, 0.0, 4.0])
    n = 20000
    drawn = np.array(list(WeightedRandomSampler(w, n, generator=gen(7))))
    freq = np.bincount(drawn, minlength=len(w)) / n
    p = w / w.sum()
    assert freq[1] == freq[4] == 0  # zero weights are never drawn
    assert (np.abs(freq - p) <= 4 * np.sqrt(p * (1 - p) / n) + 1e-12).all(), (freq, p)
    assert len(WeightedRandomSampler(w, 7)) == 7


def test_weighted_sampler_without_replacement():
    w = np.array([5.0, 0.0, 1.0, 2.0, 0.0, 1.0, 1.0])
    g = gen(8)
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
    # weights torch.multinomial refuses: refused when the sampler is built, with torch's
    # RuntimeError (still ember's ValueError) and words
    with pytest.raises(ValueError, match="probability entry < 0"):
        WeightedRandomSampler([1.0, -1.0], 2)
    with pytest.raises(RuntimeError, match="sum of probabilities <= 0"):
        WeightedRandomSampler([0.0, 0.0], 2)


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
    shuffled = BatchSampler(RandomSampler(range(n), generator=gen()), size, drop_last)
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

    loader = DataLoader(data(5), batch_size=2, sampler=Reversed(5))
    assert labels(loader) == [[4, 3], [2, 1], [0]] and len(loader) == 3


# ------------------------------------------------------------ DataLoader with samplers
def test_loader_with_sampler_and_batch_sampler():
    idx = [2, 5, 7, 8, 11]
    loader = DataLoader(data(12), batch_size=2, sampler=SubsetRandomSampler(idx, gen(1)))
    got = labels(loader)
    assert [len(b) for b in got] == [2, 2, 1] and sorted(sum(got, [])) == idx
    assert got == [
        b[1].array.tolist()
        for b in DataLoader(data(12), batch_size=2, sampler=SubsetRandomSampler(idx, gen(1)))
    ]
    plan = [[3, 0], [9], [1, 2, 4]]
    assert labels(DataLoader(data(10), batch_sampler=plan)) == plan
    assert len(DataLoader(data(10), batch_sampler=plan)) == 3
    bs = BatchSampler(SequentialSampler(range(7)), 3, True)
    assert labels(DataLoader(data(10), batch_sampler=bs)) == [[0, 1, 2], [3, 4, 5]]
    x, _ = next(iter(DataLoader(data(10), batch_sampler=[[6, 2]])))
    np.testing.assert_array_equal(x.array, [[12.0, 13.0], [4.0, 5.0]])


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
        assert all(np.array_equal(x.array, y.array.astype(float)) for x, y in batches)
    assert Counting.calls == 0


def test_loader_with_weighted_sampler_and_python_dataset():
    w = [0.0] * 10 + [1.0] * 13
    loader = DataLoader(
        Plain(), batch_size=4, sampler=WeightedRandomSampler(w, 40, generator=gen(2))
    )
    ys = sum((b["y"].array.tolist() for b in loader), [])
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
    loader = DataLoader(data(), batch_size=2)
    with pytest.raises(ValueError, match="batch_size attribute should not be set"):
        loader.batch_size = 4
    loader.num_workers = 0  # not one torch fixes


def test_batch_size_none_hands_out_converted_samples():
    samples = list(DataLoader(data(3), batch_size=None))
    assert len(samples) == 3 and isinstance(samples[1], list)  # torch: a tuple becomes a list
    assert samples[1][0].array.tolist() == [2.0, 3.0] and samples[1][1].item() == 1
