"""ember report RUN [RUN ...]: one self-contained HTML report of a run, or several compared.

ember report runs/charlstm-20261125-041500
ember report runs/rnn-adding runs/lstm-adding -o rnn-vs-lstm.html
"""

from __future__ import annotations

import argparse


def add_parser(subparsers) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "report",
        help="write an HTML report of a run folder (or compare several side by side)",
        description="Write one self-contained HTML file (figures embedded, no network) with the"
        " loss and metric curves, learning rate, gradient and activation health over training,"
        " recorded figures and generated samples of a run; with several runs, side by side.",
    )
    parser.add_argument("runs", nargs="+", metavar="RUN", help="run folder(s), e.g. runs/NAME")
    parser.add_argument(
        "-o",
        "--output",
        default=None,
        help="where to write the HTML (default: RUN/report.html, or RUN/compare-OTHERS.html)",
    )
    parser.add_argument("--title", default=None, help="the report's title")
    parser.set_defaults(run=run)
    return parser


def run(args) -> int:
    # matplotlib loads only for this command, not for every ``ember`` call
    from ..diagnose.report import load_run, problem_lines, write_report

    try:
        path = write_report(args.runs, args.output, args.title)
    except FileNotFoundError as e:
        print(f"ember report: {e}")
        return 1
    for run_dir in args.runs:
        lines = problem_lines(load_run(run_dir))
        print(f"{run_dir}: " + (f"{len(lines)} problem(s)" if lines else "no problems found"))
        for line in lines:
            print(f"  ✗ {line}")
    print(f"wrote {path}")
    return 0
