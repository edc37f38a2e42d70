"""Evidence paths of a version's explained decisions: ``explanations.<feature>.attribution_share`` and
``explanations.reason_codes.sensitive_features``.

Read from the primary evaluation's :class:`~modelgov.manifest.RecordExplanations` (the card's
``explanations``), on the seeded sample the explained-decisions page states: a policy can cap a
prohibited feature's share of the explanation, or require that no reason code names a sensitive
feature.
"""

from __future__ import annotations

from collections.abc import Callable

from modelgov import manifest
from modelgov.feature_names import group_segment

#: The grammar's explanation paths (see :data:`modelgov.policy.paths.TEMPLATES`).
TEMPLATES: tuple[str, ...] = (
    "explanations.<feature>.attribution_share",
    "explanations.reason_codes.sensitive_features",
    "explanations.records",
    "explanations.counterfactuals_not_found",
)


def explanation_evidence(put: Callable[..., None], run: manifest.EvaluationRun | None, page: str) -> None:
    """The paths of one run's explained decisions; none when it has none (or they could not be computed).
    A feature's name is one path segment whatever it holds (:func:`modelgov.feature_names.group_segment`)."""
    found = run.explainability.records if run is not None and run.explainability else None
    if found is None or not found.records:
        return
    detail = f"evaluation {run.id}, a sample of {found.sample_rows:,} rows"
    for feature, share in found.attribution_share.items():
        put(f"explanations.{group_segment(feature)}.attribution_share", share, page, detail)
    put("explanations.reason_codes.sensitive_features", found.sensitive_reason_codes, page, detail)
    put("explanations.records", len(found.records), page)
    put(
        "explanations.counterfactuals_not_found",
        sum(1 for r in found.records if r.counterfactual is not None and not r.counterfactual.found),
        page,
    )
