"""CIFAR-10 from its binary archive, on a tiny archive of the official layout (7 records per
batch file): where labels and pixels land, the split order, normalisation, the errors, the
torchvision-style dataset and `ember train --data cifar10`."""

from __future__ import annotations

import io
import json
import tarfile

import numpy as np
import pytest

from ember.cli import main
from ember.data import (
    CLASSIFICATION_DATASETS,
    ChecksumError,
    DataLoader,
    cifar,
    load_cifar10,
    load_dataset,
    read_cifar10_arrays,
    sha256_of,
)
from ember.train import load_checkpoint
from ember.vision import datasets, transforms

N = 7  # records per batch file in the tiny archives
DIR = "cifar-10-batches-bin"
NAMES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
BATCHES = [f"{DIR}/data_batch_{i}.bin" for i in range(1, 6)] + [f"{DIR}/test_batch.bin"]
META = f"{DIR}/batches.meta.txt"


def records(images: np.ndarray, labels) -> bytes:
    """The format, spelled out: per record a label byte, then the red, green and blue 32×32
    planes, each row after row."""
    out = b""
    for img, label in zip(images, labels):
        out += bytes([int(label)]) + img[0].tobytes() + img[1].tobytes() + img[2].tobytes()
    return out


def make_batches(seed: int = 0):
    """Six batches of N random images (3, 32, 32) and labels; record 0 of data_batch_1 has a
    known pattern: red a ramp over the row-major position, green constant 77, blue 8 × column."""
    rng = np.random.default_rng(seed)
    batches = []
    for b in range(6):
        x = rng.integers(0, 256, (N, 3, 32, 32), dtype=np.uint8)
        y = (np.arange(N) + 3 * b) % 10
        batches.append((x, y))
    i, j = np.indices((32, 32))
    pattern = np.stack([(32 * i + j) % 256, np.full((32, 32), 77), 8 * j]).astype(np.uint8)
    batches[0][0][0] = pattern
    batches[0][1][0] = 6
    return batches


def write_archive(path, members) -> None:
    """A tar.gz of ``members`` (a dict or (name, content) pairs): name -> bytes (a regular
    file) or a TarInfo (a link…)."""
    with tarfile.open(path, "w:gz") as tar:
        for name, content in members.items() if isinstance(members, dict) else members:
            if isinstance(content, tarfile.TarInfo):
                tar.addfile(content)
                continue
            info = tarfile.TarInfo(name)
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))


def official_members(batches, meta: str = "\n".join(NAMES) + "\n\n") -> dict:
    members = {f"{DIR}/readme.html": b"<html></html>"}
    members.update({name: records(x, y) for name, (x, y) in zip(BATCHES, batches)})
    members[META] = meta.encode()
    return members


@pytest.fixture
def tiny(monkeypatch):
    """Tiny archives are read with N records per batch and the sha256 each test gives."""
    monkeypatch.setattr(cifar, "RECORDS_PER_BATCH", N)
    monkeypatch.setattr(cifar, "_CACHE", {})

    def build(folder, members) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        write_archive(folder / cifar.ARCHIVE, members)
        monkeypatch.setattr(cifar, "SHA256", sha256_of(folder / cifar.ARCHIVE))

    return build


@pytest.fixture
def archive(tiny, tmp_path):
    """(root folder, the batches written into its archive)."""
    batches = make_batches()
    tiny(tmp_path / "data", official_members(batches))
    return tmp_path / "data", batches


def test_labels_and_pixels_land_where_the_format_says(archive):
    root, _ = archive
    a = read_cifar10_arrays(root)
    img, i, j = a["x_train"][0], *np.indices((32, 32))
    assert a["y_train"][0] == 6
    np.testing.assert_array_equal(img[0], (32 * i + j) % 256)  # red: row-major ramp
    assert (img[1] == 77).all()  # green
    np.testing.assert_array_equal(img[2], 8 * j)  # blue: varies along the columns
    assert img[2, 5, 3] == 24 and img[0, 1, 2] == 34


def test_train_is_the_five_batches_in_order_and_test_is_test_batch(archive):
    root, batches = archive
    a = read_cifar10_arrays(root)
    assert a["x_train"].shape == (5 * N, 3, 32, 32) and a["x_train"].dtype == np.uint8
    assert a["y_train"].dtype == np.int64 and a["x_test"].shape == (N, 3, 32, 32)
    np.testing.assert_array_equal(a["x_train"], np.concatenate([x for x, _ in batches[:5]]))
    np.testing.assert_array_equal(a["y_train"], np.concatenate([y for _, y in batches[:5]]))
    np.testing.assert_array_equal(a["x_test"], batches[5][0])
    np.testing.assert_array_equal(a["y_test"], batches[5][1])
    assert a["classes"] == NAMES  # from batches.meta.txt, its trailing blank lines dropped
    # parsed once per process, and read-only since every caller shares it
    assert read_cifar10_arrays(root) is a
    assert not a["x_train"].flags.writeable and not a["y_test"].flags.writeable


def test_the_class_names_come_from_the_meta_file(tiny, tmp_path):
    names = [f"class {k}" for k in range(10)]
    tiny(tmp_path, official_members(make_batches(), meta="\n".join(names) + "\n"))
    assert read_cifar10_arrays(tmp_path)["classes"] == names
    tiny(tmp_path, official_members(make_batches(), meta="a\nb\n"))
    with pytest.raises(ValueError, match="batches.meta.txt: expected 10 class names, got 2"):
        read_cifar10_arrays(tmp_path)


def test_load_cifar10_standardises_each_channel(archive):
    root, batches = archive
    d = load_cifar10(root)
    x, y = d.train.arrays
    assert x.shape == (5 * N, 3, 32, 32) and x.dtype == np.float32 and y.dtype == np.int64
    assert d.name == "cifar10" and d.input_shape == (3, 32, 32) and d.in_features == 3072
    assert d.num_classes == 10 and d.class_names == NAMES and len(d.test) == N
    mean, std = np.array(cifar.MEAN)[:, None, None], np.array(cifar.STD)[:, None, None]
    raw = batches[5][0].astype(np.float64) / 255
    np.testing.assert_allclose(d.test.arrays[0], (raw - mean) / std, rtol=0, atol=1e-6)
    green = (77 / 255 - 0.4822) / 0.2435  # record 0's constant green plane
    np.testing.assert_allclose(x[0, 1], np.full((32, 32), green), rtol=0, atol=1e-6)
    plain = load_cifar10(root, normalize=False)
    np.testing.assert_allclose(plain.test.arrays[0], raw, rtol=0, atol=1e-7)
    # ember.vision's ToTensor and Normalize, torchvision's recipe, give the same inputs
    tf = transforms.Compose([transforms.ToTensor(), transforms.Normalize(cifar.MEAN, cifar.STD)])
    ds = datasets.CIFAR10(root, train=False, transform=tf)
    np.testing.assert_allclose(ds[3][0].array, d.test.arrays[0][3], rtol=1e-6, atol=1e-6)
    # by name, as `ember train --data cifar10` asks for it
    assert "cifar10" in CLASSIFICATION_DATASETS
    np.testing.assert_array_equal(load_dataset("cifar10", root=root).train.arrays[0], x)


@pytest.mark.parametrize(
    "content, message",
    [
        (b"\x01" * (N * 3073 - 5), "is not a whole number of 3073-byte records"),
        (b"\x01" * (6 * 3073), "expected 7 records, the file holds 6"),
        (b"\x0a" + b"\x00" * (N * 3073 - 1), "record 0 has label 10, expected 0 … 9"),
    ],
)
def test_a_damaged_batch_file_is_a_clear_error(tiny, tmp_path, content, message):
    members = official_members(make_batches())
    members[f"{DIR}/data_batch_4.bin"] = content
    tiny(tmp_path, members)
    with pytest.raises(ValueError, match=f"data_batch_4.bin: .*{message}"):
        read_cifar10_arrays(tmp_path)


def test_a_truncated_archive_is_a_clear_error(tiny, tmp_path):
    tiny(tmp_path, official_members(make_batches()))
    path = tmp_path / cifar.ARCHIVE
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    cifar.SHA256 = sha256_of(path)  # monkeypatched by `tiny`: restored after the test
    with pytest.raises(ValueError, match="not a readable tar.gz archive"):
        read_cifar10_arrays(tmp_path)


def test_a_wrong_checksum_is_refused(tiny, tmp_path):
    tiny(tmp_path, official_members(make_batches()))
    published = "c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd"
    cifar.SHA256 = published
    with pytest.raises(ChecksumError, match=f"expected {published}, got "):
        load_cifar10(tmp_path)


def test_the_archive_is_found_in_the_cache_and_named_when_missing(archive, tmp_path,
                                                                  monkeypatch):  # fmt: skip
    root, _ = archive
    monkeypatch.setenv("EMBER_DATA", str(tmp_path / "cache"))
    with pytest.raises(FileNotFoundError, match="cifar-10-binary.tar.gz is not in the cache"):
        read_cifar10_arrays(download=False)
    (tmp_path / "cache" / "cifar10").mkdir(parents=True)
    (root / cifar.ARCHIVE).rename(tmp_path / "cache" / "cifar10" / cifar.ARCHIVE)
    assert read_cifar10_arrays(download=False)["x_train"].shape == (5 * N, 3, 32, 32)
    with pytest.raises(FileNotFoundError, match="expected cifar-10-binary.tar.gz in the folder"):
        read_cifar10_arrays(root)


def test_members_are_read_by_exact_name_never_extracted(tiny, tmp_path):
    """A member outside the folder ("../…") does not stand in for the one that is missing,
    and nothing is written to disk."""
    members = official_members(make_batches())
    members[f"../{DIR}/data_batch_3.bin"] = members.pop(f"{DIR}/data_batch_3.bin")
    members[f"./{DIR}/test_batch.bin"] = members.pop(f"{DIR}/test_batch.bin")
    tiny(tmp_path / "root", members)
    before = sorted(p.name for p in tmp_path.rglob("*"))
    with pytest.raises(ValueError, match=f"lacks {DIR}/data_batch_3.bin, {DIR}/test_batch.bin"):
        read_cifar10_arrays(tmp_path / "root")
    assert sorted(p.name for p in tmp_path.rglob("*")) == before


def test_a_member_given_twice_is_refused(tiny, tmp_path):
    members = official_members(make_batches())
    again = records(*make_batches(seed=1)[5])
    tiny(tmp_path, [*members.items(), (f"{DIR}/test_batch.bin", again)])
    with pytest.raises(ValueError, match="the archive holds .*test_batch.bin twice"):
        read_cifar10_arrays(tmp_path)


@pytest.mark.parametrize("kind", [tarfile.SYMTYPE, tarfile.LNKTYPE])
def test_a_link_member_is_refused_not_followed(tiny, tmp_path, kind):
    members = official_members(make_batches())
    link = tarfile.TarInfo(f"{DIR}/data_batch_2.bin")
    link.type = kind
    link.linkname = f"{DIR}/data_batch_1.bin" if kind == tarfile.LNKTYPE else "/etc/passwd"
    members[link.name] = link
    tiny(tmp_path, members)
    with pytest.raises(ValueError, match="data_batch_2.bin should be a regular file.*not followed"):
        read_cifar10_arrays(tmp_path)


# ------------------------------------------------------------------ torchvision's CIFAR10


def test_cifar10_dataset_items_are_hwc_uint8_images(archive):
    root, batches = archive
    train, test = datasets.CIFAR10(root), datasets.CIFAR10(root, train=False)
    assert len(train) == 5 * N and len(test) == N
    assert train.data.shape == (5 * N, 32, 32, 3) and train.data.dtype == np.uint8
    assert train.targets == np.concatenate([y for _, y in batches[:5]]).tolist()
    assert train.classes == NAMES and train.class_to_idx["truck"] == 9
    img, target = train[0]
    assert img.shape == (32, 32, 3) and img.dtype == np.uint8 and target == 6
    assert (img[:, :, 1] == 77).all() and img[5, 3, 2] == 24 and img[1, 2, 0] == 34
    np.testing.assert_array_equal(test[-1][0], batches[5][0][-1].transpose(1, 2, 0))
    assert isinstance(test[-1][1], int) and test[-1][1] == batches[5][1][-1]
    assert "Number of datapoints: 35" in repr(train) and "Split: Test" in repr(test)
    with pytest.raises(IndexError, match=f"out of range for {N}"):
        test[N]
    train.data[0] = 0  # the dataset's own copy: the shared arrays are untouched
    assert read_cifar10_arrays(root)["x_train"][0, 1, 0, 0] == 77


def test_to_tensor_makes_a_chw_float_image_in_0_1(archive):
    root, _ = archive
    img, _ = datasets.CIFAR10(root)[0]
    x = transforms.ToTensor()(img)
    assert tuple(x.shape) == (3, 32, 32) and x.dtype == np.float32
    np.testing.assert_allclose(x.array, img.transpose(2, 0, 1) / 255, rtol=0, atol=1e-7)
    assert float(x.array.min()) >= 0.0 and float(x.array.max()) <= 1.0


def test_transforms_and_dataloader_batches(archive):
    root, _ = archive
    tf = transforms.Compose(
        [
            transforms.RandomCrop(32, padding=4),
            transforms.RandomHorizontalFlip(),
            transforms.ToTensor(),
            transforms.Normalize(cifar.MEAN, cifar.STD),
        ]
    )
    ds = datasets.CIFAR10(root, transform=tf, target_transform=lambda t: 9 - t)
    x, target = ds[0]
    assert tuple(x.shape) == (3, 32, 32) and target == 3
    batches = list(DataLoader(ds, batch_size=16, shuffle=True))
    assert [tuple(x.shape) for x, _ in batches] == [(16, 3, 32, 32)] * 2 + [(3, 3, 32, 32)]
    assert batches[0][0].dtype == np.float32 and batches[0][1].dtype == np.int64
    got = np.sort(np.concatenate([y.array for _, y in batches]))
    np.testing.assert_array_equal(got, np.sort(9 - np.array(ds.targets)))


# ------------------------------------------------------------------ ember train --data cifar10


def test_ember_train_mlp_on_cifar10(archive, tmp_path, capsys):
    root, _ = archive
    run = tmp_path / "run"
    argv = ["train", "mlp", "--data", "cifar10", "--data-root", str(root), "--steps", "2"]
    assert main([*argv, "--no-progress", "--run-dir", str(run)]) == 0
    assert f"run saved to {run}" in capsys.readouterr().out
    config = json.loads((run / "config.json").read_text())
    assert config["data"] == "cifar10" and config["batch_size"] == 128 and config["lr"] == 1e-3
    assert config["options"]["in_features"] == 3072 and config["options"]["num_classes"] == 10
    assert load_checkpoint(run)["loop"]["step"] == 2


def test_ember_train_resnet_on_cifar10_with_crops_padded_by_4(archive, tmp_path, capsys):
    root, _ = archive
    run = tmp_path / "run"
    argv = ["train", "resnet", "--data", "cifar10", "--data-root", str(root), "--steps", "2"]
    argv += ["--augment", "crop,hflip", "--no-progress", "--run-dir", str(run)]
    assert main(argv) == 0
    err = capsys.readouterr().err
    assert "augment crop:4,hflip" in err
    lows = load_cifar10(root).train.arrays[0].min(axis=(0, 2, 3))  # each channel's black
    assert "crops pad with (" + ", ".join(f"{v:.4g}" for v in lows) + ")" in err
    config = json.loads((run / "config.json").read_text())
    assert config["augment"] == "crop:4,hflip"
    assert config["options"]["input_shape"] == [3, 32, 32]
    assert load_checkpoint(run)["loop"]["step"] == 2
    assert any((run / "figures").glob("feature-maps-*/*.png"))
