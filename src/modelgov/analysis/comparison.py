"""Compare two versions on the same evaluation rows: metric deltas with paired bootstrap intervals.

A retrained version should be promoted only if it is better than the live one *on the same data*.
Comparing two numbers measured on different samples mixes the model change with the sample change,
so rows are paired first (by an id column when both runs declare one, otherwise by position when
both tables hold the same labels in the same order), and each bootstrap resample draws the *same*
rows for both versions. The interval of the difference is then much narrower than the two
separate intervals suggest, because the shared sampling noise cancels.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from modelgov.analysis import weighted
from modelgov.analysis.performance import (
    BEST_VALUES,
    BINARY_METRICS,
    MULTICLASS_METRICS,
    REGRESSION_METRICS,
    bootstrap_samples,
)
from modelgov.analysis.resampling import ROW_METHOD, Resampling, identity, percentile_interval
from modelgov.analysis.simultaneous import METHOD as SIMULTANEOUS
from modelgov.analysis.simultaneous import sup_t_band
from modelgov.manifest import Interval, MetricDelta


class NotComparable(Exception):
    """The two runs cannot be paired row by row; the message says why."""


@dataclass(frozen=True)
class RunArrays:
    """One version's view of the evaluation rows, in the row order of its table."""

    y_true: np.ndarray
    y_pred: np.ndarray
    y_score: np.ndarray | None = None
    row_ids: pd.Series | None = None
    #: each sensitive feature's (or intersection's, ``sex+age_band``) group label per row, as the
    #: evaluation's fairness table grouped them; the groups are compared with these
    groups: dict[str, np.ndarray] | None = None


@dataclass(frozen=True)
class Pairing:
    this_rows: np.ndarray
    other_rows: np.ndarray
    matched_by: str


def pair_rows(this: RunArrays, other: RunArrays, *, row_id: str | None) -> Pairing:
    """Pair the rows of two runs, or raise :class:`NotComparable`."""
    if this.row_ids is not None and other.row_ids is not None:
        for name, ids in (("this", this.row_ids), ("other", other.row_ids)):
            if ids.duplicated().any():
                raise NotComparable(f"the id column of {name} run has duplicate values")
        left = pd.DataFrame({"id": this.row_ids.to_numpy(), "i": np.arange(len(this.row_ids))})
        right = pd.DataFrame({"id": other.row_ids.to_numpy(), "j": np.arange(len(other.row_ids))})
        joined = left.merge(right, on="id", how="inner", sort=False).sort_values("i")
        if joined.empty:
            raise NotComparable("no row id occurs in both runs")
        pairing = Pairing(joined["i"].to_numpy(), joined["j"].to_numpy(), f"id column {row_id}")
        if not np.array_equal(this.y_true[pairing.this_rows], other.y_true[pairing.other_rows]):
            raise NotComparable("rows with the same id have different labels")
        return pairing
    if len(this.y_true) != len(other.y_true):
        raise NotComparable(f"the tables have different row counts ({len(this.y_true):,} and {len(other.y_true):,})")
    if not np.array_equal(this.y_true, other.y_true):
        raise NotComparable("the tables' labels differ row by row; declare row_id to pair them")
    rows = np.arange(len(this.y_true))
    return Pairing(rows, rows, "row order (identical labels in identical order)")


def metric_deltas(this: RunArrays, other: RunArrays, pairing: Pairing, *, task: str, resampling: Resampling):
    """Deltas (this − other) of every headline metric the task has, with paired intervals."""
    a = _subset(this, pairing.this_rows)
    b = _subset(other, pairing.other_rows)
    spec, compute = _task_metrics(task, a, b)
    every_row = identity(len(a.y_true))
    this_point = {key: float(v[0]) for key, v in compute(a, every_row).items()}
    other_point = {key: float(v[0]) for key, v in compute(b, every_row).items()}

    def deltas_of(draws: np.ndarray) -> dict[str, np.ndarray]:
        mine, theirs = compute(a, draws), compute(b, draws)  # the same rows drawn for both versions
        found = {key: values - theirs[key] for key, values in mine.items()}
        for key, best in BEST_VALUES.items():
            if key in mine:
                found[_distance_key(key)] = np.abs(mine[key] - best) - np.abs(theirs[key] - best)
        return found

    samples = bootstrap_samples(deltas_of, len(a.y_true), resampling) if resampling.enabled else {}
    shown = [key for key, *_ in spec if key in this_point and key in other_point]
    finite = [key for key in shown if np.isfinite(this_point[key]) and np.isfinite(other_point[key])]
    # the joint band covers every difference shown and, for a metric best at neither end (a mean
    # error), the change in its distance from that value too, which is what its verdict reads
    points = {key: this_point[key] - other_point[key] for key in finite}
    points.update(
        {_distance_key(key): _distance(key, this_point[key], other_point[key]) for key in finite if key in BEST_VALUES}
    )
    joint = sup_t_band(samples, points, resampling.level) if samples else {}
    together = sum(1 for key in joint if key in this_point)  # metrics, not their distances
    deltas = []
    for key, label, higher_is_better, _ in spec:
        if key not in this_point:
            continue
        x, y = _finite(this_point[key]), _finite(other_point[key])
        delta = x - y if x is not None and y is not None else None
        best = BEST_VALUES.get(key)
        distance = _distance(key, x, y) if best is not None and x is not None and y is not None else None
        deltas.append(
            MetricDelta(
                name=key,
                label=label,
                this=x,
                other=y,
                delta=delta,
                interval=percentile_interval(samples[key], resampling, f"paired {ROW_METHOD}")
                if samples and delta is not None
                else None,
                higher_is_better=higher_is_better,
                best_value=best,
                distance=distance,
                distance_interval=percentile_interval(samples[_distance_key(key)], resampling, f"paired {ROW_METHOD}")
                if samples and distance is not None
                else None,
                distance_joint_interval=_joint(
                    joint.get(_distance_key(key)), samples.get(_distance_key(key)), resampling, together
                )
                if distance is not None
                else None,
                joint_interval=_joint(joint.get(key), samples.get(key), resampling, together),
            )
        )
    return deltas


def _distance_key(key: str) -> str:
    return f"{key} distance from best"


def _distance(key: str, this: float, other: float) -> float:
    """|this − best| − |other − best|: below zero when this version is nearer ``key``'s best value."""
    best = BEST_VALUES[key]
    return abs(this - best) - abs(other - best)


def _joint(band: tuple[float, float] | None, drawn: np.ndarray | None, resampling: Resampling, metrics: int):
    """The metric's part of the band that covers every metric of the comparison at once."""
    if band is None or drawn is None:
        return None
    return Interval(
        low=band[0],
        high=band[1],
        level=resampling.level,
        resamples=len(drawn),
        method=f"{SIMULTANEOUS} ({metrics} metrics together)",
        defined_share=round(float(np.isfinite(drawn).mean()), 6),
    )


def _task_metrics(task: str, a: RunArrays, b: RunArrays):
    if task == "regression":
        return REGRESSION_METRICS, lambda run, w: weighted.regression(run.y_true, run.y_pred, w)
    if task == "binary_classification":
        with_scores = a.y_score is not None and b.y_score is not None

        def binary(run: RunArrays, w: np.ndarray) -> dict[str, np.ndarray]:
            return weighted.binary(run.y_true, run.y_pred, run.y_score if with_scores else None, w)

        return BINARY_METRICS, binary
    return MULTICLASS_METRICS, lambda run, w: weighted.multiclass(run.y_true, run.y_pred, w)


def _subset(run: RunArrays, rows: np.ndarray) -> RunArrays:
    return RunArrays(
        y_true=run.y_true[rows],
        y_pred=run.y_pred[rows],
        y_score=None if run.y_score is None else run.y_score[rows],
    )


def _finite(value: float) -> float | None:
    return value if np.isfinite(value) else None
