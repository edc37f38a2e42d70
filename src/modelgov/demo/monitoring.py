"""Scoring logs and late outcomes for the production versions, with a drift at a known week.

Every model is monitored over the same fixed calendar (weeks starting Monday 2026-08-03), so the
example never depends on today's date. Each model module supplies two functions — how to draw a
week's requests given a drift intensity, and how its deployed version scores them — and this module
turns them into a log table (timestamp, request id, inputs, prediction, score) and a separate
ground-truth table that, like real outcomes, arrives late and so covers only the earlier weeks.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from modelgov.demo.common import stream
from modelgov.demo.writer import WorkspaceWriter

#: Monday of monitoring week 1.
MONITORING_START = dt.date(2026, 8, 3)
#: Number of weekly windows in every scoring log.
MONITORING_WEEKS = 16
#: Outcomes of the last this-many weeks have not arrived yet when the workspace is "taken".
OUTCOME_LAG_WEEKS = 3
#: Share of requests in the covered weeks whose outcome never arrives (closed accounts, lost matches).
OUTCOME_MISSING_SHARE = 0.02
#: Requests per week are drawn uniformly from this range.
WEEKLY_VOLUME = (300, 600)

_SECONDS_PER_WEEK = 7 * 24 * 3600


def week_start(week: int) -> dt.date:
    """Monday of monitoring week ``week`` (1-based)."""
    return MONITORING_START + dt.timedelta(weeks=week - 1)


def drift_intensity(week: int, start_week: int) -> float:
    """0 before the drift starts, then 0.7 in its first week, 0.85 in the second and 1.0 after.

    A fast ramp rather than a step: real shifts (a price change, a local downturn) take a couple of
    weeks to reach every customer, but the first drifted week is already clearly visible.
    """
    if week < start_week:
        return 0.0
    return min(1.0, 0.7 + 0.15 * (week - start_week))


@dataclass(frozen=True)
class LogSpec:
    """What a model's scoring log looks like and how it is produced."""

    prefix: str  # request-id prefix, e.g. "crd"
    label: str  # outcome column of the ground-truth table
    features: Sequence[str]  # model inputs, in log order
    sensitive: Sequence[str]  # extra columns kept for fairness monitoring (not model inputs)
    drift_start_week: int
    #: (rng, n, intensity) → frame with the features, sensitive columns and the true outcome.
    draw: Callable[[np.random.Generator, int, float], pd.DataFrame]
    #: frame → (prediction, score or None), by the deployed version.
    score: Callable[[pd.DataFrame], tuple[np.ndarray, np.ndarray | None]]
    #: (rng, log, outcomes) → both with the business KPIs' columns added (:mod:`.business`), from a
    #: stream of their own so that no other value changes.
    business: Callable[[np.random.Generator, pd.DataFrame, pd.DataFrame], tuple[pd.DataFrame, pd.DataFrame]] | None = (
        None
    )


def _timestamps(rng: np.random.Generator, week: int, n: int) -> list[str]:
    """Sorted ISO 8601 UTC times inside the week; weekday office hours are busier, as in real traffic."""
    start = dt.datetime.combine(week_start(week), dt.time(), tzinfo=dt.UTC)
    day = rng.choice(7, size=n, p=np.array([0.17, 0.17, 0.17, 0.17, 0.16, 0.09, 0.07]))
    hour = np.clip(rng.normal(13.0, 3.5, size=n), 0, 23.999)
    seconds = np.sort((day * 86400 + hour * 3600).astype(np.int64))
    seconds = np.clip(seconds, 0, _SECONDS_PER_WEEK - 1)
    return [(start + dt.timedelta(seconds=int(s))).strftime("%Y-%m-%dT%H:%M:%SZ") for s in seconds]


def simulate(rng: np.random.Generator, spec: LogSpec) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The full scoring log and the late ground-truth table for one deployed version."""
    logs, truths = [], []
    last_week_with_outcomes = MONITORING_WEEKS - OUTCOME_LAG_WEEKS
    for week in range(1, MONITORING_WEEKS + 1):
        n = int(rng.integers(WEEKLY_VOLUME[0], WEEKLY_VOLUME[1] + 1))
        frame = spec.draw(rng, n, drift_intensity(week, spec.drift_start_week)).reset_index(drop=True)
        prediction, score = spec.score(frame)
        stamp = f"{week_start(week):%Y%m%d}"
        log = pd.DataFrame(
            {
                "timestamp": _timestamps(rng, week, n),
                "request_id": [f"{spec.prefix}-{stamp}-{i:04d}" for i in range(1, n + 1)],
            }
        )
        extra = [column for column in spec.sensitive if column not in spec.features]
        for column in [*spec.features, *extra]:
            log[column] = frame[column].to_numpy()
        log["prediction"] = prediction
        if score is not None:
            log["score"] = score
        logs.append(log)
        if week <= last_week_with_outcomes:
            arrived = rng.random(n) >= OUTCOME_MISSING_SHARE
            truths.append(
                pd.DataFrame(
                    {
                        "request_id": log["request_id"].to_numpy()[arrived],
                        spec.label: frame[spec.label].to_numpy()[arrived],
                    }
                )
            )
    return pd.concat(logs, ignore_index=True), pd.concat(truths, ignore_index=True)


def write(
    writer: WorkspaceWriter,
    seed: int,
    model_id: str,
    version: str,
    spec: LogSpec,
    *,
    suffix: str,
    keep: Callable[[pd.DataFrame, pd.DataFrame], tuple[pd.DataFrame, pd.DataFrame]] | None = None,
) -> dict[str, object]:
    """Simulate, write ``data/<model>/monitoring/<version>-{scoring-log,outcomes}.<suffix>`` and
    return the ``monitoring:`` block of version.yml that points at them. ``keep(log, outcomes)``
    returns the records this version scored, when another version took some of them (an A/B test:
    :func:`.experiment.split_log`)."""
    log, truth = simulate(stream(seed, model_id, "monitoring", version), spec)
    if spec.business is not None:
        log, truth = spec.business(stream(seed, model_id, "business", version), log, truth)
    if keep is not None:
        log, truth = keep(log, truth)
    logs = f"data/{model_id}/monitoring/{version}-scoring-log.{suffix}"
    outcomes = f"data/{model_id}/monitoring/{version}-outcomes.{suffix}"
    writer.table(logs, log)
    writer.table(outcomes, truth)
    return monitoring_entry(logs, outcomes, spec, with_score="score" in log.columns)


def monitoring_entry(logs: str, truth: str, spec: LogSpec, *, with_score: bool) -> dict[str, object]:
    """The ``monitoring:`` block of version.yml for a log written by :func:`simulate`."""
    entry: dict[str, object] = {
        "logs": logs,
        "timestamp": "timestamp",
        "id": "request_id",
        "prediction": "prediction",
    }
    if with_score:
        entry["score"] = "score"
    entry["features"] = list(spec.features)
    entry["ground_truth"] = {"data": truth, "id": "request_id", "label": spec.label}
    return entry
