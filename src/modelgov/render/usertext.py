"""Markdown that users wrote (card sections, summaries, policy and waiver text) as safe HTML.

The text is rendered by Python-Markdown, the parser MkDocs itself uses, so what a user previews is
what the site shows; the HTML is then sanitised by nh3 (the Rust *ammonia* sanitiser), an allow-list
of tags, attributes and URL schemes rather than a list of known attacks:

* kept: paragraphs, emphasis, lists, block quotes, tables, code, headings (moved below the page's
  own h2/h3 sections, so a card cannot break the page outline), and links to http(s), mailto and
  relative addresses, which get ``rel="noopener noreferrer"``;
* removed: ``<script>``/``<style>`` with their content, event-handler attributes, ``javascript:``/
  ``data:`` URLs, forms, frames, and images (an image's address would make the offline site fetch
  from another host).

Nothing is dropped silently: when sanitising removed something, the block ends with a note saying
what (for example "a <script> element, an onerror attribute"), so a reviewer knows the source says
more than the page shows. The result is a raw HTML block that Markdown passes through unchanged.
"""

from __future__ import annotations

import html
import re
from collections import Counter
from html.parser import HTMLParser

import markdown
import nh3

__all__ = ["markdown_block", "markdown_inline"]

_TAGS = frozenset(
    {
        "p", "br", "hr", "em", "strong", "b", "i", "u", "s", "del", "ins", "mark", "small", "sub", "sup",
        "code", "pre", "kbd", "blockquote", "ul", "ol", "li", "dl", "dt", "dd", "a", "abbr",
        "h1", "h2", "h3", "h4", "h5", "h6",
        "table", "thead", "tbody", "tr", "th", "td",
    }
)  # fmt: skip
_ATTRIBUTES = {"a": {"href", "title"}, "abbr": {"title"}, "th": {"align"}, "td": {"align"}, "ol": {"start"}}
_SCHEMES = frozenset({"http", "https", "mailto"})
_REMOVED_WITH_CONTENT = frozenset({"script", "style"})
_EXTENSIONS = ["tables", "fenced_code", "sane_lists"]

#: User headings start at h4: the page's own sections are h2 and h3.
_HEADING_SHIFT = 3
_HEADING_TAG = re.compile(r"<(/?)h([1-6])\b")
_HREFLESS_LINK = re.compile(r"<a(?![^>]*\bhref=)[^>]*>(.*?)</a>", re.S)


class _Inventory(HTMLParser):
    """Tags, attributes and link schemes in an HTML fragment, to tell what sanitising removed."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.items: Counter[str] = Counter()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.items[f"{_article(tag)} <{tag}> element"] += 1
        for name, value in attrs:
            if name in ("href", "src"):
                scheme = re.match(r"\s*([a-zA-Z][a-zA-Z0-9+.-]*):", re.sub(r"[\x00-\x20]", "", value or ""))
                if scheme:
                    self.items[f"a {scheme.group(1).lower()}: address"] += 1
            elif name != "rel":
                self.items[f"{_article(name)} {name} attribute"] += 1


def _article(word: str) -> str:
    return "an" if word[:1] in "aeiou" else "a"


def _inventory(fragment: str) -> Counter[str]:
    parser = _Inventory()
    parser.feed(fragment)
    parser.close()
    return parser.items


def _sanitise(rendered: str) -> tuple[str, list[str]]:
    """The sanitised HTML and a description of each kind of thing sanitising took out."""
    clean = nh3.clean(
        rendered,
        tags=set(_TAGS),
        clean_content_tags=set(_REMOVED_WITH_CONTENT),
        attributes={tag: set(names) for tag, names in _ATTRIBUTES.items()},
        url_schemes=set(_SCHEMES),
        link_rel="noopener noreferrer",
    )
    before, after = _inventory(rendered), _inventory(clean)
    removed = sorted(item for item, count in before.items() if after[item] < count)
    return _HREFLESS_LINK.sub(r"\1", clean), removed  # a link whose address was removed is text, not a dead link


def _removal_note(removed: list[str]) -> str:
    listed = ", ".join(html.escape(item) for item in removed)
    return f'<p class="mg-sanitised">Not shown for safety: {listed}. The source file has the full text.</p>'


def _render(source: str) -> str:
    return markdown.markdown(source, extensions=_EXTENSIONS, output_format="html")


def markdown_block(source: str) -> str:
    """A user's Markdown block as one sanitised raw-HTML ``<div>``, on lines of its own."""
    clean, removed = _sanitise(_render(source))
    clean = _HEADING_TAG.sub(lambda m: f"<{m.group(1)}h{min(6, int(m.group(2)) + _HEADING_SHIFT)}", clean)
    note = _removal_note(removed) if removed else ""
    return f'<div class="mg-usertext">\n{clean.strip()}\n{note}</div>'


def markdown_inline(source: str) -> str:
    """A short user Markdown text for an inline position (a table cell): sanitised HTML on one line,
    without the paragraph wrapper, and with table pipes neutralised."""
    clean, removed = _sanitise(_render(source))
    clean = re.sub(r"</p>\s*<p>", "<br>", clean.strip())
    clean = re.sub(r"^<p>|</p>$", "", clean)
    clean = re.sub(r"</?(h[1-6]|ul|ol|li|blockquote|pre|table|thead|tbody|tr|th|td|hr|p)\b[^>]*>", " ", clean)
    if removed:
        clean += (
            f' <span class="mg-sanitised">(not shown for safety: {", ".join(html.escape(r) for r in removed)})</span>'
        )
    return " ".join(clean.split()).replace("|", "&#124;")
