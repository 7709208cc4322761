"""torch.as_strided / Tensor.as_strided (ops/as_strided.py) against torch: values and layout,
aliasing of x's memory, the refusals and their messages, gradients (first and second order)
and gradcheck."""

from __future__ import annotations

import io

import numpy as np
import pytest

import ember

A = np.arange(12.0).reshape(3, 4) / 7.0 - 0.6

# (name, input view, size, stride, storage_offset): the input views are those whose layout
# ember's memory shares with torch's (contiguous, transposed, sliced, expanded)
CASES = [
    ("contiguous", lambda a: a, (2, 3), (3, 1), 1),
    ("default_offset", lambda a: a, (2, 2), (4, 1), None),
    ("transposed", lambda a: a.t(), (3, 2), (1, 4), 0),
    ("transposed_every_other", lambda a: a.t(), (4,), (2,), 1),
    ("sliced", lambda a: a[1:], (2, 2), (1, 4), None),
    ("sliced_column", lambda a: a[:, 1:3], (3, 2), (4, 1), None),
    ("before_the_slice", lambda a: a[1:], (3,), (1,), 0),
    ("stride_0", lambda a: a, (3, 4), (0, 1), 0),
    ("sliding_windows", lambda a: a, (5, 3), (2, 1), 0),
    ("expanded_input", lambda a: a[0].expand(3, 4), (2, 4), (1, 1), 0),
    ("expanded_inside", lambda a: a[0].expand(3, 4), (2, 3), (1, 1), 0),
    ("scalar_view", lambda a: a, (), (), 5),
    ("empty", lambda a: a, (0, 3), (1, 1), 0),
]
IDS = [c[0] for c in CASES]


def _pair(torch, a=A, requires_grad=False):
    return (
        ember.tensor(a, requires_grad=requires_grad),
        torch.tensor(a, requires_grad=requires_grad),
    )


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_values_strides_and_offset_match_torch(torch, case):
    _, view, size, stride, offset = case
    e, t = _pair(torch)
    got, want = (
        ember.as_strided(view(e), size, stride, offset),
        torch.as_strided(view(t), size, stride, offset),
    )
    np.testing.assert_array_equal(got.numpy(), want.numpy())
    assert got.shape == tuple(want.shape)
    if got.numel():  # torch reports a zero-element tensor's layout as it was asked
        assert got.stride() == want.stride()
        assert got.storage_offset() == want.storage_offset()
    # the method is the same op
    np.testing.assert_array_equal(view(e).as_strided(size, stride, offset).numpy(), want.numpy())


def test_the_view_aliases_the_memory_both_ways(torch):
    e, t = _pair(torch)
    for x, lib in ((e, ember), (t, torch)):
        y = x.as_strided((2, 2), (4, 1), 1)  # x[0:2, 1:3]
        with lib.no_grad():
            y.mul_(0)
        y2 = lib.as_strided(x, (2,), (5,), 1)  # x[0, 1] and x[1, 2]
        with lib.no_grad():
            y2.add_(1.0)
    np.testing.assert_array_equal(e.numpy(), t.numpy())


def test_a_write_through_a_transposed_input_lands_where_torch_puts_it(torch):
    e, t = _pair(torch)
    for x in (e.t(), t.t()):
        x.as_strided((3,), (5,), 0).fill_(-1.0)  # storage 0, 5, 10: the diagonal of A
    np.testing.assert_array_equal(e.numpy(), t.numpy())
    assert np.all(np.diag(e.numpy()) == -1.0)


def test_a_write_into_a_stride_0_view_is_refused_as_torch_refuses_it(torch):
    e, t = _pair(torch)
    with pytest.raises(RuntimeError, match="more than one element"):
        t.as_strided((3, 4), (0, 1)).mul_(2)
    with pytest.raises(RuntimeError, match="more than one element"):
        e.as_strided((3, 4), (0, 1)).mul_(2)
    np.testing.assert_array_equal(e.numpy(), A)


def test_overlapping_windows_are_read_only():
    """torch lets this one write (its overlap test gives up on anything but a 0 stride, and the
    result depends on the order of the writes); ember refuses it with torch's message, as every
    elementwise write into a view whose elements share memory."""
    e = ember.tensor(A)
    with pytest.raises(RuntimeError, match="more than one element"):
        e.as_strided((5, 3), (2, 1)).add_(1.0)
    np.testing.assert_array_equal(e.numpy(), A)


def test_a_view_of_an_expanded_tensor_writes_its_memory_as_torch(torch):
    """expand repeats A[0]'s memory; as_strided((4,), (1,)) views each element once, so the
    write goes into that memory, as in torch."""
    out = []
    for lib in (ember, torch):
        base = lib.tensor(A[0])
        base.expand(3, 4).as_strided((4,), (1,)).mul_(2)
        out.append(base.numpy())
    np.testing.assert_array_equal(out[0], out[1])
    np.testing.assert_array_equal(out[0], A[0] * 2)


@pytest.mark.parametrize(
    "size, stride, offset",
    [((3, 3), (1, 4), 4), ((13,), (1,), 0), ((2,), (1,), 11)],
    ids=["rows", "length", "offset"],
)
def test_out_of_bounds_is_refused_with_torch_message(torch, size, stride, offset):
    e, t = _pair(torch, A.astype(np.float32))
    with pytest.raises(RuntimeError) as want:
        torch.as_strided(t, size, stride, offset)
    with pytest.raises(RuntimeError) as got:
        ember.as_strided(e, size, stride, offset)
    assert str(got.value) == str(want.value)
    assert "out of bounds for storage of size 48" in str(got.value)


def test_the_storage_is_the_root_memory_not_the_slice(torch):
    """x[1:] views 12 elements from offset 4: as_strided may reach back to x[0] (torch too)."""
    e, t = _pair(torch)
    np.testing.assert_array_equal(
        e[1:].as_strided((4,), (1,), 0).numpy(), t[1:].as_strided((4,), (1,), 0).numpy()
    )


def test_negative_strides_and_bad_geometry_are_refused(torch):
    e, t = _pair(torch)
    with pytest.raises(RuntimeError) as want:
        torch.as_strided(t, (3, 3), (-1, 1))
    with pytest.raises(RuntimeError) as got:
        ember.as_strided(e, (3, 3), (-1, 1))
    assert str(got.value) == str(want.value)
    with pytest.raises(RuntimeError, match="invalid storage offset -1"):
        e.as_strided((2,), (1,), -1)
    with pytest.raises(RuntimeError, match="mismatch in length of strides and shape"):
        e.as_strided((2,), (1, 1))
    with pytest.raises(RuntimeError, match="negative size"):
        e.as_strided((-1,), (1,))


def test_zero_elements_need_no_storage(torch):
    e, t = _pair(torch)
    assert tuple(torch.as_strided(t, (0, 2), (1, 1), 100).shape) == (0, 2)
    assert ember.as_strided(e, (0, 2), (1, 1), 100).shape == (0, 2)


def test_storage_offset_of_unfold_and_expand_views_matches_torch(torch):
    """NumPy's stride tricks put a helper object between a window view and its base: the
    offset still counts from the root's memory."""
    e, t = _pair(torch)
    for f in (
        lambda x: x[1:].unfold(1, 2, 1),
        lambda x: x[2:].expand(2, 4),
        lambda x: x[:, 1:].t(),
    ):
        assert f(e).storage_offset() == f(t).storage_offset()
        assert f(e).stride() == f(t).stride()


# ---------------------------------------------------------------- gradients


def _first_and_second(lib, view, size, stride, offset, g, w):
    """y = as_strided(view(x²)); L = Σ y·g; returns ∂L/∂x and the derivatives of
    Σ (∂L/∂x)·w with respect to x and g (the double backward)."""
    x, gt = lib.tensor(A, requires_grad=True), lib.tensor(g, requires_grad=True)
    y = lib.as_strided(view(x * x), size, stride, offset)
    (dx,) = lib.autograd.grad((y * gt).sum(), x, create_graph=True)
    second = lib.autograd.grad((dx * lib.tensor(w)).sum(), (x, gt), allow_unused=True)
    return [dx.detach().numpy()] + [None if s is None else s.numpy() for s in second]


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_gradient_matches_torch(torch, case):
    _, view, size, stride, offset = case
    e, t = _pair(torch, requires_grad=True)
    g = np.random.randn(*size)
    torch.as_strided(view(t), size, stride, offset).backward(torch.tensor(g))
    ember.as_strided(view(e), size, stride, offset).backward(ember.tensor(g))
    np.testing.assert_allclose(e.grad.numpy(), t.grad.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_double_backward_matches_torch(torch, case):
    """Where torch's second derivative is NaN (a position y reads that the expanded input does
    not cover: torch divides its whole buffer by the count of x's elements there, 0), ember's
    is 0: nothing of x is at that position, so nothing flows."""
    _, view, size, stride, offset = case
    g, w = np.random.randn(*size), np.random.randn(3, 4)
    got = _first_and_second(ember, view, size, stride, offset, g, w)
    want = _first_and_second(torch, view, size, stride, offset, g, w)
    for a, b in zip(got, want):
        if b is None or a is None:
            assert a is None or not np.any(a)
            assert b is None or not np.any(b)
            continue
        nan = np.isnan(b)
        np.testing.assert_allclose(a[~nan], b[~nan], rtol=1e-12, atol=1e-12)
        assert not np.any(a[nan])


OUTSIDE = ("before_the_slice", "expanded_input")  # they read beyond the input
GRADCHECK = [c for c in CASES if c[0] not in OUTSIDE]


@pytest.mark.parametrize("case", GRADCHECK, ids=[c[0] for c in GRADCHECK])
def test_gradcheck(case):
    """Only geometries that read inside the input's own elements: reading memory the input
    does not cover (before x[1:], past x[0] expanded) is a dependence backward cannot see, in
    torch too."""
    _, view, size, stride, offset = case
    x = ember.tensor(np.random.randn(3, 4), requires_grad=True)
    assert ember.gradcheck(lambda x: ember.as_strided(view(x * 1.0), size, stride, offset), (x,))
    assert ember.gradgradcheck(lambda x: ember.as_strided(view(x * x), size, stride, offset), (x,))


def test_a_leaf_as_strided_accumulates_overlaps(torch):
    """Each element's gradient is the sum over the windows that read it (4-long windows,
    stride 2 over 10 elements)."""
    e = ember.arange(10.0, dtype=ember.float64).requires_grad_()
    t = torch.arange(10.0, dtype=torch.float64, requires_grad=True)
    for x in (e, t):
        (x.as_strided((4, 4), (2, 1)) ** 2).sum().backward()
    np.testing.assert_allclose(e.grad.numpy(), t.grad.numpy())


def test_onnx_export_refuses_as_strided():
    pytest.importorskip("onnx")

    class Windows(ember.nn.Module):
        def forward(self, x):
            return x.as_strided((3, 2), (1, 1)) * 2

    with pytest.raises(NotImplementedError, match="AsStrided.*no ONNX mapping"):
        ember.onnx.export(Windows(), (ember.randn(4),), io.BytesIO())
