"""Core benchmarks: the autograd overhead per op, and the MLP training step.

(a) chain: forward + backward of a chain of small ops on a 32×128 float32 tensor
    (mul, add, tanh in turn), reported per op: the cost of the autograd machinery itself.
(b) mlp: one training step of Linear 784→256→256→10 with ReLU, batch 128, cross-entropy,
    Adam lr 1e-3 (zero_grad, forward, loss, backward, step).

    python -m benchmarks.bench_core            # prints the markdown table, appends results.json
    python -m benchmarks.bench_core --quick    # fewer rounds
"""

from __future__ import annotations

import argparse

import numpy as np

import ember
import ember.functional as F
from ember import nn

from .harness import RESULTS, compare, report, setup_torch

CHAIN_OPS = 300


def chain_steps(torch, n_ops: int = CHAIN_OPS):
    rng = np.random.default_rng(0)
    x0 = rng.standard_normal((32, 128)).astype(np.float32)
    c0 = (rng.standard_normal((32, 128)) * 0.1).astype(np.float32)

    x_e, c_e = ember.tensor(x0, requires_grad=True), ember.tensor(c0)
    x_t, c_t = torch.tensor(x0, requires_grad=True), torch.tensor(c0)

    def run(x, c):
        y = x
        for _ in range(n_ops // 3):
            y = (y * c + y).tanh()  # three recorded ops: mul, add, tanh
        return y.sum()

    def ember_step():
        x_e.grad = None
        run(x_e, c_e).backward()

    def torch_step():
        x_t.grad = None
        run(x_t, c_t).backward()

    probe = ember.tensor(x0, requires_grad=True)
    n_recorded = _count_nodes(run(probe, c_e))
    return ember_step, torch_step, n_recorded


def _count_nodes(t) -> int:
    seen, stack = set(), [t.grad_fn]
    while stack:
        fn = stack.pop()
        if fn is None or id(fn) in seen:
            continue
        seen.add(id(fn))
        stack.extend(p.grad_fn for p in fn.parents if p is not None)
    return len(seen)


def mlp_steps(torch, batch: int = 128, device=None):
    """``device``: where the torch model and inputs go (None: torch's default, the CPU)."""
    ember.manual_seed(0)
    model_e = nn.Sequential(
        nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 10)
    )
    model_t = torch.nn.Sequential(
        torch.nn.Linear(784, 256),
        torch.nn.ReLU(),
        torch.nn.Linear(256, 256),
        torch.nn.ReLU(),
        torch.nn.Linear(256, 10),
    )
    model_e.load_state_dict(model_t.state_dict())
    model_t.to(device)
    opt_e = ember.optim.Adam(model_e.parameters(), lr=1e-3)
    opt_t = torch.optim.Adam(model_t.parameters(), lr=1e-3)
    rng = np.random.default_rng(0)
    x0 = rng.standard_normal((batch, 784)).astype(np.float32)
    y0 = rng.integers(0, 10, batch)
    x_e, y_e = ember.tensor(x0), ember.tensor(y0)
    x_t, y_t = torch.tensor(x0, device=device), torch.tensor(y0, device=device)

    def ember_step():
        opt_e.zero_grad()
        loss = F.cross_entropy(model_e(x_e), y_e)
        loss.backward()
        opt_e.step()
        return loss

    def torch_step():
        opt_t.zero_grad()
        loss = torch.nn.functional.cross_entropy(model_t(x_t), y_t)
        loss.backward()
        opt_t.step()
        return loss

    return ember_step, torch_step


def main(argv=None) -> int:
    import ember.optim  # noqa: F401  (binds ember.optim)

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds (a smoke test)")
    parser.add_argument("--no-save", action="store_true", help="do not append to results.json")
    parser.add_argument(
        "--torch-threads",
        type=int,
        default=2,
        help="torch's threads (2 as PERFORMANCE.md; for 1, also set OPENBLAS_NUM_THREADS=1)",
    )
    args = parser.parse_args(argv)
    torch = setup_torch(args.torch_threads)
    rounds = 2 if args.quick else 7
    results = []
    e_chain, t_chain, n = chain_steps(torch)
    results.append(
        compare(
            f"chain of {n} small ops (32×128), fwd+bwd",
            e_chain,
            t_chain,
            per=n,
            unit="µs/op",
            rounds=rounds,
            block=10,
            warmup=3,
        )
    )
    e_mlp, t_mlp = mlp_steps(torch)
    results.append(
        compare("mlp 784-256-256-10, batch 128, CE + Adam", e_mlp, t_mlp, rounds=rounds, block=30)
    )
    report(results, save_to=None if args.no_save else RESULTS)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
