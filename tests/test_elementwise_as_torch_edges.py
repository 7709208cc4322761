"""Elementwise maths where ember used to differ from torch 2.13 (found by fuzzing both side by
side): bitwise ops, gcd/lcm and copysign promoting without torch's 0-d rule, bool operands of
ops with no bool kernel, kernels refused for integer, half or complex inputs with torch's
error class, isclose/lerp/heaviside on mixed dtypes, ldexp of large exponents, polygamma at
+inf and the gradient of a / b for a tiny b."""

import numpy as np
import pytest

import ember


@pytest.fixture(params=["ember", "torch"])
def lib(request, torch):
    return ember if request.param == "ember" else torch


def _name(dtype) -> str:
    return str(dtype).rsplit(".", 1)[-1]


# ------------------------------------------------------------ promotion
@pytest.mark.parametrize("op", ["bitwise_and", "bitwise_or", "bitwise_xor", "gcd", "lcm"])
def test_a_zero_dim_integer_operand_does_not_widen(lib, op):
    f = getattr(lib, op)
    i8 = lib.tensor([6, -4, 9], dtype=lib.int8)
    zero_d = lib.tensor(10, dtype=lib.int32)
    assert f(zero_d, i8).dtype == lib.int8 and f(i8, zero_d).dtype == lib.int8
    u8 = lib.tensor([6, 4, 9], dtype=lib.uint8)
    assert f(u8, i8).dtype == lib.int16  # both dimensioned: the usual promotion
    assert f(u8, lib.tensor(3, dtype=lib.int8)).dtype == lib.uint8
    assert f(zero_d, i8).tolist() == f(zero_d.long(), i8.long()).tolist()


def test_bitwise_operators_follow_the_same_rule(lib):
    i16 = lib.tensor([5, -3], dtype=lib.int16)
    zero_d = lib.tensor(6, dtype=lib.int64)
    for out in (zero_d & i16, zero_d | i16, zero_d ^ i16, i16 ^ zero_d):
        assert out.dtype == lib.int16
    assert lib.bitwise_and(1, i16).dtype == lib.int16  # a number first: weak, as a scalar
    assert lib.bitwise_or(1, lib.tensor([True, False])).dtype == lib.int64


def test_copysign_takes_the_result_dtype_of_its_operands(lib):
    neg64 = lib.tensor(-1.0, dtype=lib.float64)
    for x in (lib.tensor([1, -2]), lib.tensor([True, False])):
        out = lib.copysign(x, neg64)  # a 0-d float beside integers: its own dtype
        assert out.dtype == lib.float64 and out.tolist() == [-abs(float(v)) for v in x.tolist()]
    half = lib.tensor([1.0, 2.0], dtype=lib.float16)
    assert lib.copysign(half, neg64).dtype == lib.float16
    assert lib.copysign(lib.tensor(1), lib.tensor([-1.0], dtype=lib.float16)).dtype == lib.float16
    assert lib.copysign(lib.tensor([1]), lib.tensor(-1)).dtype == lib.float32


# ------------------------------------------------------------ refusals
def _bool_kernels(lib):
    b = lib.tensor([True, False])
    return [
        ("b // b", lambda: b // b),
        ("b // True", lambda: b // True),
        ("True // b", lambda: True // b),
        ("div trunc", lambda: b.div(b, rounding_mode="trunc")),
        ("div floor", lambda: lib.div(b, True, rounding_mode="floor")),
        ("b % b", lambda: b % b),
        ("remainder", lambda: lib.remainder(b, True)),
        ("fmod", lambda: b.fmod(b)),
        ("b ** b", lambda: b**b),
        ("pow", lambda: lib.pow(b, b)),
        ("True ** b", lambda: True**b),
    ]


@pytest.mark.parametrize("k", range(11))
def test_ops_with_no_bool_kernel_refuse_two_bools(refused_alike, k):
    refused_alike(_bool_kernels, k, NotImplementedError)


def test_bool_operands_beside_an_integer_or_a_bool_exponent_still_work(lib):
    b = lib.tensor([True, False])
    assert (b // 1).tolist() == [1, 0] and (b // 1).dtype == lib.int64
    assert (b**True).dtype == lib.bool and (2**b).tolist() == [2, 1]
    assert (b % lib.tensor([2, 2])).tolist() == [1, 0]


def _kernel_refusals(lib):
    i, b = lib.tensor([3, 4]), lib.tensor([True, False])
    u8, i8 = lib.tensor([1], dtype=lib.uint8), lib.tensor([1], dtype=lib.int8)
    half, z = lib.ones(2, dtype=lib.float16), lib.ones(2, dtype=lib.complex64)
    sp = lib.special
    return [
        ("hypot", lambda: lib.hypot(i, i)),
        ("logaddexp", lambda: lib.logaddexp(u8, i8)),
        ("logaddexp2", lambda: lib.logaddexp2(b, b)),
        ("ldexp bool exponent", lambda: lib.ldexp(lib.ones(2), b)),
        ("bitwise_not float", lambda: lib.ones(2).bitwise_not()),
        ("bitwise_not half", lambda: lib.bitwise_not(half)),
        ("bitwise_not complex", lambda: lib.bitwise_not(z)),
        ("digamma complex", lambda: lib.polygamma(0, z)),
        ("trigamma complex", lambda: lib.polygamma(1, z)),
        ("polygamma complex", lambda: lib.polygamma(3, z)),
        ("ndtri half", lambda: sp.ndtri(half)),
        ("ndtri complex", lambda: sp.ndtri(z)),
        ("log_ndtr half", lambda: sp.log_ndtr(half)),
        ("log_ndtr complex", lambda: sp.log_ndtr(z)),
        ("entr complex", lambda: sp.entr(z)),
        ("xlog1py complex", lambda: sp.xlog1py(z, lib.ones(2))),
        ("xlog1py complex other", lambda: sp.xlog1py(lib.ones(2), z)),
    ]


@pytest.mark.parametrize("k", range(17))
def test_kernels_missing_for_a_dtype_raise_not_implemented(refused_alike, k):
    refused_alike(_kernel_refusals, k, NotImplementedError)


def test_inverting_a_float_tensor_is_a_type_error(lib):
    with pytest.raises(
        TypeError, match="only implemented on integer and Boolean"
    ):  # ember: and NotImplementedError
        ~lib.ones(2)


def test_integer_hypot_is_still_a_type_error_for_ember_callers():
    with pytest.raises(TypeError, match="hypot_cpu.*Short"):
        ember.hypot(ember.tensor([1], dtype=ember.uint8), ember.tensor([1], dtype=ember.int8))


def test_the_exponents_torch_takes_with_bool_operands(lib):
    b = lib.tensor([True, False])
    assert lib.ldexp(b, b).tolist() == [2.0, 0.0]
    assert lib.ldexp(lib.tensor([2]), b).tolist() == [4.0, 2.0]
    assert lib.ldexp(lib.ones(1, dtype=lib.complex64), b[:1]).dtype == lib.complex64


def _mixed_dtypes(lib):
    x = lib.ones(3)
    return [
        ("isclose", lambda: lib.isclose(x, x.double())),
        ("isclose 0-d", lambda: x.isclose(lib.tensor(1.0, dtype=lib.float64))),
        ("isclose int bool", lambda: lib.isclose(x.long(), lib.tensor(True))),
        ("heaviside", lambda: lib.heaviside(x, lib.tensor([1]))),
        ("lerp end", lambda: lib.lerp(x, x.double(), 0.5)),
        ("lerp 0-d end", lambda: x.lerp(lib.tensor(0.5, dtype=lib.float64), 0.5)),
        ("lerp weight", lambda: lib.lerp(x, x, lib.full((3,), 0.5, dtype=lib.float16))),
        ("multigammaln bool", lambda: lib.special.multigammaln(lib.tensor([True]), 1)),
        ("multigammaln p", lambda: lib.special.multigammaln(x, 0)),
    ]


@pytest.mark.parametrize("k", range(9))
def test_operands_of_another_dtype_are_refused(refused_alike, k):
    refused_alike(_mixed_dtypes, k)


def test_what_torch_takes_beside_those_refusals(lib):
    x = lib.ones(3)
    assert lib.lerp(x, x, lib.tensor(0.5, dtype=lib.float64)).dtype == lib.float32
    assert lib.isclose(lib.tensor([1, 2]), lib.tensor([1, 3])).tolist() == [True, False]
    with pytest.raises(ValueError):  # ember's older class, beside torch's RuntimeError
        if lib is ember:
            ember.special.multigammaln(ember.ones(1), 0)
        else:
            raise ValueError


# ------------------------------------------------------------ values and gradients
def test_ldexp_of_zero_and_tiny_float32_with_large_exponents(lib):
    x = lib.tensor([0.0, -0.0, 1e-40, 3.0])
    out = lib.ldexp(x, lib.tensor([200, 255, 130, 2], dtype=lib.uint8))
    assert out.dtype == lib.float32
    tiny = float(np.float32(1e-40)) * 2.0**130  # a subnormal float32, scaled exactly
    np.testing.assert_array_equal(out.numpy(), np.float32([0.0, -0.0, tiny, 12.0]))
    assert np.signbit(out.numpy()[1])


def test_polygamma_at_plus_infinity(lib):
    x = lib.tensor([float("inf"), float("-inf"), 1.0], dtype=lib.float64)
    for n in (2, 3):
        got = lib.polygamma(n, x).tolist()
        assert np.isnan(got[0]) and got[1] == (-1) ** (n + 1) * float("inf")
    assert lib.polygamma(1, x).tolist()[0] == 0.0


def test_gradient_of_division_by_a_tiny_divisor(torch):
    pairs = [(0.0, 1e-300), (-0.0, 1e-300), (1e-300, 1e-300), (2.0, 3.0), (1.0, -1e-200)]
    grads = []
    for lib in (ember, torch):
        a = lib.tensor([p[0] for p in pairs], dtype=lib.float64, requires_grad=True)
        b = lib.tensor([p[1] for p in pairs], dtype=lib.float64, requires_grad=True)
        (a / b).sum().backward()
        grads.append((a.grad.numpy(), b.grad.numpy()))
    (ea, eb), (ta, tb) = grads
    np.testing.assert_array_equal(ea, ta)
    np.testing.assert_allclose(eb, tb, rtol=1e-15)
    assert not np.isnan(eb).any()
