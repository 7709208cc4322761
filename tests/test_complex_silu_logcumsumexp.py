"""Two ops that torch supports for complex input and ember used to fail on: silu (SciPy's expit
is real-only; σ(z) = 1/(1 + e^{−z}) as torch's complex kernel), whose complex gradient torch
does not record (ember refuses it at the call, as torch: tests/test_complex_refusals_more.py),
and logcumsumexp, whose forward is torch's complex logaddexp scan and whose gradient is the
holomorphic one, checked against torch and by gradcheck."""

import numpy as np
import pytest

import ember
import ember.nn.functional as F
from tests.test_complex_autograd import TOL, against_torch, tnp

_DTYPES = [np.complex64, np.complex128]


def _z(dtype, shape=(3, 5), seed=0, scale=(3.0, 4.0)):
    rng = np.random.default_rng(seed)
    z = scale[0] * rng.standard_normal(shape) + 1j * scale[1] * rng.standard_normal(shape)
    return z.astype(dtype)


# ------------------------------------------------------------ silu
@pytest.mark.parametrize("dtype", _DTYPES)
def test_silu_complex_forward_matches_torch(torch, dtype):
    z0 = np.concatenate([_z(dtype).ravel(), np.array([0j, -30 + 2j, 30 - 1j, 1j * np.pi])])
    z0 = z0.astype(dtype)
    want = torch.nn.functional.silu(torch.tensor(z0))
    for got in (F.silu(ember.tensor(z0)), ember.nn.SiLU()(ember.tensor(z0))):
        assert got.dtype == z0.dtype
        np.testing.assert_allclose(got.numpy(), tnp(want), rtol=TOL[dtype], atol=TOL[dtype])


@pytest.mark.parametrize("dtype", _DTYPES)
def test_silu_complex_under_no_grad_and_detached(torch, dtype):
    z0 = _z(dtype, (2, 3))
    z, t = ember.tensor(z0, requires_grad=True), torch.tensor(z0, requires_grad=True)
    with ember.no_grad(), torch.no_grad():
        got, want = F.silu(z), torch.nn.functional.silu(t)
    np.testing.assert_allclose(got.numpy(), tnp(want), rtol=TOL[dtype], atol=TOL[dtype])
    assert not got.requires_grad
    np.testing.assert_allclose(
        F.silu(z.detach()).numpy(), (z0 / (1 + np.exp(-z0))).astype(dtype), rtol=TOL[dtype]
    )


def test_silu_complex_with_grad_is_refused_as_torch_and_sigmoid_composes(torch):
    z0 = _z(np.complex128, (2, 3))
    with pytest.raises(RuntimeError, match="silu"):
        torch.nn.functional.silu(torch.tensor(z0, requires_grad=True))
    z = ember.tensor(z0, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"^silu\(\): .*complex128"):
        F.silu(z)
    # the composition the message points to has torch's complex gradient
    against_torch(torch, lambda lib, z: z * z.sigmoid(), [z0], TOL[np.complex128])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_silu_real_unchanged(torch, dtype):
    x0 = np.linspace(-30, 30, 41).astype(dtype)
    x, t = ember.tensor(x0, requires_grad=True), torch.tensor(x0, requires_grad=True)
    y, w = F.silu(x), torch.nn.functional.silu(t)
    tol = 1e-6 if dtype == np.float32 else 1e-14
    np.testing.assert_allclose(y.detach().numpy(), tnp(w), rtol=tol, atol=tol)
    y.sum().backward()
    w.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tnp(t.grad), rtol=tol, atol=tol)


# ------------------------------------------------------------ logcumsumexp
CASES = {
    "dim1": (lambda lib, z: z.logcumsumexp(1), (3, 5)),
    "dim0_3d": (lambda lib, z: lib.logcumsumexp(z, 0), (4, 2, 3)),
    "negative_dim": (lambda lib, z: z.logcumsumexp(-1), (2, 3, 4)),
    "vector": (lambda lib, z: lib.logcumsumexp(z, 0), (7,)),
    "scalar": (lambda lib, z: z.sum().logcumsumexp(0), (3,)),
    "composed": (lambda lib, z: (z.logcumsumexp(1) * z).exp().sum(1), (2, 4)),
}


@pytest.mark.parametrize("dtype", _DTYPES)
@pytest.mark.parametrize("name", sorted(CASES))
def test_logcumsumexp_complex_matches_torch(torch, name, dtype):
    f, shape = CASES[name]
    scale = (0.5, 0.5) if name == "composed" else (3.0, 4.0)  # Im up to ±12: no reduction
    against_torch(torch, f, [_z(dtype, shape, scale=scale)], TOL[dtype])


@pytest.mark.parametrize("name", sorted(CASES))
def test_logcumsumexp_complex_gradcheck(name):
    f, shape = CASES[name]
    z = ember.tensor(_z(np.complex128, shape, seed=3, scale=(1.0, 2.0)), requires_grad=True)
    assert ember.gradcheck(lambda t: f(ember, t), (z,))


@pytest.mark.parametrize("dtype", _DTYPES)
def test_logcumsumexp_complex_edge_values_as_torch(torch, dtype):
    inf, nan = np.inf, np.nan
    rows = [
        [1000 + 1j, 1000 - 2j, 5 + 0j, -1000 + 3j],  # large: no overflow
        [-inf + 0j, 1 + 1j, -inf + 2j, 2 - 1j],  # −inf terms contribute nothing
        [-inf + 2j, -inf - 1j, 0j, 1 + 0j],  # all −inf so far: −inf, as torch's start value
        [inf + 0j, 2 + 1j, inf + 1j, 3 + 0j],  # +inf
        [1 + 1j, complex(nan, 0), 2 + 0j, 3 + 1j],  # nan propagates
        [1 + 0j, 1 + 0j, 1 + 0j, 1 + 0j],  # ties on the real part
    ]
    z0 = np.array(rows, dtype=dtype)
    with np.errstate(all="ignore"):
        got = ember.tensor(z0).logcumsumexp(1).numpy()
    want = tnp(torch.tensor(z0).logcumsumexp(1))
    np.testing.assert_allclose(got, want, rtol=TOL[dtype], atol=TOL[dtype], equal_nan=True)


def test_logcumsumexp_zero_gradient_and_real_unchanged(torch):
    # a zero upstream gradient (log 0 = −inf) sends zero back, not nan
    z = ember.tensor(_z(np.complex128, (2, 4)), requires_grad=True)
    y = z.logcumsumexp(1)
    (y[:, 1:2] * (1 + 2j)).real.sum().backward()
    t = torch.tensor(_z(np.complex128, (2, 4)), requires_grad=True)
    (t.logcumsumexp(1)[:, 1:2] * (1 + 2j)).real.sum().backward()
    assert np.isfinite(z.grad.numpy()).all() and (z.grad.numpy()[:, 2:] == 0).all()
    np.testing.assert_allclose(z.grad.numpy(), tnp(t.grad), rtol=1e-12, atol=1e-12)
    x0 = np.array([[-800.0, 1.0, 700.0, -3.0], [0.5, -0.25, 2.0, 1e-3]])
    x, s = ember.tensor(x0, requires_grad=True), torch.tensor(x0, requires_grad=True)
    y, w = x.logcumsumexp(1), s.logcumsumexp(1)
    np.testing.assert_allclose(y.detach().numpy(), tnp(w), rtol=1e-14)
    g = np.array([[1.0, -2.0, 0.5, 3.0], [-1.0, 0.0, 2.0, 1.0]])
    (y * ember.tensor(g)).sum().backward()
    (w * torch.tensor(g)).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tnp(s.grad), rtol=1e-12, atol=1e-300)
