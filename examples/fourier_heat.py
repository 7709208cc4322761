"""A spectral layer learns the heat equation's solution operator: complex weights, ember.fft.

The heat equation u_t = ν·u_xx on a periodic interval is diagonal in Fourier space: each mode
of the initial condition decays on its own,

    û_k(t) = e^{−ν k² t} · û_k(0)

so the map u(·, 0) ↦ u(·, t) is one multiplication per mode. A Fourier layer (the core of a
Fourier Neural Operator, Li et al. 2021) has exactly that shape:

    y = irfft( W ⊙ rfft(x) )        W ∈ ℂ^modes, one complex weight per kept mode

Trained by Adam on pairs (u(·, 0), u(·, t)) of random initial conditions, its weights become
e^{−ν k² t}: the layer finds the physics from data, and the gradient reaches the complex
weights through irfft, the complex product and rfft.

    python examples/fourier_heat.py [--steps 400] [--figure heat.png]
"""

from __future__ import annotations

import argparse

import numpy as np

import ember
from ember import nn, optim

N, MODES, NU, T = 64, 12, 0.05, 1.0  # grid points, kept modes, diffusivity, time


def heat_pairs(batch: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Random smooth initial conditions (the first MODES modes, decaying amplitudes) and
    their exact solutions at time T, on N points of [0, 2π)."""
    k = np.arange(MODES // 2 + 1)
    amp = rng.standard_normal((batch, k.size)) + 1j * rng.standard_normal((batch, k.size))
    amp /= 1.0 + k**2  # smooth: high modes small
    spectrum = np.zeros((batch, N // 2 + 1), complex)
    spectrum[:, : k.size] = amp
    u0 = np.fft.irfft(spectrum, n=N)
    spectrum[:, : k.size] *= np.exp(-NU * k**2 * T)
    return u0.astype(np.float32), np.fft.irfft(spectrum, n=N).astype(np.float32)


class FourierLayer(nn.Module):
    """y = irfft(W ⊙ rfft(x)) over the first ``modes`` modes; the others are dropped."""

    def __init__(self, modes: int) -> None:
        super().__init__()
        init = 0.1 * (np.random.default_rng(0).standard_normal(modes) + 0j)
        self.weight = nn.Parameter(ember.tensor(init.astype(np.complex64)))
        self.modes = modes

    def forward(self, x):
        spectrum = ember.fft.rfft(x)  # (B, N/2 + 1), complex64
        kept = spectrum[:, : self.modes] * self.weight
        return ember.fft.irfft(kept, n=x.shape[-1])


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=400)
    ap.add_argument("--figure", default=None, help="save the learned multipliers here (PNG)")
    args = ap.parse_args(argv)
    ember.manual_seed(0)
    rng = np.random.default_rng(0)
    layer = FourierLayer(MODES)
    opt = optim.Adam(layer.parameters(), lr=0.02)
    for step in range(args.steps + 1):
        u0, ut = heat_pairs(32, rng)
        loss = ((layer(ember.tensor(u0)) - ember.tensor(ut)) ** 2).mean()
        if step % 100 == 0:
            print(f"step {step:4d}  mse {loss.item():.2e}")
        if step < args.steps:
            opt.zero_grad()
            loss.backward()
            opt.step()
    u0, ut = heat_pairs(256, np.random.default_rng(1))
    with ember.no_grad():
        pred = layer(ember.tensor(u0)).numpy()
    relative = float(np.linalg.norm(pred - ut) / np.linalg.norm(ut))
    learned = layer.weight.detach().numpy()
    k = np.arange(MODES)
    exact = np.exp(-NU * k**2 * T)
    shown = MODES // 2 + 1  # the modes the data excites
    print(f"test relative error {relative:.2e}")
    print("mode  learned W_k           e^(−νk²t)")
    for i in range(shown):
        print(f"{i:4d}  {learned[i].real:+.4f}{learned[i].imag:+.4f}i   {exact[i]:.4f}")
    if args.figure:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        fig = Figure(figsize=(5, 3), layout="constrained")
        FigureCanvasAgg(fig)
        ax = fig.subplots()
        ax.plot(k[:shown], exact[:shown], "k-", label="e^(−ν k² t)")
        ax.plot(k[:shown], learned[:shown].real, "o", label="learned Re W_k")
        ax.set_xlabel("mode k")
        ax.legend()
        fig.savefig(args.figure, dpi=100)
    weight_error = float(np.abs(learned[:shown] - exact[:shown]).max())
    return {"relative_error": relative, "weight_error": weight_error}


if __name__ == "__main__":
    main()
