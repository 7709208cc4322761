"""ember.Generator (torch.Generator's surface) and generator= on every random maker."""

import math

import numpy as np
import pytest

import ember
import ember.nn.init as init


def test_fresh_generators_draw_alike_and_manual_seed_returns_the_generator():
    g1, g2 = ember.Generator(), ember.Generator(device="cpu")
    assert g1.initial_seed() == g2.initial_seed() == 67280421310721  # torch's fresh seed
    assert ember.randn(5, generator=g1).tolist() == ember.randn(5, generator=g2).tolist()
    g = ember.Generator()
    assert g.manual_seed(7) is g and g.initial_seed() == 7
    assert ember.manual_seed(3) is ember.default_generator and ember.initial_seed() == 3


def test_state_saves_and_restores_the_stream_and_seed_reseeds():
    g = ember.Generator().manual_seed(11)
    state = g.get_state()
    first = ember.rand(4, generator=g).tolist()
    assert g.set_state(state) is g
    assert ember.rand(4, generator=g).tolist() == first
    s = g.seed()
    assert isinstance(s, int) and g.initial_seed() == s
    assert (
        ember.rand(4, generator=g).tolist()
        == ember.rand(4, generator=ember.Generator().manual_seed(s)).tolist()
    )


def _draws(generator):
    """One draw of every maker that takes generator=, as plain lists."""
    out = [
        ember.randn(3, generator=generator),
        ember.rand(2, 2, generator=generator),
        ember.randint(0, 10, (4,), generator=generator),
        ember.randperm(6, generator=generator),
        ember.normal(0.0, 2.0, (3,), generator=generator),
        ember.bernoulli(ember.full((5,), 0.5), generator=generator),
        ember.multinomial(ember.tensor([0.2, 0.3, 0.5]), 2, generator=generator),
        ember.zeros(3).uniform_(-1, 1, generator=generator),
        ember.zeros(3).normal_(0, 1, generator=generator),
        ember.zeros(3).bernoulli_(0.3, generator=generator),
    ]
    for fill, args in [
        (init.uniform_, ()),
        (init.normal_, ()),
        (init.xavier_uniform_, ()),
        (init.xavier_normal_, ()),
        (init.kaiming_uniform_, ()),
        (init.kaiming_normal_, ()),
        (init.orthogonal_, ()),
        (init.trunc_normal_, ()),
        (init.sparse_, (0.5,)),
    ]:
        out.append(fill(ember.zeros(4, 3), *args, generator=generator))
    return [t.tolist() for t in out]


def test_every_maker_draws_from_the_generator_passed_and_leaves_the_default_alone():
    ember.manual_seed(0)
    before = ember.default_generator.get_state()
    a = _draws(ember.Generator().manual_seed(5))
    assert ember.default_generator.get_state() == before  # the default stream did not move
    assert _draws(ember.Generator().manual_seed(5)) == a  # same seed, same draws
    assert _draws(ember.Generator().manual_seed(6)) != a
    ember.manual_seed(5)  # the default generator seeded alike gives the same stream
    assert _draws(None) == a


def test_a_wrong_generator_or_device_is_a_clear_error():
    with pytest.raises(TypeError, match="generator must be an ember.Generator, got Generator"):
        ember.randn(2, generator=np.random.default_rng(0))
    with pytest.raises(TypeError, match="manual_seed expects an integer seed"):
        ember.Generator().manual_seed(1.5)
    with pytest.raises(RuntimeError, match="'cuda' was asked for"):
        ember.Generator("cuda")


def test_multinomial_with_replacement_draws_every_row_in_proportion():
    w = ember.tensor([[0.1, 0.0, 0.6, 0.3], [1.0, 1.0, 1.0, 1.0], [0.0, 0.0, 0.0, 2.0]])
    draws = ember.multinomial(w, 20000, replacement=True, generator=ember.Generator()).numpy()
    assert draws.shape == (3, 20000) and draws.dtype == np.int64
    for row, weights in zip(draws, w.numpy()):
        freq = np.bincount(row, minlength=4) / row.size
        np.testing.assert_allclose(freq, weights / weights.sum(), atol=0.015)
    assert (draws[0] != 1).all() and (draws[2] == 3).all()  # zero weight is never drawn


def test_sparse_zeroes_the_same_number_of_random_rows_in_every_column():
    w = init.sparse_(ember.zeros(10, 50), 0.3, std=1.0, generator=ember.Generator())
    zeros = (w.numpy() == 0).sum(axis=0)
    assert (zeros == math.ceil(0.3 * 10)).all()
    rows = [tuple(np.flatnonzero(c == 0)) for c in w.numpy().T]
    assert len(set(rows)) > 1  # each column draws its own rows
