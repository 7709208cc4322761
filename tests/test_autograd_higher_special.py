"""Second derivatives of the ops in autograd_higher_special.py and autograd_higher_special2.py
against torch, float64: the first gradients (create_graph=True) and the gradient of the
penalty Σg² through them, to 1e-10; a third order for the ops whose rules call themselves;
sinc's second derivative at 0; cumprod with zeros."""

import math

import numpy as np
import pytest

import ember

X = np.array([[0.3, -1.2, 0.8, 0.55], [2.0, -0.4, 0.9, -0.15], [-0.7, 1.1, 0.05, -1.6]])
A = np.array([[0.5, 1.5, 2.5, 3.0], [1.0, 0.7, 4.0, 2.0], [3.5, 0.9, 1.2, 0.6]])
ZEROED = np.array([[1.0, 0.0, 1.0, 1.0], [1.0, 1.0, 1.0, 1.0], [0.0, 1.0, 0.0, 1.0]])
MASK = np.array([[True, False, True, True], [False, False, True, False], [True, True, False, True]])
TARGET = np.array([[1.0, 0.0, 1.0, 1.0], [0.0, 0.0, 1.0, 0.0], [1.0, 1.0, 0.0, 1.0]])
rng = np.random.default_rng(7)
VOLUME = rng.permutation(2 * 2 * 4 * 5 * 4).reshape(2, 2, 4, 5, 4) / 80.0 - 1.0  # no ties
KERNEL = rng.standard_normal((4, 1, 2, 3, 2)) * 0.3
IMAGE = rng.permutation(2 * 2 * 4 * 5).reshape(2, 2, 4, 5) / 20.0 - 1.0
GRID = rng.uniform(-1.15, 1.15, (2, 3, 3, 2))  # some points outside: the padding modes


def F(lib):
    return lib.nn.functional


def _i(lib, *values):
    return lib.tensor(np.array(values, dtype=np.int64))


def _setitem(lib, x):
    y = x * 1.0
    y[_i(lib, 0, 2)] = x[:2] ** 2
    y[1, 1:3] = x[0, :2] * x[2, 2:]
    y[lib.tensor(MASK & (X > 0))] = 0.5
    return y**3


def _scatter_reduce(lib, x):
    index = _i(lib, [0, 1, 2, 0], [2, 2, 0, 1])
    src = x[:2] * x[1:] + 0.5
    out = 0.0
    for reduce in ("sum", "mean", "amax", "amin", "prod"):
        for include_self in (True, False):
            y = (x + 2.0).scatter_reduce(0, index, src, reduce, include_self=include_self)
            out = out + (y * y * x).sum()
    return out


def _cdist_inf(lib, x):
    other = x * x * 0.5 - 0.2
    if lib is ember:
        return lib.cdist(x, other, p=float("inf")) ** 2
    return (x.unsqueeze(-2) - other.unsqueeze(-3)).abs().amax(-1) ** 2  # no ties here


CASES = {
    "digamma": lambda lib, x: (x.abs() + 0.5).digamma() * x,
    "polygamma": lambda lib, x: (
        lib.polygamma(1, x.abs() + 0.5) * x
        + lib.polygamma(2, x * x + 1.0)
        + lib.polygamma(0, x + 2.0)
    ),
    "logit": lambda lib, x: x.sigmoid().logit() * x + (x * 0.4 + 0.5).logit(eps=0.2) ** 2,
    "sinc": lambda lib, x: (x * 1.3).sinc() * x,
    "i0": lambda lib, x: lib.i0(x) * x,
    "igamma": lambda lib, x: (
        lib.igamma(lib.tensor(A), x.abs() + 0.1) + lib.igammac(lib.tensor(A), x * x + 0.2) * x
    ),
    "ndtri_log_ndtr": lambda lib, x: (
        lib.special.ndtri(x.sigmoid()) * x + lib.special.log_ndtr(x * 2.0)
    ),
    "xlog1py_entr": lambda lib, x: (
        lib.special.xlog1py(x, x * x) + lib.special.entr(x.abs() + 0.1) * x
    ),
    "remainder_fmod": lambda lib, x: (
        lib.remainder(x * x, x.abs() * 0.3 + 0.2) * x + lib.fmod(x**3, x * x + 0.25) ** 2
    ),
    "rounding_div": lambda lib, x: (
        lib.div(x, 0.3, rounding_mode="floor") * x**2
        + lib.div(x * x, x.abs() + 0.5, rounding_mode="trunc") * x
    ),
    "frexp": lambda lib, x: lib.frexp(x * 3.0)[0] ** 2 * x,
    "bernoulli_softplus": lambda lib, x: (
        lib.distributions.Bernoulli(logits=x).log_prob(lib.tensor(TARGET))
        + lib.distributions.Bernoulli(logits=x * x).entropy()
    ),
    "cumprod": lambda lib, x: x.cumprod(1) * x + (x * 0.5 + 1.0).cumprod(0) ** 2,
    "cumprod_with_zeros": lambda lib, x: (
        (x * lib.tensor(ZEROED)).cumprod(1) * x + (x * lib.tensor(ZEROED) + 0.5).cumprod(0) ** 2
    ),
    "logcumsumexp": lambda lib, x: x.logcumsumexp(1) ** 2 + x.logcumsumexp(0) * x,
    "median": lambda lib, x: x.median() * x + x.nanmedian() ** 2,
    "cdist_inf": _cdist_inf,
    "vector_norm_negative": lambda lib, x: (
        lib.linalg.vector_norm(x, ord=-1.5, dim=1, keepdim=True) ** 2
        + lib.linalg.vector_norm(x, ord=-2.0) * x
    ),
    "array_and_mask_index": lambda lib, x: (
        (x[_i(lib, 0, 2, 0)] ** 3).sum()
        + (x[:, _i(lib, 3, 1)] * x[:, :2]).sum()
        + (x[lib.tensor(MASK)] ** 2).sum()
        + (x[_i(lib, 2, 0), _i(lib, 1, 1)] ** 3).sum()
    ),
    "take_diagonal_trace": lambda lib, x: (
        (x.take(_i(lib, 0, 5, 11, 5)) ** 3).sum()
        + (x[:, :3].diagonal() ** 2 * x[0, :3]).sum()
        + x[:, 1:].trace() * x
    ),
    "setitem": _setitem,
    "index_put": lambda lib, x: (
        x.index_put((_i(lib, 0, 2),), x[1] ** 2) ** 2
        + x.index_put((_i(lib, 1, 1), _i(lib, 3, 3)), x[0, :1] * 3.0, accumulate=True) ** 3
    ),
    "masked_select_scatter": lambda lib, x: (
        (x.masked_select(lib.tensor(MASK)) ** 3).sum()
        + (x.masked_scatter(lib.tensor(MASK), x * x + 1.0) ** 2).sum()
    ),
    "index_add_copy_fill": lambda lib, x: (
        x.index_add(0, _i(lib, 2, 0, 2), x * x, alpha=0.5) ** 2
        + x.index_copy(1, _i(lib, 3, 0), x[:, 1:3] ** 2) ** 2
        + x.index_fill(1, _i(lib, 1, 2), 0.3) ** 3
    ),
    "scatter_reduce": _scatter_reduce,
    "unfold_windows": lambda lib, x: (
        (x.unfold(1, 2, 1) ** 3).sum() + (x.unfold(0, 2, 1) ** 2).sum()
    ),
}


# torch's trigamma ψ⁽¹⁾ is accurate to ~5e-10 (relative); ember's digamma differentiates with
# SciPy's in first-order backward (the rule, with torch's values, through polygamma(1, x))
RTOL = {"digamma": 1e-8, "polygamma": 1e-8}


@pytest.mark.parametrize("name", list(CASES))
def test_gradient_and_penalty_gradient_match_torch(torch, name):
    f = CASES[name]
    rtol = RTOL.get(name, 1e-10)

    def run(lib):
        x = lib.tensor(X, requires_grad=True)
        (g,) = lib.autograd.grad(f(lib, x).sum(), x, create_graph=True)
        (g * g).sum().backward()
        return g.detach().numpy(), x.grad.numpy()

    (g_e, p_e), (g_t, p_t) = run(ember), run(torch)
    np.testing.assert_allclose(g_e, g_t, rtol=rtol, atol=1e-12)
    np.testing.assert_allclose(p_e, p_t, rtol=rtol, atol=1e-12)


def _lce(lib, x, w, b):
    t = _i(lib, 0, 4, 2, -100, 1)
    cw = lib.tensor(np.array([1.0, 0.5, 2.0, 1.5, 0.7]))
    if lib is ember:
        options = ember.nn.LinearCrossEntropyOptions(batch_chunk_size=2, chunking_method=None)
        return F(lib).linear_cross_entropy(x, w, t, linear_bias=b, weight=cw,
                                           label_smoothing=0.1, options=options)  # fmt: skip
    return F(lib).cross_entropy(F(lib).linear(x, w, b), t, weight=cw, label_smoothing=0.1)


# several inputs: (arrays, f(lib, *tensors))
MULTI = {
    "max_pool3d": (
        [VOLUME],
        lambda lib, v: (
            (F(lib).max_pool3d(v, 2, stride=2, padding=1) ** 2).sum()
            + (
                F(lib).max_pool3d(
                    v * v, (2, 3, 2), stride=1, dilation=(1, 1, 2), return_indices=True
                )[0]
                ** 3
            ).sum()
        ),
    ),
    "avg_pool3d": (
        [VOLUME],
        lambda lib, v: (
            (F(lib).avg_pool3d(v, 3, stride=2, padding=1, count_include_pad=False) ** 2).sum()
            + (F(lib).avg_pool3d(v * v, 2, ceil_mode=True, divisor_override=3) ** 3).sum()
        ),
    ),
    "conv3d": (
        [VOLUME, KERNEL, np.array([0.1, -0.2, 0.3, 0.05])],
        lambda lib, v, w, b: (
            (F(lib).conv3d(v * v, w, b, stride=(1, 2, 1), padding=(1, 0, 1), groups=2) ** 2).sum()
            + (
                F(lib).conv3d(v, lib.tensor(KERNEL[:2].reshape(1, 2, 2, 3, 2)), dilation=(2, 1, 1))
                ** 3
            ).sum()
            + (F(lib).conv3d(lib.tensor(VOLUME), w * w, padding=1, groups=2) ** 2).sum()
        ),
    ),
    "max_pool2d_indices_unpool": ([IMAGE], lambda lib, v: _pool_unpool(lib, v)),
    "grid_sample": ([IMAGE, GRID], lambda lib, v, grid: _grid_sample(lib, v, grid)),
    "linear_cross_entropy_chunked": (
        [
            np.tile(X[:, :3], (2, 1))[:5],
            np.tile(A[:, :3], (2, 1))[:5] * 0.3,
            np.linspace(-0.2, 0.3, 5),
        ],
        lambda lib, x, w, b: _lce(lib, x * x, w, b) * 3.0,
    ),
}


def _grid_sample(lib, v, grid):
    out = 0.0
    for padding_mode in ("zeros", "border", "reflection"):
        for align_corners in (True, False):
            kw = {"padding_mode": padding_mode, "align_corners": align_corners}
            y = F(lib).grid_sample(v * v, grid * (grid.abs() + 0.5), **kw)
            out = (
                out + (y**3).sum() + (F(lib).grid_sample(lib.tensor(IMAGE), grid, **kw) ** 2).sum()
            )
    y = F(lib).grid_sample(v, grid, mode="nearest", align_corners=False)
    return out + (y**3).sum()


def _pool_unpool(lib, v):
    y, idx = F(lib).max_pool2d(v, 2, stride=(1, 2), padding=(1, 0), return_indices=True)
    z = F(lib).max_unpool2d(y * y, idx, 2, stride=(1, 2), padding=(1, 0), output_size=(4, 5))
    y1, _ = F(lib).max_pool1d(v[:, :, 1] * v[:, :, 2], 2, return_indices=True)
    return (y**3).sum() + (z * v).sum() + (y1**2).sum()


@pytest.mark.parametrize("name", list(MULTI))
def test_several_inputs_gradient_and_penalty_gradient_match_torch(torch, name):
    arrays, f = MULTI[name]

    def run(lib):
        ins = [lib.tensor(a, requires_grad=True) for a in arrays]
        gs = lib.autograd.grad(f(lib, *ins), ins, create_graph=True)
        sum((g * g).sum() for g in gs).backward()
        return [g.detach().numpy() for g in gs] + [t.grad.numpy() for t in ins]

    for got, want in zip(run(ember), run(torch)):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


THIRD = {
    "digamma_polygamma": lambda lib, x: (x * x + 0.5).digamma() + lib.polygamma(1, x.abs() + 1),
    "i0": lambda lib, x: lib.i0(x) * x,
    "cumprod_with_zeros": lambda lib, x: (x * lib.tensor(ZEROED)).cumprod(1) * x,
    "index_and_setitem": _setitem,
}


@pytest.mark.parametrize("name", list(THIRD))
def test_third_derivatives_match_torch(torch, name):
    """g₁ = ∇f, g₂ = ∇Σg₁² (both recorded), then ∇Σg₂²: the rules' own rules."""
    f = THIRD[name]

    def run(lib):
        x = lib.tensor(X, requires_grad=True)
        (g1,) = lib.autograd.grad(f(lib, x).sum(), x, create_graph=True)
        (g2,) = lib.autograd.grad((g1 * g1).sum(), x, create_graph=True)
        (g2 * g2).sum().backward()
        return g2.detach().numpy(), x.grad.numpy()

    for got, want in zip(run(ember), run(torch)):
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-11)


def test_logcumsumexp_third_derivative_matches_finite_differences(torch):
    """∇Σ(∇Σ(∇f)²)² for f = Σ x·logcumsumexp(x): against central differences of torch's second
    derivative (torch's own third derivative here is nan in places and off elsewhere)."""

    def second(lib, x0, create):
        x = lib.tensor(x0, requires_grad=True)
        (g1,) = lib.autograd.grad((x.logcumsumexp(1) * x).sum(), x, create_graph=True)
        (g2,) = lib.autograd.grad((g1 * g1).sum(), x, create_graph=create)
        return x, g2

    x, g2 = second(ember, X, True)
    (g2 * g2).sum().backward()
    fd, eps = np.zeros_like(X), 1e-6
    for i in np.ndindex(X.shape):
        d = np.zeros_like(X)
        d[i] = eps
        up, down = (second(torch, X + s * d, False)[1].numpy() for s in (1, -1))
        fd[i] = ((up**2).sum() - (down**2).sum()) / (2 * eps)
    np.testing.assert_allclose(x.grad.numpy(), fd, rtol=1e-6)


def test_sinc_has_its_true_second_derivative_at_zero(torch):
    """sinc''(0) = −π²/3 (torch's masked formula gives nan there); elsewhere torch's."""
    x = ember.tensor(np.array([0.0, 0.4, -1.3]), requires_grad=True)
    (g,) = ember.autograd.grad(x.sinc().sum(), x, create_graph=True)
    (h,) = ember.autograd.grad(g.sum(), x)
    xt = torch.tensor([0.4, -1.3], dtype=torch.float64, requires_grad=True)
    (gt,) = torch.autograd.grad(xt.sinc().sum(), xt, create_graph=True)
    (ht,) = torch.autograd.grad(gt.sum(), xt)
    np.testing.assert_allclose(g.detach().numpy(), [0.0, *gt.detach().numpy()], atol=1e-15)
    np.testing.assert_allclose(h.numpy(), [-(math.pi**2) / 3, *ht.numpy()], rtol=1e-12)


def test_cumprod_with_zeros_has_the_exact_hessian():
    """One and two zeros in a row: the Hessian of Σ cumprod by central differences of the
    (exact, first-order) gradient."""
    x0 = np.array([[0.5, 0.0, 1.5, -2.0], [0.0, 2.0, 0.0, 3.0], [1.2, -0.7, 0.9, 1.1]])
    v = np.linspace(-1.0, 1.0, x0.size).reshape(x0.shape)
    x = ember.tensor(x0, requires_grad=True)
    (g,) = ember.autograd.grad((x.cumprod(1) ** 2).sum(), x, create_graph=True)
    (hv,) = ember.autograd.grad(g, x, grad_outputs=ember.tensor(v))

    def grad_at(a):
        t = ember.tensor(a, requires_grad=True)
        (t.cumprod(1) ** 2).sum().backward()
        return t.grad.numpy()

    eps = 1e-6  # cumprod is a polynomial: central differences are exact but for rounding
    fd = (grad_at(x0 + eps * v) - grad_at(x0 - eps * v)) / (2 * eps)
    np.testing.assert_allclose(hv.numpy(), fd, rtol=1e-6, atol=1e-8)


def test_igamma_refuses_a_derivative_in_a_as_torch():
    a = ember.tensor(A, requires_grad=True)
    x = ember.tensor(X * X + 0.1, requires_grad=True)
    with pytest.raises(NotImplementedError, match="derivative for 'igamma: input'"):
        ember.autograd.grad(ember.igamma(a, x).sum(), [a, x], create_graph=True)


def test_logcumsumexp_gradient_is_linear_in_a_gradient_with_zeros(torch):
    """Where g has zeros the rule sums Σ_k e^{x_i − y_k}·g_k as it stands: the log-space form
    drops log|g| at 0, and with it ∂/∂g there (forward mode's tangents are that derivative at
    g = 0). torch's own double backward gives NaN there, so the reference uses linearity in g:
    ∂/∂g does not depend on g, and ∂/∂x at g is torch's at g + h minus torch's at h."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((3, 5)) * 4
    g = np.array([[0.0, 1.5, 0.0, -2.0, 0.0], [0.0] * 5, [1.0, -1.0, 0.5, 0.0, 2.0]])
    h = rng.uniform(0.5, 1.0, (3, 5))  # g + h and h have no zeros
    w = rng.standard_normal((3, 5))

    def derivatives(lib, g):
        xt = lib.tensor(x, requires_grad=True)
        gt = lib.tensor(g, requires_grad=True)
        (gx,) = lib.autograd.grad(xt.logcumsumexp(1), xt, gt, create_graph=True)
        dg, dx = lib.autograd.grad((gx * lib.tensor(w)).sum(), [gt, xt])
        return [a.detach().numpy() for a in (gx, dg, dx)]

    gx, dg, dx = derivatives(ember, g)
    t_gx, t_dg, t_dx = derivatives(torch, g + h)
    _, _, t_dx_h = derivatives(torch, h)
    np.testing.assert_allclose(gx, t_gx - derivatives(torch, h)[0], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(dg, t_dg, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(dx, t_dx - t_dx_h, rtol=1e-9, atol=1e-12)
