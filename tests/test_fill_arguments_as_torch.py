"""The arguments of the fills, refused where torch refuses them (ember used to fill anyway):
a value tensor of more than 0 dims into fill_ or masked_fill (NumPy broadcast it), a tensor
for full's Number fill_value, uniform_'s bounds out of order or range and normal_'s negative
or NaN std on the Tensor methods (nn.init's fills share the same checks)."""

import math

import pytest

import ember


def _refusals(lib):
    nan = math.nan
    return [
        ("fill_ 1-d", lambda: lib.zeros(3).fill_(lib.tensor([1.0]))),
        ("fill_ 2-d", lambda: lib.zeros(3).fill_(lib.tensor([[1.0]]))),
        ("fill_ 1-d, recorded", lambda: lib.zeros(3, requires_grad=True).clone().fill_(
            lib.tensor([1.0], requires_grad=True))),
        ("masked_fill_ 1-d", lambda: lib.zeros(3).masked_fill_(
            lib.tensor([True, False, True]), lib.tensor([1.0]))),
        ("masked_fill 1-d", lambda: lib.zeros(3).masked_fill(
            lib.tensor([True, False, True]), lib.tensor([1.0]))),
        ("uniform_ a > b", lambda: lib.zeros(3).uniform_(2, 1)),
        ("uniform_ a > b, empty", lambda: lib.zeros(0).uniform_(2, 1)),
        ("uniform_ NaN", lambda: lib.zeros(3).uniform_(nan, 1)),
        ("uniform_ past float16", lambda: lib.zeros(3, dtype=lib.float16).uniform_(0, 1e6)),
        ("normal_ std < 0", lambda: lib.zeros(3).normal_(0, -1)),
        ("normal_ std NaN", lambda: lib.zeros(3).normal_(0, nan)),
        ("new_full NaN into int64", lambda: lib.zeros(2, dtype=lib.int64).new_full((2,), nan)),
    ]  # fmt: skip


@pytest.mark.parametrize("k", range(len(_refusals(ember))))
def test_fill_arguments_torch_refuses_are_refused(refused_alike, k):
    refused_alike(_refusals, k)


def _type_refusals(lib):
    return [
        ("full 1-d", lambda: lib.full((2,), lib.tensor([1.5]))),
        ("full requires grad", lambda: lib.full((2,), lib.tensor(1.5, requires_grad=True))),
        ("full_like 1-d", lambda: lib.full_like(lib.zeros(2), lib.tensor([1.5]))),
        ("new_full 1-d", lambda: lib.zeros(2).new_full((2,), lib.tensor([1.5]))),
    ]


@pytest.mark.parametrize("k", range(len(_type_refusals(ember))))
def test_a_tensor_for_fulls_number_is_refused_as_torch(refused_alike, k):
    refused_alike(_type_refusals, k, TypeError)


def test_0d_values_and_empty_int_normal_are_taken_as_torch(torch):
    for lib in (ember, torch):
        assert lib.zeros(3).fill_(lib.tensor(2.0)).tolist() == [2.0] * 3
        mask = lib.tensor([True, False, True])
        assert lib.zeros(3).masked_fill(mask, lib.tensor(1.0)).tolist() == [1.0, 0.0, 1.0]
        full = lib.full((2,), lib.tensor(3))
        assert full.tolist() == [3, 3] and str(full.dtype).endswith("int64")
        assert lib.zeros(0, dtype=lib.int64).normal_().shape == (0,)
        assert lib.nn.init.constant_(lib.zeros(2), lib.tensor(4.0)).tolist() == [4.0, 4.0]
