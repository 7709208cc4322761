"""Random complex tensors as torch draws them: randn's real and imaginary parts each N(0, ½)
(E|z|² = 1), rand's each U[0, 1); normal_ and uniform_ on a complex tensor (the Tensor
methods and nn.init's) fill both parts. Checked by moments over 200 000 draws against the
same moments of torch's draws (5 standard errors)."""

from __future__ import annotations

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")

N = 200_000


def moments(z):
    z = np.asarray(z)
    return np.array([z.real.mean(), z.imag.mean(), z.real.var(), z.imag.var()])


def near(a, b, spread):
    """Moment by moment within 5 standard errors of the draws (spread: the parts' std)."""
    se = np.array([spread / np.sqrt(N)] * 2 + [spread**2 * np.sqrt(2 / N)] * 2)
    assert np.all(np.abs(a - b) < 5 * se), (a, b)


@pytest.mark.parametrize("dtype", ["complex64", "complex128"])
def test_randn_and_rand_match_torch_moments(dtype):
    ember.manual_seed(0)
    torch.manual_seed(0)
    e, t = getattr(ember, dtype), getattr(torch, dtype)
    x = ember.randn(N, dtype=e)
    assert x.dtype == e and x.shape == (N,)
    near(moments(x.array), moments(torch.randn(N, dtype=t).numpy()), np.sqrt(0.5))
    u = ember.rand(N, dtype=e)
    assert u.dtype == e and float(u.real.min()) >= 0 and float(u.imag.max()) < 1
    near(moments(u.array), moments(torch.rand(N, dtype=t).numpy()), np.sqrt(1 / 12))
    assert ember.randn_like(x).dtype == e and ember.rand_like(u).dtype == e


def test_in_place_fills_draw_both_parts():
    ember.manual_seed(1)
    z = ember.zeros(N, dtype=ember.complex64)
    zt = torch.zeros(N, dtype=torch.complex64)
    near(moments(z.normal_(1.0, 2.0).array), moments(zt.normal_(1.0, 2.0).numpy()), np.sqrt(2))
    near(moments(z.uniform_(-1, 3).array), moments(zt.uniform_(-1, 3).numpy()), 4 / np.sqrt(12))
    near(moments(ember.nn.init.normal_(z, 0.5).array),
         moments(torch.nn.init.normal_(zt, 0.5).numpy()), np.sqrt(0.5))  # fmt: skip
    near(moments(ember.nn.init.uniform_(z).array), moments(torch.nn.init.uniform_(zt).numpy()),
         np.sqrt(1 / 12))  # fmt: skip


def test_real_draws_are_unchanged_by_the_complex_path():
    ember.manual_seed(3)
    a = ember.randn(5).array.copy()
    ember.manual_seed(3)
    assert np.array_equal(ember.randn(5).array, a)
