"""Pieces every demo model shares: seeded random streams, age bands, fitting and scoring.

Each model module describes its own world; this module makes sure they all do the boring parts the
same way, so the three example models differ only where real models would differ.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from modelgov.demo.documents import evaluation_entry
from modelgov.demo.writer import WorkspaceWriter

AGE_BAND_EDGES = (18, 30, 45, 60)
AGE_BAND_LABELS = ("18-29", "30-44", "45-59", "60+")


def stream(seed: int, *labels: str) -> np.random.Generator:
    """An independent random generator for one purpose, e.g. ``stream(seed, "credit", "train")``.

    Deriving each stream from a hash of its labels (not from the order streams are created) means
    adding a new table never changes the rows of an existing one, and nothing depends on Python's
    per-process string hashing.
    """
    digest = hashlib.sha256("\x1f".join([str(seed), *labels]).encode("utf-8")).digest()
    return np.random.default_rng(int.from_bytes(digest[:16], "little"))


def age_band(age: np.ndarray | pd.Series) -> np.ndarray:
    """Age in years → the bands used as a sensitive feature across all demo models."""
    values = np.asarray(age, dtype=float)
    index = np.searchsorted(np.asarray(AGE_BAND_EDGES[1:], dtype=float), values, side="right")
    return np.asarray(AGE_BAND_LABELS, dtype=object)[index]


def single_threaded() -> threadpool_limits:
    """Numerical libraries limited to one thread, so results cannot depend on the machine's cores."""
    return threadpool_limits(limits=1)


def fit(estimator: Any, frame: pd.DataFrame, features: Sequence[str], label: str) -> Any:
    """Fit with one thread, so results cannot depend on how many cores the machine has."""
    with single_threaded():
        estimator.fit(frame[list(features)], frame[label])
    return estimator


def classify(estimator: Any, frame: pd.DataFrame, features: Sequence[str], threshold: float):
    """Positive-class probability rounded to 6 decimals, and the decision taken *from that rounded
    score*, so a reader who re-applies the threshold to the table gets exactly the table's column."""
    with threadpool_limits(limits=1):
        proba = estimator.predict_proba(frame[list(features)])[:, 1]
    score = np.round(proba, 6)
    return (score >= threshold).astype(np.int64), score


def regress(estimator: Any, frame: pd.DataFrame, features: Sequence[str], decimals: int = 2) -> np.ndarray:
    with threadpool_limits(limits=1):
        return np.round(estimator.predict(frame[list(features)]), decimals)


def evaluation_table(
    frame: pd.DataFrame,
    *,
    id_column: str,
    features: Sequence[str],
    sensitive: Sequence[str],
    label: str,
    prediction: np.ndarray,
    prediction_column: str = "prediction",
    score: np.ndarray | None = None,
) -> pd.DataFrame:
    """One row per scored example: id, model inputs, sensitive attributes, label, prediction, score."""
    extra = [column for column in sensitive if column not in features]
    table = frame[[id_column, *features, *extra, label]].copy()
    table[prediction_column] = prediction
    if score is not None:
        table["score"] = score
    return table.reset_index(drop=True)


def evaluate_classifier(
    writer: WorkspaceWriter,
    estimator: Any,
    frame: pd.DataFrame,
    *,
    path: str,
    id: str,
    dataset: str,
    date: dt.date,
    id_column: str,
    features: Sequence[str],
    sensitive: Sequence[str],
    label: str,
    threshold: float,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Score ``frame``, write its evaluation table to ``path``; return the table and the
    ``evaluations:`` entry that points at it."""
    prediction, score = classify(estimator, frame, features, threshold)
    table = evaluation_table(
        frame,
        id_column=id_column,
        features=features,
        sensitive=sensitive,
        label=label,
        prediction=prediction,
        score=score,
    )
    writer.table(path, table)
    entry = evaluation_entry(
        id=id,
        data=path,
        dataset=dataset,
        date=date,
        label=label,
        prediction="prediction",
        score="score",
        threshold=threshold,
        features=features,
    )
    return table, entry
