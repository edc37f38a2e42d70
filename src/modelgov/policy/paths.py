"""Evidence paths: the one vocabulary policies, pages and reports use to name a fact.

``performance.roc_auc``, ``fairness.sex.demographic_parity_ratio.ci_low``,
``fairness.*.groups.*.fpr``, ``fairness.race.pairs.African-American.Caucasian.demographic_parity_ratio``, ``drift.share_drifted``, ``approvals.model_risk.decision``…

This module is their **grammar** (:data:`TEMPLATES`), checked when a policy loads, so
``perfromance.roc_auc`` is a load error naming ``performance.roc_auc`` — before any analysis runs —
and the tree a rule's wildcards are expanded on (:class:`EvidenceTree`). The **index**, every
concrete path of one model version with its value and the page that shows it, is
:mod:`modelgov.policy.evidence_index`.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from typing import Any

from modelgov import manifest
from modelgov.feature_names import group_segment, policy_key
from modelgov.policy.comparison_evidence import TEMPLATES as COMPARISON_TEMPLATES
from modelgov.policy.experiment_evidence import TEMPLATES as EXPERIMENT_TEMPLATES
from modelgov.policy.explanation_evidence import TEMPLATES as EXPLANATION_TEMPLATES
from modelgov.policy.kpi_evidence import TEMPLATES as KPI_TEMPLATES
from modelgov.policy.ll144_evidence import TEMPLATES as LL144_TEMPLATES
from modelgov.policy.risk_evidence import TEMPLATES as RISK_TEMPLATES
from modelgov.policy.shadow_evidence import TEMPLATES as SHADOW_TEMPLATES

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
    "evaluation.duplicate_rows",
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
    *(
        f"approvals.<role>.{key}"
        for key in ("decision", "by", "age_days", "signed", "conditions_unmet", "conditions_overdue")
    ),
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
