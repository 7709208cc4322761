"""Semantic search over the paragraphs of the seed document with all-MiniLM-L6-v2.

Each paragraph becomes a unit vector e_p; a query q is answered by the paragraphs with the
largest cosine similarity e_q·e_p. Meaning, not shared words, decides: "how do networks
remember long sequences?" finds the LSTM cell-state paragraphs.

    python examples/semantic_search.py [SEED_PATH] [--query "..."] [--top 3]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ember.models import SentenceEncoder  # noqa: E402

DEFAULT_SEED = ROOT.parent / "shared" / "seed" / "000_060a82a08e986ac4.txt"
DEFAULT_QUERIES = [
    "How do networks remember information over long sequences?",
    "How does a computer recognise objects in pictures?",
    "What lets every word look at every other word?",
    "How are the weights corrected after a wrong prediction?",
]


def paragraphs(path: Path, min_words: int = 8) -> list[str]:
    """Lines of the document long enough to be paragraphs (headings and formulas dropped)."""
    text = Path(path).read_text(encoding="utf-8")
    return [p.strip() for p in text.splitlines() if len(p.split()) >= min_words]


def search(encoder: SentenceEncoder, corpus: list[str], corpus_emb, query: str, top: int):
    q = encoder.encode([query])[0]
    scores = corpus_emb @ q
    best = scores.argsort()[::-1][:top]
    return [(float(scores[i]), corpus[i]) for i in best]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("seed", nargs="?", default=str(DEFAULT_SEED), help="the document to search")
    ap.add_argument("--query", action="append", help="a query (repeatable); default: examples")
    ap.add_argument("--top", type=int, default=3)
    args = ap.parse_args(argv)
    corpus = paragraphs(Path(args.seed))
    if not corpus:
        print(f"no paragraphs found in {args.seed}", file=sys.stderr)
        return 1
    encoder = SentenceEncoder.from_pretrained()
    t0 = time.perf_counter()
    corpus_emb = encoder.encode(corpus)
    print(f"indexed {len(corpus)} paragraphs in {time.perf_counter() - t0:.1f} s\n")
    for query in args.query or DEFAULT_QUERIES:
        print(f"Q: {query}")
        for score, text in search(encoder, corpus, corpus_emb, query, args.top):
            print(f"  {score:.3f}  {text[:110]}{'…' if len(text) > 110 else ''}")
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
