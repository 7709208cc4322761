"""The run report: self-contained HTML naming the problems, one run or two side by side."""

import base64
import re

import pytest

from ember.cli import main
from ember.diagnose.figures import (
    add_captions,
    gate_heatmaps,
    heatmap,
    image_grid,
    line_plot,
    save_png,
    to_png_bytes,
)
from ember.diagnose.report import load_run, write_report
from tests.diagnose._loop import deep_sigmoid, make_run

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Two run folders shared by the tests below: one with a dead layer, one healthy."""
    import ember

    ember.manual_seed(0)
    root = tmp_path_factory.mktemp("runs")
    return make_run(root, "rnn", bias=-20.0), make_run(root, "lstm")


def _images(html):
    return re.findall(r'<img src="data:image/png;base64,([^"]+)"', html)


def test_report_of_a_dead_network_names_the_dead_layer(runs):
    run = runs[0]
    out = write_report([run])
    assert out == run / "report.html"
    html = out.read_text()
    # the problem list names the layer, the kind, when, and the fix
    dead = re.findall(
        r'<li class="problem dead"><b>([^<]+)</b> \(dead, activations, ([^)]+)\)', html
    )
    assert ("3", "at initialisation and step 30") in dead
    assert "He (Kaiming)" in html
    # no gradient reaches any weight: said in words where a log-scale plot would be empty
    assert "every weight gradient is exactly zero at every recorded step" in html
    # self-contained: every image is an embedded PNG, nothing is fetched
    imgs = _images(html)
    assert len(imgs) >= 7 and all(base64.b64decode(b)[:8] == PNG_MAGIC for b in imgs)
    assert not re.search(r'(src|href)="(https?:)?//', html)
    assert "<link" not in html and "@import" not in html
    for text in (
        "Training curves",
        "Learning rate",
        "Gradient health",
        "Activation health",
        "LSTM gates f_t, i_t, C̃_t, o_t, C_t, h_t",
        "gradient through time",
        "attention: layer0 head0",
        "feature maps",
        "ROMEO: &lt;sample&gt; &amp; what light",
    ):
        assert text in html, text


def test_report_of_a_deep_sigmoid_network_flags_saturation_and_vanishing(tmp_path):
    # 10 σ layers of width 64 on 64-d inputs: vanishing flagged at every seed tried (0-3)
    model = deep_sigmoid(depth=10, width=64, n_in=64)
    run = make_run(tmp_path, "sigmoid", model=model, dim=64, figures=False, samples=False)
    html = write_report([run]).read_text()
    saturated = re.findall(r'<li class="problem saturated"><b>([^<]+)</b>', html)
    assert len(saturated) >= 4  # σ layers named one by one
    vanishing = re.findall(r'<li class="problem vanishing"><b>([^<]+)</b>', html)
    assert vanishing and "2.weight" in vanishing[-1].split(", ")
    assert "Xavier (Glorot)" in html


def test_healthy_run_reports_no_problems(tmp_path):
    run = make_run(tmp_path, "ok", figures=False, samples=False)
    html = write_report([run]).read_text()
    assert 'class="problem dead"' not in html and "No problems found." in html
    assert "Recorded figures" not in html and "Generated samples" not in html


def test_compare_two_runs_side_by_side(runs, tmp_path):
    out = write_report(list(runs), tmp_path / "cmp.html")
    html = out.read_text()
    assert "ember run comparison: rnn vs lstm" in html
    assert html.count('<div class="cols n2">') >= 5  # every per-run section in two columns
    # the overlaid loss curve is one figure holding both runs; per-run sections once per run
    assert html.count("<figcaption>Loss against training step</figcaption>") == 1
    for name in ("rnn", "lstm"):
        assert f"<figcaption>{name}: signal propagation over training</figcaption>" in html
    # the dead layer is named in the first run's column only
    cols = html.split('<section id="s1">')[1].split("</section>")[0].split('<div class="col">')
    assert 'class="problem dead"' in cols[1] and 'class="problem dead"' not in cols[2]


def test_cli_report_writes_and_explains_missing_runs(runs, tmp_path, capsys):
    assert main(["report", str(runs[1]), "-o", str(tmp_path / "r.html")]) == 0
    assert (tmp_path / "r.html").is_file() and "wrote" in capsys.readouterr().out
    assert main(["report", str(runs[0]), "-o", str(tmp_path / "d.html")]) == 0
    out = capsys.readouterr().out
    assert "✗ 3 (dead, step 30): 100% of its ReLU units never fire" in out
    assert main(["report", str(tmp_path / "nope")]) == 1
    assert "does not exist" in capsys.readouterr().out
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="is it a run folder"):
        load_run(tmp_path / "empty")


def test_figure_helpers_make_pngs_and_refuse_bad_shapes():
    import numpy as np

    assert to_png_bytes(line_plot({"a": ([0, 1], [1, 2])}, "t", "x", "y"))[:8] == PNG_MAGIC
    assert to_png_bytes(heatmap(np.eye(3), "t", "x", "y"))[:8] == PNG_MAGIC
    assert to_png_bytes(image_grid([np.eye(4)] * 5, titles=range(5), ncols=3))[:8] == PNG_MAGIC
    with pytest.raises(ValueError, match=r"\(T, H\)"):
        gate_heatmaps({"f_t": np.zeros(5)})
    # a batch as the recurrent layers record it: (T, B, H) under short keys
    rec = {k: np.random.default_rng(0).uniform(0, 1, (7, 3, 5)) for k in "figoch"}
    fig = gate_heatmaps(rec, sequence=2)
    titles = [ax.get_title(loc="left") for ax in fig.axes if ax.get_title(loc="left")]
    assert titles[:2] == ["f_t  forget gate", "i_t  input gate"] and len(titles) == 6
    with pytest.raises(IndexError, match="out of range for 3 sequences"):
        gate_heatmaps(rec, sequence=3)
    with pytest.raises(ValueError, match="2-d"):
        heatmap(np.zeros(3), "t", "x", "y")


def test_add_captions_merges_into_the_file_the_report_reads(tmp_path):
    figures = tmp_path / "figures"
    (figures / "a").mkdir(parents=True)
    save_png(line_plot({"x": ([0, 1], [1.0, 2.0])}, "t", "x", "y"), figures / "a" / "one.png")
    save_png(line_plot({"x": ([0, 1], [2.0, 1.0])}, "t", "x", "y"), figures / "two.png")
    add_captions(figures, {"a/one.png": "the first"})
    add_captions(figures, {"two.png": "the second"})
    assert sorted(c for c, _ in load_run(tmp_path).figures) == ["the first", "the second"]
