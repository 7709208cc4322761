"""CharLSTM on tiny-shakespeare: a 2-layer LSTM (hidden 256) to ≤ 1.55 nats/char validation.

Trains ``charlstm`` with ember's language trainer (truncated BPTT, windows of 64 characters,
32 streams, Adam, gradient norm clipped at 1) on char-rnn's corpus (90/10 split), then records
the loss curve (PNG), the wall time, the best validation loss and a sample in
experiments/results/charlstm_shakespeare.md (+ .json). The run folder stays in runs/ so
``ember generate`` can sample from it afterwards.

    python experiments/charlstm_shakespeare.py                       # full: 60 minutes
    python experiments/charlstm_shakespeare.py --minutes 1 --out /tmp/cs   # quick check
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

import ember.models  # noqa: F401  (registers charlstm)
from ember.train.language import train_language_model

ROOT = Path(__file__).resolve().parent
TARGET = 1.55


def plot_curve(rows, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    for split in ("train", "val"):
        pts = [(r["step"], r["loss"]) for r in rows if r["split"] == split]
        if pts:
            ax.plot(*zip(*pts), label=split, marker="o" if split == "val" else None, ms=3)
    ax.axhline(TARGET, color="gray", ls="--", lw=1, label=f"target {TARGET}")
    ax.set_xlabel("optimizer step (one window of 64 characters × 32 streams)")
    ax.set_ylabel("cross-entropy (nats per character)")
    ax.set_title("CharLSTM (2×LSTM 256) on tiny-shakespeare")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=60.0)
    ap.add_argument("--hidden", type=int, default=256)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--bptt", type=int, default=64)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--eval-every", type=int, default=250)
    ap.add_argument("--data-root", default=str(ROOT.parent.parent / "shared" / "data"))
    ap.add_argument("--run-dir", default="runs/charlstm-shakespeare")
    ap.add_argument("--out", default=str(ROOT / "results"))
    args = ap.parse_args(argv)
    ns = argparse.Namespace(
        model="charlstm", data="tinyshakespeare", data_root=args.data_root,
        time_limit=args.minutes, batch_size=args.batch_size, bptt=args.bptt, lr=args.lr,
        eval_every=args.eval_every, eval_windows=100, run_dir=args.run_dir, sample_tokens=600,
        option=[f"hidden_size={args.hidden}"],
    )  # fmt: skip
    start = time.perf_counter()
    train_language_model(ns)
    wall = time.perf_counter() - start
    run = Path(args.run_dir)
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines() if line]
    val = [r for r in rows if r["split"] == "val"]
    best = min(r["loss"] for r in val)
    out = Path(args.out)
    (out / "figures").mkdir(parents=True, exist_ok=True)
    plot_curve(rows, out / "figures" / "charlstm_shakespeare_loss.png")
    sample = (run / "samples.txt").read_text(encoding="utf-8")
    result = {"best_val_loss": best, "bits_per_char": best / math.log(2), "target": TARGET,
              "reached": best <= TARGET, "steps": rows[-1]["step"], "wall_seconds": wall,
              "args": vars(args), "sample": sample}  # fmt: skip
    (out / "charlstm_shakespeare.json").write_text(json.dumps(result, indent=2))
    md = [
        "# CharLSTM on tiny-shakespeare",
        "",
        f"2-layer LSTM, hidden {args.hidden}, embedding 128; windows of {args.bptt} characters ×"
        f" {args.batch_size} streams (truncated BPTT), Adam lr {args.lr}, {result['steps']} steps"
        f" in {wall / 60:.1f} min.",
        "",
        f"Best validation loss: **{best:.4f} nats/char** ({best / math.log(2):.3f} bits/char);"
        f" target ≤ {TARGET}: {'reached' if result['reached'] else 'not reached'}.",
        "",
        "![loss curve](figures/charlstm_shakespeare_loss.png)",
        "",
        "Sample (temperature 0.8):",
        "",
        "```",
        sample,
        "```",
    ]
    (out / "charlstm_shakespeare.md").write_text("\n".join(md) + "\n")
    print("\n".join(md[:6]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
