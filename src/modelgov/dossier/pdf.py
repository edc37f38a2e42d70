"""HTML → PDF/A-3u with WeasyPrint: fonts embedded, attachments carried, the same bytes every time.

Why WeasyPrint: the dossier's user text must be sanitised exactly as on the site, and the site's
sanitiser (:mod:`modelgov.render.usertext`) produces HTML; WeasyPrint lays out that HTML with CSS
and writes PDF/A-3 (the archival profile that allows embedded files) with ``AFRelationship`` on
each attachment and an sRGB output intent. Its one system need is Pango (:func:`available`).

Determinism: every date in the file (the document's, each attachment's) is the manifest's build
time, which ``SOURCE_DATE_EPOCH`` fixes; the file identifier is a digest of the content (pydyf's),
and nothing is fetched: :class:`_NoNetwork` refuses every address but the ``data:`` URIs the
dossier builds itself, so a link or image in user text cannot reach a host.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from modelgov.errors import ModelgovError

#: Archival profile: PDF/A-3 allows embedded files; level U requires every glyph to map to Unicode,
#: so the text can be searched and extracted as written.
PDF_VARIANT = "pdf/a-3u"


class DossierError(ModelgovError):
    """The dossier cannot be written or verified; the message says why."""


@dataclass(frozen=True)
class Attachment:
    name: str
    data: bytes
    description: str
    mime_type: str = "application/json"
    relationship: str = "Data"  # PDF/A-3's AFRelationship: the data the document is a rendering of


def available() -> str | None:
    """None when WeasyPrint and its system libraries (Pango) load; else why not, in one line."""
    try:
        import weasyprint  # noqa: F401
    except (ImportError, OSError) as exc:  # OSError: WeasyPrint imports, Pango does not load
        return f"WeasyPrint cannot run here ({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}); install Pango (Debian: libpango-1.0-0 libpangoft2-1.0-0)"
    return None


def _fetcher():
    from weasyprint.urls import URLFetcher, URLFetchingError

    class _NoNetwork(URLFetcher):
        """Only the ``data:`` URIs the dossier writes itself; never a file or a host."""

        def fetch(self, url, headers=None):
            if not url.startswith("data:"):
                raise URLFetchingError(f"the dossier fetches nothing: {url[:80]!r} refused")
            return super().fetch(url, headers)

    return _NoNetwork()


def write_pdf(html: str, stylesheet: str, attachments: list[Attachment], built_at: str) -> bytes:
    """The PDF/A-3u bytes of ``html`` with ``attachments`` embedded; ``built_at`` (ISO 8601 UTC)
    dates the document and every attachment."""
    problem = available()
    if problem:
        raise DossierError(problem)
    import weasyprint

    when = _parse_time(built_at)
    fetcher = _fetcher()
    embedded = [
        weasyprint.Attachment(
            string=item.data,
            name=item.name,
            description=item.description,
            created=when,
            modified=when,
            relationship=item.relationship,
            url_fetcher=fetcher,
        )
        for item in attachments
    ]
    document = weasyprint.HTML(string=html, base_url="data:,", url_fetcher=fetcher)
    css = weasyprint.CSS(string=stylesheet, url_fetcher=fetcher)
    return document.write_pdf(
        stylesheets=[css],
        pdf_variant=PDF_VARIANT,
        attachments=embedded,
        uncompressed_pdf=False,
        custom_metadata=False,
    )


def _parse_time(text: str) -> dt.datetime:
    try:
        when = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise DossierError(f"manifest: built_at: {text!r} is not an ISO 8601 time") from None
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


def write_file(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file beside it, so a reader never sees half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    try:
        partial.write_bytes(data)
        partial.replace(path)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise DossierError(f"cannot write {path}: {exc.strerror or exc}") from None
