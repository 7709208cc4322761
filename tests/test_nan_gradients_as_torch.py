"""Gradients at NaN and on constant data as torch gives them (found by a NaN/inf comparison
with torch). Only rules that torch computes the same way on every CPU are held here: its
activations' NaN gradients differ between its AVX2 and AVX-512 loops, and are not."""

import numpy as np
import pytest

import ember

NAN = np.nan


@pytest.mark.parametrize("name", ["maximum", "minimum"])
def test_maximum_and_minimum_give_both_operands_the_gradient_where_one_is_nan(torch, name):
    # torch: g/2 each on ties, and the loser masked by a < b (a > b), which NaN never is
    a = np.array([NAN, 1.0, NAN, 2.0, 3.0, 3.0, 0.0, NAN, -1.0])
    b = np.array([1.0, NAN, NAN, 1.0, 3.0, 4.0, 0.0, 5.0, 2.0])
    gy = np.arange(1.0, 10.0)
    grads = []
    for lib in (ember, torch):
        x, y = lib.tensor(a, requires_grad=True), lib.tensor(b, requires_grad=True)
        getattr(lib, name)(x, y).backward(lib.tensor(gy))
        grads.append((x.grad.numpy(), y.grad.numpy()))
    for e, t in zip(*grads):
        np.testing.assert_array_equal(e, t)
    assert grads[0][0][0] == 1.0 and grads[0][1][0] == 1.0


def test_maximum_keeps_a_half_gradient_half():
    x = ember.tensor(np.array([1.0, 2.0], np.float16), requires_grad=True)
    y = ember.tensor(np.array([2.0, 2.0], np.float16), requires_grad=True)
    ember.maximum(x, y).sum().backward()
    assert x.grad.dtype == ember.float16 and y.grad.dtype == ember.float16
    assert x.grad.tolist() == [0.0, 0.5] and y.grad.tolist() == [1.0, 0.5]


@pytest.mark.parametrize(
    "call",
    [
        lambda lib, x: lib.abs(x).sum(),
        lambda lib, x: lib.linalg.vector_norm(x, 1),
        lambda lib, x: lib.linalg.vector_norm(x, float("inf")),
        lambda lib, x: x.norm(float("-inf")),
    ],
    ids=["abs", "norm1", "norm_inf", "norm_minus_inf"],
)
def test_abs_and_its_norms_give_nan_a_zero_gradient(torch, call):
    # ∂|x|/∂x = sgn(x), which is 0 at NaN in torch (NumPy's sign gives NaN)
    a = np.array([NAN, -1.0, 0.0, 2.0, -2.0])
    grads = []
    for lib in (ember, torch):
        x = lib.tensor(a, requires_grad=True)
        call(lib, x).backward()
        grads.append(x.grad.numpy())
    np.testing.assert_array_equal(grads[0], grads[1])
    assert grads[0][0] == 0.0


@pytest.mark.parametrize("value", [0.1, 1 / 3, 0.7, -0.21559717, 123.456])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_variance_of_constant_data_is_exactly_zero_and_std_has_zero_gradient(torch, value, dtype):
    # the rounded mean of N copies of v can be an ulp off v; torch's Welford kernel still gives
    # variance 0, and its std's backward 0 there. ember's plain two-pass sum gave ~1e-16, a std
    # of ~1e-8 and gradients of ±0.15
    a = np.full((3, 7), value, dtype)
    for lib in (ember, torch):
        x = lib.tensor(a, requires_grad=True)
        assert lib.var(x, 1).detach().numpy().tolist() == [0.0] * 3
        s = lib.std(x, 1)
        assert s.detach().numpy().tolist() == [0.0] * 3
        s.sum().backward()
        assert not x.grad.numpy().any()


def test_variance_with_the_mean_correction_stays_accurate():
    rng = np.random.default_rng(0)
    a = (rng.standard_normal((40, 50)) * 3 + 1000).astype(np.float32)
    exact = np.var(a.astype(np.float64), axis=1, ddof=1)
    ours = ember.var(ember.tensor(a), 1).numpy()
    np.testing.assert_allclose(ours, exact, rtol=1e-4)
    z = np.array([1 + 1j, 1 + 1j, 2 - 1j])
    assert ember.var(ember.tensor(z)).item() == pytest.approx(np.var(z, ddof=1))


def test_logsumexp_of_a_row_with_plus_infinity_gives_its_finite_entries_zero_gradient(torch):
    # torch's gradient is e^{x − y}: 0 for finite x beside +inf (ember's e^x / Σe^x was ∞/∞)
    a = np.array([[np.inf, np.inf, 700.0, -745.0], [np.inf, -np.inf, 1.0, 2.0]], np.float32)
    grads = []
    for lib in (ember, torch):
        x = lib.tensor(a, requires_grad=True)
        lib.logsumexp(x, 1).sum().backward()
        grads.append(x.grad.numpy())
    np.testing.assert_array_equal(grads[0], grads[1])
    assert grads[0][0, 2] == 0.0


MASKED = {
    "relu": lambda lib, x: lib.relu(x),
    "clamp_min": lambda lib, x: lib.clamp(x, min=0.0),
    "clamp_both": lambda lib, x: lib.clamp(x, -1.0, 0.0) + 1.0,
    "maximum": lambda lib, x: lib.maximum(x, lib.zeros_like(x)),
    "hardtanh": lambda lib, x: lib.nn.functional.hardtanh(x, 0.0, 10.0),
    "relu6": lambda lib, x: lib.nn.functional.relu6(x),
    "threshold": lambda lib, x: lib.nn.functional.threshold(x, 0.0, 0.0),
    "hardshrink": lambda lib, x: lib.nn.functional.hardshrink(x, 0.5).abs(),
    "softshrink": lambda lib, x: lib.nn.functional.softshrink(x, 0.5).abs(),
    "hardsigmoid": lambda lib, x: lib.nn.functional.hardsigmoid(x - 3.0),
    "hardswish": lambda lib, x: lib.nn.functional.hardswish(x - 3.0).abs(),
    "max_pool2d": lambda lib, x: lib.nn.functional.max_pool2d(x.reshape(1, 1, 2, 4), 2).relu(),
}


@pytest.mark.parametrize("name", list(MASKED))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_a_shut_mask_stops_an_infinite_upstream_gradient_as_torch(torch, name, dtype):
    # sqrt(relu(x)) at x ≤ 0: sqrt's gradient is inf there, and the mask must give 0, not inf·0
    # = NaN (torch's backwards select: `mask ? grad : 0`); the pattern of distances and norms
    a = np.array([-1e-7, 0.0, 4.0, -2.0, 0.25, -5.0, 9.0, -3.0], dtype)
    grads = []
    for lib in (ember, torch):
        x = lib.tensor(a, requires_grad=True)
        lib.sqrt(MASKED[name](lib, x)).sum().backward()
        grads.append(x.grad.numpy())
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-6)
    assert not np.isnan(grads[0]).any()
