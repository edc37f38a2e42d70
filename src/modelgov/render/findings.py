"""Policy findings in words a risk manager reads, with the evidence path kept beside them.

The policy engine words each check for machines and CI logs (``fairness.sex.demographic_parity_ratio:
0.553 does not meet >= 0.8``): exact, greppable, the same in JUnit and JSON. On the site the same
finding reads "Demographic parity ratio by sex is 0.553; the rule requires at least 0.8". Only the
parts this module recognises are rewritten (an evidence path at the start of a clause, a
comparison, "is a placeholder"); anything else is left as the engine wrote it, and every page keeps
the evidence path and its link in its own column, so no number loses its trace.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from modelgov.feature_names import group_name, page_name_of
from modelgov.manifest import Manifest
from modelgov.render.compliance_outcomes import ANY_NUMBER

__all__ = ["Labels", "evidence_words", "labels_of", "plain_finding"]


@dataclass(frozen=True)
class Labels:
    """The reader's names of metrics, group metrics and disparities, as the manifest records them
    (read from it, so rendering never imports the analysis code)."""

    metrics: dict[str, str] = field(default_factory=dict)
    group_metrics: dict[str, str] = field(default_factory=dict)
    disparities: dict[str, str] = field(default_factory=dict)


def labels_of(manifest: Manifest) -> Labels:
    labels = Labels()
    for model in manifest.models:
        for version in model.versions:
            for run in version.evaluations:
                labels.metrics.update((m.name, m.label) for m in run.performance.metrics)
                for result in run.fairness:
                    labels.group_metrics.update(result.metric_labels)
                    labels.disparities.update((d.name, d.label) for d in result.disparities)
    return labels


_CARD = {
    "description": "description",
    "primary_uses": "primary uses",
    "primary_users": "primary users",
    "out_of_scope": "out-of-scope uses",
    "factors_relevant": "relevant factors",
    "factors_evaluation": "evaluation factors",
    "performance_measures": "performance measures",
    "decision_threshold": "decision threshold",
    "variation_approaches": "approach to uncertainty",
    "ethical_considerations": "ethical considerations",
    "caveats": "caveats and recommendations",
    "licence": "licence",
}
_FIXED = {
    "model.owner.email": "The owner's e-mail address",
    "model.owner.name": "The owner's name",
    "model.risk_tier": "The risk tier",
    "evaluation.rows": "The evaluation's row count",
    "evaluation.age_days": "The evaluation's age in days",
    "monitoring.age_days": "Days since the latest monitored window",
    "monitoring.rows": "Records logged in production",
    "drift.drifting_windows": "Windows in the current run of drift",
    "drift.share_drifted": "Share of features drifting in the latest window",
    "drift.drifting": "Drift in the latest window",
    "drift.status": "The monitoring verdict",
    "drift.output.drifted": "Drift of the model's output",
    "drift.output.statistic": "The drift statistic of the model's output",
    "version.age_days": "The version's age in days",
    "training.code_commit": "The training code commit",
    "training.artifact": "The model file",
    "risk.severity": "The severity of the model's assessed risks",
    "risk.implied_tier": "The risk tier the model's risk assessment implies",
    "risk.implied_tier_met": "Governed at least at the tier its risk assessment implies",
    "risk.assessed_by": "Who assessed the model's risks",
    "risk.assessment_age_days": "The risk assessment's age in days",
    "risk.reassessment_due_in_days": "Days until the risk assessment is due again",
    "risk.reassessment_overdue": "Risk assessment overdue",
}
_YES_NO = {"true": "yes", "false": "no"}

_OPERATORS = {
    ">=": "at least",
    ">": "more than",
    "<=": "at most",
    "<": "less than",
    "==": "exactly",
    "!=": "anything but",
}


def evidence_words(path: str, labels: Labels) -> str | None:
    """A reader's name for an evidence path, or None when the path is not one this knows."""
    if path in _FIXED:
        return _FIXED[path]
    parts = path.split(".")
    if parts[0] == "card" and len(parts) == 2 and parts[1] in _CARD:
        return f"The card's {_CARD[parts[1]]}"
    if parts[0] == "performance" and len(parts) in (2, 3) and parts[1] in labels.metrics:
        label = labels.metrics[parts[1]]
        if len(parts) == 2:
            return label
        bound = {"ci_low": "lower", "ci_high": "upper"}.get(parts[2])
        return f"The {bound} end of the {label} interval" if bound else None
    if parts[0] == "fairness" and len(parts) >= 3:
        feature = page_name_of(parts[1])
        if len(parts) == 3 and parts[2] in labels.disparities:
            return f"{labels.disparities[parts[2]]} by {feature}"
        if len(parts) == 4 and parts[2] == "to_overall" and parts[3] in labels.disparities:
            return f"{labels.disparities[parts[3]]} by {feature}, against the overall rate"
        if len(parts) == 5 and parts[2] == "groups" and parts[4] in labels.group_metrics:
            return f"{labels.group_metrics[parts[4]]} of {feature} group {group_name(parts[3])}"
        if len(parts) == 5 and parts[2] == "groups" and parts[4] == "count":
            return f"Rows of {feature} group {group_name(parts[3])}"
        if len(parts) == 6 and parts[2] == "pairs" and parts[5] in labels.disparities:
            pair = f"{group_name(parts[3])} and {group_name(parts[4])}"
            return f"{labels.disparities[parts[5]]} of {feature} groups {pair}"
    if parts[0] == "drift" and len(parts) == 4 and parts[1] == "features":
        what = {"psi": "PSI", "statistic": "drift statistic", "drifted": "drift", "missing_rate": "missing rate"}
        if parts[3] == "range_violations":
            return f"Values of {group_name(parts[2])} outside the reference's range"
        if parts[3] in what:
            return f"The {what[parts[3]]} of {group_name(parts[2])}"
    if parts[0] == "comparison" and len(parts) >= 4 and parts[1] in _AGAINST:
        return _comparison_words(parts, labels)
    if parts[0] == "approvals" and len(parts) == 3 and parts[2] in ("decision", "by", "age_days"):
        role = group_name(parts[1]).replace("_", " ")
        return {
            "decision": f"The {role} decision",
            "by": f"Who decided for {role}",
            "age_days": f"Days since the {role} decision",
        }[parts[2]]
    return None


_AGAINST = {"live": "against the live version", "previous": "against the previous version"}
_CHANGE = {
    ("delta",): "The change in {what} {against}",
    ("delta", "ci_low"): "The lower end of the interval of the change in {what} {against}",
    ("delta", "ci_high"): "The upper end of the interval of the change in {what} {against}",
    ("abs_delta",): "The size of the change in {what} {against}",
}


def _comparison_words(parts: list[str], labels: Labels) -> str | None:
    """``comparison.live.roc_auc.delta.ci_low`` → "The lower end of the interval of the change in ROC
    AUC against the live version"; the same for a gap or a group's rate."""
    against = _AGAINST[parts[1]]
    for size in (2, 1):
        template = _CHANGE.get(tuple(parts[-size:]))
        if template is None:
            continue
        subject = parts[2:-size]
        what = None
        if len(subject) == 1 and subject[0] in labels.metrics:
            what = labels.metrics[subject[0]]
        elif len(subject) >= 3 and subject[0] == "fairness":
            feature = page_name_of(subject[1])
            if len(subject) == 3 and subject[2] in labels.disparities:
                what = f"{labels.disparities[subject[2]]} by {feature}"
            elif len(subject) == 4 and subject[2] == "to_overall" and subject[3] in labels.disparities:
                what = f"{labels.disparities[subject[3]]} by {feature}, against the overall rate"
            elif len(subject) == 5 and subject[2] == "groups" and subject[4] in labels.group_metrics:
                what = f"{labels.group_metrics[subject[4]]} of {feature} group {group_name(subject[3])}"
        return template.format(what=what, against=against) if what else None
    return None


_COMPARISON = re.compile(
    r"^(?P<path>[A-Za-z_][^:]*?): (?P<value>.+?) (?P<verdict>meets|does not meet) (?P<op>>=|<=|==|!=|>|<) "
    r"(?P<want>.+?)(?: \[(?P<detail>.+)\])?$"
)
_PLACEHOLDER = re.compile(r"^(?P<path>[A-Za-z_][^\s:]*)(?:: .*?)? is a placeholder(?P<rest>.*)$")


def _any_number_path(found: re.Match[str]) -> str | None:
    return found["path"] if (found["op"], found["want"]) in ANY_NUMBER else None


def _clause(clause: str, labels: Labels) -> str:
    found = _COMPARISON.match(clause)
    # a path without words of its own is still named, when "> -inf" would be all a reader sees
    if found and (words := evidence_words(found["path"], labels) or _any_number_path(found)):
        want = found["want"]
        if found["op"] == "==" and want in _YES_NO and found["value"] in _YES_NO:  # a yes-or-no check
            said, wanted = _YES_NO[found["value"]], _YES_NO[want]
            if found["verdict"] == "meets":
                return f"{words}: {said} (the rule requires {wanted})"
            return f"{words}: {said}; the rule requires {wanted}"
        if (found["op"], want) in ANY_NUMBER:
            rule = "only that it is a number: any value passes"
        elif want == "''" and found["op"] == "!=":
            rule = "a value (not empty)"
        else:
            rule = f"{_OPERATORS[found['op']]} {want}"
        detail = f". Behind it: {found['detail']}" if found["detail"] else ""
        if found["verdict"] == "meets":
            return f"{words} is {found['value']} (the rule requires {rule}){detail}"
        return f"{words} is {found['value']}; the rule requires {rule}{detail}"
    found = _PLACEHOLDER.match(clause)
    if found and (words := evidence_words(found["path"], labels)):
        rest = found["rest"].replace(", still to be written", "").strip()
        return f"{words} is not written yet{(' ' + rest) if rest else ''}"
    return clause


def _clauses(message: str) -> list[str]:
    """``message`` split at "; " outside square brackets (a check's detail, which has its own)."""
    out, depth, start = [], 0, 0
    for index, char in enumerate(message):
        depth += char == "["
        depth -= char == "]" and depth > 0
        if depth == 0 and message.startswith("; ", index):
            out.append(message[start:index])
            start = index + 2
    return [*out, message[start:]]


def plain_finding(message: str, labels: Labels) -> str:
    """``message`` with each clause it recognises put into words (clauses are separated by "; ")."""
    clauses = [_clause(clause, labels) for clause in _clauses(message)]
    clauses[1:] = [c[0].lower() + c[1:] if c.startswith("The ") else c for c in clauses[1:]]
    return "; ".join(clauses)
