"""Chart of performance estimated before the outcomes arrive, beside the performance realized
once they have.

One panel per charted metric: the estimate of every window with records (a line inside the band of
its interval: where the realized value should fall if the relation between inputs and outcome is
unchanged), and, where outcomes have arrived, the realized value as a dot — ringed in red when it
lies outside the interval estimated for the same records. The conventions of :mod:`.charts` and
:mod:`.monitoring_charts` hold (window positions on the time axis, gaps for windows without records,
escaped text, a subtitle with the reference).
"""

from __future__ import annotations

from typing import Any

from modelgov.manifest import Model, ModelVersion
from modelgov.render import monitoring_views as mv
from modelgov.render.chart_style import LINE_COLOUR, _axes, _esc, _html, _layout_key, _panels, _round, _style
from modelgov.render.monitoring_chart_parts import (
    DRIFT_COLOUR,
    _chart_key,
    _finish_panels,
    _gap_marks,
    _performance_range,
    _subtitle,
    _time_axis,
)

ESTIMATE_COLOUR = "#e69f00"  # orange: estimated, not measured
BAND_FILL = "rgba(230,159,0,0.18)"

#: What is charted when the realized performance charts nothing the estimate has.
DEFAULT_METRICS = ("accuracy", "roc_auc")


def charted_metrics(model: Model, version: ModelVersion) -> list[tuple[str, str]]:
    """(name, label) of the estimated metrics to chart: those the realized chart shows, else the
    defaults; only metrics some window estimated."""
    report = version.drift
    if report is None:
        return []
    estimated = {m.name: m.label for w in report.windows if w.estimated for m in w.estimated.metrics}
    view = mv.monitoring_view(model, version)
    realized = [name for name, _, _ in view.metrics] if view is not None else []
    chosen = [n for n in realized if n in estimated] or [n for n in DEFAULT_METRICS if n in estimated]
    return [(n, estimated[n]) for n in chosen]


def _check(window, name: str):
    return next((c for c in window.estimate_checks if c.name == name), None)


def estimated_performance_chart(model: Model, version: ModelVersion) -> str | None:
    view = mv.monitoring_view(model, version)
    metrics = charted_metrics(model, version)
    if view is None or not metrics:
        return None
    titles = [f"{label}: estimated (band) and realized (dots)" for _, label in metrics]
    figure = _panels(titles, len(titles), 1, row_gap=60, panel_height=220)
    layout = figure["layout"]
    shapes: list[dict[str, Any]] = []
    annotations: list[dict[str, Any]] = []
    x = [r.index for r in view.windows]
    for index, (name, label) in enumerate(metrics):
        x_axis, y_axis = _axes(index)
        estimates = [
            next((m for m in r.window.estimated.metrics if m.name == name), None) if r.window.estimated else None
            for r in view.windows
        ]
        values = [None if m is None else m.value for m in estimates]
        lows = [None if m is None or m.interval is None else m.interval.low for m in estimates]
        highs = [None if m is None or m.interval is None else m.interval.high for m in estimates]
        checks = [_check(r.window, name) for r in view.windows]
        realized = [None if c is None else c.realized for c in checks]
        common = {"xaxis": x_axis, "yaxis": y_axis, "showlegend": index == 0, "hoverinfo": "skip"}
        figure["data"].append(
            {**common, "type": "scatter", "x": x, "y": _round(lows), "mode": "lines", "line": {"width": 0},
             "connectgaps": False, "showlegend": False}
        )  # fmt: skip
        figure["data"].append(
            {**common, "type": "scatter", "x": x, "y": _round(highs), "mode": "lines", "line": {"width": 0},
             "fill": "tonexty", "fillcolor": BAND_FILL, "connectgaps": False, "name": "interval of the estimate"}
        )  # fmt: skip
        hover = []
        for row, estimate, check in zip(view.windows, estimates, checks, strict=True):
            if row.empty:
                hover.append(f"<b>{_esc(row.label)}</b><br><i>no records</i>")
                continue
            text = f"<b>{_esc(row.label)}</b><br>Estimated {_esc(label)}: "
            if estimate is None or estimate.value is None:
                text += "not estimated" + (f" ({_esc(estimate.note)})" if estimate and estimate.note else "")
            else:
                text += f"{estimate.value:.3f}"
                if estimate.interval and estimate.interval.low is not None and estimate.interval.high is not None:
                    text += f" (realized should fall in {estimate.interval.low:.3f} – {estimate.interval.high:.3f})"
            text += f"<br>on {row.window.rows:,} records"
            if check is not None and check.realized is not None:
                text += f"<br>Realized on the {row.window.labelled_rows:,} records with outcomes: {check.realized:.3f}"
                if check.estimated is not None:
                    text += f" (estimated for them: {check.estimated:.3f})"
                if check.disagrees:
                    text += "<br><b>Outside the interval: the relation between inputs and outcome may have changed</b>"
            elif row.outcomes_pending:
                text += "<br><i>outcomes not yet arrived</i>"
            hover.append(text)
        figure["data"].append(
            {**common, "type": "scatter", "x": x, "y": _round(values), "mode": "lines+markers",
             "connectgaps": False, "line": {"color": ESTIMATE_COLOUR, "width": 2, "dash": "dot"},
             "marker": {"size": 6, "color": ESTIMATE_COLOUR}, "name": "estimated from the scores",
             "customdata": hover, "hovertemplate": "%{customdata}<extra></extra>", "hoverinfo": None}
        )  # fmt: skip
        figure["data"].append(
            {**common, "type": "scatter", "x": x, "y": _round(realized), "mode": "markers",
             "marker": {"size": 9, "color": LINE_COLOUR}, "name": "realized, where outcomes arrived"}
        )  # fmt: skip
        outside = [r if c is not None and c.disagrees else None for r, c in zip(realized, checks, strict=True)]
        if any(v is not None for v in outside):
            figure["data"].append(
                {**common, "type": "scatter", "x": x, "y": _round(outside), "mode": "markers",
                 "marker": {"size": 17, "color": "rgba(0,0,0,0)", "line": {"color": DRIFT_COLOUR, "width": 2.5}},
                 "name": "realized outside the interval"}
            )  # fmt: skip
        gap_shapes, gap_notes = _gap_marks(view, x_axis, y_axis)
        shapes += gap_shapes
        annotations += gap_notes
        layout[_layout_key(x_axis)].update(_time_axis(view, labels=index == len(metrics) - 1))
        spread = [v for v in [*lows, *highs, *realized] if v is not None]
        layout[_layout_key(y_axis)].update(_performance_range([*values, *spread], None))
    _finish_panels(figure, view.kind, len(titles), shapes, annotations)
    figure = _style(
        figure,
        "Performance estimated from the scores, and realized where outcomes arrived",
        _subtitle(view),
        height=220 * len(titles) + 60 * (len(titles) - 1) + 260,
        panels=len(titles),
        category_x=False,
        legend=True,
    )
    words = " and ".join(label for _, label in metrics)
    return _html(
        figure,
        _chart_key(model, version, "monitoring-estimated", view),
        f"{words} estimated per window from the scores, with the realized values where outcomes arrived.",
    )
