"""A shadow log: the live version's (the champion's) own production requests over the last weeks of
the monitoring calendar, each scored by the champion and by its challenger, with the outcomes that
arrived for them.

A shadow test sees exactly the traffic the live version answers, so the requests are the champion's
scoring log (:mod:`.monitoring`) from the week the test started: the same ids, times and inputs, and
the same outcomes as that log's outcome table. Nothing is drawn, so adding the shadow test changes
no other generated value, and the shadow page's counts agree with the monitoring page's.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from modelgov.demo import monitoring
from modelgov.demo.writer import WorkspaceWriter

#: The shadow test started this many weeks before the end of the monitoring calendar.
SHADOW_WEEKS = 6

Scorer = Callable[[pd.DataFrame], tuple[np.ndarray, np.ndarray]]


@dataclass(frozen=True)
class ShadowSpec:
    label: str  # outcome column
    sensitive: Sequence[str]
    champion: Scorer
    challenger: Scorer


def simulate(production: pd.DataFrame, outcomes: pd.DataFrame, spec: ShadowSpec) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The shadow log (both versions' predictions and scores on each request) and its outcomes, from
    the champion's production log and outcome table."""
    first = monitoring.week_start(monitoring.MONITORING_WEEKS - SHADOW_WEEKS + 1)
    stamps = pd.to_datetime(production["timestamp"], utc=True)
    frame = production[stamps >= pd.Timestamp(first, tz="UTC")].reset_index(drop=True)
    log = frame[["timestamp", "request_id", *spec.sensitive]].copy()
    for side, scorer in (("champion", spec.champion), ("challenger", spec.challenger)):
        prediction, score = scorer(frame)
        log[f"{side}_prediction"] = prediction
        log[f"{side}_score"] = score
    truth = outcomes.loc[outcomes["request_id"].isin(log["request_id"]), ["request_id", spec.label]]
    return log, truth.reset_index(drop=True)


def write(
    writer: WorkspaceWriter, model_id: str, version: str, champion: str, production: dict, spec: ShadowSpec
) -> dict[str, object]:
    """Score the champion's production requests (``production``: its version.yml ``monitoring:`` block),
    write ``data/<model>/shadow/<version>-{shadow-log,outcomes}.parquet`` and return the ``shadow:``
    block of the challenger's version.yml."""
    log, truth = simulate(
        pd.read_parquet(writer.root / str(production["logs"])),
        pd.read_parquet(writer.root / str(production["ground_truth"]["data"])),
        spec,
    )
    logs = f"data/{model_id}/shadow/{version}-shadow-log.parquet"
    outcomes = f"data/{model_id}/shadow/{version}-outcomes.parquet"
    writer.table(logs, log)
    writer.table(outcomes, truth)
    return {
        "logs": logs,
        "timestamp": "timestamp",
        "id": "request_id",
        "champion": {"version": champion, "prediction": "champion_prediction", "score": "champion_score"},
        "challenger": {"prediction": "challenger_prediction", "score": "challenger_score"},
        "sensitive": list(spec.sensitive),
        "ground_truth": {"data": outcomes, "id": "request_id", "label": spec.label},
    }
