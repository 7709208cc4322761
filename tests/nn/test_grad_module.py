"""torch.nn.grad (ember/nn/grad.py, also F.grad): the convolutions' input and weight gradients
against torch's on a grid of strides, paddings, dilations and groups, float64; their
gradients again (they are differentiable where the given tensors require grad); the errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ember
import ember.nn.functional as F
import ember.nn.grad as eg

RNG = np.random.default_rng(3)

CASES = [  # dims, (N, C, *spatial), (O, C/g, *kernel), stride, padding, dilation, groups
    (1, (2, 4, 11), (6, 2, 3), 2, 1, 1, 2),
    (1, (1, 3, 9), (2, 3, 4), 1, "same", 2, 1),  # ember takes F.conv's strings; torch: 3
    (2, (2, 4, 9, 8), (6, 2, 3, 3), 2, 1, 1, 2),
    (2, (1, 3, 7, 7), (4, 3, 2, 3), (1, 2), (0, 1), (2, 1), 1),
    (2, (3, 2, 5, 6), (2, 2, 3, 3), 1, "valid", 1, 1),  # torch: 0
    (3, (1, 2, 5, 6, 4), (4, 1, 2, 3, 2), (1, 2, 1), 1, 1, 2),
]


def _conv(lib, dims):
    f = {1: "conv1d", 2: "conv2d", 3: "conv3d"}[dims]
    return getattr(lib.nn.functional, f), f


@pytest.mark.parametrize("case", CASES, ids=[f"case{i}" for i in range(len(CASES))])
def test_input_and_weight_gradients_match_torch(case):
    dims, xs, ws, stride, padding, dilation, groups = case
    x, w = RNG.standard_normal(xs), RNG.standard_normal(ws)
    conv, name = _conv(torch, dims)
    y = conv(torch.tensor(x), torch.tensor(w), None, stride, padding, dilation, groups)
    torch_args = (stride, {"same": 3, "valid": 0}.get(padding, padding), dilation, groups)
    go = RNG.standard_normal(tuple(y.shape))
    args = (stride, padding, dilation, groups)
    for lib, mod, T in ((ember, eg, ember.tensor), (torch, torch.nn.grad, torch.tensor)):
        a = args if lib is ember else torch_args
        gi = getattr(mod, f"{name}_input")(xs, T(w), T(go), *a)
        gw = getattr(mod, f"{name}_weight")(T(x), ws, T(go), *a)
        if lib is ember:
            got = gi.numpy(), gw.numpy()
        else:
            want = gi.numpy(), gw.numpy()
    for g, t in zip(got, want):
        np.testing.assert_allclose(g, t, rtol=1e-10, atol=1e-12)


def test_the_module_is_f_grad_and_its_results_are_differentiable():
    assert F.grad is ember.nn.grad
    x, w = RNG.standard_normal((2, 3, 6, 6)), RNG.standard_normal((4, 3, 3, 3))
    go = RNG.standard_normal((2, 4, 4, 4))
    out = {}
    for lib, mod in ((ember, eg), (torch, torch.nn.grad)):
        wt, got = lib.tensor(w, requires_grad=True), lib.tensor(go, requires_grad=True)
        gi = mod.conv2d_input(x.shape, wt, got)
        (gi * gi).sum().backward()
        out[lib.__name__] = (gi.detach().numpy(), wt.grad.numpy(), got.grad.numpy())
    for g, t in zip(out["ember"], out["torch"]):
        np.testing.assert_allclose(g, t, rtol=1e-10, atol=1e-12)
    assert not eg.conv2d_input(x.shape, ember.tensor(w), ember.tensor(go)).requires_grad


def test_errors_name_the_mismatch():
    w = ember.tensor(RNG.standard_normal((4, 3, 3, 3)))
    with pytest.raises(ValueError, match=r"grad_output has shape \[2, 4, 5, 5\].*\[2, 4, 4, 4\]"):
        eg.conv2d_input((2, 3, 6, 6), w, ember.zeros(2, 4, 5, 5, dtype=ember.float64))
    with pytest.raises(ValueError, match="input_size: expected 4 sizes"):
        eg.conv2d_input((6, 6), w, ember.zeros(2, 4, 4, 4, dtype=ember.float64))
    with pytest.raises(ValueError, match="weight_size needs 4 sizes"):
        eg.conv2d_weight(ember.zeros(2, 3, 6, 6), (4, 3, 3), ember.zeros(2, 4, 4, 4))
