"""The churn model's A/B test: candidate 1.2 against the live 1.1, in progress at the demo's date.

The test runs on the customers the production log scores, so the two tell one story. From
:data:`START` each customer due for review is assigned at random to one version, half to each
(:func:`split_log`): 1.1's production log keeps its half — the same records, ids, scores and
outcomes as the test's champion arm — and the test's log holds both halves, each scored by its own
version (:func:`write`). The test's outcomes are the production outcomes of its customers, arriving
with the same lag, so both pages have outcomes for the same weeks. The retention team calls the
customers the serving version flags, a random fifth held back as a control; as the production KPI
finds week after week, a call keeps no one who would have left, so the two arms differ only in
which customers each version flags, and the test's primary metric — the share of customers still
with the bank 90 days later (compressed, like the monitoring outcomes) — has no real difference to
find. Planned for a fixed horizon of :data:`PLANNED_RECORDS` customers with an outcome, it is short
of it at the demo's date: the page warns against reading the interim difference, and shows the
always-valid sequential analysis instead.

The arms and the challenger's control group are drawn from streams of their own
(``stream(seed, "customer-churn", "experiment", "1.2")`` and ``… "1.2-control"``), so no other
generated value changes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from modelgov.demo.business import CONTROL_SHARE
from modelgov.demo.common import stream
from modelgov.demo.monitoring import MONITORING_WEEKS, OUTCOME_LAG_WEEKS, week_start
from modelgov.demo.writer import WorkspaceWriter

#: The monitoring week the test starts in: the last week whose outcomes have arrived at the demo's
#: date, so the test has outcomes for one week, as the production log has for that week.
START_WEEK = MONITORING_WEEKS - OUTCOME_LAG_WEEKS
#: First day of the test (a Monday).
START = week_start(START_WEEK)
#: Share of customers the challenger scores.
SPLIT = 0.5
#: The share of customers still with the bank 90 days later the test was planned on: the production
#: log's, over the weeks before it (the champion arm comes out near it).
BASELINE = 0.55
#: The fixed horizon: records with an outcome, both arms, for a five-point difference from that
#: baseline at 80 % power (the design's own power calculation on the test's page asks for 3,055).
PLANNED_RECORDS = 3_100
MDE = 0.05


@dataclass(frozen=True)
class Split:
    """The test's customers: the production log's records from :data:`START` (both halves), their
    arm, and the production outcomes of those whose outcome has arrived."""

    log: pd.DataFrame
    arm: np.ndarray
    outcomes: pd.DataFrame


def split_log(
    seed: int, model_id: str, challenger: str, champion: str, log: pd.DataFrame, outcomes: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame, Split]:
    """The champion's production log and outcomes (its half of the customers from :data:`START`,
    every customer before), and the test's customers."""
    rng = stream(seed, model_id, "experiment", challenger)
    drawn = np.where(rng.random(len(log)) < SPLIT, challenger, champion)
    in_test = (pd.to_datetime(log["timestamp"], utc=True) >= pd.Timestamp(START, tz="UTC")).to_numpy()
    kept = ~in_test | (drawn == champion)
    kept_ids = set(log.loc[kept, "request_id"])
    test_ids = set(log.loc[in_test, "request_id"])
    split = Split(
        log=log.loc[in_test].reset_index(drop=True),
        arm=drawn[in_test],
        outcomes=outcomes[outcomes["request_id"].isin(test_ids)].reset_index(drop=True),
    )
    kept_outcomes = outcomes[outcomes["request_id"].isin(kept_ids)].reset_index(drop=True)
    return log.loc[kept].reset_index(drop=True), kept_outcomes, split


def write(
    writer: WorkspaceWriter,
    seed: int,
    model_id: str,
    challenger: str,
    champion: str,
    split: Split,
    flag: Callable[[str, pd.DataFrame], tuple[np.ndarray, np.ndarray]],
    label: str,
) -> dict[str, Any]:
    """Write the experiment's log and outcomes from its customers; return version.yml's ``experiment``.

    The champion's half keeps its production score, prediction and call; the challenger's is scored
    by ``flag(challenger, frame)`` (its prediction, score), and a random fifth of those it flags is
    held back from the calls. ``label`` is 1 for a customer who left within 90 days."""
    rng = stream(seed, model_id, "experiment", f"{challenger}-control")
    frame = split.log
    ours = split.arm == challenger
    score = frame["score"].to_numpy(dtype=float).copy()
    prediction = frame["prediction"].to_numpy().astype(np.int64).copy()
    predicted, scored = flag(challenger, frame.loc[ours])
    score[ours], prediction[ours] = scored, predicted
    log = pd.DataFrame(
        {
            "timestamp": frame["timestamp"].to_numpy(),
            "request_id": frame["request_id"].to_numpy(),
            "arm": split.arm,
            "score": np.round(score, 6),
            "prediction": prediction,
            "contract_type": frame["contract_type"].to_numpy(),
            "region": frame["region"].to_numpy(),
        }
    )
    # the challenger's calls: its flagged customers, a random fifth held back as a control
    flagged = pd.Series(prediction == 1, index=frame["request_id"].to_numpy())
    control = pd.Series(rng.random(len(frame)) < CONTROL_SHARE, index=frame["request_id"].to_numpy())
    arm = pd.Series(split.arm, index=frame["request_id"].to_numpy())
    known = split.outcomes
    ids = known["request_id"].to_numpy()
    stayed = (known[label].to_numpy() == 0).astype(float)
    challengers = (arm.loc[ids] == challenger).to_numpy()
    called = flagged.loc[ids].to_numpy() & ~control.loc[ids].to_numpy()
    held = flagged.loc[ids].to_numpy() & control.loc[ids].to_numpy()
    outcomes = pd.DataFrame(
        {
            "request_id": ids,
            "stayed": stayed.astype(np.int64),
            # the champion's customers were called (or held back) as the production log records
            "stayed_called": np.where(challengers, np.where(called, stayed, np.nan), known["stayed_called"].to_numpy()),
            "stayed_control": np.where(challengers, np.where(held, stayed, np.nan), known["stayed_control"].to_numpy()),
        }
    )
    base = f"data/{model_id}/experiments/{challenger}-vs-{champion}"
    writer.table(f"{base}-log.csv", log)
    writer.table(f"{base}-outcomes.csv", outcomes)
    return {
        "name": f"Retention A/B test: {challenger} against {champion}",
        "log": f"{base}-log.csv",
        "timestamp": "timestamp",
        "id": "request_id",
        "arm": "arm",
        "champion": champion,
        "split": SPLIT,
        "window": "day",
        "design": {
            "type": "fixed",
            "sample_size": PLANNED_RECORDS,
            "end": START + dt.timedelta(weeks=8) - dt.timedelta(days=1),
            "minimum_detectable_effect": MDE,
            "alpha": 0.05,
            "power": 0.8,
            "baseline": BASELINE,
        },
        "metric": {
            "aggregation": "rate",
            "column": "stayed",
            "table": "outcomes",
            "direction": "higher",
            "title": "Customers still with the bank 90 days later",
            "description": (
                "the share of the arm's customers whose outcome has arrived who still have an account 90 days after"
                " they were scored, whether or not they were flagged (in this example the 90 days are compressed to a"
                " few weeks, like the monitoring outcomes, so that a short log shows outcomes)."
            ),
        },
        "outcomes": {"data": f"{base}-outcomes.csv", "id": "request_id"},
    }


__all__ = ["START", "START_WEEK", "Split", "split_log", "write"]
