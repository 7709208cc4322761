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


def test_cuda_memory_queries_answer_as_torchs_cpu_build():
    if backend.ON_GPU:
        pytest.skip("the CPU answers")
    for name in ("memory_allocated", "memory_reserved", "max_memory_allocated",
                 "max_memory_reserved"):  # fmt: skip
        assert getattr(ember.cuda, name)() == getattr(torch.cuda, name)() == 0
    assert ember.cuda.empty_cache() is None and torch.cuda.empty_cache() is None
    assert ember.cuda.is_bf16_supported() is False and ember.cuda.is_initialized() is False
    for name in ("mem_get_info", "get_device_properties", "get_device_capability",
                 "current_stream", "init", "Event"):  # fmt: skip
        with pytest.raises(RuntimeError, match="no CUDA device in use"):
            getattr(ember.cuda, name)()


def test_cuda_events_time_work_on_the_gpu():
    if not backend.ON_GPU:
        pytest.skip("needs EMBER_DEVICE=cuda (the suite under CuPy)")
    start, end = ember.cuda.Event(enable_timing=True), ember.cuda.Event(enable_timing=True)
    start.record()
    x = ember.ones(1024, 1024)
    (x @ x).sum()
    end.record()
    end.synchronize()
    assert start.elapsed_time(end) > 0 and end.query()
    props = ember.cuda.get_device_properties(0)
    assert props.total_memory > 0 and ember.cuda.get_device_capability() == (
        props.major,
        props.minor,
    )
    ember.cuda.current_stream().synchronize()
    free, total = ember.cuda.mem_get_info()
    assert 0 < free <= total and ember.cuda.memory_allocated() > 0
