"""RandomErasing, GaussianBlur and the random containers RandomApply, RandomChoice and
RandomOrder, torchvision's.

    erasing:  up to 10 tries of an area s·A (s ~ U(scale)) and log r ~ U(log ratio):
              h = round(√(s·A·r)), w = round(√(s·A/r)); the first with h < H and w < W is
              filled with ``value`` (per channel), or N(0, 1) noise of (C, h, w) for 'random'
              (drawn before the top, then the left offset); none: the image unchanged
    blur:     k_σ[i] = exp(−½ (x_i/σ)²) / Σ_j exp(−½ (x_j/σ)²),  x_i = −(K−1)/2 … (K−1)/2
              y = (k_y ⊗ k_x) ⋆ reflect-pad(x), kernel_size = (K_x, K_y), σ ~ U(sigma)

The blur kernel is the outer product of two 1-D kernels, so it is applied as two 1-D passes
(rows, then columns); integer images are blurred in float32 and rounded back.
"""

from __future__ import annotations

import itertools
import math
import numbers
import warnings
from collections.abc import Sequence

from ..backend import default_generator, xp
from ..tensor import Tensor
from .transforms_common import (
    _cast_in,
    _cast_out,
    _is_float,
    _rand,
    _randint,
    _setup_size,
    _to_nchw,
    _uniform,
)


class RandomErasing:
    """With probability p, erase a random rectangle of a Tensor image (..., C, H, W): area
    fraction ~ U(scale), aspect ratio h/w log-uniform in ``ratio``, filled with ``value`` (a
    number, one per channel, or 'random' for N(0, 1) noise). Zhong et al., 2017."""

    def __init__(self, p=0.5, scale=(0.02, 0.33), ratio=(0.3, 3.3), value=0, inplace=False):
        if not isinstance(value, (numbers.Number, str, tuple, list)):
            raise TypeError("Argument value should be either a number or str or a sequence")
        if isinstance(value, str) and value != "random":
            raise ValueError("If value is str, it should be 'random'")
        if not isinstance(scale, Sequence):
            raise TypeError("Scale should be a sequence")
        if not isinstance(ratio, Sequence):
            raise TypeError("Ratio should be a sequence")
        if scale[0] > scale[1] or ratio[0] > ratio[1]:
            warnings.warn("Scale and ratio should be of kind (min, max)", stacklevel=2)
        if scale[0] < 0 or scale[1] > 1:
            raise ValueError("Scale should be between 0 and 1")
        if p < 0 or p > 1:
            raise ValueError("Random erasing probability should be between 0 and 1")
        self.p, self.scale, self.ratio = p, scale, ratio
        self.value, self.inplace = value, inplace

    @staticmethod
    def get_params(img: Tensor, scale, ratio, value=None):
        """(top, left, h, w, v): the rectangle and what fills it (v an array broadcasting to
        (C, h, w)); the whole image and the image itself when no try fits."""
        img_c, img_h, img_w = (int(s) for s in img.shape[-3:])
        area = img_h * img_w
        log_ratio = (math.log(ratio[0]), math.log(ratio[1]))
        for _ in range(10):
            erase_area = area * _uniform(scale[0], scale[1])
            aspect_ratio = math.exp(_uniform(log_ratio[0], log_ratio[1]))
            h = int(round(math.sqrt(erase_area * aspect_ratio)))
            w = int(round(math.sqrt(erase_area / aspect_ratio)))
            if not (h < img_h and w < img_w):
                continue
            if value is None:
                v = default_generator.standard_normal((img_c, h, w), xp.float32)
            else:
                v = xp.asarray(value, dtype=xp.float32)[:, None, None]
            i = _randint(0, img_h - h + 1)
            j = _randint(0, img_w - w + 1)
            return i, j, h, w, v
        return 0, 0, img_h, img_w, img.array

    def __call__(self, img):
        if not isinstance(img, Tensor) or img.ndim < 3:
            raise TypeError(
                "RandomErasing: expected a Tensor image of shape (..., C, H, W) (apply ToTensor"
                f" first), got {type(img).__name__}"
                + (f" of shape {tuple(img.shape)}" if hasattr(img, "shape") else "")
            )
        if _rand() >= self.p:
            return img
        if isinstance(self.value, numbers.Number):
            value = [float(self.value)]
        elif isinstance(self.value, str):
            value = None
        else:
            value = list(self.value)
        if value is not None and len(value) not in (1, img.shape[-3]):
            raise ValueError(
                "If value is a sequence, it should have either a single value or"
                f" {img.shape[-3]} (number of input channels)"
            )
        i, j, h, w, v = self.get_params(img, scale=self.scale, ratio=self.ratio, value=value)
        out = img if self.inplace else img.clone()
        out[..., i : i + h, j : j + w] = xp.asarray(v).astype(img.dtype, copy=False)
        return out

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(p={self.p}, scale={self.scale}, ratio={self.ratio},"
            f" value={self.value}, inplace={self.inplace})"
        )


def _gaussian_kernel1d(kernel_size: int, sigma: float, dtype):
    half = (kernel_size - 1) * 0.5
    x = xp.linspace(-half, half, kernel_size, dtype=dtype)
    pdf = xp.exp(-0.5 * (x / dtype(sigma)) ** 2)
    return pdf / pdf.sum()


def _check_reflect(pad: int, size: int, dim: int, shape) -> None:
    # numpy's reflect would fold a too-wide pad back again; torch's refuses it
    if pad >= size:
        raise RuntimeError(
            "Padding size should be less than the corresponding input dimension, but got:"
            f" padding ({pad}, {pad}) at dimension {dim} of input {list(shape)}"
        )


def _gaussian_blur(img, kernel_size, sigma):
    """torchvision's F.gaussian_blur: kernel_size (K_x, K_y), sigma (σ_x, σ_y)."""
    x, back = _to_nchw(img)
    dtype = x.dtype.type if _is_float(x.dtype) else xp.float32
    k_x = _gaussian_kernel1d(kernel_size[0], sigma[0], dtype)
    k_y = _gaussian_kernel1d(kernel_size[1], sigma[1], dtype)
    work = _cast_in(x, (dtype,))
    n, c, h, w = work.shape
    p_x, p_y = kernel_size[0] // 2, kernel_size[1] // 2
    _check_reflect(p_y, h, 2, work.shape)
    _check_reflect(p_x, w, 3, work.shape)
    padded = xp.pad(work, ((0, 0), (0, 0), (p_y, p_y), (p_x, p_x)), mode="reflect")
    # one vectorised pass per kernel tap (K_y + K_x of them), not per pixel
    rows = sum(k_y[t] * padded[:, :, t : t + h, :] for t in range(kernel_size[1]))
    out = sum(k_x[t] * rows[:, :, :, t : t + w] for t in range(kernel_size[0]))
    return back(_cast_out(out.astype(dtype, copy=False), x.dtype))


class GaussianBlur:
    """Blur with a Gaussian kernel of ``kernel_size`` (K_x, K_y) (odd, positive) and
    σ ~ U(sigma) (a number: fixed), reflect padding keeping the size."""

    def __init__(self, kernel_size, sigma=(0.1, 2.0)) -> None:
        self.kernel_size = _setup_size(
            kernel_size, "Kernel size should be a tuple/list of two integers"
        )
        for ks in self.kernel_size:
            if ks <= 0 or ks % 2 == 0:
                raise ValueError("Kernel size value should be an odd and positive number.")
        if isinstance(sigma, numbers.Number):
            if sigma <= 0:
                raise ValueError("If sigma is a single number, it must be positive.")
            sigma = (sigma, sigma)
        elif isinstance(sigma, Sequence) and len(sigma) == 2:
            if not 0.0 < sigma[0] <= sigma[1]:
                raise ValueError("sigma values should be positive and of the form (min, max).")
        else:
            raise ValueError("sigma should be a single number or a list/tuple with length 2.")
        self.sigma = sigma

    @staticmethod
    def get_params(sigma_min: float, sigma_max: float) -> float:
        """σ: one U(sigma_min, sigma_max) draw."""
        return _uniform(sigma_min, sigma_max)

    def __call__(self, img):
        sigma = self.get_params(self.sigma[0], self.sigma[1])
        return _gaussian_blur(img, self.kernel_size, [sigma, sigma])

    def __repr__(self) -> str:
        return f"{type(self).__name__}(kernel_size={self.kernel_size}, sigma={self.sigma})"


class RandomApply:
    """Apply all of ``transforms`` in turn with probability p, else none of them."""

    def __init__(self, transforms, p: float = 0.5) -> None:
        self.transforms, self.p = transforms, p

    def __call__(self, img):
        if self.p < _rand():
            return img
        for t in self.transforms:
            img = t(img)
        return img

    def __repr__(self) -> str:
        body = "".join(f"\n    {t}" for t in self.transforms)
        return f"{type(self).__name__}(\n    p={self.p}{body}\n)"


class _RandomTransforms:
    def __init__(self, transforms) -> None:
        if not isinstance(transforms, Sequence):
            raise TypeError("Argument transforms should be a sequence")
        self.transforms = transforms

    def __repr__(self) -> str:
        body = "".join(f"\n    {t}" for t in self.transforms)
        return f"{type(self).__name__}({body}\n)"


class RandomOrder(_RandomTransforms):
    """Apply all of ``transforms`` in a random order (a uniform permutation)."""

    def __call__(self, img):
        for k in default_generator.permutation(len(self.transforms)):
            img = self.transforms[int(k)](img)
        return img


class RandomChoice(_RandomTransforms):
    """Apply one of ``transforms``, picked uniformly or with weights ``p`` (relative, as
    random.choices' weights): one U[0, 1) draw u picks the first whose cumulative weight
    exceeds u · Σp."""

    def __init__(self, transforms, p=None) -> None:
        super().__init__(transforms)
        if p is not None and not isinstance(p, Sequence):
            raise TypeError("Argument p should be a sequence")
        if p is not None and len(p) != len(transforms):
            raise ValueError("The number of weights does not match the population")
        self.p = p

    def __call__(self, *args):
        n = len(self.transforms)
        u = _rand()
        if self.p is None:
            k = math.floor(u * n)
        else:
            cum = list(itertools.accumulate(float(w) for w in self.p))
            if not cum[-1] > 0.0:
                raise ValueError("Total of weights must be greater than zero")
            k = next((i for i, c in enumerate(cum[:-1]) if u * cum[-1] < c), n - 1)
        return self.transforms[k](*args)

    def __repr__(self) -> str:
        return f"{super().__repr__()}(p={self.p})"
