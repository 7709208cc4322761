"""ember.vision.transforms: torchvision's semantics on image arrays and Tensor images, the
random ones drawn from ember's default generator (seeded, repeatable), and their errors."""

from __future__ import annotations

import numpy as np
import pytest

import ember
from ember.vision import transforms as T

IMG = np.arange(5 * 6, dtype=np.uint8).reshape(5, 6)  # every pixel tells where it came from
RGB = np.arange(4 * 5 * 3, dtype=np.uint8).reshape(4, 5, 3)


def test_to_tensor_scales_uint8_to_unit_range_channels_first():
    x = T.ToTensor()(IMG)
    assert x.shape == (1, 5, 6) and x.dtype == np.float32
    np.testing.assert_array_equal(x.array[0], IMG.astype(np.float32) / np.float32(255))
    rgb = T.ToTensor()(RGB)
    assert rgb.shape == (3, 4, 5)
    np.testing.assert_array_equal(rgb.array[2], RGB[:, :, 2] / np.float32(255))
    kept = T.ToTensor()(RGB.astype(np.float64))  # other dtypes: kept, not scaled (torchvision)
    assert kept.dtype == np.float64
    np.testing.assert_array_equal(kept.array[1], RGB[:, :, 1])


def test_to_tensor_refuses_what_is_not_an_image_array():
    with pytest.raises(TypeError, match="Tensor already"):
        T.ToTensor()(ember.zeros(1, 2, 2))
    with pytest.raises(
        TypeError, match=r"shape \(H, W\) or \(H, W, C\), got ndarray of shape \(4,\)"
    ):
        T.ToTensor()(np.zeros(4, np.uint8))


def test_normalize_per_channel_and_its_errors():
    x = T.ToTensor()(RGB)
    mean, std = (0.1, 0.2, 0.3), (0.5, 0.25, 2.0)
    y = T.Normalize(mean, std)(x)
    want = (x.array - np.float32(mean).reshape(3, 1, 1)) / np.float32(std).reshape(3, 1, 1)
    np.testing.assert_allclose(y.array, want, rtol=1e-6)
    np.testing.assert_allclose(T.Normalize((0.5,), (0.5,))(x).array, (x.array - 0.5) / 0.5)
    z = x.clone()
    assert T.Normalize(mean, std, inplace=True)(z) is z
    np.testing.assert_allclose(z.array, want, rtol=1e-6)
    with pytest.raises(ValueError, match="mean has 2 values for an image of 3 channels"):
        T.Normalize((0.1, 0.2), (1.0, 1.0, 1.0))(x)
    with pytest.raises(ValueError, match="evaluated to zero"):
        T.Normalize((0.0,), (1e-50,))
    with pytest.raises(TypeError, match="apply ToTensor first"):
        T.Normalize((0.0,), (1.0,))(RGB)


@pytest.mark.parametrize("img", [IMG, RGB, T.ToTensor()(RGB)], ids=["gray", "rgb", "tensor"])
def test_flips_with_probability_one_and_zero(img):
    as_array = (
        (lambda t: t.array.transpose(1, 2, 0)) if isinstance(img, ember.Tensor) else np.asarray
    )
    base = as_array(img)
    np.testing.assert_array_equal(as_array(T.RandomHorizontalFlip(1.0)(img)), base[:, ::-1])
    np.testing.assert_array_equal(as_array(T.RandomVerticalFlip(1.0)(img)), base[::-1])
    np.testing.assert_array_equal(as_array(T.RandomHorizontalFlip(0.0)(img)), base)


def test_random_transforms_are_seeded_by_ember_manual_seed():
    tf = T.Compose([T.RandomCrop(4, padding=1), T.RandomHorizontalFlip()])

    def run():
        ember.manual_seed(3)
        return [tf(IMG) for _ in range(20)]

    first, second = run(), run()
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)
    assert len({a.tobytes() for a in first}) > 5  # and they do vary from call to call
    flips = sum(
        bool(np.array_equal(T.RandomHorizontalFlip()(IMG), IMG[:, ::-1])) for _ in range(2000)
    )
    assert 880 < flips < 1120  # p = 0.5: 1000 ± 5.4σ


def test_random_crop_takes_every_window_uniformly():
    ember.manual_seed(0)
    crop = T.RandomCrop((3, 4))
    seen = {}
    for _ in range(3000):
        out = crop(IMG)
        top, left = divmod(int(out[0, 0]), 6)
        np.testing.assert_array_equal(out, IMG[top : top + 3, left : left + 4])
        seen[top, left] = seen.get((top, left), 0) + 1
    assert sorted(seen) == [(t, c) for t in range(3) for c in range(3)]  # 3 × 3 windows
    assert min(seen.values()) > 3000 / 9 * 0.75


def test_random_crop_padding_modes_and_pad_if_needed():
    ember.manual_seed(1)
    padded = np.pad(IMG, 2, mode="reflect")
    for _ in range(50):
        out = T.RandomCrop(5, padding=2, padding_mode="reflect")(IMG)
        hits = [
            (t, c)
            for t in range(5)
            for c in range(6)
            if np.array_equal(padded[t : t + 5, c : c + 5], out)
        ]
        assert hits, "every crop is a window of the reflect-padded image"
    state = ember.get_rng_state()
    assert T.RandomCrop((5, 6))(IMG) is IMG  # the whole image: no draw, as torchvision
    np.testing.assert_array_equal(ember.get_rng_state(), state)
    grown = T.RandomCrop(8, pad_if_needed=True, fill=255)(IMG)
    assert grown.shape == (8, 8) and (grown == 255).any()
    with pytest.raises(
        ValueError, match=r"crop size \(8, 8\) is larger than the input image size \(5, 6\)"
    ):
        T.RandomCrop(8)(IMG)


def test_center_crop_offsets_round_as_torchvision_and_pad_when_larger():
    np.testing.assert_array_equal(T.CenterCrop(2)(IMG), IMG[2:4, 2:4])  # round(1.5), round(2.0)
    np.testing.assert_array_equal(
        T.CenterCrop((3, 3))(IMG), IMG[1:4, 2:5]
    )  # round(1.0), round(1.5)
    big = T.CenterCrop(8)(IMG)  # padded (1, 1) left/right, (1, 2) top/bottom, then cropped
    np.testing.assert_array_equal(big, np.pad(IMG, ((1, 2), (1, 1))))
    x = T.ToTensor()(RGB)
    np.testing.assert_array_equal(T.CenterCrop(2)(x).array, x.array[:, 1:3, 2:4])


@pytest.mark.parametrize(
    "padding, widths",
    [(2, ((2, 2), (2, 2))), ((1, 3), ((3, 3), (1, 1))), ((1, 2, 3, 4), ((2, 4), (1, 3)))],
)
@pytest.mark.parametrize("mode", ["constant", "edge", "reflect", "symmetric"])
def test_pad_forms_and_modes_as_numpy_pad(padding, widths, mode):
    np.testing.assert_array_equal(
        T.Pad(padding, padding_mode=mode)(IMG), np.pad(IMG, widths, mode=mode)
    )
    x = T.ToTensor()(RGB)
    out = T.Pad(padding, padding_mode=mode)(x)
    np.testing.assert_array_equal(out.array, np.pad(x.array, ((0, 0), *widths), mode=mode))


def test_compose_lambda_and_argument_errors():
    tf = T.Compose([T.Lambda(lambda a: a + 1), T.ToTensor()])
    assert tf(IMG).shape == (1, 5, 6) and "Lambda()" in repr(tf) and "ToTensor()" in repr(tf)
    with pytest.raises(TypeError, match="should be callable"):
        T.Lambda(3)
    with pytest.raises(ValueError, match="padding_mode must be one of"):
        T.Pad(1, padding_mode="wrap")
    with pytest.raises(ValueError, match="size must be an int or a sequence"):
        T.CenterCrop((1, 2, 3))
    with pytest.raises(TypeError, match="expected an image"):
        T.RandomHorizontalFlip()(np.zeros((2, 2, 2, 2)))
