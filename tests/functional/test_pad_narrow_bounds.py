"""F.pad with negative pads (they crop, as torch's) and narrow's bounds, against torch."""

import numpy as np
import pytest

import ember
import ember.nn.functional as F

A = np.arange(24, dtype=np.float64).reshape(2, 3, 4)


@pytest.mark.parametrize("pad", [(-1, 2), (1, -2), (-2, -2), (0, 0, -1, 1), (-1, -1, 2, -1),
                                 (-4, 0)])  # fmt: skip
def test_negative_pads_crop_as_torch(torch, pad):
    xe, xt = ember.tensor(A, requires_grad=True), torch.tensor(A, requires_grad=True)
    ye, yt = F.pad(xe, pad, value=7.0), torch.nn.functional.pad(xt, pad, value=7.0)
    assert tuple(ye.shape) == tuple(yt.shape)
    np.testing.assert_array_equal(ye.detach().numpy(), yt.detach().numpy())
    g = np.random.default_rng(0).standard_normal(tuple(yt.shape))
    (ye * ember.tensor(g)).sum().backward()
    (yt * torch.tensor(g)).sum().backward()
    np.testing.assert_array_equal(xe.grad.numpy(), xt.grad.numpy())


def test_cropping_past_the_size_is_torchs_error(torch):
    with pytest.raises(RuntimeError, match="length must be non-negative"):
        torch.nn.functional.pad(torch.tensor(A), (-3, -2))
    with pytest.raises(RuntimeError, match="length must be non-negative"):
        F.pad(ember.tensor(A), (-3, -2))


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
@pytest.mark.parametrize("size, pad", [(1, (0, -1)), (1, (-1, -1)), (3, (-1, -1)), (3, (-2, -1))])
def test_negative_pads_of_the_gathering_modes_keep_torchs_limits(torch, mode, size, pad):
    # reflect and replicate need at least one element left, circular none; ember cropped to
    # 0 elements (and circular to "-1", an empty dim) where torch refuses
    x = np.arange(2.0 * size).reshape(1, 2, size)
    try:
        ref = torch.nn.functional.pad(torch.tensor(x), pad, mode=mode)
    except RuntimeError:
        with pytest.raises(ValueError, match="too small|resulting in an empty dimension"):
            F.pad(ember.tensor(x), pad, mode=mode)
    else:
        np.testing.assert_array_equal(F.pad(ember.tensor(x), pad, mode=mode).array, ref.numpy())


@pytest.mark.parametrize("args", [(1, 8, 5), (1, 11, 1), (1, 2, -1), (1, -12, 1), (0, 1, 5)])
def test_narrow_refuses_what_torch_refuses_with_its_message(torch, args):
    b = np.arange(20.0).reshape(2, 10)
    with pytest.raises(Exception) as want:
        torch.tensor(b).narrow(*args)
    with pytest.raises(type(want.value)) as got:
        ember.tensor(b).narrow(*args)
    assert str(got.value) == str(want.value)
    with pytest.raises(type(want.value)):
        ember.tensor(b).narrow_copy(*args)


def test_narrow_on_a_missing_dim_is_an_index_error(torch):
    with pytest.raises(IndexError):
        torch.zeros(2, 3).narrow(2, 0, 1)
    with pytest.raises(IndexError, match="dim 2 is out of range"):
        ember.zeros(2, 3).narrow(2, 0, 1)


def test_narrow_takes_a_negative_start_as_torch(torch):
    b = np.arange(20.0).reshape(2, 10)
    got = ember.tensor(b).narrow(1, -3, 2)
    want = torch.tensor(b).narrow(1, -3, 2)
    np.testing.assert_array_equal(got.numpy(), want.numpy())
