"""The lineage graph as inline SVG: drawn at build time, so it needs no script, no CDN and no
``dot`` binary, prints, and reads the same on every build (see :mod:`.lineage_layout`).

Each node is a link to the page that holds its evidence. The SVG keeps its natural size inside a
scrolling frame, so a graph of hundreds of nodes stays legible instead of shrinking to fit; every
node and edge is also listed as text beside it (for screen readers, search and copying).
Every string from the workspace, MLflow or OpenLineage is XML-escaped.
"""

from __future__ import annotations

import html
from collections.abc import Callable

from modelgov.manifest import Lineage, LineageNode
from modelgov.render.lineage_layout import layered_layout
from modelgov.text_safety import visible

__all__ = ["KINDS", "ORIGINS", "lineage_svg"]


def _esc(value: str) -> str:
    """Text for the SVG (labels, tooltips, links): XML-escaped, with control characters and bidi
    overrides shown as escapes, as everywhere else on the site (:mod:`modelgov.text_safety`)."""
    return html.escape(visible(value, keep="\n"))


#: kind → (legend label, fill, stroke), in the left-to-right order a reader meets them.
KINDS: dict[str, tuple[str, str, str]] = {
    "job": ("Pipeline job", "#f3e5f5", "#6a1b9a"),
    "dataset": ("Dataset", "#e3effb", "#0d47a1"),
    "training": ("Training run", "#fff4dc", "#7a4f01"),
    "version": ("Model version", "#e3f2e5", "#1b5e20"),
    "registered": ("Registered model version", "#e0f7fa", "#006064"),
    "evaluation": ("Evaluation", "#fce4ec", "#880e4f"),
    "monitoring": ("Production monitoring", "#fbe9e7", "#bf360c"),
}
ORIGINS = {"workspace": "workspace", "mlflow": "MLflow", "openlineage": "OpenLineage"}

_W, _H = 240.0, 62.0
_PAD = 12.0
_CHAR = 6.9  # average advance of a 12px sans-serif character, for truncation


def _fit(text: str, width: float, char: float = _CHAR) -> str:
    limit = max(4, int(width / char))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _wrap(text: str, width: float, lines: int = 2) -> list[str]:
    """Break ``text`` at spaces into at most ``lines`` lines that fit ``width``; the last is cut with …."""
    limit = max(4, int(width / _CHAR))
    out: list[str] = []
    words = text.split()
    while words and len(out) < lines:
        line = words.pop(0)
        while words and len(line) + 1 + len(words[0]) <= limit:
            line += " " + words.pop(0)
        out.append(line)
    if words:
        out[-1] = out[-1] + " " + " ".join(words)
    return [_fit(line, width) for line in out]


def _rank(node: LineageNode) -> tuple[object, ...]:
    return (node.model or node.dataset or "~", list(KINDS).index(node.kind), node.id)


def lineage_svg(
    lineage: Lineage,
    href: Callable[[LineageNode], str | None],
    *,
    focus: str | None = None,
    title: str = "Lineage graph",
) -> str:
    """``<div class="mg-lineage">`` holding the SVG; ``href`` gives a node's link (or None)."""
    if not lineage.nodes:
        return ""
    by_id = {node.id: node for node in lineage.nodes}
    layout = layered_layout(
        list(by_id),
        [(edge.source, edge.target) for edge in lineage.edges],
        rank={node.id: _rank(node) for node in lineage.nodes},
        node_width=_W,
        node_height=_H,
    )
    width, height = layout.width + 2 * _PAD, layout.height + 2 * _PAD
    parts = [
        f'<svg class="mg-lineage__svg" xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" role="img" aria-label="{_esc(title)}">',
        f"<title>{_esc(title)}</title>",
        '<defs><marker id="mg-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
        'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#78909c"/></marker></defs>',
    ]
    for edge in lineage.edges:
        points = layout.routes.get((edge.source, edge.target))
        if not points:
            continue
        path = _curve([(x + _PAD, y + _PAD) for x, y in points])
        several = len(edge.origins) > 1
        origins = ", ".join(ORIGINS[o] for o in edge.origins)
        label = f"{by_id[edge.source].label} — {edge.relation} → {by_id[edge.target].label} (from {origins})"
        parts.append(
            f'<path class="mg-lineage__edge" d="{path}" fill="none" stroke="#78909c" '
            f'stroke-width="{2.2 if several else 1.3}" marker-end="url(#mg-arrow)">'
            f"<title>{_esc(label)}</title></path>"
        )
    for node_id, (x, y) in sorted(layout.positions.items()):
        parts.append(_node(by_id[node_id], x + _PAD, y + _PAD, href(by_id[node_id]), node_id == focus))
    parts.append("</svg>")
    return f'<div class="mg-lineage" tabindex="0">{"".join(parts)}</div>'


def _curve(points: list[tuple[float, float]]) -> str:
    """A smooth path through ``points``: cubic segments with horizontal tangents."""
    (x0, y0), *rest = points
    d = [f"M{x0:.1f},{y0:.1f}"]
    for x1, y1 in rest:
        mid = (x0 + x1) / 2
        d.append(f"C{mid:.1f},{y0:.1f} {mid:.1f},{y1:.1f} {x1:.1f},{y1:.1f}")
        x0, y0 = x1, y1
    return " ".join(d)


def _node(node: LineageNode, x: float, y: float, link: str | None, focused: bool) -> str:
    kind_label, fill, stroke = KINDS[node.kind]
    sources = [ORIGINS[o] for o in node.origins if o != "workspace"]
    tooltip = "\n".join(
        [
            f"{kind_label}: {node.label}",
            *([node.detail] if node.detail else []),
            f"From: {', '.join(ORIGINS[o] for o in node.origins)}",
            *(f"{key}: {value}" for key, value in node.properties.items()),
        ]
    )
    tag = " · ".join(sources)
    kind_text = _fit(kind_label.upper(), _W - 16 - len(tag) * 6.2, 6.4)
    body = [
        f'<rect x="{x:.1f}" y="{y:.1f}" width="{_W:.0f}" height="{_H:.0f}" rx="6" fill="{fill}" '
        f'stroke="{stroke}" stroke-width="{3 if focused else 1.2}"/>',
        f'<text x="{x + 8:.1f}" y="{y + 13:.1f}" font-size="9.5" letter-spacing="0.4" fill="{stroke}">'
        f"{_esc(kind_text)}</text>",
    ]
    for index, line in enumerate(_wrap(node.label, _W - 16)):
        body.append(
            f'<text x="{x + 8:.1f}" y="{y + 27 + 14 * index:.1f}" font-size="12" font-weight="600" fill="#212121">'
            f"{_esc(line)}</text>"
        )
    if tag:
        body.append(
            f'<text x="{x + _W - 8:.1f}" y="{y + 13:.1f}" font-size="9.5" text-anchor="end" fill="#455a64">'
            f"{_esc(tag)}</text>"
        )
    if node.detail:
        body.append(
            f'<text x="{x + 8:.1f}" y="{y + 56:.1f}" font-size="10.5" fill="#455a64">'
            f"{_esc(_fit(node.detail, _W - 16, 6.0))}</text>"
        )
    group = (
        f'<g class="mg-lineage__node mg-lineage__node--{node.kind}"><title>{_esc(tooltip)}</title>{"".join(body)}</g>'
    )
    if link is None:
        return group
    return f'<a href="{_esc(link)}">{group}</a>'
