"""torch's rules for view, squeeze/unsqueeze dims, empty strides, inference-mode state and
the integer refusals of softmax and the smooth losses, each against torch."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ember
import ember.nn.functional as F


def _same_error(fe, ft, kind):
    with pytest.raises(kind) as ours:
        fe()
    with pytest.raises(kind) as ref:
        ft()
    return str(ours.value), str(ref.value)


@pytest.mark.parametrize("op, dim", [("unsqueeze", 3), ("unsqueeze", -4), ("squeeze", 2),
                                     ("squeeze", -3), ("squeeze", (0, 2))])  # fmt: skip
def test_dims_out_of_range_raise_as_torch(op, dim):
    a, b = _same_error(
        lambda: getattr(ember.zeros(2, 3), op)(dim),
        lambda: getattr(torch.zeros(2, 3), op)(dim),
        IndexError,
    )
    assert a == b


def test_dims_in_range_still_work():
    x, t = ember.zeros(2, 1, 3), torch.zeros(2, 1, 3)
    for op, dim in (("unsqueeze", 3), ("unsqueeze", -4), ("squeeze", 1), ("squeeze", -2)):
        assert tuple(getattr(x, op)(dim).shape) == tuple(getattr(t, op)(dim).shape)
    assert tuple(ember.zeros(()).squeeze(-1).shape) == () and ember.zeros(()).unsqueeze(
        -1
    ).shape == (1,)


def test_view_of_a_non_contiguous_layout_is_refused_as_torch():
    with pytest.raises(RuntimeError, match="Use .reshape"):
        ember.zeros(2, 3).t().view(6)
    with pytest.raises(RuntimeError, match="Use .reshape"):
        torch.zeros(2, 3).t().view(6)
    # what the strides can say stays a view: split and merge dims of a transposed tensor
    x = ember.arange(24.0).reshape(2, 3, 4).permute(1, 0, 2)
    v = x.view(3, 2, 2, 2)
    np.testing.assert_array_equal(v.numpy(), x.numpy().reshape(3, 2, 2, 2))
    assert np.shares_memory(v.array, x.array)
    assert x.reshape(-1).shape == (24,)  # reshape copies where view cannot


@pytest.mark.parametrize(
    "src, dst, shape",
    [("float32", "int32", (2, 3)), ("float32", "int16", (2, 3)), ("float32", "float64", (2, 4)),
     ("int16", "float32", (2, 4)), ("float64", "uint8", (3,)), ("bool", "uint8", (4,)),
     ("complex64", "float32", (2,)), ("float32", "int32", ())],
)  # fmt: skip
def test_view_as_dtype_matches_torch(src, dst, shape):
    raw = np.random.default_rng(0).standard_normal(shape) * 100
    a = raw.astype(src) if src != "bool" else raw > 0
    ours = ember.tensor(a).view(getattr(ember, dst))
    ref = torch.from_numpy(np.array(a)).view(getattr(torch, dst))
    assert ours.dtype == getattr(ember, dst) and tuple(ours.shape) == tuple(ref.shape)
    np.testing.assert_array_equal(ours.numpy(), ref.numpy())


def test_view_as_dtype_shares_memory_and_is_outside_the_graph():
    x = ember.ones(2, 3)
    bits = x.view(ember.int32)
    bits[0, 0] = 0x40000000  # the bits of 2.0
    assert x[0, 0].item() == 2.0
    w = ember.ones(2, 2, requires_grad=True)
    assert not w.view(ember.float32).requires_grad and not w.view(dtype=ember.int32).requires_grad
    assert not torch.ones(2, 2, requires_grad=True).view(torch.float32).requires_grad


@pytest.mark.parametrize(
    "make, dtype",
    [(lambda m: m.zeros(2, 3).t(), "int16"), (lambda m: m.zeros(2, 3, dtype=m.int16), "float32"),
     (lambda m: m.zeros((), dtype=m.float32), "int16")],
)  # fmt: skip
def test_view_as_dtype_refusals_as_torch(make, dtype):
    a, b = _same_error(
        lambda: make(ember).view(getattr(ember, dtype)),
        lambda: make(torch).view(getattr(torch, dtype)),
        RuntimeError,
    )
    assert a == b


@pytest.mark.parametrize("shape", [(0, 3), (2, 0, 3), (0,), (3, 0)])
def test_empty_strides_as_torch(shape):
    assert ember.zeros(*shape).stride() == torch.zeros(*shape).stride()


def test_is_inference_mode_enabled_follows_the_innermost_region():
    seen = []
    for lib in (ember, torch):
        got = [lib.is_inference_mode_enabled()]
        with lib.inference_mode():
            got.append(lib.is_inference_mode_enabled())
            with lib.inference_mode(False):
                got.append(lib.is_inference_mode_enabled())
            got.append(lib.is_inference_mode_enabled())
        got.append(lib.is_inference_mode_enabled())
        seen.append(got)
    assert seen[0] == seen[1] == [False, True, False, True, False]


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@pytest.mark.parametrize("make, dim", [(lambda m: m.arange(6).reshape(2, 3), 1),
                                       (lambda m: m.arange(6).reshape(2, 3), 0),
                                       (lambda m: m.tensor([True, False]), 0)])  # fmt: skip
def test_softmax_of_integers_refused_as_torch(name, make, dim):
    a, b = _same_error(
        lambda: getattr(make(ember), name)(dim),
        lambda: getattr(make(torch), name)(dim),
        NotImplementedError,
    )
    assert a == b
    x, t = make(ember), make(torch)  # dtype= casts first, as torch
    np.testing.assert_allclose(
        getattr(x, name)(dim, dtype=ember.float32).numpy(),
        getattr(t, name)(dim, dtype=torch.float32).numpy(),
        rtol=1e-6,
    )


@pytest.mark.parametrize("name", ["smooth_l1_loss", "huber_loss"])
def test_smooth_losses_of_integers_refused_as_torch(name):
    a, b = _same_error(
        lambda: getattr(F, name)(ember.arange(3), ember.arange(3)),
        lambda: getattr(torch.nn.functional, name)(torch.arange(3), torch.arange(3)),
        NotImplementedError,
    )
    assert a == b
    mixed = getattr(F, name)(ember.arange(3.0), ember.tensor([0, 2, 2]))
    ref = getattr(torch.nn.functional, name)(torch.arange(3.0), torch.tensor([0, 2, 2]))
    assert mixed.item() == pytest.approx(ref.item())


def test_clamp_in_place_without_bounds_as_torch():
    a, b = _same_error(lambda: ember.ones(2).clamp_(), lambda: torch.ones(2).clamp_(), RuntimeError)
    assert a == b


@pytest.mark.parametrize(
    "dtype, values, ops",
    [("uint8", [1, 200], [("add", 300), ("radd", 300), ("sub", 300), ("rsub", 300), ("mul", 300),
                          ("mul", -300), ("add_", 300)]),
     ("int8", [1, -100], [("add", 200), ("mul", -200), ("sub", 200), ("rsub", -300)]),
     ("int16", [5, -7], [("mul", 70000), ("add", -40000)]),
     ("int32", [5, -7], [("add", 2**31), ("mul", 2**33 + 3)])],
)  # fmt: skip
def test_out_of_range_python_ints_wrap_as_torch(dtype, values, ops):
    forms = {
        "add": lambda x, c: x + c,
        "radd": lambda x, c: c + x,
        "sub": lambda x, c: x - c,
        "rsub": lambda x, c: c - x,
        "mul": lambda x, c: x * c,
        "add_": lambda x, c: x.clone().add_(c),
    }
    for name, c in ops:
        ours = forms[name](ember.tensor(values, dtype=getattr(ember, dtype)), c)
        ref = forms[name](torch.tensor(values, dtype=getattr(torch, dtype)), c)
        assert ours.dtype == getattr(ember, dtype), (name, c)
        assert ours.tolist() == ref.tolist(), (name, c)
