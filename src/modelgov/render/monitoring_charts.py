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

from modelgov.manifest import Model, ModelVersion
from modelgov.render import monitoring_views as mv
from modelgov.render.chart_style import (
    LINE_COLOUR,
    _axes,
    _esc,
    _html,
    _layout_key,
    _panels,
    _round,
    _style,
    _value,
)
from modelgov.render.monitoring_chart_parts import (  # noqa: F401 — importable from here as before
    _DARK_CELL,
    _DIVERGING,
    _P_FLOOR,
    _STRENGTH_TICKS,
    DRIFT_COLOUR,
    GAP_FILL,
    PENDING_FILL,
    REFERENCE_COLOUR,
    STABLE_COLOUR,
    STRENGTH_LIMIT,
    _bounds,
    _chart_key,
    _column,
    _detail,
    _drift_line,
    _finish_panels,
    _gap_marks,
    _interval_words,
    _pending_marks,
    _performance_range,
    _stat_text,
    _subtitle,
    _threshold_line,
    _time_axis,
    strength,
)
from modelgov.render.performance_over_time_chart import monitoring_performance_chart

__all__ = [
    "distribution_chart",
    "drift_heatmap_chart",
    "drift_timeline_chart",
    "monitoring_performance_chart",
    "strength",
]


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
    _finish_panels(figure, view.kind, len(titles), shapes, annotations)
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
