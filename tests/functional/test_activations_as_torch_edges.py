"""Activations where ember used to differ from torch 2.13 (found by fuzzing both side by side):
second derivatives of the ELU family at +inf and at 0, relu's recorded gradient at NaN,
prelu's dtype rules and its recorded gradient, the integer and float16 rules of threshold,
softshrink's check order, glu of an empty halving dimension and of float16, softmax's dim
check before its dtype check and its float16 results, hardtanh_ with min_val > max_val,
leaky_relu with slope 0 at +inf and rrelu's eval gradient graph."""

import numpy as np
import pytest

import ember
from tests.functional.activation_reference import _F, _alike

INF, NAN = float("inf"), float("nan")


@pytest.mark.parametrize("name", ["elu", "selu", "celu"])
def test_elu_family_second_derivative_at_infinity_and_zero(torch, name):
    """create_graph: the gradient at +inf is the scale (ember's recorded x·0 made it NaN), and
    the second derivative at x = 0 is 0, torch's elu_double_backward masking by x < 0."""
    values = [-118.0, -1.0, -0.0, 0.0, 0.5, 1000.0, INF, -INF]
    _alike(torch, lambda lib, x: getattr(_F(lib), name)(x), values)


def test_relu_recorded_gradient_passes_nan(torch):
    """relu's recorded derivative (create_graph) at NaN is 1, as its first derivative and
    torch's threshold_backward give (it was 0)."""
    _alike(torch, lambda lib, x: _F(lib).relu(x), [NAN, -1.0, 0.0, 2.0])


def _prelu_mistakes(lib):
    F = _F(lib)
    w = lib.tensor([0.25])
    return [
        ("bool input", lambda: F.prelu(lib.tensor([True, False]), w)),
        ("int64 input", lambda: F.prelu(lib.tensor([1, -2]), w)),
        ("float64 input, float32 weight", lambda: F.prelu(lib.ones(2, dtype=lib.float64), w)),
        ("float16 input, float32 weight", lambda: F.prelu(lib.ones(2, dtype=lib.float16), w)),
        ("int64 input and weight", lambda: F.prelu(lib.tensor([1, -2]), lib.tensor([1]))),
        ("a 2-d weight", lambda: F.prelu(lib.ones(2, 3), lib.ones(1, 3))),
    ]


@pytest.mark.parametrize("k", range(6))
def test_prelu_refuses_what_torch_refuses(refused_alike, k):
    """torch's prelu promotes no dtypes (ember computed them) and takes no 2-d weight
    (ember's ValueError is now also the RuntimeError torch raises)."""
    refused_alike(_prelu_mistakes, k)


def test_prelu_recorded_gradient_keeps_the_input(torch):
    """create_graph: x stays in the gradient's graph (zeros, not "not used"), as torch's."""
    w = np.array([0.25, -0.5, 2.0])
    _alike(
        torch,
        lambda lib, x: _F(lib).prelu(x, lib.tensor(w)),
        [[-1.0, 2.0, -3.0], [0.5, -3.0, 1.0]],
        upstream=np.full((2, 3), 3.0),
    )


def test_softshrink_of_integers_refused_before_its_lambda(torch):
    """torch checks the dtype first: NotImplementedError, not the negative lambda's error."""
    for lib in (ember, torch):
        with pytest.raises(NotImplementedError):
            _F(lib).softshrink(lib.tensor([1, -2]), -0.5)


def test_threshold_of_integers_truncates_its_scalars(torch):
    """For integer input torch converts threshold and value to its type (−0.5 becomes 0, so
    x = 0 is replaced too; ember compared x ≤ −0.5), a negative int wrapped for unsigned."""
    cases = [
        (-0.5, 9, "int64"),
        (1.9, -7.8, "int64"),
        (-0.9, 1, "int32"),
        (1.5, 200, "uint8"),
        (0.5, -2, "uint8"),  # a negative int wraps: 254
        (-2, 7, "uint8"),  # threshold 254
        (0.5, -(2**31), "int32"),
    ]
    for threshold, value, dtype in cases:
        a = np.array([-2, -1, 0, 1, 2]) if dtype != "uint8" else np.array([0, 1, 2, 3, 250])
        e = _F(ember).threshold(ember.tensor(a.astype(dtype)), threshold, value)
        t = _F(torch).threshold(torch.tensor(a.astype(dtype)), threshold, value)
        assert str(e.dtype) == str(t.dtype).removeprefix("torch.")
        np.testing.assert_array_equal(e.numpy(), t.numpy(), err_msg=str((threshold, value)))


def _threshold_overflows(lib):
    F = _F(lib)
    i = lib.tensor([1, 2])
    return [
        ("uint8, threshold 300", lambda: F.threshold(i.to(lib.uint8), 300, 1)),
        ("uint8, negative threshold", lambda: F.threshold(i.to(lib.uint8), -0.5, 1)),
        ("uint8, negative float value", lambda: F.threshold(i.to(lib.uint8), 0.5, -2.0)),
        ("uint8, value -256", lambda: F.threshold(i.to(lib.uint8), 0.5, -256)),
        ("int32, threshold 2**31", lambda: F.threshold(i.to(lib.int32), 2.0**31, 0)),
        ("int64, value nan", lambda: F.threshold(i, 0.5, NAN)),
        ("int64, threshold inf", lambda: F.threshold(i, INF, 0)),
        ("float16, value 1e6", lambda: F.threshold(i.to(lib.float16), 1.5, 1e6)),
        ("float32, value 1e39", lambda: F.threshold(i.to(lib.float32), 1.5, 1e39)),
        ("in place", lambda: F.threshold(i.clone(), 0.5, NAN, inplace=True)),
    ]


@pytest.mark.parametrize("k", range(10))
def test_threshold_refuses_scalars_that_overflow_the_dtype(refused_alike, k):
    refused_alike(_threshold_overflows, k)


def test_threshold_of_float16_compares_in_float32(torch):
    """A threshold past half's range is not rounded to inf first: inf ≤ 1e10 is false."""
    a = np.array([INF, -INF, NAN, 0.0, 3.0], dtype=np.float16)
    for th in (1e10, 70000.0):
        e = _F(ember).threshold(ember.tensor(a), th, -1.0).numpy()
        t = _F(torch).threshold(torch.tensor(a), th, -1.0).numpy()
        np.testing.assert_array_equal(e, t)


@pytest.mark.parametrize(("shape", "dim"), [((2, 0), -1), ((0,), 0), ((0, 3), 0)])
def test_glu_of_an_empty_halving_dimension(torch, shape, dim):
    """A size-0 halving dimension is even: an empty result, as torch's (ember failed to split)."""
    e = _F(ember).glu(ember.zeros(*shape, requires_grad=True), dim)
    t = _F(torch).glu(torch.zeros(*shape, requires_grad=True), dim)
    assert e.shape == tuple(t.shape) and e.requires_grad == t.requires_grad


def test_glu_of_float16_rounds_once(torch):
    """float16 computed in float32 and rounded once, as torch's (a·σ(b) in half underflowed)."""
    a = np.array([[2.78125, 1.75, -2.57421875, -3.9609375, -15.125, -4.59765625]], np.float16)
    e = _F(ember).glu(ember.tensor(a), -1).numpy()
    t = _F(torch).glu(torch.tensor(a), -1).numpy()
    np.testing.assert_array_equal(e, t)


def _softmax_mistakes(lib):
    i = lib.tensor([[1, 2]])
    return [
        ("softmax of int64, dim 5", lambda: _F(lib).softmax(i, 5)),
        ("log_softmax of bool, dim -3", lambda: _F(lib).log_softmax(i.bool(), -3)),
        ("softmin of uint8, dim 2", lambda: _F(lib).softmin(i.to(lib.uint8), 2)),
        ("Tensor.softmax of 0-d int, dim 1", lambda: lib.tensor(3).softmax(1)),
        ("softmax to int64 dim 4", lambda: _F(lib).softmax(i.float(), 4, dtype=lib.int64)),
    ]


@pytest.mark.parametrize("k", range(5))
def test_softmax_checks_the_dim_before_the_dtype(refused_alike, k):
    """torch's IndexError for a dim out of range comes first (ember said NotImplementedError)."""
    refused_alike(_softmax_mistakes, k, IndexError)


@pytest.mark.parametrize("dtype", ["int64", "uint8", "bool"])
def test_softmax_of_an_empty_integer_tensor_is_itself(torch, dtype):
    """torch hands an empty non-float tensor back (ember refused it)."""
    for name in ("softmax", "log_softmax"):
        e = getattr(_F(ember), name)(ember.zeros(0, 2, dtype=getattr(ember, dtype)), 1)
        t = getattr(_F(torch), name)(torch.zeros(0, 2, dtype=getattr(torch, dtype)), 1)
        assert e.shape == tuple(t.shape) and str(e.dtype) == str(t.dtype).removeprefix("torch.")


@pytest.mark.parametrize(("name", "dim"), [("softmax", -1), ("log_softmax", 0)])
def test_softmax_of_float16_rounds_once(torch, name, dim):
    """float16 in float32, rounded once, as torch (in half ember was off by up to 60 ulps)."""
    a = np.float16(np.random.RandomState(0).randn(200, 7) * 3)
    e = getattr(ember.tensor(a), name)(dim).numpy()
    t = getattr(torch.tensor(a), name)(dim).numpy()
    np.testing.assert_array_equal(e, t)


def test_hardtanh_in_place_takes_min_above_max(torch):
    """torch's hardtanh_ has no min_val ≤ max_val check (F.hardtanh has): a clamp to max_val."""
    a = np.array([0.0, 1.5, 3.0, -INF])
    e = _F(ember).hardtanh_(ember.tensor(a), 2.0, 1.0).numpy()
    t = _F(torch).hardtanh_(torch.tensor(a), 2.0, 1.0).numpy()
    np.testing.assert_array_equal(e, t)


def test_leaky_relu_with_slope_zero_at_infinity(torch):
    """+inf stays +inf (max(x, 0·x) gave NaN); −inf is 0·(−inf) = NaN, as torch's."""
    a = np.array([INF, -INF, NAN, -0.0, 0.0, -2.0, 3.0])
    e = _F(ember).leaky_relu(ember.tensor(a), 0.0).numpy()
    t = _F(torch).leaky_relu(torch.tensor(a), 0.0).numpy()
    np.testing.assert_array_equal(e, t)
    np.testing.assert_array_equal(np.signbit(e), np.signbit(t))


def test_rrelu_in_eval_keeps_the_input_in_the_gradient_graph(torch):
    """rrelu(training=False) is torch's leaky_relu: a second grad to x gets zeros, not None."""
    _alike(torch, lambda lib, x: _F(lib).rrelu(x, 0.1, 0.3, training=False), [-1.0, 0.0, 2.0])


def test_softmin_warns_where_torch_does(torch):
    """The implicit-dim warning of F.softmin points at its caller, and nn.Softmin's inside the
    module call, as torch's (ember's pointed one frame further out for both)."""
    for lib in (ember, torch):
        with pytest.warns(UserWarning, match="Implicit dimension choice for softmin") as got:
            _F(lib).softmin(lib.ones(2, 3))
        assert got[0].filename == __file__
        with pytest.warns(UserWarning, match="Implicit dimension choice for softmin") as got:
            lib.nn.Softmin()(lib.ones(2, 3))
        assert got[0].filename != __file__


def test_softmin_negates_before_casting_to_dtype(torch):
    """torch computes (−x).softmax(dim, dtype): a bool input is refused even with a float dtype
    (ember cast first and computed it)."""
    for lib in (ember, torch):
        with pytest.raises(RuntimeError, match="Negation"):
            _F(lib).softmin(lib.tensor([True, False]), 0, dtype=lib.float32)


def _scalar_mistakes(lib):
    F, x = _F(lib), lib.ones(2, 3)
    return [
        ("threshold: a str value", lambda: F.threshold(x, 0.5, "a"), TypeError),
        ("threshold: a 1-d tensor", lambda: F.threshold(x, lib.tensor([0.5]), 1.0), TypeError),
        ("threshold: a complex value", lambda: F.threshold(x, 0.5, 1j), RuntimeError),
        ("threshold: a complex threshold", lambda: F.threshold(x, 2j, 1.0), RuntimeError),
        ("softshrink: NaN", lambda: F.softshrink(x, NAN), RuntimeError),
        ("softshrink: inf", lambda: F.softshrink(x.double(), INF), RuntimeError),
        ("softshrink: past half", lambda: F.softshrink(x.half(), 70000.0), RuntimeError),
        ("prelu: a float weight", lambda: F.prelu(x, 0.25), TypeError),
    ]


@pytest.mark.parametrize("k", range(8))
def test_scalar_arguments_refused_as_torch(torch, k):
    """torch's Scalar binding: numbers and 0-d tensors only (TypeError); a complex number is
    no real threshold, and softshrink's lambda lies in [0, the dtype's max] (RuntimeError)."""
    for make in (_scalar_mistakes(ember)[k], _scalar_mistakes(torch)[k]):
        with pytest.raises(make[2]):
            make[1]()


def test_shrink_lambda_as_a_0d_tensor(torch):
    """A 0-d tensor is a Scalar to torch (ember's hardshrink failed on it)."""
    a = np.array([-1.5, -0.5, 0.2, 0.7, 2.0])
    for name in ("hardshrink", "softshrink"):
        e = getattr(_F(ember), name)(ember.tensor(a), ember.tensor(0.6)).numpy()
        t = getattr(_F(torch), name)(torch.tensor(a), torch.tensor(0.6)).numpy()
        np.testing.assert_array_equal(e, t)


def test_rrelu_training_refuses_float16(torch):
    """torch's noise kernel has no half version: NotImplementedError (ember computed it);
    eval mode, a leaky_relu, takes float16."""
    for lib in (ember, torch):
        x = lib.tensor([-1.0, 2.0], dtype=lib.float16)
        with pytest.raises(NotImplementedError):
            _F(lib).rrelu(x, 0.1, 0.3, training=True)
        assert _F(lib).rrelu(x, 0.1, 0.3).dtype == lib.float16
