"""Plotly charts for the site, built from manifest data and written as inline HTML.

Each chart is a ``<div>`` with a stable id (derived from model, version, evaluation and feature,
never random, so rebuilding the same manifest gives the same bytes) and one inline
``Plotly.newPlot`` call. The JSON is serialised here, with sorted keys and ``<``, ``>``, ``&``
escaped as ``\\u003c`` etc., so a group called ``</script>`` cannot end the script early.
plotly.js itself is not inlined: the site ships one local copy (:func:`plotly_js_path`) that the
page head loads, so the site works offline and stays small.

Every user string that reaches plotly is HTML-escaped first: plotly reads a subset of HTML in
titles, tick labels and hover text, and the reader must see a group name as written. Control
characters and bidi overrides in any string of a figure are shown as escapes (``\\x1b``), so a group
label cannot hide or reorder text in the SVG plotly draws.

Every chart that shows one evaluation run names it in its subtitle, with the number of rows the
chart is computed on and the run's date, so a figure copied into a report keeps its provenance.
Figures are assembled as plain dicts (``make_subplots`` only lays out the panels): plotly's
per-property validation made building large figures the slowest part of a site build.
"""

from __future__ import annotations

import html
import itertools
import json
import math
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import plotly
from plotly.subplots import make_subplots

from modelgov.errors import BuildError
from modelgov.manifest import (
    EvaluationRun,
    FairnessResult,
    FeatureImportance,
    GroupMetrics,
    Interval,
    Model,
    ModelVersion,
)
from modelgov.render import views
from modelgov.render.text import slug
from modelgov.text_safety import visible

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

#: Okabe–Ito: distinguishable with the common forms of colour blindness, and in greyscale print.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
LINE_COLOUR = "#0072B2"
MARK_COLOUR = "#D55E00"
OVERALL_COLOUR = "#444444"
UNDEFINED_COLOUR = "#8a8a8a"
WHISKER_COLOUR = "#222222"
ICE_COLOUR = "rgba(0,114,178,0.16)"
_FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif"
_PANEL_HEIGHT = 240
_PD_PANEL_HEIGHT = 300
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
    """A user string for plotly's pseudo-HTML (titles, ticks, hover text, legends): escaped, with
    control characters and bidi overrides shown as escapes (:func:`modelgov.text_safety.visible`)."""
    return html.escape(visible(value, keep=""), quote=False)


def _visible_strings(value: object) -> object:
    """``value`` with every string in it passed through :func:`visible`: the net under :func:`_esc`
    for a user string that reaches a figure some other way (a category on an axis, a legend entry)."""
    if isinstance(value, str):
        return visible(value, keep="")
    if isinstance(value, dict):
        return {key: _visible_strings(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_visible_strings(item) for item in value]
    return value


def _value(value: float | None) -> float | None:
    """A plottable number, or None (a gap) when undefined."""
    if value is None or not math.isfinite(value):
        return None
    return float(value)


def _values(values: Sequence[float | None]) -> list[float | None]:
    return [_value(v) for v in values]


def _fmt(value: float | None, digits: int = 3) -> str:
    return "undefined" if _value(value) is None else f"{value:,.{digits}f}"


def _chart_id(*parts: str) -> str:
    return "chart--" + "--".join(slug(part) for part in parts)


def _caption(run: EvaluationRun, rows: int | None = None) -> str:
    """The provenance line under a chart's title: run, rows, date (plain text, escaped later)."""
    total = run.performance.rows
    shown = total if rows is None else rows
    rows_text = f"{shown:,} rows" if shown == total else f"{shown:,} of {total:,} rows"
    return f"Evaluation {run.id} · {rows_text} · {run.date}"


def _interval_text(interval: Interval | None, digits: int = 3) -> str:
    """An interval for hover text (plain, escaped by the caller's template)."""
    if interval is None:
        return "no interval computed"
    level = f"{interval.level * 100:g}%"
    if _value(interval.low) is None or _value(interval.high) is None:
        return f"{level} interval undefined (metric defined in {interval.defined_share:.0%} of resamples)"
    return f"{level} interval {interval.low:,.{digits}f} – {interval.high:,.{digits}f}"


def _grid(panels: int, categories: int) -> tuple[int, int]:
    """(rows, columns) of panels: fewer, wider columns when each panel has many bars or points."""
    most = _COLUMNS if categories <= 3 else 2 if categories <= 6 else 1
    cols = max(1, min(most, panels))
    return math.ceil(panels / cols), cols


def _grid_height(rows: int, panel_height: int = _PANEL_HEIGHT) -> int:
    return panel_height * rows + _ROW_GAP * (rows - 1) + 150


def _axes(index: int) -> tuple[str, str]:
    """Trace references of the ``index``-th subplot (0-based): ('x', 'y'), ('x2', 'y2'), …"""
    suffix = "" if index == 0 else str(index + 1)
    return f"x{suffix}", f"y{suffix}"


def _layout_key(axis: str) -> str:
    """'x2' → 'xaxis2': the layout key of a trace's axis reference."""
    return axis[0] + "axis" + axis[1:]


def _panels(
    titles: Sequence[str], rows: int, cols: int, *, row_gap: int = _ROW_GAP, panel_height: int = _PANEL_HEIGHT
) -> dict[str, Any]:
    """An empty figure dict with ``rows × cols`` panels; unused cells have no visible axes."""
    spacing = min(0.3, row_gap / (panel_height * rows + row_gap * (rows - 1))) if rows > 1 else 0.0
    figure = make_subplots(
        rows=rows,
        cols=cols,
        subplot_titles=[_esc(title) for title in titles],
        vertical_spacing=spacing,
        horizontal_spacing=0.08 if cols > 1 else 0.0,
    ).to_plotly_json()
    for index in range(len(titles), rows * cols):
        x, y = _axes(index)
        figure["layout"][_layout_key(x)]["visible"] = False
        figure["layout"][_layout_key(y)]["visible"] = False
    return figure


_AXIS_STYLE = {"showline": True, "linecolor": "#999999", "automargin": True}
_X_STYLE = {**_AXIS_STYLE, "type": "category", "tickangle": 0, "ticks": ""}
_X_LINEAR_STYLE = {**_AXIS_STYLE, "gridcolor": "#eeeeee", "zeroline": False, "ticks": "outside"}
_Y_STYLE = {**_AXIS_STYLE, "gridcolor": "#e6e6e6", "zeroline": True, "zerolinecolor": "#999999"}


def _style(
    figure: dict[str, Any],
    title: str,
    subtitle: str,
    *,
    height: int,
    panels: int = 0,
    category_x: bool = True,
    legend: bool = False,
) -> dict[str, Any]:
    """Apply the site's chart style to a figure dict: title with the provenance subtitle, fonts,
    axes (category x axes unless ``category_x`` is False), height and margins."""
    layout = figure["layout"]
    x_style = _X_STYLE if category_x else _X_LINEAR_STYLE
    for key, axis in layout.items():
        if key.startswith(("xaxis", "yaxis")):
            layout[key] = {**(x_style if key.startswith("x") else _Y_STYLE), **axis}
    for annotation in layout.get("annotations", [])[:panels]:  # make_subplots adds the titles first
        annotation["font"] = {"family": _FONT, "size": 14, "color": "#222222"}
    layout.update(
        template={},  # plotly.js defaults, not the Python package's default template
        title={
            "text": f"<b>{_esc(title)}</b>",
            "subtitle": {"text": _esc(subtitle), "font": {"size": 13, "color": "#555555"}},
            "x": 0,
            "xanchor": "left",
            "font": {"size": 16},
        },
        font={"family": _FONT, "size": 13, "color": "#222222"},
        height=height,
        margin={"l": 60, "r": 20, "t": 110, "b": 60 if not legend else 90},
        paper_bgcolor="rgba(0,0,0,0)",
        plot_bgcolor="#ffffff",
        hoverlabel={"font": {"family": _FONT, "size": 13}, "align": "left"},
        bargap=0.25,
        showlegend=legend,
    )
    if legend:
        layout["legend"] = {
            "orientation": "h",
            "x": 0,
            "xanchor": "left",
            "xref": "container",
            "y": 0,
            "yanchor": "bottom",
            "yref": "container",
            "font": {"size": 13},
        }
    return figure


def _y_range(layout: dict[str, Any], axis: str, values: Sequence[float | None]) -> None:
    """Show shares on a fixed 0–1 scale so small differences are not blown up visually."""
    defined = [v for v in values if v is not None]
    key = _layout_key(axis)
    if defined and all(0.0 <= v <= 1.0 for v in defined):
        layout[key]["range"] = [0, 1.08]
    elif defined and all(v >= 0 for v in defined):
        layout[key]["rangemode"] = "tozero"


def _note(x_axis: str, y_axis: str, x: str, word: str) -> dict[str, Any]:
    """A word ("undefined", "absent") written where a bar or point would be — never a zero."""
    return {
        "x": x,
        "y": 0.04,
        "xref": x_axis,
        "yref": f"{y_axis} domain",
        "text": f"<i>{word}</i>",
        "showarrow": False,
        "font": {"color": UNDEFINED_COLOUR, "size": 11},
        "yanchor": "bottom",
    }


def _serialise(value: object) -> str:
    """Deterministic JSON that is safe inside an HTML ``<script>`` element, with no control
    character in any of its strings (plotly would draw them into the SVG)."""
    text = json.dumps(
        _visible_strings(value), sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False
    )
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _html(figure: dict[str, Any], chart_id: str, label: str) -> str:
    height = int(figure["layout"]["height"])
    return (
        f'<div class="mg-chart" id="{chart_id}" style="height:{height}px" role="img" '
        f'aria-label="{html.escape(visible(label, keep=""), quote=True)}"></div>\n'
        f'<script>Plotly.newPlot("{chart_id}",{_serialise(figure["data"])},'
        f"{_serialise(figure['layout'])},{_serialise(_PLOTLY_CONFIG)});</script>"
    )


def _round(values: Sequence[float | None], digits: int = 5) -> list[float | None]:
    """Plotted coordinates, rounded: smaller pages, and no float noise in the HTML."""
    return [None if v is None else round(v, digits) for v in _values(values)]


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


# --------------------------------------------------------------------------- fairness


def _is_intersection(result: FairnessResult) -> bool:
    present = [group for group in result.groups if not group.absent]
    return len(result.features) > 1 and bool(present) and all(group.values for group in present)


#: Width of the plotting area of a page's charts, in pixels, at a 1400 px window (Material's content column).
_CHART_PX = 860
_CHAR_PX = 8  # a tick label character at the axis font size (13 px), generously


def _wrapped(name: str, width: int) -> str:
    """``name`` broken into lines of at most ``width`` characters at spaces and after hyphens
    (a single longer word stays whole), joined with <br> and escaped."""
    words = [w for w in re.split(r"(?<=-)|\s+", name) if w]
    lines: list[str] = []
    for word in words:
        if lines and len(lines[-1]) + len(word) + (0 if lines[-1].endswith("-") else 1) <= width:
            lines[-1] += word if lines[-1].endswith("-") else " " + word
        else:
            lines.append(word)
    return "<br>".join(_esc(line) for line in lines) or _esc(name)


def _tick_width(result: FairnessResult, cols: int) -> int:
    """Characters a group's tick label may take per line so neighbouring labels do not touch."""
    slot = _CHART_PX / max(cols, 1) / max(len(result.groups), 1)
    return max(4, int(slot / _CHAR_PX) - 1)


def _group_tick(group: GroupMetrics, result: FairnessResult, intersection: bool, width: int = 40) -> str:
    if intersection and group.values:
        name = "<br>".join(_wrapped(group.values.get(feature, ""), width) for feature in result.features)
    else:
        name = _wrapped(group.group, width)
    if group.absent:
        return f"{name}<br><i>(absent)</i>"
    return f"{name}<br><i>(small)</i>" if group.small else name


def _group_colours(result: FairnessResult, intersection: bool) -> tuple[list[str], dict[str, str]]:
    """A colour per group, and for an intersection the legend: the first feature's value → colour."""
    if not intersection:
        return [PALETTE[i % len(PALETTE)] for i in range(len(result.groups))], {}
    first = result.features[0]
    legend: dict[str, str] = {}
    for group in result.groups:
        if group.values:
            legend.setdefault(group.values.get(first, ""), PALETTE[len(legend) % len(PALETTE)])
    return [legend.get(group.values.get(first, ""), UNDEFINED_COLOUR) for group in result.groups], legend


def fairness_chart(model: Model, version: ModelVersion, run: EvaluationRun, result: FairnessResult) -> str | None:
    """One panel per metric comparing the groups of one sensitive feature (or intersection).

    Whiskers show each group's interval; the dashed line and grey band are the value and interval
    for all rows. Small groups, and rates resting on fewer than the minimum of people, are drawn
    hatched and paler (small groups are named as small on the axis),
    because their numbers are unreliable; undefined values are labelled "undefined" and absent
    groups "absent" where the bar would be. An intersection's bars are coloured by the value of
    its first feature, with a legend.
    """
    metrics = list(result.metric_labels.items())
    if not metrics or not result.groups:
        return None
    groups = result.groups
    intersection = _is_intersection(result)
    rows, cols = _grid(len(metrics), len(groups))
    parts = re.compile(r"(?<=-)|\s+|×")  # where a label may break (intersections join values with " × ")
    word = max((len(w) for g in groups for w in parts.split(g.group)), default=1)
    while cols > 1 and word > _tick_width(result, cols):  # fewer, wider panels before slanting labels
        cols -= 1
        rows = math.ceil(len(metrics) / cols)
    figure = _panels([label for _, label in metrics], rows, cols)
    layout = figure["layout"]
    categories = [str(i) for i in range(len(groups))]
    width = _tick_width(result, cols)
    ticktext = [_group_tick(group, result, intersection, width) for group in groups]
    lines = [line for tick in ticktext for line in html.unescape(re.sub(r"<[^>]+>", "\n", tick)).split("\n")]
    longest = max((len(line) for line in lines), default=0)
    colours, legend = _group_colours(result, intersection)
    annotations: list[dict[str, Any]] = []
    shapes: list[dict[str, Any]] = []
    any_whiskers = False
    for index, (key, label) in enumerate(metrics):
        x_axis, y_axis = _axes(index)
        values = [None if group.absent else _value(group.metrics.get(key)) for group in groups]
        intervals = [None if group.absent else group.intervals.get(key) for group in groups]
        overall = _value(result.overall.get(key))
        overall_interval = result.overall_intervals.get(key)
        custom = [
            [
                _esc(group.group),
                f"{group.count:,}",
                " (absent: declared but not in the data)"
                if group.absent
                else f" (small group: fewer than {result.min_group_size:,} rows, unreliable)"
                if group.small
                else f" (this rate rests on {group.denominators.get(key, 0):,} people: fewer than "
                f"{result.min_group_size:,}, unreliable)"
                if key in group.few
                else "",
                _esc(label),
                "absent"
                if group.absent
                else _fmt(value) + ("" if value is None else f"<br>{_esc(_interval_text(interval))}"),
                _fmt(overall),
            ]
            for group, value, interval in zip(groups, values, intervals, strict=True)
        ]
        whiskers = [
            (category, value, interval)
            for category, value, interval in zip(categories, values, intervals, strict=True)
            if value is not None
            and interval is not None
            and _value(interval.low) is not None
            and _value(interval.high) is not None
        ]
        figure["data"].append(
            {
                "type": "bar",
                "x": categories,
                "y": values,
                "xaxis": x_axis,
                "yaxis": y_axis,
                "marker": {
                    "color": colours,
                    "opacity": [0.55 if g.small or key in g.few else 1.0 for g in groups],
                    "pattern": {"shape": ["/" if g.small or key in g.few else "" for g in groups], "solidity": 0.3},
                    "line": {"color": colours, "width": 1},
                },
                # Values are written on the bars only without whiskers, which they would collide with.
                "text": [] if whiskers else ["" if v is None else f"{v:.2f}" for v in values],
                "textposition": "outside",
                "cliponaxis": False,
                "customdata": custom,
                "hovertemplate": (
                    "<b>%{customdata[0]}</b><br>Rows: %{customdata[1]}%{customdata[2]}<br>"
                    "%{customdata[3]}: %{customdata[4]}<br>"
                    "All rows: %{customdata[5]}<extra></extra>"
                ),
                "showlegend": False,
            }
        )
        if whiskers:
            any_whiskers = True
            figure["data"].append(
                {
                    "type": "scatter",
                    "x": [w[0] for w in whiskers],
                    "y": [w[1] for w in whiskers],
                    "xaxis": x_axis,
                    "yaxis": y_axis,
                    "mode": "markers",
                    "marker": {"size": 1, "color": "rgba(0,0,0,0)"},
                    "error_y": {
                        "type": "data",
                        "symmetric": False,
                        "array": [round(w[2].high - w[1], 6) for w in whiskers],
                        "arrayminus": [round(w[1] - w[2].low, 6) for w in whiskers],
                        "color": WHISKER_COLOUR,
                        "thickness": 1.5,
                        "width": 6,
                    },
                    "hoverinfo": "skip",
                    "showlegend": False,
                }
            )
        if overall is not None:
            figure["data"].append(
                {
                    "type": "scatter",
                    "x": categories,
                    "y": [overall] * len(categories),
                    "xaxis": x_axis,
                    "yaxis": y_axis,
                    "mode": "lines",
                    "line": {"color": OVERALL_COLOUR, "dash": "dash", "width": 1.5},
                    "name": "All rows",
                    "showlegend": False,
                    "hovertemplate": f"All rows: {_fmt(overall)}<br>{_esc(_interval_text(overall_interval))}"
                    "<extra></extra>",
                }
            )
        band = overall_interval if overall is not None else None
        if band is not None and _value(band.low) is not None and _value(band.high) is not None:
            shapes.append(
                {
                    "type": "rect",
                    "xref": f"{x_axis} domain",
                    "x0": 0,
                    "x1": 1,
                    "yref": y_axis,
                    "y0": band.low,
                    "y1": band.high,
                    "fillcolor": "rgba(68,68,68,0.13)",
                    "line": {"width": 0},
                    "layer": "below",
                }
            )
        for category, group, value in zip(categories, groups, values, strict=True):
            if group.absent:
                annotations.append(_note(x_axis, y_axis, category, "absent"))
            elif value is None:
                annotations.append(_note(x_axis, y_axis, category, "undefined"))
        layout[_layout_key(x_axis)].update(tickmode="array", tickvals=categories, ticktext=ticktext)
        if longest > width:  # a word too long for its slot even on its own line: slant the labels
            layout[_layout_key(x_axis)]["tickangle"] = -35
        bounds = [b for _, _, i in whiskers for b in (i.low, i.high)]
        _y_range(layout, y_axis, [*values, overall, *bounds])
    for name, colour in legend.items():  # legend-only entries: the bars are one trace per panel
        figure["data"].append(
            {
                "type": "bar",
                "x": [None],
                "y": [None],
                "name": f"{_esc(result.features[0])} = {_esc(name)}",
                "marker": {"color": colour},
                "showlegend": True,
                "hoverinfo": "skip",
            }
        )
    layout["annotations"] = [*layout.get("annotations", []), *annotations]
    layout["shapes"] = shapes
    subtitle = _caption(run)
    if any_whiskers:
        subtitle += " · whiskers and grey band: 95% intervals" if _all_95(result) else " · whiskers: intervals"
    figure = _style(
        figure,
        f"{result.feature}: metrics by group",
        subtitle,
        height=_grid_height(rows) + (30 if legend else 0),
        panels=len(metrics),
        legend=bool(legend),
    )
    label = (
        f"Bar charts comparing the groups of {result.feature} on {', '.join(label for _, label in metrics)}, "
        f"evaluation {run.id}, {run.performance.rows:,} rows, {run.date}."
    )
    return _html(figure, _chart_id("fairness", model.id, version.version, run.id, result.feature), label)


def _all_95(result: FairnessResult) -> bool:
    levels = {i.level for g in result.groups for i in g.intervals.values()}
    levels |= {i.level for i in result.overall_intervals.values()}
    return levels == {0.95}


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


def calibration_chart(model: Model, version: ModelVersion, run: EvaluationRun) -> str | None:
    """Reliability diagram: observed share of positives against the mean score per bin, with
    the rows per bin underneath (a bin far off the diagonal matters less when it is nearly empty)."""
    calibration = run.performance.calibration
    if calibration is None or not calibration.bins:
        return None
    bins = calibration.bins
    figure = make_subplots(
        rows=2,
        cols=1,
        shared_xaxes=True,
        row_heights=[0.72, 0.28],
        vertical_spacing=0.1,
        subplot_titles=["Observed share of positives against the predicted probability", "Rows per score bin"],
    ).to_plotly_json()
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
