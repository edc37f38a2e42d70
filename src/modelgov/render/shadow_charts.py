"""Charts of a shadow test: per window, the share of decisions the challenger changes and the change in
the positive-decision rate; per sensitive feature, each group's share of changed decisions.

The conventions of :mod:`.chart_style` hold: a stable id, escaped text, a subtitle with the
provenance (champion, log, windows), intervals as whiskers, and words rather than zeros where a
window or group has no decided request. Small groups are drawn hollow and grey and say so on hover.
"""

from __future__ import annotations

from typing import Any

from modelgov.manifest import Model, ModelVersion, ShadowComparison
from modelgov.render.chart_style import (
    LINE_COLOUR,
    OVERALL_COLOUR,
    UNDEFINED_COLOUR,
    _axes,
    _chart_id,
    _esc,
    _html,
    _layout_key,
    _note,
    _panels,
    _round,
    _style,
)

PANEL_HEIGHT = 230


def _whiskers(value: float | None, interval) -> tuple[float, float]:
    if value is None or interval is None or interval.low is None or interval.high is None:
        return 0.0, 0.0
    return value - interval.low, interval.high - value


def _change(node: ShadowComparison) -> tuple[float | None, Any]:
    """The change rate and its interval (1 − the agreement's)."""
    interval = node.agreement_interval
    if interval is not None and interval.low is not None and interval.high is not None:
        interval = interval.model_copy(update={"low": 1 - interval.high, "high": 1 - interval.low})
    return node.change_rate, interval


def _subtitle(version: ModelVersion, *, over_time: bool = True) -> str:
    report = version.shadow
    assert report is not None
    logs = ", ".join(ref.path for ref in report.logs) or "the shadow log"
    when = f" · by {report.window}" if over_time else " · all requests"
    return f"Challenger {version.version} beside champion {report.champion} · {logs}{when}"


def shadow_windows_chart(model: Model, version: ModelVersion) -> str | None:
    """Two panels over the windows: the share of decisions changed, and the change in the positive rate."""
    report = version.shadow
    if report is None or not report.windows:
        return None
    labels = [w.start[:10] if report.window != "rows" else str(i + 1) for i, w in enumerate(report.windows)]
    titles = [
        "Share of decisions the challenger changes",
        "Change in the positive-decision rate (challenger − champion)",
    ]
    figure = _panels(titles, 2, 1, row_gap=80, panel_height=PANEL_HEIGHT)
    layout = figure["layout"]
    annotations: list[dict[str, Any]] = []
    for index, kind in enumerate(("change", "delta")):
        x_axis, y_axis = _axes(index)
        ys, lows, highs, hover = [], [], [], []
        for label, window in zip(labels, report.windows, strict=True):
            if kind == "change":
                value, interval = _change(window)
            else:
                value, interval = window.decision_rate_delta, window.decision_rate_delta_interval
            low, high = _whiskers(value, interval)
            ys.append(value)
            lows.append(low)
            highs.append(high)
            if not window.decided:
                annotations.append(_note(x_axis, y_axis, label, "no requests"))
                hover.append("")
                continue
            text = f"<b>{_esc(label)}</b><br>{window.decided:,} requests decided by both"
            if value is not None:
                text += f"<br>{value * 100:+.1f}%" if kind == "delta" else f"<br>{value * 100:.1f}% changed"
            if interval is not None and interval.low is not None and interval.high is not None:
                text += f" ({interval.level * 100:g}% interval {interval.low * 100:.1f} to {interval.high * 100:.1f})"
            if window.small:
                text += "<br><i>few requests: a wide interval</i>"
            hover.append(text)
        figure["data"].append(
            {"type": "scatter", "x": labels, "y": _round(ys), "xaxis": x_axis, "yaxis": y_axis,
             "mode": "lines+markers", "connectgaps": False, "showlegend": False,
             "line": {"color": LINE_COLOUR, "width": 2}, "marker": {"size": 8, "color": LINE_COLOUR},
             "error_y": {"type": "data", "symmetric": False, "array": _round(highs), "arrayminus": _round(lows),
                         "color": LINE_COLOUR, "thickness": 1.2, "width": 3},
             "customdata": hover, "hovertemplate": "%{customdata}<extra></extra>"}
        )  # fmt: skip
        axis = layout[_layout_key(y_axis)]
        axis.update({"tickformat": ".0%" if kind == "change" else "+.0%"})
        if kind == "change":
            axis["rangemode"] = "tozero"
    layout["annotations"] = [*layout.get("annotations", []), *annotations]
    figure = _style(
        figure,
        "Shadow test over time",
        _subtitle(version),
        height=PANEL_HEIGHT * 2 + 80 + 230,
        panels=2,
    )
    return _html(
        figure,
        _chart_id("shadow-windows", model.id, version.version),
        "Per window, the share of decisions the challenger changes and the change in the positive-decision "
        "rate, with intervals.",
    )


def shadow_groups_chart(model: Model, version: ModelVersion, feature: str) -> str | None:
    """Each group's share of changed decisions, with its interval; small groups hollow and grey."""
    report = version.shadow
    found = next((f for f in report.features if f.feature == feature), None) if report else None
    if found is None or not found.groups:
        return None
    groups = [g for g in found.groups if g.decided]
    labels = [g.group for g in groups]
    figure = _panels([f"Share of decisions changed, by {feature}"], 1, 1, panel_height=PANEL_HEIGHT)
    values, lows, highs, hover, colours = [], [], [], [], []
    for group in groups:
        value, interval = _change(group)
        low, high = _whiskers(value, interval)
        values.append(value)
        lows.append(low)
        highs.append(high)
        colours.append(UNDEFINED_COLOUR if group.small else LINE_COLOUR)
        text = f"<b>{_esc(group.group)}</b><br>{group.decided:,} requests; {(value or 0) * 100:.1f}% changed"
        if interval is not None and interval.low is not None and interval.high is not None:
            text += f" ({interval.level * 100:g}% interval {interval.low * 100:.1f} – {interval.high * 100:.1f})"
        if group.small:
            text += f"<br><i>small group: fewer than {report.min_group_size:,} requests, left out of the gap</i>"
        hover.append(text)
    figure["data"].append(
        {"type": "bar", "x": [_esc(label) for label in labels], "y": _round(values), "xaxis": "x", "yaxis": "y",
         "marker": {"color": colours}, "showlegend": False,
         "error_y": {"type": "data", "symmetric": False, "array": _round(highs), "arrayminus": _round(lows),
                     "color": "#222222", "thickness": 1.2, "width": 4},
         "customdata": hover, "hovertemplate": "%{customdata}<extra></extra>"}
    )  # fmt: skip
    overall = report.overall.change_rate
    if overall is not None:
        figure["layout"]["shapes"] = [
            {"type": "line", "xref": "x domain", "yref": "y", "x0": 0, "x1": 1, "y0": overall, "y1": overall,
             "line": {"color": OVERALL_COLOUR, "width": 1.5, "dash": "dot"}}
        ]  # fmt: skip
        figure["layout"]["annotations"] = [
            *figure["layout"].get("annotations", []),
            {"x": 1, "xref": "x domain", "y": overall, "yref": "y", "xanchor": "right", "yanchor": "bottom",
             "showarrow": False, "font": {"color": OVERALL_COLOUR, "size": 11},
             "text": f"all requests: {overall * 100:.1f}%"},
        ]  # fmt: skip
    figure["layout"]["yaxis"].update({"tickformat": ".0%", "rangemode": "tozero"})
    figure = _style(
        figure,
        f"Decisions changed by group of {feature}",
        _subtitle(version, over_time=False),
        height=PANEL_HEIGHT + 200,
    )
    return _html(
        figure,
        _chart_id("shadow-groups", model.id, version.version, feature),
        f"For each group of {feature}, the share of decisions the challenger changes, with intervals.",
    )
