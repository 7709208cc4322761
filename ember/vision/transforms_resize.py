"""Resize and RandomResizedCrop, torchvision's, on ember's F.interpolate.

    int size s:   the smaller edge becomes s, the longer ⌊s · long / short⌋; with max_size m
                  (m > s) a longer edge over m becomes m and the shorter ⌊m · short' / long'⌋
    (h, w):       exactly (h, w)

The pixels are torchvision's tensor path, which is torch's F.interpolate on an (N, C, H, W)
view with align_corners=False for bilinear/bicubic (None for the nearest modes) and
antialias only for bilinear/bicubic. Integer images are resized in float32, bicubic clamped to
[0, 255] for uint8, then rounded (half to even) back to their dtype; float32/float64 stay as
they are. An array image takes the same path (H, W, C) → (1, C, H, W) and comes back as an
array of its dtype and layout (Pillow, which torchvision uses for its PIL images, always
antialiases; here ``antialias`` means the same for both kinds).

RandomResizedCrop draws, as torchvision's get_params: up to 10 times a scale s ~ U(scale)
and a log-ratio ℓ ~ U(log ratio) (r = e^ℓ), w = round(√(s·A·r)), h = round(√(s·A/r)); the
first that fits draws its top, then its left; when none fits, the central crop with the ratio
clamped into range.
"""

from __future__ import annotations

import math
import numbers
import warnings
from collections.abc import Sequence

from .. import functional as F
from ..tensor import Tensor
from .transforms_common import (
    InterpolationMode,
    _cast_in,
    _cast_out,
    _crop,
    _interpolation,
    _randint,
    _setup_size,
    _size_of,
    _to_nchw,
    _uniform,
)


def _resized_output_size(h: int, w: int, size: list, max_size) -> tuple[int, int]:
    """torchvision's _compute_resized_output_size: (new_h, new_w)."""
    if len(size) == 2:
        return int(size[0]), int(size[1])
    short, long = (w, h) if w <= h else (h, w)
    requested = int(size[0])
    new_short, new_long = requested, int(requested * long / short)
    if max_size is not None:
        if max_size <= requested:
            raise ValueError(
                f"max_size = {max_size} must be strictly greater than the requested size for the"
                f" smaller edge size = {size}"
            )
        if new_long > max_size:
            new_short, new_long = int(max_size * new_short / new_long), max_size
    new_w, new_h = (new_short, new_long) if w <= h else (new_long, new_short)
    return new_h, new_w


def _resize_nchw(x, size: tuple[int, int], mode: str, antialias):
    """x (N, C, H, W) resized to ``size`` as torchvision's _functional_tensor.resize."""
    antialias = bool(antialias) and mode in ("bilinear", "bicubic")
    work = _cast_in(x, ("float32", "float64"))
    align_corners = False if mode in ("bilinear", "bicubic") else None
    y = F.interpolate(
        Tensor(work), size=size, mode=mode, align_corners=align_corners, antialias=antialias
    ).array
    if mode == "bicubic" and x.dtype == "uint8":
        y = y.clip(0, 255)  # bicubic overshoots; torchvision clamps before rounding
    return _cast_out(y, x.dtype)


def _resize(img, size, interpolation: InterpolationMode, max_size=None, antialias=True):
    """torchvision's F.resize on either image kind (the image itself when the size is kept)."""
    if isinstance(size, (list, tuple)):
        if len(size) not in (1, 2):
            raise ValueError(
                "Size must be an int or a 1 or 2 element tuple/list, not a"
                f" {len(size)} element tuple/list"
            )
        if max_size is not None and len(size) != 1:
            raise ValueError(
                "max_size should only be passed if size specifies the length of the smaller"
                " edge, i.e. size should be an int or a sequence of length 1 in torchscript mode."
            )
    h, w = _size_of(img)
    size = [int(size)] if isinstance(size, numbers.Integral) else list(size)
    out = _resized_output_size(h, w, size, max_size)
    if (h, w) == out:
        return img
    x, back = _to_nchw(img)
    return back(_resize_nchw(x, out, interpolation.value, antialias))


class Resize:
    """Resize the image: an int ``size`` sets the smaller edge (aspect kept, the longer edge
    ⌊size · long / short⌋, capped at ``max_size``), a sequence (h, w) sets both; pixels by
    torch's F.interpolate in ``interpolation``'s mode, ``antialias`` for bilinear/bicubic."""

    def __init__(
        self, size, interpolation=InterpolationMode.BILINEAR, max_size=None, antialias=True
    ) -> None:
        if not isinstance(size, (numbers.Integral, Sequence)):
            raise TypeError(f"Size should be int or sequence. Got {type(size)}")
        if isinstance(size, Sequence) and len(size) not in (1, 2):
            raise ValueError("If size is a sequence, it should have 1 or 2 values")
        self.size, self.max_size = size, max_size
        self.interpolation = _interpolation(interpolation)
        self.antialias = antialias

    def __call__(self, img):
        return _resize(img, self.size, self.interpolation, self.max_size, self.antialias)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(size={self.size}, interpolation={self.interpolation.value},"
            f" max_size={self.max_size}, antialias={self.antialias})"
        )


class RandomResizedCrop:
    """A random crop of area s·A (s ~ U(scale)) and aspect ratio w/h = r (log r ~ U(log
    ratio)), resized to ``size`` (an int: square)."""

    def __init__(
        self,
        size,
        scale=(0.08, 1.0),
        ratio=(3.0 / 4.0, 4.0 / 3.0),
        interpolation=InterpolationMode.BILINEAR,
        antialias=True,
    ) -> None:
        self.size = _setup_size(size, "Please provide only two dimensions (h, w) for size.")
        if not isinstance(scale, Sequence):
            raise TypeError("Scale should be a sequence")
        if not isinstance(ratio, Sequence):
            raise TypeError("Ratio should be a sequence")
        if scale[0] > scale[1] or ratio[0] > ratio[1]:
            warnings.warn("Scale and ratio should be of kind (min, max)", stacklevel=2)
        self.interpolation = _interpolation(interpolation)
        self.antialias = antialias
        self.scale, self.ratio = scale, ratio

    @staticmethod
    def get_params(img, scale, ratio) -> tuple[int, int, int, int]:
        """(top, left, height, width) of the crop, drawn as torchvision draws them."""
        height, width = _size_of(img)
        area = height * width
        log_ratio = (math.log(ratio[0]), math.log(ratio[1]))
        for _ in range(10):
            target_area = area * _uniform(scale[0], scale[1])
            aspect_ratio = math.exp(_uniform(log_ratio[0], log_ratio[1]))
            w = int(round(math.sqrt(target_area * aspect_ratio)))
            h = int(round(math.sqrt(target_area / aspect_ratio)))
            if 0 < w <= width and 0 < h <= height:
                i = _randint(0, height - h + 1)
                j = _randint(0, width - w + 1)
                return i, j, h, w
        # none fitted: the central crop, its ratio clamped into [min(ratio), max(ratio)]
        in_ratio = float(width) / float(height)
        if in_ratio < min(ratio):
            w, h = width, int(round(width / min(ratio)))
        elif in_ratio > max(ratio):
            h, w = height, int(round(height * max(ratio)))
        else:
            h, w = height, width
        return (height - h) // 2, (width - w) // 2, h, w

    def __call__(self, img):
        i, j, h, w = self.get_params(img, self.scale, self.ratio)
        return _resize(
            _crop(img, i, j, h, w), list(self.size), self.interpolation, antialias=self.antialias
        )

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(size={self.size},"
            f" scale={tuple(round(s, 4) for s in self.scale)},"
            f" ratio={tuple(round(r, 4) for r in self.ratio)},"
            f" interpolation={self.interpolation.value}, antialias={self.antialias})"
        )
