"""Where shifted GEMMs beat im2col: one Conv2d forward + backward, both paths, one process.

For each case (N, C, H, W, O, k, padding) both algorithms of ``ember.ops.conv.Conv2d`` run
the same convolution (x, W and b all requiring grad), alternating blocks of ``block`` steps
after a warm-up; the report is the median ms per step of each and the ratio
im2col/shifted (> 1: shifted is faster). Use one BLAS thread for stable ratios:

    OPENBLAS_NUM_THREADS=1 python -m benchmarks.conv_crossover [--rounds 3] [--block 5]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import ember
import ember.functional as F
from ember.ops import conv as C

# (N, C, H, W, O, kernel, padding): channel sweeps at 3×3 and 5×5, LeNet's two convs,
# small images (a larger share of padding), 1-D
CASES = [
    *[(32, c, 32, 32, 64, 3, 1) for c in (1, 3, 8, 16, 32, 64, 128)],
    *[(32, c, 16, 16, c, 3, 1) for c in (16, 64)],
    *[(32, 64, s, s, 64, 3, 1) for s in (4, 8)],
    (32, 16, 16, 16, 32, 5, 2),
    (64, 1, 28, 28, 6, 5, 2),  # LeNet conv1
    (64, 6, 14, 14, 16, 5, 0),  # LeNet conv2
    (32, 64, 1, 256, 64, (1, 3), (0, 1)),  # 1-D
]


def step_for(case, policy: str, seed: int = 0):
    n, c, h, w, o, k, p = case
    kk = (k, k) if isinstance(k, int) else k
    rng = np.random.default_rng(seed)
    x = ember.Tensor(rng.standard_normal((n, c, h, w)).astype(np.float32), requires_grad=True)
    W = ember.Tensor(rng.standard_normal((o, c) + kk).astype(np.float32), requires_grad=True)
    b = ember.Tensor(rng.standard_normal(o).astype(np.float32), requires_grad=True)
    gy = None

    def step():
        nonlocal gy
        C.POLICY = policy
        try:
            x.grad = W.grad = b.grad = None
            y = F.conv2d(x, W, b, padding=p)
            if gy is None:
                gy = rng.standard_normal(y.shape).astype(np.float32)
            y.backward(gy)
        finally:
            C.POLICY = "auto"

    return step


def measure(case, rounds: int, block: int) -> dict:
    steps = {policy: step_for(case, policy) for policy in ("im2col", "shifted")}
    for step in steps.values():
        step()
    times = {policy: [] for policy in steps}
    for _ in range(rounds):
        for policy, step in steps.items():
            for _ in range(block):
                t0 = time.perf_counter()
                step()
                times[policy].append((time.perf_counter() - t0) * 1e3)
    med = {policy: float(np.median(ts)) for policy, ts in times.items()}
    return {**med, "ratio": med["im2col"] / med["shifted"]}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--block", type=int, default=5)
    args = parser.parse_args(argv)
    print(f"{'N, C, H, W, O, k, pad':<34} {'im2col ms':>10} {'shifted ms':>11} {'ratio':>7}")
    for case in CASES:
        r = measure(case, args.rounds, args.block)
        print(f"{str(case):<34} {r['im2col']:>10.2f} {r['shifted']:>11.2f} {r['ratio']:>7.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
