"""Tensor basics: creation and dtypes as torch, conversions, comparisons, item/numpy/astype,
repr; and ember.gradcheck itself (it must catch a wrong backward and say where)."""

from __future__ import annotations

import numpy as np
import pytest

import ember
from ember import Function, apply


def test_default_dtypes_follow_torch(torch):
    assert ember.tensor([1.0, 2.0]).dtype == np.float32
    assert ember.tensor([1, 2]).dtype == np.int64
    assert ember.tensor(np.zeros(2)).dtype == np.float64  # arrays keep their dtype
    assert ember.tensor([1.0], dtype=ember.float64).dtype == np.float64
    assert ember.zeros(2, 3).dtype == np.float32 and ember.zeros(2, 3).shape == (2, 3)
    assert ember.ones((2, 3)).shape == (2, 3)
    assert ember.arange(5).dtype == np.int64 and ember.arange(0.0, 1.0, 0.25).dtype == np.float32
    assert (
        ember.randn(3).dtype == np.float32 and ember.rand(3, dtype=ember.double).dtype == np.float64
    )
    assert ember.full((2,), 7.0).array.tolist() == [7.0, 7.0]
    assert ember.tensor(2.5).shape == () and ember.tensor(2.5).item() == 2.5


def test_creation_functions():
    np.testing.assert_array_equal(ember.eye(3).array, np.eye(3))
    np.testing.assert_allclose(ember.linspace(0, 1, 5).array, np.linspace(0, 1, 5))
    x = ember.randn(2, 3, dtype=ember.float64)
    for f in (ember.zeros_like, ember.ones_like, ember.randn_like, ember.rand_like):
        y = f(x)
        assert y.shape == x.shape and y.dtype == x.dtype
    assert ember.full_like(x, 3.0).array.max() == 3.0
    r = ember.randint(0, 5, (100,))
    assert r.dtype == np.int64 and 0 <= r.array.min() and r.array.max() < 5
    assert sorted(ember.randperm(6).array.tolist()) == list(range(6))
    u = ember.rand(1000).array
    assert 0 <= u.min() and u.max() < 1
    a = np.arange(3.0)
    assert np.shares_memory(ember.from_numpy(a).array, a)
    assert not np.shares_memory(ember.tensor(a).array, a)
    assert ember.zeros(3, requires_grad=True).requires_grad


def test_torch_tensors_are_accepted(torch):
    t = torch.arange(6, dtype=torch.float64).reshape(2, 3)
    e = ember.Tensor(t)
    assert e.dtype == np.float64 and e.shape == (2, 3)


def test_only_floating_tensors_require_grad():
    with pytest.raises(TypeError, match="floating-point"):
        ember.tensor([1, 2], requires_grad=True)


def test_conversions():
    x = ember.tensor([[1.5, 2.0]], requires_grad=True)
    with pytest.raises(RuntimeError, match="detach"):
        x.numpy()
    assert x.detach().numpy().tolist() == [[1.5, 2.0]]
    assert x.tolist() == [[1.5, 2.0]]
    with pytest.raises(ValueError, match=r"need one element; got shape \(1, 2\)"):
        x.item()
    assert float(ember.tensor([3.0])) == 3.0 and int(ember.tensor([3])) == 3
    assert x.astype(np.float64).dtype == np.float64
    assert x.double().dtype == np.float64 and x.double().float().dtype == np.float32
    assert x.long().dtype == np.int64 and not x.long().requires_grad
    assert x.to(ember.float64).dtype == np.float64 and x.to("cpu") is x
    with pytest.raises(RuntimeError, match="was asked for, but ember runs on the CPU only"):
        x.to("cuda")
    assert len(x) == 1 and x.size() == (1, 2) and x.size(1) == 2 and x.dim() == 2
    assert x.numel() == 2 and x.device == "cpu" and x.is_leaf
    with pytest.raises(TypeError, match="0-d"):
        len(ember.tensor(1.0))


def test_comparisons_give_boolean_tensors_without_gradient():
    a = ember.tensor([1.0, 2.0, 3.0], requires_grad=True)
    b = ember.tensor([3.0, 2.0, 1.0])
    assert (a < b).array.tolist() == [True, False, False]
    assert (a <= 2).array.tolist() == [True, True, False]
    assert (a > b).array.tolist() == [False, False, True]
    assert (a >= b).array.tolist() == [False, True, True]
    assert (a == b).array.tolist() == [False, True, False]
    assert (a != b).array.tolist() == [True, False, True]
    assert ((a > 1) & (a < 3)).array.tolist() == [False, True, False]
    assert ((a < 2) | (a > 2)).array.tolist() == [True, False, True]
    assert (~(a > 1)).array.tolist() == [True, False, False]
    assert not (a < b).requires_grad
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(a > 0)
    assert bool(ember.tensor([1.0]) > 0)


def test_argmax_argmin():
    x = ember.tensor([[1.0, 5.0, 2.0], [7.0, 0.0, 3.0]])
    assert x.argmax(axis=1).array.tolist() == [1, 0]
    assert x.argmin().item() == 4


def test_iteration_and_repr():
    x = ember.tensor([[1.0, 2.0], [3.0, 4.0]])
    assert [r.array.tolist() for r in x] == [[1.0, 2.0], [3.0, 4.0]]
    assert repr(ember.tensor([1.0, 2.0])) == "tensor([1., 2.])"
    assert repr(ember.tensor([1.0], dtype=ember.float64, requires_grad=True)) == (
        "tensor([1.], dtype=float64, requires_grad=True)"
    )


def test_numpy_scalars_defer_to_tensor():
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    y = np.float32(2.0) * x
    assert isinstance(y, ember.Tensor) and y.requires_grad


# ---------------------------------------------------------------- gradcheck


class BadSquare(Function):
    """y = x², with a deliberately wrong backward (3x instead of 2x)."""

    def forward(self, x):
        self.x = x
        return x * x

    def backward(self, gy):
        return (gy * 3 * self.x,)


def test_gradcheck_passes_a_correct_op():
    x = ember.tensor(np.array([0.3, -1.2, 2.0]), requires_grad=True)
    assert ember.gradcheck(lambda t: t * t, [x])


def test_gradcheck_names_input_index_and_both_values():
    x = ember.tensor(np.array([[0.5, 1.0], [1.5, 2.0]]), requires_grad=True)
    w = ember.tensor(np.array([1.0, 2.0]), requires_grad=True)
    with pytest.raises(ember.GradcheckError) as err:
        ember.gradcheck(lambda a, b: apply(BadSquare, a) * b, [x, w])
    msg = str(err.value)  # the whole Jacobian: which output element, which input element
    assert "output 0 (shape (2, 2)) with respect to input 0 (shape (2, 2))" in msg
    assert "at output index (0, 0), input index (0, 0)" in msg
    assert "analytic 1.5, numerical 0.99999" in msg
    with pytest.raises(ember.GradcheckError) as err:  # one projection: which input element
        ember.gradcheck(lambda a, b: apply(BadSquare, a) * b, [x, w], fast_mode=True)
    msg = str(err.value)
    assert "input 0 (shape (2, 2)) at index (0, 0)" in msg
    assert "analytic" in msg and "numerical" in msg
    assert not ember.gradcheck(lambda a: apply(BadSquare, a), [x], raise_exception=False)


def test_gradcheck_wants_float64():
    with pytest.raises(TypeError, match="float64"):
        ember.gradcheck(lambda t: t * 2, [ember.tensor([1.0], requires_grad=True)])


def test_shapes_that_do_not_broadcast_name_the_op_and_the_dimension():
    a, b = ember.randn(2, 3, requires_grad=True), ember.randn(4, 5)
    with pytest.raises(ValueError) as err:
        a + b
    assert str(err.value) == (
        "add: shapes (2, 3) and (4, 5) do not broadcast: the size of tensor a (3) must match"
        " the size of tensor b (5) at non-singleton dimension 1"
    )  # torch: "The size of tensor a (3) must match the size of tensor b (5) at …"
    with pytest.raises(ValueError, match=r"mul: shapes \(2, 3, 4\) and \(5, 1\) do not broad"):
        ember.randn(2, 3, 4) * ember.randn(5, 1)
    with pytest.raises(ValueError, match=r"where: shapes .* do not broadcast$"):
        ember.where(ember.randn(2, 3) > 0, ember.randn(3, 3), 0.0)
    with pytest.raises(ValueError, match="cannot reshape"):  # other ValueErrors pass unchanged
        a.view(4, 2)
