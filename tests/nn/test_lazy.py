"""Lazy modules (ember.nn.lazy) against torch.nn's: reprs and state_dict keys before the first
forward, the same Parameter objects before and after materialisation, initialisation equal to
the concrete layer's, outputs and gradients equal to the concrete layer's (and torch's) with the
same weights, the class swap, an optimizer built before the first forward, load_state_dict
into a fresh lazy module, and the errors."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest

import ember
from ember import nn, optim
from ember.nn import lazy as Z
from tests.core_reference import compare_with_torch, randn

F64 = ember.float64


def ids(module):
    return [id(p) for p in module.parameters()]


def same_weights(torch, ember_module, torch_module):
    """Copy ember's materialised values into the torch module (float64)."""
    sd = {k: torch.tensor(np.array(v.array)) for k, v in ember_module.state_dict().items()}
    torch_module.double().load_state_dict(sd)


# ---------------------------------------------------------------- LazyLinear


def test_lazy_linear_before_the_first_forward(torch):
    m, mt = Z.LazyLinear(3), torch.nn.LazyLinear(3)
    assert repr(m) == repr(mt) == "LazyLinear(in_features=0, out_features=3, bias=True)"
    assert repr(Z.LazyLinear(3, bias=False)) == repr(torch.nn.LazyLinear(3, bias=False))
    assert list(m.state_dict()) == list(mt.state_dict()) == ["weight", "bias"]
    assert all(Z.is_lazy(t) for t in m.state_dict().values())
    params = list(m.parameters())
    assert len(params) == 2 and all(isinstance(p, nn.Parameter) for p in params)
    assert all(isinstance(p, Z.UninitializedParameter) for p in params)
    assert repr(m.weight) == "<UninitializedParameter>" and m.has_uninitialized_params()
    assert m.weight.dtype == np.float32 and m.weight.requires_grad
    with pytest.raises(RuntimeError, match="shape of LazyLinear.weight"):
        m.weight.shape  # noqa: B018
    with pytest.raises(ValueError, match="Attempted to use LazyLinear.weight"):
        m.weight + 1.0  # noqa: B018
    with pytest.raises(Z.UninitializedError, match="LazyLinear.bias"):
        ember.tensor(np.ones(3)) * m.bias  # noqa: B018


def test_lazy_linear_materialises_in_place_and_becomes_linear(torch):
    m = Z.LazyLinear(3, dtype=F64)
    before = ids(m)
    w = m.weight
    x = randn(5, 4, seed=1)
    ember.manual_seed(7)
    y = m(ember.tensor(x))
    assert type(m) is nn.Linear and not isinstance(m, Z.LazyModuleMixin)
    assert ids(m) == before and m.weight is w and type(w) is nn.Parameter
    assert not Z.is_lazy(w) and m.in_features == 4 and w.shape == (3, 4)
    assert repr(m) == "Linear(in_features=4, out_features=3, bias=True)"
    assert list(m.state_dict()) == ["weight", "bias"] and y.shape == (5, 3)
    ember.manual_seed(7)
    ref = nn.Linear(4, 3, dtype=F64)  # the same draws: initialised as the concrete layer
    np.testing.assert_array_equal(m.weight.array, ref.weight.array)
    np.testing.assert_array_equal(m.bias.array, ref.bias.array)
    mt = torch.nn.Linear(4, 3)
    same_weights(torch, m, mt)
    compare_with_torch(torch, m, mt, [x])
    compare_with_torch(torch, m, mt, [randn(2, 6, 4, seed=2)])
    assert m._forward_pre_hooks == {}  # the initialising hook is gone


def test_double_before_the_first_forward(torch):
    model = nn.Sequential(Z.LazyLinear(8), nn.ReLU(), Z.LazyLinear(2)).double()
    assert all(p.dtype == np.float64 for p in model.parameters())
    y = model(ember.tensor(randn(3, 5, seed=3)))
    assert y.dtype == np.float64 and all(p.array.dtype == np.float64 for p in model.parameters())
    assert [type(c) for c in model.children()] == [nn.Linear, nn.ReLU, nn.Linear]
    assert [tuple(p.shape) for p in model.parameters()] == [(8, 5), (8,), (2, 8), (2,)]


@pytest.mark.parametrize("opt", ["SGD", "Adam"])
def test_optimizer_built_before_the_first_forward_trains(opt):
    model = nn.Sequential(Z.LazyLinear(16, dtype=F64), nn.Tanh(), Z.LazyLinear(1, dtype=F64))
    params = list(model.parameters())
    o = getattr(optim, opt)(model.parameters(), lr=0.1)
    rng = np.random.default_rng(4)
    x = ember.tensor(rng.standard_normal((64, 3)))
    y = ember.tensor((x.array**2).sum(1, keepdims=True) * 0.3 - 0.5)
    losses, first = [], None
    for _ in range(200):
        o.zero_grad()
        loss = ((model(x) - y) ** 2).mean()
        if first is None:
            first = [p.array.copy() for p in params]
        loss.backward()
        o.step()
        losses.append(loss.item())
    assert ids(model) == [id(p) for p in params]
    assert losses[-1] < 0.2 * losses[0], (losses[0], losses[-1])
    for p, p0 in zip(params, first):
        assert p.grad is not None and not np.allclose(p.array, p0)


def test_load_state_dict_into_a_fresh_lazy_linear(torch):
    ref = nn.Linear(4, 3, dtype=F64)
    m = Z.LazyLinear(3, dtype=F64)
    before = ids(m)
    m.load_state_dict(ref.state_dict())
    assert type(m) is nn.Linear and m.in_features == 4 and ids(m) == before
    np.testing.assert_array_equal(m.weight.array, ref.weight.array)
    np.testing.assert_array_equal(m.bias.array, ref.bias.array)
    x = ember.tensor(randn(2, 4, seed=5))
    np.testing.assert_array_equal(m(x).array, ref(x).array)
    # a torch checkpoint loads the same way
    mt = torch.nn.Linear(6, 2).double()
    m2 = Z.LazyLinear(2, dtype=F64)
    m2.load_state_dict(mt.state_dict())
    compare_with_torch(torch, m2, mt, [randn(3, 6, seed=6)])


def test_load_state_dict_errors():
    with pytest.raises(ValueError, match="size mismatch for"):
        Z.LazyLinear(5).load_state_dict(nn.Linear(4, 3).state_dict())
    with pytest.raises(KeyError, match="'weight'"):
        Z.LazyLinear(5).load_state_dict({"bias": np.zeros(5)}, strict=False)
    # a parent materialises its lazy children from the loaded shapes before copying
    parent = nn.Sequential(Z.LazyLinear(3), nn.ReLU(), Z.LazyLinear(2))
    w0, w2 = np.full((3, 4), 0.5), np.full((2, 3), 0.25)
    parent.load_state_dict({"0.weight": w0, "0.bias": np.ones(3), "2.weight": w2,
                            "2.bias": np.zeros(2)})  # fmt: skip
    assert type(parent[0]) is nn.Linear and parent[2].in_features == 3
    np.testing.assert_allclose(parent[0].weight.array, w0)
    y = parent(ember.ones(1, 4))
    np.testing.assert_allclose(y.array, [[0.75 * 3, 0.75 * 3]], rtol=1e-6)
    with pytest.raises(KeyError, match="'1.weight'"):
        nn.Sequential(Z.LazyLinear(3), Z.LazyLinear(2)).load_state_dict(
            {"0.weight": w0, "0.bias": np.ones(3)}, strict=False
        )


def test_copies_and_reset_before_the_first_forward():
    m = Z.LazyLinear(3, dtype=F64)
    m.reset_parameters()  # nothing to initialise yet: no error, still lazy (as torch)
    c, p = copy.deepcopy(m), pickle.loads(pickle.dumps(m))
    assert Z.is_lazy(c.weight) and c.weight is not m.weight and Z.is_lazy(m.weight)
    c(ember.tensor(randn(2, 4)))
    p(ember.tensor(randn(2, 5)))
    assert (type(c), c.in_features, p.in_features) == (nn.Linear, 4, 5)
    assert type(m) is Z.LazyLinear and Z.is_lazy(m.weight)  # the original is untouched
    with pytest.raises(Z.UninitializedError, match="LazyLinear.weight"):
        m.apply(lambda mod: nn.init.zeros_(mod.weight))


def test_uninitialized_tensors_alone():
    p, b = Z.UninitializedParameter(), Z.UninitializedBuffer(dtype=F64)
    assert isinstance(p, nn.Parameter) and not isinstance(b, nn.Parameter)
    assert p.requires_grad and not b.requires_grad and b.dtype == np.float64
    p.materialize((2, 3))
    b.materialize((4,))
    assert type(p) is nn.Parameter and type(b) is ember.Tensor
    assert p.shape == (2, 3) and b.shape == (4,) and b.dtype == np.float64
    assert not Z.is_lazy(p) and not Z.is_lazy(b)


# ---------------------------------------------------------------- convolutions

CONV_CASES = [
    ("LazyConv1d", "Conv1d", (4, 3), dict(stride=2, padding=1), (2, 6, 9)),
    ("LazyConv1d", "Conv1d", (4, 3), dict(groups=2, bias=False), (6, 9)),  # unbatched
    ("LazyConv2d", "Conv2d", (4, 3), dict(padding=1, dilation=2), (2, 3, 7, 6)),
    ("LazyConv2d", "Conv2d", (6, (2, 3)), dict(stride=(2, 1), groups=3), (1, 6, 5, 7)),
    ("LazyConvTranspose1d", "ConvTranspose1d", (4, 3), dict(stride=2, output_padding=1),
     (2, 5, 6)),
    ("LazyConvTranspose2d", "ConvTranspose2d", (4, 3), dict(stride=2, padding=1, groups=2),
     (2, 6, 4, 5)),
    ("LazyConvTranspose2d", "ConvTranspose2d", (2, (3, 2)), dict(dilation=2), (3, 4, 5)),
]  # fmt: skip


@pytest.mark.parametrize("lazy,concrete,args,kwargs,shape", CONV_CASES)
def test_lazy_convolutions(torch, lazy, concrete, args, kwargs, shape):
    m, mt = getattr(Z, lazy)(*args, **kwargs, dtype=F64), getattr(torch.nn, lazy)(*args, **kwargs)
    assert repr(m) == repr(mt)
    assert list(m.state_dict()) == list(mt.state_dict())
    before, x = ids(m), randn(*shape, seed=8)
    ember.manual_seed(9)
    m(ember.tensor(x))
    cls = getattr(nn, concrete)
    assert type(m) is cls and ids(m) == before
    c = shape[1] if len(shape) == m.nd + 2 else shape[0]
    assert m.in_channels == c
    mt(torch.tensor(x, dtype=torch.float32))  # torch's lazy layer turns concrete too
    assert repr(m) == repr(mt) and type(mt) is getattr(torch.nn, concrete)
    assert [tuple(p.shape) for p in m.parameters()] == [tuple(p.shape) for p in mt.parameters()]
    ember.manual_seed(9)
    ref = cls(c, *args, **kwargs, dtype=F64)  # initialised as the concrete layer
    for a, b in zip(m.parameters(), ref.parameters()):
        np.testing.assert_array_equal(a.array, b.array)
    same_weights(torch, m, mt)
    compare_with_torch(torch, m, mt, [x])
    fresh = getattr(Z, lazy)(*args, **kwargs, dtype=F64)
    fresh.load_state_dict(mt.state_dict())
    assert type(fresh) is cls and fresh.in_channels == c
    compare_with_torch(torch, fresh, mt, [x])


def test_lazy_conv_errors():
    with pytest.raises(ValueError, match=r"Expected 3D \(unbatched\) or 4D \(batched\)"):
        Z.LazyConv2d(4, 3)(ember.tensor(randn(5, 5)))
    with pytest.raises(ValueError, match="divisible by groups"):
        Z.LazyConv2d(4, 3, groups=2)(ember.tensor(randn(1, 3, 5, 5)))
    with pytest.raises(ValueError, match="LazyConv1d.weight"):
        list(Z.LazyConv1d(2, 3).parameters())[0].numel()


def test_lazy_conv_transpose_output_size(torch):
    m, mt = Z.LazyConvTranspose2d(3, 3, stride=2, dtype=F64), torch.nn.LazyConvTranspose2d(3, 3, 2)
    x = randn(1, 2, 4, 4, seed=10)
    y = m(ember.tensor(x), output_size=(10, 10))
    assert y.shape == (1, 3, 10, 10) and type(m) is nn.ConvTranspose2d
    mt(torch.tensor(x, dtype=torch.float32))
    same_weights(torch, m, mt)
    compare_with_torch(
        torch, lambda t: m(t, output_size=(10, 10)), lambda t: mt(t, output_size=(10, 10)), [x]
    )


# ---------------------------------------------------------------- batch norm


@pytest.mark.parametrize("lazy,shape", [("LazyBatchNorm1d", (4, 3)), ("LazyBatchNorm1d", (4, 3, 5)),
                                        ("LazyBatchNorm2d", (2, 3, 4, 5))])  # fmt: skip
@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        dict(momentum=None, eps=1e-3),
        dict(affine=False),
        dict(track_running_stats=False),
        dict(bias=False),
    ],
)
def test_lazy_batch_norm(torch, lazy, shape, kwargs):
    m, mt = (
        getattr(Z, lazy)(**kwargs, dtype=F64),
        getattr(torch.nn, lazy)(**kwargs, dtype=torch.float64),
    )
    assert repr(m) == repr(mt)
    assert list(m.state_dict()) == list(mt.state_dict())
    before = ids(m)
    x = randn(*shape, seed=11, scale=2.0, shift=0.5)
    compare_with_torch(torch, m, mt, [x])  # the first forward materialises both
    concrete = lazy.replace("Lazy", "")
    assert type(m) is getattr(nn, concrete) and ids(m) == before and m.num_features == 3
    assert repr(m) == repr(mt)
    for k, v in mt.state_dict().items():  # running statistics after one step, as torch's
        np.testing.assert_allclose(np.array(m.state_dict()[k].array), v.numpy(), rtol=1e-12)
    m.eval(), mt.eval()
    compare_with_torch(torch, m, mt, [x])


def test_lazy_batch_norm_load_and_errors(torch):
    mt = torch.nn.BatchNorm2d(5).double()
    mt(torch.randn(4, 5, 3, 3, dtype=torch.float64))
    m = Z.LazyBatchNorm2d(dtype=F64)
    m.load_state_dict(mt.state_dict())
    assert type(m) is nn.BatchNorm2d and m.num_features == 5
    m.eval(), mt.eval()
    compare_with_torch(torch, m, mt, [randn(2, 5, 3, 3, seed=12)])
    with pytest.raises(ValueError, match="expected a 4-D input"):
        Z.LazyBatchNorm2d()(ember.tensor(randn(2, 3, 4)))
    b = Z.LazyBatchNorm1d()
    assert Z.is_lazy(b.running_mean) and not Z.is_lazy(b.num_batches_tracked)
    with pytest.raises(RuntimeError, match="LazyBatchNorm1d.running_var"):
        b.running_var.shape  # noqa: B018
