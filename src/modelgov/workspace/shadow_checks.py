"""The loader's checks of a version's ``shadow`` section: the champion it names is another version of
the same model, the model decides (binary classification), and every log and outcome file is inside
the workspace and has the columns the section names, read from each file's header. Each problem
points at the key that names the column, so ``version.yml:31: shadow.champion.score`` says which."""

from __future__ import annotations

from typing import TYPE_CHECKING

from modelgov.sources.tables import TableError, read_columns
from modelgov.workspace.monitoring_checks import log_files
from modelgov.workspace.schema_errors import did_you_mean
from modelgov.workspace.yamlsource import Loc, YamlDocument

if TYPE_CHECKING:
    from modelgov.workspace.load import Loader, ModelEntry
    from modelgov.workspace.version_schema import Version


def _loc(key: str) -> Loc:
    """``champion.score`` → ("shadow", "champion", "score"); ``sensitive[1]`` → (…, "sensitive", 1)."""
    parts: list[str | int] = ["shadow"]
    for part in key.split("."):
        name, _, index = part.partition("[")
        parts.append(name)
        if index:
            parts.append(int(index.rstrip("]")))
    return tuple(parts)


def check_shadow(loader: Loader, doc: YamlDocument, spec: Version, model: ModelEntry, version_id: str) -> None:
    shadow = spec.shadow
    assert shadow is not None
    champion = shadow.champion.version
    if champion == version_id:
        loader.problems.append(
            doc.problem(("shadow", "champion", "version"), "a version cannot shadow itself: name the live version")
        )
    elif champion not in model.versions and (model.id, champion) not in loader.invalid_versions:
        loader.problems.append(
            doc.problem(
                ("shadow", "champion", "version"),
                f"version {champion!r} of {model.id} not found{did_you_mean(champion, model.versions)}",
            )
        )
    if model.card.task.value != "binary_classification":
        loader.problems.append(
            doc.problem(
                ("shadow",),
                f"a shadow test compares two versions' decisions, which needs a binary classifier; {model.id} "
                f"is {model.card.task.value.replace('_', ' ')}",
            )
        )
    _check_files(loader, doc, ("shadow", "logs"), shadow.logs, shadow.log_columns())
    if shadow.champion.logs is not None:
        needed = {"id": shadow.id or ""}
        for key in ("prediction", "score"):
            if getattr(shadow.champion, key):
                needed[f"champion.{key}"] = getattr(shadow.champion, key)
        _check_files(loader, doc, ("shadow", "champion", "logs"), shadow.champion.logs, needed)
    if shadow.ground_truth is not None:
        truth = shadow.ground_truth
        _check_files(
            loader,
            doc,
            ("shadow", "ground_truth", "data"),
            truth.data,
            {"ground_truth.id": truth.id, "ground_truth.label": truth.label},
        )


def _check_files(loader: Loader, doc: YamlDocument, loc: Loc, pattern: str, needed: dict[str, str]) -> None:
    """Every file ``pattern`` names is in the workspace and has each column of ``needed``; a missing
    column is reported once, at the key naming it, with the first file that lacks it."""
    reported: set[str] = set()
    for rel_path in log_files(loader, doc, loc, pattern):
        if loader.resolve(doc, loc, rel_path) is None:
            continue
        try:
            columns = read_columns(loader.root / rel_path)
        except TableError as exc:
            loader.problems.append(doc.problem(loc, f"{rel_path}: {exc}"))
            continue
        loader.files.register(rel_path)
        for key, column in needed.items():
            if column not in columns and key not in reported:
                reported.add(key)
                loader.problems.append(
                    doc.problem(_loc(key), f"column {column!r} is not in {rel_path}{did_you_mean(column, columns)}")
                )
