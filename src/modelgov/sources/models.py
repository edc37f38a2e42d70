"""Load a model file, safely, or say in plain language why it was not loaded.

A model file is code as much as data: unpickling a ``.pkl`` or ``.joblib`` file runs whatever its
author put in it, so a governance build that loads every model it is pointed at is a way to run
someone else's code on a reviewer's machine. The rules here:

* ``.skops`` is the default. :func:`skops.io.get_untrusted_types` lists the types in the file that skops
  does not trust on its own; the file is loaded only if every one of them is in the artifact's
  ``trusted_types`` (a decision written down in version.yml, where it can be reviewed), and skops
  then builds the object without running pickle.
* ``.pkl``, ``.pickle`` and ``.joblib`` are refused unless the artifact says ``trust_pickle: true``.
  Without it the file is never opened.
* Anything else, and any failure while loading (a corrupt file, a model saved by an incompatible
  library version), is a :class:`ModelUnavailable` with the reason, never a traceback: the analyses
  that need only predictions still run, and the page says why the rest is missing.

Models are loaded by the build, when the analyses run — never while a workspace is validated.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from modelgov.workspace.schema import Artifact

SKOPS_SUFFIXES = (".skops",)
PICKLE_SUFFIXES = (".pkl", ".pickle", ".joblib")
#: Longest exception text quoted in a reason; a library's message can run to pages.
MAX_MESSAGE = 300


@dataclass(frozen=True)
class LoadedModel:
    """A model object ready to score, with anything worth telling a reader about how it loaded."""

    estimator: Any
    format: Literal["skops", "pickle"]
    notes: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class ModelUnavailable:
    """Why a model file was not loaded, in words a user can act on."""

    reason: str


def load_model(path: Path, artifact: Artifact) -> LoadedModel | ModelUnavailable:
    """Load the model file at ``path`` (the resolved ``artifact.path``) under ``artifact``'s rules."""
    suffix = path.suffix.lower()
    shown = artifact.path
    if suffix in PICKLE_SUFFIXES:
        if not artifact.trust_pickle:
            # Checked before the file is touched: refusing must not depend on what the file contains.
            return ModelUnavailable(
                f"{shown} was not loaded: it is a pickle-based file ({suffix}), and loading a pickle runs "
                "whatever code its author put in it. Save the model with skops instead "
                "(`skops.io.dump(model, 'model.skops')`), or, if you trust where this file came from, set "
                "`trust_pickle: true` under `training.artifact` in version.yml."
            )
        if not path.is_file():
            return ModelUnavailable(f"{shown} was not loaded: the file does not exist")
        return _load_pickle(path, shown)
    if suffix in SKOPS_SUFFIXES:
        if not path.is_file():
            return ModelUnavailable(f"{shown} was not loaded: the file does not exist")
        return _load_skops(path, shown, artifact.trusted_types)
    known = ", ".join((*SKOPS_SUFFIXES, *PICKLE_SUFFIXES))
    return ModelUnavailable(
        f"{shown} was not loaded: modelgov does not know the model format {suffix or '(no suffix)'!r}; "
        f"it loads {known} files (.skops is the safe default)"
    )


def _load_skops(path: Path, shown: str, trusted_types: list[str]) -> LoadedModel | ModelUnavailable:
    import skops.io

    try:
        untrusted = skops.io.get_untrusted_types(file=path)
    except Exception as exc:  # any failure to read an external file is a reason, not a crash
        return ModelUnavailable(f"{shown} was not loaded: it is not a readable .skops file ({_describe(exc)})")
    missing = [name for name in untrusted if name not in trusted_types]
    if missing:
        listed = ", ".join(f"`{name}`" for name in missing)
        return ModelUnavailable(
            f"{shown} was not loaded: it contains types that skops does not trust by default and "
            f"version.yml does not list: {listed}. If you have checked them and trust where the file "
            "came from, add them to `trusted_types` under `training.artifact`."
        )
    return _loaded(lambda: skops.io.load(path, trusted=untrusted), "skops", shown)


def _load_pickle(path: Path, shown: str) -> LoadedModel | ModelUnavailable:
    import joblib

    # joblib.load reads plain pickles as well as joblib's own format.
    return _loaded(lambda: joblib.load(path), "pickle", shown)


def _loaded(load: Any, fmt: Literal["skops", "pickle"], shown: str) -> LoadedModel | ModelUnavailable:
    """Run ``load``; turn exceptions into a reason and library-version warnings into notes."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            estimator = load()
        except Exception as exc:  # corrupt files and version mismatches raise all kinds of errors
            return ModelUnavailable(f"{shown} was not loaded: {_describe(exc)}")
    if not callable(getattr(estimator, "predict", None)):
        return ModelUnavailable(
            f"{shown} was loaded but holds a {type(estimator).__name__}, not a model with a `predict` method"
        )
    saved_with = sorted(
        {
            str(getattr(warning.message, "original_sklearn_version", "?"))
            for warning in caught
            if type(warning.message).__name__ == "InconsistentVersionWarning"
        }
    )
    notes = ()
    if saved_with:
        import sklearn

        notes = (
            f"{shown} was saved with scikit-learn {', '.join(saved_with)} and loaded with {sklearn.__version__}; "
            "scikit-learn does not promise the same predictions across versions, so the explanations "
            "may not describe the model that produced the evaluation table exactly.",
        )
    return LoadedModel(estimator, fmt, notes)


def _first_line(text: str) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line if len(line) <= MAX_MESSAGE else line[: MAX_MESSAGE - 1] + "…"


def _describe(exc: Exception) -> str:
    message = _first_line(str(exc))
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__
