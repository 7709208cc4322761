"""torch's class hierarchy in ember.nn: a torch.nn layer derives from another exactly where
torch's does (SiLU is no ReLU, ReLU6 is a Hardtanh, ZeroPad2d a ConstantPad2d, a lazy norm no
BatchNorm until built, …); the class-weighted losses keep ``weight`` as a buffer (torch's
_WeightedLoss) and a loss written on _Loss keeps any reduction, as torch's."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import ember  # noqa: E402
from ember import nn  # noqa: E402
from ember.nn.loss import _Loss, _WeightedLoss  # noqa: E402


def _shared_classes() -> dict:
    pairs = {}
    for n in dir(torch.nn):
        theirs = getattr(torch.nn, n)
        if inspect.isclass(theirs) and issubclass(theirs, torch.nn.Module) and hasattr(nn, n):
            pairs[theirs] = getattr(nn, n)
    return pairs


def test_torch_nn_layers_derive_from_each_other_as_torchs():
    pairs = _shared_classes()
    assert len(pairs) > 150
    wrong = [
        f"issubclass({cls.__name__}, {base.__name__})"
        for torch_base, base in pairs.items()
        for torch_cls, cls in pairs.items()
        if issubclass(torch_cls, torch_base) != issubclass(cls, base)
    ]
    assert not wrong, wrong


def test_some_relations():
    assert not isinstance(nn.SiLU(), nn.ReLU) and isinstance(nn.ReLU6(), nn.Hardtanh)
    assert (nn.ReLU6().min_val, nn.ReLU6().max_val) == (0.0, 6.0)
    assert isinstance(nn.ZeroPad2d(1), nn.ConstantPad2d)
    assert not isinstance(nn.AvgPool3d(2), nn.AvgPool2d)
    assert nn.ConvTranspose2d(2, 2, 3).transposed and not nn.Conv2d(2, 2, 3).transposed
    assert isinstance(nn.CrossEntropyLoss(), _WeightedLoss)
    assert not isinstance(nn.BCEWithLogitsLoss(), _WeightedLoss)


@pytest.mark.parametrize("name", ["BatchNorm1d", "InstanceNorm2d"])
def test_a_lazy_norm_is_the_concrete_layer_only_once_built(name):
    x = np.random.default_rng(0).standard_normal((2, 3, 4, 5)[: 3 if name[-2] == "1" else 4])
    for lib, tensor in ((nn, ember.tensor), (torch.nn, torch.tensor)):
        m = getattr(lib, "Lazy" + name)()
        assert not isinstance(m, getattr(lib, name))
        m(tensor(x, dtype=m.weight.dtype if lib is nn else torch.float32))
        assert type(m) is getattr(lib, name)


@pytest.mark.parametrize(
    "name",
    [
        "CrossEntropyLoss",
        "NLLLoss",
        "BCELoss",
        "MultiLabelSoftMarginLoss",
        "MultiMarginLoss",
        "BCEWithLogitsLoss",
    ],  # fmt: skip
)
def test_the_weights_of_torchs_losses_are_in_the_state_dict_as_torchs(name):
    w = np.ones(3, dtype=np.float32)
    for kwargs in ({}, {"weight": w}, {"weight": w, "pos_weight": w}):
        if "pos_weight" in kwargs and name != "BCEWithLogitsLoss":
            continue
        e = getattr(nn, name)(**{k: ember.tensor(v) for k, v in kwargs.items()})
        t = getattr(torch.nn, name)(**{k: torch.tensor(v) for k, v in kwargs.items()})
        assert list(e.state_dict()) == list(t.state_dict())


def test_a_loss_on_loss_keeps_any_reduction_as_torchs():
    class MyLoss(_Loss):
        pass

    assert MyLoss().reduction == "mean" and MyLoss(reduction="batchmean").reduction == "batchmean"
    with pytest.raises(ValueError, match="reduction"):
        nn.MSELoss(reduction="batchmean")  # ember's own losses still check theirs
