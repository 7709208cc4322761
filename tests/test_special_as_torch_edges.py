"""Special functions where ember used to differ from torch 2.13 (found by fuzzing both side by
side): logit's clamp for eps > ½ and its gradient for a negative eps, multigammaln's bool p,
zeta and the orthogonal polynomials on shapes that do not broadcast, xlogy and xlog1py of two
numbers, I₀ of float16, the digamma's gradient at −∞, the incomplete gammas'
gradient at a = −∞, I₁'s and i1e's gradient at nan, and xlog1py's dtype for a number with a
0-d float16 tensor."""

import numpy as np
import pytest

import ember

NAN, INF = float("nan"), float("inf")


def _leaf(lib, values, dtype="float64"):
    return lib.tensor(np.asarray(values, dtype=dtype), requires_grad=True)


def _alike(e, t, rtol=1e-12):
    assert tuple(e.shape) == tuple(t.shape)
    assert str(e.dtype).split(".")[-1] == str(t.dtype).split(".")[-1]
    np.testing.assert_allclose(e.detach().numpy(), t.detach().numpy(), rtol=rtol, atol=0)


def _value_and_grad(lib, fn, values, dtype="float64"):
    x = _leaf(lib, values, dtype)
    y = fn(lib, x)
    (g,) = lib.autograd.grad(y, x, lib.ones_like(y))  # not y.sum(): ∞ − ∞ would warn
    return y, g


_LOGIT_X = [-0.05, 0.0, 0.3, 0.7, 1.0, 1.05, 3.0]


@pytest.mark.parametrize("eps", [0.6, 1.0])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_logit_with_eps_past_a_half_clamps_below_eps_to_eps(torch, eps, dtype):
    # torch's clamp: x < eps → eps, else x > 1 − eps → 1 − eps (NumPy's clip took 1 − eps)
    ye, _ = _value_and_grad(ember, lambda lib, x: x.logit(eps), _LOGIT_X, dtype)
    yt, _ = _value_and_grad(torch, lambda lib, x: x.logit(eps), _LOGIT_X, dtype)
    _alike(ye, yt, rtol=1e-6)


@pytest.mark.parametrize("spelling", ["method", "function", "special"])
def test_logit_with_a_negative_eps_is_logit_without_eps_gradient_too(torch, spelling):
    def fn(lib, x):
        if spelling == "method":
            return x.logit(-0.1)
        return (lib.logit if spelling == "function" else lib.special.logit)(x, eps=-0.1)

    ye, ge = _value_and_grad(ember, fn, _LOGIT_X)
    yt, gt = _value_and_grad(torch, fn, _LOGIT_X)
    _alike(ye, yt)
    _alike(ge, gt)  # nan outside [0, 1], as without eps (ember gave 1/(x(1 − x)) there)


def test_multigammaln_refuses_a_bool_p(refused_alike):
    # ember read True as p = 1 (a float p failed inside range(), TypeError by accident)
    refused_alike(
        lambda lib: [("p", lambda: lib.special.multigammaln(lib.tensor([3.0]), True))], 0, TypeError
    )


_NOT_BROADCASTING = ["zeta", "chebyshev_polynomial_t", "hermite_polynomial_h",
                     "legendre_polynomial_p", "shifted_chebyshev_polynomial_w"]  # fmt: skip


@pytest.mark.parametrize("name", _NOT_BROADCASTING)
@pytest.mark.parametrize("shapes", [((3,), (2, 4)), ((0,), (3,))])
def test_two_operand_special_functions_refuse_shapes_that_do_not_broadcast(
    refused_alike, name, shapes
):
    a, b = shapes
    refused_alike(
        lambda lib: [("shapes", lambda: getattr(lib.special, name)(lib.ones(a), lib.ones(b)))], 0
    )


def _two_numbers(lib):
    return [
        ("xlogy of ints", lambda: lib.xlogy(2, 3)),
        ("special.xlogy of floats", lambda: lib.special.xlogy(0.5, 2.0)),
        ("xlog1py of an int and a float", lambda: lib.special.xlog1py(3, 2.0)),
        ("xlog1py of a bool and a float", lambda: lib.special.xlog1py(True, 0.5)),
    ]


@pytest.mark.parametrize("k", range(4))
def test_xlogy_and_xlog1py_refuse_two_numbers(refused_alike, k):
    refused_alike(_two_numbers, k, TypeError)


def test_xlog1py_of_a_number_and_a_0d_float16_tensor_is_float16(torch):
    # the number is a weak scalar, as in xlogy (ember made it a float32 tensor)
    e = ember.special.xlog1py(-1.5, ember.tensor(3.0, dtype=ember.float16))
    t = torch.special.xlog1py(-1.5, torch.tensor(3.0, dtype=torch.float16))
    _alike(e, t, rtol=1e-3)


def test_i0_of_float16_computes_in_float32_and_rounds_once(torch):
    # I₀(13.08) ≈ 5.3·10⁴ fits float16; NumPy's series in float16 overflowed to inf
    v = [13.0776, 11.7, -11.0, 0.5, 15.3126]
    e = ember.i0(ember.tensor(v, dtype=ember.float16))
    t = torch.i0(torch.tensor(v, dtype=torch.float16))
    _alike(e, t, rtol=1e-3)


@pytest.mark.parametrize("spelling", ["digamma", "psi", "method"])
def test_digamma_gradient_at_minus_infinity_is_nan(torch, spelling):
    def fn(lib, x):
        if spelling == "method":
            return x.digamma()
        return getattr(lib.special, spelling)(x)

    # ψ′ has no limit at −∞ (a pole at every negative integer): nan as torch's, not SciPy's ∞;
    # elsewhere SciPy's exact trigamma, torch's series being good to ~5e-10 (ember's extension)
    v = [-INF, 0.3673, 1.9157, 7.25, -2.5]
    ye, ge = _value_and_grad(ember, fn, v)
    yt, gt = _value_and_grad(torch, fn, v)
    _alike(ye, yt)
    _alike(ge, gt, rtol=2e-9)


@pytest.mark.parametrize("name", ["igamma", "igammac"])
def test_incomplete_gamma_gradient_at_a_minus_infinity_is_zero(torch, name):
    grads = []
    for lib in (ember, torch):
        a = lib.tensor([-INF, 3.0, 0.0, -4.5], dtype=lib.float64)
        x = _leaf(lib, [1.2187] * 4)
        grads.append(lib.autograd.grad(getattr(a, name)(x).sum(), x)[0])
    _alike(*grads)  # log Γ(−∞) = +∞ as torch's lgamma: 0, not nan


@pytest.mark.parametrize("name", ["i1", "i1e"])
def test_i1_gradients_at_nan_take_torchs_half(torch, name):
    v = [NAN, 0.0, 1e-20, 2.0, -3.0]
    _, ge = _value_and_grad(ember, lambda lib, x: getattr(lib.special, name)(x), v)
    _, gt = _value_and_grad(torch, lambda lib, x: getattr(lib.special, name)(x), v)
    _alike(ge, gt)


_POLYNOMIALS = ["chebyshev_polynomial_t", "hermite_polynomial_he", "laguerre_polynomial_l",
                "legendre_polynomial_p", "shifted_chebyshev_polynomial_u"]  # fmt: skip


@pytest.mark.parametrize("name", _POLYNOMIALS)
def test_orthogonal_polynomials_take_torchs_keyword_names(torch, name):
    # torch's keywords are x and n (its docs say input): x= was ember's TypeError
    e = getattr(ember.special, name)(x=ember.tensor([0.3, -0.7, 2.0]), n=3)
    t = getattr(torch.special, name)(x=torch.tensor([0.3, -0.7, 2.0]), n=3)
    _alike(e, t, rtol=1e-6)


@pytest.mark.parametrize(
    "name",
    ["airy_ai", "spherical_bessel_j0", "scaled_modified_bessel_k0", "scaled_modified_bessel_k1"],
)
def test_bessel_functions_torch_names_x_take_x_by_keyword(torch, name):
    # these four are (x) in torch's parser, the rest of torch.special (input)
    e = getattr(ember.special, name)(x=ember.tensor([0.3, 2.0, 7.5]))
    t = getattr(torch.special, name)(x=torch.tensor([0.3, 2.0, 7.5]))
    _alike(e, t, rtol=1e-6)
    out = ember.empty(3)
    assert getattr(ember.special, name)(x=ember.tensor([0.3, 2.0, 7.5]), out=out) is out


def test_special_round_takes_decimals_by_keyword_only(refused_alike):
    refused_alike(
        lambda lib: [("positional", lambda: lib.special.round(lib.ones(2), 1))], 0, TypeError
    )


_GAMMA_EDGES = [(NAN, 0.0), (NAN, INF), (INF, NAN), (NAN, 2.0), (0.0, NAN), (0.0, 1.0),
                (2.0, 0.0), (INF, 3.0), (INF, INF), (3.0, INF), (-1.0, NAN), (NAN, -1.0),
                (2.5, 1.5)]  # fmt: skip


@pytest.mark.parametrize("name", ["igamma", "igammac", "gammainc", "gammaincc"])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_incomplete_gammas_answer_torchs_edges(torch, name, dtype):
    # torch's branches, first match wins: P(nan, 0) = 0, P(nan, ∞) = 1, P(∞, nan) = 0 (SciPy: nan)
    a, x = (np.asarray(v, dtype=dtype) for v in zip(*_GAMMA_EDGES))
    fe = getattr(ember.special, name) if name.startswith("gamma") else getattr(ember, name)
    ft = getattr(torch.special, name) if name.startswith("gamma") else getattr(torch, name)
    _alike(fe(ember.tensor(a), ember.tensor(x)), ft(torch.tensor(a), torch.tensor(x)), rtol=1e-6)


def _int_arguments(lib):
    x = lib.tensor([0.2, 0.7])
    return [
        ("polygamma n a 0-d int tensor", lambda: lib.polygamma(lib.tensor(1), x)),
        ("special.polygamma n a 0-d int tensor", lambda: lib.special.polygamma(lib.tensor(2), x)),
        ("Tensor.polygamma n a 0-d int tensor", lambda: x.polygamma(lib.tensor(1))),
        ("mvlgamma p a 0-d int tensor", lambda: lib.mvlgamma(x + 3, lib.tensor(2))),
        ("multigammaln p a 0-d int tensor", lambda: lib.special.multigammaln(x + 3, lib.tensor(2))),
    ]


@pytest.mark.parametrize("k", range(5))
def test_int_arguments_take_a_0d_integer_tensor(torch, k):
    # torch's parser reads a 0-d integer tensor as an int (ember refused it, TypeError)
    (_, e), (_, t) = _int_arguments(ember)[k], _int_arguments(torch)[k]
    _alike(e(), t(), rtol=1e-6)


def _bad_decimals(lib):
    x = lib.tensor([0.26, 0.71])
    return [
        ("float decimals", lambda: x.round(decimals=1.0)),
        ("bool decimals", lambda: lib.round(x, decimals=True)),
        ("special.round float decimals", lambda: lib.special.round(x, decimals=2.0)),
        ("float decimals of an int tensor", lambda: lib.tensor([1, 2]).round(decimals=1.0)),
    ]


@pytest.mark.parametrize("k", range(4))
def test_round_refuses_decimals_that_are_not_ints(refused_alike, k):
    refused_alike(_bad_decimals, k, TypeError)  # ember took int(1.0)


def _half_bessel_gradients(lib):
    def grad(name, create_graph=False):
        x = lib.tensor([0.5, 2.0], dtype=lib.float16, requires_grad=True)
        y = getattr(lib.special, name)(x)
        return lambda: lib.autograd.grad(y.sum(), x, create_graph=create_graph)

    return [
        ("i1", grad("i1")),
        ("i1e", grad("i1e")),
        ("i1 double backward", grad("i1", True)),
        ("i1e double backward", grad("i1e", True)),
    ]


@pytest.mark.parametrize("k", range(4))
def test_i1_and_i1e_gradients_of_float16_are_refused(refused_alike, k):
    # torch's i1_backward and i1e_backward have no Half kernel (the values themselves are fine)
    refused_alike(_half_bessel_gradients, k, NotImplementedError)


def _quiet_cases(lib):
    def grad(fn, values, dtype="float64"):
        def run():
            x = _leaf(lib, values, dtype)
            lib.autograd.grad(fn(x).sum(), x)

        return run

    return [
        ("logit at 0 and outside", grad(lambda x: lib.logit(x), [0.0, -1.0, 0.5])),
        ("logit with eps at 0 and 1", grad(lambda x: x.logit(0.1), [0.0, 1.0, 0.5])),
        ("erf's slope past 1e154", grad(lambda x: lib.special.erf(x), [1e300, -1e200, 0.5])),
        ("erfc's slope past 1e154", grad(lambda x: lib.special.erfc(x), [1e300, 0.5])),
        ("sinc at ±∞", grad(lambda x: lib.special.sinc(x), [INF, -INF, 0.0, 0.5])),
        ("digamma's float32 slope", grad(lambda x: lib.special.digamma(x), [1e-30], "float32")),
        ("xlogy's slope at 0", grad(lambda x: lib.special.xlogy(2.0, x), [0.0, 1.0])),
        ("log_ndtr's slope at -∞", grad(lambda x: lib.special.log_ndtr(x), [-INF, -40.0, 0.5])),
        ("i1's slope at ±∞", grad(lambda x: lib.special.i1(x), [INF, 0.5])),
    ]


@pytest.mark.parametrize("k", range(9))
def test_special_functions_answer_their_edges_without_numpy_warnings(torch, k):
    # ±∞, nan and overflow are the answers there; torch gives them silently
    import warnings

    for lib in (torch, ember):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            _quiet_cases(lib)[k][1]()


def test_special_logsumexp_needs_a_dim(refused_alike):
    # dim=None is torch's TypeError, as ember.logsumexp's (special's took it as every dim)
    refused_alike(
        lambda lib: [("dim None", lambda: lib.special.logsumexp(lib.ones(3), None))], 0, TypeError
    )
