"""The promotion record on the pages: what each promotion was decided on, as its audit entry holds it.

Read from the manifest's :class:`~modelgov.manifest.Promotion` entries only. Nothing here recomputes
a number: the page shows the record, and beside it what has changed since (evidence files, and the
recorded numbers this build's comparison no longer gives), so a reader a year later sees the
decision as it was made and whether it still stands on the same ground.
"""

from __future__ import annotations

from dataclasses import dataclass

from modelgov.manifest import Model, ModelVersion, Promotion, PromotionRecord, RecordedDelta
from modelgov.manifest.base import best_value_of
from modelgov.render.views import HEADLINE_PREFERENCE, Verdict

#: Outcomes in the order a record's counts are read out.
OUTCOME_ORDER = ("fail", "error", "warn", "waived", "pass", "not-applicable")
OUTCOME_WORDS = {
    "fail": "failed",
    "error": "could not be checked",
    "warn": "warned",
    "waived": "waived",
    "pass": "passed",
    "not-applicable": "not applicable",
}


def recorded_verdict(item: RecordedDelta) -> Verdict:
    """The metric verdict's rule on a recorded difference: better or worse only when the interval lies
    on one side of zero. For a gap (``higher_is_better`` unset), narrower is better: a difference
    nearer 0, a ratio nearer 1."""
    if item.delta is None:
        return Verdict("cannot tell", "undefined")
    if item.low is None or item.high is None:
        return Verdict("cannot tell", "no interval")
    low, high = item.low, item.high
    best = best_value_of(item.name, item.best_value) if item.feature is None else None
    if best is not None:  # a mean error: nearer its best value is better (by name for an older record)
        low, high = item.distance_low, item.distance_high
        if low is None or high is None:
            return Verdict("cannot tell", "no interval of the change in distance from its best value")
        up_is_better, reason = False, (f"nearer {best:g}", f"further from {best:g}")
    elif item.higher_is_better is None:
        up_is_better, reason = item.name.endswith("_ratio"), ("narrower", "wider")
    else:
        up_is_better, reason = item.higher_is_better, (None, None)
    if low > 0:
        return Verdict("better", reason[0]) if up_is_better else Verdict("worse", reason[1])
    if high < 0:
        return Verdict("worse", reason[1]) if up_is_better else Verdict("better", reason[0])
    return Verdict("no clear difference")


def counts_text(record: PromotionRecord) -> str:
    """``12 rules passed, 2 warned, 3 not applicable``: the version's policy results at the decision."""
    parts = [f"{record.counts[o]} {OUTCOME_WORDS[o]}" for o in OUTCOME_ORDER if record.counts.get(o)]
    parts += [f"{n} {o}" for o, n in sorted(record.counts.items()) if o not in OUTCOME_WORDS and n]
    total = sum(record.counts.values())
    return f"{total} rule result{'s' if total != 1 else ''}: {', '.join(parts)}" if parts else "no policy applied"


def headline(model: Model, record: PromotionRecord) -> RecordedDelta | None:
    """The recorded difference of the model's headline metric (ROC AUC, R², … as on the inventory)."""
    if record.comparison is None or not record.comparison.metrics:
        return None
    by_name = {m.name: m for m in record.comparison.metrics}
    for name in HEADLINE_PREFERENCE.get(model.task, ()):
        if name in by_name:
            return by_name[name]
    return record.comparison.metrics[0]


def summary_rows(values: dict[str, str | float | int | bool | None] | None) -> list[tuple[str, str]]:
    """A shadow or A/B summary as (what, value) rows, names in words (``overall.agreement`` → overall agreement)."""
    rows = []
    for key, value in (values or {}).items():
        if value is None:
            continue
        words = key.replace("_", " ").replace(".", " — ")
        if isinstance(value, bool):
            shown = "yes" if value else "no"
        elif isinstance(value, float):
            shown = f"{value:.4g}"
        else:
            shown = f"{value:,}" if isinstance(value, int) else str(value)
        rows.append((words, shown))
    return rows


@dataclass(frozen=True)
class HistoryRow:
    version: ModelVersion
    promotion: Promotion


def model_promotions(model: Model) -> list[HistoryRow]:
    """Every promotion of every version of the model, newest first (by audit entry)."""
    rows = [HistoryRow(version, promotion) for version in model.versions for promotion in version.promotions]
    return sorted(rows, key=lambda row: row.promotion.entry, reverse=True)


def still_holds(promotion: Promotion) -> str:
    """In a few words: whether the evidence a promotion was decided on is still the evidence."""
    if promotion.evidence == "stale" or promotion.moved:
        return "changed since"
    if promotion.evidence == "unbound":
        return "not bound to evidence"
    return "unchanged"
