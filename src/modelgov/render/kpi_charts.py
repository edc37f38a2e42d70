"""Chart of a version's business KPIs over its monitoring windows.

One panel per KPI of the card: its value per window with the interval as whiskers, the target as a
dotted line, the baseline (the process the model replaced) as a grey line or level, and every window
that misses the target ringed in red, so a KPI off target shows at a glance. Values are drawn in the
KPI's unit (percentages as percent, amounts with their currency). The conventions of :mod:`.charts`
and :mod:`.monitoring_charts` hold: window positions on the time axis, grey columns for windows
without records (gaps, never zeros), shaded columns where the outcomes a KPI reads have not arrived,
escaped text, stable ids, and a subtitle naming the reference and the windows.
"""

from __future__ import annotations

from typing import Any

from modelgov.manifest import Kpi, Model, ModelVersion
from modelgov.render import kpi_views as kv
from modelgov.render import monitoring_views as mv
from modelgov.render.chart_style import LINE_COLOUR, _axes, _esc, _html, _layout_key, _panels, _round, _style
from modelgov.render.monitoring_chart_parts import (
    DRIFT_COLOUR,
    PENDING_FILL,
    REFERENCE_COLOUR,
    _chart_key,
    _column,
    _finish_panels,
    _gap_marks,
    _subtitle,
    _threshold_line,
    _time_axis,
)

TARGET_COLOUR = "#1a1a1a"
#: How the subtitle names each aggregation's interval (docs/methods.md#business-kpis gives the formulas).
INTERVAL_NAMES = {"mean": "Student's t", "sum": "Student's t", "rate": "Wilson", "ratio": "delta method"}


def _scale(kpi: Kpi) -> float:
    """Percentages are drawn as percent (0.0561 → 5.61)."""
    return 100.0 if kpi.unit == "percent" else 1.0


def _axis_format(kpi: Kpi) -> dict[str, Any]:
    if kpi.unit == "percent":
        return {"ticksuffix": " %"}
    if kpi.unit == "currency" and kpi.symbol:
        return {"tickprefix": _esc(kpi.symbol if len(kpi.symbol) <= 1 else kpi.symbol + " ")}
    return {}


def _hover(view: kv.KpiView, row: kv.KpiRow) -> str:
    kpi, window = view.kpi, row.window
    lines = [f"<b>{_esc(row.row.label)}</b>"]
    if window.status == "no records":
        return lines[0] + "<br><i>no records</i>"
    if window.status == "no outcomes yet":
        return lines[0] + f"<br><i>{window.rows:,} records, none of their outcomes arrived yet</i>"
    value = window.kpi
    if window.status == "no values" or value is None or value.value is None:
        return lines[0] + f"<br><i>no record holds a value ({value.missing if value else 0:,} missing)</i>"
    text = f"{_esc(kpi.title)}: {_esc(kv.format_value(kpi, value.value))}"
    if (interval := kv.interval_text(kpi, value)) and value.interval is not None:
        text += f" ({value.interval.level:.0%} interval {_esc(interval)})"
    lines.append(text)
    counted = f"on {value.count:,} records" + (
        f" with an outcome, of {window.rows:,}" if kpi.table == "outcomes" else ""
    )
    if value.missing:
        empty = f"no value in {kpi.columns[0]}" if kpi.aggregation != "ratio" else "not both columns"
        counted += f"; {value.missing:,} with {_esc(empty)}"
    lines.append(counted)
    if row.small:
        lines.append(f"<i>few records (under {kv.SMALL_WINDOW}): a wide interval</i>")
    verdict = "meets" if window.meets_target else "<b>misses</b>"
    lines.append(f"Target {_esc(kv.target_text(kpi))}: {verdict}")
    if window.baseline is not None and window.baseline.value is not None:
        lines.append(
            f"Baseline: {_esc(kv.format_value(kpi, window.baseline.value))} on {window.baseline.count:,} records"
        )
    if window.against_baseline is not None:
        lines.append(
            f"Against the baseline: {_esc(kv.difference_text(kpi, window.difference))} ({_esc(window.against_baseline)})"
        )
    return "<br>".join(lines)


def kpi_chart(model: Model, version: ModelVersion) -> str | None:
    monitoring = mv.monitoring_view(model, version)
    views = kv.kpi_views(model, version)
    if monitoring is None or not views:
        return None
    titles = [f"{v.kpi.title} ({'higher' if v.kpi.direction == 'higher' else 'lower'} is better)" for v in views]
    figure = _panels(titles, len(titles), 1, row_gap=60, panel_height=220)
    layout = figure["layout"]
    shapes: list[dict[str, Any]] = []
    annotations: list[dict[str, Any]] = []
    x = [r.row.index for r in views[0].rows]
    for index, view in enumerate(views):
        kpi = view.kpi
        scale = _scale(kpi)
        x_axis, y_axis = _axes(index)
        first = index == 0
        common = {"xaxis": x_axis, "yaxis": y_axis, "connectgaps": False}

        def scaled(value: float | None, scale: float = scale) -> float | None:
            return None if value is None else value * scale

        values = [scaled(r.window.kpi.value) if r.window.kpi else None for r in view.rows]
        highs = [
            scaled(r.window.kpi.interval.high) if r.window.kpi and r.window.kpi.interval else None for r in view.rows
        ]
        lows = [
            scaled(r.window.kpi.interval.low) if r.window.kpi and r.window.kpi.interval else None for r in view.rows
        ]
        plus = [None if v is None or h is None else h - v for v, h in zip(values, highs, strict=True)]
        minus = [None if v is None or lo is None else v - lo for v, lo in zip(values, lows, strict=True)]
        hover = [_hover(view, r) for r in view.rows]
        figure["data"].append(
            {**common, "type": "scatter", "x": x, "y": _round(values), "mode": "lines+markers",
             "line": {"color": LINE_COLOUR, "width": 2}, "marker": {"size": 7, "color": LINE_COLOUR},
             "error_y": {"type": "data", "symmetric": False, "array": _round(plus), "arrayminus": _round(minus),
                         "color": LINE_COLOUR, "thickness": 1.2, "width": 3},
             "name": "KPI, with its interval", "showlegend": first,
             "customdata": hover, "hovertemplate": "%{customdata}<extra></extra>"}
        )  # fmt: skip
        missed = [v if r.window.meets_target is False else None for v, r in zip(values, view.rows, strict=True)]
        if any(v is not None for v in missed):
            figure["data"].append(
                {**common, "type": "scatter", "x": x, "y": _round(missed), "mode": "markers", "hoverinfo": "skip",
                 "marker": {"size": 16, "color": "rgba(0,0,0,0)", "line": {"color": DRIFT_COLOUR, "width": 2.5}},
                 "name": "misses the target", "showlegend": True}
            )  # fmt: skip
        spread = [v for v in [*values, *highs, *lows] if v is not None]
        baseline = kpi.baseline
        if baseline is not None and baseline.column is not None:
            base = [scaled(r.window.baseline.value) if r.window.baseline else None for r in view.rows]
            spread += [v for v in base if v is not None]
            figure["data"].append(
                {**common, "type": "scatter", "x": x, "y": _round(base), "mode": "lines+markers",
                 "line": {"color": REFERENCE_COLOUR, "width": 1.5, "dash": "dash"},
                 "marker": {"size": 5, "color": REFERENCE_COLOUR}, "hoverinfo": "skip",
                 "name": f"baseline: {_esc(baseline.description)}", "showlegend": True}
            )  # fmt: skip
        elif baseline is not None and baseline.value is not None:
            level = baseline.value * scale
            spread.append(level)
            line, note = _threshold_line(
                x_axis, y_axis, level, f"baseline {_esc(kv.format_value(kpi, baseline.value))}"
            )
            line["line"] = {"color": REFERENCE_COLOUR, "width": 1.5, "dash": "dash"}
            note["font"] = {"color": "#666666", "size": 11}
            note["xanchor"], note["x"] = "right", 1
            shapes.append(line)
            annotations.append(note)
        target = kpi.target * scale
        spread.append(target)
        line, note = _threshold_line(x_axis, y_axis, target, f"<b>target {_esc(kv.target_text(kpi))}</b>")
        line["line"] = {"color": TARGET_COLOUR, "width": 1.5, "dash": "dot"}
        note["font"] = {"color": TARGET_COLOUR, "size": 11}
        shapes.append(line)
        annotations.append(note)
        gap_shapes, gap_notes = _gap_marks(monitoring, x_axis, y_axis)
        shapes += gap_shapes
        annotations += gap_notes
        for run in _runs([r.row.index for r in view.awaiting]):
            shapes.append(_column(x_axis, y_axis, run[0], run[-1], PENDING_FILL))
            annotations.append(
                {"x": (run[0] + run[-1]) / 2, "y": 0.04, "xref": x_axis, "yref": f"{y_axis} domain",
                 "text": "<i>outcomes not yet<br>arrived</i>" if len(run) < 3 else "<i>outcomes not yet arrived</i>",
                 "showarrow": False, "yanchor": "bottom", "font": {"color": "#7a4f01", "size": 11}}
            )  # fmt: skip
        layout[_layout_key(x_axis)].update(_time_axis(monitoring, labels=index == len(views) - 1))
        axis = _axis_format(kpi)
        if spread:
            low, high = min(spread), max(spread)
            pad = (high - low) * 0.15 or abs(high) * 0.1 or 1.0
            bottom = 0.0 if low >= 0 and low - pad < 0 else low - pad
            axis["range"] = [round(bottom, 6), round(high + pad, 6)]
        layout[_layout_key(y_axis)].update(axis)
    _finish_panels(figure, monitoring.kind, len(titles), shapes, annotations)
    methods = list(dict.fromkeys(INTERVAL_NAMES[v.kpi.aggregation] for v in views))
    figure = _style(
        figure,
        "Business KPIs per window, against their targets and baselines",
        _subtitle(monitoring, f"{views[0].level:.0%} intervals: {', '.join(methods)}"),
        height=220 * len(titles) + 60 * (len(titles) - 1) + 260,
        panels=len(titles),
        category_x=False,
        legend=True,
    )
    words = ", ".join(v.kpi.title for v in views)
    return _html(
        figure,
        _chart_key(model, version, "monitoring-kpis", monitoring),
        f"{words} per window with their intervals, targets and baselines.",
    )


def _runs(indices: list[int]) -> list[list[int]]:
    runs: list[list[int]] = []
    for i in indices:
        if runs and runs[-1][-1] == i - 1:
            runs[-1].append(i)
        else:
            runs.append([i])
    return runs
