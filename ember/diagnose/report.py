"""The run report: one self-contained HTML file a person opens in a browser.

    write_report(["runs/rnn-adding"])                       -> runs/rnn-adding/report.html
    write_report(["runs/rnn-adding", "runs/lstm-adding"])   -> side by side, curves overlaid

It reads what a run folder holds (see the shared run-folder contract): ``config.json``,
``metrics.jsonl`` (loss and metric curves, learning rate), ``diagnostics.jsonl`` (gradient
and activation health over time, warnings), ``figures/*.png`` (gradient through time, gate
heatmaps, feature maps, attention maps: whatever the recorders saved; a caption comes from
``figures/captions.json`` or the file name) and ``samples.txt``. Every figure is embedded as
a base64 PNG; there is no network access, no external script or style sheet. One inline
script marks any figure that failed to decode, so a broken image is visible (and testable).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from .figures import RUN_COLOURS, depth_colour, line_plot, to_png_bytes
from .report_html import (
    columns,
    figures_html,
    layer_tables,
    page,
    problems_list,
    samples_html,
    summary_table,
)

_NOT_METRICS = {"step", "epoch", "split", "lr", "time", "wall_time", "elapsed", "tokens"}
_MAX_LINES = 10  # per-parameter/per-layer curves in one figure


@dataclass
class Run:
    name: str
    path: Path
    config: dict = field(default_factory=dict)
    metrics: list = field(default_factory=list)
    diagnostics: list = field(default_factory=list)
    figures: list = field(default_factory=list)  # (caption, png bytes)
    samples: str | None = None


def _jsonl(path: Path) -> list[dict]:
    if not path.is_file():
        return []
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line:
            continue
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            continue  # a line cut short by an interrupted run
    return rows


def load_run(path) -> Run:
    """Everything the report shows from one run folder."""
    path = Path(path)
    if not path.is_dir():
        raise FileNotFoundError(f"run folder {path} does not exist (expected runs/<name>/)")
    run = Run(path.name, path)
    if (path / "config.json").is_file():
        run.config = json.loads((path / "config.json").read_text(encoding="utf-8"))
    run.metrics = _jsonl(path / "metrics.jsonl")
    run.diagnostics = _jsonl(path / "diagnostics.jsonl")
    fig_dir = path / "figures"
    captions = {}
    if (fig_dir / "captions.json").is_file():
        captions = json.loads((fig_dir / "captions.json").read_text(encoding="utf-8"))
    for png in sorted(fig_dir.rglob("*.png")) if fig_dir.is_dir() else []:
        rel = png.relative_to(fig_dir).as_posix()  # figures/attention/layer0.png too
        default = rel[: -len(".png")].replace("/", ": ").replace("_", " ").replace("-", " ")
        caption = captions.get(rel) or default
        run.figures.append((caption, png.read_bytes()))
    if (path / "samples.txt").is_file():
        run.samples = (path / "samples.txt").read_text(encoding="utf-8", errors="replace")
    if not (run.metrics or run.diagnostics or run.figures or run.samples):
        raise FileNotFoundError(
            f"{path} holds none of metrics.jsonl, diagnostics.jsonl, figures/*.png, samples.txt:"
            " is it a run folder?"
        )
    return run


# ---------------------------------------------------------------- figures
def _style(i: int, split: str | None = None) -> dict:
    dash = {"train": "-", "val": "--", "test": ":"}.get(split or "train", "-.")
    return {"color": RUN_COLOURS[i % len(RUN_COLOURS)], "ls": dash}


def _curves(runs: list[Run], key: str, splits=("train", "val", "test")) -> dict:
    series = {}
    for i, run in enumerate(runs):
        for split in splits:
            pts = [
                (r["step"], r[key])
                for r in run.metrics
                if r.get("split", "train") == split and isinstance(r.get(key), (int, float))
            ]
            if pts:
                label = f"{run.name} {split}" if len(runs) > 1 else split
                series[label] = ([p[0] for p in pts], [p[1] for p in pts], _style(i, split))
    return series


def _metric_names(runs: list[Run]) -> list[str]:
    names = []
    for run in runs:
        for r in run.metrics:
            for k, v in r.items():
                # "train_loss" on a val line is an epoch aggregate of a curve already drawn
                aggregate = k.startswith(("train_", "val_", "test_"))
                if k not in _NOT_METRICS and k != "loss" and not aggregate and _number(v):
                    if k not in names:
                        names.append(k)
    return names


def _number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _training_figures(runs: list[Run]) -> list[tuple[str, bytes]]:
    out = []
    loss = _curves(runs, "loss")
    if loss:
        values = [v for s in loss.values() for v in s[1]]
        logy = min(values) > 0 and max(values) > 20 * min(values)
        fig = line_plot(loss, "Loss (solid: train, dashed: validation)", "step", "loss", logy=logy)
        out.append(("Loss against training step", to_png_bytes(fig)))
    for name in _metric_names(runs):
        series = _curves(runs, name)
        fig = line_plot(series, name.replace("_", " ").capitalize(), "step", name)
        out.append((f"{name} against training step", to_png_bytes(fig)))
    lr = _curves(runs, "lr", ("train",))
    if lr:
        fig = line_plot(lr, "Learning rate", "step", "learning rate", height=2.8)
        out.append(("Learning rate schedule", to_png_bytes(fig)))
    return out


def _pick(names: list[str]) -> list[str]:
    """At most _MAX_LINES names, evenly spread from first to last layer."""
    if len(names) <= _MAX_LINES:
        return names
    step = (len(names) - 1) / (_MAX_LINES - 1)
    return [names[round(k * step)] for k in range(_MAX_LINES)]


def _over_time(records, field_of, title, ylabel, logy, reference=None, ref_label=None):
    """One curve per parameter/layer from a list of (step, {name: value})."""
    names = []
    for _, values in records:
        for n in values:
            if n not in names:
                names.append(n)
    series = {}
    for k, n in enumerate(_pick(names)):
        pts = [(s, field_of(v[n])) for s, v in records if n in v and field_of(v[n]) is not None]
        if pts:
            colour = depth_colour(k, min(len(names), _MAX_LINES))
            series[n] = ([p[0] for p in pts], [p[1] for p in pts], {"color": colour})
    drawable = [v for sr in series.values() for v in sr[1] if v > 0 or not logy]
    if not drawable:
        return None  # nothing to draw (e.g. all zero on a log scale): the caller says so
    fig = line_plot(
        series, title, "step", ylabel, logy=logy, reference=reference, reference_label=ref_label
    )
    return to_png_bytes(fig)


def _gradient_figures(run: Run) -> list[tuple[str, bytes]]:
    recs = [r for r in run.diagnostics if r.get("kind") == "gradients"]
    if not recs:
        return []
    weights = [
        (r["step"], {n: p for n, p in r["params"].items() if len(p.get("shape", [0, 0])) >= 2})
        for r in recs
    ]
    out = []
    png = _over_time(
        weights,
        lambda p: p.get("grad_rms") or p.get("grad_norm"),
        "Gradient per element (RMS) of each weight, first layer dark",
        "‖g‖ / √n",
        True,
    )
    out.append(
        (f"{run.name}: gradient size per layer over training", png)
        if png
        else (
            f"{run.name}: every weight gradient is exactly zero at every recorded step:"
            " nothing reaches the weights (see the problems above)",
            None,
        )
    )
    png = _over_time(
        weights,
        lambda p: p.get("update_ratio"),
        "Update-to-weight ratio ‖ΔW‖/‖W‖ per step",
        "‖ΔW‖/‖W‖",
        True,
        1e-3,
        "1e-3 (healthy)",
    )
    out.append(
        (f"{run.name}: optimizer step against weight size", png)
        if png
        else (f"{run.name}: the optimizer never changed a weight at a recorded step", None)
    )
    return out


def _activation_figures(run: Run) -> list[tuple[str, bytes]]:
    recs = [r for r in run.diagnostics if r.get("kind") == "activations"]
    if not recs:
        return []
    layers = [(r["step"], {x["name"]: x for x in r["layers"]}) for r in recs]
    out = []
    for fld, title, ylabel in (
        ("dead_fraction", "Dead ReLU units per layer (never fire on the batch)", "fraction dead"),
        ("saturated_fraction", "Saturated σ/tanh units per layer", "fraction saturated"),
    ):
        if any(x.get(fld) is not None for _, v in layers for x in v.values()):
            sub = [(s, {n: x for n, x in v.items() if x.get(fld) is not None}) for s, v in layers]
            png = _over_time(sub, lambda x, f=fld: x.get(f), title, ylabel, False)
            if png:
                out.append((f"{run.name}: {title.lower()}", png))
    png = _over_time(
        layers,
        lambda x: x.get("signal") or None,
        "Signal per layer: spread of each unit across the batch",
        "mean std",
        True,
    )
    if png:
        out.append((f"{run.name}: signal propagation over training", png))
    return out


def render_report(runs: list[Run], title: str | None = None) -> str:
    """The report's HTML for one run, or several side by side."""
    if not runs:
        raise ValueError("render_report needs at least one run")
    title = title or (
        f"ember run report: {runs[0].name}"
        if len(runs) == 1
        else "ember run comparison: " + " vs ".join(r.name for r in runs)
    )
    sections = [
        ("Runs", columns(runs, summary_table)),
        ("Problems found", columns(runs, problems_list)),
        ("Training curves", figures_html(_training_figures(runs))),
        (
            "Gradient health over training",
            columns(runs, lambda r: figures_html(_gradient_figures(r))),
        ),
        (
            "Activation health over training",
            columns(runs, lambda r: layer_tables(r) + figures_html(_activation_figures(r))),
        ),
    ]
    if any(r.figures for r in runs):
        sections.append(("Recorded figures", columns(runs, lambda r: figures_html(r.figures))))
    if any(r.samples is not None for r in runs):
        sections.append(("Generated samples", columns(runs, samples_html)))
    return page(title, sections)


def problem_lines(run: Run) -> list[str]:
    """One line per problem in the run's latest gradient and activation records."""
    lines = []
    for kind in ("activations", "gradients"):
        recs = [r for r in run.diagnostics if r.get("kind") == kind]
        for p in recs[-1].get("problems", []) if recs else []:
            lines.append(f"{p['layer']} ({p['kind']}, step {recs[-1].get('step')}): {p['message']}")
    return lines


def write_report(run_dirs, output=None, title: str | None = None) -> Path:
    """Write the report of one run (or a comparison of several) and return its path.

    Default output: ``<run>/report.html`` for one run, ``<first run>/compare-<names>.html``
    for several.
    """
    run_dirs = [run_dirs] if isinstance(run_dirs, (str, Path)) else list(run_dirs)
    runs = [load_run(p) for p in run_dirs]
    if output is None:
        first = runs[0].path
        output = (
            first / "report.html"
            if len(runs) == 1
            else first / ("compare-" + "-".join(r.name for r in runs[1:]) + ".html")
        )
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(render_report(runs, title), encoding="utf-8")
    return output
