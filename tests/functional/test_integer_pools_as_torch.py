"""Average pooling of integer tensors as torch 2.13: int64 windows are summed in int64 and
divided by the count (or divisor_override, negative too) rounding toward 0, as C's integer
division; ember multiplied by 1/count cast to the integer dtype, which is 0, so every output
was 0. Bool and the narrower integers have no kernel (torch's NotImplementedError), nor do the
adaptive average pools for any integer (their bins are fractions; ember gave zeros)."""

import numpy as np
import pytest

import ember

_POOLS = [
    (1, dict(kernel_size=2, stride=1)),
    (1, dict(kernel_size=3, stride=2, padding=1, count_include_pad=False)),
    (2, dict(kernel_size=(1, 2), stride=1)),
    (2, dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)),
    (2, dict(kernel_size=2, divisor_override=3)),
    (2, dict(kernel_size=(3, 1), stride=(2, 1), padding=(1, 0), divisor_override=-2)),
    (3, dict(kernel_size=2, stride=1)),
    (3, dict(kernel_size=(1, 2, 3), stride=2, padding=(0, 1, 1), count_include_pad=False)),
    (3, dict(kernel_size=2, divisor_override=-3, ceil_mode=True)),
]


@pytest.mark.parametrize(("dims", "kwargs"), _POOLS)
def test_int64_average_pooling_truncates_as_torch(torch, dims, kwargs):
    x = np.random.default_rng(dims).integers(-100, 100, (2, 3) + (5,) * dims)
    outs = []
    for lib in (ember, torch):
        pool = getattr(lib.nn.functional, f"avg_pool{dims}d")
        outs.append(pool(lib.tensor(x), **kwargs).numpy())
    assert outs[0].dtype == outs[1].dtype == np.int64
    np.testing.assert_array_equal(outs[0], outs[1])


_REFUSED = {
    "avg_pool1d int32": lambda lib: lib.nn.functional.avg_pool1d(lib.ones(1, 2, 4).int(), 2),
    "avg_pool2d bool": lambda lib: lib.nn.functional.avg_pool2d(lib.ones(1, 1, 4, 4).bool(), 2),
    "avg_pool2d uint8": lambda lib: lib.nn.functional.avg_pool2d(lib.ones(1, 1, 4, 4).byte(), 2),
    "avg_pool3d int16": lambda lib: lib.nn.functional.avg_pool3d(
        lib.ones(1, 1, 2, 2, 2).short(), 1
    ),
    "adaptive 1d int64": lambda lib: lib.nn.functional.adaptive_avg_pool1d(
        lib.ones(1, 2, 4).long(), 2
    ),
    "adaptive 2d int64": lambda lib: lib.nn.functional.adaptive_avg_pool2d(
        lib.ones(1, 1, 4, 4).long(), 2
    ),
    "adaptive 2d bool": lambda lib: lib.nn.functional.adaptive_avg_pool2d(
        lib.ones(1, 1, 4, 4).bool(), 1
    ),
    "adaptive 3d int32": lambda lib: lib.nn.functional.adaptive_avg_pool3d(
        lib.ones(1, 1, 2, 4, 4).int(), 2
    ),
}


@pytest.mark.parametrize("name", sorted(_REFUSED))
def test_pools_without_an_integer_kernel_refuse_as_torch(torch, name):
    """(A global adaptive pool is torch's mean, whose refusal is a RuntimeError.)"""
    refused = []
    for lib in (ember, torch):
        with pytest.raises((NotImplementedError, RuntimeError)) as caught:
            _REFUSED[name](lib)
        refused.append(isinstance(caught.value, NotImplementedError))
    assert refused[0] == refused[1]


@pytest.mark.parametrize("name", ["adaptive_avg_pool1d", "adaptive_avg_pool2d"])
def test_an_empty_integer_adaptive_pool_is_not_refused(torch, name):
    """torch's kernel, and so its dtype check, runs only when there is an output element."""
    outs = []
    for lib in (ember, torch):
        x = lib.tensor([[[1, 2], [3, 4]]])
        outs.append(getattr(lib.nn.functional, name)(x[0] if "1d" in name else x, 0))
    assert [tuple(o.shape) for o in outs][0] == tuple(outs[1].shape)
    assert outs[0].dtype == ember.int64
