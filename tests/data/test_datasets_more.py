"""ConcatDataset, IterableDataset/ChainDataset against torch.utils.data's, and random_split
with fractions (the lengths torch computes)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
import torch.utils.data as tud

from ember.data import (
    ChainDataset,
    ConcatDataset,
    DataLoader,
    IterableDataset,
    Subset,
    TensorDataset,
    random_split,
)


def _parts():
    xs = [
        np.arange(n * 2, dtype=np.float32).reshape(n, 2) + 100 * k for k, n in enumerate((3, 5, 2))
    ]
    ys = [np.full(len(x), k, dtype=np.int64) for k, x in enumerate(xs)]
    return xs, ys


def test_concat_indexing_matches_torch():
    xs, ys = _parts()
    ds = ConcatDataset([TensorDataset(x, y) for x, y in zip(xs, ys)])
    tds = tud.ConcatDataset(
        [tud.TensorDataset(torch.tensor(x), torch.tensor(y)) for x, y in zip(xs, ys)]
    )
    assert len(ds) == len(tds) == 10 and ds.cumulative_sizes == tds.cumulative_sizes
    for i in list(range(10)) + [-1, -10, -4]:
        (x, y), (tx, ty) = ds[i], tds[i]
        np.testing.assert_array_equal(x.array, tx.numpy())
        assert int(y.array) == int(ty)
    with pytest.raises(IndexError, match="out of range"):
        ds[10]
    with pytest.raises(ValueError, match="should not exceed dataset length"):
        ds[-11]
    with pytest.raises(ValueError, match="empty"):
        ConcatDataset([])


def test_concat_dataloader_batches_equal_per_sample():
    xs, ys = _parts()
    ds = ConcatDataset([TensorDataset(x, y) for x, y in zip(xs, ys)])
    order = np.array([9, 0, 4, 3, 7, 1])
    x, y = ds.fetch(order)
    np.testing.assert_array_equal(x.array, np.concatenate(xs)[order])
    np.testing.assert_array_equal(y.array, np.concatenate(ys)[order])
    x, _ = ds.fetch(slice(2, 6))
    np.testing.assert_array_equal(x.array, np.concatenate(xs)[2:6])
    batches = list(DataLoader(ds, batch_size=4, shuffle=True, seed=1))
    slow = list(DataLoader(ds, batch_size=4, shuffle=True, seed=1, collate_fn=_collate))
    for (a, b), (c, d) in zip(batches, slow):
        np.testing.assert_array_equal(a.array, c.array)
        np.testing.assert_array_equal(b.array, d.array)
    assert (
        sorted(np.concatenate([b.array for _, b in batches]).tolist())
        == [0] * 3 + [1] * 5 + [2] * 2
    )


def _collate(samples):
    return tuple(type(samples[0][0])(np.stack([s[j].array for s in samples])) for j in range(2))


def test_concat_of_subsets_and_plain_datasets():
    xs, ys = _parts()
    full = TensorDataset(xs[1], ys[1])
    ds = ConcatDataset([Subset(full, [4, 0]), TensorDataset(xs[0], ys[0])])
    x, _ = ds.fetch(np.array([0, 2, 1]))
    np.testing.assert_array_equal(x.array, np.stack([xs[1][4], xs[0][0], xs[1][0]]))

    class Plain:
        def __len__(self):
            return 2

        def __getitem__(self, i):
            return i * 10

    mixed = ConcatDataset([Plain(), Plain()])
    assert [mixed[i] for i in range(4)] == [0, 10, 0, 10]
    assert mixed.fetch(np.array([0])) is None


class Count(IterableDataset):
    def __init__(self, n):
        self.n = n

    def __iter__(self):
        return iter(range(self.n))

    def __len__(self):
        return self.n


def test_iterable_and_chain():
    chained = ChainDataset([Count(2), Count(3)])
    assert list(chained) == [0, 1, 0, 1, 2] and len(chained) == 5
    assert list(Count(1) + Count(2)) == [0, 0, 1]
    with pytest.raises(TypeError, match="iterate it, not index it"):
        Count(2)[0]
    with pytest.raises(TypeError, match="does not support IterableDataset"):
        ConcatDataset([Count(2)])


@pytest.mark.parametrize("n,fractions", [(10, [0.5, 0.5]), (11, [0.3, 0.3, 0.4]), (7, [0.1, 0.9])])
def test_random_split_fractions_lengths_as_torch(n, fractions):
    ds = TensorDataset(np.arange(n, dtype=np.float32))
    parts = random_split(ds, fractions)
    tparts = tud.random_split(range(n), fractions)
    assert [len(p) for p in parts] == [len(p) for p in tparts]
    got = np.concatenate([p.indices for p in parts])
    assert sorted(got.tolist()) == list(range(n))


@pytest.mark.parametrize(
    "n,lengths", [(5, [1, 0]), (4, [1]), (10, [0.25, 0.25, 0.25, 0.25]), (6, [0, 1.0])]
)
def test_random_split_reads_lengths_summing_to_one_as_fractions_as_torch(n, lengths):
    """torch's rule is the sum, not the type: [1, 0] of 5 samples is 100 % and 0 %."""
    with warnings.catch_warnings(record=True) as ours:
        warnings.simplefilter("always")
        parts = random_split(TensorDataset(np.arange(n, dtype=np.float32)), lengths)
    with warnings.catch_warnings(record=True) as theirs:
        warnings.simplefilter("always")
        tparts = tud.random_split(range(n), lengths)
    assert [len(p) for p in parts] == [len(p) for p in tparts]
    assert [str(w.message) for w in ours] == [str(w.message) for w in theirs]


def test_random_split_refuses_bad_lengths():
    ds = TensorDataset(np.arange(5, dtype=np.float32))
    with pytest.raises(ValueError, match="fraction at index 0 is not between 0 and 1"):
        random_split(ds, [1.5, -0.5])  # sums to 1: fractions, as torch reads them
    with pytest.raises(ValueError, match="non-negative integers.*got -2 at index 1"):
        random_split(ds, [7, -2])  # torch splits it into 5 and 0 samples
    with pytest.raises(TypeError, match="integers, or fractions summing to 1; got 2.5"):
        random_split(ds, [2.5, 2.5])  # torch's TypeError (randperm of a float)


def test_subset_takes_negative_indices_as_torch():
    ds = TensorDataset(np.arange(10, dtype=np.float32))
    sub = Subset(ds, [3, -1, -10])
    assert [sub[i][0].item() for i in range(3)] == [3.0, 9.0, 0.0]
    assert [tud.Subset(range(10), [3, -1, -10])[i] for i in range(3)] == [3, 9, 0]
    np.testing.assert_array_equal(DataLoader(sub, batch_size=3).__iter__().__next__()[0].numpy(),
                                  [3.0, 9.0, 0.0])  # fmt: skip
    out_of_range = Subset(ds, [3, -11])  # as torch: built as given, refused when read
    with pytest.raises(IndexError):
        out_of_range[1]


def test_len_of_a_stream_and_its_loader_is_a_type_error_as_torch():
    """A dataset without __len__ (a stream) has no len(), nor has a DataLoader over it: Python's
    TypeError, as torch (ember's base Dataset once raised NotImplementedError)."""
    for base, loader_class in (
        (tud.IterableDataset, tud.DataLoader),
        (IterableDataset, DataLoader),
    ):

        class Stream(base):
            def __iter__(self):
                return iter(range(5))

        with pytest.raises(TypeError):
            len(Stream())
        loader = loader_class(Stream(), batch_size=2)
        with pytest.raises(TypeError):
            len(loader)
        assert [b.tolist() for b in loader] == [[0, 1], [2, 3], [4]]
