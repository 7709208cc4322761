"""Text corpora and a character vocabulary for character-level language models.

Corpora:
- ``pydoc``: the Python documentation topics that ship inside CPython (``pydoc_data.topics``),
  joined in sorted key order with blank lines between them: no download, the same string on
  every machine with the same Python (3.11.7: 79 topics, 465,126 characters, 103 distinct).
- ``tinyshakespeare``: char-rnn's 1,115,394-character corpus, downloaded once and checked by
  sha256 (or read from ``root``).
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path

import numpy

from ..backend import to_numpy
from ..serialization import atomic_write_text
from .download import locate

_SHAKESPEARE = ("input.txt", "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed")
_SHAKESPEARE_URL = (
    "https://raw.githubusercontent.com/karpathy/char-rnn/master/data/tinyshakespeare/input.txt"
)


def python_docs_corpus() -> str:
    """The embedded corpus: CPython's documentation topics in sorted key order."""
    from pydoc_data.topics import topics

    return "\n\n".join(topics[k] for k in sorted(topics))


def tiny_shakespeare(root: str | os.PathLike | None = None, download: bool = True) -> str:
    """The tiny-shakespeare corpus (read from ``root``/input.txt, the cache, or downloaded)."""
    path = locate("tinyshakespeare", *_SHAKESPEARE, [_SHAKESPEARE_URL], root, download)
    return path.read_text(encoding="utf-8")


TEXT_CORPORA = {"pydoc": python_docs_corpus, "tinyshakespeare": tiny_shakespeare}


def load_text(name: str, root: str | os.PathLike | None = None, download: bool = True) -> str:
    """A corpus by name (``pydoc``, ``tinyshakespeare``), or any UTF-8 file given as a path."""
    key = name.lower().replace("-", "").replace("_", "")
    if key in ("pydoc", "pydocs", "pythondocs"):
        return python_docs_corpus()
    if key in ("tinyshakespeare", "shakespeare"):
        return tiny_shakespeare(root, download)
    path = Path(name).expanduser()
    if path.is_file():
        return path.read_text(encoding="utf-8")
    raise ValueError(
        f"unknown corpus {name!r}: expected one of {', '.join(TEXT_CORPORA)} or a text file path"
    )


class CharVocab:
    """A character vocabulary: id i ↔ the i-th character in sorted order.

    ``encode`` is vectorised (the text's code points are looked up with one searchsorted), so
    a megabyte of text encodes in milliseconds; characters not in the vocabulary are an error
    naming them.
    """

    def __init__(self, chars: Sequence[str]) -> None:
        chars = list(chars)
        if any(len(c) != 1 for c in chars):
            raise ValueError("CharVocab: every entry must be a single character")
        if len(set(chars)) != len(chars):
            raise ValueError("CharVocab: characters must be unique")
        self.itos: list[str] = chars
        self.stoi: dict[str, int] = {c: i for i, c in enumerate(chars)}
        codes = numpy.array([ord(c) for c in chars], dtype=numpy.int64)
        self._order = numpy.argsort(codes)
        self._sorted_codes = codes[self._order]

    @classmethod
    def from_text(cls, text: str) -> CharVocab:
        return cls(sorted(set(text)))

    def __len__(self) -> int:
        return len(self.itos)

    @property
    def size(self) -> int:
        return len(self.itos)

    def encode(self, text: str) -> numpy.ndarray:
        """int64 ids of the characters of ``text``."""
        cp = numpy.frombuffer(text.encode("utf-32-le"), dtype=numpy.uint32).astype(numpy.int64)
        pos = numpy.searchsorted(self._sorted_codes, cp)
        pos = numpy.minimum(pos, len(self._sorted_codes) - 1)
        bad = self._sorted_codes[pos] != cp
        if bad.any():
            unknown = sorted({chr(c) for c in cp[bad][:1000].tolist()})
            raise ValueError(f"characters not in the vocabulary: {unknown!r}")
        return self._order[pos]

    def decode(self, ids) -> str:
        """The string of the ids (a list, array or Tensor)."""
        ids = getattr(ids, "array", ids)
        return "".join(self.itos[int(i)] for i in to_numpy(ids).reshape(-1))  # host ids

    def to_json(self) -> str:
        return json.dumps({"chars": self.itos}, ensure_ascii=False)

    def save(self, path: str | os.PathLike) -> None:
        atomic_write_text(path, self.to_json())

    @classmethod
    def load(cls, path: str | os.PathLike) -> CharVocab:
        with open(path, encoding="utf-8") as f:
            obj = json.load(f)
        if not isinstance(obj, dict) or "chars" not in obj:
            raise ValueError(f"{path}: expected a JSON object with a 'chars' list")
        return cls(obj["chars"])

    def __repr__(self) -> str:
        return f"CharVocab(size={len(self)})"


def train_val_split(data, val_fraction: float = 0.1):
    """The first (1 - val_fraction) of a sequence for training, the rest for validation
    (contiguous, as nanoGPT splits its corpus 90/10)."""
    if not 0.0 <= val_fraction < 1.0:
        raise ValueError(f"val_fraction must be in [0, 1), got {val_fraction}")
    n = int(len(data) * (1.0 - val_fraction))
    return data[:n], data[n:]
