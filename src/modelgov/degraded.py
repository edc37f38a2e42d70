"""What the pages admit, for the terminal and for machines: the analyses that ran degraded.

An evaluation table that repeats rows no chance would make equal (:func:`copied_rows_note`) leaves
a note on the card. A model file that was not loaded (a pickle refused, untrusted skops types, a missing file), a model
that could not score its evaluation table, SHAP or another explanation that could not be computed:
each leaves a note on the explainability page. Ground-truth rows left out of performance over time
(no id or outcome, or an id no scoring record has) leave one on the monitoring page. :func:`degradations` finds them in the manifest
alone, so ``modelgov build``, ``modelgov check`` and ``policy-results.json`` list the same ones.

Not degraded: a version that declares no model file (a choice, not a failure; the page shows the
declared importances), partial dependence and SHAP of a multiclass model (not offered), and error
slices that leave out a column with too many values (by design).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from modelgov import manifest
from modelgov.render.text import slug
from modelgov.text_safety import visible

#: How the explanation stage begins a note that the loaded model file does not give the evaluation
#: table's outputs (``analysis.explain.reproduces_table``); the card leads with it (``render.views``).
NOT_REPRODUCED = "The model file does not reproduce the evaluation table"

#: How the explainability analysis words a part it could not compute (``analysis/explain.py``,
#: ``analysis/shapley.py``). A note that starts otherwise is information, not a failure.
FAILURE_NOTES = (
    "Permutation importance, partial dependence and SHAP values",  # the model: not loaded, or refused the table
    "Permutation importance not computed",
    "Partial dependence on ",
    "SHAP values not computed",
    "Error slices not computed",
    NOT_REPRODUCED,
)
_MODEL_NOT_AVAILABLE = (
    "Permutation importance, partial dependence and SHAP values need the model, which is not available: "
)

#: The longest reason printed on a line; the JSON keeps the whole note.
LINE_REASON_CHARS = 240


@dataclass(frozen=True)
class Degradation:
    """One analysis that ran degraded, and where its page says so."""

    model: str
    version: str
    evaluation: str
    analysis: str
    reason: str = ""  # short: the note's first sentence
    detail: str = ""  # the note as the page shows it
    page: str = ""  # site-relative

    def line(self, *, name_evaluation: bool = False) -> str:
        """``note  <model> <version>  <analysis>: <reason>; see <page>``, control characters escaped."""
        analysis = f"{self.analysis} ({self.evaluation})" if name_evaluation else self.analysis
        reason = self.reason if len(self.reason) <= LINE_REASON_CHARS else self.reason[: LINE_REASON_CHARS - 1] + "…"
        return visible(f"note  {self.model} {self.version}  {analysis}: {reason}; see {self.page}", keep="")

    def as_json(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "version": self.version,
            "evaluation": self.evaluation,
            "analysis": self.analysis,
            "reason": self.reason,
            "detail": self.detail,
            "page": self.page,
        }


def degradations(built: manifest.Manifest) -> list[Degradation]:
    """Every degraded analysis of every model version, in the manifest's order."""
    found: list[Degradation] = []
    for model in built.models:
        for version in model.versions:
            page = f"models/{slug(model.id)}/{slug(version.version)}/explainability.html"
            found += _copied_rows(model, version)
            for run in version.evaluations:
                found += _explainability(model, version, run, page)
            found += _outcomes(model, version)
    return found + _audit_chain(built)


def copied_rows_note(run: manifest.EvaluationRun) -> str | None:
    """What to say of an evaluation whose table repeats rows that cannot be equal by chance (some
    compared column differs between nearly all distinct rows): every figure and interval of it counts
    those records more than once. ``None`` when it has no copies, or copies that can be chance."""
    copies = run.duplicates
    if copies is None or copies.distinct_column is None or copies.distinct_share is None:
        return None
    rows = run.performance.rows
    repeat = "repeats" if copies.rows == 1 else "repeat"
    occur = "row occurs" if copies.records == 1 else "rows occur"
    return (
        f"{copies.rows:,} of the {rows:,} rows of evaluation {visible(run.id, keep='')} {repeat} another row in every "
        f"column the evaluation reads ({copies.records:,} distinct {occur} more than once{_where(copies)}), although {visible(copies.distinct_column, keep='')!r} takes a value of its "
        f"own in {copies.distinct_share:.1%} of the distinct rows, so that equal records by chance are not to be "
        "expected. Each copy counts as another record: every figure of this evaluation leans toward the "
        "copied rows, and every interval is narrower than the data supports. Remove the copies, or say in "
        "the card why they are separate records."
    )


def _where(copies: manifest.DuplicateRows) -> str:
    """Where the copies are, by the groups of each sensitive feature: ``; by sex: F 27``."""
    parts = []
    for feature, groups in copies.by_group.items():
        shown = ", ".join(f"{visible(group, keep='')} {count:,}" for group, count in groups.items())
        parts.append(f"by {visible(feature, keep='')}: {shown}")
    return "; " + "; ".join(parts) if parts else ""


def _copied_rows(model: manifest.Model, version: manifest.ModelVersion) -> list[Degradation]:
    page = f"models/{slug(model.id)}/{slug(version.version)}/index.html#evaluation-data"
    found = []
    for run in version.evaluations:
        note = copied_rows_note(run)
        if note is not None:
            found.append(
                Degradation(model.id, version.version, run.id, "evaluation", _first_sentence(note), note, page)
            )
    return found


def _audit_chain(built: manifest.Manifest) -> list[Degradation]:
    """A broken audit log: only the entries before the break count, so a sign-off, rejection, waiver
    or promotion recorded after it is silently not counted. A reviewer and the CI must hear of it
    where they look (the terminal, policy-results.json, the compliance page), not on the audit page
    alone: a byte changed in a signed rejection dropped it, and the rules it failed passed."""
    audit = built.audit
    if audit is None or audit.intact:
        return []
    where = f"line {audit.broken_line}" if audit.broken_line else "its first entry"
    reason = (
        f"the hash chain breaks at {where} ({audit.reason or 'an entry does not verify'}); only the "
        f"{audit.entries:,} entr{'y' if audit.entries == 1 else 'ies'} before it count"
    )
    return [
        Degradation(
            model="workspace",
            version=audit.log.path,
            evaluation="",
            analysis="audit log",
            reason=reason,
            detail=reason,
            page="audit.html",
        )
    ]


def _outcomes(model: manifest.Model, version: manifest.ModelVersion) -> list[Degradation]:
    """Ground-truth rows left out of performance over time: no id or outcome, or no scoring record."""
    report = version.drift
    outcomes = report.outcomes if report is not None else None
    if outcomes is None or not (outcomes.incomplete or outcomes.unmatched):
        return []
    parts = []
    if outcomes.unmatched:
        parts.append(f"{outcomes.unmatched:,} name an id no scoring record has")
    if outcomes.incomplete:
        parts.append(f"{outcomes.incomplete:,} {'has' if outcomes.incomplete == 1 else 'have'} no id or no outcome")
    left_out = outcomes.unmatched + outcomes.incomplete
    reason = f"{left_out:,} of {outcomes.rows:,} ground-truth rows left out ({'; '.join(parts)})"
    page = f"models/{slug(model.id)}/{slug(version.version)}/monitoring.html#performance-over-time"
    return [Degradation(model.id, version.version, "ground truth", "performance over time", reason, reason, page)]


def _explainability(
    model: manifest.Model, version: manifest.ModelVersion, run: manifest.EvaluationRun, page: str
) -> list[Degradation]:
    explained = run.explainability
    if explained is None:
        return []
    found = []
    for note in explained.notes:
        if not note.startswith(FAILURE_NOTES):
            continue
        if note.startswith(_MODEL_NOT_AVAILABLE):
            if explained.model is None:  # no model file declared: nothing failed
                continue
            reason = _first_sentence(note[len(_MODEL_NOT_AVAILABLE) :])
        else:
            reason = _first_sentence(note)
        found.append(Degradation(model.id, version.version, run.id, "explainability", reason, note, page))
    return found


def _first_sentence(text: str) -> str:
    """Up to the first full stop followed by a space (``e.g.`` and file names have none after them)."""
    text = text.strip()
    for index in range(len(text) - 1):
        if text[index] == "." and text[index + 1] == " " and not text[max(0, index - 3) : index + 1].endswith("e.g."):
            return text[:index]
    return text.rstrip(".")


def lines(found: list[Degradation]) -> list[str]:
    """One terminal line per degradation; the evaluation is named when a version has several."""
    runs: dict[tuple[str, str], set[str]] = {}
    for item in found:
        if item.analysis == "explainability":
            runs.setdefault((item.model, item.version), set()).add(item.evaluation)
    return [item.line(name_evaluation=len(runs.get((item.model, item.version), ())) > 1) for item in found]
