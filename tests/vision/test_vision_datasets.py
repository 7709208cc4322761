"""ember.vision.datasets on the shared copies of MNIST and Fashion-MNIST: torchvision's
constructor and items, the same pixels as ember.data's loaders, transforms in DataLoader
workers (seeded), and the errors."""

from __future__ import annotations

import numpy as np
import pytest

import ember
from ember.data import DataLoader, load_mnist, read_mnist_arrays
from ember.vision import datasets, transforms


def test_mnist_items_are_uint8_images_and_int_targets(shared_data):
    train = datasets.MNIST(shared_data / "mnist", train=True)
    test = datasets.MNIST(shared_data / "mnist", train=False)
    assert len(train) == 60000 and len(test) == 10000
    raw = read_mnist_arrays("mnist", shared_data / "mnist")
    img, target = test[7]
    assert img.dtype == np.uint8 and img.shape == (28, 28) and isinstance(target, int)
    np.testing.assert_array_equal(img, raw["x_test"][7])
    assert target == raw["y_test"][7] and test[-1][1] == raw["y_test"][-1]
    assert train.data.shape == (60000, 28, 28) and train.targets.dtype == np.int64
    assert train.class_to_idx["7 - seven"] == 7
    assert "Number of datapoints: 60000" in repr(train) and "Split: Train" in repr(train)
    with pytest.raises(IndexError, match="out of range for 10000"):
        test[10000]


def test_to_tensor_and_normalize_give_ember_data_s_standardised_inputs(shared_data):
    tf = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.1307,), (0.3081,))])
    test = datasets.MNIST(shared_data / "mnist", train=False, transform=tf)
    ref = load_mnist(shared_data / "mnist").test
    for i in (0, 1234, 9999):
        x, y = test[i]
        want_x, want_y = ref[i]
        assert x.shape == (1, 28, 28) and y == int(want_y.item())
        np.testing.assert_allclose(x.array, want_x.array, rtol=1e-6, atol=1e-6)


def test_fashion_mnist_from_a_folder_holding_many_datasets(shared_data):
    ds = datasets.FashionMNIST(shared_data, train=False, target_transform=lambda t: t * 10)
    img, target = ds[0]
    assert img.shape == (28, 28) and target == 90  # an ankle boot, class 9, transformed
    assert ds.classes[9] == "Ankle boot" and len(ds.classes) == 10


def test_augmented_batches_from_workers_repeat_under_a_seed(shared_data):
    tf = transforms.Compose(
        [
            transforms.RandomCrop(28, padding=4),
            transforms.RandomHorizontalFlip(),
            transforms.ToTensor(),
        ]
    )
    ds = datasets.MNIST(shared_data / "mnist", train=False, transform=tf)

    def first_batches():
        ember.manual_seed(5)
        loader = DataLoader(ds, batch_size=32, shuffle=True, num_workers=2)
        return [x.array.copy() for (x, _), _ in zip(loader, range(3))]

    a, b = first_batches(), first_batches()
    assert a[0].shape == (32, 1, 28, 28) and a[0].dtype == np.float32
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u, v)


def test_a_missing_folder_says_where_it_looked(tmp_path):
    with pytest.raises(
        FileNotFoundError, match="expected train-images-idx3-ubyte.gz in the folder"
    ):
        datasets.MNIST(tmp_path)
