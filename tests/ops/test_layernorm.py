"""LayerNorm: fused op vs composed version, gradcheck, torch parity."""

import numpy as np
import pytest

import ember
import ember.functional as F
import ember.nn as nn


def _t(a, grad=True):
    return ember.Tensor(np.array(a), requires_grad=grad)


@pytest.mark.parametrize("affine", [True, False])
def test_layer_norm_gradcheck(affine):
    rng = np.random.default_rng(0)
    x = _t(rng.standard_normal((2, 3, 4)))
    w = _t(rng.standard_normal(4)) if affine else None
    b = _t(rng.standard_normal(4)) if affine else None
    inputs = (x, w, b) if affine else (x,)
    assert ember.gradcheck(lambda *a: F.layer_norm(a[0], (4,), *a[1:], eps=1e-5), inputs)


def test_layer_norm_gradcheck_two_axes():
    rng = np.random.default_rng(1)
    x, w, b = (_t(rng.standard_normal(s)) for s in ((2, 3, 4), (3, 4), (3, 4)))
    assert ember.gradcheck(lambda x, w, b: F.layer_norm(x, (3, 4), w, b), (x, w, b))


def test_fused_equals_composed():
    rng = np.random.default_rng(2)
    xs = [_t(rng.standard_normal((5, 7, 16)) * 3 + 2) for _ in range(2)]
    ws = [_t(rng.standard_normal(16)) for _ in range(2)]
    bs = [_t(rng.standard_normal(16)) for _ in range(2)]
    ws[1].array[...] = ws[0].array
    bs[1].array[...] = bs[0].array
    xs[1].array[...] = xs[0].array
    g = rng.standard_normal((5, 7, 16))
    y0 = F.layer_norm(xs[0], 16, ws[0], bs[0])
    y1 = F.layer_norm_composed(xs[1], 16, ws[1], bs[1])
    (y0 * ember.Tensor(g)).sum().backward()
    (y1 * ember.Tensor(g)).sum().backward()
    np.testing.assert_allclose(y0.array, y1.array, rtol=1e-12, atol=1e-12)
    for a, b in ((xs, "x"), (ws, "w"), (bs, "b")):
        np.testing.assert_allclose(
            a[0].grad.array, a[1].grad.array, rtol=1e-10, atol=1e-12, err_msg=b
        )


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_layernorm_module_matches_torch(torch, dtype):
    rng = np.random.default_rng(3)
    x_np = (rng.standard_normal((4, 6, 10)) * 2 + 1).astype(dtype)
    tm = torch.nn.LayerNorm(10, eps=1e-6).to(getattr(torch, dtype))
    with torch.no_grad():
        tm.weight.normal_()
        tm.bias.normal_()
    em = nn.LayerNorm(10, eps=1e-6).to(getattr(np, dtype))
    em.load_state_dict(tm.state_dict())
    tx = torch.tensor(x_np, requires_grad=True)
    ex = ember.Tensor(x_np, requires_grad=True)
    g = rng.standard_normal(x_np.shape).astype(dtype)
    ty, ey = tm(tx), em(ex)
    ty.backward(torch.tensor(g))
    ey.backward(g)
    tol = dict(rtol=1e-5, atol=1e-5) if dtype == "float32" else dict(rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(ey.array, ty.detach().numpy(), **tol)
    np.testing.assert_allclose(ex.grad.array, tx.grad.numpy(), **tol)
    np.testing.assert_allclose(em.weight.grad.array, tm.weight.grad.numpy(), **tol)
    np.testing.assert_allclose(em.bias.grad.array, tm.bias.grad.numpy(), **tol)


def test_layernorm_no_bias_and_no_affine(torch):
    x_np = np.random.default_rng(4).standard_normal((3, 8))
    for kw in (dict(bias=False), dict(elementwise_affine=False)):
        tm = torch.nn.LayerNorm(8, **kw).double()
        em = nn.LayerNorm(8, **kw).double()
        assert set(em.state_dict()) == set(tm.state_dict())
        out = em(ember.Tensor(x_np)).array
        np.testing.assert_allclose(out, tm(torch.tensor(x_np)).detach().numpy(), atol=1e-12)


def test_layer_norm_bad_shape_is_a_clear_error():
    with pytest.raises(ValueError, match="does not end in normalized_shape"):
        F.layer_norm(ember.randn(3, 5), (4,))
    with pytest.raises(ValueError, match="weight has shape"):
        F.layer_norm(ember.randn(3, 4), (4,), ember.ones(5))
