"""Plotly charts for the site, built from manifest data and written as inline HTML.

Each chart is a ``<div>`` with a stable id (derived from model, version, evaluation and feature,
never random, so rebuilding the same manifest gives the same bytes) and one inline
``Plotly.newPlot`` call. The JSON is serialised here, with sorted keys and ``<``, ``>``, ``&``
escaped as ``\\u003c`` etc., so a group called ``</script>`` cannot end the script early.
plotly.js itself is not inlined: the site ships one local copy (:func:`plotly_js_path`) that the
page head loads, so the site works offline and stays small.

Every user string that reaches plotly is HTML-escaped first: plotly reads a subset of HTML in
titles, tick labels and hover text, and the reader must see a group name as written.
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import plotly
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from modelgov.errors import BuildError
from modelgov.manifest import EvaluationRun, FairnessResult, Model, ModelVersion
from modelgov.render import views
from modelgov.render.text import slug

__all__ = ["fairness_chart", "history_chart", "plotly_js_path"]

#: Okabe–Ito: distinguishable with the common forms of colour blindness, and in greyscale print.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
LINE_COLOUR = "#0072B2"
OVERALL_COLOUR = "#444444"
UNDEFINED_COLOUR = "#8a8a8a"
_FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif"
_PANEL_HEIGHT = 240
_ROW_GAP = 110
_COLUMNS = 3
_PLOTLY_CONFIG = {
    "displaylogo": False,
    "responsive": True,
    "modeBarButtonsToRemove": ["select2d", "lasso2d", "autoScale2d"],
}


def plotly_js_path() -> Path:
    """The minified plotly.js bundled with the installed plotly package (copied once per site)."""
    path = Path(plotly.__file__).resolve().parent / "package_data" / "plotly.min.js"
    if not path.is_file():
        raise BuildError(f"plotly.js was not found at {path}; reinstall the plotly package")
    return path


# --------------------------------------------------------------------------- helpers


def _esc(value: object) -> str:
    return html.escape(str(value), quote=False)


def _value(value: float | None) -> float | None:
    """A plottable number, or None (a gap) when undefined."""
    if value is None or not math.isfinite(value):
        return None
    return float(value)


def _fmt(value: float | None, digits: int = 3) -> str:
    return "undefined" if _value(value) is None else f"{value:,.{digits}f}"


def _chart_id(*parts: str) -> str:
    return "chart--" + "--".join(slug(part) for part in parts)


def _grid(panels: int, categories: int) -> tuple[int, int]:
    """(rows, columns) of panels: fewer, wider columns when each panel has many bars or points."""
    most = _COLUMNS if categories <= 3 else 2 if categories <= 6 else 1
    cols = max(1, min(most, panels))
    return math.ceil(panels / cols), cols


def _panel_axes(index: int) -> tuple[str, str]:
    """Plotly's axis names for the ``index``-th subplot (0-based): ('x', 'y'), ('x2', 'y2'), …"""
    suffix = "" if index == 0 else str(index + 1)
    return f"x{suffix}", f"y{suffix}"


def _subplots(titles: Sequence[str], categories: int) -> go.Figure:
    rows, cols = _grid(len(titles), categories)
    # Room for two lines of tick labels and the next panel's title between rows.
    spacing = min(0.3, _ROW_GAP / (_PANEL_HEIGHT * rows + _ROW_GAP * (rows - 1))) if rows > 1 else 0.0
    return make_subplots(
        rows=rows,
        cols=cols,
        subplot_titles=[_esc(title) for title in titles],
        vertical_spacing=spacing,
        horizontal_spacing=0.08,
    )


_AXIS_STYLE = {"showline": True, "linecolor": "#999999", "automargin": True}
_X_STYLE = {**_AXIS_STYLE, "type": "category", "tickangle": 0, "ticks": ""}
_Y_STYLE = {**_AXIS_STYLE, "gridcolor": "#e6e6e6", "zeroline": True, "zerolinecolor": "#999999"}


def _style(figure: dict[str, Any], title: str, panels: int, categories: int) -> dict[str, Any]:
    """Apply the site's chart style to a serialised figure.

    Done on the plain dict in one pass: plotly's per-property validation in ``update_*`` calls
    made styling the slowest part of a site build.
    """
    rows, _ = _grid(panels, categories)
    layout = figure["layout"]
    for key, axis in layout.items():
        if key.startswith(("xaxis", "yaxis")):
            layout[key] = {**(_X_STYLE if key.startswith("x") else _Y_STYLE), **axis}
    for annotation in layout.get("annotations", [])[:panels]:  # make_subplots adds the titles first
        annotation["font"] = {"family": _FONT, "size": 14, "color": "#222222"}
    layout.update(
        template={},  # plotly.js defaults, not the Python package's default template
        title={"text": _esc(title), "x": 0, "xanchor": "left", "font": {"size": 16}},
        font={"family": _FONT, "size": 13, "color": "#222222"},
        height=_PANEL_HEIGHT * rows + _ROW_GAP * (rows - 1) + 140,
        margin={"l": 60, "r": 20, "t": 90, "b": 50},
        paper_bgcolor="rgba(0,0,0,0)",
        plot_bgcolor="#ffffff",
        hoverlabel={"font": {"family": _FONT, "size": 13}, "align": "left"},
        bargap=0.25,
        showlegend=False,
    )
    return figure


def _y_range(fig: go.Figure, axis: str, values: Sequence[float | None]) -> None:
    """Show shares on a fixed 0–1 scale so small differences are not blown up visually."""
    defined = [v for v in values if v is not None]
    layout_key = axis.replace("y", "yaxis", 1)
    if defined and all(0.0 <= v <= 1.0 for v in defined):
        fig.layout[layout_key].range = [0, 1.08]
    elif defined and all(v >= 0 for v in defined):
        fig.layout[layout_key].rangemode = "tozero"


def _undefined_note(fig: go.Figure, x_axis: str, y_axis: str, x: str) -> None:
    """Mark an undefined value in place of its point or bar — not as a zero."""
    fig.add_annotation(
        x=x,
        y=0.04,
        xref=x_axis,
        yref=f"{y_axis} domain",
        text="<i>undefined</i>",
        showarrow=False,
        font={"color": UNDEFINED_COLOUR, "size": 11},
        yanchor="bottom",
    )


def _serialise(value: object) -> str:
    """Deterministic JSON that is safe inside an HTML ``<script>`` element."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _html(figure: dict[str, Any], chart_id: str, label: str) -> str:
    height = int(figure["layout"]["height"])
    return (
        f'<div class="mg-chart" id="{chart_id}" style="height:{height}px" role="img" '
        f'aria-label="{html.escape(label, quote=True)}"></div>\n'
        f'<script>Plotly.newPlot("{chart_id}",{_serialise(figure["data"])},'
        f"{_serialise(figure['layout'])},{_serialise(_PLOTLY_CONFIG)});</script>"
    )


# --------------------------------------------------------------------------- version history


def _history_metrics(model: Model) -> list[tuple[str, str, bool]]:
    """(name, label, higher_is_better) of every metric of any version, newest version's order first."""
    seen: dict[str, tuple[str, str, bool]] = {}
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
    titles = [f"{label} ({'higher' if up else 'lower'} is better)" for _, label, up in metrics]
    fig = _subplots(titles, len(versions))
    _, cols = _grid(len(metrics), len(versions))
    categories = [_esc(v.version) for v in versions]
    for index, (key, label, _) in enumerate(metrics):
        x_axis, y_axis = _panel_axes(index)
        values: list[float | None] = []
        custom = []
        for version in versions:
            found = views.metric_value(version, key)
            value = _value(found[1].value) if found else None
            values.append(value)
            run = found[0] if found else version.latest_evaluation
            custom.append(
                [
                    _esc(version.version),
                    _esc(version.status),
                    _esc(run.id),
                    _esc(run.date),
                    _esc(run.dataset),
                    _esc(label),
                    _fmt(value) if found else "not computed",
                ]
            )
            if found and value is None:
                _undefined_note(fig, x_axis, y_axis, _esc(version.version))
        fig.add_trace(
            go.Scatter(
                x=categories,
                y=values,
                mode="lines+markers",
                line={"color": LINE_COLOUR, "width": 2},
                marker={"size": 9, "color": LINE_COLOUR},
                connectgaps=False,
                customdata=custom,
                hovertemplate=(
                    "<b>Version %{customdata[0]}</b> (%{customdata[1]})<br>"
                    "%{customdata[5]}: %{customdata[6]}<br>"
                    "Evaluation %{customdata[2]} on %{customdata[4]}, %{customdata[3]}<extra></extra>"
                ),
                showlegend=False,
            ),
            row=index // cols + 1,
            col=index % cols + 1,
        )
        _y_range(fig, y_axis, values)
    figure = _style(fig.to_plotly_json(), f"{model.name}: metrics by version", len(metrics), len(versions))
    label = f"Line charts of {', '.join(label for _, label, _ in metrics)} for each version of {model.name}."
    return _html(figure, _chart_id("history", model.id), label)


# --------------------------------------------------------------------------- fairness


def fairness_chart(model: Model, version: ModelVersion, run: EvaluationRun, result: FairnessResult) -> str | None:
    """One panel per metric comparing the groups of one sensitive feature, with the overall value.

    Small groups are drawn hatched and paler, and named as small on the axis, because their
    numbers are unreliable; undefined values are labelled "undefined" where the bar would be.
    """
    metrics = list(result.metric_labels.items())
    if not metrics or not result.groups:
        return None
    groups = len(result.groups)
    fig = _subplots([label for _, label in metrics], groups)
    _, cols = _grid(len(metrics), groups)
    categories = [str(i) for i in range(len(result.groups))]
    ticktext = []
    for group in result.groups:
        name = _esc(group.group)
        ticktext.append(f"{name}<br><i>(small)</i>" if group.small else name)
    colours = [PALETTE[i % len(PALETTE)] for i in range(len(result.groups))]
    for index, (key, label) in enumerate(metrics):
        x_axis, y_axis = _panel_axes(index)
        row, col = index // cols + 1, index % cols + 1
        values = [_value(group.metrics.get(key)) for group in result.groups]
        overall = _value(result.overall.get(key))
        custom = [
            [
                _esc(group.group),
                f"{group.count:,}",
                f" (small group: fewer than {result.min_group_size:,} rows, unreliable)" if group.small else "",
                _esc(label),
                _fmt(value),
                _fmt(overall),
            ]
            for group, value in zip(result.groups, values, strict=True)
        ]
        fig.add_trace(
            go.Bar(
                x=categories,
                y=values,
                marker={
                    "color": colours,
                    "opacity": [0.55 if g.small else 1.0 for g in result.groups],
                    "pattern": {"shape": ["/" if g.small else "" for g in result.groups], "solidity": 0.3},
                    "line": {"color": colours, "width": 1},
                },
                text=["" if v is None else f"{v:.2f}" for v in values],
                textposition="outside",
                cliponaxis=False,
                customdata=custom,
                hovertemplate=(
                    "<b>%{customdata[0]}</b><br>Rows: %{customdata[1]}%{customdata[2]}<br>"
                    "%{customdata[3]}: %{customdata[4]}<br>All rows: %{customdata[5]}<extra></extra>"
                ),
                showlegend=False,
            ),
            row=row,
            col=col,
        )
        if overall is not None:
            fig.add_trace(
                go.Scatter(
                    x=categories,
                    y=[overall] * len(categories),
                    mode="lines",
                    line={"color": OVERALL_COLOUR, "dash": "dash", "width": 1.5},
                    name="All rows",
                    showlegend=False,
                    hovertemplate=f"All rows: {_fmt(overall)}<extra></extra>",
                ),
                row=row,
                col=col,
            )
        for category, value in zip(categories, values, strict=True):
            if value is None:
                _undefined_note(fig, x_axis, y_axis, category)
        fig.layout[x_axis.replace("x", "xaxis", 1)].update(tickmode="array", tickvals=categories, ticktext=ticktext)
        _y_range(fig, y_axis, [*values, overall])
    title = f"{result.feature}: metrics by group (evaluation {run.id})"
    figure = _style(fig.to_plotly_json(), title, len(metrics), groups)
    label = f"Bar charts comparing the groups of {result.feature} on {', '.join(label for _, label in metrics)}."
    return _html(figure, _chart_id("fairness", model.id, version.version, run.id, result.feature), label)
