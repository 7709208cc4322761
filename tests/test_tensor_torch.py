"""PyTorch's Tensor conveniences (ember/tensor_torch.py) and Module's (nn/module.py) against
torch: outputs and gradients of every composed method, gradcheck on a representative set,
booleans and in-place methods, device and dtype helpers, and the error cases."""

from __future__ import annotations

import re

import numpy as np
import pytest
from core_reference import check_gradients, compare_with_torch, positive, randn

import ember
import ember.nn as nn

MASK = np.random.default_rng(1).random((3, 4)) < 0.5

# (id, f, arrays): f is called with ember tensors and with torch tensors alike (same names)
DIFFERENTIABLE = [
    ("flip", lambda x: x.flip(0, 2), [randn(2, 3, 4)]),
    ("flip_list", lambda x: x.flip([1]), [randn(2, 3)]),
    ("roll", lambda x: x.roll(1, 1), [randn(3, 4)]),
    ("roll_dims", lambda x: x.roll((1, -5), (0, 1)), [randn(3, 4)]),
    ("roll_flat", lambda x: x.roll(5), [randn(3, 4)]),
    ("repeat", lambda x: x.repeat(2, 1, 3), [randn(3, 2)]),
    ("repeat_same_rank", lambda x: x.repeat(2, 2), [randn(3, 2)]),
    ("tile", lambda x: x.tile((2,)), [randn(3, 2)]),
    ("unbind", lambda x: x.unbind(1), [randn(2, 3, 2)]),
    ("narrow", lambda x: x.narrow(1, 1, 2), [randn(3, 4)]),
    ("narrow_negative", lambda x: x.narrow(1, -3, 2), [randn(3, 4)]),
    ("t", lambda x: x.t(), [randn(3, 4)]),
    ("t_1d", lambda x: x.t(), [randn(4)]),
    ("mT", lambda x: x.mT, [randn(2, 3, 4)]),
    ("contiguous", lambda x: x.t().contiguous() * 1, [randn(3, 4)]),
    ("view_as", lambda x, y: x.view_as(y), [randn(3, 4), randn(2, 6)]),
    ("reshape_as", lambda x, y: x.reshape_as(y), [randn(3, 4), randn(12)]),
    ("expand_as", lambda x, y: x.expand_as(y), [randn(3, 1), randn(2, 3, 4)]),
    ("unflatten", lambda x: x.unflatten(1, (2, 3)), [randn(2, 6)]),
    ("unflatten_minus1", lambda x: x.unflatten(-1, (-1, 3)), [randn(2, 6)]),
    ("tril", lambda x: x.tril(), [randn(4, 4)]),
    ("tril_k", lambda x: x.tril(1), [randn(2, 3, 4)]),
    ("triu", lambda x: x.triu(), [randn(3, 4)]),
    ("triu_k", lambda x: x.triu(-1), [randn(4, 3)]),
    ("diag_1d", lambda x: x.diag(), [randn(3)]),
    ("diag_1d_k", lambda x: x.diag(2), [randn(3)]),
    ("diag_1d_neg", lambda x: x.diag(-1), [randn(3)]),
    ("diag_2d", lambda x: x.diag(), [randn(3, 4)]),
    ("diag_2d_k", lambda x: x.diag(1), [randn(3, 4)]),
    ("diag_2d_neg", lambda x: x.diag(-2), [randn(3, 4)]),
    ("mm", lambda a, b: a.mm(b), [randn(3, 4), randn(4, 2, seed=1)]),
    ("bmm", lambda a, b: a.bmm(b), [randn(2, 3, 4), randn(2, 4, 5, seed=1)]),
    ("matmul", lambda a, b: a.matmul(b), [randn(2, 3, 4), randn(4, seed=1)]),
    ("dot", lambda a, b: a.dot(b), [randn(4), randn(4, seed=1)]),
    ("outer", lambda a, b: a.outer(b), [randn(3), randn(4, seed=1)]),
    ("addmm", lambda c, a, b: c.addmm(a, b), [randn(3, 2), randn(3, 4), randn(4, 2)]),
    (
        "addmm_scaled",
        lambda c, a, b: c.addmm(a, b, beta=0.5, alpha=2.0),
        [randn(2), randn(3, 4, seed=1), randn(4, 2, seed=2)],
    ),
    ("neg", lambda x: x.neg(), [randn(3, 4)]),
    ("pow", lambda x: x.pow(3), [randn(3, 4)]),
    ("pow_tensor", lambda x, y: x.pow(y), [positive(3, 4), randn(3, 4, seed=1)]),
    ("square", lambda x: x.square(), [randn(3, 4)]),
    ("rsqrt", lambda x: x.rsqrt(), [positive(3, 4)]),
    ("reciprocal", lambda x: x.reciprocal(), [positive(3, 4)]),
    ("lerp", lambda a, b: a.lerp(b, 0.3), [randn(3, 4), randn(3, 4, seed=1)]),
    ("lerp_tensor", lambda a, b, w: a.lerp(b, w), [randn(3, 4), randn(3, 4, seed=1), randn(4)]),
    ("sign", lambda x: x.sign(), [randn(3, 4)]),
    ("round", lambda x: x.round(), [randn(3, 4, scale=3)]),
    ("round_decimals", lambda x: x.round(decimals=1), [randn(3, 4, scale=3)]),
    ("floor", lambda x: x.floor(), [randn(3, 4, scale=3)]),
    ("ceil", lambda x: x.ceil(), [randn(3, 4, scale=3)]),
    ("trunc", lambda x: x.trunc(), [randn(3, 4, scale=3)]),
    ("frac", lambda x: x.frac(), [randn(3, 4, scale=3)]),
    ("masked_fill", lambda x, m: x.masked_fill(m, -1.5), [randn(3, 4), MASK]),
    ("masked_fill_row", lambda x, m: x.masked_fill(m, 0.0), [randn(3, 4), MASK[0]]),
    ("masked_fill_0d", lambda x, m, v: x.masked_fill(m, v), [randn(3, 4), MASK, np.array(2.0)]),
    ("where", lambda x, m, y: x.where(m, y), [randn(3, 4), MASK, randn(4, seed=1)]),
    ("type_as", lambda x, y: x.type_as(y), [randn(3), randn(2).astype(np.float32)]),
]


@pytest.mark.parametrize(
    "f, arrays", [c[1:] for c in DIFFERENTIABLE], ids=[c[0] for c in DIFFERENTIABLE]
)
def test_composed_methods_match_torch(torch, f, arrays):
    compare_with_torch(torch, f, f, arrays)


def test_step_functions_send_zero_gradient_even_at_inf(torch):
    x = ember.tensor([-np.inf, -1.5, 0.5, 2.5, np.inf], dtype=ember.float64, requires_grad=True)
    for name in ("sign", "round", "floor", "ceil", "trunc"):
        x.grad = None
        y = getattr(x, name)()
        y.backward(ember.ones_like(y))
        ref = getattr(torch.tensor(x.array), name)().numpy()
        np.testing.assert_array_equal(y.array, ref)
        np.testing.assert_array_equal(x.grad.array, np.zeros(5))


def test_triangles_zero_an_inf_without_nan():
    x = ember.tensor([[1.0, np.inf], [np.inf, 2.0]])
    assert x.tril().array.tolist() == [[1.0, 0.0], [np.inf, 2.0]]
    assert x.triu().array.tolist() == [[1.0, np.inf], [0.0, 2.0]]


GRADCHECK = [
    ("pow", lambda x: x.pow(3), [randn(3, 4)]),
    ("pow_tensor", lambda x, y: x.pow(y), [positive(3, 4), randn(3, 4, seed=1)]),
    ("rsqrt", lambda x: x.rsqrt(), [positive(3, 4)]),
    ("lerp", lambda a, b, w: a.lerp(b, w), [randn(3, 4), randn(3, 4, seed=1), randn(4)]),
    ("masked_fill", lambda x: x.masked_fill(ember.tensor(MASK), 0.5), [randn(3, 4)]),
    ("roll", lambda x: x.roll((1, 2), (0, 1)), [randn(3, 4)]),
    ("flip", lambda x: x.flip(0, 1), [randn(3, 4)]),
    ("repeat", lambda x: x.repeat(2, 1, 3), [randn(3, 2)]),
    ("tril", lambda x: x.tril(-1), [randn(4, 4)]),
    ("diag_1d", lambda x: x.diag(1), [randn(3)]),
    ("diag_2d", lambda x: x.diag(-1), [randn(4, 3)]),
    (
        "addmm",
        lambda c, a, b: c.addmm(a, b, beta=0.5, alpha=2.0),
        [randn(3, 2), randn(3, 4, seed=1), randn(4, 2, seed=2)],
    ),
    ("frac", lambda x: x.frac(), [randn(3, 4, scale=3)]),
]


@pytest.mark.parametrize("f, arrays", [c[1:] for c in GRADCHECK], ids=[c[0] for c in GRADCHECK])
def test_gradcheck(f, arrays):
    check_gradients(f, arrays)


# ---------------------------------------------------------------- booleans (no gradient)
BOOLEAN = [
    ("eq", lambda a, b: a.eq(b)),
    ("ne", lambda a, b: a.ne(b)),
    ("lt", lambda a, b: a.lt(b)),
    ("gt", lambda a, b: a.gt(b)),
    ("le", lambda a, b: a.le(b)),
    ("ge", lambda a, b: a.ge(b)),
    ("eq_number", lambda a, b: a.eq(1.0)),
    ("lt_number", lambda a, b: a.lt(0.5)),
    ("isnan", lambda a, b: a.isnan()),
    ("isinf", lambda a, b: a.isinf()),
    ("isfinite", lambda a, b: a.isfinite()),
    ("logical_and", lambda a, b: a.logical_and(b)),
    ("logical_or", lambda a, b: a.logical_or(b)),
    ("logical_not", lambda a, b: a.logical_not()),
    ("all", lambda a, b: a.isfinite().all()),
    ("all_dim", lambda a, b: a.isfinite().all(dim=1)),
    ("any_dim_keep", lambda a, b: a.gt(b).any(1, keepdim=True)),
    ("any", lambda a, b: a.isnan().any()),
]


@pytest.mark.parametrize("f", [c[1] for c in BOOLEAN], ids=[c[0] for c in BOOLEAN])
def test_comparisons_and_logic_match_torch(torch, f):
    a = np.array([[1.0, np.nan, -np.inf, 0.0], [2.0, 1.0, np.inf, 0.25]])
    b = np.array([[1.0, 0.0, 0.0, 0.0], [3.0, 1.0, 1.0, 0.0]])
    e = f(ember.tensor(a, requires_grad=True), ember.tensor(b))
    t = f(torch.tensor(a, requires_grad=True), torch.tensor(b))
    assert e.dtype == np.bool_ and not e.requires_grad
    np.testing.assert_array_equal(e.array, t.numpy())


def test_allclose_returns_a_python_bool(torch):
    a, b = np.array([1.0, np.nan]), np.array([1.0 + 1e-9, np.nan])
    for kw in ({}, {"equal_nan": True}, {"rtol": 0.0, "atol": 0.0, "equal_nan": True}):
        got = ember.tensor(a).allclose(ember.tensor(b), **kw)
        assert got is torch.tensor(a).allclose(torch.tensor(b), **kw)


@pytest.mark.parametrize(
    "f",
    [
        lambda a: a.argmax(dim=1),
        lambda a: a.argmin(dim=0, keepdim=True),
        lambda a: a.argmax(),
        lambda a: a.argmax(1),
    ],
)
def test_argmax_argmin_take_torch_keywords(torch, f):
    a = np.array([[0.5, 3.0, -1.0], [2.0, -4.0, 7.0]])
    e, t = f(ember.tensor(a)), f(torch.tensor(a))
    assert e.shape == tuple(t.shape)
    np.testing.assert_array_equal(e.array, t.numpy())


@pytest.mark.parametrize(
    "f",
    [
        lambda a: a.max(dim=1).values,
        lambda a: a.max(1).indices,
        lambda a: a.min(0, keepdim=True).values,
        lambda a: a.min(dim=-1)[1],
        lambda a: a.max(a.flip(0)),
        lambda a: a.max(),
        lambda a: a.std(dim=1, unbiased=False),
        lambda a: a.std(0, keepdim=True, unbiased=True),
    ],
)
def test_max_min_std_take_torch_forms(torch, f):
    a = np.array([[0.5, 3.0, -1.0], [2.0, -4.0, 7.0]])
    e, t = f(ember.tensor(a)), f(torch.tensor(a))
    assert e.shape == tuple(t.shape)
    np.testing.assert_allclose(e.array, t.detach().numpy())


def test_to_takes_torch_forms(torch):
    x = ember.ones(2, dtype=ember.float32)
    assert x.to("cpu", non_blocking=True) is x
    assert x.to("cpu", ember.float64).dtype == ember.float64
    assert x.to(device="cpu", dtype=ember.float64).dtype == ember.float64
    assert x.to(ember.zeros(1, dtype=ember.float64)).dtype == ember.float64
    assert x.to("cpu", copy=True) is not x
    with pytest.raises(RuntimeError, match="CPU only"):
        x.to("cuda", non_blocking=True)


# ---------------------------------------------------------------- device, dtype, makers
def test_device_and_dtype_helpers(torch):
    x, t = ember.randn(3, 4), torch.randn(3, 4)
    assert x.cpu() is x and x.is_cuda is False and x.contiguous() is x
    for f in (lambda a: a, lambda a: a.double(), lambda a: a.long(), lambda a: a > 0):
        assert f(x).type() == f(t).type().replace("torch.", "ember.")
    for name in ("int", "half", "bool", "double", "long"):
        e, r = getattr(x, name)(), getattr(t, name)()
        assert e.dtype == np.dtype(str(r.dtype).replace("torch.", ""))
        assert e.element_size() == r.element_size()
    assert x.type(ember.float64).dtype == np.float64
    assert x.type("ember.LongTensor").dtype == np.int64
    assert x.type("torch.DoubleTensor").dtype == np.float64
    assert x.nelement() == t.nelement() == 12
    assert x.t().is_contiguous() is t.t().is_contiguous() is False
    assert x.t().contiguous().is_contiguous() and x.is_contiguous()
    h = ember.randn(3, requires_grad=True).half()
    assert h.dtype == np.float16 and h.requires_grad


@pytest.mark.parametrize("device", [None, "cuda", "cuda:1", 0])
def test_cuda_is_a_clear_error(device):
    args = () if device is None else (device,)
    with pytest.raises(RuntimeError, match="CPU only"):
        ember.zeros(2).cuda(*args)
    with pytest.raises(RuntimeError, match="CPU only"):
        nn.Linear(2, 2).cuda(*args)


def test_new_makers_match_torch(torch):
    x, t = ember.zeros(2, dtype=ember.float64), torch.zeros(2, dtype=torch.float64)
    cases = [
        lambda a: a.new_zeros((2, 3)),
        lambda a: a.new_zeros(2, 3),
        lambda a: a.new_ones(4),
        lambda a: a.new_ones((2,), dtype=a.new_zeros(1).long().dtype),
        lambda a: a.new_full((2, 2), 7.5),
        lambda a: a.new_tensor([[1, 2], [3, 4]]),
        lambda a: a.new_tensor(3),
    ]
    for f in cases:
        e, r = f(x), f(t)
        assert e.dtype == np.dtype(str(r.dtype).replace("torch.", ""))
        np.testing.assert_array_equal(e.array, r.numpy())
        assert not e.requires_grad
    assert x.new_empty((3, 1)).shape == (3, 1) and x.new_empty(2).dtype == np.float64
    assert x.new_zeros(2, requires_grad=True).requires_grad
    src = np.ones(2)
    made = x.new_tensor(src)
    src[0] = 5.0
    assert made.array[0] == 1.0  # a copy, as torch's


# ---------------------------------------------------------------- in place
INPLACE = [
    ("fill_", lambda a: a.fill_(2.5)),
    ("zero_", lambda a: a.zero_()),
    ("copy_", lambda a: a.copy_(a.new_tensor(np.arange(4.0)))),
    ("clamp_", lambda a: a.clamp_(-0.5, 0.5)),
    ("clamp_", lambda a: a.clamp_(min=0.0)),
    ("clamp_", lambda a: a.clamp_(max=0.0)),
]


@pytest.mark.parametrize("name, f", INPLACE, ids=[f"{c[0]}{i}" for i, c in enumerate(INPLACE)])
def test_inplace_matches_torch_and_refuses_a_tensor_that_requires_grad(torch, name, f):
    a = randn(3, 4)
    e, t = ember.tensor(a), torch.tensor(a)
    view = e.numpy()
    assert f(e) is e and f(t) is t
    np.testing.assert_array_equal(e.array, t.numpy())
    np.testing.assert_array_equal(view, t.numpy())  # written in place: views see it
    leaf = ember.tensor(a, requires_grad=True)
    with pytest.raises(RuntimeError, match=re.escape(name + "()")):
        f(leaf)
    with ember.no_grad():
        assert f(leaf) is leaf  # allowed, as in torch's parameter updates
    np.testing.assert_array_equal(leaf.array, t.numpy())


# ---------------------------------------------------------------- Module
class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(2, 3)
        self.layers = [nn.Linear(3, 3), nn.Linear(3, 2)]


def test_module_conveniences():
    net = nn.Sequential(Block(), nn.ReLU())
    assert net.cpu() is net
    assert net.get_submodule("") is net
    assert net.get_submodule("0.fc") is net[0].fc
    assert net.get_submodule("0.layers.1") is net[0].layers[1]
    assert net.get_parameter("0.fc.weight") is net[0].fc.weight
    assert net.get_parameter("0.layers.1.bias") is net[0].layers[1].bias
    with pytest.raises(AttributeError, match="0 has no submodule 'conv'"):
        net.get_submodule("0.conv.weight")
    with pytest.raises(AttributeError, match="has no submodule 'fc'"):
        net.get_submodule("fc")
    with pytest.raises(AttributeError, match="no parameter"):
        net.get_parameter("0.fc.scale")
    net.add_module("head", nn.Linear(3, 1))
    assert "head.weight" in dict(net.named_parameters())
    with pytest.raises(KeyError):
        net.add_module("a.b", nn.ReLU())
    with pytest.raises(TypeError):
        net.add_module("x", 3)
    net.half()
    assert all(p.dtype == np.float16 for p in net.parameters())


@pytest.mark.parametrize("method", [False, True])
def test_addmm_with_beta_0_gives_the_ignored_input_a_zero_gradient_as_torch(torch, method):
    # its nan is ignored, but it stays in the graph: torch's input.grad is zeros, not None
    # (ember's addmm left it out, and the result did not require grad)
    i0 = np.array([[np.nan, 1.0], [2.0, 3.0]])
    results = {}
    for lib in (torch, ember):
        i = lib.tensor(i0, requires_grad=True)
        a, b = lib.tensor(np.ones((2, 3))), lib.tensor(np.full((3, 2), 0.5))
        y = i.addmm(a, b, beta=0) if method else lib.addmm(i, a, b, beta=0)
        y.sum().backward()
        results[lib] = (y.detach().numpy(), i.grad.numpy())
    for e, t in zip(results[ember], results[torch]):
        np.testing.assert_array_equal(e, t)
