"""The chart grid is laid out exactly as plotly's make_subplots lays it out."""

from __future__ import annotations

import itertools
import json

import pytest
from plotly.subplots import make_subplots

from modelgov.render.chart_style import _grid_layout, _panels

GRIDS = [
    (rows, cols, vertical)
    for rows, cols, vertical in itertools.product(range(1, 9), range(1, 4), [0.0, 0.05, 0.1234567, 0.3])
    if vertical * (rows - 1) < 1  # room left for the panels
]


@pytest.mark.parametrize(("rows", "cols", "vertical"), GRIDS)
def test_the_grid_equals_make_subplots(rows: int, cols: int, vertical: float) -> None:
    horizontal = 0.08 if cols > 1 else 0.0
    for titled in sorted({0, 1, max(rows * cols - 2, 0), rows * cols}):
        titles = [f"panel <{i}>" for i in range(titled)]
        expected = make_subplots(
            rows=rows,
            cols=cols,
            subplot_titles=titles or None,
            vertical_spacing=vertical,
            horizontal_spacing=horizontal,
        ).to_plotly_json()["layout"]
        expected.pop("template")
        got = _grid_layout(titles, rows, cols, vertical, horizontal)
        assert json.dumps(got, sort_keys=True) == json.dumps(expected, sort_keys=True)


def test_unused_cells_have_no_visible_axes() -> None:
    figure = _panels(["a", "b", "c", "d"], 2, 3)
    assert figure["layout"]["xaxis5"]["visible"] is False and figure["layout"]["yaxis6"]["visible"] is False
    assert "visible" not in figure["layout"]["xaxis4"]
    assert [a["text"] for a in figure["layout"]["annotations"]] == ["a", "b", "c", "d"]


def test_each_calibration_chart_is_drawn_as_if_it_were_the_first() -> None:
    """The calibration chart's panels are laid out once per process; each chart starts from a copy,
    so one chart's traces and axes never reach the next."""
    from manifest_factory import make_manifest
    from modelgov.render import performance_charts

    manifest = make_manifest()
    model, version, run = next(
        (m, v, r) for m in manifest.models for v in m.versions for r in v.evaluations if r.performance.calibration
    )
    calibration = run.performance.calibration
    fewer = calibration.model_copy(update={"bins": calibration.bins[1:]})
    other = run.model_copy(
        update={"id": "other", "performance": run.performance.model_copy(update={"calibration": fewer})}
    )
    runs = [(model, version, run), (model, version, other), (model, version, run)]
    in_turn = [performance_charts.calibration_chart(*run) for run in runs]
    alone = []
    for run in runs:
        performance_charts._calibration_panels.cache_clear()
        alone.append(performance_charts.calibration_chart(*run))
    assert in_turn == alone
    assert len({chart.count('"type":"scatter"') for chart in in_turn}) == 1  # each has its own traces only
