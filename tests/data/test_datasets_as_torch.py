"""Datasets, their batches and the samplers' refusals against torch.utils.data's: batches are
fresh arrays (never views of the dataset), a ConcatDataset's fast batch path collates as
torch's default_collate (promoted dtypes, negative indices, unequal shapes refused), Subset
keeps its indices as given and reads them only on access, and the argument errors are of
torch's classes."""

from __future__ import annotations

import numpy as np
import pytest

import ember
import ember.utils.data as E


def values(batch):
    """A batch as nested lists of (dtype, values), torch's or ember's."""
    if isinstance(batch, dict):
        return {k: values(v) for k, v in batch.items()}
    if isinstance(batch, (list, tuple)):
        return (type(batch).__name__, [values(b) for b in batch])
    a = batch.array if isinstance(batch, ember.Tensor) else batch.numpy()
    return (str(np.asarray(a).dtype), np.asarray(a).tolist())


def both(make, torch):
    """``make(module)`` with ember.utils.data and with torch.utils.data."""
    return make(E, ember.tensor), make(torch.utils.data, torch.tensor)


def loaded(loader):
    return [values(b) for b in loader]


@pytest.mark.parametrize("wrap", ["plain", "subset", "concat"])
def test_batches_are_fresh_arrays_as_torch(wrap, torch):
    # without shuffling, ember's batches were views of the dataset: writing one wrote it
    x = np.zeros((4, 2), np.float32)
    ds = E.TensorDataset(x)
    ds = {"plain": ds, "subset": E.Subset(ds, range(4)), "concat": E.ConcatDataset([ds])}[wrap]
    for (b,) in E.DataLoader(ds, batch_size=2):
        b.add_(1)
    t = torch.zeros(4, 2)
    for (b,) in torch.utils.data.DataLoader(torch.utils.data.TensorDataset(t), batch_size=2):
        b.add_(1)
    assert x.sum() == t.sum().item() == 0


@pytest.mark.parametrize("batch_size", [1, 2, 3, 4])
def test_concat_batches_promote_dtypes_as_torch(batch_size, torch):
    def make(D, tensor):
        parts = [D.TensorDataset(tensor([0, 1])), D.TensorDataset(tensor([10.5, 11.5]))]
        return loaded(D.DataLoader(D.ConcatDataset(parts), batch_size=batch_size))

    ours, theirs = both(make, torch)
    assert ours == theirs  # int64 where the batch holds int64 samples only, else float32


def test_concat_batches_of_float32_and_float64_are_float64_as_torch(torch):
    def make(D, tensor):
        parts = [D.TensorDataset(tensor([1.0, 2.0])), D.TensorDataset(tensor([3.0]).double())]
        return loaded(D.DataLoader(D.ConcatDataset(parts), batch_size=3, sampler=[2, 0, 1]))

    ours, theirs = both(make, torch)
    assert ours == theirs and ours[0][1][0][0] == "float64"


@pytest.mark.parametrize("order", [[-1], [-5], [-7, 6, -3], [3, -4, 0]])
def test_concat_batches_count_negative_indices_from_the_end_as_torch(order, torch):
    def make(D, tensor):
        ds = D.ConcatDataset(
            [D.TensorDataset(tensor([0, 1, 2])), D.TensorDataset(tensor([10, 11, 12, 13]))]
        )
        by_sampler = loaded(D.DataLoader(ds, sampler=order, batch_size=len(order)))
        by_subset = loaded(D.DataLoader(D.Subset(ds, order), batch_size=len(order)))
        return by_sampler, by_subset

    ours, theirs = both(make, torch)
    assert ours == theirs


def test_concat_batches_of_unequal_shapes_are_refused_as_torch(torch):
    def make(D, tensor):
        parts = [
            D.TensorDataset(tensor(np.zeros((2, 3)))),
            D.TensorDataset(tensor(np.zeros((2, 1)))),
        ]
        ds = D.ConcatDataset(parts)
        errors = []
        for kw in ({"batch_size": 4}, {"batch_size": 2, "sampler": [3, 0]}):
            with pytest.raises(RuntimeError) as info:
                next(iter(D.DataLoader(ds, **kw)))
            errors.append(str(info.value))
        return errors, [b[0].shape[1] for b in D.DataLoader(ds, batch_size=2)]

    ours, theirs = both(make, torch)
    assert ours == theirs  # "[3] at entry 0 and [1] at entry 2", "[1] at entry 0 and [3] …"


def test_stack_dataset_batches_nest_as_torch(torch):
    def make(D, tensor):
        part = D.TensorDataset(tensor(np.arange(6.0).reshape(3, 2)))
        return [
            loaded(D.DataLoader(s, batch_size=2))
            for s in (D.StackDataset(part), D.StackDataset(a=part))
        ]

    ours, theirs = both(make, torch)
    assert ours == theirs  # [[x]] and {"a": [x]}: a part's tuple sample collates to a list


def test_subset_keeps_its_indices_as_given_as_torch(torch):
    for D in (E, torch.utils.data):
        a, b = D.random_split(range(6), [4, 2])
        assert type(a.indices) is list and sorted(a.indices + b.indices) == list(range(6))
        assert D.Subset({"a": 1, "b": 2}, ["b", "a"])[0] == 2  # dict keys, read on access
        assert len(D.Subset(iter([]), [5, 6])) == 2  # a dataset without len
        late = D.Subset(list(range(10)), [3, 30])  # out of range: refused only when read
        assert late[0] == 3
        with pytest.raises(IndexError):
            late[1]
        sub = D.Subset(list("abcdef"), [5, 1, 0])
        assert sub.__getitems__([0, 2]) == ["f", "a"]


def test_subset_indexed_with_a_list_indexes_its_dataset_with_one_as_torch(torch):
    def make(D, tensor):
        return values(D.Subset(D.TensorDataset(tensor([0, 10, 20, 30])), [3, 1, 2])[[0, 2]])

    ours, theirs = both(make, torch)
    assert ours == theirs == ("tuple", [("int64", [30, 20])])


def test_subset_batches_read_indices_live_as_torch(torch):
    def make(D, tensor):
        sub = D.Subset(D.TensorDataset(tensor([0.0, 10.0, 20.0, 30.0])), [3, -1, 0])
        first = loaded(D.DataLoader(sub, batch_size=3))
        sub.indices[0] = 1  # read when the batch is fetched, as torch reads them
        return (
            first,
            loaded(D.DataLoader(sub, batch_size=2)),
            loaded(D.DataLoader(D.Subset(sub, [2, 0]), batch_size=2)),
        )

    ours, theirs = both(make, torch)
    assert ours == theirs


def test_subset_of_a_dict_keyed_dataset_loads_as_torch(torch):
    def make(D, tensor):
        return loaded(D.DataLoader(D.Subset({"a": 1.5, "b": 2.0}, ["b", "a"]), batch_size=2))

    ours, theirs = both(make, torch)
    assert ours == theirs


def test_subset_subclass_overriding_getitem_only_is_refused_as_torch(torch):
    for D in (E, torch.utils.data):

        class Doubled(D.Subset):
            def __getitem__(self, i):
                return 2 * super().__getitem__(i)

        with pytest.raises(NotImplementedError, match="overrides __getitem__ but not __getitems__"):
            Doubled(list(range(4)), [1, 2])


def test_adding_datasets_concatenates_them_as_torch(torch):
    for D, tensor in ((E, ember.tensor), (torch.utils.data, torch.tensor)):
        both_parts = D.TensorDataset(tensor([1, 2, 3])) + D.TensorDataset(tensor([4, 5]))
        assert isinstance(both_parts, D.ConcatDataset) and len(both_parts) == 5
        assert int(both_parts[3][0]) == 4
        assert D.ConcatDataset.cumsum([[1], [2, 3], []]) == [1, 3, 3]


def test_weighted_sampler_without_replacement_runs_past_the_nonzero_weights_as_torch(torch):
    # torch draws the zero-weight indices once the others are used up (ember refused)
    for D in (E, torch.utils.data):
        assert list(D.WeightedRandomSampler([0.0, 0.0, 1.0], 2, replacement=False)) == [2, 0]
        drawn = list(D.WeightedRandomSampler([0.0, 1.0, 1.0], 3, replacement=False))
        assert sorted(drawn[:2]) == [1, 2] and drawn[2] == 0


@pytest.mark.parametrize(
    "weights,num_samples,replacement",
    [([-1.0, 2.0], 2, True), ([float("nan"), 1.0], 2, True), ([float("inf"), 1.0], 2, True),
     ([0.0, 0.0], 2, True), ([], 2, True), ([-1.0, 2.0], 2, False), ([float("inf"), 1.0], 2, False),
     ([0.0, 0.0], 2, False), ([1.0, 1.0], 3, False)],
)  # fmt: skip
def test_weighted_sampler_refusals_are_runtime_errors_as_torch(
    weights, num_samples, replacement, torch
):
    # torch refuses them when iterated, ember when built: both a RuntimeError (ember's
    # InputError is also the ValueError it raised before)
    with pytest.raises(RuntimeError) as theirs:
        list(torch.utils.data.WeightedRandomSampler(weights, num_samples, replacement))
    with pytest.raises(RuntimeError) as ours:
        list(E.WeightedRandomSampler(weights, num_samples, replacement))
    assert str(theirs.value).split(" (")[0] in str(ours.value)


def test_argument_errors_are_of_torchs_classes(torch):
    T = torch.utils.data
    for D in (E, T):
        with pytest.raises(ValueError, match="Default process group has not been initialized"):
            D.DistributedSampler(range(4))
        with pytest.raises(TypeError):
            D.random_split(range(4), [2, 2], generator=1)
        with pytest.raises(TypeError):
            D.random_split(range(10), [2.0, 8.0])  # counts, not fractions: torch's randperm
        with pytest.raises(ValueError):
            D.random_split(range(10), [0.3, 0.8])  # neither fractions nor counts: the sum first
        for name, args, kw in [
            ("RandomSampler", (range(3),), {"num_samples": np.int64(2)}),
            ("BatchSampler", (range(3), np.int64(2), False), {}),
            ("WeightedRandomSampler", ([1.0, 2.0], np.int64(2)), {}),
            ("DataLoader", (range(3),), {"batch_size": np.int64(2)}),
        ]:
            with pytest.raises(ValueError, match="positive integer"):
                getattr(D, name)(*args, **kw)
    with pytest.raises(RuntimeError, match="init_process_group"):  # as ember raised before
        E.DistributedSampler(range(4))
