"""The real datasets: checksums, parsed shapes and known facts of each file."""

import gzip
import shutil

import numpy as np
import pytest

from ember.data import (
    ChecksumError,
    load_dataset,
    load_digits,
    load_fashion_mnist,
    load_mnist,
    load_mnist1d,
    read_idx,
    read_mnist_arrays,
)


def test_mnist_shapes_labels_and_class_counts(shared_data):
    a = read_mnist_arrays("mnist", root=shared_data / "mnist")
    assert a["x_train"].shape == (60000, 28, 28) and a["x_train"].dtype == np.uint8
    assert a["x_test"].shape == (10000, 28, 28) and a["y_test"].shape == (10000,)
    assert a["y_train"][:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    counts = np.bincount(a["y_train"], minlength=10).tolist()
    assert counts == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    assert a["x_train"].max() == 255


def test_mnist_dataset_is_standardised_float32_channel_first(shared_data):
    d = load_mnist(root=shared_data / "mnist")
    x, y = d.train.arrays
    assert x.shape == (60000, 1, 28, 28) and x.dtype == np.float32 and y.dtype == np.int64
    assert abs(float(x.mean())) < 0.01 and abs(float(x.std()) - 1.0) < 0.01
    assert d.num_classes == 10 and d.in_features == 784 and len(d.test) == 10000


def test_fashion_mnist(shared_data):
    d = load_fashion_mnist(root=shared_data / "fashion-mnist")
    y = d.train.arrays[1]
    assert np.bincount(y).tolist() == [6000] * 10
    assert np.bincount(d.test.arrays[1]).tolist() == [1000] * 10
    assert d.class_names[9] == "Ankle boot"


def test_wrong_checksum_is_a_clear_error_naming_file_and_hashes(shared_data, tmp_path):
    for f in (shared_data / "mnist").glob("*.gz"):
        shutil.copy(f, tmp_path / f.name)
    bad = tmp_path / "t10k-labels-idx1-ubyte.gz"
    data = bytearray(bad.read_bytes())
    data[-1] ^= 0xFF
    bad.write_bytes(bytes(data))
    with pytest.raises(ChecksumError) as e:
        load_mnist(root=tmp_path)
    msg = str(e.value)
    assert str(bad) in msg
    assert "expected f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6" in msg
    assert "got " in msg


def test_missing_file_in_root_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="train-images-idx3-ubyte.gz"):
        load_mnist(root=tmp_path)


def test_idx_reader_checks_the_shape(tmp_path):
    p = tmp_path / "x.gz"
    with gzip.open(p, "wb") as f:
        f.write(bytes([0, 0, 8, 1]) + (3).to_bytes(4, "big") + bytes([1, 2, 3]))
    assert read_idx(p, (3,)).tolist() == [1, 2, 3]
    with pytest.raises(ValueError, match=r"expected shape \(4,\), the header says \(3,\)"):
        read_idx(p, (4,))


def test_cache_folder_via_ember_data(shared_data, tmp_path, monkeypatch):
    monkeypatch.setenv("EMBER_DATA", str(tmp_path))
    (tmp_path / "digits").mkdir()
    shutil.copy(shared_data / "digits" / "digits.csv.gz", tmp_path / "digits")
    d = load_digits(download=False)
    assert len(d.train) + len(d.test) == 1797


def test_digits(shared_data):
    d = load_dataset("digits", root=shared_data / "digits")
    assert len(d.train) == 1438 and len(d.test) == 359
    x = d.train.arrays[0]
    assert x.shape[1:] == (1, 8, 8) and 0.0 <= x.min() and x.max() <= 1.0
    y = np.concatenate([d.train.arrays[1], d.test.arrays[1]])
    assert np.bincount(y).tolist() == [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]
    again = load_digits(root=shared_data / "digits")
    assert np.array_equal(again.test.arrays[1], d.test.arrays[1])  # fixed split


def test_mnist1d(shared_data):
    d = load_mnist1d(root=shared_data / "mnist1d")
    assert d.train.arrays[0].shape == (4000, 40) and d.test.arrays[0].shape == (1000, 40)
    assert d.input_shape == (40,) and set(np.unique(d.train.arrays[1])) == set(range(10))


def test_unknown_dataset_lists_the_known_ones():
    with pytest.raises(ValueError, match="mnist, fashion-mnist, digits, mnist1d"):
        load_dataset("cifar")


def test_mnist1d_is_generated_with_the_mnist1d_package_and_cached(shared_data, tmp_path,
                                                                  monkeypatch):  # fmt: skip
    """Without a local copy, the mnist1d package's make_dataset builds the data (offline)."""
    import sys
    import types

    frozen = dict(np.load(shared_data / "mnist1d" / "mnist1d_data.npz"))
    calls = []

    def make_dataset(args):
        calls.append(args)
        return {k: frozen[k] for k in ("x", "y", "x_test", "y_test", "t")}

    fake = types.ModuleType("mnist1d.data")
    fake.make_dataset, fake.get_dataset_args = make_dataset, lambda: {"seed": 42}
    monkeypatch.setitem(sys.modules, "mnist1d", types.ModuleType("mnist1d"))
    monkeypatch.setitem(sys.modules, "mnist1d.data", fake)
    monkeypatch.setenv("EMBER_DATA", str(tmp_path))
    d = load_mnist1d()
    assert calls == [{"seed": 42}] and len(d.train) == 4000
    assert (tmp_path / "mnist1d" / "mnist1d_generated.npz").is_file()
    again = load_mnist1d()  # from the cache now
    assert len(calls) == 1 and np.array_equal(again.test.arrays[1], d.test.arrays[1])


def test_mnist1d_without_data_or_package_says_what_to_do(tmp_path, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "mnist1d", None)  # import fails
    monkeypatch.setenv("EMBER_DATA", str(tmp_path))
    with pytest.raises(FileNotFoundError, match="pip install mnist1d"):
        load_mnist1d()


def test_download_from_mirrors_with_checksum(shared_data, tmp_path, monkeypatch):
    """The downloader, fed file:// URLs: a dead mirror is skipped, a bad hash never lands."""
    from ember.data.download import locate

    monkeypatch.setenv("EMBER_DATA", str(tmp_path / "cache"))
    src = shared_data / "tinyshakespeare" / "input.txt"
    sha = "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed"
    urls = [(tmp_path / "missing.txt").as_uri(), src.as_uri()]
    with pytest.raises(OSError, match="sha256 mismatch") as failed:
        locate("shakes", "input.txt", "0" * 64, urls)
    # the way to work without a network is named, with the folder to put the file in
    assert "pass root= a folder holding input.txt" in str(failed.value)
    assert str(tmp_path / "cache" / "shakes") in str(failed.value)
    assert not (tmp_path / "cache" / "shakes" / "input.txt").exists()
    path = locate("shakes", "input.txt", sha, urls)
    assert path == tmp_path / "cache" / "shakes" / "input.txt"
    assert path.read_bytes() == src.read_bytes()
    assert sorted(p.name for p in path.parent.iterdir()) == ["input.txt"]  # no partial files
    assert locate("shakes", "input.txt", sha, ["file:///nowhere"]) == path  # cached now
    with pytest.raises(FileNotFoundError, match="download=False"):
        locate("other", "input.txt", sha, urls, download=False)


def test_root_may_be_the_folder_of_all_datasets(shared_data):
    d = load_dataset("digits", root=shared_data)  # finds shared_data/digits/digits.csv.gz
    assert len(d.train) == 1438
