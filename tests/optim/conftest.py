"""Fixtures shared by the optimizer tests."""

import pytest

import ember


@pytest.fixture
def default_float64(torch):
    """torch's and ember's default dtype float64 for the test, restored after."""
    old_t, old_e = torch.get_default_dtype(), ember.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    ember.set_default_dtype(ember.float64)
    yield
    torch.set_default_dtype(old_t)
    ember.set_default_dtype(old_e)
