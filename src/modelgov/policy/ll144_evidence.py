"""Evidence paths of a version's NYC Local Law 144 bias-audit summary: ``ll144.min_impact_ratio`` and
the rest, from the audited run's :class:`~modelgov.manifest.BiasAudit`.

The law sets no threshold: it requires the audit and its publication. A rule holding the lowest
impact ratio at 0.8 or above applies the EEOC's four-fifths rule of thumb, a guideline for adverse
impact, not a legal threshold of Local Law 144.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from modelgov import manifest

DIMENSIONS = ("sex", "race_ethnicity", "intersectional")

#: The grammar's paths (see :data:`modelgov.policy.paths.TEMPLATES`).
TEMPLATES: tuple[str, ...] = (
    "ll144.min_impact_ratio",
    "ll144.<dimension>.min_impact_ratio",
    "ll144.<dimension>.unknown",
    "ll144.<dimension>.excluded_categories",
    "ll144.applicants",
    "ll144.audit_age_days",
)


def audited_run(version: manifest.ModelVersion) -> manifest.EvaluationRun | None:
    return next((run for run in version.evaluations if run.bias_audit is not None), None)


def ll144_evidence(put: Callable[..., None], version: manifest.ModelVersion, today: dt.date, page: str) -> None:
    """Every ``ll144.*`` path of the version; none when it has no bias audit."""
    run = audited_run(version)
    if run is None:
        return
    audit = run.bias_audit
    assert audit is not None
    lows = [(t.min_impact_ratio, t.min_category, t.dimension) for t in audit.tables if t.min_impact_ratio is not None]
    lowest = min(lows, default=None)
    detail = f"{lowest[1]} ({lowest[2].replace('_', '/')}), evaluation {run.id}" if lowest else None
    put("ll144.min_impact_ratio", audit.min_impact_ratio, page, detail)
    put("ll144.applicants", audit.applicants, page)
    put("ll144.audit_age_days", (today - dt.date.fromisoformat(audit.audit_date)).days, page)
    for table in audit.tables:
        put(f"ll144.{table.dimension}.min_impact_ratio", table.min_impact_ratio, page, table.min_category)
        put(f"ll144.{table.dimension}.unknown", table.unknown, page)
        put(f"ll144.{table.dimension}.excluded_categories", sum(c.excluded for c in table.categories), page)
