"""Policies × model versions → results, with waivers applied: the ``govern`` step.

It reads only the manifest (the evidence) and the loaded policy and waiver files, so ``modelgov
check`` and ``modelgov build`` give the same verdicts, and a saved manifest can be re-checked.

A rule's outcome on a version, from its checks:

* any ``error`` check → ``error`` (missing or malformed evidence is never a pass);
* else any ``fail`` check → ``fail`` for a blocking rule, ``warn`` for a warning or info rule;
* else ``pass``; and ``not-applicable`` when the version is out of the rule's scope or the rule has
  nothing to check on it.

An active waiver whose policy, rule, model and version match turns ``fail``, ``warn`` or ``error``
into ``waived`` (the original outcome is kept). A waiver is active up to and including its
``expires`` date; after it, it stops applying and the page lists what it would have covered.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from fnmatch import fnmatchcase

from modelgov import manifest

from . import rule_context, standing
from . import rules as rule_checks
from .evidence_index import evidence_index
from .rule_context import Budget, Context, TooManyChecks, WorkspaceBudget
from .schema import PolicyFile, Rule, Scope, Waiver

#: A waiver ending within this many days is listed as expiring.
EXPIRING_DAYS = 30


@dataclass(frozen=True)
class LoadedPolicy:
    policy: PolicyFile
    source: manifest.FileRef
    pack: str | None = None  # the built-in pack's name


@dataclass(frozen=True)
class LoadedWaiver:
    waiver: Waiver
    source: manifest.FileRef
    record: manifest.WaiverRecord = field(default_factory=manifest.WaiverRecord)


def in_scope(scope: Scope | None, model: manifest.Model, version: manifest.ModelVersion) -> bool:
    if scope is None:
        return True
    if scope.risk_tier is not None and model.risk_tier not in scope.risk_tier:
        return False
    if scope.status is not None and version.status not in [s.value for s in scope.status]:
        return False
    if scope.tags is not None and not set(scope.tags) & set(model.tags):
        return False
    return scope.models is None or any(fnmatchcase(model.id, pattern) for pattern in scope.models)


def _excluded(scope: Scope | None, model: manifest.Model, version: manifest.ModelVersion) -> bool:
    return scope is not None and in_scope(scope, model, version)


def scope_text(scope: Scope | None, exclude: Scope | None = None) -> str:
    def words(s: Scope) -> list[str]:
        out = []
        if s.risk_tier is not None:
            out.append(f"risk tier {' or '.join(s.risk_tier)}")
        if s.status is not None:
            out.append(f"status {' or '.join(x.value for x in s.status)}")
        if s.tags is not None:
            out.append(f"tagged {' or '.join(s.tags)}")
        if s.models is not None:
            out.append(f"models {', '.join(s.models)}")
        return out

    text = "; ".join(words(scope)) if scope else ""
    if exclude is not None and words(exclude):
        text = (text + "; " if text else "all versions; ") + "except " + "; ".join(words(exclude))
    return text


def requirement_text(rule: Rule) -> str:
    text = _kind_text(rule)
    return f"{text}, when {rule.when.text()}" if rule.when is not None else text


def _kind_text(rule: Rule) -> str:
    kind = rule.kind
    if kind == "evidence":
        assert rule.require is not None
        return f"{rule.evidence} {rule.require.text()}"
    if kind == "documented":
        return "card fields written: " + ", ".join(rule.documented or [])
    if kind == "approved_by":
        signed = " (signed decisions only)" if rule.require_signature else ""
        return "approved by: " + ", ".join(rule.approved_by or []) + signed
    if kind == "max_age_days":
        limits = rule.max_age_days
        assert limits is not None
        parts = [
            f"{name} at most {days} days old"
            for name, days in (("evaluation", limits.evaluation), ("monitoring", limits.monitoring))
            if days is not None
        ]
        if limits.approvals is not None:
            signed = "signed " if rule.require_signature else ""
            parts.append(f"{signed}approvals by {', '.join(limits.approved_by)} at most {limits.approvals} days old")
        if limits.open_flags is not None:
            only = " (only a signed resolution closes one)" if rule.require_signature else ""
            parts.append(f"no flag from the business open more than {limits.open_flags} days{only}")
        return "; ".join(parts)
    if kind == "drift_limits":
        limits = rule.drift_limits
        assert limits is not None
        parts = []
        if limits.max_share_drifted is not None:
            parts.append(f"share of drifted features ≤ {limits.max_share_drifted:g}")
        if limits.max_drifting_windows is not None:
            parts.append(f"windows in the current drift ≤ {limits.max_drifting_windows}")
        if limits.max_feature_psi is not None:
            parts.append(f"every feature's PSI < {limits.max_feature_psi:g}")
        if limits.output_drift is False:
            parts.append("no drift of the model's output")
        return "; ".join(parts) + " (latest window with records)"
    if kind == "prohibited_features":
        return "not model inputs: " + ", ".join(rule.prohibited_features or [])
    if kind == "pii_legal_basis":
        return "datasets with personal data state their legal basis"
    if kind == "status_recorded":
        signed = " (a signed entry)" if rule.require_signature else ""
        return f"a version in staging or production got its status through modelgov promote{signed}"
    if kind == "datasheet_fields":
        return "datasheets fill in: " + ", ".join(rule.datasheet_fields or [])
    raise AssertionError(f"no requirement text for the rule kind {kind!r}")  # every kind of RULE_KINDS has one


def _outcome(rule: Rule, checks: list[manifest.PolicyCheck]) -> manifest.Outcome:
    if any(c.outcome == "error" for c in checks):
        return "error"
    if any(c.outcome == "fail" for c in checks):
        return "fail" if rule.severity == "blocking" else "warn"
    return "pass"


def _message(outcome: str, checks: list[manifest.PolicyCheck]) -> str:
    failing = [c for c in checks if c.outcome != "pass"]
    if outcome == "pass":
        return f"{len(checks)} check{'s' if len(checks) != 1 else ''} passed" if len(checks) != 1 else checks[0].message
    shown = "; ".join(c.message for c in failing[:3])
    more = f"; and {len(failing) - 3} more" if len(failing) > 3 else ""
    return shown + more


def _checked(
    rule: Rule, ctx: Context, key: tuple[str, str]
) -> tuple[rule_checks.Applies | None, list[manifest.PolicyCheck] | None]:
    """A rule's condition and checks on a version in its scope, within the version's budget of
    evidence values (:data:`~.rule_context.MAX_CHECKS_PER_VERSION`) and one rule's bound
    (:data:`~.rule_context.MAX_MATCHES`): a rule that would go past either is one ``error`` check
    saying why, never its expansion."""
    budget = ctx.budget
    if budget.exhausted:
        return None, [_too_many(rule, budget.why_not_checked())]
    before = budget.spent
    try:
        when = rule_checks.condition(rule, ctx) if rule.when is not None else None
        checks = rule_checks.evaluate(rule, ctx) if when is None or when.applies else None
    except TooManyChecks as exc:
        budget.by_rule[key] = budget.spent - before
        return None, [_too_many(rule, str(exc))]
    count = len(checks or ())
    bound = rule_context.MAX_MATCHES
    if count > bound:  # a list in the rule itself (roles, fields) as long as that
        checks = [_too_many(rule, f"the rule makes {count:,} checks on this version, more than the {bound:,} one may")]
    budget.spend(max(0, count - (budget.spent - before)))  # the values of kinds that match no pattern
    budget.by_rule[key] = budget.spent - before
    return when, checks


def _too_many(rule: Rule, why: str) -> manifest.PolicyCheck:
    return manifest.PolicyCheck(
        path=rule.evidence or rule.kind, observed=None, requirement=requirement_text(rule), outcome="error", message=why
    )


def _waiver_covers(waiver: Waiver, policy_id: str, rule_id: str, model_id: str, version: str) -> bool:
    return (
        waiver.policy == policy_id
        and waiver.rule == rule_id
        and any(fnmatchcase(model_id, m) for m in waiver.models)
        and (waiver.versions is None or any(fnmatchcase(version, v) for v in waiver.versions))
    )


def govern(
    built: manifest.Manifest,
    policies: list[LoadedPolicy],
    waivers: list[LoadedWaiver],
    today: dt.date,
    *,
    fail_on: str = "blocking",
    require_signed_waivers: bool = False,
    require_signatures: bool = False,
    pinned_packs: tuple[str, ...] = (),
) -> manifest.GovernanceReport:
    """Every rule of every policy on every model version, with the waivers applied. With
    ``require_signed_waivers``, a waiver applies only when its audit record is accepted (signed by a
    listed key, and waivers.yml unchanged since): the others are reported as ``not accepted``. With
    ``require_signatures`` (the CI's setting), every ``approved_by`` and ``status_recorded`` rule
    requires a signature, and so does every waiver. A waiver of a rule of a pack the CI pins
    (``pinned_packs``, ``--require-pack``) must be accepted whatever governance.yml says: otherwise a
    pull request could keep the pack listed and waive each of its rules in waivers.yml."""
    require_signed_waivers = require_signed_waivers or require_signatures
    pinned_policies = {loaded.policy.id for loaded in policies if loaded.pack in pinned_packs}
    datasets = {d.id: d for d in built.datasets}
    results: list[manifest.PolicyResult] = []
    used: dict[str, list[str]] = {w.waiver.id: [] for w in waivers}
    would: dict[str, list[str]] = {w.waiver.id: [] for w in waivers}
    accepted = [
        w for w in waivers if w.record.accepted or not (require_signed_waivers or w.waiver.policy in pinned_policies)
    ]
    standings = {loaded.policy.id: standing.pack_standing(loaded.policy, today) for loaded in policies}
    active = [w for w in accepted if w.waiver.expires >= today and w.waiver.granted <= today]

    spent = WorkspaceBudget()  # what the rules read on all versions together
    for model in built.models:
        for version in model.versions:
            index = evidence_index(model, version, today, signed_only=require_signatures)
            ctx = Context(model, version, index, datasets, today, require_signatures, Budget(workspace=spent))
            for loaded in policies:
                policy = loaded.policy
                pack = standings[policy.id]
                applies = in_scope(policy.applies_to, model, version) and not _excluded(policy.exclude, model, version)
                for rule in policy.rules:
                    rule_applies = applies and in_scope(rule.applies_to, model, version)
                    when, checks = _checked(rule, ctx, (policy.id, rule.id)) if rule_applies else (None, None)
                    if checks is None:
                        if not applies:
                            why = "out of the policy's scope"
                        elif not rule_applies:
                            why = "out of the rule's scope"
                        elif when is not None and not when.applies:
                            why = when.because
                        else:
                            why = "nothing to check on this version"
                        results.append(
                            manifest.PolicyResult(
                                policy=policy.id, rule=rule.id, model=model.id, version=version.version,
                                severity=rule.severity, outcome="not-applicable", message=why,
                            )
                        )  # fmt: skip
                        continue
                    outcome = _outcome(rule, checks)
                    waiver_id, unwaived = None, None
                    if outcome in ("fail", "warn", "error"):
                        key = f"{model.id}@{version.version}"
                        lapsed = []
                        for w in waivers:
                            if not _waiver_covers(w.waiver, policy.id, rule.id, model.id, version.version):
                                continue
                            if w in active and waiver_id is None:
                                waiver_id, unwaived = w.waiver.id, outcome
                                used[w.waiver.id].append(key)
                            elif w.waiver.expires < today or w not in accepted:
                                lapsed.append(w.waiver.id)
                        if waiver_id is not None:
                            outcome = "waived"
                        else:  # what an expired waiver would still cover, had it been renewed
                            for lapsed_id in lapsed:
                                would[lapsed_id].append(key)
                    results.append(
                        manifest.PolicyResult(
                            policy=policy.id, rule=rule.id, model=model.id, version=version.version,
                            severity=rule.severity, outcome=outcome, unwaived_outcome=unwaived, waiver=waiver_id,
                            message=(f"{when.because}: " if when else "") + _message(unwaived or outcome, checks),
                            checks=checks,
                            not_in_force=standing.rule_not_in_force(rule, pack, today),
                        )
                    )  # fmt: skip

    states = []
    for w in waivers:
        waiver = w.waiver
        if w not in accepted:
            state = "not accepted"
        elif waiver.expires < today:
            state = "expired"
        elif waiver.granted > today:
            state = "not yet granted"
        elif (waiver.expires - today).days <= EXPIRING_DAYS:
            state = "expiring"
        else:
            state = "active"
        states.append(
            manifest.WaiverState(
                id=waiver.id, policy=waiver.policy, rule=waiver.rule, models=list(waiver.models),
                versions=list(waiver.versions) if waiver.versions is not None else None, reason=waiver.reason,
                approved_by=waiver.approved_by, ticket=waiver.ticket, granted=waiver.granted.isoformat(),
                expires=waiver.expires.isoformat(), state=state, used_by=used[waiver.id],
                would_apply_to=would[waiver.id], source=w.source, record=w.record,
            )
        )  # fmt: skip

    return manifest.GovernanceReport(
        as_of=today.isoformat(),
        fail_on=fail_on,  # type: ignore[arg-type]
        policies=[_policy(p, today) for p in policies],
        results=results,
        waivers=states,
        blocking=is_blocking(results, fail_on),
        signatures_required=require_signatures,
    )


def is_blocking(results: list[manifest.PolicyResult], fail_on: str) -> bool:
    """A blocking rule that fails or cannot be checked blocks; with ``fail_on: warning``, so does any
    warning, and an error on any rule. A result whose obligation is not in force on the check date
    (coming, or rescinded) never blocks: it shows readiness, or history."""
    for result in results:
        if result.not_in_force is not None:  # a coming or rescinded obligation is reported, never blocks
            continue
        if result.outcome == "fail":
            return True
        if result.outcome == "error" and (result.severity == "blocking" or fail_on == "warning"):
            return True
        if result.outcome == "warn" and fail_on == "warning":
            return True
    return False


def _policy(loaded: LoadedPolicy, today: dt.date) -> manifest.Policy:
    policy = loaded.policy
    pack = standing.pack_standing(policy, today)

    def day(value: dt.date | None) -> str | None:
        return value.isoformat() if value is not None else None

    return manifest.Policy(
        id=policy.id,
        title=policy.title,
        description=policy.description,
        framework=policy.framework,
        pack=loaded.pack,
        source=loaded.source,
        scope=scope_text(policy.applies_to, policy.exclude) or "every model version",
        rules=[
            manifest.PolicyRule(
                id=rule.id,
                title=rule.title,
                description=rule.description,
                kind=rule.kind,
                requirement=requirement_text(rule),
                severity=rule.severity,
                scope=scope_text(rule.applies_to),
                references=[
                    manifest.PolicyReference(
                        framework=r.framework,
                        clause=r.clause,
                        title=r.title,
                        url=r.url,
                        source=r.source,
                        applies_from=day(r.applies_from),
                        verified=r.verified,
                        standing=standing.clause_standing(r, pack, today),
                    )
                    for r in rule.references
                ],
                reads=standing.rule_reads(rule),
            )
            for rule in policy.rules
        ],
        coverage=[
            manifest.CoverageClause(
                clause=c.clause,
                title=c.title,
                rules=list(c.rules),
                attestation=c.attestation,
                note=c.note,
                source=c.source,
                applies_from=day(c.applies_from),
                verified=c.verified,
                standing=standing.clause_standing(c, pack, today),
            )
            for c in policy.coverage
        ],
        instrument=manifest.PolicyInstrument(**policy.instrument.model_dump()) if policy.instrument else None,
        version=policy.version,
        declared_status=policy.status,
        superseded_by=policy.superseded_by,
        rescinded_on=day(policy.rescinded_on),
        published=day(policy.published),
        applies_from=day(policy.applies_from),
        sources=[manifest.PolicySource(id=s.id, title=s.title, url=s.url, date=day(s.date)) for s in policy.sources],
        standing=pack,
    )
