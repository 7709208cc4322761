"""benchmarks/ceilings.py: the floors it times are the work ember's algorithms do."""

from __future__ import annotations

import numpy as np

from benchmarks import ceilings
from ember.ops.recurrent import PER_STEP_DX_MAX_INPUT


def flops(products) -> int:
    return sum(2 * a.shape[0] * a.shape[1] * b.shape[1] for a, b, _ in products)


def test_lstm_products_are_the_layers_products():
    T, B, I, H = 5, 3, 4, 6  # noqa: E741
    K = H + I + 1
    # forward W·[h; x; 1] per step, Wᵀ·∂L/∂gates per step, one ∂L/∂W over all steps
    without_dx = ceilings.lstm_products(T, B, I, H, need_dx=False)
    assert len(without_dx) == 2 * T + 1
    assert flops(without_dx) == 2 * (4 * H * K * B * T + H * 4 * H * B * T + 4 * H * T * B * K)
    # a narrow input takes ∂L/∂x from each step's product, (H + I) rows
    with_dx = ceilings.lstm_products(T, B, I, H, need_dx=True)
    assert len(with_dx) == 2 * T + 1 and with_dx[T][0].shape == (H + I, 4 * H)
    # a wide one from one product after the loop
    wide = PER_STEP_DX_MAX_INPUT + 1
    after = ceilings.lstm_products(T, B, wide, H, need_dx=True)
    assert len(after) == 2 * T + 2 and after[-1][2].shape == (T * B, wide)
    ceilings.run_products(after)()  # every product's shapes fit its output


def test_conv_floor_runs_forward_and_backward():
    step = ceilings.conv_step([((2, 3, 8, 8), True, (4, 3, 3, 3), True, 1)])
    step()
    step()  # gradients reset between steps


def test_measure_rotates_blocks():
    calls = []
    steps = {name: (lambda name=name: calls.append(name)) for name in "abc"}
    medians = ceilings.measure(steps, block=2, rounds=3, warmup=1)
    assert set(medians) == {"a", "b", "c"} and all(np.isfinite(list(medians.values())))
    timed = calls[3:]  # after one warm-up call each
    assert timed[:6] == list("aabbcc") and timed[6:12] == list("bbccaa")
