"""ember on the GPU (CuPy) against PyTorch on CUDA, one process, PERFORMANCE.md's workloads.

The seven reference workloads (mlp, lenet, lstm_small, lstm_large, gru_small, charlstm,
gpt_tiny) and the ResNet BasicBlock of bench_all, each at PERFORMANCE.md's batch (×1) and
at 8× that batch (×8): same weights and data on both sides, built by the CPU benchmark
files (bench_core, bench_cnn, bench_rnn, bench_gpt) with the torch side moved to ``device``.

    python -m benchmarks.bench_cuda                        # cuda if torch sees a GPU, else cpu
    python -m benchmarks.bench_cuda --only mlp gpt_tiny --scales 1 --rounds 3
    python -m benchmarks.bench_cuda --device cpu --out /tmp/cpu.json   # ember NumPy vs torch CPU

With ``--device cuda`` the script sets EMBER_DEVICE=cuda before importing ember, so every
ember tensor is a CuPy array on the GPU. Method:

- float32 on both sides, and TF32 off in torch (``torch.backends.cuda.matmul.allow_tf32``
  and ``torch.backends.cudnn.allow_tf32`` False): CuPy's GEMMs do not use TF32 by default,
  so the comparison is full float32 against full float32. cuDNN autotuning stays at
  torch's default (off).
- every timed step ends with a device synchronisation (``ember.cuda.synchronize()`` after an
  ember step, ``torch.cuda.synchronize()`` after a torch step) before the clock is read;
- a generous warm-up first (CuPy compiles each elementwise kernel on its first use; torch
  initialises cuBLAS/cuDNN), then ``--rounds`` rounds of alternating blocks of ember steps
  and torch steps, each side's block sized to take about ``--block-s`` seconds;
- the report: median ms per step, p10–p90, and the ratio torch/ember of the medians
  (> 1 means ember is faster); full numbers go to ``--out`` as JSON.

One failing workload prints its (shortened) traceback and the run goes on; the table marks
it "failed". ``--budget-s`` stops starting new workloads once that much time has passed
(they are marked "skipped"), so a one-shot run on a borrowed GPU always ends with a table.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import statistics
import sys
import time
import traceback
from pathlib import Path

# name -> (builder module, builder, keyword arguments at PERFORMANCE.md's size, batch keyword)
# The batch keyword is scaled by --scales; bench_all's table runs the same builders.
WORKLOADS = {
    "mlp": ("bench_core", "mlp_steps", dict(batch=128), "batch"),
    "lenet": ("bench_cnn", "lenet_workload", dict(batch=64), "batch"),
    "lstm_small": (
        "bench_rnn",
        "_regression_pair",
        dict(kind="LSTM", T=50, B=32, I=32, H=128),
        "B",
    ),
    "lstm_large": (
        "bench_rnn",
        "_regression_pair",
        dict(kind="LSTM", T=100, B=64, I=256, H=512),
        "B",
    ),
    "gru_small": ("bench_rnn", "_regression_pair", dict(kind="GRU", T=50, B=32, I=32, H=128), "B"),
    "charlstm": (
        "bench_rnn",
        "_charlstm_pair",
        dict(kind="LSTM", T=64, B=32, V=65, E=128, H=256),
        "B",
    ),
    "gpt_tiny": ("bench_gpt", "make_steps", dict(batch=12), "batch"),
    "basicblock": ("bench_cnn", "basicblock_workload", dict(batch=32), "batch"),
}


def _short(text: str, lines: int = 12) -> str:
    """The last ``lines`` lines of a traceback (the machine returns only the output's tail)."""
    parts = text.rstrip().splitlines()
    if len(parts) > lines:
        parts = ["  ..."] + parts[-lines:]
    return "\n".join(parts)


def _prepare(device: str):
    """Import torch (TF32 off) and ember on ``device``; return (torch, ember, sync_e, sync_t)."""
    if device == "cuda":
        if "ember" in sys.modules and os.environ.get("EMBER_DEVICE", "cpu") != "cuda":
            raise RuntimeError("--device cuda: ember was imported before EMBER_DEVICE=cuda was set")
        os.environ["EMBER_DEVICE"] = "cuda"
    import torch

    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    if device == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("--device cuda, but torch.cuda.is_available() is False")

    import ember
    import ember.cuda
    import ember.optim  # noqa: F401  (binds ember.optim for the builders)

    if device == "cuda":

        def sync_t():
            torch.cuda.synchronize()

    else:

        def sync_t():
            pass

    return torch, ember, ember.cuda.synchronize, sync_t


def _ember_array_module(ember) -> str:
    """ "cupy" or "numpy": what ember's tensors really hold in this process."""
    return type(ember.zeros(1).array).__module__.split(".")[0]


def _device_name(device: str, torch, ember) -> str:
    if device == "cuda":
        get = getattr(ember.cuda, "get_device_name", None)
        try:
            if get is not None:
                return str(get())
        except Exception:  # noqa: BLE001 - a name is only decoration
            pass
        return torch.cuda.get_device_name(0)
    return f"CPU ({platform.processor() or platform.machine()}, {os.cpu_count()} cores)"


def _build(name: str, scale: int, device: str, torch):
    import importlib

    module, builder, kwargs, batch_key = WORKLOADS[name]
    kwargs = dict(kwargs)
    kwargs[batch_key] *= scale
    fn = getattr(importlib.import_module(f"benchmarks.{module}"), builder)
    made = (
        fn(torch, device=device, **kwargs)
        if module == "bench_core"
        else fn(device=device, **kwargs)
    )
    return made[0], made[1], kwargs[batch_key]


def _release(backend: str, device: str, torch) -> None:
    """Drop the last workload's arrays, and the memory pools' cached blocks, before the next."""
    gc.collect()
    try:
        if backend == "cupy":
            import cupy

            cupy.get_default_memory_pool().free_all_blocks()
        if device == "cuda":
            torch.cuda.empty_cache()
    except Exception as e:  # noqa: BLE001 - only housekeeping
        print(f"(could not free GPU memory pools: {e})", flush=True)


def _synced(step, sync):
    def run():
        step()
        sync()

    return run


def _timed(step, n: int, out: list[float]) -> None:
    for _ in range(n):
        t0 = time.perf_counter()
        step()  # ends with the device synchronisation
        out.append((time.perf_counter() - t0) * 1e3)


def _quantile(xs: list[float], q: float) -> float:
    from .harness import _quantile as quantile

    return quantile(xs, q)


def measure(ember_step, torch_step, *, warmup: int, rounds: int, block_s: float, max_block: int):
    """Warm up both (synchronised) steps, then alternate per-side blocks; return the numbers."""
    warmup = max(1, warmup)  # the last warm-up step sizes the blocks
    warm_e: list[float] = []
    warm_t: list[float] = []
    _timed(ember_step, warmup, warm_e)
    _timed(torch_step, warmup, warm_t)
    # each side's block takes about block_s seconds, judged by its last warm-up step
    n_e = max(2, min(max_block, int(block_s * 1e3 / max(warm_e[-1], 1e-3))))
    n_t = max(2, min(max_block, int(block_s * 1e3 / max(warm_t[-1], 1e-3))))
    te: list[float] = []
    tt: list[float] = []
    for r in range(rounds):  # alternate which side goes first so drift favours neither
        blocks = [(ember_step, n_e, te), (torch_step, n_t, tt)]
        for step, n, out in blocks if r % 2 == 0 else blocks[::-1]:
            _timed(step, n, out)
    em, tm = statistics.median(te), statistics.median(tt)
    return {
        "ember_ms": {"median": em, "p10": _quantile(te, 0.1), "p90": _quantile(te, 0.9)},
        "torch_ms": {"median": tm, "p10": _quantile(tt, 0.1), "p90": _quantile(tt, 0.9)},
        "ratio_torch_over_ember": tm / em,
        "steps": {"ember": len(te), "torch": len(tt)},
        "warmup_ms": {"ember": warm_e, "torch": warm_t},
    }


def markdown(rows: list[dict], heading: str) -> str:
    lines = [
        heading,
        "",
        "| workload | batch | ember ms (p10–p90) | torch ms (p10–p90) | torch/ember |",
        "|---|---|---|---|---|",
    ]
    for r in rows:
        if r["status"] != "ok":
            lines.append(f"| {r['name']} ×{r['scale']} | {r['batch']} | {r['status']} | | |")
            continue
        e, t = r["ember_ms"], r["torch_ms"]
        lines.append(
            f"| {r['name']} ×{r['scale']} | {r['batch']}"
            f" | {e['median']:.3g} ({e['p10']:.3g}–{e['p90']:.3g})"
            f" | {t['median']:.3g} ({t['p10']:.3g}–{t['p90']:.3g})"
            f" | **{r['ratio_torch_over_ember']:.2f}** |"
        )
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", choices=["cuda", "cpu"], default=None)
    ap.add_argument("--only", nargs="+", choices=list(WORKLOADS), help="workloads (default all)")
    ap.add_argument("--scales", nargs="+", type=int, default=[1, 8], help="batch multipliers")
    ap.add_argument("--rounds", type=int, default=5, help="alternating block rounds")
    ap.add_argument("--warmup", type=int, default=5, help="untimed steps per side first")
    ap.add_argument("--block-s", type=float, default=0.2, help="seconds per block and side")
    ap.add_argument("--max-block", type=int, default=50, help="most steps in one block")
    ap.add_argument("--budget-s", type=float, default=130.0, help="start nothing after this")
    ap.add_argument("--threads", type=int, default=2, help="torch threads (CPU side)")
    ap.add_argument("--out", default=str(Path(__file__).parent / "results" / "bench_cuda.json"))
    args = ap.parse_args(argv)
    if args.device is None:
        import torch

        args.device = "cuda" if torch.cuda.is_available() else "cpu"
    t_start = time.perf_counter()
    torch, ember, sync_e, sync_t = _prepare(args.device)
    torch.set_num_threads(args.threads)
    backend = _ember_array_module(ember)
    name = _device_name(args.device, torch, ember)
    print(
        f"bench_cuda: device {args.device} ({name}); ember on {backend}, torch {torch.__version__}"
        f" on {args.device}; float32, TF32 off in torch",
        flush=True,
    )
    if (backend == "cupy") != (args.device == "cuda"):
        print(f"WARNING: --device {args.device} but ember's arrays are {backend}", flush=True)
    names = [n for n in WORKLOADS if not args.only or n in args.only]
    rows = []
    for scale in args.scales:
        for wname in names:
            row = {"name": wname, "scale": scale, "batch": None, "status": "ok"}
            rows.append(row)
            elapsed = time.perf_counter() - t_start
            if elapsed > args.budget_s:
                row["status"] = "skipped"
                print(f"{wname} ×{scale}: skipped ({elapsed:.0f} s > budget)", flush=True)
                continue
            t0 = time.perf_counter()
            try:
                e_step, t_step, batch = _build(wname, scale, args.device, torch)
                row["batch"] = batch
                row.update(
                    measure(
                        _synced(e_step, sync_e),
                        _synced(t_step, sync_t),
                        warmup=args.warmup,
                        rounds=args.rounds,
                        block_s=args.block_s,
                        max_block=args.max_block,
                    )
                )
                print(
                    f"{wname} ×{scale} (batch {batch}): ember {row['ember_ms']['median']:.3f} ms"
                    f"  torch {row['torch_ms']['median']:.3f} ms"
                    f"  ratio {row['ratio_torch_over_ember']:.2f}"
                    f"  ({time.perf_counter() - t0:.1f} s, warm-up ember"
                    f" {row['warmup_ms']['ember'][0]:.0f} ms first step)",
                    flush=True,
                )
            except Exception:  # noqa: BLE001 - one failure must not end a one-shot run
                row["status"] = "failed"
                row["error"] = _short(traceback.format_exc())
                print(f"{wname} ×{scale}: FAILED\n{row['error']}", flush=True)
            finally:
                e_step = t_step = None
                _release(backend, args.device, torch)
    result = {
        "device": args.device,
        "device_name": name,
        "ember_array_module": backend,
        "torch_version": torch.__version__,
        "tf32": False,
        "rounds": args.rounds,
        "warmup": args.warmup,
        "block_s": args.block_s,
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "total_s": time.perf_counter() - t_start,
        "rows": rows,
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1) + "\n")
    print(f"(JSON: {out}, total {result['total_s']:.0f} s)", flush=True)
    heading = (
        f"## ember ({backend}) vs torch {torch.__version__} on {name}"
        f" — float32, TF32 off; ratio = torch/ember, > 1: ember faster"
    )
    print(markdown(rows, heading), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
