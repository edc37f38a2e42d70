"""The site's charts, for the renderer: the version-history chart, and every chart family by name.

The families live in their own modules (:mod:`.fairness_charts`, :mod:`.performance_charts`,
:mod:`.explanation_charts`, :mod:`.monitoring_charts`, :mod:`.estimation_charts`) and follow the
conventions of :mod:`.chart_style` (stable ids, script-safe JSON, every user string escaped, a
subtitle that keeps a figure's provenance); this module names them for the page renderer.
"""

from __future__ import annotations

from modelgov.manifest import (
    Model,
)
from modelgov.render import views
from modelgov.render.chart_style import (  # noqa: F401 — the helpers, importable from here as before
    _AXIS_STYLE,
    _COLUMNS,
    _FONT,
    _PANEL_HEIGHT,
    _PD_PANEL_HEIGHT,
    _PLOTLY_CONFIG,
    _ROW_GAP,
    _X_LINEAR_STYLE,
    _X_STYLE,
    _Y_STYLE,
    ICE_COLOUR,
    LINE_COLOUR,
    MARK_COLOUR,
    OVERALL_COLOUR,
    PALETTE,
    UNDEFINED_COLOUR,
    WHISKER_COLOUR,
    _axes,
    _caption,
    _chart_id,
    _esc,
    _fmt,
    _grid,
    _grid_height,
    _html,
    _interval_text,
    _layout_key,
    _note,
    _panels,
    _round,
    _serialise,
    _style,
    _value,
    _values,
    _visible_strings,
    _y_range,
    plotly_js_path,
)
from modelgov.render.explanation_charts import importance_chart, partial_dependence_chart, shap_chart
from modelgov.render.fairness_charts import fairness_chart
from modelgov.render.performance_charts import calibration_chart, curves_chart, regression_chart

__all__ = [
    "calibration_chart",
    "curves_chart",
    "fairness_chart",
    "history_chart",
    "importance_chart",
    "partial_dependence_chart",
    "plotly_js_path",
    "regression_chart",
    "shap_chart",
]


# --------------------------------------------------------------------------- version history


def _history_metrics(model: Model) -> list[tuple[str, str, str]]:
    """(name, label, which way it is better) of every metric of any version, newest version's order first."""
    seen: dict[str, tuple[str, str, str]] = {}
    for version in model.versions:
        for entry in views.metric_names(version):
            seen.setdefault(entry[0], entry)
    return list(seen.values())


def history_chart(model: Model) -> str | None:
    """Each metric across the model's versions (per version, see :func:`views.metric_value`).

    Returns None when no version has an evaluation, so the page shows no empty chart.
    """
    metrics = _history_metrics(model)
    versions = [v for v in reversed(model.versions) if v.evaluations]  # oldest first
    if not metrics or not versions:
        return None
    titles = [f"{label} ({better} is better)" for _, label, better in metrics]
    rows, cols = _grid(len(metrics), len(versions))
    figure = _panels(titles, rows, cols)
    categories = [_esc(v.version) for v in versions]
    annotations = []
    whiskers = False
    for index, (key, label, _) in enumerate(metrics):
        x_axis, y_axis = _axes(index)
        values: list[float | None] = []
        bounds: list[tuple[float, float] | None] = []
        custom = []
        for version in versions:
            found = views.metric_value(version, key)
            value = _value(found[1].value) if found else None
            values.append(value)
            run = found[0] if found else version.latest_evaluation
            interval = found[1].interval if found else None
            defined = interval is not None and _value(interval.low) is not None and _value(interval.high) is not None
            bounds.append((interval.low, interval.high) if defined and value is not None else None)
            custom.append(
                [
                    _esc(version.version),
                    _esc(version.status),
                    _esc(run.id),
                    _esc(run.date),
                    _esc(run.dataset),
                    _esc(label),
                    _fmt(value) + (f"<br>{_esc(_interval_text(interval))}" if found and value is not None else "")
                    if found
                    else "not computed",
                    f"{run.performance.rows:,}",
                ]
            )
            if found and value is None:
                annotations.append(_note(x_axis, y_axis, _esc(version.version), "undefined"))
        figure["data"].append(
            {
                "type": "scatter",
                "x": categories,
                "y": values,
                "xaxis": x_axis,
                "yaxis": y_axis,
                "mode": "lines+markers",
                "line": {"color": LINE_COLOUR, "width": 2},
                "marker": {"size": 9, "color": LINE_COLOUR},
                "connectgaps": False,
                "customdata": custom,
                "hovertemplate": (
                    "<b>Version %{customdata[0]}</b> (%{customdata[1]})<br>"
                    "%{customdata[5]}: %{customdata[6]}<br>"
                    "Evaluation %{customdata[2]} on %{customdata[4]}<br>"
                    "%{customdata[7]} rows, %{customdata[3]}<extra></extra>"
                ),
                "showlegend": False,
            }
        )
        if any(bounds):
            plus = [None if b is None or v is None else round(b[1] - v, 6) for v, b in zip(values, bounds, strict=True)]
            minus = [
                None if b is None or v is None else round(v - b[0], 6) for v, b in zip(values, bounds, strict=True)
            ]
            figure["data"][-1]["error_y"] = {
                "type": "data",
                "symmetric": False,
                "array": plus,
                "arrayminus": minus,
                "color": LINE_COLOUR,
                "thickness": 1.5,
                "width": 5,
            }
            whiskers = True
        _y_range(figure["layout"], y_axis, [*values, *(x for b in bounds if b for x in b)])
    figure["layout"]["annotations"] = [*figure["layout"].get("annotations", []), *annotations]
    subtitle = "Each point: the version's latest evaluation run that computes the metric (hover for run, rows and date)"
    if whiskers:
        subtitle += " · whiskers: intervals"
    figure = _style(
        figure, f"{model.name}: metrics by version", subtitle, height=_grid_height(rows), panels=len(metrics)
    )
    label = f"Line charts of {', '.join(label for _, label, _ in metrics)} for each version of {model.name}."
    return _html(figure, _chart_id("history", model.id), label)
