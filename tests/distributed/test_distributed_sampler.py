"""DistributedSampler: torch's partition rule exactly (against torch's own sampler without
shuffle, and against the rule applied to ember's permutation with it), every index on some
rank, set_epoch reshuffles, the same seed gives the same order on every rank."""

import numpy as np
import pytest

import ember
import ember.distributed as dist
from ember.data import DataLoader, DistributedSampler, TensorDataset
from tests.distributed.dist_harness import free_port

CASES = [(10, 3, False), (10, 3, True), (12, 4, False), (12, 4, True), (2, 5, False), (7, 2, True)]


def shares(n, replicas, **kw):
    return [list(DistributedSampler(range(n), replicas, r, **kw)) for r in range(replicas)]


@pytest.mark.parametrize("n, replicas, drop_last", CASES)
def test_partition_is_torchs_exactly(torch, n, replicas, drop_last):
    from torch.utils.data import DistributedSampler as TorchSampler

    for r in range(replicas):
        ours = DistributedSampler(range(n), replicas, r, shuffle=False, drop_last=drop_last)
        theirs = TorchSampler(range(n), replicas, r, shuffle=False, drop_last=drop_last)
        assert list(ours) == list(theirs) and len(ours) == len(theirs)


@pytest.mark.parametrize("n, replicas, drop_last", CASES)
def test_shuffled_partition_follows_the_rule_on_embers_permutation(n, replicas, drop_last):
    seed, epoch = 7, 3
    perm = ember.Generator().manual_seed(seed + epoch).permutation(n).tolist()
    per_rank = n // replicas if drop_last and n % replicas else -(-n // replicas)
    total = per_rank * replicas
    padded = perm[:total] if drop_last else (perm * (total // n + 1))[:total]
    for r in range(replicas):
        s = DistributedSampler(range(n), replicas, r, seed=seed, drop_last=drop_last)
        s.set_epoch(epoch)
        assert list(s) == padded[r:total:replicas] and len(s) == per_rank


def test_every_index_exactly_once_when_it_divides_and_padding_repeats_the_first():
    got = shares(12, 3, seed=1)
    assert sorted(sum(got, [])) == list(range(12))
    assert all(len(g) == 4 for g in got)
    padded = shares(10, 4, shuffle=False)  # 10 → 12: indices 0 and 1 once more
    assert sorted(sum(padded, [])) == sorted([*range(10), 0, 1])
    dropped = shares(10, 4, shuffle=False, drop_last=True)  # 10 → 8: 8 and 9 left out
    assert sorted(sum(dropped, [])) == list(range(8))


def test_set_epoch_reshuffles_and_the_same_seed_gives_the_same_order():
    a, b = DistributedSampler(range(50), 2, 0, seed=3), DistributedSampler(range(50), 2, 0, seed=3)
    first = list(a)
    assert first == list(b) == list(a)  # the same epoch repeats until set_epoch
    a.set_epoch(1)
    assert list(a) != first
    b.set_epoch(1)
    assert list(a) == list(b)
    other = DistributedSampler(range(50), 2, 1, seed=3)
    other.set_epoch(1)
    assert not set(a) & set(other)  # the ranks' shares of one epoch are disjoint
    assert list(DistributedSampler(range(50), 2, 0, seed=4)) != first


def test_with_a_dataloader_each_rank_loads_its_share():
    data = TensorDataset(np.arange(10.0))
    sampler = DistributedSampler(data, num_replicas=2, rank=1, shuffle=False)
    loader = DataLoader(data, batch_size=2, sampler=sampler)
    got = [b[0].tolist() for b in loader]
    assert got == [[1.0, 3.0], [5.0, 7.0], [9.0]]


def test_arguments_are_checked_and_defaults_come_from_the_group():
    with pytest.raises(RuntimeError, match="init_process_group"):
        DistributedSampler(range(4))
    with pytest.raises(ValueError, match=r"Invalid rank 2, rank should be in the interval \[0, 1"):
        DistributedSampler(range(4), num_replicas=2, rank=2)
    dist.init_process_group("gloo", f"tcp://127.0.0.1:{free_port()}", rank=0, world_size=1)
    try:
        s = DistributedSampler(range(5), shuffle=False)
        assert (s.num_replicas, s.rank, list(s)) == (1, 0, [0, 1, 2, 3, 4])
    finally:
        dist.destroy_process_group()
    assert ember.utils.data.DistributedSampler is DistributedSampler
