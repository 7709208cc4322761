"""LeNet-5 on MNIST: at most 1.0% test error (LeCun et al. 1998 report 0.95%).

Adam lr 1e-3 halved every 4 epochs, batch 64, 12 epochs, pixels scaled to [0, 1]; no
augmentation. Reads MNIST with ember.data (sha256-checked) from ../shared/data.

    python experiments/lenet_mnist.py [--epochs 12] [--max-steps N]   (N: a short check)

Writes experiments/results/lenet_mnist.json.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from cnn_data import data_root  # noqa: E402
from cnn_train import fit  # noqa: E402

import ember  # noqa: E402
import ember.optim  # noqa: E402
from ember.data import load_mnist  # noqa: E402
from ember.models import get_model  # noqa: E402


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--epochs", type=int, default=12)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--max-steps", type=int, default=None)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default=str(HERE / "results" / "lenet_mnist.json"))
    args = p.parse_args()
    ember.manual_seed(args.seed)
    mnist = load_mnist(root=data_root(), normalize=False)  # pixels in [0, 1]
    data = (*mnist.train.arrays, *mnist.test.arrays)
    model = get_model("lenet")["builder"]()
    opt = ember.optim.Adam(model.parameters(), lr=args.lr)
    result = fit(
        model, opt, data, args.epochs, args.batch_size,
        lr_at=lambda e: args.lr * 0.5 ** (e // 4), seed=args.seed, max_steps=args.max_steps,
    )  # fmt: skip
    final = result["history"][-1]
    summary = {
        "experiment": "LeNet-5 on MNIST",
        "target": "test error <= 1.0% (LeCun et al. 1998: 0.95%)",
        "parameters": model.num_parameters(),
        "settings": vars(args),
        "test_accuracy": final["test_accuracy"],
        "test_error": round(100.0 - final["test_accuracy"], 2),
        "met": 100.0 - final["test_accuracy"] <= 1.0,
        "epochs_run": final["epoch"],
        "wall_seconds": result["wall_seconds"],
        "history": result["history"],
    }
    print(
        f"test error {summary['test_error']}% after {final['epoch']} epochs,"
        f" {result['wall_seconds']} s"
    )
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(summary, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
