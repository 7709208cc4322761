"""ColorJitter, Grayscale, RandomGrayscale: torchvision's documented formulas written out here
(blend with zeros / the gray mean / the gray image, hue through colorsys' HSV, the 601-2 luma),
for float and uint8 images, the permutation-then-factors draw, and torchvision's errors."""

from __future__ import annotations

import colorsys

import numpy as np
import pytest

import ember
from ember.vision import transforms as T

RNG = np.random.default_rng(0)
U8 = RNG.integers(0, 256, size=(3, 9, 11)).astype(np.uint8)
F32 = (U8 / np.float32(255)).astype(np.float32)


def _gray(x):
    """0.2989 R + 0.587 G + 0.114 B, in float32 for uint8 (then truncated), else x's dtype."""
    w = x.astype(np.float32) if x.dtype == np.uint8 else x
    return (0.2989 * w[0] + 0.587 * w[1] + 0.114 * w[2]).astype(x.dtype)[None]


def _blend(x1, x2, f):
    w1 = x1.astype(np.float32) if x1.dtype == np.uint8 else x1
    w2 = x2.astype(np.float32) if x2.dtype == np.uint8 else x2
    bound = 255 if x1.dtype == np.uint8 else 1
    return np.clip(f * w1 + (1 - f) * w2, 0, bound).astype(x1.dtype)


def _hue(x, f):
    """Shift every pixel's hue by f through colorsys' HSV (float64 reference)."""
    w = x / 255.0 if x.dtype == np.uint8 else x.astype(np.float64)
    flat = w.reshape(3, -1).T
    out = np.array([colorsys.hsv_to_rgb((h + f) % 1.0, s, v)
                    for h, s, v in (colorsys.rgb_to_hsv(*p) for p in flat)]).T  # fmt: skip
    out = out.reshape(x.shape)
    return out * (256 - 1e-3) if x.dtype == np.uint8 else out


def assert_truncated_as(out, ref_float):
    """out = ⌊ref⌋ (the cast truncates), except within 1e-3 of an integer, where float32
    rounding may fall either side."""
    near = np.abs(ref_float - np.round(ref_float)) < 1e-3
    diff = out.astype(np.int64) - np.floor(ref_float).astype(np.int64)
    assert np.all(diff[~near] == 0) and np.all(np.abs(diff[near]) <= 1)


def _jitter(**factor):
    """ColorJitter with one fixed factor f (the range (f, f))."""
    ((name, f),) = factor.items()
    return T.ColorJitter(**{name: (f, f)})


@pytest.mark.parametrize("f", [0.0, 0.6, 1.7])
@pytest.mark.parametrize("x", [U8, F32], ids=["uint8", "float32"])
def test_brightness_contrast_saturation_are_blends(f, x):
    t = ember.tensor(x)
    np.testing.assert_array_equal(_jitter(brightness=f)(t).numpy(), _blend(x, 0 * x, f))
    np.testing.assert_array_equal(_jitter(saturation=f)(t).numpy(), _blend(x, _gray(x), f))
    mean = _gray(x).astype(np.float32).mean()
    out = _jitter(contrast=f)(t).numpy()
    ref = np.clip(f * x.astype(np.float32) + (1 - f) * mean, 0, 255 if x.dtype == np.uint8 else 1)
    if x.dtype == np.uint8:
        assert_truncated_as(out, ref)
    else:
        np.testing.assert_allclose(out, ref, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("f", [-0.5, -0.2, 0.0, 0.35, 0.5])
def test_hue_shift_is_colorsys_hsv(f):
    out = _jitter(hue=f)(ember.tensor(F32)).numpy()
    np.testing.assert_allclose(out, _hue(F32, f), rtol=0, atol=3e-6)
    out8 = _jitter(hue=f)(ember.tensor(U8)).numpy()
    assert out8.dtype == np.uint8
    assert_truncated_as(out8, _hue(U8, f))
    gray_like = np.repeat(U8[:1], 3, axis=0)  # s = 0: hue means nothing, the image stays
    np.testing.assert_array_equal(_jitter(hue=f)(ember.tensor(gray_like)).numpy(), gray_like)


def test_one_channel_images_keep_saturation_and_hue_and_take_brightness():
    one = U8[:1]
    np.testing.assert_array_equal(_jitter(saturation=0.2)(ember.tensor(one)).numpy(), one)
    np.testing.assert_array_equal(_jitter(hue=0.3)(ember.tensor(one)).numpy(), one)
    np.testing.assert_array_equal(_jitter(brightness=0.5)(U8[0]), _blend(one, 0 * one, 0.5)[0])


def test_color_jitter_draws_a_permutation_then_the_factors_and_applies_in_that_order():
    tf = T.ColorJitter(brightness=0.5, contrast=(0.2, 0.9), hue=0.1)
    assert tf.brightness == (0.5, 1.5) and tf.saturation is None and tf.hue == (-0.1, 0.1)
    for seed in range(6):
        ember.manual_seed(seed)
        order = [int(k) for k in ember.default_generator.permutation(4)]
        u = [ember.default_generator.host_random() for _ in range(3)]
        b, c, h = 0.5 + u[0], 0.2 + 0.7 * u[1], -0.1 + 0.2 * u[2]
        ember.manual_seed(seed)
        assert tf.get_params(tf.brightness, tf.contrast, tf.saturation, tf.hue) == (
            order, pytest.approx(b), pytest.approx(c), None, pytest.approx(h),
        )  # fmt: skip
        ember.manual_seed(seed)
        out = tf(ember.tensor(F32)).numpy()
        want = F32
        for k in order:  # the documented formulas in the drawn order
            if k == 0:
                want = _blend(want, 0 * want, b)
            elif k == 1:
                want = np.clip(c * want + (1 - c) * _gray(want).mean(), 0, 1)
            elif k == 3:
                want = _hue(want, h).astype(np.float32)
        np.testing.assert_allclose(out, want, rtol=0, atol=1e-5)
    ember.manual_seed(0)
    state = ember.get_rng_state()
    hwc = U8.transpose(1, 2, 0).copy()
    a = tf(hwc)
    ember.set_rng_state(state)
    np.testing.assert_array_equal(a, tf(ember.tensor(U8)).numpy().transpose(1, 2, 0))


def test_grayscale_is_the_601_luma_and_random_grayscale_keeps_the_channel_count():
    for x in (U8, F32):
        g = T.Grayscale()(ember.tensor(x))
        assert g.shape == (1, 9, 11) and g.dtype == x.dtype
        np.testing.assert_array_equal(g.numpy(), _gray(x))
        g3 = T.Grayscale(num_output_channels=3)(ember.tensor(x)).numpy()
        np.testing.assert_array_equal(g3, np.repeat(_gray(x), 3, axis=0))
    hwc = U8.transpose(1, 2, 0).copy()
    assert T.Grayscale()(hwc).shape == (9, 11)  # as Pillow's mode "L"
    np.testing.assert_array_equal(T.Grayscale()(hwc), _gray(U8)[0])
    assert T.Grayscale(3)(hwc).shape == (9, 11, 3)
    np.testing.assert_array_equal(T.Grayscale()(U8[0]), U8[0])  # (H, W) is gray already
    np.testing.assert_array_equal(
        T.RandomGrayscale(1.0)(hwc), np.repeat(_gray(U8), 3, 0).transpose(1, 2, 0)
    )
    assert T.RandomGrayscale(0.0)(hwc) is hwc
    ember.manual_seed(1)
    hits = sum(T.RandomGrayscale(0.3)(hwc) is not hwc for _ in range(2000))
    assert 520 < hits < 680  # 600 ± 6σ


def test_color_errors_are_torchvisions():
    with pytest.raises(ValueError, match="If brightness is a single number, it must be non neg"):
        T.ColorJitter(brightness=-1)
    with pytest.raises(ValueError, match=r"hue values should be between \(-0.5, 0.5\), but got"):
        T.ColorJitter(hue=0.6)
    with pytest.raises(ValueError, match=r"contrast values should be between \(0, inf\)"):
        T.ColorJitter(contrast=(2, 1))
    with pytest.raises(TypeError, match="saturation should be a single number or a list/tuple"):
        T.ColorJitter(saturation=(1, 2, 3))
    with pytest.raises(TypeError, match=r"permitted channel values are \[1, 3\], but found 2"):
        T.ColorJitter(brightness=0.5)(ember.zeros(2, 4, 4))
    with pytest.raises(ValueError, match="num_output_channels should be either 1 or 3"):
        T.Grayscale(2)(U8)
    with pytest.raises(TypeError, match="should have at least 3 dimensions, but found 2"):
        T.Grayscale()(ember.tensor(F32[0]))
    assert T.ColorJitter().brightness is None and T.ColorJitter(hue=0).hue is None
    assert repr(T.ColorJitter(0.5)) == (
        "ColorJitter(brightness=(0.5, 1.5), contrast=None, saturation=None, hue=None)"
    )
