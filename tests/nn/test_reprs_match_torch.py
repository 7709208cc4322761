"""Every torch.nn layer that ember has prints as torch's: built with the first of a few simple
argument lists torch accepts, and with options set (losses show no fields, ZeroPad its
padding, MultiheadAttention only its out_proj, ModuleList runs as "(0-5): 6 x ...")."""

from __future__ import annotations

import inspect
import warnings

import pytest
import torch

import ember

CANDIDATES = [(), (4,), (4, 3), (3, 4, 3), (4, 4, 2), (1,), ((1, 2),), (2, 0.5)]
CONTAINERS = {"Module", "Sequential", "ModuleList", "ModuleDict", "ParameterList",
              "ParameterDict", "Container", "RNNCellBase", "RNNBase"}  # fmt: skip


def _layers():
    for name in sorted(dir(torch.nn)):
        theirs = getattr(torch.nn, name)
        if (inspect.isclass(theirs) and issubclass(theirs, torch.nn.Module)
                and hasattr(ember.nn, name) and name not in CONTAINERS):  # fmt: skip
            yield name


@pytest.mark.parametrize("name", list(_layers()))
def test_repr_with_simple_arguments(name):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for args in CANDIDATES:
            try:
                theirs = getattr(torch.nn, name)(*args)
            except Exception:  # noqa: BLE001 - not an argument list torch takes: try the next
                continue
            assert repr(getattr(ember.nn, name)(*args)) == repr(theirs)
            return
    pytest.skip("no simple argument list builds it")


OPTIONS = [
    ("LSTMCell", (2, 3), {"bias": False}),
    ("RNN", (2, 3), {"nonlinearity": "relu", "dropout": 0.5, "num_layers": 2}),
    (
        "LSTM",
        (2, 3),
        {"num_layers": 2, "batch_first": True, "bidirectional": True, "proj_size": 2},
    ),  # fmt: skip
    (
        "Conv2d",
        (2, 4, 3),
        {
            "stride": 2,
            "padding": 1,
            "dilation": 2,
            "groups": 2,
            "bias": False,
            "padding_mode": "reflect",
        },
    ),  # fmt: skip
    ("ConvTranspose2d", (2, 4, 3), {"output_padding": 1, "stride": 2}),
    ("BatchNorm2d", (4,), {"momentum": None, "affine": False}),
    ("Embedding", (10, 3), {"padding_idx": 0, "max_norm": 1.0}),
    ("MaxPool2d", (2,), {"return_indices": True, "ceil_mode": True}),
    ("AvgPool2d", (3,), {"count_include_pad": False, "divisor_override": 2}),
    ("MultiheadAttention", (4, 2), {"kdim": 3, "vdim": 5}),
    ("Transformer", (8, 2, 1, 1, 16), {}),
    ("Upsample", (), {"scale_factor": 2, "mode": "bilinear", "align_corners": True}),
    ("CrossEntropyLoss", (), {"label_smoothing": 0.1}),
    ("CTCLoss", (), {"blank": 2, "zero_infinity": True}),
    ("ZeroPad2d", ((1, 2, 3, 4),), {}),
    ("MaxUnpool3d", (2,), {"stride": 1}),
    ("AdaptiveLogSoftmaxWithLoss", (8, 10, [4]), {}),
]


@pytest.mark.parametrize("name, args, kwargs", OPTIONS, ids=[o[0] for o in OPTIONS])
def test_repr_with_options(name, args, kwargs):
    assert repr(getattr(ember.nn, name)(*args, **kwargs)) == repr(
        getattr(torch.nn, name)(*args, **kwargs)
    )


def test_module_list_runs_of_equal_children():
    def build(nn):
        return nn.ModuleList([nn.ReLU(), nn.ReLU(), nn.Tanh(), nn.Linear(2, 2), nn.ReLU()])

    assert repr(build(ember.nn)) == repr(build(torch.nn))
    assert repr(ember.nn.ModuleList()) == repr(torch.nn.ModuleList()) == "ModuleList()"
