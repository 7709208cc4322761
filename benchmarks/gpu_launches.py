"""Why ember on the GPU is slow: device work launched per step, and what one launch costs.

For each workload of bench_cuda (at PERFORMANCE.md's batch) one ember step and one torch step
run under torch.profiler with CUDA activity: CUPTI records every kernel, copy and memset the
process launches, CuPy's included. The report per side: launches per step, the device's busy
time per step (the sum of those activities), and the wall time per step (synchronised). A
wall time far above the busy time means the host, issuing launches one Python call at a
time, is the bound, not the GPU's arithmetic or bandwidth. A last row times one tiny
elementwise op (a 32×128 add) in a loop on each side: the host cost of one launch.

    EMBER_DEVICE=cuda python -m benchmarks.gpu_launches [--only lstm_small mlp] [--out f.json]
"""

from __future__ import annotations

import argparse
import json
import time
import traceback

from .bench_cuda import WORKLOADS, _build, _prepare, _short


def _profile(step, sync, torch, steps: int) -> tuple[float, float]:
    """(launches per step, device-busy ms per step) of ``step`` under torch.profiler."""
    from torch.profiler import ProfilerActivity, profile

    sync()
    with profile(activities=[ProfilerActivity.CUDA]) as prof:
        for _ in range(steps):
            step()
        sync()
    events = [e for e in prof.events() if e.device_type.name == "CUDA"]
    busy_us = sum(getattr(e, "device_time_total", None) or getattr(e, "cuda_time_total", 0)
                  for e in events)  # fmt: skip
    return len(events) / steps, busy_us / 1e3 / steps


def _wall(step, sync, steps: int) -> float:
    sync()
    t0 = time.perf_counter()
    for _ in range(steps):
        step()
    sync()
    return (time.perf_counter() - t0) * 1e3 / steps


def _tiny_op_us(ember, torch, sync_e, sync_t, n: int = 2000) -> tuple[float, float]:
    """Host µs per launch: a 32×128 float32 add repeated n times, on each side."""
    xe = ember.ones(32, 128)
    xt = torch.ones(32, 128, device="cuda")
    out = []
    for x, sync in ((xe.array, sync_e), (xt, sync_t)):
        for _ in range(50):
            x + x
        sync()
        t0 = time.perf_counter()
        for _ in range(n):
            x + x
        sync()
        out.append((time.perf_counter() - t0) * 1e6 / n)
    return out[0], out[1]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", nargs="*", default=None)
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--out", default=None)
    args = ap.parse_args(argv)
    torch, ember, sync_e, sync_t = _prepare("cuda")
    rows = []
    for name in args.only or list(WORKLOADS):
        try:
            ember_step, torch_step, batch = _build(name, 1, "cuda", torch)
            row = {"workload": name, "batch": batch}
            for side, step, sync in (("ember", ember_step, sync_e), ("torch", torch_step, sync_t)):
                for _ in range(3):  # warm-up: CuPy compiles, cuBLAS/cuDNN initialise
                    step()
                launches, busy = _profile(step, sync, torch, args.steps)
                row[side] = {"launches": launches, "busy_ms": busy,
                             "wall_ms": _wall(step, sync, args.steps)}  # fmt: skip
            rows.append(row)
            e, t = row["ember"], row["torch"]
            print(f"{name}: ember {e['launches']:.0f} launches, busy {e['busy_ms']:.2f} ms,"
                  f" wall {e['wall_ms']:.2f} ms | torch {t['launches']:.0f} launches, busy"
                  f" {t['busy_ms']:.2f} ms, wall {t['wall_ms']:.2f} ms", flush=True)  # fmt: skip
        except Exception:  # noqa: BLE001 - one failure must not end a one-shot run
            print(f"{name}: failed\n{_short(traceback.format_exc())}", flush=True)
    tiny_e, tiny_t = _tiny_op_us(ember, torch, sync_e, sync_t)
    print(f"one 32x128 add: ember (CuPy) {tiny_e:.1f} us, torch {tiny_t:.1f} us", flush=True)
    print("\n| workload | ember launches/step | ember busy ms | ember wall ms | torch launches/step"
          " | torch busy ms | torch wall ms |\n|---|---|---|---|---|---|---|")  # fmt: skip
    for r in rows:
        e, t = r["ember"], r["torch"]
        print(f"| {r['workload']} | {e['launches']:.0f} | {e['busy_ms']:.2f} | {e['wall_ms']:.2f}"
              f" | {t['launches']:.0f} | {t['busy_ms']:.2f} | {t['wall_ms']:.2f} |")  # fmt: skip
    if args.out:
        with open(args.out, "w") as f:
            json.dump({"rows": rows, "tiny_add_us": {"ember": tiny_e, "torch": tiny_t}}, f,
                      indent=1)  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
