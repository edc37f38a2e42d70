"""Rendering: a manifest in, a static governance website out.

Reads only the manifest (never pandas or analysis code), so a saved ``manifest.json`` can be
re-rendered anywhere. See :func:`render_site`.
"""

from modelgov.render.site import render_site

__all__ = ["render_site"]
