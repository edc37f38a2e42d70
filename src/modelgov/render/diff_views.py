"""What changed from one model version to the one it retrains: the facts of a version diff.

Everything is read from the manifest: training (datasets, algorithm, code commit, parameters,
environment, model file), the evaluations' headline metrics and fairness disparities on the same
dataset, and the policy outcomes. Metric changes on the *same rows*, with paired intervals, are the
comparison section's; this lists values side by side, so a reviewer sees every change in one place.
"""

from __future__ import annotations

import difflib
import html
import re
from dataclasses import dataclass, field
from typing import Any, Literal

from modelgov.manifest import EvaluationRun, Manifest, Model, ModelVersion
from modelgov.render.compliance_outcomes import shown_outcome


@dataclass(frozen=True)
class Change:
    what: str
    before: str
    after: str


@dataclass(frozen=True)
class ValueChange:
    what: str
    before: float | None
    after: float | None
    higher_is_better: bool = True

    @property
    def delta(self) -> float | None:
        return None if self.before is None or self.after is None else self.after - self.before


@dataclass(frozen=True)
class TextChange:
    """A text field that differs, as escaped HTML with deletions and insertions marked word by word."""

    what: str
    html: str


@dataclass(frozen=True)
class VersionChanges:
    other: ModelVersion
    relation: Literal["previous", "approved"] = "previous"
    text: list[TextChange] = field(default_factory=list)
    training: list[Change] = field(default_factory=list)
    dataset: str | None = None  # the evaluation dataset both versions were measured on
    metrics: list[ValueChange] = field(default_factory=list)
    fairness: list[ValueChange] = field(default_factory=list)
    policies: list[Change] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.training or self.metrics or self.fairness or self.policies or self.text)


def _text(value: Any) -> str:
    if value is None or value == [] or value == {}:
        return "not recorded"
    if isinstance(value, list):
        return ", ".join(map(str, value))
    return str(value)


def _training_changes(this: ModelVersion, other: ModelVersion) -> list[Change]:
    a, b = other.training, this.training
    changes = []
    for label, before, after in (
        ("Training datasets", a.datasets, b.datasets),
        ("Algorithm", a.algorithm, b.algorithm),
        ("Code commit", a.code_commit, b.code_commit),
        ("Python", a.python, b.python),
        ("Model file", a.artifact.sha256 if a.artifact else None, b.artifact.sha256 if b.artifact else None),
    ):
        if before != after:
            if label == "Model file":
                before = f"{a.artifact.path} (SHA-256 {before[:12]}…)" if a.artifact and before else None
                after = f"{b.artifact.path} (SHA-256 {after[:12]}…)" if b.artifact and after else None
            changes.append(Change(label, _text(before), _text(after)))
    for name in sorted(set(a.params) | set(b.params)):
        if a.params.get(name) != b.params.get(name):
            changes.append(Change(f"Parameter {name}", _text(a.params.get(name)), _text(b.params.get(name))))
    for name in sorted(set(a.packages) | set(b.packages)):
        if a.packages.get(name) != b.packages.get(name):
            changes.append(Change(f"Package {name}", _text(a.packages.get(name)), _text(b.packages.get(name))))
    return changes


def _shared_runs(this: ModelVersion, other: ModelVersion) -> tuple[EvaluationRun, EvaluationRun] | None:
    """The most recent evaluation of this version on a dataset the other was also evaluated on."""
    for run in this.evaluations:  # newest first
        match = next((r for r in other.evaluations if r.dataset == run.dataset), None)
        if match is not None:
            return run, match
    return None


_WORDS = re.compile(r"\s+|[^\s]+")


def text_diff(before: str, after: str) -> str:
    """A readable word-level diff as HTML: removed words in ``<del>``, added ones in ``<ins>``;
    every word is escaped, so user text cannot become markup."""
    old, new = _WORDS.findall(before), _WORDS.findall(after)
    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    if matcher.ratio() < 0.5:  # rewritten rather than edited: interleaved words would be unreadable
        return f"<del>{html.escape(before)}</del><br><br><ins>{html.escape(after)}</ins>".replace("\n", "<br>")
    out = []
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            out.append(html.escape("".join(old[i1:i2])))
            continue
        if i2 > i1:
            out.append(f"<del>{html.escape(''.join(old[i1:i2]))}</del>")
        if j2 > j1:
            out.append(f"<ins>{html.escape(''.join(new[j1:j2]))}</ins>")
    return "".join(out).replace("\n", "<br>")


def is_approved(version: ModelVersion) -> bool:
    """Signed off: at least one approval, and every role's latest decision is an approval."""
    latest: dict[str, tuple[str, str]] = {}
    for approval in version.approvals:
        if approval.role not in latest or approval.date >= latest[approval.role][0]:
            latest[approval.role] = (approval.date, approval.decision)
    return bool(latest) and all(decision == "approved" for _, decision in latest.values())


def last_approved(model: Model, version: ModelVersion) -> ModelVersion | None:
    """The most recently created other version, older than this one, that was signed off."""
    older = [v for v in model.versions if v.version != version.version and v.created <= version.created]
    return max((v for v in older if is_approved(v)), key=lambda v: (v.created, v.version), default=None)


def version_comparisons(manifest: Manifest, model: Model, version: ModelVersion) -> list[VersionChanges]:
    """Changes from the version this one retrains, and from the last approved version when that is
    another one: what a reviewer must re-check before promoting this version."""
    found = []
    previous = version_changes(manifest, model, version)
    if previous is not None:
        found.append(previous)
    approved = last_approved(model, version)
    if approved is not None and (previous is None or approved.version != previous.other.version):
        found.append(version_changes(manifest, model, version, other=approved, relation="approved"))
    return found


def version_changes(
    manifest: Manifest,
    model: Model,
    version: ModelVersion,
    *,
    other: ModelVersion | None = None,
    relation: Literal["previous", "approved"] = "previous",
) -> VersionChanges | None:
    """Changes from ``other`` (default: ``version.previous``); None when there is no such version."""
    if other is None:
        other = next((v for v in model.versions if v.version == version.previous), None)
    if other is None:
        return None
    metrics, fairness, dataset = [], [], None
    shared = _shared_runs(version, other)
    if shared is not None:
        run, match = shared
        dataset = run.dataset
        before = {m.name: m for m in match.performance.metrics}
        for metric in run.performance.metrics:
            old = before.get(metric.name)
            if old is not None:
                metrics.append(ValueChange(metric.label, old.value, metric.value, metric.higher_is_better))
        old_fairness = {r.feature: r for r in match.fairness}
        for result in run.fairness:
            previous = old_fairness.get(result.feature)
            if previous is None:
                continue
            old_disparities = {(d.name, d.method): d for d in previous.disparities}
            for disparity in result.disparities:
                if disparity.method != "between_groups":
                    continue
                old = old_disparities.get((disparity.name, disparity.method))
                if old is not None:
                    # ratios: closer to 1 is fairer; differences: closer to 0
                    up = disparity.name.endswith("_ratio")
                    fairness.append(
                        ValueChange(f"{disparity.label} by {result.feature}", old.value, disparity.value, up)
                    )
    policies = []
    if manifest.governance is not None:
        outcomes: dict[tuple[str, str], dict[str, str]] = {}
        for result in manifest.governance.results:
            if result.model == model.id and result.version in (version.version, other.version):
                outcomes.setdefault((result.policy, result.rule), {})[result.version] = shown_outcome(result)
        titles = {(p.id, r.id): f"{p.title}: {r.title}" for p in manifest.governance.policies for r in p.rules}
        for key, found in outcomes.items():
            before, after = found.get(other.version, "—"), found.get(version.version, "—")
            # a rule that did not apply to one side (e.g. the older version is retired) is no change
            if before != after and "not-applicable" not in (before, after):
                policies.append(Change(titles.get(key, "/".join(key)), before, after))
    text = []
    if other.summary.strip() != version.summary.strip():
        text.append(TextChange("Summary", text_diff(other.summary.strip(), version.summary.strip())))
    return VersionChanges(
        other=other,
        relation=relation,
        text=text,
        training=_training_changes(version, other),
        dataset=dataset,
        metrics=metrics,
        fairness=fairness,
        policies=policies,
    )
