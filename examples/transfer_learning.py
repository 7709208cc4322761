"""Transfer learning: reuse a LeNet-5's convolutions learned on MNIST for Fashion-MNIST.

The early layers of a CNN learn strokes and edges that serve many image tasks; the later
ones are task-specific. So: train LeNet-5 on MNIST, freeze its convolutions
(``requires_grad_(False)``: no gradient, no update), give it a fresh fully connected head,
and fine-tune only the head on a *small* Fashion-MNIST budget. Compare with the same
network trained from scratch on the same budget (same examples, epochs, optimizer).

    python examples/transfer_learning.py [--pretrain-epochs 2] [--budget 1000] [--epochs 10]

Writes experiments/results/transfer_learning.json and prints both test accuracies.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "experiments"))
sys.path.insert(0, str(ROOT))

from cnn_data import data_root  # noqa: E402
from cnn_train import evaluate, fit  # noqa: E402

import ember  # noqa: E402
import ember.optim  # noqa: E402
from ember import nn  # noqa: E402
from ember.data import load_fashion_mnist, load_mnist  # noqa: E402
from ember.models import get_model  # noqa: E402


def new_head(model) -> None:
    """Fresh fully connected layers (the task-specific part), initialised as torch does."""
    model.fc1, model.fc2, model.fc3 = nn.Linear(400, 120), nn.Linear(120, 84), nn.Linear(84, 10)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--pretrain-epochs", type=int, default=2)
    p.add_argument("--budget", type=int, default=1000, help="Fashion-MNIST training examples")
    p.add_argument("--epochs", type=int, default=10, help="epochs over the budget")
    p.add_argument("--max-pretrain-steps", type=int, default=None, help="cap (for a quick check)")
    p.add_argument("--test-size", type=int, default=None, help="evaluate on the first N tests")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--out", default=str(ROOT / "experiments" / "results" / "transfer_learning.json")
    )
    args = p.parse_args(argv)
    t0 = time.perf_counter()
    ember.manual_seed(args.seed)
    n_test = args.test_size
    m = load_mnist(root=data_root(), normalize=False)  # pixels in [0, 1], both datasets
    (x_m, y_m), (x_mte, y_mte) = m.train.arrays, m.test.arrays
    mnist = (x_m, y_m, x_mte[:n_test], y_mte[:n_test])
    f = load_fashion_mnist(root=data_root(), normalize=False)
    (x_f, y_f), (x_fte, y_fte) = f.train.arrays, f.test.arrays
    x_fte, y_fte = x_fte[:n_test], y_fte[:n_test]
    small = (x_f[: args.budget], y_f[: args.budget], x_fte, y_fte)

    print(f"1. pre-train LeNet-5 on MNIST for {args.pretrain_epochs} epochs")
    source = get_model("lenet")["builder"]()
    opt = ember.optim.Adam(source.parameters(), lr=1e-3)
    fit(source, opt, mnist, args.pretrain_epochs, 64, max_steps=args.max_pretrain_steps)
    mnist_acc, _ = evaluate(source, mnist[2], mnist[3])

    print(
        f"2. transfer: freeze conv1, conv2; new head trained on {args.budget} Fashion-MNIST images"
    )
    ember.manual_seed(args.seed + 1)
    transfer = source
    transfer.conv1.requires_grad_(False)
    transfer.conv2.requires_grad_(False)
    new_head(transfer)
    trainable = [p for p in transfer.parameters() if p.requires_grad]
    frozen_before = [p.array.copy() for p in transfer.conv1.parameters()]
    t_hist = fit(transfer, ember.optim.Adam(trainable, lr=1e-3), small, args.epochs, 32)
    assert all((a == p.array).all() for a, p in zip(frozen_before, transfer.conv1.parameters()))

    print(f"3. from scratch: the same LeNet-5, all layers trained on the same {args.budget} images")
    ember.manual_seed(args.seed + 1)
    scratch = get_model("lenet")["builder"]()
    s_hist = fit(scratch, ember.optim.Adam(scratch.parameters(), lr=1e-3), small, args.epochs, 32)

    result = {
        "experiment": "transfer learning MNIST → Fashion-MNIST with LeNet-5",
        "settings": vars(args),
        "mnist_test_accuracy_of_source": mnist_acc,
        "trainable_parameters": {
            "transfer": sum(p.numel() for p in trainable),
            "scratch": scratch.num_parameters(),
        },  # fmt: skip
        "fashion_test_accuracy": {
            "transfer_frozen_convs": t_hist["history"][-1]["test_accuracy"],
            "from_scratch": s_hist["history"][-1]["test_accuracy"],
        },
        "curves": {"transfer": t_hist["history"], "scratch": s_hist["history"]},
        "wall_seconds": round(time.perf_counter() - t0, 1),
    }
    acc = result["fashion_test_accuracy"]
    print(
        f"Fashion-MNIST test accuracy with {args.budget} training images: transfer"
        f" {acc['transfer_frozen_convs']:.2f}% vs from scratch {acc['from_scratch']:.2f}%"
    )
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
