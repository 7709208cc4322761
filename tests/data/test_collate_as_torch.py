"""default_collate and the loader's batches against torch's: namedtuples keep their type,
other tuples (TensorDataset's samples too) become lists, strings the batch of them, dicts and
nested lists element-wise; None and other objects are torch's TypeError."""

import collections

import numpy as np
import pytest

import ember
from ember.utils.data import DataLoader, TensorDataset

torch = pytest.importorskip("torch")
Pair = collections.namedtuple("Pair", "a b")


class Items:
    def __init__(self, items):
        self.items = items

    def __len__(self):
        return len(self.items)

    def __getitem__(self, i):
        return self.items[i]


def plain(batch):
    """A batch with tensors as (dtype, values), containers kept as their types."""
    if isinstance(batch, (torch.Tensor, ember.Tensor)):
        a = np.asarray(batch.numpy() if isinstance(batch, torch.Tensor) else batch.array)
        return (str(a.dtype), a.tolist())
    if isinstance(batch, dict):
        return {k: plain(v) for k, v in batch.items()}
    if isinstance(batch, (list, tuple)):
        kind = "namedtuple" if hasattr(batch, "_fields") else type(batch).__name__
        return (kind, [plain(b) for b in batch])
    return batch


@pytest.mark.parametrize(
    "items",
    [
        [Pair(i, float(i)) for i in range(3)],
        [("a", 1), ("b", 2)],
        [{"x": np.float32(i), "y": [i, i + 1]} for i in range(4)],
        [[1.0, 2.0], [3.0, 4.0]],
        [np.ones(2) * i for i in range(3)],
        [True, False, True],
    ],
    ids=["namedtuple", "strings", "dicts", "lists", "arrays", "bools"],
)
def test_batches_are_torchs(items):
    e = [plain(b) for b in DataLoader(Items(items), batch_size=2)]
    t = [plain(b) for b in torch.utils.data.DataLoader(Items(items), batch_size=2)]
    assert e == t


def test_tensor_dataset_batches_are_lists_as_torch():
    e = list(DataLoader(TensorDataset(ember.arange(4), ember.arange(4) * 2), batch_size=3))
    td = torch.utils.data.TensorDataset(torch.arange(4), torch.arange(4) * 2)
    t = list(torch.utils.data.DataLoader(td, batch_size=3))
    assert [plain(b) for b in e] == [plain(b) for b in t]
    x, y = e[0]  # unpacking reads as before
    assert x.tolist() == [0, 1, 2] and y.tolist() == [0, 2, 4]


def test_objects_that_do_not_collate_are_refused_as_torch():
    for loader in (DataLoader, torch.utils.data.DataLoader):
        with pytest.raises(TypeError, match="batch must contain tensors, numpy arrays, numbers"):
            list(loader(Items([None, None]), batch_size=2))


@pytest.mark.parametrize(
    "batch",
    [["a", "b"], [b"a", b"b"], [("a", 1), ("b", 2)], [{"s": "a"}, {"s": "b"}],
     [[np.array(1.5), "x"], [np.array(2.5), "y"]]],
    ids=["strings", "bytes", "tuples", "dicts", "lists"],
)  # fmt: skip
def test_default_collate_keeps_strings_as_torch(batch):
    # a batch of strings comes back as it came (a list; ember gave a tuple), strings inside
    # tuple or list samples as the tuple of them
    from torch.utils.data import default_collate as torch_collate

    assert plain(ember.utils.data.default_collate(batch)) == plain(torch_collate(batch))


def test_arrays_of_strings_are_refused_as_torch():
    from torch.utils.data import default_collate as torch_collate

    batch = [np.array("a"), np.array("b")]
    for collate in (ember.utils.data.default_collate, torch_collate):
        with pytest.raises(TypeError, match="batch must contain tensors, numpy arrays"):
            collate(batch)  # ember stacked them into a tensor of strings
