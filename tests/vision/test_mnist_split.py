"""MNIST(train=...) reads only its split's two files, as torchvision: a folder holding only
the t10k files is a test set; a missing file is named with where it was looked for."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

import ember.data.download as download
from ember.data import load_mnist, read_mnist_arrays
from ember.data.download import ChecksumError
from ember.data.vision import read_mnist_split
from ember.vision import datasets

T10K = ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")


@pytest.fixture
def t10k_only(shared_data, tmp_path):
    """A folder holding MNIST's two test files and nothing else."""
    folder = tmp_path / "only-test"
    folder.mkdir()
    for fn in T10K:
        shutil.copy(shared_data / "mnist" / fn, folder / fn)
    return folder


@pytest.fixture
def no_network(monkeypatch):
    def refuse(urls, path, sha256):
        raise AssertionError(f"tried to download {path.name}")

    monkeypatch.setattr(download, "_download", refuse)


def test_test_split_from_a_folder_of_the_t10k_files(shared_data, t10k_only, no_network):
    test = datasets.MNIST(t10k_only, train=False, download=True)
    ref = read_mnist_arrays("mnist", shared_data / "mnist")  # all four files, as before
    assert len(test) == 10000
    assert test.data.shape == (10000, 28, 28) and test.data.dtype == np.uint8
    assert test.targets.shape == (10000,) and test.targets.dtype == np.int64
    np.testing.assert_array_equal(test.targets.array, ref["y_test"])
    np.testing.assert_array_equal(test.data.array, ref["x_test"])
    assert [test[i][1] for i in range(10)] == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]
    img, _ = test[0]
    np.testing.assert_array_equal(img, ref["x_test"][0])


def test_the_t10k_files_in_a_mnist_subfolder_or_the_cache(t10k_only, tmp_path, monkeypatch,
                                                          no_network):  # fmt: skip
    many = tmp_path / "many"
    shutil.copytree(t10k_only, many / "mnist")
    assert len(datasets.MNIST(many, train=False)) == 10000
    monkeypatch.setenv("EMBER_DATA", str(many))  # the cache holds mnist/ with the t10k files
    x, y = read_mnist_split("mnist", "test", download=True)
    assert x.shape == (10000, 28, 28) and y[:3].tolist() == [7, 2, 1]
    with pytest.raises(FileNotFoundError, match="train-images-idx3-ubyte.gz is not in the cache"):
        datasets.MNIST(None, train=True, download=False)


def test_the_train_split_names_the_missing_file_and_where_it_looked(t10k_only):
    with pytest.raises(FileNotFoundError) as err:
        datasets.MNIST(t10k_only, train=True)
    msg = str(err.value)
    assert f"expected train-images-idx3-ubyte.gz in the folder {t10k_only}" in msg
    assert str(t10k_only / "train-images-idx3-ubyte.gz") in msg
    assert f"nor does {t10k_only / 'mnist' / 'train-images-idx3-ubyte.gz'}" in msg
    assert "train split reads train-images-idx3-ubyte.gz and train-labels-idx1-ubyte.gz" in msg
    with pytest.raises(FileNotFoundError, match="expected train-images-idx3-ubyte.gz"):
        load_mnist(t10k_only)  # the loaders still want both splits


def test_only_the_split_s_files_are_verified(t10k_only):
    (t10k_only / "train-images-idx3-ubyte.gz").write_bytes(b"not mnist")
    assert len(datasets.MNIST(t10k_only, train=False)) == 10000
    with pytest.raises(ChecksumError, match="train-images-idx3-ubyte.gz: sha256 mismatch"):
        datasets.MNIST(t10k_only, train=True)


def test_fashion_mnist_test_split_alone(shared_data, tmp_path):
    folder = tmp_path / "fashion"
    folder.mkdir()
    for fn in T10K:
        shutil.copy(shared_data / "fashion-mnist" / fn, folder / fn)
    test = datasets.FashionMNIST(folder, train=False)
    x, y = read_mnist_split("fashion-mnist", "test", shared_data / "fashion-mnist")
    assert test.data.shape == (10000, 28, 28) and test[0][1] == 9 == int(y[0])
    np.testing.assert_array_equal(test.targets.array, y)


def test_unknown_split_is_refused():
    with pytest.raises(ValueError, match="unknown split 'val'"):
        read_mnist_split("mnist", "val")
