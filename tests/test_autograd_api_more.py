"""torch.autograd's grad-mode managers (context manager, decorator called or bare, generators,
set_grad_enabled both ways), autograd.backward over several roots, the deprecated Variable
and the multithreading flag, each against torch."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ember


def _modes(lib):
    out = []
    with lib.set_grad_enabled(False):
        out.append(lib.is_grad_enabled())
    out.append(lib.is_grad_enabled())
    lib.set_grad_enabled(False)
    out.append(lib.is_grad_enabled())
    lib.set_grad_enabled(True)

    @lib.no_grad
    def bare():
        return lib.is_grad_enabled()

    @lib.no_grad()
    def called():
        return lib.is_grad_enabled()

    @lib.set_grad_enabled(False)
    def decorated():
        return lib.is_grad_enabled()

    out += [lib.is_grad_enabled(), bare(), called(), decorated(), lib.is_grad_enabled()]

    @lib.no_grad()
    def gen():
        yield lib.is_grad_enabled()
        yield lib.is_grad_enabled()

    it = gen()
    out += [next(it), lib.is_grad_enabled(), next(it)]
    with lib.no_grad():
        with lib.enable_grad():
            out.append(lib.is_grad_enabled())
        out.append(lib.is_grad_enabled())

        @lib.enable_grad
        def inside():
            return lib.is_grad_enabled()

        out.append(inside())
    with lib.autograd.no_grad():
        out.append(lib.is_grad_enabled())
    with lib.autograd.grad_mode.set_grad_enabled(False):
        out.append(lib.is_grad_enabled())
    return out


def test_grad_modes_as_torch():
    assert _modes(ember) == _modes(torch)
    assert ember.is_grad_enabled()


def test_recursion_under_a_decorator_restores_each_level():
    @ember.no_grad()
    def depth(n):
        return ember.is_grad_enabled() if n == 0 else depth(n - 1)

    assert depth(3) is False and ember.is_grad_enabled()


def test_backward_over_several_roots_as_torch():
    got = []
    for lib in (ember, torch):
        a = lib.tensor([1.0, -2.0, 0.5], requires_grad=True)
        b, c, d = a * 3, a * a, (a.exp()).sum()
        lib.autograd.backward([b, c, d], [lib.ones(3), lib.full((3,), 2.0), None])
        got.append(a.grad.numpy().copy())
        e = a.sin().sum()
        lib.autograd.backward(e)
        got.append(a.grad.numpy().copy())
        w = lib.tensor([0.3, 0.1], requires_grad=True)
        y = w * 2
        lib.autograd.backward([y], grad_tensors=[lib.tensor([1.0, 5.0])], inputs=[w])
        got.append(w.grad.numpy().copy())
    for ours, ref in zip(got[:3], got[3:]):
        np.testing.assert_allclose(ours, ref, rtol=1e-6)


def test_backward_errors_as_torch():
    for lib in (ember, torch):
        with pytest.raises(RuntimeError, match="does not require grad"):
            lib.autograd.backward([lib.ones(2)], [lib.ones(2)])
        a = lib.ones(2, requires_grad=True)
        with pytest.raises(RuntimeError, match="implicitly created only for scalar outputs"):
            lib.autograd.backward([a * 1, a * 2])
        with pytest.raises(RuntimeError, match="Mismatch in shape" if lib is ember else "size"):
            lib.autograd.backward([a * 1, a * 2], [lib.ones(2), lib.ones(3)])


def test_backward_with_a_complex_root():
    for lib in (ember, torch):
        z = lib.tensor([1.0 + 2.0j, -0.5j], requires_grad=True)
        r = lib.tensor([1.0, 2.0], requires_grad=True)
        lib.autograd.backward([z * z, r * r], [lib.tensor([1.0 - 1.0j, 2.0 + 0j]), lib.ones(2)])
        if lib is ember:
            ours = z.grad.numpy(), r.grad.numpy()
        else:
            np.testing.assert_allclose(ours[0], z.grad.numpy(), rtol=1e-6)
            np.testing.assert_allclose(ours[1], r.grad.numpy(), rtol=1e-6)


def test_variable_as_torch():
    for lib in (ember, torch):
        x = lib.ones(2)
        v = lib.autograd.Variable(x)
        assert v is not x and v.data_ptr() == x.data_ptr() and not v.requires_grad
        w = lib.autograd.Variable(lib.ones(2, requires_grad=True) * 2, requires_grad=True)
        assert w.requires_grad and w.grad_fn is None
        assert isinstance(lib.ones(1), lib.autograd.Variable)
        assert not isinstance([1.0], lib.autograd.Variable)
        with pytest.raises(TypeError, match="Variable data has to be a tensor"):
            lib.autograd.Variable([1.0])


def test_multithreading_flag_as_torch():
    for lib in (ember, torch):
        assert lib.autograd.is_multithreading_enabled()
        with lib.autograd.set_multithreading_enabled(False):
            assert not lib.autograd.is_multithreading_enabled()
        assert lib.autograd.is_multithreading_enabled()


@pytest.mark.parametrize(
    "value, error",
    [("wrong shape", RuntimeError), ("wrong dtype", RuntimeError), ("a list", TypeError)],
)
def test_assigning_a_grad_that_does_not_fit_is_refused_as_torch(torch, value, error):
    """x.grad = g needs g of x's shape and dtype (or None), as torch: refused at the assignment,
    not at the optimizer step that would trip over it (ember once took anything)."""
    for lib in (torch, ember):
        x = lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True)
        g = {
            "wrong shape": lib.ones(3, dtype=lib.float64),
            "wrong dtype": lib.ones(2, dtype=lib.float32),
            "a list": [1.0, 2.0],
        }[value]
        with pytest.raises(error):
            x.grad = g
        x.grad = lib.ones(2, dtype=lib.float64)  # what fits is taken
        x.grad = None
