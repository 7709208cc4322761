"""ColorJitter, Grayscale and RandomGrayscale, torchvision's tensor formulas.

    gray(x)              = 0.2989·R + 0.587·G + 0.114·B       (ITU-R 601-2 luma; cast to x's
                                                                dtype, so truncated for uint8)
    blend(x, y, f)       = clamp(f·x + (1 − f)·y, 0, max)      (max 255 for uint8, 1 for
                                                                floats; cast back, truncating)
    brightness(x, f)     = blend(x, 0, f)
    contrast(x, f)       = blend(x, mean(gray(x)), f)          (the mean over C, H, W)
    saturation(x, f)     = blend(x, gray(x), f)                (a 1-channel image: unchanged)
    hue(x, f)            = rgb(h + f mod 1, s, v) of hsv(x)    (in float32: uint8 / 255 in,
                                                                ·(256 − 1e-3) truncated out)

hsv is Pillow's: v = max, s = (max − min)/max, h from whichever channel is the max. The
factors of ColorJitter are drawn, as torchvision's get_params, after a permutation of the four
(the order they are applied in): brightness, contrast, saturation, hue, each only when on.
An array image is worked as its (1, C, H, W) tensor and handed back as an array.
"""

from __future__ import annotations

import numbers

from ..backend import default_generator, xp
from ..tensor import Tensor
from .transforms_common import _channels_of, _is_float, _max_value, _rand, _to_nchw, _uniform


def _assert_channels(x, permitted: list[int]) -> None:
    if x.shape[1] not in permitted:
        raise TypeError(
            f"Input image tensor permitted channel values are {permitted}, but found {x.shape[1]}"
        )


def _work(x):
    """x in the dtype its arithmetic happens in: its own if float, else float32 (torch's
    promotion of an integer tensor times a Python float)."""
    return x if _is_float(x.dtype) else x.astype(xp.float32)


def _rgb_to_grayscale(x, num_output_channels: int = 1):
    """gray(x) of x (N, 1 or 3, H, W) in x's dtype; 1 or 3 equal channels."""
    if num_output_channels not in (1, 3):
        raise ValueError("num_output_channels should be either 1 or 3")
    _assert_channels(x, [1, 3])
    if x.shape[1] == 3:
        r, g, b = (_work(x[:, k]) for k in range(3))
        gray = (0.2989 * r + 0.587 * g + 0.114 * b).astype(x.dtype)[:, None]
    else:
        gray = x.copy()
    if num_output_channels == 3:
        return xp.ascontiguousarray(xp.broadcast_to(gray, (gray.shape[0], 3) + gray.shape[2:]))
    return gray


def _blend(x1, x2, ratio: float):
    ratio = float(ratio)
    y = ratio * _work(x1) + (1.0 - ratio) * _work(x2)
    return y.clip(0, _max_value(x1.dtype)).astype(x1.dtype)


def _adjust_brightness(x, factor: float):
    _assert_channels(x, [1, 3])
    return _blend(x, xp.zeros_like(x), factor)


def _adjust_contrast(x, factor: float):
    _assert_channels(x, [3, 1])
    dtype = x.dtype if _is_float(x.dtype) else xp.float32
    gray = _rgb_to_grayscale(x) if x.shape[1] == 3 else x
    mean = gray.astype(dtype).mean(axis=(-3, -2, -1), keepdims=True)
    return _blend(x, mean, factor)


def _adjust_saturation(x, factor: float):
    _assert_channels(x, [1, 3])
    if x.shape[1] == 1:  # as Pillow: a gray image has no saturation to change
        return x
    return _blend(x, _rgb_to_grayscale(x), factor)


def _rgb2hsv(x):
    r, g, b = x[:, 0], x[:, 1], x[:, 2]
    maxc, minc = x.max(axis=1), x.min(axis=1)
    # where max = min, s and h would divide by zero: the divisors become 1 there, and the
    # masks below give h = 0 (torchvision's way, which never makes a NaN)
    eqc = maxc == minc
    cr = maxc - minc
    ones = xp.ones_like(maxc)
    s = cr / xp.where(eqc, ones, maxc)
    cr_divisor = xp.where(eqc, ones, cr)
    rc, gc, bc = (maxc - r) / cr_divisor, (maxc - g) / cr_divisor, (maxc - b) / cr_divisor
    hr = (maxc == r) * (bc - gc)
    hg = ((maxc == g) & (maxc != r)) * (2.0 + rc - bc)
    hb = ((maxc != g) & (maxc != r)) * (4.0 + gc - rc)
    h = xp.fmod((hr + hg + hb) / 6.0 + 1.0, 1.0)
    return h, s, maxc


def _hsv2rgb(h, s, v):
    i = xp.floor(h * 6.0)
    f = h * 6.0 - i
    i = i.astype(xp.int32) % 6
    p = xp.clip(v * (1.0 - s), 0.0, 1.0)
    q = xp.clip(v * (1.0 - s * f), 0.0, 1.0)
    t = xp.clip(v * (1.0 - s * (1.0 - f)), 0.0, 1.0)
    # the six sectors of the hue circle: (r, g, b) per sector, picked by i
    table = xp.stack(
        [
            xp.stack([v, q, p, p, t, v]),
            xp.stack([t, v, v, q, p, p]),
            xp.stack([p, p, t, v, v, q]),
        ]
    )  # (3, 6, N, H, W): (r, g, b) × sector
    index = xp.broadcast_to(i[None, None], (3, 1) + i.shape)
    return xp.take_along_axis(table, index, axis=1)[:, 0].transpose(1, 0, 2, 3)


def _adjust_hue(x, factor: float):
    _assert_channels(x, [1, 3])
    if x.shape[1] == 1:  # as Pillow
        return x
    dtype = x.dtype
    y = x.astype(xp.float32)
    if not _is_float(dtype):
        y = y / xp.float32(_max_value(dtype))
    h, s, v = _rgb2hsv(y)
    out = _hsv2rgb((h + factor) % 1.0, s, v)
    if _is_float(dtype):
        return out.astype(dtype)
    # torchvision's convert_image_dtype to an integer type: ·(max + 1 − 1e-3), truncated
    return (out * xp.float32(_max_value(dtype) + 1.0 - 1e-3)).astype(dtype)


class ColorJitter:
    """Random brightness, contrast, saturation and hue: a number b gives a factor
    ~ U(max(0, 1 − b), 1 + b) (hue: U(−h, h), h ≤ 0.5), a pair (min, max) U(min, max); the
    four applied in a random order."""

    def __init__(self, brightness=0, contrast=0, saturation=0, hue=0) -> None:
        self.brightness = self._check_input(brightness, "brightness")
        self.contrast = self._check_input(contrast, "contrast")
        self.saturation = self._check_input(saturation, "saturation")
        self.hue = self._check_input(
            hue, "hue", center=0, bound=(-0.5, 0.5), clip_first_on_zero=False
        )

    @staticmethod
    def _check_input(value, name, center=1, bound=(0, float("inf")), clip_first_on_zero=True):
        if isinstance(value, numbers.Number):
            if value < 0:
                raise ValueError(f"If {name} is a single number, it must be non negative.")
            value = [center - float(value), center + float(value)]
            if clip_first_on_zero:
                value[0] = max(value[0], 0.0)
        elif isinstance(value, (tuple, list)) and len(value) == 2:
            value = [float(value[0]), float(value[1])]
        else:
            raise TypeError(f"{name} should be a single number or a list/tuple with length 2.")
        if not bound[0] <= value[0] <= value[1] <= bound[1]:
            raise ValueError(f"{name} values should be between {bound}, but got {value}.")
        # 0 (or (1, 1); hue (0, 0)) switches the adjustment off
        return None if value[0] == value[1] == center else tuple(value)

    @staticmethod
    def get_params(brightness, contrast, saturation, hue):
        """(order, b, c, s, h): a permutation of 0 … 3, then a factor for each range given."""
        fn_idx = [int(k) for k in default_generator.permutation(4)]
        b = None if brightness is None else _uniform(brightness[0], brightness[1])
        c = None if contrast is None else _uniform(contrast[0], contrast[1])
        s = None if saturation is None else _uniform(saturation[0], saturation[1])
        h = None if hue is None else _uniform(hue[0], hue[1])
        return fn_idx, b, c, s, h

    def __call__(self, img):
        order, *factors = self.get_params(self.brightness, self.contrast, self.saturation, self.hue)
        adjust = (_adjust_brightness, _adjust_contrast, _adjust_saturation, _adjust_hue)
        x, back = _to_nchw(img)
        for k in order:
            if factors[k] is not None:
                x = adjust[k](x, factors[k])
        return back(x)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(brightness={self.brightness}, contrast={self.contrast},"
            f" saturation={self.saturation}, hue={self.hue})"
        )


def _grayscale(img, num_output_channels: int):
    if isinstance(img, Tensor) and img.ndim < 3:
        raise TypeError(
            f"Input image tensor should have at least 3 dimensions, but found {img.ndim}"
        )
    x, back = _to_nchw(img)
    return back(_rgb_to_grayscale(x, num_output_channels))


class Grayscale:
    """The luma 0.2989·R + 0.587·G + 0.114·B as 1 channel, or 3 equal ones."""

    def __init__(self, num_output_channels: int = 1) -> None:
        self.num_output_channels = num_output_channels

    def __call__(self, img):
        return _grayscale(img, self.num_output_channels)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(num_output_channels={self.num_output_channels})"


class RandomGrayscale:
    """With probability p, the luma in as many channels as the image has."""

    def __init__(self, p: float = 0.1) -> None:
        self.p = p

    def __call__(self, img):
        channels = _channels_of(img)
        if _rand() < self.p:
            return _grayscale(img, channels)
        return img

    def __repr__(self) -> str:
        return f"{type(self).__name__}(p={self.p})"
