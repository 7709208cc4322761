"""The 3-D and lazy modules and the pooling-with-indices functions of ember/nn/layers_3d_more.py
and ember/functional/pool3d_more.py against torch: the same weights (a torch state_dict loaded)
give torch's outputs and gradients (input and parameters) in float32 and float64; float64
gradcheck; torch's indices exactly; lazy modules infer their size like torch; torch's errors."""

from __future__ import annotations

import importlib
import math

import numpy as np
import pytest

import ember
from ember import nn
from ember.gradcheck import gradcheck
from tests.torch_pairs import DTYPES, check, leaves, rand, same_error, tol

P = importlib.import_module("ember.functional.pool3d_more")
L = importlib.import_module("ember.nn.layers_3d_more")
F64 = ember.float64


def _tdtype(torch, dtype):
    return torch.float32 if dtype == np.float32 else torch.float64


def _module_pair(torch, ours, theirs, x, dtype, call=None):
    """Outputs, input gradients and parameter gradients of two modules holding the same
    weights, for one input array; ``call(module, input)`` runs them (default: module(input))."""
    call = call or (lambda m, t: m(t))
    for p in list(ours.parameters()) + list(theirs.parameters()):
        p.grad = None  # a module compared before holds gradients from that run
    (ex,), (tx,) = leaves(torch, x)
    ey, ty = call(ours, ex), call(theirs, tx)
    e_params = [p for _, p in sorted(ours.named_parameters())]
    t_params = [p for _, p in sorted(theirs.named_parameters())]
    assert [n for n, _ in sorted(ours.named_parameters())] == [
        n for n, _ in sorted(theirs.named_parameters())
    ]
    check(torch, ey, ty, [ex] + e_params, [tx] + t_params, dtype)
    return ey


def _edtype(dtype):
    return ember.float32 if dtype == np.float32 else F64


def _load(torch, ours, theirs, dtype):
    """torch's parameters (cast to ``dtype``) into both modules, torch's state_dict into ours."""
    theirs.to(_tdtype(torch, dtype))
    ours.load_state_dict(theirs.state_dict())
    for k, v in theirs.state_dict().items():
        assert ours.state_dict()[k].dtype == v.numpy().dtype, k
    return ours


def test_the_names_are_exported():
    for name in P.__all__:
        assert getattr(ember.functional, name) is getattr(P, name)
    for name in L.__all__:
        assert getattr(nn, name) is getattr(L, name)
    assert len(P.__all__) == 10 and len(L.__all__) == 11


# ---------------------------------------------------------------- conv_transpose3d

CT_CASES = [
    # (C, O, kernel, input DHW, kwargs)
    (2, 3, (1, 2, 3), (3, 4, 5), {}),
    (3, 4, 3, (3, 3, 4), dict(stride=2, padding=1, output_padding=1)),
    (2, 4, (3, 1, 2), (4, 3, 3), dict(stride=(2, 1, 3), padding=(1, 0, 1), dilation=(1, 2, 1))),
    (4, 6, (2, 3, 2), (3, 4, 3), dict(stride=(1, 2, 2), output_padding=(0, 1, 0), groups=2)),
    (3, 3, 2, (3, 2, 3), dict(groups=3, dilation=2, output_padding=(1, 0, 1))),  # depthwise
    (2, 2, 3, (5, 4, 3), dict(padding=(3, 2, 2))),  # padding past the kernel's reach: crops
]


@pytest.mark.parametrize("c,o,k,dhw,kw", CT_CASES)
@pytest.mark.parametrize("batch", [1, 2])
@pytest.mark.parametrize("dtype", DTYPES)
def test_conv_transpose3d_matches_torch(torch, c, o, k, dhw, kw, batch, dtype):
    groups = kw.get("groups", 1)
    kernel = (k,) * 3 if isinstance(k, int) else k
    x = rand(batch, c, *dhw, dtype=dtype, seed=1)
    w = rand(c, o // groups, *kernel, dtype=dtype, seed=2)
    b = rand(o, dtype=dtype, seed=3)
    es, ts = leaves(torch, x, w, b)
    ey = P.conv_transpose3d(*es, **kw)
    ty = torch.nn.functional.conv_transpose3d(*ts, **kw)
    check(torch, ey, ty, es, ts, dtype)
    es, ts = leaves(torch, x, w)  # no bias
    check(torch, P.conv_transpose3d(*es, **kw),
          torch.nn.functional.conv_transpose3d(*ts, **kw), es, ts, dtype)  # fmt: skip


def test_conv_transpose3d_unbatched(torch):
    x, w, b = rand(2, 3, 2, 4, seed=4), rand(2, 3, 2, 2, 3, seed=5), rand(3, seed=6)
    es, ts = leaves(torch, x, w, b)
    ey = P.conv_transpose3d(*es, stride=2, padding=1)
    assert ey.ndim == 4
    check(torch, ey, torch.nn.functional.conv_transpose3d(*ts, stride=2, padding=1), es, ts,
          np.float64)  # fmt: skip


def test_conv_transpose3d_gradcheck():
    r = np.random.default_rng(7)
    x = ember.tensor(r.standard_normal((2, 4, 2, 3, 2)), requires_grad=True)
    w = ember.tensor(r.standard_normal((4, 1, 2, 2, 3)), requires_grad=True)
    b = ember.tensor(r.standard_normal(2), requires_grad=True)
    assert gradcheck(
        lambda x, w, b: P.conv_transpose3d(x, w, b, stride=(2, 1, 2), padding=(0, 1, 1),
                                           output_padding=(1, 0, 0), groups=2, dilation=1),
        (x, w, b),
    )  # fmt: skip


def test_conv_transpose3d_errors(torch):
    F, T = P.conv_transpose3d, torch.nn.functional.conv_transpose3d
    with pytest.raises(ValueError, match="expected a 4-D .* or 5-D"):
        F(ember.tensor(rand(2, 3, 4)), ember.tensor(rand(3, 2, 2, 2, 2)))
    with pytest.raises(ValueError, match="input has 2 channels"):
        F(ember.tensor(rand(1, 2, 3, 3, 3)), ember.tensor(rand(3, 2, 2, 2, 2)))
    with pytest.raises(ValueError, match="output_padding"):
        F(ember.tensor(rand(1, 3, 3, 3, 3)), ember.tensor(rand(3, 2, 2, 2, 2)), output_padding=1)
    with pytest.raises(RuntimeError):  # torch's own rule for the same call
        T(torch.zeros(1, 3, 3, 3, 3), torch.zeros(3, 2, 2, 2, 2), output_padding=1)
    with pytest.raises(ValueError, match="gives output size"):
        F(ember.tensor(rand(1, 3, 1, 1, 1)), ember.tensor(rand(3, 2, 1, 1, 1)), padding=1)


# ---------------------------------------------------------------- ConvTranspose3d

MODULE_CASES = [
    (2, 4, 3, (3, 3, 2), dict(stride=2, padding=1, output_padding=1)),
    (4, 2, (2, 1, 3), (2, 4, 3), dict(groups=2, dilation=(2, 1, 1), bias=False)),
    (3, 3, 2, (3, 3, 3), dict(stride=(1, 2, 3), padding=(1, 0, 0), groups=3)),
]


@pytest.mark.parametrize("c,o,k,dhw,kw", MODULE_CASES)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("batch", [1, 3])
def test_conv_transpose3d_module_loads_torch_weights(torch, c, o, k, dhw, kw, dtype, batch):
    mt = torch.nn.ConvTranspose3d(c, o, k, **kw)
    m = _load(torch, nn.ConvTranspose3d(c, o, k, **kw, dtype=_edtype(dtype)), mt, dtype)
    assert repr(m) == repr(mt)
    assert list(m.state_dict()) == list(mt.state_dict())
    assert (
        m.weight.shape
        == tuple(mt.weight.shape)
        == (c, o // kw.get("groups", 1)) + ((k,) * 3 if isinstance(k, int) else k)
    )
    _module_pair(torch, m, mt, rand(batch, c, *dhw, dtype=dtype, seed=8), dtype)


def test_conv_transpose3d_module_output_size_and_init(torch):
    mt = torch.nn.ConvTranspose3d(2, 3, 3, stride=2).double()
    m = _load(torch, nn.ConvTranspose3d(2, 3, 3, stride=2, dtype=F64), mt, np.float64)
    x = rand(1, 2, 3, 2, 3, seed=9)
    for size in [(8, 6, 7), (1, 3, 7, 5, 8)]:
        ey = _module_pair(torch, m, mt, x, np.float64,
                          call=lambda mod, t, size=size: mod(t, output_size=size))  # fmt: skip
        assert ey.shape[2:] == tuple(size[-3:])
    with pytest.raises(ValueError, match="valid sizes range"):
        m(ember.tensor(x), output_size=(10, 6, 7))
    # torch's init: U(±1/√fan_in) with fan_in = (out_channels/groups)·kd·kh·kw
    big = nn.ConvTranspose3d(8, 6, (2, 3, 2), groups=2)
    bound = 1 / math.sqrt(3 * 12)
    assert np.abs(big.weight.array).max() <= bound and np.abs(big.weight.array).max() > 0.9 * bound
    assert np.abs(big.bias.array).max() <= bound
    with pytest.raises(ValueError, match="padding_mode"):
        nn.ConvTranspose3d(2, 3, 3, padding_mode="reflect")


# ---------------------------------------------------------------- adaptive max pooling


@pytest.mark.parametrize(
    "shape,size",
    [((2, 3, 5, 7, 6), (3, 4, 2)), ((1, 2, 4, 4, 4), 2), ((2, 2, 3, 5, 7), (None, 3, 7)),
     ((3, 4, 5, 6), (2, 5, 4)), ((1, 1, 6, 1, 5), (4, 1, 3))],
)  # fmt: skip
@pytest.mark.parametrize("dtype", DTYPES)
def test_adaptive_max_pool3d_matches_torch(torch, shape, size, dtype):
    x = rand(*shape, dtype=dtype, seed=10)
    es, ts = leaves(torch, x)
    ey, ei = P.adaptive_max_pool3d(es[0], size, return_indices=True)
    ty, ti = torch.nn.functional.adaptive_max_pool3d(ts[0], size, return_indices=True)
    np.testing.assert_array_equal(ei.array, ti.numpy())
    assert ei.array.dtype == np.int64
    check(torch, ey, ty, es, ts, dtype)
    mt = torch.nn.AdaptiveMaxPool3d(size)
    assert repr(nn.AdaptiveMaxPool3d(size)) == repr(mt)
    _module_pair(torch, nn.AdaptiveMaxPool3d(size), mt, x, dtype)
    m = nn.AdaptiveMaxPool3d(size, return_indices=True)
    np.testing.assert_array_equal(m(ember.tensor(x))[1].array, ti.numpy())


def test_adaptive_max_pool3d_ties_and_nan_pick_torchs_index(torch):
    x = np.zeros((1, 2, 4, 5, 3))
    x[0, 0, 1, 2, 1] = np.nan
    x[0, 0, 1, 3, 2] = np.nan
    x[0, 1, :, 0, 0] = 1.0  # ties: the first in scan order wins
    ey, ei = P.adaptive_max_pool3d(ember.tensor(x), (2, 2, 1), True)
    ty, ti = torch.nn.functional.adaptive_max_pool3d(torch.tensor(x), (2, 2, 1), True)
    np.testing.assert_array_equal(ei.array, ti.numpy())
    np.testing.assert_array_equal(ey.array, ty.numpy())


def test_adaptive_max_pool3d_gradcheck_and_errors(torch):
    r = np.random.default_rng(11)
    x = ember.tensor(r.standard_normal((2, 2, 3, 5, 4)), requires_grad=True)
    assert gradcheck(lambda x: P.adaptive_max_pool3d(x, (2, 3, 3)), (x,))
    with pytest.raises(ValueError, match="expected a 4-D .* or 5-D"):
        P.adaptive_max_pool3d(ember.tensor(rand(3, 4, 5)), 2)
    with pytest.raises(RuntimeError, match="Expected 4D or 5D"):
        torch.nn.functional.adaptive_max_pool3d(torch.zeros(3, 4, 5), 2)
    with pytest.raises(ValueError, match="output_size"):
        P.adaptive_max_pool3d(ember.tensor(rand(1, 1, 3, 3, 3)), (2, 2))


# ---------------------------------------------------------------- *_with_indices


POOL_CASES = [
    (1, (2, 3, 9), dict(kernel_size=3)),
    (1, (1, 2, 10), dict(kernel_size=3, stride=2, padding=1, dilation=2, ceil_mode=True)),
    (2, (2, 3, 7, 6), dict(kernel_size=(3, 2), stride=(2, 1), padding=(1, 1))),
    (2, (3, 7, 7), dict(kernel_size=3, stride=2, dilation=2, ceil_mode=True)),
    (3, (2, 2, 5, 6, 7), dict(kernel_size=(2, 3, 2), stride=(1, 2, 2), padding=(1, 1, 0))),
    (3, (1, 3, 5, 5, 5), dict(kernel_size=2, dilation=(2, 1, 1), ceil_mode=True)),
    (3, (2, 4, 5, 3), dict(kernel_size=2, stride=1)),
]


@pytest.mark.parametrize("nd,shape,kw", POOL_CASES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_max_pool_with_indices_gives_torchs_indices(torch, nd, shape, kw, dtype):
    name = f"max_pool{nd}d_with_indices"
    x = rand(*shape, dtype=dtype, seed=12)
    x[..., 0] = x[..., 1]  # ties along the last axis: torch keeps the first
    es, ts = leaves(torch, x)
    ey, ei = getattr(P, name)(es[0], **kw)
    ty, ti = getattr(torch.nn.functional, name)(ts[0], **kw)
    np.testing.assert_array_equal(ei.array, ti.numpy())
    check(torch, ey, ty, es, ts, dtype)
    out = getattr(P, name)(ember.tensor(x), **kw, return_indices=False)  # a pair regardless
    assert isinstance(out, tuple) and len(out) == 2


ADAPTIVE_CASES = [
    (1, (2, 3, 9), 4), (1, (3, 7), 7), (2, (2, 3, 7, 5), (3, 2)), (2, (2, 5, 6), (None, 4)),
    (3, (1, 2, 5, 4, 7), (2, 3, 3)), (3, (2, 3, 4, 5), 1),
]  # fmt: skip


@pytest.mark.parametrize("nd,shape,size", ADAPTIVE_CASES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_adaptive_max_pool_with_indices_gives_torchs_indices(torch, nd, shape, size, dtype):
    name = f"adaptive_max_pool{nd}d_with_indices"
    x = rand(*shape, dtype=dtype, seed=13)
    es, ts = leaves(torch, x)
    ey, ei = getattr(P, name)(es[0], size)
    ty, ti = getattr(torch.nn.functional, name)(ts[0], size)
    np.testing.assert_array_equal(ei.array, ti.numpy())
    check(torch, ey, ty, es, ts, dtype)


# ---------------------------------------------------------------- max_unpool3d


@pytest.mark.parametrize(
    "shape,kw,size",
    [((2, 3, 4, 6, 4), dict(kernel_size=2), None),
     ((1, 2, 5, 7, 6), dict(kernel_size=2), (5, 7, 6)),
     ((2, 2, 6, 5, 7), dict(kernel_size=(2, 3, 2), stride=(2, 1, 3), padding=(1, 1, 0)),
      (6, 5, 7)),
     ((3, 5, 4, 5), dict(kernel_size=2, stride=1), (1, 3, 5, 4, 5))],
)  # fmt: skip
@pytest.mark.parametrize("dtype", DTYPES)
def test_max_unpool3d_matches_torch(torch, shape, kw, size, dtype):
    x = rand(*shape, dtype=dtype, seed=14)
    pooled, index = torch.nn.functional.max_pool3d(torch.tensor(x), **kw, return_indices=True)
    es, ts = leaves(torch, pooled.numpy())
    ez = P.max_unpool3d(es[0], ember.tensor(index.numpy()), **kw, output_size=size)
    tz = torch.nn.functional.max_unpool3d(ts[0], index, **kw, output_size=size)
    check(torch, ez, tz, es, ts, dtype)
    es, ts = leaves(torch, pooled.numpy())
    m, mt = nn.MaxUnpool3d(**kw), torch.nn.MaxUnpool3d(**kw)
    assert repr(m) == repr(mt)
    check(torch, m(es[0], ember.tensor(index.numpy()), size), mt(ts[0], index, size), es, ts,
          dtype)  # fmt: skip


def test_max_unpool3d_gradcheck_and_errors(torch):
    x = rand(2, 2, 4, 4, 6, seed=15)
    pooled, index = torch.nn.functional.max_pool3d(torch.tensor(x), 2, return_indices=True)
    y = ember.tensor(pooled.numpy(), requires_grad=True)
    i = ember.tensor(index.numpy())
    assert gradcheck(lambda y: P.max_unpool3d(y, i, 2), (y,))
    for size in [(9, 9, 9), (2, 4, 6)]:  # outside (default − stride, default + stride)
        same_error(
            torch,
            lambda size=size: P.max_unpool3d(y, i, 2, output_size=size),
            lambda size=size: torch.nn.functional.max_unpool3d(pooled, index, 2, output_size=size),
        )
    same_error(
        torch,
        lambda: P.max_unpool3d(y, i, 2, output_size=(4, 4)),
        lambda: torch.nn.functional.max_unpool3d(pooled, index, 2, output_size=(4, 4)),
    )
    with pytest.raises(ValueError, match="expected a 4-D .* or 5-D"):
        P.max_unpool3d(ember.tensor(rand(2, 3, 4)), ember.tensor(np.zeros((2, 3, 4), int)), 2)


# ---------------------------------------------------------------- lp_pool3d


@pytest.mark.parametrize(
    "p,kw",
    [(2.0, dict(kernel_size=2)), (1.0, dict(kernel_size=(2, 3, 2), stride=(1, 2, 1))),
     (3.0, dict(kernel_size=2, stride=2, ceil_mode=True)), (1.5, dict(kernel_size=(1, 2, 3)))],
)  # fmt: skip
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("unbatched", [False, True])
def test_lp_pool3d_matches_torch(torch, p, kw, dtype, unbatched):
    shape = (3, 5, 6, 7) if unbatched else (2, 3, 5, 6, 7)
    x = np.abs(rand(*shape, dtype=dtype, seed=16)) + np.asarray(0.1, dtype)
    es, ts = leaves(torch, x)
    check(torch, P.lp_pool3d(es[0], p, **kw), torch.nn.functional.lp_pool3d(ts[0], p, **kw), es,
          ts, dtype)  # fmt: skip
    m, mt = nn.LPPool3d(p, **kw), torch.nn.LPPool3d(p, **kw)
    _module_pair(torch, m, mt, x, dtype)


def test_lp_pool3d_gradcheck():
    r = np.random.default_rng(17)
    x = ember.tensor(np.abs(r.standard_normal((1, 2, 3, 4, 4))) + 0.2, requires_grad=True)
    assert gradcheck(lambda x: P.lp_pool3d(x, 2.0, (2, 2, 3), stride=1), (x,))
    assert gradcheck(lambda x: P.lp_pool3d(x, 3.0, 2, ceil_mode=True), (x,))


# ---------------------------------------------------------------- CircularPad3d


@pytest.mark.parametrize("padding", [1, (1, 2, 0, 1, 2, 1), (-1, 2, 1, -1, 0, 2)])
@pytest.mark.parametrize("shape", [(2, 3, 3, 4, 5), (2, 4, 3, 5)])
@pytest.mark.parametrize("dtype", DTYPES)
def test_circular_pad3d_matches_torch(torch, padding, shape, dtype):
    m, mt = nn.CircularPad3d(padding), torch.nn.CircularPad3d(padding)
    assert repr(m) == repr(mt)
    _module_pair(torch, m, mt, rand(*shape, dtype=dtype, seed=18), dtype)


def test_circular_pad3d_errors(torch):
    same_error(
        torch,
        lambda: nn.CircularPad3d(1)(ember.tensor(rand(3, 4, 5))),
        lambda: torch.nn.CircularPad3d(1)(torch.zeros(3, 4, 5)),
    )


# ---------------------------------------------------------------- lazy convolutions

LAZY_CONV_CASES = [
    ("LazyConv3d", "Conv3d", (4, 2), dict(stride=(1, 2, 1), padding=1), (2, 3, 4, 5, 4)),
    ("LazyConv3d", "Conv3d", (4, (2, 1, 3)), dict(groups=2, dilation=(1, 2, 1)), (4, 5, 6, 5)),
    ("LazyConv3d", "Conv3d", (2, 3), dict(padding=1, padding_mode="circular"), (1, 2, 3, 4, 5)),
    (
        "LazyConvTranspose3d",
        "ConvTranspose3d",
        (4, 3),
        dict(stride=2, padding=1, output_padding=1, groups=2),
        (2, 4, 2, 3, 2),
    ),  # fmt: skip
    ("LazyConvTranspose3d", "ConvTranspose3d", (2, (2, 1, 2)), dict(bias=False), (3, 2, 3, 2)),
]


@pytest.mark.parametrize("lazy,concrete,args,kwargs,shape", LAZY_CONV_CASES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_lazy_conv3d_infers_like_torch(torch, lazy, concrete, args, kwargs, shape, dtype):
    ed = _edtype(dtype)
    m, mt = getattr(nn, lazy)(*args, **kwargs, dtype=ed), getattr(torch.nn, lazy)(*args, **kwargs)
    assert repr(m) == repr(mt)
    assert list(m.state_dict()) == list(mt.state_dict())
    before = [id(p) for p in m.parameters()]
    x = rand(*shape, dtype=dtype, seed=19)
    m(ember.tensor(x))
    mt(torch.tensor(x, dtype=torch.float32))
    c = shape[1] if len(shape) == 5 else shape[0]
    assert type(m) is getattr(nn, concrete) and m.in_channels == c == mt.in_channels
    assert [id(p) for p in m.parameters()] == before
    assert repr(m) == repr(mt)
    _load(torch, m, mt, dtype)
    _module_pair(torch, m, mt, x, dtype)
    fresh = getattr(nn, lazy)(*args, **kwargs, dtype=ed)
    fresh.load_state_dict(mt.state_dict())  # a fresh lazy layer from torch's state_dict
    assert type(fresh) is getattr(nn, concrete) and fresh.in_channels == c
    _module_pair(torch, fresh, mt, x, dtype)


def test_lazy_conv3d_errors(torch):
    msg = r"Expected 4D \(unbatched\) or 5D \(batched\) input to LazyConv3d, but got input of size"
    with pytest.raises(ValueError, match=msg):  # torch's words (torch raises RuntimeError)
        nn.LazyConv3d(4, 2)(ember.tensor(rand(3, 5, 4)))
    with pytest.raises(RuntimeError, match=msg):
        torch.nn.LazyConv3d(4, 2)(torch.zeros(3, 5, 4))
    with pytest.raises(ValueError, match="divisible by groups"):
        nn.LazyConvTranspose3d(4, 2, groups=2)(ember.tensor(rand(1, 3, 2, 2, 2)))


# ---------------------------------------------------------------- lazy normalisation

NORM_CASES = [
    ("LazyBatchNorm3d", (3, 4, 2, 3, 2)),
    ("LazyInstanceNorm1d", (3, 4, 6)),
    ("LazyInstanceNorm2d", (2, 4, 3, 5)),
    ("LazyInstanceNorm3d", (2, 4, 3, 2, 3)),
]
NORM_KWARGS = [{}, dict(momentum=None, eps=1e-3), dict(affine=False),
               dict(track_running_stats=False), dict(bias=False)]  # fmt: skip


@pytest.mark.parametrize("lazy,shape", NORM_CASES)
@pytest.mark.parametrize("kwargs", NORM_KWARGS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_lazy_norms_infer_and_match_torch(torch, lazy, shape, kwargs, dtype):
    ed = _edtype(dtype)
    m, mt = getattr(nn, lazy)(**kwargs, dtype=ed), getattr(torch.nn, lazy)(**kwargs)
    mt.to(_tdtype(torch, dtype))
    assert repr(m) == repr(mt)
    assert list(m.state_dict()) == list(mt.state_dict())
    x = rand(*shape, dtype=dtype, seed=20) * 2 + 0.5
    (ex,), (tx,) = leaves(torch, x)
    ey, ty = m(ex), mt(tx)  # the first forward materialises both (with torch's init)
    concrete = lazy.replace("Lazy", "")
    assert type(m) is getattr(nn, concrete) and m.num_features == 4 == mt.num_features
    assert repr(m) == repr(mt)
    check(torch, ey, ty, [ex] + list(m.parameters()), [tx] + list(mt.parameters()), dtype)
    for k, v in mt.state_dict().items():  # running statistics after one step, as torch's
        np.testing.assert_allclose(np.array(m.state_dict()[k].array), v.numpy(), **tol(dtype))
    m.eval(), mt.eval()
    _module_pair(torch, m, mt, x, dtype)


def test_lazy_instance_norm_unbatched_and_load(torch):
    m = nn.LazyInstanceNorm2d(dtype=F64)
    x = rand(5, 3, 4, seed=21)
    m(ember.tensor(x))  # (C, H, W): C read from dim 0 (torch's lazy layer reads dim 1 here)
    assert type(m) is nn.InstanceNorm2d and m.num_features == 5
    mt = torch.nn.InstanceNorm3d(3, affine=True, track_running_stats=True).double()
    mt(torch.randn(2, 3, 2, 2, 2, dtype=torch.float64))
    fresh = nn.LazyInstanceNorm3d(dtype=F64)
    fresh.load_state_dict(mt.state_dict())
    assert type(fresh) is nn.InstanceNorm3d and fresh.num_features == 3
    fresh.eval(), mt.eval()
    _module_pair(torch, fresh, mt, rand(1, 3, 2, 3, 2, seed=22), np.float64)


def test_lazy_norm_errors(torch):
    for lazy, bad in [("LazyInstanceNorm1d", (2, 3, 4, 4)), ("LazyInstanceNorm3d", (2, 3)),
                      ("LazyBatchNorm3d", (2, 3, 4, 4))]:  # fmt: skip
        same_error(
            torch,
            lambda lazy=lazy, bad=bad: getattr(nn, lazy)()(ember.tensor(rand(*bad))),
            lambda lazy=lazy, bad=bad: getattr(torch.nn, lazy)()(torch.zeros(bad)),
        )
