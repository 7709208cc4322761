"""repr(tensor) prints what torch prints for the same values: digits, notation, widths, line
wrapping, summaries, suffixes (torch/_tensor_str.py's rules); set_printoptions changes them."""

import math
import re

import numpy as np
import pytest

import ember

F32, F64, I64 = np.float32, np.float64, np.int64


def _cases():
    rng = np.random.default_rng(0)
    yield rng.standard_normal((2, 3)).astype(F32)
    yield rng.standard_normal((3, 4, 5)).astype(F32)
    yield (rng.standard_normal((40, 50)) * 1000).astype(F32)  # summarised, wrapped
    yield rng.standard_normal(2000).astype(F32)  # summarised vector
    yield np.arange(2000, dtype=F32).reshape(40, 50)  # whole numbers spanning > 1000×
    yield np.array([1.0, 2.0, 3.0], F32)  # int mode: "1."
    yield np.array([1.0, -2.0, np.inf, np.nan, 0.0], F32)
    yield np.array([1e-5, 1.0], F32)  # below 1e-4: scientific
    yield np.array([1e9, 1.0], F32)
    yield np.array([0.0, -0.0], F32)  # nothing nonzero: int mode, width 1
    yield np.array([np.nan, np.inf], F32)
    yield np.array(3.5, F32)  # 0-d
    yield np.array(2.0, F64)
    yield rng.standard_normal((2, 2)).astype(F64)  # dtype suffix
    yield np.array([1, -20, 300], I64)  # default int: no suffix
    yield np.array([[1, 2], [3, 4]], np.int32)
    yield np.array([True, False])
    yield np.array([1.5, 2.25], np.float16)
    yield np.zeros((0,), F32)
    yield np.zeros((0, 3), F32)
    yield np.zeros((2, 0), I64)  # empty: dtype always said
    yield np.arange(30, dtype=I64) * 12345  # wraps at 80 columns
    yield np.array([123456.789, 0.001], F32)
    yield (rng.standard_normal((1, 1, 1, 7)) * 1e-3).astype(F32)
    yield np.array([1 + 2j, -3.5 - 0.25j], np.complex64)


def _torch_repr(torch, a):
    text = repr(torch.from_numpy(np.array(a)))
    return re.sub(r"dtype=torch\.(\w+)", r"dtype=\1", text)


@pytest.mark.parametrize("a", list(_cases()), ids=lambda a: f"{a.dtype}{a.shape}")
def test_repr_matches_torch(torch, a):
    assert repr(ember.tensor(a)) == _torch_repr(torch, a)


def test_autograd_suffixes_follow_the_values(torch):
    a = np.array([[1.5, 2.0]], F32)
    e = ember.tensor(a, requires_grad=True)
    t = torch.tensor(a, requires_grad=True)
    assert repr(e) == repr(t) == "tensor([[1.5000, 2.0000]], requires_grad=True)"
    assert repr(e * 2).startswith("tensor([[3., 4.]], grad_fn=<")  # ember's own node names
    wide = ember.tensor(np.arange(11, dtype=F64) * 1234.5, requires_grad=True)
    expected = repr(torch.tensor(np.arange(11) * 1234.5, requires_grad=True))
    assert repr(wide) == expected.replace("torch.float64", "float64")  # suffix on a new line


@pytest.mark.parametrize(
    "options",
    [
        dict(precision=2),
        dict(sci_mode=True),
        dict(sci_mode=False),
        dict(threshold=5, edgeitems=2),
        dict(edgeitems=0, threshold=3),
        dict(linewidth=40),
        dict(profile="short"),
        dict(profile="full"),
    ],
)
def test_set_printoptions_as_torch(torch, options):
    try:
        ember.set_printoptions(**options)
        torch.set_printoptions(**options)
        grid = np.linspace(0, 1, 24, dtype=F32).reshape(4, 6)
        small = [np.array([1.23456789, 2.5], F32), np.array([1e-6, 3.0], F32)]
        for a in [*small, np.arange(100, dtype=I64), grid]:
            assert repr(ember.tensor(a)) == _torch_repr(torch, a), options
        assert "..." not in repr(ember.arange(2000)) or options.get("profile") != "full"
    finally:
        ember.set_printoptions(profile="default")
        torch.set_printoptions(profile="default")


def test_set_printoptions_leaves_numpy_alone():
    saved = np.get_printoptions()
    try:
        ember.set_printoptions(precision=1, threshold=3)
        assert np.get_printoptions() == saved
        assert repr(ember.tensor([1.25, 2.0])) == "tensor([1.2, 2.0])"
        with pytest.raises(ValueError, match="profile"):
            ember.set_printoptions(profile="long")
    finally:
        ember.set_printoptions(profile="default")
    assert ember.tensor_str.get_printoptions()["threshold"] == 1000
    assert not math.isinf(ember.tensor_str.get_printoptions()["threshold"])


def test_format_spec_on_a_scalar_tensor_as_torch(torch):
    e, t = ember.tensor(3.14159), torch.tensor(3.14159)
    assert f"{e:.2f}" == f"{t:.2f}" == "3.14"
    assert f"{e}" == f"{t}" and f"{ember.ones(2)}" == f"{torch.ones(2)}"
    with pytest.raises(TypeError, match="unsupported format string"):
        f"{ember.ones(2):.2f}"
