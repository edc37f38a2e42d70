"""A realistic, hand-made :class:`~modelgov.manifest.Manifest` for rendering tests.

Two models and three versions: a high-risk credit-default classifier (a retired and a production
version, two evaluation runs on the newest, fairness by sex and age band including a small group
with undefined rates, an out-of-time run without scores so ranking metrics are undefined) and a
low-risk bike-demand regression (one staging version, so no live version). The bike model's
description carries hostile strings, as a user could write them.

Every optional field of schema 1.1 is filled somewhere:

* bootstrap intervals on metrics, groups, all rows and disparities, including an interval whose
  bounds are undefined and one defined in only part of the resamples;
* the confusion matrix, ROC and precision–recall curves and calibration of the credit holdout run;
  the residual histogram and predicted-against-actual sample of the bike run;
* fairness: a declared group absent from the data (``sex = non-binary``), the intersection
  ``sex × age_band`` (the combination female × 66+ never occurs, so it is not a group), disparity
  summaries by both methods, one of them undefined;
* explainability: complete on the credit holdout run (permutation importance, partial dependence
  with ICE, SHAP, error slices); with notes and only declared importances on the retired credit
  version (no model file); with a note about SHAP on the bike run;
* a comparison of credit 1.1.0 with the previous version 1.0.0 on the same holdout rows, whose
  verdicts cover better and worse for metrics where higher and where lower is better, no clear
  difference, and a metric without an interval.

* policy results (see :func:`_governance`), checked as of the build date: a built-in pack and a
  workspace policy with coverage of a framework's clauses (automatic, attested, both, open); on
  credit 1.1.0 a blocking failure (a pending compliance sign-off), an error (ROC AUC undefined on
  the newest run), a waived error and a drift warning; on bike 2024.1 a waived failure; credit
  1.0.0 out of scope. Waivers: one active, one expiring within 30 days, one expired that would
  still cover the drift warning, one that waives nothing.

* monitoring of credit 1.1.0 (see :func:`_credit_drift`): 16 weekly windows from 2024-05-13 with
  dataset drift from the week of 2024-07-08 (week 9), a week with no records (a logging outage),
  outcomes for the first 12 weeks only, a categorical feature with a new category, a feature with
  an undefined statistic and its note, a chi-square test among the distances, PSI on the score.

``hostile=True`` also puts hostile strings into names, group names, tags and comments, i.e. every
inline position, to check that nothing a user writes can become live HTML; on the compliance
pages into a policy title, a waiver reason, a check message and a clause's attestation.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import math

from modelgov.manifest import (
    Approval,
    Calibration,
    CalibrationBin,
    Card,
    Comparison,
    ConfusionMatrix,
    CoverageClause,
    Curve,
    Dataset,
    Disparity,
    Distribution,
    DriftWindow,
    ErrorSlice,
    EvaluationRun,
    Explainability,
    FairnessResult,
    FeatureDrift,
    FeatureImportance,
    FileRef,
    Generator,
    GovernanceReport,
    GroupMetrics,
    Histogram,
    Interval,
    Manifest,
    Metric,
    MetricDelta,
    Model,
    ModelVersion,
    MonitoringReport,
    MonitoringSource,
    Owner,
    PartialDependence,
    Performance,
    PermutationImportance,
    Policy,
    PolicyCheck,
    PolicyReference,
    PolicyResult,
    PolicyRule,
    RiskTier,
    ShapSummary,
    Site,
    TrainingRecord,
    WaiverState,
)

HOSTILE = "<script>alert(1)</script> <img src=x onerror=alert(1)> [x](javascript:alert(1))"
BUILT_AT = "2024-09-04T06:00:00Z"


def ref(path: str, size: int = 2048) -> FileRef:
    """A file reference with a fake but well-formed SHA-256 (derived from the path)."""
    return FileRef(path=path, sha256=hashlib.sha256(path.encode()).hexdigest(), bytes=size)


ROWS = "percentile bootstrap over rows"
CELLS = "percentile bootstrap over rows (multinomial draw of the confusion counts)"
PAIRED = "paired percentile bootstrap over matched rows"


def iv(low: float | None, high: float | None, *, share: float = 1.0, method: str = ROWS) -> Interval:
    """A 95% interval from 1,000 resamples."""
    return Interval(low=low, high=high, level=0.95, resamples=1000, method=method, defined_share=share)


def _around(value: float, rows: int, method: str = CELLS) -> Interval:
    """A plausible interval for a share computed on ``rows`` rows (normal approximation)."""
    half = 1.96 * math.sqrt(max(value * (1 - value), 0.01) / max(rows, 1))
    return iv(round(max(0.0, value - half), 3), round(min(1.0, value + half), 3), method=method)


def _classification_metrics(auc: float | None, scored: bool = True) -> list[Metric]:
    no_score = "No score column was given, so ranking and probability metrics cannot be computed."
    rows = 4000 if scored else 950
    return [
        Metric(
            name="roc_auc",
            label="ROC AUC",
            value=auc if scored else None,
            note=None if scored else no_score,
            description="How well the score ranks defaulters above non-defaulters (0.5 is guessing, 1 is perfect).",
            interval=iv(0.794, 0.829) if scored else None,
        ),
        Metric(
            name="pr_auc",
            label="PR AUC",
            value=0.534 if scored else None,
            note=None if scored else no_score,
            interval=iv(0.503, 0.566) if scored else None,
        ),
        Metric(name="accuracy", label="Accuracy", value=0.781, interval=_around(0.781, rows, ROWS)),
        Metric(
            name="precision",
            label="Precision",
            value=0.552,
            # The out-of-time run flags few applications: too few resamples define precision.
            interval=_around(0.552, rows, ROWS) if scored else iv(None, None, share=0.41),
        ),
        Metric(
            name="recall",
            label="Recall",
            value=0.603,
            interval=_around(0.603, rows, ROWS) if scored else iv(0.541, 0.668, share=0.973),
        ),
        Metric(name="f1", label="F1", value=0.576),  # no interval computed for this one
        Metric(
            name="log_loss",
            label="Log loss",
            value=0.462 if scored else None,
            note=None if scored else no_score,
            higher_is_better=False,
            interval=iv(0.447, 0.478) if scored else None,
        ),
    ]


def _roc() -> Curve:
    """A smooth ROC curve with AUC about 0.81; thresholds fall from 1 to 0 along it."""
    fpr = [round(i / 20, 3) for i in range(21)]
    tpr = [round(x**0.235, 4) for x in fpr]
    thresholds = [round(1 - i / 20, 3) for i in range(21)]
    return Curve(x=fpr, y=tpr, thresholds=thresholds)


def _pr() -> Curve:
    recall = [round(i / 20, 3) for i in range(1, 21)]
    precision = [round(0.92 - 0.67 * r**1.6, 4) for r in recall]
    thresholds = [round(0.95 - 0.9 * i / 19, 3) for i in range(20)]
    return Curve(x=recall, y=precision, thresholds=thresholds)


def _calibration() -> Calibration:
    counts = [812, 903, 688, 511, 402, 290, 198, 121, 75, 0]
    observed = [0.041, 0.118, 0.236, 0.322, 0.43, 0.512, 0.641, 0.702, 0.813, None]
    bins = [
        CalibrationBin(
            low=i / 10,
            high=(i + 1) / 10,
            count=n,
            mean_predicted=None if n == 0 else round(i / 10 + 0.052, 3),
            fraction_positive=fraction,
        )
        for i, (n, fraction) in enumerate(zip(counts, observed, strict=True))
    ]
    return Calibration(bins=bins, expected_calibration_error=0.031)


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


def _group(
    name: str,
    count: int,
    rates: dict[str, float | None],
    *,
    values: dict[str, str] | None = None,
    undefined_intervals: tuple[str, ...] = (),
) -> GroupMetrics:
    """A group with an interval for every defined rate (bounds undefined for ``undefined_intervals``)."""
    intervals = {
        key: iv(None, None, share=0.43, method=CELLS) if key in undefined_intervals else _around(value, count)
        for key, value in rates.items()
        if value is not None
    }
    return GroupMetrics(
        group=name, count=count, small=count < 30, metrics=rates, intervals=intervals, values=values or {}
    )


_DISPARITY_TEXT = {
    "demographic_parity_difference": (
        "Demographic parity difference",
        "Gap in selection rate (0 means every group is selected equally often).",
    ),
    "demographic_parity_ratio": (
        "Demographic parity ratio",
        "Lower selection rate divided by the higher one (1 means equal; the four-fifths rule asks for at least 0.8).",
    ),
    "equalized_odds_difference": (
        "Equalized odds difference",
        "The larger of the gaps in true positive rate and in false positive rate.",
    ),
    "equal_opportunity_difference": (
        "Equal opportunity difference",
        "Gap in true positive rate: how much more often truly positive cases are flagged in one group.",
    ),
}


def _disparities(values: dict[str, tuple[float | None, float | None]], note: str | None = None) -> list[Disparity]:
    """name → (between groups, to overall); intervals ±0.025 around defined values."""
    out = []
    for name, pair in values.items():
        label, description = _DISPARITY_TEXT[name]
        for method, value in zip(("between_groups", "to_overall"), pair, strict=True):
            undefined = "undefined: fewer than two groups have a defined rate, or a ratio's denominator is zero"
            out.append(
                Disparity(
                    name=name,
                    label=label,
                    method=method,
                    value=value,
                    note=undefined if value is None else note if "odds" in name or "opportunity" in name else None,
                    interval=None
                    if value is None
                    else iv(round(max(0.0, value - 0.025), 3), round(value + 0.025, 3), method=CELLS),
                    description=description,
                )
            )
    return out


def _credit_fairness(hostile: bool) -> list[FairnessResult]:
    overall = _rates(0.291, 0.603, 0.171, 0.552)
    overall_intervals = {key: _around(value, 4000) for key, value in overall.items() if value is not None}
    descriptions = {
        "selection_rate": "Share of applications the model sends to manual review.",
        "tpr": "Share of actual defaulters the model flags.",
        "fpr": "Share of non-defaulters the model flags by mistake.",
        "fnr": "Share of actual defaulters the model misses.",
        "precision": "Share of flagged applications that actually default.",
    }
    old_age = HOSTILE if hostile else "66+"
    sex = FairnessResult(
        feature="sex",
        features=["sex"],
        metric_labels=_RATE_LABELS,
        metric_descriptions=descriptions,
        overall=overall,
        overall_intervals=overall_intervals,
        min_group_size=30,
        groups=[
            _group("female", 1710, _rates(0.262, 0.571, 0.148, 0.561)),
            _group("male", 2290, _rates(0.313, 0.627, 0.189, 0.546)),
            # Declared in the card's expected groups, but no applicant in the holdout has it.
            GroupMetrics(
                group="non-binary", count=0, small=True, absent=True, metrics={key: None for key in _RATE_LABELS}
            ),
        ],
        disparities=_disparities(
            {
                "demographic_parity_difference": (0.051, 0.029),
                "demographic_parity_ratio": (0.837, 0.900),
                "equalized_odds_difference": (0.056, 0.032),
                "equal_opportunity_difference": (0.056, 0.032),
            }
        ),
    )
    age = FairnessResult(
        feature="age_band",
        features=["age_band"],
        metric_labels=_RATE_LABELS,
        metric_descriptions=descriptions,
        overall=overall,
        overall_intervals=overall_intervals,
        min_group_size=30,
        groups=[
            _group("18-25", 420, _rates(0.402, 0.688, 0.281, 0.498)),
            _group("26-40", 1510, _rates(0.301, 0.611, 0.176, 0.561)),
            _group("41-65", 1856, _rates(0.254, 0.562, 0.139, 0.571)),
            # 14 applicants, none of whom defaulted: rates that need positives are undefined.
            _group(old_age, 14, _rates(0.071, None, 0.071, 0.0), undefined_intervals=("precision",)),
            _group("(missing)", 200, _rates(0.285, 0.598, 0.168, 0.540)),
        ],
        disparities=_disparities(
            {
                "demographic_parity_difference": (0.331, 0.220),
                "demographic_parity_ratio": (0.177, 0.244),
                "equalized_odds_difference": (0.142, 0.110),
                "equal_opportunity_difference": (0.126, 0.085),
            },
            note="leaves out 1 group(s) where tpr is undefined",
        ),
    )
    cells = [
        ("female", "18-25", 180, _rates(0.371, 0.652, 0.259, 0.512)),
        ("female", "26-40", 640, _rates(0.272, 0.588, 0.153, 0.570)),
        ("female", "41-65", 800, _rates(0.229, 0.534, 0.121, 0.583)),
        ("female", "(missing)", 90, _rates(0.267, 0.571, 0.150, 0.542)),
        ("male", "18-25", 240, _rates(0.425, 0.714, 0.297, 0.489)),
        ("male", "26-40", 870, _rates(0.322, 0.628, 0.193, 0.555)),
        ("male", "41-65", 1056, _rates(0.273, 0.583, 0.152, 0.562)),
        ("male", old_age, 14, _rates(0.071, None, 0.071, 0.0)),
        ("male", "(missing)", 110, _rates(0.300, 0.620, 0.182, 0.538)),
    ]
    intersection = FairnessResult(
        feature="sex × age_band",
        features=["sex", "age_band"],
        metric_labels=_RATE_LABELS,
        metric_descriptions=descriptions,
        overall=overall,
        overall_intervals=overall_intervals,
        min_group_size=30,
        # female × 66+ never occurs in the data, so it is not a group.
        groups=[
            _group(
                f"{sex_value} × {age_value}",
                count,
                rates,
                values={"sex": sex_value, "age_band": age_value},
                undefined_intervals=("precision",) if count < 30 else (),
            )
            for sex_value, age_value, count, rates in cells
        ],
        disparities=_disparities(
            {
                "demographic_parity_difference": (0.354, 0.234),
                "demographic_parity_ratio": (None, 0.244),  # undefined between groups: see the note
                "equalized_odds_difference": (0.180, 0.126),
            },
            note="leaves out 1 group(s) where tpr is undefined",
        ),
    )
    return [sex, age, intersection]


def _credit_explainability(hostile: bool) -> Explainability:
    """Everything computed: the model file loaded, importance, dependence, SHAP and error slices."""
    incomes = [10_000.0 * i for i in range(1, 11)]
    bands = ["18-25", "26-40", "41-65", HOSTILE if hostile else "66+", "(missing)"]

    def ice(base: list[float], rows: int) -> list[list[float]]:
        return [
            [round(v + 0.03 * (r - rows / 2) / rows * (1 + i / 10), 4) for i, v in enumerate(base)] for r in range(rows)
        ]

    income_pd = [round(0.52 - 0.04 * i, 3) for i in range(10)]
    amount_pd = [round(0.18 + 0.025 * i, 3) for i in range(8)]
    band_pd = [0.36, 0.29, 0.25, 0.22, 0.28]
    return Explainability(
        model=ref("models/credit-default/versions/1.1.0/model.skops", 1_804_331),
        permutation_importance=PermutationImportance(
            scoring="roc_auc",
            repeats=10,
            rows=4000,
            features=[
                FeatureImportance(feature="income", mean=0.0841, std=0.0062),
                FeatureImportance(feature="loan_amount", mean=0.0412, std=0.0041),
                FeatureImportance(feature="employment_length", mean=0.0293, std=0.0048),
                FeatureImportance(feature="age_band", mean=0.0061, std=0.0031),
                FeatureImportance(feature="sex", mean=0.0004, std=0.0017),
            ],
        ),
        partial_dependence=[
            PartialDependence(
                feature="income", kind="numeric", grid=incomes, average=income_pd, ice=ice(income_pd, 25)
            ),
            PartialDependence(
                feature="loan_amount",
                kind="numeric",
                grid=[5_000.0 * i for i in range(1, 9)],
                average=amount_pd,
                ice=ice(amount_pd, 25),
            ),
            PartialDependence(
                feature="age_band", kind="categorical", grid=bands, average=band_pd, ice=ice(band_pd, 25)
            ),
        ],
        shap=ShapSummary(
            explainer="TreeExplainer",
            rows=1000,
            mean_abs={
                "income": 0.112,
                "loan_amount": 0.067,
                "employment_length": 0.041,
                "age_band": 0.012,
                "sex": 0.002,
            },
        ),
        error_slices=[
            ErrorSlice(
                conditions={"age_band": "18-25", "income": "< 20,000"},
                count=96,
                error=0.354,
                overall_error=0.219,
            ),
            ErrorSlice(conditions={"employment_length": "< 1 year"}, count=388, error=0.301, overall_error=0.219),
            ErrorSlice(
                conditions={"age_band": HOSTILE if hostile else "(missing)"},
                count=200,
                error=0.265,
                overall_error=0.219,
            ),
        ],
        error_metric="error rate",
    )


def _credit_comparison(hostile: bool) -> Comparison:
    """1.1.0 against 1.0.0 on the same 4,000 holdout rows, paired by application id."""

    def delta(name: str, label: str, this: float, other: float, low: float | None, high: float | None, up: bool = True):
        interval = None if low is None else iv(low, high, method=PAIRED)
        return MetricDelta(
            name=name,
            label=label,
            this=this,
            other=other,
            delta=round(this - other, 3),
            interval=interval,
            higher_is_better=up,
        )

    return Comparison(
        other_version="1.0.0",
        relation="previous",
        evaluation="holdout-2024q1",
        other_evaluation="holdout-2024q1",
        dataset="credit-holdout-2024",
        rows=4000,
        matched_by=HOSTILE if hostile else "id column application_id",
        deltas=[
            delta("roc_auc", "ROC AUC", 0.812, 0.781, 0.019, 0.043),  # better
            delta("accuracy", "Accuracy", 0.781, 0.772, -0.006, 0.024),  # no clear difference
            delta("recall", "Recall", 0.603, 0.641, -0.061, -0.015),  # worse
            delta("log_loss", "Log loss", 0.462, 0.488, -0.038, -0.014, up=False),  # better: lower
            delta("brier_score", "Brier score", 0.151, 0.146, 0.001, 0.009, up=False),  # worse: higher
            delta("precision", "Precision", 0.552, 0.498, None, None),  # no interval: cannot tell
        ],
    )


# --------------------------------------------------------------------------- monitoring

MONITORING_START = dt.date(2024, 5, 13)  # a Monday: weekly windows start on Mondays (UTC)
MONITORING_WEEKS = 16
DRIFT_WEEK = 9  # the week of 2024-07-08
EMPTY_WEEK = 5  # the week of 2024-06-10: the scoring log was not written (an outage)
LABELLED_WEEKS = 12  # outcomes arrive late: none yet for weeks 13 to 16
UNDEFINED_WEEK = 12  # bureau_score is missing in every record of this week (the bureau feed failed)
WEEK_ROWS = [412, 398, 455, 430, 0, 441, 420, 437, 468, 472, 459, 481, 463, 477, 490, 502]


def _week(week: int) -> str:
    return (MONITORING_START + dt.timedelta(weeks=week - 1)).isoformat() + "T00:00:00Z"


def _wobble(week: int, seed: int, size: float) -> float:
    """Deterministic noise in [-size, size]."""
    return size * (((week * 37 + seed * 11) % 13) / 6.0 - 1.0)


#: feature → (kind, method, threshold, first drifted week or None, statistic once fully drifted, missing rate)
_MONITORED = {
    "income": ("numeric", "wasserstein", 0.1, DRIFT_WEEK, 0.31, 0.012),
    "loan_amount": ("numeric", "wasserstein", 0.1, DRIFT_WEEK, 0.22, 0.0),
    "employment_length": ("numeric", "wasserstein", 0.1, DRIFT_WEEK, 0.16, 0.034),
    "debt_ratio": ("numeric", "wasserstein", 0.1, DRIFT_WEEK, 0.27, 0.0),
    "credit_history_months": ("numeric", "wasserstein", 0.1, None, 0.0, 0.0),
    "num_open_accounts": ("numeric", "wasserstein", 0.1, DRIFT_WEEK + 2, 0.19, 0.0),
    "purpose": ("categorical", "jensenshannon", 0.1, DRIFT_WEEK, 0.18, 0.0),
    "age_band": ("categorical", "chisquare", 0.05, None, 0.0, 0.05),  # a workspace override: a test
    "bureau_score": ("numeric", "wasserstein", 0.1, None, 0.0, 0.02),
}


def _band(psi: float) -> str:
    return "none" if psi < 0.1 else "moderate" if psi < 0.25 else "major"


def _feature_week(name: str, week: int, rows: int, hostile: bool) -> FeatureDrift:
    kind, method, threshold, start, full, missing = _MONITORED[name]
    seed = list(_MONITORED).index(name)
    if rows == 0:
        return FeatureDrift(
            feature=name,
            kind=kind,
            method=method,
            statistic=None,
            threshold=threshold,
            drifted=False,
            rows=0,
            note="undefined: no rows in this window",
        )
    if name == "bureau_score" and week == UNDEFINED_WEEK:
        return FeatureDrift(
            feature=name,
            kind=kind,
            method=method,
            statistic=None,
            threshold=threshold,
            drifted=False,
            rows=0,
            missing_rate=1.0,
            note=f"undefined: all {rows} values are missing in this window",
        )
    present = round(rows * (1 - missing))
    new: dict[str, int] = {}
    if method == "chisquare":  # a p-value: a false alarm in week 3, otherwise well above 0.05
        statistic = 0.031 if week == 3 else round(0.42 + _wobble(week, seed, 0.3), 3)
        drifted = statistic < threshold
        psi = 0.12 if week == 3 else round(0.02 + _wobble(week, seed, 0.015), 3)
    else:
        ramp = 0.0 if start is None or week < start else min(1.0, 0.7 + 0.15 * (week - start))
        statistic = round(max(0.01, 0.04 + _wobble(week, seed, 0.025) + ramp * (full - 0.04)), 4)
        drifted = statistic >= threshold
        psi = round(statistic * (1.9 if kind == "categorical" else 1.1), 3)
        if name == "purpose" and ramp:
            new = {HOSTILE if hostile else "bnpl_refinance": round(present * 0.06 * ramp)}
    violations = None
    if kind == "numeric":
        violations = 0 if not drifted or name not in ("income", "loan_amount") else round(present * 0.01 * (week - 7))
    note = None
    if name == "income" and week == MONITORING_WEEKS:
        note = "approximate from binned aggregates: |error of the statistic| ≤ 0.0021"
    return FeatureDrift(
        feature=name,
        kind=kind,
        method=method,
        statistic=statistic,
        threshold=threshold,
        drifted=drifted,
        rows=present,
        missing_rate=missing,
        psi=psi,
        psi_band=_band(psi),
        range_violations=violations,
        new_categories=new,
        note=note,
    )


def _score_week(week: int, rows: int) -> FeatureDrift:
    """PSI of the score: it follows the inputs a week late."""
    if rows == 0:
        return FeatureDrift(
            feature="(prediction)",
            kind="numeric",
            method="psi",
            statistic=None,
            threshold=0.1,
            drifted=False,
            rows=0,
            note="undefined: no rows in this window",
        )
    psi = round(0.025 + _wobble(week, 3, 0.012) + (0.0 if week < DRIFT_WEEK else 0.06 + 0.035 * (week - DRIFT_WEEK)), 3)
    return FeatureDrift(
        feature="(prediction)",
        kind="numeric",
        method="psi",
        statistic=psi,
        threshold=0.1,
        drifted=psi >= 0.1,
        rows=rows,
        missing_rate=0.0,
        psi=psi,
        psi_band=_band(psi),
        range_violations=0,
    )


def _week_metrics(week: int) -> list[Metric]:
    """The evaluation's metrics on the week's labelled records (no intervals: too few rows)."""
    decline = 0.0 if week < DRIFT_WEEK else 0.022 + 0.012 * (week - DRIFT_WEEK)
    auc = round(0.809 + _wobble(week, 1, 0.009) - decline, 3)
    accuracy = round(0.779 + _wobble(week, 2, 0.01) - decline * 0.7, 3)
    return [
        Metric(name="roc_auc", label="ROC AUC", value=auc),
        Metric(name="pr_auc", label="PR AUC", value=round(auc - 0.28, 3)),
        Metric(name="accuracy", label="Accuracy", value=accuracy),
        Metric(name="recall", label="Recall", value=round(0.6 + _wobble(week, 4, 0.02) - decline, 3)),
        Metric(name="log_loss", label="Log loss", value=round(0.46 + decline * 1.5, 3), higher_is_better=False),
    ]


def _deciles(edges: list[float]) -> list[str]:
    def short(value: float) -> str:
        return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"

    return [f"{short(a)} – {short(b)}" for a, b in itertools.pairwise(edges)]


_TENTHS = [0.1] * 10


def _latest_distributions(hostile: bool) -> list[Distribution]:
    """Reference against week 16, as the monitoring stage bins them (reference deciles, values)."""

    def numeric(name: str, edges: list[float], current: list[float]) -> Distribution:
        return Distribution(
            feature=name, kind="numeric", bins=_deciles(edges), reference_share=_TENTHS, current_share=current
        )

    steady = [0.098, 0.103, 0.1, 0.097, 0.104, 0.099, 0.1, 0.102, 0.096, 0.101]
    new = HOSTILE if hostile else "bnpl_refinance"
    return [
        numeric(
            "income",
            [8000, 18400, 23900, 28300, 32500, 36800, 41600, 47300, 55100, 68900, 240000],
            [0.172, 0.151, 0.129, 0.112, 0.098, 0.087, 0.076, 0.068, 0.059, 0.048],
        ),
        numeric(
            "loan_amount",
            [1000, 3500, 5200, 7000, 8800, 10500, 12600, 15000, 18500, 24000, 50000],
            [0.052, 0.061, 0.07, 0.081, 0.092, 0.104, 0.117, 0.128, 0.139, 0.156],
        ),
        numeric(
            "employment_length",
            [0, 0.5, 1, 2, 3, 5, 7, 9, 12, 17, 41],
            [0.141, 0.128, 0.113, 0.104, 0.098, 0.092, 0.086, 0.083, 0.08, 0.075],
        ),
        numeric(
            "debt_ratio",
            [0, 0.08, 0.14, 0.19, 0.24, 0.29, 0.34, 0.4, 0.47, 0.58, 1.35],
            [0.044, 0.052, 0.063, 0.077, 0.091, 0.104, 0.118, 0.132, 0.148, 0.171],
        ),
        numeric("credit_history_months", [3, 22, 37, 51, 66, 82, 99, 121, 150, 196, 480], steady),
        numeric(
            "num_open_accounts",
            [0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 24],
            [0.061, 0.07, 0.081, 0.089, 0.097, 0.104, 0.111, 0.118, 0.127, 0.142],
        ),
        Distribution(
            feature="purpose",
            kind="categorical",
            bins=[new, "car", "debt_consolidation", "home_improvement", "other"],
            reference_share=[0.0, 0.24, 0.38, 0.21, 0.17],
            current_share=[0.06, 0.19, 0.45, 0.14, 0.16],
        ),
        Distribution(
            feature="age_band",
            kind="categorical",
            bins=["18-25", "26-40", "41-65", HOSTILE if hostile else "66+", "(missing)"],
            reference_share=[0.105, 0.3775, 0.464, 0.0035, 0.05],
            current_share=[0.112, 0.371, 0.461, 0.004, 0.052],
        ),
        numeric("bureau_score", [300, 520, 571, 606, 634, 659, 683, 708, 736, 772, 850], steady),
    ]


def _credit_drift(hostile: bool, reference: EvaluationRun) -> MonitoringReport:
    """16 weeks of credit 1.1.0 in production, against its holdout evaluation (see the module docstring)."""
    windows = []
    for week, rows in enumerate(WEEK_ROWS, start=1):
        features = [_feature_week(name, week, rows, hostile) for name in _MONITORED]
        evaluated = [f for f in features if f.statistic is not None]
        share = sum(f.drifted for f in evaluated) / len(evaluated) if rows and evaluated else None
        labelled = round(rows * 0.97) if week <= LABELLED_WEEKS else 0
        windows.append(
            DriftWindow(
                start=_week(week),
                end=_week(week + 1),
                rows=rows,
                share_drifted=share,
                dataset_drift=share is not None and share >= 0.5,
                features=features,
                prediction=_score_week(week, rows),
                labelled_rows=labelled,
                performance=_week_metrics(week) if labelled else [],
            )
        )
    since = None  # the start of the run of drifted windows reaching the latest (empty ones skipped)
    for window in reversed([w for w in windows if w.rows]):
        if not window.drifted:
            break
        since = window.start
    return MonitoringReport(
        reference=reference.id,
        reference_rows=reference.performance.rows,
        window="week",
        dataset_share=0.5,
        windows=windows,
        reference_performance=list(reference.performance.metrics),
        latest=_latest_distributions(hostile),
        first_drift=since,
        status="drift" if since else "no drift",
    )


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
                    confusion_matrix=ConfusionMatrix(labels=["0", "1"], counts=[[2511, 489], [397, 603]]),
                    roc_curve=_roc(),
                    pr_curve=_pr(),
                    calibration=_calibration(),
                ),
                fairness=_credit_fairness(hostile),
                explainability=_credit_explainability(hostile),
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
            logs=[ref("monitoring/credit-default/2024-06.parquet", 8_734_112)],
            timestamp="scored_at",
            prediction="pred",
            score="score",
            features=list(_MONITORED),
            ground_truth=ref("monitoring/credit-default/outcomes.csv", 55_010),
        ),
        comparisons=[_credit_comparison(hostile)],
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
    v110 = v110.model_copy(update={"drift": _credit_drift(hostile, v110.evaluations[0])})
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
                explainability=Explainability(
                    model=None,
                    error_slices=[
                        ErrorSlice(conditions={"age_band": "18-25"}, count=512, error=0.291, overall_error=0.234),
                    ],
                    error_metric="error rate",
                    notes=[
                        "No model file is recorded for this version, so permutation importance, partial "
                        "dependence and SHAP values could not be computed.",
                        HOSTILE if hostile else "Error slices need only the predictions, so they are shown.",
                    ],
                    precomputed_importance={"income": 0.412, "loan_amount": 0.305, "age_band": 0.121},
                ),
            ),
            # Re-scored on the 2024 holdout so that 1.1.0 can be compared with it on the same rows.
            EvaluationRun(
                id="holdout-2024q1",
                dataset="credit-holdout-2024",
                date="2024-04-29",
                data=ref("models/credit-default/versions/1.0.0/eval/holdout-2024.parquet", 410_116),
                label="defaulted",
                prediction="pred",
                score="score",
                performance=Performance(
                    task="binary_classification",
                    rows=4000,
                    metrics=[
                        Metric(name="roc_auc", label="ROC AUC", value=0.781, interval=iv(0.762, 0.799)),
                        Metric(name="accuracy", label="Accuracy", value=0.772, interval=_around(0.772, 4000, ROWS)),
                        Metric(name="recall", label="Recall", value=0.641, interval=_around(0.641, 4000, ROWS)),
                        Metric(
                            name="log_loss",
                            label="Log loss",
                            value=0.488,
                            higher_is_better=False,
                            interval=iv(0.472, 0.505),
                        ),
                    ],
                    threshold=0.4,
                    positive_label="1 (defaulted)",
                ),
            ),
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


def _bike_sample() -> Curve:
    """200 (actual, predicted) pairs, deterministic."""
    actual = [float((i * 37) % 600) for i in range(200)]
    predicted = [round(a * 0.93 + 12 + ((i * 53) % 41 - 20) * 1.6, 1) for i, a in enumerate(actual)]
    return Curve(x=actual, y=predicted)


def _bike_explainability(hostile: bool) -> Explainability:
    """A model file was loaded, but the optional SHAP library was not installed."""
    hours = [float(h) for h in range(24)]
    by_hour = [
        round(60 + 220 * math.exp(-((h - 8) ** 2) / 3) + 260 * math.exp(-((h - 17.5) ** 2) / 4), 1) for h in hours
    ]
    temps = [round(0.1 * i, 1) for i in range(1, 10)]
    by_temp = [round(120 + 160 * t, 1) for t in temps]
    return Explainability(
        model=ref("models/bike-demand/versions/2024.1/model.skops", 48_112_004),
        permutation_importance=PermutationImportance(
            scoring="neg_mean_absolute_error",
            repeats=5,
            rows=1752,
            features=[
                FeatureImportance(feature="hour", mean=98.4, std=2.9),
                FeatureImportance(feature="temp", mean=21.7, std=1.4),
                FeatureImportance(feature="weather", mean=8.2, std=0.9),
                FeatureImportance(feature="income_band", mean=-0.3, std=0.6),
            ],
        ),
        partial_dependence=[
            PartialDependence(feature="hour", kind="numeric", grid=hours, average=by_hour),
            PartialDependence(feature="temp", kind="numeric", grid=temps, average=by_temp),
            PartialDependence(
                feature="weather",
                kind="categorical",
                grid=["clear", "mist", HOSTILE if hostile else "rain/snow"],
                average=[205.0, 181.0, 122.0],
            ),
        ],
        error_slices=[
            ErrorSlice(conditions={"hour": "17–18", "weather": "clear"}, count=146, error=71.2, overall_error=31.42),
            ErrorSlice(conditions={"income_band": "low"}, count=540, error=36.1, overall_error=31.42),
        ],
        error_metric="mean absolute error",
        notes=[
            "SHAP values not computed: the shap package, a dependency of modelgov, is not installed in the environment that ran the build (reinstall modelgov)."
        ],
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
                        Metric(
                            name="mae",
                            label="Mean absolute error",
                            value=31.42,
                            higher_is_better=False,
                            interval=iv(29.87, 33.05),
                        ),
                        Metric(name="rmse", label="RMSE", value=47.9, higher_is_better=False, interval=iv(44.6, 51.3)),
                        Metric(name="r2", label="R²", value=0.912, interval=iv(0.901, 0.922)),
                    ],
                    residuals=Histogram(
                        edges=[-150.0, -100.0, -60.0, -30.0, -10.0, 10.0, 30.0, 60.0, 100.0, 150.0],
                        counts=[41, 118, 236, 301, 402, 310, 205, 102, 37],
                    ),
                    predicted_vs_actual=_bike_sample(),
                ),
                fairness=[
                    FairnessResult(
                        feature="income_band",
                        metric_labels=metric_labels,
                        overall={"mae": 31.42, "rmse": 47.9, "mean_error": -1.2},
                        overall_intervals={
                            "mae": iv(29.87, 33.05),
                            "rmse": iv(44.6, 51.3),
                            "mean_error": iv(-3.4, 1.0),
                        },
                        min_group_size=30,
                        groups=[
                            GroupMetrics(
                                group="low",
                                count=540,
                                small=False,
                                metrics={"mae": 36.1, "rmse": 55.2, "mean_error": -6.3},
                                intervals={
                                    "mae": iv(32.9, 39.6),
                                    "rmse": iv(49.8, 60.7),
                                    "mean_error": iv(-10.2, -2.5),
                                },
                            ),
                            GroupMetrics(
                                group="middle",
                                count=690,
                                small=False,
                                metrics={"mae": 29.8, "rmse": 44.0, "mean_error": 0.4},
                                intervals={"mae": iv(27.4, 32.3), "rmse": iv(39.9, 48.2), "mean_error": iv(-2.9, 3.6)},
                            ),
                            GroupMetrics(
                                group="high",
                                count=522,
                                small=False,
                                metrics={"mae": 28.9, "rmse": 43.1, "mean_error": 2.2},
                                intervals={"mae": iv(26.2, 31.7), "rmse": iv(38.6, 47.9), "mean_error": iv(-1.4, 5.8)},
                            ),
                        ],
                    )
                ],
                explainability=_bike_explainability(hostile),
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


# --------------------------------------------------------------------------- policies

AS_OF = BUILT_AT[:10]


def _policies(hostile: bool) -> list[Policy]:
    baseline = Policy(
        id="baseline",
        title="Baseline model governance",
        description="The minimum every model meets before it is staged or put in production.",
        pack="baseline",
        source=ref("modelgov:policies/baseline.yml", 2211),
        scope="status candidate or staging or production",
        rules=[
            PolicyRule(
                id="card-complete",
                title="The model card states its purpose, limits and licence",
                kind="documented",
                requirement="card fields written: description, primary_uses, out_of_scope, caveats, licence",
                severity="blocking",
                scope="",
                references=[PolicyReference(framework="Model Cards", clause="Mitchell et al. (2019), §4")],
            ),
            PolicyRule(
                id="model-risk-sign-off",
                title="Model risk management approved this version",
                kind="approved_by",
                requirement="approved by: model_risk",
                severity="blocking",
                scope="status production",
            ),
            PolicyRule(
                id="evaluation-recent",
                title="The evaluation is at most a year old",
                kind="max_age_days",
                requirement="evaluation at most 365 days old",
                severity="warning",
                scope="",
            ),
            PolicyRule(
                id="personal-data-legal-basis",
                title="Datasets with personal data state their legal basis",
                kind="pii_legal_basis",
                requirement="datasets with personal data state their legal basis",
                severity="blocking",
                scope="",
                references=[
                    PolicyReference(
                        framework="GDPR",
                        clause="Art. 6(1)",
                        title="Lawfulness of processing",
                        url="https://eur-lex.europa.eu/eli/reg/2016/679/oj",
                    )
                ],
            ),
            PolicyRule(
                id="no-sustained-drift",
                title="Production inputs have not been drifting for more than two windows",
                kind="drift_limits",
                requirement="windows in the current drift ≤ 2 (latest window with records)",
                severity="warning",
                scope="status production",
            ),
        ],
    )
    fair_lending = Policy(
        id="fair-lending",
        title=f"Fair lending standard {HOSTILE}" if hostile else "Fair lending standard",
        description=(
            "Credit decisions must not disadvantage customers by sex. Applies the **four-fifths** rule "
            "to referral rates and asks for evidence that the model ranks risk well."
        ),
        framework="EU AI Act",
        source=ref("policies/fair-lending.yml", 1068),
        scope="risk tier high; tagged credit",
        rules=[
            PolicyRule(
                id="four-fifths-by-sex",
                title="The referral rate of either sex is at least four fifths of the other's",
                kind="evidence",
                requirement="fairness.sex.demographic_parity_ratio >= 0.8",
                severity="blocking",
                scope="",
                references=[
                    PolicyReference(
                        framework="US EEOC Uniform Guidelines",
                        clause="29 CFR 1607.4(D)",
                        title="Adverse impact and the four-fifths rule",
                    )
                ],
            ),
            PolicyRule(
                id="ranking-quality",
                title="ROC AUC is at least 0.70",
                kind="evidence",
                requirement="performance.roc_auc >= 0.7",
                severity="blocking",
                scope="",
            ),
            PolicyRule(
                id="compliance-sign-off",
                title="Compliance signed off the version",
                kind="approved_by",
                requirement="approved by: compliance",
                severity="blocking",
                scope="status production",
            ),
        ],
        coverage=[
            CoverageClause(
                clause="Art. 10(2)(f)", title="Examination of possible biases", rules=["four-fifths-by-sex"]
            ),
            CoverageClause(clause="Art. 15(1)", title="Appropriate level of accuracy", rules=["ranking-quality"]),
            CoverageClause(
                clause="Art. 14",
                title="Human oversight",
                attestation=HOSTILE if hostile else "Underwriting attests that a person reviews every referral.",
            ),
            CoverageClause(
                clause="Art. 26(1)",
                title="Obligations of deployers",
                rules=["compliance-sign-off"],
                attestation="Compliance attests that the instructions for use are followed.",
            ),
            CoverageClause(
                clause="Art. 12",
                title="Record-keeping",
                note="Logging is covered by the platform team's controls, outside this policy.",
            ),
        ],
    )
    return [baseline, fair_lending]


def _result(model: str, version: str, policy: str, rule: str, severity: str, outcome: str, message: str,
            checks: list[PolicyCheck] = (), **extra: object) -> PolicyResult:  # fmt: skip
    return PolicyResult(
        policy=policy, rule=rule, model=model, version=version, severity=severity, outcome=outcome,
        message=message, checks=list(checks), **extra,
    )  # fmt: skip


def _drifting_windows(report: MonitoringReport) -> int:
    filled = [w for w in report.windows if w.rows]
    count = 0
    for window in reversed(filled):
        if not window.drifted:
            break
        count += 1
    return count


def _governance(models: list[Model], datasets: list[Dataset], hostile: bool) -> GovernanceReport:
    """Results as the policy engine writes them (evidence pages included), for the factory's models."""
    credit, bike = models
    v110, v100 = credit.versions
    card = "models/credit-default/1.1.0/index.html"
    fields = ["description", "primary_uses", "out_of_scope", "caveats", "licence"]

    def written(model: Model, field: str, page: str) -> PolicyCheck:
        value = getattr(model.card, field)
        return PolicyCheck(
            path=f"card.{field}", observed=value[:80] + "…" if value and len(value) > 80 else value,
            requirement=f"card.{field} is written (not empty, not a placeholder)",
            outcome="pass" if value else "fail", message=f"card.{field} {'is written' if value else 'is empty'}",
            page=page,
        )  # fmt: skip

    drifting = _drifting_windows(v110.drift)
    pii = [d for d in datasets if d.id in ("credit-applications-2019-2023", "credit-holdout-2024")]
    results = [
        # credit-default 1.1.0 (production)
        _result("credit-default", "1.1.0", "baseline", "card-complete", "blocking", "pass", "5 checks passed",
                [written(credit, f, card) for f in fields]),
        _result("credit-default", "1.1.0", "baseline", "model-risk-sign-off", "blocking", "pass",
                "model_risk: approved by Jonas Weber on 2024-05-06", [PolicyCheck(
                    path="approvals.model_risk", observed="approved",
                    requirement="the latest model_risk decision is approved, on or after 2024-05-02", outcome="pass",
                    message="model_risk: approved by Jonas Weber on 2024-05-06", page=f"{card}#approvals")]),
        _result("credit-default", "1.1.0", "baseline", "evaluation-recent", "warning", "pass",
                "evaluation out-of-time-2024q2 of 2024-06-15 is 81 days old (limit 365)", [PolicyCheck(
                    path="evaluation.age_days", observed=81, requirement="evaluation.age_days <= 365", outcome="pass",
                    message="evaluation out-of-time-2024q2 of 2024-06-15 is 81 days old (limit 365)",
                    page=f"{card}#evaluation-data")]),
        _result("credit-default", "1.1.0", "baseline", "personal-data-legal-basis", "blocking", "pass",
                "2 checks passed", [PolicyCheck(
                    path=f"datasets.{d.id}.legal_basis", observed=d.legal_basis,
                    requirement="a dataset with personal data states its legal basis", outcome="pass",
                    message=f"{d.id} holds personal data and states a legal basis", page=f"datasets/{d.id}.html",
                ) for d in pii]),
        _result("credit-default", "1.1.0", "baseline", "no-sustained-drift", "warning", "warn",
                f"drift.drifting_windows: {drifting} does not meet <= 2", [PolicyCheck(
                    path="drift.drifting_windows", observed=drifting, requirement="drift.drifting_windows <= 2",
                    outcome="fail", message=f"drift.drifting_windows: {drifting} does not meet <= 2",
                    page="models/credit-default/1.1.0/monitoring.html")]),
        _result("credit-default", "1.1.0", "fair-lending", "four-fifths-by-sex", "blocking", "waived",
                "no evidence 'fairness.sex.demographic_parity_ratio' for this version", [PolicyCheck(
                    path="fairness.sex.demographic_parity_ratio", observed=None,
                    requirement="fairness.sex.demographic_parity_ratio >= 0.8", outcome="error",
                    message=HOSTILE if hostile else "no evidence 'fairness.sex.demographic_parity_ratio' for this version")],
                unwaived_outcome="error", waiver="W-2024-031"),
        _result("credit-default", "1.1.0", "fair-lending", "ranking-quality", "blocking", "error",
                "performance.roc_auc: the value is undefined (for example a rate with no eligible rows)", [PolicyCheck(
                    path="performance.roc_auc", observed=None, requirement="performance.roc_auc >= 0.7",
                    outcome="error",
                    message="performance.roc_auc: the value is undefined (for example a rate with no eligible rows)",
                    page=f"{card}#metrics")]),
        _result("credit-default", "1.1.0", "fair-lending", "compliance-sign-off", "blocking", "fail",
                "the latest compliance decision is pending (Amira Haddad, 2024-05-07)", [PolicyCheck(
                    path="approvals.compliance", observed="pending",
                    requirement="the latest compliance decision is approved, on or after 2024-05-02", outcome="fail",
                    message="the latest compliance decision is pending (Amira Haddad, 2024-05-07)",
                    page=f"{card}#approvals")]),
    ]  # fmt: skip
    # credit-default 1.0.0 (retired): out of the scope of both policies
    for policy in _policies(hostile):
        for rule in policy.rules:
            results.append(
                _result(
                    "credit-default", v100.version, policy.id, rule.id, rule.severity, "not-applicable", "out of scope"
                )
            )
    bike_card = "models/bike-demand/2024.1/index.html"
    results += [
        _result("bike-demand", "2024.1", "baseline", "card-complete", "blocking", "waived", "card.licence is empty",
                [written(bike, f, bike_card) for f in fields],
                unwaived_outcome="fail", waiver="W-2024-044"),
        _result("bike-demand", "2024.1", "baseline", "model-risk-sign-off", "blocking", "not-applicable",
                "nothing to check on this version"),
        _result("bike-demand", "2024.1", "baseline", "evaluation-recent", "warning", "pass",
                "evaluation holdout-2012q4 of 2024-06-18 is 78 days old (limit 365)", [PolicyCheck(
                    path="evaluation.age_days", observed=78, requirement="evaluation.age_days <= 365", outcome="pass",
                    message="evaluation holdout-2012q4 of 2024-06-18 is 78 days old (limit 365)",
                    page=f"{bike_card}#evaluation-data")]),
        _result("bike-demand", "2024.1", "baseline", "personal-data-legal-basis", "blocking", "not-applicable",
                "nothing to check on this version"),
        _result("bike-demand", "2024.1", "baseline", "no-sustained-drift", "warning", "not-applicable",
                "nothing to check on this version"),
    ]  # fmt: skip
    results += [
        _result("bike-demand", "2024.1", "fair-lending", rule.id, rule.severity, "not-applicable", "out of scope")
        for rule in _policies(hostile)[1].rules
    ]
    waivers_file = ref("waivers.yml", 1422)
    waivers = [
        WaiverState(
            id="W-2024-031", policy="fair-lending", rule="four-fifths-by-sex", models=["credit-default"],
            versions=["1.1.0"],
            reason=HOSTILE if hostile else (
                "The out-of-time sample carries no protected attributes; the holdout run shows the ratio "
                "(see the model card)."
            ),
            approved_by="Helena Brandt (Chief Risk Officer)", ticket="RISK-2291", granted="2024-05-20",
            expires="2024-12-31", state="active", used_by=["credit-default@1.1.0"], source=waivers_file,
        ),
        WaiverState(
            id="W-2024-044", policy="baseline", rule="card-complete", models=["bike-demand"],
            reason="Legal is confirming the licence of the bike-share data; the card will name it.",
            approved_by="Mateo Silva (Operations Data Science)", ticket="OPS-77", granted="2024-07-01",
            expires="2024-09-30", state="expiring", used_by=["bike-demand@2024.1"], source=waivers_file,
        ),
        WaiverState(
            id="W-2024-019", policy="baseline", rule="no-sustained-drift", models=["credit-*"],
            reason="Drift was expected while the new affordability rules bedded in.",
            approved_by="Priya Raman (Retail Credit Analytics)", ticket="CR-1180", granted="2024-06-01",
            expires="2024-08-31", state="expired", would_apply_to=["credit-default@1.1.0"], source=waivers_file,
        ),
        WaiverState(
            id="W-2024-050", policy="baseline", rule="evaluation-recent", models=["churn-*"],
            reason="The churn models are re-evaluated after the tariff change.",
            approved_by="Marcus Lindqvist (Customer Analytics)", ticket="CA-418", granted="2024-08-15",
            expires="2025-02-14", state="active", source=waivers_file,
        ),
    ]  # fmt: skip
    return GovernanceReport(
        as_of=AS_OF, fail_on="blocking", policies=_policies(hostile), results=results, waivers=waivers, blocking=True
    )


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
                refs.extend(version.monitoring.logs)
                if version.monitoring.ground_truth:
                    refs.append(version.monitoring.ground_truth)
            paths.update((r.path, r) for r in refs)
    for dataset in datasets:
        paths.update((r.path, r) for r in [dataset.datasheet, *dataset.files])
    paths["governance.yml"] = ref("governance.yml", 640)
    governance = _governance(models, datasets, hostile)
    paths.update((p.source.path, p.source) for p in governance.policies if p.pack is None)
    paths.update((w.source.path, w.source) for w in governance.waivers)
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
        governance=governance,
    )
