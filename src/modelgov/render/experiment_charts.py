"""Chart of an A/B test's always-valid sequential analysis over time.

Top panel: after each window, the difference between the arms (challenger − champion) with its
confidence sequence as a shaded band, zero as the line of no difference, and the minimum detectable
effect on either side as dotted lines; the band may be read after every window, however often, and
excludes zero only when the difference is established at the test's α. Bottom panel: the
always-valid p-value, never increasing, against α. The conventions of :mod:`.chart_style` hold:
escaped text, a stable id, one axis label per window, the method in the subtitle.
"""

from __future__ import annotations

import math
from typing import Any

from modelgov.manifest import Model, ModelVersion
from modelgov.render.chart_style import (
    LINE_COLOUR,
    MARK_COLOUR,
    _axes,
    _chart_id,
    _esc,
    _html,
    _layout_key,
    _panels,
    _round,
    _style,
)

BAND_FILL = "rgba(0,114,178,0.16)"
ZERO_COLOUR = "#444444"


def sequential_chart(model: Model, version: ModelVersion) -> str | None:
    test = version.experiment
    if test is None or test.sequential is None or not test.sequential.looks:
        return None
    sequential = test.sequential
    percent = test.metric_kind in ("rate", "accuracy") or test.metric_unit == "percent"
    scale = 100.0 if percent else 1.0
    unit = "points" if percent else test.metric
    looks = sequential.looks
    x = [look.start[:10] for look in looks]
    figure = _panels(
        [f"Difference, this version − {test.champion} ({unit}), with its confidence sequence", "Always-valid p-value"],
        2,
        1,
        row_gap=70,
        panel_height=230,
    )
    layout = figure["layout"]
    x1, y1 = _axes(0)
    x2, y2 = _axes(1)
    high = [look.ci_high * scale for look in looks]
    low = [look.ci_low * scale for look in looks]
    mid = [look.delta * scale for look in looks]
    hover = [
        f"{test.window} {_esc(look.start[:10])}<br>{look.records:,} records<br>difference {look.delta * scale:+.2f}"
        f"<br>confidence sequence {look.ci_low * scale:+.2f} to {look.ci_high * scale:+.2f}"
        f"<br>always-valid p = {look.p_value:.3g}"
        for look in looks
    ]
    figure["data"] += [
        {"type": "scatter", "x": x, "y": _round(high), "xaxis": x1, "yaxis": y1, "mode": "lines",
         "line": {"width": 0}, "hoverinfo": "skip", "showlegend": False},
        {"type": "scatter", "x": x, "y": _round(low), "xaxis": x1, "yaxis": y1, "mode": "lines",
         "line": {"width": 0}, "fill": "tonexty", "fillcolor": BAND_FILL, "hoverinfo": "skip",
         "name": f"confidence sequence ({1 - sequential.alpha:.0%}, valid at every look)", "showlegend": True},
        {"type": "scatter", "x": x, "y": _round(mid), "xaxis": x1, "yaxis": y1, "mode": "lines+markers",
         "line": {"color": LINE_COLOUR, "width": 2}, "marker": {"size": 5, "color": LINE_COLOUR},
         "name": "difference so far", "customdata": hover, "hovertemplate": "%{customdata}<extra></extra>"},
        {"type": "scatter", "x": x, "y": _round([look.p_value for look in looks]), "xaxis": x2, "yaxis": y2,
         "mode": "lines+markers", "line": {"color": MARK_COLOUR, "width": 2, "shape": "hv"},
         "marker": {"size": 5, "color": MARK_COLOUR}, "name": "always-valid p-value",
         "customdata": hover, "hovertemplate": "%{customdata}<extra></extra>"},
    ]  # fmt: skip
    mde = test.minimum_detectable_effect * scale
    shapes: list[dict[str, Any]] = [
        {"type": "line", "xref": f"{x1} domain", "yref": y1, "x0": 0, "x1": 1, "y0": 0, "y1": 0,
         "line": {"color": ZERO_COLOUR, "width": 1.5}},
        {"type": "line", "xref": f"{x2} domain", "yref": y2, "x0": 0, "x1": 1, "y0": sequential.alpha,
         "y1": sequential.alpha, "line": {"color": ZERO_COLOUR, "width": 1.5, "dash": "dot"}},
    ]  # fmt: skip
    annotations = [
        {"x": 1, "xref": f"{x2} domain", "y": sequential.alpha, "yref": y2, "text": f"α = {sequential.alpha:g}",
         "showarrow": False, "xanchor": "right", "yanchor": "bottom", "font": {"size": 11}},
    ]  # fmt: skip
    for sign in (1, -1):
        shapes.append(
            {"type": "line", "xref": f"{x1} domain", "yref": y1, "x0": 0, "x1": 1, "y0": sign * mde,
             "y1": sign * mde, "line": {"color": "#888888", "width": 1, "dash": "dot"}}
        )  # fmt: skip
    annotations.append(
        {"x": 0, "xref": f"{x1} domain", "y": mde, "yref": y1, "text": "minimum detectable effect",
         "showarrow": False, "xanchor": "left", "yanchor": "bottom", "font": {"size": 11, "color": "#666666"}}
    )  # fmt: skip
    spread = [*high, *low, mde, -mde]
    pad = (max(spread) - min(spread)) * 0.08 or 1.0
    layout[_layout_key(y1)].update({"range": [min(spread) - pad, max(spread) + pad], "title": {"text": unit}})
    layout[_layout_key(y2)].update({"range": [0, 1.05], "title": {"text": "p"}})
    step = max(1, math.ceil(len(x) / 12))  # at most a dozen labels: one a week for daily looks
    ticks = {"tickmode": "array", "tickvals": x[::step], "ticktext": [_esc(v) for v in x[::step]], "tickangle": 0}
    layout[_layout_key(x1)].update({**ticks, "showticklabels": False})
    layout[_layout_key(x2)].update({**ticks, "title": {"text": "Day" if test.window == "day" else "Week starting"}})
    layout["shapes"] = shapes
    layout["annotations"] = [*layout.get("annotations", []), *annotations]
    figure = _style(
        figure,
        "Sequential analysis: may be read after every window",
        f"mSPRT, normal mixture τ = {sequential.mixing * scale:g} {unit} · α = {sequential.alpha:g} · "
        f"{len(looks)} looks from {x[0]} to {x[-1]}",
        height=700,
        panels=2,
        legend=True,
    )
    return _html(
        figure,
        _chart_id("ab-sequential", model.id, version.version, test.champion),
        f"The difference between version {version.version} and {test.champion} after each {test.window}, with its "
        "always-valid confidence sequence and p-value.",
    )


__all__ = ["sequential_chart"]
