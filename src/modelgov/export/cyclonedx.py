"""A model version as a CycloneDX 1.6 ML-BOM.

The model is the BOM's ``metadata.component``, of type ``machine-learning-model``, carrying a
``modelCard`` (model parameters, datasets, quantitative analysis with confidence intervals, and
considerations); the training and evaluation datasets are ``data`` components it depends on.
``cyclonedx-python-lib``'s object model has no model card yet, so the document is written as JSON
here and checked with the library's strict 1.6 validator (:func:`validate`).
"""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

from modelgov import __version__
from modelgov import manifest as m
from modelgov.export.common import gaps, headline_metrics
from modelgov.render.caveat_views import caveats, verdict

__all__ = ["ml_bom", "validate"]

_TASKS = {
    "binary_classification": ("supervised", "classification"),
    "multiclass_classification": ("supervised", "classification"),
    "regression": ("supervised", "regression"),
}


def _ref(kind: str, *parts: str) -> str:
    return f"{kind}:" + "/".join(parts)


_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+\Z")


def _contact(owner: m.Owner) -> dict[str, str]:
    """The owner as an organizational contact (an address that is not one, e.g. a TODO, is left out)."""
    email = owner.email if owner.email and _EMAIL.match(owner.email) else None
    return {"name": owner.name, **({"email": email} if email else {})}


def ml_bom(manifest: m.Manifest, model: m.Model, version: m.ModelVersion) -> dict[str, Any]:
    """The BOM: the model card's fields, every metric and gap between groups named by its
    evaluation, and what the build found wrong (:mod:`modelgov.render.caveat_views`) as limitations and
    properties. Its serial number is derived from its contents (:func:`_serial`), so the same
    manifest always gives the same document."""
    card = model.card
    datasets = {d.id: d for d in manifest.datasets}
    approach, task = _TASKS[model.task]
    model_ref = _ref("model", model.id, version.version)
    used = list(dict.fromkeys([*version.training.datasets, *(run.dataset for run in version.evaluations)]))
    data_components = []
    for dataset_id in used:
        dataset = datasets.get(dataset_id)
        component: dict[str, Any] = {
            "type": "data",
            "bom-ref": _ref("dataset", dataset_id),
            "name": dataset.name if dataset else dataset_id,
            "data": [
                {
                    "type": "dataset",
                    "name": dataset.name if dataset else dataset_id,
                    **({"description": dataset.description} if dataset else {}),
                    **({"classification": "personal data"} if dataset and dataset.contains_pii else {}),
                }
            ],
        }
        data_components.append(component)
    metrics = []
    for metric in [*headline_metrics(version), *gaps(version)]:
        # the slice names the evaluation: a version may have several, and a figure must lead to its evidence
        entry: dict[str, Any] = {"type": metric.name, "value": f"{metric.value:.6g}", "slice": metric.scope}
        if metric.low is not None and metric.high is not None:
            entry["confidenceInterval"] = {"lowerBound": f"{metric.low:.6g}", "upperBound": f"{metric.high:.6g}"}
        metrics.append(entry)
    found = caveats(manifest, model, version)
    model_card = {
        "bom-ref": _ref("model-card", model.id, version.version),
        "modelParameters": {
            "approach": {"type": approach},
            "task": task,
            "architectureFamily": version.training.algorithm,
            "datasets": [{"ref": _ref("dataset", dataset_id)} for dataset_id in used],
        },
        "quantitativeAnalysis": {"performanceMetrics": metrics},
        "considerations": {
            "users": [card.primary_users],
            "useCases": [card.primary_uses],
            # the card's own limitations, then what the build found (the site's warnings on the version)
            "technicalLimitations": [
                *(text for text in (card.out_of_scope, card.caveats) if text),
                *(f"modelgov: {caveat.text}" for caveat in found if caveat.limitation),
            ],
            "performanceTradeoffs": [card.decision_threshold] if card.decision_threshold else [],
            "ethicalConsiderations": [{"name": card.ethical_considerations}],
        },
    }
    component = {
        "type": "machine-learning-model",
        "bom-ref": model_ref,
        "name": model.name,
        "version": version.version,
        "description": card.description,
        "authors": [_contact(model.owner)],
        "properties": [
            {"name": "modelgov:model-id", "value": model.id},
            {"name": "modelgov:status", "value": version.status},
            {"name": "modelgov:risk-tier", "value": model.risk_tier},
            {"name": "modelgov:policy-verdict", "value": verdict(manifest, model, version) or "not checked"},
            {"name": "modelgov:serious-caveats", "value": str(sum(caveat.serious for caveat in found))},
            *({"name": f"modelgov:caveat:{caveat.kind}", "value": caveat.text} for caveat in found),
        ],
        "modelCard": model_card,
    }
    if card.licence:
        component["licenses"] = [{"license": {"name": card.licence}}]
    if version.training.artifact is not None:
        component["hashes"] = [{"alg": "SHA-256", "content": version.training.artifact.sha256}]
    document: dict[str, Any] = {
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "serialNumber": "",
        "version": 1,
        "metadata": {
            "timestamp": manifest.built_at,
            "tools": {"components": [{"type": "application", "name": "modelgov", "version": __version__}]},
            "component": component,
        },
        "components": data_components,
        "dependencies": [
            {"ref": model_ref, "dependsOn": [c["bom-ref"] for c in data_components]},
            *({"ref": c["bom-ref"]} for c in data_components),
        ],
    }
    document["serialNumber"] = f"urn:uuid:{_serial(document)}"
    return document


def _serial(document: dict[str, Any]) -> uuid.UUID:
    """A UUID derived from everything else in the BOM. CycloneDX asks for a serial number unique to
    each BOM; a random one would make every export differ, and one derived from the model, version and
    build time alone repeated across builds made at a fixed ``SOURCE_DATE_EPOCH`` whose contents
    differ. Derived from the contents, the same BOM always has the same serial number and two BOMs
    that differ in anything never share one."""
    contents = json.dumps(document, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return uuid.uuid5(uuid.NAMESPACE_URL, "modelgov:cyclonedx:" + contents)


def validate(document: dict[str, Any]) -> str | None:
    """None when ``document`` is valid CycloneDX 1.6 JSON (``cyclonedx-python-lib``'s strict
    validator), else the validator's message."""
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    error = JsonStrictValidator(SchemaVersion.V1_6).validate_str(json.dumps(document))
    return None if error is None else str(error)
