"""ember.linalg.ldl_factor, ldl_factor_ex and ldl_solve against torch.linalg: LD and LAPACK's int32
pivots (2×2 blocks included) in float32 / float64 / complex64 / complex128, symmetric and
Hermitian, single and batched; A rebuilt from LD and pivots; solutions against torch and
numpy.linalg.solve; info on singular matrices; no derivative (as torch); torch's errors."""

from __future__ import annotations

import numpy as np
import pytest

import ember
import ember.linalg as LA
from tests.linalg.linalg_ex_reference import DTYPES, TOLS, against_torch, make, randn, same_error

ids = lambda d: np.dtype(d).name  # noqa: E731
CASES = [(d, h) for d in DTYPES for h in (False, True)]
case_ids = [f"{ids(d)}-{'herm' if h else 'sym'}" for d, h in CASES]


def indefinite(*shape, dtype, hermitian, seed=0):
    """A symmetric (Hermitian) indefinite matrix with a small diagonal, so that Bunch–Kaufman
    takes 2×2 pivots."""
    a = make(randn(*shape, seed=seed), dtype, seed=seed)
    a = a + (np.swapaxes(a, -1, -2).conj() if hermitian else np.swapaxes(a, -1, -2))
    n = shape[-1]
    a[..., np.arange(n), np.arange(n)] *= 0.01
    return a.astype(dtype)


def rebuild(ld, piv, hermitian):
    """A = U·D·Uᵀ (Uᴴ) from LAPACK's lower compact form: U = P₁L₁·P₂L₂⋯, D block diagonal."""
    n = ld.shape[-1]
    u, d = np.eye(n, dtype=ld.dtype), np.zeros_like(ld)
    k = 0
    while k < n:
        s = 1 if piv[k] > 0 else 2
        r = abs(int(piv[k])) - 1
        kk = k + s - 1
        p = np.eye(n, dtype=ld.dtype)
        p[[kk, r]] = p[[r, kk]]
        lk = np.eye(n, dtype=ld.dtype)
        lk[k + s :, k : k + s] = ld[k + s :, k : k + s]
        blk = np.tril(ld[k : k + s, k : k + s])
        off = np.tril(blk, -1).T
        d[k : k + s, k : k + s] = blk + (off.conj() if hermitian else off)
        u = u @ p @ lk
        k += s
    return u @ d @ (u.conj().T if hermitian else u.T)


@pytest.mark.parametrize("dtype,hermitian", CASES, ids=case_ids)
@pytest.mark.parametrize("shape", [(6, 6), (2, 3, 5, 5), (1, 1), (0, 0), (2, 0, 0)], ids=str)
def test_ldl_factor_matches_torch(torch, dtype, hermitian, shape):
    a = indefinite(*shape, dtype=dtype, hermitian=hermitian, seed=1)

    def f(m, t):
        return tuple(m.ldl_factor(t, hermitian=hermitian))

    ld, piv = against_torch(torch, f, [a], grad=False)
    assert piv.dtype == np.int32 and not piv.requires_grad
    ex = against_torch(
        torch, lambda m, t: tuple(m.ldl_factor_ex(t, hermitian=hermitian)), [a], grad=False
    )
    assert ex[2].dtype == np.int32 and ex[2].shape == shape[:-2]
    assert not np.any(ex[2].numpy())
    np.testing.assert_array_equal(ex[1].numpy(), piv.numpy())
    ld, piv = ld.detach().numpy(), piv.numpy()
    np.testing.assert_array_equal(np.triu(ld, 1), 0)
    if shape[-1] > 1:
        assert np.any(piv < 0), "the matrices were chosen to need 2×2 pivots"
    if hermitian and np.dtype(dtype).kind == "c":
        np.testing.assert_array_equal(np.diagonal(ld, 0, -2, -1).imag, 0)
    flat_a = a.reshape((int(np.prod(shape[:-2])),) + shape[-2:])
    flat_ld, flat_piv = ld.reshape(flat_a.shape), piv.reshape(flat_a.shape[:-1])
    for m, lm, pm in zip(flat_a, flat_ld, flat_piv):
        np.testing.assert_allclose(rebuild(lm, pm, hermitian), m, **TOLS[dtype])


@pytest.mark.parametrize("n", [9, 70])
def test_ldl_pivots_on_larger_matrices_match_torch(torch, n):
    # 70 > LAPACK's block size 64: torch runs the blocked sytrf, ember the column steps
    for k, dtype in enumerate(DTYPES):
        herm = k % 2 == 1
        a = indefinite(n, n, dtype=dtype, hermitian=herm, seed=10 + k)
        tol = dict(TOLS[dtype])
        if n > 64:  # blocked vs unblocked updates: the same pivots, rounding over n steps
            tol = dict(rtol=tol["rtol"] * 10, atol=tol["atol"] * 10)
        against_torch(
            torch,
            lambda m, t, h=herm: tuple(m.ldl_factor(t, hermitian=h)),
            [a],
            tol=tol,
            grad=False,
        )


def test_ldl_reads_only_the_lower_triangle(torch):
    a = indefinite(5, 5, dtype=np.complex128, hermitian=True, seed=2)
    for herm in (False, True):
        junk = a + np.triu(make(randn(5, 5, seed=3), np.complex128), 1)
        if herm:  # nor the imaginary part of a Hermitian diagonal
            junk[np.arange(5), np.arange(5)] += 1j
        ld_a, piv_a = LA.ldl_factor(ember.tensor(a), hermitian=herm)
        ld_j, piv_j = against_torch(
            torch, lambda m, t, h=herm: tuple(m.ldl_factor(t, hermitian=h)), [junk], grad=False
        )
        np.testing.assert_array_equal(piv_j.numpy(), piv_a.numpy())
        np.testing.assert_array_equal(ld_j.numpy(), ld_a.numpy())


@pytest.mark.parametrize("dtype,hermitian", CASES, ids=case_ids)
def test_ldl_solve_matches_torch_and_numpy(torch, dtype, hermitian):
    a = indefinite(3, 6, 6, dtype=dtype, hermitian=hermitian, seed=4)
    b = make(randn(3, 6, 2, seed=5), dtype, seed=5)

    def f(m, t, rhs):
        ld, piv = m.ldl_factor(t, hermitian=hermitian)
        return m.ldl_solve(ld, piv, rhs, hermitian=hermitian)

    (x,) = against_torch(torch, f, [a, b], grad=False)
    assert x.shape == (3, 6, 2)
    wide = np.complex128 if np.dtype(dtype).kind == "c" else np.float64
    ref = np.linalg.solve(a.astype(wide), b.astype(wide))
    tol = 1e-3 if dtype in (np.float32, np.complex64) else 1e-10
    np.testing.assert_allclose(x.numpy(), ref, rtol=tol, atol=tol)


def test_ldl_solve_broadcasts_batches(torch):
    a = indefinite(3, 5, 5, dtype=np.float64, hermitian=False, seed=6)
    ld, piv = LA.ldl_factor(ember.tensor(a))
    ld_t, piv_t = torch.linalg.ldl_factor(torch.tensor(a))
    for b in (randn(5, 2, seed=7), randn(1, 5, 3, seed=8)):  # shapes torch broadcasts
        x = LA.ldl_solve(ld, piv, ember.tensor(b)).numpy()
        x_t = torch.linalg.ldl_solve(ld_t, piv_t, torch.tensor(b)).numpy()
        np.testing.assert_allclose(x, x_t, **TOLS[np.float64])
    x = LA.ldl_solve(ld[0], piv[0], ember.tensor(randn(4, 5, 2, seed=9))).numpy()
    assert x.shape == (4, 5, 2)
    np.testing.assert_allclose(np.einsum("ij,bjk->bik", a[0], x), randn(4, 5, 2, seed=9))
    # (2, 1) against (3,): torch 2.13 crashes on this one; ember broadcasts to (2, 3)
    b = randn(2, 1, 5, 2, seed=10)
    x = LA.ldl_solve(ld, piv, ember.tensor(b)).numpy()
    assert x.shape == (2, 3, 5, 2)
    np.testing.assert_allclose(a @ x, np.broadcast_to(b, x.shape), atol=1e-10)


def test_singular_ldl_factor_raises_and_ex_reports_info(torch):
    s = np.diag([1.0, 0.0, 0.0])
    batch = np.stack([indefinite(3, 3, dtype=np.float64, hermitian=False, seed=11), s])
    same_error(torch, lambda m, t: m.ldl_factor(t), [s], r"D\[2,2\] is zero")
    same_error(torch, lambda m, t: m.ldl_factor(t), [batch], r"\(Batch element 1\): D\[2,2\]")
    same_error(torch, lambda m, t: m.ldl_factor_ex(t, check_errors=True), [batch], "ldl_factor_ex")
    _, _, info = against_torch(torch, lambda m, t: tuple(m.ldl_factor_ex(t)), [batch], grad=False)
    np.testing.assert_array_equal(info.numpy(), [0, 2])
    swap = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 0.0]])  # 2×2 block, then 0
    _, piv, info = against_torch(torch, lambda m, t: tuple(m.ldl_factor_ex(t)), [swap], grad=False)
    np.testing.assert_array_equal(piv.numpy(), [-2, -2, 3])
    assert int(info.numpy()) == 3
    _, _, info = LA.ldl_factor_ex(ember.tensor(np.zeros((2, 2), np.float32)))
    assert int(info.numpy()) == int(torch.linalg.ldl_factor_ex(torch.zeros(2, 2)).info) == 1


def test_ldl_has_no_derivative_as_torch(torch):
    a = indefinite(4, 4, dtype=np.float64, hermitian=False, seed=12)
    b = randn(4, 2, seed=13)
    for m in (ember, torch):
        t = m.tensor(a, requires_grad=True)
        ld, piv = m.linalg.ldl_factor(t)
        assert ld.requires_grad and not piv.requires_grad
        with pytest.raises(RuntimeError, match="derivative for aten::linalg_ldl_factor_ex"):
            ld.sum().backward()
        ex = m.linalg.ldl_factor_ex(t)
        with pytest.raises(RuntimeError, match="derivative for aten::linalg_ldl_factor_ex"):
            ex.LD.sum().backward()
        ld, piv = m.linalg.ldl_factor(m.tensor(a))
        rhs = m.tensor(b, requires_grad=True)
        x = m.linalg.ldl_solve(ld, piv, rhs)
        assert x.requires_grad
        with pytest.raises(RuntimeError, match="derivative for aten::linalg_ldl_solve"):
            x.sum().backward()
    # without grad nothing is recorded
    ld, _ = LA.ldl_factor(ember.tensor(a))
    assert not ld.requires_grad


def test_ldl_errors_match_torch(torch):
    same_error(torch, lambda m, t: m.ldl_factor(t), [randn(3)], "at least 2 dimensions")
    same_error(torch, lambda m, t: m.ldl_factor_ex(t), [randn(3, 4)], "3 by 4 matrices")
    same_error(torch, lambda m, t: m.ldl_factor(t), [np.ones((3, 3), np.int64)], "Got Long")
    same_error(torch, lambda m, t: m.ldl_factor(t), [np.eye(3, dtype=np.float16)], "Half")
    a = indefinite(4, 4, dtype=np.float64, hermitian=False, seed=14)
    ld_e, piv_e = LA.ldl_factor(ember.tensor(a))
    ld_t, piv_t = torch.linalg.ldl_factor(torch.tensor(a))
    b = randn(4, 2, seed=15)

    def both(f, match, cls=RuntimeError):
        with pytest.raises(cls):
            f(torch, ld_t, piv_t)
        with pytest.raises(cls, match=match):
            f(ember, ld_e, piv_e)

    solve = lambda m, ld, p, rhs: m.linalg.ldl_solve(ld, p, rhs)  # noqa: E731
    both(lambda m, ld, p: solve(m, ld, p, m.tensor(b[:, 0])), "out of range", IndexError)
    both(lambda m, ld, p: solve(m, ld, p, m.tensor(randn(5, 2))), "4 by 4 but each b matrix is 5")
    both(lambda m, ld, p: solve(m, ld, p, m.tensor(b).float()), "b of type Float and A of type")
    both(lambda m, ld, p: solve(m, ld, p, m.tensor(b) + 0j), "ComplexDouble and A of type Double")
    both(lambda m, ld, p: solve(m, ld[:, :3], p, m.tensor(b)), "4 by 3 matrices")
    both(lambda m, ld, p: solve(m, ld, p[:3], m.tensor(b)), r"pivots with shape \[3\]")
    both(lambda m, ld, p: solve(m, ld[0], p, m.tensor(b)), "at least 2 dimensions")
    both(lambda m, ld, p: solve(m, ld, p.float(), m.tensor(b)), "pivots to be integers. Got Float")
    both(lambda m, ld, p: solve(m, ld.long(), p, m.tensor(b).long()), "floating point or complex")
    ld3, piv3 = LA.ldl_factor(ember.tensor(np.stack([a, a, a])))
    with pytest.raises(RuntimeError, match=r"tensor a \(2\) must match .* b \(3\)"):
        LA.ldl_solve(ld3, piv3, ember.tensor(randn(2, 4, 2)))
    # any integer pivots are taken, as torch's
    x = LA.ldl_solve(ld_e, ember.tensor(piv_e.numpy().astype(np.int64)), ember.tensor(b))
    np.testing.assert_allclose(x.numpy(), np.linalg.solve(a, b), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("dtype,hermitian", CASES, ids=case_ids)
def test_ldl_factor_matches_lapack_sytrf(dtype, hermitian):
    # a second reference: reference-LAPACK's sytrf / hetrf through SciPy (torch's is MKL's)
    lapack = pytest.importorskip("scipy.linalg.lapack")
    kind = {np.float32: "s", np.float64: "d", np.complex64: "c", np.complex128: "z"}[dtype]
    name = kind + ("hetrf" if hermitian and kind in "cz" else "sytrf")
    for seed in range(20, 26):
        a = indefinite(7, 7, dtype=dtype, hermitian=hermitian, seed=seed)
        ld_r, piv_r, info = getattr(lapack, name)(a, lower=1)
        assert info == 0
        ld, piv = LA.ldl_factor(ember.tensor(a), hermitian=hermitian)
        np.testing.assert_array_equal(piv.numpy(), piv_r)
        np.testing.assert_allclose(ld.numpy(), np.tril(ld_r), **TOLS[dtype])
