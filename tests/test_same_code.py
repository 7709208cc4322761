"""One source, two frameworks: training code written for PyTorch runs unchanged on ember.

Each snippet is written once against the PyTorch API and takes the framework module ``m``
(``torch`` or ``ember``), with no framework-specific line. The tests build each model under
both, copy torch's initial weights into ember's, feed the same batches, and hold the losses
equal step by step (float64).
"""

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")


def functional(m):
    """F at torch's path in both: torch.nn.functional and ember.nn.functional."""
    return m.nn.functional


# ---------------------------------------------------------------- 1. a CNN on 8×8 digits


def make_cnn(m):
    nn = m.nn
    return nn.Sequential(
        nn.Conv2d(1, 4, kernel_size=3, padding=1),
        nn.BatchNorm2d(4),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(4 * 4 * 4, 10),
    )


def train_cnn(m, model, batches, schedule="onecycle"):
    F = functional(m)
    device = "cuda" if m.cuda.is_available() else "cpu"
    model = model.to(device)
    optimizer = m.optim.AdamW(model.parameters(), lr=1e-2, weight_decay=0.05)
    if schedule == "onecycle":
        scheduler = m.optim.lr_scheduler.OneCycleLR(
            optimizer, max_lr=0.05, total_steps=len(batches)
        )
    else:
        scheduler = m.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=len(batches))
    losses = []
    for xb, yb in batches:
        x = m.from_numpy(xb).to(device, non_blocking=True)
        y = m.from_numpy(yb).to(device, non_blocking=True)
        x = (x - x.mean(dim=1, keepdim=True)) / x.std(dim=1, keepdim=True, unbiased=False)
        model.train()
        optimizer.zero_grad(set_to_none=True)
        logits = model(x.view(x.size(0), 1, 8, 8))
        loss = F.cross_entropy(logits, y)
        loss.backward()
        m.nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
        optimizer.step()
        scheduler.step()
        losses.append(loss.item())
    model.eval()
    with m.no_grad():
        xs = [m.from_numpy(xb).to(device) for xb, _ in batches]
        pred = m.cat([model(x.view(-1, 1, 8, 8)).argmax(dim=1) for x in xs])
        y = m.cat([m.from_numpy(yb).to(device) for _, yb in batches])
        accuracy = (pred == y).float().mean().item()
        logits = model(xs[0].view(-1, 1, 8, 8))
        _, top = logits.max(1)
        confidence = F.softmax(logits, dim=1).max(dim=1).values.mean().item()
        losses.append(F.cross_entropy(logits, y[: xs[0].size(0)]).item())
    return losses, (accuracy, top.tolist(), confidence)  # evaluation


# ---------------------------------------------------------------- 2. a packed-LSTM classifier


def make_seq_classifier(m, vocab=20, embed=8, hidden=12, classes=3):
    nn = m.nn

    class SeqClassifier(nn.Module):
        def __init__(self):
            super().__init__()
            self.embedding = nn.Embedding(vocab, embed, padding_idx=0)
            self.lstm = nn.LSTM(embed, hidden, batch_first=True)
            self.head = nn.Linear(hidden, classes)

        def forward(self, tokens):
            lengths = (tokens != 0).sum(dim=1)
            embedded = self.embedding(tokens)
            packed = nn.utils.rnn.pack_padded_sequence(
                embedded, lengths, batch_first=True, enforce_sorted=False
            )
            h0 = embedded.new_zeros(1, tokens.size(0), hidden)
            _, (h_n, _) = self.lstm(packed, (h0, m.zeros_like(h0)))
            return self.head(h_n[-1])

    return SeqClassifier()


def train_seq_classifier(m, model, batches):
    F = functional(m)
    optimizer = m.optim.Adam(model.parameters(), lr=0.02)
    losses = []
    for tokens, labels in batches:
        tokens, labels = m.from_numpy(tokens), m.from_numpy(labels)
        optimizer.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(tokens), labels, label_smoothing=0.1)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


# ---------------------------------------------------------------- 3. a tiny Transformer encoder


def make_encoder_classifier(m, vocab=20, d_model=16, max_len=10, classes=3):
    nn = m.nn

    class EncoderClassifier(nn.Module):
        def __init__(self):
            super().__init__()
            self.embedding = nn.Embedding(vocab, d_model, padding_idx=0)
            self.position = nn.Parameter(m.zeros(1, max_len, d_model))
            layer = nn.TransformerEncoderLayer(
                d_model, nhead=2, dim_feedforward=32, dropout=0.0,
                batch_first=True, norm_first=True,
            )  # fmt: skip
            self.encoder = nn.TransformerEncoder(layer, num_layers=2, enable_nested_tensor=False)
            self.head = nn.Linear(d_model, classes)

        def forward(self, tokens):
            pad = tokens == 0
            h = self.embedding(tokens) + self.position[:, : tokens.size(1)]
            h = self.encoder(h, src_key_padding_mask=pad)
            h = h.masked_fill(pad.unsqueeze(-1), 0.0)
            count = (~pad).sum(dim=1, keepdim=True).clamp(min=1).float()
            pooled = h.sum(dim=1) / count
            return self.head(functional(m).gelu(pooled))

    return EncoderClassifier()


def train_encoder_classifier(m, model, batches, classes=3):
    F = functional(m)
    optimizer = m.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, nesterov=True)
    scheduler = m.optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5)
    losses = []
    for tokens, labels in batches:
        tokens, labels = m.from_numpy(tokens), m.from_numpy(labels)
        optimizer.zero_grad(set_to_none=True)
        logits = model(tokens)
        target = F.one_hot(labels, num_classes=classes).to(logits.dtype)
        loss = -(target * F.log_softmax(logits, dim=-1)).sum(dim=1).mean()
        loss.backward()
        optimizer.step()
        scheduler.step()
        losses.append(loss.item())
    return losses


# ---------------------------------------------------------------- running both


def digit_batches(rng, steps=6, batch=16):
    return [
        (rng.standard_normal((batch, 64)), rng.integers(0, 10, batch).astype(np.int64))
        for _ in range(steps)
    ]


def token_batches(rng, steps=6, batch=8, max_len=10, vocab=20, classes=3):
    batches = []
    for _ in range(steps):
        lengths = rng.integers(1, max_len + 1, batch)
        tokens = rng.integers(1, vocab, (batch, max_len))
        tokens[np.arange(max_len)[None, :] >= lengths[:, None]] = 0
        batches.append((tokens.astype(np.int64), rng.integers(0, classes, batch).astype(np.int64)))
    return batches


def twin_models(make):
    """The same model under torch and ember, float64, with torch's initial weights in both."""
    torch.manual_seed(0)
    reference = make(torch).double()
    mine = make(ember).double()
    mine.load_state_dict({k: v.detach().numpy() for k, v in reference.state_dict().items()})
    return reference, mine


def assert_same_losses(theirs, ours):
    assert len(theirs) == len(ours)
    np.testing.assert_allclose(ours, theirs, rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("schedule", ["onecycle", "cosine"])
def test_cnn_trains_the_same(schedule):
    batches = digit_batches(np.random.default_rng(0))
    reference, mine = twin_models(make_cnn)
    theirs, their_eval = train_cnn(torch, reference, batches, schedule)
    ours, our_eval = train_cnn(ember, mine, batches, schedule)
    assert_same_losses(theirs, ours)
    assert our_eval[:2] == their_eval[:2]
    assert our_eval[2] == pytest.approx(their_eval[2], rel=1e-8)


def test_packed_lstm_classifier_trains_the_same():
    batches = token_batches(np.random.default_rng(1))
    reference, mine = twin_models(make_seq_classifier)
    assert_same_losses(
        train_seq_classifier(torch, reference, batches), train_seq_classifier(ember, mine, batches)
    )


def test_transformer_encoder_classifier_trains_the_same():
    batches = token_batches(np.random.default_rng(2))
    reference, mine = twin_models(make_encoder_classifier)
    assert_same_losses(
        train_encoder_classifier(torch, reference, batches),
        train_encoder_classifier(ember, mine, batches),
    )
