"""Image transforms with torchvision's names and arguments, for datasets' ``transform=``.

An image is what a dataset hands out before ``ToTensor``: a NumPy array of shape (H, W) or
(H, W, C), uint8 in [0, 255] or float (torchvision's PIL image stands here as its array), or,
after ``ToTensor``, a Tensor of shape (..., C, H, W). Every transform but ToTensor, Normalize
and RandomErasing (Tensor images only) takes either and gives back the same kind::

    from ember.vision import datasets, transforms
    train = datasets.MNIST(root, train=True, transform=transforms.Compose([
        transforms.RandomCrop(28, padding=2),
        transforms.ToTensor(),                         # (1, 28, 28) float32 in [0, 1]
        transforms.Normalize((0.1307,), (0.3081,)),    # (x − mean) / std per channel
    ]))

The families, each with its equations in its own file:

    here                  Compose, ToTensor, Normalize, Lambda, flips, Pad, CenterCrop,
                          RandomCrop
    transforms_resize     Resize, RandomResizedCrop (F.interpolate), InterpolationMode
    transforms_affine     RandomRotation, RandomAffine (inverse affine map, F.grid_sample)
    transforms_color      ColorJitter, Grayscale, RandomGrayscale
    transforms_misc       RandomErasing, GaussianBlur, RandomApply, RandomChoice, RandomOrder

Pixels follow torchvision's tensor path, also for array images (worked as their (1, C, H, W)
tensor and handed back as arrays of their dtype and layout): Pillow's own filters, which
torchvision uses for PIL images, are not imitated.

Random transforms draw from ember's default generator (``ember.manual_seed`` fixes them; a
DataLoader worker draws from its own stream), in torchvision's order, one draw where it takes
one: a flip compares one U[0, 1) draw with p, a crop draws its top, then its left offset, and
the others as their files say. The numbers are ember's stream (PCG64), not torch's.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Sequence

import numpy

from .. import backend
from ..backend import default_generator, to_numpy, xp
from ..tensor import Tensor
from .transforms_affine import RandomAffine, RandomRotation
from .transforms_color import ColorJitter, Grayscale, RandomGrayscale
from .transforms_common import InterpolationMode, _crop, _hw_axes, _size_of
from .transforms_misc import (
    GaussianBlur,
    RandomApply,
    RandomChoice,
    RandomErasing,
    RandomOrder,
)
from .transforms_resize import RandomResizedCrop, Resize

__all__ = [
    "CenterCrop",
    "ColorJitter",
    "Compose",
    "GaussianBlur",
    "Grayscale",
    "InterpolationMode",
    "Lambda",
    "Normalize",
    "Pad",
    "RandomAffine",
    "RandomApply",
    "RandomChoice",
    "RandomCrop",
    "RandomErasing",
    "RandomGrayscale",
    "RandomHorizontalFlip",
    "RandomOrder",
    "RandomResizedCrop",
    "RandomRotation",
    "RandomVerticalFlip",
    "Resize",
    "ToTensor",
]


def _pair(size, name: str) -> tuple[int, int]:
    """torchvision's size argument: an int (square) or a sequence (h, w)."""
    if isinstance(size, numbers.Integral):
        return int(size), int(size)
    if isinstance(size, Sequence) and len(size) in (1, 2):
        return (int(size[0]), int(size[0])) if len(size) == 1 else (int(size[0]), int(size[1]))
    raise ValueError(f"{name}: size must be an int or a sequence of 1 or 2 ints, got {size!r}")


def _padding4(padding, name: str) -> tuple[int, int, int, int]:
    """(left, top, right, bottom) from torchvision's int, (lr, tb) or (l, t, r, b)."""
    if isinstance(padding, numbers.Integral):
        p = int(padding)
        return p, p, p, p
    if isinstance(padding, Sequence) and len(padding) in (1, 2, 4):
        p = [int(v) for v in padding]
        if len(p) == 1:
            return p[0], p[0], p[0], p[0]
        if len(p) == 2:
            return p[0], p[1], p[0], p[1]
        return p[0], p[1], p[2], p[3]
    raise ValueError(
        f"{name}: padding must be an int or a sequence of 1, 2 or 4 ints, got {padding!r}"
    )


#: torchvision's padding modes, which are also numpy.pad's names for them
_PAD_MODES = ("constant", "edge", "reflect", "symmetric")


def _check_padding_mode(mode: str, name: str) -> None:
    if mode not in _PAD_MODES:
        raise ValueError(f"{name}: padding_mode must be one of {list(_PAD_MODES)}, got {mode!r}")


def _pad(img, padding, fill=0, padding_mode: str = "constant"):
    left, top, right, bottom = _padding4(padding, "Pad")
    h_axis, w_axis = _hw_axes(img)
    widths = [(0, 0)] * img.ndim
    widths[h_axis], widths[w_axis] = (top, bottom), (left, right)
    kwargs = {"constant_values": fill} if padding_mode == "constant" else {}
    if isinstance(img, Tensor):
        return Tensor(xp.pad(img.array, widths, mode=padding_mode, **kwargs))
    return numpy.pad(img, widths, mode=padding_mode, **kwargs)


def _flip(img, axis: int):
    if isinstance(img, Tensor):
        return img.flip(axis)
    return numpy.ascontiguousarray(numpy.flip(img, axis))


class Compose:
    """Apply ``transforms`` one after the other."""

    def __init__(self, transforms: Sequence[Callable]) -> None:
        self.transforms = list(transforms)

    def __call__(self, img):
        for t in self.transforms:
            img = t(img)
        return img

    def __repr__(self) -> str:
        body = "".join(f"\n    {t}" for t in self.transforms)
        return f"{type(self).__name__}({body}\n)"


class ToTensor:
    """An image array (H, W) or (H, W, C) as a Tensor (C, H, W): uint8 as the default float
    dtype scaled from [0, 255] to [0, 1], any other dtype kept as it is (torchvision's)."""

    def __call__(self, pic) -> Tensor:
        if isinstance(pic, Tensor):
            raise TypeError("ToTensor: the image is a Tensor already (ToTensor takes an array)")
        if not isinstance(pic, numpy.ndarray) or pic.ndim not in (2, 3):
            shape = getattr(pic, "shape", None)
            raise TypeError(
                "ToTensor: expected a NumPy image of shape (H, W) or (H, W, C), got"
                f" {type(pic).__name__}" + (f" of shape {shape}" if shape is not None else "")
            )
        chw = numpy.ascontiguousarray(pic[None] if pic.ndim == 2 else pic.transpose(2, 0, 1))
        if pic.dtype == numpy.uint8:
            dt = numpy.dtype(backend.DEFAULT_DTYPE)
            chw = chw.astype(dt) / dt.type(255)
        return Tensor(xp.asarray(chw))

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class Normalize:
    """output[c] = (input[c] − mean[c]) / std[c] on a Tensor image (..., C, H, W)."""

    def __init__(self, mean: Sequence[float], std: Sequence[float], inplace: bool = False):
        self.mean, self.std, self.inplace = list(mean), list(std), inplace
        if any(float(numpy.float32(s)) == 0.0 for s in self.std):
            raise ValueError(
                f"Normalize: std {self.std} evaluated to zero after conversion to float32,"
                " leading to division by zero"
            )

    def __call__(self, tensor: Tensor) -> Tensor:
        if not isinstance(tensor, Tensor) or tensor.ndim < 3:
            raise TypeError(
                "Normalize: expected a tensor image of shape (..., C, H, W) (apply ToTensor"
                f" first), got {type(tensor).__name__}"
                + (f" of shape {tuple(tensor.shape)}" if hasattr(tensor, "shape") else "")
            )
        c = tensor.shape[-3]
        for name, values in (("mean", self.mean), ("std", self.std)):
            if len(values) not in (1, c):
                raise ValueError(
                    f"Normalize: {name} has {len(values)} values for an image of {c} channels"
                )
        dt = tensor.dtype
        mean = Tensor(xp.asarray(self.mean, dtype=dt).reshape(-1, 1, 1))
        std = Tensor(xp.asarray(self.std, dtype=dt).reshape(-1, 1, 1))
        if self.inplace:
            return tensor.sub_(mean).div_(std)
        return (tensor - mean) / std

    def __repr__(self) -> str:
        return f"{type(self).__name__}(mean={self.mean}, std={self.std})"


class Lambda:
    """A user function as a transform."""

    def __init__(self, lambd: Callable) -> None:
        if not callable(lambd):
            raise TypeError(f"Lambda: argument should be callable, got {type(lambd).__name__}")
        self.lambd = lambd

    def __call__(self, img):
        return self.lambd(img)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class _RandomFlip:
    axis_of_hw: int  # 0: flip rows (vertical), 1: columns (horizontal)

    def __init__(self, p: float = 0.5) -> None:
        self.p = p

    def __call__(self, img):
        axes = _hw_axes(img)
        if default_generator.host_random() < self.p:
            return _flip(img, axes[self.axis_of_hw])
        return img

    def __repr__(self) -> str:
        return f"{type(self).__name__}(p={self.p})"


class RandomHorizontalFlip(_RandomFlip):
    """Mirror the image left–right with probability p."""

    axis_of_hw = 1


class RandomVerticalFlip(_RandomFlip):
    """Mirror the image top–bottom with probability p."""

    axis_of_hw = 0


class Pad:
    """Pad the sides: ``padding`` an int (all four), (left/right, top/bottom) or (left, top,
    right, bottom); ``padding_mode`` constant (``fill``), edge, reflect or symmetric."""

    def __init__(self, padding, fill=0, padding_mode: str = "constant") -> None:
        _padding4(padding, "Pad")
        _check_padding_mode(padding_mode, "Pad")
        self.padding, self.fill, self.padding_mode = padding, fill, padding_mode

    def __call__(self, img):
        return _pad(img, self.padding, self.fill, self.padding_mode)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(padding={self.padding}, fill={self.fill},"
            f" padding_mode={self.padding_mode})"
        )


class CenterCrop:
    """The central (h, w) window, padded with zeros first where the image is smaller; the top
    offset is round((H − h) / 2), the left round((W − w) / 2), as torchvision's."""

    def __init__(self, size) -> None:
        self.size = _pair(size, "CenterCrop")

    def __call__(self, img):
        th, tw = self.size
        h, w = _size_of(img)
        if th > h or tw > w:
            left, top = max(tw - w, 0) // 2, max(th - h, 0) // 2
            right, bottom = max(tw - w + 1, 0) // 2, max(th - h + 1, 0) // 2
            img = _pad(img, (left, top, right, bottom))
            h, w = _size_of(img)
        return _crop(img, int(round((h - th) / 2.0)), int(round((w - tw) / 2.0)), th, tw)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(size={self.size})"


class RandomCrop:
    """A random (h, w) window, after padding by ``padding`` (and, with ``pad_if_needed``, up
    to the crop size); the top and left offsets are uniform over every window that fits."""

    def __init__(self, size, padding=None, pad_if_needed: bool = False, fill=0,
                 padding_mode: str = "constant") -> None:  # fmt: skip
        self.size = _pair(size, "RandomCrop")
        if padding is not None:
            _padding4(padding, "RandomCrop")
        _check_padding_mode(padding_mode, "RandomCrop")
        self.padding, self.pad_if_needed = padding, pad_if_needed
        self.fill, self.padding_mode = fill, padding_mode

    def __call__(self, img):
        if self.padding is not None:
            img = _pad(img, self.padding, self.fill, self.padding_mode)
        th, tw = self.size
        h, w = _size_of(img)
        if self.pad_if_needed and w < tw:
            img = _pad(img, (tw - w, 0), self.fill, self.padding_mode)
        if self.pad_if_needed and h < th:
            img = _pad(img, (0, th - h), self.fill, self.padding_mode)
        h, w = _size_of(img)
        if h < th or w < tw:
            raise ValueError(
                f"RandomCrop: required crop size {(th, tw)} is larger than the input image size"
                f" {(h, w)}"
            )
        if (h, w) == (th, tw):  # the whole image: no draw, as torchvision's get_params
            return img
        top = int(default_generator.integers(0, h - th + 1, ()))
        left = int(default_generator.integers(0, w - tw + 1, ()))
        return _crop(img, top, left, th, tw)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(size={self.size}, padding={self.padding})"


def to_image(tensor: Tensor):
    """A Tensor image (C, H, W) back to an array (H, W, C) (or (H, W) for one channel), for
    plotting."""
    a = to_numpy(tensor.array)
    return a[0] if a.shape[0] == 1 else a.transpose(1, 2, 0)
