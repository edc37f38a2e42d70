"""The site's charts, drawn again as static vector figures for print.

The site's chart modules (``render/*_charts.py``) build plotly figure specifications from the
manifest and serialise them into the page (``Plotly.newPlot(id, data, layout, config)``). This
module reads that same specification back (:func:`figure_spec`) and draws it with matplotlib into an
SVG (:func:`svg`): the same coordinates, the same colours, the same titles, with no browser. So a
number or colour in the dossier cannot differ from the site's: both come from one specification.

Only what the site's evaluation charts use is drawn: scatter traces (lines, markers, text, error
bars), bars (vertical and horizontal, per-bar colours, opacity, hatching, error bars), category and
numeric axes with their ranges, titles, annotations and the bands and lines of ``shapes``. Text stays
text in the SVG (``svg.fonttype: none``), set in DejaVu Sans, so the PDF carries its numbers as
searchable text; the file is deterministic (fixed hash salt, no date).
"""

from __future__ import annotations

import base64
import html
import io
import json
import math
import re
from typing import Any

_PX_TO_PT = 0.75
_WIDTH_PX = 760
_TAGS = re.compile(r"<br\s*/?>|<[^>]+>")
_RGBA = re.compile(r"rgba?\(\s*([\d.]+)\s*,\s*([\d.]+)\s*,\s*([\d.]+)\s*(?:,\s*([\d.]+)\s*)?\)")
_DASH = {"dash": "--", "dot": ":", "dashdot": "-.", "longdash": (0, (8, 3)), "solid": "-"}
_HATCH = {"/": "///", "\\": "\\\\\\", "x": "xxx", "-": "---", "|": "|||", "+": "+++", ".": "..."}
_RC = {
    "svg.fonttype": "none",
    "svg.hashsalt": "modelgov-dossier",
    "font.family": "DejaVu Sans",
    "axes.unicode_minus": False,
    "text.usetex": False,
}


def figure_spec(chart_html: str | None) -> tuple[list[dict[str, Any]], dict[str, Any]] | None:
    """(data, layout) of the figure in a chart's HTML as the site serialises it, or None."""
    if not chart_html or "Plotly.newPlot(" not in chart_html:
        return None
    rest = chart_html[chart_html.index("Plotly.newPlot(") + len("Plotly.newPlot(") :]
    decoder = json.JSONDecoder()
    _, end = decoder.raw_decode(rest)
    data, end2 = decoder.raw_decode(rest[end + 1 :])
    layout, _ = decoder.raw_decode(rest[end + 1 + end2 + 1 :])
    return data, layout


def plain(value: object) -> str:
    """A plotly string (HTML-escaped, with <b>/<br> tags) as plain text: the tags dropped, a line
    break for each ``<br>``, the entities read."""
    return html.unescape(_TAGS.sub(lambda m: "\n" if m.group(0).startswith("<br") else "", str(value)))


def label(value: object) -> str:
    """A plotly string as the text matplotlib draws: :func:`plain`, with ``$`` escaped so matplotlib
    never reads a group name as mathematics (a caption, set by the page, takes :func:`plain`)."""
    return plain(value).replace("$", r"\$")


def colour(value: object, opacity: float = 1.0) -> tuple[float, float, float, float] | str:
    """A plotly colour (``#rrggbb``, ``rgb()``, ``rgba()``, a name) as matplotlib's."""
    text = str(value).strip()
    found = _RGBA.fullmatch(text)
    if found:
        r, g, b = (float(found.group(i)) / 255 for i in (1, 2, 3))
        alpha = float(found.group(4)) if found.group(4) is not None else 1.0
        return (r, g, b, alpha * opacity)
    if opacity != 1.0:
        from matplotlib.colors import to_rgba

        r, g, b, a = to_rgba(text)
        return (r, g, b, a * opacity)
    return text


def _numbers(values: list[Any] | None) -> list[float]:
    return [math.nan if v is None else float(v) for v in (values or [])]


class _Axis:
    """One plotly axis: its categories (when it has them) and how values map to positions."""

    def __init__(self, spec: dict[str, Any], values: list[Any]):
        self.spec = spec
        strings = any(isinstance(v, str) for v in values)
        self.category = spec.get("type") == "category" or (strings and spec.get("type") != "date")
        order: list[str] = [str(v) for v in spec.get("tickvals", [])] if self.category else []
        for value in values:
            if self.category and value is not None and str(value) not in order:
                order.append(str(value))
        self.order = order

    def positions(self, values: list[Any]) -> list[float]:
        if not self.category:
            return _numbers(values)
        index = {name: i for i, name in enumerate(self.order)}
        return [math.nan if v is None else float(index[str(v)]) for v in values]


def draw(data: list[dict[str, Any]], layout: dict[str, Any], width_px: int = _WIDTH_PX):
    """A matplotlib Figure drawing the plotly ``data`` and ``layout`` (no pyplot: no global state)."""
    from matplotlib.figure import Figure

    height_px = int(layout.get("height", 400))
    figure = Figure(figsize=(width_px / 96, height_px / 96), dpi=96)
    margin = layout.get("margin", {})
    left, right = margin.get("l", 60) / width_px, 1 - margin.get("r", 20) / width_px
    bottom, top = margin.get("b", 60) / height_px, 1 - margin.get("t", 100) / height_px
    area = (left, bottom, right - left, top - bottom)
    axes = _make_axes(figure, data, layout, area)
    handles = []  # the legend's entries, in the traces' order (as plotly lists them)
    for trace in data:
        suffix = str(trace.get("xaxis", "x"))[1:]
        if suffix not in axes:
            continue
        ax, x_axis, y_axis = axes[suffix]
        if trace.get("type") == "bar":
            handles.append(_bar(ax, trace, x_axis, y_axis, layout))
        elif trace.get("type", "scatter") == "scatter":
            handles.append(_scatter(ax, trace, x_axis, y_axis))
    _shapes(figure, axes, layout, area)
    _annotations(figure, axes, layout, area)
    title = layout.get("title", {})
    text = label(title.get("text", ""))
    subtitle = label(title.get("subtitle", {}).get("text", ""))
    if text:
        figure.text(
            0.01, 1 - 12 / height_px, text, ha="left", va="top", fontsize=12, fontweight="bold", color="#222222"
        )
    if subtitle:
        figure.text(0.01, 1 - 34 / height_px, subtitle, ha="left", va="top", fontsize=8.5, color="#555555", wrap=True)
    shown = [handle for handle in handles if handle is not None]
    if layout.get("showlegend") and shown:
        figure.legend(handles=shown, loc="lower center", ncol=4, fontsize=8, frameon=False)
    return figure


def _legend_name(trace: dict[str, Any]) -> str | None:
    """The trace's entry in the legend, as plotly shows it: its name unless ``showlegend`` is false."""
    return label(trace["name"]) if trace.get("name") and trace.get("showlegend", True) else None


def _make_axes(figure, data, layout, area):
    left, bottom, width, height = area
    names = sorted({str(t.get("xaxis", "x"))[1:] for t in data if t.get("x") or t.get("y")})  # no empty panels
    axes = {}
    for suffix in names:
        x_spec, y_spec = layout.get(f"xaxis{suffix}", {}), layout.get(f"yaxis{suffix}", {})
        mine = [t for t in data if str(t.get("xaxis", "x"))[1:] == suffix]
        x_axis = _Axis(x_spec, [v for t in mine for v in t.get("x", [])])
        y_axis = _Axis(y_spec, [v for t in mine for v in t.get("y", [])])
        x0, x1 = x_spec.get("domain", [0, 1])
        y0, y1 = y_spec.get("domain", [0, 1])
        ax = figure.add_axes((left + x0 * width, bottom + y0 * height, (x1 - x0) * width, (y1 - y0) * height))
        _style_axis(ax, "x", x_spec, x_axis)
        _style_axis(ax, "y", y_spec, y_axis)
        axes[suffix] = (ax, x_axis, y_axis)
    return axes


def _style_axis(ax, which: str, spec: dict[str, Any], axis: _Axis) -> None:
    ax.tick_params(labelsize=8, colors="#444444")
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    for side in ("left", "bottom"):
        ax.spines[side].set_color("#999999")
    title = spec.get("title", {})
    text = label(title.get("text", "") if isinstance(title, dict) else title)
    setter = ax.set_xlabel if which == "x" else ax.set_ylabel
    if text:
        setter(text, fontsize=8.5, color="#222222")
    limits = ax.set_xlim if which == "x" else ax.set_ylim
    if axis.category:
        ticks = list(range(len(axis.order)))
        shown = [label(t) for t in spec.get("ticktext", [])] or [label(t) for t in axis.order]
        (ax.set_xticks if which == "x" else ax.set_yticks)(ticks, shown[: len(ticks)])
        if ticks:
            limits(-0.6, len(ticks) - 0.4)
    elif isinstance(spec.get("range"), list) and len(spec["range"]) == 2 and None not in spec["range"]:
        limits(*spec["range"])
    if spec.get("autorange") == "reversed":
        (ax.invert_xaxis if which == "x" else ax.invert_yaxis)()
    if spec.get("gridcolor") and spec["gridcolor"] != "rgba(0,0,0,0)":
        ax.grid(True, axis=which, color=colour(spec["gridcolor"]), linewidth=0.6)
        ax.set_axisbelow(True)


def _error(spec: dict[str, Any] | None, count: int) -> list[list[float]] | None:
    if not spec or spec.get("visible") is False or spec.get("type", "data") != "data":
        return None
    plus = _numbers(spec.get("array"))
    minus = _numbers(spec.get("arrayminus")) if spec.get("symmetric") is False else plus
    if len(plus) != count:
        return None
    return [[0 if math.isnan(v) else v for v in minus], [0 if math.isnan(v) else v for v in plus]]


def _per_point(value: Any, count: int, default: Any) -> list[Any]:
    if isinstance(value, list):
        return [default if v is None else v for v in value] + [default] * (count - len(value))
    return [default if value is None else value] * count


def _bar(ax, trace: dict[str, Any], x_axis: _Axis, y_axis: _Axis, layout: dict[str, Any]):
    """Draw a bar trace; its legend entry (a patch in its first bar's colour and pattern), or None.
    A trace whose every value is empty only adds its entry: the site's charts use such traces to
    name the colours of bars drawn by other traces."""
    horizontal = trace.get("orientation") == "h"
    cats, vals = (trace.get("y", []), trace.get("x", [])) if horizontal else (trace.get("x", []), trace.get("y", []))
    positions = (y_axis if horizontal else x_axis).positions(cats)
    values = _numbers(vals)
    marker = trace.get("marker", {})
    n = len(values)
    opacity = _per_point(marker.get("opacity"), n, 1.0)
    fills = [colour(c, o) for c, o in zip(_per_point(marker.get("color"), n, "#0072B2"), opacity, strict=False)]
    edges = [colour(c) for c in _per_point(marker.get("line", {}).get("color"), n, "none")]
    hatches = [_HATCH.get(s) for s in _per_point(marker.get("pattern", {}).get("shape"), n, "")]
    width: Any = trace.get("width")
    if isinstance(width, list):  # one width per bar, in the axis' units (a histogram's bins)
        width = [1.0 if w is None else float(w) for w in _per_point(width, n, None)]
    elif not isinstance(width, int | float):
        width = 1 - float(layout.get("bargap", 0.3))
    from matplotlib.patches import Patch

    name = _legend_name(trace)
    entry = (
        Patch(facecolor=fills[0], edgecolor=edges[0], hatch=hatches[0], linewidth=0.75, label=name)
        if name and n
        else None
    )
    if all(math.isnan(v) for v in values):
        return entry
    draw = ax.barh if horizontal else ax.bar
    bars = draw(
        positions, [0 if math.isnan(v) else v for v in values], width, color=fills, edgecolor=edges, linewidth=0.75
    )
    for bar, hatch, value in zip(bars, hatches, values, strict=False):
        if hatch:
            bar.set_hatch(hatch)
        if math.isnan(value):
            bar.set_visible(False)
    error = _error(trace.get("error_x" if horizontal else "error_y"), n)
    if error is not None:
        spec = trace.get("error_x" if horizontal else "error_y")
        kwargs = {"xerr" if horizontal else "yerr": error}
        ax.errorbar(values if horizontal else positions, positions if horizontal else values, fmt="none",
                    ecolor=colour(spec.get("color", "#222222")), elinewidth=spec.get("thickness", 1.5) * _PX_TO_PT,
                    capsize=spec.get("width", 4) * _PX_TO_PT, **kwargs)  # fmt: skip
    for position, value, text in zip(positions, values, trace.get("text") or [], strict=False):
        if text and not math.isnan(value):
            xy = (value, position) if horizontal else (position, value)
            ax.annotate(label(text), xy, xytext=(3, 0) if horizontal else (0, 3), textcoords="offset points",
                        ha="left" if horizontal else "center", va="center" if horizontal else "bottom", fontsize=7.5)  # fmt: skip
    return entry


def _scatter(ax, trace: dict[str, Any], x_axis: _Axis, y_axis: _Axis):
    """Draw a scatter trace (lines, markers, text); its legend entry (its line, else its markers), or None."""
    xs, ys = x_axis.positions(trace.get("x", [])), y_axis.positions(trace.get("y", []))
    mode = str(trace.get("mode", "lines"))
    line = trace.get("line", {})
    name = _legend_name(trace)
    entry = None
    if "lines" in mode:
        (entry,) = ax.plot(xs, ys, color=colour(line.get("color", "#0072B2")), linewidth=line.get("width", 2) * _PX_TO_PT,
                           linestyle=_DASH.get(line.get("dash", "solid"), "-"), label=name)  # fmt: skip
    marker = trace.get("marker", {})
    if "markers" in mode:
        size = marker.get("size", 6)
        sizes = [((s or 6) * _PX_TO_PT) ** 2 for s in _per_point(size, len(xs), 6)]
        opacity = marker.get("opacity", 1.0)
        fills = [
            colour(c, o)
            for c, o in zip(
                _per_point(marker.get("color", line.get("color", "#0072B2")), len(xs), "#0072B2"),
                _per_point(opacity, len(xs), 1.0),
                strict=False,
            )
        ]
        dots = ax.scatter(xs, ys, s=sizes, c=fills, zorder=3, label=None if "lines" in mode else name)
        entry = entry or dots
    error = _error(trace.get("error_y"), len(ys))
    if error is not None:
        spec = trace["error_y"]
        ax.errorbar(xs, ys, yerr=error, fmt="none", ecolor=colour(spec.get("color", "#222222")),
                    elinewidth=spec.get("thickness", 1.5) * _PX_TO_PT, capsize=spec.get("width", 4) * _PX_TO_PT, zorder=4)  # fmt: skip
    if "text" in mode:
        for x, y, text in zip(xs, ys, trace.get("text") or [], strict=False):
            if text:
                ax.annotate(label(text), (x, y), xytext=(5, 5), textcoords="offset points", fontsize=7.5)
    return entry if name else None


def _transform(figure, axes, area, xref: str, yref: str):
    """The matplotlib transform for a plotly reference pair (``paper``, ``x2``, ``x2 domain``)."""
    from matplotlib.transforms import Affine2D, blended_transform_factory

    left, bottom, width, height = area
    paper = Affine2D().scale(width, height).translate(left, bottom) + figure.transFigure

    def one(ref: str, which: str):
        if ref == "paper" or not ref:
            return paper
        suffix = ref.split()[0][1:]
        ax = axes.get(suffix, (None,))[0]
        if ax is None:
            return paper
        return ax.transAxes if ref.endswith("domain") else ax.transData

    return blended_transform_factory(one(xref, "x"), one(yref, "y"))


def _position(axes, ref: str, value: Any, which: int) -> float:
    if ref and ref != "paper" and not ref.endswith("domain"):
        suffix = ref[1:]
        if suffix in axes:
            axis = axes[suffix][1 + which]
            return axis.positions([value])[0]
    return float(value)


def _shapes(figure, axes, layout, area) -> None:
    from matplotlib.patches import Rectangle

    for shape in layout.get("shapes", []):
        xref, yref = shape.get("xref", "paper"), shape.get("yref", "paper")
        transform = _transform(figure, axes, area, xref, yref)
        x0, x1 = (_position(axes, xref, shape.get(k, 0), 0) for k in ("x0", "x1"))
        y0, y1 = (_position(axes, yref, shape.get(k, 0), 1) for k in ("y0", "y1"))
        line = shape.get("line", {})
        edge = colour(line.get("color", "#444444")) if line.get("width", 1) else "none"
        target = axes[xref.split()[0][1:]][0] if xref != "paper" and xref.split()[0][1:] in axes else figure
        if shape.get("type") == "rect":
            patch = Rectangle((x0, y0), x1 - x0, y1 - y0, transform=transform, facecolor=colour(shape.get("fillcolor", "rgba(0,0,0,0)")),
                              edgecolor=edge, linewidth=line.get("width", 0) * _PX_TO_PT, zorder=0)  # fmt: skip
            target.add_artist(patch) if target is figure else target.add_patch(patch)
        elif shape.get("type") == "line":
            from matplotlib.lines import Line2D

            artist = Line2D([x0, x1], [y0, y1], transform=transform, color=edge, linewidth=line.get("width", 1) * _PX_TO_PT,
                            linestyle=_DASH.get(line.get("dash", "solid"), "-"))  # fmt: skip
            target.add_artist(artist) if target is figure else target.add_line(artist)


def _annotations(figure, axes, layout, area) -> None:
    for note in layout.get("annotations", []):
        xref, yref = note.get("xref", "paper"), note.get("yref", "paper")
        transform = _transform(figure, axes, area, xref, yref)
        x = _position(axes, xref, note.get("x", 0), 0)
        y = _position(axes, yref, note.get("y", 0), 1)
        font = note.get("font", {})
        figure.text(x, y, label(note.get("text", "")), transform=transform,
                    ha={"left": "left", "right": "right"}.get(note.get("xanchor"), "center"),
                    va={"bottom": "bottom", "top": "top"}.get(note.get("yanchor"), "center"),
                    fontsize=min(font.get("size", 11), 12) * 0.75, color=colour(font.get("color", "#222222")))  # fmt: skip


def svg(data: list[dict[str, Any]], layout: dict[str, Any]) -> str:
    """The figure as SVG text: deterministic (fixed hash salt, no date), text kept as text."""
    import matplotlib

    with matplotlib.rc_context():
        # matplotlib's own defaults, never a matplotlibrc from the working folder, MATPLOTLIBRC or the
        # user's configuration: the same manifest draws the same charts wherever it is built (and a
        # dossier's cache key, which holds the manifest and the libraries' versions, covers them)
        matplotlib.rcdefaults()
        matplotlib.rcParams.update(_RC)
        figure = draw(data, layout)
        buffer = io.StringIO()
        figure.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    return buffer.getvalue()


def data_uri(svg_text: str) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(svg_text.encode("utf-8")).decode("ascii")
