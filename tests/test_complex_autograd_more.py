"""More complex autograd (ops/complex.py): cumsum, cumprod, prod (all, over a dim, with zeros),
sigmoid (its complex forward 1/(1 + e^{−z})), l1_loss, and conv1d/conv2d with complex input
and weight on every convolution algorithm; gradcheck in complex128 and against torch in
complex64 and complex128, as tests/test_complex_autograd.py; torch's refusal of complex
mse_loss."""

import numpy as np
import pytest

import ember
import ember.nn.functional as F
import ember.ops.conv as CV
from tests.test_complex_autograd import _inputs, against_torch, cplx

TOL = {np.complex64: 5e-5, np.complex128: 1e-12}


def _fn(lib):
    return F if lib is ember else lib.nn.functional


def _with_zero(r):
    a = cplx(r, 3, 4)
    a[1, 2] = 0
    return a


_A = lambda r: cplx(r, 3, 4)  # noqa: E731
CASES = {
    "cumsum_1": (lambda lib, a: a.cumsum(1), [_A]),
    "cumsum_0": (lambda lib, a: lib.cumsum(a, dim=0) * a, [_A]),
    "cumsum_neg": (lambda lib, a: a.cumsum(-1).cumsum(0), [_A]),
    "cumprod": (lambda lib, a: a.cumprod(1), [_A]),
    "cumprod_zero": (lambda lib, a: a.cumprod(1), [_with_zero]),
    "prod_all": (lambda lib, a: a.prod(), [_A]),
    "prod_dim": (lambda lib, a: a.prod(1), [_A]),
    "prod_dim_keepdim": (lambda lib, a: lib.prod(a, 0, keepdim=True) * a, [_A]),
    "prod_zero": (lambda lib, a: a.prod(1), [_with_zero]),
    "prod_all_zero": (lambda lib, a: a.prod(), [_with_zero]),
    "sigmoid": (lambda lib, a: a.sigmoid(), [_A]),
    "sigmoid_fn": (lambda lib, a: lib.sigmoid(a * 2) * _fn(lib).sigmoid(a), [_A]),
    "l1_loss": (lambda lib, a, b: _fn(lib).l1_loss(a, b), [_A, _A]),
    "conv1d": (lambda lib, x, w, b: _fn(lib).conv1d(x, w, b, padding=1),
               [lambda r: cplx(r, 2, 3, 7), lambda r: cplx(r, 4, 3, 3), lambda r: cplx(r, 4)]),
    "conv1d_stride_dil_groups": (lambda lib, x, w: _fn(lib).conv1d(x, w, stride=2, dilation=2,
                                                                   groups=3),
                                 [lambda r: cplx(r, 2, 3, 11), lambda r: cplx(r, 6, 1, 3)]),
    "conv1d_real_input_cast": (lambda lib, x, w: _fn(lib).conv1d(x.to(w.dtype), w),
                               [lambda r: r.standard_normal((2, 3, 7)),
                                lambda r: cplx(r, 4, 3, 3)]),
    "conv2d": (lambda lib, x, w, b: _fn(lib).conv2d(x, w, b, padding=1),
               [lambda r: cplx(r, 2, 3, 5, 6), lambda r: cplx(r, 4, 3, 3, 3),
                lambda r: cplx(r, 4)]),
    "conv2d_stride_groups": (lambda lib, x, w: _fn(lib).conv2d(x, w, stride=2, groups=2,
                                                               padding=(1, 0)),
                             [lambda r: cplx(r, 2, 4, 7, 6), lambda r: cplx(r, 6, 2, 3, 2)]),
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(CASES))
def test_gradcheck_complex128(name):
    f, makers = CASES[name]
    xs = [ember.tensor(a, requires_grad=True) for a in _inputs(makers, np.complex128)]
    assert ember.gradcheck(lambda *t: f(ember, *t), xs)


@pytest.mark.parametrize("cdtype", [np.complex64, np.complex128])
@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_torch(torch, name, cdtype):
    f, makers = CASES[name]
    against_torch(torch, f, _inputs(makers, cdtype), TOL[cdtype])


# (x shape, W shape, kwargs): each picks a different algorithm under "auto", and every
# policy runs every case (Winograd where it fits: 3×3, stride 1, pad 1, no groups)
CONV = [
    ((2, 3, 9, 9), (4, 3, 3, 3), {"padding": 1}),
    ((2, 64, 10, 10), (64, 64, 3, 3), {"padding": 1}),  # Winograd under "auto"
    ((2, 40, 7, 7), (8, 40, 3, 3), {"padding": 1}),  # shifted GEMMs under "auto"
    ((2, 4, 9, 9), (6, 2, 3, 3), {"stride": 2, "groups": 2}),
    ((2, 4, 9, 9), (6, 4, 2, 3), {"dilation": 2, "padding": (1, 2)}),
]


@pytest.mark.parametrize("policy", ["auto", "im2col", "shifted", "winograd", "blocked"])
@pytest.mark.parametrize("cdtype", [np.complex64, np.complex128])
@pytest.mark.parametrize("case", range(len(CONV)))
def test_conv2d_every_algorithm_matches_torch(torch, monkeypatch, case, cdtype, policy):
    xs, ws, kw = CONV[case]
    monkeypatch.setattr(CV, "POLICY", policy)
    rng = np.random.default_rng(case)
    arrays = [cplx(rng, *xs).astype(cdtype), (0.2 * cplx(rng, *ws)).astype(cdtype),
              cplx(rng, ws[0]).astype(cdtype)]  # fmt: skip
    tol = {np.complex64: 2e-5, np.complex128: 1e-12}[cdtype]  # relative to the largest value
    against_torch(torch, lambda lib, x, w, b: _fn(lib).conv2d(x, w, b, **kw), arrays, tol)


@pytest.mark.parametrize("policy", ["winograd", "shifted"])
def test_conv2d_fast_paths_gradcheck(monkeypatch, policy):
    monkeypatch.setattr(CV, "POLICY", policy)
    rng = np.random.default_rng(1)
    x = ember.tensor(cplx(rng, 1, 2, 4, 4), requires_grad=True)
    w = ember.tensor(cplx(rng, 2, 2, 3, 3), requires_grad=True)
    assert ember.gradcheck(lambda x, w: F.conv2d(x, w, padding=1), (x, w))


def test_sigmoid_forward_matches_torch_and_real_path_unchanged(torch):
    rng = np.random.default_rng(2)
    z = cplx(rng, 50)
    np.testing.assert_allclose(ember.tensor(z).sigmoid().numpy(),
                               torch.tensor(z).sigmoid().numpy(), rtol=1e-13)  # fmt: skip
    x = rng.standard_normal(50).astype(np.float32) * 30
    from scipy.special import expit

    np.testing.assert_array_equal(ember.tensor(x).sigmoid().numpy(), expit(x))


def test_complex_mse_loss_is_refused_as_torch(torch):
    z = np.array([1 + 1j, 2 - 1j])
    for lib in (ember, torch):
        for a, b in ((z, z * 2), (z.real, z), (z.astype(np.complex64), z.real.astype(np.float32))):
            name = "ComplexFloat" if np.result_type(a, b) == np.complex64 else "ComplexDouble"
            with pytest.raises(
                NotImplementedError, match=f"mse_cpu.* not implemented for '{name}'"
            ):
                _fn(lib).mse_loss(lib.tensor(a), lib.tensor(b))
