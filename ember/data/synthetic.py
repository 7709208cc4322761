"""Synthetic tasks whose answer is known, for seeing what a model can and cannot learn.

The adding problem (Hochreiter & Schmidhuber 1997; the setting of Le, Jaitly & Hinton 2015):
a sequence of T steps, each a pair (value, marker), values uniform in [0, 1), exactly two
markers set, one in each half of the sequence. The target is the sum of the two marked values:

    y = Σ_t v_t · m_t,       m_t ∈ {0, 1},  Σ_t m_t = 2

Predicting the mean (1.0) scores MSE = Var(v₁ + v₂) = 2/12 ≈ 0.167; a model only beats that
by carrying the first marked value across up to T steps, which is what a tanh RNN's vanishing
gradient prevents and the LSTM's cell state allows.
"""

from __future__ import annotations

import numpy as np


def adding_problem(batch: int, T: int, rng: np.random.Generator | None = None):
    """A batch of the adding problem: x (T, batch, 2) float32, time-major as nn.RNN/LSTM/GRU
    take it (x[..., 0] the values, x[..., 1] the markers), and y (batch, 1) float32.

    Draws, in this order, from ``rng`` (a NumPy Generator; a fresh unseeded one if None):
    the values, the first markers' steps (in [0, T/2)), the second markers' (in [T/2, T)).
    """
    if T < 2 or batch < 1:
        raise ValueError(f"adding_problem: needs T ≥ 2 and batch ≥ 1, got T={T}, batch={batch}")
    rng = np.random.default_rng() if rng is None else rng
    values = rng.random((T, batch))
    markers = np.zeros((T, batch))
    first = rng.integers(0, T // 2, batch)
    second = rng.integers(T // 2, T, batch)
    cols = np.arange(batch)
    markers[first, cols] = 1.0
    markers[second, cols] = 1.0
    y = values[first, cols] + values[second, cols]
    x = np.stack([values, markers], axis=-1).astype(np.float32)
    return x, y[:, None].astype(np.float32)
