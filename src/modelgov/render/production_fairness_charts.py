"""Charts of fairness in production: for one sensitive feature, each disparity over the monitoring
windows, one panel per measure.

Bases are told apart by colour and line: blue solid with interval whiskers for values measured on
records (selection rates from every scored record, or realized where outcomes arrived), orange
dotted without whiskers for values estimated from the scores (they carry no interval: the methods
page says why). A window whose summary left a group out as too small has a hollow marker, and its
hover names the group and why. The policy threshold, where a rule sets one, is a dashed red line.
The conventions of :mod:`.monitoring_charts` hold (window positions on the time axis, grey columns
for windows without records, escaped text, a subtitle with the reference).
"""

from __future__ import annotations

from typing import Any

from modelgov.manifest import Manifest, Model, ModelVersion
from modelgov.render import monitoring_views as mv
from modelgov.render import production_fairness_views as pfv
from modelgov.render.chart_style import (
    LINE_COLOUR,
    MARK_COLOUR,
    _axes,
    _esc,
    _html,
    _layout_key,
    _panels,
    _round,
    _style,
)
from modelgov.render.monitoring_chart_parts import _chart_key, _finish_panels, _gap_marks, _subtitle, _time_axis

ESTIMATE_COLOUR = "#e69f00"  # orange: estimated, not measured (as on the estimated-performance chart)
PANEL_HEIGHT = 220


def production_fairness_chart(
    model: Model, version: ModelVersion, feature: str, manifest: Manifest | None = None
) -> str | None:
    view = mv.monitoring_view(model, version)
    found = next(
        (f for f in pfv.production_fairness_view(model, version, manifest) if f.result.feature == feature), None
    )
    if view is None or found is None or not found.measures:
        return None
    measures = found.measures
    titles = [m.label for m in measures]
    figure = _panels(titles, len(titles), 1, row_gap=60, panel_height=PANEL_HEIGHT)
    layout = figure["layout"]
    shapes: list[dict[str, Any]] = []
    annotations: list[dict[str, Any]] = []
    x = [row.index for row in view.windows]
    shown: set[str] = set()
    for index, measure in enumerate(measures):
        x_axis, y_axis = _axes(index)
        values_seen: list[float] = []
        for basis, points in measure.series.items():
            by_index = {p.index: p for p in points}
            ys, lows, highs, hover, symbols = [], [], [], [], []
            for position in x:
                point = by_index.get(position)
                if point is None:
                    ys.append(None), lows.append(0), highs.append(0), hover.append(""), symbols.append("circle")
                    continue
                item = point.item
                ys.append(item.value)
                interval = item.interval
                has = interval is not None and interval.low is not None and interval.high is not None
                # an interval that leaves out its value (a worst-case gap's can) draws no whisker on that side
                lows.append(max(0.0, item.value - interval.low) if has and item.value is not None else 0)
                highs.append(max(0.0, interval.high - item.value) if has and item.value is not None else 0)
                text = f"<b>{_esc(point.label)}</b><br>{_esc(measure.label)}, {_esc(pfv.BASIS_WORDS[basis])}: "
                text += f"{item.value:.3f}" if item.value is not None else "undefined"
                if has:
                    text += f" (interval {interval.low:.3f} – {interval.high:.3f})"
                if item.value is not None:
                    text += f"<br>{_esc(pfv.gap_sentence(point))}"
                text += f"<br>on {point.rows:,} records" + (" (expected counts)" if basis == "estimated" else "")
                if point.excluded:
                    text += "<br><i>left out: " + _esc("; ".join(point.excluded)) + "</i>"
                hover.append(text)
                symbols.append("circle-open" if point.excluded else "circle")
                if item.value is not None:
                    values_seen.append(item.value)
                    if has:
                        values_seen += [interval.low, interval.high]
            estimated = basis == "estimated"
            colour = ESTIMATE_COLOUR if estimated else LINE_COLOUR
            name = {"selection": "measured on every scored record", "realized": "realized, where outcomes arrived",
                    "estimated": "estimated from the scores (no interval)"}[basis]  # fmt: skip
            trace: dict[str, Any] = {
                "type": "scatter", "x": x, "y": _round(ys), "xaxis": x_axis, "yaxis": y_axis,
                "mode": "lines+markers", "connectgaps": False, "name": name,
                "showlegend": name not in shown,
                "line": {"color": colour, "width": 2, "dash": "dot" if estimated else "solid"},
                "marker": {"size": 8, "color": colour, "symbol": symbols, "line": {"color": colour, "width": 2}},
                "customdata": hover, "hovertemplate": "%{customdata}<extra></extra>",
            }  # fmt: skip
            shown.add(name)
            if not estimated:
                trace["error_y"] = {
                    "type": "data", "symmetric": False, "array": _round(highs), "arrayminus": _round(lows),
                    "color": colour, "thickness": 1.2, "width": 3,
                }  # fmt: skip
            figure["data"].append(trace)
        threshold = measure.threshold
        if threshold is not None:
            shapes.append(
                {"type": "line", "xref": f"{x_axis} domain", "yref": y_axis, "x0": 0, "x1": 1,
                 "y0": threshold.value, "y1": threshold.value,
                 "line": {"color": MARK_COLOUR, "width": 1.5, "dash": "dash"}}
            )  # fmt: skip
            annotations.append(
                {"x": 1, "xref": f"{x_axis} domain", "y": threshold.value, "yref": y_axis, "xanchor": "right",
                 "yanchor": "bottom", "showarrow": False, "font": {"color": MARK_COLOUR, "size": 11},
                 "text": _esc(f"policy: {threshold.operator} {threshold.value:g}")}
            )  # fmt: skip
            values_seen.append(threshold.value)
        gap_shapes, gap_notes = _gap_marks(view, x_axis, y_axis)
        shapes += gap_shapes
        annotations += gap_notes
        layout[_layout_key(x_axis)].update(_time_axis(view, labels=index == len(measures) - 1))
        low = min([0.0, *values_seen]) if measure.name.endswith("_difference") else min([*values_seen, 1.0])
        high = max([*values_seen, 0.05]) if measure.name.endswith("_difference") else max([1.0, *values_seen])
        pad = (high - low) * 0.08 or 0.05
        layout[_layout_key(y_axis)].update({"range": [low - pad, high + pad]})
    _finish_panels(figure, view.kind, len(titles), shapes, annotations)
    figure = _style(
        figure,
        f"Gaps between the groups of {feature} in production",
        _subtitle(view),
        height=PANEL_HEIGHT * len(titles) + 60 * (len(titles) - 1) + 260,
        panels=len(titles),
        category_x=False,
        legend=True,
    )
    words = ", ".join(m.label.lower() for m in measures)
    return _html(
        figure,
        _chart_key(model, version, f"production-fairness-{feature}", view),
        f"Per window, the {words} between the groups of {feature}, with intervals and the policy threshold.",
    )
