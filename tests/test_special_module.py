"""ember.special against torch.special: values and gradients in float64, tails included."""

import numpy as np
import pytest

import ember
import ember.special as S
from tests.core_reference import compare_with_torch

X = np.array([-40.0, -25.0, -19.0, -5.0, -1.5, -0.3, 0.0, 0.2, 1.0, 3.0, 8.0])
P = np.array([1e-12, 1e-4, 0.1, 0.3, 0.5, 0.77, 0.999])
POS = np.array([0.05, 0.5, 1.0, 2.5, 7.0, 30.0])
ZXY = [np.array([0.0, 0.0, 2.0])]  # x = 0 where log y is −inf and where it is finite

CASES = [
    ("expit", lambda m, x: m.special.expit(x), [X]),
    ("logit", lambda m, p: m.special.logit(p), [P]),
    ("ndtr", lambda m, x: m.special.ndtr(x), [X]),
    ("ndtri", lambda m, p: m.special.ndtri(p), [P]),
    ("log_ndtr", lambda m, x: m.special.log_ndtr(x), [X]),
    ("erf", lambda m, x: m.special.erf(x), [X]),
    ("erfc", lambda m, x: m.special.erfc(x), [X]),
    ("erfinv", lambda m, p: m.special.erfinv(p * 2 - 1), [P]),
    ("gammaln", lambda m, a: m.special.gammaln(a), [POS]),
    ("multigammaln", lambda m, a: m.special.multigammaln(a + 2, 3), [POS]),
    ("xlogy", lambda m, x, y: m.special.xlogy(x, y), [ZXY[0], np.array([0.0, 3.0, 0.5])]),
    ("xlog1py", lambda m, x, y: m.special.xlog1py(x, y), [ZXY[0], np.array([-1.0, 3.0, 0.5])]),
    ("entr", lambda m, x: m.special.entr(x), [np.array([-1.0, 0.0, 0.2, 1.0, 3.5])]),
    ("sinc", lambda m, x: m.special.sinc(x), [X[3:]]),
    ("expm1", lambda m, x: m.special.expm1(x), [X[3:]]),
    ("log1p", lambda m, p: m.special.log1p(p), [P]),
    ("exp2", lambda m, x: m.special.exp2(x), [X[3:]]),
    ("round", lambda m, x: m.special.round(x * 3.3), [X]),
    ("logsumexp", lambda m, x: m.special.logsumexp(x.reshape(1, -1), 1), [X]),
    ("softmax", lambda m, x: m.special.softmax(x, 0), [X[3:]]),
    ("log_softmax", lambda m, x: m.special.log_softmax(x, 0), [X[3:]]),
]  # fmt: skip


@pytest.mark.parametrize("name,f,arrays", CASES, ids=[c[0] for c in CASES])
@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_matches_torch_special(torch, name, f, arrays):
    out = f(torch, *[torch.tensor(a, requires_grad=True) for a in arrays])
    compare_with_torch(
        torch, lambda *t: f(ember, *t), lambda *t: f(torch, *t), arrays, grad=out.requires_grad
    )


def test_log_ndtr_stays_finite_and_smooth_in_the_far_tail():
    x = ember.tensor(np.linspace(-60.0, -1.0, 200), requires_grad=True)
    y = S.log_ndtr(x)
    y.sum().backward()
    assert np.all(np.isfinite(y.array)) and np.all(np.isfinite(x.grad.array))
    assert np.all(np.diff(y.array) > 0)  # log Φ increases
    t = ember.tensor([-30.0, -21.0, -3.0, 0.5], dtype=ember.float64, requires_grad=True)
    assert ember.gradcheck(S.log_ndtr, (t,))


def test_multigammaln_checks_p():
    with pytest.raises(ValueError, match="p must be ≥ 1"):
        S.multigammaln(ember.tensor([3.0]), 0)


def test_psi_values_match_torch_and_its_gradient_is_scipys_trigamma(torch):
    """torch's trigamma series is good to ~5e-10; the gradient is held to SciPy's instead."""
    from scipy.special import polygamma

    a = ember.tensor(POS, requires_grad=True)
    y = S.psi(a)
    np.testing.assert_allclose(y.array, torch.special.psi(torch.tensor(POS)).numpy(), rtol=1e-12)
    y.sum().backward()
    np.testing.assert_allclose(a.grad.array, polygamma(1, POS), rtol=1e-12)
