"""One band that covers several differences at once: the bootstrap sup-t band.

A comparison of two versions judges nine metrics, each with its own 95 % interval. Each interval
alone misses its true difference one time in twenty, so across nine metrics the chance that at
least one shows a "clear" difference where there is none is larger than 5 % — up to about 37 % if
the metrics were unrelated. Reading the table as "better on 3 of 9" is then only safe for the
differences that also hold when all nine are judged together.

The sup-t band (Montiel Olea and Plagborg-Møller, "Simultaneous confidence bands: theory,
implementation, and an application to SVARs", J. Appl. Econometrics 34(1), 2019) does that with
the resamples already drawn: scale each metric's resampled differences by that metric's bootstrap
standard error, take in each resample the largest absolute deviation from the point value over all
the metrics, and widen every interval to ``point ± c · se`` where ``c`` is the ``level`` quantile of
that maximum. All the intervals then cover their true differences together with probability about
``level``. Because the metrics of one comparison move together (accuracy and balanced accuracy
share their rows), ``c`` is smaller than Bonferroni's critical value, which assumes the worst case.

Assumptions, stated on the page: each difference's bootstrap distribution is roughly symmetric
around its point value (the band is symmetric; the per-metric percentile intervals are not), and
the usual bootstrap conditions hold (rows independent, the metric smooth in the rows). A metric
undefined in a resample is left out of that resample's maximum; a metric with no spread (the two
versions identical on it) gets a zero-width band at its point value and does not enter the maximum.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from modelgov.analysis.resampling import MIN_DEFINED_SHARE

METHOD = "simultaneous sup-t band over the paired bootstrap"


def sup_t_critical(samples: Mapping[str, np.ndarray], points: Mapping[str, float], level: float):
    """The critical value ``c`` and each metric's bootstrap standard error, for the metrics whose
    point value is finite and whose resamples are defined often enough; ``(None, {})`` when there is
    no such metric or no resample where any is defined."""
    keys = [
        key
        for key, point in points.items()
        if point is not None
        and np.isfinite(point)
        and key in samples
        and np.isfinite(samples[key]).mean() >= MIN_DEFINED_SHARE
    ]
    if not keys:
        return None, {}
    errors = {key: float(np.nanstd(np.where(np.isfinite(samples[key]), samples[key], np.nan), ddof=1)) for key in keys}
    spread = [key for key in keys if errors[key] > 0]
    if not spread:
        return 0.0, errors
    deviations = np.column_stack(
        [np.abs(np.asarray(samples[key], dtype=float) - points[key]) / errors[key] for key in spread]
    )
    with np.errstate(invalid="ignore"):
        largest = np.nanmax(np.where(np.isfinite(deviations), deviations, -np.inf), axis=1)
    largest = largest[np.isfinite(largest)]
    if not len(largest):
        return None, {}
    return float(np.quantile(largest, level)), errors


def sup_t_band(
    samples: Mapping[str, np.ndarray], points: Mapping[str, float], level: float
) -> dict[str, tuple[float, float]]:
    """Metric → (low, high) of the joint band at ``level``, for every metric the band covers."""
    critical, errors = sup_t_critical(samples, points, level)
    if critical is None:
        return {}
    return {key: (points[key] - critical * se, points[key] + critical * se) for key, se in errors.items()}
