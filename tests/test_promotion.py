"""Mixed-dtype arithmetic, rounding division, remainder and bitwise ops: torch's result dtypes
and values (promotion.py, tensor_torch_arith.py), over a grid of operand kinds."""

import itertools
import operator

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")

DTYPES = ["bool", "uint8", "int32", "int64", "float32", "float64"]
SCALARS = [True, 3, 2.5]
OPS = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "/": operator.truediv,
    "**": operator.pow,
    "//": operator.floordiv,
    "%": operator.mod,
}


def _values(dtype, zero_dim):
    base = np.array(2.0 if zero_dim else [1.0, 2.0, 3.0])
    if dtype == "bool":
        base = base > 0
    return base.astype(dtype)


def _pair(a):
    return ember.tensor(a.copy()), torch.tensor(a.copy())


def _check(op, e_args, t_args, where):
    try:
        ty = op(*t_args)
    except (RuntimeError, TypeError):
        return False  # torch refuses this combination; ember's answer is not compared
    ey = op(*e_args)
    assert str(ey.dtype).removeprefix("ember.") == str(ty.dtype).removeprefix("torch."), where
    np.testing.assert_allclose(ey.numpy(), ty.numpy(), rtol=1e-6, err_msg=where)
    return True


@pytest.mark.parametrize("symbol", OPS)
def test_tensor_with_tensor_follows_torch(symbol):
    op, checked = OPS[symbol], 0
    for da, db in itertools.product(DTYPES, DTYPES):
        for za, zb in [(False, False), (True, False), (False, True)]:
            (ea, ta), (eb, tb) = _pair(_values(da, za)), _pair(_values(db, zb))
            where = f"{da}{'(0-dim)' * za} {symbol} {db}{'(0-dim)' * zb}"
            checked += _check(op, (ea, eb), (ta, tb), where)
    assert checked > 60  # most of the grid is allowed by torch and so compared


@pytest.mark.parametrize("symbol", OPS)
def test_tensor_with_python_number_follows_torch(symbol):
    op, checked = OPS[symbol], 0
    for dtype, c in itertools.product(DTYPES, SCALARS):
        if symbol == "**" and dtype == "bool" and isinstance(c, bool):
            continue  # NumPy has no bool power (it computes int8); not supported here
        ea, ta = _pair(_values(dtype, False))
        checked += _check(op, (ea, c), (ta, c), f"{dtype} {symbol} {c!r}")
        checked += _check(op, (c, ea), (c, ta), f"{c!r} {symbol} {dtype}")
    assert checked > 15


@pytest.mark.parametrize(
    "name", ["exp", "log", "sqrt", "sin", "cos", "tanh", "sigmoid", "log1p", "expm1",
             "reciprocal", "rsqrt", "floor", "ceil", "trunc", "round", "abs", "neg"],
)  # fmt: skip
@pytest.mark.parametrize("dtype", ["uint8", "int32", "int64", "float32", "float64"])
def test_unary_maths_on_integers_follow_torch(name, dtype):
    a = _values(dtype, False)
    ey, ty = getattr(ember.tensor(a), name)(), getattr(torch.tensor(a), name)()
    assert str(ey.dtype).removeprefix("ember.") == str(ty.dtype).removeprefix("torch.")
    np.testing.assert_allclose(ey.numpy(), ty.numpy(), rtol=1e-6)


def test_integer_division_keeps_integers_and_signs_as_torch():
    a = np.array([7, -7, 7, -7, 6, -6, 0], dtype=np.int64)
    b = np.array([2, 2, -2, -2, 3, 4, 5], dtype=np.int64)
    (ea, ta), (eb, tb) = _pair(a), _pair(b)
    for mode in ("trunc", "floor"):
        ey, ty = ea.div(eb, rounding_mode=mode), ta.div(tb, rounding_mode=mode)
        assert ey.dtype == ember.int64
        np.testing.assert_array_equal(ey.numpy(), ty.numpy())
        np.testing.assert_array_equal(
            ember.div(ea, 2, rounding_mode=mode).numpy(),
            torch.div(ta, 2, rounding_mode=mode).numpy(),
        )
    np.testing.assert_array_equal(ea.fmod(eb).numpy(), ta.fmod(tb).numpy())
    np.testing.assert_array_equal(ember.remainder(ea, eb).numpy(), torch.remainder(ta, tb).numpy())
    np.testing.assert_array_equal(ember.floor_divide(ea, eb).numpy(), (ta // tb).numpy())
    with pytest.raises(ValueError, match="rounding_mode must be None, 'trunc' or 'floor'"):
        ea.div(eb, rounding_mode="round")


@pytest.mark.parametrize("fmod", [False, True])
def test_remainder_gradients_match_torch_and_gradcheck(fmod):
    rng = np.random.default_rng(0)
    a = rng.uniform(-9, 9, (4, 5))
    b = rng.choice([-1, 1], (1, 5)) * rng.uniform(1.5, 4, (1, 5))
    ea, eb = ember.tensor(a, requires_grad=True), ember.tensor(b, requires_grad=True)
    ta, tb = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    ey = ea.fmod(eb) if fmod else ea % eb
    ty = ta.fmod(tb) if fmod else ta % tb
    np.testing.assert_allclose(ey.array, ty.detach().numpy(), rtol=1e-12, atol=1e-12)
    g = rng.standard_normal((4, 5))
    ey.backward(ember.tensor(g))
    ty.backward(torch.tensor(g))
    np.testing.assert_allclose(ea.grad.numpy(), ta.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(eb.grad.numpy(), tb.grad.numpy(), rtol=1e-12)
    # away from the jumps of q the function is smooth: central differences hold
    x, y = ember.tensor(a, requires_grad=True), ember.tensor(b, requires_grad=True)
    assert ember.gradcheck(lambda p, q: p.fmod(q) if fmod else p % q, (x, y))


def test_rounding_division_has_zero_gradient_like_torch():
    a = ember.tensor([5.5, -5.5], requires_grad=True)
    (a // 2).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [0.0, 0.0])


def test_bitwise_ops_on_integers_and_bools_follow_torch():
    a, b = np.array([12, 10, -3], dtype=np.int64), np.array([10, 6, 5], dtype=np.int64)
    m, n = np.array([True, True, False]), np.array([True, False, False])
    for x, y in [(a, b), (m, n)]:
        (ex, tx), (ey, ty) = _pair(x), _pair(y)
        for op in (operator.and_, operator.or_, operator.xor):
            np.testing.assert_array_equal(op(ex, ey).numpy(), op(tx, ty).numpy())
        np.testing.assert_array_equal((~ex).numpy(), (~tx).numpy())
    np.testing.assert_array_equal(ember.bitwise_xor(ember.tensor(a), 3).numpy(), a ^ 3)


def test_in_place_arithmetic_follows_torch_and_refuses_what_torch_refuses():
    e, t = ember.zeros(3), torch.zeros(3)
    e.add_(ember.tensor([1.0, 2.0, 3.0]), alpha=2).mul_(3).sub_(1).div_(2)
    t.add_(torch.tensor([1.0, 2.0, 3.0]), alpha=2).mul_(3).sub_(1).div_(2)
    np.testing.assert_allclose(e.numpy(), t.numpy())
    assert e.add(1, alpha=3).tolist() == t.add(1, alpha=3).tolist()
    with pytest.raises(TypeError, match="float32 cannot be written into this int64 tensor"):
        ember.tensor([1, 2]).add_(0.5)
    with pytest.raises(ValueError, match=r"shape \(2, 3\), which does not fit"):
        ember.zeros(3).add_(ember.zeros((2, 3)))
    w = ember.zeros(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="in-place operation on a leaf tensor that requires"):
        w.mul_(2)
    with ember.no_grad():
        w.add_(1)
    assert w.tolist() == [1.0, 1.0]


def test_functional_maximum_minimum_promote_as_torch(torch):
    a, b = np.array([1, 5]), np.array([1.5, 2.0], dtype=np.float32)
    for name in ("maximum", "minimum"):
        e = getattr(ember, name)(ember.tensor(a), ember.tensor(b))
        t = getattr(torch, name)(torch.tensor(a), torch.tensor(b))
        assert str(e.dtype) == str(t.dtype).replace("torch.", "")  # float32, not NumPy's float64
        np.testing.assert_array_equal(e.array, t.numpy())


@pytest.mark.parametrize("value", [3, True, 1.5])
def test_full_infers_torch_dtype_from_the_fill_value(torch, value):
    assert str(ember.full((2,), value).dtype) == str(torch.full((2,), value).dtype).replace(
        "torch.", ""
    )


@pytest.mark.parametrize(
    "make",
    [
        lambda: [np.float64(1.5), 2.0],
        lambda: [[np.float64(1.0)], [2.0]],
        lambda: [np.float32(1.5), np.float64(2.0)],
        lambda: [np.array([1.0, 2.0]), np.array([3.0, 4.0])],
        lambda: [np.array([1.0], np.float32), np.array([2.0])],
        lambda: [np.complex128(1j), 1.0],
        lambda: [1.0, 2.0],
        lambda: [np.float16(1.0), 2.5],
        lambda: [np.int64(3), 2.5],
        lambda: [1j, 2.0],
        lambda: [np.int64(1), np.float16(2.0)],
        lambda: [np.int8(3), 2],
        lambda: [np.float32(1.0), 1j],
        lambda: [np.uint8(200), 100],
        lambda: [np.array([1, 2], np.int8), [3, 4]],
        lambda: [np.uint8(250), np.int8(-1)],
    ],
)
def test_tensor_of_lists_takes_numpy_leaves_dtypes_as_torch(torch, make):
    """torch infers each leaf's type (a Python float: the default, an int: int64; an np.float64
    or a float64 array: double) and promotes them by its own rules; ember cast every float64
    list result to float32 and kept NumPy's promotion ([np.int64, np.float16] was float64)."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch warns about lists of ndarrays being slow
        theirs = str(torch.tensor(make()).dtype).split(".")[-1]
        values = torch.tensor(make()).tolist()
    ours = ember.tensor(make())
    assert str(ours.dtype).split(".")[-1] == theirs
    assert ours.tolist() == values
