"""Charts of an evaluation's performance: ROC and precision–recall curves with the decision
threshold marked, calibration, and predicted against actual for regressors.

The conventions of :mod:`.chart_style` hold; the subtitle names the evaluation run.
"""

from __future__ import annotations

import copy
import functools
import itertools
from collections.abc import Sequence
from typing import Any

from plotly.subplots import make_subplots

from modelgov.manifest import (
    EvaluationRun,
    Model,
    ModelVersion,
)
from modelgov.render import views
from modelgov.render.chart_style import (
    LINE_COLOUR,
    MARK_COLOUR,
    UNDEFINED_COLOUR,
    _axes,
    _caption,
    _chart_id,
    _esc,
    _fmt,
    _html,
    _layout_key,
    _panels,
    _round,
    _style,
    _value,
    _values,
)

# --------------------------------------------------------------------------- performance


def _closest(thresholds: Sequence[float], target: float) -> int | None:
    """Index of the curve point whose threshold is nearest the decision threshold."""
    finite = [(abs(t - target), i) for i, t in enumerate(thresholds) if _value(t) is not None]
    return min(finite)[1] if finite else None


def curves_chart(model: Model, version: ModelVersion, run: EvaluationRun) -> str | None:
    """ROC and precision–recall curves side by side, the decision threshold marked on each."""
    perf = run.performance
    panels = [(kind, curve) for kind, curve in (("roc", perf.roc_curve), ("pr", perf.pr_curve)) if curve is not None]
    if not panels:
        return None
    names = {
        "roc": ("ROC curve", "roc_auc", "False positive rate", "True positive rate"),
        "pr": ("Precision–recall curve", "pr_auc", "Recall (true positive rate)", "Precision"),
    }
    titles = []
    for kind, _ in panels:
        title, metric_name, _, _ = names[kind]
        metric = views.metric_of(run, metric_name)
        if metric is not None and metric.value is not None:
            title += f" ({metric.label} {metric.value:.3f})"
        titles.append(title)
    figure = _panels(titles, 1, len(panels))
    layout = figure["layout"]
    for index, (kind, curve) in enumerate(panels):
        x_axis, y_axis = _axes(index)
        _, _, x_title, y_title = names[kind]
        thresholds = [_fmt(t) for t in curve.thresholds] if len(curve.thresholds) == len(curve.x) else []
        if kind == "roc":
            figure["data"].append(
                {
                    "type": "scatter",
                    "x": [0, 1],
                    "y": [0, 1],
                    "xaxis": x_axis,
                    "yaxis": y_axis,
                    "mode": "lines",
                    "line": {"color": UNDEFINED_COLOUR, "dash": "dot", "width": 1},
                    "hoverinfo": "skip",
                    "showlegend": False,
                }
            )
        figure["data"].append(
            {
                "type": "scatter",
                "x": _round(curve.x),
                "y": _round(curve.y),
                "xaxis": x_axis,
                "yaxis": y_axis,
                "mode": "lines",
                "line": {"color": LINE_COLOUR, "width": 2.5},
                "customdata": thresholds,
                "hovertemplate": f"{x_title}: %{{x:.3f}}<br>{y_title}: %{{y:.3f}}"
                + ("<br>Score threshold: %{customdata}" if thresholds else "")
                + "<extra></extra>",
                "showlegend": False,
            }
        )
        point = _closest(curve.thresholds, perf.threshold) if perf.threshold is not None and thresholds else None
        if point is not None:
            figure["data"].append(
                {
                    "type": "scatter",
                    "x": [_value(curve.x[point])],
                    "y": [_value(curve.y[point])],
                    "xaxis": x_axis,
                    "yaxis": y_axis,
                    "mode": "markers+text",
                    "marker": {"size": 11, "color": MARK_COLOUR, "symbol": "diamond"},
                    "text": [f"threshold {perf.threshold:g}"],
                    "textposition": "bottom right" if (_value(curve.x[point]) or 0) < 0.6 else "bottom left",
                    "textfont": {"color": MARK_COLOUR},
                    "hovertemplate": f"At the decision threshold {perf.threshold:g}:<br>{x_title}: %{{x:.3f}}<br>"
                    f"{y_title}: %{{y:.3f}}<extra></extra>",
                    "showlegend": False,
                }
            )
        layout[_layout_key(x_axis)].update(title={"text": x_title}, range=[0, 1.02])
        layout[_layout_key(y_axis)].update(title={"text": y_title}, range=[0, 1.04])
    figure = _style(
        figure,
        "How well the scores separate the classes",
        _caption(run),
        height=470,
        panels=len(panels),
        category_x=False,
    )
    label = f"{' and '.join(titles)} for evaluation {run.id}, {run.performance.rows:,} rows, {run.date}."
    return _html(figure, _chart_id("curves", model.id, version.version, run.id), label)


@functools.cache
def _calibration_panels() -> dict[str, Any]:
    """The calibration chart's two panels as ``make_subplots`` lays them out, built once per process
    (each chart gets a copy): the layout is the same for every chart, and building it, a plotly
    Figure that validates every property it is given, took more time than the rest of the chart.
    plotly's default template is left out: :func:`.chart_style._style` sets the chart's own, and
    copying it for every chart was half of what is left."""
    figure = make_subplots(
        rows=2,
        cols=1,
        shared_xaxes=True,
        row_heights=[0.72, 0.28],
        vertical_spacing=0.1,
        subplot_titles=["Observed share of positives against the predicted probability", "Rows per score bin"],
    ).to_plotly_json()
    figure["layout"].pop("template", None)
    return figure


def calibration_chart(model: Model, version: ModelVersion, run: EvaluationRun) -> str | None:
    """Reliability diagram: observed share of positives against the mean score per bin, with
    the rows per bin underneath (a bin far off the diagonal matters less when it is nearly empty)."""
    calibration = run.performance.calibration
    if calibration is None or not calibration.bins:
        return None
    bins = calibration.bins
    figure = copy.deepcopy(_calibration_panels())
    layout = figure["layout"]
    plotted = [b for b in bins if b.count > 0 and _value(b.mean_predicted) is not None]
    plotted = [b for b in plotted if _value(b.fraction_positive) is not None]
    figure["data"] += [
        {
            "type": "scatter",
            "x": [0, 1],
            "y": [0, 1],
            "xaxis": "x",
            "yaxis": "y",
            "mode": "lines",
            "line": {"color": UNDEFINED_COLOUR, "dash": "dot", "width": 1},
            "hoverinfo": "skip",
            "showlegend": False,
        },
        {
            "type": "scatter",
            "x": _round([b.mean_predicted for b in plotted]),
            "y": _round([b.fraction_positive for b in plotted]),
            "xaxis": "x",
            "yaxis": "y",
            "mode": "lines+markers",
            "line": {"color": LINE_COLOUR, "width": 2},
            "marker": {"size": 8, "color": LINE_COLOUR},
            "customdata": [[f"{b.low:.2f}", f"{b.high:.2f}", f"{b.count:,}"] for b in plotted],
            "hovertemplate": (
                "Scores %{customdata[0]} to %{customdata[1]} (%{customdata[2]} rows)<br>"
                "Mean predicted probability: %{x:.3f}<br>Observed share of positives: %{y:.3f}<extra></extra>"
            ),
            "showlegend": False,
        },
        {
            "type": "bar",
            "x": _round([(b.low + b.high) / 2 for b in bins]),
            "y": [b.count for b in bins],
            "width": _round([b.high - b.low for b in bins]),
            "xaxis": "x2",
            "yaxis": "y2",
            "marker": {"color": "#9ab7d3", "line": {"color": "#ffffff", "width": 1}},
            "customdata": [[f"{b.low:.2f}", f"{b.high:.2f}"] for b in bins],
            "hovertemplate": "Scores %{customdata[0]} to %{customdata[1]}: %{y:,} rows<extra></extra>",
            "showlegend": False,
        },
    ]
    layout["xaxis"].update(range=[0, 1])
    layout["xaxis2"].update(range=[0, 1], title={"text": "Predicted probability (score)"})
    layout["yaxis"].update(range=[0, 1.04], title={"text": "Observed share of positives"})
    layout["yaxis2"].update(title={"text": "Rows"}, rangemode="tozero")
    subtitle = f"{_caption(run)} · expected calibration error {calibration.expected_calibration_error:.3f}"
    figure = _style(
        figure, "Calibration: do the scores mean what they say?", subtitle, height=600, panels=2, category_x=False
    )
    label = f"Calibration curve for evaluation {run.id}, {run.performance.rows:,} rows, {run.date}."
    return _html(figure, _chart_id("calibration", model.id, version.version, run.id), label)


def regression_chart(model: Model, version: ModelVersion, run: EvaluationRun) -> str | None:
    """Residual histogram and predicted-against-actual scatter (a seeded sample of rows)."""
    perf = run.performance
    titles: list[str] = []
    if perf.residuals is not None and perf.residuals.counts:
        titles.append("Errors: prediction − actual")
    sample = perf.predicted_vs_actual
    if sample is not None and sample.x:
        titles.append(f"Predicted against actual ({len(sample.x):,} sampled rows)")
    if not titles:
        return None
    figure = _panels(titles, 1, len(titles))
    layout = figure["layout"]
    index = 0
    if perf.residuals is not None and perf.residuals.counts:
        edges, counts = perf.residuals.edges, perf.residuals.counts
        figure["data"].append(
            {
                "type": "bar",
                "x": _round([(a + b) / 2 for a, b in itertools.pairwise(edges)]),
                "y": counts,
                "width": _round([b - a for a, b in itertools.pairwise(edges)]),
                "xaxis": "x",
                "yaxis": "y",
                "marker": {"color": LINE_COLOUR, "line": {"color": "#ffffff", "width": 1}},
                "customdata": [[f"{a:,.2f}", f"{b:,.2f}"] for a, b in itertools.pairwise(edges)],
                "hovertemplate": "Error %{customdata[0]} to %{customdata[1]}: %{y:,} rows<extra></extra>",
                "showlegend": False,
            }
        )
        layout["xaxis"].update(title={"text": "Prediction − actual (negative: under-predicted)"})
        layout["yaxis"].update(title={"text": "Rows"}, rangemode="tozero")
        index = 1
    if sample is not None and sample.x:
        x_axis, y_axis = _axes(index)
        defined = [v for v in _values([*sample.x, *sample.y]) if v is not None]
        low, high = (min(defined), max(defined)) if defined else (0.0, 1.0)
        figure["data"] += [
            {
                "type": "scatter",
                "x": [low, high],
                "y": [low, high],
                "xaxis": x_axis,
                "yaxis": y_axis,
                "mode": "lines",
                "line": {"color": UNDEFINED_COLOUR, "dash": "dot", "width": 1},
                "hoverinfo": "skip",
                "showlegend": False,
            },
            {
                "type": "scatter",
                "x": _round(sample.x),
                "y": _round(sample.y),
                "xaxis": x_axis,
                "yaxis": y_axis,
                "mode": "markers",
                "marker": {"size": 5, "color": LINE_COLOUR, "opacity": 0.45},
                "hovertemplate": "Actual %{x:,.2f}<br>Predicted %{y:,.2f}<extra></extra>",
                "showlegend": False,
            },
        ]
        layout[_layout_key(x_axis)].update(title={"text": f"Actual ({_esc(run.label)})"})
        layout[_layout_key(y_axis)].update(title={"text": "Predicted"})
    figure = _style(
        figure, "Size and direction of the errors", _caption(run), height=470, panels=len(titles), category_x=False
    )
    label = f"{' and '.join(titles)} for evaluation {run.id}, {run.performance.rows:,} rows, {run.date}."
    return _html(figure, _chart_id("errors", model.id, version.version, run.id), label)
