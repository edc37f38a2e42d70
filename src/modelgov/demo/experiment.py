"""The churn model's A/B test: candidate 1.2 against the live 1.1, in progress at the demo's date.

From :data:`START` the customers due for review each week — the customers the production log scores
— are split at random, half to each version, so the production log of 1.1 holds half as many records
from that week on (:func:`volume_share`), and the test sees as many customers a week as the log did
before it. The test starts after the last week whose outcomes the production log has, so the fee
waiver below, which began with the test, is in no outcome the production KPI counts (there, a call
changes nothing). The two logs are drawn separately in this example, with the same volumes; the retention team calls the customers the serving version flags (all but a random fifth
held out as a control group), and since the test began the caller may waive the new account fee, so
a call keeps a customer who would have left with probability :data:`SAVE_RATE`. The primary metric is the share of
customers still with the bank 90 days later (compressed, like the monitoring outcomes, to
:data:`OUTCOME_LAG_DAYS`). The test was planned for a fixed horizon of :data:`PLANNED_RECORDS`
customers with an outcome, so at the demo's date it is short of its horizon: the page warns against
reading the interim difference, and shows the always-valid sequential analysis instead.

Everything is drawn from its own stream (``stream(seed, "customer-churn", "experiment", "1.2")``),
so no other generated value changes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from modelgov.demo.common import stream
from modelgov.demo.monitoring import MONITORING_START, MONITORING_WEEKS, OUTCOME_LAG_WEEKS, WEEKLY_VOLUME
from modelgov.demo.writer import WorkspaceWriter

#: The monitoring week the test starts in: the first after the last week with outcomes in the
#: production log (its outcomes lag three weeks).
START_WEEK = MONITORING_WEEKS - OUTCOME_LAG_WEEKS + 1
#: First day of the test (a Monday).
START = MONITORING_START + dt.timedelta(weeks=START_WEEK - 1)
DAYS = (MONITORING_WEEKS - START_WEEK + 1) * 7
#: Customers due for review a day: the production log's mean weekly volume, spread over the week.
CUSTOMERS_PER_DAY = round(sum(WEEKLY_VOLUME) / 2 / 7)
#: Share of requests served by the challenger.
SPLIT = 0.5
#: Chance that a call keeps a customer who would otherwise have left.
SAVE_RATE = 0.35
OUTCOME_LAG_DAYS = 14
#: The fixed horizon: records with an outcome, both arms, for a five-point difference from a 65 %
#: baseline at 80 % power (the design's own power calculation on the test's page asks for 2,752).
PLANNED_RECORDS = 2_800
MDE = 0.05


def volume_share(week: int) -> float:
    """The share of a week's customers the live version 1.1 scores: all of them before the test, the
    champion's arm from its start."""
    return 1.0 - SPLIT if week >= START_WEEK else 1.0


def write(
    writer: WorkspaceWriter,
    seed: int,
    model_id: str,
    challenger: str,
    champion: str,
    draw: Callable[[np.random.Generator, int], pd.DataFrame],
    flag: Callable[[str, pd.DataFrame], tuple[np.ndarray, np.ndarray]],
    label: str,
) -> dict[str, Any]:
    """Simulate and write the experiment log and its outcomes; return version.yml's ``experiment``.

    ``draw(rng, n)`` draws customers (with ``label``, whether they would leave uncalled); ``flag(version,
    frame)`` is a version's (prediction, score)."""
    rng = stream(seed, model_id, "experiment", challenger)
    n = CUSTOMERS_PER_DAY * DAYS
    frame = draw(rng, n)
    day = rng.integers(0, DAYS, n)
    seconds = rng.integers(7 * 3600, 19 * 3600, n)
    moment = pd.Timestamp(START) + pd.to_timedelta(day, unit="D") + pd.to_timedelta(seconds, unit="s")
    order = np.argsort(moment.to_numpy(), kind="stable")
    frame, moment = frame.iloc[order].reset_index(drop=True), moment[order]
    arm = np.where(rng.random(n) < SPLIT, challenger, champion)
    score = np.empty(n)
    flagged = np.zeros(n, dtype=bool)
    for version in (challenger, champion):
        served = arm == version
        p, s = flag(version, frame.loc[served])
        score[served], flagged[served] = s, p == 1
    would_leave = frame[label].to_numpy() == 1
    control = rng.random(n) < 0.2
    called = flagged & ~control
    saved = called & would_leave & (rng.random(n) < SAVE_RATE)
    stayed = (~would_leave | saved).astype(np.int64)
    request = np.array([f"chx-{i:06d}" for i in range(1, n + 1)], dtype=object)
    log = pd.DataFrame(
        {
            "timestamp": moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "request_id": request,
            "arm": arm,
            "score": np.round(score, 6),
            "prediction": flagged.astype(np.int64),
            "contract_type": frame["contract_type"].to_numpy(),
            "region": frame["region"].to_numpy(),
        }
    )
    last = START + dt.timedelta(days=DAYS)
    known = moment < pd.Timestamp(last - dt.timedelta(days=OUTCOME_LAG_DAYS))
    outcomes = pd.DataFrame(
        {
            "request_id": request[known],
            "stayed": stayed[known],
            "stayed_called": np.where(called, stayed, np.nan)[known],
            "stayed_control": np.where(flagged & control, stayed, np.nan)[known],
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
            "baseline": 0.65,
        },
        "metric": {
            "aggregation": "rate",
            "column": "stayed",
            "table": "outcomes",
            "direction": "higher",
            "title": "Customers still with the bank 90 days later",
        },
        "outcomes": {"data": f"{base}-outcomes.csv", "id": "request_id"},
    }


__all__ = ["START", "START_WEEK", "volume_share", "write"]
