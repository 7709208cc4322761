"""torch's older hook-based weight_norm / spectral_norm (nn.utils.weight_norm …): names,
outputs, gradients, power iterations and removal against torch."""

import warnings

import numpy as np
import pytest

import ember
from ember import nn
from ember.nn import utils
from tests.core_reference import compare_with_torch, randn


def _quiet(fn, *args, **kw):
    with warnings.catch_warnings():  # torch deprecates these in favour of parametrizations
        warnings.simplefilter("ignore")
        return fn(*args, **kw)


@pytest.mark.parametrize("dim", [0, 1, None])
@pytest.mark.parametrize(
    "make, shape",
    [(lambda m: m.Linear(5, 4), (3, 5)), (lambda m: m.Conv1d(3, 4, 3), (2, 3, 9))],
)
def test_weight_norm_matches_torch(torch, make, shape, dim):
    ours = utils.weight_norm(make(nn), dim=dim)
    theirs = _quiet(torch.nn.utils.weight_norm, make(torch.nn), dim=dim)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert list(ours.named_buffers()) == []
    theirs.load_state_dict({k: torch.tensor(v.array) for k, v in ours.state_dict().items()})
    compare_with_torch(torch, ours.double(), theirs.double(), [randn(*shape)])
    w = ours.weight_v.array * (
        ours.weight_g.array
        / np.sqrt(
            (ours.weight_v.array**2).sum(
                axis=None
                if dim is None
                else tuple(a for a in range(ours.weight_v.ndim) if a != dim),
                keepdims=dim is not None,
            )
        )
    )
    np.testing.assert_allclose(ours.weight.array, w, rtol=1e-12)  # fmt: skip
    utils.remove_weight_norm(ours)
    assert [n for n, _ in ours.named_parameters()] == ["bias", "weight"]
    np.testing.assert_allclose(ours.weight.array, w, rtol=1e-12)


@pytest.mark.parametrize(
    "make, shape",
    [
        (lambda m: m.Linear(6, 4), (2, 6)),
        (lambda m: m.Conv2d(3, 5, 3), (2, 3, 5, 5)),
        (lambda m: m.ConvTranspose2d(3, 5, 3), (2, 3, 4, 4)),
    ],
)
def test_spectral_norm_matches_torch(torch, make, shape):
    ours = utils.spectral_norm(make(nn))
    theirs = _quiet(torch.nn.utils.spectral_norm, make(torch.nn))
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [n for n, _ in ours.named_buffers()] == ["weight_u", "weight_v"]
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    ours, theirs = ours.double(), theirs.double()
    x = randn(*shape, seed=3)
    for _ in range(3):  # one power iteration per training forward, the same on both sides
        for p in list(ours.parameters()) + list(theirs.parameters()):
            p.grad = None
        compare_with_torch(torch, ours, theirs, [x])
    np.testing.assert_allclose(ours.weight_u.array, theirs.weight_u.numpy(), rtol=1e-10)
    ours.eval(), theirs.eval()
    compare_with_torch(torch, ours, theirs, [x], grad=False)
    utils.remove_spectral_norm(ours)
    assert isinstance(ours.weight, nn.Parameter) and "weight_orig" not in ours.state_dict()


def test_hook_errors():
    lin = utils.weight_norm(nn.Linear(3, 2))
    with pytest.raises(RuntimeError, match="two weight_norm hooks"):
        utils.weight_norm(lin)
    with pytest.raises(ValueError, match="spectral_norm of 'weight' not found"):
        utils.remove_spectral_norm(lin)
    with pytest.raises(ValueError, match="no parameter 'kernel'"):
        utils.weight_norm(nn.Linear(3, 2), name="kernel")
    with pytest.raises(ValueError, match="n_power_iterations to be positive"):
        utils.spectral_norm(nn.Linear(3, 2), n_power_iterations=0)
    ember.manual_seed(0)
    lin = utils.spectral_norm(nn.Linear(8, 6))
    for _ in range(30):
        lin(ember.randn(2, 8))
    assert abs(np.linalg.svd(lin.weight.array, compute_uv=False)[0] - 1.0) < 1e-4
