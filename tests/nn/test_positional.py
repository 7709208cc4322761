"""Positional encodings: sinusoidal values, learned table gradients, rotary's relative property."""

import math

import numpy as np
import pytest

import ember
import ember.nn as nn


def test_sinusoidal_table_follows_the_formula():
    pe = nn.SinusoidalPositionalEncoding(6, max_len=10)
    table = pe.pe.array
    for pos in (0, 3, 9):
        for i in range(3):
            angle = pos / 10000 ** (2 * i / 6)
            assert math.isclose(table[pos, 2 * i], math.sin(angle), rel_tol=1e-6, abs_tol=1e-7)
            assert math.isclose(table[pos, 2 * i + 1], math.cos(angle), rel_tol=1e-6, abs_tol=1e-7)
    x = ember.zeros(2, 4, 6)
    np.testing.assert_allclose(pe(x, offset=3).array[1], table[3:7])
    xt = ember.zeros(4, 2, 6)  # (T, N, E) layout
    pe_t = nn.SinusoidalPositionalEncoding(6, max_len=10, batch_first=False)
    np.testing.assert_allclose(pe_t(xt).array[:, 1], table[:4])
    assert "pe" not in pe.state_dict()  # fixed, not saved


def test_learned_positions_get_gradients_only_where_used():
    pe = nn.LearnedPositionalEmbedding(8, 4)
    x = ember.randn(2, 3, 4, requires_grad=True)
    pe(x, offset=2).sum().backward()
    g = pe.weight.grad.array
    assert np.all(g[2:5] == 2) and np.all(g[:2] == 0) and np.all(g[5:] == 0)
    with pytest.raises(ValueError, match="exceeds max_len 8"):
        pe(ember.randn(1, 9, 4))


def test_rotary_scores_depend_on_relative_position_only():
    rope = nn.RotaryEmbedding(8, max_len=64)
    rng = np.random.default_rng(0)
    q = ember.Tensor(rng.standard_normal((1, 1, 8)))
    k = ember.Tensor(rng.standard_normal((1, 1, 8)))

    def score(m, n):
        return float((rope(q, offset=m) * rope(k, offset=n)).sum().item())

    assert math.isclose(score(5, 2), score(13, 10), rel_tol=1e-10)
    assert not math.isclose(score(5, 2), score(5, 3), rel_tol=1e-3)
    # a rotation keeps the norm
    np.testing.assert_allclose(np.linalg.norm(rope(q, offset=7).array), np.linalg.norm(q.array))


def test_rotary_gradcheck():
    rope = nn.RotaryEmbedding(4, max_len=8)
    x = ember.Tensor(np.random.default_rng(1).standard_normal((2, 3, 4)), requires_grad=True)
    assert ember.gradcheck(lambda x: rope(x, offset=1), (x,))
