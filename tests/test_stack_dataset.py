"""StackDataset as torch.utils.data's: items, batches through the DataLoader (vectorised
fetch and the per-item path), dict form, and its errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ember
from ember.utils.data import DataLoader, Dataset, StackDataset, TensorDataset


class _Squares(Dataset):  # no fetch, no __getitems__: the per-item path
    def __len__(self):
        return 5

    def __getitem__(self, i):
        return float(i * i)


def _torch_batches(kw: bool):
    a = torch.utils.data.TensorDataset(torch.arange(10.0).reshape(5, 2))
    b = torch.utils.data.TensorDataset(torch.arange(5))
    ds = torch.utils.data.StackDataset(x=a, y=b) if kw else torch.utils.data.StackDataset(a, b)
    return list(torch.utils.data.DataLoader(ds, batch_size=2))


def _ours(kw: bool):
    a = TensorDataset(ember.arange(10.0).reshape(5, 2))
    b = TensorDataset(ember.arange(5))
    return StackDataset(x=a, y=b) if kw else StackDataset(a, b)


def _same(ours, ref):
    if isinstance(ref, dict):
        assert list(ours) == list(ref)
        for k in ref:
            _same(ours[k], ref[k])
    elif isinstance(ref, (tuple, list)):
        assert len(ours) == len(ref)
        for o, r in zip(ours, ref):
            _same(o, r)
    else:
        np.testing.assert_array_equal(np.asarray(ours.numpy()), ref.numpy())


@pytest.mark.parametrize("kw", [False, True])
def test_batches_as_torch(kw):
    ours = list(DataLoader(_ours(kw), batch_size=2))
    ref = _torch_batches(kw)
    _same(ours, ref)
    ds = _ours(kw)
    assert len(ds) == 5
    item = ds[3]
    assert (set(item) == {"x", "y"}) if kw else len(item) == 2


def test_a_part_without_fetch_uses_items():
    ds = StackDataset(TensorDataset(ember.arange(5)), _Squares())
    assert ds.fetch(np.arange(2)) is None
    (ids,), sq = next(iter(DataLoader(ds, batch_size=5)))
    np.testing.assert_array_equal(ids.numpy(), np.arange(5))
    np.testing.assert_array_equal(sq.numpy(), np.arange(5.0) ** 2)
    rows = ds.__getitems__([1, 4])
    assert [(int(r[0][0].item()), r[1]) for r in rows] == [(1, 1.0), (4, 16.0)]


def test_errors_as_torch():
    a = TensorDataset(ember.arange(5))
    with pytest.raises(ValueError, match="At least one dataset"):
        StackDataset()
    with pytest.raises(ValueError, match="both types are given"):
        StackDataset(a, y=a)
    with pytest.raises(ValueError, match="Size mismatch"):
        StackDataset(a, TensorDataset(ember.arange(4)))
