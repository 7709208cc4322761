"""gate_heatmaps: whole-number ticks on the unit and time axes (imshow's default locator
puts ticks at 2.5 units), the labels of the time axis when given."""

from __future__ import annotations

import numpy as np
import pytest

from ember.diagnose.figures import gate_heatmaps


def _visible_ticks(axis):
    lo, hi = sorted(axis.get_view_interval())
    return [t for t in axis.get_ticklocs() if lo <= t <= hi]


@pytest.mark.parametrize("steps,units", [(5, 3), (7, 6), (40, 64), (2, 1)])
def test_unit_and_time_ticks_are_integers(steps, units):
    rng = np.random.default_rng(0)
    gates = {k: rng.random((steps, 2, units)) for k in ("f", "i", "o")}
    gates["c"] = 3 * rng.standard_normal((steps, 2, units))
    fig = gate_heatmaps(gates, sequence=1)
    fig.canvas.draw()  # the locators run as they would for a PNG
    heatmaps = [ax for ax in fig.axes if ax.images]
    assert len(heatmaps) == 4
    for ax in heatmaps:
        for axis in (ax.yaxis, ax.xaxis):
            ticks = np.asarray(axis.get_ticklocs())
            assert np.array_equal(ticks, np.round(ticks)), ticks
            assert _visible_ticks(axis)  # and some of them inside the map


def test_time_labels_replace_the_integer_time_ticks():
    gates = {"f": np.full((4, 3), 0.5)}
    fig = gate_heatmaps(gates, time_labels=list("ab c"))
    ax = next(ax for ax in fig.axes if ax.images)
    assert list(ax.get_xticks()) == [0, 1, 2, 3]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["a", "b", " ", "c"]
    ticks = ax.get_yticks()
    assert np.array_equal(ticks, np.round(ticks))
