"""ember.testing.assert_close: torch.testing.assert_close's rule and defaults."""

import numpy as np
import pytest

import ember
from ember.testing import assert_close


def test_passes_and_fails_where_torch_does(torch):
    rng = np.random.default_rng(0)
    base = rng.standard_normal(50)
    for dtype in (np.float32, np.float64):
        for scale in (0.0, 1e-8, 1e-6, 1e-4):
            a = (base * (1 + scale)).astype(dtype)
            e = base.astype(dtype)
            try:
                torch.testing.assert_close(torch.tensor(a), torch.tensor(e))
                theirs = True
            except AssertionError:
                theirs = False
            try:
                assert_close(ember.tensor(a), ember.tensor(e))
                ours = True
            except AssertionError:
                ours = False
            assert ours == theirs, (dtype, scale)


def test_reports_shape_dtype_and_the_worst_element():
    with pytest.raises(AssertionError, match="'shape' do not match"):
        assert_close(ember.zeros(3), ember.zeros(4))
    with pytest.raises(AssertionError, match="'dtype' do not match"):
        assert_close(ember.zeros(3), ember.zeros(3, dtype=ember.float64))
    assert_close(ember.zeros(3), np.zeros(3), check_dtype=False)
    e = ember.tensor([1.0, 2.0, 3.0])
    with pytest.raises(AssertionError, match=r"Mismatched elements: 1 / 3[\s\S]*index \(2,\)"):
        assert_close(ember.tensor([1.0, 2.0, 3.5]), e)
    assert_close(ember.tensor([1.0, np.nan]), ember.tensor([1.0, np.nan]), equal_nan=True)
    with pytest.raises(AssertionError):
        assert_close(ember.tensor([1.0, np.nan]), ember.tensor([1.0, np.nan]))
    assert_close(ember.tensor([1, 2]), ember.tensor([1, 2]))
    with pytest.raises(AssertionError):
        assert_close(ember.tensor([1, 2]), ember.tensor([1, 3]))
    assert_close(ember.tensor([1.0]), ember.tensor([1.1]), rtol=0.2, atol=0.0)
    with pytest.raises(ValueError, match="both rtol and atol"):
        assert_close(e, e, rtol=1e-3)
