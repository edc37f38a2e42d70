"""The risk matrix as a heat map: probability up the side, impact along the bottom, each cell coloured
by its severity level and numbering the models placed on it (the numbers of the risk page's table,
since names do not fit a cell; hovering a cell names them).

The conventions of :mod:`.chart_style` hold: a stable id, deterministic script-safe JSON, every user
string (level names, model names) HTML-escaped. Colours run from pale to dark with the severity, so
the order reads in greyscale too; each cell also says its level in words.
"""

from __future__ import annotations

from typing import Any

from modelgov.manifest import Manifest
from modelgov.render import risk_views
from modelgov.render.chart_style import _chart_id, _esc, _html, _style

#: Pale to dark: the lowest level to the highest (interpolated when there are more levels).
_RAMP = ("#fff3e0", "#fdd49e", "#fc8d59", "#d7301f", "#7f0000")
#: Cells darker than this get white text.
_DARK_FROM = 2.5
#: Model numbers on one line of a cell (three lines at most; more are marked "…", and listed on hover).
CELL_NAMES = 4


def _colour(rank: int, levels: int) -> str:
    """The ramp colour of level ``rank`` (0-based) of ``levels``."""
    if levels == 1:
        return _RAMP[0]
    return _RAMP[round(rank * (len(_RAMP) - 1) / (levels - 1))]


def _colourscale(levels: int) -> list[list[Any]]:
    """A stepped scale: level k fills [k/n, (k+1)/n) with one colour, so z = k maps to level k."""
    scale: list[list[Any]] = []
    for rank in range(levels):
        colour = _colour(rank, levels)
        scale.append([rank / levels, colour])
        scale.append([(rank + 1) / levels, colour])
    return scale


def risk_matrix_chart(manifest: Manifest) -> str | None:
    """The matrix with each assessed model on its worst risk's cell (see :func:`risk_views.cell_of`)."""
    matrix = manifest.risk_matrix
    if matrix is None:
        return None
    placed = risk_views.placements(manifest)
    number = {row.model.id: position for position, row in enumerate(risk_views.risk_rows(manifest), 1)}
    levels = len(matrix.levels)
    z, text, hover = [], [], []
    for p, probability in enumerate(matrix.probability):
        z_row, text_row, hover_row = [], [], []
        for i, impact in enumerate(matrix.impact):
            level = matrix.cells[p][i]
            rank = matrix.levels.index(level)
            z_row.append(rank + 0.5)
            models = placed.get((p, i), [])
            marks = [f"<b>{number[m.id]}</b>" for m in models]
            lines = [" · ".join(marks[k : k + CELL_NAMES]) for k in range(0, len(marks), CELL_NAMES)]
            colour = "#ffffff" if rank * (len(_RAMP) - 1) / max(levels - 1, 1) >= _DARK_FROM else "#222222"
            body = "<br>".join(lines[:3]) + (" …" if len(lines) > 3 else "")
            text_row.append(f"<span style='color:{colour}'><i>{_esc(level)}</i>{'<br>' + body if body else ''}</span>")
            score = f" (score {matrix.scores[p][i]})" if matrix.scores is not None else ""
            who = "<br>".join(f"{number[m.id]}. {_esc(m.name)}" for m in models) or "no model"
            hover_row.append(
                f"probability <b>{_esc(probability)}</b> × impact <b>{_esc(impact)}</b>{score}<br>"
                f"severity <b>{_esc(level)}</b><br>{who}"
            )
        z.append(z_row)
        text.append(text_row)
        hover.append(hover_row)
    figure: dict[str, Any] = {
        "data": [
            {
                "type": "heatmap",
                "x": [_esc(level) for level in matrix.impact],
                "y": [_esc(level) for level in matrix.probability],
                "z": z,
                "zmin": 0,
                "zmax": levels,
                "colorscale": _colourscale(levels),
                "showscale": False,
                "xgap": 3,
                "ygap": 3,
                "text": text,
                "texttemplate": "%{text}",
                "textfont": {"size": 12},
                "customdata": hover,
                "hovertemplate": "%{customdata}<extra></extra>",
            }
        ],
        "layout": {
            "xaxis": {"title": {"text": "Impact"}, "type": "category", "showgrid": False},
            "yaxis": {"title": {"text": "Probability"}, "type": "category", "showgrid": False, "zeroline": False},
        },
    }
    assessed = sum(len(models) for models in placed.values())
    subtitle = (
        f"{assessed} assessed model{'s' if assessed != 1 else ''}, each numbered as in the table below and placed on "
        "the cell of its most severe risk; "
        + ("the default matrix" if matrix.default else "governance.yml's risk_matrix")
    )
    _style(figure, "Risk matrix", subtitle, height=max(360, 90 * len(matrix.probability) + 170))
    return _html(figure, _chart_id("risk-matrix"), "Risk matrix with the assessed models placed on it")
