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

import base64
import html
import json
from dataclasses import dataclass, field
from pathlib import Path

from .figures import RUN_COLOURS, depth_colour, line_plot, to_png_bytes

_NOT_METRICS = {"step", "epoch", "split", "lr", "time", "wall_time", "elapsed", "tokens"}
_MAX_LINES = 10  # per-parameter/per-layer curves in one figure
_MAX_SAMPLES = 6000  # characters of samples.txt shown


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
    for png in sorted(fig_dir.glob("*.png")) if fig_dir.is_dir() else []:
        caption = captions.get(png.name) or png.stem.replace("_", " ").replace("-", " ")
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
def _img(png: bytes, alt: str) -> str:
    data = base64.b64encode(png).decode("ascii")
    return f'<img src="data:image/png;base64,{data}" alt="{html.escape(alt)}">'


def _figure(png: bytes, caption: str) -> str:
    return f"<figure>{_img(png, caption)}<figcaption>{html.escape(caption)}</figcaption></figure>"


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
                if k not in _NOT_METRICS and k != "loss" and isinstance(v, (int, float)):
                    if k not in names:
                        names.append(k)
    return names


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


# ---------------------------------------------------------------- html pieces
def _problems(run: Run) -> str:
    """The problems of the first (initialisation) and the latest health records, named; a
    problem found in both is listed once, with both times."""
    items = []
    for kind in ("activations", "gradients"):
        recs = [r for r in run.diagnostics if r.get("kind") == kind]
        found: dict = {}  # (layer, kind) -> (problem, [when, ...])
        for r in {id(r): r for r in (recs[:1] + recs[-1:])}.values():
            when = "at initialisation" if r is recs[0] and r.get("at_init") else f"step {r['step']}"
            for p in r.get("problems", []):
                found.setdefault((p["layer"], p["kind"]), (p, []))[1].append(when)
        for p, whens in found.values():
            items.append(
                f'<li class="problem {html.escape(p["kind"])}"><b>{html.escape(p["layer"])}'
                f"</b> ({html.escape(p['kind'])}, {kind}, {' and '.join(whens)}):"
                f" {html.escape(p['message'])}"
                f'<br><span class="fix">fix: {html.escape(p["fix"])}</span></li>'
            )
    for r in run.diagnostics:
        if r.get("kind") == "warning":
            items.append(
                f'<li class="problem warning">step {r["step"]}: '
                f"{html.escape(r.get('message', ''))}</li>"
            )
    if not items:
        has = any(r.get("kind") in ("activations", "gradients") for r in run.diagnostics)
        text = "No problems found." if has else "No diagnostics recorded for this run."
        return f'<p class="ok">{text}</p>'
    return '<ul class="problems">' + "".join(items) + "</ul>"


def _summary(run: Run) -> str:
    rows = []
    for k, v in run.config.items():
        if isinstance(v, (str, int, float, bool)) or v is None:
            rows.append((k, v))
        elif isinstance(v, dict):
            rows += [(f"{k}.{k2}", v2) for k2, v2 in v.items() if not isinstance(v2, (dict, list))]
    last = {}
    for r in run.metrics:
        for k, v in r.items():
            if k not in ("step", "epoch", "split") and isinstance(v, (int, float)):
                last[f"final {r.get('split', 'train')} {k}"] = v
    if run.metrics:
        last["trained steps"] = max(r.get("step", 0) for r in run.metrics)
    rows += sorted(last.items())
    body = "".join(
        f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(_fmt(v))}</td></tr>" for k, v in rows
    )
    return f'<table class="summary">{body}</table>' if body else "<p>No configuration.</p>"


def _fmt(v) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


def _columns(runs: list[Run], render) -> str:
    """One column per run (side by side when comparing)."""
    cols = "".join(
        f'<div class="col"><h3>{html.escape(run.name)}</h3>{render(run)}</div>' for run in runs
    )
    return f'<div class="cols n{len(runs)}">{cols}</div>'


def _figs(figs) -> str:
    """Figures, or a note where a figure has nothing to draw (png None)."""
    parts = [
        _figure(png, cap) if png is not None else f'<p class="note">{html.escape(cap)}</p>'
        for cap, png in figs
    ]
    return "".join(parts) or "<p>Nothing recorded.</p>"


def _samples(run: Run) -> str:
    if run.samples is None:
        return "<p>No samples.txt in this run.</p>"
    text = run.samples[:_MAX_SAMPLES] + ("\n…" if len(run.samples) > _MAX_SAMPLES else "")
    return f'<pre class="samples">{html.escape(text)}</pre>'


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
        ("Runs", _columns(runs, _summary)),
        ("Problems found", _columns(runs, _problems)),
        ("Training curves", _figs(_training_figures(runs))),
        ("Gradient health over training", _columns(runs, lambda r: _figs(_gradient_figures(r)))),
        (
            "Activation health over training",
            _columns(runs, lambda r: _figs(_activation_figures(r))),
        ),
    ]
    if any(r.figures for r in runs):
        sections.append(("Recorded figures", _columns(runs, lambda r: _figs(r.figures))))
    if any(r.samples is not None for r in runs):
        sections.append(("Generated samples", _columns(runs, _samples)))
    nav = "".join(f'<a href="#s{i}">{html.escape(t)}</a>' for i, (t, _) in enumerate(sections))
    body = "".join(
        f'<section id="s{i}"><h2>{html.escape(t)}</h2>{content}</section>'
        for i, (t, content) in enumerate(sections)
    )
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head>"
        f"<body><h1>{html.escape(title)}</h1><nav>{nav}</nav>{body}<script>{_JS}</script>"
        "</body></html>"
    )


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


_CSS = """
body{font:15px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;color:#222;max-width:1400px;
margin:0 auto;padding:0 24px 48px;background:#fafafa}
h1{font-size:24px;margin:24px 0 8px}h2{font-size:19px;border-bottom:2px solid #ddd;
padding-bottom:4px;margin-top:32px}h3{font-size:16px;margin:8px 0;color:#0072B2}
nav a{margin-right:14px;color:#0072B2;text-decoration:none;font-size:14px}
.cols{display:grid;gap:20px}.cols.n1{grid-template-columns:1fr}
.cols.n2{grid-template-columns:1fr 1fr}.cols.n3{grid-template-columns:1fr 1fr 1fr}
.col{min-width:0;background:#fff;border:1px solid #e3e3e3;border-radius:6px;padding:8px 12px}
figure{margin:10px 0;display:inline-block;max-width:100%;vertical-align:top}
.n1 figure,section>figure{width:calc(50% - 12px);margin-right:8px}figure img{width:100%}
p.note{color:#a32020}
figure img{max-width:100%;height:auto;border:1px solid #eee;background:#fff}
figcaption{font-size:13px;color:#555}
table.summary{border-collapse:collapse;font-size:13px}
table.summary th{text-align:left;padding:2px 12px 2px 0;color:#555;font-weight:normal}
table.summary td{padding:2px 0;font-family:ui-monospace,monospace}
ul.problems{padding-left:18px}li.problem{margin:6px 0}.fix{color:#2a7a2a;font-size:13px}
li.dead,li.saturated,li.vanishing,li.exploding,li.nonfinite{color:#a32020}
p.ok{color:#2a7a2a}pre.samples{white-space:pre-wrap;background:#fff;border:1px solid #eee;
padding:8px;font-size:13px;max-height:420px;overflow:auto}
img.broken{outline:3px solid #d00}.broken-note{color:#d00;font-weight:bold}
"""

# Marks every image that did not decode (a red outline and a note) and counts them on
# <body> (data-figures-total / -loaded / -broken), so a reader and a test both see it.
_JS = """
window.addEventListener('load', function () {
  var imgs = document.images, ok = 0, bad = 0;
  for (var i = 0; i < imgs.length; i++) {
    var im = imgs[i];
    if (im.complete && im.naturalWidth > 0) { ok++; continue; }
    bad++; im.className += ' broken';
    var note = document.createElement('div');
    note.className = 'broken-note'; note.textContent = 'figure failed to load: ' + im.alt;
    im.parentNode.insertBefore(note, im.nextSibling);
  }
  document.body.setAttribute('data-figures-total', imgs.length);
  document.body.setAttribute('data-figures-loaded', ok);
  document.body.setAttribute('data-figures-broken', bad);
});
"""
