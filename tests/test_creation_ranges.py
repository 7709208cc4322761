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
