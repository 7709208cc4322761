"""Open the report in headless Chromium: every figure decodes, the console stays silent.

Needs Debian's chromium (``apt-get install -y chromium``); skipped with that reason where it
is absent. The report's own inline script counts decoded and broken images on <body>
(data-figures-*); ``--dump-dom`` prints the DOM after the load event, and
``--enable-logging=stderr`` prints every console message as an INFO:CONSOLE line. The
negative tests prove both checks fail on a broken image and on a script error.
"""

import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from ember.diagnose.report import write_report
from tests.diagnose._loop import make_run

CHROMIUM = next(
    (p for p in (shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome")) if p),
    None,
)
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="headless Chromium not installed (apt-get install -y chromium)"
)


def chromium(tmp_path, url, *args):
    cmd = [
        CHROMIUM,
        "--headless",
        "--disable-gpu",
        "--no-sandbox",
        "--hide-scrollbars",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--virtual-time-budget=5000",
        "--enable-logging=stderr",
        "--v=0",
        *args,
        url,
    ]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr[-2000:]
    return res


def figures_state(res):
    body = re.search(r"<body([^>]*)>", res.stdout)
    assert body, f"no <body> in the dumped DOM: {res.stdout[:500]}"
    attrs = dict(re.findall(r'data-figures-(\w+)="(\d+)"', body.group(1)))
    assert attrs, "the report's image check did not run (no data-figures-* on <body>)"
    return {k: int(v) for k, v in attrs.items()}


def console_lines(res):
    return [line for line in res.stderr.splitlines() if ":CONSOLE" in line]


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("runs")
    return make_run(root, "rnn", bias=-20.0), make_run(root, "lstm")


def test_comparison_report_loads_every_figure_in_chromium(two_runs, tmp_path):
    report = write_report(list(two_runs), tmp_path / "compare.html")
    n_img = report.read_text().count("<img ")
    res = chromium(tmp_path, report.as_uri(), "--dump-dom")
    state = figures_state(res)
    assert state == {"total": n_img, "loaded": n_img, "broken": 0}
    assert n_img >= 12  # 3 curves, 2 x (gradient + activation health), 2 x 2 recorded
    assert console_lines(res) == []
    assert 'class="broken-note"' not in res.stdout


def test_screenshot_reads(two_runs, tmp_path):
    report = write_report([two_runs[0]], tmp_path / "single.html")
    shot = tmp_path / "report.png"
    chromium(tmp_path, report.as_uri(), f"--screenshot={shot}", "--window-size=1400,2400")
    from matplotlib.image import imread

    img = imread(shot)
    assert img.shape[:2] == (2400, 1400)
    # not a blank page: text and figures make many distinct grey levels
    assert np.unique((img[..., :3].mean(axis=2) * 255).astype(int)).size > 50
    if os.environ.get("EMBER_TEST_ARTIFACTS"):  # keep it for a person to look at
        out = Path(os.environ["EMBER_TEST_ARTIFACTS"])
        out.mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, out / "report_screenshot.png")


def test_broken_image_and_console_error_are_detected(two_runs, tmp_path):
    html = write_report([two_runs[1]], tmp_path / "good.html").read_text()
    # corrupt one figure's data and add a script error: both checks must notice
    broken = re.sub(
        r'src="data:image/png;base64,[^"]{40}', 'src="data:image/png;base64,AAAA', html, count=1
    )
    broken = broken.replace("</body>", "<script>noSuchFunction();</script></body>")
    page = tmp_path / "broken.html"
    page.write_text(broken)
    res = chromium(tmp_path, page.as_uri(), "--dump-dom")
    state = figures_state(res)
    assert state["broken"] == 1 and state["loaded"] == state["total"] - 1
    assert '<div class="broken-note">figure failed to load' in res.stdout
    assert any("noSuchFunction" in line for line in console_lines(res))
