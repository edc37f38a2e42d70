"""What the monitoring page and the inventory read off a version's :class:`MonitoringReport`.

Drift is computed upstream (``modelgov.monitoring``); here the report is only selected from and
counted: which window is the latest one with records, since when the inputs have drifted, which
windows are still waiting for their outcomes, which metrics to chart. Each rule is in a docstring
so the page can state it.

Vocabulary, after Evidently: a *test* gives a p-value and a feature drifts when the p-value falls
below the threshold; a *distance* drifts when it reaches the threshold.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from modelgov.manifest import (
    DriftWindow,
    EvaluationRun,
    FeatureDrift,
    Metric,
    Model,
    ModelVersion,
    MonitoringReport,
)

__all__ = [
    "DRIFT_METHODS",
    "MONITORING_METRICS",
    "PSI_BANDS",
    "DriftMethod",
    "DriftStatus",
    "MonitoringView",
    "WindowRow",
    "drift_rule",
    "drift_status",
    "is_test",
    "latest_items",
    "method_name",
    "method_short",
    "monitoring_view",
    "output_name",
    "output_noun",
    "reference_text",
    "share_phrase",
    "statistic_text",
    "window_label",
    "window_noun",
    "window_phrase",
    "windows_phrase",
]

#: Metrics charted over time, by task: the first :data:`_CHARTED` of these the windows or the
#: reference have. A regression's mean error is among them: its sign is the direction the model
#: errs in, which the size of the errors (MAE) does not show, and a card that names harm from
#: under-prediction is read against it.
MONITORING_METRICS: dict[str, tuple[str, ...]] = {
    "binary_classification": ("roc_auc", "accuracy", "pr_auc", "f1"),
    "multiclass_classification": ("balanced_accuracy", "accuracy", "f1_macro"),
    "regression": ("mae", "mean_error", "r2", "rmse"),
}
_CHARTED = {"regression": 3}

#: PSI bands (the usual credit-risk convention): below 0.1 none, 0.1 to 0.25 moderate, 0.25 and up major.
PSI_BANDS = {"none": "no shift (< 0.1)", "moderate": "moderate shift (0.1–0.25)", "major": "major shift (≥ 0.25)"}


@dataclass(frozen=True)
class DriftMethod:
    key: str
    name: str
    short: str  # in running text and table cells
    test: bool  # True: the statistic is a p-value; False: a distance
    what: str  # in plain language


DRIFT_METHODS: dict[str, DriftMethod] = {
    m.key: m
    for m in (
        DriftMethod(
            "ks",
            "Kolmogorov–Smirnov test",
            "KS test",
            True,
            "compares the whole distribution of a numeric feature with the reference's",
        ),
        DriftMethod(
            "chisquare",
            "Chi-square test",
            "chi-square test",
            True,
            "compares how often each value occurs with how often it occurred in the reference",
        ),
        DriftMethod(
            "z",
            "Two-proportion z-test",
            "z-test",
            True,
            "compares the share of one of two values (a yes/no feature) with the reference's",
        ),
        DriftMethod(
            "wasserstein",
            "Wasserstein distance (normed)",
            "Wasserstein distance",
            False,
            "how far the values moved on average, in units of the reference's standard deviation",
        ),
        DriftMethod(
            "jensenshannon",
            "Jensen–Shannon distance",
            "Jensen–Shannon distance",
            False,
            "how different the shares of the values are (natural log): 0 means identical, √ln 2 ≈ 0.833 means no overlap",
        ),
        DriftMethod(
            "psi",
            "Population stability index (PSI)",
            "PSI",
            False,
            "the usual credit-risk measure of a shift between two distributions, on reference-decile bins",
        ),
    )
}


def is_test(method: str) -> bool:
    """True for methods whose statistic is a p-value (drift when it is small)."""
    known = DRIFT_METHODS.get(method)
    return known.test if known else False


def method_name(method: str) -> str:
    known = DRIFT_METHODS.get(method)
    return known.name if known else method


def method_short(method: str) -> str:
    known = DRIFT_METHODS.get(method)
    return known.short if known else method


def drift_rule(method: str, threshold: float) -> str:
    """When a feature drifts under ``method``, e.g. ``p < 0.05`` or ``≥ 0.1`` (Evidently's
    comparisons: the KS test drifts at p ≤ threshold, the other tests at p < threshold, distances
    at statistic ≥ threshold)."""
    if method == "ks":
        return f"p ≤ {threshold:g}"
    if is_test(method):
        return f"p < {threshold:g}"
    return f"≥ {threshold:g}"


def statistic_text(item: FeatureDrift) -> str:
    """A defined statistic as the tables show it: ``p = 0.031`` (``p < 0.001``) for a test, the
    distance with three decimals otherwise. Callers show an undefined one with the ``num`` filter."""
    value = item.statistic if item.statistic is not None else float("nan")
    if is_test(item.method):
        return "p < 0.001" if value < 0.001 else f"p = {value:.3f}"
    return f"{value:.3f}"


# --------------------------------------------------------------------------- windows

_ROWS_WINDOW = re.compile(r"^\s*([\d,]+)\s+rows?\s*$")


def _rows_window(kind: str) -> int | None:
    match = _ROWS_WINDOW.match(kind)
    return int(match.group(1).replace(",", "")) if match else None


def window_label(kind: str, start: str) -> str:
    """A window's short name for an axis or a table: its start date (``2024-07-08``), the month
    (``2024-07``) for monthly windows, date and time for windows of N records."""
    date, _, time = start.partition("T")
    if kind == "month":
        return date[:7]
    if kind in ("day", "week"):
        return date
    return f"{date} {time[:5]}".strip()


def window_phrase(kind: str, start: str) -> str:
    """A window in running text: ``the week of 2024-07-08``, ``2024-07-08``, ``2024-07``, or
    ``the window starting 2024-07-08 09:15``."""
    label = window_label(kind, start)
    if kind == "week":
        return f"the week of {label}"
    if kind in ("day", "month"):
        return label
    return f"the window starting {label}"


def reference_text(report: MonitoringReport) -> str:
    """What the windows are compared with, in running text: ``evaluation holdout-2026``, ``the table
    data/train-sample.parquet (training sample, 2025)``, ``the production week of 2026-08-03``."""
    if report.reference_kind == "data":
        described = f" ({report.reference_description})" if report.reference_description else ""
        return f"the table {report.reference}{described}"
    if report.reference_kind == "window":
        return f"production records of {window_phrase(report.window, report.reference)}"
    return f"evaluation {report.reference}"


def windows_phrase(kind: str, count: int) -> str:
    """``16 weekly windows``, ``1 daily window``, ``12 windows of 5,000 records``."""
    plural = "s" if count != 1 else ""
    adjective = {"day": "daily", "week": "weekly", "month": "monthly"}.get(kind)
    if adjective:
        return f"{count:,} {adjective} window{plural}"
    rows = _rows_window(kind)
    if rows is not None:
        return f"{count:,} window{plural} of {rows:,} records"
    return f"{count:,} window{plural} ({kind})"


def share_phrase(part: int, whole: int) -> str:
    """``all 6``, ``none``, ``both``, ``3 of 6``: a count of windows as a sentence says it."""
    if part == 0:
        return "none"
    if part == whole:
        return "both" if whole == 2 else ("it" if whole == 1 else f"all {whole}")
    return f"{part} of {whole}"


def window_noun(kind: str) -> str:
    """``week``, ``day``, ``month`` or ``window``: what one window is called in running text."""
    return kind if kind in ("day", "week", "month") else "window"


# --------------------------------------------------------------------------- the page


@dataclass(frozen=True)
class WindowRow:
    """One window as the page shows it."""

    index: int
    window: DriftWindow
    label: str
    drifted: list[str]  # columns the share counts that drifted, in report order (the output last, when counted)
    evaluated: int  # columns the share counts with a verdict (a statistic could be computed)
    metrics: dict[str, Metric]
    changed: bool = True  # the drifted features differ from the previous window with records

    @property
    def empty(self) -> bool:
        return self.window.rows == 0

    @property
    def outcomes_pending(self) -> bool:
        """Records were scored but none of their outcomes has arrived yet."""
        return self.window.rows > 0 and self.window.labelled_rows == 0


@dataclass(frozen=True)
class MonitoringView:
    report: MonitoringReport
    reference_run: EvaluationRun | None
    features: list[str]  # every feature of any window, in report order
    windows: list[WindowRow]
    latest: WindowRow | None  # the latest window with records
    first_drift: WindowRow | None  # the first window that drifted (inputs or output)
    drift_since: WindowRow | None  # the report's first_drift: start of the drifted run reaching the latest
    last_labelled: WindowRow | None  # the latest window with outcomes
    metrics: list[tuple[str, str, str]]  # (name, label, which way it is better) of the charted metrics
    methods: list[tuple[DriftMethod, list[float], list[str]]]  # method, thresholds, features

    @property
    def kind(self) -> str:
        return self.report.window

    @property
    def output_counted(self) -> bool:
        """The share of drifted columns counts the model's output too (it was compared in some window)."""
        return self.report.share_counts_output and any(w.window.prediction is not None for w in self.windows)

    @property
    def counted(self) -> str:
        """What the share of drifted columns counts: ``features``, or ``columns`` when the model's
        output is one of them."""
        return "columns" if self.output_counted else "features"

    @property
    def empty_windows(self) -> list[WindowRow]:
        return [w for w in self.windows if w.empty]

    @property
    def pending_windows(self) -> list[WindowRow]:
        return [w for w in self.windows if w.outcomes_pending]

    @property
    def drifted_windows(self) -> list[WindowRow]:
        """Windows whose inputs (dataset drift) or output drifted: the report's definition."""
        return [w for w in self.windows if w.window.drifted]

    def dataset_drift_in(self, rows: list[WindowRow]) -> list[WindowRow]:
        return [w for w in rows if w.window.dataset_drift]

    def output_drift_in(self, rows: list[WindowRow]) -> list[WindowRow]:
        return [w for w in rows if w.window.prediction is not None and w.window.prediction.drifted]

    @property
    def windows_with_records(self) -> list[WindowRow]:
        return [w for w in self.windows if not w.empty]

    @property
    def records(self) -> int:
        return sum(w.window.rows for w in self.windows)

    @property
    def reference_metrics(self) -> dict[str, Metric]:
        return {m.name: m for m in self.report.reference_performance}

    @property
    def has_performance(self) -> bool:
        return any(w.metrics for w in self.windows)

    @property
    def has_intervals(self) -> bool:
        """Some window's metric carries a bootstrap interval (older reports have none)."""
        return any(m.interval is not None for w in self.windows for m in w.metrics.values())

    @property
    def reference_has_intervals(self) -> bool:
        return any(m.interval is not None and m.interval.low is not None for m in self.report.reference_performance)

    @property
    def interval_level(self) -> float:
        levels = [m.interval.level for w in self.windows for m in w.metrics.values() if m.interval is not None]
        return levels[0] if levels else 0.95

    def since(self, row: WindowRow) -> list[WindowRow]:
        """Windows with records from ``row`` on."""
        return [w for w in self.windows[row.index :] if not w.empty]

    def label(self, row: WindowRow | None) -> str:
        return row.label if row else ""

    def phrase(self, row: WindowRow) -> str:
        return window_phrase(self.kind, row.window.start)


def _metric_choice(model: Model, report: MonitoringReport) -> list[tuple[str, str, str]]:
    found: dict[str, tuple[str, str, str]] = {}
    for metric in [m for w in report.windows for m in w.performance] + list(report.reference_performance):
        found.setdefault(metric.name, (metric.name, metric.label, metric.better))
    in_windows = {m.name for w in report.windows for m in w.performance}
    preferred = [found[n] for n in MONITORING_METRICS.get(model.task, ()) if n in in_windows]
    fallback = [found[n] for n in found if n in in_windows]
    return (preferred or fallback)[: _CHARTED.get(model.task, 2)]


def _methods(report: MonitoringReport, output: str) -> list[tuple[DriftMethod, list[float], list[str]]]:
    """Each method used (features and the model's output), its thresholds and the features it tested."""
    used: dict[str, tuple[list[float], list[str]]] = {}
    for window in report.windows:
        if window.rows == 0:
            continue
        items = [(f.feature, f) for f in window.features]
        if window.prediction is not None:
            items.append((output, window.prediction))
        for name, item in items:
            thresholds, names = used.setdefault(item.method, ([], []))
            if item.threshold not in thresholds:
                thresholds.append(item.threshold)
            if name not in names:
                names.append(name)
    ordered = [k for k in DRIFT_METHODS if k in used] + [k for k in used if k not in DRIFT_METHODS]
    return [(DRIFT_METHODS.get(k, DriftMethod(k, k, k, False, "")), sorted(used[k][0]), used[k][1]) for k in ordered]


def monitoring_view(model: Model, version: ModelVersion) -> MonitoringView | None:
    """The monitoring page's facts, or None when the version has no monitoring report."""
    report = version.drift
    if report is None:
        return None
    features: list[str] = []
    for window in report.windows:
        for item in window.features:
            if item.feature not in features:
                features.append(item.feature)
    output = output_name(version)
    rows = [
        WindowRow(
            index=i,
            window=w,
            label=window_label(report.window, w.start),
            drifted=_counted_drifted(report, w, output) if w.rows else [],
            evaluated=_counted_evaluated(report, w) if w.rows else 0,
            metrics={m.name: m for m in w.performance},
        )
        for i, w in enumerate(report.windows)
    ]
    with_records = [r for r in rows if not r.empty]
    for previous, row in zip([None, *with_records], with_records, strict=False):
        if previous is not None and previous.drifted == row.drifted:
            rows[row.index] = replace(row, changed=False)
    with_records = [r for r in rows if not r.empty]
    latest = with_records[-1] if with_records else None
    first = next((r for r in with_records if r.window.drifted), None)
    # One definition of "drifting since", the report's, so the page, the inventory badge and the
    # manifest never disagree.
    since = next((r for r in with_records if r.window.start == report.first_drift), None)
    run = (
        next((r for r in version.evaluations if r.id == report.reference), None)
        if report.reference_kind == "evaluation"
        else None
    )
    return MonitoringView(
        report=report,
        reference_run=run,
        features=features,
        windows=rows,
        latest=latest,
        first_drift=first,
        drift_since=since,
        last_labelled=next((r for r in reversed(rows) if r.window.labelled_rows > 0), None),
        metrics=_metric_choice(model, report),
        methods=_methods(report, output),
    )


def _output_counted(report: MonitoringReport, window: DriftWindow) -> bool:
    return report.share_counts_output and window.prediction is not None


def _counted_drifted(report: MonitoringReport, window: DriftWindow, output: str) -> list[str]:
    """The drifted columns the share counts: the features, then the model's output when it counts."""
    drifted = [f.feature for f in window.features if f.drifted]
    if _output_counted(report, window) and window.prediction is not None and window.prediction.drifted:
        drifted.append(output)
    return drifted


def _counted_evaluated(report: MonitoringReport, window: DriftWindow) -> int:
    """The columns with a verdict the share counts, as the report recorded them (reports before
    ``columns_compared`` count the features with a statistic)."""
    if window.columns_compared is not None:
        return window.columns_compared
    evaluated = sum(1 for f in window.features if f.statistic is not None)
    if _output_counted(report, window) and window.prediction is not None and window.prediction.statistic is not None:
        evaluated += 1
    return evaluated


def output_noun(version: ModelVersion) -> str:
    """``score``, ``prediction`` or ``output``: what the model's output is called in a column header."""
    if version.monitoring is None:
        return "output"
    return "score" if version.monitoring.score else "prediction"


def output_name(version: ModelVersion) -> str:
    """What the prediction drift is measured on: ``the model's score`` or ``the model's prediction``."""
    if version.monitoring is None:
        return "the model's output"
    return "the model's score" if version.monitoring.score else "the model's prediction"


def latest_items(view: MonitoringView, version: ModelVersion) -> list[tuple[str, FeatureDrift, bool]]:
    """(shown name, result, is the output) of every feature in the latest window with records,
    then of the model's output."""
    if view.latest is None:
        return []
    items = [(f.feature, f, False) for f in view.latest.window.features]
    if view.latest.window.prediction is not None:
        items.append((output_name(version), view.latest.window.prediction, True))
    return items


# --------------------------------------------------------------------------- inventory


@dataclass(frozen=True)
class DriftStatus:
    """A version's drift status in a few words: ``key`` names the CSS class."""

    key: str  # drift | no-drift | no-data | not-monitored | not-analysed
    text: str


def drift_status(model: Model, version: ModelVersion | None) -> DriftStatus:
    """``drift since <start of the current run of drifted windows>``, ``no drift``, ``no data``
    (no window holds a record), ``not monitored`` (no production log), or ``not analysed`` (a log
    is recorded but the manifest has no drift report for it)."""
    if version is None or (version.monitoring is None and version.drift is None):
        return DriftStatus("not-monitored", "not monitored")
    view = monitoring_view(model, version)
    if view is None:
        return DriftStatus("not-analysed", "not analysed")
    if view.report.status == "no data" or view.latest is None:
        return DriftStatus("no-data", "no data")
    if view.drift_since is not None:
        return DriftStatus("drift", f"drift since {view.drift_since.label}")
    if view.report.status == "drift":  # the report says drift but no window does: show its word
        return DriftStatus("drift", "drift")
    return DriftStatus("no-drift", "no drift")
