"""Evidence paths of a version's business KPIs: ``kpis.<name>.latest``, ``.meets_target`` and the rest.

A KPI is judged on the latest monitoring window in which it has a value (for a KPI on the outcomes,
the latest window whose outcomes have arrived), as the monitoring page shows it; the facts come from
the report's :class:`~modelgov.manifest.KpiSeries`, so policies, pages and reports read one verdict.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from modelgov import manifest

_CI = ("", ".ci_low", ".ci_high")

#: The grammar's KPI paths (see :data:`modelgov.policy.paths.TEMPLATES`).
TEMPLATES: tuple[str, ...] = (
    *(f"kpis.<kpi>.latest{ci}" for ci in _CI),
    "kpis.<kpi>.meets_target",
    "kpis.<kpi>.target",
    "kpis.<kpi>.windows_missing_target",
    "kpis.<kpi>.baseline",
    "kpis.<kpi>.difference",
)


def kpi_evidence(put: Callable[..., None], model: manifest.Model, report: manifest.MonitoringReport, page: str) -> None:
    """Every KPI path of one version that its report measured; a KPI without a value in any window has
    ``meets_target`` and ``latest`` absent (a policy then gets an error, or its ``missing`` outcome)."""
    if model.business is None:
        return
    series = {s.name: s for s in report.kpis}
    for kpi in model.business.kpis:
        found = series.get(kpi.name)
        if found is None:
            continue
        base = f"kpis.{kpi.name}"
        put(f"{base}.target", kpi.target, page)
        put(f"{base}.windows_missing_target", found.windows_missing_target, page)
        latest = next((w for w in reversed(found.windows) if w.status == "measured"), None)
        if latest is None or latest.kpi is None:
            continue
        detail = f"{kpi.title}, in the window starting {latest.start[:10]} ({latest.kpi.count:,} records)"
        put(f"{base}.latest", latest.kpi.value, page, detail)
        interval = latest.kpi.interval
        if interval is not None:
            put(f"{base}.latest.ci_low", interval.low, page, detail)
            put(f"{base}.latest.ci_high", interval.high, page, detail)
        put(f"{base}.meets_target", latest.meets_target, page, detail)
        baseline: Any = latest.baseline.value if latest.baseline is not None else None
        if baseline is None and kpi.baseline is not None:
            baseline = kpi.baseline.value
        if baseline is not None:
            put(f"{base}.baseline", baseline, page, detail)
        if latest.difference is not None:
            put(f"{base}.difference", latest.difference, page, detail)
