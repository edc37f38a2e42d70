"""Every exception modelgov raises on purpose lives here.

The CLI turns these into exit codes in exactly one place (``cli.main``); nothing else catches them.
Messages say what was checked and where, so a user can fix the file without reading code.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with the user's input, located as precisely as the source allows."""

    file: str
    line: int | None
    key: str
    message: str

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        key = f" {self.key}:" if self.key else ""
        return f"{where}:{key} {self.message}"


class ModelgovError(Exception):
    """Base class: an error the user can act on; shown without a traceback."""

    exit_code = 2


class WorkspaceError(ModelgovError):
    """The workspace is invalid. Carries *every* problem found, not just the first."""

    def __init__(self, problems: list[Problem]):
        self.problems = sorted(set(problems), key=lambda p: (p.file, p.line or 0, p.key, p.message))
        count = len(self.problems)
        noun = "problem" if count == 1 else "problems"
        lines = "\n".join(f"  {p}" for p in self.problems)
        super().__init__(f"the workspace has {count} {noun}:\n{lines}")


class ManifestError(ModelgovError):
    """A manifest could not be read (wrong schema version, corrupted JSON)."""


class BuildError(ModelgovError):
    """Rendering or the static-site build failed; the previous output is left untouched."""


class OutputPathError(ModelgovError):
    """The output folder is unsafe to write (inside the workspace, or not a modelgov site)."""


class CacheError(ModelgovError):
    """The cache is configured in a way that cannot be made safe (a folder inside the workspace, a
    ``MODELGOV_CACHE_KEY`` too short to be a secret): the user has to change it, so the build stops."""
