"""`customer-churn`: synthetic current-account customers and a model of who will leave.

A second binary classifier with a different story from credit: its first version was *rejected*
because its training extract silently missed most customers from one region (the ones migrated from
an acquired bank), and its production version meets a repricing in monitoring week
:data:`CHURN_DRIFT_START_WEEK` that raises fees and churn. Tables are CSV, so the CSV reader is
exercised; sensitive features are ``age_band`` and ``region``.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import GradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from modelgov.demo import business, experiment, monitoring, risk
from modelgov.demo import churn_text as text
from modelgov.demo.common import age_band, classify, evaluate_classifier, fit, stream
from modelgov.demo.documents import Release, approval, version_doc, write_datasheet
from modelgov.demo.writer import WorkspaceWriter

MODEL_ID = "customer-churn"
#: Monitoring week (1-based, weeks start Monday 2026-08-03) in which the fee repricing takes effect.
CHURN_DRIFT_START_WEEK = 11

LABEL = "churned"
THRESHOLD = 0.4
ID = "customer_id"
SENSITIVE = ["age_band", "region"]
CATEGORICAL = ["contract_type", "region"]
FEATURES = [
    "age",
    "tenure_months",
    "contract_type",
    "num_products",
    "monthly_charges",
    "support_calls",
    "logins_30d",
    "region",
]
DATA = f"data/{MODEL_ID}"
#: The monthly account-maintenance fee introduced at the repricing (added to monthly_charges).
REPRICING_FEE = 4.0

REGIONS = np.array(["capital", "north", "south", "east", "west"], dtype=object)
_REGION_SHARE = np.array([0.26, 0.18, 0.20, 0.18, 0.18])


def customers(rng: np.random.Generator, n: int, *, intensity: float = 0.0, north_kept: float = 1.0) -> pd.DataFrame:
    """``n`` customers at a snapshot date with whether they left within the next 90 days.

    ``north_kept`` < 1 reproduces the faulty 2025-09 extract that dropped most migrated (north)
    customers. ``intensity`` (0–1) is the monitoring repricing: a new monthly account fee, more
    support calls, and customers more willing to leave than the model learned.
    """
    region = REGIONS[rng.choice(REGIONS.size, size=n, p=_REGION_SHARE)]
    if north_kept < 1.0:
        keep = (region != "north") | (rng.random(n) < north_kept)
        elsewhere = REGIONS != "north"
        others, share = REGIONS[elsewhere], _REGION_SHARE[elsewhere]
        region = np.where(keep, region, others[rng.choice(others.size, size=n, p=share / share.sum())])
    north = region == "north"
    age = np.clip(np.round(18 + rng.gamma(4.5, 6.5, n)), 18, 90).astype(np.int64)
    tenure = np.clip(np.round(rng.exponential(12 + 1.1 * (age - 18), n)), 1, (age - 17) * 12)
    tenure = np.where(north, np.minimum(tenure, 30 + rng.integers(0, 12, n)), tenure)  # migrated in 2023-24
    loyalty = np.minimum(tenure, 72) / 72
    u = rng.random(n)
    month_to_month = 0.62 - 0.35 * loyalty
    two_year = 0.08 + 0.27 * loyalty
    contract = np.where(
        u < month_to_month, "month_to_month", np.where(u < month_to_month + two_year, "two_year", "one_year")
    )
    m2m = contract == "month_to_month"
    products = np.clip(1 + rng.poisson(0.5 + tenure / 90), 1, 6)
    charges = 4.5 + 5.5 * products + 3.0 * m2m + rng.normal(0, 2.5, n)
    charges = np.round(np.clip(charges, 2.0, None) + REPRICING_FEE * intensity, 2)
    calls = rng.poisson(0.45 + 0.6 * north + 0.3 * m2m + 0.7 * intensity)
    logins = rng.poisson(np.exp(2.7 - 0.028 * (age - 18) + rng.normal(0, 0.6, n)))
    logit = (
        -1.3
        + 1.4 * m2m
        - 0.6 * (contract == "two_year")
        - 0.03 * np.minimum(tenure, 60)
        + 0.9 * (tenure < 12)  # the first year is when switchers leave
        + 0.3 * calls
        + 0.5 * np.minimum(calls, 4) * m2m  # repeated complaints without a contract to hold them
        + 0.05 * (charges - 25)
        - 0.25 * (products - 1)
        - 0.02 * np.minimum(logins, 40)
        + 0.5 * north
        + 0.35 * (age < 30)
        - 0.25 * (age >= 60)
        + rng.normal(0, 0.3, n)
        + intensity * (0.6 + 0.6 * m2m)  # a competitor's switching bonus lands on the same weeks
    )
    churned = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(np.int64)
    return pd.DataFrame(
        {
            "age": age,
            "tenure_months": tenure.astype(np.int64),
            "contract_type": contract,
            "num_products": products.astype(np.int64),
            "monthly_charges": charges,
            "support_calls": calls.astype(np.int64),
            "logins_30d": logins.astype(np.int64),
            "region": region,
            "age_band": age_band(age),
            LABEL: churned,
        }
    )


#: dataset id → (rows, share of north customers kept, id prefix). The 2025-09 extract lost most of north.
_DATASETS = {
    "churn-snapshot-2025-09": (5000, 0.2, "C2509"),
    "churn-holdout-2025-09": (2000, 0.2, "C2509H"),
    "churn-snapshot-2025-12": (6000, 1.0, "C2512"),
    "churn-holdout-2025-12": (2500, 1.0, "C2512H"),
}

GB_PARAMS = {"n_estimators": 150, "learning_rate": 0.05, "max_depth": 3, "subsample": 0.8, "random_state": 0}
GB_PARAMS_1_2 = {**GB_PARAMS, "n_estimators": 300, "max_depth": 4, "learning_rate": 0.03}


def _prep() -> ColumnTransformer:
    numeric = [f for f in FEATURES if f not in CATEGORICAL]
    return ColumnTransformer(
        [("num", StandardScaler(), numeric), ("cat", OneHotEncoder(handle_unknown="ignore"), CATEGORICAL)]
    )


_PREP = "standard scaling; one-hot contract_type and region"
_RELEASES = {
    "1.0": Release(
        features=FEATURES,
        factory=lambda: Pipeline([("prep", _prep()), ("model", LogisticRegression(C=1.0, max_iter=2000))]),
        algorithm="sklearn.linear_model.LogisticRegression",
        params={"C": 1.0, "max_iter": 2000, "preprocessing": _PREP},
        training="churn-snapshot-2025-09",
        created=dt.date(2026, 1, 19),
        status="retired",
    ),
    "1.1": Release(
        features=FEATURES,
        factory=lambda: Pipeline([("prep", _prep()), ("model", GradientBoostingClassifier(**GB_PARAMS))]),
        algorithm="sklearn.ensemble.GradientBoostingClassifier",
        params={**GB_PARAMS, "preprocessing": _PREP},
        training="churn-snapshot-2025-12",
        created=dt.date(2026, 4, 13),
        status="production",
        previous="1.0",
    ),
    # the candidate in an A/B test against 1.1 (demo/experiment.py): deeper trees, same data
    "1.2": Release(
        features=FEATURES,
        factory=lambda: Pipeline([("prep", _prep()), ("model", GradientBoostingClassifier(**GB_PARAMS_1_2))]),
        algorithm="sklearn.ensemble.GradientBoostingClassifier",
        params={**GB_PARAMS_1_2, "preprocessing": _PREP},
        training="churn-snapshot-2025-12",
        created=dt.date(2026, 10, 19),
        status="candidate",
        previous="1.1",
    ),
}
#: version → (holdout dataset, evaluation date)
_EVALUATIONS = {
    "1.0": ("churn-holdout-2025-09", dt.date(2026, 1, 16)),
    "1.1": ("churn-holdout-2025-12", dt.date(2026, 4, 10)),
    "1.2": ("churn-holdout-2025-12", dt.date(2026, 10, 16)),
}


def _group_rates(table: pd.DataFrame, column: str) -> dict[str, float]:
    return {str(k): float(v) for k, v in table.groupby(column)["prediction"].mean().items()}


def build(writer: WorkspaceWriter, seed: int) -> None:
    """Write the churn datasets, datasheets, card, two versions, approvals and the scoring log."""
    frames: dict[str, pd.DataFrame] = {}
    for dataset_id, (rows, north_kept, prefix) in _DATASETS.items():
        frame = customers(stream(seed, MODEL_ID, dataset_id), rows, north_kept=north_kept)
        frame.insert(0, ID, [f"{prefix}-{i:06d}" for i in range(1, rows + 1)])
        frames[dataset_id] = frame
        path = f"{DATA}/{dataset_id.removeprefix('churn-')}.csv"
        writer.table(path, frame)
        north = float((frame["region"] == "north").mean())
        write_datasheet(writer, text.datasheet(dataset_id, north), [path], rows)

    tables = {}
    fitted: dict[str, Pipeline] = {}
    test: dict[str, experiment.Split] = {}

    def champions_half(log: pd.DataFrame, outcomes: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
        """1.1 scores every customer due for review until the A/B test starts, then its half."""
        log, outcomes, test["1.2"] = experiment.split_log(seed, MODEL_ID, "1.2", "1.1", log, outcomes)
        return log, outcomes

    for version, release in _RELEASES.items():
        model = fit(release.factory(), frames[release.training], FEATURES, LABEL)
        fitted[version] = model
        # kept as joblib (a pickle) to show the opt-in: the team trusts its own training pipeline
        artifact = {"path": f"models/{MODEL_ID}/versions/{version}/model.joblib", "trust_pickle": True}
        writer.model(artifact["path"], model)
        holdout_id, date = _EVALUATIONS[version]
        eval_id = holdout_id.removeprefix("churn-")
        tables[version], entry = evaluate_classifier(
            writer,
            model,
            frames[holdout_id],
            path=f"{DATA}/evaluations/{version}-{eval_id}.csv",
            id=eval_id,
            dataset=holdout_id,
            date=date,
            id_column=ID,
            features=FEATURES,
            sensitive=SENSITIVE,
            label=LABEL,
            threshold=THRESHOLD,
        )
        logs = None
        if release.status == "production":
            logs = monitoring.write(
                writer, seed, MODEL_ID, version, _log_spec(model), suffix="csv", keep=champions_half
            )
        doc = version_doc(
            MODEL_ID,
            version,
            release,
            summary=text.VERSION_SUMMARIES[version],
            artifact=artifact,
            evaluations=[entry],
            monitoring=logs,
        )
        if version == "1.2":
            doc["experiment"] = experiment.write(
                writer,
                seed,
                MODEL_ID,
                "1.2",
                "1.1",
                test["1.2"],
                flag=lambda v, frame: classify(fitted[v], frame, FEATURES, THRESHOLD),
                label=LABEL,
            )
        writer.yaml(f"models/{MODEL_ID}/versions/{version}/version.yml", doc)

    north_share = float((frames["churn-snapshot-2025-09"]["region"] == "north").mean())
    for version, entries in text.approvals(north_share).items():
        writer.yaml(
            f"models/{MODEL_ID}/versions/{version}/approvals.yml",
            {"approvals": [approval(*entry) for entry in entries]},
        )
    rates = {version: _group_rates(tables[version], "age_band") for version in ("1.1", "1.2")}
    writer.yaml(
        f"models/{MODEL_ID}/model.yml",
        {
            **text.card(rates, CHURN_DRIFT_START_WEEK),
            "business": business.churn_card(),
            "risk_assessment": risk.churn_assessment(),
        },
    )


def _log_spec(model: Pipeline) -> monitoring.LogSpec:
    """Production traffic: the customers due for review each week, repricing from the drift week
    (from the A/B test's start, 1.1's log keeps its half of them: :func:`.experiment.split_log`)."""
    return monitoring.LogSpec(
        prefix="chn",
        label=LABEL,
        features=FEATURES,
        sensitive=SENSITIVE,
        drift_start_week=CHURN_DRIFT_START_WEEK,
        draw=lambda rng, n, intensity: customers(rng, n, intensity=intensity),
        score=lambda frame: classify(model, frame, FEATURES, THRESHOLD),
        business=business.churn_columns,
    )
