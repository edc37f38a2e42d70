"""Comparisons in the evidence index, and rules that apply only when the evidence says so (``when``):
a non-inferiority gate against the live version, and a large change that needs a named sign-off —
passing, failing, not applicable and waived — with load errors naming the file and key."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest

from modelgov.assemble import build_manifest
from modelgov.cli import main
from modelgov.errors import WorkspaceError
from modelgov.policy.evidence_index import evidence_index
from modelgov.policy.paths import check_pattern
from modelgov.workspace.load import load_workspace
from workspace_factory import holdout_table, write_workspace

AS_OF = dt.date(2026, 3, 1)

CHALLENGER = """\
created: 2026-02-10
status: candidate
previous: "1.0"
summary: Retrained.
training:
  datasets: [loans-train]
  algorithm: sklearn.linear_model.LogisticRegression
evaluations:
  - id: holdout
    data: data/holdout-1.1.csv
    dataset: loans-holdout
    date: 2026-02-12
    row_id: application
    label: defaulted
    prediction: predicted
    score: score
    threshold: 0.5
    features: [income, age]
"""

GATES = """\
id: champion-challenger
title: A challenger is promoted on evidence
applies_to: {status: [candidate, staging, production]}
rules:
  - id: non-inferior-auc
    title: ROC AUC not worse than the live version's by more than 0.01
    evidence: comparison.live.roc_auc.delta.ci_low
    require: {">=": -0.01}
    missing: not-applicable
  - id: wide-variation
    title: A large change against the live version needs model risk's sign-off
    when:
      any_of:
        - {evidence: "comparison.live.*.abs_delta", require: {">": 0.05}}
        - {evidence: "comparison.live.fairness.*.*.abs_delta", require: {">": 0.1}}
      missing: {missing}
    approved_by: [model_risk]
"""


def workspace(root: Path, *, change: str, missing: str = "not-applicable") -> Path:
    """The factory workspace (1.0 in production) and a candidate 1.1 scored on the same rows:
    ``change`` is ``worse`` (noisier scores), ``same`` (1.0's scores) or ``fairer`` (fewer false
    alarms for men: their selection rate falls, the gap between the sexes changes)."""
    write_workspace(root)
    table = holdout_table()
    table.insert(0, "application", [f"A{i:04d}" for i in range(len(table))])
    rng = np.random.default_rng(11)
    signal = 1.6 * (2 * table["defaulted"] - 1)
    table["score"] = (1 / (1 + np.exp(-(signal + rng.normal(0, 1, len(table)))))).round(6)
    table["predicted"] = (table["score"] >= 0.5).astype(int)
    table.to_csv(root / "data" / "holdout.csv", index=False)
    (root / "models/loans/versions/1.0/version.yml").write_text(
        (root / "models/loans/versions/1.0/version.yml")
        .read_text()
        .replace("    label: defaulted", "    row_id: application\n    label: defaulted")
    )
    challenger = table.copy()
    if change == "worse":
        noisier = signal + rng.normal(0, 2.5, len(table))
        challenger["score"] = (1 / (1 + np.exp(-noisier))).round(6)
    elif change == "fairer":
        men = (table["sex"] == "M") & (table["defaulted"] == 0)  # fewer false alarms for men only
        challenger.loc[men, "score"] = (table.loc[men, "score"] * 0.6).round(6)
    challenger["predicted"] = (challenger["score"] >= 0.5).astype(int)
    challenger = challenger.sample(frac=1, random_state=3)  # paired by the id column, not by position
    challenger.to_csv(root / "data" / "holdout-1.1.csv", index=False)
    folder = root / "models/loans/versions/1.1"
    folder.mkdir(parents=True)
    (folder / "version.yml").write_text(CHALLENGER)
    (root / "policies").mkdir(exist_ok=True)
    (root / "policies" / "gates.yml").write_text(GATES.replace("{missing}", missing))
    return root


def built(root: Path):
    return build_manifest(load_workspace(root), as_of=AS_OF)


def results(manifest_) -> dict[tuple[str, str], object]:
    return {(r.version, r.rule): r for r in manifest_.governance.results}


def test_the_comparison_enters_the_evidence_index(tmp_path: Path) -> None:
    made = built(workspace(tmp_path / "ws", change="worse"))
    model = made.model("loans")
    version = next(v for v in model.versions if v.version == "1.1")
    [comparison] = [c for c in version.comparisons if c.other_version == "1.0"]
    assert comparison.relation == "previous", "1.0 is both the previous and the live version"
    index = evidence_index(model, version, AS_OF)
    auc = next(d for d in comparison.deltas if d.name == "roc_auc")
    assert index["comparison.live.version"].value == "1.0"
    assert index["comparison.previous.version"].value == "1.0"
    assert index["comparison.live.rows"].value == 400
    assert index["comparison.live.roc_auc.delta"].value == auc.delta < 0
    assert index["comparison.live.roc_auc.delta.ci_low"].value == auc.interval.low
    assert index["comparison.live.roc_auc.delta.ci_high"].value == auc.interval.high
    assert index["comparison.live.roc_auc.abs_delta"].value == abs(auc.delta)
    assert index["comparison.live.roc_auc.delta.joint_low"].value == auc.joint_interval.low
    assert index["comparison.live.roc_auc.delta.joint_high"].value == auc.joint_interval.high
    sex = next(f for f in comparison.fairness if f.feature == "sex")
    gap = next(d for d in sex.disparities if (d.name, d.method) == ("demographic_parity_difference", "between_groups"))
    assert index["comparison.live.fairness.sex.demographic_parity_difference.delta"].value == gap.delta
    overall = next(d for d in sex.disparities if (d.name, d.method) == ("demographic_parity_difference", "to_overall"))
    assert index["comparison.live.fairness.sex.to_overall.demographic_parity_difference.delta"].value == overall.delta
    men = next(g for g in sex.groups if (g.group, g.rate) == ("M", "selection_rate"))
    assert index["comparison.live.fairness.sex.groups.M.selection_rate.delta"].value == men.delta
    assert index["comparison.live.fairness.sex.groups.M.selection_rate.delta.ci_low"].value == men.interval.low
    assert "comparison.live.fairness.age_band.demographic_parity_ratio.delta" in index
    assert "M" in index["comparison.live.fairness.sex.demographic_parity_difference.delta"].detail
    live = next(v for v in model.versions if v.version == "1.0")
    assert not any(path.startswith("comparison.") for path in evidence_index(model, live, AS_OF))


def test_the_rows_group_labels_match_the_evaluations_fairness_table(tmp_path: Path) -> None:
    made = built(workspace(tmp_path / "ws", change="fairer"))
    model = made.model("loans")
    new, old = (next(v for v in model.versions if v.version == name) for name in ("1.1", "1.0"))
    sex = next(f for f in next(iter(new.comparisons)).fairness if f.feature == "sex")
    for which, version in (("this", new), ("other", old)):
        table = next(r for r in version.evaluations[0].fairness if r.feature == "sex")
        for group in table.groups:
            compared = next(g for g in sex.groups if (g.group, g.rate) == (group.group, "selection_rate"))
            assert getattr(compared, which) == pytest.approx(group.metrics["selection_rate"])


def test_grammar_knows_the_comparison_paths() -> None:
    for path in (
        "comparison.live.roc_auc.delta.ci_low",
        "comparison.previous.*.abs_delta",
        "comparison.live.fairness.*.demographic_parity_ratio.delta",
        "comparison.live.fairness.sex.to_overall.equalized_odds_difference.delta.ci_high",
        "comparison.live.fairness.sex.groups.*.tpr.delta",
        "comparison.live.version",
    ):
        assert check_pattern(path) is None, path
    assert "did you mean 'comparison.live.roc_auc.delta'" in check_pattern("comparison.live.roc_auc.delt")
    assert check_pattern("comparison.champion.roc_auc.delta") is not None


def test_non_inferiority_gate(tmp_path: Path) -> None:
    worse = results(built(workspace(tmp_path / "worse", change="worse")))
    assert worse["1.1", "non-inferior-auc"].outcome == "fail"
    assert "comparison.live.roc_auc.delta.ci_low" in worse["1.1", "non-inferior-auc"].message
    assert "in this version, 0.992 in 1.0, on 400 paired rows" in worse["1.1", "non-inferior-auc"].message
    same = results(built(workspace(tmp_path / "same", change="same")))
    assert same["1.1", "non-inferior-auc"].outcome == "pass"
    assert same["1.0", "non-inferior-auc"].outcome == "not-applicable", "the live version has no champion"


def test_a_wide_variation_needs_the_named_sign_off(tmp_path: Path) -> None:
    root = workspace(tmp_path / "ws", change="worse")
    result = results(built(root))["1.1", "wide-variation"]
    assert result.outcome == "fail"
    assert result.message.startswith("applies because comparison.live.")
    assert "no model_risk decision is recorded" in result.message
    (root / "models/loans/versions/1.1/approvals.yml").write_text(
        "approvals:\n  - {role: model_risk, by: Rita Reviewer, decision: approved, date: 2026-02-20}\n"
    )
    assert results(built(root))["1.1", "wide-variation"].outcome == "pass"


def test_a_disparity_change_alone_triggers_the_rule(tmp_path: Path) -> None:
    made = built(workspace(tmp_path / "ws", change="fairer"))
    model = made.model("loans")
    index = evidence_index(model, next(v for v in model.versions if v.version == "1.1"), AS_OF)
    metrics = [v.value for p, v in index.items() if p.count(".") == 3 and p.endswith(".abs_delta") and v.value]
    assert max(metrics) <= 0.05, "the headline metrics move little"
    result = results(made)["1.1", "wide-variation"]
    assert result.outcome == "fail"
    assert "comparison.live.fairness." in result.message


def test_a_small_change_is_not_applicable_and_says_why(tmp_path: Path) -> None:
    result = results(built(workspace(tmp_path / "ws", change="same")))["1.1", "wide-variation"]
    assert result.outcome == "not-applicable"
    assert result.message.startswith("its condition does not hold: comparison.live.*.abs_delta > 0.05 or")
    assert "largest: comparison.live." in result.message


def test_no_comparison_applies_the_rule_unless_the_policy_says_otherwise(tmp_path: Path) -> None:
    strict = results(built(workspace(tmp_path / "strict", change="same", missing="apply")))["1.0", "wide-variation"]
    assert strict.outcome == "pass", "1.0 has no champion: the rule applies, and its model_risk approval counts"
    assert "cannot be evaluated" in strict.message
    lenient = results(built(workspace(tmp_path / "lenient", change="same")))["1.0", "wide-variation"]
    assert lenient.outcome == "not-applicable"


def test_a_waiver_covers_the_sign_off(tmp_path: Path) -> None:
    root = workspace(tmp_path / "ws", change="worse")
    (root / "waivers.yml").write_text(
        "waivers:\n  - {id: W-1, policy: champion-challenger, rule: wide-variation, models: [loans],"
        " versions: ['1.1'], reason: Reviewed in committee, approved_by: Helena Brandt, ticket: RISK-1,"
        " granted: 2026-02-01, expires: 2026-06-30}\n"
    )
    result = results(built(root))["1.1", "wide-variation"]
    assert (result.outcome, result.unwaived_outcome, result.waiver) == ("waived", "fail", "W-1")


@pytest.mark.parametrize(
    ("when", "expected"),
    [
        ("{any_of: [{evidence: comparison.live.roc_auc.delt, require: {'>': 0.05}}]}", "did you mean"),
        ("{any_of: []}", "any_of"),
        ("{any_of: [{evidence: comparison.live.roc_auc.abs_delta}]}", "require"),
        ("{any_of: [{evidence: comparison.live.roc_auc.abs_delta, require: {'>': 0.05}}], missing: skip}", "missing"),
        ("{evidence: comparison.live.roc_auc.abs_delta, require: {'>': 0.05}}", "any_of"),
    ],
)
def test_a_bad_when_is_a_load_error_naming_the_file_and_key(tmp_path: Path, capsys, when: str, expected: str) -> None:
    root = write_workspace(tmp_path / "ws")
    (root / "policies").mkdir()
    (root / "policies" / "gate.yml").write_text(
        "id: gate\ntitle: Gate\nrules:\n  - id: wide\n    title: Wide\n"
        f"    when: {when}\n    approved_by: [model_risk]\n"
    )
    with pytest.raises(WorkspaceError) as caught:
        load_workspace(root)
    assert "policies/gate.yml" in str(caught.value) and "when" in str(caught.value)
    assert expected in str(caught.value)
    assert main(["check", str(root)]) == 2
    assert "Traceback" not in capsys.readouterr().err


def test_the_cookbook_recipe_gates_a_challenger(tmp_path: Path) -> None:
    from test_policy_cookbook import recipes

    root = workspace(tmp_path / "ws", change="worse")
    (root / "policies" / "gates.yml").write_text(recipes()["policies/champion-challenger.yml"])
    worse = results(built(root))
    assert worse["1.1", "auc-not-inferior"].outcome == "fail"
    assert worse["1.1", "wide-variation-needs-a-person"].outcome == "fail"
    root = workspace(tmp_path / "same", change="same")
    (root / "policies" / "gates.yml").write_text(recipes()["policies/champion-challenger.yml"])
    same = results(built(root))
    assert same["1.1", "auc-not-inferior"].outcome == "pass"
    assert same["1.1", "wide-variation-needs-a-person"].outcome == "not-applicable"


def test_the_card_shows_the_groups_behind_a_changed_gap(tmp_path: Path) -> None:
    from modelgov.render.pages import render_pages

    made = built(workspace(tmp_path / "ws", change="fairer"))
    page = next(p for p in render_pages(made) if p.path == "models/loans/1.1/index.md")
    text = page.markdown
    start = text.index("**Groups by sex.**")
    section = text[start : text.index("### ", start)]
    assert "The equalized odds ratio is wider (0.832 → 0.000, between M and F)." in section
    assert "| Gap between groups | This version | Version 1&#46;0 | Difference |" in section
    # the men's selection rate fell clearly (bold), the women's did not move
    assert "| M | 213 | **-0.019**" in section and "| F | 187 | 0.000" in section
    assert "(in 1.0: 30-44 and 18-29)" in text, "a gap now between other groups names both pairs"


def test_findings_name_the_change_in_words(tmp_path: Path) -> None:
    from modelgov.render.findings import evidence_words, labels_of

    labels = labels_of(built(workspace(tmp_path / "ws", change="same")))
    assert evidence_words("comparison.live.roc_auc.delta.ci_low", labels) == (
        "The lower end of the interval of the change in ROC AUC against the live version"
    )
    assert evidence_words("comparison.previous.accuracy.abs_delta", labels) == (
        "The size of the change in Accuracy against the previous version"
    )
    assert evidence_words("comparison.live.fairness.sex.demographic_parity_ratio.delta", labels) == (
        "The change in Demographic parity ratio by sex against the live version"
    )
    assert evidence_words("comparison.live.fairness.sex.groups.F.selection_rate.delta", labels) == (
        "The change in Selection rate (predicted positives) of sex group F against the live version"
    )
    assert evidence_words("comparison.live.version", labels) is None
