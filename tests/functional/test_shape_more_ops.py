"""rot90, hsplit/vsplit/dsplit, msort, tensordot, block_diag and kthvalue against torch
(outputs and the gradients of a weighted sum, float32 and float64), gradcheck of each
(float64), and the errors for bad input."""

import numpy as np
import pytest

import ember
from tests.torch_pairs import DTYPES, check, leaves, rand


# ---------------------------------------------------------------- rot90
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("k", [-5, -1, 0, 1, 2, 3, 4, 7])
@pytest.mark.parametrize("dims", [(0, 1), (1, 0), (0, 2), (-1, -2), (2, 1)])
def test_rot90_matches_torch(torch, dtype, k, dims):
    (e,), (t,) = leaves(torch, rand(3, 4, 5, dtype=dtype))
    check(torch, ember.rot90(e, k, dims), torch.rot90(t, k, dims), [e], [t], dtype)


def test_rot90_method_and_default(torch):
    a = rand(2, 3)
    np.testing.assert_array_equal(ember.tensor(a).rot90().array, torch.tensor(a).rot90().numpy())
    np.testing.assert_array_equal(ember.rot90(a).array, torch.rot90(torch.tensor(a)).numpy())


# ---------------------------------------------------------------- hsplit / vsplit / dsplit
SPLITS = [
    ("hsplit", (6,), 3),
    ("hsplit", (6,), [1, 4]),
    ("hsplit", (3, 6), 2),
    ("hsplit", (3, 6, 2), [2, 5, 9]),
    ("vsplit", (4, 3), 2),
    ("vsplit", (4, 3, 2), [1, 3]),
    ("vsplit", (4, 3), [3, 1]),
    ("dsplit", (2, 3, 4), 4),
    ("dsplit", (2, 3, 4, 2), [1, 2]),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name, shape, sections", SPLITS)
def test_splits_match_torch(torch, dtype, name, shape, sections):
    (e,), (t,) = leaves(torch, rand(*shape, dtype=dtype))
    e_out = getattr(ember, name)(e, sections)
    t_out = getattr(torch, name)(t, sections)
    assert isinstance(e_out, tuple)
    check(torch, e_out, t_out, [e], [t], dtype)
    m_out = getattr(e, name)(sections)
    assert [tuple(p.shape) for p in m_out] == [tuple(p.shape) for p in t_out]


@pytest.mark.parametrize(
    "name, shape, sections, match",
    [
        ("hsplit", (), 1, "at least 1 dimension"),
        ("vsplit", (4,), 2, "at least 2 dimensions"),
        ("dsplit", (4, 2), 2, "at least 3 dimensions"),
        ("hsplit", (3, 5), 2, "size of the dimension 5 is not divisible by the split_size 2"),
        ("vsplit", (5, 3), 2, "dimension 0, but the size of the dimension 5"),
        ("dsplit", (1, 1, 3), 2, "dimension 2, but the size of the dimension 3"),
        ("hsplit", (3, 4), 0, "not divisible by the split_size 0"),
    ],
)
def test_split_errors(torch, name, shape, sections, match):
    with pytest.raises(RuntimeError, match=match):
        getattr(ember, name)(ember.tensor(rand(*shape)), sections)
    with pytest.raises(RuntimeError):
        getattr(torch, name)(torch.tensor(rand(*shape)), sections)


# ---------------------------------------------------------------- msort
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(5,), (4, 3), (3, 2, 4)])
def test_msort_matches_torch(torch, dtype, shape):
    (e,), (t,) = leaves(torch, rand(*shape, dtype=dtype))
    check(torch, ember.msort(e), torch.msort(t), [e], [t], dtype)
    np.testing.assert_array_equal(e.msort().array, t.msort().detach().numpy())


# ---------------------------------------------------------------- tensordot
TDOTS = [
    ((3, 4, 5), (4, 5, 2), 2),
    ((3, 4), (4, 5), 1),
    ((3, 4), (5, 2), 0),
    ((2, 3, 4), (2, 3, 4), 3),
    ((3, 4, 5), (5, 2, 4), ([1, 2], [2, 0])),
    ((3, 4, 5), (4, 3), ([0, 1], [1, 0])),
    ((3, 4, 5), (5, 6), ([-1], [0])),
    ((3, 4), (2, 3), ([0], [1])),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("sa, sb, dims", TDOTS)
def test_tensordot_matches_torch(torch, dtype, sa, sb, dims):
    (ea, eb), (ta, tb) = leaves(torch, rand(*sa, dtype=dtype), rand(*sb, dtype=dtype, seed=1))
    check(
        torch,
        ember.tensordot(ea, eb, dims),
        torch.tensordot(ta, tb, dims),
        [ea, eb],
        [ta, tb],
        dtype,
    )


@pytest.mark.parametrize(
    "sa, sb, dims, match",
    [
        ((3, 4), (5, 2), 1, "first has size 4 in dim 1 and second has size 5 in dim 0"),
        ((3, 4), (4, 2), 3, "dims <= 2"),
        ((3, 4), (4, 2), -1, "dims >= 0"),
        ((3, 4), (4, 3), ([0, 1], [1]), "same length, got 2 and 1"),
        ((3, 4), (4, 3), ([2], [0]), "out of range"),
    ],
)
def test_tensordot_errors(torch, sa, sb, dims, match):
    with pytest.raises((RuntimeError, IndexError), match=match):
        ember.tensordot(ember.tensor(rand(*sa)), ember.tensor(rand(*sb)), dims)
    with pytest.raises((RuntimeError, IndexError)):
        torch.tensordot(torch.tensor(rand(*sa)), torch.tensor(rand(*sb)), dims)


# ---------------------------------------------------------------- block_diag
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    "shapes",
    [[(2, 3), (1, 1), (3, 2)], [(), (3,), (2, 2)], [(4,)], [(2, 0), (1, 3)]],
)
def test_block_diag_matches_torch(torch, dtype, shapes):
    arrays = [rand(*s, dtype=dtype, seed=i) for i, s in enumerate(shapes)]
    es, ts = leaves(torch, *arrays)
    check(torch, ember.block_diag(*es), torch.block_diag(*ts), es, ts, dtype)


def test_block_diag_empty_1d_block(torch):
    # a 1-D input of 0 elements is a 1×0 block: its row is all zeros. torch's forward agrees;
    # its backward hands the (2, 2) block the rows 0:2 of the output's gradient rather than
    # 1:3 where the block sits, so the gradient is checked against the slice itself.
    b = rand(2, 2)
    e_b = ember.tensor(b, requires_grad=True)
    out = ember.block_diag(ember.tensor(np.zeros(0)), e_b)
    ref = torch.block_diag(torch.tensor(np.zeros(0)), torch.tensor(b))
    np.testing.assert_array_equal(out.array, ref.numpy())
    w = rand(3, 2, seed=5)
    (out * ember.tensor(w)).sum().backward()
    np.testing.assert_array_equal(e_b.grad.array, w[1:3])


def test_block_diag_dtype_and_errors(torch):
    ints, floats = np.array([1, 2]), np.ones((2, 2), np.float32)
    e = ember.block_diag(ember.tensor(ints), ember.tensor(floats))
    t = torch.block_diag(torch.tensor(ints), torch.tensor(floats))
    assert str(e.dtype) == str(t.dtype).replace("torch.", "")
    np.testing.assert_array_equal(e.array, t.numpy())
    with pytest.raises(RuntimeError, match="Input 1 has 3 dimensions"):
        ember.block_diag(ember.ones(2), ember.ones(1, 2, 2))


# ---------------------------------------------------------------- kthvalue
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("k, dim", [(1, -1), (3, -1), (5, 2), (2, 0), (4, 1), (1, -3)])
@pytest.mark.parametrize("keepdim", [False, True])
def test_kthvalue_matches_torch(torch, dtype, k, dim, keepdim):
    (e,), (t,) = leaves(torch, rand(4, 4, 5, dtype=dtype))
    er = ember.kthvalue(e, k, dim, keepdim)
    tr = torch.kthvalue(t, k, dim, keepdim)
    assert type(er).__name__ == "kthvalue" and er._fields == ("values", "indices")
    np.testing.assert_array_equal(er.indices.array, tr.indices.numpy())
    check(torch, er.values, tr.values, [e], [t], dtype)
    values, indices = e.kthvalue(k, dim, keepdim=keepdim)
    np.testing.assert_array_equal(indices.array, tr.indices.numpy())


def test_kthvalue_0d_and_1d(torch):
    a = rand(6)
    er, tr = ember.kthvalue(ember.tensor(a), 2), torch.kthvalue(torch.tensor(a), 2)
    assert er.values.shape == () and int(er.indices.array) == int(tr.indices)
    e0 = ember.tensor(3.0).kthvalue(1)
    assert e0.values.shape == () and float(e0.values.array) == 3.0 and int(e0.indices.array) == 0


def test_kthvalue_errors(torch):
    x = ember.tensor(rand(3, 4))
    for k in (0, 5, -1):
        with pytest.raises(IndexError, match=f"expected 1 <= k <= 4, got k = {k}"):
            x.kthvalue(k)
        with pytest.raises((RuntimeError, IndexError)):
            torch.tensor(rand(3, 4)).kthvalue(k)
    with pytest.raises(IndexError, match="dim 2 is out of range"):
        x.kthvalue(1, 2)


# ---------------------------------------------------------------- gradcheck (float64)
def test_gradchecks():
    x = ember.tensor(rand(3, 4, 2), requires_grad=True)
    y = ember.tensor(rand(4, 2, 5, seed=1), requires_grad=True)
    assert ember.gradcheck(lambda a: ember.rot90(a, 1, (0, 2)), (x,))
    assert ember.gradcheck(lambda a: ember.rot90(a, 3, (1, 0)), (x,))
    assert ember.gradcheck(lambda a: ember.hsplit(a, [1, 3])[1], (x,))
    assert ember.gradcheck(lambda a: ember.vsplit(a, 3)[2], (x,))
    assert ember.gradcheck(lambda a: ember.dsplit(a, 2)[0], (x,))
    assert ember.gradcheck(lambda a: ember.msort(a), (x,))
    assert ember.gradcheck(lambda a, b: ember.tensordot(a, b, ([1, 2], [0, 1])), (x, y))
    assert ember.gradcheck(lambda a, b: ember.tensordot(a, b, 1), (x, y.transpose(0, 1)))
    z = ember.tensor(rand(2, 3, seed=2), requires_grad=True)
    v = ember.tensor(rand(3, seed=3), requires_grad=True)
    assert ember.gradcheck(lambda a, b: ember.block_diag(a, b), (z, v))
    assert ember.gradcheck(lambda a: a.kthvalue(2, 1).values, (x,))
    assert ember.gradcheck(lambda a: a.kthvalue(3, 0, keepdim=True).values, (x,))
