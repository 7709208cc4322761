"""A real tensor that requires grad, mixed with complex numbers, gets torch's gradient (the
real part of the complex rule), never a silently cut one (|a·i| + a once gave 1.0 per
element, torch 2.0); an op without a complex gradient is a clear TypeError naming it."""

import numpy as np
import pytest

import ember


def test_real_tensor_mixed_with_complex_gets_torchs_gradient(torch):
    for make in (lambda lib, a: a * lib.tensor([1j, 1j]), lambda lib, a: a + 1j):
        grads = []
        for lib in (ember, torch):
            a = lib.tensor([1.0, 2.0], requires_grad=True)
            (make(lib, a).abs() + a).sum().backward()
            grads.append(a.grad.numpy())
        np.testing.assert_allclose(grads[0], grads[1], rtol=1e-6)
        assert grads[0].dtype == np.float32
    # a NumPy complex scalar is complex here (torch 2.13 casts it to real, with a warning):
    # |a·i| + a has gradient 1 + 1
    a = ember.tensor([1.0, 2.0], requires_grad=True)
    (a * np.complex64(1j)).abs().sum().add(a.sum()).backward()
    np.testing.assert_array_equal(a.grad.numpy(), [2.0, 2.0])


def test_without_grad_complex_arithmetic_still_works():
    a = ember.tensor([1.0, 2.0], requires_grad=True)
    c = ember.tensor([1j, 1j])
    assert np.allclose((a.detach() * c).numpy(), [1j, 2j])
    with ember.no_grad():
        assert np.allclose((a * c).numpy(), [1j, 2j])
    assert ember.tensor([1.0]).astype(np.complex64).dtype == np.complex64


def test_real_operand_of_a_complex_matmul_gets_the_real_part(torch):
    a = ember.tensor([1.0, 2.0], requires_grad=True)
    z = a @ ember.tensor([1j, 2j])  # the product's output is complex, a is real
    z.abs().backward()
    t = torch.tensor([1.0, 2.0], requires_grad=True)
    (t.to(torch.complex64) @ torch.tensor([1j, 2j])).abs().backward()
    np.testing.assert_allclose(a.grad.numpy(), t.grad.numpy(), rtol=1e-6)


def test_ops_without_a_complex_gradient_refuse_it():
    from tests.test_complex_autograd import NoComplexRule

    # softmax, which this test once used, is now refused in its forward, as torch refuses it
    z = ember.tensor([1 + 1j, 2 - 1j], requires_grad=True)
    y = ember.apply(NoComplexRule, z)
    with pytest.raises(TypeError, match="has no complex gradient in ember"):
        (y * y.conj()).real.sum().backward()


def test_a_hook_that_makes_a_real_tensors_gradient_complex_is_an_error():
    a = ember.tensor([1.0, 2.0], requires_grad=True)
    a.register_hook(lambda g: g * (1 + 1j))
    with pytest.raises(TypeError, match="complex gradient .* reached a real tensor"):
        (a * 2).sum().backward()
    assert a.grad is None


def test_backward_of_a_complex_scalar_needs_a_gradient():
    z = ember.tensor([1 + 1j], requires_grad=True)
    with pytest.raises(RuntimeError, match="only for real scalar outputs"):
        (z * z).sum().backward()
    (z * z).sum().backward(ember.tensor(1 + 0j))  # an explicit gradient is fine, as torch
    np.testing.assert_allclose(z.grad.numpy(), [2 - 2j])


def test_a_custom_function_meets_complex_gradients_as_torchs_does(torch):
    """The user's backward receives ∂L/∂x + i∂L/∂y and returns the same convention, in ember
    as in torch: here Im(z)² written by hand, whose gradient is 2i·Im(z)."""

    def run(lib, values):
        class ImagSquared(lib.autograd.Function):
            @staticmethod
            def forward(ctx, z):
                ctx.save_for_backward(z)
                return z.imag**2

            @staticmethod
            def backward(ctx, g):
                (z,) = ctx.saved_tensors
                return g * 2j * z.imag

        z = lib.tensor(values, requires_grad=True)
        ImagSquared.apply(z * 1).sum().backward()  # (through a Mul: complex gradients)
        return z.grad.detach().numpy()

    values = np.array([1 + 2j, 3 - 1j])
    ours, theirs = run(ember, values), run(torch, values)
    assert np.allclose(ours, theirs) and np.allclose(ours, 2j * values.imag)


@pytest.mark.parametrize("name", ["var", "std", "norm"])
def test_real_valued_reductions_of_complex_tensors_match_torch(torch, name):
    """var, std and the 2-norm of a complex tensor are real (|z − mean|², |z|²), with torch's
    gradient g·(∂/∂x + i∂/∂y)."""
    values = np.array([1 + 2j, 3 - 1j, -2 + 0.5j, 0.25 - 4j])
    ours, theirs = (
        ember.tensor(values, requires_grad=True),
        torch.tensor(values, requires_grad=True),
    )
    a, b = getattr(ours, name)(), getattr(theirs, name)()
    assert a.dtype == np.float64 and np.isclose(a.item(), b.item(), rtol=1e-14)
    a.backward()
    b.backward()
    assert np.allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-14, atol=1e-15)
