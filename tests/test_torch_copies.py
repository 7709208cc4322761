"""torch's *_copy forms and top-level in-place forms (ember/torch_copies.py) against torch:
values, shapes, dtypes and strides, no memory shared with the input, gradients (gradcheck in
float64 and against torch) and torch's errors."""

from __future__ import annotations

import numpy as np
import pytest

import ember
from tests.torch_pairs import check, leaves, rand, same_error

A = rand(3, 4)
CUBE = rand(2, 3, 4)
# name, input array, args, kwargs
COPIES = [
    ("alias_copy", A, (), {}),
    ("as_strided_copy", A, ((2, 2), (1, 2)), {}),
    ("as_strided_copy", A, ((2, 3), (4, 1), 1), {}),
    ("diagonal_copy", A, (), {}),
    ("diagonal_copy", CUBE, (), {"offset": -1, "dim1": 2, "dim2": 0}),
    ("expand_copy", rand(3, 1), ([2, 3, 4],), {}),
    ("expand_copy", rand(3, 1), ((3, -1),), {"implicit": True}),
    ("permute_copy", CUBE, ((2, 0, 1),), {}),
    ("select_copy", CUBE, (1, -1), {}),
    ("slice_copy", A, (), {}),
    ("slice_copy", A, (1, 1, None, 2), {}),
    ("slice_copy", A, (), {"dim": -1, "start": -3, "end": 100}),
    ("slice_copy", A, (0, 5, 1), {}),
    ("squeeze_copy", rand(1, 3, 1), (), {}),
    ("squeeze_copy", rand(1, 3, 1), (0,), {}),
    ("squeeze_copy", rand(1, 3, 1), ((0, 2),), {}),
    ("t_copy", A, (), {}),
    ("t_copy", rand(4), (), {}),
    ("transpose_copy", CUBE, (0, 2), {}),
    ("unfold_copy", A, (1, 2, 1), {}),
    ("unfold_copy", CUBE, (0, 1, 2), {}),
    ("unsqueeze_copy", A, (-1,), {}),
    ("unsqueeze_copy", A, (0,), {}),
    ("view_copy", A, ((2, -1),), {}),
    ("view_copy", CUBE, ([24],), {}),
    ("view_as_complex_copy", rand(3, 2), (), {}),
    ("split_copy", A, (2,), {}),
    ("split_copy", A, (3, 1), {}),
    ("split_with_sizes_copy", A, ([1, 3],), {"dim": 1}),
    ("unbind_copy", A, (1,), {}),
    ("unbind_copy", CUBE, (), {}),
]


def _arrays(out):
    return out if isinstance(out, tuple) else (out,)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", COPIES, ids=lambda c: c[0] if isinstance(c, str) else None)
def test_copies_match_torch(torch, case, dtype):
    name, a, args, kwargs = case
    grad = name != "view_as_complex_copy"  # torch refuses autograd for its complex output
    if grad:
        (e,), (t,) = leaves(torch, a.astype(dtype))
    else:
        e, t = ember.tensor(a.astype(dtype)), torch.tensor(a.astype(dtype))
    eo, to = getattr(ember, name)(e, *args, **kwargs), getattr(torch, name)(t, *args, **kwargs)
    assert isinstance(eo, tuple) == isinstance(to, tuple)
    check(torch, eo, to, [e] if grad else [], [t] if grad else [], dtype)
    for piece, t_piece in zip(_arrays(eo), _arrays(to)):
        if piece.numel():  # (ember's Tensor.stride reports 0s for an empty array)
            assert piece.stride() == t_piece.stride()  # fresh row-major memory, as torch's
        assert not np.shares_memory(piece.detach().numpy(), e.detach().numpy())


@pytest.mark.parametrize("case", COPIES, ids=lambda c: c[0] if isinstance(c, str) else None)
def test_copies_gradcheck(case):
    name, a, args, kwargs = case
    if name == "view_as_complex_copy":
        pytest.skip("complex output")
    x = ember.tensor(a, requires_grad=True)

    def fn(x):
        out = getattr(ember, name)(x, *args, **kwargs)
        return sum((p * (i + 1)).sum() for i, p in enumerate(_arrays(out)))

    assert ember.gradcheck(fn, (x,))


def test_copies_are_independent_of_the_input():
    x = ember.tensor(rand(3, 4))
    before = x.numpy().copy()
    for out in (ember.alias_copy(x), ember.t_copy(x), ember.view_copy(x, (12,)),
                ember.expand_copy(x, (2, 3, 4)), ember.select_copy(x, 0, 1)):  # fmt: skip
        out.fill_(7.0)
        np.testing.assert_array_equal(x.numpy(), before)


def test_detach_copy(torch):
    (e,), (t,) = leaves(torch, A)
    eo, to = ember.detach_copy(e * 2), torch.detach_copy(t * 2)
    np.testing.assert_allclose(eo.numpy(), to.detach().numpy())
    # torch marks its result requires_grad with a backward that raises NotImplemented;
    # ember's is outside the graph, as detach's
    assert not eo.requires_grad and eo.is_leaf
    assert not np.shares_memory(eo.numpy(), e.detach().numpy())


def test_view_as_real_copy(torch):
    z = (rand(3, 2) + 1j * rand(3, 2, seed=1)).astype(np.complex128)
    (e,), (t,) = leaves(torch, z)
    check(torch, ember.view_as_real_copy(e), torch.view_as_real_copy(t), [e], [t], np.float64)
    c = ember.view_as_complex_copy(ember.tensor(rand(3, 2)))
    np.testing.assert_allclose(c.numpy(), torch.view_as_complex_copy(torch.tensor(rand(3, 2))))


@pytest.mark.parametrize("dtype", ["int32", "int16", "float64", "complex64", "float16", "uint8"])
def test_view_copy_dtype(torch, dtype):
    (e,), (t,) = leaves(torch, rand(2, 4, dtype=np.float32))
    eo, to = ember.view_copy(e, getattr(ember, dtype)), torch.view_copy(t, getattr(torch, dtype))
    assert eo.shape == tuple(to.shape) and eo.dtype == to.numpy().dtype
    np.testing.assert_array_equal(eo.numpy(), to.numpy())
    assert not eo.requires_grad and not to.requires_grad  # not differentiable in torch either
    x, tx = ember.tensor(rand(2, 4, dtype=np.float32)), torch.tensor(rand(2, 4, dtype=np.float32))
    np.testing.assert_array_equal(ember.view_copy(x.t(), ember.int32).numpy(),
                                  torch.view_copy(tx.t(), torch.int32).numpy())  # fmt: skip


def test_view_copy_dtype_errors(torch):
    cases = [((), "float64"), ((3,), "float64"), ((2, 4), "float64", "t"),
             ((2, 3), "float64", "cols")]  # fmt: skip
    for shape, dtype, *how in cases:
        a = rand(*shape, dtype=np.float32)

        def make(lib, a=a, how=how):
            x = lib.tensor(a)
            return x.t() if how == ["t"] else x[:, :2] if how == ["cols"] else x

        same_error(torch, lambda d=dtype: ember.view_copy(make(ember), getattr(ember, d)),
                   lambda d=dtype: torch.view_copy(make(torch), getattr(torch, d)))  # fmt: skip


def test_copy_errors(torch):
    a = rand(3, 4)
    cases = [
        ("t_copy", (3,)), ("permute_copy", (a, [1])), ("unsqueeze_copy", (a, 3)),
        ("slice_copy", (a, 2)), ("slice_copy", (a, 0, 0, 3, 0)), ("squeeze_copy", (a, 2)),
        ("select_copy", (a, 1, 4)), ("split_copy", (a, [1, 2])), ("expand_copy", (a, 4)),
        ("split_with_sizes_copy", (a, [1, 1])), ("view_copy", (a, (5, -1))),
        ("view_as_real_copy", (a,)), ("alias_copy", ([1.0],)),
    ]  # fmt: skip
    for name, args in cases:
        e_args = [ember.tensor(v) if isinstance(v, np.ndarray) else v for v in args]
        t_args = [torch.tensor(v) if isinstance(v, np.ndarray) else v for v in args]
        same_error(torch, lambda n=name, v=e_args: getattr(ember, n)(*v),
                   lambda n=name, v=t_args: getattr(torch, n)(*v))  # fmt: skip
    with pytest.raises(TypeError):  # torch accepts no separate sizes either
        ember.expand_copy(ember.tensor(a), 3, 4)


def test_values_and_indices_copy_are_left_out(torch):
    # torch's values_copy / indices_copy are for sparse tensors; on dense ones they raise
    with pytest.raises(RuntimeError, match="expected sparse"):
        torch.values_copy(torch.ones(2))
    assert not hasattr(ember, "values_copy") and not hasattr(ember, "indices_copy")


# ---------------------------------------------------------------- in-place forms
UNARY = {
    "acosh_": lambda a: np.abs(a) + 1.1, "arccosh_": lambda a: np.abs(a) + 1.1,
    "arccos_": lambda a: np.tanh(a) * 0.9, "arcsin_": lambda a: np.tanh(a) * 0.9,
    "arctanh_": lambda a: np.tanh(a) * 0.9, "atanh_": lambda a: np.tanh(a) * 0.9,
    "arcsinh_": lambda a: a, "asinh_": lambda a: a, "arctan_": lambda a: a, "erfc_": lambda a: a,
    "exp2_": lambda a: a, "i0_": lambda a: a,
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_inplace_forms(torch, name):
    (e,), (t,) = leaves(torch, UNARY[name](rand(2, 3)))
    eo, to = e * 1, t * 1  # in place on a non-leaf, recorded for autograd
    er, tr = getattr(ember, name)(eo), getattr(torch, name)(to)
    assert er is eo and tr is to
    # torch has no derivative for in-place acosh, asinh, atanh (and their arc aliases): values
    # against torch there, gradients by gradcheck
    grad = name.strip("_").removeprefix("arc").removeprefix("a") not in ("cosh", "sinh", "tanh")
    check(torch, er, tr, [e] if grad else [], [t] if grad else [], np.float64, grad=grad)
    x = ember.tensor(UNARY[name](rand(2, 3)), requires_grad=True)
    assert ember.gradcheck(lambda x: getattr(ember, name)(x * 1), (x,))
    same_error(torch, lambda: getattr(ember, name)(3), lambda: getattr(torch, name)(3))
    same_error(torch, lambda: getattr(ember, name)([1.0]), lambda: getattr(torch, name)([1.0]))


def test_inplace_forms_with_arguments(torch):
    cases = [
        ("clamp_max_", (0.2,)), ("clamp_min_", (-0.1,)), ("clamp_max_", (np.array(0.3),)),
        ("ldexp_", (np.array([2.0, -1.0, 0.0]),)), ("fill_", (2.5,)), ("fill_", (np.array(1.5),)),
    ]  # fmt: skip
    for name, args in cases:
        (e,), (t,) = leaves(torch, rand(2, 3))
        eo, to = e * 1, t * 1
        e_args = [ember.tensor(v) if isinstance(v, np.ndarray) else v for v in args]
        t_args = [torch.tensor(v) if isinstance(v, np.ndarray) else v for v in args]
        er, tr = getattr(ember, name)(eo, *e_args), getattr(torch, name)(to, *t_args)
        assert er is eo
        check(torch, er, tr, [e], [t], np.float64)
    (e, m, v), (t, tm, tv) = leaves(torch, rand(2), rand(2, 3, seed=1), rand(3, seed=2))
    eo, to = e * 1, t * 1
    check(torch, ember.addmv_(eo, m, v, beta=2, alpha=3), torch.addmv_(to, tm, tv, beta=2,
          alpha=3), [e, m, v], [t, tm, tv], np.float64)  # fmt: skip


def test_integer_inplace_forms(torch):
    a, b = np.array([4, 6, 0, -12, 7]), np.array([6, 9, 5, 18, 0])
    for name in ("gcd_", "lcm_"):
        e, t = ember.tensor(a), torch.tensor(a)
        assert getattr(ember, name)(e, ember.tensor(b)) is e
        getattr(torch, name)(t, torch.tensor(b))
        assert e.tolist() == t.tolist() and e.dtype == np.int64
        same_error(torch, lambda n=name: getattr(ember, n)(ember.tensor(A), ember.tensor(A)),
                   lambda n=name: getattr(torch, n)(torch.tensor(A), torch.tensor(A)))  # fmt: skip


def test_inplace_form_errors(torch):
    x, tx = ember.tensor(A), torch.tensor(A)
    same_error(torch, lambda: ember.ldexp_(x, 2), lambda: torch.ldexp_(tx, 2))
    same_error(torch, lambda: ember.fill_(x, ember.tensor([1.0, 2.0])),
               lambda: torch.fill_(tx, torch.tensor([1.0, 2.0])))  # fmt: skip
    with pytest.raises(TypeError):  # a float result cannot go into an int64 tensor in place
        ember.acosh_(ember.tensor([1, 2]))
    with pytest.raises(RuntimeError):
        torch.acosh_(torch.tensor([1, 2]))
    assert not hasattr(ember, "conj_physical_")  # ember's Tensor has no conj_physical_
