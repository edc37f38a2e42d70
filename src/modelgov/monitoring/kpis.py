"""Business KPIs per monitoring window: the card's ``business.kpis`` measured on a version's log.

A KPI is a column of the production log, or of the outcome table joined to it by id, aggregated per
window (mean, sum, rate, or the ratio of two columns' sums). Each window is first reduced to its
sufficient statistics (:mod:`.kpi_definitions`) by DuckDB (:mod:`.kpi_scan`) or, for logs that live
on a cluster, by Spark (:mod:`.kpi_spark`); this module turns them into each window's value and
closed-form interval (:func:`measure`: Student's t for a mean or a sum, Wilson's score interval for
a rate, the delta method for a ratio), its verdict against the target and the baseline, and the
report's series.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

from scipy import stats

from modelgov import manifest

from .kpi_definitions import KpiSpec, KpiWindowStats, Statistics
from .kpi_scan import kpi_windows
from .kpi_spark import kpi_windows_spark

if TYPE_CHECKING:
    from .report_inputs import MonitoringInputs

METHODS = {
    "mean": "the mean of the window's values, with Student's t interval (x̄ ± t·s/√n)",
    "sum": "the sum of the window's values, with Student's t interval of n times the mean (Σx ± t·s·√n)",
    "rate": "the share of the window's records that are true, with Wilson's score interval",
    "ratio": "the sum of the numerator divided by the sum of the denominator, with a delta-method interval",
}


def measure(aggregation: str, s: Statistics, level: float) -> manifest.KpiValue:
    """The value of one measure in one window, its standard error and its interval (formulas in
    docs/methods.md). The interval is None with too few values: one (mean, sum, ratio) or none."""
    n = s.n
    if n == 0:
        return manifest.KpiValue(value=None, count=0, missing=s.missing)
    z = float(stats.norm.ppf(0.5 + level / 2))
    interval: tuple[float, float] | None = None
    stderr: float | None = None
    if aggregation in ("mean", "sum"):
        mean = s.total / n
        value = mean if aggregation == "mean" else s.total
        if n >= 2 and s.variance is not None:
            sd = math.sqrt(max(s.variance, 0.0))
            se_mean = sd / math.sqrt(n)
            t = float(stats.t.ppf(0.5 + level / 2, n - 1))
            scale = 1.0 if aggregation == "mean" else float(n)
            stderr = se_mean * scale
            interval = ((mean - t * se_mean) * scale, (mean + t * se_mean) * scale)
    elif aggregation == "rate":
        p = s.total / n
        value = p
        stderr = math.sqrt(p * (1 - p) / n)
        interval = wilson(s.total, n, z)
    else:
        if s.total_x == 0:
            return manifest.KpiValue(value=None, count=n, missing=s.missing)
        ratio = s.total / s.total_x
        value = ratio
        if n >= 2 and None not in (s.variance, s.variance_x, s.covariance):
            mean_x = s.total_x / n
            spread = s.variance - 2 * ratio * s.covariance + ratio**2 * s.variance_x  # type: ignore[operator]
            stderr = math.sqrt(max(spread, 0.0) / n) / abs(mean_x)
            interval = (ratio - z * stderr, ratio + z * stderr)
    return manifest.KpiValue(
        value=value,
        interval=manifest.KpiInterval(low=interval[0], high=interval[1], level=level) if interval else None,
        stderr=stderr,
        count=n,
        missing=s.missing,
    )


def wilson(successes: float, n: int, z: float) -> tuple[float, float]:
    """Wilson's score interval for a proportion: the p whose score test at level z does not reject."""
    p = successes / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z / denominator * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


def meets(value: float | None, spec: KpiSpec) -> bool | None:
    if value is None:
        return None
    return value >= spec.target if spec.direction == "higher" else value <= spec.target


def compare(
    kpi: manifest.KpiValue, baseline: manifest.KpiValue | float | None, spec: KpiSpec, level: float
) -> tuple[float | None, manifest.KpiInterval | None, str | None]:
    """KPI minus baseline, its interval, and whether it is clearly better, worse or neither.

    Against a measured baseline the two are taken as independent samples (the baseline's column is
    filled on the records the old process handled): se = √(se_k² + se_b²). Records the two share make
    the true spread smaller, so the interval is then conservative. Against a fixed value, only the
    KPI's own error counts."""
    if kpi.value is None or baseline is None:
        return None, None, None
    if isinstance(baseline, manifest.KpiValue):
        if baseline.value is None:
            return None, None, None
        difference = kpi.value - baseline.value
        errors = [kpi.stderr, baseline.stderr]
    else:
        difference = kpi.value - baseline
        errors = [kpi.stderr]
    if any(e is None for e in errors):
        return difference, None, None
    se = math.sqrt(sum(e * e for e in errors))  # type: ignore[operator]
    z = float(stats.norm.ppf(0.5 + level / 2))
    low, high = difference - z * se, difference + z * se
    interval = manifest.KpiInterval(low=low, high=high, level=level)
    if low <= 0 <= high:
        return difference, interval, "no clear difference"
    improved = difference > 0 if spec.direction == "higher" else difference < 0
    return difference, interval, "better" if improved else "worse"


def kpi_series(
    specs: Sequence[KpiSpec],
    windows: Sequence[KpiWindowStats],
    report_windows: Sequence[manifest.DriftWindow],
    level: float,
) -> list[manifest.KpiSeries]:
    """The KPIs of the report, window by window (the report's windows: a gap stays a gap)."""
    if len(windows) != len(report_windows) and any(w.rows for w in windows):
        raise ValueError(
            f"the KPI scan found {len(windows)} windows where the drift scan found {len(report_windows)}; "
            "the log changed while it was read"
        )
    out = []
    for spec in specs:
        rows: list[manifest.KpiWindow] = []
        for index, report_window in enumerate(report_windows):
            found = windows[index] if index < len(windows) else None
            rows.append(_window(spec, found, report_window, level))
        measured = [w for w in rows if w.kpi is not None and w.kpi.value is not None]
        latest = measured[-1] if measured else None
        missing_run = 0
        for w in reversed(measured):
            if w.meets_target:
                break
            missing_run += 1
        baseline_method = None
        if spec.baseline is not None:
            baseline_method = (
                "the baseline's column aggregated the same way; the difference's interval treats the two as "
                "independent samples (conservative when they share records)"
            )
        elif spec.baseline_value is not None:
            baseline_method = "a fixed value; the difference's interval is the KPI's own"
        out.append(
            manifest.KpiSeries(
                name=spec.name,
                method=METHODS[spec.measure.aggregation] + f", {level:.0%} level",
                baseline_method=baseline_method,
                windows=rows,
                latest=latest.start if latest else None,
                latest_value=latest.kpi.value if latest and latest.kpi else None,
                meets_target=latest.meets_target if latest else None,
                windows_missing_target=missing_run,
            )
        )
    return out


def _window(
    spec: KpiSpec, found: KpiWindowStats | None, report_window: manifest.DriftWindow, level: float
) -> manifest.KpiWindow:
    common = {"start": report_window.start, "end": report_window.end, "rows": report_window.rows}
    outcome_rows = found.matched if found is not None and spec.table == "outcomes" else None
    if spec.table == "outcomes" and outcome_rows is None:
        outcome_rows = 0
    if found is None or found.rows == 0:
        return manifest.KpiWindow(**common, outcome_rows=outcome_rows, status="no records")
    if spec.table == "outcomes" and not found.matched:
        return manifest.KpiWindow(**common, outcome_rows=0, status="no outcomes yet")
    kpi = measure(spec.measure.aggregation, found.measures[spec.measure], level)
    baseline = None
    if spec.baseline is not None:
        baseline = measure(spec.baseline.aggregation, found.measures[spec.baseline], level)
    if kpi.value is None:
        return manifest.KpiWindow(**common, outcome_rows=outcome_rows, status="no values", kpi=kpi, baseline=baseline)
    against = baseline if baseline is not None else spec.baseline_value
    difference, interval, verdict = compare(kpi, against, spec, level)
    return manifest.KpiWindow(
        **common,
        outcome_rows=outcome_rows,
        status="measured",
        kpi=kpi,
        baseline=baseline,
        meets_target=meets(kpi.value, spec),
        against_baseline=verdict,  # type: ignore[arg-type]
        difference=difference,
        difference_interval=interval,
    )


def report_kpis(inputs: MonitoringInputs, report_windows: Sequence[manifest.DriftWindow]) -> list[manifest.KpiSeries]:
    """The KPIs of ``inputs.kpis`` over the report's windows, from the configured engine."""
    specs = list(inputs.kpis)
    if not specs:
        return []
    settings = {
        "timestamp": inputs.timestamp,
        "window": inputs.window,
        "log_id": inputs.log_id,
        "truth_id": inputs.truth_id,
    }
    if inputs.spark is None:
        windows = kpi_windows(inputs.logs, specs, truth=inputs.truth, **settings)
    else:
        from .spark_scan import read_log, spark_session

        session = spark_session(inputs.spark.master, inputs.spark.conf)
        needed = inputs.truth is not None and any(s.table == "outcomes" for s in specs)
        windows = kpi_windows_spark(
            read_log(session, [str(p) for p in inputs.logs]),
            specs,
            truth=read_log(session, [str(inputs.truth)]) if needed else None,
            truth_name=str(inputs.truth),
            **settings,
        )
    return kpi_series(specs, windows, report_windows, inputs.resampling.level)
