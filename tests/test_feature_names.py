"""The three forms of a sensitive feature's or intersection's name (``feature_names.py``), which the
analysis, the policy paths, the pages and the loader's collision check all take from one place."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from manifest_factory import make_manifest
from modelgov.analysis.evaluation import EvaluationColumns, analyse_evaluation
from modelgov.analysis.fairness import combined_labels
from modelgov.dossier.governance import comparison_section
from modelgov.dossier.html import t as text
from modelgov.feature_names import INTERSECTION, every_name, evidence_name, page_name, page_name_of, policy_key
from modelgov.manifest.evaluation import DisparityDelta, FairnessDelta
from modelgov.policy.evidence_index import evidence_index


@pytest.mark.parametrize(
    ("features", "page", "evidence", "policy"),
    [
        (["sex"], "sex", "sex", "sex"),
        (["sex", "age_band"], "sex × age_band", "sex+age_band", "sex+age_band"),
        (["age.band"], "age.band", "age.band", "age_band"),
        (["region.code", "sex", "age"], "region.code × sex × age", "region.code+sex+age", "region_code+sex+age"),
    ],
)
def test_each_form_of_a_name(features: list[str], page: str, evidence: str, policy: str) -> None:
    assert page_name(features) == page
    assert evidence_name(features) == evidence
    assert policy_key(evidence_name(features)) == policy
    assert every_name(features) == {"page": page, "evidence": evidence, "policy": policy}
    assert page_name_of(evidence) == page


def test_the_analysis_and_the_policy_paths_name_an_intersection_through_the_module() -> None:
    """The evaluation names an intersection's result in the page form and keys its rows' groups (what
    a comparison pairs) in the evidence form; the policy paths take the policy form of the evidence
    name, a column's ``.`` written ``_``. A producer that built its own name would fail here."""
    rng = np.random.default_rng(4)
    rows = 400
    table = pd.DataFrame(
        {
            "y": rng.integers(0, 2, rows),
            "p": rng.integers(0, 2, rows),
            "sex": rng.choice(["F", "M"], rows),
            "age.band": rng.choice(["18-29", "30-44"], rows),
        }
    )
    features = ["sex", "age.band"]
    columns = EvaluationColumns(
        label="y", prediction="p", score=None, sensitive=tuple(features), intersections=(tuple(features),)
    )
    analysis = analyse_evaluation(table, columns, task="binary_classification", min_group_size=10)
    (intersection,) = [r for r in analysis.fairness if r.features == features]
    assert intersection.feature == page_name(features) == "sex × age.band"
    assert evidence_name(features) in analysis.arrays.groups
    assert list(analysis.arrays.groups["sex+age.band"][:3]) == list(combined_labels(table, features)[:3])

    model = make_manifest().models[0]
    version = model.versions[0]
    disparities = next(r.disparities for run in version.evaluations for r in run.fairness if r.disparities)
    renamed = intersection.model_copy(update={"disparities": disparities})
    version = version.model_copy(
        update={"evaluations": [run.model_copy(update={"fairness": [renamed]}) for run in version.evaluations]}
    )
    index = evidence_index(model, version, dt.date(2026, 12, 1))
    key = policy_key(evidence_name(features))
    assert key == "sex+age_band"
    assert any(path.startswith(f"fairness.{key}.") for path in index), sorted(index)[:20]
    assert not any(path.startswith("fairness.sex+age.band.") for path in index)


def test_combined_labels_join_values_and_name_the_series_in_the_page_form() -> None:
    frame = pd.DataFrame({"sex": ["F", "M"], "age_band": ["18-29", "30-44"]})
    labels = combined_labels(frame, ["sex", "age_band"])
    assert labels.name == page_name(["sex", "age_band"])
    assert list(labels) == [f"F{INTERSECTION}18-29", f"M{INTERSECTION}30-44"]


def test_the_dossier_names_an_intersections_gaps_as_the_site_does() -> None:
    """A comparison's fairness entry carries the evidence form (``sex+age_band``); the dossier's
    heading shows the page form, as the site's "Groups by sex × age_band" does."""
    manifest = make_manifest()
    model = next(m for m in manifest.models if any(v.comparisons for v in m.versions))
    version = next(v for v in model.versions if v.comparisons)
    gap = DisparityDelta(
        name="demographic_parity_difference",
        label="Demographic parity difference",
        method="between_groups",
        this=0.12,
        other=0.10,
        delta=0.02,
    )
    entry = FairnessDelta(feature=evidence_name(["sex", "age_band"]), disparities=[gap])
    comparisons = [c.model_copy(update={"relation": "live", "fairness": [entry]}) for c in version.comparisons]
    html = comparison_section(model, version.model_copy(update={"comparisons": comparisons}))
    assert f"<h4>Gaps by {text(page_name(['sex', 'age_band']))}</h4>" in html  # `_` written as an entity
    assert "sex+age" not in html


def test_two_groups_whose_values_hold_the_intersection_sign_stay_two_groups() -> None:
    """`sex="F × 18-29", age_band="30-44"` and `sex="F", age_band="18-29 × 30-44"` were both labelled
    `F × 18-29 × 30-44`: two groups of people measured as one. A value holding ` × ` is now quoted in
    the label, so the labels differ, and a value without it is labelled as before."""
    import pandas as pd

    from modelgov.analysis.fairness import combined_labels

    frame = pd.DataFrame(
        {"sex": ["F × 18-29", "F", "M", None], "age_band": ["30-44", "18-29 × 30-44", "30-44", "18-29"]}
    )
    labels = list(combined_labels(frame, ["sex", "age_band"]))
    assert labels[0] == '"F × 18-29" × 30-44' and labels[1] == 'F × "18-29 × 30-44"'
    assert labels[2] == "M × 30-44" and labels[3].endswith(" × 18-29")
    assert len(set(labels)) == 4
