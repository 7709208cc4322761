"""torch's aliases, predicates and small conveniences (torch_aliases.py, tensor_aliases.py)
against torch: values, dtypes and gradients of a weighted sum in float32 and float64, float64
gradchecks, the method and in-place forms, torch's dtype rules and torch's errors."""

from __future__ import annotations

import numpy as np
import pytest

import ember
from tests.torch_pairs import DTYPES, check, leaves, rand, tol

A, B = rand(3, 4, seed=1), rand(3, 4, seed=2)
ROW, COL = rand(4, seed=3), rand(3, 1, seed=4)
T3 = rand(2, 3, 4, seed=5)
# fmax/fmin: ties (to self), NaN on either side and on both
FA = np.array([[1.0, np.nan, 2.0, np.nan], [0.5, -1.0, 3.0, 4.0]])
FB = np.array([[1.0, 0.5, np.nan, np.nan], [0.7, -2.0, 3.0, -4.0]])

# (id, call with m = ember or torch and the leaves, arrays); every output is differentiable
DIFF = [
    ("concat", lambda m, a, b: m.concat([a, b], dim=-1), [A, B]),
    ("concat_0", lambda m, a, b: m.concat((a, b)), [A, B]),
    ("concatenate", lambda m, a, b: m.concatenate([a, b], axis=1), [A, B]),
    ("absolute", lambda m, a: m.absolute(a), [A]),
    ("absolute_m", lambda m, a: a.absolute(), [A]),
    ("negative_m", lambda m, a: a.negative(), [A]),
    ("positive", lambda m, a: m.positive(a) * 2, [A]),
    ("positive_m", lambda m, a: a.positive() * 3, [A]),
    ("fix", lambda m, a: m.fix(a * 3) + a, [A]),
    ("fix_m", lambda m, a: (a * 3).fix() + a, [A]),
    ("fliplr", lambda m, a: m.fliplr(a), [T3]),
    ("fliplr_m", lambda m, a: a.fliplr(), [A]),
    ("flipud", lambda m, a: m.flipud(a), [T3]),
    ("flipud_m", lambda m, a: a.flipud(), [ROW]),
    ("ravel", lambda m, a: m.ravel(a), [T3]),
    ("ravel_m", lambda m, a: a.transpose(0, 2).ravel(), [T3]),
    ("swapaxes_m", lambda m, a: a.swapaxes(0, -1), [T3]),
    ("swapdims_m", lambda m, a: a.swapdims(-2, 0), [T3]),
    ("tile", lambda m, a: m.tile(a, (2, 1, 3)), [A]),
    ("tile_short", lambda m, a: m.tile(a, (2,)), [A]),
    ("unflatten", lambda m, a: m.unflatten(a, -1, (2, -1)), [A]),
    ("broadcast_tensors", lambda m, a, b, c: m.broadcast_tensors(a, b, c), [A, ROW, COL]),
    ("broadcast_tensors_1", lambda m, a: m.broadcast_tensors(a), [A]),
    ("clone", lambda m, a: m.clone(a) * a, [A]),
    ("fmax", lambda m, a, b: m.fmax(a, b), [FA, FB]),
    ("fmin", lambda m, a, b: m.fmin(a, b), [FA, FB]),
    ("fmax_m", lambda m, a, b: a.fmax(b), [A, ROW]),
    ("fmin_m_bcast", lambda m, a, b: b.fmin(a), [A, COL]),
    ("rsub", lambda m, a, b: m.rsub(a, b), [A, B]),
    ("rsub_alpha", lambda m, a, b: m.rsub(a, b, alpha=2.5), [A, ROW]),
    ("rsub_scalar", lambda m, a: m.rsub(a, 3.0, alpha=-2), [A]),
    ("sum_to_size", lambda m, a: a.sum_to_size(3, 1), [A]),
    ("sum_to_size_lead", lambda m, a: a.sum_to_size((1, 4)), [T3]),
    ("sum_to_size_drop", lambda m, a: a.sum_to_size(4), [T3]),
    ("sum_to_size_same", lambda m, a: a.sum_to_size(2, 3, 4) * 2, [T3]),
]


def _nan_free(arrays):
    return not any(np.isnan(a).any() for a in arrays)


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("case", DIFF, ids=[c[0] for c in DIFF])
def test_against_torch_with_gradients(torch, case, dtype):
    _, fn, arrays = case
    es, ts = leaves(torch, *[a.astype(dtype) for a in arrays])
    e_out, t_out = fn(ember, *es), fn(torch, *ts)
    if isinstance(t_out, tuple):
        e_out, t_out = list(e_out), list(t_out)
    check(torch, e_out, t_out, es, ts, dtype)


@pytest.mark.parametrize("case", DIFF, ids=[c[0] for c in DIFF])
def test_gradcheck(case):
    _, fn, arrays = case
    if not _nan_free(arrays):  # NaNs and ties are not differentiable points: distinct values
        arrays = [A[:2], B[:2]]

    def f(*xs):
        out = fn(ember, *xs)
        return tuple(out) if isinstance(out, (tuple, list)) else out

    assert ember.gradcheck(f, tuple(ember.tensor(a, requires_grad=True) for a in arrays))


def test_fmax_fmin_ties_send_gradient_to_input(torch):
    a, b = np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.0, 0.0])
    for name in ("fmax", "fmin"):
        es, ts = leaves(torch, a, b)
        getattr(ember, name)(*es).sum().backward()
        getattr(torch, name)(*ts).sum().backward()
        for e, t in zip(es, ts):
            np.testing.assert_array_equal(e.grad.numpy(), t.grad.numpy())


def test_detach_and_swap_in_place(torch):
    x = ember.tensor(A, requires_grad=True)
    d = ember.detach(x)
    assert not d.requires_grad and d.grad_fn is None
    np.testing.assert_array_equal(d.numpy(), A)
    assert ember.positive(x) is x and x.positive() is x  # torch returns the tensor itself
    assert ember.clone(x).requires_grad
    y = ember.tensor(A)
    ember.clone(y).fill_(0.0)  # a copy: writing it leaves y alone
    np.testing.assert_array_equal(y.numpy(), A)
    e, t = ember.tensor(T3), torch.tensor(T3)
    assert e.swapaxes_(0, -1) is e and e.swapdims_(1, 0) is e
    t.swapaxes_(0, -1).swapdims_(1, 0)
    assert tuple(e.shape) == tuple(t.shape)
    np.testing.assert_array_equal(e.numpy(), t.numpy())
    with pytest.raises(IndexError):
        e.swapaxes_(0, 3)
    with pytest.raises(RuntimeError, match="in-place"):
        x.swapaxes_(0, 1)


# (id, call with m, arrays): outputs without gradients, compared value for value and dtype
INT = np.array([[3, -8, 0, 5], [1, 2, -1, 7]], dtype=np.int64)
SPECIAL = np.array([[np.inf, -np.inf, np.nan, 0.0], [1.5, -0.0, -np.inf, 2.0]])
NOGRAD = [
    ("greater", lambda m, a, b: m.greater(a, b), [A, B]),
    ("greater_equal", lambda m, a, b: m.greater_equal(a, b), [A, ROW]),
    ("less", lambda m, a, b: m.less(a, b), [A, COL]),
    ("less_equal", lambda m, a, b: m.less_equal(a, b), [A, A]),
    ("not_equal", lambda m, a, b: m.not_equal(a, b), [A, B]),
    ("greater_m_scalar", lambda m, a: a.greater(0.1), [A]),
    ("less_m", lambda m, a, b: a.less(b), [A, B]),
    ("less_equal_m", lambda m, a: a.less_equal(0), [A]),
    ("greater_equal_m", lambda m, a, b: a.greater_equal(b), [A, B]),
    ("not_equal_m", lambda m, a: a.not_equal(a), [A]),
    ("argwhere", lambda m, a: m.argwhere(a > 0), [T3]),
    ("argwhere_m", lambda m, a: a.argwhere(), [INT]),
    ("argwhere_0d", lambda m, a: m.argwhere(a[0, 0]), [A]),
    ("argwhere_none", lambda m, a: m.argwhere(a * 0), [A]),
    ("isneginf", lambda m, a: m.isneginf(a), [SPECIAL]),
    ("isposinf", lambda m, a: m.isposinf(a), [SPECIAL]),
    ("isposinf_m", lambda m, a: a.isposinf(), [SPECIAL]),
    ("isneginf_int", lambda m, a: m.isneginf(a), [INT]),
    ("nextafter", lambda m, a, b: m.nextafter(a, b), [SPECIAL, A[:2]]),
    ("nextafter_m", lambda m, a, b: a.nextafter(b), [A, ROW]),
    ("absolute_int", lambda m, a: m.absolute(a), [INT]),
    ("fix_int", lambda m, a: m.fix(a), [INT]),
    ("fmax_int", lambda m, a, b: m.fmax(a, b), [INT, INT[::-1].copy()]),
    ("fmax_bool", lambda m, a, b: m.fmax(a > 0, b > 0), [A, B]),
    ("fmin_bool", lambda m, a, b: (a > 0).fmin(b > 0), [A, B]),
    ("rsub_int", lambda m, a: m.rsub(a, 2), [INT]),
    ("rsub_int_float", lambda m, a: m.rsub(a, 2.5), [INT]),
    ("byte", lambda m, a: a.byte(), [INT]),
    ("char", lambda m, a: (a * 50).char(), [INT]),
    ("short", lambda m, a: (a * 10000).short(), [INT]),
    ("byte_float", lambda m, a: (a * 100).byte(), [A]),
    ("char_float", lambda m, a: (a * 100).char(), [A]),
    ("short_float", lambda m, a: (a * 100).short(), [A]),
    ("lshift", lambda m, a, b: m.bitwise_left_shift(a, b), [INT, np.abs(INT[::-1])]),
    ("rshift", lambda m, a, b: m.bitwise_right_shift(a, b), [INT, np.abs(INT[::-1])]),
    ("lshift_scalar", lambda m, a: a.bitwise_left_shift(3), [INT]),
    ("rshift_scalar", lambda m, a: a.bitwise_right_shift(1), [INT]),
    ("lshift_scalar_input", lambda m, a: m.bitwise_left_shift(3, a.abs()), [INT]),
    ("shift_out_of_range", lambda m, a: m.bitwise_left_shift(a, a * 0 + 70), [INT]),
    ("shift_negative", lambda m, a: m.bitwise_right_shift(a, a * 0 - 1), [INT]),
    ("rshift_out_of_range", lambda m, a: m.bitwise_right_shift(a, a * 0 + 64), [INT]),
    ("unravel_index", lambda m, a: m.unravel_index(a, (2, 3, 4)), [np.array([0, 5, 23, 17])]),
    ("unravel_index_wrap", lambda m, a: m.unravel_index(a, (2, 3)), [np.array([-1, 6, 13])]),
    ("unravel_index_int", lambda m, a: m.unravel_index(a, 6), [np.array([[4, 1]])]),
    ("unravel_index_0d", lambda m, a: m.unravel_index(a, [4, 3]), [np.array(7)]),
    ("unravel_index_empty_shape", lambda m, a: m.unravel_index(a, ()), [np.array([0])]),
    ("unravel_index_int32", lambda m, a: m.unravel_index(a, (2, 3)), [np.array([5], np.int32)]),
]


@pytest.mark.parametrize("case", NOGRAD, ids=[c[0] for c in NOGRAD])
def test_without_gradients_against_torch(torch, case):
    _, fn, arrays = case
    e_out = fn(ember, *[ember.tensor(a) for a in arrays])
    t_out = fn(torch, *[torch.tensor(a) for a in arrays])
    e_outs = list(e_out) if isinstance(e_out, tuple) else [e_out]
    t_outs = list(t_out) if isinstance(t_out, tuple) else [t_out]
    assert len(e_outs) == len(t_outs)
    for e, t in zip(e_outs, t_outs):
        assert tuple(e.shape) == tuple(t.shape)
        assert e.numpy().dtype == t.numpy().dtype
        np.testing.assert_array_equal(e.numpy(), t.numpy())


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
def test_nextafter_float32_steps_one_ulp(torch, dtype):
    a, b = rand(5, dtype=dtype), rand(5, dtype=dtype, seed=9)
    e = ember.nextafter(ember.tensor(a), ember.tensor(b))
    t = torch.nextafter(torch.tensor(a), torch.tensor(b))
    assert e.numpy().dtype == t.numpy().dtype == dtype
    np.testing.assert_array_equal(e.numpy(), t.numpy())
    assert not (e.numpy() == a).any()


# (id, name, self array, argument): the in-place method against torch's, on a copy
INPLACE = [
    ("greater_", "greater_", A, B),
    ("greater_equal_", "greater_equal_", A, 0.0),
    ("less_", "less_", A, ROW),
    ("less_equal_", "less_equal_", A, B),
    ("not_equal_", "not_equal_", A, A),
    ("less_int", "less_", INT, 2),
    ("absolute_", "absolute_", A, None),
    ("negative_", "negative_", A, None),
    ("negative_int", "negative_", INT, None),
    ("fix_", "fix_", A * 3, None),
    ("nextafter_", "nextafter_", A, "B"),
    ("lshift_", "bitwise_left_shift_", INT, 2),
    ("rshift_", "bitwise_right_shift_", INT, 1),
]


@pytest.mark.parametrize("case", INPLACE, ids=[c[0] for c in INPLACE])
def test_in_place_against_torch(torch, case):
    _, name, a, arg = case
    e, t = ember.tensor(a.copy()), torch.tensor(a.copy())
    args_e = args_t = ()
    if isinstance(arg, np.ndarray):
        args_e, args_t = (ember.tensor(arg),), (torch.tensor(arg),)
    elif arg == "B":
        args_e, args_t = (ember.tensor(B),), (torch.tensor(B),)
    elif arg is not None:
        args_e = args_t = (arg,)
    assert getattr(e, name)(*args_e) is e
    getattr(t, name)(*args_t)
    assert e.numpy().dtype == t.numpy().dtype
    np.testing.assert_array_equal(e.numpy(), t.numpy())


def test_in_place_refuses_a_tensor_that_requires_grad():
    x = ember.tensor(A, requires_grad=True)
    for name in ("less_", "absolute_", "fix_", "negative_"):
        args = (0.0,) if name == "less_" else ()
        with pytest.raises(RuntimeError, match="in-place"):
            getattr(x, name)(*args)


def test_predicates_and_python_values(torch):
    cases = [np.array([1.5]), np.array([0.0]), INT, np.array([1], np.uint8), np.array([True])]
    cases += [np.array([1 + 2j]), np.array(3.0)]
    for a in cases:
        e, t = ember.tensor(a), torch.tensor(a)
        assert e.is_signed() is t.is_signed()
        assert e.is_complex() is t.is_complex()
        assert e.ndimension() == t.ndimension()
        if a.size == 1:
            assert e.is_nonzero() is t.is_nonzero()
    x = ember.tensor(A)
    assert x.is_same_size(ember.tensor(B)) and not x.is_same_size(ember.tensor(ROW))
    assert ember.equal(x, ember.tensor(A)) is True
    assert ember.equal(x, ember.tensor(B)) is False
    assert ember.equal(x, ember.tensor(A[:, :2])) is False
    assert x.equal(ember.tensor(A.astype(np.float32))) is torch.tensor(A).equal(
        torch.tensor(A.astype(np.float32))
    )
    nan = np.array([np.nan, 1.0])
    assert ember.equal(ember.tensor(nan), ember.tensor(nan)) is False
    assert ember.allclose(x, ember.tensor(A + 1e-9)) is True
    assert ember.allclose(x, ember.tensor(A + 1e-3)) is False
    assert ember.allclose(x, ember.tensor(A + 1e-3), rtol=0, atol=2e-3) is True
    assert ember.allclose(x, ember.tensor(ROW)) is False
    assert ember.allclose(ember.tensor(nan), ember.tensor(nan)) is False
    assert ember.allclose(ember.tensor(nan), ember.tensor(nan), equal_nan=True) is True


def test_logspace_against_torch(torch):
    cases = [
        ((0, 2, 3), {}),
        ((-1.5, 2.5, 7), dict(base=2.0)),
        ((0.5, 3.7, 6), dict(base=3.5)),
        ((1, 3, 5), dict(dtype="float64")),
        ((-1, 1.5, 9), dict(base=3.5, dtype="float64")),
        ((0, 2, 3), dict(base=2, dtype="int64")),
        ((0, 1.5, 4), dict(dtype="int64")),  # torch truncates the ends for an integer dtype
        ((-1, 1, 3), dict(base=2, dtype="int32")),
        ((2, -2, 1), {}),
        ((0, 1, 0), {}),
        ((0, 40, 3), {}),  # overflows float32: inf, as torch
    ]
    for args, kw in cases:
        name = kw.get("dtype", "float32")
        e = ember.logspace(*args, **{**kw, "dtype": np.dtype(name)})
        t = torch.logspace(*args, **{**kw, "dtype": getattr(torch, name)})
        assert e.numpy().dtype == t.numpy().dtype
        if name.startswith("int"):
            np.testing.assert_array_equal(e.numpy(), t.numpy())
        else:
            np.testing.assert_allclose(e.numpy(), t.numpy(), **tol(np.dtype(name)))
    assert ember.logspace(0, 1, 4).dtype == ember.float32
    assert ember.logspace(0, 1, 3, dtype=ember.float64, requires_grad=True).requires_grad
    np.testing.assert_allclose(ember.logspace(ember.tensor(0.0), 2, 3).numpy(), [1, 10, 100])


def test_broadcast_shapes_against_torch(torch):
    for shapes in [((2, 3), (1, 3), 3, ()), ((5, 1, 4), (3, 1)), (), ((0, 1), (1, 7)), (4,)]:
        got = ember.broadcast_shapes(*shapes)
        assert got == tuple(torch.broadcast_shapes(*shapes))
        assert isinstance(got, ember.Size)  # torch returns a torch.Size
    with pytest.raises(RuntimeError, match="Attempting to broadcast a dimension of length 4"):
        ember.broadcast_shapes((2, 3), (4,))
    with pytest.raises(ValueError, match="negative length"):
        ember.broadcast_shapes(-1)
    assert ember.broadcast_tensors() == ()


def test_broadcast_errors_name_the_last_clashing_dim_as_torch(torch):
    # torch's infer_size walks the dims from the last: with two clashes it names the later one
    a, b = np.zeros((2, 3)), np.zeros((3, 4))
    for call in (
        lambda m, x, y: m.allclose(x, y),
        lambda m, x, y: m.broadcast_tensors(x, y),
    ):
        with pytest.raises(RuntimeError) as want:
            call(torch, torch.tensor(a), torch.tensor(b))
        with pytest.raises(RuntimeError) as got:
            call(ember, ember.tensor(a), ember.tensor(b))
        assert str(got.value) == str(want.value)


DT = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64"]
DT += ["complex64", "complex128"]


def test_promote_types_and_can_cast_follow_torch(torch):
    for a in DT:
        for b in DT:
            ea, eb = np.dtype(a), np.dtype(b)
            ta, tb = getattr(torch, a), getattr(torch, b)
            want = torch.empty(0, dtype=torch.promote_types(ta, tb)).numpy().dtype
            assert ember.promote_types(ea, eb) == want, (a, b)
            assert ember.can_cast(ea, eb) is torch.can_cast(ta, tb), (a, b)
    assert ember.promote_types(ember.int64, ember.float32) == ember.float32


def test_result_type_follows_torch(torch):
    def pair(kind, dtype, seed):
        if kind == "dim":
            a = rand(3, seed=seed).astype(dtype) if dtype != "bool" else np.array([True, False])
            return ember.tensor(a), torch.tensor(a)
        if kind == "0d":
            a = np.array(1.5 if "float" in dtype else 1).astype(dtype)
            return ember.tensor(a), torch.tensor(a)
        return dtype, dtype  # a Python number

    operands = [("dim", d) for d in ("bool", "uint8", "int32", "int64", "float32", "float64")]
    operands += [("0d", d) for d in ("bool", "int8", "int64", "float32", "float64")]
    operands += [("num", v) for v in (True, 3, 2.5, 1j)]
    for i, (k1, d1) in enumerate(operands):
        for k2, d2 in operands[i:]:
            e1, t1 = pair(k1, d1, 1)
            e2, t2 = pair(k2, d2, 2)
            want = torch.empty(0, dtype=torch.result_type(t1, t2)).numpy().dtype
            assert ember.result_type(e1, e2) == want, (k1, d1, k2, d2)


def test_method_set_matches_torch(torch):
    names = "greater greater_equal less less_equal not_equal absolute negative positive fix"
    names += " fliplr flipud ravel swapaxes swapdims argwhere isneginf isposinf fmax fmin"
    names += " nextafter equal allclose is_signed is_complex is_nonzero is_same_size ndimension"
    names += " byte char short sum_to_size bitwise_left_shift bitwise_right_shift tile unflatten"
    names += " detach clone"
    for n in names.split():
        for m in (n, n + "_"):
            assert hasattr(torch.Tensor, m) == hasattr(ember.Tensor, m), m
    functions = "concat concatenate broadcast_tensors broadcast_shapes unravel_index logspace"
    functions += " rsub promote_types result_type can_cast"
    for n in names.split()[:21] + functions.split():
        if hasattr(torch, n):
            assert callable(getattr(ember, n)), n
            assert n in ember.torch_aliases.__all__ or n in ("negative", "swapaxes", "swapdims")


def _raises(torch, fn, exc=Exception):
    """Both libraries raise the same exception type with the same message (first line)."""
    with pytest.raises(exc) as t_err:
        fn(torch)
    with pytest.raises(type(t_err.value)) as e_err:
        fn(ember)
    assert str(e_err.value).split("\n")[0] == str(t_err.value).split("\n")[0]


ERRORS = [
    ("fliplr_1d", lambda m: m.fliplr(m.ones(3))),
    ("flipud_0d", lambda m: m.flipud(m.tensor(1.0))),
    ("positive_bool", lambda m: m.positive(m.tensor([True]))),
    ("negative_bool", lambda m: m.tensor([True]).negative()),
    ("absolute_bool", lambda m: m.absolute(m.tensor([True]))),
    ("fix_bool", lambda m: m.fix(m.tensor([True]))),
    ("broadcast_tensors", lambda m: m.broadcast_tensors(m.ones(2, 3), m.ones(4))),
    ("broadcast_shapes", lambda m: m.broadcast_shapes((2, 3), (4,))),
    ("unravel_float", lambda m: m.unravel_index(m.tensor([1.0]), (2, 3))),
    ("unravel_negative", lambda m: m.unravel_index(m.tensor([4]), (2, -3))),
    ("unravel_zero", lambda m: m.unravel_index(m.tensor([1]), (2, 0))),
    ("allclose_dtype", lambda m: m.allclose(m.ones(2), m.ones(2, dtype=m.float64))),
    ("allclose_shape", lambda m: m.allclose(m.ones(2), m.ones(3))),
    ("isposinf_complex", lambda m: m.isposinf(m.tensor([1j]))),
    ("fmax_scalar", lambda m: m.fmax(m.ones(2), 0.5)),
    ("fmin_m_scalar", lambda m: m.ones(2).fmin(0.5)),
    ("nextafter_scalar", lambda m: m.nextafter(m.ones(2), 0.0)),
    ("nextafter_int", lambda m: m.nextafter(m.ones(2, dtype=m.int64), m.ones(2, dtype=m.int64))),
    ("equal_scalar", lambda m: m.ones(2).equal(1)),
    ("same_size_scalar", lambda m: m.ones(2).is_same_size(1)),
    ("lshift_float", lambda m: m.bitwise_left_shift(m.ones(2), 1)),
    ("rshift_bool", lambda m: m.bitwise_right_shift(m.tensor([True]), m.tensor([True]))),
    ("is_nonzero_many", lambda m: m.ones(2).is_nonzero()),
    ("is_nonzero_empty", lambda m: m.ones(0).is_nonzero()),
    ("sum_to_size_none", lambda m: m.ones(2, 3).sum_to_size()),
    ("broadcast_tensors_list", lambda m: m.broadcast_tensors([m.ones(2), m.ones(1)])),
    ("broadcast_tensors_int", lambda m: m.broadcast_tensors(m.ones(2), 3)),
    ("sum_to_size_bad", lambda m: m.ones(2, 3).sum_to_size(4, 3)),
    ("sum_to_size_long", lambda m: m.ones(2, 3).sum_to_size(2, 3, 1)),
    ("logspace_steps", lambda m: m.logspace(0, 2, -1)),
    ("rsub_bool", lambda m: m.rsub(m.tensor([True]), m.tensor([True]))),
]


@pytest.mark.parametrize("case", ERRORS, ids=[c[0] for c in ERRORS])
def test_errors_match_torch(torch, case):
    _raises(torch, case[1])
