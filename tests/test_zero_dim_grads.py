"""Every unary op and reduction takes a 0-d tensor forward and backward as torch does: the
value, a 0-d gradient, and the same number (a loss is 0-d, so ``loss.tanh()`` must work)."""

from __future__ import annotations

import numpy as np
import pytest

import ember

UNARY = """abs acos asin asinh atan atanh ceil cos cosh deg2rad digamma erf erfc erfinv exp exp2
expm1 floor frac i0 lgamma log log10 log1p log2 logit neg rad2deg reciprocal relu round rsqrt
sigmoid sign sin sinc sinh sqrt square tan tanh trunc positive nan_to_num sum mean prod amax
max min amin norm""".split()
ALONG_DIM = ["cumsum", "cumprod", "softmax", "log_softmax", "logsumexp", "sum", "mean"]


def _both(torch, make):
    te = ember.tensor(np.float64(0.3), requires_grad=True)
    tt = torch.tensor(np.float64(0.3), requires_grad=True)
    ye, yt = make(te), make(tt)
    assert ye.shape == (), f"ember gave shape {ye.shape}"
    ye.backward()
    yt.backward()
    np.testing.assert_allclose(ye.item(), yt.item(), rtol=1e-12)
    assert te.grad.shape == ()
    np.testing.assert_allclose(te.grad.item(), tt.grad.item(), rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("name", UNARY)
def test_a_unary_op_of_a_0d_tensor(torch, name):
    _both(torch, lambda t: getattr(t, name)())


@pytest.mark.parametrize("dim", [0, -1])
@pytest.mark.parametrize("name", ALONG_DIM)
def test_an_op_along_dim_0_or_minus_1_of_a_0d_tensor(torch, name, dim):
    _both(torch, lambda t: getattr(t, name)(dim))


def test_the_loss_of_a_sum_passes_through_tanh(torch):
    """The case that broke: tanh's backward wrote into a NumPy scalar for a 0-d input."""
    x0 = np.linspace(-0.5, 0.5, 6)
    grads = []
    for lib in (ember, torch):
        x = lib.tensor(x0, requires_grad=True)
        x.sum().tanh().backward()
        grads.append(x.grad.numpy())
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-12)


def test_dim_out_of_range_for_a_0d_tensor_is_named():
    t = ember.tensor(0.3)
    with pytest.raises(IndexError, match="out of range"):
        t.cumsum(1)
    with pytest.raises(IndexError, match="out of range"):
        t.logsumexp(2)
