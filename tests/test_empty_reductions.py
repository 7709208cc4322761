"""Reductions of empty tensors follow torch: along non-empty axes they give empty results
(and gradients); along an empty axis max/min/argmax/argmin are an error naming the axis."""

import numpy as np
import pytest

import ember
import ember.functional as F


@pytest.mark.parametrize("name", ["max", "min", "amax", "amin"])
def test_max_min_of_an_empty_tensor_along_a_non_empty_axis(torch, name):
    x = ember.zeros(2, 0, 6, requires_grad=True)
    out = getattr(x, name)(dim=-1)
    values = out[0] if isinstance(out, tuple) else out
    t_out = getattr(torch.zeros(2, 0, 6), name)(dim=-1)
    t_values = t_out[0] if isinstance(t_out, tuple) else t_out
    assert values.shape == tuple(t_values.shape) == (2, 0)
    if isinstance(out, tuple):
        assert out[1].shape == (2, 0)
    values.sum().backward()
    assert x.grad.shape == (2, 0, 6)


@pytest.mark.parametrize("name", ["max", "amin", "argmax", "argmin"])
def test_reducing_along_an_empty_axis_names_it(name):
    x = ember.zeros(2, 0, 6)
    with pytest.raises(RuntimeError, match=r"reduced dim 1 .*\(2, 0, 6\)"):
        getattr(x, name)(dim=1)


def test_argmax_of_a_whole_empty_tensor_is_an_error():
    with pytest.raises(RuntimeError, match=r"argmax\(\): the tensor of shape \(0, 3\) is empty"):
        ember.zeros(0, 3).argmax()
    with pytest.raises(RuntimeError, match="reduced dim 0"):
        ember.zeros(0).max()


def test_composed_attention_with_no_queries_gives_an_empty_output(torch):
    q, k = ember.randn(2, 0, 4), ember.randn(2, 5, 4)
    out = F.scaled_dot_product_attention_composed(q, k, k)
    assert out.shape == (2, 0, 4)
    np.testing.assert_array_equal(out.array, F.scaled_dot_product_attention(q, k, k).array)
