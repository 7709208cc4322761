"""torch's windows, Poisson and binomial draws, constant_pad_nd, functional RNN cells, print
options, RNG state, switches, compile and the top-level in-place forms (ember/torch_misc.py,
ember/torch_misc_more.py) against torch."""

from __future__ import annotations

import numpy as np
import pytest

import ember
from tests.torch_pairs import check, leaves, rand, same_error

WINDOWS = ["hann_window", "hamming_window", "blackman_window", "bartlett_window", "kaiser_window"]


# ---------------------------------------------------------------- windows
@pytest.mark.parametrize("name", WINDOWS)
@pytest.mark.parametrize("n", [0, 1, 2, 5, 16])
@pytest.mark.parametrize("periodic", [True, False])
def test_windows(torch, name, n, periodic):
    e, t = getattr(ember, name)(n, periodic), getattr(torch, name)(n, periodic)
    assert e.shape == tuple(t.shape) and e.dtype == np.float32
    np.testing.assert_allclose(e.array, t.numpy(), rtol=1e-5, atol=1e-6)
    e64 = getattr(ember, name)(n, periodic, dtype=ember.float64)
    t64 = getattr(torch, name)(n, periodic, dtype=torch.float64)
    np.testing.assert_allclose(e64.array, t64.numpy(), rtol=1e-12, atol=1e-14)
    assert e64.dtype == np.float64


def test_window_defaults_and_errors(torch):
    for name in WINDOWS:  # periodic=True by default
        np.testing.assert_allclose(getattr(ember, name)(7).array, getattr(torch, name)(7).numpy(),
                                   rtol=1e-5, atol=1e-6)  # fmt: skip
        same_error(torch, lambda f=name: getattr(ember, f)(-1),
                   lambda f=name: getattr(torch, f)(-1))  # fmt: skip
        with pytest.raises(RuntimeError, match=f"{name} expects floating point dtypes"):
            getattr(ember, name)(3, dtype=ember.int64)
    e = ember.hamming_window(9, False, 0.6, 0.3)
    np.testing.assert_allclose(e.array, torch.hamming_window(9, False, 0.6, 0.3).numpy(), 1e-6)
    e = ember.kaiser_window(9, False, 5.0)
    np.testing.assert_allclose(e.array, torch.kaiser_window(9, False, 5.0).numpy(), 1e-5)
    assert ember.hann_window(4, requires_grad=True).requires_grad


# ---------------------------------------------------------------- draws
def test_poisson(torch):
    rates = ember.tensor([[0.0, 0.5, 3.0, 40.0]] * 4000)
    draws = ember.poisson(rates)
    assert draws.shape == (4000, 4) and draws.dtype == np.float32 and not draws.requires_grad
    mean, var = draws.array.mean(0), draws.array.var(0)
    np.testing.assert_allclose(mean, [0, 0.5, 3, 40], rtol=0.05, atol=0.02)
    np.testing.assert_allclose(var, [0, 0.5, 3, 40], rtol=0.1, atol=0.03)
    assert (draws.array == np.round(draws.array)).all()
    assert ember.poisson(rates.double()).dtype == np.float64
    g1, g2 = ember.Generator().manual_seed(3), ember.Generator().manual_seed(3)
    assert np.array_equal(ember.poisson(rates, g1).array, ember.poisson(rates, g2).array)
    bad = np.array([-1.0], dtype=np.float32)
    same_error(torch, lambda: ember.poisson(ember.tensor(bad)),
               lambda: torch.poisson(torch.tensor(bad)))  # fmt: skip


def test_binomial(torch):
    count = ember.tensor([[0.0, 10.0, 10.0, 50.0]] * 4000)
    prob = ember.tensor([0.5, 0.0, 0.3, 0.9])
    draws = ember.binomial(count, prob.expand(4000, 4))
    assert draws.shape == (4000, 4) and draws.dtype == np.float32
    np.testing.assert_allclose(draws.array.mean(0), [0, 0, 3, 45], rtol=0.03, atol=0.01)
    np.testing.assert_allclose(draws.array.var(0), [0, 0, 2.1, 4.5], rtol=0.1, atol=0.01)
    assert (draws.array <= count.array).all() and (draws.array >= 0).all()
    one = ember.binomial(ember.tensor([3.0]), ember.tensor([1.5]))  # torch treats p > 1 as 1
    assert one.tolist() == torch.binomial(torch.tensor([3.0]), torch.tensor([1.5])).tolist()
    ci, ti = np.array([3]), np.array([0.5])
    same_error(torch, lambda: ember.binomial(ember.tensor(ci), ember.tensor(ti)),
               lambda: torch.binomial(torch.tensor(ci), torch.tensor(ti)))  # fmt: skip


# ---------------------------------------------------------------- padding
@pytest.mark.parametrize("pad", [(1, 2), (1, 2, 0, 3), (-1, 1), (2, -2, -1, 0), (0, 0)])
def test_constant_pad_nd(torch, pad):
    (e,), (t,) = leaves(torch, rand(2, 3, 4))
    check(torch, ember.constant_pad_nd(e, pad, 1.5), torch.constant_pad_nd(t, pad, 1.5),
          [e], [t], np.float64)  # fmt: skip
    (e,), (t,) = leaves(torch, rand(2, 3, 4))
    check(torch, ember.constant_pad_nd(e, pad), torch.constant_pad_nd(t, pad), [e], [t],
          np.float64)  # fmt: skip


def test_constant_pad_nd_errors(torch):
    e, t = ember.zeros(2, 3), torch.zeros(2, 3)
    same_error(torch, lambda: ember.constant_pad_nd(e, (1, 2, 3)),
               lambda: torch.constant_pad_nd(t, (1, 2, 3)))  # fmt: skip
    same_error(torch, lambda: ember.constant_pad_nd(e, (1,) * 6),
               lambda: torch.constant_pad_nd(t, (1,) * 6))  # fmt: skip


# ---------------------------------------------------------------- RNN cells
@pytest.mark.parametrize("name,gates", [("lstm_cell", 4), ("gru_cell", 3), ("rnn_tanh_cell", 1),
                                        ("rnn_relu_cell", 1)])  # fmt: skip
@pytest.mark.parametrize("bias", [True, False])
def test_rnn_cells(torch, name, gates, bias):
    n, d, h = 3, 4, 5
    arrays = [rand(n, d, seed=1), rand(n, h, seed=2), rand(gates * h, d, seed=3),
              rand(gates * h, h, seed=4)]  # fmt: skip
    if name == "lstm_cell":
        arrays.append(rand(n, h, seed=5))
    if bias:
        arrays += [rand(gates * h, seed=6), rand(gates * h, seed=7)]
    es, ts = leaves(torch, *arrays)

    def call(mod, xs):
        if name == "lstm_cell":
            x, hx, w_ih, w_hh, c, *b = xs
            return getattr(mod, name)(x, (hx, c), w_ih, w_hh, *b)
        return getattr(mod, name)(*xs)

    eo, to = call(ember, es), call(torch, ts)
    check(torch, list(eo) if name == "lstm_cell" else eo,
          list(to) if name == "lstm_cell" else to, es, ts, np.float64)  # fmt: skip


def test_lstm_cell_needs_two_states(torch):
    x, h, wi, wh = (rand(2, 3), rand(2, 4), rand(16, 3), rand(16, 4))
    same_error(torch, lambda: ember.lstm_cell(*map(ember.tensor, (x,)), (ember.tensor(h),),
                                              ember.tensor(wi), ember.tensor(wh)),
               lambda: torch.lstm_cell(torch.tensor(x), (torch.tensor(h),), torch.tensor(wi),
                                       torch.tensor(wh)))  # fmt: skip


# printing: tests/test_tensor_repr.py


# ---------------------------------------------------------------- RNG state and switches
def test_rng_state_round_trips(torch):
    ember.manual_seed(7)
    ember.rand(5)  # leave PCG64 mid-stream, a buffered 32-bit half included
    ember.randint(0, 2**31, (3,), dtype=ember.int32)
    state = ember.get_rng_state()
    assert state.dtype == np.uint8 and state.ndim == 1
    assert state.dtype == torch.get_rng_state().numpy().dtype
    first = [ember.rand(4).array, ember.randn(3).array, ember.randint(0, 100, (5,)).array]
    ember.manual_seed(99)
    ember.set_rng_state(state)
    again = [ember.rand(4).array, ember.randn(3).array, ember.randint(0, 100, (5,)).array]
    for a, b in zip(first, again):
        assert np.array_equal(a, b)
    assert np.array_equal(ember.get_rng_state().array, ember.get_rng_state().array)
    same_error(torch, lambda: ember.set_rng_state(ember.zeros(3)),
               lambda: torch.set_rng_state(torch.zeros(3)))  # fmt: skip
    with pytest.raises(RuntimeError, match="RNG state of size 48"):
        ember.set_rng_state(ember.zeros(3, dtype=ember.uint8))


def test_switches(torch):
    assert not ember.are_deterministic_algorithms_enabled()
    try:
        ember.use_deterministic_algorithms(True, warn_only=True)
        assert ember.are_deterministic_algorithms_enabled()
        assert ember.is_deterministic_algorithms_warn_only_enabled()
    finally:
        ember.use_deterministic_algorithms(False)
    assert not ember.is_deterministic_algorithms_warn_only_enabled()
    assert ember.get_float32_matmul_precision() == torch.get_float32_matmul_precision()
    try:
        ember.set_float32_matmul_precision("high")
        assert ember.get_float32_matmul_precision() == "high"
        with pytest.warns(UserWarning, match="bad is not one of 'highest'"):
            ember.set_float32_matmul_precision("bad")
        assert ember.get_float32_matmul_precision() == "high"
    finally:
        ember.set_float32_matmul_precision("highest")
    n = ember.get_num_interop_threads()
    assert isinstance(n, int) and n >= 1
    same_error(torch, lambda: ember.set_num_interop_threads(0),
               lambda: torch.set_num_interop_threads(0))  # fmt: skip


def test_default_device():
    assert ember.get_default_device() == ember.ones(1).device
    ember.set_default_device(None)
    ember.set_default_device(ember.get_default_device())
    if not ember.backend.ON_GPU:
        ember.set_default_device("cpu")
        with pytest.raises(RuntimeError, match="'cuda' was asked for"):
            ember.set_default_device("cuda")
    with pytest.raises(ValueError, match="unknown device"):
        ember.set_default_device("meta")


def test_compile_returns_what_it_gets():
    model = ember.nn.Linear(2, 3)
    assert ember.compile(model) is model
    assert ember.compile(model, mode="reduce-overhead", fullgraph=True) is model

    @ember.compile
    def f(x):
        return x * 2

    @ember.compile(dynamic=True, backend="inductor")
    def g(x):
        return x + 1

    assert f(ember.ones(2)).tolist() == [2.0, 2.0] and g(ember.ones(1)).tolist() == [2.0]


# ---------------------------------------------------------------- top-level in-place forms
UNARY = ("sigmoid_ tanh_ exp_ abs_ neg_ ceil_ floor_ round_ trunc_ frac_ square_ sin_ cos_ erf_"
         " expm1_ sinh_ cosh_ tan_ atan_ sinc_ deg2rad_ rad2deg_ fix_ negative_ relu_ selu_ celu_"
         " rrelu_ nan_to_num_").split()  # fmt: skip
POSITIVE = "log_ sqrt_ reciprocal_ rsqrt_ log1p_ log2_ log10_".split()
UNIT = "asin_ acos_ logit_".split()


@pytest.mark.parametrize("name", UNARY + POSITIVE + UNIT)
def test_inplace_forms(torch, name):
    a = rand(2, 3)
    a = np.abs(a) + 0.1 if name in POSITIVE else np.tanh(a) * 0.9 if name in UNIT else a
    a = np.abs(a) * 0.5 + 0.2 if name == "logit_" else a
    (e,), (t,) = leaves(torch, a)
    eo, to = e * 1, t * 1  # in place on a non-leaf, recorded for autograd
    er, tr = getattr(ember, name)(eo), getattr(torch, name)(to)
    assert er is eo and tr is to
    check(torch, er, tr, [e], [t], np.float64)


def test_inplace_forms_with_arguments(torch):
    cases = [
        ("clamp_", (-0.5, 0.5)), ("clip_", (None, 0.2)), ("threshold_", (0.1, 20.0)),
        ("celu_", (0.5,)), ("round_", ()), ("xlogy_", (2.0,)),
    ]  # fmt: skip
    for name, args in cases:
        (e,), (t,) = leaves(torch, np.abs(rand(2, 3)) + 0.1)
        eo, to = e * 1, t * 1
        check(torch, getattr(ember, name)(eo, *args), getattr(torch, name)(to, *args), [e], [t],
              np.float64)  # fmt: skip
    e, t = ember.tensor([1.234, 5.678]), torch.tensor([1.234, 5.678])
    assert ember.round_(e, decimals=1).tolist() == pytest.approx(
        torch.round_(t, decimals=1).tolist()
    )
    e, t = ember.tensor([np.nan, np.inf, 1.0]), torch.tensor([np.nan, np.inf, 1.0])
    np.testing.assert_allclose(ember.nan_to_num_(e, 0.5, 9.0).array,
                               torch.nan_to_num_(t, 0.5, 9.0).numpy())  # fmt: skip
    x = ember.ones(3, requires_grad=True)
    y = x * 2
    assert ember.detach_(y) is y and not y.requires_grad and y.grad_fn is None
    assert ember.zero_(ember.ones(3)).tolist() == [0.0, 0.0, 0.0]
    with pytest.raises(RuntimeError, match="in-place operation on a leaf"):  # as torch
        ember.exp_(ember.ones(2, requires_grad=True))


@pytest.mark.parametrize("name", ["dropout_", "alpha_dropout_", "feature_alpha_dropout_"])
def test_dropout_forms(torch, name):
    (e,), (t,) = leaves(torch, rand(4, 6, 5))
    eo, to = e * 1, t * 1  # not training: unchanged, as torch
    check(torch, getattr(ember, name)(eo, 0.5, False), getattr(torch, name)(to, 0.5, False),
          [e], [t], np.float64)  # fmt: skip
    x = ember.tensor(rand(4000, 8, dtype=np.float32), requires_grad=True)
    y = x * 1
    out = getattr(ember, name)(y, 0.25, True)
    assert out is y and y.shape == (4000, 8)
    if name == "dropout_":
        kept = y.array != 0
        assert abs(kept.mean() - 0.75) < 0.03
        np.testing.assert_allclose(y.array[kept], x.array[kept] / 0.75, rtol=1e-6)
        y.sum().backward()
        np.testing.assert_allclose(x.grad.array, kept / 0.75, rtol=1e-6)
    else:
        # zero mean and unit variance survive (SELU's self-normalisation)
        assert abs(y.array.mean()) < 0.05 and abs(y.array.std() - 1) < 0.05
        assert (y.array != x.array).mean() > 0.2
