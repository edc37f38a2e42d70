"""The evidence index: every concrete evidence path of one model version, with its value and the page
that shows it, built from the manifest. Wildcards in a rule range over it (:class:`.paths.EvidenceTree`);
a path the grammar allows but the version lacks (``performance.roc_acu``) is reported with the
closest path the version has. The grammar the paths follow is :mod:`modelgov.policy.paths`.

Values come from the version's *primary evaluation*: its most recent one (by date, then id).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from modelgov import manifest
from modelgov.feature_names import evidence_name, group_segment, policy_key
from modelgov.grace import grace_day
from modelgov.policy.comparison_evidence import comparison_evidence
from modelgov.policy.experiment_evidence import experiment_evidence
from modelgov.policy.explanation_evidence import explanation_evidence
from modelgov.policy.kpi_evidence import kpi_evidence
from modelgov.policy.ll144_evidence import ll144_evidence
from modelgov.policy.paths import CARD_FIELDS, PRODUCTION_BASES
from modelgov.policy.risk_evidence import risk_evidence
from modelgov.policy.shadow_evidence import shadow_evidence


@dataclass(frozen=True)
class Evidence:
    value: Any
    page: str  # site-relative link, with an anchor where one exists
    detail: str | None = None  # what a bare value hides, e.g. the groups behind a disparity


#: Left-out groups named in one check's message; the page lists them all.
DETAIL_GROUPS = 5


def disparity_detail(disparity: manifest.Disparity) -> str | None:
    """The groups behind a disparity value and the groups it leaves out, in words:
    ``Other 0.210 ÷ African-American 0.588 (selection rate); left out: Native American (18 rows …)``."""
    parts = []
    if disparity.groups and disparity.group_rates:
        rate = disparity.rate_label or disparity.rate or ""
        values = [f"{v:.3f}" for v in disparity.group_rates]
        if disparity.method == "to_overall":
            parts.append(f"{disparity.groups[0]} {values[0]} against all rows {values[-1]} ({rate})")
        else:
            sign = "−" if disparity.name.endswith("_difference") else "÷"
            parts.append(f"{disparity.groups[0]} {values[0]} {sign} {disparity.groups[1]} {values[1]} ({rate})")
    if disparity.excluded:
        shown = "; ".join(f"{e.group} ({e.reason})" for e in disparity.excluded[:DETAIL_GROUPS])
        more = len(disparity.excluded) - DETAIL_GROUPS
        parts.append(f"left out: {shown}" + (f"; and {more:,} more groups (see the page)" if more > 0 else ""))
    # e.g. "Other 0.210 ÷ African-American 0.588 (selection rate); left out: Native American (18 rows
    # behind the selection rate, fewer than 30)"
    return "; ".join(parts) or None


def primary_evaluation(version: manifest.ModelVersion) -> manifest.EvaluationRun | None:
    if not version.evaluations:
        return None
    return max(version.evaluations, key=lambda run: (run.date, run.id))


def days_between(earlier: str, today: dt.date) -> int:
    return (today - dt.date.fromisoformat(earlier[:10])).days


def record_age(dated: str, today: dt.date) -> int | None:
    """The age in days on ``today`` of a record dated ``dated``: 0 for one of the next day (the
    loader's day of grace, for places east of UTC), and ``None``, no age, for one dated later (a check
    date set before it, ``--as-of``): a rule on it is then an error, never a pass on a negative age."""
    age = days_between(dated, today)
    return None if age < -1 else max(0, age)


def evidence_index(
    model: manifest.Model, version: manifest.ModelVersion, today: dt.date, *, signed_only: bool = False
) -> dict[str, Evidence]:
    """Every evidence path of one model version, with its value and the page that shows it. With
    ``signed_only`` (the CI's ``MODELGOV_REQUIRE_SIGNATURES``), ``approvals.<role>.*`` describe the
    role's latest *signed* decision that counts, as every rule on sign-offs then reads them."""
    base = f"models/{model.id}/{version.version}"
    card_page, mon_page = f"{base}/index.html", f"{base}/monitoring.html"
    index: dict[str, Evidence] = {}

    def put(path: str, value: Any, page: str, detail: str | None = None) -> None:
        index[path] = Evidence(value, page, detail)

    put("model.id", model.id, f"models/{model.id}/index.html")
    put("model.risk_tier", model.risk_tier, f"models/{model.id}/index.html")
    put("model.task", model.task, f"models/{model.id}/index.html")
    put("model.tags", list(model.tags), f"models/{model.id}/index.html")
    put("model.owner.name", model.owner.name, f"{card_page}#model-details")
    put("model.owner.email", model.owner.email, f"{card_page}#model-details")
    put("model.owner.team", model.owner.team, f"{card_page}#model-details")
    put("version.status", version.status, f"{card_page}#model-details")
    put("version.age_days", record_age(version.created, today), f"{card_page}#model-details")
    for field in CARD_FIELDS:
        put(f"card.{field}", getattr(model.card, field), card_page)
    risk_evidence(put, model, today)

    run = primary_evaluation(version)
    if run is not None:
        put("evaluation.id", run.id, f"{card_page}#evaluation-data")
        put("evaluation.rows", run.performance.rows, f"{card_page}#evaluation-data")
        copies = run.duplicates.rows if run.duplicates is not None else 0
        put("evaluation.duplicate_rows", copies, f"{card_page}#evaluation-data")
        put("evaluation.age_days", record_age(run.date, today), f"{card_page}#evaluation-data")
        # how the numbers were measured, which the workspace sets (`analysis`): a rule can pin them,
        # so that a change to them cannot narrow the intervals or leave groups out of the summaries
        interval = next((m.interval for m in run.performance.metrics if m.interval is not None), None)
        put("evaluation.confidence_level", interval.level if interval else None, f"{card_page}#metrics")
        put("evaluation.resamples", interval.resamples if interval else None, f"{card_page}#metrics")
        sizes = {result.min_group_size for result in run.fairness}
        put("evaluation.min_group_size", sizes.pop() if len(sizes) == 1 else None, f"{card_page}#quantitative-analyses")
        for metric in run.performance.metrics:
            _with_interval(put, f"performance.{metric.name}", metric.value, metric.interval, f"{card_page}#metrics")
        for result in run.fairness:
            key = policy_key(evidence_name(result.features or [result.feature]))  # sex+age_band
            page = f"{card_page}#quantitative-analyses"
            for disparity in result.disparities:
                where = "" if disparity.method == "between_groups" else ".to_overall"
                _with_interval(
                    put,
                    f"fairness.{key}{where}.{disparity.name}",
                    disparity.value,
                    disparity.interval,
                    page,
                    disparity_detail(disparity),
                )
            for comparison in result.comparisons:
                pair = f"fairness.{key}.pairs.{group_segment(comparison.group)}.{group_segment(comparison.reference)}"
                for disparity in comparison.disparities:
                    detail = "; ".join(filter(None, [disparity_detail(disparity), comparison.note]))
                    _with_interval(
                        put, f"{pair}.{disparity.name}", disparity.value, disparity.interval, page, detail or None
                    )
            for group in result.groups:
                name = group_segment(group.group)
                put(f"fairness.{key}.groups.{name}.count", group.count, page)
                for metric, value in group.metrics.items():
                    _with_interval(
                        put, f"fairness.{key}.groups.{name}.{metric}", value, group.intervals.get(metric), page
                    )

    comparison_evidence(put, model, version, run.id if run is not None else None, f"{card_page}#quantitative-analyses")

    experiment_evidence(put, version, f"{base}/ab-test.html")
    ll144_evidence(put, version, today, f"{base}/bias-audit.html")
    explanation_evidence(put, run, f"{base}/decisions.html")

    report = version.drift
    if report is not None:
        put("drift.status", report.status, mon_page)
        put("drift.drifting", report.first_drift is not None, mon_page)
        filled = [w for w in report.windows if w.rows]
        run_length = 0
        for window in reversed(filled):
            if not window.drifted:
                break
            run_length += 1
        put("drift.drifting_windows", run_length, mon_page)
        put("monitoring.rows", sum(w.rows for w in report.windows), mon_page)
        if filled:
            latest = filled[-1]
            put("drift.share_drifted", latest.share_drifted, f"{mon_page}#summary")
            # a window that starts after the day after the check date holds records dated later (a
            # timestamp of 2099 made the age negative for ever): no age; one in progress is negative
            starts_later = days_between(latest.start, today) < -1
            age = None if starts_later else days_between(latest.end, today)
            put("monitoring.age_days", age, f"{mon_page}#summary")
            for item in latest.features:
                page = f"{mon_page}#features-in-the-latest-window"
                # one segment whatever the column's name: a `.` in it would otherwise split the path, and
                # `drift.features.*.psi` (a rule's, or the data limits' max_feature_psi) would pass it by
                feature = f"drift.features.{group_segment(item.feature)}"
                put(f"{feature}.statistic", item.statistic, page)
                put(f"{feature}.drifted", item.drifted, page)
                put(f"{feature}.psi", item.psi, page)
                put(f"{feature}.missing_rate", item.missing_rate, page)
                put(f"{feature}.range_violations", item.range_violations, page)
            if latest.prediction is not None:
                put("drift.output.statistic", latest.prediction.statistic, f"{mon_page}#drift-over-time")
                put("drift.output.drifted", latest.prediction.drifted, f"{mon_page}#drift-over-time")
        labelled = next((w for w in reversed(report.windows) if w.performance), None)
        if labelled is not None:
            for metric in labelled.performance:
                put(f"monitoring.last_window.{metric.name}", metric.value, f"{mon_page}#performance-over-time")
        _estimated_performance(put, report, f"{mon_page}#performance-estimated-before-the-outcomes-arrive")
        _production_fairness(put, report, f"{mon_page}#fairness-in-production")
        kpi_evidence(put, model, report, f"{mon_page}#business-kpis")

    shadow_evidence(put, version, f"{base}/shadow.html")

    for approval in latest_approvals(version, signed_only=signed_only, as_of=today).values():
        page = f"{card_page}#approvals"
        role = f"approvals.{group_segment(approval.role)}"  # one segment: a role may hold a '.'
        put(f"{role}.decision", approval.decision, page)
        put(f"{role}.by", approval.by, page)
        put(f"{role}.age_days", record_age(approval.date, today), page)
        put(f"{role}.signed", approval.signature == "signed", page)
    _conditions(put, version, today, signed_only, card_page)

    open_flags = [flag for flag in version.flags if flag.state == "open"]
    put("flags.open", len(open_flags), f"{card_page}#flags-from-the-business")
    put(
        "flags.oldest_open_days",
        max((days_between(flag.time, today) for flag in open_flags), default=0),
        f"{card_page}#flags-from-the-business",
    )
    if version.training.code_commit:  # not recorded: no evidence, so a rule's `missing:` decides
        put("training.code_commit", version.training.code_commit, f"{card_page}#training-data")
    put(
        "training.artifact",
        version.training.artifact.path if version.training.artifact else None,
        f"{card_page}#training-data",
    )
    return index


def _estimated_performance(put, report: manifest.MonitoringReport, page: str) -> None:
    """``monitoring.estimated.<metric>``: the latest window's estimate from its scores (it may have no
    outcomes yet); ``monitoring.estimate_outside.<metric>``: in how many windows with outcomes the
    realized value fell outside the interval estimated for the same records (0 when none did)."""
    if report.estimation is None or not report.estimation.estimated:
        return
    latest = next((w for w in reversed(report.windows) if w.estimated is not None), None)
    if latest is not None:
        for metric in latest.estimated.metrics:
            _with_interval(put, f"monitoring.estimated.{metric.name}", metric.value, metric.interval, page, metric.note)
    outside: dict[str, int] = {}
    for window in report.windows:
        for check in window.estimate_checks:
            outside[check.name] = outside.get(check.name, 0) + bool(check.disagrees)
    for name, count in outside.items():
        put(f"monitoring.estimate_outside.{name}", count, page)


def _production_fairness(put, report: manifest.MonitoringReport, page: str) -> None:
    """``production_fairness.<feature>.<basis>.<measure>``: the between-groups value of the latest
    window measured on that basis; ``production_fairness.<feature>.<measure>``: the latest window
    measured on any basis the measure has, its best basis there — selection (every record) for
    demographic parity, realized (outcomes arrived) for the others, else estimated (scores only). The
    detail names the window and basis.

    The latest window measured is read even when its value is undefined (every group too small, one
    group's errors too large to add up): the path then has no value, and a rule on it cannot pass,
    rather than passing on an older window's value — which a log could otherwise steer by making its
    latest window's gap undefined."""
    for result in report.fairness:
        if not result.measured:
            continue
        key = policy_key(result.feature)
        latest: dict[str, tuple[tuple[int, bool, int], str, int, manifest.Disparity]] = {}
        for position, window in enumerate(result.windows):
            for basis in PRODUCTION_BASES:
                snapshot = getattr(window, basis)
                for item in snapshot.disparities if snapshot else []:
                    if item.method != "between_groups":
                        continue
                    detail = _window_detail(item, basis, window.start)
                    _with_interval(
                        put, f"production_fairness.{key}.{basis}.{item.name}", item.value, item.interval, page, detail
                    )
                    # a later window wins; within one, a defined value, then realized before estimated
                    rank = (position, item.value is not None, -PRODUCTION_BASES.index(basis))
                    best = latest.get(item.name)
                    if best is None or rank > best[0]:
                        latest[item.name] = (rank, basis, position, item)
        for name, (_, basis, position, item) in latest.items():
            detail = _window_detail(item, basis, result.windows[position].start)
            _with_interval(put, f"production_fairness.{key}.{name}", item.value, item.interval, page, detail)


def _window_detail(item: manifest.Disparity, basis: str, start: str) -> str:
    where = f"{basis}, window starting {start[:10]}"
    if item.value is None:
        return f"{item.note or 'undefined'}; {where}"
    return "; ".join(filter(None, [disparity_detail(item), where]))


def _with_interval(
    put, path: str, value: Any, interval: manifest.Interval | None, page: str, detail: str | None = None
) -> None:
    put(path, value, page, detail)
    put(f"{path}.ci_low", interval.low if interval else None, page, detail)
    put(f"{path}.ci_high", interval.high if interval else None, page, detail)


def _conditions(put, version: manifest.ModelVersion, today: dt.date, signed_only: bool, card_page: str) -> None:
    """``approvals.<role>.conditions_unmet`` and ``.conditions_overdue``: the conditions of every
    sign-off of the role on this version not met by ``today``, whatever became of the sign-off (a
    condition is owed until it is met; a later sign-off does not discharge it). With ``signed_only``
    only a signed record of a condition met counts (approvals.yml's ``met:`` is unsigned)."""
    day = today.isoformat()
    states: dict[str, list[str]] = {}
    for approval in version.approvals:
        owed = approval.conditions if approval.sets_conditions(day) else []
        states.setdefault(approval.role, []).extend(c.state(day, signed_only=signed_only) for c in owed)
    for role, found in states.items():
        segment = f"approvals.{group_segment(role)}"
        page = f"{card_page}#conditions-of-approval" if found else f"{card_page}#approvals"
        put(f"{segment}.conditions_unmet", sum(state != "met" for state in found), page)
        put(f"{segment}.conditions_overdue", found.count("overdue"), page)


def latest_approvals(
    version: manifest.ModelVersion, *, signed_only: bool = False, as_of: dt.date | None = None
) -> dict[str, manifest.Approval]:
    """Each role's latest decision that counts (by date; the later entry on the same date). A
    stale sign-off (its evidence changed since) or one whose signature fails never counts; with
    ``signed_only``, neither does an unsigned one; with ``as_of`` (the check date), neither does one
    dated after it: policies checked as of a past date count the decisions made by then (a day of
    grace, as the loader allows a date east of UTC: a sign-off dated the next day still counts).

    A stale sign-off also takes with it the role's earlier sign-offs that name no evidence: the
    evidence changed after the stale one was made, so they were made on evidence at least as old,
    and a rule that the newer, stale decision cannot satisfy must not pass on an older one of which
    less is known. An earlier sign-off bound to the evidence as it is now (changed back) still counts,
    unless the stale one did not approve: a reviewer who rejected the changed evidence has not said
    the earlier evidence is good again when it is put back. Two audit log entries are ordered by
    their place in the log; otherwise dates are days, and a sign-off dated the day of a stale one is
    taken as made before it. A stale entry whose signature fails takes nothing with it (anyone who
    can append to the log could otherwise knock out an honest approval)."""
    latest: dict[str, manifest.Approval] = {}
    after = grace_day(as_of).isoformat() if as_of is not None else None
    dated = [a for a in version.approvals if after is None or a.date[:10] <= after]
    stale = [a for a in dated if a.evidence == "stale" and a.signature != "invalid"]

    def taken(approval: manifest.Approval) -> bool:
        """Whether a later stale sign-off of the role takes ``approval`` with it."""
        for newer in stale:
            if newer.role != approval.role or newer is approval:
                continue
            if approval.entry is not None and newer.entry is not None:
                before = approval.entry < newer.entry
            else:
                before = approval.date[:10] <= newer.date[:10]
            if before and (approval.evidence == "unbound" or newer.decision != "approved"):
                return True
        return False

    for approval in dated:
        if not approval.counts or (signed_only and (approval.signature != "signed" or approval.evidence != "current")):
            continue
        if stale and taken(approval):
            continue
        current = latest.get(approval.role)
        if current is None or approval.date >= current.date:
            latest[approval.role] = approval
    return latest


def why_not_counted(version: manifest.ModelVersion, role: str, *, signed_only: bool, today: dt.date) -> str | None:
    """Why the role's latest sign-off by the check date (:meth:`~modelgov.manifest.ModelVersion.latest_sign_off`)
    does not count, when it does not: the words a finding uses."""
    latest = version.latest_sign_off(role, today.isoformat())
    if latest is None:
        return None
    who = f"{latest.by}, {latest.date}"
    if latest.evidence == "stale":
        return f"the latest {role} sign-off ({who}) is stale: {latest.stale_reason} ({', '.join(latest.changed)})"
    if latest.signature == "invalid":
        return f"the latest {role} sign-off ({who}) has a signature that is not accepted: {latest.signature_problem}"
    if signed_only and latest.signature == "unsigned":
        return f"the latest {role} sign-off ({who}) is unsigned; this rule requires a signed sign-off"
    if signed_only and latest.evidence == "unbound":
        return f"the latest {role} sign-off ({who}) names no evidence; this rule requires one bound to the evidence"
    return None
