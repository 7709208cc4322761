"""ember vs torch on the recurrent reference workloads (PERFORMANCE.md), one process.

One step = forward + loss + backward (+ Adam for charlstm), float32, fixed seeds:
  lstm_small  1-layer LSTM I=32 H=128, Linear(H,1) on the last output, T=50 B=32, MSE
  lstm_large  1-layer LSTM I=256 H=512, same head, T=100 B=64, MSE
  gru_small   as lstm_small with a GRU
  charlstm    Embedding 65→128, 2-layer LSTM H=256, Linear 256→65 on every step, T=64 B=32,
              cross-entropy over all steps, Adam lr 1e-3

Method (PERFORMANCE.md, "Measuring without fooling yourself"): warm up both, then alternate
*blocks* of steps (ember block, pause, torch block, pause) so the two thread pools never fight
call by call; report the median ms per step with the p10–p90 spread and the ratio torch/ember.
Self-contained timing loop for now; it can move onto ``benchmarks/harness.py`` later.

    python -m benchmarks.bench_rnn [--only lstm_small,gru_small] [--blocks 5] [--block-steps 10]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch

import ember
import ember.functional as F
import ember.optim
from ember import nn

from .harness import compare

WORKLOADS = {
    "lstm_small": dict(kind="LSTM", T=50, B=32, I=32, H=128),
    "lstm_large": dict(kind="LSTM", T=100, B=64, I=256, H=512),
    "gru_small": dict(kind="GRU", T=50, B=32, I=32, H=128),
    "charlstm": dict(kind="charlstm", T=64, B=32, V=65, E=128, H=256),
}


def _host(t):
    """An ember tensor's values as a host NumPy array (its .array may live on a GPU)."""
    return t.detach().numpy()


def _regression_pair(kind, T, B, I, H, device=None):
    """``device``: where the torch modules and inputs go (None: torch's default, the CPU)."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((T, B, I)).astype(np.float32)
    y = rng.standard_normal((B, 1)).astype(np.float32)
    e_rnn, e_head = getattr(nn, kind)(I, H), nn.Linear(H, 1)
    t_rnn, t_head = getattr(torch.nn, kind)(I, H), torch.nn.Linear(H, 1)
    t_rnn.load_state_dict({k: torch.tensor(_host(v)) for k, v in e_rnn.state_dict().items()})
    t_head.load_state_dict({k: torch.tensor(_host(v)) for k, v in e_head.state_dict().items()})
    t_rnn.to(device)
    t_head.to(device)
    ex, ey = ember.tensor(x), ember.tensor(y)
    tx, ty = torch.tensor(x, device=device), torch.tensor(y, device=device)
    e_params = list(e_rnn.parameters()) + list(e_head.parameters())
    t_params = list(t_rnn.parameters()) + list(t_head.parameters())

    def ember_step():
        for p in e_params:
            p.grad = None
        out, _ = e_rnn(ex)
        F.mse_loss(e_head(out[-1]), ey).backward()

    def torch_step():
        for p in t_params:
            p.grad = None
        out, _ = t_rnn(tx)
        torch.nn.functional.mse_loss(t_head(out[-1]), ty).backward()

    return ember_step, torch_step


def _charlstm_pair(kind, T, B, V, E, H, device=None):
    """``device``: where the torch modules and inputs go (None: the CPU, ember's indices NumPy)."""
    rng = np.random.default_rng(0)
    idx = rng.integers(0, V, (B, T + 1))
    e_mods = [nn.Embedding(V, E), nn.LSTM(E, H, num_layers=2, batch_first=True), nn.Linear(H, V)]
    t_mods = [torch.nn.Embedding(V, E), torch.nn.LSTM(E, H, num_layers=2, batch_first=True),
              torch.nn.Linear(H, V)]  # fmt: skip
    for em, tm in zip(e_mods, t_mods):
        tm.load_state_dict({k: torch.tensor(_host(v)) for k, v in em.state_dict().items()})
        tm.to(device)
    e_params = [p for m in e_mods for p in m.parameters()]
    t_params = [p for m in t_mods for p in m.parameters()]
    e_opt, t_opt = ember.optim.Adam(e_params, lr=1e-3), torch.optim.Adam(t_params, lr=1e-3)
    ex, ey = idx[:, :-1], idx[:, 1:]
    tx, ty = torch.tensor(ex, device=device), torch.tensor(ey, device=device)
    if device is not None:  # the indices on ember's device, not copied from the host per step
        ex, ey = ember.tensor(np.ascontiguousarray(ex)), ember.tensor(np.ascontiguousarray(ey))

    def ember_step():
        e_opt.zero_grad()
        h, _ = e_mods[1](e_mods[0](ex))
        logits = e_mods[2](h)
        F.cross_entropy(logits.reshape(-1, V), ey.reshape(-1)).backward()
        e_opt.step()

    def torch_step():
        t_opt.zero_grad()
        h, _ = t_mods[1](t_mods[0](tx))
        logits = t_mods[2](h)
        torch.nn.functional.cross_entropy(logits.reshape(-1, V), ty.reshape(-1)).backward()
        t_opt.step()

    return ember_step, torch_step


def measure(name, blocks=5, block_steps=10, warmup=3, pause=0.2):
    spec = dict(WORKLOADS[name])
    kind = spec["kind"]
    make = _charlstm_pair if kind == "charlstm" else _regression_pair
    ember_step, torch_step = make(**spec)
    r = compare(name, ember_step, torch_step, warmup=warmup, block=block_steps, rounds=blocks,
                pause=pause)  # fmt: skip
    return {
        "name": name,
        "ember": {"p10": r.ember_p10, "median": r.ember_median, "p90": r.ember_p90},
        "torch": {"p10": r.torch_p10, "median": r.torch_median, "p90": r.torch_p90},
        "ratio_torch_over_ember": r.ratio,
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", default=",".join(WORKLOADS))
    ap.add_argument("--blocks", type=int, default=5)
    ap.add_argument("--block-steps", type=int, default=10)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", default="benchmarks/results/bench_rnn.json")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    rows = []
    print(f"{'workload':<12} {'ember ms':>16} {'torch ms':>16} {'torch/ember':>12}")
    for name in args.only.split(","):
        steps = max(2, args.block_steps // (4 if name == "lstm_large" else 1))
        r = measure(name, args.blocks, steps)
        rows.append(r)
        fmt = lambda d: f"{d['median']:.1f} ({d['p10']:.1f}-{d['p90']:.1f})"  # noqa: E731
        print(f"{name:<12} {fmt(r['ember']):>16} {fmt(r['torch']):>16}"
              f" {r['ratio_torch_over_ember']:>12.2f}", flush=True)  # fmt: skip
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"threads": args.threads, "rows": rows}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
