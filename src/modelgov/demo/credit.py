"""`credit-default`: a synthetic consumer-loan book and three versions of a default model.

The applicants are synthetic but structured like a real book, so every analysis has something true to
find: income is lognormal and rises with age, credit history grows with age, late payments follow debt
load, and a structural pay gap between sexes lowers women's incomes. ``sex`` is never a model input,
yet through income it shifts default rates and the model's selection rates — a disparity the fairness
pages should (and do) surface. From monitoring week :data:`CREDIT_DRIFT_START_WEEK` a local downturn
lowers incomes, raises debt ratios and raises defaults beyond what the deployed model expects.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd
import skops.io
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.inspection import permutation_importance
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler

from modelgov.demo import business, lineage, monitoring, risk, shadow
from modelgov.demo import credit_text as text
from modelgov.demo.common import age_band, classify, evaluate_classifier, fit, single_threaded, stream
from modelgov.demo.documents import Release, approval, version_doc, write_datasheet
from modelgov.demo.writer import WorkspaceWriter

MODEL_ID = "credit-default"
#: Monitoring week (1-based, weeks start Monday 2026-08-03) in which the downturn begins.
CREDIT_DRIFT_START_WEEK = 9

LABEL = "default"
THRESHOLD = 0.5
ID = "application_id"
SENSITIVE = ["sex", "age_band"]
CATEGORICAL = ["employment_type"]
FEATURES = [
    "age",
    "annual_income",
    "employment_type",
    "debt_ratio",
    "credit_history_months",
    "num_late_payments",
    "open_credit_lines",
    "loan_amount",
    "loan_term_months",
]
#: Version 1.0 predates the bureau feed that supplies open credit lines and did not use the term.
FEATURES_V1 = [f for f in FEATURES if f not in ("open_credit_lines", "loan_term_months")]
DATA = f"data/{MODEL_ID}"

_EMPLOYMENT = np.array(["salaried", "self_employed", "contract", "retired"], dtype=object)


def _employment(rng: np.random.Generator, age: np.ndarray, female: np.ndarray, intensity: float):
    """Retirement after 63; contract work commoner when young, for women, and in the downturn."""
    retired = np.where(age >= 63, 0.72, np.where(age >= 57, 0.06, 0.0))
    contract = (1 - retired) * (np.where(age < 30, 0.28, 0.13) + 0.07 * female + 0.22 * intensity)
    self_employed = (1 - retired) * 0.12
    u = rng.random(age.size)
    bounds = [retired, retired + contract, retired + contract + self_employed]
    return _EMPLOYMENT[np.select([u < b for b in bounds], [3, 2, 1], 0)]


def applicants(rng: np.random.Generator, n: int, *, year: float, intensity: float = 0.0) -> pd.DataFrame:
    """``n`` loan applicants with their true 12-month default outcome.

    ``year`` adds wage inflation; ``intensity`` (0–1) is the monitoring downturn: incomes fall by up
    to ~22 %, debt ratios rise, contract work grows, borrowers open more credit lines, and defaults rise more than the inputs explain —
    especially for contract and self-employed borrowers, so the deployed model's ranking degrades too.
    """
    female = rng.random(n) < 0.47
    age = np.clip(np.round(18 + rng.gamma(6.0, 4.3, n)), 18, 80).astype(np.int64)
    employment = _employment(rng, age, female, intensity)
    years = np.minimum(age, 65) - 18
    log_income = (
        10.0
        + 0.045 * years
        - 0.0009 * years**2
        - 0.24 * female  # structural pay gap: the source of the sex disparity
        + np.select(
            [employment == "self_employed", employment == "contract", employment == "retired"],
            [0.05, -0.18, -0.22],
            0.0,
        )
        + 0.03 * (year - 2021)
        - 0.25 * intensity
        + rng.normal(0, 0.38, n)
    )
    income = np.round(np.exp(log_income), -2)
    debt_ratio = np.clip(rng.beta(2.2, 5.5, n) + 0.10 * (10.4 - log_income) + 0.09 * intensity, 0.01, 0.95)
    history = np.clip(np.round((age - 18) * 12 * rng.beta(4, 2, n) + rng.normal(0, 6, n)), 0, None)
    thrift = rng.normal(0, 1, n)  # unobserved payment discipline, partly visible through late payments
    late = rng.poisson(np.exp(-1.1 + 2.2 * (debt_ratio - 0.3) - 0.55 * thrift + 0.3 * intensity))
    lines = 1 + rng.poisson(1.0 + history / 72 + 1.2 * intensity)  # stretched borrowers open more lines
    loan = np.clip(np.round(np.exp(log_income + rng.normal(-1.05, 0.45, n)) / 250) * 250, 1000, 50000)
    term = rng.choice(np.array([12, 24, 36, 48, 60]), size=n, p=[0.10, 0.20, 0.35, 0.15, 0.20])
    real_log_income = log_income - 0.03 * (year - 2021)
    risky_work = np.isin(employment, ["contract", "self_employed"])
    employment_risk = np.select(
        [employment == "contract", employment == "self_employed", employment == "retired"], [0.4, 0.3, -0.1], 0.0
    )
    logit = (
        -1.45
        + 2.0 * (debt_ratio - 0.3)
        + 9.0 * np.maximum(0.0, debt_ratio - 0.45)
        - 1.5 * (real_log_income - 10.4)
        + 0.35 * np.minimum(late, 4) * (1 + 2 * debt_ratio)
        + 0.5 * (late >= 2)
        - 0.004 * history
        + 0.9 * (history < 36) * risky_work
        + 4.0 * np.maximum(0.0, loan / income - 0.5)
        + employment_risk
        + 0.4 * (age < 25)
        - 0.3 * thrift
        + rng.normal(0, 0.2, n)
        # the downturn: more defaults than the inputs explain, concentrated in insecure work
        + intensity * (0.3 + 0.5 * risky_work + rng.normal(0, 0.9, n))
    )
    default = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(np.int64)
    return pd.DataFrame(
        {
            "age": age,
            "annual_income": income,
            "employment_type": employment,
            "debt_ratio": np.round(debt_ratio, 3),
            "credit_history_months": history.astype(np.int64),
            "num_late_payments": late.astype(np.int64),
            "open_credit_lines": lines.astype(np.int64),
            "loan_amount": loan,
            "loan_term_months": term.astype(np.int64),
            "sex": np.where(female, "F", "M"),
            "age_band": age_band(age),
            LABEL: default,
        }
    )


def _sample(seed: int, name: str, n: int, year: float, prefix: str) -> pd.DataFrame:
    frame = applicants(stream(seed, MODEL_ID, name), n, year=year)
    frame.insert(0, ID, [f"{prefix}-{i:06d}" for i in range(1, n + 1)])
    return frame


def _logistic(features: list[str], c: float) -> Pipeline:
    numeric = [f for f in features if f not in CATEGORICAL]
    prep = ColumnTransformer(
        [("num", StandardScaler(), numeric), ("cat", OneHotEncoder(handle_unknown="ignore"), CATEGORICAL)]
    )
    return Pipeline([("prep", prep), ("model", LogisticRegression(C=c, max_iter=2000))])


HGB_PARAMS = {
    "learning_rate": 0.05,
    "max_iter": 250,
    "max_leaf_nodes": 15,
    "min_samples_leaf": 40,
    "l2_regularization": 1.0,
    "early_stopping": False,
    "random_state": 0,
}


def _boosting() -> Pipeline:
    numeric = [f for f in FEATURES if f not in CATEGORICAL]
    prep = ColumnTransformer(
        [("cat", OrdinalEncoder(), CATEGORICAL), ("num", "passthrough", numeric)],
        verbose_feature_names_out=False,
    )
    model = HistGradientBoostingClassifier(categorical_features=[0], **HGB_PARAMS)
    return Pipeline([("prep", prep), ("model", model)])


_LOGISTIC = "sklearn.linear_model.LogisticRegression"
_PREP_LR = "standard scaling; one-hot employment_type"
_RELEASES = {
    "1.0": Release(
        features=FEATURES_V1,
        factory=lambda: _logistic(FEATURES_V1, 1.0),
        algorithm=_LOGISTIC,
        params={"C": 1.0, "max_iter": 2000, "preprocessing": _PREP_LR},
        training="credit-train-2021",
        created=dt.date(2022, 9, 12),
        status="retired",
    ),
    "1.1": Release(
        features=FEATURES,
        factory=lambda: _logistic(FEATURES, 0.5),
        algorithm=_LOGISTIC,
        params={"C": 0.5, "max_iter": 2000, "preprocessing": _PREP_LR},
        training="credit-train-2024",
        created=dt.date(2025, 1, 20),
        status="production",
        previous="1.0",
    ),
    "2.0": Release(
        features=FEATURES,
        factory=_boosting,
        algorithm="sklearn.ensemble.HistGradientBoostingClassifier",
        params={**HGB_PARAMS, "preprocessing": "employment_type ordinal-encoded as a native categorical"},
        training="credit-train-2026",
        created=dt.date(2026, 7, 20),
        status="candidate",
        previous="1.1",
    ),
}

#: dataset id → (rows, wage-inflation year, id prefix); training sets then holdouts.
_DATASETS = {
    "credit-train-2021": (5000, 2020.0, "A20"),
    "credit-holdout-2021": (2500, 2021.3, "A21"),
    "credit-train-2024": (6000, 2022.8, "A23"),
    "credit-holdout-2024": (2500, 2023.8, "A24"),
    "credit-train-2026": (9000, 2024.3, "A25"),
    "credit-holdout-2026": (2500, 2025.3, "A26"),
}

#: version → evaluation runs (evaluation id, dataset id, date). 1.1 and 2.0 share credit-holdout-2026.
_EVALUATIONS = {
    "1.0": [("holdout-2021", "credit-holdout-2021", dt.date(2022, 9, 5))],
    "1.1": [
        ("holdout-2024", "credit-holdout-2024", dt.date(2025, 1, 13)),
        ("holdout-2026", "credit-holdout-2026", dt.date(2026, 7, 20)),
    ],
    "2.0": [("holdout-2026", "credit-holdout-2026", dt.date(2026, 7, 20))],
}


#: (challenger, champion): 2.0 runs in shadow beside 1.1 over the last weeks of the monitoring calendar.
SHADOWED = ("2.0", "1.1")

#: Versions whose model file was not archived: only the importances recorded at training time remain.
_UNARCHIVED = {"1.0"}


def _training_importance(model: Pipeline, frame: pd.DataFrame, features: list[str], seed: int) -> dict[str, float]:
    """What the 2022 team recorded in its training report: permutation importance (drop in ROC AUC)
    on the training data, rounded to four decimals, most important first."""
    random_state = int(stream(seed, MODEL_ID, "training-importance").integers(2**31))
    with single_threaded():
        result = permutation_importance(
            model, frame[features], frame[LABEL], scoring="roc_auc", n_repeats=5, random_state=random_state
        )
    means = {
        feature: round(float(value), 4) + 0.0
        for feature, value in zip(features, result["importances_mean"], strict=True)
    }
    return dict(sorted(means.items(), key=lambda item: (-item[1], item[0])))


def _rates_by_sex(table: pd.DataFrame) -> dict[str, dict[str, float]]:
    """Selection (referral) rate and observed default rate per sex, quoted in the model card."""
    groups = table.groupby("sex")
    return {
        "selection": {str(k): float(v) for k, v in groups["prediction"].mean().items()},
        "default": {str(k): float(v) for k, v in groups[LABEL].mean().items()},
    }


def build(writer: WorkspaceWriter, seed: int) -> None:
    """Write the credit datasets, datasheets, card, three versions, approvals and the scoring log."""
    frames: dict[str, pd.DataFrame] = {}
    dataset_files: dict[str, str] = {}
    for dataset_id, (rows, year, prefix) in _DATASETS.items():
        frames[dataset_id] = _sample(seed, dataset_id, rows, year, prefix)
        path = dataset_files[dataset_id] = f"{DATA}/{dataset_id.removeprefix('credit-')}.parquet"
        writer.table(path, frames[dataset_id])
        write_datasheet(writer, text.datasheet(dataset_id), [path], rows)

    tables: dict[tuple[str, str], pd.DataFrame] = {}
    production_logs: dict[str, dict] = {}  # version → its monitoring block, for the shadow test
    fitted: dict[str, Pipeline] = {}
    for version, release in _RELEASES.items():
        model = fitted[version] = fit(release.factory(), frames[release.training], release.features, LABEL)
        artifact: dict[str, Any] | None = None
        importance = None
        if version in _UNARCHIVED:
            importance = _training_importance(model, frames[release.training], release.features, seed)
        else:
            artifact = {"path": f"models/{MODEL_ID}/versions/{version}/model.skops"}
            writer.model(artifact["path"], model)
            # types skops does not trust by default (the boosted trees' predictors), listed after review
            trusted = skops.io.get_untrusted_types(file=writer.root / artifact["path"])
            if trusted:
                artifact["trusted_types"] = trusted
        evaluations = []
        for eval_id, dataset_id, date in _EVALUATIONS[version]:
            table, entry = evaluate_classifier(
                writer,
                model,
                frames[dataset_id],
                path=f"{DATA}/evaluations/{version}-{eval_id}.parquet",
                id=eval_id,
                dataset=dataset_id,
                date=date,
                id_column=ID,
                features=release.features,
                sensitive=SENSITIVE,
                label=LABEL,
                threshold=THRESHOLD,
            )
            tables[(version, eval_id)] = table
            evaluations.append(entry)
        logs = None
        if release.status == "production":
            spec = _log_spec(model)
            logs = monitoring.write(writer, seed, MODEL_ID, version, spec, suffix="parquet")
            production_logs[version] = logs
        doc = version_doc(
            MODEL_ID,
            version,
            release,
            summary=text.VERSION_SUMMARIES[version],
            artifact=artifact if artifact is None or len(artifact) > 1 else artifact["path"],
            evaluations=evaluations,
            monitoring=logs,
            feature_importance=importance,
            mlflow_run=lineage.mlflow_run_id(MODEL_ID, version) if version in lineage.TRACKED else None,
        )
        if version == SHADOWED[0]:  # the challenger runs in shadow beside the live version
            champion = SHADOWED[1]
            doc["shadow"] = shadow.write(
                writer, MODEL_ID, version, champion, production_logs[champion], _shadow_spec(fitted, champion, version)
            )
        writer.yaml(f"models/{MODEL_ID}/versions/{version}/version.yml", doc)
        writer.yaml(
            f"models/{MODEL_ID}/versions/{version}/approvals.yml",
            {"approvals": [approval(*entry) for entry in text.APPROVALS[version]]},
        )

    holdouts = {
        version: (dataset_id, eval_id, tables[(version, eval_id)])
        for version in lineage.TRACKED
        for eval_id, dataset_id, _ in _EVALUATIONS[version][:1]
    }
    lineage.write_credit_records(writer, MODEL_ID, _RELEASES, holdouts, dataset_files)
    rates = {version: _rates_by_sex(tables[(version, "holdout-2026")]) for version in ("1.1", "2.0")}
    writer.yaml(
        f"models/{MODEL_ID}/model.yml",
        {
            **text.card(rates, CREDIT_DRIFT_START_WEEK),
            "business": business.credit_card(),
            "risk_assessment": risk.credit_assessment(),
            "explanations": text.explanations(_named_applicants(tables[("1.1", "holdout-2026")])),
        },
    )


def _named_applicants(table: pd.DataFrame) -> list[str]:
    """Ten applicants of the 2026 holdout the card names for explanation, as complaints and audits
    would: seven the live version refers (adverse), three it approves."""
    referred = table.loc[table["prediction"] == 1, ID].tolist()
    approved = table.loc[table["prediction"] == 0, ID].tolist()
    return [*referred[3:73:10], *approved[5:35:10]]


def _log_spec(model: Pipeline) -> monitoring.LogSpec:
    """Production traffic: 2026 applicants scored by the deployed version, downturn from the drift week."""
    return monitoring.LogSpec(
        prefix="crd",
        label=LABEL,
        features=FEATURES,
        sensitive=SENSITIVE,
        drift_start_week=CREDIT_DRIFT_START_WEEK,
        draw=lambda rng, n, intensity: applicants(rng, n, year=2026.6, intensity=intensity),
        score=lambda frame: classify(model, frame, FEATURES, THRESHOLD),
        business=business.credit_columns,
    )


def _shadow_spec(fitted: dict[str, Pipeline], champion: str, challenger: str) -> shadow.ShadowSpec:
    """Production traffic scored by both versions, each with its own features and the card's threshold."""
    return shadow.ShadowSpec(
        label=LABEL,
        sensitive=SENSITIVE,
        champion=lambda frame: classify(fitted[champion], frame, _RELEASES[champion].features, THRESHOLD),
        challenger=lambda frame: classify(fitted[challenger], frame, _RELEASES[challenger].features, THRESHOLD),
    )
