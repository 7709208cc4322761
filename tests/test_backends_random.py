"""ember.backends and ember.random: the switches and seeds training scripts written for torch
set (``torch.backends.cudnn.benchmark = True``, ``torch.random.manual_seed``), as torch's."""

import numpy as np
import pytest

import ember
import ember.backends.cudnn
import ember.random


def test_backends_report_what_ember_calls():
    assert not ember.backends.cudnn.is_available() and ember.backends.cudnn.version() is None
    assert not ember.backends.mkl.is_available()
    assert not ember.backends.mkldnn.is_available()
    assert not ember.backends.mps.is_available() and not ember.backends.mps.is_built()
    assert not ember.backends.openmp.is_available()
    assert ember.backends.cuda.is_built() == ember.cuda.is_available()
    assert ember.backends.cpu.get_cpu_capability() in ("AVX512", "AVX2", "DEFAULT")


def test_cpu_capability_as_torch(torch):
    assert ember.backends.cpu.get_cpu_capability() == torch.backends.cpu.get_cpu_capability()


def test_cudnn_flags_are_stored_and_restored_by_the_flags_block():
    cudnn = ember.backends.cudnn
    assert (cudnn.enabled, cudnn.benchmark, cudnn.deterministic, cudnn.allow_tf32) == (
        True, False, False, True,
    )  # fmt: skip
    cudnn.benchmark = True
    try:
        with cudnn.flags(enabled=True, benchmark=False, deterministic=True):
            assert cudnn.deterministic and not cudnn.benchmark
        assert cudnn.benchmark and not cudnn.deterministic
    finally:
        cudnn.benchmark = False


def test_allow_tf32_is_the_matmul_precision_as_in_torch(torch):
    for lib in (torch, ember):
        before = lib.get_float32_matmul_precision()
        try:
            lib.backends.cuda.matmul.allow_tf32 = True
            assert lib.get_float32_matmul_precision() == "high"
            lib.set_float32_matmul_precision("highest")
            assert lib.backends.cuda.matmul.allow_tf32 is False
        finally:
            lib.set_float32_matmul_precision(before)


def test_random_module_names_are_the_default_generators():
    ember.random.manual_seed(3)
    a = ember.randn(4)
    ember.manual_seed(3)
    np.testing.assert_array_equal(a.numpy(), ember.randn(4).numpy())
    assert ember.random.initial_seed() == 3
    assert ember.random.default_generator is ember.default_generator


def test_fork_rng_leaves_the_draws_after_it_as_they_were():
    ember.manual_seed(7)
    want = ember.randn(3).numpy()
    ember.manual_seed(7)
    with ember.random.fork_rng():
        ember.randn(100)  # draws inside the block
    np.testing.assert_array_equal(ember.randn(3).numpy(), want)
    ember.manual_seed(7)
    with ember.random.fork_rng(enabled=False):
        ember.randn(100)
    assert not np.array_equal(ember.randn(3).numpy(), want)


def test_fork_rng_restores_after_an_error():
    ember.manual_seed(1)
    want = ember.rand(2).numpy()
    ember.manual_seed(1)
    with pytest.raises(ValueError), ember.random.fork_rng():
        ember.rand(5)
        raise ValueError("inside")
    np.testing.assert_array_equal(ember.rand(2).numpy(), want)
