"""Writeable views made by unfold and expand (ops/shape.py: Windows, Expand) against torch: a
write through the view under no_grad reaches x exactly when no element of the view repeats;
views whose elements share memory stay read-only; the gradients are unchanged."""

from __future__ import annotations

import numpy as np
import pytest

import ember

A = np.arange(24.0).reshape(4, 6) / 5.0 - 2.0


def _pair(torch, a=A):
    return ember.tensor(a), torch.tensor(a)


def _write_both(torch, view, write=lambda y: y.mul_(-3.0)):
    """view(x) written in place under no_grad in both libraries; returns both x."""
    e, t = _pair(torch)
    with ember.no_grad():
        write(view(e))
    with torch.no_grad():
        write(view(t))
    return e.numpy(), t.numpy()


# ---------------------------------------------------------------- unfold


@pytest.mark.parametrize(
    "view",
    [
        lambda x: x.unfold(1, 2, 2),  # windows side by side
        lambda x: x.unfold(1, 2, 3),  # gaps between them
        lambda x: x.unfold(0, 3, 2),  # step < size, but only one window fits
        lambda x: x.t().unfold(1, 2, 2),  # a transposed input
        lambda x: x[1:, ::2].unfold(0, 1, 2),  # a strided slice
    ],
    ids=["adjacent", "gaps", "one_window", "transposed", "strided_slice"],
)
def test_unfold_without_overlap_writes_into_x_as_torch(torch, view):
    got, want = _write_both(torch, view)
    np.testing.assert_array_equal(got, want)
    assert not np.array_equal(got, A)


def test_unfold_write_by_assignment_and_fill(torch):
    got, want = _write_both(torch, lambda x: x.unfold(1, 3, 3)[1], lambda y: y.fill_(7.0))
    np.testing.assert_array_equal(got, want)
    e = ember.tensor(A)
    e.unfold(1, 2, 2)[..., 0] = 0.0  # every even column
    assert np.all(e.numpy()[:, ::2] == 0) and np.array_equal(e.numpy()[:, 1::2], A[:, 1::2])


def test_overlapping_unfold_stays_read_only():
    """torch writes these (the result depends on the order of the writes); ember refuses, as
    it refuses, with torch's message, every elementwise write into a view whose elements share
    memory."""
    e = ember.tensor(A)
    with pytest.raises(RuntimeError, match="more than one element"):
        e.unfold(1, 3, 2).mul_(0)
    np.testing.assert_array_equal(e.numpy(), A)


def test_unfold_of_an_expanded_input_is_refused_as_torch(torch):
    for lib in (ember, torch):
        e = lib.tensor(A[0]).expand(4, 6)
        with pytest.raises(RuntimeError, match="more than one element"):
            e.unfold(1, 2, 2).mul_(0)


def test_unfold_gradient_is_unchanged(torch):
    e = ember.tensor(A, requires_grad=True)
    t = torch.tensor(A, requires_grad=True)
    g = np.random.randn(4, 3, 2)
    e.unfold(1, 2, 2).backward(ember.tensor(g))
    t.unfold(1, 2, 2).backward(torch.tensor(g))
    np.testing.assert_allclose(e.grad.numpy(), t.grad.numpy())
    assert ember.gradcheck(lambda x: (x * 1.0).unfold(1, 2, 3), (e.detach().requires_grad_(),))


# ---------------------------------------------------------------- expand


@pytest.mark.parametrize(
    "view",
    [
        lambda x: x.expand(4, 6),
        lambda x: x.expand(-1, -1),
        lambda x: x.expand(1, 4, 6),  # a new leading dim of 1 repeats nothing
        lambda x: x[:, :1].expand(4, 1),
        lambda x: x.t().expand(6, 4),
        lambda x: x.expand_as(x),
        lambda x: x.broadcast_to((4, 6)),
    ],
    ids=["same", "minus_one", "leading_one", "size_one_kept", "transposed", "as", "broadcast_to"],
)
def test_expand_that_repeats_nothing_is_a_writeable_view_of_x(torch, view):
    got, want = _write_both(torch, view)
    np.testing.assert_array_equal(got, want)
    assert not np.array_equal(got, A)


def test_expand_that_repeats_is_refused_as_torch_refuses_it(torch):
    e, t = _pair(torch)
    with pytest.raises(RuntimeError, match="more than one element"):
        t[:1].expand(4, 6).mul_(2)
    with pytest.raises(RuntimeError, match="more than one element"):
        t.expand(2, 4, 6).mul_(2)
    for y in (e[:1].expand(4, 6), e.expand(2, 4, 6)):
        with pytest.raises(RuntimeError, match="more than one element"):
            y.mul_(2)
    np.testing.assert_array_equal(e.numpy(), A)


def test_expand_of_an_expanded_input_is_refused_as_torch(torch):
    for lib in (ember, torch):
        e = lib.tensor(A[0]).expand(4, 6)
        with pytest.raises(RuntimeError, match="more than one element"):
            e.expand(4, 6).mul_(0)


def test_expand_still_checks_the_shape():
    e = ember.tensor(A)
    with pytest.raises((RuntimeError, ValueError)):
        e.expand(6, 4)  # as many elements, yet not a broadcast of (4, 6)


def test_expand_of_an_empty_tensor():
    e = ember.zeros(0, 1)
    assert e.expand(0, 5).shape == (0, 5)


def test_expand_gradient_is_unchanged(torch):
    for shape in ((4, 6), (1, 4, 6), (3, 4, 6)):
        e = ember.tensor(A, requires_grad=True)
        t = torch.tensor(A, requires_grad=True)
        g = np.random.randn(*shape)
        e.expand(*shape).backward(ember.tensor(g))
        t.expand(*shape).backward(torch.tensor(g))
        np.testing.assert_allclose(e.grad.numpy(), t.grad.numpy())


@pytest.mark.parametrize("grad", [False, True])
@pytest.mark.parametrize(
    "view",
    [
        lambda h: h.unfold(0, 1, 2).narrow(2, 0, 1),  # a slice of windows: still a view
        lambda h: h.unfold(1, 2, 2)[:, ::2, 1],
        lambda h: h.as_strided((2, 2), (1, 4))[1:],  # a slice of an as_strided view
    ],
)
def test_a_slice_of_a_strided_view_is_a_view_that_writes_through(torch, view, grad):
    """Indexing a view made by unfold or as_strided gives a view of the same memory (NumPy
    parents it on the strided view's stand-in array, which ember once took for a copy)."""

    def run(m):
        x = m.tensor(np.arange(1.0, 13.0).reshape(4, 3), dtype=m.float64, requires_grad=grad)
        h = x * 1.0 if grad else x.detach().clone()
        view(h).neg_()
        if not grad:
            return h.numpy(), None
        (h * m.tensor(np.arange(12.0).reshape(4, 3))).sum().backward()
        return h.detach().numpy(), x.grad.numpy()

    (got, got_grad), (want, want_grad) = run(ember), run(torch)
    np.testing.assert_array_equal(got, want)
    if grad:
        np.testing.assert_array_equal(got_grad, want_grad)
