"""How high can torch/ember go on the workloads that miss 1.0? The step's unavoidable work, alone.

Each workload below misses the issues' target (torch ms ÷ ember ms ≥ 1.0). This measures, in
one process, three things per step, in rotating blocks after a warm-up (medians):

    ember    the step as bench_all times it
    torch    the same step in torch (2 threads, oneDNN's fused LSTM and direct convolution)
    floor    only the work that ember's algorithm cannot skip, on preallocated arrays, back
             to back, nothing else: for the LSTMs every matrix product of the step (the
             per-step W·[h_{t-1}, x_t, 1] and Wᵀ·∂L/∂gates, the one ∂L/∂W product, ∂L/∂x
             and the head's products) through NumPy's matmul into ready outputs; for the
             CNNs the step's convolutions alone (ember's conv op, forward + backward,
             its column copies or Winograd transforms included), without batch norm, ReLU,
             pooling, the head or the optimizer.

``ceiling = torch ÷ floor`` is the ratio ember would reach if everything outside that work
cost nothing. Where it is below 1.0 no NumPy implementation of the same algorithm can meet
the target on this machine; where it is above, the gap between ``ratio`` and ``ceiling`` is
what the elementwise work, the copies and the framework cost.

    python -m benchmarks.ceilings [--only lstm_small lenet] [--rounds 5] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import numpy as np

import ember
import ember.functional as F
from ember.ops.recurrent import PER_STEP_DX_MAX_INPUT

from .harness import setup_torch


def lstm_products(T: int, B: int, I: int, H: int, need_dx: bool):  # noqa: E741 - torch's name
    """The matrix products of one LSTM layer's forward + backward (ember's ops/recurrent.py),
    as (a, b, out) triples: T per-step gate products (4H × K)·(K × B), K = H + I + 1; T
    per-step products Wᵀ·∂L/∂gates ((H + I) rows where ∂L/∂x comes from them, I up to
    PER_STEP_DX_MAX_INPUT, else H); ∂L/∂W = ∂L/∂G (4H × T·B) · Z (T·B × K); ∂L/∂x after the
    loop for wider inputs."""
    rng = np.random.default_rng(0)
    f32 = np.float32
    K = H + I + 1
    per_step_dx = need_dx and I <= PER_STEP_DX_MAX_INPUT
    W = rng.standard_normal((4 * H, K)).astype(f32)
    Z = rng.standard_normal((T + 1, K, B)).astype(f32)
    G = np.empty((T, 4 * H, B), f32)
    WT = np.ascontiguousarray(W[:, : H + I].T if per_step_dx else W[:, :H].T)
    dZ = np.empty((T, WT.shape[0], B), f32)
    dG = rng.standard_normal((4 * H, T * B)).astype(f32)
    Zr = np.ascontiguousarray(Z[:T].transpose(1, 0, 2)).reshape(K, T * B)
    products = [(W, Z[k], G[k]) for k in range(T)]
    products += [(WT, G[k], dZ[k]) for k in range(T)]
    products.append((dG, Zr.T, np.empty((4 * H, K), f32)))
    if need_dx and not per_step_dx:
        products.append((dG.T, W[:, H : H + I], np.empty((T * B, I), f32)))
    return products


def head_products(rows: int, n_in: int, n_out: int):
    """A Linear head's forward, ∂L/∂x and ∂L/∂W products on ``rows`` inputs."""
    rng = np.random.default_rng(1)
    x = rng.standard_normal((rows, n_in)).astype(np.float32)
    w = rng.standard_normal((n_out, n_in)).astype(np.float32)
    g = rng.standard_normal((rows, n_out)).astype(np.float32)
    return [(x, w.T, np.empty((rows, n_out), np.float32)), (g, w, np.empty_like(x)),
            (g.T, x, np.empty_like(w))]  # fmt: skip


def run_products(products):
    def step():
        for a, b, out in products:
            np.matmul(a, b, out=out)

    return step


def conv_step(specs):
    """The forward + backward of the convolutions ``specs`` (x shape, x needs grad, weight
    shape, bias, padding), each on its own input and output gradient, through ember's op."""
    rng = np.random.default_rng(2)
    made = []
    for x_shape, x_grad, w_shape, bias, padding in specs:
        x = ember.Tensor(rng.standard_normal(x_shape).astype(np.float32), requires_grad=x_grad)
        w = ember.Tensor(rng.standard_normal(w_shape).astype(np.float32) * 0.1, requires_grad=True)
        b = ember.Tensor(np.zeros(w_shape[0], np.float32), requires_grad=True) if bias else None
        with ember.no_grad():
            y_shape = F.conv2d(x, w, b, padding=padding).shape
        g = rng.standard_normal(tuple(y_shape)).astype(np.float32)
        made.append((x, w, b, padding, g))

    def step():
        for x, w, b, padding, g in made:
            x.grad = w.grad = None
            if b is not None:
                b.grad = None
            F.conv2d(x, w, b, padding=padding).backward(g)

    return step


def lstm_small(torch):
    from .bench_rnn import _regression_pair

    e, t = _regression_pair("LSTM", 50, 32, 32, 128)
    return e, t, run_products(lstm_products(50, 32, 32, 128, False) + head_products(32, 128, 1))


def lstm_large(torch):
    from .bench_rnn import _regression_pair

    e, t = _regression_pair("LSTM", 100, 64, 256, 512)
    return e, t, run_products(lstm_products(100, 64, 256, 512, False) + head_products(64, 512, 1))


def charlstm(torch):
    from .bench_rnn import _charlstm_pair

    e, t = _charlstm_pair("LSTM", 64, 32, 65, 128, 256)
    products = lstm_products(64, 32, 128, 256, True) + lstm_products(64, 32, 256, 256, True)
    return e, t, run_products(products + head_products(64 * 32, 256, 65))


def lenet(torch):
    from .bench_cnn import lenet_workload

    e, t = lenet_workload()
    specs = [((64, 1, 28, 28), False, (6, 1, 5, 5), True, 2),
             ((64, 6, 14, 14), True, (16, 6, 5, 5), True, 0)]  # fmt: skip
    return e, t, conv_step(specs)


def basicblock(torch):
    from .bench_cnn import basicblock_workload

    e, t = basicblock_workload()
    spec = ((32, 64, 32, 32), True, (64, 64, 3, 3), False, 1)
    return e, t, conv_step([spec, spec])


WORKLOADS = {
    "lstm_small": (lstm_small, 20),
    "lstm_large": (lstm_large, 2),
    "charlstm": (charlstm, 5),
    "lenet": (lenet, 20),
    "basicblock": (basicblock, 3),
}


def measure(steps: dict, block: int, rounds: int, warmup: int = 3) -> dict:
    """Median ms per step of each closure in ``steps``, timed in blocks of ``block`` steps that
    rotate (the first of each round moves on, so slow drift favours none)."""
    names = list(steps)
    for name in names:
        for _ in range(warmup):
            steps[name]()
    times: dict = {name: [] for name in names}
    for r in range(rounds):
        for name in names[r % len(names) :] + names[: r % len(names)]:
            for _ in range(block):
                t0 = time.perf_counter()
                steps[name]()
                times[name].append((time.perf_counter() - t0) * 1e3)
            time.sleep(0.05)
    return {name: statistics.median(ts) for name, ts in times.items()}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", nargs="*", choices=list(WORKLOADS), default=list(WORKLOADS))
    ap.add_argument("--rounds", type=int, default=6)
    ap.add_argument("--json", help="write the results here")
    args = ap.parse_args(argv)
    torch = setup_torch()
    print("| workload | ember ms | torch ms | floor ms | torch/ember | ceiling torch/floor |")
    print("|---|---|---|---|---|---|")
    results = {}
    for name in args.only:
        build, block = WORKLOADS[name]
        ember_step, torch_step, floor_step = build(torch)
        m = measure({"ember": ember_step, "torch": torch_step, "floor": floor_step}, block,
                    args.rounds)  # fmt: skip
        m["ratio"], m["ceiling"] = m["torch"] / m["ember"], m["torch"] / m["floor"]
        results[name] = m
        print(f"| {name} | {m['ember']:.3g} | {m['torch']:.3g} | {m['floor']:.3g} |"
              f" {m['ratio']:.2f} | {m['ceiling']:.2f} |", flush=True)  # fmt: skip
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
