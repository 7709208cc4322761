"""ember.accelerator (torch.accelerator): on a CPU-only process it answers as torch's does
without an accelerator; the device idiom of PyTorch's tutorials picks the CPU."""

from __future__ import annotations

import pytest
import torch

import ember
from ember import backend


def test_on_the_gpu_the_device_and_its_memory_are_reported():
    if not backend.ON_GPU:
        pytest.skip("needs EMBER_DEVICE=cuda (the suite under CuPy)")
    acc = ember.accelerator
    assert acc.is_available() and acc.device_count() == 1
    assert acc.current_accelerator().type == "cuda" and acc.current_device_index() == 0
    before = acc.memory_allocated()
    x = ember.ones(1 << 20)
    acc.synchronize()
    assert acc.memory_allocated() >= before + x.numel() * 4
    assert acc.memory_reserved() >= acc.memory_allocated()
    free, total = acc.get_memory_info()
    assert 0 < free <= total
    with acc.device_index(0):
        pass
    with pytest.raises(RuntimeError, match="one device per process"):
        acc.set_device_index(1)
    del x
    acc.empty_cache()


@pytest.mark.skipif(backend.ON_GPU, reason="the CPU-only answers")
def test_without_an_accelerator_the_answers_are_torchs():
    for lib in (ember, torch):
        acc = lib.accelerator
        assert acc.is_available() is False
        assert acc.current_accelerator() is None and acc.device_count() == 0
        device = acc.current_accelerator().type if acc.is_available() else "cpu"
        assert lib.ones(2, device=device).device.type == "cpu"
    for name, args in [("current_device_index", ()), ("synchronize", ()), ("empty_cache", ()),
                       ("memory_allocated", ()), ("get_memory_info", ()),
                       ("set_device_index", (0,))]:  # fmt: skip
        for lib in (ember, torch):
            with pytest.raises(RuntimeError, match="Cannot access accelerator device"):
                getattr(lib.accelerator, name)(*args)
