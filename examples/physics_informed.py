"""A physics-informed network (Raissi, Perdikaris & Karniadakis 2019): a small MLP u(x) trained
so that it satisfies a differential equation, with no solution data at all.

    u''(x) + u(x) = 0 on [0, π],   u(0) = 0,   u'(0) = 1        (its solution: sin x)

    loss = mean over collocation points of (u'' + u)²  +  u(0)²  +  (u'(0) − 1)²

u' and u'' are derivatives of the network's output with respect to its input, taken with
``ember.autograd.grad(..., create_graph=True)``: each keeps a graph, so the loss on u'' can be
differentiated once more with respect to the weights (second and third derivatives in all).

python examples/physics_informed.py              # a few seconds (max error about 2e-4)
python examples/physics_informed.py --steps 300  # a quick look
"""

from __future__ import annotations

import argparse
import math

import numpy as np

import ember
from ember import nn, optim


def derivative(y, x):
    """dy/dx for each point (y summed: every point's u depends on its own x only), recorded."""
    (g,) = ember.autograd.grad(y.sum(), x, create_graph=True)
    return g


def main(argv=None) -> float:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=1500)
    ap.add_argument("--points", type=int, default=64)
    args = ap.parse_args(argv)
    ember.manual_seed(0)
    dt = ember.float64
    u = nn.Sequential(nn.Linear(1, 32), nn.Tanh(), nn.Linear(32, 32), nn.Tanh(), nn.Linear(32, 1))
    u = u.to(dt)
    opt = optim.Adam(u.parameters(), lr=1e-2)
    sched = optim.lr_scheduler.CosineAnnealingLR(opt, args.steps, eta_min=1e-4)
    xs = np.linspace(0.0, math.pi, args.points).reshape(-1, 1)
    zero = ember.tensor(np.zeros((1, 1)), requires_grad=True)
    for step in range(args.steps + 1):
        x = ember.tensor(xs, requires_grad=True)
        ux = u(x)
        uxx = derivative(derivative(ux, x), x)
        u0 = u(zero)
        residual = ((uxx + ux) ** 2).mean()
        boundary = (u0**2).sum() + ((derivative(u0, zero) - 1.0) ** 2).sum()
        loss = residual + boundary
        if step % max(1, args.steps // 5) == 0:
            print(f"step {step:5d}  residual {residual.item():.2e}  boundary {boundary.item():.2e}")
        if step == args.steps:
            break
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
    grid = np.linspace(0.0, math.pi, 201).reshape(-1, 1)
    with ember.no_grad():
        error = float(np.abs(u(ember.tensor(grid)).numpy() - np.sin(grid)).max())
    print(f"max |u(x) - sin x| on [0, π]: {error:.4f}")
    return error


if __name__ == "__main__":
    main()
