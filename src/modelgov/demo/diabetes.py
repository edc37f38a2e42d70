"""`diabetes-progression`: a regressor on real data — the diabetes study bundled with scikit-learn.

The other two models run on synthetic data; this one uses the 442 real patients of Efron, Hastie,
Johnstone & Tibshirani (2004), as shipped by ``sklearn.datasets.load_diabetes(scaled=False)``, so the
example also shows what documentation of a real, public, small clinical dataset looks like. Tables
are JSON Lines (evaluation) and CSV (monitoring). Monitoring records are resampled from the real
patients; from week :data:`DIABETES_DRIFT_START_WEEK` the resampling favours higher BMI, simulating an
enrolment campaign aimed at members with obesity (which also draws in members whose disease is
progressing fast) — every record, outcome included, is still that of a real patient.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.datasets import load_diabetes
from sklearn.linear_model import Ridge
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from modelgov.demo import diabetes_text as text
from modelgov.demo import monitoring, risk
from modelgov.demo.common import age_band, evaluation_table, fit, regress, stream
from modelgov.demo.documents import Release, approval, evaluation_entry, version_doc, write_datasheet
from modelgov.demo.writer import WorkspaceWriter

MODEL_ID = "diabetes-progression"
#: Monitoring week (1-based, weeks start Monday 2026-08-03) from which scored members skew to higher BMI.
DIABETES_DRIFT_START_WEEK = 7
#: Resampling weights at full drift are ∝ exp(BMI_TILT · z(bmi) + PROGRESSION_TILT · z(progression)):
#: the enrolment campaign reaches members with higher BMI, and members whose disease is progressing
#: fast are likelier to enrol — so outcomes worsen beyond what the inputs explain.
BMI_TILT = 0.5
PROGRESSION_TILT = 0.7

LABEL = "progression"
PREDICTION = "predicted_progression"
ID = "patient_id"
SENSITIVE = ["sex", "age_band"]
#: scikit-learn's s1–s6 renamed to the abbreviations its documentation gives for them.
SERUM = {"s1": "tc", "s2": "ldl", "s3": "hdl", "s4": "tch", "s5": "ltg", "s6": "glu"}
#: The source codes sex as 1/2 without saying which is which; we keep the codes instead of guessing.
SEX_LABELS = {1: "sex_1", 2: "sex_2"}
FEATURES = ["age", "sex", "bmi", "bp", *SERUM.values()]
HOLDOUT_SHARE = 0.25
DATA = f"data/{MODEL_ID}"
TRAIN_ID, HOLDOUT_ID = "diabetes-efron2004-train", "diabetes-efron2004-holdout"
RIDGE_PARAMS = {"alpha": 1.0}


def patients() -> pd.DataFrame:
    """The 442 real patients with readable column names; ``patient_id`` is the row number in the
    scikit-learn copy (P001–P442), so every row can be traced back to the source."""
    raw = load_diabetes(scaled=False, as_frame=True).frame.rename(columns=SERUM)
    frame = pd.DataFrame({ID: [f"P{i:03d}" for i in range(1, len(raw) + 1)]})
    frame["age"] = raw["age"].round().astype(np.int64).to_numpy()
    frame["sex"] = raw["sex"].round().astype(int).map(SEX_LABELS).to_numpy()
    for column in ["bmi", "bp", *SERUM.values()]:
        frame[column] = raw[column].to_numpy(dtype=float).round(4)
    frame["age_band"] = age_band(frame["age"])
    frame[LABEL] = raw["target"].round().astype(np.int64).to_numpy()
    return frame


def split(frame: pd.DataFrame, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Seeded train/holdout split, each part kept in source order."""
    order = stream(seed, MODEL_ID, "split").permutation(len(frame))
    n_holdout = round(HOLDOUT_SHARE * len(frame))
    holdout = np.sort(order[:n_holdout])
    train = np.sort(order[n_holdout:])
    return frame.iloc[train].reset_index(drop=True), frame.iloc[holdout].reset_index(drop=True)


def _estimator() -> Pipeline:
    numeric = [f for f in FEATURES if f != "sex"]
    prep = ColumnTransformer([("num", StandardScaler(), numeric), ("sex", OneHotEncoder(drop="if_binary"), ["sex"])])
    return Pipeline([("prep", prep), ("model", Ridge(**RIDGE_PARAMS))])


def _zscore(values: pd.Series) -> np.ndarray:
    array = values.to_numpy(dtype=float)
    return (array - array.mean()) / array.std()


def _draw(population: pd.DataFrame) -> Any:
    """Weekly requests resampled (with replacement) from the real patients, outcomes included;
    from the drift week the sampling tilts towards high BMI and fast progression."""
    tilt = BMI_TILT * _zscore(population["bmi"]) + PROGRESSION_TILT * _zscore(population[LABEL])

    def draw(rng: np.random.Generator, n: int, intensity: float) -> pd.DataFrame:
        weights = np.exp(intensity * tilt)
        rows = rng.choice(len(population), size=n, replace=True, p=weights / weights.sum())
        return population.iloc[rows].reset_index(drop=True)

    return draw


RELEASE = Release(
    features=FEATURES,
    factory=_estimator,
    algorithm="sklearn.linear_model.Ridge",
    params={**RIDGE_PARAMS, "preprocessing": "standard scaling; sex one-hot (sex_2 vs sex_1)"},
    training=TRAIN_ID,
    created=dt.date(2026, 5, 18),
    status="production",
)


def build(writer: WorkspaceWriter, seed: int) -> None:
    """Write the real-data splits, their datasheets, the card, version 1.0 and its monitoring."""
    population = patients()
    train, holdout = split(population, seed)
    for dataset_id, frame, name in ((TRAIN_ID, train, "train"), (HOLDOUT_ID, holdout, "holdout")):
        path = f"{DATA}/{name}.jsonl"
        writer.table(path, frame)
        write_datasheet(writer, text.datasheet(dataset_id, len(frame), len(population)), [path], len(frame))

    version = "1.0"
    model = fit(RELEASE.factory(), train, FEATURES, LABEL)
    artifact = f"models/{MODEL_ID}/versions/{version}/model.skops"
    writer.model(artifact, model)
    table = evaluation_table(
        holdout,
        id_column=ID,
        features=FEATURES,
        sensitive=SENSITIVE,
        label=LABEL,
        prediction=regress(model, holdout, FEATURES),
        prediction_column=PREDICTION,
    )
    path = f"{DATA}/evaluations/{version}-holdout.jsonl"
    writer.table(path, table)

    spec = monitoring.LogSpec(
        prefix="dia",
        label=LABEL,
        features=FEATURES,
        sensitive=SENSITIVE,
        drift_start_week=DIABETES_DRIFT_START_WEEK,
        draw=_draw(population),
        score=lambda frame: (regress(model, frame, FEATURES), None),
    )
    doc = version_doc(
        MODEL_ID,
        version,
        RELEASE,
        summary=text.VERSION_SUMMARY,
        artifact=artifact,
        evaluations=[
            evaluation_entry(
                id="holdout",
                data=path,
                dataset=HOLDOUT_ID,
                date=dt.date(2026, 5, 15),
                label=LABEL,
                prediction=PREDICTION,
                features=FEATURES,
            )
        ],
        monitoring=monitoring.write(writer, seed, MODEL_ID, version, spec, suffix="csv"),
    )
    writer.yaml(f"models/{MODEL_ID}/versions/{version}/version.yml", doc)
    writer.yaml(
        f"models/{MODEL_ID}/versions/{version}/approvals.yml",
        {"approvals": [approval(*entry) for entry in text.APPROVALS]},
    )
    writer.yaml(
        f"models/{MODEL_ID}/model.yml",
        {**text.card(DIABETES_DRIFT_START_WEEK, len(population)), "risk_assessment": risk.diabetes_assessment()},
    )
