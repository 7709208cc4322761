"""ResNet (BasicBlocks, torchvision layout) on Fashion-MNIST: at least 92% test accuracy.

Three stages of two BasicBlocks, widths 16/32/64, 3×3 stem (no max pool) on 28×28; SGD
momentum 0.9, Nesterov, weight decay 5e-4, batch 128, learning rate 0.05 on a cosine
schedule to zero over the run; random horizontal flips (clothing is left/right
symmetric); no other augmentation. Reads Fashion-MNIST with ember.data (sha256-checked)
from ../shared/data.

    python experiments/resnet_fashion_mnist.py [--epochs 10] [--width 16] [--max-steps N]

Writes experiments/results/resnet_fashion_mnist.json.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from cnn_data import data_root  # noqa: E402
from cnn_train import fit  # noqa: E402

import ember  # noqa: E402
import ember.optim  # noqa: E402
from ember.data import load_fashion_mnist  # noqa: E402
from ember.models import get_model  # noqa: E402


class Flipped:
    """Training images flipped left/right with probability ½, re-drawn every epoch."""

    def __init__(self, x, seed):
        self.x, self.rng = x, np.random.default_rng(seed)

    def __len__(self):
        return len(self.x)

    def __getitem__(self, idx):
        batch = self.x[idx]
        flip = self.rng.random(len(batch)) < 0.5
        batch = batch.copy()
        batch[flip] = batch[flip][..., ::-1]
        return batch


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--width", type=int, default=16)
    p.add_argument("--layers", type=int, nargs="+", default=[2, 2, 2])
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--lr", type=float, default=0.05)
    p.add_argument("--max-steps", type=int, default=None)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default=str(HERE / "results" / "resnet_fashion_mnist.json"))
    args = p.parse_args()
    ember.manual_seed(args.seed)
    fashion = load_fashion_mnist(root=data_root(), normalize=False)  # standardised below
    (x_tr, y_tr), (x_te, y_te) = fashion.train.arrays, fashion.test.arrays
    mean, std = float(x_tr.mean()), float(x_tr.std())
    x_tr, x_te = (x_tr - mean) / std, (x_te - mean) / std
    model = get_model("resnet")["builder"](width=args.width, layers=tuple(args.layers))
    opt = ember.optim.SGD(
        model.parameters(), lr=args.lr, momentum=0.9, nesterov=True, weight_decay=5e-4
    )
    epochs = args.epochs
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)

    def summary(history, wall=None, finished=False):
        final = history[-1]
        return {
            "experiment": "ResNet (BasicBlock) on Fashion-MNIST",
            "target": "test accuracy >= 92%",
            "parameters": model.num_parameters(),
            "settings": vars(args),
            "finished": finished,
            "test_accuracy": final["test_accuracy"],
            "met": final["test_accuracy"] >= 92.0,
            "epochs_run": final["epoch"],
            "wall_seconds": wall if wall is not None else final["seconds"],
            "history": history,
        }

    def save_partial(history):  # a long run on a shared machine: keep what is done
        out.write_text(json.dumps(summary(history), indent=2) + "\n")

    result = fit(
        model, opt, (Flipped(x_tr, args.seed), y_tr, x_te, y_te), epochs, args.batch_size,
        lr_at=lambda e: 0.5 * args.lr * (1 + math.cos(math.pi * e / epochs)),
        seed=args.seed, max_steps=args.max_steps, on_epoch=save_partial,
    )  # fmt: skip
    final = summary(result["history"], result["wall_seconds"], finished=True)
    out.write_text(json.dumps(final, indent=2) + "\n")
    print(
        f"test accuracy {final['test_accuracy']:.2f}% after {final['epochs_run']} epochs,"
        f" {final['wall_seconds']} s"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
