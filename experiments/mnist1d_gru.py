"""GRU baseline on MNIST-1D (Greydanus & Kobak 2020): the registered ``gru1d`` model.

A GRU reads the 40 samples of each signal one at a time; a linear layer classifies its last
hidden state. Adam, mini-batches of 100, the frozen dataset's 4000/1000 train/test split.
The upstream README reports 91% test accuracy for its GRU. Writes
experiments/results/mnist1d_gru.md (+ .json).

    python experiments/mnist1d_gru.py [--epochs 40] [--hidden 64] [--bidirectional]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
from cnn_data import data_root  # the script's folder is on sys.path when run as a script

import ember
import ember.functional as F
from ember.data import load_mnist1d
from ember.models import get_model
from ember.optim import Adam

ROOT = Path(__file__).resolve().parent


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=40)
    ap.add_argument("--hidden", type=int, default=64)
    ap.add_argument("--bidirectional", action="store_true")
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--batch-size", type=int, default=100)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--data-root", default=None, help="folder with mnist1d/ (default: ../shared/data)"
    )
    ap.add_argument("--out", default=str(ROOT / "results"))
    args = ap.parse_args(argv)
    data = load_mnist1d(root=args.data_root or data_root())  # sha256-checked, as the tests read it
    (x, y), (xt, yt) = data.train.arrays, data.test.arrays
    ember.manual_seed(args.seed)
    model = get_model("gru1d")["builder"](
        num_classes=10, hidden_size=args.hidden, bidirectional=args.bidirectional
    )
    opt = Adam(model.parameters(), lr=args.lr)
    rng = np.random.default_rng(args.seed)
    start, curve = time.perf_counter(), []
    for epoch in range(1, args.epochs + 1):
        for idx in np.array_split(rng.permutation(len(x)), len(x) // args.batch_size):
            opt.zero_grad()
            F.cross_entropy(model(ember.tensor(x[idx])), y[idx]).backward()
            opt.step()
        with ember.no_grad():
            acc = float((model(ember.tensor(xt)).array.argmax(-1) == yt).mean())
        curve.append({"epoch": epoch, "test_accuracy": acc})
        print(f"epoch {epoch:3d}  test accuracy {acc:.4f}  {time.perf_counter() - start:6.1f} s")
    wall = time.perf_counter() - start
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    result = {"args": vars(args), "final_test_accuracy": curve[-1]["test_accuracy"],
              "best_test_accuracy": max(c["test_accuracy"] for c in curve),
              "wall_seconds": wall, "curve": curve}  # fmt: skip
    (out / "mnist1d_gru.json").write_text(json.dumps(result, indent=2))
    kind = "bidirectional GRU" if args.bidirectional else "GRU"
    (out / "mnist1d_gru.md").write_text(
        f"# MNIST-1D, {kind} baseline (`gru1d`)\n\n"
        f"Hidden {args.hidden}, Adam lr {args.lr}, batch {args.batch_size}, {args.epochs} epochs"
        f" in {wall:.0f} s: final test accuracy **{100 * result['final_test_accuracy']:.1f}%**"
        f" (upstream GRU: 91%).\n"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
