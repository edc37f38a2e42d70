"""Evidence paths: the one vocabulary policies, pages and reports use to name a fact.

``performance.roc_auc``, ``fairness.sex.demographic_parity_ratio.ci_low``,
``fairness.*.groups.*.fpr``, ``fairness.race.pairs.African-American.Caucasian.demographic_parity_ratio``, ``drift.share_drifted``, ``approvals.model_risk.decision``…

Two halves:

* a **grammar** (:data:`TEMPLATES`), checked when a policy loads, so ``perfromance.roc_auc`` is a
  load error naming ``performance.roc_auc`` — before any analysis runs;
* an **index** (:func:`evidence_index`): every concrete path of one model version, built from the
  manifest, with its value and the page that shows it. Wildcards range over the index; a path the
  grammar allows but the version lacks (``performance.roc_acu``) is reported with the closest path
  the version has.

Values come from the version's *primary evaluation*: its most recent one (by date, then id).
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from modelgov import manifest
from modelgov.feature_names import evidence_name, group_segment, policy_key
from modelgov.policy.comparison_evidence import TEMPLATES as COMPARISON_TEMPLATES
from modelgov.policy.comparison_evidence import comparison_evidence
from modelgov.policy.experiment_evidence import TEMPLATES as EXPERIMENT_TEMPLATES
from modelgov.policy.experiment_evidence import experiment_evidence
from modelgov.policy.explanation_evidence import TEMPLATES as EXPLANATION_TEMPLATES
from modelgov.policy.explanation_evidence import explanation_evidence
from modelgov.policy.kpi_evidence import TEMPLATES as KPI_TEMPLATES
from modelgov.policy.kpi_evidence import kpi_evidence
from modelgov.policy.ll144_evidence import TEMPLATES as LL144_TEMPLATES
from modelgov.policy.ll144_evidence import ll144_evidence
from modelgov.policy.risk_evidence import TEMPLATES as RISK_TEMPLATES
from modelgov.policy.risk_evidence import risk_evidence
from modelgov.policy.shadow_evidence import TEMPLATES as SHADOW_TEMPLATES
from modelgov.policy.shadow_evidence import shadow_evidence

#: Card fields a ``documented`` rule may require (manifest names of the model card).
CARD_FIELDS = tuple(manifest.Card.model_fields)

_CI = ("", ".ci_low", ".ci_high")
#: How a production disparity was measured (:class:`manifest.FairnessSnapshot`).
PRODUCTION_BASES = ("selection", "realized", "estimated")

#: The grammar. ``<name>`` is any single segment (or ``*``); other segments are literal.
TEMPLATES: tuple[str, ...] = (
    *(f"model.{key}" for key in ("id", "risk_tier", "task", "tags", "owner.name", "owner.email", "owner.team")),
    "version.status",
    "version.age_days",
    *(f"card.{field}" for field in CARD_FIELDS),
    *(f"performance.<metric>{ci}" for ci in _CI),
    "evaluation.id",
    "evaluation.rows",
    "evaluation.age_days",
    "evaluation.confidence_level",
    "evaluation.resamples",
    "evaluation.min_group_size",
    *(f"fairness.<feature>.<disparity>{ci}" for ci in _CI),
    *(f"fairness.<feature>.to_overall.<disparity>{ci}" for ci in _CI),
    *(f"fairness.<feature>.groups.<group>.<metric>{ci}" for ci in _CI),
    *(f"fairness.<feature>.pairs.<group>.<reference>.<disparity>{ci}" for ci in _CI),
    "fairness.<feature>.groups.<group>.count",
    *COMPARISON_TEMPLATES,
    "drift.status",
    "drift.drifting",
    "drift.drifting_windows",
    "drift.share_drifted",
    *(f"drift.features.<feature>.{key}" for key in ("statistic", "drifted", "psi", "missing_rate", "range_violations")),
    "drift.output.statistic",
    "drift.output.drifted",
    "monitoring.age_days",
    "monitoring.rows",
    "monitoring.last_window.<metric>",
    *(f"monitoring.estimated.<metric>{ci}" for ci in _CI),
    "monitoring.estimate_outside.<metric>",
    *(f"production_fairness.<feature>.<disparity>{ci}" for ci in _CI),
    *(f"production_fairness.<feature>.{basis}.<disparity>{ci}" for basis in PRODUCTION_BASES for ci in _CI),
    *(f"approvals.<role>.{key}" for key in ("decision", "by", "age_days", "signed")),
    *EXPERIMENT_TEMPLATES,
    *EXPLANATION_TEMPLATES,
    *KPI_TEMPLATES,
    *RISK_TEMPLATES,
    *LL144_TEMPLATES,
    *SHADOW_TEMPLATES,
    "flags.open",
    "flags.oldest_open_days",
    "training.code_commit",
    "training.artifact",
)


def did_you_mean(word: str, candidates: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def _fits(pattern: list[str], template: list[str]) -> bool:
    return len(pattern) == len(template) and all(
        t.startswith("<") or p == t for p, t in zip(pattern, template, strict=True)
    )


def _instances(pattern: list[str]) -> list[str]:
    """Every template of the pattern's length, ±1, with the pattern's own words in its name slots:
    the spellings the user may have meant."""
    out = []
    for template in TEMPLATES:
        parts = template.split(".")
        if abs(len(parts) - len(pattern)) > 1:
            continue
        filled = [pattern[i] if t.startswith("<") and i < len(pattern) else t for i, t in enumerate(parts)]
        out.append(".".join(filled))
    return out


#: The name slots the workspace writes (a column, a group, an approval role), which may hold a '.';
#: metric, rate and disparity names come from the analysis and KPI and risk names are one word.
_WRITTEN_NAMES = frozenset({"<feature>", "<group>", "<reference>", "<role>"})

#: A ``%`` that :func:`group_segment` never writes: in an encoded name the path could match nothing.
_STRAY_PERCENT = re.compile(r"%(?!25|2E)")


def _sensitive_slot(template: list[str], slot: int) -> bool:
    """A sensitive feature's slot (under ``fairness``, ``production_fairness``, a comparison's
    ``fairness`` or a shadow test's ``groups``), whose name is written with ``_`` for ``.``
    (:func:`modelgov.feature_names.policy_key`), not percent-encoded."""
    before = template[:slot]
    return template[slot] == "<feature>" and (
        any(word.endswith("fairness") for word in before) or before[:2] == ["shadow", "groups"]
    )


def _encoded(template: list[str], slot: int) -> bool:
    """A slot whose name is percent-encoded (:func:`group_segment`)."""
    return template[slot] in _WRITTEN_NAMES and not _sensitive_slot(template, slot)


def _joined(parts: list[str], templates: list[list[str]]) -> list[str]:
    """The valid paths ``parts`` would be if a name written with its ``.`` (``income.v2``) were one
    segment, as the index writes it (``income%2Ev2``; a sensitive feature ``age_band`` for
    ``age.band``, :mod:`modelgov.feature_names`); first those that join fewer of the grammar's own
    words into the name (``fairness.age.groups.30.44.tpr`` means group ``30.44`` before a feature
    called ``age.groups.30.44``). A ``*`` is never joined into a name."""
    fixed = {word for template in templates for word in template if not word.startswith("<")}
    found: dict[str, int] = {}
    for template in templates:
        extra = len(parts) - len(template)
        if extra <= 0:
            continue
        for slot, word in enumerate(template):
            if word not in _WRITTEN_NAMES:
                continue
            joined = parts[slot : slot + extra + 1]
            if "*" in joined or any(part in template for part in joined):
                continue
            name = ".".join(joined)
            name = policy_key(name) if _sensitive_slot(template, slot) else group_segment(name)
            candidate = ".".join([*parts[:slot], name, *parts[slot + extra + 1 :]])
            if _fits(candidate.split("."), template):
                found.setdefault(candidate, sum(part in fixed for part in joined))
    return sorted(found, key=found.__getitem__)


def _misspelt(parts: list[str], template: list[str]) -> bool:
    """``parts`` is ``template`` with one of its own words misspelt (``ci_lo`` for ``ci_low``): a
    typo, not a name holding a '.', so the nearest spelling is the suggestion."""
    if len(parts) != len(template):
        return False
    wrong = [(p, t) for p, t in zip(parts, template, strict=True) if not t.startswith("<") and p != t]
    return len(wrong) == 1 and difflib.SequenceMatcher(None, *wrong[0]).ratio() >= 0.75


#: More segments than any path has, even with names holding a few '.': a longer one is refused
#: before any spelling is suggested for it (each suggestion tries every template, and a policy
#: file's 2 MB could otherwise make the loader spend seconds on one rule).
MAX_PATH_SEGMENTS = 64


def check_pattern(path: str) -> str | None:
    """None when ``path`` is a valid evidence path or pattern; otherwise what is wrong, with the
    closest valid spelling."""
    parts = path.split(".")
    if len(parts) > MAX_PATH_SEGMENTS:
        return f"{path[:80]!r}… has {len(parts):,} segments; an evidence path has at most {MAX_PATH_SEGMENTS}"
    if any(not part for part in parts):
        return f"{path!r} has an empty segment"
    templates = [t.split(".") for t in TEMPLATES]
    fitting = [t for t in templates if _fits(parts, t)]
    if fitting:
        if all(
            any(_STRAY_PERCENT.search(part) for slot, part in enumerate(parts) if _encoded(template, slot))
            for template in fitting
        ):
            return (
                f"{path!r}: within a name, '%' is written %25 and '.' is written %2E (upper case); "
                "any other '%' matches no evidence"
            )
        return None
    for template in templates:  # a '*' where the grammar has a fixed word
        if len(template) == len(parts) and all(
            t.startswith("<") or p == t or p == "*" for p, t in zip(parts, template, strict=True)
        ):
            return (
                f"{path!r}: '*' ranges over names (features, groups, metrics, roles), "
                f"not over the fixed words of {'.'.join(template)!r}"
            )
    if not any(_misspelt(parts, t) for t in templates) and (joined := _joined(parts, templates)):
        listed = " or ".join(repr(p) for p in joined[:3])
        return (
            f"{path!r} is not an evidence path: a name holding a '.' is one segment of a path (a column's, "
            f"a group's or a role's '.' is written %2E, a sensitive feature's '_'); did you mean {listed}?"
        )
    return f"{path!r} is not an evidence path{did_you_mean(path, _instances(parts))}"


def matches(pattern: str, path: str) -> bool:
    """Segment-wise match: ``*`` matches one whole segment (a name), nothing else is a wildcard."""
    p, q = pattern.split("."), path.split(".")
    return len(p) == len(q) and all(a == "*" or a == b for a, b in zip(p, q, strict=True))


class EvidenceTree:
    """The paths of one version's evidence as a tree of segments, so that a pattern is expanded by
    walking the names it matches (a ``*`` takes every child of a node) instead of testing every path
    of the index: a rule costs what it matches, not the size of the evidence. Matches exactly what
    :func:`matches` matches."""

    def __init__(self, paths: Iterable[str]):
        self.root: dict[str | None, Any] = {}
        for path in paths:
            node = self.root
            for part in path.split("."):
                node = node.setdefault(part, {})
            node[None] = path  # a path can be a prefix of others: performance.roc_auc, ….ci_low

    def expand(self, pattern: str) -> list[str]:
        """Every path ``pattern`` matches, unsorted."""
        nodes = [self.root]
        for part in pattern.split("."):
            if part == "*":
                nodes = [child for node in nodes for key, child in node.items() if key is not None]
            else:
                nodes = [node[part] for node in nodes if part in node]
            if not nodes:
                return []
        return [node[None] for node in nodes if None in node]

    def heads(self) -> set[str]:
        """The first segments the evidence has (``performance``, ``risk``, …)."""
        return {key for key in self.root if key is not None}

    def near(self, path: str) -> list[str]:
        """The paths a misspelling of ``path`` is looked for among: those that differ from it in one
        segment (a misspelt word or name keeps its place), so that a suggestion costs what the
        paths beside it hold, a few dozen, not every value of its family: a rule naming a group
        that is not there among thousands of fairness values was thousands of string comparisons."""
        parts = path.split(".")
        found: dict[str, None] = {}
        for index in range(len(parts)):
            found.update(dict.fromkeys(self.expand(".".join([*parts[:index], "*", *parts[index + 1 :]]))))
        return list(found)


# --------------------------------------------------------------------------- the index


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

    for approval in latest_approvals(version, signed_only=signed_only).values():
        page = f"{card_page}#approvals"
        role = f"approvals.{group_segment(approval.role)}"  # one segment: a role may hold a '.'
        put(f"{role}.decision", approval.decision, page)
        put(f"{role}.by", approval.by, page)
        put(f"{role}.age_days", record_age(approval.date, today), page)
        put(f"{role}.signed", approval.signature == "signed", page)

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
    window that has one on that basis; ``production_fairness.<feature>.<measure>``: the best basis of
    that latest window — selection (every record) for demographic parity, realized (outcomes
    arrived) for the others, else estimated (scores only). The detail names the window and basis."""
    for result in report.fairness:
        if not result.measured:
            continue
        key = policy_key(result.feature)
        latest: dict[str, tuple[int, str, manifest.Disparity]] = {}
        for position, window in enumerate(result.windows):
            for basis in PRODUCTION_BASES:
                snapshot = getattr(window, basis)
                for item in snapshot.disparities if snapshot else []:
                    if item.method != "between_groups" or item.value is None:
                        continue
                    detail = f"{basis}, window starting {window.start[:10]}"
                    _with_interval(
                        put,
                        f"production_fairness.{key}.{basis}.{item.name}",
                        item.value,
                        item.interval,
                        page,
                        "; ".join(filter(None, [disparity_detail(item), detail])),
                    )
                    best = latest.get(item.name)
                    rank = PRODUCTION_BASES.index(basis)
                    # a later window wins; within one window, realized before estimated
                    if (
                        best is None
                        or position > best[0]
                        or (position == best[0] and rank < PRODUCTION_BASES.index(best[1]))
                    ):
                        latest[item.name] = (position, basis, item)
        for name, (position, basis, item) in latest.items():
            detail = f"{basis}, window starting {result.windows[position].start[:10]}"
            _with_interval(
                put,
                f"production_fairness.{key}.{name}",
                item.value,
                item.interval,
                page,
                "; ".join(filter(None, [disparity_detail(item), detail])),
            )


def _with_interval(
    put, path: str, value: Any, interval: manifest.Interval | None, page: str, detail: str | None = None
) -> None:
    put(path, value, page, detail)
    put(f"{path}.ci_low", interval.low if interval else None, page, detail)
    put(f"{path}.ci_high", interval.high if interval else None, page, detail)


def latest_approvals(version: manifest.ModelVersion, *, signed_only: bool = False) -> dict[str, manifest.Approval]:
    """Each role's latest decision that counts (by date; the later entry on the same date). A
    stale sign-off (its evidence changed since) or one whose signature fails never counts; with
    ``signed_only``, neither does an unsigned one."""
    latest: dict[str, manifest.Approval] = {}
    for approval in version.approvals:
        if not approval.counts or (signed_only and (approval.signature != "signed" or approval.evidence != "current")):
            continue
        current = latest.get(approval.role)
        if current is None or approval.date >= current.date:
            latest[approval.role] = approval
    return latest


def why_not_counted(version: manifest.ModelVersion, role: str, *, signed_only: bool = False) -> str | None:
    """Why the role's latest sign-off does not count, when it does not: the words a finding uses."""
    mine = [a for a in version.approvals if a.role == role]
    if not mine:
        return None
    latest = max(mine, key=lambda a: a.date)
    who = f"{latest.by}, {latest.date}"
    if latest.evidence == "stale":
        return f"the latest {role} sign-off ({who}) is stale: evidence changed since sign-off ({', '.join(latest.changed)})"
    if latest.signature == "invalid":
        return f"the latest {role} sign-off ({who}) has a signature that is not accepted: {latest.signature_problem}"
    if signed_only and latest.signature == "unsigned":
        return f"the latest {role} sign-off ({who}) is unsigned; this rule requires a signed sign-off"
    if signed_only and latest.evidence == "unbound":
        return f"the latest {role} sign-off ({who}) names no evidence; this rule requires one bound to the evidence"
    return None
