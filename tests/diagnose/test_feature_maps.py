"""Feature maps and filters: what the hooks capture equals the layers' outputs; PNGs written."""

from __future__ import annotations

import numpy as np
import pytest

import ember
import ember.functional as F
from ember.diagnose.feature_maps import (
    capture_feature_maps,
    conv_layers,
    first_conv_filters,
    save_feature_maps,
)
from ember.models import get_model

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_capture_equals_direct_conv_outputs_and_restores_mode():
    model = get_model("lenet")["builder"]()
    model.train()
    x = ember.randn(2, 1, 28, 28)
    maps = capture_feature_maps(model, x)
    assert list(maps) == ["conv1", "conv2"]
    h1 = F.conv2d(x, model.conv1.weight, model.conv1.bias, padding=2)
    np.testing.assert_allclose(maps["conv1"], h1.array, rtol=1e-6)
    h2 = F.conv2d(F.max_pool2d(h1.relu(), 2), model.conv2.weight, model.conv2.bias)
    np.testing.assert_allclose(maps["conv2"], h2.array, rtol=1e-5, atol=1e-6)
    assert model.training  # put back as it was
    assert not model.conv1._forward_hooks  # hooks removed


def test_resnet_has_every_conv_including_downsample():
    model = get_model("resnet")["builder"](width=4, layers=(1, 1))
    names = [n for n, _ in conv_layers(model)]
    assert names[0] == "conv1" and "layer2.0.downsample.0" in names
    maps = capture_feature_maps(model, ember.randn(1, 1, 12, 12))
    assert maps["layer2.0.conv1"].shape == (1, 8, 6, 6)
    name, w = first_conv_filters(model)
    assert name == "conv1" and w.shape == (4, 1, 3, 3)


@pytest.mark.parametrize("name,shape", [("lenet", (3, 1, 28, 28)), ("cnn1d", (3, 40))])
def test_save_feature_maps_writes_pngs(tmp_path, name, shape):
    model = get_model(name)["builder"]()
    captions = {}
    x = ember.randn(*shape)
    paths = save_feature_maps(model, x, tmp_path, sample=1, max_channels=4, captions=captions)
    n_convs = len(conv_layers(model))
    assert sorted(captions) == sorted(paths) and captions[paths[0]] == "the input (sample 1)"
    assert (
        captions[paths[1]] == f"feature maps of {next(iter(conv_layers(model)))[0]} for the input"
    )
    assert len(paths) == n_convs + 2  # input, one per conv layer, first-layer filters
    for p in paths:
        assert p.read_bytes()[:8] == PNG_MAGIC and p.stat().st_size > 1000


def test_models_without_convolutions_are_refused():
    with pytest.raises(ValueError, match="no Conv1d/Conv2d"):
        capture_feature_maps(get_model("mlp1d")["builder"](), ember.randn(1, 40))
