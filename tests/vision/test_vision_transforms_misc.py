"""GaussianBlur against torch's conv2d with the documented kernel; RandomErasing's rectangles,
values, draws and fallback; RandomApply, RandomChoice, RandomOrder; torchvision's errors."""

from __future__ import annotations

import math

import numpy as np
import pytest

import ember
from ember.vision import transforms as T


def _kernel1d(k, sigma):
    x = np.linspace(-(k - 1) / 2, (k - 1) / 2, k)
    pdf = np.exp(-0.5 * (x / sigma) ** 2)
    return pdf / pdf.sum()


def _torch_blur(torch, chw, kernel_size, sigma):
    """conv2d (groups = C) with outer(k_y, k_x) after reflect padding (K_x/2, K_y/2)."""
    kx, ky = kernel_size
    kernel = np.outer(_kernel1d(ky, sigma), _kernel1d(kx, sigma))  # (K_y, K_x)
    x = torch.from_numpy(chw.astype(np.float64))[None]
    x = torch.nn.functional.pad(x, [kx // 2, kx // 2, ky // 2, ky // 2], mode="reflect")
    w = torch.from_numpy(kernel).expand(chw.shape[0], 1, ky, kx)
    return torch.nn.functional.conv2d(x, w, groups=chw.shape[0])[0].numpy()


@pytest.mark.parametrize("kernel_size", [3, (3, 7), (9, 5)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.uint8])
def test_gaussian_blur_is_conv2d_with_the_documented_kernel(torch, kernel_size, dtype):
    rng = np.random.default_rng(0)
    chw = rng.integers(0, 256, (3, 12, 10)).astype(dtype)
    if dtype != np.uint8:
        chw /= 255
    out = T.GaussianBlur(kernel_size, sigma=1.3)(ember.tensor(chw)).numpy()
    assert out.shape == chw.shape and out.dtype == dtype
    ks = (kernel_size, kernel_size) if isinstance(kernel_size, int) else kernel_size
    ref = _torch_blur(torch, chw, ks, 1.3)
    if dtype == np.uint8:  # rounded half to even, but for a result within 1e-3 of a half
        near = np.abs(np.abs(ref - np.floor(ref)) - 0.5) < 1e-3
        diff = out.astype(int) - np.round(ref).astype(int)
        assert np.all(diff[~near] == 0) and np.all(np.abs(diff[near]) <= 1)
    else:
        tol = 1e-6 if dtype == np.float32 else 1e-13
        np.testing.assert_allclose(out, ref, rtol=tol, atol=tol)


def test_gaussian_blur_sigma_draw_arrays_and_errors():
    ember.manual_seed(2)
    u = ember.default_generator.host_random()
    ember.manual_seed(2)
    assert T.GaussianBlur(3).get_params(0.1, 2.0) == pytest.approx(0.1 + 1.9 * u)
    hwc = np.random.default_rng(1).integers(0, 256, (8, 9, 3)).astype(np.uint8)
    ember.manual_seed(3)
    a = T.GaussianBlur(5)(hwc)
    ember.manual_seed(3)
    b = T.GaussianBlur(5)(ember.tensor(hwc.transpose(2, 0, 1).copy()))
    np.testing.assert_array_equal(a, b.numpy().transpose(1, 2, 0))
    with pytest.raises(ValueError, match="Kernel size value should be an odd and positive"):
        T.GaussianBlur(4)
    with pytest.raises(ValueError, match="Kernel size should be a tuple/list of two integers"):
        T.GaussianBlur((3, 3, 3))
    with pytest.raises(ValueError, match="If sigma is a single number, it must be positive"):
        T.GaussianBlur(3, sigma=0)
    with pytest.raises(ValueError, match=r"sigma values should be positive and of the form"):
        T.GaussianBlur(3, sigma=(2.0, 1.0))
    with pytest.raises(ValueError, match="sigma should be a single number or a list/tuple"):
        T.GaussianBlur(3, sigma=(1, 2, 3))
    with pytest.raises(RuntimeError, match="Padding size should be less than the corresponding"):
        T.GaussianBlur(9)(np.zeros((4, 4), np.float32))
    assert repr(T.GaussianBlur(3)) == "GaussianBlur(kernel_size=(3, 3), sigma=(0.1, 2.0))"


# ---------------------------------------------------------------- RandomErasing


def _erased_box(mask):
    """(top, left, h, w) of the True cells, checked to be one full rectangle."""
    rows, cols = np.nonzero(mask.any(axis=1))[0], np.nonzero(mask.any(axis=0))[0]
    top, left = rows[0], cols[0]
    h, w = rows[-1] - top + 1, cols[-1] - left + 1
    assert mask[top : top + h, left : left + w].all() and mask.sum() == h * w
    return top, left, h, w


def test_random_erasing_rectangles_have_their_area_and_ratio():
    x = ember.ones(3, 60, 80)
    scale, ratio = (0.05, 0.2), (2.0, 3.0)  # tall boxes: h/w in [2, 3]
    tf = T.RandomErasing(p=1.0, scale=scale, ratio=ratio)
    fractions = []
    for _ in range(300):
        out = tf(x).numpy()
        mask = out[0] == 0
        np.testing.assert_array_equal(out == 0, np.broadcast_to(mask, out.shape))
        top, left, h, w = _erased_box(mask)
        # h = round(√(a·r)), w = round(√(a/r)): the a and r that round so lie in range
        assert (h - 0.5) * (w - 0.5) <= scale[1] * 4800 and (h + 0.5) * (w + 0.5) >= scale[0] * 4800
        assert (h - 0.5) / (w + 0.5) <= ratio[1] and (h + 0.5) / (w - 0.5) >= ratio[0]
        fractions.append(h * w / 4800)
    assert abs(np.mean(fractions) - 0.125) < 0.01  # U(0.05, 0.2): mean 0.125, sd/√300 0.0025
    np.testing.assert_array_equal(x.numpy(), 1)  # not in place: the input is untouched


def test_random_erasing_values_noise_and_draw_order():
    x = ember.full((3, 20, 30), 5.0)
    out = T.RandomErasing(p=1.0, value=(1, 2, 3))(x).numpy()
    mask = out[0] != 5
    _erased_box(mask)
    for c in range(3):
        assert (out[c][mask] == c + 1).all()
    ember.manual_seed(9)
    u = [ember.default_generator.host_random() for _ in range(2)]
    area = 600 * (0.02 + 0.31 * u[0])
    r = math.exp(math.log(0.3) + (math.log(3.3) - math.log(0.3)) * u[1])
    h, w = round(math.sqrt(area * r)), round(math.sqrt(area / r))
    noise = ember.default_generator.standard_normal((3, h, w), np.float32)
    top = int(ember.default_generator.integers(0, 20 - h + 1, ()))
    left = int(ember.default_generator.integers(0, 30 - w + 1, ()))
    ember.manual_seed(9)
    i, j, hh, ww, v = T.RandomErasing.get_params(x, (0.02, 0.33), (0.3, 3.3), value=None)
    assert (i, j, hh, ww) == (top, left, h, w)  # the noise is drawn before the offsets
    np.testing.assert_array_equal(v, noise)
    ember.manual_seed(0)
    big = ember.zeros(3, 200, 200)
    noisy = [T.RandomErasing(p=1.0, scale=(0.2, 0.3), value="random")(big).numpy()
             for _ in range(5)]  # fmt: skip
    vals = np.concatenate([n[n != 0] for n in noisy])
    assert (
        vals.size > 5 * 3 * 0.15 * 40000 and abs(vals.mean()) < 0.015 and abs(vals.std() - 1) < 0.01
    )


def test_random_erasing_in_place_probability_fallback_and_uint8():
    x = ember.ones(1, 10, 10)
    assert T.RandomErasing(p=1.0, inplace=True)(x) is x and (x.numpy() == 0).any()
    y = ember.ones(1, 10, 10)
    assert T.RandomErasing(p=0.0)(y) is y
    ember.manual_seed(5)
    hits = sum(T.RandomErasing(p=0.3)(y) is not y for _ in range(2000))  # one U[0, 1) draw per call
    assert 520 < hits < 680
    # an area fraction ~ 1 with ratio 1 never fits (h = w = 10 is not < 10): 10 tries, then
    # the image as it was
    ember.manual_seed(1)
    same = T.RandomErasing(p=1.0, scale=(0.98, 1.0), ratio=(1.0, 1.0))(y)
    np.testing.assert_array_equal(same.numpy(), 1)
    after = ember.default_generator.host_random()
    ember.manual_seed(1)
    [ember.default_generator.host_random() for _ in range(21)]
    assert ember.default_generator.host_random() == after
    u8 = ember.tensor(np.full((3, 12, 12), 200, np.uint8))
    out = T.RandomErasing(p=1.0, value=7)(u8)
    assert out.dtype == np.uint8 and set(np.unique(out.numpy())) == {7, 200}


def test_random_erasing_errors_are_torchvisions():
    with pytest.raises(ValueError, match="If value is str, it should be 'random'"):
        T.RandomErasing(value="noise")
    with pytest.raises(TypeError, match="Argument value should be either a number or str"):
        T.RandomErasing(value=object())
    with pytest.raises(ValueError, match="Scale should be between 0 and 1"):
        T.RandomErasing(scale=(0.1, 2.0))
    with pytest.raises(ValueError, match="Random erasing probability should be between 0 and 1"):
        T.RandomErasing(p=1.5)
    with pytest.warns(UserWarning, match=r"Scale and ratio should be of kind \(min, max\)"):
        T.RandomErasing(ratio=(3.0, 0.3))
    with pytest.raises(ValueError, match=r"either a single value or 3 \(number of input chan"):
        T.RandomErasing(p=1.0, value=(1, 2))(ember.zeros(3, 8, 8))
    with pytest.raises(TypeError, match="expected a Tensor image"):
        T.RandomErasing(p=1.0)(np.zeros((8, 8, 3), np.uint8))


# ---------------------------------------------------------------- RandomApply / Choice / Order


def _tag(name, log):
    return T.Lambda(lambda img: log.append(name) or img)


def test_random_apply_all_or_nothing_with_probability_p():
    log = []
    tf = T.RandomApply([_tag("a", log), _tag("b", log)], p=0.25)
    ember.manual_seed(0)
    for _ in range(2000):
        tf(0)
    assert log[::2] == ["a"] * (len(log) // 2) and log[1::2] == ["b"] * (len(log) // 2)
    assert 440 < len(log) // 2 < 560  # 500 ± 5.5σ
    ember.manual_seed(3)
    u = ember.default_generator.host_random()
    ember.manual_seed(3)
    log.clear()
    T.RandomApply([_tag("a", log)], p=u + 1e-9)(0)  # applied when not p < u
    ember.manual_seed(3)
    T.RandomApply([_tag("b", log)], p=u - 1e-9)(0)
    assert log == ["a"]
    assert repr(T.RandomApply([T.Grayscale()], p=0.3)) == (
        "RandomApply(\n    p=0.3\n    Grayscale(num_output_channels=1)\n)"
    )


def test_random_choice_uniform_and_weighted():
    log = []
    names = ["a", "b", "c"]
    tf = T.RandomChoice([_tag(n, log) for n in names])
    ember.manual_seed(0)
    for _ in range(3000):
        tf(0)
    counts = [log.count(n) for n in names]
    assert all(900 < c < 1100 for c in counts)  # 1000 ± 3.9σ
    log.clear()
    weighted = T.RandomChoice([_tag(n, log) for n in names], p=[1, 0, 3])
    for _ in range(4000):
        weighted(0)
    assert log.count("b") == 0 and 850 < log.count("a") < 1150  # 1000 ± 5σ
    ember.manual_seed(4)
    u = ember.default_generator.host_random()
    ember.manual_seed(4)
    log.clear()
    tf(0)
    assert log == [names[int(u * 3)]]
    with pytest.raises(TypeError, match="Argument transforms should be a sequence"):
        T.RandomChoice(T.Grayscale())
    with pytest.raises(TypeError, match="Argument p should be a sequence"):
        T.RandomChoice([T.Grayscale()], p=1.0)
    with pytest.raises(ValueError, match="The number of weights does not match the population"):
        T.RandomChoice([T.Grayscale()], p=[0.5, 0.5])
    assert repr(T.RandomChoice([T.Grayscale()])).endswith(")(p=None)")


def test_random_order_applies_each_once_in_every_order():
    log = []
    tf = T.RandomOrder([_tag(n, log) for n in "abc"])
    ember.manual_seed(0)
    orders = {}
    for _ in range(3000):
        log.clear()
        tf(0)
        assert sorted(log) == ["a", "b", "c"]
        orders["".join(log)] = orders.get("".join(log), 0) + 1
    assert len(orders) == 6 and all(380 < c < 620 for c in orders.values())  # 500 ± 5.4σ
    ember.manual_seed(7)
    perm = list(ember.default_generator.permutation(3))
    ember.manual_seed(7)
    log.clear()
    tf(0)
    assert log == ["abc"[k] for k in perm]
