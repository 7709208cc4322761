"""Complex autograd (ops/complex.py): every supported op's gradient follows torch's convention
g_z = ∂L/∂x + i·∂L/∂y, checked by gradcheck in complex128 (real and imaginary parts perturbed
separately) and against torch (same inputs: outputs and gradients) in complex64 and
complex128; real inputs of complex computations keep the real part; small end-to-end cases."""

import numpy as np
import pytest

import ember
import ember.nn.functional as F

TOL = {np.complex64: 2e-5, np.complex128: 1e-12}


def cplx(rng, *shape):
    return rng.standard_normal(shape) + 1j * rng.standard_normal(shape)


def away(rng, *shape):
    """Complex numbers around 1.5: away from 0 and from the branch cut of log and sqrt."""
    return 1.5 + 0.5 * cplx(rng, *shape)


def tnp(t):
    return t.detach().resolve_conj().numpy()


# name → (function of (lib, *inputs), input makers); each maker: rng → array (complex or real)
_A, _B = (lambda r: cplx(r, 3, 4)), (lambda r: cplx(r, 3, 4))
_P = lambda r: away(r, 3, 4)  # noqa: E731
_X = lambda r: r.standard_normal((3, 4))  # noqa: E731
CASES = {
    "add": (lambda lib, a, b: a + b, [_A, _B]),
    "sub": (lambda lib, a, b: a - b, [_A, _B]),
    "mul": (lambda lib, a, b: a * b, [_A, _B]),
    "div": (lambda lib, a, b: a / b, [_A, _P]),
    "neg": (lambda lib, a: -a, [_A]),
    "add_scalar": (lambda lib, a: a + 1.5, [_A]),
    "sub_scalar": (lambda lib, a: a - 2.0, [_A]),
    "rsub_scalar": (lambda lib, a: 2.0 - a, [_A]),
    "mul_scalar": (lambda lib, a: a * 3.0, [_A]),
    "div_scalar": (lambda lib, a: a / 4.0, [_A]),
    "rdiv_scalar": (lambda lib, a: 2.0 / a, [_P]),
    "mul_complex_scalar": (lambda lib, a: a * (0.5 - 2j), [_A]),
    "add_complex_scalar": (lambda lib, a: a + 1j, [_A]),
    "pow_2": (lambda lib, a: a**2, [_A]),
    "pow_3": (lambda lib, a: a**3, [_A]),
    "pow_half": (lambda lib, a: a**0.5, [_P]),
    "rpow": (lambda lib, a: 2.0**a, [_A]),
    "reciprocal": (lambda lib, a: a.reciprocal(), [_P]),
    "exp": (lambda lib, a: a.exp(), [_A]),
    "log": (lambda lib, a: a.log(), [_P]),
    "sqrt": (lambda lib, a: a.sqrt(), [_P]),
    "sin": (lambda lib, a: a.sin(), [_A]),
    "cos": (lambda lib, a: a.cos(), [_A]),
    "tanh": (lambda lib, a: a.tanh(), [lambda r: 0.5 * cplx(r, 3, 4)]),
    "log1p": (lambda lib, a: a.log1p(), [_P]),
    "expm1": (lambda lib, a: a.expm1(), [_A]),
    "tan": (lambda lib, a: a.tan(), [lambda r: 0.5 * cplx(r, 3, 4)]),
    "sinh": (lambda lib, a: a.sinh(), [_A]),
    "cosh": (lambda lib, a: a.cosh(), [_A]),
    "asin": (lambda lib, a: a.asin(), [lambda r: 0.4 * cplx(r, 3, 4)]),
    "atan": (lambda lib, a: a.atan(), [lambda r: 0.4 * cplx(r, 3, 4)]),
    "asinh": (lambda lib, a: a.asinh(), [lambda r: 0.4 * cplx(r, 3, 4)]),
    "atanh": (lambda lib, a: a.atanh(), [lambda r: 0.4 * cplx(r, 3, 4)]),
    "abs": (lambda lib, a: a.abs(), [_A]),
    "angle": (lambda lib, a: a.angle(), [_A]),
    "conj": (lambda lib, a: a.conj() * a, [_A]),
    "real": (lambda lib, a: a.real * 2, [_A]),
    "imag": (lambda lib, a: a.imag * 2, [_A]),
    "fn_real_imag_angle": (lambda lib, a: lib.real(a) + lib.imag(a) * lib.angle(a), [_A]),
    "sum": (lambda lib, a: a.sum(), [_A]),
    "sum_dim": (lambda lib, a: a.sum(dim=1), [_A]),
    "mean": (lambda lib, a: a.mean(), [_A]),
    "mean_dim": (lambda lib, a: a.mean(dim=0, keepdim=True), [_A]),
    "matmul": (lambda lib, a, b: a @ b.T, [_A, _B]),
    "matmul_vec": (lambda lib, a, b: a @ b[0], [_A, _B]),
    "matmul_batched": (lambda lib, a, b: a.reshape(3, 2, 2) @ b.reshape(3, 2, 2), [_A, _B]),
    "linear": (lambda lib, a, w, b: F.linear(a, w, b) if lib is ember
               else lib.nn.functional.linear(a, w, b),
               [_A, lambda r: cplx(r, 5, 4), lambda r: cplx(r, 5)]),
    "reshape_transpose": (lambda lib, a: a.reshape(4, 3).transpose(0, 1) * a, [_A]),
    "index": (lambda lib, a: a[1:, [0, 2, 2]] * 2, [_A]),
    "cat_stack": (lambda lib, a, b: lib.cat([a, lib.stack([b[0], a[1]])], 0), [_A, _B]),
    "flip_roll": (lambda lib, a: a.flip(1).roll(1, 0) * a, [_A]),
    "unsqueeze_expand": (lambda lib, a: a[:, None, :].expand(3, 2, 4), [_A]),
    "split": (lambda lib, a: a.split([1, 3], 1)[1] * 2, [_A]),
    "clone_pad": (lambda lib, a: (F if lib is ember else lib.nn.functional).pad(a.clone(), (1, 2)),
                  [_A]),
    "where": (lambda lib, a, b: lib.where(lib.tensor([True, False, True, False]), a, b),
              [_A, _B]),
    "complex": (lambda lib, x, y: lib.complex(x, y) ** 2, [_X, _X]),
    "polar": (lambda lib, r, t: lib.polar(r, t) * (1 + 2j), [lambda r: r.random((3, 4)) + 0.5, _X]),
    "view_as_real": (lambda lib, a: lib.view_as_real(a * a), [_A]),
    "view_as_complex": (lambda lib, x: lib.view_as_complex(x) ** 2,
                        [lambda r: r.standard_normal((3, 2))]),
    "real_times_complex": (lambda lib, x, a: (x * 2) * a, [_X, _A]),
    # torch's matmul wants one dtype; ember casts the real operand as torch's other ops do
    "real_matmul_complex": (lambda lib, x, a: (x.to(a.dtype) if lib is not ember else x) @ a.T,
                            [_X, _A]),
    "real_cast_complex": (lambda lib, x: x.to(lib.complex128 if x.dtype == lib.float64 else
                                               lib.complex64) * (1 + 1j), [_X]),
    "complex_abs_to_real_net": (lambda lib, a: (a.abs() + 1).log() * a.real, [_A]),
}  # fmt: skip


def _inputs(makers, cdtype, seed=0):
    rng = np.random.default_rng(seed)
    rdtype = np.float64 if cdtype == np.complex128 else np.float32
    arrays = [m(rng) for m in makers]
    return [a.astype(cdtype if np.iscomplexobj(a) else rdtype) for a in arrays]


def _loss(lib, out, seed=1):
    """A real scalar that weighs every real and imaginary part of out differently."""
    rng = np.random.default_rng(seed)
    if out.is_complex():
        w = rng.standard_normal((*out.shape, 2))
        return (lib.view_as_real(out) * lib.tensor(w.astype(_rdt(out)))).sum()
    return (out * lib.tensor(rng.standard_normal(out.shape).astype(_rdt(out)))).sum()


def _rdt(out):
    return {"complex64": np.float32, "float32": np.float32}.get(
        str(out.dtype).split(".")[-1], np.float64
    )


@pytest.mark.parametrize("name", sorted(CASES))
def test_gradcheck_complex128(name):
    f, makers = CASES[name]
    xs = [ember.tensor(a, requires_grad=True) for a in _inputs(makers, np.complex128)]
    assert ember.gradcheck(lambda *t: f(ember, *t), xs)


def against_torch(torch, f, arrays, tol):
    """f(ember, *inputs) and f(torch, *inputs): the same dtype and values, and the same
    gradients through _loss, to rtol ``tol`` and atol ``tol`` × the largest torch value."""
    es = [ember.tensor(a, requires_grad=True) for a in arrays]
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    eo, to = f(ember, *es), f(torch, *ts)
    assert eo.dtype == np.dtype(str(to.dtype).split(".")[-1])
    scale = max(1.0, np.abs(tnp(to)).max())
    np.testing.assert_allclose(eo.detach().numpy(), tnp(to), rtol=tol, atol=tol * scale)
    _loss(ember, eo).backward()
    _loss(torch, to).backward()
    for e, t in zip(es, ts):
        assert e.grad.dtype == e.dtype
        scale = max(1.0, np.abs(tnp(t.grad)).max())
        np.testing.assert_allclose(e.grad.numpy(), tnp(t.grad), rtol=tol, atol=tol * scale)


@pytest.mark.parametrize("cdtype", [np.complex64, np.complex128])
@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_torch(torch, name, cdtype):
    f, makers = CASES[name]
    against_torch(torch, f, _inputs(makers, cdtype), TOL[cdtype])


def test_abs_squared_gives_2z_and_abs_at_zero(torch):
    z = ember.tensor([1 + 2j, 0j, -3j], requires_grad=True)
    (z.abs() ** 2).sum().backward()
    np.testing.assert_allclose(z.grad.numpy(), 2 * z.detach().numpy())
    for lib in (ember, torch):  # |z|' = z/|z|, 0 at 0; angle' = i·z/|z|², 0 at 0
        w = lib.tensor([0j, 3 + 4j], requires_grad=True)
        (w.abs().sum() + w.angle().sum()).backward()
        np.testing.assert_allclose(tnp(w.grad) if lib is torch else w.grad.numpy(),
                                   [0, (3 + 4j) / 5 + 1j * (3 + 4j) / 25], rtol=1e-6)  # fmt: skip


def test_dtypes_aliases_and_functions():
    assert ember.complex64 is ember.cfloat and ember.complex128 is ember.cdouble
    assert ember.tensor([1j]).dtype == np.complex64  # Python complex → complex64, as torch
    assert ember.tensor([1.0]).cfloat().dtype == np.complex64
    assert ember.tensor([1.0], dtype=ember.float64).cdouble().dtype == np.complex128
    assert (ember.ones(2) * 1j).dtype == np.complex64
    assert (ember.ones(2, dtype=ember.float64) * 1j).dtype == np.complex128
    assert (
        ember.ones(2, dtype=ember.complex64) + ember.ones(2, dtype=ember.float64)
    ).dtype == np.complex128  # torch.promote_types(complex64, float64)
    z = ember.tensor([1 + 2j, 3 - 4j])
    assert z.is_complex() and not z.real.is_complex()
    np.testing.assert_array_equal(ember.view_as_real(z).numpy(), [[1, 2], [3, -4]])
    np.testing.assert_array_equal(ember.conj(z).numpy(), [1 - 2j, 3 + 4j])
    m = ember.tensor([[1 + 1j, 2j], [3.0, 4 - 1j]])
    np.testing.assert_array_equal(m.mH.numpy(), m.numpy().conj().T)
    np.testing.assert_array_equal(m.H.numpy(), m.numpy().conj().T)
    with pytest.raises(RuntimeError, match="imag is not implemented"):
        _ = ember.ones(2).imag
    x = ember.ones(2, requires_grad=True)
    assert x.real is x and x.conj() is x


class NoComplexRule(ember.Function):
    """A primitive listed neither in HOLOMORPHIC nor in OWN (max, which this test once used,
    is now refused in its forward, as torch refuses it: tests/test_complex_refusals.py)."""

    def forward(self, x):
        return x * 2

    def backward(self, gy):
        return (gy * 2,)


def test_unsupported_op_is_a_clear_error():
    z = ember.tensor([1 + 1j, 2 - 1j], requires_grad=True)
    y = ember.apply(NoComplexRule, z)
    with pytest.raises(TypeError, match="NoComplexRule has no complex gradient"):
        (y * y.conj()).real.sum().backward()
    w = ember.tensor([1 + 1j], requires_grad=True)
    with pytest.raises(TypeError, match="double backward.* real-only"):
        ember.autograd.grad((w * w).abs().sum(), w, create_graph=True)


def test_complex_leaf_can_require_grad_and_step():
    z = ember.tensor([1 + 1j, 2 - 1j], requires_grad=True)
    opt = ember.optim.SGD([z], lr=0.1)
    for _ in range(3):
        opt.zero_grad()
        ((z - (0.5 + 0.5j)).abs() ** 2).sum().backward()
        opt.step()
    # z ← z − 0.1·2(z − c) three times: (z − c)·0.8³
    np.testing.assert_allclose(
        z.detach().numpy() - (0.5 + 0.5j),
        (np.array([1 + 1j, 2 - 1j]) - (0.5 + 0.5j)) * 0.8**3,
        rtol=1e-6,
    )


def test_real_mlp_with_a_complex_middle_matches_torch(torch):
    rng = np.random.default_rng(3)
    x0 = rng.standard_normal((6, 4))
    w1, w2 = rng.standard_normal((8, 4)) * 0.5, rng.standard_normal((8, 4)) * 0.5
    w3 = rng.standard_normal((1, 8)) * 0.5
    cw = (rng.standard_normal(8) + 1j * rng.standard_normal(8)) * 0.5

    def run(lib, lin, t):
        ps = [t(a) for a in (w1, w2, w3, cw)]
        x = lib.tensor(x0)
        z = lib.complex(lin(x, ps[0]), lin(x, ps[1]))  # real → complex
        z = (z * ps[3]).exp() * z.conj()
        h = z.abs() + z.real * z.imag  # complex → real
        loss = (lin(h.tanh(), ps[2]) ** 2).mean()
        loss.backward()
        return loss, ps

    le, pe = run(ember, F.linear, lambda a: ember.tensor(a, requires_grad=True))
    lt, pt = run(torch, torch.nn.functional.linear, lambda a: torch.tensor(a, requires_grad=True))
    assert abs(le.item() - lt.item()) < 1e-12
    for e, t in zip(pe, pt):
        np.testing.assert_allclose(e.grad.numpy(), tnp(t.grad), rtol=1e-10, atol=1e-12)


def test_real_training_step_unchanged_bitwise():
    """A real model's gradients are exactly those of the real formulas (the complex rules
    never run on real paths): recomputed by hand here, bitwise."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((5, 3)).astype(np.float32)
    w = rng.standard_normal((4, 3)).astype(np.float32)
    b = rng.standard_normal(4).astype(np.float32)
    W, B = ember.tensor(w, requires_grad=True), ember.tensor(b, requires_grad=True)
    y = F.linear(ember.tensor(x), W, B)
    (y * y).sum().backward()
    y0 = x @ w.T + b
    gy = 2 * y0
    np.testing.assert_array_equal(W.grad.numpy(), gy.T @ x)
    np.testing.assert_array_equal(B.grad.numpy(), np.ones(5, np.float32) @ gy)
