"""x / c for a Python number c: a true division, bit for bit torch's, also by zero."""

import numpy as np
import pytest

import ember

X = np.random.default_rng(0).standard_normal(1000)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("c", [3.0, 7, 0.1, -2.5, 1e-30])
def test_bit_for_bit_torch(torch, dtype, c):
    want = (torch.tensor(X.astype(dtype)) / c).numpy()
    got = (ember.tensor(X.astype(dtype)) / c).numpy()
    assert got.dtype == want.dtype
    np.testing.assert_array_equal(got, want)  # a · (1/c) differs in the last bit


@pytest.mark.parametrize("c", [0, 0.0, -0.0])
def test_by_zero_is_inf_or_nan(torch, c):
    x = np.array([1.5, -2.0, 0.0])
    with np.errstate(divide="ignore", invalid="ignore"):
        for make in (lambda lib: lib.tensor(x), lambda lib: lib.tensor([3, -1, 0])):
            got, want = (make(ember) / c).numpy(), (make(torch) / c).numpy()
            np.testing.assert_array_equal(got, want)
            np.testing.assert_array_equal(make(ember).div(c).numpy(), want)
            np.testing.assert_array_equal(make(ember).true_divide(c).numpy(), want)


def test_gradient_and_complex(torch):
    grads = []
    for lib in (ember, torch):
        x = lib.tensor(X[:6].reshape(2, 3), requires_grad=True)
        ((x / 3.0) ** 2).sum().backward()
        grads.append(x.grad.numpy())
    np.testing.assert_array_equal(*grads)
    z = (X[:4] + 1j * X[4:8]).astype(np.complex128)
    ze, zt = ember.tensor(z, requires_grad=True), torch.tensor(z, requires_grad=True)
    ye, yt = ze / (1 - 2j), zt / (1 - 2j)
    np.testing.assert_allclose(ye.detach().numpy(), yt.detach().numpy(), rtol=1e-15)
    (ye.abs() ** 2).sum().backward()
    (yt.abs() ** 2).sum().backward()
    np.testing.assert_allclose(ze.grad.numpy(), zt.grad.numpy(), rtol=1e-13)
    assert ember.gradcheck(lambda t: t / 3.0, ember.tensor(X[:5], requires_grad=True))
