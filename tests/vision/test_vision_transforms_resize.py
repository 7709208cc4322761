"""Resize and RandomResizedCrop: the pixels against torch's F.interpolate (torchvision's tensor
path, float and uint8, every mode, antialias on and off), torchvision's output-size rules and
errors, RandomResizedCrop's draws (areas, log-uniform ratios, the fallback), seeding, and the
array and Tensor images agreeing."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import ember
from ember.vision import transforms as T

MODES = [
    T.InterpolationMode.NEAREST,
    T.InterpolationMode.NEAREST_EXACT,
    T.InterpolationMode.BILINEAR,
    T.InterpolationMode.BICUBIC,
]


def _image(h, w, c=3, dtype=np.uint8, seed=0):
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 256, size=(c, h, w))
    return a.astype(dtype) if dtype == np.uint8 else (a / 255.0).astype(dtype)


def _torch_resize(torch, chw, size, mode, antialias):
    """torchvision's tensor resize written out on torch: float32 for integer images, the
    bicubic clamp, round half to even, back to the dtype."""
    x = torch.from_numpy(np.ascontiguousarray(chw))[None]
    work = x if x.dtype in (torch.float32, torch.float64) else x.to(torch.float32)
    smooth = mode in ("bilinear", "bicubic")
    y = torch.nn.functional.interpolate(
        work, size=size, mode=mode, align_corners=False if smooth else None,
        antialias=bool(antialias) and smooth,
    )  # fmt: skip
    if x.dtype == torch.uint8:
        if mode == "bicubic":
            y = y.clamp(0, 255)
        return y[0].numpy(), torch.round(y[0]).to(torch.uint8).numpy()
    return y[0].numpy(), y[0].numpy()


def assert_rounded_as(out, ref_float, ref_rounded):
    """out equals torch's rounding except where torch's float result sits within 1e-3 of a
    half (either neighbour is then a correct rounding of a result a few ulps away)."""
    near_half = np.abs(np.abs(ref_float - np.floor(ref_float)) - 0.5) < 1e-3
    diff = out.astype(np.int64) - ref_rounded.astype(np.int64)
    assert np.all(diff[~near_half] == 0), np.abs(diff).max()
    assert np.all(np.abs(diff[near_half]) <= 1)


@pytest.mark.parametrize("mode", MODES, ids=lambda m: m.value)
@pytest.mark.parametrize("antialias", [True, False])
@pytest.mark.parametrize("dtype", [np.float32, np.uint8])
@pytest.mark.parametrize("size", [(5, 7), (23, 31)], ids=["down", "up"])
def test_resize_is_torch_interpolate_on_the_tensor_image(torch, mode, antialias, dtype, size):
    chw = _image(12, 16, dtype=dtype)
    out = T.Resize(size, interpolation=mode, antialias=antialias)(ember.tensor(chw))
    assert out.shape == (3, *size) and out.dtype == dtype
    ref_float, ref = _torch_resize(torch, chw, size, mode.value, antialias)
    if dtype == np.uint8:
        assert_rounded_as(out.numpy(), ref_float, ref)
    else:
        np.testing.assert_allclose(out.numpy(), ref, rtol=1e-5, atol=2e-6)


@pytest.mark.parametrize("mode", MODES, ids=lambda m: m.value)
def test_resize_array_images_go_the_tensor_way_and_keep_dtype_and_layout(mode):
    hwc = _image(12, 16).transpose(1, 2, 0).copy()
    out = T.Resize((7, 9), interpolation=mode)(hwc)
    assert isinstance(out, np.ndarray) and out.shape == (7, 9, 3) and out.dtype == np.uint8
    as_tensor = T.Resize((7, 9), interpolation=mode)(ember.tensor(hwc.transpose(2, 0, 1).copy()))
    np.testing.assert_array_equal(out, as_tensor.numpy().transpose(1, 2, 0))
    gray = T.Resize(6, interpolation=mode)(hwc[:, :, 0].astype(np.float64) / 255)
    assert gray.shape == (6, 8) and gray.dtype == np.float64  # (H, W) stays (H, W)
    gray_t = T.Resize(6, interpolation=mode)(ember.tensor(hwc[None, :, :, 0] / 255.0))
    np.testing.assert_array_equal(gray, gray_t.numpy()[0])


def test_resize_batched_tensor_resizes_each_image_alike():
    batch = ember.tensor(np.stack([_image(10, 14, seed=s, dtype=np.float32) for s in range(4)]))
    batch = batch.reshape(2, 2, 3, 10, 14)
    out = T.Resize((6, 5))(batch)
    assert out.shape == (2, 2, 3, 6, 5)
    for a in range(2):
        for b in range(2):
            np.testing.assert_array_equal(out.numpy()[a, b], T.Resize((6, 5))(batch[a, b]).numpy())


@pytest.mark.parametrize(
    "hw, size, max_size, want",
    [
        ((10, 15), 4, None, (4, 6)),  # the smaller edge is 4, the longer ⌊4 · 15/10⌋
        ((7, 3), 5, None, (11, 5)),  # ⌊5 · 7/3⌋ = 11 (truncated, not rounded)
        ((10, 15), [4], None, (4, 6)),
        ((10, 15), 4, 5, (3, 5)),  # the long edge capped at 5, the short ⌊5 · 4/6⌋
        ((10, 15), 4, 6, (4, 6)),  # at the cap: kept
        ((10, 15), (3, 8), None, (3, 8)),
    ],
)
def test_resize_output_size_rules(hw, size, max_size, want):
    img = np.zeros(hw, np.float32)
    assert T.Resize(size, max_size=max_size)(img).shape == want


def test_resize_keeps_the_image_itself_when_the_size_is_kept_and_its_errors():
    x = ember.tensor(_image(8, 6))
    img = x.numpy().transpose(1, 2, 0).copy()
    assert T.Resize(6)(x) is x and T.Resize((8, 6))(img) is img
    with pytest.raises(ValueError, match=r"max_size = 4 must be strictly greater than the"):
        T.Resize(4, max_size=4)(img)
    with pytest.raises(ValueError, match="max_size should only be passed if size specifies"):
        T.Resize((4, 5), max_size=9)(img)
    with pytest.raises(ValueError, match="If size is a sequence, it should have 1 or 2 values"):
        T.Resize((1, 2, 3))
    with pytest.raises(TypeError, match="Size should be int or sequence"):
        T.Resize(3.5)
    with pytest.raises(TypeError, match="should be a InterpolationMode or a corresponding"):
        T.Resize(4, interpolation="bilinear")
    assert T.Resize(4, interpolation=0).interpolation is T.InterpolationMode.NEAREST
    assert T.Resize(4, interpolation=3).interpolation is T.InterpolationMode.BICUBIC
    assert T.InterpolationMode("nearest-exact") is T.InterpolationMode.NEAREST_EXACT
    assert (
        repr(T.Resize(4)) == "Resize(size=4, interpolation=bilinear, max_size=None, antialias=True)"
    )


# ---------------------------------------------------------------- RandomResizedCrop


def _bracket_ok(w, h, lo, hi, of):
    """Is some value in [lo, hi] consistent with w = round(√(a·r)), h = round(√(a/r))?
    ``of`` picks the quantity: 'area' (a = √(ar)·√(a/r)) or 'ratio' (r = √(ar)/√(a/r))."""
    if of == "area":
        q_lo, q_hi = (w - 0.5) * (h - 0.5), (w + 0.5) * (h + 0.5)
    else:
        q_lo, q_hi = (w - 0.5) / (h + 0.5), (w + 0.5) / (h - 0.5)
    return q_lo <= hi and q_hi >= lo


def test_random_resized_crop_draws_areas_and_log_uniform_ratios():
    img = np.zeros((400, 500), np.uint8)
    scale, ratio = (0.1, 0.2), (2.0, 3.0)
    params = [T.RandomResizedCrop.get_params(img, scale, ratio) for _ in range(4000)]
    i, j, h, w = (np.array(p) for p in zip(*params))
    assert np.all((i >= 0) & (j >= 0) & (i + h <= 400) & (j + w <= 500))
    for hh, ww in zip(h[:500], w[:500]):
        assert _bracket_ok(ww, hh, scale[0] * 200_000, scale[1] * 200_000, "area")
        assert _bracket_ok(ww, hh, *ratio, "ratio")  # w/h: wide crops, not tall
    log_r = np.log(w / h)
    # log-uniform in [log 2, log 3]: mean (log 2 + log 3)/2 = 0.896 (uniform r would give
    # 0.911); sd 0.117, so 4000 draws pin the mean to ± 0.002
    assert abs(log_r.mean() - (math.log(2) + math.log(3)) / 2) < 0.008
    area = w * h / 200_000
    assert abs(area.mean() - 0.15) < 0.003 and area.min() < 0.102 and area.max() > 0.198
    tops = i / (400 - h)  # the top uniform over what fits
    assert abs(tops.mean() - 0.5) < 0.02


def test_random_resized_crop_draw_order_and_central_fallback():
    ember.manual_seed(11)
    u = [ember.default_generator.host_random() for _ in range(2)]
    ember.manual_seed(11)
    i, j, h, w = T.RandomResizedCrop.get_params(np.zeros((40, 50)), (0.3, 0.5), (0.8, 1.25))
    area = 2000 * (0.3 + 0.2 * u[0])
    r = math.exp(math.log(0.8) + (math.log(1.25) - math.log(0.8)) * u[1])
    assert (h, w) == (round(math.sqrt(area / r)), round(math.sqrt(area * r)))
    ember.manual_seed(11)
    [ember.default_generator.host_random() for _ in range(2)]
    want_i = int(ember.default_generator.integers(0, 40 - h + 1, ()))
    want_j = int(ember.default_generator.integers(0, 50 - w + 1, ()))
    assert (i, j) == (want_i, want_j)
    # an area over the image's never fits: 10 tries (20 draws), then the central crop with
    # the ratio clamped: a 10 × 40 image (ratio 4) gives 10 × round(10 · 4/3)
    ember.manual_seed(3)
    assert T.RandomResizedCrop.get_params(np.zeros((10, 40)), (1.5, 2.0), (3 / 4, 4 / 3)) == (
        0, 13, 10, 13,
    )  # fmt: skip
    after = ember.default_generator.host_random()
    ember.manual_seed(3)
    [ember.default_generator.host_random() for _ in range(20)]
    assert ember.default_generator.host_random() == after
    assert T.RandomResizedCrop.get_params(np.zeros((40, 10)), (1.5, 2.0), (3 / 4, 4 / 3)) == (
        13, 0, 13, 10,
    )  # fmt: skip
    assert T.RandomResizedCrop.get_params(np.zeros((10, 11)), (1.5, 2.0), (3 / 4, 4 / 3)) == (
        0, 0, 10, 11,
    )  # fmt: skip


@pytest.mark.parametrize("mode", [T.InterpolationMode.NEAREST, T.InterpolationMode.BILINEAR])
def test_random_resized_crop_is_its_crop_resized_seeded_and_kind_blind(mode):
    hwc = _image(30, 40).transpose(1, 2, 0).copy()
    rrc = T.RandomResizedCrop((12, 10), interpolation=mode)
    ember.manual_seed(5)
    i, j, h, w = rrc.get_params(hwc, rrc.scale, rrc.ratio)
    ember.manual_seed(5)
    out = rrc(hwc)
    assert out.shape == (12, 10, 3) and out.dtype == np.uint8
    np.testing.assert_array_equal(
        out, T.Resize((12, 10), interpolation=mode)(hwc[i : i + h, j : j + w])
    )
    ember.manual_seed(5)
    as_tensor = rrc(ember.tensor(hwc.transpose(2, 0, 1).copy()))
    np.testing.assert_array_equal(out, as_tensor.numpy().transpose(1, 2, 0))
    ember.manual_seed(6)
    runs = [T.RandomResizedCrop(8)(hwc) for _ in range(10)]
    ember.manual_seed(6)
    for a in runs:
        np.testing.assert_array_equal(a, T.RandomResizedCrop(8)(hwc))
    assert len({a.tobytes() for a in runs}) > 5


def test_random_resized_crop_argument_errors_and_repr():
    with pytest.raises(ValueError, match=r"Please provide only two dimensions \(h, w\) for size"):
        T.RandomResizedCrop((1, 2, 3))
    with pytest.raises(TypeError, match="Scale should be a sequence"):
        T.RandomResizedCrop(4, scale=0.5)
    with pytest.raises(TypeError, match="Ratio should be a sequence"):
        T.RandomResizedCrop(4, ratio=1.0)
    with pytest.warns(UserWarning, match=r"Scale and ratio should be of kind \(min, max\)"):
        T.RandomResizedCrop(4, scale=(1.0, 0.5))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert T.RandomResizedCrop([7]).size == (7, 7)
    assert repr(T.RandomResizedCrop(4)) == (
        "RandomResizedCrop(size=(4, 4), scale=(0.08, 1.0), ratio=(0.75, 1.3333),"
        " interpolation=bilinear, antialias=True)"
    )
