"""Markdown that users wrote (card sections, summaries, policy and waiver text) as safe HTML.

A user's Markdown goes through exactly one Markdown renderer and one sanitiser, and what comes out
cannot be rendered again:

1. **Rendered** by markdown-it-py (CommonMark, plus GitHub's tables and strikethrough). CommonMark
   is what people preview their text in (GitHub, the Hugging Face Hub), and markdown-it is built to
   run in time linear in its input: Python-Markdown, which MkDocs uses for the page around it, took
   seconds for a few kilobytes of nested ``[`` and minutes for 40 kB, so a card could stall every
   build. Raw HTML in the source is passed on to the sanitiser, and so is every link address
   (markdown-it's own URL filter is switched off), so that one allow-list decides and the removal
   note below names what it took out.
2. **Sanitised** by nh3 (the Rust *ammonia* sanitiser), an allow-list of tags, attributes and URL
   schemes rather than a list of known attacks:

   * kept: paragraphs, emphasis, lists, block quotes, tables, code, headings (moved below the
     page's own h2/h3 sections, so a card cannot break the page outline), and links to http(s),
     mailto and relative addresses, which get ``rel="noopener noreferrer"``;
   * removed: ``<script>``/``<style>`` with their content, event-handler and style attributes (no
     CSS, so no ``url()``), ``javascript:``/``data:``/``vbscript:`` and every other scheme, forms,
     frames, ``srcset``, SVG and images. Nothing that loads by itself survives: the offline site
     never fetches from another host because of what a card says.
3. **Made inert** for the page around it: the sanitised HTML is written out again with every
   character that Markdown (or an MkDocs extension) reads as syntax — ``[ ] ( ) ! * _ ` \\ { } | # ~
   ^ < > &`` and quotes — as a character reference. The page is Markdown that MkDocs renders a
   second time; Python-Markdown leaves a raw HTML block alone, but it does run its inline patterns
   on HTML in a table cell or an indented line, and an HTML entity in the user's source (``&#91;``)
   is decoded by step 1. Without this step, ``\\[x\\](javascript:…)`` came out of step 1 as the
   text ``[x](javascript:…)`` and step 2 would become a live link. With it, the browser shows the
   characters and no renderer after this one sees syntax in them. The decoded text and attribute
   values also have their control and invisible characters shown as escapes
   (:func:`modelgov.text_safety.visible`): ``&#x202E;`` in the source is an override once decoded,
   and the dossier, unlike a page, has no later pass over the whole document.

Nothing is dropped silently: when sanitising removed something, the block ends with a note saying
what (for example "a <script> element, an onerror attribute"), so a reviewer knows the source says
more than the page shows.
"""

from __future__ import annotations

import re
from collections import Counter
from html.parser import HTMLParser

import nh3
from markdown_it import MarkdownIt

from modelgov.text_safety import visible

__all__ = ["inert_text", "markdown_block", "markdown_inline"]

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
_VOID = frozenset({"br", "hr"})
_ALIGN = re.compile(r"^text-align:(left|right|center)\Z")

#: User headings start at h4: the page's own sections are h2 and h3.
_HEADING_SHIFT = 3

#: Characters that some Markdown syntax (Python-Markdown's, its extensions', CommonMark's) or HTML
#: gives a meaning, written as character references in the inert output. ``<``, ``>``, ``&`` and
#: ``"`` use the named forms a reader of the HTML expects.
_INERT = {ord(c): f"&#{ord(c)};" for c in "[]()!*_`\\{}|#~^'"}
_INERT.update({ord("<"): "&lt;", ord(">"): "&gt;", ord("&"): "&amp;", ord('"'): "&quot;"})


def inert_text(value: str) -> str:
    """``value`` (plain text) with every HTML- or Markdown-significant character as a reference."""
    return value.translate(_INERT)


def _renderer() -> MarkdownIt:
    renderer = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])
    renderer.validateLink = lambda url: True  # nh3 decides, and the removal note says what it removed
    return renderer


_MARKDOWN = _renderer()


def _render(source: str) -> str:
    tokens = _MARKDOWN.parse(source)
    for token in tokens:  # table alignment as the `align` attribute: style attributes are removed
        if token.type in ("th_open", "td_open") and token.attrs.get("style"):
            found = _ALIGN.match(str(token.attrs.pop("style")))
            if found:
                token.attrs["align"] = found.group(1)
    return _MARKDOWN.renderer.render(tokens, _MARKDOWN.options, {})


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


class _Inert(HTMLParser):
    """Writes sanitised HTML out again so that no Markdown renderer finds syntax in it.

    Tags and attribute names come from nh3's allow-list and are written as they are; every text and
    attribute value is decoded once (``convert_charrefs``) and re-encoded with :data:`_INERT`, so the
    browser reads the same characters and Markdown reads none. On the way, headings move below the
    page's own levels, a link whose address was removed becomes its text (not a dead link), and
    whitespace-only runs between blocks collapse.
    """

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self._links: list[bool] = []  # for each open <a>: whether it was kept
        self._pre = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            kept = any(name == "href" for name, _ in attrs)
            self._links.append(kept)
            if not kept:
                return
        if tag == "pre":
            self._pre += 1
        shown = "".join(f' {name}="{inert_text(visible(value or "", keep=""))}"' for name, value in attrs)
        self.out.append(f"<{self._tag(tag)}{shown}>")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in _VOID:
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in _VOID:
            return
        if tag == "a" and not (self._links.pop() if self._links else False):
            return
        if tag == "pre":
            self._pre = max(0, self._pre - 1)
        self.out.append(f"</{self._tag(tag)}>")

    def handle_data(self, data: str) -> None:
        # the text as decoded: a character reference in the source (&#x202E;, &#xE0041;) is the
        # character now, so it is shown as an escape here, whatever renders this HTML next (a page,
        # a dossier). A line break in preformatted text as a reference: the block then has no blank
        # line that could end Python-Markdown's raw HTML block, and no line that starts with syntax
        text = inert_text(visible(data, keep="\n\t"))
        self.out.append(text.replace("\n", "&#10;") if self._pre else text)

    @staticmethod
    def _tag(tag: str) -> str:
        if len(tag) == 2 and tag[0] == "h" and tag[1] in "123456":
            return f"h{min(6, int(tag[1]) + _HEADING_SHIFT)}"
        return tag


def _inert(clean: str) -> str:
    writer = _Inert()
    writer.feed(clean)
    writer.close()
    return "".join(writer.out)


def _sanitise(rendered: str) -> tuple[str, list[str]]:
    """The sanitised, inert HTML and a description of each kind of thing sanitising took out."""
    clean = nh3.clean(
        rendered,
        tags=set(_TAGS),
        clean_content_tags=set(_REMOVED_WITH_CONTENT),
        attributes={tag: set(names) for tag, names in _ATTRIBUTES.items()},
        url_schemes=set(_SCHEMES),
        link_rel="noopener noreferrer",
        strip_comments=True,
    )
    before, after = _inventory(rendered), _inventory(clean)
    removed = sorted(item for item, count in before.items() if after[item] < count)
    return _inert(clean), removed


def _removal_note(removed: list[str]) -> str:
    return f"Not shown for safety: {inert_text(', '.join(removed))}. The source file has the full text."


def markdown_block(source: str) -> str:
    """A user's Markdown block as one sanitised raw-HTML ``<div>``, on lines of its own.

    The ``<div>`` starts a line and holds no blank line, so Python-Markdown takes it as one raw HTML
    block; its content is inert besides (see the module's docstring), so a template that puts it
    somewhere else (a list item, an admonition) does not bring anything back to life either.
    """
    clean, removed = _sanitise(_render(source))
    lines = [line for line in clean.replace("<p></p>", "").splitlines() if line.strip()]  # blocks, one a line
    if removed:
        lines.append(f'<p class="mg-sanitised">{_removal_note(removed)}</p>')
    return "\n".join(['<div class="mg-usertext">', *lines, "</div>"])


_BLOCK_TAGS = re.compile(r"</?(h[1-6]|ul|ol|li|blockquote|pre|table|thead|tbody|tr|th|td|hr|p|dl|dt|dd)\b[^>]*>")


def markdown_inline(source: str) -> str:
    """A short user Markdown text for an inline position (a table cell): sanitised HTML on one line,
    without the paragraph wrapper or other blocks, and with nothing a table or Markdown reads."""
    clean, removed = _sanitise(_render(source))
    clean = re.sub(r"</p>\s*<p>", "<br>", clean.strip())
    clean = re.sub(r"^<p>|</p>$", "", clean)
    clean = _BLOCK_TAGS.sub(" ", clean)
    if removed:
        clean += f' <span class="mg-sanitised">(not shown for safety: {inert_text(", ".join(removed))})</span>'
    return " ".join(clean.split())
