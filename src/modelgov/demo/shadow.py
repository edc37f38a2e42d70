"""A shadow log: the last weeks of production traffic scored by the live version (the champion) and by
its challenger, with outcomes for the earlier of those weeks.

The requests are drawn from a stream of their own (``stream(seed, model, "shadow", version)``), so
adding the shadow test changes no other generated value; they follow the same calendar, volumes and
drift as the model's scoring log (:mod:`.monitoring`), because a shadow test sees the same traffic.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from modelgov.demo import monitoring
from modelgov.demo.common import stream
from modelgov.demo.writer import WorkspaceWriter

#: The shadow test started this many weeks before the end of the monitoring calendar.
SHADOW_WEEKS = 6

Scorer = Callable[[pd.DataFrame], tuple[np.ndarray, np.ndarray]]


@dataclass(frozen=True)
class ShadowSpec:
    prefix: str  # request-id prefix
    label: str  # outcome column
    sensitive: Sequence[str]
    drift_start_week: int
    draw: Callable[[np.random.Generator, int, float], pd.DataFrame]
    champion: Scorer
    challenger: Scorer


def simulate(rng: np.random.Generator, spec: ShadowSpec) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The shadow log (both versions' predictions and scores on each request) and its outcomes."""
    logs, truths = [], []
    first = monitoring.MONITORING_WEEKS - SHADOW_WEEKS + 1
    last_with_outcomes = monitoring.MONITORING_WEEKS - monitoring.OUTCOME_LAG_WEEKS
    for week in range(first, monitoring.MONITORING_WEEKS + 1):
        n = int(rng.integers(monitoring.WEEKLY_VOLUME[0], monitoring.WEEKLY_VOLUME[1] + 1))
        frame = spec.draw(rng, n, monitoring.drift_intensity(week, spec.drift_start_week)).reset_index(drop=True)
        stamp = f"{monitoring.week_start(week):%Y%m%d}"
        log = pd.DataFrame(
            {
                "timestamp": monitoring._timestamps(rng, week, n),
                "request_id": [f"{spec.prefix}-{stamp}-{i:04d}" for i in range(1, n + 1)],
            }
        )
        for column in spec.sensitive:
            log[column] = frame[column].to_numpy()
        for side, scorer in (("champion", spec.champion), ("challenger", spec.challenger)):
            prediction, score = scorer(frame)
            log[f"{side}_prediction"] = prediction
            log[f"{side}_score"] = score
        logs.append(log)
        if week <= last_with_outcomes:
            arrived = rng.random(n) >= monitoring.OUTCOME_MISSING_SHARE
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
    writer: WorkspaceWriter, seed: int, model_id: str, version: str, champion: str, spec: ShadowSpec
) -> dict[str, object]:
    """Simulate, write ``data/<model>/shadow/<version>-{shadow-log,outcomes}.parquet`` and return the
    ``shadow:`` block of the challenger's version.yml."""
    log, truth = simulate(stream(seed, model_id, "shadow", version), spec)
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
