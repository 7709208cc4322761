"""einsum (ops/einsum.py): float64 gradcheck and torch parity, forward and gradients, for the
usual forms: products, diagonals, traces, sums, implicit output, "..."; and its errors."""

from __future__ import annotations

import numpy as np
import pytest

import ember
from ember.ops.einsum import parse_equation
from tests.core_reference import check_gradients, compare_with_torch, randn

CASES = [
    ("matmul", "ij,jk->ik", [(3, 4), (4, 5)]),
    ("batched_matmul", "bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]),
    ("outer", "i,j->ij", [(3,), (4,)]),
    ("trace", "ii->", [(4, 4)]),
    ("diagonal", "ii->i", [(4, 4)]),
    ("transpose", "ij->ji", [(3, 4)]),
    ("sum_out", "ij->i", [(3, 4)]),
    ("sum_all", "ij->", [(3, 4)]),
    ("bilinear", "bi,ij,bj->b", [(2, 3), (3, 4), (2, 4)]),
    ("attention", "bhqd,bhkd->bhqk", [(2, 2, 3, 4), (2, 2, 5, 4)]),
    ("implicit_matmul", "ij,jk", [(3, 4), (4, 5)]),
    ("implicit_transpose", "ji", [(3, 4)]),
    ("dot", "i,i->", [(4,), (4,)]),
    ("diag_times_vector", "ii,i->i", [(3, 3), (3,)]),
    ("diag_of_batch", "bii->bi", [(2, 3, 3)]),
    ("summed_only_here", "ij,k->ik", [(3, 4), (5,)]),
    ("ellipsis", "...ij,...jk->...ik", [(2, 3, 4), (2, 4, 5)]),
    ("ellipsis_broadcast", "...ij,jk->...ik", [(2, 2, 3, 4), (4, 5)]),
    ("ellipsis_size_one", "...ij,...jk->...ik", [(1, 3, 4), (2, 4, 5)]),
    ("ellipsis_implicit", "...ij", [(2, 3, 4)]),
    ("spaces", "i j, j k -> i k", [(3, 4), (4, 5)]),
]


def _arrays(shapes):
    return [randn(*s, seed=k + 1) for k, s in enumerate(shapes)]


@pytest.mark.parametrize("name,eq,shapes", CASES, ids=[c[0] for c in CASES])
def test_einsum_gradcheck(name, eq, shapes):
    check_gradients(lambda *t: ember.einsum(eq, *t), _arrays(shapes))


@pytest.mark.parametrize("name,eq,shapes", CASES, ids=[c[0] for c in CASES])
def test_einsum_matches_torch(torch, name, eq, shapes):
    arrays = _arrays(shapes)
    for dtype in (np.float64, np.float32):
        fe, ft = (lambda *t: ember.einsum(eq, *t)), (lambda *t: torch.einsum(eq, *t))
        compare_with_torch(torch, fe, ft, arrays, dtype=dtype)


def test_einsum_gradient_is_the_rearranged_einsum():
    a = ember.tensor(randn(3, 4, seed=1), requires_grad=True)
    b = ember.tensor(randn(4, 5, seed=2), requires_grad=True)
    g = randn(3, 5, seed=3)
    (ember.einsum("ij,jk->ik", a, b) * ember.tensor(g)).sum().backward()
    np.testing.assert_allclose(a.grad.array, np.einsum("ik,jk->ij", g, b.array), rtol=1e-5)
    np.testing.assert_allclose(b.grad.array, np.einsum("ik,ij->jk", g, a.array), rtol=1e-5)


def test_einsum_diagonal_gradient_is_zero_off_the_diagonal():
    x = ember.tensor(randn(3, 3), requires_grad=True)
    ember.einsum("ii->i", x).sum().backward()
    np.testing.assert_array_equal(x.grad.array, np.eye(3, dtype=np.float32))


def test_parse_equation_makes_implicit_and_ellipsis_explicit():
    assert parse_equation("ij,jk", [(3, 4), (4, 5)]) == (["ij", "jk"], "ik")
    assert parse_equation("ba", [(3, 4)]) == (["ba"], "ab")
    ins, out = parse_equation("...ij,jk->...ik", [(2, 6, 3, 4), (4, 5)])
    assert [len(s) for s in ins] == [4, 2] and len(out) == 4 and out[-2:] == "ik"


def test_einsum_errors_name_the_problem():
    x = ember.ones(3, 4)
    with pytest.raises(ValueError, match="2 operands, 1 given"):
        ember.einsum("ij,jk->ik", x)
    with pytest.raises(ValueError, match="names 3 dims"):
        ember.einsum("ijk->i", x)
    with pytest.raises(ValueError, match="letters"):
        ember.einsum("i1->i", x)


def test_sublist_form_as_torch(torch):
    """einsum(op₁, [i, j], op₂, [j, k], …, [out]): torch's sublist form, Ellipsis included."""
    rng = np.random.default_rng(3)
    a, b, v = rng.standard_normal((2, 3)), rng.standard_normal((3, 4)), rng.standard_normal(3)
    for spec in (
        lambda lib, a, b, v: lib.einsum(a, [0, 1], b, [1, 2]),
        lambda lib, a, b, v: lib.einsum(a, [0, 1], b, [1, 2], [2, 0]),
        lambda lib, a, b, v: lib.einsum(v, [0], v, [0]),
        lambda lib, a, b, v: lib.einsum(a, [Ellipsis, 1], [1, Ellipsis]),
    ):
        got = spec(ember, *(ember.tensor(t) for t in (a, b, v)))
        want = spec(torch, *(torch.tensor(t) for t in (a, b, v)))
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-12)
