"""One unbatched sample, (C, L) or (C, H, W), through convolutions and pools: torch's output
without the batch axis, and its gradients."""

import numpy as np
import pytest

import ember
from ember import nn

CASES = [
    ("Conv2d", (3, 4, 3), dict(padding=1, stride=2), (3, 9, 8)),
    ("Conv1d", (3, 5, 3), dict(dilation=2), (3, 11)),
    ("ConvTranspose2d", (3, 2, 3), dict(stride=2, output_padding=1), (3, 5, 6)),
    ("ConvTranspose1d", (3, 2, 4), dict(stride=3), (3, 7)),
    ("MaxPool2d", (3,), dict(stride=2, padding=1), (2, 9, 8)),
    ("MaxPool1d", (2,), dict(), (2, 9)),
    ("AvgPool2d", (2,), dict(count_include_pad=False, padding=1), (2, 7, 7)),
    ("AvgPool1d", (3,), dict(stride=1), (2, 9)),
]


@pytest.mark.parametrize("name, args, kwargs, shape", CASES, ids=[c[0] for c in CASES])
def test_unbatched_input_matches_torch(torch, name, args, kwargs, shape):
    ours, theirs = getattr(nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs)
    state = {k: torch.tensor(v.array) for k, v in ours.state_dict().items()}
    theirs.load_state_dict(state)
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    ex, tx = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ey, ty = ours(ex), theirs(tx)
    assert ey.shape == tuple(ty.shape) and ey.ndim == len(shape)
    np.testing.assert_allclose(ey.array, ty.detach().numpy(), rtol=1e-5, atol=1e-6)
    g = np.random.default_rng(1).standard_normal(ey.shape).astype(np.float32)
    ey.backward(ember.tensor(g))
    ty.backward(torch.tensor(g))
    np.testing.assert_allclose(ex.grad.array, tx.grad.numpy(), rtol=1e-5, atol=1e-6)


def test_max_pool_indices_come_back_unbatched_as_torch(torch):
    x = np.random.default_rng(0).standard_normal((2, 6, 6)).astype(np.float32)
    y, i = nn.MaxPool2d(2, return_indices=True)(ember.tensor(x))
    ty, ti = torch.nn.MaxPool2d(2, return_indices=True)(torch.tensor(x))
    np.testing.assert_array_equal(i.array, ti.numpy())
    np.testing.assert_allclose(y.array, ty.numpy())


def test_a_wrong_rank_names_both_accepted_forms():
    with pytest.raises(ValueError, match=r"expected a 3-D \(C, H, W\) or 4-D \(N, C, H, W\)"):
        nn.Conv2d(3, 4, 3)(ember.randn(8, 8))
    with pytest.raises(ValueError, match=r"expected a 2-D \(C, L\) or 3-D \(N, C, L\)"):
        nn.MaxPool1d(2)(ember.randn(1, 2, 3, 8))
