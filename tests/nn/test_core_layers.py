"""Linear, Embedding, Dropout, Flatten: torch reference with the same weights, gradchecks,
padding_idx and repeated indices, dropout's statistics and seeding, default initialisation."""

from __future__ import annotations

import math

import numpy as np
import pytest

import ember
from ember import nn
from tests.core_reference import check_gradients, compare_with_torch, randn, tol


def _copy_weights(me, mt):
    me.load_state_dict(mt.state_dict())


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("bias", [True, False])
def test_linear_matches_torch_with_its_weights(torch, bias, dtype):
    mt = torch.nn.Linear(5, 3, bias=bias).to(getattr(torch, np.dtype(dtype).name))
    me = nn.Linear(5, 3, bias=bias).to(dtype)
    _copy_weights(me, mt)
    x = randn(2, 4, 5, seed=1).astype(dtype)
    xe, xt = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ye, yt = me(xe), mt(xt)
    np.testing.assert_allclose(ye.array, yt.detach().numpy(), **tol(dtype))
    g = randn(2, 4, 3, seed=2).astype(dtype)
    ye.backward(g)
    yt.backward(torch.tensor(g))
    np.testing.assert_allclose(xe.grad.array, xt.grad.numpy(), **tol(dtype))
    np.testing.assert_allclose(me.weight.grad.array, mt.weight.grad.numpy(), **tol(dtype))
    if bias:
        np.testing.assert_allclose(me.bias.grad.array, mt.bias.grad.numpy(), **tol(dtype))
    assert ye.dtype == dtype and me.weight.grad.dtype == dtype


def test_linear_gradcheck():
    layer = nn.Linear(4, 3).double()
    check_gradients(lambda x: layer(x), [randn(2, 4)])
    check_gradients(
        lambda x, w, b: ember.functional.linear(x, w, b), [randn(2, 4), randn(3, 4), randn(3)]
    )


def test_linear_shapes_names_and_repr():
    layer = nn.Linear(4, 3)
    assert layer.weight.shape == (3, 4) and layer.bias.shape == (3,)
    assert [n for n, _ in layer.named_parameters()] == ["weight", "bias"]
    assert repr(layer) == "Linear(in_features=4, out_features=3, bias=True)"
    assert layer.weight.dtype == np.float32


@pytest.mark.parametrize("padding_idx", [None, 1, -1])
def test_embedding_matches_torch_with_repeated_indices(torch, padding_idx):
    mt = torch.nn.Embedding(6, 4, padding_idx=padding_idx).double()
    me = nn.Embedding(6, 4, padding_idx=padding_idx).double()
    _copy_weights(me, mt)
    idx = np.array([[1, 3, 3], [5, 1, 1]])  # repeats and the padding row
    ye, yt = me(ember.tensor(idx)), mt(torch.tensor(idx))
    np.testing.assert_allclose(ye.array, yt.detach().numpy())
    g = randn(2, 3, 4, seed=3)
    ye.backward(g)
    yt.backward(torch.tensor(g))
    np.testing.assert_allclose(me.weight.grad.array, mt.weight.grad.numpy(), rtol=1e-12)
    if padding_idx is not None:
        assert not np.any(me.weight.grad.array[padding_idx])
        assert not np.any(me.weight.array[padding_idx])  # the padding row starts at zero


def test_embedding_gradcheck_and_errors():
    w = randn(5, 3)
    idx = np.array([0, 4, 4, 2])
    check_gradients(lambda t: ember.functional.embedding(idx, t), [w])
    # (with padding_idx the row's gradient is zero by definition, so no finite-difference check)
    emb = nn.Embedding(5, 3)
    with pytest.raises(IndexError, match="embedding index 5 is out of range for 5 embeddings"):
        emb(ember.tensor(np.array([1, 5])))
    with pytest.raises(TypeError, match="integers"):
        emb(ember.tensor(np.array([1.0])))
    assert repr(nn.Embedding(5, 3, padding_idx=0)) == "Embedding(5, 3, padding_idx=0)"


def test_dropout_train_and_eval():
    x = ember.ones(200, 100)
    d = nn.Dropout(0.3)
    y = d(x).array
    kept = y != 0
    assert abs(kept.mean() - 0.7) < 0.01  # 20,000 draws: the std of the mean is 0.003
    np.testing.assert_allclose(y[kept], 1 / 0.7, rtol=1e-6)  # inverted dropout scaling
    d.eval()
    assert d(x) is x
    assert nn.Dropout(0.0)(x) is x
    assert not np.any(nn.Dropout(1.0)(x).array)
    with pytest.raises(ValueError, match=r"dropout probability must be in \[0, 1\], got 1.5"):
        nn.Dropout(1.5)


def test_dropout_gradient_uses_the_same_mask():
    x = ember.randn(50, 20, requires_grad=True)
    y = ember.functional.dropout(x, 0.5)
    y.sum().backward()
    mask = (y.array != 0) * 2.0
    np.testing.assert_array_equal(x.grad.array, mask)


def test_manual_seed_repeats_randn_and_dropout_bit_for_bit():
    def draw():
        ember.manual_seed(1234)
        a = ember.randn(5, 7).array
        b = ember.functional.dropout(ember.ones(5, 7), 0.5).array
        c = nn.Linear(7, 3).weight.array
        return a, b, c

    for u, v in zip(draw(), draw()):
        np.testing.assert_array_equal(u, v)
    ember.manual_seed(1235)
    assert not np.array_equal(ember.randn(5, 7).array, draw()[0])


def test_flatten_matches_torch(torch):
    for args in [(), (0,), (1, 2), (0, -2)]:
        compare_with_torch(torch, nn.Flatten(*args), torch.nn.Flatten(*args), [randn(2, 3, 4, 2)])
    check_gradients(nn.Flatten(), [randn(2, 3, 2)])
    assert repr(nn.Flatten()) == "Flatten(start_dim=1, end_dim=-1)"


# ---------------------------------------------------------------- default init like torch


def test_linear_default_init_has_torchs_bounds():
    """torch: W, b ~ U(±1/√in) (kaiming_uniform with a=√5 gives the same bound for W)."""
    layer = nn.Linear(400, 300)
    bound = 1 / math.sqrt(400)
    w, b = layer.weight.array, layer.bias.array
    assert np.abs(w).max() <= bound and np.abs(b).max() <= bound
    assert np.abs(w).max() > 0.99 * bound  # the whole interval is used
    assert abs(w.std() - bound / math.sqrt(3)) < 0.01 * bound  # uniform std = bound/√3
    assert abs(w.mean()) < 0.01 * bound


def test_embedding_default_init_is_standard_normal():
    w = nn.Embedding(1000, 100).weight.array
    assert abs(w.mean()) < 0.01 and abs(w.std() - 1) < 0.01


def test_dropout_gradcheck_with_a_fixed_mask():
    def f(t):
        ember.manual_seed(7)  # the same mask on every evaluation
        return ember.functional.dropout(t, 0.4)

    check_gradients(f, [randn(4, 5)])


def test_dropout_matches_torch_given_the_same_mask(torch):
    """torch's dropout is x·m/(1-p) with m ~ Bernoulli(1-p); ember's mask is read back from y."""
    x = randn(30, 20, seed=4)
    y = ember.functional.dropout(ember.tensor(x), 0.25).array
    m = (y != 0).astype(np.float64)
    np.testing.assert_allclose(y, (torch.tensor(x) * torch.tensor(m) / 0.75).numpy(), rtol=1e-12)


def test_embedding_many_repeated_indices_match_torch(torch):
    """A language-model-sized batch: the sorted scatter-add path of the backward."""
    mt = torch.nn.Embedding(65, 8, padding_idx=0).double()
    me = nn.Embedding(65, 8, padding_idx=0).double()
    _copy_weights(me, mt)
    idx = np.random.default_rng(5).integers(0, 65, (16, 32))
    g = randn(16, 32, 8, seed=6)
    me(ember.tensor(idx)).backward(g)
    mt(torch.tensor(idx)).backward(torch.tensor(g))
    np.testing.assert_allclose(me.weight.grad.array, mt.weight.grad.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("norm_type", [2.0, 1.0])
def test_embedding_max_norm_renormalises_looked_up_rows_as_torch(torch, norm_type):
    w = (np.random.default_rng(0).standard_normal((7, 4)) * 2).astype(np.float64)
    me = nn.Embedding(7, 4, max_norm=1.5, norm_type=norm_type, _weight=w).double()
    mt = torch.nn.Embedding(7, 4, max_norm=1.5, norm_type=norm_type, _weight=torch.tensor(w))
    idx = np.array([[1, 3, 3], [0, 6, 1]])
    ye, yt = me(ember.tensor(idx)), mt(torch.tensor(idx))
    np.testing.assert_allclose(ye.array, yt.detach().numpy(), rtol=1e-12)
    # the looked-up rows were scaled in place, the others left alone, as in torch
    np.testing.assert_allclose(me.weight.array, mt.weight.detach().numpy(), rtol=1e-12)
    assert np.array_equal(me.weight.array[[2, 4, 5]], w[[2, 4, 5]])
    assert repr(me) == f"Embedding(7, 4, max_norm=1.5{', norm_type=1.0' * (norm_type == 1)})"


def test_embedding_scale_grad_by_freq_matches_torch(torch):
    w = np.random.default_rng(1).standard_normal((6, 3))
    me = nn.Embedding(6, 3, padding_idx=2, scale_grad_by_freq=True, _weight=w).double()
    mt = torch.nn.Embedding(6, 3, padding_idx=2, scale_grad_by_freq=True,
                            _weight=torch.tensor(w))  # fmt: skip
    idx = np.array([[1, 1, 1, 4], [2, 4, 0, 1]])
    g = np.random.default_rng(2).standard_normal((2, 4, 3))
    me(ember.tensor(idx)).backward(ember.tensor(g))
    mt(torch.tensor(idx)).backward(torch.tensor(g))
    np.testing.assert_allclose(me.weight.grad.array, mt.weight.grad.numpy(), rtol=1e-12)


def test_embedding_from_pretrained_copies_and_freezes_as_torch(torch):
    w = np.arange(12.0).reshape(4, 3)
    me = nn.Embedding.from_pretrained(ember.tensor(w))
    assert not me.weight.requires_grad and me.weight.array is not w
    np.testing.assert_array_equal(me(ember.tensor([3, 0])).array, w[[3, 0]])
    assert nn.Embedding.from_pretrained(w, freeze=False).weight.requires_grad
    with pytest.raises(ValueError, match="2-D embeddings"):
        nn.Embedding.from_pretrained(np.zeros(3))
    with pytest.raises(NotImplementedError, match="sparse=True"):
        nn.Embedding(4, 2, sparse=True)(ember.tensor([1]))
    with pytest.raises(AssertionError, match="Padding_idx must be within num_embeddings: got 5"):
        nn.Embedding(4, 2, padding_idx=5)
