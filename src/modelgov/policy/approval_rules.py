"""The rule kinds about people's decisions and their age: sign-offs (``approved_by``), a status
reached through ``modelgov promote`` (``status_recorded``), and freshness (``max_age_days``: of the
evaluation, the monitoring, the sign-offs, and of flags from the business left open).

Each function returns the checks of one rule on one version, or ``None`` when the rule does not
apply to it; :func:`modelgov.policy.rules.evaluate` picks the function by the rule's kind.
"""

from __future__ import annotations

from dataclasses import dataclass

from modelgov import manifest
from modelgov.feature_names import group_segment
from modelgov.grace import counts_on

from .evidence_index import days_between, latest_approvals, primary_evaluation, why_not_counted
from .rule_context import Check, Context, days
from .schema import Rule


@dataclass(frozen=True)
class SignOff:
    """One role's standing under a rule on sign-offs: its latest decision that counts (``None`` when
    none does), whether that decision approves the version, the value a check records, and why."""

    approval: manifest.Approval | None
    approves: bool
    observed: object
    why: str
    #: When none counts, the sign-off ``why`` names as not counted (stale, its signature not accepted,
    #: or not signed where only signed ones count): the role's latest made by the check date.
    uncounted: manifest.Approval | None = None


def sign_offs(rule: Rule, ctx: Context, roles: list[str]) -> tuple[bool, dict[str, SignOff]]:
    """Whether the rule counts signed sign-offs only (its ``require_signature``, or the CI's
    ``MODELGOV_REQUIRE_SIGNATURES``), and each role's :class:`SignOff` under it. Every rule that reads
    sign-offs (``approved_by``, and the freshness of approvals) counts them here, so a sign-off that
    cannot satisfy one cannot satisfy the other. Stale sign-offs (evidence changed since) and failing
    signatures never count; an approval must be the role's latest decision that counts, and dated on or
    after the version's creation."""
    signed_only = rule.require_signature or ctx.require_signatures
    latest = latest_approvals(ctx.version, signed_only=signed_only, as_of=ctx.today)
    return signed_only, {role: _sign_off(ctx, role, latest.get(role), signed_only) for role in roles}


def _sign_off(ctx: Context, role: str, approval: manifest.Approval | None, signed_only: bool) -> SignOff:
    kind = "signed decision" if signed_only else "decision"
    if approval is None:
        later = [a for a in ctx.version.approvals if a.role == role and a.counts and not counts_on(a.date, ctx.today)]
        if later:
            first = min(later, key=lambda a: a.date)
            why = (
                f"no {role} {kind} is dated by the check date {ctx.today.isoformat()}: the {role} sign-off by "
                f"{first.by} is dated {first.date}, after it"
            )
        elif reason := why_not_counted(ctx.version, role, signed_only=signed_only, today=ctx.today):
            return SignOff(None, False, None, reason, ctx.version.latest_sign_off(role, ctx.today.isoformat()))
        else:
            why = f"no {role} {kind} is recorded"
        return SignOff(None, False, None, why)
    if approval.decision != "approved":
        approves, observed = False, approval.decision
        why = f"the latest {role} decision is {approval.decision} ({approval.by}, {approval.date})"
    elif approval.date < ctx.version.created:
        approves, observed = False, approval.date
        why = f"{role} approved on {approval.date}, before the version was created ({ctx.version.created})"
    else:
        signed = "signed" if approval.signature == "signed" else "unsigned"
        approves, observed = True, approval.decision
        why = f"{role}: approved by {approval.by} on {approval.date} ({signed})"
    newer = why_not_counted(ctx.version, role, signed_only=signed_only, today=ctx.today)
    if newer:
        why += f"; {newer}, and is not counted"
    return SignOff(approval, approves, observed, why)


def approved_by(rule: Rule, ctx: Context) -> list[Check]:
    """Each role's latest sign-off that counts must approve the version (see :func:`sign_offs`);
    unsigned ones count unless the rule says ``require_signature`` or the CI requires signatures."""
    assert rule.approved_by is not None
    signed_only, standing = sign_offs(rule, ctx, rule.approved_by)
    page = f"models/{ctx.model.id}/{ctx.version.version}/index.html#approvals"
    kind = "signed decision" if signed_only else "decision"
    return [
        Check(
            path=f"approvals.{group_segment(role)}",
            observed=standing[role].observed,
            requirement=f"the latest {role} {kind} is approved, on or after {ctx.version.created}",
            outcome="pass" if standing[role].approves else "fail",
            message=standing[role].why,
            page=page,
        )  # type: ignore[arg-type]
        for role in rule.approved_by
    ]


def status_recorded(rule: Rule, ctx: Context) -> list[Check] | None:
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
    elif not counts_on(change.date, ctx.today):
        outcome, observed = "fail", change.date
        why = (
            f"audit entry {change.entry} set the status on {change.date}, after the check date "
            f"{ctx.today.isoformat()}: on that date the status was not yet recorded"
        )
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


def max_age_days(rule: Rule, ctx: Context) -> list[Check] | None:
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
        elif _after_grace(run.date, ctx):
            checks.append(
                _after_check_date(
                    "evaluation.age_days",
                    f"evaluation.age_days <= {limits.evaluation}",
                    f"evaluation {run.id}",
                    run.date,
                    ctx,
                )
            )
        else:
            age = max(0, days_between(run.date, ctx.today))  # the next day: the day of grace
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
        elif ev is None or ev.value is None:
            checks.append(
                Check(
                    path="monitoring.age_days",
                    observed=None,
                    requirement=f"monitoring.age_days <= {limits.monitoring}",
                    outcome="error",
                    message="the monitoring log has no window with records"
                    if ev is None
                    else f"the latest monitored window starts after the check date {ctx.today}: the log holds "
                    "records dated later, so it has no age on that day",
                    page=None if ev is None else ev.page,
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
        signed_only, standing = sign_offs(rule, ctx, limits.approved_by)
        for role in limits.approved_by:
            path = f"approvals.{group_segment(role)}.age_days"
            requirement = f"{path} <= {limits.approvals}" + (" (signed approvals only)" if signed_only else "")
            approval = standing[role].approval
            if not standing[role].approves or approval is None:  # no approval that counts: nothing is fresh
                checks.append(
                    Check(
                        path=path,
                        observed=None,
                        requirement=requirement,
                        outcome="fail",
                        message=standing[role].why + _also_too_old(standing[role].uncounted, ctx, limits.approvals),
                        page=f"{card}#approvals",
                    )
                )
                continue
            if _after_grace(approval.date, ctx):
                checks.append(_after_check_date(path, requirement, f"the latest {role} approval", approval.date, ctx))
                continue
            age = max(0, days_between(approval.date, ctx.today))  # the next day: the day of grace
            ok = age <= limits.approvals
            checks.append(
                Check(
                    path=path,
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


def _also_too_old(uncounted: manifest.Approval | None, ctx: Context, limit: int) -> str:
    """When the role's latest approval is not counted (:attr:`SignOff.uncounted`), whether it would be
    too old anyway: a reviewer who reads only "stale" would expect a re-approval of the changed files
    to do, when a new review is owed."""
    if uncounted is None or uncounted.decision != "approved":
        return ""
    age = max(0, days_between(uncounted.date, ctx.today))
    return f"; it is also {days(age)} old (limit {days(limit)})" if age > limit else ""


def _after_grace(day: str, ctx: Context) -> bool:
    """Dated after the day after the check date. A record of the next day is the loader's day of
    grace (east of UTC, the local date is already the next UTC day for part of every day): its age
    is counted as 0, not as -1 and not as an error."""
    return not counts_on(day, ctx.today)


def _after_check_date(path: str, requirement: str, what: str, day: str, ctx: Context) -> Check:
    """A record dated after the check date has no age on that day: an error, never a pass. The loader
    refuses a date after the day it runs; this is a check date set earlier (``--as-of``, or the build
    date ``SOURCE_DATE_EPOCH`` gives) than records the workspace holds."""
    return Check(
        path=path,
        observed=None,
        requirement=requirement,
        outcome="error",
        message=f"{what} is dated {day[:10]}, after the check date {ctx.today}: it has no age on that day",
    )


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
