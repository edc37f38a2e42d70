"""A realistic, hand-made :class:`~modelgov.manifest.Manifest` for rendering tests.

Two models and three versions: a high-risk credit-default classifier (a retired and a production
version, two evaluation runs on the newest, fairness by sex and age band including a small group
with undefined rates, an out-of-time run without scores so ranking metrics are undefined) and a
low-risk bike-demand regression (one staging version, so no live version). The bike model's
description carries hostile strings, as a user could write them.

``hostile=True`` also puts hostile strings into names, group names, tags and comments, i.e. every
inline position, to check that nothing a user writes can become live HTML.
"""

from __future__ import annotations

import hashlib

from modelgov.manifest import (
    Approval,
    Card,
    Dataset,
    EvaluationRun,
    FairnessResult,
    FileRef,
    Generator,
    GroupMetrics,
    Manifest,
    Metric,
    Model,
    ModelVersion,
    MonitoringSource,
    Owner,
    Performance,
    RiskTier,
    Site,
    TrainingRecord,
)

HOSTILE = "<script>alert(1)</script> <img src=x onerror=alert(1)> [x](javascript:alert(1))"
BUILT_AT = "2024-06-30T12:00:00Z"


def ref(path: str, size: int = 2048) -> FileRef:
    """A file reference with a fake but well-formed SHA-256 (derived from the path)."""
    return FileRef(path=path, sha256=hashlib.sha256(path.encode()).hexdigest(), bytes=size)


def _classification_metrics(auc: float | None, scored: bool = True) -> list[Metric]:
    no_score = "No score column was given, so ranking and probability metrics cannot be computed."
    return [
        Metric(name="roc_auc", label="ROC AUC", value=auc if scored else None, note=None if scored else no_score),
        Metric(name="pr_auc", label="PR AUC", value=0.534 if scored else None, note=None if scored else no_score),
        Metric(name="accuracy", label="Accuracy", value=0.781),
        Metric(name="precision", label="Precision", value=0.552),
        Metric(name="recall", label="Recall", value=0.603),
        Metric(name="f1", label="F1", value=0.576),
        Metric(
            name="log_loss",
            label="Log loss",
            value=0.462 if scored else None,
            note=None if scored else no_score,
            higher_is_better=False,
        ),
    ]


_RATE_LABELS = {
    "selection_rate": "Selection rate",
    "tpr": "True positive rate",
    "fpr": "False positive rate",
    "fnr": "False negative rate",
    "precision": "Precision",
}


def _rates(sel: float, tpr: float | None, fpr: float | None, prec: float | None) -> dict[str, float | None]:
    return {
        "selection_rate": sel,
        "tpr": tpr,
        "fpr": fpr,
        "fnr": None if tpr is None else round(1 - tpr, 3),
        "precision": prec,
    }


def _credit_fairness(hostile: bool) -> list[FairnessResult]:
    sex = FairnessResult(
        feature="sex",
        metric_labels=_RATE_LABELS,
        overall=_rates(0.291, 0.603, 0.171, 0.552),
        min_group_size=30,
        groups=[
            GroupMetrics(group="female", count=1710, small=False, metrics=_rates(0.262, 0.571, 0.148, 0.561)),
            GroupMetrics(group="male", count=2290, small=False, metrics=_rates(0.313, 0.627, 0.189, 0.546)),
        ],
    )
    age = FairnessResult(
        feature="age_band",
        metric_labels=_RATE_LABELS,
        overall=_rates(0.291, 0.603, 0.171, 0.552),
        min_group_size=30,
        groups=[
            GroupMetrics(group="18-25", count=420, small=False, metrics=_rates(0.402, 0.688, 0.281, 0.498)),
            GroupMetrics(group="26-40", count=1510, small=False, metrics=_rates(0.301, 0.611, 0.176, 0.561)),
            GroupMetrics(group="41-65", count=1856, small=False, metrics=_rates(0.254, 0.562, 0.139, 0.571)),
            # 14 applicants, none of whom defaulted: rates that need positives are undefined.
            GroupMetrics(
                group=HOSTILE if hostile else "66+",
                count=14,
                small=True,
                metrics=_rates(0.071, None, 0.071, 0.0),
            ),
            GroupMetrics(group="(missing)", count=200, small=False, metrics=_rates(0.285, 0.598, 0.168, 0.540)),
        ],
    )
    return [sex, age]


def _credit_model(hostile: bool) -> Model:
    name = f"Credit default risk {HOSTILE}" if hostile else "Credit default risk"
    card = Card(
        description=(
            "Scores retail loan applications by the probability that the applicant defaults within "
            "12 months.\n\nThe score **supports** a human underwriter; it never declines an "
            "application on its own. See the [credit policy](https://intranet.example.com/credit-policy)."
        ),
        primary_uses="Ranking applications for manual review by underwriters.",
        primary_users="Retail credit underwriters and the credit risk team.",
        out_of_scope=(
            "- Automated rejection of applications.\n- Business or mortgage lending.\n- Applicants outside the EU."
        ),
        factors_relevant="Sex and age band are protected characteristics under EU anti-discrimination law.",
        factors_evaluation="Performance is compared across sex and age band on the 2024 holdout set.",
        performance_measures="ROC AUC for ranking quality; precision and recall at the decision threshold.",
        decision_threshold="Applications with a score of **0.35** or more are sent to manual review.",
        variation_approaches="Per-group rates with groups under 30 rows flagged as unreliable.",
        ethical_considerations=(
            "Historical lending decisions may encode past discrimination; the training labels are "
            "defaults observed only for approved applicants (selection bias)."
        ),
        caveats="Not validated for applicants under 18 or for loan amounts over EUR 50,000.",
        licence="Proprietary — internal use only",
        references=["https://doi.org/10.1145/3287560.3287596", "Internal validation report VR-2024-017"],
    )
    v110 = ModelVersion(
        version="1.1.0",
        status="production",
        created="2024-05-02",
        summary="Retrained on 2019–2023 applications; adds employment length.",
        previous="1.0.0",
        source=ref("models/credit-default/versions/1.1.0/version.yml", 1312),
        training=TrainingRecord(
            datasets=["credit-applications-2019-2023"],
            algorithm="Gradient boosted trees (scikit-learn HistGradientBoostingClassifier)",
            code_repository="https://git.example.com/risk/credit-default",
            code_commit="3f2c9a1d5e7b8c0a4f6e2d1c9b8a7f6e5d4c3b2a",
            params={"learning_rate": 0.05, "max_depth": 6, "max_iter": 400, "class_weight": "balanced"},
            python="3.11.9",
            packages={"scikit-learn": "1.4.2", "pandas": "2.2.2"},
            artifact=ref("models/credit-default/versions/1.1.0/model.skops", 1_804_331),
        ),
        evaluations=[
            EvaluationRun(
                id="holdout-2024q1",
                dataset="credit-holdout-2024",
                date="2024-04-28",
                data=ref("models/credit-default/versions/1.1.0/eval/holdout.parquet", 412_880),
                label="defaulted",
                prediction="pred",
                score="score",
                features=["income", "loan_amount", "employment_length", "sex", "age_band"],
                performance=Performance(
                    task="binary_classification",
                    rows=4000,
                    metrics=_classification_metrics(0.812),
                    threshold=0.35,
                    positive_label="1 (defaulted)",
                ),
                fairness=_credit_fairness(hostile),
            ),
            EvaluationRun(
                id="out-of-time-2024q2",
                dataset="credit-holdout-2024",
                date="2024-06-15",
                data=ref("models/credit-default/versions/1.1.0/eval/oot.csv", 96_204),
                label="defaulted",
                prediction="pred",
                score=None,
                performance=Performance(
                    task="binary_classification",
                    rows=950,
                    metrics=_classification_metrics(None, scored=False),
                    threshold=0.35,
                    positive_label="1 (defaulted)",
                ),
            ),
        ],
        monitoring=MonitoringSource(
            logs=ref("monitoring/credit-default/2024-06.parquet", 8_734_112),
            timestamp="scored_at",
            prediction="pred",
            score="score",
            features=["income", "loan_amount"],
            ground_truth=ref("monitoring/credit-default/outcomes.csv", 55_010),
        ),
        approvals=[
            Approval(
                role="model_risk",
                by="Jonas Weber",
                decision="approved",
                date="2024-05-06",
                comment=HOSTILE if hostile else "Approved; review the 66+ age band quarterly.",
                source=ref("audit/log.jsonl", 6_112),
            ),
            Approval(
                role="compliance",
                by="Amira Haddad",
                decision="pending",
                date="2024-05-07",
                source=ref("audit/log.jsonl", 6_112),
            ),
        ],
    )
    v100 = ModelVersion(
        version="1.0.0",
        status="retired",
        created="2023-11-15",
        summary="First production model.",
        source=ref("models/credit-default/versions/1.0.0/version.yml", 1104),
        training=TrainingRecord(
            datasets=["credit-applications-2019-2023"],
            algorithm="Logistic regression",
            params={"C": 1.0},
        ),
        evaluations=[
            EvaluationRun(
                id="holdout-2023q3",
                dataset="credit-holdout-2023",
                date="2023-11-10",
                data=ref("models/credit-default/versions/1.0.0/eval/holdout.parquet", 388_004),
                label="defaulted",
                prediction="pred",
                score="score",
                performance=Performance(
                    task="binary_classification",
                    rows=3800,
                    metrics=[
                        Metric(name="roc_auc", label="ROC AUC", value=0.784),
                        Metric(name="pr_auc", label="PR AUC", value=0.497),
                        Metric(name="accuracy", label="Accuracy", value=0.766),
                        Metric(name="precision", label="Precision", value=0.521),
                        Metric(name="recall", label="Recall", value=0.571),
                        Metric(name="f1", label="F1", value=0.545),
                        Metric(name="log_loss", label="Log loss", value=0.488, higher_is_better=False),
                    ],
                    threshold=0.4,
                    positive_label="1 (defaulted)",
                ),
                fairness=[_credit_fairness(hostile)[0]],
            )
        ],
    )
    return Model(
        id="credit-default",
        name=name,
        owner=Owner(name="Priya Raman", email="priya.raman@example.com", team="Retail Credit Analytics"),
        task="binary_classification",
        risk_tier="high",
        tags=["credit", "retail", HOSTILE] if hostile else ["credit", "retail", "EU AI Act Annex III"],
        sensitive_features=["sex", "age_band"],
        card=card,
        source=ref("models/credit-default/model.yml", 2210),
        live_version="1.1.0",
        versions=[v110, v100],
    )


def _bike_model(hostile: bool) -> Model:
    card = Card(
        description=(
            "Forecasts hourly bike rentals per station to plan redistribution trucks.\n\n"
            f"Imported from the old wiki, unedited: {HOSTILE}\n\n"
            "| Station group | Stations |\n|---|---|\n| Centre | 42 |\n| Suburbs | 61 |"
        ),
        primary_uses="Planning the next day's truck routes.",
        primary_users="Operations planners.",
        out_of_scope="Pricing, or any decision about individual customers.",
        factors_relevant="Neighbourhood income band, as a proxy for equitable service.",
        factors_evaluation="Errors are compared across neighbourhood income bands.",
        performance_measures="Mean absolute error (bikes per hour) and RMSE.",
        ethical_considerations="Under-forecasting in low-income areas would reduce service there.",
        caveats="Trained on 2011–2012 data from one city; retrain before using elsewhere.",
    )
    metric_labels = {"mae": "Mean absolute error", "rmse": "RMSE", "mean_error": "Mean error (bias)"}
    version = ModelVersion(
        version="2024.1",
        status="staging",
        created="2024-06-20",
        summary="First candidate for production.",
        source=ref("models/bike-demand/versions/2024.1/version.yml", 980),
        training=TrainingRecord(
            datasets=["bike-sharing-2011-2012"],
            algorithm="Random forest regressor",
            params={"n_estimators": 300, "min_samples_leaf": 5},
            python="3.11.9",
            packages={"scikit-learn": "1.4.2"},
        ),
        evaluations=[
            EvaluationRun(
                id="holdout-2012q4",
                dataset="bike-sharing-2011-2012",
                date="2024-06-18",
                data=ref("models/bike-demand/versions/2024.1/eval/holdout.csv", 250_112),
                label="cnt",
                prediction="pred",
                features=["hour", "temp", "weather", "income_band"],
                performance=Performance(
                    task="regression",
                    rows=1752,
                    metrics=[
                        Metric(name="mae", label="Mean absolute error", value=31.42, higher_is_better=False),
                        Metric(name="rmse", label="RMSE", value=47.9, higher_is_better=False),
                        Metric(name="r2", label="R²", value=0.912),
                    ],
                ),
                fairness=[
                    FairnessResult(
                        feature="income_band",
                        metric_labels=metric_labels,
                        overall={"mae": 31.42, "rmse": 47.9, "mean_error": -1.2},
                        min_group_size=30,
                        groups=[
                            GroupMetrics(
                                group="low",
                                count=540,
                                small=False,
                                metrics={"mae": 36.1, "rmse": 55.2, "mean_error": -6.3},
                            ),
                            GroupMetrics(
                                group="middle",
                                count=690,
                                small=False,
                                metrics={"mae": 29.8, "rmse": 44.0, "mean_error": 0.4},
                            ),
                            GroupMetrics(
                                group="high",
                                count=522,
                                small=False,
                                metrics={"mae": 28.9, "rmse": 43.1, "mean_error": 2.2},
                            ),
                        ],
                    )
                ],
            )
        ],
    )
    return Model(
        id="bike-demand",
        name="Bike-share demand forecast",
        owner=Owner(name="Mateo Silva", team="Operations Data Science"),
        task="regression",
        risk_tier="low",
        tags=["operations"],
        sensitive_features=["income_band"],
        card=card,
        source=ref("models/bike-demand/model.yml", 1530),
        live_version=None,
        versions=[version],
    )


def _datasets(hostile: bool) -> list[Dataset]:
    return [
        Dataset(
            id="credit-applications-2019-2023",
            name="Retail credit applications 2019–2023",
            description="Approved retail loan applications with 12-month repayment outcome.",
            source="Core banking system, nightly extract",
            licence="Internal",
            collection_method="Extracted from the loan origination system; outcomes joined from collections.",
            collection_period="2019-01 to 2023-06",
            rows=182_400,
            contains_pii=True,
            pii_fields=["income", "sex", "date_of_birth"],
            legal_basis="GDPR Art. 6(1)(b) — performance of a contract",
            known_gaps=(
                "Rejected applications have no outcome (selection bias).\n\n"
                + (HOSTILE if hostile else "Applicants over 65 are rare (under 1%).")
            ),
            files=[ref("data/credit/applications-2019-2023.parquet", 25_400_112)],
            datasheet=ref("datasets/credit-applications-2019-2023.yml", 1420),
            used_by=["credit-default/1.1.0", "credit-default/1.0.0"],
        ),
        Dataset(
            id="credit-holdout-2023",
            name="Credit holdout 2023",
            description="Applications from 2023 Q3 kept out of training.",
            source="Core banking system",
            licence="Internal",
            collection_method="Random 10% sample of 2023 Q3 applications.",
            rows=3800,
            contains_pii=True,
            pii_fields=["income", "sex"],
            legal_basis="GDPR Art. 6(1)(f) — legitimate interest (model validation)",
            datasheet=ref("datasets/credit-holdout-2023.yml", 880),
            used_by=["credit-default/1.0.0"],
        ),
        Dataset(
            id="credit-holdout-2024",
            name="Credit holdout 2024",
            description="Applications from 2024 Q1–Q2 kept out of training.",
            source="Core banking system",
            licence="Internal",
            collection_method="Random 10% sample of 2024 applications.",
            rows=4950,
            contains_pii=True,
            pii_fields=["income", "sex"],
            legal_basis="GDPR Art. 6(1)(f) — legitimate interest (model validation)",
            datasheet=ref("datasets/credit-holdout-2024.yml", 910),
            used_by=["credit-default/1.1.0"],
        ),
        Dataset(
            id="bike-sharing-2011-2012",
            name="Capital Bikeshare hourly counts 2011–2012",
            description="Hourly rental counts with weather and calendar features (UCI Bike Sharing).",
            source="UCI Machine Learning Repository",
            licence="CC BY 4.0",
            collection_method="Aggregated from the operator's public trip history.",
            collection_period="2011-01-01 to 2012-12-31",
            rows=17_379,
            files=[ref("data/bike/hour.csv", 1_156_736)],
            references=["https://archive.ics.uci.edu/dataset/275/bike+sharing+dataset"],
            datasheet=ref("datasets/bike-sharing-2011-2012.yml", 760),
            used_by=["bike-demand/2024.1"],
        ),
    ]


def make_manifest(*, hostile: bool = False) -> Manifest:
    """The test manifest; see the module docstring."""
    models = [_credit_model(hostile), _bike_model(hostile)]
    datasets = _datasets(hostile)
    paths: dict[str, FileRef] = {}
    for model in models:
        paths[model.source.path] = model.source
        for version in model.versions:
            refs = [version.source, *(run.data for run in version.evaluations)]
            refs += [a.source for a in version.approvals]
            if version.training.artifact:
                refs.append(version.training.artifact)
            if version.monitoring:
                refs.append(version.monitoring.logs)
                if version.monitoring.ground_truth:
                    refs.append(version.monitoring.ground_truth)
            paths.update((r.path, r) for r in refs)
    for dataset in datasets:
        paths.update((r.path, r) for r in [dataset.datasheet, *dataset.files])
    paths["governance.yml"] = ref("governance.yml", 640)
    return Manifest(
        generator=Generator(version="0.1.0"),
        built_at=BUILT_AT,
        site=Site(
            title=f"Model governance {HOSTILE}" if hostile else "Model governance",
            organisation="Example Bank plc",
            description=(
                "Evidence for every machine-learning model in use at Example Bank: what it is for, how "
                "well it works, for whom, and who approved it."
            ),
        ),
        risk_tiers=[
            RiskTier(id="low", title="Low risk", description="Internal operations; no decisions about people."),
            RiskTier(id="high", title="High risk", description="Decisions about people (EU AI Act Annex III)."),
        ],
        inputs=sorted(paths.values(), key=lambda r: r.path),
        models=models,
        datasets=datasets,
    )
