"""Benchmark: one GPT training step (forward + cross-entropy + backward + AdamW), ember vs torch.

The gpt_tiny workload of PERFORMANCE.md: nanoGPT-style decoder, 4 layers, 4 heads, n_embd 128,
block 64, vocab 65, B=12, AdamW lr 1e-3 weight decay 0.1, float32. Both frameworks run in
this process with the same initial weights, in alternating blocks of steps (never one call
at a time: their thread pools would fight over the cores), after a warm-up; the report is
the median ms per step with the p10–p90 spread, and the ratio torch/ember (> 1: ember faster).

    python benchmarks/bench_gpt.py [--rounds 10] [--block 10] [--threads 2] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import torch  # noqa: E402

import ember  # noqa: E402
import ember.functional as F  # noqa: E402
import ember.optim  # noqa: E402
from benchmarks.gpt_torch import TorchGPT  # noqa: E402
from benchmarks.harness import compare  # noqa: E402
from ember.models import GPT  # noqa: E402

CONFIG = dict(vocab_size=65, block_size=64, n_layer=4, n_head=4, n_embd=128, dropout=0.0)
BATCH = 12


def make_steps(seed: int = 0, gelu: str = "none", batch: int = BATCH, device=None):
    """``device``: where the torch model and batch go (None: the CPU, ember's batch NumPy)."""
    torch.manual_seed(seed)
    tm = TorchGPT(**CONFIG, gelu_approximate=gelu)
    em = GPT(**CONFIG, gelu_approximate=gelu)
    em.load_state_dict(tm.state_dict())
    tm.to(device)
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 65, size=(batch, 64))
    y = rng.integers(0, 65, size=(batch, 64))
    xt, yt = torch.tensor(x, device=device), torch.tensor(y, device=device)
    if device is not None:  # the batch on ember's device, not copied from the host per step
        x, y = ember.tensor(x), ember.tensor(y)
    e_opt = ember.optim.AdamW(em.parameters(), lr=1e-3, weight_decay=0.1)
    t_opt = torch.optim.AdamW(tm.parameters(), lr=1e-3, weight_decay=0.1)

    def ember_step():
        logits = em(x)
        loss = F.cross_entropy(logits.reshape(-1, 65), y.reshape(-1))
        e_opt.zero_grad()
        loss.backward()
        e_opt.step()
        return loss.item()

    def torch_step():
        logits = tm(xt)
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, 65), yt.reshape(-1))
        t_opt.zero_grad()
        loss.backward()
        t_opt.step()
        return loss.item()

    return ember_step, torch_step


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=10)
    ap.add_argument("--block", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", type=str, default=None)
    ap.add_argument(
        "--gelu",
        choices=["none", "tanh"],
        default="none",
        help="GELU form in both models: exact (nanoGPT, default) or tanh (GPT-2)",
    )
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    ember_step, torch_step = make_steps(gelu=args.gelu)
    # same weights, same batch: the first losses must agree (a check that both run the same model)
    le, lt = ember_step(), torch_step()
    if abs(le - lt) > 1e-4 * abs(lt):
        raise RuntimeError(f"ember and torch losses differ at step 1: {le} vs {lt}")
    r = compare("gpt_tiny", ember_step, torch_step, warmup=args.warmup, block=args.block,
                rounds=args.rounds, pause=0.1)  # fmt: skip
    e = dict(median=r.ember_median, p10=r.ember_p10, p90=r.ember_p90)
    t = dict(median=r.torch_median, p10=r.torch_p10, p90=r.torch_p90)
    result = dict(
        workload="gpt_tiny",
        config=dict(CONFIG, batch=BATCH, optimizer="AdamW lr 1e-3 wd 0.1", gelu=args.gelu),
        threads=args.threads,
        openblas_threads=os.environ.get("OPENBLAS_NUM_THREADS"),
        ember_ms=e,
        torch_ms=t,
        ratio_torch_over_ember=t["median"] / e["median"],
        steps_per_framework=r.samples,
    )
    print(
        f"gpt_tiny (GELU {args.gelu})  ember {e['median']:.1f} ms [{e['p10']:.1f}-{e['p90']:.1f}]"
        f"  torch {t['median']:.1f} ms [{t['p10']:.1f}-{t['p90']:.1f}]"
        f"  torch/ember {result['ratio_torch_over_ember']:.2f}"
    )
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    return result


if __name__ == "__main__":
    main()
