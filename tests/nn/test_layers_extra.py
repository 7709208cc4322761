"""ember.nn.layers_extra and ember.functional.layers_extra against torch in float64: values and
gradients on odd sizes, batch 1 and unbatched inputs, ceil_mode, zero windows; gradchecks;
reprs equal to torch's; RReLU and the alpha dropouts exactly in eval mode and for a known
mask, statistically in training."""

from __future__ import annotations

import math

import numpy as np
import pytest

import ember
import ember.functional.layers_extra as F
import ember.nn.layers_extra as M
from ember import backend
from tests.core_reference import check_gradients, compare_with_torch, randn


def modules(torch, name, *args, **kwargs):
    """The ember and the torch module of that name, built alike."""
    return getattr(M, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs)


def compare_modules(torch, name, args, arrays, **kwargs):
    me, mt = modules(torch, name, *args, **kwargs)
    assert repr(me) == repr(mt)
    compare_with_torch(torch, me, mt, arrays)


# ---------------------------------------------------------------- Softmax2d


@pytest.mark.parametrize("shape", [(2, 3, 4, 5), (1, 5, 1, 3), (3, 4, 5)])
def test_softmax2d(torch, shape):
    compare_modules(torch, "Softmax2d", (), [randn(*shape, seed=1, scale=3.0)])
    check_gradients(M.Softmax2d(), [randn(*shape, seed=2)])


def test_softmax2d_rejects_other_ranks():
    with pytest.raises(ValueError, match="3D or 4D, got 2D"):
        M.Softmax2d()(ember.tensor(randn(3, 4)))


# ---------------------------------------------------------------- RReLU

X = randn(4, 7, seed=3, scale=2.0)
X[0, :3] = 0.0  # the kink itself


@pytest.mark.parametrize("bounds", [(1 / 8, 1 / 3), (0.1, 0.3), (0.0, 1.0)])
def test_rrelu_eval_is_leaky_relu_with_the_mean_slope(torch, bounds):
    lo, hi = bounds
    compare_with_torch(
        torch, lambda x: F.rrelu(x, lo, hi), lambda x: torch.nn.functional.rrelu(x, lo, hi), [X]
    )
    me, mt = modules(torch, "RReLU", lo, hi)
    compare_with_torch(torch, me.eval(), mt.eval(), [X])
    y = F.rrelu(ember.tensor(X), lo, hi)
    np.testing.assert_array_equal(y.array, np.where(X > 0, X, X * (lo + hi) / 2))


def test_rrelu_training_with_equal_bounds_matches_torch(torch):
    """lower == upper: the training draw is a constant, so torch's training path is exact."""
    compare_with_torch(
        torch,
        lambda x: F.rrelu(x, 0.2, 0.2, training=True),
        lambda x: torch.nn.functional.rrelu(x, 0.2, 0.2, training=True),
        [X],
    )


def test_rrelu_training_draws_a_slope_per_element(torch):
    lo, hi = 0.1, 0.4
    x = ember.tensor(-np.abs(randn(200_000, seed=4)) - 0.1, requires_grad=True)
    y = M.RReLU(lo, hi)(x)  # training by default
    y.sum().backward()
    slope = y.array / x.array
    assert slope.min() >= lo and slope.max() <= hi
    np.testing.assert_allclose(slope.mean(), (lo + hi) / 2, atol=2e-3)
    np.testing.assert_allclose(slope.var(), (hi - lo) ** 2 / 12, rtol=0.03)
    np.testing.assert_allclose(x.grad.array, slope, rtol=1e-12)  # ∂y/∂x = the drawn slope
    # torch's gradient is its noise the same way: y/x for x < 0, 1 for x > 0
    xt = torch.tensor(X, requires_grad=True)
    yt = torch.nn.functional.rrelu(xt, lo, hi, training=True)
    yt.sum().backward()
    neg = X < 0
    np.testing.assert_allclose(xt.grad.numpy()[neg], yt.detach().numpy()[neg] / X[neg], rtol=1e-12)
    xe = ember.tensor(X, requires_grad=True)
    ye = F.rrelu(xe, lo, hi, training=True)
    ye.sum().backward()
    np.testing.assert_allclose(xe.grad.array[neg], ye.array[neg] / X[neg], rtol=1e-12)
    np.testing.assert_array_equal(xe.grad.array[X > 0], 1.0)
    np.testing.assert_array_equal(ye.array[X > 0], X[X > 0])
    assert np.all((xe.grad.array[X == 0] >= lo) & (xe.grad.array[X == 0] <= hi))  # x = 0: a draw
    np.testing.assert_array_equal(ye.array[X == 0], 0.0)


def test_rrelu_training_repeats_under_a_seed_and_gradchecks():
    ember.manual_seed(5)
    a = F.rrelu(ember.tensor(X), training=True).array
    ember.manual_seed(5)
    np.testing.assert_array_equal(F.rrelu(ember.tensor(X), training=True).array, a)
    assert not np.array_equal(F.rrelu(ember.tensor(X), training=True).array, a)

    def seeded(x):
        ember.manual_seed(6)
        return F.rrelu(x, 0.1, 0.3, training=True)

    check_gradients(seeded, [randn(3, 5, seed=7)])


def test_rrelu_repr_and_errors(torch):
    for args in [(), (0.1, 0.3), (0.1, 0.3, True)]:
        me, mt = modules(torch, "RReLU", *args)
        assert repr(me) == repr(mt)
    with pytest.raises(ValueError, match="lower bound"):
        F.rrelu(ember.tensor(X), 0.5, 0.2, training=True)


# ---------------------------------------------------------------- ChannelShuffle


@pytest.mark.parametrize(
    "shape,groups", [((2, 6, 5, 3), 3), ((1, 6, 7), 2), ((3, 4, 1, 1), 4), ((2, 5, 3), 1)]
)
def test_channel_shuffle(torch, shape, groups):
    x = randn(*shape, seed=8)
    compare_modules(torch, "ChannelShuffle", (groups,), [x])
    compare_with_torch(
        torch,
        lambda t: F.channel_shuffle(t, groups),
        lambda t: torch.nn.functional.channel_shuffle(t, groups),
        [x],
    )
    check_gradients(lambda t: F.channel_shuffle(t, groups), [x])


def test_channel_shuffle_errors():
    for shape, groups, match in [((2, 6), 3, "> 2 dims"), ((2, 6, 4), 4, "divisible"),
                                 ((2, 6, 4), 0, "positive")]:  # fmt: skip
        with pytest.raises(ValueError, match=match):
            F.channel_shuffle(ember.tensor(randn(*shape)), groups)


# ---------------------------------------------------------------- upsampling


@pytest.mark.parametrize(
    "name,kwargs",
    [
        ("UpsamplingNearest2d", dict(scale_factor=2)),
        ("UpsamplingNearest2d", dict(size=(7, 4))),
        ("UpsamplingNearest2d", dict(scale_factor=(1.5, 3))),
        ("UpsamplingBilinear2d", dict(scale_factor=2)),
        ("UpsamplingBilinear2d", dict(size=(7, 9))),
        ("UpsamplingBilinear2d", dict(size=5)),
    ],
)
def test_upsampling(torch, name, kwargs):
    x = randn(2, 3, 5, 3, seed=9)
    compare_modules(torch, name, (), [x], **kwargs)
    compare_modules(torch, name, (), [x[:1]], **kwargs)


def test_upsampling_bilinear_gradcheck():
    check_gradients(M.UpsamplingBilinear2d(size=(4, 5)), [randn(1, 2, 3, 3, seed=10)])


# ---------------------------------------------------------------- circular padding


@pytest.mark.parametrize(
    "name,padding,shape",
    [
        ("CircularPad1d", 2, (2, 3, 5)),
        ("CircularPad1d", (0, 5), (3, 5)),
        ("CircularPad1d", (-1, 2), (1, 2, 5)),
        ("CircularPad2d", 1, (2, 3, 4, 5)),
        ("CircularPad2d", (1, 2, 3, 0), (3, 4, 5)),
        ("CircularPad2d", (-1, 2, 2, -3), (1, 2, 5, 6)),
        ("CircularPad2d", (0, 6, 5, 0), (1, 1, 5, 6)),
    ],
)
def test_circular_pad(torch, name, padding, shape):
    x = randn(*shape, seed=11)
    compare_modules(torch, name, (padding,), [x])
    check_gradients(getattr(M, name)(padding), [x])


def test_circular_pad_errors():
    with pytest.raises(ValueError, match="2D or 3D input"):
        M.CircularPad1d(1)(ember.tensor(randn(5)))
    with pytest.raises(ValueError, match="3D or 4D input"):
        M.CircularPad2d(1)(ember.tensor(randn(4, 5)))
    with pytest.raises(ValueError, match="wrapping around more than once"):
        M.CircularPad1d(6)(ember.tensor(randn(1, 2, 5)))


# ---------------------------------------------------------------- LP pooling

POS = np.abs(randn(2, 3, 7, 8, seed=12)) + 0.1  # positive: every power is real


@pytest.mark.parametrize("norm_type", [1, 2, 1.5, 3.0, math.inf])
@pytest.mark.parametrize(
    "kernel_size,stride,ceil_mode",
    [(2, None, False), (3, None, True), ((2, 3), 1, False), ((3, 2), (2, 3), True), (3, 2, True)],
)
def test_lp_pool2d(torch, norm_type, kernel_size, stride, ceil_mode):
    args = (norm_type, kernel_size, stride, ceil_mode)
    compare_modules(torch, "LPPool2d", args, [POS])
    compare_modules(torch, "LPPool2d", args, [POS[0]])  # unbatched
    compare_with_torch(
        torch,
        lambda t: F.lp_pool2d(t, *args),
        lambda t: torch.nn.functional.lp_pool2d(t, *args),
        [POS[:1, :1]],
    )


@pytest.mark.parametrize("norm_type", [1, 2, 1.5, 3, math.inf])
@pytest.mark.parametrize(
    "kernel_size,stride,ceil_mode", [(2, None, False), (3, None, True), (3, 2, True), (4, 1, False)]
)
def test_lp_pool1d(torch, norm_type, kernel_size, stride, ceil_mode):
    args = (norm_type, kernel_size, stride, ceil_mode)
    x = POS[:, :, 0]
    compare_modules(torch, "LPPool1d", args, [x])
    compare_modules(torch, "LPPool1d", args, [x[0]])
    compare_modules(torch, "LPPool1d", args, [x[:1, :, :5]])


@pytest.mark.filterwarnings("ignore:invalid value encountered in power")
@pytest.mark.parametrize("norm_type", [2, 3])
def test_lp_pool_signs_and_zero_windows(torch, norm_type):
    """Negative inputs with even and odd p (an odd p may give a negative window sum: nan, as
    torch), and all-zero windows, whose gradient torch sets to 0 (not the root's ∞)."""
    x = randn(1, 2, 4, 6, seed=13)
    x[0, 0, :2, :2] = 0.0
    x[0, 1, 2:, :] = 0.0
    compare_modules(torch, "LPPool2d", (norm_type, 2), [x])
    xe = ember.tensor(x, requires_grad=True)
    F.lp_pool2d(xe, norm_type, 2).sum().backward()
    np.testing.assert_array_equal(xe.grad.array[0, 1, 2:], 0.0)
    np.testing.assert_array_equal(xe.grad.array[0, 0, :2, :2], 0.0)


def test_lp_pool_gradcheck():
    check_gradients(lambda t: F.lp_pool2d(t, 2.5, (2, 3), 1, True), [POS[:1, :2, :5, :5]])
    check_gradients(lambda t: F.lp_pool1d(t, 1.5, 3, 2, True), [POS[:1, :2, 0]])


def test_lp_pool_repr(torch):
    for name, args in [("LPPool1d", (2, 3)), ("LPPool2d", (1.5, (2, 3), 1, True))]:
        me, mt = modules(torch, name, *args)
        assert repr(me) == repr(mt)


# ---------------------------------------------------------------- alpha dropout

ALPHA = 1.7580993408473766


def alpha_formula(x, keep, p):
    """torch's alpha dropout for a given keep mask (ATen's _dropout_impl)."""
    a = 1.0 / math.sqrt((ALPHA * ALPHA * p + 1) * (1 - p))
    return x * (keep * a) + ((keep - 1) * ALPHA * a + ALPHA * a * p)


@pytest.mark.parametrize("feature", [False, True])
@pytest.mark.parametrize("p", [0.2, 0.5, 0.9])
def test_alpha_dropout_is_the_formula_for_its_mask(torch, feature, p):
    f = F.feature_alpha_dropout if feature else F.alpha_dropout
    x = randn(3, 4, 5, seed=14)
    mask_shape = (3, 4, 1) if feature else x.shape
    ember.manual_seed(21)
    xe = ember.tensor(x, requires_grad=True)
    y = f(xe, p, training=True)
    ember.manual_seed(21)
    keep = backend.default_generator.bernoulli_mask(1 - p, mask_shape, np.float64)
    assert 0 < keep.sum() < keep.size
    np.testing.assert_allclose(y.array, alpha_formula(x, keep, p), rtol=1e-14, atol=1e-15)
    w = randn(*x.shape, seed=15)
    (y * ember.tensor(w)).sum().backward()
    a = 1.0 / math.sqrt((ALPHA * ALPHA * p + 1) * (1 - p))
    np.testing.assert_allclose(xe.grad.array, w * keep * a, rtol=1e-14)
    # torch's output is the same formula for the mask it drew (read back from its output)
    torch.manual_seed(1)
    xt = torch.tensor(x)
    tf = torch.nn.functional.feature_alpha_dropout if feature else torch.nn.functional.alpha_dropout
    yt = tf(xt, p, training=True).numpy()
    dropped = alpha_formula(0.0, 0.0, p)
    keep_t = (~np.isclose(yt, dropped, rtol=0, atol=1e-12)).astype(np.float64)
    np.testing.assert_allclose(yt, alpha_formula(x, keep_t, p), rtol=1e-14, atol=1e-15)


@pytest.mark.parametrize("name", ["AlphaDropout", "FeatureAlphaDropout"])
@pytest.mark.parametrize("p", [0.1, 0.5])
def test_alpha_dropout_keeps_mean_and_variance(torch, name, p):
    torch.manual_seed(0)
    x = randn(400, 50, 10, seed=16)  # N(0, 1): what a SELU network feeds it
    y = getattr(M, name)(p)(ember.tensor(x)).array
    yt = getattr(torch.nn, name)(p)(torch.tensor(x)).numpy()
    for out in (y, yt):
        assert abs(out.mean()) < 0.02 and abs(out.std() - 1) < 0.02, (out.mean(), out.std())
    dropped = np.isclose(y, alpha_formula(0.0, 0.0, p), rtol=0, atol=1e-12)
    assert abs(dropped.mean() - p) < 0.01
    if name == "FeatureAlphaDropout":  # one draw per (n, c): all of it dropped or all kept
        assert np.all(dropped.all(axis=2) | ~dropped.any(axis=2))


@pytest.mark.parametrize("name", ["AlphaDropout", "FeatureAlphaDropout"])
def test_alpha_dropout_eval_p0_p1(torch, name):
    x = randn(2, 3, 4, seed=17)
    me, mt = modules(torch, name, 0.3)
    assert repr(me) == repr(mt)
    compare_with_torch(torch, me.eval(), mt.eval(), [x])  # identity, gradient 1
    xe = ember.tensor(x)
    assert me(xe) is xe
    f = F.feature_alpha_dropout if name.startswith("Feature") else F.alpha_dropout
    assert f(xe) is xe  # the functional's training defaults to False, as torch's
    assert f(xe, 0.0, training=True) is xe
    tf = getattr(torch.nn.functional, "feature_alpha_dropout" if f is not F.alpha_dropout
                 else "alpha_dropout")  # fmt: skip
    compare_with_torch(torch, lambda t: f(t, 1.0, True), lambda t: tf(t, 1.0, True), [x])


def test_alpha_dropout_errors(torch):
    with pytest.raises(ValueError, match="between 0 and 1"):
        M.AlphaDropout(1.5)
    with pytest.raises(ValueError, match="between 0 and 1"):
        F.alpha_dropout(ember.tensor(X), -0.1, True)
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        F.feature_alpha_dropout(ember.tensor(randn(5)), 0.5, True)
    me, mt = modules(torch, "FeatureAlphaDropout", 0.2, True)
    assert repr(me) == repr(mt)
