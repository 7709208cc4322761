"""ember.version (torch.version) and ember.utils.dlpack (torch.utils.dlpack) at torch's paths."""

from __future__ import annotations

import tomllib
from pathlib import Path

import numpy as np
import torch

import ember
import ember.utils.dlpack as dlpack
from ember import backend


def test_version_is_the_packages_and_names_no_accelerator_on_the_cpu():
    project = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())
    assert ember.__version__ == ember.version.__version__ == project["project"]["version"]
    if not backend.ON_GPU:
        assert ember.version.cuda is None
    assert ember.version.hip is None and ember.version.debug is False


def test_dlpack_shares_memory_with_torch_both_ways():
    t = torch.arange(4.0)
    e = dlpack.from_dlpack(t)
    t[0] = 7.0
    assert float(e[0]) == 7.0  # one memory
    back = torch.utils.dlpack.from_dlpack(dlpack.to_dlpack(e))
    e.array[1] = 9.0
    np.testing.assert_array_equal(back.numpy(), [7.0, 9.0, 2.0, 3.0])
