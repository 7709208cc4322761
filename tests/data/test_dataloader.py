"""DataLoader and datasets: batches, seeded shuffles, drop_last, collate, mid-epoch resume."""

import numpy as np
import pytest

import ember
from ember.data import DataLoader, Dataset, Subset, TensorDataset, default_collate, random_split


def _data(n=10):
    x = np.arange(n * 3, dtype=np.float32).reshape(n, 3)
    y = np.arange(n, dtype=np.int64)
    return TensorDataset(x, y)


def _labels(loader):
    return [b[1].array.tolist() for b in loader]


def test_batches_in_order_with_last_partial_batch():
    batches = list(DataLoader(_data(10), batch_size=4))
    assert [b[0].shape for b in batches] == [(4, 3), (4, 3), (2, 3)]
    assert isinstance(batches[0][0], ember.Tensor) and batches[0][1].dtype == np.int64
    assert _labels(DataLoader(_data(10), batch_size=4)) == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert len(DataLoader(_data(10), batch_size=4)) == 3


def test_drop_last():
    loader = DataLoader(_data(10), batch_size=4, drop_last=True)
    assert len(loader) == 2
    assert _labels(loader) == [[0, 1, 2, 3], [4, 5, 6, 7]]


def test_shuffle_is_a_permutation_that_changes_each_epoch_and_repeats_with_the_seed():
    loader = DataLoader(_data(20), batch_size=5, shuffle=True, seed=3)
    e1, e2 = sum(_labels(loader), []), sum(_labels(loader), [])
    assert sorted(e1) == list(range(20)) and sorted(e2) == list(range(20))
    assert e1 != e2
    again = DataLoader(_data(20), batch_size=5, shuffle=True, seed=3)
    assert sum(_labels(again), []) == e1


def test_shuffle_follows_manual_seed_when_no_seed_is_given():
    ember.manual_seed(7)
    a = sum(_labels(DataLoader(_data(20), batch_size=5, shuffle=True)), [])
    ember.manual_seed(7)
    b = sum(_labels(DataLoader(_data(20), batch_size=5, shuffle=True)), [])
    ember.manual_seed(8)
    c = sum(_labels(DataLoader(_data(20), batch_size=5, shuffle=True)), [])
    assert a == b and a != c


def test_generator_argument():
    g1, g2 = ember.Generator().manual_seed(5), ember.Generator().manual_seed(5)
    a = _labels(DataLoader(_data(12), batch_size=4, shuffle=True, generator=g1))
    b = _labels(DataLoader(_data(12), batch_size=4, shuffle=True, generator=g2))
    assert a == b
    with pytest.raises(ValueError, match="either generator= or seed="):
        DataLoader(_data(), generator=g1, seed=1)


def test_batch_fetch_uses_one_gather_not_per_sample_getitem():
    class Counting(TensorDataset):
        calls = 0

        def __getitem__(self, i):
            Counting.calls += 1
            return super().__getitem__(i)

    ds = Counting(np.zeros((100, 2), np.float32), np.zeros(100, np.int64))
    list(DataLoader(ds, batch_size=10, shuffle=True, seed=0))
    assert Counting.calls == 0


def test_custom_dataset_and_collate_fn():
    class Squares(Dataset):
        def __len__(self):
            return 5

        def __getitem__(self, i):
            return {"x": np.float32(i), "y": i * i}

    batches = list(DataLoader(Squares(), batch_size=2))
    assert batches[0]["x"].array.tolist() == [0.0, 1.0] and batches[2]["y"].array.tolist() == [16]
    lens = list(DataLoader(Squares(), batch_size=5, collate_fn=lambda s: len(s)))
    assert lens == [5]


def test_default_collate_rejects_ragged_samples_as_torch(torch):
    # torch's RuntimeError; ember's ValueError before: InputError is both
    for error in (RuntimeError, ValueError):
        with pytest.raises(error, match=r"but got \[2\] at entry 0 and \[3\] at entry 1"):
            default_collate([np.zeros(2), np.zeros(3)])
    with pytest.raises(RuntimeError, match=r"equal size, but got \[2\] at entry 0 and \[3\]"):
        torch.utils.data.default_collate([np.zeros(2), np.zeros(3)])


def test_subset_and_random_split():
    ds = _data(10)
    parts = random_split(ds, [0.7, 0.3], generator=ember.Generator().manual_seed(0))
    assert [len(p) for p in parts] == [7, 3]
    both = sorted(
        _labels(DataLoader(parts[0], batch_size=10))[0]
        + _labels(DataLoader(parts[1], batch_size=10))[0]
    )
    assert both == list(range(10))
    sub = Subset(ds, [3, 1])
    assert sub[0][1].item() == 3 and len(sub) == 2
    with pytest.raises(ValueError, match="sum to"):
        random_split(ds, [5, 4])
    out_of_range = Subset(ds, [10])  # as torch: built as given, refused when read
    with pytest.raises(IndexError):
        out_of_range[0]


def test_tensor_dataset_checks_lengths():
    with pytest.raises(ValueError, match=r"same first dimension, got \[3, 4\]"):
        TensorDataset(np.zeros(3), np.zeros(4))


def test_mid_epoch_state_resumes_the_same_batches():
    loader = DataLoader(_data(20), batch_size=3, shuffle=True, seed=1)
    _labels(loader)  # one full epoch first
    it = iter(loader)
    first = [next(it)[1].array.tolist() for _ in range(2)]
    state = loader.state_dict()
    rest = [b[1].array.tolist() for b in it]
    next_epoch = _labels(loader)

    other = DataLoader(_data(20), batch_size=3, shuffle=True, seed=99)
    other.load_state_dict(state)
    assert _labels(other) == rest
    assert _labels(other) == next_epoch
    assert first + rest != next_epoch


def test_state_taken_after_the_last_batch_moves_to_the_next_epoch():
    loader = DataLoader(_data(6), batch_size=3, shuffle=True, seed=2)
    it = iter(loader)
    next(it), next(it)  # the whole epoch, but the generator is not yet exhausted
    state = loader.state_dict()
    assert state["batches_consumed"] == 0
    following = _labels(loader)
    other = DataLoader(_data(6), batch_size=3, shuffle=True, seed=0)
    other.load_state_dict(state)
    assert _labels(other) == following
