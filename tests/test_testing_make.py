"""ember.testing.make_tensor and assert_allclose against torch.testing's: ranges and defaults
per dtype, noncontiguous and exclude_zero, requires_grad, torch's errors; assert_allclose's
tolerances and NaN handling; finfo of a complex dtype."""

import numpy as np
import pytest

import ember
from ember.testing import assert_allclose, make_tensor

torch = pytest.importorskip("torch")


@pytest.mark.parametrize(
    "name, low, high, lo, hi",
    [("float32", None, None, -9, 9), ("float64", -2.5, 4.0, -2.5, 4.0),
     ("int64", None, None, -9, 9),
     ("uint8", None, None, 0, 9), ("int8", -500, 3.2, -128, 3), ("bool", None, None, 0, 1),
     ("complex64", 1, 2, 1, 2)],
)  # fmt: skip
def test_values_lie_in_torchs_ranges(name, low, high, lo, hi):
    for lib in (ember, torch):
        x = lib.testing.make_tensor(500, 3, dtype=getattr(lib, name), device="cpu", low=low,
                                    high=high)  # fmt: skip
        a = np.asarray(x.numpy() if lib is torch else x.array)
        assert a.shape == (500, 3) and str(a.dtype) == name
        parts = [a.real, a.imag] if a.dtype.kind == "c" else [a.astype(float)]
        for p in parts:
            assert p.min() >= lo and p.max() <= hi
            if a.dtype.kind in "fc":
                assert p.max() < hi  # high is excluded


def test_noncontiguous_exclude_zero_and_requires_grad():
    x = make_tensor(4, 3, dtype=ember.int32, noncontiguous=True, exclude_zero=True, low=-1, high=2)
    assert not x.is_contiguous() and x.shape == (4, 3) and (x.array != 0).all()
    y = make_tensor(3, dtype=ember.float32, exclude_zero=True, low=0, high=1e-30)
    assert (y.array != 0).all()
    assert make_tensor(2, dtype=ember.float64, requires_grad=True).requires_grad
    assert make_tensor(1, dtype=ember.float32, noncontiguous=True).is_contiguous()  # 1 element


def test_make_tensor_errors_as_torch():
    for lib in (ember, torch):
        make = lib.testing.make_tensor
        with pytest.raises(ValueError, match="`low` must be less than `high`, but got 3 >= 2"):
            make(2, dtype=lib.float32, device="cpu", low=3, high=2)
        with pytest.raises(ValueError, match="`low` and `high` cannot be NaN"):
            make(2, dtype=lib.float32, device="cpu", low=float("nan"))
        with pytest.raises(ValueError, match=r"`requires_grad=True` is not supported"):
            make(2, dtype=lib.int64, device="cpu", requires_grad=True)
        with pytest.raises(ValueError, match=r"The value interval specified by `low` and `high`"):
            make(2, dtype=lib.uint8, device="cpu", low=-5, high=-1)
        with pytest.raises(ValueError, match="`noncontiguous` and `memory_format` are mutually"):
            make(2, 2, 2, 2, dtype=lib.float32, device="cpu", noncontiguous=True,
                 memory_format=lib.channels_last)  # fmt: skip


def test_assert_allclose_as_torch():
    for lib in (ember, torch):
        check = lib.testing.assert_allclose
        check(lib.tensor([1.0, float("nan")]), [1.00005, float("nan")])  # float32 rtol 1e-4
        check(lib.tensor([1.0], dtype=lib.float64), lib.tensor([1.0], dtype=lib.float32))
        with pytest.raises(AssertionError):
            check(lib.tensor([1.0]), [1.001])
        with pytest.raises(AssertionError):
            check(lib.tensor([float("nan")]), [float("nan")], equal_nan=False)
    assert_allclose(ember.tensor([1.0]), [1.1], rtol=0.2, atol=0)


def test_finfo_of_a_complex_dtype_is_its_parts():
    for e, t in ((ember.complex64, torch.complex64), (ember.complex128, torch.complex128)):
        fe, ft = ember.finfo(e), torch.finfo(t)
        assert (fe.eps, fe.max, fe.tiny, fe.bits) == (ft.eps, ft.max, ft.tiny, ft.bits)
