"""RandomRotation and RandomAffine: against torch's affine_grid + grid_sample fed the inverse
map built here from the documented M = T·C·R·S·SHy·SHx·C⁻¹ (as 3 × 3 matrices, inverted
numerically), exact properties (90° turns are np.rot90, the identity keeps the image), the fill,
expand's output size, the parameter draws and their order, and torchvision's errors."""

from __future__ import annotations

import math

import numpy as np
import pytest

import ember
from ember.vision import transforms as T

NEAREST, BILINEAR = T.InterpolationMode.NEAREST, T.InterpolationMode.BILINEAR


def _forward_map(center, angle, translate, scale, shear):
    """M = T(t)·C(c)·R(a)·S(s)·SHy(sy)·SHx(sx)·C(c)⁻¹ in pixel coordinates about the image
    centre (degrees; image axes x right, y down)."""
    a, sx, sy = (math.radians(v) for v in (angle, *shear))

    def m(rows):
        return np.array(rows, dtype=np.float64)

    trans = m([[1, 0, translate[0]], [0, 1, translate[1]], [0, 0, 1]])
    cen = m([[1, 0, center[0]], [0, 1, center[1]], [0, 0, 1]])
    rot = m([[math.cos(a), -math.sin(a), 0], [math.sin(a), math.cos(a), 0], [0, 0, 1]])
    sca = m([[scale, 0, 0], [0, scale, 0], [0, 0, 1]])
    shy = m([[1, 0, 0], [-math.tan(sy), 1, 0], [0, 0, 1]])
    shx = m([[1, -math.tan(sx), 0], [0, 1, 0], [0, 0, 1]])
    return trans @ cen @ rot @ sca @ shy @ shx @ np.linalg.inv(cen)


def _torch_warp(torch, chw, minv, out_hw, mode, fill):
    """Sample chw at M⁻¹·p for every output pixel centre p, through torch's affine_grid
    (align_corners=False: normalised x_n = x_p / (W'/2)) and grid_sample, fill by a mask
    channel; integer images in float32 and rounded back."""
    c, h, w = chw.shape
    oh, ow = out_hw
    theta = np.diag([2.0 / w, 2.0 / h]) @ minv[:2] @ np.diag([ow / 2.0, oh / 2.0, 1.0])
    x = torch.from_numpy(np.ascontiguousarray(chw))[None]
    work = x.to(torch.float32) if not x.is_floating_point() else x
    grid = torch.nn.functional.affine_grid(
        torch.tensor(theta, dtype=work.dtype)[None], [1, c, oh, ow], align_corners=False
    )
    work = torch.cat([work, torch.ones_like(work[:, :1])], dim=1)
    y = torch.nn.functional.grid_sample(work, grid, mode=mode, align_corners=False)
    y, mask = y[:, :-1], y[:, -1:]
    f = torch.tensor(fill, dtype=y.dtype).view(1, -1, 1, 1)
    y = torch.where(mask < 0.5, f, y) if mode == "nearest" else y * mask + (1 - mask) * f
    return y[0].round().to(x.dtype).numpy() if not x.is_floating_point() else y[0].numpy()


def _image(h, w, c=3, dtype=np.float32, seed=0):
    a = np.random.default_rng(seed).integers(0, 256, size=(c, h, w))
    return a.astype(dtype) if dtype == np.uint8 else (a / 255.0).astype(dtype)


@pytest.mark.parametrize("mode", [NEAREST, BILINEAR], ids=lambda m: m.value)
@pytest.mark.parametrize(
    "angle, translate, scale, shear, center",
    [
        (30.0, (0, 0), 1.0, (0.0, 0.0), None),
        (-12.5, (2, -1), 0.8, (10.0, 0.0), None),
        (50.0, (-3, 2), 1.3, (-8.0, 15.0), (4, 6)),
    ],
)
def test_affine_is_grid_sample_at_the_inverse_map(torch, mode, angle, translate, scale, shear,
                                                  center):  # fmt: skip
    chw = _image(11, 14)
    deg = (angle, angle)
    sh = (shear[0], shear[0], shear[1], shear[1])
    affine = T.RandomAffine(deg, scale=(scale, scale), shear=sh, interpolation=mode, fill=0.25,
                            center=center)  # fmt: skip
    # the translation is drawn as round(U(±a·W)): give (a, a) ranges of zero width instead
    affine.get_params = lambda *args: (angle, translate, scale, shear)
    out = affine(ember.tensor(chw))
    c = (0.0, 0.0) if center is None else (center[0] - 7.0, center[1] - 5.5)
    minv = np.linalg.inv(_forward_map(c, angle, translate, scale, shear))
    ref = _torch_warp(torch, chw, minv, (11, 14), mode.value, [0.25] * 3)
    if mode is NEAREST:  # no sample here sits on a rounding tie: the same pixels
        np.testing.assert_array_equal(out.numpy(), ref)
    else:
        np.testing.assert_allclose(out.numpy(), ref, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("angle", [33.0, -140.0])
@pytest.mark.parametrize("dtype", [np.float64, np.uint8])
def test_rotation_is_affine_by_minus_angle_and_expand_grows_the_canvas(torch, angle, dtype):
    chw = _image(9, 13, dtype=dtype)
    rot = T.RandomRotation((angle, angle), interpolation=BILINEAR, expand=True, fill=(1, 2, 3))
    out = rot(ember.tensor(chw))
    # expand: the four corners of the rotated image, ceil/floor after truncating to 1e-4
    corners = np.array([[-6.5, -4.5], [-6.5, 4.5], [6.5, 4.5], [6.5, -4.5]])
    minv = np.linalg.inv(_forward_map((0, 0), -angle, (0, 0), 1.0, (0, 0)))
    mapped = corners @ minv[:2, :2].T + [6.5, 4.5]
    hi = np.ceil(np.trunc(mapped.max(0) / 1e-4) * 1e-4)
    lo = np.floor(np.trunc(mapped.min(0) / 1e-4) * 1e-4)
    ow, oh = (hi - lo).astype(int)
    assert out.shape == (3, oh, ow) and oh > 9 and ow > 13
    ref = _torch_warp(torch, chw, minv, (oh, ow), "bilinear", [1.0, 2.0, 3.0])
    if dtype == np.uint8:  # rounded alike (no value here sits on a tie)
        np.testing.assert_array_equal(out.numpy(), ref)
    else:
        np.testing.assert_allclose(out.numpy(), ref, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("hw", [(5, 5), (6, 6), (5, 7), (7, 9)])
def test_quarter_turns_with_expand_are_rot90(hw):
    img = np.arange(hw[0] * hw[1] * 2, dtype=np.uint8).reshape(*hw, 2)
    for angle, k in ((90, 1), (-90, -1), (180, 2), (270, 3)):
        out = T.RandomRotation((angle, angle), expand=True)(img)
        np.testing.assert_array_equal(out, np.rot90(img, k))  # counter-clockwise
        out_t = T.RandomRotation((angle, angle), expand=True)(ember.tensor(img.transpose(2, 0, 1)))
        np.testing.assert_array_equal(out_t.numpy(), np.rot90(img, k).transpose(2, 0, 1))
    square = np.arange(36, dtype=np.float32).reshape(6, 6)
    np.testing.assert_array_equal(T.RandomRotation((90, 90))(square), np.rot90(square))


@pytest.mark.parametrize("mode", [NEAREST, BILINEAR], ids=lambda m: m.value)
def test_identity_affine_keeps_the_image(mode):
    img = np.random.default_rng(1).integers(0, 256, (7, 10, 3)).astype(np.uint8)
    np.testing.assert_array_equal(T.RandomAffine(0, interpolation=mode)(img), img)
    x = ember.tensor(_image(7, 10))
    out = T.RandomAffine(0, interpolation=mode)(x)
    np.testing.assert_allclose(out.numpy(), x.numpy(), rtol=0, atol=1e-6 if mode is BILINEAR else 0)


def test_fill_goes_where_nothing_maps_and_integer_translation_shifts():
    img = np.full((8, 8), 100, np.uint8)
    out = T.RandomRotation((45, 45), fill=7)(img)
    assert out[0, 0] == 7 and out[4, 4] == 100 and set(np.unique(out)) == {7, 100}
    rgb = np.full((8, 8, 3), 50, np.uint8)
    out = T.RandomRotation((45, 45), fill=(1, 2, 3))(rgb)
    np.testing.assert_array_equal(out[0, 0], [1, 2, 3])
    shift = T.RandomAffine(0)
    shift.get_params = lambda *args: (0.0, (2, -1), 1.0, (0.0, 0.0))
    grid = np.arange(48, dtype=np.uint8).reshape(6, 8)
    moved = shift(grid)  # right by 2, up by 1: out[y, x] = in[y + 1, x − 2]
    np.testing.assert_array_equal(moved[:5, 2:], grid[1:, :6])
    assert (moved[5] == 0).all() and (moved[:, :2] == 0).all()


def test_random_affine_draws_in_torchvisions_order():
    ember.manual_seed(21)
    u = [ember.default_generator.host_random() for _ in range(6)]
    ember.manual_seed(21)
    params = T.RandomAffine.get_params([-10.0, 20.0], [0.1, 0.2], [0.5, 1.5],
                                       [-5.0, 5.0, 0.0, 30.0], [40, 30])  # fmt: skip
    angle, (tx, ty), scale, (shx, shy) = params
    assert angle == pytest.approx(-10 + 30 * u[0])
    assert tx == round(-4.0 + 8.0 * u[1]) and ty == round(-6.0 + 12.0 * u[2])
    assert scale == pytest.approx(0.5 + u[3]) and shx == pytest.approx(-5 + 10 * u[4])
    assert shy == pytest.approx(30 * u[5])
    ember.manual_seed(21)
    assert T.RandomAffine.get_params([-10.0, 20.0], None, None, None, [40, 30]) == (
        pytest.approx(-10 + 30 * u[0]), (0, 0), 1.0, (0.0, 0.0),
    )  # fmt: skip
    ember.manual_seed(21)
    assert T.RandomRotation.get_params([0.0, 90.0]) == pytest.approx(90 * u[0])


def test_random_rotation_and_affine_are_seeded_and_kind_blind():
    hwc = np.random.default_rng(2).integers(0, 256, (12, 15, 3)).astype(np.uint8)
    tf = T.RandomAffine(25, translate=(0.2, 0.1), scale=(0.7, 1.2), shear=10,
                        interpolation=BILINEAR)  # fmt: skip
    ember.manual_seed(4)
    outs = [tf(hwc) for _ in range(8)]
    ember.manual_seed(4)
    for a in outs:
        b = tf(ember.tensor(hwc.transpose(2, 0, 1).copy())).numpy().transpose(1, 2, 0)
        np.testing.assert_array_equal(a, b)
    assert len({a.tobytes() for a in outs}) == 8
    angles = [T.RandomRotation((-5, 40)).get_params([-5.0, 40.0]) for _ in range(2000)]
    assert min(angles) >= -5 and max(angles) < 40 and abs(np.mean(angles) - 17.5) < 1.0


def test_rotation_and_affine_errors_are_torchvisions():
    with pytest.raises(ValueError, match="If degrees is a single number, it must be positive"):
        T.RandomRotation(-3)
    with pytest.raises(ValueError, match="degrees should be a sequence of length 2"):
        T.RandomRotation((1, 2, 3))
    with pytest.raises(TypeError, match="center should be a sequence of length 2"):
        T.RandomRotation(3, center=4)
    with pytest.raises(TypeError, match="Fill should be either a sequence or a number"):
        T.RandomRotation(3, fill=object())
    with pytest.raises(ValueError, match="translation values should be between 0 and 1"):
        T.RandomAffine(0, translate=(0.1, 1.5))
    with pytest.raises(ValueError, match="scale values should be positive"):
        T.RandomAffine(0, scale=(0.0, 1.0))
    with pytest.raises(ValueError, match="shear should be a sequence of length 2 or 4"):
        T.RandomAffine(0, shear=(1, 2, 3))
    with pytest.raises(ValueError, match=r"'fill' cannot broadcast to match the number of chan"):
        T.RandomRotation(3, fill=(1, 2))(np.zeros((4, 4, 3), np.uint8))
    with pytest.raises(ValueError, match="Interpolation mode 'bicubic' is unsupported with Tensor"):
        T.RandomRotation(3, interpolation=T.InterpolationMode.BICUBIC)(np.zeros((4, 4)))
    assert T.RandomAffine(3, shear=4).shear == [-4.0, 4.0]
    assert (
        repr(T.RandomAffine(3, scale=(1, 2))) == "RandomAffine(degrees=[-3.0, 3.0], scale=(1, 2))"
    )
    assert repr(T.RandomRotation(3)) == (
        "RandomRotation(degrees=[-3.0, 3.0], interpolation=nearest, expand=False, fill=0)"
    )
