"""Transfer learning mechanics: frozen lower layers get no gradient, the top learns."""

import sys
from pathlib import Path

import numpy as np

import ember
import ember.functional as F
import ember.optim
from ember.models.bert import BertConfig, BertModel

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "examples"))
from finetune_minilm import TopLayersClassifier, articles  # noqa: E402

SEED = Path(__file__).resolve().parents[3] / "shared" / "seed" / "000_060a82a08e986ac4.txt"


def test_freezing_lower_layers_and_training_the_top():
    ember.manual_seed(0)
    cfg = BertConfig(
        vocab_size=50, hidden_size=16, num_hidden_layers=3, num_attention_heads=2,
        intermediate_size=32, max_position_embeddings=16, hidden_dropout_prob=0.0,
        attention_probs_dropout_prob=0.0,
    )  # fmt: skip
    bert = BertModel(cfg)
    bert.embeddings.requires_grad_(False)
    bert.encoder.layer[0].requires_grad_(False)
    model = TopLayersClassifier(bert.encoder.layer.items[1:], 16, 3)
    rng = np.random.default_rng(0)
    ids = rng.integers(1, 50, size=(12, 7))
    mask = np.ones((12, 7), dtype=np.int64)
    mask[::3, 5:] = 0
    y = ids[:, 0] % 3
    with ember.no_grad():
        am = (mask != 0)[:, None, None, :]
        h = bert.encoder.layer[0](bert.embeddings(ids), am)
    opt = ember.optim.AdamW(model.parameters(), lr=1e-2)
    losses = []
    for _ in range(40):
        loss = F.cross_entropy(model(ember.Tensor(h.array), mask), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.3 * losses[0]
    assert bert.encoder.layer[0].intermediate.dense.weight.grad is None
    assert bert.encoder.layer[2].output.dense.weight.grad is not None


def test_seed_document_splits_into_its_ten_articles():
    if not SEED.is_file():
        import pytest

        pytest.skip(f"seed document not found at {SEED}")
    data = articles(SEED)
    assert len(data) == 10
    assert data[0][0] == "LSTM Networks Explained"
    assert all(len(sents) >= 8 for _, sents in data)
