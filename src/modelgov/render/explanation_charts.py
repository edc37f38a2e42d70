"""Charts of a version's explainability: permutation importance, SHAP values and partial
dependence with individual conditional expectation lines.

The conventions of :mod:`.chart_style` hold; the subtitle names the evaluation run.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from modelgov.manifest import (
    EvaluationRun,
    FeatureImportance,
    Model,
    ModelVersion,
)
from modelgov.render.chart_style import (
    _PD_PANEL_HEIGHT,
    ICE_COLOUR,
    LINE_COLOUR,
    OVERALL_COLOUR,
    WHISKER_COLOUR,
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

# --------------------------------------------------------------------------- explainability


def _bars(
    features: Sequence[str], values: Sequence[float], errors: Sequence[float] | None, hover: str
) -> dict[str, Any]:
    """A figure dict with horizontal bars, the first feature at the top."""
    trace: dict[str, Any] = {
        "type": "bar",
        "orientation": "h",
        "x": _round(values),
        "y": [_esc(feature) for feature in features],
        "marker": {"color": LINE_COLOUR},
        "hovertemplate": hover,
        "showlegend": False,
    }
    if errors is not None:
        trace["error_x"] = {
            "type": "data",
            "array": _round(errors),
            "color": WHISKER_COLOUR,
            "thickness": 1.5,
            "width": 5,
        }
        trace["customdata"] = [f"{e:.4f}" for e in errors]
    return {
        "data": [trace],
        "layout": {
            "xaxis": {"zeroline": True, "zerolinecolor": "#999999"},
            "yaxis": {"type": "category", "autorange": "reversed", "gridcolor": "rgba(0,0,0,0)", "ticks": ""},
        },
    }


def _bars_height(count: int) -> int:
    return 190 + 30 * max(count, 1)


def importance_chart(model: Model, version: ModelVersion, run: EvaluationRun) -> str | None:
    """Permutation importance: mean drop in the score per feature, whiskers ± one standard deviation."""
    result = run.explainability.permutation_importance if run.explainability else None
    if result is None or not result.features:
        return None
    features: list[FeatureImportance] = result.features
    figure = _bars(
        [f.feature for f in features],
        [f.mean for f in features],
        [f.std for f in features],
        "<b>%{y}</b><br>Mean drop in score: %{x:.4f}<br>Standard deviation: %{customdata}<extra></extra>",
    )
    figure["layout"]["xaxis"]["title"] = {"text": f"Drop in {_esc(result.scoring)} when the feature is shuffled"}
    subtitle = f"{_caption(run, result.rows)} · {result.repeats:,} shuffles per feature · whiskers: ± 1 std"
    figure = _style(figure, "Permutation importance", subtitle, height=_bars_height(len(features)), category_x=False)
    label = (
        f"Permutation importance of {len(features)} features, evaluation {run.id}, {result.rows:,} rows, {run.date}."
    )
    return _html(figure, _chart_id("importance", model.id, version.version, run.id), label)


def shap_chart(model: Model, version: ModelVersion, run: EvaluationRun) -> str | None:
    """Mean absolute SHAP value per feature, largest first."""
    shap = run.explainability.shap if run.explainability else None
    if shap is None or not shap.mean_abs:
        return None
    figure = _bars(
        list(shap.mean_abs),
        list(shap.mean_abs.values()),
        None,
        "<b>%{y}</b><br>Mean |SHAP value|: %{x:.4f}<extra></extra>",
    )
    figure["layout"]["xaxis"]["title"] = {"text": "Mean absolute SHAP value (average size of the feature's effect)"}
    subtitle = f"{_caption(run, shap.rows)} · {shap.explainer}"
    figure = _style(
        figure,
        "SHAP: average contribution of each feature",
        subtitle,
        height=_bars_height(len(shap.mean_abs)),
        category_x=False,
    )
    label = f"Mean absolute SHAP values of {len(shap.mean_abs)} features, evaluation {run.id}, {shap.rows:,} rows, {run.date}."
    return _html(figure, _chart_id("shap", model.id, version.version, run.id), label)


def _with_gaps(lines: Sequence[Sequence[Any]]) -> list[Any]:
    """Several lines as one trace, separated by gaps (one trace draws much faster than hundreds)."""
    out: list[Any] = []
    for line in lines:
        out += [*line, None]
    return out[:-1]


def partial_dependence_chart(model: Model, version: ModelVersion, run: EvaluationRun) -> str | None:
    """One panel per feature: the average prediction as the feature is set to each grid value
    (thick line), over faint individual-row (ICE) curves."""
    items = run.explainability.partial_dependence if run.explainability else []
    if not items:
        return None
    rows, cols = _grid(len(items), 3)
    figure = _panels([item.feature for item in items], rows, cols, panel_height=_PD_PANEL_HEIGHT)
    layout = figure["layout"]
    ice_rows = max(len(item.ice) for item in items)
    for index, item in enumerate(items):
        x_axis, y_axis = _axes(index)
        numeric = item.kind == "numeric"
        grid: list[Any] = _round([float(v) for v in item.grid]) if numeric else [_esc(v) for v in item.grid]
        if item.ice:
            figure["data"].append(
                {
                    "type": "scatter",
                    "x": _with_gaps([grid] * len(item.ice)),
                    "y": _with_gaps([_round(curve) for curve in item.ice]),
                    "xaxis": x_axis,
                    "yaxis": y_axis,
                    "mode": "lines",
                    "line": {"color": ICE_COLOUR, "width": 1},
                    "connectgaps": False,
                    "hoverinfo": "skip",
                    "showlegend": False,
                }
            )
        figure["data"].append(
            {
                "type": "scatter",
                "x": grid,
                "y": _round(item.average),
                "xaxis": x_axis,
                "yaxis": y_axis,
                # Categories have no order between them: points, not a line, for the average.
                "mode": ("lines" if len(grid) > 12 else "lines+markers") if numeric else "markers",
                "line": {"color": OVERALL_COLOUR, "width": 3},
                "marker": {"size": 7 if numeric else 11, "color": OVERALL_COLOUR},
                "hovertemplate": f"{_esc(item.feature)} = %{{x}}<br>Average prediction: %{{y:.3f}}<extra></extra>",
                "showlegend": False,
            }
        )
        layout[_layout_key(x_axis)].update(type="linear" if numeric else "category")
        if index % cols == 0:
            layout[_layout_key(y_axis)].update(title={"text": "Prediction"})
    subtitle = _caption(run)
    if ice_rows:
        subtitle += f" · faint lines: {ice_rows:,} individual rows"
    figure = _style(
        figure,
        "Partial dependence: how the prediction moves with each feature",
        subtitle,
        height=_grid_height(rows, _PD_PANEL_HEIGHT),
        panels=len(items),
        category_x=False,
    )
    label = (
        f"Partial dependence of the prediction on {', '.join(item.feature for item in items)}, "
        f"evaluation {run.id}, {run.performance.rows:,} rows, {run.date}."
    )
    return _html(figure, _chart_id("partial-dependence", model.id, version.version, run.id), label)
