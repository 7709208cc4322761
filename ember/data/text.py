"""Text corpora and a character vocabulary (minimal stand-in with the workflow helper's API).

The workflow branch owns the full version of this module (cache folder, sha256-checked
download); this one has the same public names (``python_docs_corpus``, ``tiny_shakespeare``,
``load_text``, ``CharVocab``, ``train_val_split``) so the language trainer runs before the
merge, and the merge keeps the workflow's file.

Corpora:
- ``pydoc``: the Python documentation topics that ship inside CPython (``pydoc_data.topics``),
  joined in sorted key order with blank lines between them: no download.
- ``tinyshakespeare``: char-rnn's 1,115,394-character corpus, read from ``root/input.txt``,
  ``root/tinyshakespeare/input.txt`` or ``$EMBER_DATA/tinyshakespeare/input.txt``.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from pathlib import Path

import numpy

_SHAKESPEARE_SHA256 = "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed"


def python_docs_corpus() -> str:
    """The embedded corpus: CPython's documentation topics in sorted key order."""
    from pydoc_data.topics import topics

    return "\n\n".join(topics[k] for k in sorted(topics))


def tiny_shakespeare(root: str | os.PathLike | None = None, download: bool = False) -> str:
    """The tiny-shakespeare corpus from a local copy, checked by sha256."""
    home = Path(os.environ.get("EMBER_DATA", Path.home() / ".cache" / "ember")).expanduser()
    candidates = [home / "tinyshakespeare" / "input.txt"]
    if root is not None:
        r = Path(root).expanduser()
        candidates = [r / "input.txt", r / "tinyshakespeare" / "input.txt"] + candidates
    for path in candidates:
        if path.is_file():
            data = path.read_bytes()
            digest = hashlib.sha256(data).hexdigest()
            if digest != _SHAKESPEARE_SHA256:
                raise ValueError(f"{path}: sha256 {digest}, expected {_SHAKESPEARE_SHA256}")
            return data.decode("utf-8")
    raise FileNotFoundError(
        "tiny-shakespeare not found; looked in " + ", ".join(map(str, candidates))
    )


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
    """A character vocabulary: id i ↔ the i-th character in sorted order."""

    def __init__(self, chars: Sequence[str]) -> None:
        chars = list(chars)
        if any(len(c) != 1 for c in chars) or len(set(chars)) != len(chars):
            raise ValueError("CharVocab: entries must be unique single characters")
        self.itos: list[str] = chars
        self.stoi: dict[str, int] = {c: i for i, c in enumerate(chars)}

    @classmethod
    def from_text(cls, text: str) -> CharVocab:
        return cls(sorted(set(text)))

    def __len__(self) -> int:
        return len(self.itos)

    @property
    def size(self) -> int:
        return len(self.itos)

    def encode(self, text: str) -> numpy.ndarray:
        """int64 ids of the characters of ``text`` (one vectorised lookup)."""
        codes = numpy.array([ord(c) for c in self.itos], dtype=numpy.int64)
        order = numpy.argsort(codes)
        cp = numpy.frombuffer(text.encode("utf-32-le"), dtype=numpy.uint32).astype(numpy.int64)
        pos = numpy.minimum(numpy.searchsorted(codes[order], cp), len(codes) - 1)
        bad = codes[order][pos] != cp
        if bad.any():
            unknown = sorted({chr(c) for c in cp[bad][:1000].tolist()})
            raise ValueError(f"characters not in the vocabulary: {unknown!r}")
        return order[pos]

    def decode(self, ids) -> str:
        ids = getattr(ids, "data", ids)
        return "".join(self.itos[int(i)] for i in numpy.asarray(ids).reshape(-1))

    def to_json(self) -> str:
        return json.dumps({"chars": self.itos}, ensure_ascii=False)

    def save(self, path: str | os.PathLike) -> None:
        Path(path).write_text(self.to_json(), encoding="utf-8")

    @classmethod
    def load(cls, path: str | os.PathLike) -> CharVocab:
        obj = json.loads(Path(path).read_text(encoding="utf-8"))
        if not isinstance(obj, dict) or "chars" not in obj:
            raise ValueError(f"{path}: expected a JSON object with a 'chars' list")
        return cls(obj["chars"])

    def __repr__(self) -> str:
        return f"CharVocab(size={len(self)})"


def train_val_split(data, val_fraction: float = 0.1):
    """The first (1 - val_fraction) for training, the rest for validation (contiguous)."""
    if not 0.0 <= val_fraction < 1.0:
        raise ValueError(f"val_fraction must be in [0, 1), got {val_fraction}")
    n = int(len(data) * (1.0 - val_fraction))
    return data[:n], data[n:]
