"""The monitoring page, the drift badge and the inventory read back against the manifest.

The factory's credit 1.1.0 has 16 weekly windows with dataset drift from week 9 (2024-07-08), score
drift from week 10, a week without records (week 5) and outcomes for the first 12 weeks only (see
``tests/manifest_factory.py``). Every check here parses what a reviewer sees — the HTML tables and
the plotly figures — and compares it with the manifest the page was rendered from.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from manifest_factory import make_manifest
from modelgov.manifest import DriftWindow, FeatureDrift, MonitoringReport
from modelgov.render import monitoring_views as mv
from modelgov.render import render_site
from modelgov.render.monitoring_charts import strength
from test_render import EPOCH, cells_of, plotly_figures

PAGE = "models/credit-default/1.1.0/monitoring.html"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("monitoring") / "site"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SOURCE_DATE_EPOCH", EPOCH)
        render_site(make_manifest(), out)
    return out


def credit():
    model = make_manifest().model("credit-default")
    return model, next(v for v in model.versions if v.version == "1.1.0")


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


# --------------------------------------------------------------------------- what the page says


@pytest.mark.slow
def test_the_drift_start_is_the_reports_on_the_page_the_card_and_the_inventory(site: Path) -> None:
    _, version = credit()
    since = version.drift.first_drift[:10]
    assert since == "2024-07-08"
    page = text_of((site / PAGE).read_text(encoding="utf-8"))
    assert f"drift since {since}" in page
    assert f"Drifting since the week of {since}" in page
    card = text_of((site / "models/credit-default/1.1.0/index.html").read_text(encoding="utf-8"))
    assert f"drift since {since}" in card
    home = text_of((site / "index.html").read_text(encoding="utf-8"))
    assert f"drift since {since}" in home


@pytest.mark.slow
def test_window_table_matches_the_manifest_row_by_row(site: Path) -> None:
    _, version = credit()
    page = (site / PAGE).read_text(encoding="utf-8")
    rows = cells_of(page, "window-by-window")
    body = [r for r in rows if r and re.match(r"\d{4}-\d{2}-\d{2}", r[0])]
    assert len(body) == len(version.drift.windows)
    for cells, window in zip(body, version.drift.windows, strict=True):
        assert cells[0].startswith(window.start[:10])
        assert cells[1] == f"{window.rows:,}" if window.rows else cells[1] in {"0", "no records"}
        if window.rows == 0:
            continue
        drifted = sum(f.drifted for f in window.features)
        tested = sum(f.statistic is not None for f in window.features)
        assert cells[2].startswith(f"{drifted} of {tested}"), cells
        assert ("yes" in cells[3]) == window.dataset_drift
        assert f"{window.prediction.statistic:.3f}" in cells[4]
        assert ("✕" in cells[4]) == window.prediction.drifted
        if window.labelled_rows:
            accuracy = next(m.value for m in window.performance if m.name == "accuracy")
            assert f"{accuracy:.3f}" in cells
        else:
            assert cells[5] == "not yet"


@pytest.mark.slow
def test_heatmap_cells_are_each_features_drift_strength_and_marks_follow_the_verdicts(site: Path) -> None:
    _, version = credit()
    figures = plotly_figures((site / PAGE).read_text(encoding="utf-8"))
    heatmap = next(data for key, (data, _) in figures.items() if "--drift-heatmap--" in key)
    light, dark = heatmap[0], heatmap[1]
    features = light["y"]
    assert features == [f.feature for f in version.drift.windows[0].features]
    for column, window in enumerate(version.drift.windows):
        for line, name in enumerate(features):
            value = light["z"][line][column]
            mark = light["text"][line][column] + dark["text"][line][column]
            if window.rows == 0:
                assert value is None and mark == ""  # a gap, never a zero
                continue
            item = next(f for f in window.features if f.feature == name)
            assert value == pytest.approx(strength(item))
            assert (mark == "✕") == item.drifted
            assert (mark == "n/a") == (item.statistic is None)


@pytest.mark.slow
def test_performance_chart_has_a_point_per_labelled_window_and_the_reference_line(site: Path) -> None:
    _, version = credit()
    figures = plotly_figures((site / PAGE).read_text(encoding="utf-8"))
    data, layout = next(fig for key, fig in figures.items() if "--monitoring-performance--" in key)
    name, _, _ = mv.monitoring_view(*credit()).metrics[0]  # the first panel's metric
    auc = data[0]
    expected = [next((m.value for m in w.performance if m.name == name), None) for w in version.drift.windows]
    assert sum(v is not None for v in expected) == 11  # 12 labelled weeks, one of them without records
    points = dict(zip(auc["x"], auc["y"], strict=True))
    for index, value in enumerate(expected):
        if value is None:
            assert points.get(index) is None
        else:
            assert points[index] == pytest.approx(value)
    reference = next(m.value for m in version.drift.reference_performance if m.name == name)
    assert any(f"{reference:.3f}" in str(a.get("text", "")) for a in layout.get("annotations", []))


@pytest.mark.slow
def test_new_categories_and_empty_windows_are_named_not_hidden(site: Path) -> None:
    page = text_of((site / PAGE).read_text(encoding="utf-8"))
    assert "bnpl_refinance" in page
    assert "no records" in page
    assert "2024-06-10" in page  # the week of the logging outage is listed by date


# --------------------------------------------------------------------------- the status word


def report_with(windows: list[DriftWindow]) -> MonitoringReport:
    from modelgov.monitoring.report_drift import drifting_since

    since = drifting_since(windows)
    return MonitoringReport(
        reference="holdout",
        reference_rows=100,
        window="week",
        dataset_share=0.5,
        windows=windows,
        first_drift=since,
        status="no data" if not any(w.rows for w in windows) else ("drift" if since else "no drift"),
    )


def window(week: int, *, rows: int = 50, inputs: bool = False, output: bool = False) -> DriftWindow:
    score = FeatureDrift(
        feature="score", kind="numeric", method="wasserstein", statistic=0.3 if output else 0.01,
        threshold=0.1, drifted=output, rows=rows,
    )  # fmt: skip
    return DriftWindow(
        start=f"2026-01-{week:02d}T00:00:00Z",
        end=f"2026-01-{week + 1:02d}T00:00:00Z",
        rows=rows,
        share_drifted=(1.0 if inputs else 0.0) if rows else None,
        dataset_drift=inputs and rows > 0,
        prediction=score if rows else None,
    )


@pytest.mark.parametrize(
    ("windows", "expected"),
    [
        ([window(1), window(2, inputs=True), window(3, output=True)], "drift since 2026-01-02"),
        ([window(1, inputs=True), window(2), window(3, output=True)], "drift since 2026-01-03"),
        ([window(1, inputs=True), window(2, rows=0), window(3, inputs=True)], "drift since 2026-01-01"),
        ([window(1, inputs=True), window(2)], "no drift"),
        ([window(1, rows=0), window(2, rows=0)], "no data"),
    ],
    ids=["inputs-then-output", "broken-run", "empty-window-does-not-break", "recovered", "no-records"],
)
def test_drift_status_follows_the_reports_definition(windows: list[DriftWindow], expected: str) -> None:
    model, version = credit()
    version = version.model_copy(update={"drift": report_with(windows)})
    assert mv.drift_status(model, version).text == expected


def test_status_without_a_log_or_without_a_report() -> None:
    model, version = credit()
    bare = version.model_copy(update={"drift": None, "monitoring": None})
    assert mv.drift_status(model, bare).text == "not monitored"
    unanalysed = version.model_copy(update={"drift": None})
    if unanalysed.monitoring is not None:
        assert mv.drift_status(model, unanalysed).text == "not analysed"


@pytest.mark.parametrize(
    ("part", "whole", "words"),
    [(0, 6, "none"), (6, 6, "all 6"), (2, 2, "both"), (1, 1, "it"), (3, 8, "3 of 8")],
)
def test_share_phrase(part: int, whole: int, words: str) -> None:
    assert mv.share_phrase(part, whole) == words


# --------------------------------------------------------------------------- intervals per window (issue 16)


def _with_window_intervals():
    """The factory's manifest with a ±0.03 interval on every metric of every labelled window, and a
    ±0.01 one on every reference metric."""
    from modelgov.manifest import Manifest

    data = make_manifest().model_dump(mode="json")
    model = next(m for m in data["models"] if m["id"] == "credit-default")
    drift = next(v for v in model["versions"] if v["version"] == "1.1.0")["drift"]

    def interval(value, half):
        return {"low": value - half, "high": value + half, "level": 0.95, "resamples": 1000,
                "method": "percentile bootstrap over rows", "defined_share": 1.0}  # fmt: skip

    for window in drift["windows"]:
        for metric in window["performance"]:
            if metric["value"] is not None:
                metric["interval"] = interval(metric["value"], 0.03)
    for metric in drift["reference_performance"]:
        if metric["value"] is not None:
            metric["interval"] = interval(metric["value"], 0.01)
    return Manifest.model_validate(data)


def test_performance_chart_draws_each_windows_interval_and_the_reference_band() -> None:
    from modelgov.render.monitoring_charts import monitoring_performance_chart

    built = _with_window_intervals()
    model = built.model("credit-default")
    version = next(v for v in model.versions if v.version == "1.1.0")
    figures = plotly_figures(monitoring_performance_chart(model, version))
    data, layout = next(iter(figures.values()))
    name, _, _ = mv.monitoring_view(model, version).metrics[0]
    points = data[0]
    whiskers = points["error_y"]
    for index, w in enumerate(version.drift.windows):
        metric = next((m for m in w.performance if m.name == name), None)
        if metric is None or metric.value is None:
            assert whiskers["array"][index] is None
            continue
        assert points["y"][index] + whiskers["array"][index] == pytest.approx(metric.interval.high)
        assert points["y"][index] - whiskers["arrayminus"][index] == pytest.approx(metric.interval.low)
        assert "95% interval" in points["customdata"][index]
    reference = next(m for m in version.drift.reference_performance if m.name == name)
    bands = [s for s in layout["shapes"] if s.get("type") == "rect" and s.get("name") == "reference interval"]
    assert bands and bands[0]["y0"] == pytest.approx(reference.interval.low)
    assert bands[0]["y1"] == pytest.approx(reference.interval.high)
    y_range = layout[next(k for k in layout if k.startswith("yaxis"))].get("range")
    if y_range:
        assert y_range[0] <= reference.interval.low and y_range[1] >= reference.interval.high


def test_without_intervals_there_are_no_whiskers_and_no_band() -> None:
    from modelgov.render.monitoring_charts import monitoring_performance_chart

    model, version = credit()
    if any(m.interval for w in version.drift.windows for m in w.performance):
        pytest.skip("the factory's windows carry intervals")
    figures = plotly_figures(monitoring_performance_chart(model, version))
    data, layout = next(iter(figures.values()))
    assert "error_y" not in data[0]
    reference_has = any(m.interval and m.interval.low is not None for m in version.drift.reference_performance)
    bands = [s for s in layout["shapes"] if s.get("name") == "reference interval"]
    assert bool(bands) == bool(reference_has)


@pytest.mark.slow
def test_window_table_shows_each_metric_with_its_interval(tmp_path: Path) -> None:
    built = _with_window_intervals()
    out = tmp_path / "site"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SOURCE_DATE_EPOCH", EPOCH)
        render_site(built, out)
    page = (out / PAGE).read_text(encoding="utf-8")
    version = next(v for v in built.model("credit-default").versions if v.version == "1.1.0")
    rows = cells_of(page, "window-by-window")
    header = rows[0]
    column = next(i for i, h in enumerate(header) if h == "Accuracy")
    body = [r for r in rows if r and re.match(r"\d{4}-\d{2}-\d{2}", r[0])]
    shown = 0
    for cells, window in zip(body, version.drift.windows, strict=True):
        metric = next((m for m in window.performance if m.name == "accuracy"), None)
        if metric is None or metric.value is None:
            continue
        assert cells[column] == f"{metric.value:.3f} {metric.interval.low:.3f} – {metric.interval.high:.3f}"
        shown += 1
    assert shown == 11
    reference = next(r for r in rows if r and r[0].startswith("Reference"))
    accuracy = next(m for m in version.drift.reference_performance if m.name == "accuracy")
    assert reference[column] == f"{accuracy.value:.3f} {accuracy.interval.low:.3f} – {accuracy.interval.high:.3f}"
    words = text_of(page)
    assert "whiskers are its 95% bootstrap interval" in words and "has no interval" not in words
