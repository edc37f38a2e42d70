"""The three forms of a sensitive feature's or intersection's name (``feature_names.py``), which the
analysis, the policy paths, the pages and the loader's collision check all take from one place."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from modelgov.analysis.fairness import combined_labels
from modelgov.feature_names import every_name, evidence_name, page_name, page_name_of, policy_key


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


def test_the_manifest_names_an_intersection_as_the_pages_and_the_policy_paths_expect() -> None:
    """The fairness result of an intersection carries the page name; the comparison's row groups and
    the policy paths are keyed by the evidence name (pinned here so that a change to one form is a
    change to all three, never to one place alone)."""
    frame = pd.DataFrame({"sex": ["F", "M"], "age_band": ["18-29", "30-44"]})
    labels = combined_labels(frame, ["sex", "age_band"])
    assert labels.name == page_name(["sex", "age_band"])
    assert list(labels) == ["F × 18-29", "M × 30-44"]
    assert np.array_equal(labels.to_numpy(), np.array(["F × 18-29", "M × 30-44"], dtype=object))
