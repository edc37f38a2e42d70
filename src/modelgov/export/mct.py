"""A model version as Google's Model Card Toolkit JSON (schema v0.0.2).

The toolkit's schema is closed (no extra keys) and every value in ``performance_metrics`` is a
string, so numbers are written as decimal text; group metrics go in as slices (``holdout: sex=F``),
the way the toolkit's own examples slice by feature, each naming its evaluation, and the gaps between
groups as metrics whose slice names the groups behind them. What the build found wrong with the
version (:mod:`modelgov.render.caveat_views`) follows the card's own limitations.
"""

from __future__ import annotations

from typing import Any

from modelgov import manifest as m
from modelgov.export.common import gaps, headline_metrics
from modelgov.render.caveat_views import caveats

__all__ = ["SCHEMA_VERSION", "mct_model_card"]

SCHEMA_VERSION = "0.0.2"


def _text(value: float) -> str:
    return f"{value:.6g}"


def mct_model_card(manifest: m.Manifest, model: m.Model, version: m.ModelVersion) -> dict[str, Any]:
    card = model.card
    datasets = {d.id: d for d in manifest.datasets}
    used = [*version.training.datasets, *(run.dataset for run in version.evaluations)]
    data = []
    for dataset_id in dict.fromkeys(used):
        dataset = datasets.get(dataset_id)
        entry: dict[str, Any] = {"name": dataset.name if dataset else dataset_id}
        if dataset is not None:
            role = "training" if dataset_id in version.training.datasets else "evaluation"
            entry["description"] = f"{dataset.description} ({role} data)"
            if dataset.pii_fields:
                entry["sensitive"] = {"sensitive_data": list(dataset.pii_fields)}
        data.append(entry)
    metrics = []
    for metric in [*headline_metrics(version), *gaps(version)]:
        entry = {"type": metric.name, "value": _text(metric.value), "slice": metric.scope}
        if metric.low is not None and metric.high is not None:
            entry["confidence_interval"] = {"lower_bound": _text(metric.low), "upper_bound": _text(metric.high)}
        metrics.append(entry)
    owner = model.owner
    return {
        "schema_version": SCHEMA_VERSION,
        "model_details": {
            "name": model.name,
            "overview": card.description,
            "owners": [{"name": owner.name, "contact": owner.email or owner.team or ""}],
            "version": {"name": version.version, "date": version.created, "diff": version.summary},
            **({"licenses": [{"custom_text": card.licence}]} if card.licence else {}),
            "references": [{"reference": ref} for ref in card.references],
        },
        "model_parameters": {"model_architecture": version.training.algorithm, "data": data},
        "quantitative_analysis": {"performance_metrics": metrics},
        "considerations": {
            "users": [{"description": card.primary_users}],
            "use_cases": [{"description": card.primary_uses}],
            # the card's own limitations, then what the build found (the site's warnings on the version)
            "limitations": [
                *({"description": text} for text in (card.out_of_scope, card.caveats) if text),
                *(
                    {"description": f"modelgov: {caveat.text}"}
                    for caveat in caveats(manifest, model, version)
                    if caveat.limitation
                ),
            ],
            # the decision threshold is where the card records the trade-off between kinds of error
            "tradeoffs": [{"description": card.decision_threshold}] if card.decision_threshold else [],
            "ethical_considerations": [{"name": card.ethical_considerations}],
        },
    }
