"""The pieces every monitoring chart is built from: the time axis of window positions labelled by
their start, the grey "no records" columns, the shaded runs of windows awaiting outcomes, the first
drift line, threshold lines, the subtitle naming the reference, and the colours and drift strength
scale the monitoring page uses throughout.

Kept apart from the charts (:mod:`.monitoring_charts`, :mod:`.performance_over_time_chart`,
:mod:`.estimation_charts`, :mod:`.kpi_charts`, :mod:`.production_fairness_charts`) so that every chart
of a version's windows lines up with the others and marks gaps the same way.
"""

from __future__ import annotations

import math
from typing import Any

from modelgov.manifest import FeatureDrift, Model, ModelVersion
from modelgov.render import monitoring_views as mv
from modelgov.render.chart_style import (
    OVERALL_COLOUR,
    _axes,
    _caption,
    _chart_id,
    _esc,
    _layout_key,
    _value,
)

#: Drift strength is drawn on a log2 scale of "times the threshold", saturating at 4× either way.
STRENGTH_LIMIT = 2.0
_STRENGTH_TICKS = {-2: "¼× or less", -1: "½×", 0: "threshold", 1: "2×", 2: "4× or more"}
#: Blue (well within the threshold) through white (at it) to red (well past it): a diverging scale
#: that stays readable with the common colour-vision deficiencies.
#: The calm side is kept pale so the eye goes to the drifted cells.
_DIVERGING = [[0.0, "#bcd6ea"], [0.5, "#f7f7f7"], [0.6, "#fddbc7"], [0.8, "#ef8a62"], [1.0, "#b2182b"]]
#: Above this strength (2×) the cell is dark enough that its mark is written in white.
_DARK_CELL = 1.0
DRIFT_COLOUR = "#b2182b"
STABLE_COLOUR = "#7fa9cf"
REFERENCE_COLOUR = "#9e9e9e"
GAP_FILL = "rgba(0,0,0,0.06)"
PENDING_FILL = "rgba(230,159,0,0.10)"
_P_FLOOR = 1e-12  # p-values below this are drawn at it (and say so on hover)


# --------------------------------------------------------------------------- helpers


def strength(item: FeatureDrift) -> float | None:
    """How far past its threshold a result is, on a log2 scale clipped to ±2 (¼× to 4×): 0 at the
    threshold, positive when drifted. A distance counts as ``statistic / threshold``; a test as
    ``threshold / p`` (a p-value half the threshold is 2×). The sign always follows the report's
    verdict, so a drifted cell is never drawn on the calm side. None when the statistic is undefined."""
    statistic = _value(item.statistic)
    if statistic is None or item.threshold <= 0:
        return None
    if mv.is_test(item.method):
        ratio = item.threshold / max(statistic, 1e-300)
    else:
        ratio = statistic / item.threshold if statistic > 0 else 0.0
    value = max(-STRENGTH_LIMIT, min(STRENGTH_LIMIT, math.log2(ratio) if ratio > 0 else -STRENGTH_LIMIT))
    if item.drifted:
        value = max(value, 0.08)
    elif value >= 0:
        value = -0.08
    return round(value, 4)


def _stat_text(item: FeatureDrift) -> str:
    """``p = 0.031`` or ``0.214``, or the word undefined."""
    statistic = _value(item.statistic)
    if statistic is None:
        return "undefined"
    if mv.is_test(item.method):
        return f"p = {statistic:.3g}" if statistic >= 0.001 or statistic == 0 else f"p = {statistic:.2e}"
    return f"{statistic:.3f}"


def _detail(item: FeatureDrift, name: str, window: str) -> str:
    """Hover text of one result (escaped HTML)."""
    verdict = "<b>drifted</b>" if item.drifted else "no drift" if _value(item.statistic) is not None else "no verdict"
    lines = [
        f"<b>{_esc(name)}</b> · {_esc(window)}",
        f"{_esc(mv.method_name(item.method))}: {_esc(_stat_text(item))}",
        f"Drift when {_esc(mv.drift_rule(item.method, item.threshold))} → {verdict}",
        f"{item.rows:,} values" + (f", {item.missing_rate:.1%} missing" if item.missing_rate is not None else ""),
    ]
    if item.psi is not None:
        lines.append(f"PSI {item.psi:.3f} ({_esc(item.psi_band or '')})")
    if item.new_categories:
        lines.append("New values: " + ", ".join(f"{_esc(k)} ({v:,})" for k, v in item.new_categories.items()))
    if item.range_violations:
        lines.append(f"{item.range_violations:,} values outside the reference range")
    if item.note:
        lines.append(f"<i>{_esc(item.note)}</i>")
    return "<br>".join(lines)


def _subtitle(view: mv.MonitoringView, extra: str = "") -> str:
    """``Reference: Evaluation <id> · <rows> rows · <date> · 16 weekly windows from <start>``."""
    report = view.report
    if view.reference_run is not None:
        reference = _caption(view.reference_run, report.reference_rows)
    else:
        text = mv.reference_text(report)
        reference = f"{text[0].upper()}{text[1:]} · {report.reference_rows:,} rows"
    windows = mv.windows_phrase(report.window, len(report.windows))
    return f"Reference: {reference} · {windows}" + (f" · {extra}" if extra else "")


def _chart_key(model: Model, version: ModelVersion, kind: str, view: mv.MonitoringView) -> str:
    return _chart_id(kind, model.id, version.version, view.report.reference)


def _finish_panels(figure: dict[str, Any], kind: str, panels: int, shapes: list, annotations: list) -> None:
    """Put the marks on a figure of panels stacked over the windows, after the panel titles, and
    name the bottom panel's time axis by the kind of window (``Week starting``)."""
    layout = figure["layout"]
    layout["shapes"] = shapes
    layout["annotations"] = [*layout.get("annotations", []), *annotations]
    layout[_layout_key(_axes(panels - 1)[0])]["title"] = {"text": f"{mv.window_noun(kind).capitalize()} starting"}


def _time_axis(view: mv.MonitoringView, *, labels: bool = True) -> dict[str, Any]:
    """A category-like linear axis: one tick per window (thinned when there are many). Panels
    stacked over the same windows label only the bottom axis."""
    count = len(view.windows)
    step = max(1, math.ceil(count / 24))
    shown = [w for w in view.windows if w.index % step == 0]
    return {
        "type": "linear",
        "tickmode": "array",
        "tickvals": [w.index for w in shown],
        "ticktext": [_esc(w.label) for w in shown],
        "range": [-0.5, count - 0.5],
        "tickangle": -45 if count > 6 else 0,
        "showticklabels": labels,
        "zeroline": False,
        "showgrid": False,
        "ticks": "outside",
    }


def _gap_marks(view: mv.MonitoringView, x_axis: str, y_axis: str, *, label: bool = True) -> tuple[list, list]:
    """Grey columns (shapes) and "no records" labels (annotations) for windows without records."""
    shapes, annotations = [], []
    for row in view.empty_windows:
        shapes.append(_column(x_axis, y_axis, row.index, row.index, GAP_FILL))
        if label:
            annotations.append(
                {
                    "x": row.index,
                    "y": 0.5,
                    "xref": x_axis,
                    "yref": f"{y_axis} domain",
                    "text": "<i>no records</i>",
                    "textangle": -90,
                    "showarrow": False,
                    "font": {"color": "#666666", "size": 11},
                }
            )
    return shapes, annotations


def _column(x_axis: str, y_axis: str, first: int, last: int, fill: str) -> dict[str, Any]:
    return {
        "type": "rect",
        "xref": x_axis,
        "yref": f"{y_axis} domain",
        "x0": first - 0.5,
        "x1": last + 0.5,
        "y0": 0,
        "y1": 1,
        "fillcolor": fill,
        "line": {"width": 0},
        "layer": "below",
    }


def _drift_line(
    view: mv.MonitoringView, x_axis: str, y_axis: str, *, label: bool, inside: bool = True
) -> tuple[list, list]:
    """A dashed vertical line where drift starts (the run that reaches the latest window, else the
    first drifted window; inputs or output, as the report defines it), labelled at the top of the panel (``inside``) or above it."""
    row = view.drift_since or view.first_drift
    if row is None:
        return [], []
    shape = {
        "type": "line",
        "xref": x_axis,
        "yref": f"{y_axis} domain",
        "x0": row.index - 0.5,
        "x1": row.index - 0.5,
        "y0": 0,
        "y1": 1,
        "line": {"color": DRIFT_COLOUR, "width": 1.5, "dash": "dash"},
    }
    if not label:
        return [shape], []
    words = "drifting from" if view.drift_since is row else "first drift:"
    note = {
        "x": row.index - 0.5,
        "y": 1,
        "xref": x_axis,
        "yref": f"{y_axis} domain",
        "text": f"<b>{words} {_esc(row.label)}</b>",
        "showarrow": False,
        "xanchor": "left",
        "yanchor": "top" if inside else "bottom",
        "xshift": 4,
        "font": {"color": DRIFT_COLOUR, "size": 12},
        "bgcolor": "rgba(255,255,255,0.85)",
    }
    return [shape], [note]


def _pending_marks(view: mv.MonitoringView, x_axis: str, y_axis: str, *, label: bool) -> tuple[list, list]:
    """Shaded runs of windows whose outcomes have not arrived, labelled once per run."""
    shapes, annotations = [], []
    runs: list[list[int]] = []
    for row in view.windows:
        if row.outcomes_pending or (row.empty and runs and runs[-1][-1] == row.index - 1):
            if runs and runs[-1][-1] == row.index - 1:
                runs[-1].append(row.index)
            else:
                runs.append([row.index])
    for run in runs:
        pending = [i for i in run if view.windows[i].outcomes_pending]
        if not pending:
            continue
        first, last = min(pending), max(pending)
        shapes.append(_column(x_axis, y_axis, first, last, PENDING_FILL))
        if label:
            annotations.append(
                {
                    "x": (first + last) / 2,
                    "y": 0.04,
                    "xref": x_axis,
                    "yref": f"{y_axis} domain",
                    "text": "<i>outcomes not yet<br>arrived</i>"
                    if last - first < 2
                    else "<i>outcomes not yet arrived</i>",
                    "showarrow": False,
                    "yanchor": "bottom",
                    "font": {"color": "#7a4f01", "size": 11},
                }
            )
    return shapes, annotations


def _threshold_line(x_axis: str, y_axis: str, y: float, text: str) -> tuple[dict[str, Any], dict[str, Any]]:
    line = {
        "type": "line",
        "xref": f"{x_axis} domain",
        "yref": y_axis,
        "x0": 0,
        "x1": 1,
        "y0": y,
        "y1": y,
        "line": {"color": OVERALL_COLOUR, "width": 1.5, "dash": "dot"},
    }
    note = {
        "x": 0,
        "y": y,
        "xref": f"{x_axis} domain",
        "yref": y_axis,
        "text": text,
        "showarrow": False,
        "xanchor": "left",
        "yanchor": "bottom",
        "font": {"color": OVERALL_COLOUR, "size": 11},
        "bgcolor": "rgba(255,255,255,0.8)",
    }
    return line, note


# --------------------------------------------------------------------------- (3) performance


def _performance_range(values: list[float | None], reference: float | None) -> dict[str, Any]:
    """Shares and AUCs span at least 0.2 so week-to-week noise is not blown up; other metrics
    start at zero."""
    defined = [v for v in [*values, reference] if v is not None]
    if not defined:
        return {}
    low, high = min(defined), max(defined)
    if low >= 0.0 and high <= 1.0:
        span = max(0.2, (high - low) * 1.3)
        middle = (low + high) / 2
        bottom = max(0.0, min(middle - span / 2, 1.0 - span))
        return {"range": [round(bottom, 4), round(min(1.0, bottom + span), 4)]}
    return {"rangemode": "tozero"} if low >= 0 else {}


def _bounds(metric: Any) -> tuple[float, float] | None:
    """A metric's interval as (low, high), or None when it has none or its bounds are undefined."""
    interval = getattr(metric, "interval", None)
    if metric is None or metric.value is None or interval is None or interval.low is None or interval.high is None:
        return None
    return float(interval.low), float(interval.high)


def _interval_words(metric: Any) -> str:
    bounds = _bounds(metric)
    if bounds is None:
        return ""
    return f" ({metric.interval.level:.0%} interval {bounds[0]:.3f} – {bounds[1]:.3f})"
