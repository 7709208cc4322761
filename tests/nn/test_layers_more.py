"""interpolate, pads, pixel (un)shuffle, instance/RMS norm, channel dropout, Unflatten,
ParameterList/Dict and Bilinear against torch (float64 values and gradients) and gradcheck."""

from __future__ import annotations

import numpy as np
import pytest

import ember
from ember.functional import layers_more as F
from ember.nn import layers_more as L
from tests.core_reference import check_gradients, compare_with_torch, randn

# ---------------------------------------------------------------- interpolate

NEAREST_CASES = [
    ((2, 3, 5), dict(size=8)),
    ((2, 3, 5), dict(size=3)),
    ((1, 2, 7), dict(scale_factor=1.7)),
    ((1, 2, 4), dict(scale_factor=1.6)),
    ((1, 2, 4), dict(scale_factor=2)),
    ((2, 2, 5, 3), dict(size=(7, 6))),
    ((2, 2, 5, 3), dict(size=(2, 3))),
    ((1, 3, 3, 5), dict(scale_factor=(1.3, 2.0))),
    ((1, 3, 4, 5), dict(scale_factor=0.5)),
    ((1, 1, 5, 5), dict(scale_factor=(1.3, 0.7))),
]


@pytest.mark.parametrize("shape, kw", NEAREST_CASES)
def test_interpolate_nearest(torch, shape, kw):
    compare_with_torch(
        torch,
        lambda x: F.interpolate(x, mode="nearest", **kw),
        lambda x: torch.nn.functional.interpolate(x, mode="nearest", **kw),
        [randn(*shape)],
    )


LINEAR_CASES = [
    ((2, 2, 5, 3), dict(size=(7, 6))),
    ((2, 2, 5, 3), dict(size=(3, 2))),
    ((1, 3, 4, 7), dict(size=(9, 5))),
    ((1, 2, 3, 5), dict(scale_factor=(1.3, 2.0))),
    ((1, 2, 6, 5), dict(scale_factor=0.5)),
    ((1, 1, 5, 4), dict(scale_factor=(2.5, 1.7))),
    ((1, 1, 3, 3), dict(size=(1, 4))),
]


@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize("shape, kw", LINEAR_CASES)
def test_interpolate_bilinear(torch, shape, kw, align_corners):
    compare_with_torch(
        torch,
        lambda x: F.interpolate(x, mode="bilinear", align_corners=align_corners, **kw),
        lambda x: torch.nn.functional.interpolate(
            x, mode="bilinear", align_corners=align_corners, **kw
        ),
        [randn(*shape)],
    )


@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize("kw", [dict(size=9), dict(size=4), dict(scale_factor=1.7)])
def test_interpolate_linear_1d(torch, kw, align_corners):
    compare_with_torch(
        torch,
        lambda x: F.interpolate(x, mode="linear", align_corners=align_corners, **kw),
        lambda x: torch.nn.functional.interpolate(
            x, mode="linear", align_corners=align_corners, **kw
        ),
        [randn(2, 3, 6)],
    )


def test_interpolate_nearest_1d_same_size_forward(torch):
    # torch's 1-D forward gathers at ⌊d/1.3⌋ even when the size does not change, while its
    # backward copies the gradient straight through; ember follows the forward (its gradient
    # is that gather's), so only the values are compared here.
    x = randn(1, 2, 3)
    compare_with_torch(
        torch,
        lambda x: F.interpolate(x, scale_factor=1.3),
        lambda x: torch.nn.functional.interpolate(x, scale_factor=1.3),
        [x],
        grad=False,
    )
    check_gradients(lambda x: F.interpolate(x, scale_factor=1.3), [x])


@pytest.mark.parametrize("align_corners", [False, True])
def test_interpolate_gradcheck(align_corners):
    check_gradients(
        lambda x: F.interpolate(x, size=(5, 4), mode="bilinear", align_corners=align_corners),
        [randn(1, 2, 3, 3)],
    )
    check_gradients(lambda x: F.interpolate(x, scale_factor=1.5), [randn(1, 2, 3, 3)])


def test_interpolate_errors():
    x = ember.randn(1, 2, 4, 4)
    with pytest.raises(ValueError, match="exactly one of size and scale_factor"):
        F.interpolate(x, size=3, scale_factor=2.0)
    with pytest.raises(ValueError, match="align_corners option can only be set"):
        F.interpolate(x, size=3, align_corners=True)
    with pytest.raises(NotImplementedError, match="bilinear mode needs 4-D"):
        F.interpolate(ember.randn(1, 2, 4), size=3, mode="bilinear")


def test_upsample_module(torch):
    for kw in (dict(scale_factor=2), dict(size=(5, 7), mode="bilinear", align_corners=True)):
        compare_with_torch(torch, L.Upsample(**kw), torch.nn.Upsample(**kw), [randn(2, 3, 4, 3)])


# ---------------------------------------------------------------- padding

PADS = [(2, 1), (1, 2, 2, 0), (0, 3, 1, 1), (3, 3, 2, 2)]


@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate", "circular"])
@pytest.mark.parametrize("pad", PADS)
def test_pad_modes(torch, mode, pad):
    compare_with_torch(
        torch,
        lambda x: F.pad(x, pad, mode),
        lambda x: torch.nn.functional.pad(x, pad, mode),
        [randn(2, 3, 4, 5) if len(pad) == 4 else randn(2, 3, 5)],
    )


@pytest.mark.parametrize("pad", [(-1, 2), (2, -1), (-1, -2, 1, 3), (1, 1, -2, 2)])
def test_circular_pad_with_negative_padding_crops_first_as_torch(torch, pad):
    compare_with_torch(
        torch,
        lambda x: F.pad(x, pad, "circular"),
        lambda x: torch.nn.functional.pad(x, pad, "circular"),
        [randn(2, 3, 4, 5) if len(pad) == 4 else randn(2, 3, 5)],
    )


def test_pad_modes_gradcheck():
    for mode in ("reflect", "replicate", "circular"):
        check_gradients(lambda x, m=mode: F.pad(x, (2, 1, 1, 2), m), [randn(1, 2, 3, 4)])


def test_reflect_pad_too_wide():
    with pytest.raises(ValueError, match=r"padding \(3, 0\) at dimension 2 of input \[1, 1, 3\]"):
        F.pad(ember.randn(1, 1, 3), (3, 0), "reflect")


@pytest.mark.parametrize(
    "name, args, shape",
    [
        ("ZeroPad2d", ((1, 2, 0, 3),), (2, 3, 4, 5)),
        ("ZeroPad2d", (2,), (3, 4, 5)),
        ("ConstantPad1d", ((2, 1), 3.5), (2, 3, 4)),
        ("ConstantPad2d", (1, -1.0), (2, 3, 4, 5)),
        ("ReflectionPad1d", ((3, 1),), (2, 3, 4)),
        ("ReflectionPad2d", ((1, 2, 3, 0),), (2, 3, 4, 5)),
        ("ReplicationPad1d", (3,), (2, 3, 4)),
        ("ReplicationPad2d", ((4, 0, 1, 2),), (2, 3, 4, 5)),
    ],
)
def test_pad_modules(torch, name, args, shape):
    compare_with_torch(
        torch, getattr(L, name)(*args), getattr(torch.nn, name)(*args), [randn(*shape)]
    )


# ---------------------------------------------------------------- pixel shuffle


@pytest.mark.parametrize("shape, r", [((2, 8, 3, 4), 2), ((18, 2, 3), 3), ((2, 1, 4, 2, 3), 2)])
def test_pixel_shuffle(torch, shape, r):
    shape = shape if shape[-3] % (r * r) == 0 else shape[:-3] + (shape[-3] * r * r,) + shape[-2:]
    compare_with_torch(torch, L.PixelShuffle(r), torch.nn.PixelShuffle(r), [randn(*shape)])
    out = shape[:-3] + (shape[-3] // (r * r), shape[-2] * r, shape[-1] * r)
    compare_with_torch(torch, L.PixelUnshuffle(r), torch.nn.PixelUnshuffle(r), [randn(*out)])
    x = ember.tensor(randn(*shape))
    np.testing.assert_array_equal(F.pixel_unshuffle(F.pixel_shuffle(x, r), r).array, x.array)


# ---------------------------------------------------------------- instance norm


@pytest.mark.parametrize("affine", [False, True])
@pytest.mark.parametrize("track", [False, True])
@pytest.mark.parametrize(
    "cls, shape", [("InstanceNorm1d", (3, 4, 6)), ("InstanceNorm2d", (2, 4, 3, 5))]
)
def test_instance_norm_module(torch, affine, track, cls, shape):
    e = getattr(L, cls)(4, affine=affine, track_running_stats=track, momentum=0.3).double()
    t = getattr(torch.nn, cls)(4, affine=affine, track_running_stats=track, momentum=0.3).double()
    if affine:
        e.weight.array[...] = randn(4, seed=1) + 1
        e.bias.array[...] = randn(4, seed=2)
        t.load_state_dict({k: torch.tensor(v.array) for k, v in e.state_dict().items()})
    assert list(e.state_dict()) == list(t.state_dict())
    for step in range(2):  # training twice (running stats move), then eval
        compare_with_torch(torch, e, t, [randn(*shape, seed=step, scale=2, shift=1)])
        for k, v in t.state_dict().items():
            np.testing.assert_allclose(e.state_dict()[k].array, v.numpy(), rtol=1e-12)
        if affine:
            np.testing.assert_allclose(e.weight.grad.array, t.weight.grad.numpy(), rtol=1e-10)
    e.eval(), t.eval()
    compare_with_torch(torch, e, t, [randn(*shape, seed=5)])
    compare_with_torch(torch, e, t, [randn(*shape[1:], seed=6)])  # unbatched


def test_instance_norm_functional_gradcheck(torch):
    w, b = randn(3, seed=1), randn(3, seed=2)
    check_gradients(lambda x, w, b: F.instance_norm(x, weight=w, bias=b), [randn(2, 3, 5), w, b])
    rm, rv = randn(3, seed=3), randn(3, seed=4) ** 2 + 0.5
    compare_with_torch(
        torch,
        lambda x, w, b: F.instance_norm(
            x, ember.tensor(rm), ember.tensor(rv), w, b, use_input_stats=False
        ),
        lambda x, w, b: torch.nn.functional.instance_norm(
            x, torch.tensor(rm), torch.tensor(rv), w, b, use_input_stats=False
        ),
        [randn(2, 3, 4, 4), w, b],
    )


# ---------------------------------------------------------------- RMS norm


@pytest.mark.parametrize("shape, norm", [((2, 3, 6), (6,)), ((4, 3, 5), (3, 5))])
@pytest.mark.parametrize("eps", [None, 1e-3])
def test_rms_norm(torch, shape, norm, eps):
    e, t = L.RMSNorm(norm, eps=eps).double(), torch.nn.RMSNorm(norm, eps=eps).double()
    e.weight.array[...] = randn(*norm, seed=3)
    t.load_state_dict({"weight": torch.tensor(e.weight.array)})
    compare_with_torch(torch, e, t, [randn(*shape, scale=1e-4 if eps is None else 1.0)])
    np.testing.assert_allclose(e.weight.grad.array, t.weight.grad.numpy(), rtol=1e-10)
    check_gradients(lambda x, w: F.rms_norm(x, norm, w, eps), [randn(*shape), randn(*norm)])


def test_rms_norm_no_affine(torch):
    compare_with_torch(
        torch,
        L.RMSNorm(5, elementwise_affine=False),
        torch.nn.RMSNorm(5, elementwise_affine=False),
        [randn(3, 5)],
    )
    assert list(L.RMSNorm(5, elementwise_affine=False).parameters()) == []


# ---------------------------------------------------------------- dropout, Unflatten


@pytest.mark.parametrize("cls, shape", [("Dropout2d", (4, 6, 3, 5)), ("Dropout1d", (4, 6, 7))])
def test_channel_dropout(cls, shape):
    p = 0.4
    m = getattr(L, cls)(p)
    x = ember.tensor(randn(*shape, shift=5.0), requires_grad=True)
    y = m(x)
    ratio = np.round(y.array / x.array, 12)
    per_channel = ratio.reshape(shape[0], shape[1], -1)
    assert np.all(per_channel == per_channel[..., :1])  # whole channels
    assert set(np.unique(per_channel)) <= {0.0, round(1 / (1 - p), 12)}
    assert 0 < (per_channel[..., 0] == 0).sum() < shape[0] * shape[1]
    y.sum().backward()
    np.testing.assert_allclose(x.grad.array, ratio, rtol=1e-10)
    m.eval()
    assert m(x) is x
    unbatched = ember.randn(*shape[1:]) if cls == "Dropout1d" else None
    if unbatched is not None:
        z = np.round(L.Dropout1d(0.5)(unbatched).array / unbatched.array, 6)
        assert np.all(z == z[:, :1])


def test_channel_dropout_seeded():
    x = ember.randn(4, 8, 3, 3)
    ember.manual_seed(7)
    a = L.Dropout2d(0.5)(x).array
    ember.manual_seed(7)
    np.testing.assert_array_equal(a, L.Dropout2d(0.5)(x).array)


def test_unflatten(torch):
    compare_with_torch(
        torch, L.Unflatten(1, (3, 4)), torch.nn.Unflatten(1, (3, 4)), [randn(2, 12, 5)]
    )
    compare_with_torch(
        torch, L.Unflatten(-1, (2, -1)), torch.nn.Unflatten(-1, (2, -1)), [randn(2, 6)]
    )


# ---------------------------------------------------------------- parameter containers


def test_parameter_list_and_dict_state_dict(torch):
    class E(ember.nn.Module):
        def __init__(self):
            super().__init__()
            self.plist = L.ParameterList([ember.zeros(2, 3), L.Parameter(ember.ones(4))])
            self.pdict = L.ParameterDict({"alpha": ember.zeros(3), "beta": ember.ones(2, 2)})
            self.plist.append(ember.zeros(1))

    class T(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.plist = torch.nn.ParameterList([torch.zeros(2, 3), torch.ones(4)])
            self.pdict = torch.nn.ParameterDict({"alpha": torch.zeros(3), "beta": torch.ones(2, 2)})
            self.plist.append(torch.zeros(1))

    e, t = E(), T()
    assert list(e.state_dict()) == list(t.state_dict())
    assert [n for n, _ in e.named_parameters()] == [n for n, _ in t.named_parameters()]
    assert all(isinstance(p, L.Parameter) and p.requires_grad for p in e.parameters())
    for p in t.parameters():
        torch.nn.init.normal_(p)
    e.load_state_dict(t.state_dict())
    np.testing.assert_array_equal(e.pdict["beta"].array, t.pdict["beta"].detach().numpy())
    np.testing.assert_array_equal(e.plist[1].array, t.plist[1].detach().numpy())
    assert len(e.plist) == 3 and list(e.pdict.keys()) == ["alpha", "beta"] and "beta" in e.pdict
    # the parameters train: an optimizer sees and updates them
    opt = ember.optim.SGD(e.parameters(), lr=0.1)
    loss = (e.plist[0] * e.plist[0]).sum() + e.pdict["alpha"].sum()
    loss.backward()
    before = e.pdict["alpha"].array.copy()
    opt.step()
    np.testing.assert_allclose(e.pdict["alpha"].array, before - 0.1)


# ---------------------------------------------------------------- Bilinear


def test_bilinear(torch):
    t = torch.nn.Bilinear(4, 3, 5).double()
    e = L.Bilinear(4, 3, 5).double()
    assert [(k, tuple(v.shape)) for k, v in e.state_dict().items()] == [
        (k, tuple(v.shape)) for k, v in t.state_dict().items()
    ]
    e.load_state_dict(t.state_dict())
    compare_with_torch(torch, e, t, [randn(2, 6, 4), randn(2, 6, 3, seed=1)])
    np.testing.assert_allclose(e.weight.grad.array, t.weight.grad.numpy(), rtol=1e-10)
    np.testing.assert_allclose(e.bias.grad.array, t.bias.grad.numpy(), rtol=1e-10)
    check_gradients(
        lambda a, b, w, c: F.bilinear(a, b, w, c),
        [randn(3, 4), randn(3, 2, seed=1), randn(5, 4, 2, seed=2), randn(5, seed=3)],
    )


def test_bilinear_init_bounds():
    m = L.Bilinear(16, 3, 200)
    bound = 1 / 4
    assert np.abs(m.weight.array).max() <= bound and np.abs(m.weight.array).max() > 0.9 * bound
    assert np.abs(m.bias.array).max() <= bound
    assert L.Bilinear(2, 2, 2, bias=False).bias is None


@pytest.mark.parametrize(
    "make, shape",
    [
        (lambda m: m.BatchNorm2d(3, bias=False), (4, 3, 2, 2)),
        (lambda m: m.BatchNorm1d(3, affine=False), (5, 3)),
        (lambda m: m.GroupNorm(1, 3, bias=False), (2, 3, 4)),
        (lambda m: m.InstanceNorm2d(3, affine=True, bias=False), (2, 3, 3, 3)),
    ],
)
def test_norm_layers_take_bias_false_as_torch(torch, make, shape):
    """torch 2.13's bias= keyword: the scale γ without the shift β; names and repr as torch."""
    ours, theirs = make(ember.nn), make(torch.nn)
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    compare_with_torch(torch, ours.double(), theirs.double(), [randn(*shape)])
