"""Complex forwards and gradients that torch has and ember lacked: logaddexp (torch's complex
kernel, ``complex_logaddexp``, and the holomorphic gradient g·conj(e^{a−y})), and
log2/log10/acos/acosh/sinc, whose backward g·f′(z) is torch's and which now run through
ops/complex.py's HOLOMORPHIC rule (acosh's complex derivative is 1/(√(z − 1)·√(z + 1)), the
principal branch's and torch's). Against torch in complex64/complex128, and ember.gradcheck on
complex128."""

import numpy as np
import pytest

import ember
from tests.test_complex_autograd import TOL, against_torch, tnp


def _away(rng, *shape):
    """Complex numbers with |Im| ≥ 0.3: off the real-axis branch cuts of acos/acosh/log."""
    im = rng.uniform(0.3, 2.0, shape) * rng.choice([-1, 1], shape)
    return rng.standard_normal(shape) * 2 + 1j * im


# name → (f(lib, *inputs), shapes)
CASES = {
    "logaddexp": (lambda lib, a, b: lib.logaddexp(a, b), [(3, 4), (3, 4)]),
    "logaddexp_broadcast": (lambda lib, a, b: a.logaddexp(b), [(2, 3), (3,)]),
    "logaddexp_scaled": (lambda lib, a, b: lib.logaddexp(a * 5, b * 5), [(2, 3), (2, 3)]),
    "log2": (lambda lib, z: lib.log2(z), [(2, 3)]),
    "log10": (lambda lib, z: z.log10(), [(2, 3)]),
    "acos": (lambda lib, z: lib.acos(z), [(2, 3)]),
    "arccos": (lambda lib, z: z.arccos(), [(2, 3)]),
    "acosh": (lambda lib, z: lib.acosh(z), [(2, 3)]),
    "sinc": (lambda lib, z: lib.sinc(z), [(2, 3)]),
    "composed": (lambda lib, a, b: lib.logaddexp(a.log2(), b.acos()).sinc(), [(2, 2), (2, 2)]),
}


def _inputs(shapes, dtype, seed=0):
    rng = np.random.default_rng(seed)
    return [_away(rng, *s).astype(dtype) for s in shapes]


@pytest.mark.parametrize("dtype", [np.complex64, np.complex128])
@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_torch(torch, name, dtype):
    f, shapes = CASES[name]
    against_torch(torch, f, _inputs(shapes, dtype), TOL[dtype])


@pytest.mark.parametrize("name", sorted(CASES))
def test_gradcheck_complex128(name):
    f, shapes = CASES[name]
    xs = [ember.tensor(a, requires_grad=True) for a in _inputs(shapes, np.complex128, seed=2)]
    assert ember.gradcheck(lambda *t: f(ember, *t), xs)


def test_logaddexp_gradient_where_torchs_form_overflows():
    # torch's g / conj(1 + e^{b−a}) is nan once e^{b−a} overflows; g·conj(e^{a−y}) is not
    rng = np.random.default_rng(4)
    a, b = (ember.tensor(_away(rng, 2, 3) * 400, requires_grad=True) for _ in range(2))
    assert ember.gradcheck(lambda p, q: ember.logaddexp(p, q), (a, b))
    ember.logaddexp(a, b).abs().sum().backward()
    assert np.isfinite(a.grad.numpy()).all() and np.isfinite(b.grad.numpy()).all()


@pytest.mark.parametrize("dtype", [np.complex64, np.complex128])
def test_logaddexp_edge_values_as_torch(torch, dtype):
    inf, nan = np.inf, np.nan
    a0 = np.array([1000 + 1j, -inf + 0j, -inf + 2j, inf + 0j, inf + 1j, complex(nan, 0),
                   1 + 0j, 2 + 3j, -1000 + 0j], dtype=dtype)  # fmt: skip
    b0 = np.array([1000 - 2j, 1 + 1j, -inf - 1j, 2 + 1j, inf + 2j, 2 + 0j, 1 + 0j, 2 - 3j,
                   -1000 + 3j], dtype=dtype)  # fmt: skip
    with np.errstate(all="ignore"):
        got = ember.logaddexp(ember.tensor(a0), ember.tensor(b0)).numpy()
    want = tnp(torch.logaddexp(torch.tensor(a0), torch.tensor(b0)))
    np.testing.assert_allclose(got, want, rtol=TOL[dtype], atol=TOL[dtype], equal_nan=True)


def test_logaddexp_real_and_mixed_operands_as_torch(torch):
    x0 = np.array([-800.0, 1.0, 700.0, 0.25])
    z0 = np.array([1j, 2 - 1j, -3 + 0.5j, 0.25 + 0j])
    for f in (lambda lib: lib.logaddexp(lib.tensor(x0), lib.tensor(x0[::-1].copy())),
              lambda lib: lib.logaddexp(lib.tensor(x0[:2]), lib.tensor(z0[:2])),
              lambda lib: lib.tensor(z0).logaddexp(lib.tensor(x0))):  # fmt: skip
        got, want = f(ember), f(torch)
        assert got.dtype == np.dtype(str(want.dtype).split(".")[-1])
        np.testing.assert_allclose(got.numpy(), tnp(want), rtol=1e-14, atol=1e-14)
    # and a real gradient unchanged
    a, t = ember.tensor(x0, requires_grad=True), torch.tensor(x0, requires_grad=True)
    ember.logaddexp(a, a * 0.5).sum().backward()
    torch.logaddexp(t, t * 0.5).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), tnp(t.grad), rtol=1e-14)
