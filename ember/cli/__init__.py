"""The ``ember`` command. Each subcommand lives in its own module of this package with
``add_parser(subparsers)`` and ``run(args) -> int``; ``main`` wires them together."""

from __future__ import annotations

import argparse
import importlib
import sys

#: subcommand name -> module in ember.cli
COMMANDS = {
    "train": "train",
    "generate": "generate",
    "inspect": "inspect",
    "report": "report",
    "embed": "embed",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ember", description="ember: train, inspect and sample neural networks on NumPy."
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in COMMANDS.values():
        try:
            mod = importlib.import_module(f"ember.cli.{module}")
        except ModuleNotFoundError as e:
            if e.name != f"ember.cli.{module}":
                raise
            continue  # subcommand not built yet
        mod.add_parser(sub)
    return parser


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv:
        argv = ["train"]  # the main job: train the default model
    parser = build_parser()
    args = parser.parse_args(argv)
    args.argv = argv  # what a relaunch on another device repeats (ember train --device cuda)
    if args.command is None:
        parser.print_help()
        return 2
    return int(args.run(args) or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
