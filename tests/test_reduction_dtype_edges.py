"""Edge cases a differential sweep against torch found: sigmoid and tanh of integer and bool
tensors (ember.*, Tensor.* and F.*) in the default float; sums and products of unsigned and
bool tensors in int64 (NumPy would give uint64); median and nanmedian of empty tensors and
along an empty dim."""

import numpy as np
import pytest

import ember
import ember.nn.functional as F

torch = pytest.importorskip("torch")


@pytest.mark.parametrize("dtype", ["int64", "int32", "uint8", "bool"])
def test_sigmoid_and_tanh_of_integers_as_torch(dtype):
    a = np.array([0, 1, 2]).astype(dtype)
    for name in ("sigmoid", "tanh"):
        t = getattr(torch, name)(torch.tensor(a))
        for e in (getattr(ember, name)(ember.tensor(a)), getattr(F, name)(ember.tensor(a)),
                  getattr(ember.tensor(a), name)()):  # fmt: skip
            assert str(e.dtype) == str(t.dtype).replace("torch.", "")
            np.testing.assert_allclose(e.array, t.numpy(), rtol=1e-6)


@pytest.mark.parametrize("dtype", ["uint8", "bool", "int32", "int16"])
def test_integer_sums_and_products_as_torch(dtype):
    a = np.array([[200, 100, 3], [1, 0, 2]]).astype(dtype)
    for call in (lambda m, x: m.sum(x), lambda m, x: m.sum(x, 1), lambda m, x: m.prod(x),
                 lambda m, x: m.prod(x, 0), lambda m, x: x.sum(dim=0)):  # fmt: skip
        e, t = call(ember, ember.tensor(a)), call(torch, torch.tensor(a))
        assert str(e.dtype) == str(t.dtype).replace("torch.", "")
        np.testing.assert_array_equal(e.array, t.numpy())


def test_median_of_empty_tensors_as_torch():
    for lib in (ember, torch):
        assert np.isnan(lib.median(lib.tensor([])).item())
        assert np.isnan(lib.nanmedian(lib.tensor([float("nan")])).item())
        assert lib.median(lib.tensor([], dtype=lib.int64)).item() == np.iinfo(np.int64).min
        for f in (lib.median, lib.nanmedian):
            assert tuple(f(lib.zeros(0, 3), 1).values.shape) == (0,)
            with pytest.raises(IndexError, match="Expected reduction dim 1 to have non-zero size"):
                f(lib.zeros(3, 0), 1)


def test_integer_division_by_zero_and_negative_powers_as_torch():
    a, z = np.array([5, -7, 3]), np.array([2, 0, 3])
    divisions = (
        lambda m, p, q: m.floor_divide(p, q),
        lambda m, p, q: m.remainder(p, q),
        lambda m, p, q: m.fmod(p, q),
        lambda m, p, q: p // 0,
        lambda m, p, q: m.div(p, q, rounding_mode="trunc"),
    )
    for lib in (ember, torch):
        for f in divisions:
            with pytest.raises(RuntimeError, match="ZeroDivisionError"):
                f(lib, lib.tensor(a), lib.tensor(z))
        base, power = lib.tensor([2, 1, -1, 3, -2, 0]), lib.tensor([-1, -2, -3, 0, -2, -1])
        assert lib.pow(base, power).tolist() == [0, 1, -1, 1, 0, 0]
        with pytest.raises(RuntimeError, match="Integers to negative integer powers"):
            lib.tensor([2]) ** -1
        f = lib.tensor([5.0, 0.0])
        np.testing.assert_array_equal(np.asarray((f // 0).tolist()), [np.inf, np.nan])


SUBTRACTIONS = (
    lambda m: m.ones(2) - True,
    lambda m: 1 - m.tensor([True]),
    lambda m: m.sub(m.ones(2), m.tensor([True, False])),
    lambda m: m.tensor([True]) - m.tensor([False]),
)


@pytest.mark.parametrize("case", range(len(SUBTRACTIONS)))
def test_bool_subtraction_is_refused_as_torch(case):
    for lib in (ember, torch):
        with pytest.raises(RuntimeError, match="Subtraction, the `-` operator, with (a|two) bool"):
            SUBTRACTIONS[case](lib)


@pytest.mark.parametrize(
    "name, kernel",
    [("elu", "elu_cpu"), ("selu", "elu_cpu"), ("celu", "elu_cpu"), ("silu", "silu_cpu"),
     ("mish", "mish_cpu"), ("softplus", "softplus_cpu"), ("hardswish", "hardswish_cpu"),
     ("hardsigmoid", "hardsigmoid_cpu"), ("leaky_relu", "leaky_relu_cpu"),
     ("logsigmoid", "log_sigmoid_cpu"), ("softshrink", "softshrink_check"),
     ("hardshrink", "hardshrink_cpu"), ("gelu", "GeluKernelImpl"), ("glu", "glu_cpu"),
     ("rrelu", "leaky_relu_cpu")],
)  # fmt: skip
def test_activations_refuse_integers_as_torch(name, kernel):
    for lib in (ember, torch):
        with pytest.raises(NotImplementedError, match=f"\"{kernel}\" not implemented for 'Long'"):
            getattr(lib.nn.functional, name)(lib.tensor([1, 2]))
    for lib in (ember, torch):  # floats still work
        getattr(lib.nn.functional, name)(lib.tensor([1.0, 2.0]))


def test_bool_and_unsigned_limits_of_relu_hardtanh_threshold_as_torch():
    for lib in (ember, torch):
        F_ = lib.nn.functional
        with pytest.raises(RuntimeError, match="Boolean inputs not supported for relu"):
            F_.relu(lib.tensor([True]))
        for f in (F_.relu6, F_.hardtanh):
            with pytest.raises(RuntimeError, match="Bool inputs not supported for hardtanh"):
                f(lib.tensor([True]))
        with pytest.raises(RuntimeError, match="unsigned type with negative limits"):
            F_.hardtanh(lib.tensor([1], dtype=lib.uint8))
        with pytest.raises(NotImplementedError, match='"threshold_cpu" not implemented'):
            F_.threshold(lib.tensor([True]), 0.5, 1.0)
        assert F_.relu(lib.tensor([-1, 2])).tolist() == [0, 2]


def test_bitwise_ops_keep_the_tensors_integer_dtype_as_torch():
    for lib in (ember, torch):
        x, u = lib.tensor([1, 2], dtype=lib.int32), lib.tensor([1, 250], dtype=lib.uint8)
        assert str((x & 1).dtype).endswith("int32") and str((x | lib.tensor(3)).dtype).endswith(
            "int32")  # fmt: skip
        assert (u ^ 300).tolist() == [45, 214] and str(lib.bitwise_xor(u, 1).dtype).endswith(
            "uint8")  # fmt: skip


def test_logsumexp_softmax_and_scans_edges_as_torch():
    for lib in (ember, torch):
        e = lib.logsumexp(lib.zeros(0, 3), 0)
        assert e.tolist() == [float("-inf")] * 3 and tuple(
            lib.logsumexp(lib.zeros(0, 3), 1).shape
        ) == (0,)
        assert str(lib.logsumexp(lib.tensor([1, 2]), 0).dtype).endswith("float32")
        assert tuple(lib.softmax(lib.zeros(0, 3), 0).shape) == (0, 3)
        assert tuple(lib.log_softmax(lib.zeros(2, 0), 1).shape) == (2, 0)
        u = lib.tensor([200, 100], dtype=lib.uint8)
        for f in (lib.cumsum, lib.cumprod):
            r = f(u, 0)
            assert str(r.dtype).endswith("int64") and not str(r.dtype).endswith("uint64")
        assert lib.cumsum(u, 0).tolist() == [200, 300]
    x = ember.zeros(0, 3, requires_grad=True)
    ember.logsumexp(x, 0).sum().backward()
    assert x.grad.shape == (0, 3)


def test_shape_and_index_edges_as_torch():
    a = np.arange(12.0).reshape(3, 4)
    for lib in (ember, torch):
        assert tuple(lib.cat([lib.tensor(a), lib.zeros(0)]).shape) == (3, 4)  # legacy (0,) skipped
        assert tuple(lib.cat([lib.zeros(0), lib.zeros(0)]).shape) == (0,)
        x = lib.tensor(a)
        for mask in (lib.tensor(a) > 100, lib.zeros(3, 4, dtype=lib.int64)):
            if str(mask.dtype).endswith("bool"):
                x.masked_fill(mask, 1.0)
            else:
                with pytest.raises(RuntimeError, match="only supports boolean masks.*long int"):
                    x.masked_fill(mask, 1.0)
        assert lib.argsort(lib.tensor([2, 1, 2, 1]), stable=True).tolist() == [1, 3, 0, 2]
        assert lib.tensor([2, 1]).argsort(stable=True).tolist() == [1, 0]
        c = lib.clamp(lib.tensor([1, 5, 9]), 1.5, 4.5)
        assert str(c.dtype).endswith("float32") and c.tolist() == [1.5, 4.5, 4.5]
        assert str(lib.clamp(lib.tensor([1, 5, 9]), 2, 4).dtype).endswith("int64")


@pytest.mark.parametrize("base", [2, -1, 1, 0, -3, 300, True])
def test_a_number_to_negative_integer_tensor_powers_as_torch(base):
    """c ** x for an integer x with negative entries: torch's integer power (1 for c = 1, ±1
    for c = −1, else 0), in x's dtype, wrapping c as torch does; NumPy refused them."""
    x = np.array([2, -2, 3, 0, -1, 1])
    for dtype in (np.int64, np.int8):
        got = base ** ember.tensor(x.astype(dtype))
        want = base ** torch.tensor(x.astype(dtype))
        assert str(got.dtype) == str(want.dtype).removeprefix("torch.")
        assert got.tolist() == want.tolist()
    assert ember.pow(base, ember.tensor(x)).tolist() == torch.pow(base, torch.tensor(x)).tolist()


@pytest.mark.parametrize("din", ["bool", "uint8", "int32", "float16", "float32"])
@pytest.mark.parametrize("dtype", ["bool", "int8", "int64", "float64", "complex64"])
def test_nansum_takes_its_dtype_as_torch(din, dtype):
    """An integer or bool input is a plain sum in ``dtype`` (ember gave int64 whatever it was
    asked, and refused a complex dtype); a floating input cast to an integer dtype too."""
    x = np.array([1.5, 2.7, 0, 3]).astype(din)
    try:
        want = torch.tensor(x).nansum(dtype=getattr(torch, dtype))
    except RuntimeError:  # a floating input summed as complex: both refuse
        with pytest.raises(RuntimeError, match="complex"):
            ember.tensor(x).nansum(dtype=getattr(ember, dtype))
        return
    got = ember.tensor(x).nansum(dtype=getattr(ember, dtype))
    assert str(got.dtype) == str(want.dtype).removeprefix("torch.")
    np.testing.assert_array_equal(got.numpy(), want.numpy())
