"""Transfer learning: fine-tune the top of a pretrained MiniLM to tell which article of the
seed document a sentence comes from.

The seed document holds ten short articles (LSTMs, RNNs, CNNs, activations, backprop, …).
Each sentence is labelled with its article; the task is to name the article of unseen
sentences. Three ways, from the same pretrained encoder:

  zero-shot     nearest article title by cosine similarity (no training at all)
  linear probe  the whole encoder frozen, a linear head trained on its sentence embeddings
  fine-tune     embeddings and the lower 4 of 6 layers frozen, the top 2 layers trained
                together with the head (frozen layers are computed once: their output is a
                constant for training)

    python examples/finetune_minilm.py [SEED_PATH] [--epochs 12] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

import ember  # noqa: E402
import ember.functional as F  # noqa: E402
import ember.nn as nn  # noqa: E402
import ember.optim  # noqa: E402
from ember.models import SentenceEncoder  # noqa: E402
from ember.models.bert import mean_pool  # noqa: E402

DEFAULT_SEED = ROOT.parent / "shared" / "seed" / "000_060a82a08e986ac4.txt"
OUT = ROOT / "experiments" / "results" / "finetune_minilm.json"


def articles(path: Path) -> list[tuple[str, list[str]]]:
    """(title, sentences) per article. An article starts at the first line, or at a short title
    line whose next non-empty line is a one- or two-word tag ("RNN", "Deep Learning")."""
    lines = [li.strip() for li in Path(path).read_text(encoding="utf-8").splitlines()]
    lines = [li for li in lines if li]
    starts = [0] + [
        i
        for i in range(1, len(lines) - 1)
        if len(lines[i].split()) <= 8
        and len(lines[i + 1].split()) <= 2
        and re.fullmatch(r"[A-Za-z ]+", lines[i + 1])
    ]
    out = []
    for k, s in enumerate(starts):
        end = starts[k + 1] if k + 1 < len(starts) else len(lines)
        text = " ".join(li for li in lines[s + 1 : end] if len(li.split()) >= 8)
        sentences = [t.strip() for t in re.split(r"(?<=[.!?])\s+", text) if len(t.split()) >= 5]
        out.append((lines[s], sentences))
    return out


def split(data, rng, test_fraction=0.3):
    train, test = [], []
    for label, (_, sents) in enumerate(data):
        order = rng.permutation(len(sents))
        n_test = max(1, int(round(test_fraction * len(sents))))
        test += [(sents[i], label) for i in order[:n_test]]
        train += [(sents[i], label) for i in order[n_test:]]
    return train, test


class TopLayersClassifier(nn.Module):
    """logits = W·mean_pool(Layers_top(h_frozen)) + b"""

    def __init__(self, top_layers, hidden: int, n_classes: int):
        super().__init__()
        self.layers = nn.ModuleList(top_layers)
        self.head = nn.Linear(hidden, n_classes)

    def forward(self, h, attention_mask):
        mask = (attention_mask != 0)[:, None, None, :]
        for layer in self.layers:
            h = layer(h, mask)
        return self.head(mean_pool(h, attention_mask))


def frozen_states(encoder, texts, n_frozen: int):
    """Hidden states after the embeddings and the lower ``n_frozen`` layers (constants)."""
    b = encoder.tokenize(texts)
    bert = encoder.bert
    with ember.no_grad():
        mask = (b["attention_mask"] != 0)[:, None, None, :]
        h = bert.embeddings(b["input_ids"], b["token_type_ids"])
        for layer in bert.encoder.layer.items[:n_frozen]:
            h = layer(h, mask)
    return ember.Tensor(h.array), b["attention_mask"]


def accuracy(logits, labels) -> float:
    return float((logits.argmax(axis=1) == labels).mean())


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("seed_doc", nargs="?", default=str(DEFAULT_SEED))
    ap.add_argument("--epochs", type=int, default=12)
    ap.add_argument("--frozen-layers", type=int, default=4)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=str(OUT))
    args = ap.parse_args(argv)
    ember.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)

    data = articles(Path(args.seed_doc))
    titles = [t for t, _ in data]
    train, test = split(data, rng)
    x_tr, y_tr = [s for s, _ in train], np.array([y for _, y in train])
    x_te, y_te = [s for s, _ in test], np.array([y for _, y in test])
    print(f"{len(titles)} articles, {len(train)} training and {len(test)} test sentences")
    encoder = SentenceEncoder.from_pretrained()
    n_classes, dim = len(titles), encoder.dim

    # zero-shot: the nearest title
    zs = encoder.encode(x_te) @ encoder.encode(titles).T
    zero_shot = accuracy(zs, y_te)

    # linear probe: frozen sentence embeddings, a trained linear head
    e_tr, e_te = ember.Tensor(encoder.encode(x_tr)), ember.Tensor(encoder.encode(x_te))
    probe = nn.Linear(dim, n_classes)
    opt = ember.optim.Adam(probe.parameters(), lr=1e-2)
    for _ in range(300):
        loss = F.cross_entropy(probe(e_tr), y_tr)
        opt.zero_grad()
        loss.backward()
        opt.step()
    with ember.no_grad():
        probe_acc = accuracy(probe(e_te).array, y_te)

    # fine-tune the top layers + head on top of the frozen lower layers
    k = args.frozen_layers
    bert = encoder.bert
    bert.embeddings.requires_grad_(False)
    for layer in bert.encoder.layer.items[:k]:
        layer.requires_grad_(False)
    model = TopLayersClassifier(bert.encoder.layer.items[k:], dim, n_classes)
    t0 = time.perf_counter()
    h_tr, m_tr = frozen_states(encoder, x_tr, k)
    h_te, m_te = frozen_states(encoder, x_te, k)
    opt = ember.optim.AdamW(
        [
            {"params": list(model.layers.parameters()), "lr": 1e-4},
            {"params": list(model.head.parameters()), "lr": 3e-3},
        ],
        weight_decay=0.01,
    )
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    frozen = sum(p.numel() for p in bert.parameters() if not p.requires_grad)
    history = []
    batch = 16
    for epoch in range(args.epochs):
        model.train()
        order = rng.permutation(len(y_tr))
        losses = []
        for s in range(0, len(order), batch):
            idx = order[s : s + batch]
            loss = F.cross_entropy(model(h_tr[idx], m_tr[idx]), y_tr[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item())
        model.eval()
        with ember.no_grad():
            acc = accuracy(model(h_te, m_te).array, y_te)
        history.append(dict(epoch=epoch + 1, train_loss=float(np.mean(losses)), test_accuracy=acc))
        print(f"epoch {epoch + 1:2d}  train loss {np.mean(losses):.3f}  test accuracy {acc:.3f}")
    wall = time.perf_counter() - t0

    result = dict(
        task="which of the seed document's articles a sentence comes from",
        articles=titles,
        n_train=len(train),
        n_test=len(test),
        chance_accuracy=float(np.bincount(y_te).max() / len(y_te)),
        zero_shot_accuracy=zero_shot,
        linear_probe_accuracy=probe_acc,
        finetune=dict(
            frozen_layers=k,
            trainable_parameters=int(trainable),
            frozen_parameters=int(frozen),
            epochs=args.epochs,
            final_test_accuracy=history[-1]["test_accuracy"],
            wall_s=wall,
            history=history,
        ),
    )
    print(
        f"zero-shot {zero_shot:.3f}  linear probe {probe_acc:.3f}"
        f"  fine-tuned top {6 - k} layers {history[-1]['test_accuracy']:.3f}"
    )
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    return result


if __name__ == "__main__":
    main()
