"""The adding problem (Hochreiter & Schmidhuber 1997; the setting of Le, Jaitly & Hinton 2015).

Each input is a sequence of T pairs (value, marker): values uniform in [0, 1), markers 0
except at two positions, one in the first half and one in the second. The target is the sum of
the two marked values. Predicting the mean (1) scores MSE = Var(u₁ + u₂) = 2/12 ≈ 0.167; solving
it means carrying a value across up to T steps: a test of long-range memory. Expected: LSTM
and GRU below 0.01 at T = 200; a tanh RNN stuck near 0.167, its gradient vanished.

Trains a tanh RNN, an LSTM and a GRU (one layer, linear read-out of the last state) for each T,
writes a table of test MSE to experiments/results/adding_problem.md (+ .json), and the
gradient-through-time figures ‖∂L/∂h_t‖ of the RNN and the LSTM at initialisation and after
training to experiments/results/figures/.

    python experiments/adding_problem.py                      # full: T = 50 100 200
    python experiments/adding_problem.py --lengths 50 --steps 200 --out /tmp/add   # quick
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

import ember
import ember.functional as F
from ember import nn
from ember.data import adding_problem
from ember.diagnose.through_time import gradient_through_time, plot_gradient_through_time
from ember.optim import Adam

ROOT = Path(__file__).resolve().parent


class AddingModel(nn.Module):
    def __init__(self, kind: str, hidden: int, forget_bias: float | None = None):
        super().__init__()
        options = {"forget_bias": forget_bias} if kind == "LSTM" else {}
        self.rnn = {"RNN": nn.RNN, "LSTM": nn.LSTM, "GRU": nn.GRU}[kind](2, hidden, **options)
        self.head = nn.Linear(hidden, 1)

    def forward(self, x):
        y, _ = self.rnn(x)
        return self.head(y[-1])


def test_mse(model, x, y) -> float:
    with ember.no_grad():
        return float(F.mse_loss(model(ember.tensor(x)), ember.tensor(y)).item())


def through_time(model, x, y):
    return gradient_through_time(
        model, lambda: F.mse_loss(model(ember.tensor(x)), ember.tensor(y))
    )["rnn.l0"]


def train_one(kind, T, args, test, figures):
    ember.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    model = AddingModel(kind, args.hidden, args.forget_bias)
    opt = Adam(model.parameters(), lr=args.lr)
    probe = adding_problem(64, T, np.random.default_rng(123))
    curves = {"at init": through_time(model, *probe)} if kind in ("RNN", "LSTM") else None
    start, history = time.perf_counter(), []
    steps = args.rnn_steps if kind == "RNN" and args.rnn_steps else args.steps
    for step in range(1, steps + 1):
        x, y = adding_problem(args.batch_size, T, rng)
        loss = F.mse_loss(model(ember.tensor(x)), ember.tensor(y))
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        if step % args.eval_every == 0 or step == steps:
            mse = test_mse(model, *test)
            history.append({"step": step, "test_mse": mse})
            print(f"  {kind:4s} T={T:3d} step {step:5d}  train {loss.item():.4f}  test {mse:.4f}"
                  f"  {time.perf_counter() - start:6.1f} s", flush=True)  # fmt: skip
            if mse < args.stop_below:  # solved: stop early to save the machine's time
                break
    if curves is not None:
        curves["after training"] = through_time(model, *probe)
        grad_curves = {k: [float(v) for v in c] for k, c in curves.items()}
        plot_gradient_through_time(
            curves, figures / f"adding_grad_through_time_{kind.lower()}_T{T}.png",
            f"Adding problem, {kind}, T={T}: ‖∂L/∂h_t‖",
        )  # fmt: skip
    row = {"kind": kind, "T": T, "test_mse": history[-1]["test_mse"], "history": history,
           "seconds": time.perf_counter() - start}  # fmt: skip
    if curves is not None:
        row["grad_norm_through_time"] = grad_curves
    return row


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lengths", type=int, nargs="+", default=[50, 100, 200])
    ap.add_argument("--models", nargs="+", default=["RNN", "LSTM", "GRU"])
    ap.add_argument("--steps", type=int, default=3000)
    ap.add_argument("--batch-size", type=int, default=50)
    ap.add_argument("--hidden", type=int, default=64)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--eval-every", type=int, default=250)
    ap.add_argument("--test-size", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--forget-bias", type=float, default=1.0, help="LSTM forget-gate bias")
    ap.add_argument("--stop-below", type=float, default=1e-3, help="stop once test MSE is below")
    ap.add_argument("--out", default=str(ROOT / "results"))
    ap.add_argument("--fresh", action="store_true", help="ignore results already saved")
    ap.add_argument("--rnn-steps", type=int, default=None, help="fewer steps for the tanh RNN")
    args = ap.parse_args(argv)
    out = Path(args.out)
    figures = out / "figures"
    figures.mkdir(parents=True, exist_ok=True)
    # Results are saved after every run, and runs already in the results file are kept
    # (--fresh starts over), so a long experiment can be stopped and continued.
    results = out / "adding_problem.json"
    rows = []
    if results.is_file() and not args.fresh:
        rows = json.loads(results.read_text())["rows"]
    for T in args.lengths:
        test = adding_problem(args.test_size, T, np.random.default_rng(10_000 + T))
        for kind in args.models:
            if any(r["kind"] == kind and r["T"] == T for r in rows):
                continue
            rows.append(train_one(kind, T, args, test, figures))
            results.write_text(json.dumps({"args": vars(args), "rows": rows}, indent=2))
            write_table(rows, args, out, figures)
    return 0


def write_table(rows, args, out: Path, figures: Path) -> None:
    lengths = sorted({r["T"] for r in rows})
    lines = [
        "# The adding problem: test MSE (predicting the mean scores ≈ 0.167)",
        "",
        f"Up to {args.steps} Adam steps ({args.rnn_steps or args.steps} for the tanh RNN;"
        f" lr {args.lr}, batch {args.batch_size}, gradient norm"
        f" clipped at 1; a run stops once its test MSE is below {args.stop_below}), hidden size"
        f" {args.hidden}, LSTM forget-gate bias {args.forget_bias}, test set of"
        f" {args.test_size} sequences. Steps taken: "
        + ", ".join(f"{r['kind']} T={r['T']}: {r['history'][-1]['step']}" for r in rows)
        + ".",
        "",
        "| T | " + " | ".join(args.models) + " |",
        "|---|" + "---|" * len(args.models),
    ]
    for T in lengths:
        found = {r["kind"]: f"{r['test_mse']:.4f}" for r in rows if r["T"] == T}
        lines.append(f"| {T} | " + " | ".join(found.get(m, "-") for m in args.models) + " |")
    lines += ["", "Wall time per run (s): " + ", ".join(
        f"{r['kind']} T={r['T']}: {r['seconds']:.0f}" for r in rows)]  # fmt: skip
    lines += ["", "Gradient through time (‖∂L/∂h_t‖ at init and after training):"]
    lines += [f"![{p.stem}](figures/{p.name})" for p in sorted(figures.glob("adding_grad_*.png"))]
    (out / "adding_problem.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines), flush=True)


if __name__ == "__main__":
    raise SystemExit(main())
