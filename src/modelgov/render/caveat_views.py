"""What a reader of an exported card or a dossier must know that the card's own text does not say:
the findings the site shows on the version's page, stated once here so every export format and the
dossier carry the same ones.

An export leaves the site behind: a Hugging Face README, a CycloneDX BOM or a Model Card Toolkit
file is read on its own, by people who never see the page's warnings. Without these, the export
would present the numbers of an evaluation the model file did not score, or a version in production
whose status nobody promoted, as plainly as the numbers of a clean one. Each caveat is worded from the
manifest by the same view functions the pages use (:mod:`modelgov.render`), so the export and the
site cannot disagree about what is wrong.

The caveats are, in order: the policy verdict; evaluations the model file does not reproduce, or
that count records more than once; sign-offs that are stale (the latest of their role) or dated
before the evaluations they bind; how the status was set (by hand, over a blocked gate, on other
evidence, with a promotion record that is not the audit log's); open flags from the business;
overdue conditions of approval; groups too small to read.
"""

from __future__ import annotations

from dataclasses import dataclass

from modelgov import manifest as m
from modelgov.render.compliance_outcomes import OUTCOME_ORDER, OUTCOMES, blocks, shown_outcome
from modelgov.render.condition_views import condition_rows
from modelgov.render.decision_views import promoted_on_other_evidence, stale_sign_offs, unrecorded_statuses
from modelgov.render.flag_views import days_words, open_flags, scope_words
from modelgov.render.policy_views import policy_status
from modelgov.render.views import copied_runs, unreproduced_runs
from modelgov.text_safety import quoted_name, visible

__all__ = ["MAX_NAMED", "Caveat", "caveats", "named", "verdict"]

#: Things (rules, flags, conditions, groups, files) named in one statement; the rest are counted. A
#: hostile log can hold thousands, and an export or a dossier is read by a person; every one is in the
#: site's manifest.
MAX_NAMED = 5


def named(items: list[str]) -> str:
    """The first :data:`MAX_NAMED` of ``items``, then how many more there are."""
    shown = "; ".join(items[:MAX_NAMED])
    return shown + (f"; and {len(items) - MAX_NAMED:,} more" if len(items) > MAX_NAMED else "")


@dataclass(frozen=True)
class Caveat:
    kind: str  # verdict, not-reproduced, copied-rows, stale-sign-off, dated-before-evidence, status, open-flags, …
    serious: bool  # the site shows it as a danger or a failure, not a note
    text: str  # one paragraph in plain words; it quotes workspace text, which each format escapes its own way
    limitation: bool = True  # False for a verdict of pass: a format's list of limitations leaves it out


def verdict(manifest: m.Manifest, model: m.Model, version: m.ModelVersion) -> str | None:
    """The worst outcome of the policies on the version, as the card's title line shows it
    (:func:`~modelgov.render.policy_views.policy_status`); None when the build checked no policy on it."""
    return policy_status(manifest, model, version)


def _verdict_caveat(manifest: m.Manifest, model: m.Model, version: m.ModelVersion) -> Caveat:
    report = manifest.governance
    if report is None:
        return Caveat("verdict", False, "No policy was checked in the build this export comes from.")
    outcome = verdict(manifest, model, version)
    if outcome is None:
        return Caveat("verdict", False, "No policy was checked on this version in the build this export comes from.")
    mine = [r for r in report.results if (r.model, r.version) == (model.id, version.version)]
    rank = {key: i for i, key in enumerate(OUTCOME_ORDER)}
    # the worst first, as the pages list them, so that the ones named before the count are the ones that block
    unmet = sorted(
        (r for r in mine if shown_outcome(r) in ("error", "fail", "warn")),
        key=lambda r: (not blocks(r, report.fail_on), rank.get(shown_outcome(r), -1)),
    )
    blocking = any(blocks(r, report.fail_on) for r in mine)
    said = f"Policy verdict on {report.as_of}: {OUTCOMES[outcome].label if outcome in OUTCOMES else outcome}"
    said += " (this version's results block a release)." if blocking else "."
    if unmet:
        # a rule id is the policy's own: several packs have an `independent-review`, one of them rescinded;
        # rules of several packs that fail for one reason are named together, with the reason once
        reasons: dict[tuple[str, str], list[str]] = {}
        for r in unmet:
            reasons.setdefault((OUTCOMES[shown_outcome(r)].label, r.message), []).append(f"{r.policy}/{r.rule}")
        rules = [f"{', '.join(ids)} ({label}: {message})" for (label, message), ids in reasons.items()]
        said += f" {len(unmet):,} rule(s) not met: {named(rules)}."
    waived = [f"{r.policy}/{r.rule}" for r in mine if r.outcome == "waived"]
    if waived:
        said += f" Met only under a waiver: {named(waived)}."
    serious = blocking or outcome in ("error", "fail")
    return Caveat("verdict", serious, said, limitation=outcome not in ("pass", "not-applicable"))


def _sign_off_caveats(manifest: m.Manifest, version: m.ModelVersion) -> list[Caveat]:
    found = []
    stale = [
        f"the latest {a.role} sign-off ({a.by}, {a.date}): {a.stale_reason} ({named(a.changed)})"
        for a in stale_sign_offs(version, manifest.check_date())
    ]
    if stale:
        found.append(
            Caveat(
                "stale-sign-off", True, f"{len(stale):,} sign-off(s) stale, so no policy counts them: {named(stale)}."
            )
        )
    early = [
        f"the {a.role} sign-off by {a.by} on {a.date} binds {named(a.predates)}"
        for a in version.approvals
        if a.predates
    ]
    if early:
        found.append(
            Caveat(
                "dated-before-evidence",
                True,
                f"{len(early):,} sign-off(s) dated before evaluations they bind, which they could not have "
                f"decided on then, so one of the dates is wrong: {named(early)}.",
            )
        )
    return found


def _status_caveats(manifest: m.Manifest, model: m.Model, version: m.ModelVersion) -> list[Caveat]:
    change = version.status_change
    found = []
    if change is not None and change.override_reason:
        if change.signature == "signed":
            signed = "The entry is signed by a holder of the override role."
        elif change.signature == "unsigned":
            signed = "The entry is not signed."
        else:
            signed = f"The entry's signature is not accepted ({change.signature_problem or 'no reason recorded'})."
        found.append(
            Caveat(
                "status",
                True,
                f"Promoted over a blocked policy gate: {change.by} set the status to {change.to_status} on "
                f"{change.date} although {', '.join(change.overridden_rules) or 'the gate'} blocked it; the reason "
                f"given: {change.override_reason}. {signed}",
            )
        )
    if change is not None and change.evidence == "stale":
        found.append(
            Caveat(
                "status",
                True,
                f"Promoted on other evidence: the version's evidence changed after the promotion "
                f"({named(change.changed)}): {promoted_on_other_evidence(version, change)}.",
            )
        )
    if (model, version) in unrecorded_statuses(manifest):
        found.append(
            Caveat(
                "status",
                True,
                f"The status {version.status} is not set by any `modelgov promote` entry of the audit log: it was "
                f"written into {version.source.path} by hand, not promoted through the policy gate.",
            )
        )
    problems = [
        f"the promotion to {p.to_status} (audit entry {p.entry}{'' if p.signature == 'signed' else ', not signed'}): "
        f"{named(p.record_problems)}"
        for p in version.promotions
        if p.record_problems
    ]
    if problems:
        found.append(
            Caveat(
                "status",
                True,
                f"{len(problems):,} promotion record(s) whose sign-offs are not the audit log's: {named(problems)}.",
            )
        )
    return found


def _flag_caveat(version: m.ModelVersion) -> Caveat | None:
    flags = open_flags(version)
    if not flags:
        return None
    said = [
        f"raised by {f.by} on {f.time[:10]} about {scope_words(f)}, open {days_words(f.age_days)}: {f.text}"
        for f in flags
    ]
    return Caveat(
        "open-flags", True, _sentence(f"{len(flags):,} open flag(s) from the business, oldest first: {named(said)}")
    )


def _condition_caveat(manifest: m.Manifest, model: m.Model, version: m.ModelVersion) -> Caveat | None:
    overdue = [row for row in condition_rows(manifest, model, version) if row.state == "overdue"]
    if not overdue:
        return None
    said = [
        f"{row.condition.text} (set by {row.approval.by}'s {row.approval.role} sign-off, due {row.condition.due}, "
        f"overdue by {days_words(row.days_overdue)})"
        for row in overdue
    ]
    return Caveat(
        "overdue-conditions",
        True,
        f"{len(overdue):,} condition(s) of approval not met past their due date, on {manifest.check_date()}: "
        f"{named(said)}.",
    )


def _small_group_caveats(version: m.ModelVersion) -> list[Caveat]:
    found = []
    for run in version.evaluations:
        for result in run.fairness:
            parts = max(1, len(result.features))  # an intersection's names are parts joined by " × "
            small = [
                f"{quoted_name(g.group, parts=parts)} ({g.count:,} rows)"
                for g in result.groups
                if g.small and not g.absent
            ]
            absent = [quoted_name(g.group, parts=parts) for g in result.groups if g.absent]
            for groups, what in (
                (small, f"with fewer than {result.min_group_size:,} rows, whose figures are unreliable"),
                (absent, "the card expects are not in the data, so nothing is measured for them"),
            ):
                if groups:
                    said = f"Evaluation {quoted_name(run.id)}, {quoted_name(result.feature, parts=parts)}: {len(groups):,} group(s) {what}: {named(groups)}."
                    found.append(Caveat("small-groups", False, said))
    return found


def _sentence(text: str) -> str:
    """``text`` ending with a full stop, unless the quoted text it ends with has one already."""
    return text if text.rstrip().endswith((".", "!", "?")) else text + "."


def caveats(manifest: m.Manifest, model: m.Model, version: m.ModelVersion) -> list[Caveat]:
    """Every caveat on the version, in the order of the module's docstring: at most one of each kind
    per version, evaluation and feature, each naming at most :data:`MAX_NAMED` things, so an export
    stays readable whatever the audit log holds."""
    found = [_verdict_caveat(manifest, model, version)]
    found += [
        Caveat("not-reproduced", True, f"Evaluation {quoted_name(run_id)} was not scored by this model file: {note}")
        for run_id, note in unreproduced_runs(version)
    ]
    found += [
        Caveat("copied-rows", True, f"Evaluation {quoted_name(run_id)} counts some records more than once: {note}")
        for run_id, note in copied_runs(version)
    ]
    found += _sign_off_caveats(manifest, version)
    found += _status_caveats(manifest, model, version)
    found += [c for c in (_flag_caveat(version), _condition_caveat(manifest, model, version)) if c is not None]
    found += _small_group_caveats(version)
    # modelgov's statement, quoting the workspace: one line, its hidden characters shown as escapes
    return [Caveat(c.kind, c.serious, visible(" ".join(c.text.split()), keep=""), c.limitation) for c in found]
