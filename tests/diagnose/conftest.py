"""Each test starts with every once-only warning armed again."""

import pytest

from ember.mistakes import reset_warnings


@pytest.fixture(autouse=True)
def _fresh_warnings():
    reset_warnings()
    yield
    reset_warnings()
