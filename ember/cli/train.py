"""``ember train MODEL --data NAME``: train a registered model and save the run folder.

Classification models (``task="classification"``) train here on a dataset from ember.data;
language models (``task="language"``, the default ``charlstm``) are handed to
``ember.train.language.train_language_model(args)``.
Classification models also train data-parallel (torchrun + DDP): ``python -m
ember.distributed.run --nproc-per-node 2 -m ember train lenet --data digits``, or ``ember train
lenet --data digits --nproc-per-node 2``; train_options.py and ember.train say how.
"""

from __future__ import annotations

import argparse
import datetime
import inspect
import json
import math
import sys
import time
from pathlib import Path

import ember
from ember import backend, optim
from ember import distributed as dist
from ember.backend import Generator
from ember.data import CLASSIFICATION_DATASETS, DataLoader, load_dataset, random_split
from ember.data.distributed_sampler import DistributedSampler
from ember.models import MODELS, get_model
from ember.serialization import atomic_write_text
from ember.train import Trainer
from ember.train.augment import fill_text, parse_augment, resolve_augment, run_augment
from ember.train.language_config import parse_language_option

from .train_figures import draw_feature_maps, draw_language_figures
from .train_options import (
    agreed_time,
    explicit_options,
    launched_group,
    parse_option,
    quiet,
    read_run_config,
    relaunch_on_gpu,
    report_conflicts,
    resume_conflicts,
    start_data_parallel,
)

DEFAULT_MODEL = "charlstm"
DEFAULT_CLASSIFICATION_DATA = "mnist"
# Per dataset: epochs, batch size and Adam learning rate that train an MLP well in minutes.
DATA_DEFAULTS = {
    "digits": {"epochs": 30, "batch_size": 32, "lr": 3e-3},
    "mnist": {"epochs": 10, "batch_size": 128, "lr": 1e-3},
    "fashion-mnist": {"epochs": 10, "batch_size": 128, "lr": 1e-3},
    "mnist1d": {"epochs": 100, "batch_size": 100, "lr": 1e-3},
    "cifar10": {"epochs": 30, "batch_size": 128, "lr": 1e-3},
}
OPTIMIZERS = {"adam": optim.Adam, "adamw": optim.AdamW, "sgd": optim.SGD, "rmsprop": optim.RMSprop}
# Hyper-parameters that config.json keeps and --resume restores.
_CONFIG_KEYS = (
    "data", "data_root", "epochs", "steps", "batch_size", "lr", "optimizer", "weight_decay",
    "momentum", "clip_grad_norm", "patience", "val_fraction", "seed", "device", "lr_schedule",
    "augment",
)  # fmt: skip


def add_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "train",
        help="train a model and save the run (default: the character-level LSTM)",
        description=(
            "Train a registered model. Classification models train on --data (digits, mnist, "
            "fashion-mnist, mnist1d, cifar10); language models (the default, charlstm) on a text "
            "corpus. The run folder gets config.json, metrics.jsonl and checkpoints; --resume RUN "
            "continues one exactly."
        ),
    )
    p.add_argument(
        "model",
        nargs="?",
        default=DEFAULT_MODEL,
        help=f"model name from the registry (default {DEFAULT_MODEL}); known: "
        + (", ".join(sorted(MODELS)) or "none"),
    )
    p.add_argument(
        "--data",
        default=None,
        help=f"dataset: {', '.join(CLASSIFICATION_DATASETS)} for classification "
        f"(default {DEFAULT_CLASSIFICATION_DATA}); pydoc or tinyshakespeare for language models",
    )
    p.add_argument("--data-root", default=None, help="folder holding a local copy of the files")
    p.add_argument("--text", default=None, help="language models: train on this UTF-8 text file")
    length = p.add_mutually_exclusive_group()
    length.add_argument("--epochs", type=int, default=None, help="epochs (total, with --resume)")
    length.add_argument("--steps", type=int, default=None, help="optimizer steps instead of epochs")
    p.add_argument("--batch-size", type=int, default=None,
                   help="batch size (per-data default); per process if data-parallel")  # fmt: skip
    p.add_argument("--lr", type=float, default=None, help="learning rate (per-data default)")
    p.add_argument("--optimizer", choices=sorted(OPTIMIZERS), default="adam", help="default adam")
    p.add_argument(
        "--lr-schedule",
        choices=["constant", "cosine"],
        default="constant",
        help="constant, or cosine: annealed to 0 over the run, per step (default constant)",
    )
    p.add_argument("--weight-decay", type=float, default=0.0, help="default 0")
    p.add_argument("--momentum", type=float, default=0.9, help="SGD momentum (default 0.9)")
    p.add_argument("--clip-grad-norm", type=float, default=None, help="max gradient 2-norm")
    p.add_argument("--patience", type=int, default=None, help="early-stopping patience (epochs)")
    p.add_argument(
        "--val-fraction", type=float, default=0.1, help="training data held out (default 0.1)"
    )
    p.add_argument(
        "--augment",
        metavar="SPEC",
        default=None,
        help="training batches only: a comma list of crop[:P] (random crop after padding by P "
        "pixels; default 2 for 28×28, 4 for cifar10), hflip (random horizontal flip), "
        "shift[:P] (MNIST-1D: random circular shift by up to P), or none (default); e.g. "
        "--augment crop:4,hflip",
    )
    p.add_argument("--seed", type=int, default=0,
                   help="seeds init, dropout, shuffles, augmentation (default 0)")  # fmt: skip
    p.add_argument("--run-dir", default=None, help="run folder (default runs/MODEL-TIMESTAMP)")
    p.add_argument("--resume", metavar="RUN", default=None, help="continue the run in RUN")
    p.add_argument("--device", default=None,
                   help="where to train: cpu or cuda (default: the process's device, cpu unless"
                   " EMBER_DEVICE=cuda)")  # fmt: skip
    p.add_argument(
        "-o",
        "--option",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="model option, e.g. -o hidden_sizes=512,256 -o dropout=0.1 (repeatable)",
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.add_argument("--nproc-per-node", type=int, default=None, metavar="N",
                   help="classification: train data-parallel on N processes here (python -m "
                   "ember.distributed.run; --batch-size is per process)")  # fmt: skip
    _add_language_arguments(p)
    p.set_defaults(run=run)
    return p


def _add_language_arguments(parser: argparse.ArgumentParser) -> None:
    """The language trainer's own options (--bptt, --eval-every, …), where it is installed."""
    try:
        from ember.train.language import language_arguments
    except ModuleNotFoundError as e:
        if e.name != "ember.train.language":
            raise
        return  # built without the language trainer: classification only
    language_arguments(parser)


def run(args: argparse.Namespace) -> int:
    config = None
    if args.resume is not None:
        config = read_run_config(Path(args.resume))
        given = explicit_options(getattr(args, "argv", None), add_parser)
        parse = parse_language_option if config.get("task") == "language" else parse_option
        wrong = resume_conflicts(given, config, Path(args.resume), parse)
        if report_conflicts(wrong, sys.stderr):
            return 2
        args.explicit = set(given)
        args.model = config["model"]
        args.run_dir = args.resume
    try:
        spec = get_model(args.model)
    except KeyError as e:
        print(f"ember train: {e.args[0]}", file=sys.stderr)
        return 2
    launched = start_data_parallel(args, spec["task"])  # --nproc-per-node N: the job's code
    if launched is not None:
        return launched
    if args.device is None:
        args.device = backend.DEVICE_TYPE
    try:  # before any data is read or model built, for classifiers and language models alike
        wanted = backend.device(str(args.device)).type
        if wanted == "cuda" and not backend.ON_GPU and getattr(args, "argv", None) is not None:
            return relaunch_on_gpu(args.argv)  # one device per process: a fresh one for CUDA
        backend.check_device(args.device)
    except (RuntimeError, ValueError) as e:
        print(f"ember train: --device {args.device}: {e}", file=sys.stderr)
        return 2
    if spec["task"] == "language":
        from ember.train.language import train_language_model

        return int(train_language_model(args, on_finish=draw_language_figures) or 0)
    try:
        with launched_group():  # under a launcher: one rank of the job
            return train_classifier(args, spec, config)
    except (ValueError, FileNotFoundError, OSError) as e:
        print(f"ember train: {e}", file=sys.stderr)
        return 2


def _resolve(args: argparse.Namespace, config: dict | None) -> dict:
    """The run's hyper-parameters: a resumed run's config, else the arguments and defaults."""
    if config is not None:
        hp = {k: config.get(k) for k in _CONFIG_KEYS}
        if args.epochs is not None or args.steps is not None:  # a new target length
            hp["epochs"], hp["steps"] = args.epochs, args.steps
        hp["augment"] = hp["augment"] or "none"  # a run from before --augment
        for key in ("patience", "device", "data_root"):  # may change (resume_options.py)
            if key in getattr(args, "explicit", ()):
                hp[key] = getattr(args, key)
        return hp
    hp = {k: getattr(args, k) for k in _CONFIG_KEYS}
    parse_augment(hp["augment"])  # a mistyped spec is an error before any data is read
    hp["data"] = (hp["data"] or DEFAULT_CLASSIFICATION_DATA).lower()
    defaults = DATA_DEFAULTS.get(hp["data"], DATA_DEFAULTS["mnist"])
    if hp["epochs"] is None and hp["steps"] is None:
        hp["epochs"] = defaults["epochs"]
    hp["batch_size"] = hp["batch_size"] or defaults["batch_size"]
    if hp["lr"] is None:
        hp["lr"] = 0.05 if hp["optimizer"] == "sgd" else defaults["lr"]
    return hp


def _augment_spec(args, hp: dict, data, resumed: bool) -> str:
    """The run's augmentation with its sizes filled in (what config.json records). A resumed
    run keeps its own; an --augment that says otherwise is an error, not silently dropped."""
    spec = resolve_augment(hp["augment"], data.input_shape, data.name)
    given = getattr(args, "augment", None)
    if resumed and given is not None:
        if resolve_augment(given, data.input_shape, data.name) != spec:
            raise ValueError(
                f"--augment {given}: the run in {args.run_dir} was trained with --augment "
                f"{spec}, and a resumed run keeps it; start a new run to change it"
            )
    return spec


def _build_model(builder, data, options: dict):
    """Call the builder with the dataset facts it asks for (in_features, num_classes, …)."""
    facts = {
        "in_features": data.in_features,
        "num_classes": data.num_classes,
        "input_shape": tuple(data.input_shape),
        "in_channels": data.input_shape[0] if len(data.input_shape) == 3 else 1,
    }
    params = inspect.signature(builder).parameters
    taken = {k: v for k, v in facts.items() if k in params and k not in options}
    return builder(**taken, **options), {**taken, **options}


def _optimizer(hp: dict, params):
    cls = OPTIMIZERS[hp["optimizer"]]
    kwargs = {"lr": hp["lr"], "weight_decay": hp["weight_decay"]}
    if hp["optimizer"] == "sgd":
        kwargs["momentum"] = hp["momentum"]
    return cls(params, **kwargs)


def _scheduler(name: str | None, optimizer, total_steps: int):
    if name in (None, "constant"):
        return None
    # ηₜ = η₀ · (1 + cos(π·t / T)) / 2 over the T steps of the run
    from ember.optim.lr_scheduler import CosineAnnealingLR

    return CosineAnnealingLR(optimizer, T_max=total_steps)


def train_classifier(args: argparse.Namespace, spec: dict, config: dict | None) -> int:
    hp = _resolve(args, config)
    options = dict(config["options"]) if config else dict(parse_option(o) for o in args.option)
    rank, world = (dist.get_rank(), dist.get_world_size()) if dist.is_initialized() else (0, 1)
    say = print if rank == 0 else quiet  # only rank 0 prints (and writes the run folder)
    ember.manual_seed(hp["seed"])
    data = load_dataset(hp["data"], root=hp["data_root"])
    hp["augment"] = _augment_spec(args, hp, data, resumed=config is not None)
    augment, warned = run_augment(hp["augment"], data, hp["seed"] + rank)  # per rank: own crops
    for message in warned:
        say(f"ember train: warning: {message}", file=sys.stderr)
    model, options = _build_model(spec["builder"], data, options)
    if world > 1:  # dropout draws of their own per rank; DDP starts all from rank 0's weights
        ember.manual_seed(hp["seed"] + rank)
    try:
        model.to(hp["device"])
    except (RuntimeError, ValueError) as e:  # a resumed run's device this machine lacks
        raise ValueError(f"--device {hp['device']}: {e}") from e
    train_set, val_set = data.train, None
    if hp["val_fraction"]:
        f = hp["val_fraction"]
        train_set, val_set = random_split(
            data.train, [1 - f, f], generator=Generator().manual_seed(hp["seed"])
        )
    # data-parallel: this rank's share of each epoch, one permutation (seed + epoch) for all
    shard = DistributedSampler(train_set, world, rank, seed=hp["seed"]) if world > 1 else None
    loader = DataLoader(train_set, batch_size=hp["batch_size"], shuffle=shard is None,
                        sampler=shard, seed=hp["seed"])  # fmt: skip
    evaluation = {"batch_size": 1024}
    val_loader = DataLoader(val_set, **evaluation) if val_set is not None else None
    test_loader = DataLoader(data.test, **evaluation)

    stamp = datetime.datetime.fromtimestamp(agreed_time(world)).strftime("%Y%m%d-%H%M%S")
    run_dir = Path(args.run_dir or Path("runs") / f"{args.model}-{stamp}")
    if config is None:
        config = {"model": args.model, "task": spec["task"], "options": options, **hp}
        config["ember_version"] = ember.__version__
        if world > 1:  # batch_size is per process: a step saw world × batch_size samples
            config["world_size"] = world
        if rank == 0:
            run_dir.mkdir(parents=True, exist_ok=True)
            atomic_write_text(run_dir / "config.json", json.dumps(config, indent=2) + "\n")
    elif rank == 0 and (hp["epochs"] != config.get("epochs") or hp["steps"] != config.get("steps")):
        atomic_write_text(run_dir / "config.json", json.dumps({**config, **hp}, indent=2) + "\n")

    optimizer = _optimizer(hp, model.parameters())
    epochs = hp["epochs"] if hp["epochs"] is not None else math.ceil(hp["steps"] / len(loader))
    trainer = Trainer(
        model,
        optimizer,
        scheduler=_scheduler(hp.get("lr_schedule"), optimizer, hp["steps"] or epochs * len(loader)),
        scheduler_interval="step",
        clip_grad_norm=hp["clip_grad_norm"],
        early_stopping=hp["patience"],
        run_dir=run_dir,
        progress=not args.no_progress,
        augment=augment,
    )
    shown = f"; augment {hp['augment']}" if augment else ""
    if augment and "crop" in hp["augment"]:
        shown += f" (crops pad with {fill_text(augment.fill)}, the inputs' black)"
    if world > 1:
        shown += f"; data-parallel on {world} processes, batch {hp['batch_size']} per process"
    say(
        f"training {args.model} ({model.num_parameters():,} parameters) on {data.name}: "
        f"{len(train_set)} train / {len(val_set) if val_set else 0} val / {len(data.test)} test"
        + shown,
        file=sys.stderr,
    )
    start = time.perf_counter()
    try:
        history = trainer.fit(
            loader, val_loader, epochs, max_steps=hp["steps"], test_loader=test_loader,
            resume=run_dir if args.resume else None,
        )  # fmt: skip
    except KeyboardInterrupt:
        # no checkpoint now: the interrupt may have struck inside an optimizer step
        where = f"{trainer.last_checkpoint} (step {trainer._ckpt_step})"
        kept = where if trainer.last_checkpoint else "no checkpoint yet"
        say(f"\ninterrupted at step {trainer.step}; last checkpoint: {kept}")
        say(f"continue with: ember train --resume {run_dir}")
        return 130
    seconds = time.perf_counter() - start
    test = history.last("test")
    if test is not None:
        say(
            f"test accuracy {100 * test['accuracy']:.2f}% (loss {test['loss']:.4f}) after "
            f"{trainer.epochs_done} epochs, {trainer.step} steps, {seconds:.1f} s"
        )
    if history.stop_reason:
        say(f"stopped: {history.stop_reason}")
    if not trainer.diverged and rank == 0:
        draw_feature_maps(model, data.test, run_dir)
    say(f"run saved to {run_dir}")
    say(f"next: ember inspect {run_dir} --index 0   ember report {run_dir}")
    return 1 if trainer.diverged else 0
