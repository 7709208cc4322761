"""torch.distributions' per-distribution module paths in ember.distributions: every name of
every such torch file resolves, to the package's own object."""

from __future__ import annotations

import importlib

import pytest
import torch.distributions as TD

import ember.distributions as ED
from ember.distributions.torch_paths import EXTRA, FILES


@pytest.mark.parametrize("file", sorted(FILES | EXTRA))
def test_every_name_of_torchs_file_resolves(file):
    mine = importlib.import_module(f"ember.distributions.{file}")
    assert getattr(ED, file) is mine
    theirs = importlib.import_module(f"torch.distributions.{file}")
    for name in theirs.__all__:
        assert hasattr(mine, name), f"ember.distributions.{file}.{name}"
        if hasattr(TD, name):
            assert getattr(mine, name) is getattr(ED, name)


def test_from_import_and_utils_work():
    from ember.distributions.normal import Normal
    from ember.distributions.utils import lazy_property, probs_to_logits

    assert Normal is ED.Normal and callable(probs_to_logits) and lazy_property is not None
    d = Normal(0.0, 1.0)
    assert float(d.log_prob(ED.Normal(0.0, 1.0).mean)) == pytest.approx(-0.9189385, rel=1e-6)
