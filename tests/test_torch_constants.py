"""torch's constants, dtype names, legacy tensor types, deterministic debug mode, torch.cpu
and the small top-level forms, each against torch."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import ember


def test_constants_and_dtype_names():
    for name in ("pi", "e", "inf"):
        assert getattr(ember, name) == getattr(torch, name)
    assert np.isnan(ember.nan) and ember.newaxis is torch.newaxis is None
    assert ember.ones(2, 3)[:, ember.newaxis].shape == (2, 1, 3)
    assert ember.ones(2).to(ember.int).dtype == ember.int32 and torch.int == torch.int32
    assert ember.ones(2).to(ember.short).dtype == ember.int16 and torch.short == torch.int16
    assert int("7") == 7  # the builtin is untouched outside ember's namespace


def test_dtype_isinstance():
    for d in (ember.float32, ember.int64, ember.bool, ember.ones(1).dtype):
        assert isinstance(d, ember.dtype)
    for other in (3, "float32", ember.ones(1), float):
        assert not isinstance(other, ember.dtype)
    assert isinstance(torch.float32, torch.dtype) and not isinstance(3, torch.dtype)
    with pytest.raises(TypeError):
        ember.dtype()


@pytest.mark.parametrize("name", ["FloatTensor", "DoubleTensor", "HalfTensor", "LongTensor",
                                  "IntTensor", "ShortTensor", "CharTensor", "ByteTensor",
                                  "BoolTensor"])  # fmt: skip
def test_legacy_types_construct_and_check_as_torch(name):
    ours, ref = getattr(ember, name), getattr(torch, name)
    assert tuple(ours().shape) == tuple(ref().shape) == (0,)
    assert tuple(ours(2, 3).shape) == tuple(ref(2, 3).shape)
    assert tuple(ours((4,)).shape) == tuple(ref(torch.Size([4])).shape)
    data = [1, 0, 2]
    a, b = ours(data), ref(data)
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert str(a.dtype) == str(b.dtype).removeprefix("torch.").replace("bool", "bool")
    assert isinstance(a, ours) and isinstance(a, ember.Tensor)
    assert isinstance(b, ref)
    same = ours(a)
    assert same is a  # torch shares the memory of a tensor of its own dtype
    other = ember.FloatTensor if name != "FloatTensor" else ember.LongTensor
    assert not isinstance(a, other)
    with pytest.raises(TypeError):
        other(a)
    with pytest.raises(TypeError, match="data must be a sequence"):
        ours(2.5)
    assert ember.ones(2).type(ours).dtype == a.dtype


def test_set_default_tensor_type():
    try:
        ember.set_default_tensor_type(ember.DoubleTensor)
        assert ember.ones(1).dtype == ember.float64
        ember.set_default_tensor_type("torch.FloatTensor")
        assert ember.ones(1).dtype == ember.float32
        with pytest.raises(TypeError, match="only floating-point types"):
            ember.set_default_tensor_type(ember.LongTensor)
        with pytest.raises(TypeError, match="not available"):
            ember.set_default_tensor_type("torch.cuda.FloatTensor")
    finally:
        ember.set_default_dtype(ember.float32)


def test_deterministic_debug_mode_as_torch():
    try:
        for mode in (0, 1, 2, "warn", "error", "default"):
            ember.set_deterministic_debug_mode(mode)
            torch.set_deterministic_debug_mode(mode)
            assert ember.get_deterministic_debug_mode() == torch.get_deterministic_debug_mode()
            assert ember.are_deterministic_algorithms_enabled() == (
                torch.are_deterministic_algorithms_enabled()
            )
            assert ember.is_deterministic_algorithms_warn_only_enabled() == (
                torch.is_deterministic_algorithms_warn_only_enabled()
            )
        for bad in ("bad", 3):
            with pytest.raises(RuntimeError) as ours:
                ember.set_deterministic_debug_mode(bad)
            with pytest.raises(RuntimeError) as ref:
                torch.set_deterministic_debug_mode(bad)
            assert str(ours.value) == str(ref.value)
    finally:
        ember.set_deterministic_debug_mode(0)
        torch.set_deterministic_debug_mode(0)


@pytest.mark.parametrize("data", [[0, 3, 0, 5], [[1, 0], [0, 1]], [0, 0], 7])
@pytest.mark.parametrize("size", [0, 1, 3])
def test_nonzero_static_as_torch(data, size):
    for fill in (-1, 9):
        ours = ember.nonzero_static(ember.tensor(data), size=size, fill_value=fill)
        ref = torch.nonzero_static(torch.tensor(data), size=size, fill_value=fill)
        assert ours.dtype == ember.int64 and tuple(ours.shape) == tuple(ref.shape)
        np.testing.assert_array_equal(ours.numpy(), ref.numpy())


def test_small_top_level_forms_as_torch():
    a = np.arange(24.0).reshape(2, 3, 4)
    x, t = ember.tensor(a), torch.tensor(a)
    np.testing.assert_array_equal(ember.adjoint(x).numpy(), torch.adjoint(t).numpy())
    np.testing.assert_array_equal(
        ember.narrow_copy(x, 2, 1, 2).numpy(), torch.narrow_copy(t, 2, 1, 2).numpy()
    )
    xp_, tp = x.permute(2, 0, 1), t.permute(2, 0, 1)  # a copy is row-major, as torch's
    assert ember.narrow_copy(xp_, 0, 1, 2).stride() == torch.narrow_copy(tp, 0, 1, 2).stride()
    for ours, ref in (
        (ember.unsafe_chunk(x, 3, 2), torch.unsafe_chunk(t, 3, 2)),
        (ember.unsafe_split(x, 3, 2), torch.unsafe_split(t, 3, 2)),
        (ember.unsafe_split_with_sizes(x, [1, 3], 2), torch.unsafe_split_with_sizes(t, [1, 3], 2)),
    ):
        assert isinstance(ours, tuple) and len(ours) == len(ref)
        for o, r in zip(ours, ref):
            np.testing.assert_array_equal(o.numpy(), r.numpy())
    s = ember.as_strided_scatter(ember.zeros(6), ember.ones(2, 2), (2, 2), (1, 2))
    rs = torch.as_strided_scatter(torch.zeros(6), torch.ones(2, 2), (2, 2), (1, 2))
    np.testing.assert_array_equal(s.numpy(), rs.numpy())
    y, ry = ember.arange(6.0), torch.arange(6.0)
    assert ember.as_strided_(y, (2, 2), (1, 2)) is y
    torch.as_strided_(ry, (2, 2), (1, 2))
    np.testing.assert_array_equal(y.numpy(), ry.numpy())
    with pytest.raises(TypeError, match="must be Tensor"):
        ember.adjoint([1.0])


def test_cpu_module_as_torch():
    assert ember.cpu.is_available() and ember.cpu.device_count() == torch.cpu.device_count()
    assert ember.cpu.current_device() == torch.cpu.current_device() == "cpu"
    ember.cpu.synchronize()
    s = ember.cpu.Stream()
    with ember.cpu.stream(s):
        assert ember.cpu.current_stream() is s
    assert ember.cpu.current_stream() is not s
    assert ember.cpu.Event().query()
    from ember.cpu.amp import GradScaler

    with pytest.warns(FutureWarning, match=r"torch.amp.GradScaler\('cpu'"):
        scaler = GradScaler(init_scale=8.0)
    assert scaler.get_scale() == 8.0 and scaler.is_enabled()
    with pytest.warns(FutureWarning, match=r"torch.amp.autocast\('cpu'"):
        region = ember.cpu.amp.autocast(dtype=ember.float16)
    with region:
        assert ember.is_autocast_enabled("cpu")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        with pytest.raises((TypeError, RuntimeError, ValueError), match="bfloat16"):
            with ember.cpu.amp.autocast():  # torch's default dtype, which NumPy lacks
                pass


def test_nn_container():
    with pytest.warns(FutureWarning, match="nn.Container"):
        c = ember.nn.Container(a=ember.nn.Linear(2, 3), b=ember.nn.ReLU())
    assert [n for n, _ in c.named_children()] == ["a", "b"]
    assert set(c.state_dict()) == {"a.weight", "a.bias"}


def test_memory_identity_methods_as_torch():
    for lib in (ember, torch):
        x = lib.ones(2, 3)
        got = [x.is_set_to(x), x.is_set_to(x.view(6)), x.is_set_to(x.clone()), x.is_set_to(x[:])]
        got.append(x.is_set_to(x.t().t()))
        assert got == [True, False, False, True, True], lib.__name__
        assert x.const_data_ptr() == x.data_ptr()
    with pytest.raises(TypeError, match="must be Tensor"):
        ember.ones(2).is_set_to([1.0])
