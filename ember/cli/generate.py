"""``ember generate RUN``: sample text from a trained language model's run folder.

Reads RUN/config.json (model name and options), RUN/vocab.json and the weights
(RUN/best.safetensors if present, else RUN/checkpoint.safetensors), then continues
``--prompt`` by ``--tokens`` characters sampled with ``--temperature`` and ``--top-k``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import ember
from ember.data.text import CharVocab
from ember.models import get_model
from ember.train.language import read_model_state


def add_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "generate",
        help="sample text from a trained language model",
        description="Continue a prompt with characters sampled from the model saved in RUN.",
    )
    p.add_argument("run_dir", metavar="RUN", help="run folder written by `ember train`")
    p.add_argument("--prompt", default="\n", help="text to continue (default: a newline)")
    p.add_argument("--tokens", type=int, default=500, help="characters to generate (default 500)")
    p.add_argument("--temperature", type=float, default=0.8, help="0 = greedy (default 0.8)")
    p.add_argument("--top-k", type=int, default=None, help="sample among the k most likely")
    p.add_argument("--seed", type=int, default=None, help="seed the sampling")
    p.add_argument("--checkpoint", choices=["best", "last"], default="best")
    p.set_defaults(run=run)
    return p


def load_language_run(folder: str | Path):
    """(model, vocab) rebuilt from a run folder written by ``ember train`` (language task)."""
    folder = Path(folder)
    config_path = folder / "config.json"
    if not config_path.is_file():
        raise FileNotFoundError(f"{folder} is not a run folder: {config_path} is missing")
    config = json.loads(config_path.read_text())
    if config.get("task") != "language":
        raise ValueError(f"{folder} holds a {config.get('task')!r} model, not a language model")
    vocab = CharVocab.load(folder / "vocab.json")
    model = get_model(config["model"])["builder"](vocab_size=len(vocab), **config["options"])
    return model, vocab


def run(args: argparse.Namespace) -> int:
    folder = Path(args.run_dir)
    try:
        model, vocab = load_language_run(folder)
    except (FileNotFoundError, ValueError, KeyError) as e:
        print(f"ember generate: {e}", file=sys.stderr)
        return 2
    weights = folder / "best.safetensors"
    if args.checkpoint == "last" or not weights.is_file():
        weights = folder / "checkpoint.safetensors"
    model.load_state_dict(read_model_state(weights))
    if args.seed is not None:
        ember.manual_seed(args.seed)
    try:
        prompt = vocab.encode(args.prompt)
    except ValueError as e:
        print(f"ember generate: the prompt has {e}", file=sys.stderr)
        return 2
    ids = model.generate(prompt[None], args.tokens, args.temperature, args.top_k)
    print(vocab.decode(ids))
    return 0
