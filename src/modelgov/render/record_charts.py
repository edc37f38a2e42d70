"""Charts of explained decisions: the SHAP beeswarm of a run, and one record's what-if curves.

The conventions of :mod:`.chart_style` hold; the subtitle names the evaluation run (and the record).
"""

from __future__ import annotations

from typing import Any

from modelgov.manifest import EvaluationRun, ExplainedRecord, Model, ModelVersion
from modelgov.render.chart_style import (
    LINE_COLOUR,
    MARK_COLOUR,
    OVERALL_COLOUR,
    _axes,
    _caption,
    _chart_id,
    _esc,
    _grid,
    _grid_height,
    _html,
    _layout_key,
    _panels,
    _round,
    _style,
)

#: Colours of a beeswarm's points: low values of the feature blue, high ones orange, others grey.
_LOW, _HIGH, _NONE = "#0072B2", "#E69F00", "#8a8a8a"


def beeswarm_chart(model: Model, version: ModelVersion, run: EvaluationRun) -> str | None:
    """Each feature's SHAP values on a sample of rows, one row of points per feature, coloured by the
    rank of the row's own value of the feature (blue low, orange high)."""
    shap = run.explainability.shap if run.explainability else None
    if shap is None or not shap.distribution:
        return None
    data: list[dict[str, Any]] = []
    for position, item in enumerate(shap.distribution):
        count = len(item.values)
        # a deterministic jitter so that points with equal values stay visible
        jitter = [position + ((i * 0.6180339887) % 1 - 0.5) * 0.5 for i in range(count)]
        colours = [(_NONE if c is None else (_HIGH if c >= 0.5 else _LOW)) for c in (item.colour or [None] * count)]
        data.append(
            {
                "type": "scatter",
                "mode": "markers",
                "x": _round(item.values),
                "y": _round(jitter, 3),
                "marker": {"size": 5, "color": colours, "opacity": 0.7},
                "hovertemplate": f"<b>{_esc(item.feature)}</b><br>SHAP value: %{{x:.4f}}<extra></extra>",
                "showlegend": False,
            }
        )
    features = [_esc(item.feature) for item in shap.distribution]
    figure = {
        "data": data,
        "layout": {
            "xaxis": {"title": {"text": "SHAP value (right: pushes the prediction up)"}, "zeroline": True},
            "yaxis": {
                "tickmode": "array",
                "tickvals": list(range(len(features))),
                "ticktext": features,
                "autorange": "reversed",
                "zeroline": False,
            },
        },
    }
    rows = max(len(item.values) for item in shap.distribution)
    subtitle = f"{_caption(run, rows)} · {shap.explainer} · orange: high value, blue: low"
    figure = _style(
        figure, "SHAP values of each feature, row by row", subtitle, height=190 + 34 * len(features), category_x=False
    )
    label = f"SHAP values of {len(features)} features on {rows:,} rows, evaluation {run.id}, {run.date}."
    return _html(figure, _chart_id("beeswarm", model.id, version.version, run.id), label)


def what_if_chart(model: Model, version: ModelVersion, run: EvaluationRun, record: ExplainedRecord) -> str | None:
    """One panel per feature: the record's score as the feature moves over its observed range, the
    others held; the threshold as a dashed line, adverse decisions as orange points."""
    explained = run.explainability.records if run.explainability else None
    if explained is None or not record.what_if:
        return None
    rows, cols = _grid(len(record.what_if), 3)
    figure = _panels([item.label for item in record.what_if], rows, cols)
    layout = figure["layout"]
    shapes = []
    for index, item in enumerate(record.what_if):
        x_axis, y_axis = _axes(index)
        numeric = item.kind == "numeric"
        grid: list[Any] = _round([float(v) for v in item.grid]) if numeric else [_esc(v) for v in item.grid]
        figure["data"].append(
            {
                "type": "scatter",
                "x": grid,
                "y": _round(item.scores),
                "xaxis": x_axis,
                "yaxis": y_axis,
                "mode": "lines+markers" if numeric else "markers",
                "line": {"color": LINE_COLOUR, "width": 2},
                "marker": {"size": 7, "color": [MARK_COLOUR if a else LINE_COLOUR for a in item.adverse]},
                "hovertemplate": f"{_esc(item.label)} = %{{x}}<br>Score: %{{y:.3f}}<extra></extra>",
                "showlegend": False,
            }
        )
        shapes.append(
            {
                "type": "line",
                "xref": f"{x_axis} domain",
                "yref": y_axis,
                "x0": 0,
                "x1": 1,
                "y0": explained.threshold,
                "y1": explained.threshold,
                "line": {"color": OVERALL_COLOUR, "width": 1, "dash": "dash"},
            }
        )
        layout[_layout_key(x_axis)].update(type="linear" if numeric else "category")
        if index % cols == 0:
            layout[_layout_key(y_axis)].update(title={"text": "Score"})
    layout["shapes"] = shapes
    name = f"record {record.id}" if record.id else f"record {record.number}"
    subtitle = f"{_caption(run)} · {name} · dashed: threshold {explained.threshold:g} · orange: adverse decision"
    figure = _style(
        figure,
        "What if one feature were different?",
        subtitle,
        height=_grid_height(rows),
        panels=len(record.what_if),
        category_x=False,
    )
    label = f"What-if curves of {name} for {', '.join(item.label for item in record.what_if)}, evaluation {run.id}."
    return _html(figure, _chart_id("what-if", model.id, version.version, run.id, str(record.number)), label)
