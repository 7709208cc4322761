"""Activation gradients where ember used to differ from torch 2.13 (found by fuzzing both side
by side; values and refusals are in test_activations_as_torch_edges.py): the rounding of tanh's,
sigmoid's, softplus's and softmax's gradients (torch's order and its fused 1 − y²), float16
activations computed in float32 and rounded once, the second derivatives of softplus at its
threshold and of logsigmoid, and create_graph rules that give the plain gradient's values."""

import numpy as np
import pytest

import ember
from tests.functional.activation_reference import _F, _alike

INF = float("inf")


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
def test_tanh_gradient_keeps_one_minus_y_squared_exact_near_saturation(torch, dtype):
    """tanh' = 1 − y² as torch's fused multiply-add rounds it, to an ulp or two in float32
    ((1 − y)(1 + y), one pass fewer than rounding y² in float64) and to the bit in float16 and
    float64 (ember's 1 − y·y in float32 was 0.08 % off at x = 6, where y·y's rounding error is
    most of the result)."""
    a = np.array([3.0, 6.0, -3.0, -6.0, 12.0, 2.5], dtype=dtype)
    out = []
    for lib in (ember, torch):
        x = lib.tensor(a, requires_grad=True)
        y = x.tanh()
        y.backward(lib.tensor(np.full(a.shape, 0.7, dtype=dtype)))
        out.append((y.detach().numpy(), x.grad.numpy()))
    (ye, ge), (yt, gt) = out
    np.testing.assert_array_equal(ye, yt)  # the same y, so the same derivative
    if dtype == "float32":  # three ulps at most (float32's ε is 1.19e-7)
        np.testing.assert_allclose(ge, gt, rtol=3.6e-7, atol=0)
    else:
        np.testing.assert_array_equal(ge, gt)


def _values_and_grads(lib, name, a, g, kw):
    x = lib.tensor(a, requires_grad=True)
    y = getattr(_F(lib), name)(x, **kw)
    y.backward(lib.tensor(g))
    return y.detach().numpy(), x.grad.numpy()


_HALF_CASES = [
    ("leaky_relu", {"negative_slope": 0.1}),  # the slope was rounded to half first
    ("elu", {}),
    ("selu", {}),
    ("hardswish", {}),
    ("hardsigmoid", {}),
    ("logsigmoid", {}),  # its gradient reads e^{−|x|} as torch's half buffer
    ("sigmoid", {}),  # gy·(1 − σ)·σ in torch's order, each step rounded to half
]


@pytest.mark.parametrize(("name", "kw"), _HALF_CASES)
def test_float16_activations_round_as_torch(torch, name, kw):
    """float16 values and gradients bit for bit as torch's: computed in float32 and rounded
    once where torch's kernels do (ember computed leaky_relu, elu, selu, hardswish,
    hardsigmoid in half, up to 11 % off in elu's gradient)."""
    a = (np.random.RandomState(1).randn(4000) * 4).astype(np.float16)
    g = np.random.RandomState(2).randn(4000).astype(np.float16)
    (ye, ge), (yt, gt) = (_values_and_grads(lib, name, a, g, kw) for lib in (ember, torch))
    np.testing.assert_array_equal(ye, yt)
    np.testing.assert_array_equal(ge, gt)


@pytest.mark.parametrize(
    ("name", "dtype"), [("sigmoid", "float32"), ("sigmoid", "float64"), ("softplus", "float64")]
)
def test_gradients_multiply_in_torchs_order(torch, name, dtype):
    """sigmoid's gy·(1 − σ)·σ and softplus's gy·z/(z + 1) (z = e^{βx}) in torch's order: bit
    for bit where σ, or z, is the same (ember's (1 − σ)·σ·gy and z/(z + 1)·gy differed by an
    ulp for a third of the inputs)."""
    a = (np.random.RandomState(1).randn(4000) * 4).astype(dtype)
    g = np.random.RandomState(2).randn(4000).astype(dtype)
    kw = {"beta": 2.0} if name == "softplus" else {}
    (ye, ge), (yt, gt) = (_values_and_grads(lib, name, a, g, kw) for lib in (ember, torch))
    if name == "sigmoid":
        same = ye == yt
        assert same.mean() > 0.9
        np.testing.assert_array_equal(ge[same], gt[same])
    else:  # torch's kernel takes its own e^{βx}, an ulp off NumPy's for a few: 97 % alike
        assert (ge == gt).mean() > 0.95  # (66 % before; float32's e^x differs too often)


@pytest.mark.parametrize(("beta", "threshold"), [(10.0, 0.0), (1.0, 20.0), (2.0, 5.0)])
def test_softplus_second_derivative_at_its_threshold(torch, beta, threshold):
    """At βx = threshold the first derivative is σ(βx) and the second 0, as torch's
    softplus_double_backward masks by βx < threshold (ember differentiated σ there too)."""
    values = [-0.0, 0.0, 20.0, 2.5, 1.0, -3.0, 30.0, INF]
    _alike(torch, lambda lib, x: _F(lib).softplus(x, beta, threshold), values)


@pytest.mark.parametrize(
    ("name", "dim", "dtype"),
    [
        ("softmax", -1, "float16"),
        ("log_softmax", -1, "float16"),
        ("log_softmax", 0, "float16"),
        ("softmax", -1, "float32"),
    ],  # fmt: skip
)
def test_softmax_gradients_as_torch(torch, name, dim, dtype):
    """torch's y ⊙ (gy − Σ gy ⊙ y) (ember's y·gy − y·Σ cancelled apart, up to 50 % off in
    half), float16 from the half output torch keeps: bit for bit where y is."""
    a = (np.random.RandomState(0).randn(2000, 3) * 3).astype(dtype)
    g = np.random.RandomState(1).randn(2000, 3).astype(dtype)
    out = []
    for lib in (ember, torch):
        x = lib.tensor(a, requires_grad=True)
        y = getattr(x, name)(dim)
        y.backward(lib.tensor(g))
        out.append((y.detach().numpy(), x.grad.numpy()))
    (ye, ge), (yt, gt) = out
    same = ye == yt  # log_softmax's gradient reads y elementwise, softmax's its whole row
    if name == "softmax":
        same = same.all(axis=dim, keepdims=True) & np.ones(a.shape, bool)
    assert same.mean() > 0.1
    np.testing.assert_array_equal(ge[same], gt[same])


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@pytest.mark.parametrize("dtype", ["float16", "float32"])
def test_softmax_create_graph_gives_the_first_derivative(torch, name, dtype):
    """create_graph's recorded gradient has the plain gradient's values, as torch's (ember's
    rule used the older formula, in half arithmetic for float16)."""
    a = (np.random.RandomState(0).randn(300, 5) * 3).astype(dtype)
    g = np.random.RandomState(1).randn(300, 5).astype(dtype)
    for lib in (ember, torch):
        got = []
        for create_graph in (False, True):
            x = lib.tensor(a, requires_grad=True)
            y = getattr(x, name)(-1 if name == "softmax" else 0)
            (gx,) = lib.autograd.grad(y, x, lib.tensor(g), create_graph=create_graph)
            got.append(gx.detach().numpy())
        np.testing.assert_array_equal(*got)


_CG_CASES = [
    (name, kw, dtype)
    for dtype in ("float16", "float32", "float64")
    for name, kw in [
        ("tanh", {}),
        ("sigmoid", {}),
        ("hardsigmoid", {}),
        ("softplus", {"beta": 2.0, "threshold": 10.0}),
        ("logsigmoid", {}),
        ("selu", {}),
        ("tanhshrink", {}),
    ]
] + [
    ("leaky_relu", {"negative_slope": 0.1}, "float16"),
    ("elu", {}, "float16"),
    ("celu", {"alpha": 0.5}, "float16"),
    ("hardswish", {}, "float16"),
]


@pytest.mark.parametrize(("name", "kw", "dtype"), _CG_CASES)
def test_create_graph_gradient_is_the_plain_one(torch, name, kw, dtype):
    """With create_graph the recorded rule gives the plain backward's values to the last bit,
    as torch's (ember's rules rounded in another order, float16 ones in half arithmetic)."""
    a = (np.random.RandomState(1).randn(2000) * 4).astype(dtype)
    g = np.random.RandomState(2).randn(2000).astype(dtype)
    for lib in (ember, torch):
        got = []
        for create_graph in (False, True):
            x = lib.tensor(a, requires_grad=True)
            y = getattr(_F(lib), name)(x, **kw)
            (gx,) = lib.autograd.grad(y, x, lib.tensor(g), create_graph=create_graph)
            got.append(gx.detach().numpy())
        np.testing.assert_array_equal(*got)


def test_logsigmoid_second_derivative_at_zero(torch):
    """−σ(0)σ(0) = −¼ at 0, and −σ(x)σ(−x) in the left tail (ember's σ(x)·(1 − σ(x)) of −x gave
    0 at −40), as torch's; at +40 torch gives 0 where ember keeps −4.2e−18."""
    _alike(torch, lambda lib, x: _F(lib).logsigmoid(x), [-0.0, 0.0, -3.0, 2.0, -40.0])
