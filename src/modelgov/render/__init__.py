"""Rendering: a manifest in, a static governance website out.

Reads only the manifest (never pandas or analysis code), so a saved ``manifest.json`` can be
re-rendered anywhere. See :func:`render_site`.

:func:`render_site` is imported when first used: a module that needs one helper of this package
(``render.text.slug`` names a page) does not pay for the site engine, the charts and the templates.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from modelgov.render.site import render_site

__all__ = ["render_site"]


def __getattr__(name: str) -> Any:
    if name == "render_site":
        from modelgov.render.site import render_site

        return render_site
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
