"""The decisive evidence of a promotion, recorded in its audit entry by ``modelgov promote``.

A year after a version went live an auditor asks what it was promoted on. Recomputing the answer
from today's workspace gives today's evidence: the tables may have been re-scored, the policies
rewritten, the champion retired. So the promotion writes a compact summary of what it was decided on
into its own audit entry (``details.record``): the comparison with the version then live (every
headline metric's and every gap's paired difference with its interval), the shadow and A/B test
results when the version had them, the policies' outcome, and each role's sign-off. The entry's hash
and signature cover it like the rest of the entry, and the chain check refuses a record that does not
describe the entry's own version and evidence (:func:`shape_problem`), so a record cannot be edited,
or copied from another promotion, without breaking the chain or the signature.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel

from modelgov import manifest

#: Results listed in a record (the counts cover every one).
MAX_RESULTS = 40
#: Characters of a result's message kept in a record.
MAX_MESSAGE = 400
#: Values of a shadow or A/B summary kept in a record, and characters of a text value.
MAX_SUMMARY_VALUES = 80
MAX_TEXT = 160


def promotion_record(
    built: manifest.Manifest,
    model_id: str,
    version_id: str,
    evidence_digest: str,
    skipped_rules: set[tuple[str, str]],
) -> manifest.PromotionRecord:
    """The record of a promotion from the manifest the policy gate was evaluated on.
    ``skipped_rules`` are the ``status_recorded`` rules the gate leaves out (the entry being written is
    what they ask for), so the record does not show them as failing."""
    from modelgov.policy.comparison_evidence import chosen_comparison
    from modelgov.policy.evidence_index import primary_evaluation

    model = built.model(model_id)
    version = next(v for v in model.versions if v.version == version_id)
    live = next((v.version for v in model.versions if v.status == "production" and v.version != version_id), None)
    run = primary_evaluation(version)
    primary = run.id if run is not None else None
    comparison = chosen_comparison(model, version, "live", primary) or chosen_comparison(
        model, version, "previous", primary
    )
    results = [
        r
        for r in (built.governance.results if built.governance else [])
        if (r.model, r.version) == (model_id, version_id) and (r.policy, r.rule) not in skipped_rules
    ]
    counts: dict[str, int] = {}
    for result in results:
        counts[result.outcome] = counts.get(result.outcome, 0) + 1
    listed = [r for r in results if r.outcome not in ("pass", "not-applicable")]
    return manifest.PromotionRecord(
        version=version_id,
        as_of=built.check_date(),
        evidence_digest=evidence_digest,
        live=live,
        comparison=_comparison(comparison) if comparison is not None else None,
        blocking=any(r.outcome in ("fail", "error") and r.severity == "blocking" for r in results),
        counts=counts,
        results=[
            manifest.RecordedResult(
                rule=f"{r.policy}/{r.rule}",
                outcome=r.outcome,
                message=r.message if len(r.message) <= MAX_MESSAGE else r.message[: MAX_MESSAGE - 1] + "…",
            )
            for r in listed[:MAX_RESULTS]
        ],
        more=max(0, len(listed) - MAX_RESULTS),
        sign_offs=_sign_offs(version),
        shadow=summary(getattr(version, "shadow", None)),
        experiment=summary(getattr(version, "experiment", None)),
    )


def record_json(record: manifest.PromotionRecord) -> dict[str, Any]:
    """The record as the audit entry holds it: JSON, defaults left out to keep the line short."""
    return record.model_dump(mode="json", exclude_defaults=True)


def _comparison(comparison: manifest.Comparison) -> manifest.RecordedComparison:
    metrics = [
        manifest.RecordedDelta(
            name=d.name, label=d.label, this=_finite(d.this), other=_finite(d.other), delta=_finite(d.delta),
            low=_finite(d.interval.low) if d.interval else None, high=_finite(d.interval.high) if d.interval else None,
            higher_is_better=d.higher_is_better, best_value=d.best_value,
            distance_low=_finite(d.distance_interval.low) if d.distance_interval else None,
            distance_high=_finite(d.distance_interval.high) if d.distance_interval else None,
        )
        for d in comparison.deltas
    ]  # fmt: skip
    gaps = [
        manifest.RecordedDelta(
            name=g.name, label=g.label, feature=feature.feature, this=_finite(g.this), other=_finite(g.other),
            delta=_finite(g.delta), low=_finite(g.interval.low) if g.interval else None,
            high=_finite(g.interval.high) if g.interval else None, this_groups=list(g.this_groups),
            other_groups=list(g.other_groups),
        )
        for feature in comparison.fairness
        for g in feature.disparities
        if g.method == "between_groups"
    ]  # fmt: skip
    return manifest.RecordedComparison(
        other_version=comparison.other_version,
        relation=comparison.relation,
        dataset=comparison.dataset,
        evaluation=comparison.evaluation,
        other_evaluation=comparison.other_evaluation,
        rows=comparison.rows,
        metrics=metrics,
        gaps=gaps,
    )


def _sign_offs(version: manifest.ModelVersion) -> list[manifest.RecordedSignOff]:
    """Each role's latest sign-off, whether it counts or not: its signature and evidence say which."""
    latest: dict[str, manifest.Approval] = {}
    for approval in version.approvals:
        if approval.role not in latest or approval.date >= latest[approval.role].date:
            latest[approval.role] = approval
    return [
        manifest.RecordedSignOff(
            role=a.role, by=a.by, decision=a.decision, date=a.date, entry=a.entry, signature=a.signature,
            evidence=a.evidence,
        )
        for a in sorted(latest.values(), key=lambda a: a.role)
    ]  # fmt: skip


def summary(node: Any) -> dict[str, str | float | int | bool | None] | None:
    """A test's result as flat ``key: value`` pairs: its own values and those of the objects it holds
    (an interval as ``.low`` and ``.high``), two levels deep; lists such as windows and groups are
    left out. Generic on purpose: a shadow or A/B report is recorded as the build described it."""
    if not isinstance(node, BaseModel):
        return None
    out: dict[str, str | float | int | bool | None] = {}

    def walk(item: Any, prefix: str, depth: int) -> None:
        for name in type(item).model_fields:
            value = getattr(item, name)
            key = f"{prefix}{name}"
            if isinstance(value, str):
                out[key] = value if len(value) <= MAX_TEXT else value[: MAX_TEXT - 1] + "…"
            elif isinstance(value, bool | int) or value is None:
                out[key] = value
            elif isinstance(value, float):
                out[key] = _finite(value)
            elif isinstance(value, manifest.Interval):  # its bounds; how it was computed is on the page
                out[f"{key}.low"], out[f"{key}.high"] = _finite(value.low), _finite(value.high)
            elif isinstance(value, BaseModel) and not isinstance(value, manifest.FileRef) and depth > 0:
                walk(value, f"{key}.", depth - 1)

    walk(node, "", 2)
    return dict(list(out.items())[:MAX_SUMMARY_VALUES])


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


# --------------------------------------------------------------------------- the chain's check


def shape_problem(entry: Mapping[str, Any]) -> str | None:
    """Why a status entry's ``details.record`` is not a record of this entry's promotion, or None.

    A record must parse as :class:`~modelgov.manifest.PromotionRecord` (strictly: no extra keys, no
    text where a number belongs), belong to a promotion to staging or production, and name the
    digest of the evidence the entry itself binds: a record copied from another version's or another
    promotion's entry names other evidence."""
    details = entry["details"]
    if "record" not in details:
        return None
    record = details["record"]
    if entry["action"] != "status" or entry["outcome"] not in ("staging", "production"):
        return "details.record belongs to a promotion to staging or production"
    if not isinstance(record, dict):
        return "details.record must be an object"
    from pydantic import ValidationError

    from modelgov.decisions.evidence import evidence_digest

    try:
        parsed = manifest.PromotionRecord.model_validate(record, strict=True)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        return f"details.record.{where}: {first['msg'].lower()}" if where else f"details.record: {first['msg']}"
    if parsed.version != entry["subject"].get("version"):
        return f"details.record is the record of version {parsed.version!r}, not of the entry's version"
    evidence = entry["subject"].get("evidence")
    if not isinstance(evidence, dict):
        return "a promotion with a record must bind its evidence (subject.evidence)"
    if parsed.evidence_digest != evidence_digest(evidence):
        return "details.record describes other evidence than the entry binds (its evidence_digest differs)"
    if parsed.comparison is not None and parsed.comparison.other_version == entry["subject"].get("version"):
        return "details.record compares the version with itself"
    return None
