"""Augmentation of training batches (``ember train --augment crop:2,hflip``): random crops and
horizontal flips of images, random circular shifts of 1-D signals, a whole batch at a time.

For a batch x of B images (B, C, H, W) or signals (B, L) / (B, C, L):

    crop:P   y[b, c, i, j] = x̃[b, c, i + t_b, j + l_b]     t_b, l_b ~ U{0, …, 2P}
             x̃ = x padded by P on every side with ``fill``  (torchvision's RandomCrop(H, padding=P))
    hflip    y[b] = x[b, …, ::-1] if m_b else x[b]           m_b ~ Bernoulli(½)
             (torchvision's RandomHorizontalFlip(p=0.5))
    shift:P  y[b, …, i] = x[b, …, (i − k_b) mod L]           k_b ~ U{−P, …, P}
             (numpy.roll by k_b: the random circular translation MNIST-1D's signals are made with)

Each augmentation makes one draw for the whole batch from the augmentation's own generator (a
mask, or a (B, 2) array of offsets) and gathers every image at once; the Trainer applies it to
training batches only, and its checkpoints keep the generator's state, so a resumed run draws
what the uninterrupted one would have drawn.
"""

from __future__ import annotations

import hashlib
import warnings

from .. import backend
from ..backend import Generator
from ..tensor import Tensor

# name -> (the inputs it is for, whether it takes a size P); in the order the help lists them
AUGMENTATIONS = {"crop": ("2-D", True), "hflip": ("2-D", False), "shift": ("1-D", True)}
KNOWN = "crop[:P], hflip, shift[:P] (1-D signals), none"
# datasets whose classes a mirror image does not keep (a mirrored 2 or 7 is no digit)
MIRROR_SENSITIVE = ("mnist", "digits")


def parse_augment(spec: str | None) -> list[tuple[str, int | None]]:
    """``"crop:4,hflip"`` -> ``[("crop", 4), ("hflip", None)]``; ``"none"`` (or None) -> [].

    P (None: the default for the data's size) is checked to be a positive integer; what suits
    the data is checked by ``resolve_augment``.
    """
    text = "none" if spec is None else str(spec).strip().lower()
    items = [item.strip() for item in text.split(",")]
    if items == ["none"]:
        return []
    out: list[tuple[str, int | None]] = []
    for item in items:
        name, colon, raw = (part.strip() for part in item.partition(":"))
        if name == "none":
            raise ValueError(f"augment {spec!r}: 'none' cannot be combined with other entries")
        if name not in AUGMENTATIONS:
            what = f"unknown augmentation {name!r}" if name else "an empty entry"
            raise ValueError(f"augment {spec!r}: {what}; known: {KNOWN}")
        if any(name == seen for seen, _ in out):
            raise ValueError(f"augment {spec!r}: {name} is given twice")
        takes_size = AUGMENTATIONS[name][1]
        if colon and not takes_size:
            raise ValueError(f"augment {spec!r}: {name} takes no size, got {item!r}")
        size = None
        if colon:
            if not raw.isdigit() or int(raw) < 1:
                raise ValueError(
                    f"augment {spec!r}: {name}:P needs a positive integer P, got {raw!r}"
                )
            size = int(raw)
        out.append((name, size))
    return out


def resolve_augment(spec: str | None, input_shape, dataset: str = "the data") -> str:
    """The canonical spec for inputs of ``input_shape`` (one sample's: (C, H, W) images, (L,)
    or (C, L) signals), every default size filled in: ``"crop,hflip"`` on 28×28 images is
    ``"crop:2,hflip"``, on 32×32 ``"crop:4,hflip"``. A ValueError when an augmentation does not
    fit the data."""
    parsed = parse_augment(spec)
    shape = tuple(int(n) for n in input_shape)
    kind = "2-D" if len(shape) == 3 else "1-D" if len(shape) in (1, 2) else None
    described = {"2-D": "images", "1-D": "1-D signals"}.get(kind, "arrays")
    parts = []
    for name, size in parsed:
        wants = AUGMENTATIONS[name][0]
        if wants != kind:
            hint = {"2-D": "crop[:P] and hflip", "1-D": "shift[:P]"}.get(kind, "none")
            raise ValueError(
                f"augment {name} is for {'images' if wants == '2-D' else '1-D signals'}, but "
                f"{dataset}'s inputs are {described} of shape {shape}; for these use {hint}"
            )
        if size is None and name != "hflip":
            if kind == "2-D":
                # 2 pixels on 28×28 images (a 7 % shift, as for MNIST), 1 on 8×8; 4 from 32×32
                # on, CIFAR's recipe (He et al. 2016; torchvision's RandomCrop(32, padding=4))
                side = min(shape[-2:])
                size = 4 if side >= 32 else max(1, round(side / 14))
            else:
                size = max(1, shape[-1] // 10)  # L/10 for signals
        if size is not None and size >= min(shape[-2:] if kind == "2-D" else shape[-1:]):
            raise ValueError(
                f"augment {name}:{size} would move {dataset}'s {described} of shape {shape} by "
                "their whole size or more; give a smaller P"
            )
        parts.append(name if size is None else f"{name}:{size}")
    return ",".join(parts) or "none"


def augment_seed(seed: int) -> int:
    """The augmentation generator's seed for a run seeded with ``seed``: derived, not equal,
    so that its draws are not the shuffle's (which a generator seeded with ``seed`` makes)."""
    digest = hashlib.sha256(f"ember.train.augment/{int(seed)}".encode()).digest()
    return int.from_bytes(digest[:8], "little") >> 1


# ------------------------------------------------------------------ the batch operations
def crop_batch(x, top, left, padding: int, fill=0.0):
    """Each image of x (B, C, H, W) padded by ``padding`` with ``fill`` (one value, or one per
    channel), then the (H, W) window at (top[b], left[b]) of the padded image (offsets in
    0 … 2·padding, host or device)."""
    xp = backend.get_array_module(x)
    B, C, H, W = x.shape
    P = int(padding)
    if isinstance(fill, (tuple, list)):
        if len(fill) != C:
            raise ValueError(f"crop fill has {len(fill)} values for {C} channels")
        padded = xp.empty((B, C, H + 2 * P, W + 2 * P), x.dtype)
        padded[...] = xp.asarray(fill, x.dtype).reshape(1, C, 1, 1)
        padded[:, :, P : P + H, P : P + W] = x
    else:
        padded = xp.pad(x, ((0, 0), (0, 0), (P, P), (P, P)), constant_values=fill)
    # every window of every image as a view (B, C, 2P+1, 2P+1, H, W); the fancy index then
    # gathers one window per image: a single copy of B·C·H·W elements, no loop over images
    sB, sC, sH, sW = padded.strides
    shape, strides = (B, C, 2 * P + 1, 2 * P + 1, H, W), (sB, sC, sH, sW, sH, sW)
    windows = backend.strided_view(padded, shape, strides)
    t_b, l_b = xp.asarray(top), xp.asarray(left)
    return windows[xp.arange(B), :, t_b, l_b]  # advanced indices around a slice: (B, C, H, W)


def hflip_batch(x, flip):
    """x (B, …, W) with the images where flip[b] is true mirrored left–right (the last axis)."""
    xp = backend.get_array_module(x)
    m = xp.asarray(flip, dtype=bool).reshape((-1,) + (1,) * (x.ndim - 1))
    return xp.where(m, x[..., ::-1], x)


def shift_batch(x, shifts):
    """Signals x (B, L) or (B, C, L) rotated circularly by shifts[b] along the last axis, as
    ``numpy.roll(x[b], shifts[b], axis=-1)`` would (positive: to the right)."""
    xp = backend.get_array_module(x)
    L = x.shape[-1]
    k = xp.asarray(shifts).reshape((-1,) + (1,) * (x.ndim - 1))
    return xp.take_along_axis(x, (xp.arange(L) - k) % L, axis=-1)


class BatchAugment:
    """Random augmentation of training batches ``(x, target)``: see the module docstring.

    spec: ``"crop:2,hflip"`` … (``resolve_augment`` checks it against ``input_shape``, one
      sample's shape, and fills in default sizes; ``.spec`` is the result).
    seed / generator: where the draws come from (default: ``augment_seed(0)``).
    fill: the value crops pad with, or one per channel (torchvision's RandomCrop fill, default
      0).
    dataset: the data's name, for messages; ``hflip`` on MNIST or the digits warns (a mirrored
      digit is another shape, or none), but is done.
    Called on a batch it returns the augmented batch (x a new array, target unchanged);
    ``state_dict()`` / ``load_state_dict()`` save and restore the generator's stream.
    """

    def __init__(self, spec: str | None, input_shape, *, seed: int | None = None,
                 generator: Generator | None = None, fill: float | tuple = 0.0,
                 dataset: str | None = None) -> None:  # fmt: skip
        if seed is not None and generator is not None:
            raise ValueError("BatchAugment: give seed= or generator=, not both")
        self.spec = resolve_augment(spec, input_shape, dataset or "the data")
        self.steps = parse_augment(self.spec)
        multi = isinstance(fill, (tuple, list))
        self.fill = tuple(float(f) for f in fill) if multi else float(fill)
        self.input_shape = tuple(input_shape)
        if generator is None:
            generator = Generator().manual_seed(augment_seed(0) if seed is None else seed)
        self.generator = generator
        if dataset in MIRROR_SENSITIVE and any(name == "hflip" for name, _ in self.steps):
            warnings.warn(
                f"augment hflip on {dataset}: a mirrored digit is another shape (a mirrored 2 "
                "or 7 is no digit), so flips change what the images show; fashion-mnist's "
                "classes keep their identity under flips",
                UserWarning,
                stacklevel=2,
            )

    def __repr__(self) -> str:
        return f"BatchAugment({self.spec!r}, fill={fill_text(self.fill)})"

    def augment(self, x):
        """The augmented copy of the batch array ``x`` (B, *input_shape)."""
        if tuple(x.shape[1:]) != self.input_shape:
            raise ValueError(
                f"BatchAugment({self.spec!r}) expected batches of shape (B, "
                f"{', '.join(map(str, self.input_shape))}), got {tuple(x.shape)}"
            )
        B = x.shape[0]
        g = self.generator
        for name, P in self.steps:
            if name == "crop":
                offsets = g.integers(0, 2 * P + 1, (B, 2))  # (t_b, l_b) for the whole batch
                x = crop_batch(x, offsets[:, 0], offsets[:, 1], P, self.fill)
            elif name == "hflip":
                x = hflip_batch(x, g.integers(0, 2, (B,)).astype(bool))
            else:
                x = shift_batch(x, g.integers(-P, P + 1, (B,)))
        return x

    def __call__(self, batch):
        x, *rest = batch
        if isinstance(x, Tensor):
            x = Tensor(self.augment(x.array))
        else:
            x = self.augment(backend.asarray(x))
        return type(batch)((x, *rest)) if isinstance(batch, tuple) else [x, *rest]

    def state_dict(self) -> dict:
        return {"spec": self.spec, "generator": self.generator.get_state()}

    def load_state_dict(self, state: dict) -> None:
        if state.get("spec") != self.spec:
            raise ValueError(
                f"the checkpoint's batches were augmented with {state.get('spec')!r}, this "
                f"run's are with {self.spec!r}; resume with the same augmentation"
            )
        self.generator.set_state(state["generator"])


def fill_text(fill) -> str:
    """A crop fill for messages: one value, or one per channel in parentheses."""
    if isinstance(fill, tuple):
        return "(" + ", ".join(f"{f:.4g}" for f in fill) + ")"
    return f"{fill:.4g}"


def run_augment(spec: str | None, data, seed: int) -> tuple[BatchAugment | None, list[str]]:
    """``ember train``'s augmentation of a ClassificationData run seeded with ``seed``: None for
    "none", and the warnings to show. Crops pad with the inputs' black, each channel's
    smallest value: torchvision pads a raw image with 0 before Normalize, but ember's datasets
    come standardised (per channel for CIFAR-10), so a 0 would be a grey frame."""
    if resolve_augment(spec, data.input_shape, data.name) == "none":
        return None, []
    fill = 0.0
    if any(name == "crop" for name, _ in parse_augment(spec)):
        x = data.train.arrays[0]
        lows = backend.to_numpy(x.min(axis=(0, 2, 3)))  # crops are for (N, C, H, W) images
        fill = float(lows[0]) if len(lows) == 1 else tuple(float(v) for v in lows)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        augment = BatchAugment(
            spec, data.input_shape, seed=augment_seed(seed), fill=fill, dataset=data.name
        )
    return augment, [str(w.message) for w in caught]
