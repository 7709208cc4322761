"""Second derivatives of the ops in autograd_higher_more.py against torch: the first gradient
(create_graph=True) and a Hessian-vector product through it, float64, to 1e-10; and the
canonical WGAN-GP critic (leaky ReLU, the penalty on grad.norm(2, dim=1))."""

import numpy as np
import pytest

import ember

X = np.array([[0.3, -1.2, 0.8, 0.55], [2.0, -0.4, 0.9, -0.15], [-0.7, 1.1, 0.05, -1.6]])
V = np.linspace(-1.0, 1.0, X.size).reshape(X.shape)
ZEROED = np.array([[1.0, 0.0, 1.0, 1.0], [1.0, 1.0, 1.0, 1.0], [0.0, 1.0, 0.0, 1.0]])


def F(lib):
    return lib.nn.functional


CASES = {
    "pow_tensor": lambda lib, x: (x.abs() + 0.5) ** (x * 0.5),
    "rpow": lambda lib, x: 2.0**x + 0.5**x,
    "log1p_expm1": lambda lib, x: (x * x).log1p() * x.expm1(),
    "clamp": lambda lib, x: x.clamp(-0.5, 0.5) * x + x.clamp(min=0.0) ** 2,
    "clamp_tensor": lambda lib, x: x.clamp(min=x.sum(0, keepdim=True) * 0.1, max=x * x) * x,
    "maximum_minimum": lambda lib, x: lib.maximum(x, x * x) * lib.minimum(x.abs(), x * 0.5),
    "maximum_ties": lambda lib, x: lib.maximum(x * lib.tensor(ZEROED), x * 0.0) * x,
    "leaky_relu": lambda lib, x: F(lib).leaky_relu(x, 0.1) * x,
    "elu_selu_celu": lambda lib, x: F(lib).elu(x * 3.0) * x + F(lib).selu(x) + F(lib).celu(x, 0.5),
    "logsigmoid": lambda lib, x: F(lib).logsigmoid(x) * x,
    "softplus_mish": lambda lib, x: F(lib).softplus(x, beta=2.0) + F(lib).mish(x),
    "trig": lambda lib, x: x.tan() + (x * 0.3).asin() * (x * 0.3).acos() + x.atan(),
    "hyperbolic": lambda lib, x: (
        x.sinh() * x.cosh() + x.asinh() + (x.abs() + 1.5).acosh() + (x * 0.3).atanh()
    ),
    "logs_erf": lambda lib, x: (
        (x * x + 0.5).log2() + (x * x + 0.5).log10() + x.erfc() + (x * 0.3).erfinv() ** 2
    ),
    "atan2_hypot": lambda lib, x: lib.atan2(x, x * x - 0.5) * lib.hypot(x, x * x + 0.2),
    "logaddexp": lambda lib, x: lib.logaddexp(x, x * x) + lib.logaddexp2(x, -x),
    "xlogy": lambda lib, x: lib.xlogy(x * x, x.abs() + 0.1),
    "clone": lambda lib, x: x.clone() ** 3,
    "amax_amin": lambda lib, x: x.amax(1) * x.sum() + (x.amin(0, keepdim=True) * x).sum(),
    "max_min_all": lambda lib, x: x.max() * x + x.min() ** 2,
    "max_dim": lambda lib, x: (
        (x.max(dim=1)[0] * x.sum()).sum() + (x.min(dim=0, keepdim=True).values * x).sum()
    ),
    "sort_topk": lambda lib, x: x.sort(1)[0] * x + x.topk(2, dim=0)[0].sum() ** 2,
    "var": lambda lib, x: x.var(1) ** 2 + x.var() * x.sum(),
    "std": lambda lib, x: (
        (x.std(1, keepdim=True) * x).sum() + (x.std(0, correction=0) ** 3).sum() + x.std(1).sum()
    ),
    "logsumexp": lambda lib, x: x.logsumexp(1) ** 2,
    "norms": lambda lib, x: (
        (x.norm(dim=1) * x.sum()).sum() + (x.norm(p=3, dim=0) ** 2).sum() + x.norm()
    ),
    "norm_p_half": lambda lib, x: x.norm(p=0.5, dim=1) + x.norm(p=1.5) * x.sum(),
    "normalize_cosine": lambda lib, x: (
        F(lib).normalize(x, dim=1) * x + F(lib).cosine_similarity(x, x * x + 1.0).sum()
    ),
    "prod": lambda lib, x: x.prod(1) * x.sum() + x.prod() ** 2,
    "prod_with_zeros": lambda lib, x: (
        (x * lib.tensor(ZEROED)).prod(1).sum() + (x + 1.0).prod(0).sum()
    ),
    "cumsum": lambda lib, x: x.cumsum(1) * x + x.cumsum(0) ** 2,
    # matmul with 1-D operands: matrix·vector, vector·matrix, vector·vector, batch·vector
    "matmul_1d": lambda lib, x: (
        (x @ (x[0] * x[1])) ** 2
        + ((x[2] * x[2]) @ x.transpose(0, 1)).sum() * x[0, 0]
        + (x[0] @ x[1]) ** 3
        + ((x.reshape(3, 1, 4) * x[:, None, :]) @ x[1]).sum() ** 2
    ).sum(),
}


@pytest.mark.parametrize("name", list(CASES))
def test_gradient_and_hessian_vector_product_match_torch(torch, name):
    f = CASES[name]

    def run(lib):
        x = lib.tensor(X, requires_grad=True)
        (g,) = lib.autograd.grad(f(lib, x).sum(), x, create_graph=True)
        (hv,) = lib.autograd.grad(g, x, grad_outputs=lib.tensor(V))
        return g.detach().numpy(), hv.numpy()

    (g_e, hv_e), (g_t, hv_t) = run(ember), run(torch)
    np.testing.assert_allclose(g_e, g_t, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(hv_e, hv_t, rtol=1e-10, atol=1e-12)
    assert np.any(hv_t != 0) or name in ("clamp",), "a case whose second derivative is all 0"


def test_lgamma_second_derivative_is_the_trigamma(torch):
    """∂² log Γ(x)/∂x² = ψ⁽¹⁾(x): ember's (SciPy's polygamma) against mpmath to 1e-13;
    torch's own trigamma is only good to about 1e-9 here, so it is not the reference."""
    mpmath = pytest.importorskip("mpmath")
    x = ember.tensor(X, requires_grad=True)
    (g,) = ember.autograd.grad((x.abs() + 0.5).lgamma().sum(), x, create_graph=True)
    (hv,) = ember.autograd.grad(g, x, grad_outputs=ember.tensor(V))
    xt = torch.tensor(X, requires_grad=True)
    (xt.abs() + 0.5).lgamma().sum().backward()
    np.testing.assert_allclose(g.detach().numpy(), xt.grad.numpy(), rtol=1e-12)
    want = [float(mpmath.psi(1, abs(a) + 0.5)) * v for a, v in zip(X.flat, V.flat)]
    np.testing.assert_allclose(hv.numpy().ravel(), want, rtol=1e-13)


def test_power_at_a_zero_base_is_finite_where_torch_is_nan(torch):
    """At a = 0 with b ≥ 0, ∂aᵇ/∂b is 0; torch differentiates its masked a^b·log a again and
    gets 0·∞ = nan there, ember keeps 0 (b ≥ 2 here, so the true second derivative in a is
    finite too). Everywhere else the two agree."""

    def run(lib):
        x = lib.tensor(X, requires_grad=True)
        y = ((x * lib.tensor(ZEROED)).abs() + x * x * lib.tensor(ZEROED)) ** (x * x + 2.0)
        (g,) = lib.autograd.grad(y.sum(), x, create_graph=True)
        (hv,) = lib.autograd.grad(g, x, grad_outputs=lib.tensor(V))
        return g.detach().numpy(), hv.numpy()

    (g_e, hv_e), (g_t, hv_t) = run(ember), run(torch)
    np.testing.assert_allclose(g_e, g_t, rtol=1e-10, atol=1e-12)
    zero = ZEROED == 0
    assert np.isnan(hv_t[zero]).all() and np.isfinite(hv_e).all()
    np.testing.assert_allclose(hv_e[~zero], hv_t[~zero], rtol=1e-10, atol=1e-12)


def test_third_derivatives_through_the_smooth_rules(torch):
    """The rules are themselves recorded: differentiate three times."""

    def run(lib):
        x = lib.tensor(X, requires_grad=True)
        y = (x.logsumexp(1) + x.norm(dim=1) + F(lib).elu(x).sum(1) + x.var(0).sum()).sum()
        (g,) = lib.autograd.grad(y, x, create_graph=True)
        (h,) = lib.autograd.grad((g * g).sum(), x, create_graph=True)
        (t,) = lib.autograd.grad(h.sum(), x)
        return t.numpy()

    np.testing.assert_allclose(run(ember), run(torch), rtol=1e-9, atol=1e-11)


def test_wgan_gp_critic_as_written_for_torch(torch):
    """The canonical gradient penalty: a leaky-ReLU critic, interpolates between real and fake,
    ((‖∇D(x̂)‖₂ − 1)²).mean() with grad.norm(2, dim=1): the critic's gradients equal torch's."""
    rng = np.random.default_rng(3)
    real, fake = rng.standard_normal((8, 5)), rng.standard_normal((8, 5))
    eps = rng.uniform(size=(8, 1))
    weights = [rng.standard_normal(s) * 0.5 for s in [(16, 5), (16,), (1, 16), (1,)]]

    def run(lib):
        critic = lib.nn.Sequential(
            lib.nn.Linear(5, 16), lib.nn.LeakyReLU(0.2), lib.nn.Linear(16, 1)
        ).double()
        for p, w in zip(critic.parameters(), weights):
            p.data.copy_(lib.tensor(w))
        x_hat = lib.tensor(eps) * lib.tensor(real) + (1 - lib.tensor(eps)) * lib.tensor(fake)
        x_hat.requires_grad_(True)
        out = critic(x_hat)
        (grad,) = lib.autograd.grad(
            out, x_hat, grad_outputs=lib.ones_like(out), create_graph=True, retain_graph=True
        )
        penalty = ((grad.norm(2, dim=1) - 1) ** 2).mean()
        loss = critic(lib.tensor(fake)).mean() - critic(lib.tensor(real)).mean() + 10 * penalty
        loss.backward()
        return [p.grad.numpy() for p in critic.parameters()]

    for e, t in zip(run(ember), run(torch)):
        np.testing.assert_allclose(e, t, rtol=1e-10, atol=1e-12)
