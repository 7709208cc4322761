"""``ember train``'s options: ``-o KEY=VALUE``, and what ``--resume RUN`` may change.

A resumed run continues the computation it saved: the same model, data, batches, optimizer
and random streams, so that N steps in two halves equal N steps straight. An option that would
change that computation (``--lr``, ``--batch-size``, ``-o hidden=…``) and disagrees with the
run's config.json is an error that names both values, rather than being silently replaced by
the saved one. Options about how long and where it runs and what it prints may change.

Data-parallel runs: ``ember train … --nproc-per-node N`` re-runs the same command under
``python -m ember.distributed.run --nproc-per-node N --standalone -m ember``, in this process
(it becomes the launcher: one process tree, the job's exit code). The ranks see RANK and
WORLD_SIZE and join the process group themselves (``launched_group``).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

#: Options a resumed run may change: its length, where it runs and reads its files from, when
#: it stops early, and what it prints or samples. Every other option must agree with the run.
FREE_ON_RESUME = frozenset(
    {
        "command", "resume", "epochs", "steps", "patience", "device", "data_root",
        "no_progress", "eval_every", "time_limit", "sample_tokens", "temperature", "top_k",
        # how many processes share the work: a resume may change it at an epoch's end
        "nproc_per_node",
        # the classifier compares it after resolving sizes (crop -> crop:1): cli/train.py
        "augment",
    }
)  # fmt: skip

_UNSET = object()


def parse_option(text: str) -> tuple[str, object]:
    """``key=value`` with value read as JSON, a comma list of numbers, or a string."""
    if "=" not in text:
        raise ValueError(f"model option {text!r} must look like KEY=VALUE")
    key, raw = text.split("=", 1)
    key = key.strip().replace("-", "_")
    try:
        return key, json.loads(raw)
    except json.JSONDecodeError:
        pass
    if "," in raw:
        return key, [parse_option(f"x={part}")[1] for part in raw.split(",") if part]
    return key, raw


def read_run_config(run_dir: Path) -> dict:
    """A run folder's config.json; exits with a message when RUN is not a run folder."""
    path = run_dir / "config.json"
    if not path.is_file():
        raise SystemExit(f"ember train: --resume {run_dir}: no config.json there (not a run?)")
    return json.loads(path.read_text(encoding="utf-8"))


def explicit_options(argv: list[str] | None, add_parser) -> dict:
    """dest -> value of each option written in ``argv`` (``["train", ...]``), defaults left out.

    ``add_parser`` is the subcommand's own ``add_parser``: argv is parsed again by a fresh copy
    whose every default is a marker, so an option typed with its default value still counts
    as given. Empty when argv is unknown (``run`` called without ``main``).
    """
    if argv is None:
        return {}
    parser = argparse.ArgumentParser(prog="ember")
    sub = add_parser(parser.add_subparsers(dest="command"))
    dests = vars(parser.parse_args(argv))
    # an append action's default must stay a list-like or None: None means not given
    sub.set_defaults(**{d: None if d == "option" else _UNSET for d in dests if d != "command"})
    parsed = vars(parser.parse_args(argv))
    return {k: v for k, v in parsed.items() if v is not _UNSET and v is not None}


def _same(given, saved, key: str) -> bool:
    if key == "data":
        return str(given).lower() == str(saved).lower()
    if key in ("text", "run_dir"):
        return Path(given).resolve() == Path(saved).resolve()
    # through JSON as config.json holds it: tuples become lists, ints stay ints
    return json.loads(json.dumps(given)) == saved


def _flag(key: str) -> str:
    return "--" + key.replace("_", "-")


def resume_conflicts(given: dict, config: dict, run_dir: Path, parse_option) -> list[str]:
    """One message per explicit option that disagrees with the resumed run's config.json.

    ``parse_option(text) -> (key, value)`` reads a ``-o KEY=VALUE`` as the trainer does.
    A key the config does not hold (a run from before that option existed) is not compared.
    """
    wrong = []
    saved_options = config.get("options") or {}
    for key, value in given.items():
        if key in FREE_ON_RESUME:
            continue
        if key == "run_dir":
            if not _same(value, run_dir, key):
                wrong.append(f"--run-dir {value}: a resumed run stays in its folder {run_dir}")
            continue
        if key == "option":
            for text in value:
                name, parsed = parse_option(text)
                if name not in saved_options:
                    wrong.append(f"-o {text}: the run in {run_dir} was built without -o {name}")
                elif not _same(parsed, saved_options[name], name):
                    was = json.dumps(saved_options[name])
                    wrong.append(f"-o {text}: the run in {run_dir} was built with {name}={was}")
            continue
        if key == "text" and "text" not in config and config.get("task") == "language":
            data = config.get("data")
            wrong.append(f"--text {value}: the run in {run_dir} was trained on --data {data}")
        elif key == "model" and value != config.get("model"):
            wrong.append(f"{value}: the run in {run_dir} trains {config.get('model')}")
        elif key != "model" and key in config and not _same(value, config[key], key):
            wrong.append(
                f"{_flag(key)} {value}: the run in {run_dir} was trained with "
                f"{_flag(key)} {config[key]}"
            )
    return wrong


def report_conflicts(wrong: list[str], stream) -> int:
    """Print the conflicts and the way out; 2 (the exit status) if there were any, else 0."""
    for message in wrong:
        print(f"ember train: {message}", file=stream)
    if wrong:
        print(
            "ember train: a resumed run keeps the settings it was started with (it continues "
            "the same computation); start a new run to change them",
            file=stream,
        )
    return 2 if wrong else 0


# ------------------------------------------------------------ runs in other processes
def relaunch_on_gpu(argv: list) -> int:
    """Run this same command in a new process on the GPU (EMBER_DEVICE=cuda): ember picks its
    device at import. A RuntimeError saying why, when CuPy or a GPU is missing."""
    from ember import backend

    why = backend.cuda_unavailable_reason()
    if why:
        raise RuntimeError(why)
    env = dict(os.environ, EMBER_DEVICE="cuda")
    return subprocess.run([sys.executable, "-m", "ember", *argv], env=env).returncode


def launched_world() -> int:
    """WORLD_SIZE when started by a launcher (ember.distributed.run, torchrun), else 1."""
    if "RANK" not in os.environ:
        return 1
    return int(os.environ.get("WORLD_SIZE", "1"))


def start_data_parallel(args: argparse.Namespace, task: str) -> int | None:
    """``--nproc-per-node N``: the exit code of the job run through the launcher (or 2 after
    saying why it cannot run so); None when this process trains (alone, or as one rank)."""
    nproc, world = getattr(args, "nproc_per_node", None), launched_world()
    refused = _data_parallel_refusal(task, nproc, world)
    if refused:
        print(f"ember train: {refused}", file=sys.stderr)
        return 2
    if nproc is None or nproc == 1:
        return None
    argv = getattr(args, "argv", None)
    if argv is None:
        print(
            "ember train: --nproc-per-node needs the command line (ember.cli.main)", file=sys.stderr
        )
        return 2
    from ember.distributed.run import main as launch

    rest = without_option(list(argv), "--nproc-per-node")
    return launch(["--nproc-per-node", str(nproc), "--standalone", "-m", "ember", *rest])


def _data_parallel_refusal(task: str, nproc: int | None, world: int) -> str:
    """Why this run cannot be data-parallel as asked ("" when it can)."""
    if nproc is not None and nproc < 1:
        return f"--nproc-per-node {nproc}: expected a number of processes, 1 or more"
    if nproc is not None and world > 1:
        return (
            f"--nproc-per-node {nproc}: this process is already one of {world} started by a "
            "launcher (WORLD_SIZE); give the number of processes to one or the other"
        )
    if task == "language" and max(world, nproc or 1) > 1:
        return (
            "data-parallel training (--nproc-per-node, or a launcher's WORLD_SIZE > 1) is "
            "supported for the classification models; language models (truncated BPTT over "
            "one text stream) train on one process: run it without the launcher"
        )
    return ""


@contextlib.contextmanager
def launched_group():
    """Inside: this process has joined the launcher's process group (env://), if it was
    started by one; it leaves the group on the way out, error or not, so that the other ranks
    learn at once that it is gone instead of waiting for it."""
    from ember import distributed as dist

    join = "RANK" in os.environ and "WORLD_SIZE" in os.environ and not dist.is_initialized()
    if join:
        dist.init_process_group("gloo")
    try:
        yield
    finally:
        if join:
            dist.destroy_process_group()


def without_option(argv: list[str], flag: str) -> list[str]:
    """``argv`` without ``flag VALUE`` or ``flag=VALUE``, ``flag`` abbreviated as argparse
    allows too (``--nproc 2``)."""
    out, skip = [], False
    for a in argv:
        key = a.split("=", 1)[0]
        if skip:
            skip = False
        elif key.startswith("--") and len(key) > 3 and flag.startswith(key):
            skip = "=" not in a
        else:
            out.append(a)
    return out


def quiet(*args, **kwargs) -> None:
    """``print`` on the ranks other than 0: the job's output comes once."""


def agreed_time(world: int) -> float:
    """Now, as rank 0 sees it: the default run folder's name must be the same on all ranks."""
    now = [time.time()]
    if world > 1:
        import numpy

        from ember import distributed as dist

        now = numpy.asarray(now)
        dist.broadcast(now, 0)
    return float(now[0])
