"""MNIST-1D baselines (Greydanus 2020): the MLP (68%) and the 1-D CNN (94%) trained in ember.

The recipe of the paper's code (notebooks/train.py): Adam lr 1e-2, no weight decay, batch
100 in order through the 4000 training signals, 8000 steps, MLP width 256; test accuracy at
the end.

    python experiments/mnist1d_baselines.py [--steps 6000] [--models mlp1d cnn1d] [--seed 0]

Writes experiments/results/mnist1d_baselines.json (accuracy, wall time per model).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cnn_data import data_root  # noqa: E402

import ember  # noqa: E402
import ember.functional as F  # noqa: E402
import ember.optim  # noqa: E402
from ember.data import load_mnist1d  # noqa: E402
from ember.models import get_model  # noqa: E402

PAPER = {"mlp1d": 68.0, "cnn1d": 94.0}


def accuracy(model, x, y, batch=1000) -> float:
    model.eval()
    correct = 0
    with ember.no_grad():
        for i in range(0, len(x), batch):
            correct += int(
                (model(ember.Tensor(x[i : i + batch])).array.argmax(1) == y[i : i + batch]).sum()
            )
    model.train()
    return 100.0 * correct / len(x)


def train(name: str, steps: int, seed: int, lr: float = 1e-2, batch: int = 100, **options) -> dict:
    ember.manual_seed(seed)
    data = load_mnist1d(root=data_root())
    (x, y), (x_test, y_test) = data.train.arrays, data.test.arrays
    model = get_model(name)["builder"](**options)
    opt = ember.optim.Adam(model.parameters(), lr=lr)
    t0 = time.perf_counter()
    curve = []
    for step in range(steps + 1):
        i = (step * batch) % len(x)
        loss = F.cross_entropy(
            model(ember.Tensor(x[i : i + batch])), ember.Tensor(y[i : i + batch])
        )
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % 500 == 0 or step == steps:
            curve.append(
                {"step": step, "loss": loss.item(), "test_acc": accuracy(model, x_test, y_test)}
            )
            print(
                f"{name} step {step}: loss {loss.item():.3f}, test {curve[-1]['test_acc']:.1f}%",
                flush=True,
            )
    seconds = time.perf_counter() - t0
    acc = accuracy(model, x_test, y_test)
    return {
        "model": name,
        "options": options,
        "parameters": model.num_parameters(),
        "steps": steps,
        "batch_size": batch,
        "lr": lr,
        "seed": seed,
        "test_accuracy": acc,
        "best_test_accuracy_seen": max(c["test_acc"] for c in curve),
        "paper_accuracy": PAPER[name],
        "within_2_points_or_above": acc >= PAPER[name] - 2.0,
        "wall_seconds": round(seconds, 1),
        "curve": curve,
    }


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=8000)
    p.add_argument("--models", nargs="+", default=["mlp1d", "cnn1d"])
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--mlp-hidden", type=int, default=256, help="MLP width (the paper code: 256)")
    p.add_argument(
        "--out", default=str(Path(__file__).resolve().parent / "results" / "mnist1d_baselines.json")
    )
    args = p.parse_args()
    options = {"mlp1d": {"hidden_size": args.mlp_hidden}, "cnn1d": {}}
    results = [train(m, args.steps, args.seed, **options[m]) for m in args.models]
    for r in results:
        print(
            f"{r['model']}: test accuracy {r['test_accuracy']:.1f}%"
            f" (paper {r['paper_accuracy']}%), {r['wall_seconds']} s"
        )
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps({"results": results}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
