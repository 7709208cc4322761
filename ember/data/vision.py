"""Image classification data: MNIST, Fashion-MNIST, the 8x8 digits, MNIST-1D and CIFAR-10.

Each loader returns a ``ClassificationData``: train and test TensorDatasets of float32 inputs
and int64 labels, with the facts a model needs (input shape, number of classes, class names).
Files are found by ``download.locate`` (local root, cache, or mirrors) and checked by sha256;
parsed arrays are checked against the published shapes. CIFAR-10's reader is in cifar.py.
"""

from __future__ import annotations

import gzip
import os
import struct
from dataclasses import dataclass, field
from pathlib import Path

import numpy

from .cifar import load_cifar10
from .dataset import TensorDataset
from .download import data_home, locate

Root = str | os.PathLike | None


@dataclass
class ClassificationData:
    name: str
    train: TensorDataset
    test: TensorDataset
    num_classes: int
    input_shape: tuple[int, ...]
    class_names: list[str] = field(default_factory=list)

    @property
    def in_features(self) -> int:
        return int(numpy.prod(self.input_shape))


# ------------------------------------------------------------------ IDX (MNIST, Fashion-MNIST)

_IDX_NAMES = (
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
)
_IDX_SHA256 = {  # in the order of _IDX_NAMES; published in shared/data/README.md
    "mnist": (
        "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
        "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
        "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
        "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
    ),
    "fashion-mnist": (
        "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
        "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
        "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
        "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
    ),
}
_IDX_MIRRORS = {
    "mnist": (
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "https://storage.googleapis.com/cvdf-datasets/mnist/",
    ),
    "fashion-mnist": ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",),
}
# Pixel mean and standard deviation of the training images (in [0, 1]): inputs are standardised.
_IDX_STATS = {"mnist": (0.1307, 0.3081), "fashion-mnist": (0.2860, 0.3530)}
FASHION_CLASSES = [
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
]  # fmt: skip


def read_idx(path: str | os.PathLike, expected_shape: tuple[int, ...]) -> numpy.ndarray:
    """Parse a gzip'd IDX file of uint8 (header: 0, 0, 0x08, ndim, then ndim big-endian uint32)."""
    with gzip.open(path, "rb") as f:
        data = f.read()
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] != 0x08:
        raise ValueError(f"{path}: not an IDX file of uint8 (header bytes {data[:4]!r})")
    ndim = data[3]
    shape = struct.unpack(">" + "I" * ndim, data[4 : 4 + 4 * ndim])
    if shape != tuple(expected_shape):
        raise ValueError(f"{path}: expected shape {tuple(expected_shape)}, the header says {shape}")
    count = int(numpy.prod(shape))
    body = numpy.frombuffer(data, numpy.uint8, offset=4 + 4 * ndim)
    if body.size != count:
        raise ValueError(f"{path}: header promises {count} values, the file holds {body.size}")
    return body.reshape(shape)


#: split -> (its images file, its labels file) as positions in _IDX_NAMES, and its size
_IDX_SPLITS = {"train": ((0, 1), 60000), "test": ((2, 3), 10000)}


def read_mnist_split(
    name: str = "mnist", split: str = "train", root: Root = None, download: bool = True
) -> tuple[numpy.ndarray, numpy.ndarray]:
    """One split's raw uint8 arrays, images (N, 28, 28) and labels (N,), N = 60000 for
    "train", 10000 for "test": only that split's two files are found (``root``, the cache,
    or a download), checked by sha256 and read, so a folder holding only the t10k files
    serves the test split. A missing file is named, with every place it was looked for."""
    if name not in _IDX_SHA256:
        raise ValueError(f"unknown IDX dataset {name!r}; expected one of {sorted(_IDX_SHA256)}")
    if split not in _IDX_SPLITS:
        raise ValueError(f"unknown split {split!r}; expected 'train' or 'test'")
    (images, labels), n = _IDX_SPLITS[split]
    paths = [_locate_idx(name, split, i, root, download) for i in (images, labels)]
    return read_idx(paths[0], (n, 28, 28)), read_idx(paths[1], (n,))


def _locate_idx(name: str, split: str, i: int, root: Root, download: bool) -> Path:
    """``locate`` for file i of _IDX_NAMES; a missing one's error says what the split needs."""
    fn, sha = _IDX_NAMES[i], _IDX_SHA256[name][i]
    needs = " and ".join(_IDX_NAMES[j] for j in _IDX_SPLITS[split][0])
    try:
        return locate(name, fn, sha, [m + fn for m in _IDX_MIRRORS[name]], root, download)
    except FileNotFoundError as e:
        if root is None:  # locate's message names the cache folder and download=False
            e.add_note(f"{name}'s {split} split reads {needs}")
            raise
        # locate's message names root/<file>; it also looked in root/<dataset>/<file>
        raise FileNotFoundError(
            f"{e}, nor does {Path(root).expanduser() / name / fn}; {name}'s {split} split"
            f" reads {needs}"
        ) from None


def read_mnist_arrays(name: str = "mnist", root: Root = None, download: bool = True) -> dict:
    """The raw uint8 arrays ``x_train (60000,28,28), y_train, x_test (10000,28,28), y_test``:
    both splits, all four files (``read_mnist_split`` reads one)."""
    x_train, y_train = read_mnist_split(name, "train", root, download)
    x_test, y_test = read_mnist_split(name, "test", root, download)
    return {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test}


def _idx_dataset(name: str, root: Root, download: bool, normalize: bool) -> ClassificationData:
    a = read_mnist_arrays(name, root, download)
    mean, std = _IDX_STATS[name]

    def images(x):
        # (N, 28, 28) uint8 -> (N, 1, 28, 28) float32: channel-first, as convolutions want it
        x = x.astype(numpy.float32)[:, None] / numpy.float32(255.0)
        return (x - numpy.float32(mean)) / numpy.float32(std) if normalize else x

    names = FASHION_CLASSES if name == "fashion-mnist" else [str(i) for i in range(10)]
    return ClassificationData(
        name,
        TensorDataset(images(a["x_train"]), a["y_train"].astype(numpy.int64)),
        TensorDataset(images(a["x_test"]), a["y_test"].astype(numpy.int64)),
        10,
        (1, 28, 28),
        names,
    )


def load_mnist(root: Root = None, download: bool = True, normalize: bool = True):
    """MNIST: 60000 train / 10000 test handwritten digits, inputs (1, 28, 28), standardised."""
    return _idx_dataset("mnist", root, download, normalize)


def load_fashion_mnist(root: Root = None, download: bool = True, normalize: bool = True):
    """Fashion-MNIST: Zalando's 10 article classes in MNIST's format and split."""
    return _idx_dataset("fashion-mnist", root, download, normalize)


# ------------------------------------------------------------------ the 8x8 digits

_DIGITS = ("digits.csv.gz", "09f66e6debdee2cd2b5ae59e0d6abbb73fc2b0e0185d2e1957e9ebb51e23aa22")
_DIGITS_URL = (
    "https://raw.githubusercontent.com/scikit-learn/scikit-learn/1.5.2/"
    "sklearn/datasets/data/digits.csv.gz"
)


def load_digits(root: Root = None, download: bool = True, test_fraction: float = 0.2):
    """The 8x8 handwritten digits (scikit-learn's file, 1797 images, values 0..16 scaled to
    [0, 1]), inputs (1, 8, 8). The data has no official split: a fixed permutation (seed 0)
    puts ``test_fraction`` of it in the test set, the same on every machine."""
    fn, sha = _DIGITS
    if root is None and not (data_home() / "digits" / fn).is_file():
        root = _sklearn_digits_folder()  # an installed scikit-learn ships the same file
    path = locate("digits", fn, sha, [_DIGITS_URL], root, download)
    with gzip.open(path, "rt") as f:
        table = numpy.loadtxt(f, delimiter=",")
    if table.shape != (1797, 65):
        raise ValueError(f"{path}: expected 1797 rows of 65 columns, got {table.shape}")
    x = (table[:, :64] / 16.0).astype(numpy.float32).reshape(-1, 1, 8, 8)
    y = table[:, 64].astype(numpy.int64)
    order = numpy.random.default_rng(0).permutation(len(x))
    n_test = int(round(len(x) * test_fraction))
    test, train = order[:n_test], order[n_test:]
    return ClassificationData(
        "digits",
        TensorDataset(x[train], y[train]),
        TensorDataset(x[test], y[test]),
        10,
        (1, 8, 8),
        [str(i) for i in range(10)],
    )


def _sklearn_digits_folder() -> Path | None:
    try:
        import importlib.util

        spec = importlib.util.find_spec("sklearn")
    except (ImportError, ValueError):
        return None
    if spec is None or spec.origin is None:
        return None
    folder = Path(spec.origin).parent / "datasets" / "data"
    return folder if (folder / _DIGITS[0]).is_file() else None


# ------------------------------------------------------------------ MNIST-1D

_MNIST1D = ("mnist1d_data.npz", "b1adc2b5206f50ab6f7dea5e16da94cabd5294c20563a6f631ab3615a9cb2e10")
_MNIST1D_GENERATED = "mnist1d_generated.npz"


def load_mnist1d(root: Root = None, download: bool = True):
    """MNIST-1D (Greydanus & Kobak 2020): 4000 train / 1000 test signals of length 40.

    Reads ``mnist1d_data.npz`` (the frozen dataset as plain arrays; never the pickle) from
    ``root`` or the cache. Without it, the ``mnist1d`` package (pip install mnist1d)
    regenerates the same data offline (seed 42) and the arrays are cached as npz.
    """
    if root is not None:
        path = locate("mnist1d", *_MNIST1D, root=root)
    else:
        cached = data_home() / "mnist1d" / _MNIST1D[0]
        path = locate("mnist1d", *_MNIST1D) if cached.is_file() else _generate_mnist1d(download)
    with numpy.load(path, allow_pickle=False) as z:
        arrays = {k: z[k] for k in ("x", "y", "x_test", "y_test")}
    expected = {"x": (4000, 40), "y": (4000,), "x_test": (1000, 40), "y_test": (1000,)}
    for k, shape in expected.items():
        if arrays[k].shape != shape:
            raise ValueError(f"{path}: {k} should have shape {shape}, got {arrays[k].shape}")
    return ClassificationData(
        "mnist1d",
        TensorDataset(arrays["x"].astype(numpy.float32), arrays["y"].astype(numpy.int64)),
        TensorDataset(arrays["x_test"].astype(numpy.float32), arrays["y_test"].astype(numpy.int64)),
        10,
        (40,),
        [str(i) for i in range(10)],
    )


def _generate_mnist1d(allowed: bool) -> Path:
    path = data_home() / "mnist1d" / _MNIST1D_GENERATED
    if path.is_file():
        return path
    try:
        from mnist1d.data import get_dataset_args, make_dataset
    except ImportError as e:
        raise FileNotFoundError(
            f"MNIST-1D: {_MNIST1D[0]} is not in {path.parent} and the mnist1d package is not "
            "installed; `pip install mnist1d` to generate it offline, or pass root= a folder "
            f"holding {_MNIST1D[0]}"
        ) from e
    if not allowed:
        raise FileNotFoundError(f"MNIST-1D: not cached at {path} and download=False")
    data = make_dataset(get_dataset_args())  # the frozen default dataset (seed 42)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.npz")
    numpy.savez(tmp, **{k: numpy.asarray(data[k]) for k in ("x", "y", "x_test", "y_test")})
    os.replace(tmp, path)
    return path


# ------------------------------------------------------------------ by name

CLASSIFICATION_DATASETS = {
    "mnist": load_mnist,
    "fashion-mnist": load_fashion_mnist,
    "digits": load_digits,
    "mnist1d": load_mnist1d,
    "cifar10": load_cifar10,
}


def load_dataset(name: str, root: Root = None, download: bool = True) -> ClassificationData:
    """A classification dataset by name: mnist, fashion-mnist, digits, mnist1d or cifar10."""
    key = name.lower().replace("_", "-")
    if key == "fashion" or key == "fashionmnist":
        key = "fashion-mnist"
    if key not in CLASSIFICATION_DATASETS:
        raise ValueError(
            f"unknown dataset {name!r}; expected one of {', '.join(CLASSIFICATION_DATASETS)}"
        )
    return CLASSIFICATION_DATASETS[key](root=root, download=download)
