"""Fractional max pooling (functions and modules), the in-place activations, the deprecated
upsample functions and AdaptiveLogSoftmaxWithLoss against torch (same inputs, same random
samples, same weights), float64 and float32, and float64 gradcheck."""

from __future__ import annotations

import numpy as np
import pytest

import ember
import ember.functional as EF
import ember.nn as enn
from ember.functional import pool_extra as F
from ember.nn import layers_pool_more as L
from tests.core_reference import check_gradients, compare_with_torch, randn, tol

DTYPES = [np.float64, np.float32]

# ---------------------------------------------------------------- fractional max pooling

POOL2D = [  # (input shape, kernel, output_size, output_ratio)
    ((2, 3, 9, 8), 2, (4, 5), None),
    ((1, 2, 7, 7), 3, 5, None),
    ((2, 1, 10, 6), (3, 2), (3, 5), None),
    ((1, 1, 5, 5), 2, (1, 4), None),
    ((2, 2, 11, 9), (2, 3), None, (0.5, 0.7)),
    ((3, 8, 6), 2, (3, 4), None),  # unbatched
    ((1, 1, 4, 4), 1, 4, None),
]
POOL3D = [
    ((2, 2, 7, 6, 8), 2, (4, 3, 5), None),
    ((1, 1, 6, 6, 6), (2, 3, 1), (2, 2, 5), None),
    ((1, 2, 9, 7, 8), 3, None, 0.5),
    ((2, 5, 6, 7), 2, (3, 4, 5), None),  # unbatched
]


def _samples(shape, d, dtype, seed=1):
    batched = len(shape) == d + 2
    n, c = (shape[0], shape[1]) if batched else (1, shape[0])
    return np.random.default_rng(seed).random((n, c, d)).astype(dtype)


def _pool_pair(torch, d, kernel, size, ratio, u):
    fe = F.fractional_max_pool2d if d == 2 else F.fractional_max_pool3d
    ft = getattr(torch.nn.functional, f"fractional_max_pool{d}d")
    kw = dict(output_size=size, output_ratio=ratio, return_indices=True)
    return (
        lambda x: fe(x, kernel, _random_samples=ember.tensor(u), **kw),
        lambda x: ft(x, kernel, _random_samples=torch.tensor(u), **kw),
    )


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    "d, shape, kernel, size, ratio", [(2, *c) for c in POOL2D] + [(3, *c) for c in POOL3D]
)
def test_fractional_max_pool_against_torch(torch, d, shape, kernel, size, ratio, dtype):
    """Output, indices and the input gradient equal torch's for the same samples."""
    u = _samples(shape, d, dtype)
    fe, ft = _pool_pair(torch, d, kernel, size, ratio, u)
    compare_with_torch(torch, fe, ft, [randn(*shape)], dtype=dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_fractional_intervals_many_shapes(torch, dtype):
    """torch's interval sequence (computed in the input's dtype) on 120 random configurations,
    ties included: values and indices bit for bit; torch's size checks refuse the same ones."""
    rng = np.random.default_rng(7)
    compared = 0
    for trial in range(120):
        d = 2 + trial % 2
        sizes = [int(rng.integers(2, 16)) for _ in range(d)]
        ks = [int(rng.integers(1, min(4, s) + 1)) for s in sizes]
        outs = [int(rng.integers(1, s - k + 2)) for s, k in zip(sizes, ks)]
        x = rng.standard_normal((2, 2, *sizes)).astype(dtype)
        if trial % 3 == 0:
            x = np.round(x)  # ties: the first maximum in window order
        u = rng.random((2, 2, d)).astype(dtype)
        fe, ft = _pool_pair(torch, d, ks, outs, None, u)
        try:
            yt, it = ft(torch.tensor(x))
        except RuntimeError:
            with pytest.raises(RuntimeError, match="too large relative to input"):
                fe(ember.tensor(x))
            continue
        ye, ie = fe(ember.tensor(x))
        np.testing.assert_array_equal(ye.array, yt.numpy())
        np.testing.assert_array_equal(ie.array, it.numpy())
        assert ie.dtype == np.int64
        compared += 1
    assert compared > 60


def test_fractional_nan_as_torch(torch):
    x = randn(2, 2, 9, 8)
    x[0, 0, 1, 1] = x[0, 0, 2, 2] = np.nan
    x[1, 1, 5, :] = np.nan
    u = _samples(x.shape, 2, np.float64)
    fe, ft = _pool_pair(torch, 2, 3, (4, 4), None, u)
    (ye, ie), (yt, it) = fe(ember.tensor(x)), ft(torch.tensor(x))
    assert np.isnan(yt.numpy()).any()
    np.testing.assert_array_equal(ie.array, it.numpy())
    np.testing.assert_array_equal(ye.array, yt.numpy())


@pytest.mark.parametrize("d", [2, 3])
def test_fractional_random_samples_from_ember_generator(d):
    """Without ``_random_samples`` u comes from ember's generator: reproducible by seed, and
    each output is the max of its window (indices point at it)."""
    x = ember.tensor(randn(2, 3, *([9] * d)))
    f = F.fractional_max_pool2d if d == 2 else F.fractional_max_pool3d
    ember.manual_seed(3)
    y1, i1 = f(x, 2, output_size=4, return_indices=True)
    ember.manual_seed(3)
    y2, i2 = f(x, 2, output_size=4, return_indices=True)
    np.testing.assert_array_equal(y1.array, y2.array)
    np.testing.assert_array_equal(i1.array, i2.array)
    flat = x.array.reshape(2, 3, -1)
    got = np.take_along_axis(flat, i1.array.reshape(2, 3, -1), 2).reshape(y1.shape)
    np.testing.assert_array_equal(got, y1.array)
    ys = [f(x, 2, output_size=4).array for _ in range(4)]
    assert any(not np.array_equal(ys[0], y) for y in ys[1:])  # fresh samples each call


def test_fractional_with_indices_and_errors(torch):
    x = randn(1, 2, 8, 8)
    u = _samples(x.shape, 2, np.float64)
    y, i = F.fractional_max_pool2d_with_indices(
        ember.tensor(x), 2, output_size=3, _random_samples=ember.tensor(u)
    )
    yt, it = torch.nn.functional.fractional_max_pool2d_with_indices(
        torch.tensor(x), 2, output_size=3, _random_samples=torch.tensor(u)
    )
    np.testing.assert_array_equal(y.array, yt.numpy())
    np.testing.assert_array_equal(i.array, it.numpy())
    y3, i3 = F.fractional_max_pool3d_with_indices(
        ember.tensor(randn(1, 1, 5, 5, 5)), 2, output_size=3
    )
    assert y3.shape == i3.shape == (1, 1, 3, 3, 3)
    with pytest.raises(ValueError, match="output_size or an output_ratio"):
        F.fractional_max_pool2d(ember.tensor(x), 2)
    with pytest.raises(RuntimeError, match="too large"):
        F.fractional_max_pool2d(ember.tensor(x), 3, output_size=7)
    with pytest.raises(RuntimeError):
        torch.nn.functional.fractional_max_pool2d(torch.tensor(x), 3, output_size=7)


@pytest.mark.parametrize("d", [2, 3])
def test_fractional_gradcheck(d):
    shape = (1, 2) + (7,) * d
    x = np.random.default_rng(0).permutation(np.prod(shape)).reshape(shape) / 10.0  # no ties
    u = ember.tensor(_samples(shape, d, np.float64))
    f = F.fractional_max_pool2d if d == 2 else F.fractional_max_pool3d
    check_gradients(lambda t: f(t, 2, output_size=4, _random_samples=u), [x])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("d", [2, 3])
def test_fractional_modules_against_torch(torch, d, dtype):
    shape = (2, 3) + (8,) * d
    u = _samples(shape, d, dtype)
    name = f"FractionalMaxPool{d}d"
    for kw in (dict(output_size=4), dict(output_ratio=0.5)):
        me = getattr(enn, name)(3, return_indices=True, _random_samples=ember.tensor(u), **kw)
        mt = getattr(torch.nn, name)(3, return_indices=True, _random_samples=torch.tensor(u), **kw)
        compare_with_torch(torch, me, mt, [randn(*shape)], dtype=dtype)
    assert getattr(L, name) is getattr(enn, name)
    me = getattr(enn, name)(2, output_ratio=0.5)
    assert me(ember.tensor(randn(*shape))).shape == (2, 3) + (4,) * d


@pytest.mark.parametrize("name", ["FractionalMaxPool2d", "FractionalMaxPool3d"])
def test_fractional_module_argument_errors(torch, name):
    for kw in (dict(), dict(output_size=2, output_ratio=0.5), dict(output_ratio=1.5)):
        with pytest.raises(ValueError):
            getattr(torch.nn, name)(2, **kw)
        with pytest.raises(ValueError):
            getattr(enn, name)(2, **kw)


# ---------------------------------------------------------------- in-place activations

INPLACE = [
    ("relu_", ()),
    ("elu_", (0.7,)),
    ("selu_", ()),
    ("celu_", (1.3,)),
    ("leaky_relu_", (0.2,)),
    ("hardtanh_", (-0.5, 0.8)),
    ("rrelu_", (0.1, 0.3, False)),
    ("threshold_", (0.25, -3.0)),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name, args", INPLACE)
def test_inplace_activation_mutates_and_returns_input(torch, name, args, dtype):
    a = randn(3, 7).astype(dtype)
    xe, xt = ember.tensor(a), torch.tensor(a)
    buffer = xe.array
    re = getattr(EF, name)(xe, *args)
    rt = getattr(torch.nn.functional, name)(xt, *args)
    assert re is xe and rt is xt
    assert xe.array is buffer and xe.dtype == dtype
    assert not np.array_equal(xe.array, a)
    np.testing.assert_allclose(xe.array, xt.numpy(), **tol(dtype))
    assert getattr(F, name) is getattr(EF, name)


@pytest.mark.parametrize("name, args", INPLACE)
def test_inplace_activation_autograd_rules(torch, name, args):
    """On a leaf that requires grad both refuse; under no_grad both write in place."""
    a = randn(4, 5)
    xe, xt = ember.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    with pytest.raises(RuntimeError):
        getattr(torch.nn.functional, name)(xt, *args)
    with pytest.raises(RuntimeError, match="in-place"):
        getattr(EF, name)(xe, *args)
    np.testing.assert_array_equal(xe.array, a)  # refused before writing
    with ember.no_grad():
        getattr(EF, name)(xe, *args)
    with torch.no_grad():
        getattr(torch.nn.functional, name)(xt, *args)
    np.testing.assert_allclose(xe.array, xt.detach().numpy(), **tol(np.float64))
    assert xe.requires_grad and xe.grad is None


def test_rrelu_inplace_training_draws_slopes():
    a = randn(200)
    x = ember.tensor(a)
    assert EF.rrelu_(x, 0.1, 0.3, training=True) is x
    neg = a < 0
    np.testing.assert_array_equal(x.array[~neg], a[~neg])
    slope = x.array[neg] / a[neg]
    assert np.all((slope >= 0.1) & (slope <= 0.3)) and slope.std() > 0.01


# ---------------------------------------------------------------- deprecated upsampling

UPSAMPLE = [
    ("upsample", (1, 2, 3, 4), dict(scale_factor=2)),
    ("upsample", (1, 2, 3, 4), dict(size=(5, 7), mode="bilinear", align_corners=False)),
    ("upsample", (2, 2, 5), dict(size=9, mode="linear", align_corners=True)),
    ("upsample_nearest", (1, 2, 3, 4), dict(size=(6, 5))),
    ("upsample_nearest", (2, 1, 4), dict(scale_factor=3)),
    ("upsample_bilinear", (1, 2, 3, 4), dict(size=(5, 7))),
    ("upsample_bilinear", (2, 1, 3, 3), dict(scale_factor=2)),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name, shape, kw", UPSAMPLE)
def test_deprecated_upsample_warns_and_matches_torch(torch, name, shape, kw, dtype):
    def fe(x):
        with pytest.warns(UserWarning, match=f"nn.functional.{name}` is deprecated"):
            return getattr(EF, name)(x, **kw)

    def ft(x):
        with pytest.warns(UserWarning, match="deprecated"):
            return getattr(torch.nn.functional, name)(x, **kw)

    compare_with_torch(torch, fe, ft, [randn(*shape)], dtype=dtype)


# ---------------------------------------------------------------- AdaptiveLogSoftmaxWithLoss

ASM_CASES = [  # (in_features, n_classes, cutoffs, div_value, head_bias)
    (16, 20, [4, 9, 15], 2.0, True),
    (12, 10, [3], 4.0, False),
    (10, 30, [5, 12], 1.5, False),
]


def _asm_pair(torch, case, dtype):
    torch.manual_seed(0)
    d, n, cutoffs, div, hb = case
    mt = torch.nn.AdaptiveLogSoftmaxWithLoss(d, n, cutoffs, div_value=div, head_bias=hb)
    mt = mt.to(torch.float64 if dtype == np.float64 else torch.float32)
    me = enn.AdaptiveLogSoftmaxWithLoss(
        d, n, cutoffs, div_value=div, head_bias=hb, dtype=np.dtype(dtype).name
    )
    state = {k: v.detach().numpy() for k, v in mt.state_dict().items()}
    assert sorted(state) == sorted(me.state_dict())
    me.load_state_dict({k: ember.tensor(v) for k, v in state.items()})
    return me, mt


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", ASM_CASES)
def test_adaptive_log_softmax_against_torch(torch, case, dtype):
    me, mt = _asm_pair(torch, case, dtype)
    d, n = case[0], case[1]
    rng = np.random.default_rng(1)
    x = rng.standard_normal((13, d)).astype(dtype)
    y = rng.integers(0, n, 13)
    y[:3] = [0, n - 1, case[2][0]]  # shortlist, last cluster, first cluster's first class
    xe, xt = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    oe, ot = me(xe, ember.tensor(y)), mt(xt, torch.tensor(y))
    assert oe.output is oe[0] and oe.loss is oe[1]
    np.testing.assert_allclose(oe.output.array, ot.output.detach().numpy(), **tol(dtype))
    np.testing.assert_allclose(oe.loss.array, ot.loss.detach().numpy(), **tol(dtype))
    oe.loss.backward()
    ot.loss.backward()
    np.testing.assert_allclose(xe.grad.array, xt.grad.numpy(), **tol(dtype))
    pe = dict(me.named_parameters())
    for k, p in mt.named_parameters():
        np.testing.assert_allclose(pe[k].grad.array, p.grad.numpy(), err_msg=k, **tol(dtype))
    with torch.no_grad():
        lpt = mt.log_prob(xt).numpy()
    np.testing.assert_allclose(me.log_prob(xe).array, lpt, **tol(dtype))
    np.testing.assert_allclose(np.exp(lpt).sum(1), 1.0, rtol=1e-5)


def test_adaptive_log_softmax_log_prob_gradients(torch):
    me, mt = _asm_pair(torch, ASM_CASES[0], np.float64)
    x = randn(6, 16)
    w = randn(6, 20, seed=4)
    xe, xt = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    (me.log_prob(xe) * ember.tensor(w)).sum().backward()
    (mt.log_prob(xt) * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(xe.grad.array, xt.grad.numpy(), **tol(np.float64))
    pe = dict(me.named_parameters())
    for k, p in mt.named_parameters():
        np.testing.assert_allclose(pe[k].grad.array, p.grad.numpy(), err_msg=k, **tol(np.float64))


@pytest.mark.parametrize("shift", ["mixed", "shortlist", "tail"])
def test_adaptive_log_softmax_predict(torch, shift):
    me, mt = _asm_pair(torch, ASM_CASES[0], np.float64)
    c0 = 4
    with torch.no_grad():
        if shift == "shortlist":
            mt.head.bias[:c0] += 20.0
        elif shift == "tail":
            mt.head.bias[c0:] += 20.0
    me.load_state_dict({k: ember.tensor(v.detach().numpy()) for k, v in mt.state_dict().items()})
    x = randn(40, 16, scale=3.0)
    with torch.no_grad():
        outside = mt.head(torch.tensor(x)).argmax(1) >= c0
        pt = mt.predict(torch.tensor(x)).numpy()
    expect = {"mixed": (True, False), "shortlist": (False, False), "tail": (True, True)}[shift]
    assert (bool(outside.any()), bool(outside.all())) == expect
    pe = me.predict(ember.tensor(x))
    assert pe.dtype == np.int64
    np.testing.assert_array_equal(pe.array, pt)
    np.testing.assert_array_equal(pe.array, me.log_prob(ember.tensor(x)).array.argmax(1))


def test_adaptive_log_softmax_unbatched_and_errors(torch):
    me, mt = _asm_pair(torch, ASM_CASES[1], np.float64)
    x = randn(12)
    oe, ot = me(ember.tensor(x), ember.tensor(np.array(7))), mt(torch.tensor(x), torch.tensor(7))
    assert oe.output.shape == tuple(ot.output.shape) == ()
    np.testing.assert_allclose(oe.output.array, ot.output.detach().numpy(), **tol(np.float64))
    np.testing.assert_allclose(oe.loss.array, ot.loss.detach().numpy(), **tol(np.float64))
    bad = [
        (randn(3, 12), np.array([0, 1])),  # batch sizes differ
        (randn(3, 12), np.array([0, 1, 10])),  # target out of range
        (randn(3, 12), np.array([0, -1, 2])),
        (randn(12), np.array([1])),  # 1-D target needs 2-D input
        (randn(3, 12), np.array(1)),  # 0-D target needs 1-D input
        (randn(3, 12), np.zeros((3, 1), np.int64)),
    ]
    for a, t in bad:
        with pytest.raises(RuntimeError):
            mt(torch.tensor(a), torch.tensor(t))
        with pytest.raises(RuntimeError):
            me(ember.tensor(a), ember.tensor(t))
    for cutoffs in ([], [5, 3], [0, 4], [4, 10], [3, 3]):
        with pytest.raises(ValueError):
            torch.nn.AdaptiveLogSoftmaxWithLoss(12, 10, cutoffs)
        with pytest.raises(ValueError):
            enn.AdaptiveLogSoftmaxWithLoss(12, 10, cutoffs)


def test_adaptive_log_softmax_gradcheck():
    me = enn.AdaptiveLogSoftmaxWithLoss(8, 12, [3, 7], div_value=2.0, dtype="float64")
    y = ember.tensor(np.array([0, 4, 11, 2, 8]))
    check_gradients(lambda x: me(x, y).loss, [randn(5, 8)])
    check_gradients(lambda x: me.log_prob(x), [randn(3, 8)])


def test_adaptive_log_softmax_layout_and_training_step():
    me = enn.AdaptiveLogSoftmaxWithLoss(16, 20, [4, 9, 15], div_value=2.0)
    assert me.head.weight.shape == (7, 16) and me.head.bias is None
    shapes = [(m[0].weight.shape, m[1].weight.shape) for m in me.tail]
    assert shapes == [((8, 16), (5, 8)), ((4, 16), (6, 4)), ((2, 16), (5, 2))]
    opt = ember.optim.SGD(me.parameters(), lr=0.5)
    x, y = ember.tensor(randn(32, 16).astype(np.float32)), ember.tensor(np.arange(32) % 20)
    losses = []
    for _ in range(20):
        loss = me(x, y).loss
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss.array))
    assert losses[-1] < 0.8 * losses[0]
