"""The conventions every chart of the site follows, and the helpers that apply them.

Each chart is a ``<div>`` with a stable id (derived from model, version, evaluation and feature,
never random, so rebuilding the same manifest gives the same bytes) and one inline
``Plotly.newPlot`` call. The JSON is serialised here, with sorted keys and ``<``, ``>``, ``&``
escaped as ``\\u003c`` etc., so a group called ``</script>`` cannot end the script early.
plotly.js itself is not inlined: the site ships one local copy (:func:`plotly_js_path`) that the
page head loads, so the site works offline and stays small.

Every user string that reaches plotly is HTML-escaped first (:func:`_esc`): plotly reads a subset of
HTML in titles, tick labels and hover text, and the reader must see a group name as written.
Control characters and bidi overrides in any string of a figure are shown as escapes (``\\x1b``),
so a group label cannot hide or reorder text in the SVG plotly draws. Figures are assembled as
plain dicts (``make_subplots`` only lays out the panels): plotly's per-property validation made
building large figures the slowest part of a site build.
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import plotly

from modelgov.errors import BuildError
from modelgov.manifest import (
    EvaluationRun,
    Interval,
)
from modelgov.render.text import slug
from modelgov.text_safety import visible

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


def _grid_layout(titles: Sequence[str], rows: int, cols: int, vertical: float, horizontal: float) -> dict[str, Any]:
    """The axes and title annotations ``plotly.subplots.make_subplots`` lays out for a grid of
    ``rows × cols`` panels, filled left to right from the top, computed with plotly's own arithmetic
    (a test compares them): plotly's version builds and validates a whole Figure to get these few
    numbers, which made it more than half of the time spent rendering pages."""
    widths = [(1.0 - horizontal * (cols - 1)) / cols] * cols
    heights = [(1.0 - vertical * (rows - 1)) / rows] * rows
    layout: dict[str, Any] = {}
    annotations = []
    count = 0
    for row in range(rows):
        below = rows - 1 - row  # plotly's grid counts rows from the bottom
        bottom = sum(heights[:below]) + below * vertical
        y_domain = [min(max(bottom, 0.0), 1.0), min(max(bottom + heights[-1 - row], 0.0), 1.0)]
        for col in range(cols):
            left = sum(widths[:col]) + col * horizontal
            x_domain = [left + 0.0, left + widths[col] - 0.0]
            suffix = str(count + 1) if count else ""
            layout[f"xaxis{suffix}"] = {"anchor": f"y{suffix}", "domain": x_domain}
            layout[f"yaxis{suffix}"] = {"anchor": f"x{suffix}", "domain": list(y_domain)}
            if count < len(titles) and titles[count]:
                annotations.append(
                    {"font": {"size": 16}, "showarrow": False, "text": titles[count], "x": sum(x_domain) / 2.0,
                     "xanchor": "center", "xref": "paper", "y": y_domain[1], "yanchor": "bottom", "yref": "paper"}
                )  # fmt: skip
            count += 1
    if annotations:
        layout["annotations"] = annotations
    return layout


def _panels(
    titles: Sequence[str], rows: int, cols: int, *, row_gap: int = _ROW_GAP, panel_height: int = _PANEL_HEIGHT
) -> dict[str, Any]:
    """An empty figure dict with ``rows × cols`` panels; unused cells have no visible axes."""
    spacing = min(0.3, row_gap / (panel_height * rows + row_gap * (rows - 1))) if rows > 1 else 0.0
    figure = {
        "data": [],
        "layout": _grid_layout([_esc(t) for t in titles], rows, cols, spacing, 0.08 if cols > 1 else 0.0),
    }
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
