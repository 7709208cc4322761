"""Values and operands as torch 2.13 takes them: casts where a value does not fit are silent
(backend.cast: ±inf past a float range, the hardware's integer for NaN; NumPy warned), complex to
real warns torch's UserWarning, fill_ takes a number or a tensor, and None or a string operand is
a TypeError (ember read None as nan)."""

import math
import warnings

import numpy as np
import pytest

import ember

_CASTS = {
    "tensor of a list": lambda lib: lib.tensor([1e300, -1e300]),
    "tensor of a number": lambda lib: lib.tensor(1e300),
    "nested": lambda lib: lib.tensor([[1e300, 2.0]]),
    "as_tensor": lambda lib: lib.as_tensor([1e300]),
    "float()": lambda lib: lib.tensor([1e300], dtype=lib.float64).float(),
    "float() with grad": lambda lib: lib.tensor(
        [1e300], dtype=lib.float64, requires_grad=True
    ).float(),
    "half()": lambda lib: lib.tensor([1e5, -7e4]).half(),
    "to()": lambda lib: lib.tensor([1e300], dtype=lib.float64).to(lib.float32),
    "type()": lambda lib: lib.tensor([1e300], dtype=lib.float64).type(lib.float32),
    "long() of nan and inf": lambda lib: lib.tensor([math.nan, math.inf, 1e10]).long()[2:],
}


@pytest.mark.parametrize("name", sorted(_CASTS))
def test_a_cast_that_does_not_fit_is_silent(torch, name):
    values = []
    for lib in (ember, torch):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            values.append(_CASTS[name](lib).tolist())
    assert values[0] == values[1]


@pytest.mark.parametrize("to", ["float", "long", "double"])
def test_complex_to_real_warns_torchs_user_warning(to):
    """torch's words and class (its Copy.cpp warns once per process, so it is not asked here
    again); NumPy's own was a ComplexWarning."""
    z = ember.tensor([1 + 2j, -3 + 0.5j])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = getattr(z, to)()
    assert out.tolist() in ([1.0, -3.0], [1, -3])
    assert [(w.category, str(w.message)) for w in caught] == [
        (UserWarning, "Casting complex values to real discards the imaginary part")
    ]


@pytest.mark.parametrize("value", [None, "a", [1], (2,), np.float32(2), np.bool_(True), True])
def test_fill_takes_a_number_or_a_tensor_as_torch(torch, value):
    """fill_(None) filled nan and fill_([1]) broadcast the list; torch's parser refuses both
    with a TypeError (found by the nn.init fuzz: init.constant_ goes through fill_)."""
    results = []
    for lib in (ember, torch):
        try:
            results.append(lib.zeros(2).fill_(value).tolist())
        except TypeError:
            results.append(TypeError)
    assert results[0] == results[1]


_NONE_OPERANDS = {
    "x + None": lambda lib, x: x + None,
    "None + x": lambda lib, x: None + x,
    "x - None": lambda lib, x: x - None,
    "x / None": lambda lib, x: x / None,
    "x * 'a'": lambda lib, x: x * "a",
    "x ** None": lambda lib, x: x**None,
    "x < None": lambda lib, x: x < None,
    "x @ None": lambda lib, x: x @ None,
    "add(x, None)": lambda lib, x: lib.add(x, None),
    "maximum(x, None)": lambda lib, x: lib.maximum(x, None),
}


@pytest.mark.parametrize("name", sorted(_NONE_OPERANDS))
def test_none_or_a_string_operand_is_a_type_error(torch, name):
    """ember read None as nan (x + None was tensor([nan])) and a string through float()."""
    for lib in (ember, torch):
        with pytest.raises(TypeError):
            _NONE_OPERANDS[name](lib, lib.tensor([1.0]))


@pytest.mark.parametrize("name", ["sum", "nansum", "mean", "nanmean", "prod"])
def test_a_reduction_into_a_wider_out_computes_in_outs_dtype(torch, name):
    """torch's sum(x, 0, out=float64) sums in float64 (as with dtype=); ember summed in float32
    and widened the result (found by the sort/search fuzz)."""
    x = np.random.default_rng(0).standard_normal(7).astype(np.float32) * 1e4
    values = []
    for lib in (ember, torch):
        out = lib.empty((), dtype=lib.float64)
        getattr(lib, name)(lib.tensor(x[:3] if name == "prod" else x), 0, out=out)
        values.append(float(out))
    assert values[0] == pytest.approx(values[1], rel=1e-15)


def test_an_integer_mean_into_a_float_out_is_still_refused(torch):
    """out's dtype is the computation's only for floating input and out (found in review: an
    integer mean into a float32 out had begun to compute, where torch refuses)."""
    for lib in (ember, torch):
        with pytest.raises(RuntimeError, match="could not infer output dtype"):
            lib.mean(lib.tensor([1, 2, 4]), 0, out=lib.empty((), dtype=lib.float32))
