"""The seed's CNN family on one budget: LeNet-5, AlexNet, VGG, ResNet and EfficientNet
(their small 28×28 variants in the model registry) on Fashion-MNIST, each trained for the
same number of steps with the same optimiser, then tested on all 10,000 test images.

What the table shows is the seed's story told with numbers: parameters, accuracy on a
fixed budget, and wall time per step on this 2-core CPU. Adam 1e-3, batch 64, no
augmentation, inputs standardised; one seed.

    python experiments/cnn_family.py [--steps 600] [--models lenet alexnet_small ...]

Writes experiments/results/cnn_family.json and experiments/results/cnn_family.md.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from cnn_data import data_root  # noqa: E402
from cnn_train import fit  # noqa: E402

import ember  # noqa: E402
import ember.optim  # noqa: E402
from ember.data import load_fashion_mnist  # noqa: E402
from ember.models import get_model  # noqa: E402


def batch_statistics_accuracy(model, x, y, batch: int = 500) -> float | None:
    """Test accuracy with BatchNorm normalising by each test batch's own statistics (training
    mode, no gradient) instead of its running averages; None for a model without BatchNorm.
    After a short run at a high learning rate the running averages lag the weights: this
    column shows how much of the eval-mode gap that explains."""
    if not any(isinstance(m, ember.nn.BatchNorm2d) for m in model.modules()):
        return None
    correct = 0
    model.train()
    with ember.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ember warns that train mode under no_grad is unusual
        for i in range(0, len(x), batch):
            logits = model(ember.Tensor(x[i : i + batch]))
            correct += int((logits.array.argmax(1) == y[i : i + batch]).sum())
    return 100.0 * correct / len(x)


FAMILY = ["lenet", "alexnet_small", "vgg", "resnet", "efficientnet_small"]
YEARS = {"lenet": 1998, "alexnet_small": 2012, "vgg": 2014, "resnet": 2015,
         "efficientnet_small": 2019}  # fmt: skip


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=600)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--models", nargs="+", default=FAMILY)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default=str(HERE / "results" / "cnn_family.json"))
    args = p.parse_args()
    fashion = load_fashion_mnist(root=data_root(), normalize=False)
    (x_tr, y_tr), (x_te, y_te) = fashion.train.arrays, fashion.test.arrays
    mean, std = float(x_tr.mean()), float(x_tr.std())
    x_tr, x_te = (x_tr - mean) / std, (x_te - mean) / std
    rows = []
    for name in args.models:
        ember.manual_seed(args.seed)
        model = get_model(name)["builder"]()
        opt = ember.optim.Adam(model.parameters(), lr=args.lr)
        t0 = time.perf_counter()
        result = fit(model, opt, (x_tr, y_tr, x_te, y_te), epochs=10**6,
                     batch_size=args.batch_size, seed=args.seed, max_steps=args.steps)  # fmt: skip
        final = result["history"][-1]
        with_batch_stats = batch_statistics_accuracy(model, x_te, y_te)
        rows.append(
            {
                "model": name,
                "year": YEARS.get(name),
                "parameters": model.num_parameters(),
                "steps": final["step"],
                "test_accuracy": final["test_accuracy"],
                "test_loss": final["test_loss"],
                "test_accuracy_batch_statistics": with_batch_stats,
                "wall_seconds": round(time.perf_counter() - t0, 1),
                "ms_per_step": round(1000 * result["wall_seconds"] / max(final["step"], 1), 1),
            }
        )
        print(rows[-1])
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"settings": vars(args), "results": rows}, indent=2) + "\n")
    lines = [
        "# The CNN family on one budget (Fashion-MNIST)",
        "",
        f"{args.steps} steps of Adam {args.lr}, batch {args.batch_size}, each model from the"
        f" same seed; test accuracy on the 10,000 test images (`experiments/cnn_family.py`).",
        "",
        "| model | year | parameters | test accuracy | with batch statistics¹ |"
        " ms per step (incl. evaluation) |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        bs = r["test_accuracy_batch_statistics"]
        lines.append(
            f"| {r['model']} | {r['year']} | {r['parameters']:,} | {r['test_accuracy']:.2f}% |"
            f" {'—' if bs is None else f'{bs:.2f}%'} | {r['ms_per_step']} |"
        )
    lines += [
        "",
        "¹ Models with BatchNorm, tested again with each test batch normalised by its own"
        " statistics instead of the running averages (eval mode). Where the two differ much,"
        " the running averages still lag weights that Adam moves fast: a short budget's"
        " artefact, not the architecture's accuracy.",
    ]
    out.with_suffix(".md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
