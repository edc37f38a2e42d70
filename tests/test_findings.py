"""Policy findings on the site are put into words; the engine's wording stays for machines."""

from __future__ import annotations

import pytest

from modelgov.render.findings import Labels, evidence_words, plain_finding

#: As a manifest records them (the labels the analysis gives its metrics).
LABELS = Labels(
    metrics={"roc_auc": "ROC AUC"},
    group_metrics={"tpr": "True positive rate"},
    disparities={"demographic_parity_ratio": "Demographic parity ratio"},
)


@pytest.mark.parametrize(
    ("engine", "site"),
    [
        ("fairness.sex.demographic_parity_ratio: 0.553 does not meet >= 0.8",
         "Demographic parity ratio by sex is 0.553; the rule requires at least 0.8"),
        ("performance.roc_auc.ci_low: 0.753 meets >= 0.7",
         "The lower end of the ROC AUC interval is 0.753 (the rule requires at least 0.7)"),
        ("drift.drifting_windows: 8 does not meet <= 2", "Windows in the current run of drift is 8; the rule requires at most 2"),
        ("risk.implied_tier_met: false does not meet == true",
         "Governed at least at the tier its risk assessment implies: no; the rule requires yes"),
        ("risk.reassessment_overdue: false meets == false", "Risk assessment overdue: no (the rule requires no)"),
        # a rule that checks a figure exists: "> -inf" is no requirement a reader can take in
        ("monitoring.last_window.accuracy: 0.692 meets > -inf",
         "monitoring.last_window.accuracy is 0.692 (the rule requires only that it is a number: any value passes)"),
        ("model.owner.email: dana@acme.example meets != ''",
         "The owner's e-mail address is dana@acme.example (the rule requires a value (not empty))"),
        ("model.owner.email: TODO: their e-mail address is a placeholder, still to be written",
         "The owner's e-mail address is not written yet"),
        ("card.description is a placeholder ('TODO: what'); card.caveats is a placeholder ('TBD'); and 4 more",
         "The card's description is not written yet ('TODO: what'); the card's caveats and recommendations is not "
         "written yet ('TBD'); and 4 more"),
        ("fairness.sex+age_band.groups.F/18-29.tpr: 0.4 does not meet >= 0.5",
         "True positive rate of sex × age_band group F/18-29 is 0.4; the rule requires at least 0.5"),
        ("fairness.race.demographic_parity_ratio: 0.356 does not meet >= 0.8 [Other 0.210 ÷ African-American 0.588 "
         "(selection rate); left out: Native American (18 rows behind the selection rate, fewer than 30)]",
         "Demographic parity ratio by race is 0.356; the rule requires at least 0.8. Behind it: Other 0.210 ÷ "
         "African-American 0.588 (selection rate); left out: Native American (18 rows behind the selection rate, "
         "fewer than 30)"),
        ("fairness.race.pairs.African-American.Caucasian.demographic_parity_ratio: 0.592 meets >= 0.5 "
         "[Caucasian 0.348 ÷ African-American 0.588 (selection rate)]; card.caveats is a placeholder ('TBD')",
         "Demographic parity ratio of race groups African-American and Caucasian is 0.592 (the rule requires at "
         "least 0.5). Behind it: Caucasian 0.348 ÷ African-American 0.588 (selection rate); the card's caveats and "
         "recommendations is not written yet ('TBD')"),
    ],
)  # fmt: skip
def test_known_evidence_is_put_into_words(engine: str, site: str) -> None:
    assert plain_finding(engine, LABELS) == site


@pytest.mark.parametrize(
    "message",
    [
        "evaluation holdout-2026 of 2026-07-20 is 127 days old (limit 365 days)",  # already words
        "perfromance.roc_auc: 0.7 meets >= 0.5",  # a path this does not know: left as written
        "no evidence 'performance.roc_acu' for this version; did you mean 'performance.roc_auc'?",
    ],
)
def test_anything_else_is_left_as_the_engine_wrote_it(message: str) -> None:
    assert plain_finding(message, LABELS) == message


def test_unknown_paths_have_no_words() -> None:
    assert evidence_words("fairness.sex.made_up", LABELS) is None and evidence_words("card.nonsense", LABELS) is None


def test_group_names_with_dots_get_their_own_paths_and_are_worded_as_written() -> None:
    from modelgov.feature_names import group_name, group_segment

    assert group_segment("30.44") != group_segment("30_44") and group_name(group_segment("a.b%2E")) == "a.b%2E"
    message = "fairness.race.groups.Native American.tpr: 0.4 does not meet >= 0.5"
    assert (
        plain_finding(message, LABELS)
        == "True positive rate of race group Native American is 0.4; the rule requires at least 0.5"
    )
    dotted = f"fairness.age.groups.{group_segment('30.44')}.tpr: 0.4 meets >= 0.3"
    assert plain_finding(dotted, LABELS).startswith("True positive rate of age group 30.44 is 0.4")
