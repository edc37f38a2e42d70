"""The NYC Local Law 144 bias-audit summary of one evaluation table: the number of applicants, the
number in an unknown category, and each sex, race/ethnicity and intersectional category's
selection (or scoring) rate and impact ratio.

The definitions are the Department of Consumer and Worker Protection's rules (6 RCNY §§ 5-300, 5-301):

* **selection rate**: the share of a category's applicants the tool selects (moves forward);
* **scoring rate**, for a tool that scores: the share of a category's applicants whose score is above
  the median score of the full sample of applicants;
* **impact ratio**: a category's rate divided by the rate of the most selected (highest scoring)
  category;
* a category with less than 2 % of the data being audited may be excluded from the impact ratios;
  the summary then still gives its number of applicants and its rate.

Applicants whose category is unknown (an empty cell, or a value the card lists as unknown) are
counted and left out of that table's rates; in the intersectional table an applicant is unknown
when either part is.

The rates are the group selection rates of :mod:`.fairness` (the same labels for groups and
intersections); the impact ratios' intervals, which the law does not ask for, are percentile
bootstrap intervals from one multinomial draw of the (category × selected) counts, as every group
rate's interval is (:mod:`.resampling`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from modelgov.analysis.fairness import MISSING_GROUP, group_labels
from modelgov.analysis.resampling import Resampling, cell_counts, percentile_interval, safe_divide
from modelgov.feature_names import INTERSECTION
from modelgov.manifest import AuditCategory, AuditTable, BiasAudit

#: Categories under this share of the audited data may be left out of the impact ratios (§ 5-301).
MIN_SHARE = 0.02
UNKNOWN = "(unknown)"
METHOD = "percentile bootstrap over applicants (multinomial draw of the category × selected counts)"


def selected_by_score(scores: np.ndarray) -> tuple[np.ndarray, float]:
    """Who scores above the median of every applicant's score (the scoring rate's event), and that median."""
    median = float(np.median(scores))
    return scores > median, median


def _known(labels: pd.Series, unknown_values: set[str]) -> pd.Series:
    """The labels with every unknown value (empty, or listed as unknown) replaced by :data:`UNKNOWN`."""
    unknown = labels.eq(MISSING_GROUP) | labels.isin(unknown_values)
    return labels.mask(unknown, UNKNOWN)


def audit_table(
    dimension: str,
    labels: pd.Series,
    selected: np.ndarray,
    *,
    total: int,
    exclude_small: bool,
    resampling: Resampling,
) -> AuditTable:
    """One table of the summary: every known category's applicants, rate and impact ratio."""
    names = sorted(name for name in pd.unique(labels) if name != UNKNOWN)
    codes = pd.Categorical(labels, categories=[*names, UNKNOWN]).codes.astype(np.int64)  # unknown: the last
    # counts[c, 0] not selected, counts[c, 1] selected; the last row holds the unknown applicants
    counts = np.zeros((len(names) + 1, 2), dtype=np.int64)
    np.add.at(counts, (codes, selected.astype(np.int64)), 1)
    applicants = counts[:-1].sum(axis=1)
    rates = safe_divide(counts[:-1, 1], applicants)
    share = applicants / total if total else np.zeros(len(names))
    excluded = (share < MIN_SHARE) if exclude_small else np.zeros(len(names), dtype=bool)
    ratios = _impact_ratios(rates[None, :], excluded)[0]
    intervals: list = [None] * len(names)
    if resampling.enabled and len(names):
        drawn = cell_counts(counts, resampling)  # (resamples, categories + 1, 2)
        sampled = _impact_ratios(safe_divide(drawn[:, :-1, 1], drawn[:, :-1].sum(axis=2)), excluded)
        intervals = [
            None if excluded[i] else percentile_interval(sampled[:, i], resampling, METHOD) for i in range(len(names))
        ]
    categories = [
        AuditCategory(
            category=name,
            applicants=int(applicants[i]),
            share=float(share[i]),
            selected=int(counts[i, 1]),
            rate=_number(rates[i]),
            impact_ratio=None if excluded[i] else _number(ratios[i]),
            interval=intervals[i],
            excluded=bool(excluded[i]),
        )
        for i, name in enumerate(names)
    ]
    included = [c for c in categories if not c.excluded and c.rate is not None]
    top = max((c.rate for c in included), default=None)
    with_ratio = [c for c in included if c.impact_ratio is not None]
    lowest = min(with_ratio, key=lambda c: (c.impact_ratio, c.category), default=None)
    return AuditTable(
        dimension=dimension,  # type: ignore[arg-type]
        categories=categories,
        unknown=int(counts[-1].sum()),
        highest=[c.category for c in included if c.rate == top] if top is not None else [],
        min_impact_ratio=lowest.impact_ratio if lowest else None,
        min_category=lowest.category if lowest else None,
    )


def _impact_ratios(rates: np.ndarray, excluded: np.ndarray) -> np.ndarray:
    """(resamples, categories) rates → each rate over the highest included rate of its row; NaN
    where undefined (no included category with a rate, or a highest rate of 0)."""
    candidates = np.where(excluded[None, :], np.nan, rates)
    defined = np.isfinite(candidates).any(axis=1)
    highest = np.full(len(rates), np.nan)
    highest[defined] = np.nanmax(candidates[defined], axis=1)
    return safe_divide(rates, highest[:, None])


def _number(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None


def bias_audit(
    table: pd.DataFrame,
    *,
    sex: str,
    race_ethnicity: str,
    selected: np.ndarray,
    median_score: float | None,
    output: str,
    unknown_values: list[str],
    exclude_small: bool,
    resampling: Resampling,
    audit_date: str,
    data_source: str,
    data_description: str,
    distribution_date: str | None,
) -> BiasAudit:
    """The summary: the sex, race/ethnicity and intersectional tables of one evaluation table, given
    who was selected (or scored above the median)."""
    unknown = set(unknown_values)
    sex_labels = _known(group_labels(table[sex].reset_index(drop=True)), unknown)
    race_labels = _known(group_labels(table[race_ethnicity].reset_index(drop=True)), unknown)
    both = (sex_labels + INTERSECTION + race_labels).mask(sex_labels.eq(UNKNOWN) | race_labels.eq(UNKNOWN), UNKNOWN)
    total = len(table)
    tables = [
        audit_table(name, labels, selected, total=total, exclude_small=exclude_small, resampling=resampling)
        for name, labels in (("sex", sex_labels), ("race_ethnicity", race_labels), ("intersectional", both))
    ]
    lows = [t.min_impact_ratio for t in tables if t.min_impact_ratio is not None]
    return BiasAudit(
        audit_date=audit_date,
        data_source=data_source,  # type: ignore[arg-type]
        data_description=data_description,
        distribution_date=distribution_date,
        output=output,  # type: ignore[arg-type]
        sex_column=sex,
        race_column=race_ethnicity,
        applicants=total,
        selected=int(selected.sum()),
        median_score=median_score,
        min_share=MIN_SHARE,
        exclude_small_categories=exclude_small,
        tables=tables,
        min_impact_ratio=min(lows) if lows else None,
    )
