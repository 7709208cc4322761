"""Transformer encoder/decoder layers, stacks and nn.Transformer against torch."""

import copy

import numpy as np
import pytest

import ember
import ember.nn as nn


def _load(torch, tm, em):
    with torch.no_grad():  # make biases and norms non-trivial so they are tested
        for name, p in tm.named_parameters():
            if "bias" in name or "norm" in name:
                p.add_(0.1 * torch.randn_like(p))
    assert set(em.state_dict()) == set(tm.state_dict())
    em.load_state_dict(tm.state_dict())


def _check(torch, tm, em, arrays, tol=1e-9, **kw):
    et = [ember.Tensor(a, requires_grad=True) for a in arrays]
    tt = [torch.tensor(a, requires_grad=True) for a in arrays]
    tkw = {k: torch.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kw.items()}
    eo, to = em(*et, **kw), tm(*tt, **tkw)
    np.testing.assert_allclose(eo.array, to.detach().numpy(), rtol=tol, atol=tol)
    g = np.random.default_rng(0).standard_normal(eo.shape)
    eo.backward(g)
    to.backward(torch.tensor(g))
    for e, t in zip(et, tt):
        np.testing.assert_allclose(e.grad.array, t.grad.numpy(), rtol=tol, atol=tol)
    tparams = dict(tm.named_parameters())
    for name, p in em.named_parameters():
        np.testing.assert_allclose(
            p.grad.array, tparams[name].grad.numpy(), rtol=tol, atol=tol, err_msg=name
        )


LAYER_CASES = [
    dict(norm_first=False, activation="relu", batch_first=False),
    dict(norm_first=True, activation="gelu", batch_first=True),
    dict(norm_first=False, activation="gelu", batch_first=True),
    dict(norm_first=True, activation="relu", batch_first=False),
]


@pytest.mark.parametrize("case", LAYER_CASES)
def test_encoder_layer_matches_torch(torch, case):
    torch.manual_seed(0)
    tm = torch.nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.0, **case).double()
    em = nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.0, **case).double()
    _load(torch, tm, em)
    rng = np.random.default_rng(1)
    x = rng.standard_normal((3, 5, 8))
    n, s = (3, 5) if case["batch_first"] else (5, 3)
    kpm = np.zeros((n, s), bool)  # (N, S) in both layouts, as torch
    kpm[:, -1] = True
    causal = np.triu(np.ones((s, s), bool), 1)
    _check(torch, tm, em, [x], src_mask=causal, src_key_padding_mask=kpm)


@pytest.mark.parametrize("case", LAYER_CASES)
def test_decoder_layer_matches_torch(torch, case):
    torch.manual_seed(1)
    tm = torch.nn.TransformerDecoderLayer(8, 2, dim_feedforward=12, dropout=0.0, **case).double()
    em = nn.TransformerDecoderLayer(8, 2, dim_feedforward=12, dropout=0.0, **case).double()
    _load(torch, tm, em)
    rng = np.random.default_rng(2)
    n, t, s = 2, 4, 6
    tgt = rng.standard_normal((n, t, 8) if case["batch_first"] else (t, n, 8))
    mem = rng.standard_normal((n, s, 8) if case["batch_first"] else (s, n, 8))
    mkpm = np.zeros((n, s), bool)
    mkpm[1, -2:] = True
    tgt_mask = nn.Transformer.generate_square_subsequent_mask(t).array.astype(np.float64)
    _check(torch, tm, em, [tgt, mem], tgt_mask=tgt_mask, memory_key_padding_mask=mkpm)


def test_encoder_stack_deep_copies_and_loads(torch):
    torch.manual_seed(2)
    kw = dict(dim_feedforward=16, dropout=0.0, batch_first=True)
    tm = torch.nn.TransformerEncoder(torch.nn.TransformerEncoderLayer(8, 2, **kw), 3).double()
    layer = nn.TransformerEncoderLayer(8, 2, **kw)
    em = nn.TransformerEncoder(layer, 3).double()
    assert "layers.0.self_attn.in_proj_weight" in em.state_dict()
    assert "layers.2.norm2.bias" in em.state_dict()
    # deep copies: equal at start, separate parameters
    assert em.layers[0].linear1.weight is not em.layers[1].linear1.weight
    np.testing.assert_array_equal(
        em.layers[0].linear1.weight.array, em.layers[1].linear1.weight.array
    )
    _load(torch, tm, em)
    x = np.random.default_rng(3).standard_normal((2, 5, 8))
    _check(torch, tm, em, [x], is_causal=True, mask=np.triu(np.ones((5, 5), bool), 1))


def test_full_transformer_matches_torch(torch):
    torch.manual_seed(3)
    kw = dict(
        d_model=8,
        nhead=2,
        num_encoder_layers=2,
        num_decoder_layers=2,
        dim_feedforward=16,
        dropout=0.0,
    )
    tm = torch.nn.Transformer(**kw).double()
    em = nn.Transformer(**kw).double()
    _load(torch, tm, em)
    rng = np.random.default_rng(4)
    src, tgt = rng.standard_normal((6, 2, 8)), rng.standard_normal((4, 2, 8))
    tgt_mask = np.triu(np.ones((4, 4), bool), 1)
    _check(torch, tm, em, [src, tgt], tgt_mask=tgt_mask)


def test_train_mode_without_dropout_equals_eval():
    em = nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.0)
    x = ember.randn(4, 2, 8)
    a = em(x).array
    em.eval()
    np.testing.assert_array_equal(a, em(x).array)


def test_gradcheck_encoder_and_decoder_layers():
    rng = np.random.default_rng(5)
    enc = nn.TransformerEncoderLayer(4, 2, dim_feedforward=6, dropout=0.0, norm_first=True)
    dec = nn.TransformerDecoderLayer(4, 2, dim_feedforward=6, dropout=0.0, activation="gelu")
    enc.double()
    dec.double()
    x = ember.Tensor(rng.standard_normal((3, 2, 4)), requires_grad=True)
    m = ember.Tensor(rng.standard_normal((2, 2, 4)), requires_grad=True)
    assert ember.gradcheck(lambda x: enc(x, is_causal=True), (x,))
    assert ember.gradcheck(lambda x, m: dec(x, m, tgt_is_causal=True), (x, m))


def test_deepcopy_gives_independent_module():
    layer = nn.TransformerEncoderLayer(4, 2, dim_feedforward=6)
    twin = copy.deepcopy(layer)
    twin.linear1.weight.array[...] = 0
    assert np.abs(layer.linear1.weight.array).sum() > 0


def test_bad_activation_is_a_clear_error():
    with pytest.raises(ValueError, match="activation must be"):
        nn.TransformerEncoderLayer(4, 2, activation="tanh")


@pytest.mark.parametrize("norm_first", [False, True])
def test_encoder_in_eval_mode_matches_torch_fast_path(torch, norm_first):
    """torch's eval/no-grad inference runs its fused fast path; the outputs still agree."""
    torch.manual_seed(4)
    kw = dict(dim_feedforward=16, dropout=0.1, batch_first=True, norm_first=norm_first)
    tm = torch.nn.TransformerEncoder(torch.nn.TransformerEncoderLayer(8, 2, **kw), 2).eval()
    em = nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, **kw), 2).eval()
    _load(torch, tm, em)
    x = np.random.default_rng(5).standard_normal((3, 6, 8)).astype(np.float32)
    with torch.no_grad():
        ref = tm(torch.tensor(x)).numpy()
    np.testing.assert_allclose(em(ember.Tensor(x)).array, ref, rtol=1e-5, atol=1e-5)


def test_generate_square_subsequent_mask_takes_torchs_arguments(torch):
    """(sz, device=None, dtype=None) as torch: a device given by position is not a dtype."""
    ref = torch.nn.Transformer.generate_square_subsequent_mask(4, "cpu").numpy()
    m = nn.Transformer.generate_square_subsequent_mask(4, "cpu")
    assert m.dtype == np.float32
    np.testing.assert_array_equal(m.array, ref)
    m64 = nn.Transformer.generate_square_subsequent_mask(4, None, ember.float64)
    assert m64.dtype == np.float64
    np.testing.assert_array_equal(m64.array, ref)


@pytest.mark.parametrize(
    "name", ["TransformerEncoderLayer", "TransformerDecoderLayer", "Transformer"]
)
def test_dtype_argument_as_torch(torch, name):
    """dtype= builds every parameter in that dtype, as torch's factory kwargs do."""
    kw = dict(dim_feedforward=16, dropout=0.0)
    if name == "Transformer":
        kw.update(num_encoder_layers=1, num_decoder_layers=1)
    tm = getattr(torch.nn, name)(8, 2, dtype=torch.float64, **kw)
    em = getattr(nn, name)(8, 2, dtype=ember.float64, **kw)
    assert {p.dtype for p in em.parameters()} == {np.dtype(np.float64)}
    em.load_state_dict(tm.state_dict())
    x = np.random.default_rng(6).standard_normal((5, 2, 8))
    args = [x] if name == "TransformerEncoderLayer" else [x, x[:3]]
    out = em(*(ember.Tensor(a) for a in args))
    ref = tm(*(torch.tensor(a) for a in args))
    assert out.dtype == np.float64
    np.testing.assert_allclose(out.array, ref.detach().numpy(), rtol=1e-12, atol=1e-12)
