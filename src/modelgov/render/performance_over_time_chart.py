"""Performance over time: each charted metric per window with outcomes, with its bootstrap interval,
against the reference evaluation's value and interval; windows awaiting outcomes shaded.

Built from :mod:`.monitoring_chart_parts`, so it lines up with the monitoring page's other charts.
"""

from __future__ import annotations

from typing import Any

from modelgov.manifest import Model, ModelVersion
from modelgov.render import monitoring_views as mv
from modelgov.render.chart_style import (
    LINE_COLOUR,
    OVERALL_COLOUR,
    _axes,
    _esc,
    _html,
    _layout_key,
    _panels,
    _round,
    _style,
    _value,
)
from modelgov.render.monitoring_chart_parts import (
    _bounds,
    _chart_key,
    _drift_line,
    _finish_panels,
    _gap_marks,
    _interval_words,
    _pending_marks,
    _performance_range,
    _subtitle,
    _threshold_line,
    _time_axis,
)


def monitoring_performance_chart(model: Model, version: ModelVersion) -> str | None:
    """One panel per charted metric: its value per window with outcomes and its bootstrap interval
    as whiskers, the reference value as a dashed baseline inside a shaded band of its own interval,
    windows whose outcomes have not arrived shaded and labelled."""
    view = mv.monitoring_view(model, version)
    if view is None or not view.metrics or not view.has_performance:
        return None
    reference = view.reference_metrics
    titles = []
    for _name, label, better in view.metrics:
        titles.append(f"{label} ({better} is better)")
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
    _finish_panels(figure, view.kind, len(titles), shapes, annotations)
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
