"""ember.linalg and ember.fft where they used to differ from torch 2.13 (found by fuzzing both
side by side): norms of 0-d tensors and their ``dtype=`` checks, cond of a singular matrix,
solve's left=False shape check, LU without pivoting of an empty matrix, lowercase UPLO,
vecdot's and vander's dtypes, matrix_rank's older ``tol`` form, and torch.fft's argument
checks (dims, n, s, norm, in torch's order), fftfreq / rfftfreq's edges and fftshift's dims."""

import math

import numpy as np
import pytest

import ember


def _both(torch, a):
    a = np.asarray(a)
    return torch.tensor(a), ember.tensor(a)


def _same(t, e, tol=1e-10):
    assert str(e.dtype).split(".")[-1] == str(t.dtype).split(".")[-1]
    np.testing.assert_allclose(
        e.detach().numpy(), t.detach().resolve_conj().numpy(), rtol=tol, atol=tol
    )


# ---------------------------------------------------------------- norms


@pytest.mark.parametrize("dim", [0, -1, (0,), None])
@pytest.mark.parametrize("ord", [2, 1, -1, 0.5, math.inf, -math.inf])
@pytest.mark.parametrize("keepdim", [False, True])
def test_vector_norm_of_a_0d_tensor_takes_dim_0_and_minus_1(torch, dim, ord, keepdim):
    t, e = _both(torch, -1.5)
    t.requires_grad_(), e.requires_grad_()
    rt = torch.linalg.vector_norm(t, ord, dim, keepdim)
    re = ember.linalg.vector_norm(e, ord, dim, keepdim)
    _same(rt, re)
    rt.backward(), re.backward()
    _same(t.grad, e.grad)
    if dim is not None:  # with an ord, linalg.norm wants a dim for a 0-d tensor
        _same(torch.linalg.norm(t.detach(), ord, dim), ember.linalg.norm(e.detach(), ord, dim))


def _norm_dtypes(lib):
    x64 = lib.ones(2, 2, dtype=lib.float64)
    xc = lib.ones(2, 2, dtype=lib.complex64)
    la = lib.linalg
    return [
        ("narrowing", lambda: la.vector_norm(x64, dtype=lib.float32)),
        ("narrowing matrix", lambda: la.matrix_norm(x64, dtype=lib.float32)),
        ("narrowing nuc", lambda: la.matrix_norm(x64, "nuc", dtype=lib.float32)),
        ("narrowing norm", lambda: la.norm(x64, dtype=lib.float16)),
        ("complex for real", lambda: la.vector_norm(x64, dtype=lib.complex128)),
        ("real for complex", lambda: la.matrix_norm(xc, dtype=lib.float64)),
        ("narrowing complex", lambda: la.vector_norm(xc.to(lib.complex128), dtype=lib.complex64)),
        ("integer dtype", lambda: la.vector_norm(x64, dtype=lib.int64)),
    ]


@pytest.mark.parametrize("k", range(8))
def test_norm_dtype_may_only_widen_within_its_kind(refused_alike, k):
    refused_alike(_norm_dtypes, k)


def test_norm_dtype_that_widens_is_taken(torch):
    a = np.arange(4.0).reshape(2, 2)
    t, e = _both(torch, a.astype(np.float32))
    _same(
        torch.linalg.vector_norm(t, dtype=torch.float64),
        ember.linalg.vector_norm(e, dtype=ember.float64),
    )
    tc, ec = _both(torch, (a + 1j).astype(np.complex64))
    _same(
        torch.linalg.matrix_norm(tc, "nuc", dtype=torch.complex128),
        ember.linalg.matrix_norm(ec, "nuc", dtype=ember.complex128),
    )


@pytest.mark.parametrize("p", [1, -1, math.inf, -math.inf, "fro", "nuc"])
def test_cond_of_a_singular_matrix_is_inf(torch, p):
    a = np.random.default_rng(0).standard_normal((3, 3, 3))
    a[1, :, 0] = 0  # the middle matrix is singular
    t, e = _both(torch, a)
    _same(torch.linalg.cond(t, p), ember.linalg.cond(e, p))
    _same(torch.linalg.cond(t[1], p), ember.linalg.cond(e[1], p))


# ---------------------------------------------------------------- solvers, factorizations


def _solve_right_shapes(lib):
    A = lib.ones(2, 3, 3, dtype=lib.float64)
    return [
        (
            "XA=B, B (3, 2)",
            lambda: lib.linalg.solve(A, lib.ones(3, 2, dtype=lib.float64), left=False),
        ),
        ("solve_ex", lambda: lib.linalg.solve_ex(A, lib.ones(3, 2, dtype=lib.float64), left=False)),
    ]


@pytest.mark.parametrize("k", range(2))
def test_solve_right_checks_b_before_transposing_it(refused_alike, k):
    refused_alike(_solve_right_shapes, k)


@pytest.mark.parametrize("shape", [(0, 0), (2, 0, 0), (0, 3, 3), (3, 0), (0, 2)])
def test_lu_without_pivoting_of_an_empty_matrix(torch, shape):
    t, e = _both(torch, np.zeros(shape))
    for name in ("lu", "lu_factor", "lu_factor_ex"):
        rt = getattr(torch.linalg, name)(t, pivot=False)
        re = getattr(ember.linalg, name)(e, pivot=False)
        assert [tuple(x.shape) for x in re] == [tuple(x.shape) for x in rt]
        assert [str(x.dtype).split(".")[-1] for x in re] == [
            str(x.dtype).split(".")[-1] for x in rt
        ]
    with pytest.raises(RuntimeError):
        torch.linalg.lu(torch.ones(2, 2), pivot=False)
    with pytest.raises(RuntimeError):
        ember.linalg.lu(ember.ones(2, 2), pivot=False)


@pytest.mark.parametrize("uplo", ["l", "u"])
def test_uplo_is_taken_in_lowercase(torch, uplo):
    a = np.random.default_rng(1).standard_normal((2, 3, 3))
    t, e = _both(torch, a)
    _same(torch.linalg.eigvalsh(t, UPLO=uplo), ember.linalg.eigvalsh(e, UPLO=uplo))
    _same(torch.linalg.eigh(t, UPLO=uplo)[0], ember.linalg.eigh(e, UPLO=uplo)[0])


def _dtype_refusals(lib):
    return [
        ("vecdot mixed", lambda: lib.linalg.vecdot(lib.ones(3), lib.ones(3, dtype=lib.float64))),
        (
            "vecdot real, complex",
            lambda: lib.linalg.vecdot(lib.ones(3), lib.ones(3, dtype=lib.complex64)),
        ),
        ("vander bool", lambda: lib.linalg.vander(lib.ones(3, dtype=lib.bool))),
        ("vander half", lambda: lib.linalg.vander(lib.ones(3, dtype=lib.float16))),
    ]


@pytest.mark.parametrize("k", range(4))
def test_vecdot_and_vander_refuse_dtypes_as_torch(refused_alike, k):
    refused_alike(_dtype_refusals, k)


def test_matrix_rank_takes_the_older_tol_form(torch):
    a = np.diag([3.0, 1.0, 0.2])
    t, e = _both(torch, a)
    for args, kw in [
        ((0.5,), {}),
        ((0.5, True), {}),
        ((), {"tol": 0.5, "hermitian": True}),
        ((2.0,), {}),
    ]:
        assert int(ember.linalg.matrix_rank(e, *args, **kw)) == int(
            torch.linalg.matrix_rank(t, *args, **kw)
        )
    for lib, x in ((torch, t), (ember, e)):
        with pytest.raises(TypeError):
            lib.linalg.matrix_rank(x, 0.5, atol=0.1)
        with pytest.raises(TypeError):
            lib.linalg.matrix_rank(x, None, True)


# ---------------------------------------------------------------- fft


def _fft_refusals(lib):
    x, c, s = lib.ones(3, 4), lib.ones(3, 4, dtype=lib.complex64), lib.tensor(1.0)
    F = lib.fft  # noqa: N806
    return [
        ("dim out of range", lambda: F.fft(x, dim=2), IndexError),
        ("rfft dim", lambda: F.rfft(x, dim=-3), IndexError),
        ("irfft dim", lambda: F.irfft(c, dim=5), IndexError),
        ("hfft dim", lambda: F.hfft(c, dim=2), IndexError),
        ("fft2 dims", lambda: F.fft2(x, dim=(0, 2)), IndexError),
        ("fftn dims", lambda: F.fftn(x, dim=(-3,)), IndexError),
        ("a 0-d tensor", lambda: F.fft(s), IndexError),
        ("a 0-d tensor, rfftn", lambda: F.rfftn(s, dim=(0,)), IndexError),
        ("range before repeats", lambda: F.fftn(x, dim=(0, 0, 5)), IndexError),
        ("range before complex", lambda: F.ihfftn(c, dim=(0, 2)), IndexError),
        ("n = -1", lambda: F.fft(x, n=-1), RuntimeError),
        ("irfft n = -1", lambda: F.irfft(c, n=-1), RuntimeError),
        ("repeated dims, irfftn", lambda: F.irfftn(c, dim=(1, 1)), RuntimeError),
        ("repeated dims, hfft2", lambda: F.hfft2(c, dim=(0, -2)), RuntimeError),
        ("s and dim lengths, irfftn", lambda: F.irfftn(c, s=(2,), dim=(0, 1)), RuntimeError),
        ("s and dim lengths, hfftn", lambda: F.hfftn(c, s=(2, 2, 2)), RuntimeError),
        ("s longer than the tensor", lambda: F.fftn(x, s=(2, 2, 2)), RuntimeError),
        ("no dims, irfftn", lambda: F.irfftn(c, dim=()), RuntimeError),
        ("no dims, rfftn", lambda: F.rfftn(x, dim=()), RuntimeError),
        ("norm", lambda: F.fft(x, norm="bad"), RuntimeError),
        ("norm, hfft", lambda: F.hfft(c, norm="bad"), RuntimeError),
        ("norm, ihfftn", lambda: F.ihfftn(x, norm="bad"), RuntimeError),
        ("shift over no dims", lambda: F.fftshift(x, dim=()), RuntimeError),
    ]


@pytest.mark.parametrize("k", range(23))
def test_fft_refuses_as_torch(torch, k):
    (name, call, cls), (tname, tcall, _) = _fft_refusals(ember)[k], _fft_refusals(torch)[k]
    assert name == tname
    with pytest.raises(cls):
        tcall()
    with pytest.raises(cls):
        call()


def test_fft_norm_refusal_is_still_a_value_error():
    with pytest.raises(ValueError):
        ember.fft.rfft(ember.ones(4), norm="bad")


@pytest.mark.parametrize(
    "name, kw",
    [
        ("fftn", {"s": (-1, 3)}),
        ("irfftn", {"s": (2, -1)}),
        ("hfftn", {"s": (-1, 5), "dim": (1, 0)}),
        ("fftn", {"dim": ()}),
        ("ihfftn", {"s": (3,), "dim": 0}),
    ],
)
def test_fft_sizes_and_dims_as_torch(torch, name, kw):
    a = np.random.default_rng(2).standard_normal((3, 4)) + 1j
    t, e = _both(torch, a if name not in ("ihfftn",) else a.real)
    _same(getattr(torch.fft, name)(t, **kw), getattr(ember.fft, name)(e, **kw))


@pytest.mark.parametrize("n", [0, 1, 4, 5, -1, -2, -3])
@pytest.mark.parametrize("d", [1.0, 0.5, 0.0, -2.0])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_fftfreq_edges_as_torch(torch, n, d, dtype):
    for name in ("fftfreq", "rfftfreq"):
        try:
            rt = getattr(torch.fft, name)(n, d, dtype=getattr(torch, dtype))
        except RuntimeError:
            with pytest.raises(RuntimeError):
                getattr(ember.fft, name)(n, d, dtype=getattr(ember, dtype))
            continue
        re = getattr(ember.fft, name)(n, d, dtype=getattr(ember, dtype))
        assert re.shape == tuple(rt.shape)
        np.testing.assert_array_equal(re.numpy(), rt.numpy())  # nan and ±inf alike


def _freq_refusals(lib):
    F = lib.fft  # noqa: N806
    return [
        ("integer dtype", lambda: F.fftfreq(4, dtype=lib.int64), RuntimeError),
        ("complex dtype", lambda: F.rfftfreq(4, dtype=lib.complex64), NotImplementedError),
        ("float n", lambda: F.fftfreq(4.0), TypeError),
        ("bool n", lambda: F.rfftfreq(True), TypeError),
    ]


@pytest.mark.parametrize("k", range(4))
def test_fftfreq_refuses_as_torch(torch, k):
    (name, call, cls), (tname, tcall, _) = _freq_refusals(ember)[k], _freq_refusals(torch)[k]
    assert name == tname
    with pytest.raises(cls):
        tcall()
    with pytest.raises(cls):
        call()
