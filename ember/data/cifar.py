"""CIFAR-10 from the official binary archive ``cifar-10-binary.tar.gz`` (Krizhevsky 2009).

The archive holds ``cifar-10-batches-bin/``: ``data_batch_1.bin`` … ``data_batch_5.bin`` (the
50,000 training images, in that order), ``test_batch.bin`` (10,000) and ``batches.meta.txt``
(the class names, one a line). Each batch file is 10,000 records of 3,073 bytes:

    byte 0                 the label, 0 … 9
    bytes 1 … 1024         red   plane, 32×32, row-major
    bytes 1025 … 2048      green plane
    bytes 2049 … 3072      blue  plane

so a file is a (10000, 3073) uint8 matrix and ``record[1:].reshape(3, 32, 32)`` is the image
channel-first. The binary version is read, never the "python" one: that one is pickled, and
opening a data file must never run code. Members are read from the tar by their exact names,
as regular files only (a link member is refused, never followed), and nothing is extracted.
"""

from __future__ import annotations

import os
import tarfile
from pathlib import Path
from typing import TYPE_CHECKING

import numpy

from .dataset import TensorDataset
from .download import locate

if TYPE_CHECKING:
    from .vision import ClassificationData

DATASET = "cifar10"
ARCHIVE = "cifar-10-binary.tar.gz"
SHA256 = "c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd"
URLS = ("https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz",)
FOLDER = "cifar-10-batches-bin"
TRAIN_MEMBERS = tuple(f"{FOLDER}/data_batch_{i}.bin" for i in range(1, 6))
TEST_MEMBER = f"{FOLDER}/test_batch.bin"
META_MEMBER = f"{FOLDER}/batches.meta.txt"
RECORDS_PER_BATCH = 10000  # the published count of every batch file (tests shrink it)
IMAGE_SHAPE = (3, 32, 32)
RECORD_BYTES = 1 + 3 * 32 * 32
NUM_CLASSES = 10
# Per-channel mean and standard deviation of the training images in [0, 1] (R, G, B): the
# values torchvision's CIFAR-10 examples normalise with.
MEAN = (0.4914, 0.4822, 0.4465)
STD = (0.2470, 0.2435, 0.2616)

# Decompressing and parsing the 170 MB archive takes seconds; each process does it once per
# archive. Keyed by the resolved path and the hash it was verified against (the hash names
# the content) and the record count it was checked with.
_CACHE: dict[tuple[str, str, int], dict] = {}


def read_cifar10_arrays(root=None, download: bool = True) -> dict:
    """The raw arrays of CIFAR-10, read-only and shared within the process:
    ``x_train`` (50000, 3, 32, 32) uint8, ``y_train`` (50000,) int64, ``x_test`` (10000, 3, 32,
    32), ``y_test``, and ``classes`` (the 10 names from batches.meta.txt).

    The archive is found by ``download.locate`` (``root``, else the cache, else downloaded)
    and checked by sha256 (a ChecksumError otherwise)."""
    path = locate(DATASET, ARCHIVE, SHA256, URLS, root, download)
    key = (str(Path(path).resolve()), SHA256, RECORDS_PER_BATCH)
    if key not in _CACHE:
        _CACHE[key] = _parse_archive(path, RECORDS_PER_BATCH)
    return _CACHE[key]


def _parse_archive(path: str | os.PathLike, count: int) -> dict:
    wanted = (*TRAIN_MEMBERS, TEST_MEMBER, META_MEMBER)
    raw = _read_members(path, wanted)
    train = [_parse_batch(raw[name], f"{path}: {name}", count) for name in TRAIN_MEMBERS]
    x_test, y_test = _parse_batch(raw[TEST_MEMBER], f"{path}: {TEST_MEMBER}", count)
    arrays = {
        "x_train": numpy.concatenate([x for x, _ in train]),
        "y_train": numpy.concatenate([y for _, y in train]),
        "x_test": numpy.ascontiguousarray(x_test),
        "y_test": y_test,
    }
    for a in arrays.values():
        a.setflags(write=False)  # shared by every caller in the process
    arrays["classes"] = _parse_meta(raw[META_MEMBER], f"{path}: {META_MEMBER}")
    return arrays


def _read_members(path: str | os.PathLike, names) -> dict[str, bytes]:
    """The bytes of each named member, in one pass over the gzip stream (a seek back would
    decompress it again). Only regular files by exact name: no extraction, no link followed."""
    wanted, found = set(names), {}
    try:
        with tarfile.open(path, mode="r|gz") as tar:
            for member in tar:
                if member.name not in wanted:
                    continue
                if member.name in found:
                    raise ValueError(f"{path}: the archive holds {member.name} twice")
                if not member.isfile():  # a symlink, hard link or folder of that name
                    raise ValueError(
                        f"{path}: {member.name} should be a regular file, but the archive "
                        "holds a link or a folder by that name; links are not followed"
                    )
                f = tar.extractfile(member)
                found[member.name] = f.read()
                if len(found[member.name]) != member.size:
                    raise ValueError(f"{path}: {member.name} is cut short")
    except (tarfile.TarError, EOFError, OSError) as e:  # gzip.BadGzipFile is an OSError
        raise ValueError(f"{path}: not a readable tar.gz archive ({type(e).__name__}: {e})") from e
    missing = [n for n in names if n not in found]
    if missing:
        raise ValueError(
            f"{path}: the archive lacks {', '.join(missing)}; expected the official "
            f"{ARCHIVE} with {FOLDER}/ holding data_batch_1.bin … data_batch_5.bin, "
            "test_batch.bin and batches.meta.txt"
        )
    return found


def _parse_batch(data: bytes, where: str, count: int) -> tuple[numpy.ndarray, numpy.ndarray]:
    """One batch file's bytes -> images (n, 3, 32, 32) uint8 and labels (n,) int64."""
    if len(data) % RECORD_BYTES:
        raise ValueError(
            f"{where}: {len(data)} bytes is not a whole number of {RECORD_BYTES}-byte records "
            f"(1 label byte + 3072 pixel bytes); the file is truncated or not a CIFAR-10 batch"
        )
    n = len(data) // RECORD_BYTES
    if n != count:
        raise ValueError(f"{where}: expected {count} records, the file holds {n}")
    records = numpy.frombuffer(data, numpy.uint8).reshape(n, RECORD_BYTES)
    labels = records[:, 0].astype(numpy.int64)
    if n and labels.max() >= NUM_CLASSES:
        bad = int(numpy.argmax(labels >= NUM_CLASSES))
        raise ValueError(
            f"{where}: record {bad} has label {labels[bad]}, expected 0 … {NUM_CLASSES - 1}"
        )
    return records[:, 1:].reshape(n, *IMAGE_SHAPE), labels


def _parse_meta(data: bytes, where: str) -> list[str]:
    try:
        text = data.decode("ascii")
    except UnicodeDecodeError as e:
        raise ValueError(f"{where}: expected ASCII class names, one a line ({e})") from e
    names = [line.strip() for line in text.splitlines() if line.strip()]  # ends in blank lines
    if len(names) != NUM_CLASSES:
        raise ValueError(f"{where}: expected {NUM_CLASSES} class names, got {len(names)}: {names}")
    return names


def load_cifar10(root=None, download: bool = True, normalize: bool = True) -> ClassificationData:
    """CIFAR-10: 50000 train / 10000 test colour images of 10 classes, inputs (3, 32, 32)
    float32 in [0, 1], standardised per channel with ``MEAN`` and ``STD`` when ``normalize``
    (what torchvision's ``ToTensor()`` then ``Normalize(MEAN, STD)`` give)."""
    from .vision import ClassificationData  # vision registers this loader: import it late

    a = read_cifar10_arrays(root, download)
    mean = numpy.asarray(MEAN, numpy.float32)[:, None, None]
    std = numpy.asarray(STD, numpy.float32)[:, None, None]

    def images(x):
        x = x.astype(numpy.float32)
        x /= numpy.float32(255.0)  # in place: the float copy of the train split is 600 MB
        if normalize:
            x -= mean
            x /= std
        return x

    return ClassificationData(
        DATASET,
        TensorDataset(images(a["x_train"]), a["y_train"].copy()),
        TensorDataset(images(a["x_test"]), a["y_test"].copy()),
        NUM_CLASSES,
        IMAGE_SHAPE,
        list(a["classes"]),
    )
