"""Text corpora, the character vocabulary and the train/validation split."""

import numpy as np
import pytest

from ember.data import CharVocab, load_text, python_docs_corpus, tiny_shakespeare, train_val_split


def test_tiny_shakespeare_from_the_shared_copy(shared_data):
    text = tiny_shakespeare(root=shared_data / "tinyshakespeare")
    assert len(text) == 1115394 and text.startswith("First Citizen:")
    assert len(CharVocab.from_text(text)) == 65


def test_embedded_corpus_is_deterministic_and_large():
    a, b = python_docs_corpus(), load_text("pydoc")
    assert a == b and len(a) > 300_000
    from pydoc_data.topics import topics

    first = sorted(topics)[0]
    assert a.startswith(topics[first])


def test_vocab_round_trip_save_and_load(tmp_path):
    text = "hello, wörld — ünïcode\n"
    v = CharVocab.from_text(text)
    ids = v.encode(text)
    assert ids.dtype == np.int64 and v.decode(ids) == text
    assert v.itos == sorted(set(text)) and v.stoi["h"] == v.itos.index("h")
    v.save(tmp_path / "vocab.json")
    w = CharVocab.load(tmp_path / "vocab.json")
    assert w.itos == v.itos and np.array_equal(w.encode(text), ids)


def test_vocab_names_unknown_characters():
    v = CharVocab.from_text("abc")
    with pytest.raises(ValueError, match=r"\['z'\]"):
        v.encode("abz")


def test_train_val_split_is_contiguous_90_10():
    ids = np.arange(1000)
    train, val = train_val_split(ids)
    assert len(train) == 900 and len(val) == 100 and train[-1] + 1 == val[0]
