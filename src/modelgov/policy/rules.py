"""One function per rule kind: the checks a rule makes on one model version.

Each returns a list of :class:`~modelgov.manifest.PolicyCheck` (pass / fail / error), or ``None``
when the rule does not apply to the version (for example a drift limit on a version without a
monitoring log, or a rule whose wildcard matches nothing and says ``missing: not-applicable``).
Missing or malformed evidence is an ``error`` check, never a pass.
"""

from __future__ import annotations

import datetime as dt
import math
import operator
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from modelgov import manifest

from .paths import (
    Evidence,
    days_between,
    did_you_mean,
    latest_approvals,
    matches,
    primary_evaluation,
    why_not_counted,
)
from .risk_evidence import missing_reason
from .schema import Requirement, Rule

Check = manifest.PolicyCheck

_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    ">=": operator.ge,
    ">": operator.gt,
    "<=": operator.le,
    "<": operator.lt,
    "==": operator.eq,
    "!=": operator.ne,
}

#: Text that marks a card field as not really written.
PLACEHOLDER = re.compile(
    r"^\W*(todo|tbd|tba|to be (done|written|completed|determined)|n/?a|none|lorem ipsum.*|xxx+|\.\.\.|-+|\?+)\W*$", re.I
)
#: Text that starts as a to-do (``TODO: what the model is for``, as ``modelgov init`` writes it).
TODO_PREFIX = re.compile(r"^\W*(todo|tbd)\b", re.I)


def is_placeholder(text: str) -> bool:
    """Text that stands in for what is still to be written: ``TODO``, ``TBD``, ``n/a``, ``...``, or
    anything starting ``TODO:`` / ``TBD``."""
    stripped = text.strip()
    return bool(PLACEHOLDER.match(stripped) or TODO_PREFIX.match(stripped))


@dataclass(frozen=True)
class Context:
    model: manifest.Model
    version: manifest.ModelVersion
    index: dict[str, Evidence]
    datasets: dict[str, manifest.Dataset]
    today: dt.date
    #: set by the CI (``MODELGOV_REQUIRE_SIGNATURES``): every sign-off and promotion rule requires a
    #: signature, whatever the workspace's policies say
    require_signatures: bool = False


def shown(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def days(count: int) -> str:
    return f"{count} day" if count == 1 else f"{count} days"


def evaluate(rule: Rule, ctx: Context) -> list[Check] | None:
    return _KINDS[rule.kind](rule, ctx)


# --------------------------------------------------------------------------- evidence + require


def compare(observed: Any, requirement: Requirement) -> tuple[str, str]:
    """(``pass`` | ``fail`` | ``error``, why) for one observed value."""
    want = requirement.value
    if observed is None:
        return "error", "the value is undefined (for example a rate with no eligible rows)"
    if isinstance(observed, str) and is_placeholder(observed):
        return "fail", f"{shown(observed)} is a placeholder, still to be written"
    if isinstance(want, bool) or isinstance(observed, bool):
        if not isinstance(observed, bool) or not isinstance(want, bool):
            return "error", f"{shown(observed)} and {shown(want)} are not both true/false"
    elif isinstance(want, int | float):
        if not isinstance(observed, int | float):
            return "error", f"{shown(observed)} is not a number"
        if isinstance(observed, float) and math.isnan(observed):
            return "error", "the value is not a number (NaN)"
    elif requirement.operator not in ("==", "!="):
        return "error", f"{requirement.operator} compares numbers, and {shown(want)} is text"
    ok = _COMPARE[requirement.operator](observed, want)
    return ("pass" if ok else "fail"), f"{shown(observed)} {'meets' if ok else 'does not meet'} {requirement.text()}"


def _evidence(rule: Rule, ctx: Context) -> list[Check] | None:
    assert rule.evidence is not None and rule.require is not None
    requirement = f"{rule.evidence} {rule.require.text()}"
    found = {path: ev for path, ev in ctx.index.items() if matches(rule.evidence, path)}
    if not found:
        if rule.missing == "not-applicable":
            return None
        hint = did_you_mean(rule.evidence, ctx.index) if "*" not in rule.evidence else ""
        reason = missing_reason(rule.evidence, ctx.index)
        return [
            Check(
                path=rule.evidence,
                observed=None,
                requirement=requirement,
                outcome="fail" if rule.missing == "fail" else "error",
                message=reason or f"no evidence {rule.evidence!r} for this version{hint}",
            )
        ]
    return [threshold_check(path, ev, rule.require) for path, ev in sorted(found.items())]


def threshold_check(path: str, ev: Evidence | None, requirement: Requirement) -> Check:
    """One evidence value against one comparison: the check every threshold-like rule records."""
    observed = ev.value if ev else None
    outcome, why = compare(observed, requirement)
    return Check(
        path=path,
        observed=observed,
        requirement=f"{path} {requirement.text()}",
        outcome=outcome,  # type: ignore[arg-type]
        message=f"{path}: {why}" + (f" [{ev.detail}]" if ev and ev.detail else ""),
        page=ev.page if ev else None,
    )


# --------------------------------------------------------------------------- when


@dataclass(frozen=True)
class Applies:
    """Whether a rule's ``when`` holds on a version, and the evidence that decided it, in words."""

    applies: bool
    because: str


def condition(rule: Rule, ctx: Context) -> Applies:
    """A rule's ``when`` on one version: it applies when any condition holds on any matching value.
    When none holds but some value could not be read (no path matches, or a value is undefined), the
    condition is unknown and ``when.missing`` decides: a change that cannot be measured is not taken
    for a small one unless the policy says so."""
    assert rule.when is not None
    unknown: list[str] = []
    closest: list[str] = []
    for item in rule.when.any_of:
        found = {path: ev for path, ev in ctx.index.items() if matches(item.evidence, path)}
        if not found:
            unknown.append(f"no evidence {item.evidence!r}")
            continue
        for path, ev in sorted(found.items()):
            outcome, _ = compare(ev.value, item.require)
            if outcome == "pass":
                detail = f" [{ev.detail}]" if ev.detail else ""
                return Applies(True, f"applies because {path} = {shown(ev.value)} {item.require.text()}{detail}")
            if outcome == "error":
                unknown.append(f"{path} is undefined")
        known = [(path, ev.value) for path, ev in found.items() if isinstance(ev.value, int | float)]
        if known:
            path, value = max(known, key=lambda pair: abs(pair[1]))
            closest.append(f"{path} = {shown(value)}")
    if unknown and rule.when.missing == "apply":
        return Applies(True, f"applies because its condition cannot be evaluated ({'; '.join(unknown[:3])})")
    largest = f" (largest: {', '.join(closest)})" if closest else ""
    unread = f"; not evaluated: {'; '.join(unknown[:3])}" if unknown else ""
    return Applies(False, f"its condition does not hold: {rule.when.text()}{largest}{unread}")


# --------------------------------------------------------------------------- documentation


def _documented(rule: Rule, ctx: Context) -> list[Check]:
    assert rule.documented is not None
    checks = []
    for field in rule.documented:
        ev = ctx.index[f"card.{field}"]
        value = ev.value
        text = " ".join(value) if isinstance(value, list) else (value or "")
        if not str(text).strip():
            outcome, why = "fail", "is empty"
        elif is_placeholder(str(text)):
            outcome, why = "fail", f"is a placeholder ({str(text).strip()[:40]!r})"
        else:
            outcome, why = "pass", "is written"
        checks.append(
            Check(
                path=f"card.{field}",
                observed=(str(text)[:80] + "…") if len(str(text)) > 80 else str(text),
                requirement=f"card.{field} is written (not empty, not a placeholder)",
                outcome=outcome,  # type: ignore[arg-type]
                message=f"card.{field} {why}",
                page=ev.page,
            )
        )
    return checks


# --------------------------------------------------------------------------- approvals and freshness


def _approved_by(rule: Rule, ctx: Context) -> list[Check]:
    """Each role's latest sign-off that counts must approve the version. Stale sign-offs (evidence
    changed since) and failing signatures never count; unsigned ones count unless the rule says
    ``require_signature``."""
    assert rule.approved_by is not None
    signed_only = rule.require_signature or ctx.require_signatures
    latest = latest_approvals(ctx.version, signed_only=signed_only)
    page = f"models/{ctx.model.id}/{ctx.version.version}/index.html#approvals"
    checks = []
    for role in rule.approved_by:
        approval = latest.get(role)
        kind = "signed decision" if signed_only else "decision"
        requirement = f"the latest {role} {kind} is approved, on or after {ctx.version.created}"
        if approval is None:
            why = why_not_counted(ctx.version, role, signed_only=signed_only) or f"no {role} {kind} is recorded"
            outcome, observed = "fail", None
        elif approval.decision != "approved":
            outcome, observed, why = (
                "fail",
                approval.decision,
                f"the latest {role} decision is {approval.decision} ({approval.by}, {approval.date})",
            )
        elif approval.date < ctx.version.created:
            outcome, observed, why = (
                "fail",
                approval.date,
                f"{role} approved on {approval.date}, before the version was created ({ctx.version.created})",
            )
        else:
            signed = "signed" if approval.signature == "signed" else "unsigned"
            outcome, observed, why = (
                "pass",
                approval.decision,
                f"{role}: approved by {approval.by} on {approval.date} ({signed})",
            )
        newer = why_not_counted(ctx.version, role, signed_only=signed_only) if approval is not None else None
        if newer:
            why += f"; {newer}, and is not counted"
        checks.append(
            Check(
                path=f"approvals.{role}",
                observed=observed,
                requirement=requirement,
                outcome=outcome,
                message=why,
                page=page,
            )  # type: ignore[arg-type]
        )
    return checks


def _status_recorded(rule: Rule, ctx: Context) -> list[Check] | None:
    """A version in staging or production got there through ``modelgov promote``: the audit log's
    latest status entry for it sets that status (and, with ``require_signature``, is signed)."""
    version = ctx.version
    if version.status not in ("staging", "production"):
        return None
    page = f"models/{ctx.model.id}/{version.version}/index.html#status"
    change = version.status_change
    signed = rule.require_signature or ctx.require_signatures
    requirement = f"status {version.status} set by a{' signed' if signed else 'n'} audit entry"
    if change is None:
        outcome, observed = "fail", None
        why = f"status {version.status} is not recorded in the audit log: version.yml was edited, not promoted"
    elif change.evidence == "stale":
        outcome, observed = "fail", "stale"
        why = (
            f"audit entry {change.entry} set the status on other evidence: changed since the promotion "
            f"({', '.join(change.changed)})"
        )
    elif signed and change.evidence != "current":
        outcome, observed = "fail", "unbound"
        why = f"audit entry {change.entry} set the status without naming the evidence it was promoted on"
    elif change.signature == "invalid":
        outcome, observed = "fail", "invalid"
        why = (
            f"audit entry {change.entry} set the status, but its signature is not accepted: {change.signature_problem}"
        )
    elif signed and change.signature != "signed":
        outcome, observed = "fail", "unsigned"
        why = f"audit entry {change.entry} ({change.by}, {change.date}) set the status without a signature"
    else:
        outcome, observed = "pass", change.signature
        why = f"audit entry {change.entry}: {change.by} set {change.to_status} on {change.date} ({change.signature})"
        if change.override_reason:
            why += f", overriding {', '.join(change.overridden_rules)}: {change.override_reason}"
    return [
        Check(
            path="status",
            observed=observed,
            requirement=requirement,
            outcome=outcome,  # type: ignore[arg-type]
            message=why,
            page=page,
        )
    ]


def _max_age_days(rule: Rule, ctx: Context) -> list[Check] | None:
    limits = rule.max_age_days
    assert limits is not None
    checks = []
    card = f"models/{ctx.model.id}/{ctx.version.version}/index.html"
    if limits.evaluation is not None:
        run = primary_evaluation(ctx.version)
        if run is None:
            checks.append(
                Check(
                    path="evaluation.age_days",
                    observed=None,
                    requirement=f"evaluation.age_days <= {limits.evaluation}",
                    outcome="error",
                    message="the version has no evaluation",
                )
            )
        else:
            age = days_between(run.date, ctx.today)
            ok = age <= limits.evaluation
            checks.append(
                Check(
                    path="evaluation.age_days",
                    observed=age,
                    requirement=f"evaluation.age_days <= {limits.evaluation}",
                    outcome="pass" if ok else "fail",
                    message=f"evaluation {run.id} of {run.date} is {days(age)} old (limit {days(limits.evaluation)})",
                    page=f"{card}#evaluation-data",
                )
            )
    if limits.monitoring is not None:
        ev = ctx.index.get("monitoring.age_days")
        if ctx.version.monitoring is None and ctx.version.drift is None:
            pass  # no production log: freshness of monitoring does not apply
        elif ev is None:
            checks.append(
                Check(
                    path="monitoring.age_days",
                    observed=None,
                    requirement=f"monitoring.age_days <= {limits.monitoring}",
                    outcome="error",
                    message="the monitoring log has no window with records",
                )
            )
        else:
            ok = ev.value <= limits.monitoring
            checks.append(
                Check(
                    path="monitoring.age_days",
                    observed=ev.value,
                    requirement=f"monitoring.age_days <= {limits.monitoring}",
                    outcome="pass" if ok else "fail",
                    message=f"the latest monitored window ended {days(ev.value)} ago (limit {days(limits.monitoring)})",
                    page=ev.page,
                )
            )
    if limits.approvals is not None:
        latest = latest_approvals(ctx.version)
        for role in limits.approved_by:
            approval = latest.get(role)
            requirement = f"approvals.{role}.age_days <= {limits.approvals}"
            if approval is None:
                checks.append(
                    Check(
                        path=f"approvals.{role}.age_days",
                        observed=None,
                        requirement=requirement,
                        outcome="fail",
                        message=f"no {role} decision is recorded",
                        page=f"{card}#approvals",
                    )
                )
                continue
            age = days_between(approval.date, ctx.today)
            ok = age <= limits.approvals
            checks.append(
                Check(
                    path=f"approvals.{role}.age_days",
                    observed=age,
                    requirement=requirement,
                    outcome="pass" if ok else "fail",
                    message=f"the latest {role} decision ({approval.date}) is {days(age)} old (limit {days(limits.approvals)})",
                    page=f"{card}#approvals",
                )
            )
    if limits.open_flags is not None:
        checks.append(_open_flags(rule, ctx, limits.open_flags, f"{card}#flags-from-the-business"))
    return checks or None


def _open_flags(rule: Rule, ctx: Context, limit: int, page: str) -> Check:
    """No flag from the business stays open longer than ``limit`` days on the check date. A flag
    counts as closed only by a resolution the build accepted, and with ``require_signature`` (or the
    CI's setting) only by a signed one: a resolution anyone could append by hand closes nothing."""
    signed_only = rule.require_signature or ctx.require_signatures
    still_open = [
        flag
        for flag in ctx.version.flags
        if flag.state == "open" or (signed_only and (flag.resolution is None or flag.resolution.signature != "signed"))
    ]
    ages = [(max(0, days_between(flag.time, ctx.today)), flag) for flag in still_open]
    overdue = [(age, flag) for age, flag in ages if age > limit]
    oldest = max((age for age, _ in ages), default=0)
    requirement = f"flags.oldest_open_days <= {limit}"
    if not ages:
        why = "no flag from the business is open"
    elif not overdue:
        why = f"{len(ages)} flag{'s' if len(ages) != 1 else ''} from the business open, the oldest for {days(oldest)} (limit {days(limit)})"
    else:
        why = (
            "; ".join(
                f"flag {flag.id} ({flag.by}, {flag.time[:10]}) open for {days(age)}"
                + (", its unsigned resolution does not count" if flag.state == "resolved" else "")
                for age, flag in sorted(overdue, key=lambda item: (-item[0], item[1].id))
            )
            + f" (limit {days(limit)})"
        )
    return Check(
        path="flags.oldest_open_days",
        observed=oldest,
        requirement=requirement,
        outcome="fail" if overdue else "pass",
        message=why,
        page=page,
    )


# --------------------------------------------------------------------------- drift


def _drift_limits(rule: Rule, ctx: Context) -> list[Check] | None:
    limits = rule.drift_limits
    assert limits is not None
    if ctx.version.monitoring is None and ctx.version.drift is None:
        return None  # nothing in production to monitor
    if ctx.version.drift is None or "drift.share_drifted" not in ctx.index:
        return [
            Check(
                path="drift",
                observed=None,
                requirement="a monitoring report with records",
                outcome="error",
                message="the version has a monitoring log but no window with records was analysed",
            )
        ]
    checks = []

    def add(path: str, requirement: Requirement) -> None:
        checks.append(threshold_check(path, ctx.index.get(path), requirement))

    if limits.max_share_drifted is not None:
        add("drift.share_drifted", Requirement(le=limits.max_share_drifted))
    if limits.max_drifting_windows is not None:
        add("drift.drifting_windows", Requirement(le=limits.max_drifting_windows))
    if limits.max_feature_psi is not None:
        for path in sorted(p for p in ctx.index if matches("drift.features.*.psi", p)):
            add(path, Requirement(lt=limits.max_feature_psi))
    if limits.output_drift is False and "drift.output.drifted" in ctx.index:
        add("drift.output.drifted", Requirement(eq=False))
    return checks


# --------------------------------------------------------------------------- data governance


def _inputs(version: manifest.ModelVersion) -> set[str]:
    """The model's inputs as the workspace declares them anywhere."""
    names = {f for run in version.evaluations for f in run.features}
    if version.monitoring is not None:
        names |= set(version.monitoring.features)
    return names


def _prohibited_features(rule: Rule, ctx: Context) -> list[Check]:
    assert rule.prohibited_features is not None
    inputs = _inputs(ctx.version)
    page = f"models/{ctx.model.id}/{ctx.version.version}/index.html#evaluation-data"
    found = sorted(f for f in inputs if f.lower() in {p.lower() for p in rule.prohibited_features})
    requirement = f"none of {', '.join(rule.prohibited_features)} is a model input"
    if not inputs:
        return [
            Check(
                path="inputs",
                observed=None,
                requirement=requirement,
                outcome="error",
                message="the version declares no input features (evaluations[].features or monitoring.features)",
                page=page,
            )
        ]
    if found:
        return [
            Check(
                path="inputs",
                observed=found,
                requirement=requirement,
                outcome="fail",
                message=f"prohibited input(s): {', '.join(found)}",
                page=page,
            )
        ]
    return [
        Check(
            path="inputs",
            observed=sorted(inputs),
            requirement=requirement,
            outcome="pass",
            message=f"none of the {len(inputs)} inputs is prohibited",
            page=page,
        )
    ]


def _used_datasets(ctx: Context) -> list[str]:
    ids = list(ctx.version.training.datasets) + [run.dataset for run in ctx.version.evaluations]
    return list(dict.fromkeys(ids))


def _pii_legal_basis(rule: Rule, ctx: Context) -> list[Check] | None:
    checks = []
    for dataset_id in _used_datasets(ctx):
        dataset = ctx.datasets.get(dataset_id)
        page = f"datasets/{dataset_id}.html"
        if dataset is None:
            checks.append(
                Check(
                    path=f"datasets.{dataset_id}",
                    observed=None,
                    requirement="a datasheet",
                    outcome="error",
                    message=f"no datasheet for {dataset_id}",
                )
            )
        elif dataset.contains_pii:
            ok = bool(dataset.legal_basis and dataset.legal_basis.strip() and not is_placeholder(dataset.legal_basis))
            checks.append(
                Check(
                    path=f"datasets.{dataset_id}.legal_basis",
                    observed=dataset.legal_basis,
                    requirement="a dataset with personal data states its legal basis",
                    outcome="pass" if ok else "fail",
                    message=f"{dataset_id} holds personal data and {'states' if ok else 'does not state'} a legal basis",
                    page=page,
                )
            )
    return checks or None  # no personal data: the rule does not apply


def _datasheet_fields(rule: Rule, ctx: Context) -> list[Check]:
    assert rule.datasheet_fields is not None
    checks = []
    for dataset_id in _used_datasets(ctx):
        dataset = ctx.datasets.get(dataset_id)
        if dataset is None:
            checks.append(
                Check(
                    path=f"datasets.{dataset_id}",
                    observed=None,
                    requirement="a datasheet",
                    outcome="error",
                    message=f"no datasheet for {dataset_id}",
                )
            )
            continue
        missing = [f for f in rule.datasheet_fields if getattr(dataset, f) in (None, "", [])]
        # a placeholder ("TODO: …", as `modelgov init` writes them) is not a filled-in field
        unwritten = [
            f
            for f in rule.datasheet_fields
            if isinstance(getattr(dataset, f), str) and is_placeholder(getattr(dataset, f))
        ]
        missing += unwritten
        present = [f for f in rule.datasheet_fields if f not in missing]
        checks.append(
            Check(
                path=f"datasets.{dataset_id}",
                observed=f"missing: {', '.join(missing)}" if missing else f"filled in: {', '.join(present)}",
                requirement=f"fields {', '.join(rule.datasheet_fields)} are filled in",
                outcome="fail" if missing else "pass",
                message=f"{dataset_id}: "
                + (
                    "; ".join(
                        part
                        for part in (
                            f"missing {', '.join(f for f in missing if f not in unwritten)}"
                            if any(f not in unwritten for f in missing)
                            else "",
                            f"still a placeholder: {', '.join(unwritten)}" if unwritten else "",
                        )
                        if part
                    )
                    if missing
                    else "all required fields are filled in"
                ),
                page=f"datasets/{dataset_id}.html",
            )
        )
    return checks


_KINDS: dict[str, Callable[[Rule, Context], list[Check] | None]] = {
    "evidence": _evidence,
    "documented": _documented,
    "approved_by": _approved_by,
    "max_age_days": _max_age_days,
    "drift_limits": _drift_limits,
    "prohibited_features": _prohibited_features,
    "pii_legal_basis": _pii_legal_basis,
    "datasheet_fields": _datasheet_fields,
    "status_recorded": _status_recorded,
}
