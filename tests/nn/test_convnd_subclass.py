"""A class derived from _ConvNd that calls torch's _ConvNd.__init__ arguments (nn/conv.py)."""

from __future__ import annotations

import numpy as np
import pytest

import ember


def test_a_class_derived_from_convnd_with_torchs_init_arguments_matches_torch():
    """Libraries derive their own convolutions from _ConvNd and call torch's
    super().__init__(in, out, kernel_size, stride, padding, dilation, transposed,
    output_padding, groups, bias, padding_mode); the same class over ember matches torch."""
    torch = pytest.importorskip("torch")

    def make(lib):
        class ScaledConv(lib.nn.modules.conv._ConvNd):
            def __init__(self, cin, cout, k, groups=1):
                super().__init__(cin, cout, (k, k), (1, 1), (1, 1), (1, 1), False, (0, 0),
                                 groups, True, "zeros")  # fmt: skip

            def forward(self, x, F=lib.nn.functional):
                return F.conv2d(x, self.weight * 2, self.bias, self.stride, self.padding,
                                self.dilation, self.groups)  # fmt: skip

        return ScaledConv(4, 6, 3, groups=2)

    theirs, mine = make(torch), make(ember)
    assert repr(mine) == repr(theirs) and tuple(mine.weight.shape) == tuple(theirs.weight.shape)
    mine.load_state_dict(
        {k: ember.tensor(v.detach().numpy()) for k, v in theirs.state_dict().items()}
    )
    x = np.random.default_rng(0).standard_normal((2, 4, 5, 5)).astype(np.float32)
    got = mine(ember.tensor(x)).detach().numpy()
    np.testing.assert_allclose(got, theirs(torch.tensor(x)).detach().numpy(), rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="transposed=True"):
        ember.nn.modules.conv._ConvNd(2, 2, (3, 3), (1, 1), (0, 0), (1, 1), True, (0, 0), 1,
                                      True, "zeros")  # fmt: skip
