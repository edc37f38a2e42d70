"""A column whose name holds a ``.`` is one segment of an evidence path, as a group's name is
(``policy/paths.py::group_segment``): split in two, ``drift.features.income.v2.psi`` had five
segments, and ``drift.features.*.psi`` (a policy's rule, or the data limits' ``max_feature_psi``)
passed the feature by without a check."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest

from manifest_factory import make_manifest
from modelgov.manifest import Manifest, Model, ModelVersion
from modelgov.policy.evidence_index import evidence_index
from modelgov.policy.explanation_evidence import explanation_evidence
from modelgov.policy.paths import check_pattern, matches
from modelgov.render.compliance_outcomes import requirement_html
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
    explanation_evidence(lambda path, value, page, detail=None: index.__setitem__(path, value), run, "d.html")
    assert index["explanations.income%2Ev2.attribution_share"] == 0.4
    assert sorted(p for p in index if matches("explanations.*.attribution_share", p)) == [
        "explanations.age.attribution_share",
        "explanations.income%2Ev2.attribution_share",
    ]


@pytest.mark.parametrize(
    ("written", "meant"),
    [
        ("drift.features.income.v2.psi", "'drift.features.income%2Ev2.psi'"),
        ("explanations.income.v2.attribution_share", "'explanations.income%2Ev2.attribution_share'"),
        ("approvals.risk.committee.decision", "'approvals.risk%2Ecommittee.decision'"),
        ("fairness.age.band.demographic_parity_ratio", "'fairness.age_band.demographic_parity_ratio'"),
        ("shadow.groups.age.band.max_change_gap", "'shadow.groups.age_band.max_change_gap'"),
        ("fairness.age.groups.30.44.tpr", "did you mean 'fairness.age.groups.30%2E44.tpr'"),
    ],
)
def test_a_name_written_with_its_dot_is_refused_with_the_path_it_means(written: str, meant: str) -> None:
    """A rule naming a dotted column as it is spelt fails to load, and the suggestion is that column's
    path, never another column's (``drift.features.income.psi`` was suggested for ``income.v2``)."""
    problem = check_pattern(written)
    assert problem is not None and meant in problem


def test_a_percent_the_paths_never_write_is_refused_and_the_encoded_names_load() -> None:
    for stray in ("drift.features.income%2ev2.psi", "drift.features.income%v2.psi", "drift.features.income%2.psi"):
        assert "'%' is written %25" in (check_pattern(stray) or "")
    for written in ("drift.features.income%2Ev2.psi", "explanations.a%25b.attribution_share", "approvals.*.decision"):
        assert check_pattern(written) is None


def test_a_role_with_a_dot_is_one_segment_and_its_words_decode_it() -> None:
    manifest = make_manifest()
    model, version = next((m, v) for m in manifest.models for v in m.versions if v.approvals)
    first = version.approvals[0]
    version = version.model_copy(
        update={"approvals": [first.model_copy(update={"role": "risk.committee"}), *version.approvals[1:]]}
    )
    index = evidence_index(model, version, TODAY)
    path = "approvals.risk%2Ecommittee.decision"
    assert path in index and path in [p for p in index if matches("approvals.*.decision", p)]
    assert evidence_words(path, labels_of(manifest)) == "The risk.committee decision"


def test_the_words_and_the_page_show_an_encoded_path() -> None:
    manifest, _, _, _ = _renamed_drift()
    words = evidence_words("drift.features.income%2Ev2.range_violations", labels_of(manifest))
    assert words == f"Values of {NAME} outside the reference's range"
    assert requirement_html("drift.features.income%2Ev2.psi < 0.25").startswith('<code class="mg-path">')
    # a requirement any number meets reads as what it checks: that the figure is there
    assert requirement_html("monitoring.last_window.accuracy > -inf").endswith("</code> is a number (any value)")


@pytest.mark.parametrize(
    ("written", "meant"),
    [
        ("fairness.sex.demographic_parity_ratio.ci_lo", "did you mean 'fairness.sex.demographic_parity_ratio.ci_low'?"),
        ("performance.roc_auc.ci.low", "did you mean 'performance.roc_auc.ci_low'?"),
        ("fairness.sex.*.tpr", "'*' ranges over names"),
        (
            "production_fairness.age.band.demographic_parity_ratio",
            "'production_fairness.age_band.demographic_parity_ratio'",
        ),
    ],
)
def test_a_typo_keeps_its_nearest_spelling_and_a_star_is_never_joined(written: str, meant: str) -> None:
    """A misspelt word is a typo, not a name with a '.'; a '*' is never made part of a name; a
    sensitive feature in production fairness is written with '_' as under fairness."""
    problem = check_pattern(written)
    assert problem is not None and meant in problem
    assert "%2E" not in problem.split("did you mean")[-1] or "production" in written


def test_a_sensitive_feature_with_a_percent_in_its_name_is_a_valid_path() -> None:
    """Sensitive features are written with '_' for '.', not percent-encoded: their '%' is literal."""
    assert check_pattern("fairness.share%.demographic_parity_ratio") is None
    assert check_pattern("shadow.groups.share%.max_change_gap") is None


def test_the_sign_off_checks_name_an_encoded_role_as_the_evidence_does() -> None:
    from modelgov.policy.schema import Rule
    from modelgov.policy.standing import rule_reads

    rule = Rule.model_validate({"id": "r", "title": "t", "approved_by": ["risk.committee"]})
    assert rule_reads(rule) == ["approvals.risk%2Ecommittee"]


def test_a_path_of_very_many_segments_is_refused_at_once() -> None:
    """A hostile policy file can write a 600 KB path; trying every template's name slot on it took
    2.6 s a rule. It is refused before any suggestion is looked for, with a message of bounded size."""
    import time

    started = time.perf_counter()
    problem = check_pattern("drift.features." + "x." * 300_000 + "psi")
    assert time.perf_counter() - started < 0.5
    assert problem is not None and "300,003 segments" in problem and len(problem) < 300
