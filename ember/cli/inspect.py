"""``ember inspect RUN``: look inside a trained model for one input.

    ember inspect runs/lenet-20261125-040000 --index 7           the 8th test example
    ember inspect runs/lenet-20261125-040000 --input digit.npy    an array of the input shape
    ember inspect runs/lenet-20261125-040000 --input digit.png    a grey-scale image file
    ember inspect runs/charlstm-20261205-090000 --text "def f(x):"  gates and gradient
                                                                   through time over a text

It rebuilds the model from the run's config.json, loads its checkpoint, runs the input, and
writes PNGs under RUN/figures/inspect-<input>/ (or --out), printing each path. What is
written depends on what the model has: every entry of ``INSPECTORS`` whose test accepts the
model contributes figures (feature maps and filters for convolutions; other layer kinds add
their own entry here).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from ..data import load_dataset
from ..diagnose.feature_maps import conv_layers, save_feature_maps
from ..models import get_model
from ..serialization import load
from ..tensor import Tensor

#: (name, applies(model) -> bool, write(model, x, out_dir, captions=dict) -> list[Path])
INSPECTORS: list[tuple[str, object, object]] = [
    ("feature maps", lambda m: bool(conv_layers(m)), save_feature_maps),
]


def add_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "inspect",
        help="figures of what a trained model computes for one input",
        description=__doc__.split("\n\n")[0],
    )
    p.add_argument(
        "run_dir", metavar="RUN", type=Path, help="a run folder (config.json and a checkpoint)"
    )
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--input", type=Path, help="a .npy array or an image file (.png)")
    src.add_argument("--index", type=int, help="an example of the run's dataset, by index")
    src.add_argument(
        "--text",
        help="for a language-model run: attention maps (gpt), or the gates at every character"
        " and the gradient through time (charlstm), over this text",
    )
    p.add_argument("--split", choices=("test", "train"), default="test", help="for --index")
    p.add_argument("--checkpoint", type=Path, help="weights file (default: the run's latest)")
    p.add_argument("--out", type=Path, help="folder for the figures")
    p.add_argument("--max-channels", type=int, default=32, help="channels shown per layer")
    p.set_defaults(run=run)
    return p


def load_run_model(run_dir: Path, checkpoint: Path | None = None):
    """(model in eval mode, config) rebuilt from a run folder's config.json and weights."""
    cfg_path = run_dir / "config.json"
    if not cfg_path.is_file():
        raise FileNotFoundError(f"{run_dir}: no config.json (is it a run folder?)")
    config = json.loads(cfg_path.read_text(encoding="utf-8"))
    builder = get_model(config["model"])["builder"]
    model = builder(**config.get("options", {}))
    path = checkpoint
    if path is None:
        for name in ("best.safetensors", "checkpoint.safetensors"):
            if (run_dir / name).is_file():
                path = run_dir / name
                break
    if path is None:
        raise FileNotFoundError(f"{run_dir}: no best.safetensors or checkpoint.safetensors")
    state = load(path)
    weights = state["model"] if isinstance(state, dict) and "model" in state else state
    model.load_state_dict(weights)
    return model.eval(), config


def read_input(args: argparse.Namespace, config: dict, model) -> tuple[Tensor, str]:
    """The input batch (1, ...) and a short label for folder names."""
    if args.index is not None:
        data = load_dataset(config["data"], root=config.get("data_root"))
        split = data.test if args.split == "test" else data.train
        return dataset_example(split, args.index, args.split)
    path = args.input
    if not path.is_file():
        raise FileNotFoundError(f"--input {path}: no such file")
    if path.suffix == ".npy":
        x = np.load(path, allow_pickle=False).astype(np.float32)
    else:
        from matplotlib.image import imread

        x = imread(path).astype(np.float32)
        if x.ndim == 3:  # RGB(A) → grey
            x = x[..., :3].mean(axis=-1)
    shape = tuple(config.get("options", {}).get("input_shape") or ())
    if shape and x.shape == shape[1:] and shape[0] == 1:
        x = x[None]
    if shape and x.shape != shape:
        raise ValueError(f"--input {path}: expected an array of shape {shape}, got {x.shape}")
    return Tensor(x[None]), path.stem


def dataset_example(split, index: int, split_name: str = "test") -> tuple[Tensor, str]:
    """Example ``index`` of a dataset split as a batch of one, and a label for folder names
    (``test-7-label-3``)."""
    if not 0 <= index < len(split):
        raise IndexError(f"--index {index}: the {split_name} split has {len(split)}")
    x, y = split[index]
    x = np.asarray(x.array if isinstance(x, Tensor) else x, dtype=np.float32)
    return Tensor(x[None]), f"{split_name}-{index}-label-{int(np.asarray(_raw(y)))}"


def _raw(v):
    return v.array if isinstance(v, Tensor) else v


def inspect_text(args: argparse.Namespace) -> int:
    """Over ``--text``, for a language-model run: attention maps per layer and head (a model
    with attention), and the gates of every recurrent layer at every character with the
    gradient through time (a model with RNN/LSTM/GRU layers)."""
    from ..diagnose.attention_maps import attention_modules, draw_attention_maps
    from ..diagnose.recurrent_text import draw_recurrent_inspection, recurrent_modules
    from ..train.language import read_model_state
    from .generate import load_language_run

    try:
        model, vocab = load_language_run(args.run_dir)
        weights = args.checkpoint
        if weights is None:
            best = args.run_dir / "best.safetensors"
            weights = best if best.is_file() else args.run_dir / "checkpoint.safetensors"
        model.load_state_dict(read_model_state(weights))
        ids = vocab.encode(args.text)
    except (FileNotFoundError, ValueError, KeyError) as e:
        print(f"ember inspect: {e}", file=sys.stderr)
        return 2
    has_attention, has_recurrent = bool(attention_modules(model)), bool(recurrent_modules(model))
    if not (has_attention or has_recurrent):
        print(
            f"ember inspect: {type(model).__name__} has no attention or recurrent layers to draw",
            file=sys.stderr,
        )
        return 2
    paths, described = [], {}
    if has_attention:
        out = args.out or args.run_dir / "figures" / "inspect-attention"
        paths += draw_attention_maps(
            model.eval(), ids, out, labels=list(args.text), captions=described
        )
    if has_recurrent:
        if len(ids) < 2:
            print("ember inspect: --text needs at least two characters", file=sys.stderr)
            return 2
        out = args.out or args.run_dir / "figures" / "inspect-recurrent"
        paths += draw_recurrent_inspection(
            model, ids, out, labels=list(args.text), captions=described
        )
    caption_run_figures(args.run_dir, described, f"of {shorten(args.text)!r}")
    for path in paths:
        print(path)
    return 0


def shorten(text: str, width: int = 40) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def caption_run_figures(run_dir: Path, described: dict, where: str) -> None:
    """Record the captions of the figures drawn inside the run's figures folder (where ``ember
    report`` finds them); figures drawn elsewhere (``--out``) are left out."""
    from ..diagnose.figures import add_captions

    figures = Path(run_dir) / "figures"
    inside = {p: text for p, text in described.items() if Path(p).is_relative_to(figures)}
    if inside:
        add_captions(
            figures,
            {p.relative_to(figures).as_posix(): f"{t} ({where})" for p, t in inside.items()},
        )


def run(args: argparse.Namespace) -> int:
    if args.text is not None:
        return inspect_text(args)
    try:
        model, config = load_run_model(args.run_dir, args.checkpoint)
        x, label = read_input(args, config, model)
    except (FileNotFoundError, ValueError, IndexError, KeyError) as e:
        print(f"ember inspect: {e}", file=sys.stderr)
        return 2
    out = args.out or args.run_dir / "figures" / f"inspect-{label}"
    logits = model(x)
    probs = logits.softmax(-1).array[0]
    top = int(probs.argmax())
    print(f"{config['model']} on {label}: predicted class {top} (p = {probs[top]:.3f})")
    written, described = 0, {}
    for _name, applies, write in INSPECTORS:
        if not applies(model):
            continue
        kwargs = {"max_channels": args.max_channels} if write is save_feature_maps else {}
        for path in write(model, x, out, **kwargs, captions=described):
            print(path)
            written += 1
    caption_run_figures(args.run_dir, described, label)
    if not written:
        print(f"ember inspect: nothing to show for a {type(model).__name__}", file=sys.stderr)
        return 1
    return 0
