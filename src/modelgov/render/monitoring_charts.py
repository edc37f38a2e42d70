"""Charts of a version's monitoring report: drift by feature and window, drift over time,
performance over time, and the reference against the latest window.

The conventions of :mod:`.charts` hold: stable ids, deterministic and script-safe JSON, every user
string HTML-escaped, and a subtitle that names the reference evaluation (run, rows, date) and the
windows, so a figure copied into a report keeps its provenance.

Every time axis is the window's position (0, 1, …) labelled with its start, so the charts line up
and windows of N records work like calendar ones. A window without records is a grey column marked
"no records", never a zero; the first window with dataset drift is a dashed vertical line.
"""

from __future__ import annotations

import math
from typing import Any

from modelgov.manifest import FeatureDrift, Model, ModelVersion
from modelgov.render import monitoring_views as mv
from modelgov.render.chart_style import (
    LINE_COLOUR,
    OVERALL_COLOUR,
    _axes,
    _caption,
    _chart_id,
    _esc,
    _html,
    _layout_key,
    _panels,
    _round,
    _style,
    _value,
)

__all__ = [
    "distribution_chart",
    "drift_heatmap_chart",
    "drift_timeline_chart",
    "monitoring_performance_chart",
    "strength",
]

#: Drift strength is drawn on a log2 scale of "times the threshold", saturating at 4× either way.
STRENGTH_LIMIT = 2.0
_STRENGTH_TICKS = {-2: "¼× or less", -1: "½×", 0: "threshold", 1: "2×", 2: "4× or more"}
#: Blue (well within the threshold) through white (at it) to red (well past it): a diverging scale
#: that stays readable with the common colour-vision deficiencies.
#: The calm side is kept pale so the eye goes to the drifted cells.
_DIVERGING = [[0.0, "#bcd6ea"], [0.5, "#f7f7f7"], [0.6, "#fddbc7"], [0.8, "#ef8a62"], [1.0, "#b2182b"]]
#: Above this strength (2×) the cell is dark enough that its mark is written in white.
_DARK_CELL = 1.0
DRIFT_COLOUR = "#b2182b"
STABLE_COLOUR = "#7fa9cf"
REFERENCE_COLOUR = "#9e9e9e"
GAP_FILL = "rgba(0,0,0,0.06)"
PENDING_FILL = "rgba(230,159,0,0.10)"
_P_FLOOR = 1e-12  # p-values below this are drawn at it (and say so on hover)


# --------------------------------------------------------------------------- helpers


def strength(item: FeatureDrift) -> float | None:
    """How far past its threshold a result is, on a log2 scale clipped to ±2 (¼× to 4×): 0 at the
    threshold, positive when drifted. A distance counts as ``statistic / threshold``; a test as
    ``threshold / p`` (a p-value half the threshold is 2×). The sign always follows the report's
    verdict, so a drifted cell is never drawn on the calm side. None when the statistic is undefined."""
    statistic = _value(item.statistic)
    if statistic is None or item.threshold <= 0:
        return None
    if mv.is_test(item.method):
        ratio = item.threshold / max(statistic, 1e-300)
    else:
        ratio = statistic / item.threshold if statistic > 0 else 0.0
    value = max(-STRENGTH_LIMIT, min(STRENGTH_LIMIT, math.log2(ratio) if ratio > 0 else -STRENGTH_LIMIT))
    if item.drifted:
        value = max(value, 0.08)
    elif value >= 0:
        value = -0.08
    return round(value, 4)


def _stat_text(item: FeatureDrift) -> str:
    """``p = 0.031`` or ``0.214``, or the word undefined."""
    statistic = _value(item.statistic)
    if statistic is None:
        return "undefined"
    if mv.is_test(item.method):
        return f"p = {statistic:.3g}" if statistic >= 0.001 or statistic == 0 else f"p = {statistic:.2e}"
    return f"{statistic:.3f}"


def _detail(item: FeatureDrift, name: str, window: str) -> str:
    """Hover text of one result (escaped HTML)."""
    verdict = "<b>drifted</b>" if item.drifted else "no drift" if _value(item.statistic) is not None else "no verdict"
    lines = [
        f"<b>{_esc(name)}</b> · {_esc(window)}",
        f"{_esc(mv.method_name(item.method))}: {_esc(_stat_text(item))}",
        f"Drift when {_esc(mv.drift_rule(item.method, item.threshold))} → {verdict}",
        f"{item.rows:,} values" + (f", {item.missing_rate:.1%} missing" if item.missing_rate is not None else ""),
    ]
    if item.psi is not None:
        lines.append(f"PSI {item.psi:.3f} ({_esc(item.psi_band or '')})")
    if item.new_categories:
        lines.append("New values: " + ", ".join(f"{_esc(k)} ({v:,})" for k, v in item.new_categories.items()))
    if item.range_violations:
        lines.append(f"{item.range_violations:,} values outside the reference range")
    if item.note:
        lines.append(f"<i>{_esc(item.note)}</i>")
    return "<br>".join(lines)


def _subtitle(view: mv.MonitoringView, extra: str = "") -> str:
    """``Reference: Evaluation <id> · <rows> rows · <date> · 16 weekly windows from <start>``."""
    report = view.report
    if view.reference_run is not None:
        reference = _caption(view.reference_run, report.reference_rows)
    else:
        text = mv.reference_text(report)
        reference = f"{text[0].upper()}{text[1:]} · {report.reference_rows:,} rows"
    windows = mv.windows_phrase(report.window, len(report.windows))
    return f"Reference: {reference} · {windows}" + (f" · {extra}" if extra else "")


def _chart_key(model: Model, version: ModelVersion, kind: str, view: mv.MonitoringView) -> str:
    return _chart_id(kind, model.id, version.version, view.report.reference)


def _time_axis(view: mv.MonitoringView, *, labels: bool = True) -> dict[str, Any]:
    """A category-like linear axis: one tick per window (thinned when there are many). Panels
    stacked over the same windows label only the bottom axis."""
    count = len(view.windows)
    step = max(1, math.ceil(count / 24))
    shown = [w for w in view.windows if w.index % step == 0]
    return {
        "type": "linear",
        "tickmode": "array",
        "tickvals": [w.index for w in shown],
        "ticktext": [_esc(w.label) for w in shown],
        "range": [-0.5, count - 0.5],
        "tickangle": -45 if count > 6 else 0,
        "showticklabels": labels,
        "zeroline": False,
        "showgrid": False,
        "ticks": "outside",
    }


def _gap_marks(view: mv.MonitoringView, x_axis: str, y_axis: str, *, label: bool = True) -> tuple[list, list]:
    """Grey columns (shapes) and "no records" labels (annotations) for windows without records."""
    shapes, annotations = [], []
    for row in view.empty_windows:
        shapes.append(_column(x_axis, y_axis, row.index, row.index, GAP_FILL))
        if label:
            annotations.append(
                {
                    "x": row.index,
                    "y": 0.5,
                    "xref": x_axis,
                    "yref": f"{y_axis} domain",
                    "text": "<i>no records</i>",
                    "textangle": -90,
                    "showarrow": False,
                    "font": {"color": "#666666", "size": 11},
                }
            )
    return shapes, annotations


def _column(x_axis: str, y_axis: str, first: int, last: int, fill: str) -> dict[str, Any]:
    return {
        "type": "rect",
        "xref": x_axis,
        "yref": f"{y_axis} domain",
        "x0": first - 0.5,
        "x1": last + 0.5,
        "y0": 0,
        "y1": 1,
        "fillcolor": fill,
        "line": {"width": 0},
        "layer": "below",
    }


def _drift_line(
    view: mv.MonitoringView, x_axis: str, y_axis: str, *, label: bool, inside: bool = True
) -> tuple[list, list]:
    """A dashed vertical line where drift starts (the run that reaches the latest window, else the
    first drifted window; inputs or output, as the report defines it), labelled at the top of the panel (``inside``) or above it."""
    row = view.drift_since or view.first_drift
    if row is None:
        return [], []
    shape = {
        "type": "line",
        "xref": x_axis,
        "yref": f"{y_axis} domain",
        "x0": row.index - 0.5,
        "x1": row.index - 0.5,
        "y0": 0,
        "y1": 1,
        "line": {"color": DRIFT_COLOUR, "width": 1.5, "dash": "dash"},
    }
    if not label:
        return [shape], []
    words = "drifting from" if view.drift_since is row else "first drift:"
    note = {
        "x": row.index - 0.5,
        "y": 1,
        "xref": x_axis,
        "yref": f"{y_axis} domain",
        "text": f"<b>{words} {_esc(row.label)}</b>",
        "showarrow": False,
        "xanchor": "left",
        "yanchor": "top" if inside else "bottom",
        "xshift": 4,
        "font": {"color": DRIFT_COLOUR, "size": 12},
        "bgcolor": "rgba(255,255,255,0.85)",
    }
    return [shape], [note]


def _pending_marks(view: mv.MonitoringView, x_axis: str, y_axis: str, *, label: bool) -> tuple[list, list]:
    """Shaded runs of windows whose outcomes have not arrived, labelled once per run."""
    shapes, annotations = [], []
    runs: list[list[int]] = []
    for row in view.windows:
        if row.outcomes_pending or (row.empty and runs and runs[-1][-1] == row.index - 1):
            if runs and runs[-1][-1] == row.index - 1:
                runs[-1].append(row.index)
            else:
                runs.append([row.index])
    for run in runs:
        pending = [i for i in run if view.windows[i].outcomes_pending]
        if not pending:
            continue
        first, last = min(pending), max(pending)
        shapes.append(_column(x_axis, y_axis, first, last, PENDING_FILL))
        if label:
            annotations.append(
                {
                    "x": (first + last) / 2,
                    "y": 0.04,
                    "xref": x_axis,
                    "yref": f"{y_axis} domain",
                    "text": "<i>outcomes not yet<br>arrived</i>"
                    if last - first < 2
                    else "<i>outcomes not yet arrived</i>",
                    "showarrow": False,
                    "yanchor": "bottom",
                    "font": {"color": "#7a4f01", "size": 11},
                }
            )
    return shapes, annotations


def _threshold_line(x_axis: str, y_axis: str, y: float, text: str) -> tuple[dict[str, Any], dict[str, Any]]:
    line = {
        "type": "line",
        "xref": f"{x_axis} domain",
        "yref": y_axis,
        "x0": 0,
        "x1": 1,
        "y0": y,
        "y1": y,
        "line": {"color": OVERALL_COLOUR, "width": 1.5, "dash": "dot"},
    }
    note = {
        "x": 0,
        "y": y,
        "xref": f"{x_axis} domain",
        "yref": y_axis,
        "text": text,
        "showarrow": False,
        "xanchor": "left",
        "yanchor": "bottom",
        "font": {"color": OVERALL_COLOUR, "size": 11},
        "bgcolor": "rgba(255,255,255,0.8)",
    }
    return line, note


# --------------------------------------------------------------------------- (1) heatmap


def drift_heatmap_chart(model: Model, version: ModelVersion) -> str | None:
    """Feature × window: colour = drift strength (:func:`strength`), ✕ = drifted, "n/a" =
    undefined statistic, grey column = no records. Hover: method, statistic, threshold, rows."""
    view = mv.monitoring_view(model, version)
    if view is None or not view.features or not view.windows:
        return None
    z: list[list[float | None]] = []
    marks: list[list[str]] = []
    hover: list[list[str]] = []
    for feature in view.features:
        z_row, mark_row, hover_row = [], [], []
        for row in view.windows:
            item = next((f for f in row.window.features if f.feature == feature), None)
            if row.empty or item is None:
                z_row.append(None)
                mark_row.append("")
                what = "no records in this window" if row.empty else "not tested in this window"
                hover_row.append(f"<b>{_esc(feature)}</b> · {_esc(row.label)}<br><i>{what}</i>")
                continue
            value = strength(item)
            z_row.append(value)
            mark_row.append("✕" if item.drifted else "n/a" if _value(item.statistic) is None else "")
            hover_row.append(_detail(item, feature, row.label))
        z.append(z_row)
        marks.append(mark_row)
        hover.append(hover_row)
    x = [row.index for row in view.windows]
    figure: dict[str, Any] = {
        "data": [
            {
                "type": "heatmap",
                "x": x,
                "y": [_esc(f) for f in view.features],
                "z": z,
                "zmin": -STRENGTH_LIMIT,
                "zmax": STRENGTH_LIMIT,
                "zmid": 0,
                "colorscale": _DIVERGING,
                "xgap": 2,
                "ygap": 2,
                "hoverongaps": True,
                "text": [
                    [m if v is None or v < _DARK_CELL else "" for m, v in zip(mark_row, z_row, strict=True)]
                    for mark_row, z_row in zip(marks, z, strict=True)
                ],
                "texttemplate": "%{text}",
                "textfont": {"size": 13, "color": "#222222"},
                "customdata": hover,
                "hovertemplate": "%{customdata}<extra></extra>",
                "colorbar": {
                    "title": {"text": "Drift strength<br>(× threshold)", "side": "top", "font": {"size": 12}},
                    "tickmode": "array",
                    "tickvals": list(_STRENGTH_TICKS),
                    "ticktext": list(_STRENGTH_TICKS.values()),
                    "thickness": 14,
                    "len": 0.85,
                    "lenmode": "fraction",
                    "y": 0,
                    "yanchor": "bottom",
                    "outlinewidth": 0,
                },
            },
            {  # the marks on dark cells, in white: a transparent layer that takes no hover
                "type": "heatmap",
                "x": x,
                "y": [_esc(f) for f in view.features],
                "z": [[0 if v is not None else None for v in z_row] for z_row in z],
                "colorscale": [[0, "rgba(0,0,0,0)"], [1, "rgba(0,0,0,0)"]],
                "showscale": False,
                "xgap": 2,
                "ygap": 2,
                "text": [
                    [m if v is not None and v >= _DARK_CELL else "" for m, v in zip(mark_row, z_row, strict=True)]
                    for mark_row, z_row in zip(marks, z, strict=True)
                ],
                "texttemplate": "%{text}",
                "textfont": {"size": 13, "color": "#ffffff"},
                "hoverinfo": "skip",
            },
        ],
        "layout": {
            "xaxis": _time_axis(view),
            "yaxis": {"type": "category", "autorange": "reversed", "ticks": "", "showgrid": False},
        },
    }
    shapes, annotations = _gap_marks(view, "x", "y")
    line, note = _drift_line(view, "x", "y", label=True, inside=False)
    figure["layout"]["shapes"] = shapes + line
    figure["layout"]["annotations"] = annotations + note
    figure["layout"]["xaxis"]["title"] = {"text": f"{mv.window_noun(view.kind).capitalize()} starting"}
    figure = _style(
        figure,
        "Drift by feature and window",
        _subtitle(view, "✕ drifted"),
        height=200 + 34 * len(view.features),
        category_x=False,
    )
    figure["layout"]["margin"]["r"] = 40
    label = (
        f"Heatmap of drift for {len(view.features)} features over {len(view.windows)} windows against "
        f"{mv.reference_text(view.report)}; drifted cells are marked with a cross."
    )
    return _html(figure, _chart_key(model, version, "drift-heatmap", view), label)


# --------------------------------------------------------------------------- (2) drift over time


def _output_panel(view: mv.MonitoringView) -> tuple[str, list[float | None], dict[str, Any], float | None, str]:
    """How to draw the output's drift: (axis title, y values, axis settings, threshold y, rule).

    One method and threshold across the windows: the statistic itself (p-values on a log axis,
    floored at 1e-12); otherwise the drift strength of the heatmap."""
    items = [r.window.prediction if not r.empty else None for r in view.windows]
    used = {(i.method, i.threshold) for i in items if i is not None and _value(i.statistic) is not None}
    if len(used) == 1:
        method, threshold = used.pop()
        name = mv.method_name(method)
        rule = mv.drift_rule(method, threshold)
        if mv.is_test(method):
            values = [
                None if i is None or _value(i.statistic) is None else max(float(i.statistic), _P_FLOOR) for i in items
            ]
            axis = {"type": "log", "exponentformat": "power", "title": {"text": f"{name}: p-value"}}
            return name, values, axis, threshold, rule
        values = [None if i is None else _value(i.statistic) for i in items]
        axis = {"rangemode": "tozero", "title": {"text": name}}
        return name, _round(values), axis, threshold, rule
    values = [None if i is None else strength(i) for i in items]
    axis = {
        "range": [-STRENGTH_LIMIT - 0.2, STRENGTH_LIMIT + 0.2],
        "tickmode": "array",
        "tickvals": list(_STRENGTH_TICKS),
        "ticktext": list(_STRENGTH_TICKS.values()),
        "title": {"text": "Drift strength"},
    }
    return "drift strength", values, axis, 0.0, "past the threshold"


def drift_timeline_chart(model: Model, version: ModelVersion) -> str | None:
    """Top: share of drifted features per window against the dataset-drift share. Bottom: drift of
    the model's output (score or prediction) per window against its threshold."""
    view = mv.monitoring_view(model, version)
    if view is None or not view.windows:
        return None
    report = view.report
    output = mv.output_name(version)
    has_output = any(r.window.prediction is not None and not r.empty for r in view.windows)
    titles = [f"Share of {view.counted} that drifted"]
    if has_output:
        titles.append(f"Drift of {output}")
    figure = _panels(titles, len(titles), 1, row_gap=60, panel_height=230)
    layout = figure["layout"]
    x = [r.index for r in view.windows]
    shares = [None if r.empty else _value(r.window.share_drifted) for r in view.windows]
    figure["data"].append(
        {
            "type": "bar",
            "x": x,
            "y": _round(shares),
            "xaxis": "x",
            "yaxis": "y",
            "marker": {"color": [DRIFT_COLOUR if r.window.dataset_drift else STABLE_COLOUR for r in view.windows]},
            "text": ["" if r.empty else f"{len(r.drifted)}/{r.evaluated}" for r in view.windows],
            "textposition": "outside",
            "cliponaxis": False,
            "customdata": [
                f"<b>{_esc(r.label)}</b><br>"
                + (
                    "<i>no records</i>"
                    if r.empty
                    else f"{r.window.rows:,} records<br>{len(r.drifted)} of {r.evaluated} {view.counted} drifted"
                    + (f": {_esc(', '.join(r.drifted))}" if r.drifted else "")
                    + ("<br><b>dataset drift</b>" if r.window.dataset_drift else "<br>no dataset drift")
                )
                for r in view.windows
            ],
            "hovertemplate": "%{customdata}<extra></extra>",
            "showlegend": False,
        }
    )
    for name, colour in (("dataset drift", DRIFT_COLOUR), ("no dataset drift", STABLE_COLOUR)):
        figure["data"].append(
            {"type": "bar", "x": [None], "y": [None], "name": name, "marker": {"color": colour}, "hoverinfo": "skip"}
        )
    layout["yaxis"].update(range=[0, 1.12], tickformat=".0%", title={"text": f"{view.counted.capitalize()} drifted"})
    shapes, annotations = _gap_marks(view, "x", "y")
    line, note = _threshold_line(
        "x", "y", report.dataset_share, f"dataset drift at ≥ {report.dataset_share:.0%} of features"
    )
    shapes.append(line)
    annotations.append(note)
    drift_shapes, drift_notes = _drift_line(view, "x", "y", label=True)
    shapes += drift_shapes
    annotations += drift_notes
    layout["xaxis"].update(_time_axis(view, labels=not has_output))
    if has_output:
        _, values, axis, threshold, rule = _output_panel(view)
        items = [None if r.empty else r.window.prediction for r in view.windows]
        figure["data"].append(
            {
                "type": "scatter",
                "x": x,
                "y": values,
                "xaxis": "x2",
                "yaxis": "y2",
                "mode": "lines+markers",
                "connectgaps": False,
                "line": {"color": LINE_COLOUR, "width": 2},
                "marker": {
                    "size": 9,
                    "color": [DRIFT_COLOUR if i is not None and i.drifted else LINE_COLOUR for i in items],
                    "symbol": ["x" if i is not None and i.drifted else "circle" for i in items],
                },
                "customdata": [
                    f"<b>{_esc(r.label)}</b><br><i>no records</i>" if i is None else _detail(i, output, r.label)
                    for r, i in zip(view.windows, items, strict=True)
                ],
                "hovertemplate": "%{customdata}<extra></extra>",
                "showlegend": False,
            }
        )
        layout["yaxis2"].update(axis)
        layout["xaxis2"].update(_time_axis(view))
        if threshold is not None:
            y = math.log10(threshold) if axis.get("type") == "log" else threshold
            line, note = _threshold_line("x2", "y2", y, f"threshold: drift when {rule}")
            line["y0"] = line["y1"] = threshold  # shapes use data values, annotations log10 ones
            shapes.append(line)
            annotations.append(note)
        gap_shapes, gap_notes = _gap_marks(view, "x2", "y2")
        drift_shapes, _ = _drift_line(view, "x2", "y2", label=False)
        shapes += gap_shapes + drift_shapes
        annotations += gap_notes
    layout["shapes"] = shapes
    layout["annotations"] = [*layout.get("annotations", []), *annotations]
    layout[_layout_key(_axes(len(titles) - 1)[0])]["title"] = {
        "text": f"{mv.window_noun(view.kind).capitalize()} starting"
    }
    figure = _style(
        figure,
        "Drift over time",
        _subtitle(view),
        height=230 * len(titles) + 60 * (len(titles) - 1) + 200,
        panels=len(titles),
        category_x=False,
        legend=True,
    )
    label = (
        f"Share of drifted {view.counted} per window against the dataset-drift share of {report.dataset_share:.0%}"
        + (f", and drift of {output} per window" if has_output else "")
        + "."
    )
    return _html(figure, _chart_key(model, version, "drift-timeline", view), label)


# --------------------------------------------------------------------------- (3) performance


def _performance_range(values: list[float | None], reference: float | None) -> dict[str, Any]:
    """Shares and AUCs span at least 0.2 so week-to-week noise is not blown up; other metrics
    start at zero."""
    defined = [v for v in [*values, reference] if v is not None]
    if not defined:
        return {}
    low, high = min(defined), max(defined)
    if low >= 0.0 and high <= 1.0:
        span = max(0.2, (high - low) * 1.3)
        middle = (low + high) / 2
        bottom = max(0.0, min(middle - span / 2, 1.0 - span))
        return {"range": [round(bottom, 4), round(min(1.0, bottom + span), 4)]}
    return {"rangemode": "tozero"} if low >= 0 else {}


def _bounds(metric: Any) -> tuple[float, float] | None:
    """A metric's interval as (low, high), or None when it has none or its bounds are undefined."""
    interval = getattr(metric, "interval", None)
    if metric is None or metric.value is None or interval is None or interval.low is None or interval.high is None:
        return None
    return float(interval.low), float(interval.high)


def _interval_words(metric: Any) -> str:
    bounds = _bounds(metric)
    if bounds is None:
        return ""
    return f" ({metric.interval.level:.0%} interval {bounds[0]:.3f} – {bounds[1]:.3f})"


def monitoring_performance_chart(model: Model, version: ModelVersion) -> str | None:
    """One panel per charted metric: its value per window with outcomes and its bootstrap interval
    as whiskers, the reference value as a dashed baseline inside a shaded band of its own interval,
    windows whose outcomes have not arrived shaded and labelled."""
    view = mv.monitoring_view(model, version)
    if view is None or not view.metrics or not view.has_performance:
        return None
    reference = view.reference_metrics
    titles = []
    for _name, label, up in view.metrics:
        titles.append(f"{label} ({'higher' if up else 'lower'} is better)")
    figure = _panels(titles, len(titles), 1, row_gap=60, panel_height=220)
    layout = figure["layout"]
    shapes: list[dict[str, Any]] = []
    annotations: list[dict[str, Any]] = []
    x = [r.index for r in view.windows]
    for index, (name, label, _) in enumerate(view.metrics):
        x_axis, y_axis = _axes(index)
        metrics = [r.metrics.get(name) for r in view.windows]
        values = [None if m is None else _value(m.value) for m in metrics]
        base = reference.get(name)
        base_value = None if base is None else _value(base.value)
        bounds = [_bounds(m) for m in metrics]
        whiskers: dict[str, Any] = {}
        if any(bounds):
            whiskers["error_y"] = {
                "type": "data",
                "symmetric": False,
                "array": [
                    None if b is None or v is None else round(b[1] - v, 6) for v, b in zip(values, bounds, strict=True)
                ],
                "arrayminus": [
                    None if b is None or v is None else round(v - b[0], 6) for v, b in zip(values, bounds, strict=True)
                ],
                "color": LINE_COLOUR,
                "thickness": 1.2,
                "width": 4,
            }
        figure["data"].append(
            {
                **whiskers,
                "type": "scatter",
                "x": x,
                "y": _round(values),
                "xaxis": x_axis,
                "yaxis": y_axis,
                "mode": "lines+markers",
                "connectgaps": False,
                "line": {"color": LINE_COLOUR, "width": 2},
                "marker": {"size": 8, "color": LINE_COLOUR},
                "customdata": [
                    f"<b>{_esc(r.label)}</b><br>"
                    + (
                        "<i>no records</i>"
                        if r.empty
                        else "<i>outcomes not yet arrived</i>"
                        if r.outcomes_pending
                        else f"{_esc(label)}: "
                        + ("undefined" if v is None else f"{v:.3f}")
                        + _interval_words(m)
                        + (f" ({_esc(m.note)})" if m is not None and m.note else "")
                        + f"<br>on {r.window.labelled_rows:,} of {r.window.rows:,} records with outcomes"
                    )
                    + ("" if base_value is None else f"<br>Reference: {base_value:.3f}{_interval_words(base)}")
                    for r, m, v in zip(view.windows, metrics, values, strict=True)
                ],
                "hovertemplate": "%{customdata}<extra></extra>",
                "showlegend": False,
            }
        )
        base_bounds = _bounds(base)
        if base_value is not None and base_bounds is not None:
            shapes.append(
                {
                    "type": "rect",
                    "xref": f"{x_axis} domain",
                    "yref": y_axis,
                    "x0": 0,
                    "x1": 1,
                    "y0": base_bounds[0],
                    "y1": base_bounds[1],
                    "fillcolor": "rgba(68,68,68,0.12)",
                    "line": {"width": 0},
                    "layer": "below",
                    "name": "reference interval",
                }
            )
        if base_value is not None:
            line, note = _threshold_line(
                x_axis, y_axis, base_value, f"reference {base_value:.3f}{_interval_words(base)}"
            )
            line["line"] = {"color": OVERALL_COLOUR, "width": 1.5, "dash": "dash"}
            note.update(x=1, xanchor="right")
            shapes.append(line)
            annotations.append(note)
        gap_shapes, gap_notes = _gap_marks(view, x_axis, y_axis)
        pending_shapes, pending_notes = _pending_marks(view, x_axis, y_axis, label=True)
        drift_shapes, drift_notes = _drift_line(view, x_axis, y_axis, label=index == 0)
        shapes += gap_shapes + pending_shapes + drift_shapes
        annotations += gap_notes + pending_notes + drift_notes
        layout[_layout_key(x_axis)].update(_time_axis(view, labels=index == len(view.metrics) - 1))
        spread = [x for b in [*bounds, base_bounds] if b for x in b]
        layout[_layout_key(y_axis)].update(_performance_range([*values, *spread], base_value))
    layout["shapes"] = shapes
    layout["annotations"] = [*layout.get("annotations", []), *annotations]
    layout[_layout_key(_axes(len(titles) - 1)[0])]["title"] = {
        "text": f"{mv.window_noun(view.kind).capitalize()} starting"
    }
    figure = _style(
        figure,
        "Performance over time, where outcomes have arrived",
        _subtitle(view),
        height=220 * len(titles) + 60 * (len(titles) - 1) + 200,
        panels=len(titles),
        category_x=False,
    )
    label = (
        f"{' and '.join(label for _, label, _ in view.metrics)} per window, against the reference: "
        f"{mv.reference_text(view.report)}."
    )
    return _html(figure, _chart_key(model, version, "monitoring-performance", view), label)


# --------------------------------------------------------------------------- (4) distributions


def distribution_chart(model: Model, version: ModelVersion) -> str | None:
    """Per feature, the share of records in each bin: reference (grey) beside the latest window with
    records (blue). Numeric bins are the reference's deciles, so the grey bars are about 10% each;
    values the reference never had are marked "new"."""
    view = mv.monitoring_view(model, version)
    if view is None or not view.report.latest or view.latest is None:
        return None
    items = {f.feature: f for f in view.latest.window.features}
    distributions = view.report.latest
    cols = 2 if len(distributions) > 1 else 1
    rows = math.ceil(len(distributions) / cols)
    titles = []
    for d in distributions:
        item = items.get(d.feature)
        verdict = "" if item is None else " — drifted ✕" if item.drifted else " — no drift"
        titles.append(f"{d.feature}{verdict}")
    crowded = any(len(d.bins) > 6 or sum(len(b) for b in d.bins) > 40 for d in distributions)
    gap = 150 if crowded else 90
    figure = _panels(titles, rows, cols, row_gap=gap, panel_height=230)
    layout = figure["layout"]
    latest = view.latest
    for index, d in enumerate(distributions):
        x_axis, y_axis = _axes(index)
        item = items.get(d.feature)
        new = set(item.new_categories) if item is not None else set()
        ticks = [
            f"{_esc(b)} <i>(new)</i>" if b in new or (d.kind == "categorical" and ref == 0) else _esc(b)
            for b, ref in zip(d.bins, d.reference_share, strict=False)
        ]
        categories = [str(i) for i in range(len(d.bins))]
        for name, shares, colour in (
            ("Reference", d.reference_share, REFERENCE_COLOUR),
            (f"Latest window ({latest.label})", d.current_share, LINE_COLOUR),
        ):
            figure["data"].append(
                {
                    "type": "bar",
                    "x": categories,
                    "y": _round(shares),
                    "xaxis": x_axis,
                    "yaxis": y_axis,
                    "name": _esc(name),
                    "legendgroup": name,
                    "showlegend": index == 0,
                    "marker": {"color": colour},
                    "customdata": [_esc(b) for b in d.bins],
                    "hovertemplate": f"<b>{_esc(d.feature)}</b>: %{{customdata}}<br>{_esc(name)}: "
                    "%{y:.1%} of records<extra></extra>",
                }
            )
        crowded = len(d.bins) > 6 or sum(len(b) for b in d.bins) > 40
        layout[_layout_key(x_axis)].update(
            type="category", tickmode="array", tickvals=categories, ticktext=ticks, tickangle=-35 if crowded else 0
        )
        layout[_layout_key(y_axis)].update(tickformat=".0%", rangemode="tozero")
        if index % cols == 0:
            layout[_layout_key(y_axis)]["title"] = {"text": "Share of records"}
    layout["barmode"] = "group"
    figure = _style(
        figure,
        f"Reference against the latest window ({latest.label}, {latest.window.rows:,} records)",
        _subtitle(view),
        height=230 * rows + gap * (rows - 1) + 230,
        panels=len(distributions),
        category_x=False,
        legend=True,
    )
    layout = figure["layout"]
    layout["bargap"] = 0.2
    label = (
        f"Bar charts of the distribution of {len(distributions)} features in the reference and in the latest "
        f"window starting {latest.label}."
    )
    return _html(figure, _chart_key(model, version, "drift-distributions", view), label)
