"""MNIST, Fashion-MNIST and CIFAR-10 with torchvision's constructor, one image at a time.

``MNIST(root, train=True, transform=None, target_transform=None, download=False)``: item i is
``(image, target)``, the image a uint8 array of shape (28, 28) (torchvision's PIL image; its
``ToTensor`` makes it a (1, 28, 28) float Tensor in [0, 1]), the target the class index as an
int, each passed through ``transform`` / ``target_transform`` when given. ``data`` (uint8,
(N, 28, 28)) and ``targets`` (int64, (N,)) hold the whole split, ``classes`` the class names.

The files are the IDX files ``ember.data`` reads, checked by sha256: from ``root`` (a folder
holding them, or holding ``mnist/`` / ``fashion-mnist/``), or with ``root=None`` from ember's
cache (``$EMBER_DATA`` or ``~/.cache/ember``), downloaded there with ``download=True``. As
torchvision, only the split's own two files are read: ``train-{images-idx3,labels-idx1}``
for ``train=True``, ``t10k-…`` for ``train=False``.

``CIFAR10`` takes the same arguments and reads the official binary archive
``cifar-10-binary.tar.gz`` (``ember.data.cifar``; never the pickled "python" version); its
items are (32, 32, 3) uint8 RGB arrays (ToTensor makes them (3, 32, 32)), and ``data`` is
torchvision's (N, 32, 32, 3) uint8 array, ``targets`` its list of ints.
"""

from __future__ import annotations

import os
from collections.abc import Callable

import numpy

from ..data.cifar import read_cifar10_arrays
from ..data.dataset import Dataset
from ..data.vision import FASHION_CLASSES, read_mnist_split
from ..tensor import Tensor

__all__ = ["CIFAR10", "FashionMNIST", "MNIST"]


class _LabelledImages(Dataset):
    """What torchvision's image datasets share: (image, target) items through the transforms,
    ``class_to_idx`` and the repr; subclasses give ``_pair(index)`` and ``__len__``."""

    @property
    def class_to_idx(self) -> dict[str, int]:
        return {c: i for i, c in enumerate(self.classes)}

    def __getitem__(self, index: int):
        if not -len(self) <= index < len(self):
            raise IndexError(f"index {index} is out of range for {len(self)} images")
        img, target = self._pair(index)
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target

    def __repr__(self) -> str:
        lines = [
            f"Dataset {type(self).__name__}",
            f"    Number of datapoints: {len(self)}",
            f"    Root location: {self.root if self.root is not None else 'ember cache'}",
            f"    Split: {'Train' if self.train else 'Test'}",
        ]
        if self.transform is not None:
            lines.append(f"    Transform: {self.transform!r}".replace("\n", "\n    "))
        return "\n".join(lines)


class MNIST(_LabelledImages):
    """The MNIST handwritten digits: 60,000 training and 10,000 test images of 28 × 28."""

    name = "mnist"
    classes = [
        "0 - zero", "1 - one", "2 - two", "3 - three", "4 - four",
        "5 - five", "6 - six", "7 - seven", "8 - eight", "9 - nine",
    ]  # fmt: skip

    def __init__(
        self,
        root: str | os.PathLike | None = None,
        train: bool = True,
        transform: Callable | None = None,
        target_transform: Callable | None = None,
        download: bool = False,
    ) -> None:
        self.root, self.train = root, train
        self.transform, self.target_transform = transform, target_transform
        # only this split's two files, as torchvision: a folder of the t10k files is a test set
        images, labels = read_mnist_split(self.name, "train" if train else "test", root, download)
        self._images, self._labels = images, labels.astype("int64")

    @property
    def data(self) -> Tensor:
        return Tensor(self._images)

    @property
    def targets(self) -> Tensor:
        return Tensor(self._labels)

    def __len__(self) -> int:
        return len(self._labels)

    def _pair(self, index: int):
        return self._images[index], int(self._labels[index])


class FashionMNIST(MNIST):
    """Zalando's Fashion-MNIST: ten kinds of clothing, in MNIST's format and sizes."""

    name = "fashion-mnist"
    classes = list(FASHION_CLASSES)


class CIFAR10(_LabelledImages):
    """CIFAR-10: 50,000 training and 10,000 test colour images of 32 × 32 in ten classes."""

    def __init__(
        self,
        root: str | os.PathLike | None = None,
        train: bool = True,
        transform: Callable | None = None,
        target_transform: Callable | None = None,
        download: bool = False,
    ) -> None:
        self.root, self.train = root, train
        self.transform, self.target_transform = transform, target_transform
        arrays = read_cifar10_arrays(root, download)
        split = "train" if train else "test"
        # torchvision's layout: channel-last images, one writable copy per dataset (the
        # process-wide arrays stay read-only), targets a list that may be edited with data
        self.data = numpy.ascontiguousarray(arrays[f"x_{split}"].transpose(0, 2, 3, 1))
        self.targets = arrays[f"y_{split}"].tolist()
        self.classes = list(arrays["classes"])

    def __len__(self) -> int:
        return len(self.data)

    def _pair(self, index: int):
        return self.data[index], int(self.targets[index])
