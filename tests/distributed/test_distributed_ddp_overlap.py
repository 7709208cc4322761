"""DDP's overlap in one process, a group of one: the engine accumulates each parameter as soon
as its last edge has run (autograd.py), its post-accumulate hook counts it off its bucket, and
the buckets are launched during backward's sweep; every gradient is the same bits as with
overlap=False, also when a parameter is used twice, has a register_hook hook, sits inside
utils.checkpoint (recomputed during the sweep), or already holds a .grad (accumulation)."""

import numpy as np
import pytest

import ember
import ember.distributed as dist
import ember.nn.functional as F
from ember import nn
from ember.nn.parallel import DistributedDataParallel as DDP
from ember.utils.checkpoint import checkpoint
from tests.distributed.dist_harness import free_port


@pytest.fixture
def group_of_one():
    dist.init_process_group("gloo", f"tcp://127.0.0.1:{free_port()}", rank=0, world_size=1)
    yield
    dist.destroy_process_group()


class Tricky(nn.Module):
    """a is used twice, b has a hook that doubles its gradient, c runs under checkpoint."""

    def __init__(self) -> None:
        super().__init__()
        self.a, self.b = nn.Linear(4, 4), nn.Linear(4, 4)
        self.c, self.d = nn.Linear(4, 4), nn.Linear(4, 3)

    def forward(self, x):
        h = self.a(self.a(x).tanh())
        h = checkpoint(lambda t: self.c(t).tanh(), self.b(h))
        return self.d(h)


def gradients(overlap: bool, steps: int = 2) -> tuple[list, list]:
    ember.manual_seed(0)
    inner = Tricky().double()
    inner.b.weight.register_hook(lambda g: g * 2)
    model = DDP(inner, bucket_cap_mb=1e-4, overlap=overlap)  # one parameter per bucket
    launches = []
    original = model._launch

    def spy(members, dtype, async_op):
        launches.append((async_op, model._waiting > 0))  # async, and still in the sweep
        original(members, dtype, async_op)

    model._launch = spy
    g = np.random.default_rng(1)
    out = []
    for _ in range(steps):  # no zero_grad: the second backward accumulates onto the first
        x, y = ember.tensor(g.standard_normal((6, 4))), ember.tensor(g.integers(0, 3, 6))
        F.cross_entropy(model(x), y).backward()
        out.append([p.grad.numpy().copy() for p in model.parameters()])
    return out, launches


def test_overlapped_gradients_are_the_synchronous_bits(group_of_one):
    overlapped, launches = gradients(True)
    synced, plain = gradients(False)
    for step_o, step_s in zip(overlapped, synced):
        for a, b in zip(step_o, step_s):
            assert a.tobytes() == b.tobytes()
    buckets = len(launches) // 2
    assert buckets == 8 and plain == [(False, False)] * 16
    per_step = launches[:buckets]
    assert per_step[-1] == (False, False)  # the last bucket: on this thread, at the end
    early = [launch for launch in per_step if launch == (True, True)]
    assert len(early) >= 2  # d's weight and bias at least: launched before the sweep ended
