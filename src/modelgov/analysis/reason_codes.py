"""Reason codes from attributions, and whether they differ by group.

A reason code is a feature that pushed a decision toward its adverse outcome: of one record's SHAP
values, those on the adverse side (positive when a high score is adverse, negative when a low one
is), largest first, at most N, and each at least :data:`MATERIAL_SHARE` of the record's whole push
toward that side. Without that floor the list was filled up to N with whatever pushed at all: a
feature whose push was a thousandth of the income's was named as a principal reason for a rejection
(and, being the applicant's age, as a sensitive one). This is the "principal reasons" reading of attributions used for
adverse-action notices; it inherits SHAP's limits (with correlated features the credit is split
between them, and a tree explainer's split differs from an interventional one's).

The group table counts, for each group of a sensitive feature, how often each feature is among the
reason codes of the group's adverse decisions. A feature that explains one group's rejections far
more often than another's is a fairness finding, whatever the overall disparity says.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from modelgov.manifest import GroupReasonCodes, ReasonCode, ReasonCodeShare

#: Reason codes listed per group in the table.
TOP_PER_GROUP = 5
#: A feature is a reason code only when its push toward the adverse side is at least this share of
#: the record's whole push toward that side (the sum over the features that push that way).
MATERIAL_SHARE = 0.05
#: A feature whose share of reason codes differs by at least this much between groups is named.
DIFFERING_SHARE = 0.25


def reason_codes(
    attributions: Sequence[float], features: Sequence[str], *, adverse: str, count: int, labels: Mapping[str, str]
) -> list[ReasonCode]:
    """The ``count`` features whose attributions pushed hardest toward the adverse side (ties: input
    order), leaving out any but the strongest whose push is below :data:`MATERIAL_SHARE` of the
    record's whole push."""
    sign = 1.0 if adverse == "high" else -1.0
    pushes = [(sign * float(value), index) for index, value in enumerate(attributions) if sign * float(value) > 0]
    whole = sum(push for push, _ in pushes)
    pushes.sort(key=lambda item: (-item[0], item[1]))
    # the strongest push is always a reason: an adverse decision is never left without one (with
    # twenty features pushing alike, each is under the floor)
    pushes = pushes[:1] + [(push, index) for push, index in pushes[1:] if push >= MATERIAL_SHARE * whole]
    return [
        ReasonCode(
            feature=features[index],
            label=labels.get(features[index], features[index]),
            attribution=float(attributions[index]),
        )
        for _, index in pushes[:count]
    ]


def group_table(
    codes: Sequence[Sequence[str]],
    groups: pd.Series,
    *,
    feature: str,
    labels: Mapping[str, str],
    min_group_size: int,
) -> GroupReasonCodes:
    """Reason codes of adverse decisions (``codes[i]`` the features of record i) counted per group of
    ``groups`` (the sensitive feature's value of each record). ``differing`` names features whose share
    differs by at least :data:`DIFFERING_SHARE` between groups with at least ``min_group_size``
    adverse decisions."""
    by_group: dict[str, list[Sequence[str]]] = {}
    for record, group in zip(codes, groups.astype(object), strict=True):
        name = "(missing)" if pd.isna(group) else str(group)
        by_group.setdefault(name, []).append(record)
    adverse = {name: len(records) for name, records in sorted(by_group.items())}
    table: dict[str, list[ReasonCodeShare]] = {}
    shares: dict[str, dict[str, float]] = {}
    for name, records in sorted(by_group.items()):
        counts: dict[str, int] = {}
        for record in records:
            for code in dict.fromkeys(record):
                counts[code] = counts.get(code, 0) + 1
        shares[name] = {code: n / len(records) for code, n in counts.items()}
        ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:TOP_PER_GROUP]
        table[name] = [
            ReasonCodeShare(feature=code, label=labels.get(code, code), count=n, share=n / len(records))
            for code, n in ranked
        ]
    large = [name for name, n in adverse.items() if n >= min_group_size]
    differing = []
    if len(large) >= 2:
        every = sorted({code for name in large for code in shares[name]})
        for code in every:
            values = [shares[name].get(code, 0.0) for name in large]
            if max(values) - min(values) >= DIFFERING_SHARE:
                differing.append(code)
    return GroupReasonCodes(feature=feature, adverse=adverse, codes=table, differing=differing)


def attribution_share(values: np.ndarray, features: Sequence[str]) -> dict[str, float]:
    """Each feature's share of the total |attribution| over the rows (sums to 1), largest first."""
    totals = np.abs(np.asarray(values, dtype=float)).sum(axis=0)
    whole = float(totals.sum())
    if whole <= 0:
        return {feature: 0.0 for feature in features}
    order = sorted(range(len(features)), key=lambda i: (-totals[i], i))
    return {features[i]: float(totals[i] / whole) for i in order}
