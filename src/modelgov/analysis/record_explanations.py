"""Individual decisions of one evaluation run, explained: which records, and what is said about each.

A pure function: the model, the evaluation table and the card's ``explanations`` in,
:class:`modelgov.manifest.RecordExplanations` out. The records explained are

* those the card names by id (complaints, appeals, audited cases), at most
  :data:`~modelgov.workspace.explanation_schema.MAX_NAMED_RECORDS`;
* the ``largest_errors`` largest errors of each kind (a false adverse decision with the most extreme
  score, and a missed one; for regression the largest over- and under-estimates);
* ``per_group`` records drawn (seeded) from each group of each sensitive feature, at most
  :data:`MAX_GROUPS` groups per feature.

For each: its inputs, score and decision, SHAP attributions with their base value
(:mod:`.record_attributions`), reason codes (:mod:`.reason_codes`), what-if curves for its most
influential features (:mod:`.what_if`) and, for an adverse decision, a counterfactual
(:mod:`.counterfactuals`). The group table and the attribution shares policies read are computed on
a seeded sample of at most :data:`SAMPLE_ROWS` rows. Cost is bounded per record: the what-if grid,
the counterfactual budget and the explainer's evaluations are all capped. When only the sampled
explainer applies, its total work is bounded too, whatever the table's width
(:func:`~.record_attributions.sampled_plan`): for a wide table the sample loses rows, then background
rows; the chosen records keep their number while the background shrinks, and only then are some left
out, named ones last. Each cut is said in a note.

Privacy is applied here, before anything reaches the manifest (which is published with the site):
without the datasheet's ``publish_records``, no id and no feature value is kept; with it, the
datasheet's ``pii_fields`` are still withheld.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from modelgov.analysis import counterfactuals as cf
from modelgov.analysis.reason_codes import attribution_share, group_table, reason_codes
from modelgov.analysis.record_attributions import (
    SAMPLED_BACKGROUND_ROWS,
    Attributions,
    attribute,
    explainer_for,
    model_output,
    sampled_plan,
)
from modelgov.analysis.shapley import ShapUnavailable
from modelgov.analysis.what_if import grid, what_if
from modelgov.manifest import Counterfactual, CounterfactualChange, ExplainedRecord, RecordExplanations
from modelgov.workspace.explanation_schema import Explanations

#: Records explained per run at most (50 named, the rest defaults), so a run's cost is bounded.
MAX_RECORDS = 100
#: Groups per sensitive feature a sample is drawn from (the most frequent first).
MAX_GROUPS = 10
#: Rows of the sample the group table and the attribution shares are computed on.
SAMPLE_ROWS = 1000
#: ... when the only explainer is the sampled one (its cost per row is ~100× a tree's).
SAMPLED_EXPLAINER_ROWS = 100
#: ... down to this many for a wide table, before its background shrinks (see ``sampled_plan``).
MIN_SAMPLED_EXPLAINER_ROWS = 20
#: Longest value text kept.
MAX_VALUE = 120


def explain_records(
    model: Any,
    table: pd.DataFrame,
    *,
    spec: Explanations,
    features: Sequence[str],
    label: str,
    task: str,
    positive_label: object,
    positive_index: int,
    sensitive: Sequence[str],
    id_column: str | None,
    threshold: float | None,
    min_group_size: int,
    seed: int,
    publish: bool,
    withheld: Sequence[str] = (),
) -> RecordExplanations:
    """Explain the chosen records of ``table`` (see the module docstring)."""
    features = list(features)
    notes: list[str] = []
    labels = {f: (spec.features[f].label if f in spec.features and spec.features[f].label else f) for f in features}
    if spec.threshold is not None:
        cut = float(spec.threshold)
    elif threshold is not None:
        cut = float(threshold)
    elif task == "regression":
        raise ShapUnavailable(
            "Individual decisions not explained: a regression model needs `explanations.threshold` in model.yml "
            "to say where its decision is made"
        )
    else:
        cut = 0.5
    table = table.reset_index(drop=True)
    X = table[features]

    def score(frame: pd.DataFrame) -> np.ndarray:
        return model_output(model, frame[features], task=task, positive_index=positive_index)

    scores = score(X)
    adverse_side = spec.adverse
    adverse = scores >= cut if adverse_side == "high" else scores < cut
    chosen, missing = _choose(table, scores, adverse, spec, label, task, positive_label, sensitive, id_column, seed)
    if missing:
        notes.append(f"{missing} record id(s) named in model.yml are not in this run's table.")
    if id_column is None and spec.records:
        notes.append(
            "Records named by id are not explained: neither `explanations.id_column` nor the run's `row_id` is set."
        )
    for feature in spec.features:
        if feature not in features and feature not in sensitive:
            notes.append(f"`explanations.features.{feature}` names no input of this run.")

    sample_size = SAMPLE_ROWS
    # named records first, then the defaults in the order they were chosen; explained in table order,
    # and when the sampled explainer's bounds bind, the first by priority are kept
    priority = sorted(chosen, key=lambda row: "named in model.yml" not in chosen[row])[:MAX_RECORDS]
    rows = sorted(priority)
    if rows:
        at = {row: position for position, row in enumerate(rows)}
        attributions = attribute(
            model, X.iloc[rows].reset_index(drop=True), X, task=task, positive_index=positive_index, seed=seed,
            priority=[at[row] for row in priority], keys=rows,
        )  # fmt: skip
        explainer = attributions.explainer
        positions = attributions.positions if attributions.positions is not None else range(len(rows))
    else:  # nothing chosen: a few rows say which explainer applies, and so how large the sample is
        attributions = None
        probe = X.iloc[:MIN_SAMPLED_EXPLAINER_ROWS]
        explainer = explainer_for(model, probe, X, task=task, positive_index=positive_index, seed=seed)
        positions = range(0)
    order = {rows[position]: index for index, position in enumerate(positions)}
    notes += _left_out_notes(chosen, order, attributions, width=len(features), table_rows=len(X))
    chosen = {row: chosen[row] for row in order}
    rows = sorted(chosen)
    if explainer == "PermutationExplainer":
        sample_size, _ = sampled_plan(SAMPLED_EXPLAINER_ROWS, len(features), min_rows=MIN_SAMPLED_EXPLAINER_ROWS)
    sample = _sample_index(len(table), sample_size, seed)
    lens = attribute(
        model, X.iloc[sample].reset_index(drop=True), X, task=task, positive_index=positive_index, seed=seed,
        keys=sample,
    )  # fmt: skip
    if lens.positions is not None:
        sample = [sample[position] for position in lens.positions]
    if lens.background_rows is not None:
        fewer_rows = len(sample) < min(SAMPLED_EXPLAINER_ROWS, len(table))
        fewer_background = lens.background_rows < min(SAMPLED_BACKGROUND_ROWS, len(X))
        if fewer_rows or fewer_background:
            notes.append(
                f"Reason codes by group and the attribution shares are computed on {len(sample)} rows"
                + (f" (not {min(SAMPLED_EXPLAINER_ROWS, len(table))})" if fewer_rows else "")
                + f" against {lens.background_rows} background rows"
                + (f" (not {min(SAMPLED_BACKGROUND_ROWS, len(X))})" if fewer_background else "")
                + f": with {len(features):,} inputs, that keeps the sampled explainer within its bounds."
            )

    constraints = _constraints(spec, sensitive)
    sensitive_set = set(sensitive) | {f for f, s in spec.features.items() if s.sensitive}
    hidden = set(withheld)
    records = []
    for number, row in enumerate(rows, start=1):
        position = order[row]
        values = attributions.values[position]
        record = X.iloc[[row]].reset_index(drop=True)
        shown = {f for f in features if publish and f not in hidden}
        codes = (
            reason_codes(values, features, adverse=adverse_side, count=spec.reason_codes, labels=labels)
            if adverse[row]
            else []
        )
        # a withheld value stays withheld in everything that would give it away: its contribution
        # (for a linear model, β(x − mean) is the value itself) and its what-if curve (which passes
        # through the record's own score at the record's own value)
        codes = [c if c.feature in shown else c.model_copy(update={"attribution": None}) for c in codes]
        top = [i for i in sorted(range(len(features)), key=lambda i: (-abs(values[i]), i)) if features[i] in shown]
        curves = [
            what_if(
                score,
                record,
                features[i],
                grid(X[features[i]]),
                threshold=cut,
                adverse=adverse_side,
                label=labels[features[i]],
            )
            for i in top[: spec.what_if_features]
            if grid(X[features[i]])
        ]
        counterfactual = None
        if adverse[row]:
            found = cf.search(
                score, record, X.iloc[sample], constraints,
                threshold=cut, adverse=adverse_side, budget=spec.counterfactual_budget, max_changes=spec.max_changes,
            )  # fmt: skip
            counterfactual = _counterfactual(found, labels, publish, hidden, spec)
        records.append(
            ExplainedRecord(
                number=number,
                id=_text(table.at[row, id_column]) if publish and id_column and id_column not in hidden else None,
                selected_because=chosen[row],
                inputs={f: (_text(record.at[0, f]) if publish and f not in hidden else None) for f in features},
                score=float(scores[row]),
                adverse=bool(adverse[row]),
                base_value=attributions.base,
                attributions={f: (float(v) if f in shown else None) for f, v in zip(features, values, strict=True)},
                output=float(attributions.output[position]),
                reason_codes=codes,
                what_if=curves,
                counterfactual=counterfactual,
            )
        )

    lens_adverse = adverse[sample]
    lens_codes = [
        [
            c.feature
            for c in reason_codes(
                lens.values[i], features, adverse=adverse_side, count=spec.reason_codes, labels=labels
            )
        ]
        for i in range(len(sample))
        if lens_adverse[i]
    ]
    groups = []
    for feature in sensitive:
        if feature in table.columns:
            members = table[feature].iloc[sample][lens_adverse].reset_index(drop=True)
            groups.append(
                group_table(lens_codes, members, feature=feature, labels=labels, min_group_size=min_group_size)
            )
    return RecordExplanations(
        explainer=explainer,
        scale=attributions.scale if attributions is not None else lens.scale,
        threshold=cut,
        adverse_side=adverse_side,
        published=publish,
        records=records,
        missing_ids=missing,
        sample_rows=len(sample),
        groups=groups,
        attribution_share=attribution_share(lens.values, features),
        sensitive_reason_codes=sum(code in sensitive_set for record in lens_codes for code in record),
        sensitive_features=sorted(sensitive_set),
        labels={f: labels[f] for f in features if labels[f] != f},
        notes=notes,
    )


def _left_out_notes(
    chosen: dict[int, list[str]],
    explained: dict[int, int],
    attributions: Attributions | None,
    *,
    width: int,
    table_rows: int,
) -> list[str]:
    """What a reader must be told about the records chosen but not explained, and about a background
    smaller than usual: each cut, and why."""
    notes = []
    left_out = [row for row in chosen if row not in explained]
    if left_out:
        named = sum("named in model.yml" in chosen[row] for row in left_out)
        reasons = []
        if len(chosen) > MAX_RECORDS:
            reasons.append(f"at most {MAX_RECORDS} are explained")
        if attributions is not None and attributions.explained < min(len(chosen), MAX_RECORDS):
            reasons.append(f"with {width:,} inputs, the sampled explainer's bounds cover {attributions.explained}")
        notes.append(
            f"{len(left_out)} of {len(chosen)} chosen records not explained"
            + (f", {named} of them named in model.yml" if named else "")
            + f": {'; '.join(reasons)} (records named in model.yml first)."
        )
    usual = min(SAMPLED_BACKGROUND_ROWS, table_rows)
    if attributions is not None and attributions.background_rows is not None and attributions.background_rows < usual:
        notes.append(
            f"The records' attributions are measured against {attributions.background_rows} background rows, "
            f"not {usual}: with {width:,} inputs, that keeps the sampled explainer within its bounds. They still "
            "add up to each record's score; the base value they add up from is the mean score of fewer rows."
        )
    return notes


def _text(value: object) -> str:
    text = "(missing)" if value is None or (not isinstance(value, str) and pd.isna(value)) else str(value)
    if isinstance(value, float) and value.is_integer():
        text = str(int(value))
    return text if len(text) <= MAX_VALUE else text[: MAX_VALUE - 1] + "…"


def _sample_index(rows: int, size: int, seed: int) -> list[int]:
    if rows <= size:
        return list(range(rows))
    return sorted(int(i) for i in np.random.default_rng(seed + 7).choice(rows, size=size, replace=False))


def _constraints(spec: Explanations, sensitive: Sequence[str]) -> dict[str, cf.Constraint]:
    out = {feature: cf.Constraint(immutable=True) for feature in sensitive}
    for feature, item in spec.features.items():
        if feature in out:
            continue
        low, high = (item.range or (None, None))[0], (item.range or (None, None))[1]
        out[feature] = cf.Constraint(immutable=item.immutable, monotone=item.monotone, low=low, high=high)
    return out


def _counterfactual(found: cf.Result, labels, publish: bool, hidden: set[str], spec: Explanations) -> Counterfactual:
    if not found.found:
        return Counterfactual(
            found=False,
            evaluations=found.evaluations,
            note=f"No change of at most {spec.max_changes} feature(s) that flips the decision was found within "
            f"{found.evaluations:,} model evaluations.",
        )
    changes = [
        CounterfactualChange(
            feature=feature,
            label=labels.get(feature, feature),
            before=_text(before) if publish and feature not in hidden else None,
            after=_text(after) if publish and feature not in hidden else None,
        )
        for feature, (before, after) in found.changes.items()
    ]
    return Counterfactual(
        found=True, changes=changes, score=found.score, distance=found.distance, evaluations=found.evaluations
    )


def _choose(
    table: pd.DataFrame,
    scores: np.ndarray,
    adverse: np.ndarray,
    spec: Explanations,
    label: str,
    task: str,
    positive_label: object,
    sensitive: Sequence[str],
    id_column: str | None,
    seed: int,
) -> tuple[dict[int, list[str]], int]:
    """Row → why it is explained; and how many named ids the table lacks."""
    chosen: dict[int, list[str]] = {}

    def add(row: int, why: str) -> None:
        chosen.setdefault(int(row), []).append(why)

    missing = 0
    if id_column is not None and spec.records:
        ids = table[id_column].astype(str)
        first = {value: index for index, value in reversed(list(enumerate(ids)))}
        for name in spec.records:
            if name in first:
                add(first[name], "named in model.yml")
            else:
                missing += 1
    if spec.largest_errors:
        if task == "regression":
            error = scores - pd.to_numeric(table[label], errors="coerce").to_numpy(dtype=float)
            kinds = [("largest over-estimate", error), ("largest under-estimate", -error)]
        else:
            actual_positive = table[label].astype(str) == str(positive_label)
            predicted_positive = adverse if spec.adverse == "high" else ~adverse
            false_pos = predicted_positive & ~actual_positive.to_numpy()
            false_neg = ~predicted_positive & actual_positive.to_numpy()
            kinds = [
                ("false positive, highest score", np.where(false_pos, scores, -np.inf)),
                ("false negative, lowest score", np.where(false_neg, -scores, -np.inf)),
            ]
        for why, strength in kinds:
            order = np.argsort(-np.nan_to_num(strength, nan=-np.inf), kind="stable")
            for row in order[: spec.largest_errors]:
                if np.isfinite(strength[row]):
                    add(row, why)
    rng = np.random.default_rng(seed)
    for feature in sensitive:
        if feature not in table.columns or not spec.per_group:
            continue
        column = table[feature].astype(object)
        counts = column.value_counts(dropna=True)
        for group in sorted(counts.index, key=lambda g: (-counts[g], str(g)))[:MAX_GROUPS]:
            members = np.flatnonzero((column == group).to_numpy())
            for row in rng.choice(members, size=min(spec.per_group, len(members)), replace=False):
                add(row, f"sample of {feature} = {group}")
    return chosen, missing


__all__ = ["Attributions", "explain_records"]
