"""Complex autograd for conv3d (bilinear, as conv2d: holomorphic in ops/complex.py) and for
scatter_reduce's 'sum', 'mean' and 'prod' (linear and holomorphic; 'amax'/'amin' are refused
in the forward, tests/test_complex_refusals.py). conv3d against torch in complex64 and
complex128 and gradcheck in complex128. torch computes complex scatter_reduce forwards but
refuses their autograd, so the forward is compared with torch's and the gradients with torch's
autograd through the same reduction written with where/sum/prod (and gradcheck)."""

import numpy as np
import pytest

import ember
import ember.nn.functional as F
from tests.test_complex_autograd import _inputs, _loss, against_torch, cplx, tnp

TOL = {np.complex64: 5e-5, np.complex128: 1e-12}


def _fn(lib):
    return F if lib is ember else lib.nn.functional


CONV3D = {
    "bias_padding": (lambda lib, x, w, b: _fn(lib).conv3d(x, w, b, padding=1),
                     [lambda r: cplx(r, 2, 3, 4, 5, 4), lambda r: 0.3 * cplx(r, 4, 3, 3, 3, 2),
                      lambda r: cplx(r, 4)]),
    "stride_dilation_groups": (lambda lib, x, w: _fn(lib).conv3d(
        x, w, stride=(2, 1, 2), dilation=(1, 2, 1), groups=2, padding=(1, 0, 1)),
        [lambda r: cplx(r, 2, 4, 5, 6, 5), lambda r: 0.3 * cplx(r, 6, 2, 2, 2, 3)]),
    "real_input_cast": (lambda lib, x, w: _fn(lib).conv3d(x.to(w.dtype), w, padding=(0, 1, 0)),
                        [lambda r: r.standard_normal((1, 2, 3, 4, 4)),
                         lambda r: cplx(r, 3, 2, 2, 3, 2)]),
    "unbatched": (lambda lib, x, w, b: _fn(lib).conv3d(x, w, b),
                  [lambda r: cplx(r, 2, 3, 3, 4), lambda r: cplx(r, 2, 2, 2, 2, 2),
                   lambda r: cplx(r, 2)]),
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(CONV3D))
def test_conv3d_gradcheck_complex128(name):
    f, makers = CONV3D[name]
    xs = [ember.tensor(a, requires_grad=True) for a in _inputs(makers, np.complex128)]
    assert ember.gradcheck(lambda *t: f(ember, *t), xs)


@pytest.mark.parametrize("cdtype", [np.complex64, np.complex128])
@pytest.mark.parametrize("name", sorted(CONV3D))
def test_conv3d_matches_torch(torch, name, cdtype):
    f, makers = CONV3D[name]
    against_torch(torch, f, _inputs(makers, cdtype), TOL[cdtype])


def test_conv3d_real_weight_complex_input_gets_real_weight_gradient(torch):
    # a complex input with a real weight (cast by the caller, as torch needs one dtype): the
    # weight's gradient is the real part of the complex rule
    rng = np.random.default_rng(3)
    x0, w0 = cplx(rng, 1, 2, 3, 3, 3), rng.standard_normal((2, 2, 2, 2, 2))
    grads = []
    for lib in (ember, torch):
        x, w = lib.tensor(x0, requires_grad=True), lib.tensor(w0, requires_grad=True)
        _loss(lib, _fn(lib).conv3d(x, w.to(x.dtype))).backward()
        grads.append((x.grad.numpy(), w.grad.numpy()))
    (gx, gw), (tx, tw) = grads
    assert gw.dtype == np.float64
    np.testing.assert_allclose(gx, tx, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(gw, tw, rtol=1e-12, atol=1e-12)


# ------------------------------------------------------------ scatter_reduce
# x (4, 3), index and src (5, 3) along dim 0: every place of column 0 is hit twice or not at
# all, place 3 of column 2 is never hit (it keeps x, and gets no src gradient)
INDEX = np.array([[0, 1, 2], [2, 1, 0], [0, 3, 1], [2, 0, 1], [1, 3, 0]])
SHAPES = ((4, 3), INDEX.shape)


def _reference(lib, x, src, reduce, include_self):
    """scatter_reduce along dim 0 written with where/sum/prod, which torch differentiates for
    complex numbers: H[i, p, j] says whether src[i, j] goes to place (p, j)."""
    index = lib.tensor(INDEX)
    H = index[:, None, :] == lib.arange(x.shape[0])[None, :, None]  # (k, m, n)
    hit = H.any(0)
    s = src[:, None, :]
    if reduce == "prod":
        product = lib.where(H, s, lib.ones_like(s)).prod(0)
        return (x if include_self else lib.where(hit, lib.ones_like(x), x)) * product
    total = lib.where(H, s, lib.zeros_like(s)).sum(0)
    base = x if include_self else lib.where(hit, lib.zeros_like(x), x)
    if reduce == "sum":
        return base + total
    count = H.sum(0) + (1 if include_self else 0)
    count = lib.where(hit, count, lib.ones_like(count)).to(x.dtype)
    return lib.where(hit, (base + total) / count, x)


REDUCE = [(r, inc) for r in ("sum", "mean", "prod") for inc in (True, False)]


def _scatter(lib, x, src, reduce, include_self, dim=0, index=INDEX):
    return x.scatter_reduce(dim, lib.tensor(index), src, reduce, include_self=include_self)


@pytest.mark.parametrize("cdtype", [np.complex64, np.complex128])
@pytest.mark.parametrize(("reduce", "include_self"), REDUCE)
def test_scatter_reduce_forward_matches_torch(torch, reduce, include_self, cdtype):
    x0, s0 = _inputs([lambda r: cplx(r, *SHAPES[0]), lambda r: cplx(r, *SHAPES[1])], cdtype)
    got = _scatter(ember, ember.tensor(x0), ember.tensor(s0), reduce, include_self)
    want = _scatter(torch, torch.tensor(x0), torch.tensor(s0), reduce, include_self)
    ref = _reference(torch, torch.tensor(x0), torch.tensor(s0), reduce, include_self)
    assert got.dtype == x0.dtype
    np.testing.assert_allclose(got.numpy(), tnp(want), rtol=TOL[cdtype], atol=TOL[cdtype])
    np.testing.assert_allclose(tnp(ref), tnp(want), rtol=TOL[cdtype], atol=TOL[cdtype])


@pytest.mark.parametrize("cdtype", [np.complex64, np.complex128])
@pytest.mark.parametrize(("reduce", "include_self"), REDUCE)
def test_scatter_reduce_gradients_match_torch(torch, reduce, include_self, cdtype):
    x0, s0 = _inputs([lambda r: cplx(r, *SHAPES[0]), lambda r: cplx(r, *SHAPES[1])], cdtype)
    tol = TOL[cdtype]
    ex, es = ember.tensor(x0, requires_grad=True), ember.tensor(s0, requires_grad=True)
    tx, ts = torch.tensor(x0, requires_grad=True), torch.tensor(s0, requires_grad=True)
    _loss(ember, _scatter(ember, ex, es, reduce, include_self)).backward()
    _loss(torch, _reference(torch, tx, ts, reduce, include_self)).backward()
    for e, t in ((ex, tx), (es, ts)):
        assert e.grad.dtype == e.dtype
        np.testing.assert_allclose(e.grad.numpy(), tnp(t.grad), rtol=tol, atol=tol)


@pytest.mark.parametrize(("reduce", "include_self"), REDUCE)
@pytest.mark.parametrize("dim", [0, 1])
def test_scatter_reduce_gradcheck_complex128(reduce, include_self, dim):
    rng = np.random.default_rng(dim)
    index = INDEX if dim == 0 else INDEX.T[:, :4]  # (3, 4) into x.T (3, 4) along dim 1
    x0 = cplx(rng, *(SHAPES[0] if dim == 0 else SHAPES[0][::-1]))
    s0 = cplx(rng, *index.shape)
    x, s = ember.tensor(x0, requires_grad=True), ember.tensor(s0, requires_grad=True)
    assert ember.gradcheck(
        lambda x, s: _scatter(ember, x, s, reduce, include_self, dim, index), (x, s)
    )


def test_scatter_reduce_real_self_and_complex_product_gets_real_gradient(torch):
    # real x and src through scatter_reduce, then a complex factor: their gradients are the
    # real part of the complex rule, as torch's (torch differentiates the real reduction)
    rng = np.random.default_rng(5)
    x0, s0 = rng.standard_normal(SHAPES[0]), rng.standard_normal(SHAPES[1])
    grads = []
    for lib in (ember, torch):
        x, s = lib.tensor(x0, requires_grad=True), lib.tensor(s0, requires_grad=True)
        y = _scatter(lib, x, s, "mean", True) * lib.tensor(0.5 - 2j)
        _loss(lib, y).backward()
        grads.append((x.grad.numpy(), s.grad.numpy()))
    for g, w in zip(*grads):
        assert g.dtype == np.float64
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-12)
