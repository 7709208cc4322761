"""What diagnostics cost: the mlp workload (PERFORMANCE.md) with diagnostics off and on.

    python benchmarks/bench_diagnostics.py [--blocks 8] [--out benchmarks/results/diagnostics.json]

One step = forward + cross-entropy + zero_grad + backward + Adam step on Linear 784→256→256→10
with ReLU, batch 128, float32. Three variants run in interleaved blocks of 100 steps in one
process (so drift hits them alike):

    off     no callback: ``function.observers`` is empty, ``Module.__call__`` the plain one
    off'    the same loop again: the noise floor between two identical runs
    on      DiagnosticsCallback at its defaults (gradient health every 20 steps, activation
            health every 100) writing diagnostics.jsonl; a block of 100 steps holds exactly
            5 gradient records and 1 activation capture, so block times are comparable

Reported: median ms per step over blocks (with p10–p90) and on/off − 1 end to end (noisy on
shared cores: the off/off' pair shows how noisy). Because that noise is larger than the
effect, the cost of "on" is also measured directly: the time spent inside the callback's
hooks in the "on" blocks, plus the time spent in diagnostics code on a step whose forward is
captured for activation health (timed from the inside) divided by its interval.
What "off" adds per step: the per-op ``if observers`` test and the per-loss grad_fn test,
timed alone and multiplied by the number of ops in a step.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
import timeit
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

import ember  # noqa: E402
import ember.functional as F  # noqa: E402
import ember.nn as nn  # noqa: E402
import ember.optim as optim  # noqa: E402
from ember import function  # noqa: E402
from ember.diagnose import DiagnosticsCallback  # noqa: E402
from ember.mistakes import check_loss_input  # noqa: E402

BLOCK = 100


def make():
    ember.manual_seed(0)
    model = nn.Sequential(
        nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 10)
    )
    opt = optim.Adam(model.parameters(), lr=1e-3)
    rng = np.random.default_rng(0)
    x = ember.tensor(rng.standard_normal((128, 784)).astype(np.float32))
    t = ember.tensor(rng.integers(0, 10, 128))
    return model, opt, x, t


def block(model, opt, x, t, callbacks, trainer, in_hooks=None):
    """ms per step over one block; ``in_hooks`` (a list) collects seconds spent in hooks."""
    t0 = time.perf_counter()
    hooks = 0.0
    for _ in range(BLOCK):
        loss = F.cross_entropy(model(x), t)
        opt.zero_grad()
        loss.backward()
        h = time.perf_counter()
        for cb in callbacks:
            cb.on_after_backward(trainer)
        hooks += time.perf_counter() - h
        opt.step()
        trainer.step += 1
        trainer.last_loss = loss.item()
        h = time.perf_counter()
        for cb in callbacks:
            cb.on_step_end(trainer)
        hooks += time.perf_counter() - h
    if in_hooks is not None:
        in_hooks.append(hooks / BLOCK * 1e3)
    return (time.perf_counter() - t0) / BLOCK * 1e3


def capture_cost(model, opt, x, t, n=20):
    """ms spent in diagnostics code on one step captured for activation health: entering and
    leaving the capture, the observer on every op, the per-layer hooks and statistics.

    Timed from the inside (the capture's methods wrapped with a clock) because the step
    around it varies on shared cores by far more than the capture costs.
    """
    from ember.diagnose import activations as A

    spent = [0.0]
    names = ("on_forward", "on_backward", "module_hook", "root_pre_hook", "root_hook", "result")
    originals = {k: getattr(A.ActivationCapture, k) for k in names}

    def timed(f):
        def wrapper(*args, **kwargs):
            t0 = time.perf_counter()
            try:
                return f(*args, **kwargs)
            finally:
                spent[0] += time.perf_counter() - t0

        return wrapper

    for k, f in originals.items():
        setattr(A.ActivationCapture, k, timed(f))
    try:
        for _ in range(n):
            t0 = time.perf_counter()
            ctx = A.capture_activations(model)
            cap = ctx.__enter__()
            spent[0] += time.perf_counter() - t0
            loss = F.cross_entropy(model(x), t)
            opt.zero_grad()
            loss.backward()
            opt.step()
            t0 = time.perf_counter()
            ctx.__exit__(None, None, None)
            spent[0] += time.perf_counter() - t0
            cap.result()
    finally:
        for k, f in originals.items():
            setattr(A.ActivationCapture, k, f)
    return spent[0] / n * 1e3


def ops_per_step(model, x, t) -> int:
    """Ops recorded in one forward + backward (each pays one ``if observers`` test twice)."""
    count = SimpleNamespace(n=0)

    class Counter:
        def on_forward(self, fn, inputs, out):
            count.n += 1

        def on_backward(self, fn, gys, gis):
            count.n += 1

    function.observers.append(Counter())
    try:
        F.cross_entropy(model(x), t).backward()
    finally:
        function.observers.clear()
    return count.n


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--blocks", type=int, default=8)
    ap.add_argument("--out", default=str(Path(__file__).parent / "results" / "diagnostics.json"))
    args = ap.parse_args()
    variants = {}
    tmp = tempfile.mkdtemp()
    for name in ("off", "off'", "on"):
        model, opt, x, t = make()
        trainer = SimpleNamespace(
            model=model,
            optimizer=opt,
            step=0,
            epoch=0,
            run_dir=Path(tmp) / name if name == "on" else None,
            last_loss=None,
            history=[],
        )
        cbs = [DiagnosticsCallback()] if name == "on" else []
        for cb in cbs:
            cb.on_train_begin(trainer)
        block(model, opt, x, t, cbs, trainer)  # warm-up (and the init activation capture)
        variants[name] = (model, opt, x, t, cbs, trainer, [])
    in_hooks: list[float] = []
    for _ in range(args.blocks):
        for name, (model, opt, x, t, cbs, trainer, times) in variants.items():
            hooks = in_hooks if name == "on" else None
            times.append(block(model, opt, x, t, cbs, trainer, hooks))
            time.sleep(0.05)
    cb = variants["on"][4][0]
    cb.on_train_end(variants["on"][5])
    kinds = [r["kind"] for r in cb.records]

    def stats(ts):
        q = np.percentile(ts, [10, 50, 90])
        return {
            "median_ms": round(float(q[1]), 3),
            "p10_ms": round(float(q[0]), 3),
            "min_ms": round(float(np.min(ts)), 3),
            "p90_ms": round(float(q[2]), 3),
        }

    res = {name: stats(v[6]) for name, v in variants.items()}
    off, off2, on = (res[k]["median_ms"] for k in ("off", "off'", "on"))
    # the cost "off" adds: one empty-list truth test per op and pass, one grad_fn test per loss
    model, opt, x, t = make()
    n_ops = ops_per_step(model, x, t)
    obs = function.observers
    t_obs = min(timeit.repeat(lambda: bool(obs), number=100000, repeat=5)) / 100000
    gf = F.cross_entropy(model(x), t).grad_fn
    t_chk = (
        min(timeit.repeat(lambda: check_loss_input(gf, "cross_entropy"), number=100000, repeat=5))
        / 100000
    )
    off_cost_ms = (n_ops * t_obs + t_chk) * 1e3
    hooks_ms = statistics.median(in_hooks)
    capture_ms = capture_cost(model, opt, x, t)
    act_every = cb.activations_every
    on_cost_ms = hooks_ms + capture_ms / act_every
    res.update(
        {
            "workload": "mlp 784-256-256-10 ReLU, batch 128, cross-entropy, Adam; float32",
            "block_steps": BLOCK,
            "blocks": args.blocks,
            "defaults": {"every": cb.every, "activations_every": act_every},
            "records": {k: kinds.count(k) for k in sorted(set(kinds))},
            "on_over_off_end_to_end": round(on / off - 1, 4),
            "on_over_off_least_disturbed_blocks": round(
                res["on"]["min_ms"] / res["off"]["min_ms"] - 1, 4
            ),
            "noise_floor_least_disturbed_blocks": round(
                res["off'"]["min_ms"] / res["off"]["min_ms"] - 1, 4
            ),
            "on_hooks_ms_per_step": round(hooks_ms, 4),
            "on_capture_ms_per_captured_step": round(capture_ms, 3),
            "on_cost_ms_per_step": round(on_cost_ms, 4),
            "on_cost_fraction": round(on_cost_ms / off, 4),
            "noise_floor_off_vs_off": round(off2 / off - 1, 4),
            "off_added_cost_ms_per_step": round(off_cost_ms, 5),
            "off_added_cost_fraction": round(off_cost_ms / off, 6),
            "ops_per_step": n_ops,
            "threads": os.environ.get("OPENBLAS_NUM_THREADS", "default"),
            "note": "2 shared, noisy cores; compare ratios from one run only",
        }
    )
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(res, indent=2) + "\n")
    print(json.dumps(res, indent=2))
    print(
        f"diagnostics on at defaults: {on_cost_ms:.3f} ms per step of {off:.2f} ="
        f" {100 * on_cost_ms / off:.2f}% (hooks {hooks_ms:.3f} ms + a captured step's"
        f" {capture_ms:.2f} ms / {act_every}); end to end {100 * (on / off - 1):+.1f}% with a"
        f" noise floor of {100 * (off2 / off - 1):+.1f}%; off adds {off_cost_ms * 1e3:.2f} µs"
        f" per step ({100 * off_cost_ms / off:.4f}%)"
    )


if __name__ == "__main__":
    main()
