"""Summaries (torch.utils.tensorboard.summary): values turned into encoded ``Summary`` messages.

Each function takes ember Tensors, NumPy arrays or Python numbers and returns the bytes of one
``Summary`` (see proto.py), ready to go into an Event.
"""

from __future__ import annotations

import struct
import sys
import zlib

import numpy as np

from . import proto


def make_np(x, what: str = "value") -> np.ndarray:
    """An ember Tensor (detached, on the host), NumPy array or Python number as an ndarray."""
    if isinstance(x, np.ndarray):
        return x
    if hasattr(x, "detach") and hasattr(x, "numpy"):  # an ember (or torch) Tensor
        return np.asarray(x.detach().numpy())
    if isinstance(x, (int, float, bool, np.generic, list, tuple)):
        return np.asarray(x)
    raise TypeError(
        f"{what} must be an ember Tensor, a NumPy array or a number, got {type(x).__name__}"
    )


def scalar(name: str, value, new_style: bool = False, double_precision: bool = False) -> bytes:
    """A scalar: old-style ``simple_value`` (float32), or with ``new_style`` a 0-d tensor
    under the scalars plugin (float64 with ``double_precision``)."""
    a = make_np(value, "scalar_value")
    if a.size != 1:
        raise ValueError(f"scalar_value must hold exactly one number, got shape {a.shape}")
    if not (np.issubdtype(a.dtype, np.number) or a.dtype == np.bool_):
        raise TypeError(f"scalar_value must be a number, got dtype {a.dtype}")
    x = float(a.reshape(()))
    if not new_style:
        return proto.summary(proto.summary_value(name, simple_value=x))
    if double_precision:
        t = proto.tensor(proto.DT_DOUBLE, double_val=[x])
    else:
        t = proto.tensor(proto.DT_FLOAT, float_val=[x])
    meta = proto.summary_metadata("scalars")
    return proto.summary(proto.summary_value(name, tensor=t, metadata=meta))


# ------------------------------------------------------------------ histograms
def tensorflow_bins() -> np.ndarray:
    """TensorFlow's default bucket edges: ±1e-12·1.1ᵏ up to 1e20, and 0 between."""
    k = np.arange(int(np.ceil(np.log(1e20 / 1e-12) / np.log(1.1))))
    pos = 1e-12 * 1.1**k
    return np.concatenate([-pos[::-1], [0.0], pos])


def histogram(name: str, values, bins="tensorflow", max_bins: int | None = None) -> bytes:
    """A histogram of ``values`` (flattened), with NumPy's ``bins`` (int, edges or a rule name)
    or TensorFlow's exponential buckets; at most ``max_bins`` buckets by merging neighbours.

    TensorBoard keeps only each bucket's right edge, so the run of buckets is trimmed to the
    span holding data, with one empty bucket in front whose right edge is the leftmost limit.
    """
    v = make_np(values, "values").reshape(-1).astype(np.float64)
    if v.size == 0:
        raise ValueError(f"add_histogram({name!r}): values is empty")
    if not np.all(np.isfinite(v)):
        raise ValueError(f"add_histogram({name!r}): values holds NaN or infinity")
    if isinstance(bins, str) and bins == "tensorflow":
        bins = tensorflow_bins()
    counts, limits = np.histogram(v, bins=bins)
    if max_bins is not None and len(counts) > max_bins:
        group = -(-len(counts) // max_bins)  # neighbours merged per bucket
        pad = -len(counts) % group
        counts = np.pad(counts, (0, pad)).reshape(-1, group).sum(axis=1)
        limits = np.append(limits[:-1:group], limits[-1])
    filled = np.flatnonzero(counts)
    if filled.size == 0:  # every value outside the given edges
        raise ValueError(
            f"add_histogram({name!r}): no value falls inside the bins "
            f"[{limits[0]}, {limits[-1]}] (values span [{v.min()}, {v.max()}])"
        )
    first, last = int(filled[0]), int(filled[-1])
    if first > 0:
        counts, limits = counts[first - 1 : last + 1], limits[first : last + 2]
    else:
        counts, limits = np.concatenate([[0], counts[: last + 1]]), limits[: last + 2]
    h = proto.histogram(
        v.min(), v.max(), v.size, v.sum(), v.dot(v), limits.tolist(), counts.tolist()
    )
    return proto.summary(proto.summary_value(name, histo=h))


# ------------------------------------------------------------------ images
def image(name: str, tensor, dataformats: str = "CHW") -> bytes:
    """An image (float in [0, 1] or uint8 in [0, 255]) as PNG; ``dataformats`` names the axes
    (CHW, HWC, HW, or NCHW/NHWC for a grid of several)."""
    hwc = to_hwc(make_np(tensor, "img_tensor"), dataformats)
    if hwc.dtype != np.uint8:  # as torch: floats are [0, 1], scaled and truncated
        hwc = (hwc.astype(np.float32) * 255).clip(0, 255).astype(np.uint8)
    height, width, channels = hwc.shape
    img = proto.image(height, width, channels, encode_png(hwc))
    return proto.summary(proto.summary_value(name, image=img))


def to_hwc(a: np.ndarray, dataformats: str) -> np.ndarray:
    """Axes in ``dataformats`` order → H×W×C with 3 or 4 channels (a batch becomes a grid)."""
    fmt = dataformats.upper()
    allowed = {2: "HW", 3: "CHW", 4: "NCHW"}.get(len(fmt))
    if allowed is None or sorted(fmt) != sorted(allowed):
        raise ValueError(
            f"dataformats must be a permutation of HW, CHW or NCHW, got {dataformats!r}"
        )
    if a.ndim != len(fmt):
        raise ValueError(
            f"an image with dataformats {dataformats!r} must have {len(fmt)} dimensions, "
            f"got {a.ndim} (shape {a.shape})"
        )
    if not (np.issubdtype(a.dtype, np.number) or a.dtype == np.bool_):
        raise TypeError(f"image values must be numbers, got dtype {a.dtype}")
    if a.dtype == np.bool_:
        a = a.astype(np.uint8) * 255
    a = a.transpose([fmt.index(c) for c in allowed])
    if a.ndim == 2:
        a = a[None]
    if a.ndim == 3:
        a = a[None]
    n, c, h, w = a.shape
    if c not in (1, 3, 4):
        raise ValueError(
            f"an image must have 1, 3 or 4 channels (C in {dataformats!r}), "
            f"got {c} (shape {a.shape})"
        )
    if c == 1:
        a = np.repeat(a, 3, axis=1)
    return make_grid(a).transpose(1, 2, 0)


def make_grid(a: np.ndarray, ncols: int = 8) -> np.ndarray:
    """N images (N×C×H×W) tiled row by row into one C×(H·rows)×(W·cols) image."""
    n, c, h, w = a.shape
    cols = min(n, ncols)
    rows = -(-n // cols)
    grid = np.zeros((c, h * rows, w * cols), dtype=a.dtype)
    for i in range(n):
        r, q = divmod(i, cols)
        grid[:, r * h : (r + 1) * h, q * w : (q + 1) * w] = a[i]
    return grid


def encode_png(hwc: np.ndarray) -> bytes:
    """An H×W×C uint8 array (C = 1, 2, 3 or 4) as PNG: IHDR, one zlib IDAT (every row with
    filter type 0), IEND; each chunk ``length, type, data, CRC-32(type + data)``."""
    h, w, c = hwc.shape
    color_type = {1: 0, 2: 4, 3: 2, 4: 6}[c]  # gray, gray+alpha, RGB, RGBA

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    rows = np.zeros((h, 1 + w * c), dtype=np.uint8)  # column 0: the filter byte
    rows[:, 1:] = np.ascontiguousarray(hwc, dtype=np.uint8).reshape(h, w * c)
    ihdr = struct.pack(">IIBBBBB", w, h, 8, color_type, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(rows.tobytes(), 6))
        + chunk(b"IEND", b"")
    )


def figure_to_image(figure, close: bool = True) -> np.ndarray:
    """A matplotlib Figure (or a list of them) rendered by the Agg canvas as C×H×W uint8 RGB
    (N×C×H×W for a list). The figure's own canvas (and so the user's backend) is put back
    afterwards; pyplot is touched only to close a figure it manages, when already imported."""
    if isinstance(figure, (list, tuple)):
        return np.stack([figure_to_image(f, close) for f in figure])
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    if not hasattr(figure, "set_canvas"):
        raise TypeError(f"figure must be a matplotlib Figure, got {type(figure).__name__}")
    own = figure.canvas
    try:
        agg = FigureCanvasAgg(figure)  # attaches itself to the figure, hence the restore
        agg.draw()
        rgba = np.asarray(agg.buffer_rgba())
        chw = np.ascontiguousarray(rgba[:, :, :3].transpose(2, 0, 1))
    finally:
        figure.set_canvas(own)
    if close:
        pyplot = sys.modules.get("matplotlib.pyplot")
        if pyplot is not None:
            pyplot.close(figure)
    return chw


# ------------------------------------------------------------------ text
def text(tag: str, text_string: str) -> bytes:
    """Text for TensorBoard's text plugin (markdown): a 1-element string tensor under the tag
    ``<tag>/text_summary``, as torch writes it."""
    if not isinstance(text_string, str):
        raise TypeError(f"text_string must be a str, got {type(text_string).__name__}")
    t = proto.tensor(proto.DT_STRING, [1], string_val=[text_string.encode("utf-8")])
    meta = proto.summary_metadata("text")
    return proto.summary(proto.summary_value(tag + "/text_summary", tensor=t, metadata=meta))
