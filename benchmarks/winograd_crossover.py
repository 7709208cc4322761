"""Winograd F(2×2, 3×3) against shifted GEMMs: ember's Conv2d forced to each, 3×3 pad 1.

ember/ops/conv_winograd.py has the algorithm; this times ``F.conv2d`` (3×3, stride 1,
padding 1, no bias) with ``ember.ops.conv.POLICY`` forced to "shifted" and to "winograd",
the forward alone (no graph) and forward + ∂L/∂x + ∂L/∂W, alternating blocks in one process
(benchmarks/harness.py; x and ∂L/∂y channel-major in memory, as inside a network), and
prints max |Winograd − shifted| / max |shifted| for y, ∂L/∂x, ∂L/∂W in float64 and float32.

    python -m benchmarks.winograd_crossover [--rounds 5] [--block 10] [--shape N C O H W ...]

Measured 2026-12-03 (2-core EPYC VM, load 0.9–2.3; one run's medians move ±20 % against
the next): errors ≤ 1.4e-15 (float64), ≤ 8.1e-7 (float32). Speedup = median ÷ Winograd
median, float32, 2 threads. Before integration, the stand-alone probe against ember's
auto choice (7 runs [3 runs with OPENBLAS_NUM_THREADS=1]); after, ember's Conv2d forced to
"shifted" against forced to "winograd" (5 runs; 3 for 28×28):
  N, C→O, H×W           probe: forward         fwd + ∂x + ∂W           integrated: fwd  fwd + bwd
  32, 64→64, 32×32      1.10–1.28 [1.16–1.29]  1.12–1.37 [1.27–1.45]   1.12–1.18  1.08–1.29
  32, 16→16, 28×28      0.86–1.12 [1.48–1.58]  0.87–1.08 [1.28–1.36]   0.58–0.64  0.61–0.82
  32, 128→128, 16×16    1.09–1.23 [1.21–1.39]  0.99–1.54 [1.21–1.44]   1.19–1.35  1.23–1.47
(the probe's 28×28 row is against im2col, ember's choice there; the default policy runs
im2col there still.) E.g. the BasicBlock conv: forward 24.7–25.4 → 21.5–21.9 ms, forward +
backward 72–77 → 56–62 ms. More shapes, and the policy drawn from them: ember/ops/conv.py,
WINOGRAD_MIN_*.
"""

from __future__ import annotations

import argparse
from functools import partial

import numpy as np

import ember
import ember.functional as F
from ember.ops import conv as C

from .harness import compare

SHAPES = [(32, 64, 64, 32, 32), (32, 16, 16, 28, 28), (32, 128, 128, 16, 16)]  # N, C, O, H, W


def data(n, c, o, h, w, dtype, seed=0):
    """x, W, ∂L/∂y; x and ∂L/∂y channel-major in memory, as inside a network."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((c, n, h, w)).astype(dtype).swapaxes(0, 1)
    W = (rng.standard_normal((o, c, 3, 3)) * 0.05).astype(dtype)
    gy = rng.standard_normal((o, n, h, w)).astype(dtype).swapaxes(0, 1)
    return x, W, gy


def conv(policy, x, w, gy=None):
    """Conv2d under ``policy``: y, or (y, ∂L/∂x, ∂L/∂W) when gy is given."""
    saved, C.POLICY = C.POLICY, policy
    try:
        xt = ember.Tensor(x, requires_grad=gy is not None)
        wt = ember.Tensor(w, requires_grad=gy is not None)
        y = F.conv2d(xt, wt, padding=1)
        assert y._ctx is None or y._ctx.winograd == (policy == "winograd")
        if gy is None:
            return y.array
        y.backward(gy)
        return y.array, xt.grad.array, wt.grad.array
    finally:
        C.POLICY = saved


def errors(shape, dtype) -> str:
    x, w, gy = data(*shape, dtype)
    ref, got = conv("shifted", x, w, gy), conv("winograd", x, w, gy)
    return ", ".join(f"{name} {np.abs(a - b).max() / np.abs(b).max():.1e}"
                     for name, a, b in zip(("y", "dx", "dW"), got, ref))  # fmt: skip


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--block", type=int, default=10)
    parser.add_argument("--shape", type=int, nargs=5, action="append", metavar="N C O H W")
    args = parser.parse_args(argv)
    shapes = [tuple(s) for s in args.shape] if args.shape else SHAPES
    print("max |Winograd − shifted| / max |shifted| for y, ∂L/∂x, ∂L/∂W:")
    for dtype in (np.float64, np.float32):
        for shape in [(3, 5, 7, 9, 12), *shapes]:
            print(f"  {np.dtype(dtype).name} {shape}: {errors(shape, dtype)}")
    print("\n| N, C, O, H, W | pass | shifted ms (p10–p90) | Winograd ms (p10–p90) | speedup |")
    print("|---|---|---|---|---|")
    for shape in shapes:
        x, w, gy = data(*shape, np.float32)
        steps = {
            "forward": [partial(conv, p, x, w) for p in ("shifted", "winograd")],
            "fwd + bwd": [partial(conv, p, x, w, gy) for p in ("shifted", "winograd")],
        }
        for name, (shifted, winograd) in steps.items():
            r = compare(name, shifted, winograd, warmup=3, block=args.block, rounds=args.rounds)
            print(f"| {', '.join(map(str, shape))} | {name} | {r.ember_median:.1f} "
                  f"({r.ember_p10:.1f}–{r.ember_p90:.1f}) | {r.torch_median:.1f} "
                  f"({r.torch_p10:.1f}–{r.torch_p90:.1f}) | **{1 / r.ratio:.2f}** |",
                  flush=True)  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
