"""What ember.vision.transforms' families share: the image kinds and layouts, torchvision's
interpolation modes and argument checks, and the scalar draws from ember's default generator.

An image is a NumPy array (H, W) or (H, W, C) or a Tensor (..., C, H, W). The resampling and
colour transforms work on a batch view x of shape (N, C, H, W) (``_to_nchw``), in the dtype
torchvision's tensor code computes in (``_cast_in``), and hand the result back as the kind and
layout that came in, rounded and cast to the input's dtype where that is an integer type
(``_cast_out``, torchvision's ``_cast_squeeze_out``).
"""

from __future__ import annotations

import enum
import numbers
from collections.abc import Callable, Sequence

import numpy

from ..backend import default_generator, to_numpy, xp
from ..tensor import Tensor


class InterpolationMode(enum.Enum):
    """torchvision's interpolation modes; the value is F.interpolate's / grid_sample's mode."""

    NEAREST = "nearest"
    NEAREST_EXACT = "nearest-exact"
    BILINEAR = "bilinear"
    BICUBIC = "bicubic"


#: Pillow's integer constants that torchvision accepts for a mode (1, 4, 5: LANCZOS, BOX,
#: HAMMING are Pillow-only filters, which no tensor path has)
_PIL_MODES = {
    0: InterpolationMode.NEAREST,
    2: InterpolationMode.BILINEAR,
    3: InterpolationMode.BICUBIC,
}


def _interpolation(mode) -> InterpolationMode:
    """An InterpolationMode, or Pillow's integer constant for one, as torchvision takes it."""
    if isinstance(mode, InterpolationMode):
        return mode
    if isinstance(mode, numbers.Integral) and not isinstance(mode, bool):
        if int(mode) in _PIL_MODES:
            return _PIL_MODES[int(mode)]
        raise ValueError(
            f"interpolation: Pillow constant {int(mode)} names a filter ember does not have;"
            f" use one of {[m.name for m in InterpolationMode]}"
        )
    raise TypeError(
        "Argument interpolation should be a InterpolationMode or a corresponding Pillow integer"
        f" constant, got {mode!r}"
    )


# ---------------------------------------------------------------- argument checks (torchvision's)


def _setup_size(size, error_msg: str) -> tuple[int, int]:
    """An int → (size, size); a sequence of 1 → (s, s); of 2 → (h, w); else ``error_msg``."""
    if isinstance(size, numbers.Number):
        return int(size), int(size)
    if isinstance(size, Sequence) and len(size) == 1:
        return size[0], size[0]
    if not isinstance(size, Sequence) or len(size) != 2:
        raise ValueError(error_msg)
    return size[0], size[1]


def _check_sequence_input(x, name: str, req_sizes: tuple[int, ...]) -> None:
    msg = req_sizes[0] if len(req_sizes) < 2 else " or ".join(str(s) for s in req_sizes)
    if not isinstance(x, Sequence):
        raise TypeError(f"{name} should be a sequence of length {msg}.")
    if len(x) not in req_sizes:
        raise ValueError(f"{name} should be a sequence of length {msg}.")


def _setup_angle(x, name: str, req_sizes: tuple[int, ...] = (2,)) -> list[float]:
    """A number d → [−d, d] (d ≥ 0); a sequence of one of ``req_sizes`` lengths, as floats."""
    if isinstance(x, numbers.Number):
        if x < 0:
            raise ValueError(f"If {name} is a single number, it must be positive.")
        x = [-x, x]
    else:
        _check_sequence_input(x, name, req_sizes)
    return [float(d) for d in x]


def _check_fill(fill):
    """torchvision's fill: None means 0; else a number or a sequence (one value per band)."""
    if fill is None:
        return 0
    if not isinstance(fill, (Sequence, numbers.Number)):
        raise TypeError("Fill should be either a sequence or a number.")
    return fill


# ---------------------------------------------------------------- draws (ember's default stream)


def _rand() -> float:
    """torch.rand(1): one U[0, 1) draw."""
    return default_generator.host_random()


def _uniform(low: float, high: float) -> float:
    """torch.empty(1).uniform_(low, high): low + (high − low)·u, u ~ U[0, 1)."""
    return float(low) + (float(high) - float(low)) * default_generator.host_random()


def _randint(low: int, high: int) -> int:
    """torch.randint(low, high, (1,)): uniform over low … high − 1."""
    return int(default_generator.integers(low, high, ()))


# ---------------------------------------------------------------- image kinds and layouts


def _hw_axes(img) -> tuple[int, int]:
    """The (height, width) axes of an image: (..., H, W) for a Tensor, (H, W[, C]) for an
    array (checked: anything else is not an image)."""
    if isinstance(img, Tensor):
        if img.ndim < 2:
            raise ValueError(
                f"expected a tensor image of shape (..., H, W), got {tuple(img.shape)}"
            )
        return img.ndim - 2, img.ndim - 1
    if isinstance(img, numpy.ndarray) and img.ndim in (2, 3):
        return 0, 1
    raise TypeError(
        "expected an image: a NumPy array of shape (H, W) or (H, W, C), or a Tensor of shape"
        f" (..., C, H, W); got {type(img).__name__}"
        + (f" of shape {tuple(img.shape)}" if hasattr(img, "shape") else "")
    )


def _size_of(img) -> tuple[int, int]:
    h, w = _hw_axes(img)
    return int(img.shape[h]), int(img.shape[w])


def _channels_of(img) -> int:
    """torchvision's get_dimensions()[0]: C of (..., C, H, W) or (H, W, C); 1 for (H, W)."""
    _hw_axes(img)
    if isinstance(img, Tensor):
        return 1 if img.ndim == 2 else int(img.shape[-3])
    return 1 if img.ndim == 2 else int(img.shape[2])


def _to_nchw(img) -> tuple[object, Callable]:
    """The image as a backend array x of shape (N, C, H, W), and ``back``, which gives an
    (N, C', H', W') result in the image's own kind: a Tensor with the same leading dims, or
    an array (H', W', C') — (H', W') where the image was (H, W), or where one channel comes
    out of several (Pillow's mode "L")."""
    _hw_axes(img)
    if isinstance(img, Tensor):
        a = img.array
        if a.ndim == 2:
            return a[None, None], lambda y: Tensor(y[0, 0] if y.shape[1] == 1 else y[0])
        lead = tuple(a.shape[:-3])
        return a.reshape((-1,) + tuple(a.shape[-3:])), lambda y: Tensor(
            y.reshape(lead + tuple(y.shape[1:]))
        )
    a = xp.asarray(img)
    x = a[None, None] if img.ndim == 2 else a.transpose(2, 0, 1)[None]
    keep_3d = img.ndim == 3 and img.shape[2] == 1

    def back(y):
        hwc = to_numpy(y[0]).transpose(1, 2, 0)
        if hwc.shape[2] == 1 and not keep_3d:
            hwc = hwc[:, :, 0]
        return numpy.ascontiguousarray(hwc)

    return x, back


def _is_float(dtype) -> bool:
    return bool(xp.issubdtype(dtype, xp.floating))


def _max_value(dtype) -> float:
    """torchvision's _max_value: an integer type's largest value, 1 for floats."""
    return float(xp.iinfo(dtype).max) if xp.issubdtype(dtype, xp.integer) else 1.0


def _cast_in(x, dtypes: tuple):
    """x as it is when its dtype is one of ``dtypes``, else in the first of them."""
    return x if x.dtype in tuple(xp.dtype(d) for d in dtypes) else x.astype(dtypes[0])


def _cast_out(y, dtype):
    """y in ``dtype``: rounded first (half to even, torch.round's) for an integer type."""
    if y.dtype == dtype:
        return y
    if xp.issubdtype(dtype, xp.integer):
        y = xp.round(y)
    return y.astype(dtype)


def _crop(img, top: int, left: int, height: int, width: int):
    h_axis, w_axis = _hw_axes(img)
    index = [slice(None)] * img.ndim
    index[h_axis], index[w_axis] = slice(top, top + height), slice(left, left + width)
    out = img[tuple(index)]
    return out.clone() if isinstance(out, Tensor) else out.copy()
