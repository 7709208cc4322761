"""ember's autograd is real-only: where a tensor that requires grad meets complex numbers, a
clear error at once (a cast) or at backward (a complex gradient reaching a real tensor),
never a silently wrong .grad (torch would give 2.0 per element below; the cut gave 1.0)."""

import numpy as np
import pytest

import ember


def test_casting_a_tensor_that_requires_grad_to_complex_is_refused():
    a = ember.tensor([1.0, 2.0], requires_grad=True)
    c = ember.tensor([1j, 1j])
    for make in (lambda: a * c, lambda: a + 1j, lambda: a * np.complex64(1j)):
        with pytest.raises(TypeError, match="requires grad .* cannot become complex"):
            make()


def test_without_grad_complex_arithmetic_still_works():
    a = ember.tensor([1.0, 2.0], requires_grad=True)
    c = ember.tensor([1j, 1j])
    assert np.allclose((a.detach() * c).numpy(), [1j, 2j])
    with ember.no_grad():
        assert np.allclose((a * c).numpy(), [1j, 2j])
    assert ember.tensor([1.0]).astype(np.complex64).dtype == np.complex64


def test_a_complex_gradient_reaching_a_real_tensor_is_an_error_not_a_cut():
    a = ember.tensor([1.0, 2.0], requires_grad=True)
    z = a @ ember.tensor([1j, 2j])  # the product's output is complex, a is real
    with pytest.raises(TypeError, match="complex gradient .* reached a real tensor"):
        z.abs().backward()
    assert a.grad is None
