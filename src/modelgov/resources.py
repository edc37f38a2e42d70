"""Where modelgov's own data files are: site templates and built-in policy packs.

In an installed wheel they sit in ``modelgov/_data/`` (see ``force-include`` in pyproject.toml);
in a source checkout (editable install) they are the top-level ``site_templates/`` and
``policies/`` folders, which stay the single copy that is edited.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent
_CHECKOUT = _PACKAGE.parent.parent


def _data_dir(name: str) -> Path:
    for candidate in (_PACKAGE / "_data" / name, _CHECKOUT / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"modelgov is installed without its {name}/ folder")


def site_templates_dir() -> Path:
    """The built-in Jinja templates of the generated site."""
    return _data_dir("site_templates")


def policies_dir() -> Path:
    """The built-in policy packs."""
    return _data_dir("policies")


def builtin_packs() -> dict[str, Path]:
    """Built-in policy pack name → file (``policies/<name>.yml``)."""
    return {path.stem: path for path in sorted(policies_dir().glob("*.yml"))}
