"""arange, range and linspace refuse what torch refuses, and arange takes 0-d tensors and NumPy
scalars as the numbers they hold (found by a creation fuzzer against torch)."""

import warnings

import numpy as np
import pytest

import ember

SIGN, BOOL = "inconsistent with step sign", "not implemented for 'Bool'"
REFUSED = {
    "arange end below start": (RuntimeError, SIGN, lambda L: L.arange(5, 0)),
    "arange negative step up": (RuntimeError, SIGN, lambda L: L.arange(0, 5, -1)),
    "arange zero step": (RuntimeError, "step must be nonzero", lambda L: L.arange(0, 5, 0)),
    "arange to infinity": (RuntimeError, "unsupported range", lambda L: L.arange(float("inf"))),
    "arange to nan": (RuntimeError, "unsupported range", lambda L: L.arange(0, float("nan"))),
    "arange of bools": (NotImplementedError, BOOL, lambda L: L.arange(3, dtype=L.bool)),
    "range of bools": (NotImplementedError, BOOL, lambda L: L.range(0, 3, dtype=L.bool)),
    "linspace negative steps": (RuntimeError, "non-negative", lambda L: L.linspace(0, 1, -1)),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_refused_as_torch(torch, case):
    error, message, f = REFUSED[case]
    for lib in (torch, ember):
        with warnings.catch_warnings(), pytest.raises(error, match=message):
            warnings.simplefilter("ignore")  # torch.range's deprecation
            f(lib)


@pytest.mark.parametrize(
    "args", [(3,), (3, 3), (0, 1, 0.25), (np.int64(2), 5), (np.float32(1.5),), ("t3",), ("t1.5",)]
)
def test_arange_values_and_dtypes_as_torch(torch, args):
    def run(lib):
        a = [lib.tensor(float(v[1:]) if "." in v else int(v[1:])) if isinstance(v, str) else v
             for v in args]  # fmt: skip
        out = lib.arange(*a)
        return out.tolist(), str(out.dtype).split(".")[-1]

    assert run(ember) == run(torch)


@pytest.mark.parametrize(
    "data", [[None], ["a"], [object()], [2**63], [1, 2**70], [2**70, 1.0], [[2**70], [1j]]]
)
def test_tensor_data_that_is_not_plain_numbers_as_torch(torch, data):
    """NumPy makes object, string and uint64 arrays of such data, which ember kept as tensors:
    torch refuses them with these errors, or (an int past int64 beside a float) makes floats."""
    try:
        want = torch.tensor(data)
    except (RuntimeError, ValueError) as e:
        with pytest.raises(type(e), match=str(e).split(" ")[0]):
            ember.tensor(data)
        return
    got = ember.tensor(data)
    assert str(got.dtype) == str(want.dtype).removeprefix("torch.")
    assert got.tolist() == want.tolist()


SCALAR_WRITES = {
    "fill_": lambda lib, x, v: x.fill_(v),
    "setitem": lambda lib, x, v: x.__setitem__(0, v),
    "masked_fill": lambda lib, x, v: x.masked_fill(x == x, v),
    "full": lambda lib, x, v: lib.full((2,), v, dtype=x.dtype),
}


@pytest.mark.parametrize("dtype", ["int64", "int8", "uint8", "bool", "float16", "float32",
                                   "complex64"])  # fmt: skip
@pytest.mark.parametrize("write", list(SCALAR_WRITES))
def test_python_numbers_written_into_tensors_as_torch(torch, dtype, write):
    """A Python number that does not fit the dtype is refused as torch refuses it (ember wrote
    NaN into an int64 tensor as −2⁶³, 300 into uint8 as 44, 1e300 into float32 as inf); what
    fits is written as torch writes it (uint8 takes −1 as 255; floats truncate)."""
    values = [1.7, -1, -255, -256, 300, float("nan"), float("inf"), 1j, 1 + 0j, 1e10, 1e300,
              -128.9, 127.5, -0.5, 65504.0, 65520.0, 1e39 + 0j]  # fmt: skip
    for v in values:
        results = []
        for lib in (ember, torch):
            x = lib.zeros(2, dtype=getattr(lib, dtype))
            try:
                out = SCALAR_WRITES[write](lib, x, v)
                results.append(np.asarray((x if out is None else out).tolist(), dtype=complex))
            except RuntimeError:
                results.append("refused")
        e, t = results
        if isinstance(t, str) or isinstance(e, str):
            assert e == t, (dtype, write, v, e, t)
        else:
            np.testing.assert_array_equal(e, t, err_msg=f"{dtype} {write} {v}")


@pytest.mark.parametrize(
    "args", [(0.5, 5.5, 1.5), (-2.7, 3.9, 1.2), (0, 10, 2.5), (0.2, 3.7, 0.9), (250, 260, 1)]
)
@pytest.mark.parametrize("dtype", ["int64", "int32", "int16", "uint8"])
def test_arange_with_float_arguments_into_an_integer_dtype_as_torch(torch, args, dtype):
    """torch truncates start and step to integers; int64 counts on the truncated bounds (and a
    step truncated to 0 is its ValueError), the narrower types count on the bounds as given.
    ember took NumPy's float range and cast it: other lengths and values."""
    try:
        theirs = torch.arange(*args, dtype=getattr(torch, dtype)).tolist()
    except ValueError:
        with pytest.raises(ValueError, match="step must be nonzero"):
            ember.arange(*args, dtype=getattr(ember, dtype))
        return
    assert ember.arange(*args, dtype=getattr(ember, dtype)).tolist() == theirs


def test_arange_float_values_are_start_plus_k_steps_rounded_once(torch):
    """Value k is start + k·step rounded once from double (float from float32 for float16), as
    torch's scalar loop; NumPy's float32 arange adds a rounded step and drifts. torch's own
    SIMD lanes add a float step within each vector, so they may be an ulp off these."""
    for start, end, step in [(0.0, 1.0, 0.1), (2.29, 48.06, 1.87), (-3.73, -5.632, -0.1)]:
        got = ember.arange(start, end, step).numpy()
        exact = (start + step * np.arange(len(got))).astype(np.float32)
        np.testing.assert_array_equal(got, exact)
        theirs = torch.arange(start, end, step).numpy()
        assert got.shape == theirs.shape
        np.testing.assert_array_max_ulp(got, theirs, maxulp=1)
    half = ember.arange(0, 1, 0.1, dtype=ember.float16).numpy()
    np.testing.assert_array_equal(half, torch.arange(0, 1, 0.1, dtype=torch.float16).numpy())


@pytest.mark.parametrize(
    "args",
    [(28.71, -26.06, 17), (5.4, 31.0, 11), (36.0, -44.1, 7), (0.5, 0.5, 1), (3.9, 7.2, 0)],
)
@pytest.mark.parametrize("dtype", ["int64", "int32", "int16", "int8"])
def test_linspace_into_an_integer_dtype_converts_the_ends_first_as_torch(torch, args, dtype):
    # torch truncates start and end to the dtype, then spaces those (ember spaced 28.71…)
    ours = ember.linspace(*args, dtype=getattr(ember, dtype)).tolist()
    assert ours == torch.linspace(*args, dtype=getattr(torch, dtype)).tolist()


@pytest.mark.parametrize("fn", ["linspace", "logspace"])
def test_integer_spaces_refuse_ends_that_do_not_fit_as_torch(torch, fn):
    for lib in (ember, torch):
        with pytest.raises(RuntimeError, match="cannot be converted to type"):
            getattr(lib, fn)(-0.5, 2.0, 5, dtype=lib.uint8)
        assert getattr(lib, fn)(-0.5, 2.0, 0, dtype=lib.uint8).numel() == 0


def test_logspace_of_one_step_into_an_integer_dtype_keeps_the_fraction(torch):
    # one step is base ** start with start as given: 10 ** 1.305 = 20.2 → 20 (ember gave 10)
    for base in (10.0, 2.0):
        ours = ember.logspace(1.305, -0.91, 1, base=base, dtype=ember.int64).tolist()
        assert ours == torch.logspace(1.305, -0.91, 1, base=base, dtype=torch.int64).tolist()


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_float_linspace_equals_torch_bit_for_bit(torch, dtype):
    """The step in the dtype, start + step·k (first half) and end − step·(n−1−k) (second),
    each rounded once as torch's fused kernel: NumPy's linspace was an ulp off at some points
    (a histogram of constant data then put its values one bin lower than torch's)."""
    rng = np.random.default_rng(0)
    for _ in range(300):
        a, b = (float(np.round(v, 3)) for v in rng.uniform(-50, 50, 2))
        n = int(rng.integers(2, 40))
        ours = ember.linspace(a, b, n, dtype=getattr(ember, dtype)).numpy()
        theirs = torch.linspace(a, b, n, dtype=getattr(torch, dtype)).numpy()
        np.testing.assert_array_equal(ours, theirs)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an infinite end is NaN, quietly, as torch's
        assert np.isnan(ember.linspace(0.0, float("inf"), 3).numpy()).all()


def test_arange_bounds_past_int64_are_refused_as_torch(torch):
    for lib in (ember, torch):
        with pytest.raises(RuntimeError, match="int64_t without overflow"):
            lib.arange(0, 1e20, 1e19, dtype=lib.int64)
