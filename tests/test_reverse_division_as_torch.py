"""``c / tensor`` for a Python number c gives torch's bits: torch computes it as
reciprocal(a)·c, each product rounded in a's dtype (float16's in float32 first), which is one
ulp from c/a for about a third of float16 values and some float32 ones; ember divided."""

import numpy as np
import pytest

import ember


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
@pytest.mark.parametrize("c", [2.5, 3, 0.1, -7.25, 1e-3])
def test_a_number_over_a_tensor_is_torchs_to_the_bit(torch, dtype, c):
    a = np.random.default_rng(0).standard_normal(4096).astype(dtype)
    got = []
    for lib in (ember, torch):
        x = lib.tensor(a, requires_grad=True)
        y = c / x
        y.backward(lib.ones_like(y))
        got.append((y.detach().numpy(), x.grad.numpy()))
    (y, g), (ty, tg) = got
    assert y.dtype == ty.dtype and g.dtype == tg.dtype
    np.testing.assert_array_equal(y, ty)
    np.testing.assert_array_equal(g, tg)


def test_a_number_over_an_int_tensor_is_float32_as_torch(torch):
    e, t = 2.5 / ember.tensor([1, 2, 3]), 2.5 / torch.tensor([1, 2, 3])
    assert str(e.dtype) == "float32"
    np.testing.assert_array_equal(e.numpy(), t.numpy())
