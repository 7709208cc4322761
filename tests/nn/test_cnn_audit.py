"""Regressions from a PyTorch-parity audit of the convolution and normalisation layers."""

from __future__ import annotations

import numpy as np
import pytest

import ember
import ember.functional as F
from ember import nn
from ember.ops import conv as C


@pytest.fixture(params=["auto", "im2col", "shifted", "winograd"])
def policy(request, monkeypatch):
    monkeypatch.setattr(C, "POLICY", request.param)
    return request.param


@pytest.mark.parametrize("kernel,side", [(9, 2), (5, 4), (7, 4)])
def test_conv_kernel_larger_than_input_raises_on_every_path(policy, kernel, side):
    # the shifted GEMMs ran on such inputs and returned an empty or a garbage (2×2) output
    conv = nn.Conv2d(32, 32, kernel)
    x = ember.Tensor(np.ones((2, 32, side, side), dtype=np.float32))
    with pytest.raises(ValueError, match=rf"spatial size \({side}, {side}\).*kernel \({kernel}"):
        conv(x)


def test_conv1d_kernel_larger_than_input_names_the_length():
    with pytest.raises(ValueError, match=r"spatial size \(4,\) is smaller than the dilated kernel"):
        nn.Conv1d(3, 4, 5)(ember.Tensor(np.ones((2, 3, 4), dtype=np.float32)))


@pytest.mark.parametrize("kw", [dict(stride=0), dict(dilation=0), dict(dilation=(1, 0))])
def test_conv_non_positive_stride_or_dilation_raises(kw):
    # stride 0 divided by zero; dilation 0 silently convolved with the kernel's first tap
    x = ember.Tensor(np.ones((1, 3, 5, 5)))
    w = ember.Tensor(np.ones((2, 3, 3, 3)))
    with pytest.raises(ValueError, match="stride and dilation must be positive"):
        F.conv2d(x, w, **kw)
