"""ember.data.adding_problem: the layout the recurrent layers take and the task's statistics."""

from __future__ import annotations

import numpy as np
import pytest

from ember.data import adding_problem


def test_two_markers_one_per_half_and_the_target_is_their_sum():
    x, y = adding_problem(500, 20, np.random.default_rng(0))
    assert x.shape == (20, 500, 2) and y.shape == (500, 1)
    assert x.dtype == y.dtype == np.float32
    markers = x[..., 1]
    assert (markers.sum(0) == 2).all()
    assert (markers[:10].sum(0) == 1).all() and (markers[10:].sum(0) == 1).all()
    np.testing.assert_allclose(y[:, 0], (x[..., 0] * markers).sum(0), rtol=1e-6)
    # predicting the mean scores about Var(v₁ + v₂) = 1/6
    assert abs(((y - 1.0) ** 2).mean() - 1 / 6) < 0.03


def test_the_same_generator_state_gives_the_same_batch():
    a = adding_problem(8, 10, np.random.default_rng(3))
    b = adding_problem(8, 10, np.random.default_rng(3))
    assert all(np.array_equal(p, q) for p, q in zip(a, b))


def test_too_short_a_sequence_is_refused():
    with pytest.raises(ValueError, match="T ≥ 2"):
        adding_problem(4, 1)
