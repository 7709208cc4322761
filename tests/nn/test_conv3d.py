"""Volumetric (3-D) convolution, pooling, normalisation, dropout and pads against torch."""

from __future__ import annotations

import importlib

import numpy as np
import pytest

import ember
from ember.gradcheck import gradcheck

# the modules by path: ember.functional re-exports a function of the same name, conv3d
F3 = importlib.import_module("ember.functional.conv3d")
N3 = importlib.import_module("ember.nn.conv3d")


def _rng(seed=0):
    return np.random.default_rng(seed)


def _close(ours, theirs, tol=1e-10, msg=""):
    theirs = theirs.detach().numpy() if hasattr(theirs, "detach") else theirs
    assert ours.shape == theirs.shape, msg
    np.testing.assert_allclose(ours, theirs, rtol=tol, atol=tol, err_msg=msg)


def _run_both(torch, ours_fn, theirs_fn, arrays, tol=1e-10):
    """Forward and every input's gradient, ours against torch's, for float64 arrays."""
    es = [None if a is None else ember.Tensor(a, requires_grad=True) for a in arrays]
    ts = [None if a is None else torch.tensor(a, requires_grad=True) for a in arrays]
    ey, ty = ours_fn(*es), theirs_fn(*ts)
    _close(ey.array, ty, tol, "forward")
    gy = _rng(7).standard_normal(ey.shape)
    ey.backward(gy)
    ty.backward(torch.tensor(gy))
    for i, (e, t) in enumerate(zip(es, ts)):
        if e is not None:
            assert np.abs(t.grad.numpy()).max() > 0
            _close(e.grad.array, t.grad, tol, f"grad of input {i}")
    return ey


# ---------------------------------------------------------------- conv3d

CONV_CASES = [
    # (C, O, kernel, input DHW, kwargs)
    (2, 3, (1, 2, 3), (4, 5, 6), {}),
    (3, 4, 3, (5, 5, 5), dict(stride=2, padding=1)),
    (2, 4, (3, 1, 2), (6, 4, 5), dict(stride=(2, 1, 3), padding=(1, 0, 1), dilation=(1, 2, 1))),
    (4, 6, (2, 3, 3), (5, 6, 7), dict(padding="same", dilation=(2, 1, 2), groups=2)),
    (3, 3, 3, (4, 5, 3), dict(padding="same", groups=3)),  # depthwise
    (3, 6, (1, 1, 1), (3, 4, 5), dict(groups=3)),
    (2, 2, 2, (5, 3, 4), dict(padding="valid", stride=(1, 2, 1))),
    (4, 2, (2, 2, 3), (3, 7, 5), dict(padding=(0, 2, 1), dilation=2, groups=2)),
]


@pytest.mark.parametrize("c,o,k,dhw,kw", CONV_CASES)
@pytest.mark.parametrize("batch", [1, 2])
@pytest.mark.parametrize("bias", [True, False])
def test_conv3d_values_and_grads_match_torch(torch, c, o, k, dhw, kw, batch, bias):
    groups = kw.get("groups", 1)
    kernel = (k,) * 3 if isinstance(k, int) else k
    r = _rng()
    x = r.standard_normal((batch, c) + dhw)
    w = r.standard_normal((o, c // groups) + kernel)
    b = r.standard_normal(o) if bias else None
    _run_both(
        torch,
        lambda x, w, b: F3.conv3d(x, w, b, **kw),
        lambda x, w, b: torch.nn.functional.conv3d(x, w, b, **kw),
        [x, w, b],
    )


def test_conv3d_unbatched_input(torch):
    r = _rng(1)
    x, w, b = (
        r.standard_normal((2, 4, 3, 5)),
        r.standard_normal((3, 2, 2, 2, 3)),
        r.standard_normal(3),
    )
    ey = _run_both(
        torch,
        lambda x, w, b: F3.conv3d(x, w, b, padding=1),
        lambda x, w, b: torch.nn.functional.conv3d(x, w, b, padding=1),
        [x, w, b],
    )
    assert ey.ndim == 4


def test_conv3d_chain_reads_channel_major_outputs(torch):
    """A conv output is an (O, N, ...)-ordered view; the next conv and pool must read it."""
    r = _rng(30)
    x, w1, w2 = (
        r.standard_normal((2, 2, 4, 5, 6)),
        r.standard_normal((3, 2, 2, 2, 2)),
        r.standard_normal((4, 3, 1, 2, 3)),
    )

    def chain(F, pool):
        return lambda x, w1, w2: pool(F.conv3d(F.conv3d(x, w1, stride=(1, 2, 1)), w2, padding=1), 2)

    _run_both(
        torch,
        chain(F3, F3.max_pool3d),
        chain(torch.nn.functional, torch.nn.functional.max_pool3d),
        [x, w1, w2],
    )
    _run_both(
        torch,
        chain(F3, F3.avg_pool3d),
        chain(torch.nn.functional, torch.nn.functional.avg_pool3d),
        [x, w1, w2],
    )
    x32 = x.astype(np.float32)
    ours = F3.conv3d(ember.Tensor(x32), ember.Tensor(w1.astype(np.float32)), padding=1)
    theirs = torch.nn.functional.conv3d(
        torch.tensor(x32), torch.tensor(w1.astype(np.float32)), padding=1
    )
    assert ours.dtype == np.float32
    _close(ours.array, theirs, 1e-5)


def test_conv3d_gradcheck():
    r = _rng(2)
    x = ember.Tensor(r.standard_normal((2, 2, 3, 4, 3)), requires_grad=True)
    w = ember.Tensor(r.standard_normal((4, 1, 2, 2, 2)), requires_grad=True)
    b = ember.Tensor(r.standard_normal(4), requires_grad=True)
    assert gradcheck(
        lambda x, w, b: F3.conv3d(x, w, b, stride=(1, 2, 1), padding=(1, 0, 1), groups=2),
        (x, w, b),
    )


def test_conv3d_rejects_bad_shapes():
    x = ember.Tensor(np.zeros((1, 3, 2, 2, 2)))
    with pytest.raises(ValueError):
        F3.conv3d(x, ember.Tensor(np.zeros((2, 3, 3, 3, 3))))  # kernel larger than input
    with pytest.raises(ValueError):
        F3.conv3d(x, ember.Tensor(np.zeros((2, 2, 1, 1, 1))), groups=2)  # 3 % 2
    with pytest.raises(ValueError):
        F3.conv3d(x, ember.Tensor(np.zeros((2, 3, 1, 1, 1))), stride=2, padding="same")


@pytest.mark.parametrize(
    "args,kwargs",
    [
        ((2, 4, 3), {}),
        (
            (2, 4, (1, 2, 3)),
            dict(stride=2, padding=(1, 0, 1), dilation=(1, 2, 1), groups=2, bias=False),
        ),  # fmt: skip
        ((3, 3, 3), dict(padding="same", groups=3)),
        ((2, 3, (3, 2, 3)), dict(padding=1, padding_mode="reflect")),
        ((2, 3, 3), dict(padding="same", padding_mode="replicate")),
        ((2, 3, 2), dict(padding=(1, 1, 0), padding_mode="circular")),
    ],
)
def test_conv3d_module_loads_torch_state_and_matches(torch, args, kwargs):
    torch.manual_seed(0)
    theirs = torch.nn.Conv3d(*args, **kwargs).double()
    ours = N3.Conv3d(*args, **kwargs, dtype=np.float64)
    assert repr(ours) == repr(theirs)
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    ours.load_state_dict(theirs.state_dict())
    x = _rng(3).standard_normal((2, args[0], 4, 5, 6))
    ex, tx = ember.Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ey, ty = ours(ex), theirs(tx)
    _close(ey.array, ty)
    gy = _rng(4).standard_normal(ey.shape)
    ey.backward(gy)
    ty.backward(torch.tensor(gy))
    _close(ex.grad.array, tx.grad)
    tparams = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        _close(p.grad.array, tparams[name].grad, msg=name)
    _close(ours(ember.Tensor(x[0])).array, theirs(torch.tensor(x[0])))  # unbatched


def test_conv3d_default_init_matches_torch_bounds():
    conv = N3.Conv3d(4, 16, (2, 3, 3), groups=2)
    bound = 1 / np.sqrt(2 * 18)
    w, b = conv.weight.array, conv.bias.array
    assert w.shape == (16, 2, 2, 3, 3) and w.dtype == np.float32
    assert bound >= np.abs(w).max() > 0.9 * bound
    assert np.abs(b).max() <= bound
    assert abs(w.std() - bound / np.sqrt(3)) < 0.1 * bound


# ---------------------------------------------------------------- pools

POOL_SHAPE = (2, 3, 5, 6, 7)


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(kernel_size=2),
        dict(kernel_size=(1, 2, 3), stride=(1, 2, 2)),
        dict(kernel_size=3, stride=2, padding=1, ceil_mode=True),
        dict(kernel_size=(2, 3, 2), stride=2, padding=(1, 1, 0), ceil_mode=True),
        dict(kernel_size=(2, 2, 3), stride=1, dilation=(2, 1, 2)),
        dict(kernel_size=3, stride=(2, 3, 2), padding=1, dilation=2, ceil_mode=True),
    ],
)
def test_max_pool3d_matches_torch(torch, kwargs):
    x = _rng(5).standard_normal(POOL_SHAPE)
    _run_both(
        torch,
        lambda x: F3.max_pool3d(x, **kwargs),
        lambda x: torch.nn.functional.max_pool3d(x, **kwargs),
        [x],
    )
    ey, ei = F3.max_pool3d(ember.Tensor(x), return_indices=True, **kwargs)
    ty, ti = torch.nn.functional.max_pool3d(torch.tensor(x), return_indices=True, **kwargs)
    _close(ey.array, ty)
    np.testing.assert_array_equal(ei.array, ti.numpy())


@pytest.mark.parametrize("kwargs", [dict(kernel_size=2), dict(kernel_size=3, stride=1, padding=1)])
def test_max_pool3d_ties_go_to_the_first_maximum(torch, kwargs):
    x = _rng(6).integers(0, 2, POOL_SHAPE).astype(np.float64)  # many ties, overlapping windows
    _run_both(
        torch,
        lambda x: F3.max_pool3d(x, **kwargs),
        lambda x: torch.nn.functional.max_pool3d(x, **kwargs),
        [x],
    )
    x = np.ones((1, 1, 2, 2, 2))
    ex = ember.Tensor(x, requires_grad=True)
    F3.max_pool3d(ex, 2).sum().backward()
    expected = np.zeros_like(x)
    expected[0, 0, 0, 0, 0] = 1.0
    np.testing.assert_array_equal(ex.grad.array, expected)


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(kernel_size=2),
        dict(kernel_size=(3, 2, 3), stride=(2, 1, 2), padding=(1, 0, 1)),
        dict(kernel_size=3, stride=2, padding=1, ceil_mode=True),
        dict(kernel_size=3, stride=2, padding=1, ceil_mode=True, count_include_pad=False),
        dict(kernel_size=(2, 3, 3), stride=2, padding=(0, 1, 1), count_include_pad=False),
        dict(kernel_size=(2, 2, 3), stride=(1, 2, 2), divisor_override=5),
        dict(kernel_size=2, stride=3, ceil_mode=True),
    ],
)
def test_avg_pool3d_matches_torch(torch, kwargs):
    x = _rng(8).standard_normal(POOL_SHAPE)
    _run_both(
        torch,
        lambda x: F3.avg_pool3d(x, **kwargs),
        lambda x: torch.nn.functional.avg_pool3d(x, **kwargs),
        [x],
    )


@pytest.mark.parametrize("size", [(2, 3, 4), 1, (3, None, 2), 4, (5, 6, 7)])
def test_adaptive_avg_pool3d_matches_torch(torch, size):
    x = _rng(9).standard_normal(POOL_SHAPE)
    _run_both(
        torch,
        lambda x: F3.adaptive_avg_pool3d(x, size),
        lambda x: torch.nn.functional.adaptive_avg_pool3d(x, size),
        [x],
    )


def test_pools_unbatched_and_gradcheck(torch):
    x = _rng(10).standard_normal((2, 4, 5, 3))
    for ours, theirs in [
        (lambda x: F3.max_pool3d(x, 2, 1, ceil_mode=True),
         lambda x: torch.nn.functional.max_pool3d(x, 2, 1, ceil_mode=True)),
        (lambda x: F3.avg_pool3d(x, 3, 2, 1, count_include_pad=False),
         lambda x: torch.nn.functional.avg_pool3d(x, 3, 2, 1, count_include_pad=False)),
        (lambda x: F3.adaptive_avg_pool3d(x, (3, 2, 2)),
         lambda x: torch.nn.functional.adaptive_avg_pool3d(x, (3, 2, 2))),
    ]:  # fmt: skip
        assert _run_both(torch, ours, theirs, [x]).ndim == 4
        assert gradcheck(ours, (ember.Tensor(x[None], requires_grad=True),))


@pytest.mark.parametrize(
    "make",
    [
        lambda m: m.MaxPool3d(2),
        lambda m: m.MaxPool3d((2, 3, 1), stride=1, padding=(1, 1, 0), ceil_mode=True),
        lambda m: m.AvgPool3d(3, 2, 1, ceil_mode=True, count_include_pad=False),
        lambda m: m.AvgPool3d((1, 2, 2), divisor_override=3),
        lambda m: m.AdaptiveAvgPool3d((2, None, 3)),
        lambda m: m.AdaptiveAvgPool3d(1),
    ],
)
def test_pool_modules_match_torch(torch, make):
    ours = make(N3)
    theirs = make(torch.nn)
    assert repr(ours) == repr(theirs)
    x = _rng(11).standard_normal(POOL_SHAPE)
    _run_both(torch, ours, theirs, [x])


def test_max_pool3d_module_return_indices(torch):
    x = _rng(12).standard_normal(POOL_SHAPE)
    ey, ei = N3.MaxPool3d(3, 2, 1, return_indices=True)(ember.Tensor(x))
    ty, ti = torch.nn.MaxPool3d(3, 2, 1, return_indices=True)(torch.tensor(x))
    _close(ey.array, ty)
    np.testing.assert_array_equal(ei.array, ti.numpy())


# ---------------------------------------------------------------- norms, dropout, pads


@pytest.mark.parametrize("kwargs", [{}, dict(affine=False), dict(momentum=None, eps=1e-3)])
def test_batchnorm3d_train_and_eval_match_torch(torch, kwargs):
    theirs = torch.nn.BatchNorm3d(3, **kwargs).double()
    ours = N3.BatchNorm3d(3, **kwargs, dtype=np.float64)
    assert repr(ours) == repr(theirs)
    if ours.affine:
        w, b = _rng(13).standard_normal((2, 3))
        with torch.no_grad():
            theirs.weight.copy_(torch.tensor(w))
            theirs.bias.copy_(torch.tensor(b))
    ours.load_state_dict(theirs.state_dict())
    for step in range(2):  # train: batch statistics, running statistics move
        x = _rng(14 + step).standard_normal((2, 3, 3, 4, 5)) * 2 + 1
        _run_both(torch, ours, theirs, [x])
        for name in ("running_mean", "running_var", "num_batches_tracked"):
            _close(getattr(ours, name).array, getattr(theirs, name), msg=name)
    ours.eval()
    theirs.eval()
    _run_both(torch, ours, theirs, [_rng(20).standard_normal((1, 3, 2, 3, 4))])
    with pytest.raises(ValueError):
        ours(ember.Tensor(np.zeros((2, 3, 4, 5))))


@pytest.mark.parametrize(
    "kwargs", [{}, dict(affine=True), dict(affine=True, track_running_stats=True)]
)
def test_instancenorm3d_matches_torch(torch, kwargs):
    theirs = torch.nn.InstanceNorm3d(3, **kwargs).double()
    ours = N3.InstanceNorm3d(3, **kwargs, dtype=np.float64)
    assert repr(ours) == repr(theirs)
    if ours.affine:
        w, b = _rng(21).standard_normal((2, 3))
        with torch.no_grad():
            theirs.weight.copy_(torch.tensor(w))
            theirs.bias.copy_(torch.tensor(b))
    ours.load_state_dict(theirs.state_dict())
    x = _rng(22).standard_normal((2, 3, 3, 4, 2)) * 3 - 1
    _run_both(torch, ours, theirs, [x])
    _run_both(torch, ours, theirs, [x[1]])  # unbatched
    if ours.track_running_stats:
        _close(ours.running_mean.array, theirs.running_mean)
        ours.eval()
        theirs.eval()
        _run_both(torch, ours, theirs, [x])


def test_dropout3d_zeroes_whole_channels_with_scale(torch):
    p = 0.4
    drop = N3.Dropout3d(p)
    assert repr(drop) == repr(torch.nn.Dropout3d(p))
    x = ember.Tensor(_rng(23).standard_normal((8, 16, 2, 3, 4)) + 5.0, requires_grad=True)
    y = drop(x)
    ratio = (y.array / x.array).reshape(8, 16, -1)
    per_channel = ratio[:, :, :1]
    np.testing.assert_allclose(ratio, np.broadcast_to(per_channel, ratio.shape), rtol=1e-6)
    values = np.unique(np.round(per_channel, 6))
    np.testing.assert_allclose(values, [0.0, round(1 / (1 - p), 6)])
    dropped = (per_channel == 0).mean()
    assert 0.2 < dropped < 0.6  # 128 channels at p = 0.4
    y.backward(np.ones(y.shape))
    np.testing.assert_allclose(x.grad.array, y.array / x.array)  # grad = the mask
    u = drop(ember.Tensor(np.ones((6, 2, 3, 4))))  # unbatched: channel c is one volume
    assert set(np.unique(u.array.reshape(6, -1).std(axis=1))) == {0.0}
    drop.eval()
    np.testing.assert_array_equal(drop(x).array, x.array)


@pytest.mark.parametrize(
    "name,args",
    [
        ("ConstantPad3d", (1, 2.5)),
        ("ConstantPad3d", ((1, 0, 2, 1, 0, 3), -1.0)),
        ("ZeroPad3d", ((0, 1, 2, 0, 1, 1),)),
        ("ReflectionPad3d", (1,)),
        ("ReflectionPad3d", ((2, 1, 0, 1, 1, 2),)),
        ("ReplicationPad3d", ((1, 2, 3, 0, 2, 1),)),
    ],
)
def test_pad3d_modules_match_torch(torch, name, args):
    ours, theirs = getattr(N3, name)(*args), getattr(torch.nn, name)(*args)
    assert repr(ours) == repr(theirs)
    x = _rng(24).standard_normal((2, 2, 3, 4, 5))
    _run_both(torch, ours, theirs, [x])
    _run_both(torch, ours, theirs, [x[0]])  # (C, D, H, W)
