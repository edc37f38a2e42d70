"""Charts of an evaluation's fairness analysis: each group's rates with their intervals, per
sensitive feature (or intersection), with the overall value and each group's denominator.

The conventions of :mod:`.chart_style` hold; the subtitle names the evaluation run.
"""

from __future__ import annotations

import html
import math
import re
from typing import Any

from modelgov.feature_names import INTERSECTION
from modelgov.manifest import (
    EvaluationRun,
    FairnessResult,
    GroupMetrics,
    Model,
    ModelVersion,
)
from modelgov.render.chart_style import (
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
    _style,
    _value,
    _y_range,
)

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
    parts = re.compile(rf"(?<=-)|\s+|{re.escape(INTERSECTION.strip())}")  # where a label may break
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
