"""Complex autograd for the indexing ops (gather, scatter, scatter_add, index_select,
index_add_, index_copy_, index_put_, index_fill_, masked_fill, masked_select, masked_scatter,
take_along_dim), einsum, logsumexp, pow with a tensor exponent, conv_transpose1d/2d and
real × complex linear/matmul: gradcheck in complex128 and values and gradients against torch
in complex64 and complex128, as tests/test_complex_autograd.py. Also torch's refusal to write
a complex scalar with an imaginary part into a real tensor."""

import warnings

import numpy as np
import pytest

import ember
from tests.test_complex_autograd import _inputs, against_torch, away, cplx, tnp
from tests.test_complex_autograd_more import _fn

TOL = {np.complex64: 2e-6, np.complex128: 1e-12}

_IDX = np.array([[0, 2, 2, 1], [1, 0, 0, 0], [2, 2, 1, 0]])  # repeats: gradients accumulate
_PERM = np.array([[2, 0, 1, 3], [0, 1, 2, 3], [1, 2, 3, 0]])  # one write per place (scatter)
_PERM0 = np.array([[2, 0, 1, 0], [0, 1, 2, 2]])
_SEL = np.array([3, 0, 3, 1])
_MASK = np.array([[True, False, True, False], [False, False, True, True], [True] * 4])


def _i(lib, a):
    return lib.tensor(a)


_A = lambda r: cplx(r, 3, 4)  # noqa: E731
_S3 = lambda r: cplx(r, 3, 3)  # noqa: E731
_S2 = lambda r: cplx(r, 2, 4)  # noqa: E731
_P = lambda r: away(r, 3, 4)  # noqa: E731
_X = lambda r: r.standard_normal((3, 4))  # noqa: E731
CASES = {
    "gather": (lambda lib, a: a.gather(1, _i(lib, _IDX[:, :3])), [_A]),
    "gather_fn": (lambda lib, a: lib.gather(a, 0, _i(lib, _IDX)), [_A]),
    "scatter": (lambda lib, a, s: a.scatter(1, _i(lib, _PERM[:, :3]), s), [_A, _S3]),
    # (torch's backward gives src a gradient of the index's shape: src of that shape here)
    "scatter_value": (lambda lib, a: a.scatter(1, _i(lib, _PERM[:, :2]), 2.0), [_A]),
    "scatter_": (lambda lib, a, s: (a * 1).scatter_(0, _i(lib, _PERM0), s), [_A, _S2]),
    "scatter_add": (lambda lib, a, s: a.scatter_add(1, _i(lib, _IDX), s), [_A, _A]),
    "scatter_add_": (lambda lib, a, s: (a * 1).scatter_add_(0, _i(lib, _IDX), s), [_A, _A]),
    "index_select": (lambda lib, a: a.index_select(1, _i(lib, _SEL)), [_A]),
    "index_add_": (lambda lib, a, s: (a * 1).index_add_(1, _i(lib, _SEL), s), [_A, _A]),
    "index_add_alpha": (lambda lib, a, s: (a * 1).index_add_(0, _i(lib, _IDX[0, 1:]), s,
                                                             alpha=2.5), [_A, _A]),
    "index_put_": (lambda lib, a, v: (a * 1).index_put_(
        (_i(lib, np.array([0, 2])), _i(lib, np.array([1, 3]))), v), [_A, lambda r: cplx(r, 2)]),
    "index_put_acc": (lambda lib, a, v: (a * 1).index_put_(
        (_i(lib, np.array([0, 2, 0])), _i(lib, np.array([1, 3, 1]))), v, accumulate=True),
        [_A, lambda r: cplx(r, 3)]),
    "index_fill_": (lambda lib, a: (a * 1).index_fill_(1, _i(lib, np.array([0, 2])), 1 - 2j),
                    [_A]),
    "index_copy_": (lambda lib, a, s: (a * 1).index_copy_(1, _i(lib, np.array([2, 0])), s),
                    [_A, lambda r: cplx(r, 3, 2)]),
    "masked_scatter": (lambda lib, a, s: a.masked_scatter(_i(lib, _MASK), s),
                       [_A, lambda r: cplx(r, 3, 5)]),
    "masked_fill": (lambda lib, a: a.masked_fill(_i(lib, _MASK), 0.5 + 1j), [_A]),
    "masked_select": (lambda lib, a: a.masked_select(_i(lib, _MASK)), [_A]),
    "take_along_dim": (lambda lib, a: lib.take_along_dim(a, _i(lib, _IDX[:1]), dim=1), [_A]),
    "take_along_dim_flat": (lambda lib, a: lib.take_along_dim(a, _i(lib, _SEL)), [_A]),
    "einsum_mm": (lambda lib, a, b: lib.einsum("ij,kj->ik", a, b), [_A, _A]),
    "einsum_batch": (lambda lib, a, b: lib.einsum("bij,bjk->bik", a, b),
                     [lambda r: cplx(r, 2, 3, 4), lambda r: cplx(r, 2, 4, 2)]),
    "einsum_diag_sum": (lambda lib, a, b: lib.einsum("ii,j->j", a, b),
                        [lambda r: cplx(r, 3, 3), lambda r: cplx(r, 4)]),
    "einsum_real_complex": (lambda lib, x, b: lib.einsum("ij,jk->ik", x.to(b.dtype), b),
                            [_X, lambda r: cplx(r, 4, 2)]),
    "logsumexp": (lambda lib, a: lib.logsumexp(a, 1), [_A]),
    "logsumexp_keepdim": (lambda lib, a: a.logsumexp(0, keepdim=True) * a, [_A]),
    "pow_tensor": (lambda lib, a, b: a**b, [_P, _A]),
    "pow_broadcast": (lambda lib, a, b: lib.pow(a, b), [_P, lambda r: cplx(r, 4)]),
    "pow_real_exponent": (lambda lib, a, x: a**x, [_P, _X]),
    "conv_transpose1d": (lambda lib, x, w, b: _fn(lib).conv_transpose1d(x, w, b, stride=2,
                                                                         padding=1),
                         [lambda r: cplx(r, 2, 3, 5), lambda r: cplx(r, 3, 2, 3),
                          lambda r: cplx(r, 2)]),
    "conv_transpose2d": (lambda lib, x, w, b: _fn(lib).conv_transpose2d(
        x, w, b, stride=2, padding=1, output_padding=1),
        [lambda r: cplx(r, 2, 4, 3, 4), lambda r: cplx(r, 4, 3, 3, 2), lambda r: cplx(r, 3)]),
    "conv_transpose2d_groups": (lambda lib, x, w: _fn(lib).conv_transpose2d(
        x, w, groups=2, dilation=2),
        [lambda r: cplx(r, 1, 4, 3, 3), lambda r: cplx(r, 4, 1, 2, 2)]),
    "linear_real_weight": (lambda lib, x, w: _fn(lib).linear(x, w.to(x.dtype)),
                           [_A, lambda r: r.standard_normal((2, 4))]),
    "matmul_real_left": (lambda lib, x, b: x.to(b.dtype) @ b, [_X, lambda r: cplx(r, 4, 2)]),
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(CASES))
def test_gradcheck_complex128(name):
    f, makers = CASES[name]
    arrays = _inputs(makers, np.complex128)
    xs = [ember.tensor(a, requires_grad=True) for a in arrays]
    assert ember.gradcheck(lambda *t: f(ember, *t), xs)


@pytest.mark.parametrize("cdtype", [np.complex64, np.complex128])
@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_torch(torch, name, cdtype):
    f, makers = CASES[name]
    against_torch(torch, f, _inputs(makers, cdtype), TOL[cdtype])


def test_einsum_real_operand_of_a_complex_product_gets_the_real_part(torch):
    """ember's einsum takes a real and a complex operand (torch wants one dtype): the real
    one's gradient is that of its complex cast, real part kept, with no ComplexWarning."""
    rng = np.random.default_rng(3)
    z, x = cplx(rng, 3, 4), rng.standard_normal((2, 4))
    a, b = ember.tensor(z, requires_grad=True), ember.tensor(x, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ember.einsum("ij,kj->ik", a, b).abs().sum().backward()
    ta, tb = torch.tensor(z, requires_grad=True), torch.tensor(x, requires_grad=True)
    torch.einsum("ij,kj->ik", ta, tb.to(ta.dtype)).abs().sum().backward()
    assert b.grad.dtype == np.float64
    np.testing.assert_allclose(b.grad.numpy(), tb.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(a.grad.numpy(), tnp(ta.grad), rtol=1e-12)


def test_pow_gradient_at_zero_base_follows_torch(torch):
    """z^w at z = 0: ∂/∂w is 0 where w is real and ≥ 0 (torch's rule), whatever Im w's sign
    would say under NumPy's ordering of complex numbers."""
    z = np.array([0j, 0j, 1 + 1j])
    w = np.array([2 + 0j, 1 + 1j, 0.5 - 1j])
    grads = []
    for lib in (ember, torch):
        a, b = lib.tensor(z, requires_grad=True), lib.tensor(w, requires_grad=True)
        (a**b).real.sum().backward()
        grads.append((a.grad.detach().numpy(), b.grad.detach().numpy()))
    for e, t in zip(*grads):
        np.testing.assert_allclose(e, t, rtol=1e-12, equal_nan=True)


def test_logsumexp_shifts_by_the_real_maximum_as_torch(torch):
    """Im logsumexp(z) is the principal angle of Σ eᶻ (torch shifts by max Re z); large Re z
    does not overflow."""
    z = np.array([[1000 + 3j, 999 - 3j], [0.5 + 3.1j, 0.4 + 3.1j]])
    ours = ember.logsumexp(ember.tensor(z), 1).numpy()
    np.testing.assert_allclose(ours, torch.logsumexp(torch.tensor(z), 1).numpy(), rtol=1e-14)


@pytest.mark.parametrize("dtype", ["float32", "float64", "int64"])
def test_complex_scalar_into_a_real_tensor_is_refused_as_torch(torch, dtype):
    writes = {
        "setitem": lambda lib, t: t.__setitem__(0, 5j),
        "setitem_slice": lambda lib, t: t.__setitem__(slice(0, 2), 5j),
        "fill_": lambda lib, t: t.fill_(1j),
        "full_like": lambda lib, t: lib.full_like(t, 1j),
        "full": lambda lib, t: lib.full((2,), 1 - 1j, dtype=t.dtype),
        "masked_fill_": lambda lib, t: t.masked_fill_(lib.tensor([True, False, True]), 1j),
        "masked_fill": lambda lib, t: t.masked_fill(lib.tensor([True, False, True]), 2 + 1j),
    }
    for name, write in writes.items():
        messages = []
        for lib in (ember, torch):
            t = lib.zeros(3, dtype=getattr(lib, dtype))
            with pytest.raises(RuntimeError, match="without overflow") as err:
                write(lib, t)
            messages.append(str(err.value))
            assert not t.numpy().any(), name  # nothing written
        assert messages[0] == messages[1], name


def test_complex_scalar_without_imaginary_part_or_into_bool_is_written(torch):
    for lib in (ember, torch):
        t = lib.zeros(3)
        t[0] = 5 + 0j
        t.masked_fill_(lib.tensor([False, True, False]), 2 + 0j)
        assert t.numpy().tolist() == [5, 2, 0] and t.dtype == lib.float32
        assert lib.full_like(t, 1 + 0j).numpy().tolist() == [1, 1, 1]
        assert t.fill_(3 + 0j).numpy().tolist() == [3, 3, 3]
        b = lib.zeros(2, dtype=lib.bool)
        b.fill_(1j)
        assert b.numpy().all()
    # a complex tensor takes any complex scalar, with autograd recording as before
    z = ember.zeros(2, dtype=ember.complex64, requires_grad=True) * 1
    z[0] = 1j
    assert z.masked_fill(ember.tensor([False, True]), 2j).detach().numpy().tolist() == [1j, 2j]
    # and a real tensor that requires grad refuses it too
    x = ember.ones(2, requires_grad=True) * 1
    with pytest.raises(RuntimeError, match="type float without overflow"):
        x[1] = 1j
