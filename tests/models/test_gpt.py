"""GPT: torch parity (logits and gradients), weight tying, KV cache = no cache, registry."""

import sys
from pathlib import Path

import numpy as np
import pytest

import ember
import ember.functional as F
import ember.optim
from ember.models import GPT, get_model

# the torch reference GPT lives in benchmarks/ (shared with the benchmark and the experiment)
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

SMALL = dict(vocab_size=11, block_size=8, n_layer=2, n_head=2, n_embd=8)


def test_matches_torch_gpt_logits_and_gradients(torch):
    from benchmarks.gpt_torch import TorchGPT

    torch.manual_seed(0)
    tm = TorchGPT(**SMALL).double()
    em = GPT(**SMALL).double()
    assert set(em.state_dict()) == set(tm.state_dict())
    em.load_state_dict(tm.state_dict())
    idx = np.random.default_rng(0).integers(0, 11, size=(3, 8))
    tgt = np.random.default_rng(1).integers(0, 11, size=(3, 8))
    el = em(idx)
    tl = tm(torch.tensor(idx))
    np.testing.assert_allclose(el.array, tl.detach().numpy(), rtol=1e-10, atol=1e-12)
    F.cross_entropy(el.reshape(-1, 11), tgt.reshape(-1)).backward()
    torch.nn.functional.cross_entropy(tl.reshape(-1, 11), torch.tensor(tgt).reshape(-1)).backward()
    tparams = dict(tm.named_parameters())
    names = [n for n, _ in em.named_parameters()]
    assert len(names) == len(tparams)  # the tied weight counts once
    for name, p in em.named_parameters():
        np.testing.assert_allclose(
            p.grad.array, tparams[name].grad.numpy(), rtol=1e-8, atol=1e-12, err_msg=name
        )


def test_head_is_tied_to_token_embedding():
    m = GPT(**SMALL)
    assert m.lm_head.weight is m.transformer["wte"].weight
    assert m.num_parameters() == sum(p.numel() for p in m.parameters())


@pytest.mark.parametrize("pos", ["learned", "sinusoidal", "rotary"])
def test_kv_cache_gives_the_same_tokens_and_logits(pos):
    ember.manual_seed(0)
    m = GPT(**SMALL, pos_encoding=pos)
    prompt = np.array([[1, 2, 3], [4, 5, 6]])
    outs = []
    for use_cache in (True, False):
        ember.manual_seed(123)  # the same random draws for sampling
        outs.append(m.generate(prompt, 12, temperature=1.0, top_k=5, use_cache=use_cache).array)
    np.testing.assert_array_equal(outs[0], outs[1])  # 15 > block_size 8: the window slides
    # logits step by step: cached single-token forwards equal the full causal forward
    seq = outs[0][:, :8]
    full = m(seq).array
    cache = m.new_cache(2)
    step = [m(seq[:, :3], cache).array] + [m(seq[:, t : t + 1], cache).array for t in range(3, 8)]
    np.testing.assert_allclose(np.concatenate(step, axis=1), full, rtol=1e-5, atol=1e-6)


def test_generate_greedy_is_deterministic_and_shapes():
    m = GPT(**SMALL)
    out = m.generate(np.array([1, 2]), 5, temperature=0)
    assert out.shape == (1, 7)
    np.testing.assert_array_equal(out.array, m.generate(np.array([[1, 2]]), 5, temperature=0).array)


def test_top_k_one_is_greedy():
    m = GPT(**SMALL)
    a = m.generate(np.array([[3]]), 6, top_k=1).array
    b = m.generate(np.array([[3]]), 6, temperature=0).array
    np.testing.assert_array_equal(a, b)


def test_registered_as_language_model():
    entry = get_model("gpt")
    assert entry["task"] == "language"
    m = entry["builder"](vocab_size=20, block_size=16, n_layer=1, n_head=2, n_embd=8)
    assert m(np.zeros((2, 16), dtype=np.int64)).shape == (2, 16, 20)


def test_clear_errors():
    m = GPT(**SMALL)
    with pytest.raises(ValueError, match="exceeds block_size 8"):
        m(np.zeros((1, 9), dtype=np.int64))
    with pytest.raises(ValueError, match="shape \\(B, T\\)"):
        m(np.zeros(4, dtype=np.int64))
    with pytest.raises(ValueError, match="pos_encoding"):
        GPT(pos_encoding="alibi")


def test_short_training_reduces_loss():
    ember.manual_seed(0)
    m = GPT(**SMALL)
    opt = ember.optim.AdamW(m.parameters(), lr=1e-2, weight_decay=0.1)
    seq = np.tile(np.arange(11), 4)
    x = np.stack([seq[i : i + 8] for i in range(6)])
    y = np.stack([seq[i + 1 : i + 9] for i in range(6)])
    losses = []
    for _ in range(100):
        loss = F.cross_entropy(m(x).reshape(-1, 11), y.reshape(-1))
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.2 * losses[0]


def test_tanh_gelu_variant_matches_torch(torch):
    from benchmarks.gpt_torch import TorchGPT

    torch.manual_seed(1)
    tm = TorchGPT(**SMALL, gelu_approximate="tanh").double()
    em = GPT(**SMALL, gelu_approximate="tanh").double()
    em.load_state_dict(tm.state_dict())
    idx = np.random.default_rng(2).integers(0, 11, size=(2, 8))
    np.testing.assert_allclose(em(idx).array, tm(torch.tensor(idx)).detach().numpy(), atol=1e-12)
