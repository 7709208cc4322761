"""Second derivatives of the piecewise activation ops (autograd_higher_activations.py) against
torch: the first gradient (create_graph=True) and a Hessian-vector product through it, float64,
to 1e-10, on inputs that reach every branch (away from the kinks themselves); PReLU in both of
its inputs; a third derivative through the smooth rules."""

import numpy as np
import pytest

import ember

X = np.array([[0.3, -1.2, 0.8, 0.55], [2.0, -0.4, 0.9, -0.15], [-0.7, 1.1, 0.05, -1.6]])
V = np.linspace(-1.0, 1.0, X.size).reshape(X.shape)


def F(lib):
    return lib.nn.functional


def _hardsigmoid(lib, x):
    """torch has no derivative of hardsigmoid_backward: its definition, clamp(x + 3, 0, 6)/6,
    stands in for it there (the same derivative away from ±3)."""
    if lib is ember:
        return F(lib).hardsigmoid(x)
    return (x + 3.0).clamp(0.0, 6.0) / 6.0


# each reaches both (all) branches of its op on X: scaled so that the kinks fall between entries
CASES = {
    "hardtanh": lambda lib, x: F(lib).hardtanh(x * 2.0, -1.5, 2.0) * x,
    "relu6": lambda lib, x: F(lib).relu6(x * 4.0) * x,
    "hardsigmoid": lambda lib, x: _hardsigmoid(lib, x * 3.0) * x,
    "hardswish": lambda lib, x: F(lib).hardswish(x * 3.0) + F(lib).hardswish(x) * x,
    "softplus": lambda lib, x: F(lib).softplus(x * 3.0) * x,
    "softplus_beta_threshold": lambda lib, x: F(lib).softplus(x * 8.0, beta=2.0, threshold=5.0),
    "softplus_small_beta": lambda lib, x: F(lib).softplus(x * 20.0, beta=0.5, threshold=4.0),
    "mish": lambda lib, x: F(lib).mish(x * 5.0) + F(lib).mish(x) * x,
    "mish_large": lambda lib, x: F(lib).mish(x * 15.0),  # beyond softplus's threshold 20
    "threshold": lambda lib, x: F(lib).threshold(x, 0.1, 2.0) * x,
    "hardshrink": lambda lib, x: F(lib).hardshrink(x, 0.5) * x,
    "softshrink": lambda lib, x: F(lib).softshrink(x, 0.5) ** 2,
    "inplace": lambda lib, x: F(lib).hardswish(x * 3.0, inplace=True) * x,
}


def _grad_and_hvp(lib, f, arrays):
    ts = [lib.tensor(a, requires_grad=True) for a in arrays]
    gs = lib.autograd.grad(f(lib, *ts).sum(), ts, create_graph=True)
    inner = sum((g * lib.tensor(np.linspace(-1.0, 1.0, g.numel()).reshape(g.shape))).sum()
                for g in gs)  # fmt: skip
    hvs = lib.autograd.grad(inner, ts)
    return [g.detach().numpy() for g in gs], [h.numpy() for h in hvs]


@pytest.mark.parametrize("name", list(CASES))
def test_gradient_and_hessian_vector_product_match_torch(torch, name):
    (g_e, hv_e), (g_t, hv_t) = (_grad_and_hvp(lib, CASES[name], [X]) for lib in (ember, torch))
    np.testing.assert_allclose(g_e[0], g_t[0], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(hv_e[0], hv_t[0], rtol=1e-10, atol=1e-12)
    assert np.any(hv_t[0] != 0), "a case whose second derivative is all 0 tests nothing"


@pytest.mark.parametrize(
    "xshape, w",
    [((3, 4), [0.25]), ((3, 4), [0.25, -0.5, 1.5, 0.1]), ((2, 3, 2), [0.3, -0.7, 1.4]),
     ((12,), [-0.2])],
)  # fmt: skip
def test_prelu_second_derivatives_in_x_and_the_weight(torch, xshape, w):
    """∂²/∂x∂a is g where x ≤ 0: the HVP mixes the two inputs, so both rules are checked."""
    x, w = X.reshape(xshape), np.array(w)

    def f(lib, x, a):
        return F(lib).prelu(x, a) * x + F(lib).prelu(x * x, a) * a.sum()

    (g_e, hv_e), (g_t, hv_t) = (_grad_and_hvp(lib, f, [x, w]) for lib in (ember, torch))
    for e, t in zip(g_e + hv_e, g_t + hv_t):
        assert e.shape == t.shape
        np.testing.assert_allclose(e, t, rtol=1e-10, atol=1e-12)
    assert all(np.any(h != 0) for h in hv_t)


def test_third_derivatives_through_the_smooth_rules(torch):
    """The Softplus, Mish and Hardswish rules are themselves recorded: differentiate thrice."""

    def run(lib):
        x = lib.tensor(X, requires_grad=True)
        y = (F(lib).softplus(x * 2.0, beta=1.5) + F(lib).mish(x * 3.0)).sum()
        y = y + (F(lib).hardswish(x * 3.0) * x * x).sum()
        (g,) = lib.autograd.grad(y, x, create_graph=True)
        (h,) = lib.autograd.grad((g * g).sum(), x, create_graph=True)
        (t,) = lib.autograd.grad(h.sum(), x)
        return t.numpy()

    np.testing.assert_allclose(run(ember), run(torch), rtol=1e-9, atol=1e-11)


def test_softsign_angle_and_nextafter_differentiate_twice_as_torch(torch):
    """softsign's second derivative −2·sgn(x)/d³; angle and nextafter are flat and the
    identity (torch's nextafter gradient: 1 for input, 0 for other)."""
    x = np.array([-3.0, -0.5, 0.25, 2.0])
    other = np.array([0.0, -1.0, 1.0, 5.0])
    results = []
    for lib in (ember, torch):
        xt = lib.tensor(x, requires_grad=True)
        ot = lib.tensor(other, requires_grad=True)
        f = lib.nn.functional.softsign(xt) ** 2 + xt.angle() + lib.nextafter(xt, ot) * xt
        gx, go = lib.autograd.grad(f.sum(), [xt, ot], create_graph=True)
        (h,) = lib.autograd.grad(gx.sum(), xt)
        results.append([a.detach().numpy() for a in (f, gx, go, h)])
    for e, t in zip(*results):
        np.testing.assert_allclose(e, t, rtol=1e-12)
