"""The small HTML vocabulary of the dossier: escaping through the site's own filters, tables,
numbers. User strings go through :mod:`modelgov.render.text` exactly as on the site (``text`` for
inline values, ``md`` for Markdown blocks, which renders and sanitises with nh3); what comes out is
HTML that WeasyPrint reads as the browser does."""

from __future__ import annotations

import html as _html
from collections.abc import Iterable, Sequence

from modelgov.render import text as _text

#: What the site's footnote marker after an undefined number becomes in print: the dossier's
#: introduction says once what *undefined* means.
_UNDEFINED = _text.UNDEFINED_MARKER


def _clean(shown: str) -> str:
    return shown.replace(_UNDEFINED, "")


def t(value: object) -> str:
    """A user (or any) string for an inline position, escaped as the site escapes it."""
    return "" if value is None else _text.text(value)


def md(value: object) -> str:
    """A user Markdown block, rendered and sanitised as on the site."""
    return _text.md(value)


def code(value: object) -> str:
    return f"<code>{t(value)}</code>"


def num(value: object, digits: int = 3) -> str:
    return _clean(_text.num(value, digits))


def pct(value: object, digits: int = 1) -> str:
    return _clean(_text.pct(value, digits))


def signed(value: object, digits: int = 3) -> str:
    return _clean(_text.signed(value, digits))


def interval(value: object, digits: int = 3, differences: bool = False) -> str:
    return _clean(_text.interval(value, digits, differences))


def h(level: int, title: str, anchor: str | None = None) -> str:
    """A heading of the dossier's own (never user text unescaped: titles built from user values
    are passed through :func:`t` by the caller)."""
    ident = f' id="{_html.escape(anchor, quote=True)}"' if anchor else ""
    return f"<h{level}{ident}>{title}</h{level}>"


def p(content: str, cls: str | None = None) -> str:
    return f'<p class="{cls}">{content}</p>' if cls else f"<p>{content}</p>"


def table(headers: Sequence[str], rows: Iterable[Sequence[str]], cls: str = "", numeric: Sequence[int] = ()) -> str:
    """Headers and cells are HTML already; columns in ``numeric`` are right-aligned."""
    right = set(numeric)
    head = "".join(f"<th{' class=num' if i in right else ''}>{cell}</th>" for i, cell in enumerate(headers))
    body = "".join(
        "<tr>" + "".join(f"<td{' class=num' if i in right else ''}>{cell}</td>" for i, cell in enumerate(row)) + "</tr>"
        for row in rows
    )
    return f'<table class="{cls}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def facts(pairs: Iterable[tuple[str, str]]) -> str:
    """A two-column list of facts (label, HTML value)."""
    rows = "".join(f"<tr><th>{label}</th><td>{value}</td></tr>" for label, value in pairs)
    return f'<table class="facts"><tbody>{rows}</tbody></table>'


def day(value: str) -> str:
    """A date that never breaks across lines (``2026-1`` / ``1-16`` read as two numbers)."""
    return f'<span class="nowrap">{t(value[:10])}</span>'


def badge(word: str) -> str:
    """An outcome or state as a labelled word (the colour is a help, the word is the fact)."""
    css = "".join(c if c.isalnum() else "-" for c in word.lower())
    return f'<span class="badge badge-{css}">{_html.escape(word)}</span>'


def figure(svg_data_uri: str, caption: str, alt: str) -> str:
    return (
        f'<figure><img src="{svg_data_uri}" alt="{_html.escape(alt, quote=True)}"/>'
        f"<figcaption>{caption}</figcaption></figure>"
    )
