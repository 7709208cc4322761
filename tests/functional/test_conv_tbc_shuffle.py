"""F.conv_tbc and F.native_channel_shuffle against torch (values, float64 gradients, errors)."""

import numpy as np
import pytest

import ember
import ember.nn.functional as F


@pytest.mark.parametrize("pad", [0, 1, 2])
@pytest.mark.parametrize("kernel", [1, 3])
def test_conv_tbc_matches_torch(torch, pad, kernel):
    rng = np.random.default_rng(kernel + 10 * pad)
    arrays = (
        rng.standard_normal((7, 2, 3)),
        rng.standard_normal((kernel, 3, 4)),
        rng.standard_normal(4),
    )
    ours = [ember.tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    ye, yt = F.conv_tbc(*ours, pad), torch.conv_tbc(*theirs, pad)
    assert tuple(ye.shape) == tuple(yt.shape)
    g = rng.standard_normal(tuple(yt.shape))
    (ye * ember.tensor(g)).sum().backward()
    (yt * torch.tensor(g)).sum().backward()
    np.testing.assert_allclose(ye.detach().numpy(), yt.detach().numpy(), rtol=1e-12, atol=1e-12)
    for e, t in zip(ours, theirs):
        np.testing.assert_allclose(e.grad.numpy(), t.grad.numpy(), rtol=1e-12, atol=1e-12)
    top_level = ember.conv_tbc(*ours, pad)  # torch.conv_tbc's place
    np.testing.assert_array_equal(top_level.detach().numpy(), ye.detach().numpy())


def test_conv_tbc_says_which_shapes_disagree():
    x, w, b = ember.zeros(5, 2, 3), ember.zeros(3, 4, 4), ember.zeros(4)
    with pytest.raises(RuntimeError, match="do not agree"):
        F.conv_tbc(x, w, b)
    with pytest.raises(RuntimeError, match="must be 3-D"):
        F.conv_tbc(ember.zeros(5, 3), w, b)


def test_native_channel_shuffle_is_channel_shuffle(torch):
    a = np.arange(2 * 6 * 3, dtype=np.float64).reshape(2, 6, 3)
    got = F.native_channel_shuffle(ember.tensor(a), 3)
    want = torch.nn.functional.native_channel_shuffle(torch.tensor(a), 3)
    np.testing.assert_array_equal(got.numpy(), want.numpy())
