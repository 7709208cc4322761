"""``Tensor.data`` as torch's: the same memory as a tensor outside the graph, so the idioms of
torch's own examples (``weight.data.uniform_``, ``p.data.add_(p.grad, alpha=-lr)``,
``p.data.clamp_``, ``p.data = …``) change parameters without being recorded; ``.array`` is the
array itself; ``numpy.asarray(t)`` and ``abs(t)`` work as in torch."""

import numpy as np
import pytest

import ember
import ember.nn as nn


def _lib_model(lib, seed_weights):
    """A two-layer net in ember or torch with the same weights."""
    model = lib.nn.Sequential(lib.nn.Linear(4, 8), lib.nn.Tanh(), lib.nn.Linear(8, 3))
    for p, w in zip(model.parameters(), seed_weights):
        p.data.copy_(lib.tensor(w))  # torch's idiom for loading values into a parameter
    return model


def test_manual_sgd_through_data_matches_torch(torch):
    """torch's word_language_model trains with ``p.data.add_(p.grad, alpha=-lr)`` after an
    init by ``weight.data.uniform_``; run the same loop in both and compare every weight."""
    rng = np.random.default_rng(0)
    shapes = [(8, 4), (8,), (3, 8), (3,)]
    weights = [rng.uniform(-0.5, 0.5, s).astype(np.float32) for s in shapes]
    x = rng.standard_normal((16, 4)).astype(np.float32)
    y = rng.integers(0, 3, 16)
    models = {}
    for lib in (ember, torch):
        model = _lib_model(lib, weights)
        for _ in range(5):
            model.zero_grad()
            loss = lib.nn.functional.cross_entropy(model(lib.tensor(x)), lib.tensor(y))
            loss.backward()
            lib.nn.utils.clip_grad_norm_(model.parameters(), 0.25)
            for p in model.parameters():
                p.data.add_(p.grad, alpha=-0.5)
        models[lib] = model
    for pe, pt in zip(models[ember].parameters(), models[torch].parameters()):
        np.testing.assert_allclose(pe.array, pt.detach().numpy(), rtol=1e-5, atol=1e-6)


def test_in_place_initialisers_on_data_change_the_parameter():
    lin = nn.Linear(50, 40)
    lin.weight.data.uniform_(-0.1, 0.1)
    lin.bias.data.zero_()
    assert np.abs(lin.weight.array).max() <= 0.1 and lin.weight.array.std() > 0.05
    assert not lin.bias.array.any()
    lin.weight.data.normal_(0.0, 0.02)
    assert abs(float(lin.weight.array.std()) - 0.02) < 0.002
    lin.weight.data.fill_(0.5)
    assert (lin.weight.array == 0.5).all()
    assert lin.weight.requires_grad and lin.weight.grad is None  # still a parameter


def test_weight_clipping_through_data_as_in_wgan():
    lin = nn.Linear(6, 6)
    lin.weight.data.mul_(100.0)
    for p in lin.parameters():
        p.data.clamp_(-0.01, 0.01)
    assert np.abs(lin.weight.array).max() == pytest.approx(0.01)


def test_data_shares_memory_and_is_outside_the_graph():
    w = ember.tensor([1.0, 2.0, 3.0], requires_grad=True)
    d = w.data
    assert isinstance(d, ember.Tensor) and not isinstance(d, nn.Parameter)
    assert not d.requires_grad and d.grad_fn is None and d.is_leaf
    assert d.array is w.array  # the same memory, no copy
    h = w * 2.0
    hd = h.data
    assert hd.grad_fn is None and not hd.requires_grad
    hd[0] = 100.0  # written into h's memory: not recorded, as torch's .data
    assert float(h.array[0]) == 100.0
    (w * w).sum().backward()
    np.testing.assert_allclose(w.grad.array, [2.0, 4.0, 6.0])  # the graph never saw d


def test_data_of_a_parameter_matches_torch_types(torch):
    e, t = nn.Linear(2, 2), torch.nn.Linear(2, 2)
    assert type(e.weight.data) is ember.Tensor and type(t.weight.data) is torch.Tensor
    assert e.weight.data.shape == tuple(t.weight.data.shape)


def test_assigning_data_replaces_the_values_keeping_the_parameter():
    lin = nn.Linear(3, 2)
    p = lin.weight
    p.data = ember.ones(2, 3)
    assert lin.weight is p and p.requires_grad
    np.testing.assert_array_equal(p.array, np.ones((2, 3), np.float32))
    p.data = np.full((2, 3), 7.0, np.float32)  # an array is taken too
    assert (p.array == 7.0).all()
    out = lin(ember.ones(1, 3)).sum()
    out.backward()
    np.testing.assert_allclose(p.grad.array, np.ones((2, 3)))


def test_numpy_asarray_follows_torch(torch):
    t = ember.tensor([[1.0, -2.0], [3.0, 4.0]])
    a = np.asarray(t)
    assert isinstance(a, np.ndarray) and a.dtype == np.float32
    assert np.shares_memory(a, t.array)  # a view on the CPU, as torch's
    np.testing.assert_array_equal(np.asarray(t, dtype=np.float64), a.astype(np.float64))
    assert np.asarray(t, copy=True) is not t.array
    w = ember.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="requires grad"):
        np.asarray(w)
    with pytest.raises(RuntimeError, match="requires grad"):  # torch refuses it the same way
        np.asarray(torch.tensor([1.0], requires_grad=True))
    np.testing.assert_array_equal(np.asarray(w.data), [1.0])
    np.testing.assert_allclose(w.data, [1.0])  # numpy.testing reads a Tensor


def test_abs_and_pos_operators_as_torch(torch):
    x = ember.tensor([-1.5, 0.0, 2.0], requires_grad=True)
    xt = torch.tensor([-1.5, 0.0, 2.0], requires_grad=True)
    abs(x).sum().backward()
    abs(xt).sum().backward()
    np.testing.assert_array_equal(x.grad.array, xt.grad.numpy())
    np.testing.assert_array_equal((+x).detach().numpy(), (+xt).detach().numpy())
