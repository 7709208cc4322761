"""ember.utils.flop_counter.FlopCounterMode against torch's on the same networks: the total
FLOPs of forward + backward, and each module's FLOPs of a forward (torch's own attribution of
backward FLOPs to modules is not held: ember counts a backward where its forward ran)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode as TorchCounter

import ember
from ember.utils.flop_counter import FlopCounterMode


def _net(lib):
    nn = lib.nn

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            # groups=1: torch counts a grouped convolution's ∂L/∂W as if ungrouped (groups
            # times the products it runs); ember counts the products (test below)
            self.conv = nn.Conv2d(4, 8, 3, stride=2, padding=1)
            self.block = nn.Sequential(nn.Linear(8 * 4 * 4, 32), nn.ReLU(), nn.Linear(32, 10))
            self.head = nn.Linear(10, 10, bias=False)

        def forward(self, x, w):
            h = self.block(self.conv(x).flatten(1))
            return (self.head(h) @ w).sum()

    return Net()


def _run(lib, Counter, backward: bool, input_grad: bool):
    rng = np.random.default_rng(0)
    x = lib.tensor(rng.standard_normal((3, 4, 8, 8)).astype(np.float32), requires_grad=input_grad)
    w = lib.tensor(rng.standard_normal((10, 5)).astype(np.float32))
    net = _net(lib)
    with Counter(display=False) as counter:
        loss = net(x, w)
        if backward:
            loss.backward()
    return counter


@pytest.mark.parametrize("input_grad", [False, True])
def test_total_of_forward_and_backward_equals_torchs(input_grad):
    mine = _run(ember, FlopCounterMode, True, input_grad)
    theirs = _run(torch, TorchCounter, True, input_grad)
    assert mine.get_total_flops() == theirs.get_total_flops() > 0


def test_each_modules_forward_flops_equal_torchs():
    mine = _run(ember, FlopCounterMode, False, False).get_flop_counts()
    theirs = _run(torch, TorchCounter, False, False).get_flop_counts()
    assert set(mine) == set(theirs)
    for module in theirs:
        assert sum(mine[module].values()) == sum(theirs[module].values()), module


def test_table_depth_custom_mapping_and_display(capsys):
    lin = ember.nn.Linear(4, 3)
    x = ember.ones(2, 4)
    with FlopCounterMode(depth=1, custom_mapping={"Linear": lambda inputs, out: 7}) as c:
        with ember.no_grad():
            lin(x)
    printed = capsys.readouterr().out
    assert c.get_flop_counts() == {"Global": {"Linear": 7}, "Linear": {"Linear": 7}}
    assert printed.splitlines()[0].split() == ["Module", "FLOP", "%", "Total"]
    assert " - Linear" in printed and "100.00%" in printed
    seq = ember.nn.Sequential(ember.nn.Sequential(ember.nn.Linear(4, 4)))
    with FlopCounterMode(display=False, depth=2) as c:
        seq(x)
    assert "Sequential.0.0" in c.get_flop_counts()
    assert "Sequential.0.0" not in c.get_table(depth=2)  # three levels deep
    assert "Sequential.0 " in c.get_table(depth=2) + " "


def test_a_grouped_convolution_counts_the_products_it_runs():
    """Each group's ∂L/∂W is a (C_out/g × N·H_o·W_o) · (N·H_o·W_o × C_in/g·k²) product: the
    weight gradient costs what the forward does, 2·N·H_o·W_o·C_out·(C_in/g)·k²."""
    conv = ember.nn.Conv2d(4, 8, 3, stride=2, padding=1, groups=2)
    x = ember.ones(3, 4, 8, 8)
    with FlopCounterMode(display=False) as c:
        conv(x).sum().backward()
    forward = 2 * 3 * 4 * 4 * 8 * (4 // 2) * 9
    assert c.get_flop_counts()["Global"] == {"Conv2d": forward, "Conv2d_backward": forward}
