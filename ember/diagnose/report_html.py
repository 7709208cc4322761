"""The run report's HTML: tables, problem lists, columns, figures, and the page around them.

Everything here writes HTML strings for ``report.py``; the page carries its own style sheet
and one small inline script (no network, nothing external).
"""

from __future__ import annotations

import base64
import html
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the dataclass lives with the loader
    from .report import Run

MAX_SAMPLES = 6000  # characters of samples.txt shown


def img_html(png: bytes, alt: str) -> str:
    data = base64.b64encode(png).decode("ascii")
    return f'<img src="data:image/png;base64,{data}" alt="{html.escape(alt)}">'


def figure_html(png: bytes, caption: str) -> str:
    return (
        f"<figure>{img_html(png, caption)}<figcaption>{html.escape(caption)}</figcaption></figure>"
    )


def layer_tables(run: Run) -> str:
    """The per-layer table of the first (initialisation) and the latest activation record."""
    recs = [r for r in run.diagnostics if r.get("kind") == "activations"]
    out = []
    for r in {id(r): r for r in (recs[:1] + recs[-1:])}.values():
        flagged = {p["layer"] for p in r.get("problems", [])}
        rows = []
        for x in r["layers"]:
            cells = [x["name"], x["kind"], "×".join(map(str, x["shape"]))]
            cells += [fmt(x[k]) for k in ("mean", "std", "signal")]
            cells += [
                "" if x.get(k) is None else f"{100 * x[k]:.0f}%"
                for k in ("dead_fraction", "saturated_fraction")
            ]
            cells.append("" if x.get("entropy") is None else fmt(x["entropy"]))
            cls = ' class="flagged"' if x["name"] in flagged else ""
            rows.append(f"<tr{cls}>" + "".join(f"<td>{html.escape(c)}</td>" for c in cells))
        head = "".join(
            f"<th>{h}</th>"
            for h in (
                "layer",
                "type",
                "shape",
                "mean",
                "std",
                "signal",
                "dead",
                "saturated",
                "entropy",
            )
        )
        when = (
            "at initialisation (signal-propagation check)"
            if r.get("at_init")
            else (f"at step {r['step']}")
        )
        out.append(
            f"<details{' open' if r is recs[0] else ''}><summary>Layers {when}</summary>"
            f'<table class="layers"><tr>{head}</tr>{"".join(rows)}</table></details>'
        )
    return "".join(out)


def problems_list(run: Run) -> str:
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
                f'<li class="problem warning">step {r.get("step", "?")}: '
                f"{html.escape(r.get('message', ''))}</li>"
            )
    if not items:
        has = any(r.get("kind") in ("activations", "gradients") for r in run.diagnostics)
        text = "No problems found." if has else "No diagnostics recorded for this run."
        return f'<p class="ok">{text}</p>'
    return '<ul class="problems">' + "".join(items) + "</ul>"


def summary_table(run: Run) -> str:
    rows = []
    for k, v in run.config.items():
        if isinstance(v, (str, int, float, bool)) or v is None:
            rows.append((k, v))
        elif isinstance(v, dict):
            rows += [(f"{k}.{k2}", v2) for k2, v2 in v.items() if not isinstance(v2, (dict, list))]
    last = {}
    for r in run.metrics:
        split = r.get("split", "train")
        for k, v in r.items():
            if k in ("step", "epoch", "split") or not isinstance(v, (int, float)):
                continue
            if split != "train" and (k == "lr" or k.startswith(("train_", "val_", "test_"))):
                continue  # the rate and epoch aggregates repeat what the train lines say
            last[f"final {split} {k}"] = v
    if run.metrics:
        last["trained steps"] = max(r.get("step", 0) for r in run.metrics)
    rows += sorted(last.items())
    body = "".join(
        f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(fmt(v))}</td></tr>" for k, v in rows
    )
    return f'<table class="summary">{body}</table>' if body else "<p>No configuration.</p>"


def fmt(v) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


def columns(runs: list[Run], render) -> str:
    """One column per run (side by side when comparing)."""
    cols = "".join(
        f'<div class="col"><h3>{html.escape(run.name)}</h3>{render(run)}</div>' for run in runs
    )
    return f'<div class="cols n{len(runs)}">{cols}</div>'


def figures_html(figs) -> str:
    """Figures, or a note where a figure has nothing to draw (png None)."""
    parts = [
        figure_html(png, cap) if png is not None else f'<p class="note">{html.escape(cap)}</p>'
        for cap, png in figs
    ]
    return "".join(parts) or "<p>Nothing recorded.</p>"


def samples_html(run: Run) -> str:
    if run.samples is None:
        return "<p>No samples.txt in this run.</p>"
    text = run.samples[:MAX_SAMPLES] + ("\n…" if len(run.samples) > MAX_SAMPLES else "")
    return f'<pre class="samples">{html.escape(text)}</pre>'


def page(title: str, sections: list[tuple[str, str]]) -> str:
    """The whole document: a title, a navigation bar, one <section> per (heading, html)."""
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
table.layers{border-collapse:collapse;font-size:12px;margin:6px 0}
table.layers td,table.layers th{padding:1px 8px;text-align:right;border-bottom:1px solid #eee}
table.layers td:first-child,table.layers td:nth-child(2){text-align:left}
tr.flagged td{color:#a32020;font-weight:bold}summary{cursor:pointer;color:#0072B2}
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
