"""A float64 input into a float32 layer is an error, as in torch, for every layer kind.

NumPy arrays default to float64 while layers default to float32; promoting silently would
give a float64 output (and float64 speed) from a float32 model. Conv and the recurrent
layers already refused; Linear and the normalisation layers now do too, naming both dtypes.
"""

import numpy as np
import pytest

import ember
from ember import nn

LAYERS = [
    (lambda: nn.Linear(3, 2), (4, 3), "linear"),
    (lambda: nn.LayerNorm(3), (4, 3), "layer_norm"),
    (lambda: nn.BatchNorm1d(3), (4, 3), "batch_norm"),
    (lambda: nn.BatchNorm1d(3, affine=False), (4, 3), "batch_norm"),
    (lambda: nn.BatchNorm2d(3).eval(), (2, 3, 4, 4), "batch_norm"),
    (lambda: nn.GroupNorm(1, 3), (4, 3, 5), "group_norm"),
]


@pytest.mark.parametrize("make,shape,name", LAYERS)
def test_float64_input_into_a_float32_layer_raises_like_torch(torch, make, shape, name):
    x = np.random.default_rng(0).standard_normal(shape)  # float64
    with pytest.raises(TypeError, match=rf"{name}: input dtype float64 and \w+ dtype float32"):
        make()(ember.tensor(x))
    # torch refuses the same call
    tmod = {"linear": lambda: torch.nn.Linear(3, 2), "layer_norm": lambda: torch.nn.LayerNorm(3)}
    if name in tmod:
        with pytest.raises(RuntimeError):
            tmod[name]()(torch.tensor(x))
    # and the matching dtype runs
    assert make()(ember.tensor(x.astype(np.float32))).dtype == np.float32
    assert make().double()(ember.tensor(x)).dtype == np.float64
