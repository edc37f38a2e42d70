"""The dossier's governance sections: the comparison with the live version, the policy outcomes with
their evidence and waivers, the sign-offs (signed, unsigned or invalid; current or stale, as the site
marks them), the obligations of each enabled pack (in the order of Annex IV for the EU AI Act pack),
and the version's lineage as a figure."""

from __future__ import annotations

import re

from modelgov.dossier.html import badge, code, day, h, interval, md, num, p, signed, t, table
from modelgov.feature_names import page_name_of
from modelgov.lineage.queries import neighbourhood
from modelgov.manifest import Manifest, Model, ModelVersion, Policy, PolicyResult
from modelgov.manifest.base import best_value_of
from modelgov.render.caveat_views import caveats
from modelgov.render.compliance_outcomes import (
    CHECK_LABELS,
    OUTCOMES,
    blocks,
    observed_text,
    requirement_words,
    shown_outcome,
)
from modelgov.render.condition_views import DUE_SOON_DAYS, MAX_ROWS_SHOWN, condition_rows, due_words
from modelgov.render.lineage_svg import lineage_svg
from modelgov.render.policy_views import version_results
from modelgov.render.risk_views import as_of
from modelgov.render.views import delta_verdict

_ANNEX_IV = re.compile(r"Annex IV, point (\d+)(?:\(([a-z])\))?")


def findings_section(manifest: Manifest, model: Model, version: ModelVersion) -> str:
    """What the build found, first: the warnings the version's page shows, in the words the exports
    use (:mod:`modelgov.render.caveat_views`), so that a reader of the archived file who reads only
    its first pages knows what the rest qualifies."""
    found = caveats(manifest, model, version)
    serious = sum(c.serious for c in found)
    items = "".join(f"<li>{'<strong>Serious:</strong> ' if c.serious else ''}{t(c.text)}</li>" for c in found)
    return (
        h(2, "What the build found", "findings")
        + p(
            f"{serious:,} serious finding{'s' if serious != 1 else ''}, as the version's page on the governance "
            f"site shows them on the check date {t(manifest.check_date())}; each is detailed in the section it "
            "comes from."
        )
        + f"<ul>{items}</ul>"
    )


def comparison_section(model: Model, version: ModelVersion) -> str:
    """Each comparison with the live version (and the previous one), paired on the same rows."""
    wanted = [c for c in version.comparisons if c.relation == "live"] or [
        c for c in version.comparisons if c.relation == "previous"
    ]
    if not wanted:
        live = model.live_version
        why = (
            "it is the live version"
            if live == version.version
            else f"no comparison with the live version ({t(live) if live else 'none'}) was possible"
        )
        return "\n".join([h(2, "Comparison with the live version", "comparison"), p(f"No comparison: {why}.")])
    parts = [h(2, "Comparison with the live version", "comparison")]
    for comparison in wanted:
        parts.append(
            p(
                f"Against {t(comparison.relation)} version <strong>{t(comparison.other_version)}</strong> on "
                f"{num(comparison.rows)} rows of {code(comparison.dataset)}, paired by {t(comparison.matched_by)}. "
                "A difference is better or worse only when its paired interval excludes zero."
                + (
                    BEST_VALUE_NOTE
                    if any(best_value_of(d.name, d.best_value) is not None for d in comparison.deltas)
                    else ""
                )
            )
        )
        rows = [
            [
                t(d.label),
                num(d.this),
                num(d.other),
                signed(d.delta),
                interval(d.interval, differences=True),
                t(delta_verdict(d).word),
            ]
            for d in comparison.deltas
        ]
        parts.append(
            table(["Metric", "This version", "Other", "Difference", "Interval", "Verdict"], rows, numeric=(1, 2, 3))
        )
        for feature in comparison.fairness:
            rows = [
                [t(d.label), num(d.this), num(d.other), signed(d.delta), interval(d.interval, differences=True)]
                for d in feature.disparities
            ]
            if rows:
                parts += [
                    h(4, f"Gaps by {t(page_name_of(feature.feature))}"),
                    table(["Gap", "This version", "Other", "Difference", "Interval"], rows, numeric=(1, 2, 3)),
                ]
        if comparison.fairness_note:
            parts.append(p(t(comparison.fairness_note), "note"))
    return "\n".join(parts)


def _result_row(result: PolicyResult, title: str, fail_on: str) -> list[str]:
    outcome = OUTCOMES.get(result.outcome)
    label = outcome.label if outcome else result.outcome
    if shown_outcome(result) == "not-in-force":
        # as the site shows it: the engine never counts it against the release
        why = "the obligation is not yet in force" if result.not_in_force == "coming" else "its text was rescinded"
        shown = f"{badge('not in force')}<br/>{t(label)}; does not block: {t(why)}"
    else:
        shown = badge(label)
        if blocks(result, fail_on):
            shown += "<br/><strong>blocks the release</strong>"
    if result.unwaived_outcome:
        shown += f"<br/>without the waiver: {t(result.unwaived_outcome)}"
    evidence = "<br/>".join(
        # the check's own result in the site's words: a rule that only warns has checks "not met", never "fail"
        f"{code(c.path)}: {t(observed_text(c.observed))} (requires {t(requirement_words(c.requirement))}) — "
        f"{t(CHECK_LABELS.get(c.outcome, c.outcome))}"
        for c in result.checks
    )
    waiver = code(result.waiver) if result.waiver else ""
    return [
        f"{code(result.policy)} / {code(result.rule)}<br/>{t(title)}",
        t(result.severity),
        shown,
        t(result.message) + (f"<br/>{evidence}" if evidence else ""),
        waiver,
    ]


#: What a verdict on a metric best at a value (a mean error) reads, said where the signed interval is shown.
BEST_VALUE_NOTE = (
    " A mean error is best at 0, whichever its sign: its verdict reads the change in its distance from 0 on the"
    " same resamples, so it can differ from what the interval of the signed difference shown here suggests."
)


def policy_section(manifest: Manifest, model: Model, version: ModelVersion) -> str:
    """Every applicable rule's outcome on this version, worst first, with the evidence it read."""
    parts = [h(2, "Policy outcomes", "policies")]
    report = manifest.governance
    if report is None:
        return "\n".join([*parts, p("No policy applies to this workspace.")])
    pairs = version_results(manifest, model, version)
    gate = (
        "any rule that is not met or cannot be checked (the check is set to fail on warnings)"
        if report.fail_on == "warning"
        else "a blocking rule that is not met or whose evidence cannot be checked"
    )
    blocking = [rr.result for _, rr in pairs if blocks(rr.result, report.fail_on)]
    verdict = (
        f"On this version, <strong>{num(len(blocking))} result{'s' if len(blocking) != 1 else ''} "
        f"block{'s' if len(blocking) == 1 else ''} the release</strong>, marked below."
        if blocking
        else "On this version, <strong>no result blocks the release</strong>."
    )
    parts.append(
        p(
            f"Checked as of {t(report.as_of)}. The release is blocked by {gate}, unless an approved waiver in "
            f"force covers it; a rule of a text not in force on that date (an obligation still to come, or one "
            f"rescinded) is reported but never blocks. {verdict}"
        )
    )
    if not pairs:
        parts.append(p("No rule applies to this version."))
    else:
        rows = [_result_row(rr.result, rr.title, report.fail_on) for _, rr in pairs]
        parts.append(table(["Rule", "Severity", "Outcome", "What was found", "Waiver"], rows, "results"))
    waivers = [
        w
        for w in report.waivers
        if f"{model.id}@{version.version}" in w.used_by or f"{model.id}@{version.version}" in w.would_apply_to
    ]
    if waivers:
        rows = [
            [
                code(w.id),
                f"{code(w.policy)} / {code(w.rule)}",
                md(w.reason),
                t(w.approved_by),
                t(w.ticket),
                f"{t(w.granted)} to {t(w.expires)}",
                t(w.state),
                t(w.record.signature),
            ]
            for w in waivers
        ]
        parts += [
            h(3, "Waivers"),
            table(["Waiver", "Rule", "Reason", "Approved by", "Ticket", "In force", "State", "Signature"], rows),
        ]
    return "\n".join(parts)


def signoff_section(manifest: Manifest, model: Model, version: ModelVersion) -> str:
    """Sign-offs, the conditions they were given under, promotions and open flags, each marked as
    the site marks them."""
    parts = [h(2, "Sign-offs and decisions", "signoffs")]
    if version.evidence is not None:
        parts.append(
            p(
                f"A sign-off binds the evidence digest {code(version.evidence.digest)} over {num(len(version.evidence.files))} files; a sign-off whose evidence changed since, or one from approvals.yml (which binds no files) dated before an evaluation of the version, is <em>stale</em> and not counted."
            )
        )
    if version.approvals:
        rows = [
            [
                t(a.role),
                t(a.by),
                badge(a.decision),
                t(a.date),
                badge(a.signature)
                + (f"<br/>{t(a.signature_problem)}" if a.signature_problem else "")
                + (f"<br/>key {code(a.signer_key)}" if a.signer_key else ""),
                badge(a.evidence)
                + (f"<br/>changed: {', '.join(code(c) for c in a.changed)}" if a.changed else "")
                + (
                    f"<br/><strong>dated before the evaluations it binds</strong>: {t(', '.join(a.predates))}"
                    if a.predates
                    else ""
                ),
                md(a.comment) if a.comment else "",
            ]
            for a in version.approvals
        ]
        parts.append(table(["Role", "By", "Decision", "Date", "Signature", "Evidence", "Comment"], rows, "signoffs"))
    else:
        parts.append(p("No sign-off is recorded."))
    conditions = condition_rows(manifest, model, version)
    if conditions:
        rows = [
            [
                f"{t(row.approval.role)}<br/>{t(row.approval.by)}, {day(row.approval.date)}<br/>{t(row.source)}, "
                f"condition {num(row.condition.number)}",
                t(row.condition.text)
                + (
                    f"<br/>{t(row.condition.note)}"
                    if row.condition.note and (row.state == "met" or row.condition.met_entry is None)
                    else ""
                ),
                day(row.condition.due) if row.condition.due else "standing",
                badge(row.state)
                + (
                    f" by {num(row.days_overdue)} day{'s' if row.days_overdue != 1 else ''}"
                    if row.state == "overdue"
                    else ""
                )
                + (f", {num(row.days_late)} day{'s' if row.days_late != 1 else ''} late" if row.days_late else "")
                + (_due_in(row.days_to_due) if row.days_to_due is not None else "")
                + (
                    f"<br/>{day(row.condition.met)}, confirmed by {t(row.condition.met_by or '')} ({t(row.recorded)})"
                    if row.state == "met"
                    else f"<br/>recorded met {day(row.condition.met)} by {t(row.condition.met_by or '')} "
                    f"({t(row.recorded)}), {'after the check date' if row.met_after_check else 'not counted'}"
                    if row.condition.met
                    else ""
                )
                + ("<br/>confirmed by the model's owner, not independently" if row.confirmed_by_owner else ""),
            ]
            for row in conditions[:MAX_ROWS_SHOWN]
        ]
        parts += [
            h(3, "Conditions of approval"),
            p(
                f"Judged on {t(as_of(manifest))}; a condition without a due date is a standing one, open while the "
                "model is used. How each was recorded met is given beside it: a signed audit entry of the "
                "sign-off's role, or an unsigned line or entry."
                + (
                    f" The {MAX_ROWS_SHOWN} most pressing of the {len(conditions):,} are listed; every one is in the "
                    "attached manifest."
                    if len(conditions) > MAX_ROWS_SHOWN
                    else ""
                )
            ),
            table(["Sign-off", "Condition", "Due", "State"], rows),
        ]
    if version.promotions:
        rows = [
            [
                num(pr.entry),
                f"{day(pr.time)} {t(pr.time[11:19])}",
                t(pr.by),
                f"{t(pr.from_status or '—')} → {t(pr.to_status)}",
                badge(pr.signature),
                badge(pr.evidence),
                t(pr.override_reason or ""),
            ]
            for pr in version.promotions
        ]
        parts += [
            h(3, "Promotions"),
            table(["Entry", "Time", "By", "Status", "Signature", "Evidence", "Override"], rows),
        ]
    if version.flags:
        rows = [
            [code(f.id), day(f.time), t(f.by), t(f.state), num(f.age_days), t(f.text), badge(f.signature)]
            for f in version.flags
        ]
        parts += [
            h(3, "Flags from the business"),
            table(["Flag", "Raised", "By", "State", "Age (days)", "Text", "Signature"], rows),
        ]
    return "\n".join(parts)


def _annex_key(clause: str) -> tuple[int, str]:
    found = _ANNEX_IV.search(clause)
    return (int(found.group(1)), found.group(2) or "") if found else (99, "")


def obligations_section(manifest: Manifest, model: Model, version: ModelVersion) -> str:
    """For each enabled built-in pack: its obligations and this version's evidence for them. The EU
    AI Act pack is ordered by the point of Annex IV each rule documents, rules naming no point last."""
    report = manifest.governance
    packs = [policy for policy in (report.policies if report else []) if policy.pack]
    if not packs:
        return ""
    mine = {(r.policy, r.rule): r for r in report.results if (r.model, r.version) == (model.id, version.version)}
    parts = [h(2, "Obligations of the enabled packs", "obligations")]
    for policy in packs:
        parts += [
            h(3, f"{t(policy.title)} ({code(policy.pack)})"),
            md(policy.description) if policy.description else "",
        ]
        parts.append(_pack_table(policy, mine))
    return "\n".join(part for part in parts if part)


def _pack_table(policy: Policy, mine: dict[tuple[str, str], PolicyResult]) -> str:
    annex = (policy.pack or "").startswith("eu-ai-act")
    entries = []
    for position, rule in enumerate(policy.rules):
        clauses = [f"{r.framework} {r.clause}" + (f" — {r.title}" if r.title else "") for r in rule.references]
        key = min((_annex_key(r.clause) for r in rule.references), default=(99, "")) if annex else (0, "")
        result = mine.get((policy.id, rule.id))
        outcome = shown_outcome(result) if result else "not evaluated"
        evidence = "<br/>".join(
            f"{code(c.path)}: {t(observed_text(c.observed))}" for c in (result.checks if result else [])
        )
        entries.append(
            (
                key,
                position,
                [
                    t("; ".join(clauses)) or "—",
                    f"{code(rule.id)}<br/>{t(rule.title)}",
                    t(rule.requirement),
                    (
                        f"{badge('not in force')}<br/>{t(OUTCOMES[result.outcome].label)}"
                        if result is not None and outcome == "not-in-force"
                        else badge(OUTCOMES[outcome].label if outcome in OUTCOMES else outcome)
                    ),
                    evidence,
                ],
            )
        )
    entries.sort(key=lambda entry: (entry[0], entry[1]))
    first = "Annex IV point and other clauses" if annex else "Clauses"
    table_html = table(
        [first, "Rule", "Requirement", "Outcome", "Evidence"], [row for _, _, row in entries], "obligations"
    )
    open_clauses = [c for c in policy.coverage if not c.rules]
    if open_clauses:
        rows = [
            [t(c.clause), t(c.title), t(c.attestation or c.note or "not checked automatically")] for c in open_clauses
        ]
        table_html += h(4, "Clauses a person must attest") + table(
            ["Clause", "Title", "What is needed"], rows, "attest"
        )
    return table_html


def lineage_section(manifest: Manifest, model: Model, version: ModelVersion) -> str:
    """The version's neighbourhood of the lineage graph (what it was trained and evaluated on, what
    it produced), drawn by the site's own SVG code without links."""
    focus = f"version:{model.id}/{version.version}"
    if not any(node.id == focus for node in manifest.lineage.nodes):
        return ""
    part = neighbourhood(manifest.lineage, focus)
    svg = lineage_svg(part, lambda node: None, focus=focus, title=f"Lineage of {model.id} {version.version}")
    rows = [[t(e.source), t(e.relation), t(e.target)] for e in part.edges]
    return "\n".join(
        [
            h(2, "Lineage", "lineage"),
            f'<figure class="lineage">{svg}</figure>',
            table(["From", "Relation", "To"], rows, "lineage-edges"),
        ]
        + [p(t(note), "note") for note in manifest.lineage.notes]
    )


def _due_in(days: int) -> str:
    """How soon an open condition falls due, strong within :data:`DUE_SOON_DAYS` days."""
    words = due_words(days)
    return f", <strong>{words}</strong>" if days <= DUE_SOON_DAYS else f", {words}"
