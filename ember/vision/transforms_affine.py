"""RandomRotation and RandomAffine, torchvision's tensor path on ember's F.grid_sample.

The forward map about the centre c, with translation t, rotation a, scale s and shears
(sx, sy), is M = T(t) · C(c) · R(a) · S(s) · SHy(sy) · SHx(sx) · C(c)⁻¹, whose rotation-shear
part (scale aside) is

    [a b]   [cos(a − sy)/cos(sy)   −cos(a − sy)·tan(sx)/cos(sy) − sin(a)]
    [c d] = [sin(a − sy)/cos(sy)   −sin(a − sy)·tan(sx)/cos(sy) + cos(a)]

(determinant 1). Sampling needs the inverse, M⁻¹ = C · RSS⁻¹ · C⁻¹ · T⁻¹ with
RSS⁻¹ = [d −b; −c a] / s (torchvision's _get_inverse_affine_matrix). Coordinates are pixel
units about the image centre (centre defaults to (0, 0) there; ``center`` (x, y) from the
top-left corner becomes (x − W/2, y − H/2)). For output pixel (i, j) of an (H', W') output,
p = (j + ½ − W'/2, i + ½ − H'/2, 1); it reads the input at M⁻¹·p / (W/2, H/2) in
grid_sample's [−1, 1] coordinates (align_corners=False, zeros outside). ``fill`` rides along as
an extra channel of ones: after sampling, where that mask m is below ½ (nearest) the pixel is
the fill, and with bilinear it is x·m + fill·(1 − m). rotate(θ) is affine with angle −θ
(counter-clockwise); ``expand`` grows the output to hold the rotated corners (ceil/floor
at 1e-4 precision, as torchvision). Integer images are sampled in float32 and rounded back.
"""

from __future__ import annotations

import math
import numbers

import numpy

from .. import functional as F
from ..backend import xp
from ..tensor import Tensor
from .transforms_common import (
    InterpolationMode,
    _cast_in,
    _cast_out,
    _channels_of,
    _check_fill,
    _check_sequence_input,
    _interpolation,
    _is_float,
    _setup_angle,
    _size_of,
    _to_nchw,
    _uniform,
)


def _inverse_affine_matrix(center, angle, translate, scale, shear) -> list[float]:
    """M⁻¹ as the six numbers [m00, m01, m02, m10, m11, m12] (degrees in, pixels)."""
    rot, sx, sy = math.radians(angle), math.radians(shear[0]), math.radians(shear[1])
    cx, cy = center
    tx, ty = translate
    a = math.cos(rot - sy) / math.cos(sy)
    b = -math.cos(rot - sy) * math.tan(sx) / math.cos(sy) - math.sin(rot)
    c = math.sin(rot - sy) / math.cos(sy)
    d = -math.sin(rot - sy) * math.tan(sx) / math.cos(sy) + math.cos(rot)
    m = [v / scale for v in (d, -b, 0.0, -c, a, 0.0)]
    m[2] += m[0] * (-cx - tx) + m[1] * (-cy - ty) + cx
    m[5] += m[3] * (-cx - tx) + m[4] * (-cy - ty) + cy
    return m


def _affine_output_size(matrix, w: int, h: int) -> tuple[int, int]:
    """(W', H') holding the four corners mapped by ``matrix``, in float32 as torchvision."""
    f32 = numpy.float32
    pts = numpy.array(
        [
            [-0.5 * w, -0.5 * h, 1.0],
            [-0.5 * w, 0.5 * h, 1.0],
            [0.5 * w, 0.5 * h, 1.0],
            [0.5 * w, -0.5 * h, 1.0],
        ],
        dtype=f32,
    )
    new_pts = pts @ numpy.array(matrix, dtype=f32).reshape(2, 3).T
    half = numpy.array([w * 0.5, h * 0.5], dtype=f32)
    lo, hi = new_pts.min(axis=0) + half, new_pts.max(axis=0) + half
    tol = f32(1e-4)  # truncated first, so that 1e-15 above an integer does not ceil up
    size = numpy.ceil(numpy.trunc(hi / tol) * tol) - numpy.floor(numpy.trunc(lo / tol) * tol)
    return int(size[0]), int(size[1])


def _affine_grid(matrix, w: int, h: int, ow: int, oh: int, dtype):
    """torchvision's _gen_affine_grid: (1, oh, ow, 2), M⁻¹·p rescaled by (w/2, h/2)."""
    theta = xp.asarray(matrix, dtype=dtype).reshape(2, 3)
    # the pixel-centre coordinates are made in float32, as torch.linspace's default dtype
    xs = xp.linspace(-ow * 0.5 + 0.5, ow * 0.5 - 0.5, ow, dtype=xp.float32).astype(dtype)
    ys = xp.linspace(-oh * 0.5 + 0.5, oh * 0.5 - 0.5, oh, dtype=xp.float32).astype(dtype)
    base = xp.empty((oh, ow, 3), dtype=dtype)
    base[..., 0], base[..., 1], base[..., 2] = xs[None, :], ys[:, None], 1
    rescaled = theta.T / xp.asarray([0.5 * w, 0.5 * h], dtype=dtype)
    return (base.reshape(-1, 3) @ rescaled).reshape(1, oh, ow, 2)


def _apply_grid(x, grid, mode: str, fill):
    """Sample x (N, C, H, W) at ``grid`` with zeros outside, then put ``fill`` there."""
    work = _cast_in(x, (grid.dtype,))
    n = work.shape[0]
    if fill is not None:  # the mask channel: 1 inside, sampled alongside the image
        ones = xp.ones((n, 1) + tuple(work.shape[2:]), dtype=work.dtype)
        work = xp.concatenate([work, ones], axis=1)
    grid = xp.broadcast_to(grid, (n,) + tuple(grid.shape[1:]))
    y = F.grid_sample(
        Tensor(work),
        Tensor(xp.ascontiguousarray(grid)),
        mode=mode,
        padding_mode="zeros",
        align_corners=False,
    ).array
    if fill is not None:
        mask, y = y[:, -1:], y[:, :-1]
        fill_img = xp.asarray(fill, dtype=y.dtype).reshape(1, -1, 1, 1)
        if mode == "nearest":
            y = xp.where(mask < 0.5, fill_img, y)
        else:
            y = y * mask + (1.0 - mask) * fill_img
    return _cast_out(y, x.dtype)


def _grid_transform(img, matrix, interpolation: InterpolationMode, fill, expand=False):
    """Warp ``img`` by the inverse map ``matrix`` (torchvision's F_t.affine / F_t.rotate)."""
    mode = interpolation.value
    channels = _channels_of(img)
    if isinstance(fill, (list, tuple)) and len(fill) > 1 and len(fill) != channels:
        raise ValueError(
            "The number of elements in 'fill' cannot broadcast to match the number of channels"
            f" of the image ({len(fill)} != {channels})"
        )
    if mode not in ("nearest", "bilinear"):
        raise ValueError(f"Interpolation mode '{mode}' is unsupported with Tensor input")
    h, w = _size_of(img)
    ow, oh = _affine_output_size(matrix, w, h) if expand else (w, h)
    x, back = _to_nchw(img)
    dtype = x.dtype if _is_float(x.dtype) else xp.float32
    grid = _affine_grid(matrix, w, h, ow, oh, dtype)
    return back(_apply_grid(x, grid, mode, fill))


def _fill_list(fill, channels: int) -> list[float]:
    """The fill as one float per band, as torchvision's transforms hand it to F."""
    if isinstance(fill, numbers.Number):
        return [float(fill)] * channels
    return [float(f) for f in fill]


def _center_offset(img, center) -> list[float]:
    """``center`` (x, y) from the top-left corner as coordinates about the image centre."""
    if center is None:
        return [0.0, 0.0]
    h, w = _size_of(img)
    return [float(center[0]) - w * 0.5, float(center[1]) - h * 0.5]


class RandomRotation:
    """Rotate by an angle θ ~ U(degrees) (a number d: U(−d, d)), counter-clockwise about
    ``center`` (default the image centre); ``expand`` grows the output to hold it all."""

    def __init__(
        self, degrees, interpolation=InterpolationMode.NEAREST, expand=False, center=None, fill=0
    ) -> None:
        self.interpolation = _interpolation(interpolation)
        self.degrees = _setup_angle(degrees, name="degrees", req_sizes=(2,))
        if center is not None:
            _check_sequence_input(center, "center", req_sizes=(2,))
        self.center, self.expand = center, expand
        self.fill = _check_fill(fill)

    @staticmethod
    def get_params(degrees) -> float:
        """The angle: one U(degrees[0], degrees[1]) draw."""
        return _uniform(degrees[0], degrees[1])

    def __call__(self, img):
        fill = _fill_list(self.fill, _channels_of(img))
        angle = self.get_params(self.degrees)
        matrix = _inverse_affine_matrix(
            _center_offset(img, self.center), -angle, [0.0, 0.0], 1.0, [0.0, 0.0]
        )
        return _grid_transform(img, matrix, self.interpolation, fill, expand=self.expand)

    def __repr__(self) -> str:
        s = f"{type(self).__name__}(degrees={self.degrees}"
        s += f", interpolation={self.interpolation.value}, expand={self.expand}"
        s += f", center={self.center}" if self.center is not None else ""
        return s + f", fill={self.fill})"


class RandomAffine:
    """Rotation θ ~ U(degrees), translation (tx, ty) = (round(U(±a·W)), round(U(±b·H))) for
    translate=(a, b), scale ~ U(scale), shear x ~ U(shear[0:2]) (and y ~ U(shear[2:4]));
    each drawn only when asked for, in that order, about ``center`` (default the centre)."""

    def __init__(
        self,
        degrees,
        translate=None,
        scale=None,
        shear=None,
        interpolation=InterpolationMode.NEAREST,
        fill=0,
        center=None,
    ) -> None:
        self.interpolation = _interpolation(interpolation)
        self.degrees = _setup_angle(degrees, name="degrees", req_sizes=(2,))
        if translate is not None:
            _check_sequence_input(translate, "translate", req_sizes=(2,))
            if any(not (0.0 <= t <= 1.0) for t in translate):
                raise ValueError("translation values should be between 0 and 1")
        if scale is not None:
            _check_sequence_input(scale, "scale", req_sizes=(2,))
            if any(s <= 0 for s in scale):
                raise ValueError("scale values should be positive")
        self.translate, self.scale = translate, scale
        self.shear = None if shear is None else _setup_angle(shear, "shear", req_sizes=(2, 4))
        self.fill = _check_fill(fill)
        if center is not None:
            _check_sequence_input(center, "center", req_sizes=(2,))
        self.center = center

    @staticmethod
    def get_params(degrees, translate, scale_ranges, shears, img_size):
        """(angle, (tx, ty), scale, (shear_x, shear_y)); ``img_size`` is (W, H)."""
        angle = _uniform(degrees[0], degrees[1])
        if translate is not None:
            max_dx, max_dy = float(translate[0] * img_size[0]), float(translate[1] * img_size[1])
            tx = int(round(_uniform(-max_dx, max_dx)))
            ty = int(round(_uniform(-max_dy, max_dy)))
            translations = (tx, ty)
        else:
            translations = (0, 0)
        scale = 1.0 if scale_ranges is None else _uniform(scale_ranges[0], scale_ranges[1])
        shear_x = shear_y = 0.0
        if shears is not None:
            shear_x = _uniform(shears[0], shears[1])
            if len(shears) == 4:
                shear_y = _uniform(shears[2], shears[3])
        return angle, translations, scale, (shear_x, shear_y)

    def __call__(self, img):
        fill = _fill_list(self.fill, _channels_of(img))
        h, w = _size_of(img)
        angle, translate, scale, shear = self.get_params(
            self.degrees, self.translate, self.scale, self.shear, [w, h]
        )
        matrix = _inverse_affine_matrix(
            _center_offset(img, self.center), angle, [float(t) for t in translate], scale, shear
        )
        return _grid_transform(img, matrix, self.interpolation, fill)

    def __repr__(self) -> str:
        s = f"{type(self).__name__}(degrees={self.degrees}"
        s += f", translate={self.translate}" if self.translate is not None else ""
        s += f", scale={self.scale}" if self.scale is not None else ""
        s += f", shear={self.shear}" if self.shear is not None else ""
        if self.interpolation != InterpolationMode.NEAREST:
            s += f", interpolation={self.interpolation.value}"
        s += f", fill={self.fill}" if self.fill != 0 else ""
        s += f", center={self.center}" if self.center is not None else ""
        return s + ")"
