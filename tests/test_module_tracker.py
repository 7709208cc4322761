"""ember.utils.module_tracker.ModuleTracker against torch's: the parents seen from inside an
op in forward and in backward, and after each pass."""

from __future__ import annotations

import torch
from torch.utils.module_tracker import ModuleTracker as TorchTracker

import ember
from ember.utils.module_tracker import ModuleTracker


def _run(lib, Tracker):
    nn = lib.nn
    log = []

    class Spy(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            log.append(("forward", sorted(tracker.parents), tracker.is_bw))
            return x * 1.0

        @staticmethod
        def backward(ctx, g):
            log.append(("backward", sorted(tracker.parents), tracker.is_bw))
            return g

    class Spied(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(2, 2)

        def forward(self, x):
            return Spy.apply(self.lin(x))

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = nn.Linear(2, 2)
            self.b = nn.Sequential(Spied())

        def forward(self, x):
            return self.b(self.a(x))

    net = Net()
    with Tracker() as tracker:
        y = net(lib.ones(1, 2, requires_grad=True))
        log.append(("after forward", sorted(tracker.parents), tracker.is_bw))
        y.sum().backward()
        log.append(("after backward", sorted(tracker.parents), tracker.is_bw))
    return log


def test_parents_in_forward_and_backward_are_torchs():
    got = _run(ember, ModuleTracker)
    assert got == _run(torch, TorchTracker)
    assert got[0] == ("forward", ["Global", "Net", "Net.b", "Net.b.0"], False)
