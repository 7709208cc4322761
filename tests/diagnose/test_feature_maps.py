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


def test_feature_map_figures_are_figures_keyed_by_layer():
    """One Figure per key, input first, filters last; each grid has one axes per map shown."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    import ember.diagnose as diagnose

    model = get_model("lenet")["builder"]()
    captions = {}
    figs = diagnose.feature_map_figures(
        model, ember.randn(2, 1, 28, 28), sample=1, max_channels=4, captions=captions
    )
    assert list(figs) == ["input", "conv1", "conv2", "filters"]
    assert captions == {
        "input": "the input (sample 1)",
        "conv1": "feature maps of conv1 for the input",
        "conv2": "feature maps of conv2 for the input",
        "filters": "the filters of conv1",
    }
    for fig in figs.values():
        assert isinstance(fig, Figure) and isinstance(fig.canvas, FigureCanvasAgg)
    # lenet: conv1 has 6 channels (4 shown), conv2 16 (4 shown); conv1's filters are (6, 1, 5, 5):
    # the first 4, one input channel each
    for key, n in (("input", 1), ("conv1", 4), ("conv2", 4), ("filters", 4)):
        axes = figs[key].axes
        assert len(axes) == n and all(len(ax.images) == 1 for ax in axes)
    assert figs["conv2"].axes[0].images[0].get_array().shape == (10, 10)
    assert figs["conv1"]._suptitle.get_text().startswith("conv1: feature maps (4 of 6 channels")


def test_feature_map_figures_of_a_1d_cnn_are_curves():
    from ember.diagnose.feature_maps import feature_map_figures

    model = get_model("cnn1d")["builder"]()
    figs = feature_map_figures(model, ember.randn(3, 40), max_channels=3)
    names = [n for n, _ in conv_layers(model)]
    assert list(figs) == ["input", *names, "filters"]
    for name in names:
        assert len(figs[name].axes) == 3 and all(len(ax.lines) == 1 for ax in figs[name].axes)


def test_save_writes_the_figures_of_feature_map_figures(tmp_path):
    """One code path: the PNGs are the figures, drawn again, at 100 dpi, under fixed names."""
    import io

    from ember.diagnose.feature_maps import feature_map_figures

    model = get_model("lenet")["builder"]()
    x = ember.randn(2, 1, 28, 28)
    paths = save_feature_maps(model, x, tmp_path, max_channels=4)
    assert [p.name for p in paths] == [
        "input.png", "feature_maps_00_conv1.png", "feature_maps_01_conv2.png", "filters_conv1.png",
    ]  # fmt: skip
    for path, fig in zip(paths, feature_map_figures(model, x, max_channels=4).values()):
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=100)
        assert path.read_bytes() == buf.getvalue()
