"""Second (and third) derivatives of eigh, eigvalsh, svd and svdvals against torch, float64: the
gradient with create_graph=True, then a Hessian-vector product through it; and gradgradcheck.

Eigen- and singular vectors are fixed only up to sign (the extra columns of a full U only up to
a basis), so every loss reads them in ways that do not depend on that choice: V∘V, V f(λ) Vᵀ,
the squared norms of the rows of U's extra block. The matrices have well-separated eigenvalues
(singular values): the derivatives divide by their gaps."""

import numpy as np
import pytest

import ember

RNG = np.random.default_rng(11)


def _orthogonal(*shape):
    q, _ = np.linalg.qr(RNG.standard_normal(shape))
    return q


def _with_spectrum(m, n, values):
    """Q diag(values) Pᵀ for random orthogonal Q (m×k) and P (n×k), batched over values."""
    values = np.asarray(values, dtype=np.float64)
    k = values.shape[-1]
    q = np.stack([_orthogonal(m, k) for _ in values.reshape(-1, k)]).reshape(
        values.shape[:-1] + (m, k)
    )
    p = np.stack([_orthogonal(n, k) for _ in values.reshape(-1, k)]).reshape(
        values.shape[:-1] + (n, k)
    )
    return (q * values[..., None, :]) @ np.swapaxes(p, -1, -2)


def _symmetric(values):
    q = np.stack([_orthogonal(len(v), len(v)) for v in values])
    return (q * np.asarray(values)[:, None, :]) @ np.swapaxes(q, -1, -2)


SYM = _symmetric([[-2.0, -0.7, 0.6, 2.1], [-1.5, 0.2, 1.1, 2.6]])  # (2, 4, 4)
# the triangle eigh does not read holds something else: UPLO must be honoured
NOISE = np.triu(RNG.standard_normal(SYM.shape), 1) * 0.3
TALL = _with_spectrum(5, 3, [[3.0, 1.7, 0.6], [2.5, 1.2, 0.4]])  # (2, 5, 3)
WIDE = _with_spectrum(3, 5, [[2.8, 1.5, 0.5], [3.3, 1.9, 0.8]])  # (2, 3, 5)
SINGLE = _with_spectrum(5, 3, [2.2, 1.3, 0.7])  # (5, 3)
SQUARE = _with_spectrum(4, 4, [[3.1, 2.0, 1.1, 0.4], [2.4, 1.6, 0.9, 0.3]])  # (2, 4, 4)

W44 = np.linspace(-1.0, 1.5, 16).reshape(4, 4)
W53 = np.linspace(-1.2, 0.9, 15).reshape(5, 3)
W35 = np.linspace(0.7, -1.1, 15).reshape(3, 5)


def c(lib, x):
    return lib.tensor(x)


def mT(x):
    return x.transpose(-1, -2)


def _eigh_mixed(lib, a):
    w, v = lib.linalg.eigh(a)
    f = (w**3).sum() + ((v * v) ** 2 * c(lib, W44)).sum()
    expm = (v * w.exp().unsqueeze(-2)) @ mT(v)  # V exp(Λ) Vᵀ
    return f + (expm * c(lib, W44)).sum() * w[0, 1]


def _eigh_upper(lib, a):
    w, v = lib.linalg.eigh(a + c(lib, NOISE), UPLO="U")
    return (w.sin() * w).sum() + ((v * v) * c(lib, W44)).sum() ** 2


def _eigh_vectors_only(lib, a):
    v = lib.linalg.eigh(a[1]).eigenvectors
    return (((v * v) @ c(lib, W44)) ** 2).sum()


def _eigh_values_only(lib, a):
    return (lib.linalg.eigh(a).eigenvalues ** 4).sum()


def _eigvalsh(lib, a):
    w = lib.linalg.eigvalsh(a)
    return (
        (w**3).sum()
        + (w.exp() * w[:, :1]).sum()
        + lib.linalg.eigvalsh(a + c(lib, NOISE), "U")[0, 2] ** 2
    )


def _svd_parts(lib, a, full, w):
    u, s, vh = lib.linalg.svd(a, full_matrices=full)
    k = s.shape[-1]
    uk, vk = u[..., :, :k], vh[..., :k, :]
    f = (s**3).sum() + ((uk * uk) ** 2).sum() * s[..., 0].sum()
    f = f + (((mT(uk) @ c(lib, w)) @ mT(vk)) ** 2).sum()  # |Uᵀ W Vhᵀ|², sign-invariant
    f = f + ((uk * s.log().unsqueeze(-2)) @ vk * c(lib, w)).sum()  # U log(σ) Vh
    if full:  # rows of U's extra block: ‖·‖² = (1 − UkUkᵀ)_ii, whatever basis (torch drops it)
        f = f + ((u[..., :, k:] ** 2).sum(-1) * c(lib, w).sum(-1)).sum()
        f = f + ((vh[..., k:, :] ** 2).sum(-2) * c(lib, w).sum(-2)).sum()
    return f


def _svd_vectors_only(lib, a):
    u, _, vh = lib.linalg.svd(a, full_matrices=False)
    return ((u * u) ** 2 * c(lib, W53)).sum() + (vh**4).sum()


CASES = {
    "eigh": (_eigh_mixed, SYM),
    "eigh_upper": (_eigh_upper, SYM),
    "eigh_vectors_only": (_eigh_vectors_only, SYM),
    "eigh_values_only": (_eigh_values_only, SYM),
    "eigvalsh": (_eigvalsh, SYM),
    "svd_tall": (lambda lib, a: _svd_parts(lib, a, False, W53), TALL),
    "svd_tall_full": (lambda lib, a: _svd_parts(lib, a, True, W53), TALL),
    "svd_wide": (lambda lib, a: _svd_parts(lib, a, False, W35), WIDE),
    "svd_wide_full": (lambda lib, a: _svd_parts(lib, a, True, W35), WIDE),
    "svd_single_full": (lambda lib, a: _svd_parts(lib, a, True, W53), SINGLE),
    "svd_square": (lambda lib, a: _svd_parts(lib, a, True, W44), SQUARE),
    "svd_values_only": (lambda lib, a: (lib.linalg.svd(a)[1] ** 3).sum(), TALL),
    "svd_vectors_only": (_svd_vectors_only, TALL),
    "svdvals": (
        lambda lib, a: (lib.linalg.svdvals(a) ** 3).sum() + lib.linalg.svdvals(a).log().sum(),
        WIDE,
    ),
    "svdvals_single": (lambda lib, a: lib.linalg.svdvals(a).prod() ** 2, SINGLE),
}


@pytest.mark.parametrize("name", list(CASES))
def test_gradient_and_hessian_vector_product_match_torch(torch, name):
    f, a0 = CASES[name]

    def run(lib):
        a = lib.tensor(a0, requires_grad=True)
        (ga,) = lib.autograd.grad(f(lib, a), a, create_graph=True)
        va = lib.tensor(np.cos(np.arange(a0.size)).reshape(a0.shape))
        (hv,) = lib.autograd.grad((ga * va).sum() + (ga**2).sum(), a)
        return ga.detach().numpy(), hv.numpy()

    (g, hv), (g_want, hv_want) = run(ember), run(torch)
    np.testing.assert_allclose(g, g_want, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(hv, hv_want, rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("name", ["eigh", "svd_tall", "svd_wide"])
def test_first_derivative_equals_the_ops_own_backward(name):
    f, a0 = CASES[name]
    a = ember.tensor(a0, requires_grad=True)
    (plain,) = ember.autograd.grad(f(ember, a), a)
    (recorded,) = ember.autograd.grad(f(ember, a), a, create_graph=True)
    np.testing.assert_allclose(recorded.detach().numpy(), plain.numpy(), rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("name", ["eigh", "svd_wide_full"])
def test_third_derivative_matches_torch(torch, name):
    f, a0 = CASES[name]

    def run(lib):
        a = lib.tensor(a0, requires_grad=True)
        (g,) = lib.autograd.grad(f(lib, a), a, create_graph=True)
        (h,) = lib.autograd.grad((g * g).sum(), a, create_graph=True)
        (t,) = lib.autograd.grad(
            (h * lib.tensor(np.sin(np.arange(a0.size)).reshape(a0.shape))).sum(), a
        )
        return t.numpy()

    np.testing.assert_allclose(run(ember), run(torch), rtol=1e-8, atol=1e-10)


def _sym(a):
    return (a + mT(a)) * 0.5  # eigh reads one triangle: finite differences need a symmetric input


GRADGRAD = {
    # V as V∘V, U as U∘U, Vh as Vh∘Vh: gradgradcheck's weights are not sign-invariant
    "eigh": (lambda a: (lambda w, v: (w, v * v))(*ember.linalg.eigh(_sym(a))), SYM[0, :3, :3]),
    "eigvalsh": (lambda a: ember.linalg.eigvalsh(_sym(a)), SYM[1, :3, :3]),
    "svd": (
        lambda a: (lambda u, s, vh: (u * u, s, vh * vh))(*ember.linalg.svd(a, full_matrices=False)),
        TALL[0, :4, :2],
    ),
    "svdvals": (lambda a: ember.linalg.svdvals(a), WIDE[1, :, :4]),
}


@pytest.mark.parametrize("name", list(GRADGRAD))
def test_gradgradcheck(name):
    func, a0 = GRADGRAD[name]
    a = ember.tensor(np.ascontiguousarray(a0), requires_grad=True)
    assert ember.gradgradcheck(func, (a,), check_fwd_over_rev=True)
