"""A column whose name holds a ``.`` is one segment of an evidence path, as a group's name is
(``policy/paths.py::group_segment``): split in two, ``drift.features.income.v2.psi`` had five
segments, and ``drift.features.*.psi`` (a policy's rule, or the data limits' ``max_feature_psi``)
passed the feature by without a check."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

from manifest_factory import make_manifest
from modelgov.manifest import Manifest, Model, ModelVersion
from modelgov.policy.explanation_evidence import explanation_evidence
from modelgov.policy.paths import evidence_index, group_segment, matches
from modelgov.render.findings import evidence_words, labels_of

TODAY = dt.date(2026, 12, 1)
NAME = "income.v2"


def _renamed_drift() -> tuple[Manifest, Model, ModelVersion, str]:
    manifest = make_manifest()
    model, version = next(
        (m, v)
        for m in manifest.models
        for v in m.versions
        if v.drift is not None and any(w.features for w in v.drift.windows)
    )
    report = version.drift
    latest = max(i for i, w in enumerate(report.windows) if w.rows and w.features)
    window = report.windows[latest]
    old = window.features[0].feature
    features = [window.features[0].model_copy(update={"feature": NAME}), *window.features[1:]]
    windows = list(report.windows)
    windows[latest] = window.model_copy(update={"features": features})
    version = version.model_copy(update={"drift": report.model_copy(update={"windows": windows})})
    return manifest, model, version, old


def test_a_dotted_feature_is_one_segment_that_a_wildcard_rule_reaches() -> None:
    manifest, model, version, old = _renamed_drift()
    index = evidence_index(model, version, TODAY)
    assert "drift.features.income%2Ev2.psi" in index
    assert not [p for p in index if p.startswith(f"drift.features.{NAME}")]
    psi = sorted(p for p in index if matches("drift.features.*.psi", p))
    assert "drift.features.income%2Ev2.psi" in psi and f"drift.features.{old}.psi" not in psi
    assert evidence_words("drift.features.income%2Ev2.psi", labels_of(manifest)) == f"The PSI of {NAME}"


def test_a_dotted_feature_of_the_explanations_is_one_segment() -> None:
    found = SimpleNamespace(
        records=[SimpleNamespace(counterfactual=None)],
        sample_rows=100,
        attribution_share={NAME: 0.4, "age": 0.6},
        sensitive_reason_codes=0,
    )
    run = SimpleNamespace(id="holdout", explainability=SimpleNamespace(records=found))
    index: dict[str, object] = {}
    explanation_evidence(
        lambda path, value, page, detail=None: index.__setitem__(path, value), run, "d.html", group_segment
    )
    assert index["explanations.income%2Ev2.attribution_share"] == 0.4
    assert sorted(p for p in index if matches("explanations.*.attribution_share", p)) == [
        "explanations.age.attribution_share",
        "explanations.income%2Ev2.attribution_share",
    ]
