"""Risk assessment: the default matrix cell by cell against a hand-written table, the overall severity
and implied tier, due and overdue at the boundary, the loader's errors with file:line, the policy
paths (and a model without an assessment), the inventory's order, the heat map's placement, and
hostile text on the pages."""

from __future__ import annotations

import datetime as dt
import html
import json
import re
from pathlib import Path

import pytest

from manifest_factory import make_manifest
from modelgov import manifest
from modelgov.assemble import build_manifest
from modelgov.errors import WorkspaceError
from modelgov.policy.evidence_index import evidence_index
from modelgov.policy.paths import check_pattern
from modelgov.policy.rule_context import Context
from modelgov.policy.rules import evaluate
from modelgov.policy.schema import Rule
from modelgov.render import risk_charts, risk_views, views
from modelgov.render.pages import render_pages
from modelgov.risk.matrix import assess, due_date, rated_matrix, severity
from modelgov.workspace.load import load_workspace
from modelgov.workspace.risk_schema import RiskAssessment, RiskMatrixSpec
from test_redteam_render import page_render
from workspace_factory import edit, write_workspace

PROBABILITY = ["rare", "unlikely", "possible", "likely", "almost_certain"]
IMPACT = ["negligible", "minor", "moderate", "major", "severe"]

#: The default matrix written out by hand: score = p × i, low ≤ 4 < medium ≤ 9 < high ≤ 16 < critical.
#: Rows: probability rare … almost certain; columns: impact negligible … severe.
HAND_TABLE = {
    "rare": ["low", "low", "low", "low", "medium"],  # 1 2 3 4 5
    "unlikely": ["low", "low", "medium", "medium", "high"],  # 2 4 6 8 10
    "possible": ["low", "medium", "medium", "high", "high"],  # 3 6 9 12 15
    "likely": ["low", "medium", "high", "high", "critical"],  # 4 8 12 16 20
    "almost_certain": ["medium", "high", "high", "critical", "critical"],  # 5 10 15 20 25
}
HAND_TIER = {"low": "low", "medium": "medium", "high": "high", "critical": "high"}
TIERS = ["low", "medium", "high"]


def _assessment(worst: tuple[str, str], assessed_on: str = "2026-01-10", **extra: dict) -> RiskAssessment:
    """Four named risks at rare × negligible, except ``bad_prediction`` at ``worst``."""
    risks = {name: {"probability": "rare", "impact": "negligible"} for name in ("unavailable", "decay", "skills_lost")}
    risks = {"unavailable": risks["unavailable"], "bad_prediction": {"probability": worst[0], "impact": worst[1]}}
    risks |= {name: {"probability": "rare", "impact": "negligible"} for name in ("decay", "skills_lost")}
    risks.update(extra)
    return RiskAssessment.model_validate({"assessed_by": "Rita", "assessed_on": assessed_on, "risks": risks})


# --------------------------------------------------------------------------- the matrix


@pytest.mark.parametrize("probability", PROBABILITY)
@pytest.mark.parametrize("impact", IMPACT)
def test_every_cell_of_the_default_matrix_matches_the_hand_table(probability: str, impact: str) -> None:
    matrix = rated_matrix(None)
    level, score = severity(matrix, probability, impact)
    assert level == HAND_TABLE[probability][IMPACT.index(impact)]
    assert score == (PROBABILITY.index(probability) + 1) * (IMPACT.index(impact) + 1)
    for declared in TIERS:
        rated = assess(_assessment((probability, impact)), matrix, declared, TIERS)
        # the other three risks are rare × negligible = low, so this cell sets the overall severity
        assert rated.severity == level
        assert rated.implied_tier == HAND_TIER[level]
        assert rated.implied_tier_met is (TIERS.index(declared) >= TIERS.index(HAND_TIER[level]))


def test_the_worst_risk_sets_the_severity_and_every_risk_at_it_is_named() -> None:
    rated = assess(
        _assessment(("likely", "major"), decay={"probability": "possible", "impact": "severe"}),
        rated_matrix(None),
        "medium",
        TIERS,
    )
    assert [r.severity for r in rated.risks] == ["low", "high", "high", "low"]
    assert (rated.severity, rated.severity_rank, rated.set_by) == ("high", 3, ["bad_prediction", "decay"])
    assert [r.score for r in rated.risks] == [1, 16, 15, 1]
    # declared medium is below the implied high: reassessed at the high tier's interval
    assert (rated.implied_tier, rated.implied_tier_met, rated.reassess_tier, rated.reassess_days) == (
        "high",
        False,
        "high",
        180,
    )
    # a model declared above its implied tier is reassessed on its declared tier's schedule
    low = assess(_assessment(("rare", "minor")), rated_matrix(None), "high", TIERS)
    assert (low.severity, low.implied_tier, low.implied_tier_met, low.reassess_days) == ("low", "low", True, 180)


def test_a_matrix_written_cell_by_cell_and_its_own_tiers() -> None:
    spec = RiskMatrixSpec.model_validate(
        {
            "probability": ["low", "high"],
            "impact": ["small", "large"],
            "levels": ["green", "amber", "red"],
            "table": {"low": ["green", "amber"], "high": ["amber", "red"]},
            "tiers": {"green": "t1", "amber": "t2", "red": "t3"},
            "reassess_every": {"t1": 400, "t2": 200, "t3": 100},
        }
    )
    matrix = rated_matrix(spec)
    assert matrix.cells == [["green", "amber"], ["amber", "red"]] and matrix.scores is None
    assessment = RiskAssessment.model_validate(
        {
            "assessed_by": "x",
            "assessed_on": "2026-03-01",
            "risks": {n: {"probability": "low", "impact": "large"} for n in ("unavailable", "bad_prediction")}
            | {n: {"probability": "low", "impact": "small"} for n in ("decay", "skills_lost")},
        }
    )
    rated = assess(assessment, matrix, "t1", ["t1", "t2", "t3"])
    # declared t1 is below the implied t2: due after t2's 200 days
    assert (rated.severity, rated.implied_tier, rated.implied_tier_met, rated.due) == (
        "amber",
        "t2",
        False,
        "2026-09-17",
    )


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"bands": {"low": 4, "medium": 9, "high": 16, "critical": 25}, "table": {}}, "bands or table, not both"),
        ({"bands": {"low": 4, "medium": 3, "high": 16, "critical": 25}}, "above the previous level"),
        ({"bands": {"low": 4, "medium": 9, "high": 16, "critical": 24}}, "must reach the highest score, 25"),
        ({"probability": ["a", "b"]}, "the default bands fit the default 5 × 5 scales"),
        ({"tiers": {"low": "low"}}, "missing medium, high, critical"),
        ({"probability": ["a", "a"], "table": {"a": []}}, "lists a level twice"),
    ],
)
def test_a_matrix_that_does_not_add_up_is_refused(spec: dict, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        RiskMatrixSpec.model_validate(spec)


# --------------------------------------------------------------------------- due and overdue


def test_due_and_overdue_at_the_boundary() -> None:
    rated = assess(_assessment(("possible", "major"), assessed_on="2026-01-10"), rated_matrix(None), "high", TIERS)
    assert rated.due == due_date(dt.date(2026, 1, 10), 180).isoformat() == "2026-07-09"
    assert not rated.overdue_on("2026-07-08")
    assert not rated.overdue_on("2026-07-09")  # the due date itself is on time
    assert rated.overdue_on("2026-07-10")


def _rule(**fields) -> Rule:
    return Rule.model_validate({"id": "r", "title": "r", **fields})


def _model_with(rated: manifest.RiskAssessment | None) -> tuple[manifest.Model, manifest.ModelVersion]:
    model = make_manifest().models[0].model_copy(update={"risk": rated})
    return model, model.versions[0]


@pytest.mark.parametrize(("today", "overdue", "due_in"), [("2026-07-09", False, 0), ("2026-07-10", True, -1)])
def test_the_evidence_paths_on_and_after_the_due_date(today: str, overdue: bool, due_in: int) -> None:
    rated = assess(_assessment(("possible", "major"), assessed_on="2026-01-10"), rated_matrix(None), "high", TIERS)
    model, version = _model_with(rated)
    index = evidence_index(model, version, dt.date.fromisoformat(today))
    assert index["risk.reassessment_overdue"].value is overdue
    assert index["risk.reassessment_due_in_days"].value == due_in
    assert index["risk.assessment_age_days"].value == (dt.date.fromisoformat(today) - dt.date(2026, 1, 10)).days
    assert index["risk.severity"].value == "high"
    assert index["risk.implied_tier_met"].value is True
    assert index["risk.risks.bad_prediction.severity"].value == "high"
    assert index["risk.severity"].page == f"risk.html#risk-{model.id}"
    ctx = Context(model, version, index, {}, dt.date.fromisoformat(today))
    [check] = evaluate(_rule(evidence="risk.reassessment_overdue", require={"==": False}), ctx)
    assert check.outcome == ("fail" if overdue else "pass")


def test_a_model_without_an_assessment_has_none_recorded() -> None:
    model, version = _model_with(None)
    index = evidence_index(model, version, dt.date(2026, 7, 1))
    assert not any(path.startswith("risk.") for path in index)
    ctx = Context(model, version, index, {}, dt.date(2026, 7, 1))
    [check] = evaluate(_rule(evidence="risk.implied_tier_met", require={"==": True}), ctx)
    assert check.outcome == "error"
    assert check.message == "no risk assessment recorded (model.yml risk_assessment)"


@pytest.mark.parametrize(("today", "counted"), [("2026-01-08", False), ("2026-01-09", True), ("9999-12-31", True)])
def test_an_assessment_dated_after_the_check_date_was_not_made_on_it(today: str, counted: bool) -> None:
    """Checked as of a day before the assessment (its day of grace aside), the model had none: an age
    counted backwards (-40 days) would pass any freshness rule."""
    rated = assess(_assessment(("possible", "major"), assessed_on="2026-01-10"), rated_matrix(None), "high", TIERS)
    model, version = _model_with(rated)
    index = evidence_index(model, version, dt.date.fromisoformat(today))
    assert ("risk.assessment_age_days" in index) is counted
    ctx = Context(model, version, index, {}, dt.date.fromisoformat(today))
    [check] = evaluate(_rule(evidence="risk.assessment_age_days", require={"le": 180}), ctx)
    if counted:
        assert index["risk.assessment_age_days"].value >= -1
    else:
        assert check.outcome == "error"
        assert (
            check.message
            == "the risk assessment is dated 2026-01-10, after the check date 2026-01-08: none was recorded on that date"
        )


def test_risk_paths_are_in_the_grammar() -> None:
    for path in ("risk.severity", "risk.implied_tier_met", "risk.reassessment_overdue", "risk.risks.*.severity"):
        assert check_pattern(path) is None
    assert "risk.severity" in (check_pattern("risk.severty") or "")


# --------------------------------------------------------------------------- the workspace

ASSESSMENT = """\
risk_assessment:
  assessed_by: Rita Reviewer
  assessed_on: 2026-01-10
  risks:
    unavailable: {probability: unlikely, impact: moderate}
    bad_prediction: {probability: possible, impact: major, note: Loans go to defaulters.}
    decay: {probability: likely, impact: moderate}
    skills_lost: {probability: rare, impact: major}
    vendor_exit: {probability: possible, impact: severe, title: The scoring vendor leaves the market}
"""


def _workspace(tmp_path: Path, assessment: str = ASSESSMENT) -> Path:
    root = write_workspace(tmp_path / "ws")
    (root / "models/loans/model.yml").write_text(
        (root / "models/loans/model.yml").read_text(encoding="utf-8") + assessment, encoding="utf-8"
    )
    return root


def _line_of(root: Path, rel: str, needle: str) -> int:
    lines = (root / rel).read_text(encoding="utf-8").splitlines()
    return next(number for number, line in enumerate(lines, 1) if needle in line)


def test_the_build_rates_the_assessment_into_the_manifest(tmp_path: Path) -> None:
    built = build_manifest(load_workspace(_workspace(tmp_path)), as_of=dt.date(2026, 8, 1))
    risk = built.model("loans").risk
    assert risk is not None and built.risk_matrix is not None and built.risk_matrix.default
    assert [(r.name, r.severity) for r in risk.risks] == [
        ("unavailable", "medium"),
        ("bad_prediction", "high"),
        ("decay", "high"),
        ("skills_lost", "low"),
        ("vendor_exit", "high"),
    ]
    assert risk.risks[-1].title == "The scoring vendor leaves the market"
    assert risk.set_by == ["bad_prediction", "decay", "vendor_exit"]
    assert (risk.declared_tier, risk.implied_tier, risk.implied_tier_met, risk.due) == (
        "high",
        "high",
        True,
        "2026-07-09",
    )
    assert risk.overdue_on("2026-08-01")


def test_a_workspace_without_assessments_has_no_matrix(tmp_path: Path) -> None:
    built = build_manifest(load_workspace(write_workspace(tmp_path / "ws")))
    assert built.risk_matrix is None and built.model("loans").risk is None
    assert not any(page.path == "risk.md" for page in render_pages(built))


@pytest.mark.parametrize(
    ("old", "new", "needle", "message"),
    [
        (
            "decay: {probability: likely",
            "decay: {probability: likly",
            "decay:",
            "risk_assessment.risks.decay.probability: 'likly' is not a probability level of the risk matrix; "
            "did you mean 'likely'?",
        ),
        (
            "impact: major, note",
            "impact: majr, note",
            "bad_prediction:",
            "risk_assessment.risks.bad_prediction.impact: 'majr' is not a impact level of the risk matrix; "
            "did you mean 'major'?",
        ),
        (
            "    skills_lost: {probability: rare, impact: major}\n",
            "",
            "risks:",
            "risk_assessment.risks: missing skills_lost: every assessment rates unavailable, bad_prediction, "
            "decay, skills_lost",
        ),
        (
            "assessed_on: 2026-01-10",
            "assessed_on: 2999-01-10",
            "assessed_on",
            "risk_assessment.assessed_on: 2999-01-10",
        ),
        ("    decay:", "    Decay.x:", "Decay.x", "risk_assessment.risks.Decay.x"),
    ],
)
def test_assessment_errors_name_the_file_line_and_key(
    tmp_path: Path, old: str, new: str, needle: str, message: str
) -> None:
    root = _workspace(tmp_path)
    edit(root, "models/loans/model.yml", old, new)
    with pytest.raises(WorkspaceError) as caught:
        load_workspace(root)
    text = str(caught.value)
    line = _line_of(root, "models/loans/model.yml", needle)
    assert f"models/loans/model.yml:{line}: {message}" in text, text


def test_matrix_tiers_must_be_the_workspace_tiers(tmp_path: Path) -> None:
    root = _workspace(tmp_path)
    edit(
        root,
        "governance.yml",
        "description:",
        "risk_matrix:\n  tiers: {low: low, medium: medium, high: hihg, critical: high}\n"
        "  reassess_every: {low: 700, medium: 300}\ndescription:",
    )
    with pytest.raises(WorkspaceError) as caught:
        load_workspace(root)
    text = str(caught.value)
    assert "governance.yml:4: risk_matrix.tiers.high: unknown risk tier 'hihg'; did you mean 'high'?" in text, text
    assert "governance.yml:5: risk_matrix.reassess_every: no interval for the tier high" in text, text


def test_custom_tiers_need_a_matrix_of_their_own(tmp_path: Path) -> None:
    root = _workspace(tmp_path)
    edit(root, "governance.yml", "description:", "risk_tiers:\n  - {id: tier-1}\n  - {id: tier-2}\ndescription:")
    edit(root, "models/loans/model.yml", "risk_tier: high", "risk_tier: tier-2")
    with pytest.raises(WorkspaceError, match=r"governance.yml:3: risk_tiers: models have risk assessments"):
        load_workspace(root)


# --------------------------------------------------------------------------- the pages


def _rated(severity_cell: tuple[str, str], declared: str = "high", **fields) -> manifest.RiskAssessment:
    return assess(_assessment(severity_cell, **fields), rated_matrix(None), declared, TIERS)


def _manifest_with(risks: list[manifest.RiskAssessment | None], names: list[str] | None = None) -> manifest.Manifest:
    base = make_manifest()
    template = base.models[0]
    models = [
        template.model_copy(update={"id": f"m{n}", "name": (names or [])[n] if names else f"Model {n}", "risk": risk})
        for n, risk in enumerate(risks)
    ]
    return base.model_copy(update={"models": models, "risk_matrix": rated_matrix(None)})


def test_the_inventory_lists_the_most_severe_first_and_keeps_ties_in_order() -> None:
    built = _manifest_with(
        [
            _rated(("unlikely", "moderate")),  # medium
            None,
            _rated(("likely", "major")),  # high
            _rated(("possible", "minor")),  # medium
            _rated(("almost_certain", "severe")),  # critical
            None,
        ]
    )
    order = [row.model.id for row in views.inventory(built)]
    assert order == ["m4", "m2", "m0", "m3", "m1", "m5"]
    assert [m.id for m in risk_views.unassessed(built)] == ["m1", "m5"]


def _figure(page: str) -> tuple[list[dict], dict]:
    match = re.search(r'Plotly\.newPlot\("chart--risk-matrix",', page)
    assert match, "no risk matrix chart"
    decoder = json.JSONDecoder()
    data, end = decoder.raw_decode(page, match.end())
    layout, _ = decoder.raw_decode(page, end + 1)
    return data, layout


def test_the_heat_map_places_each_model_on_its_worst_cell() -> None:
    built = _manifest_with(
        [
            _rated(("likely", "major")),
            _rated(("likely", "major")),
            _rated(("unlikely", "minor")),
            None,
            # two high risks with the same score, 12: the one with the higher impact places the model
            _rated(("possible", "major"), decay={"probability": "likely", "impact": "moderate"}),
        ],
        names=["Alpha", "Beta", "Gamma", "Delta", "Epsilon"],
    )
    data, layout = _figure(risk_charts.risk_matrix_chart(built) or "")
    [heatmap] = data
    assert heatmap["x"] == IMPACT and heatmap["y"] == PROBABILITY
    # numbered as in the risk page's table: most severe first, ties in the manifest's order
    assert [row.model.name for row in risk_views.risk_rows(built)] == ["Alpha", "Beta", "Epsilon", "Gamma"]
    expected = {
        ("likely", "major"): ["Alpha", "Beta"],
        ("unlikely", "minor"): ["Gamma"],
        ("possible", "major"): ["Epsilon"],
    }
    numbers = {"Alpha": "1", "Beta": "2", "Epsilon": "3", "Gamma": "4"}
    for p, probability in enumerate(PROBABILITY):
        for i, impact in enumerate(IMPACT):
            cell = heatmap["text"][p][i]
            placed = expected.get((probability, impact), [])
            assert re.findall(r"<b>([^<]+)</b>", cell) == [numbers[n] for n in placed], (probability, impact, cell)
            hover = heatmap["customdata"][p][i]
            assert all(f"{numbers[n]}. {n}" in hover for n in placed) and ("no model" in hover) is (not placed)
            assert f"<i>{HAND_TABLE[probability][i]}</i>" in cell
            # the colour index is the level's rank (z in the middle of its step)
            assert heatmap["z"][p][i] == ["low", "medium", "high", "critical"].index(HAND_TABLE[probability][i]) + 0.5
    assert "4 assessed models" in layout["title"]["subtitle"]["text"]


def test_a_crowded_cell_numbers_twelve_and_names_all_on_hover() -> None:
    built = _manifest_with([_rated(("likely", "major")) for _ in range(14)])
    data, _ = _figure(risk_charts.risk_matrix_chart(built) or "")
    cell, hover = data[0]["text"][3][3], data[0]["customdata"][3][3]
    assert re.findall(r"<b>(\d+)</b>", cell) == [str(n) for n in range(1, 13)] and cell.endswith("…</span>")
    assert all(f"{n + 1}. Model {n}" in hover for n in range(14))


HOSTILE = '<script>alert("x")</script> **bold** [link](javascript:alert(1))'


def test_hostile_text_in_assessments_reaches_no_page_as_markup() -> None:
    rated = _rated(("likely", "major")).model_copy(update={"assessed_by": HOSTILE})
    risks = [r.model_copy(update={"note": HOSTILE, "title": HOSTILE}) for r in rated.risks]
    rated = rated.model_copy(update={"risks": risks})
    built = _manifest_with([rated], names=[HOSTILE])
    pages = {page.path: page.markdown for page in render_pages(built)}
    for path in ("risk.md", "index.md", "models/m0/index.md"):
        rendered = page_render(pages[path])
        assert "<script>alert" not in rendered, path
        assert 'href="javascript:' not in rendered, path
        assert "<strong>bold</strong>" not in rendered, path
        assert "&lt;script&gt;alert" in html.unescape(rendered) or "&#60;script&#62;" in pages[path], path
    chart = pages["risk.md"][pages["risk.md"].index("Plotly.newPlot") :]
    assert "<script>alert" not in html.unescape(chart.replace("\\u003c", "<").replace("\\u003e", ">").split("</b>")[0])
    assert "1. &lt;script&gt;alert" in _figure(pages["risk.md"])[0][0]["customdata"][3][3]


def test_the_risk_page_says_what_a_risk_manager_needs() -> None:
    built = _manifest_with(
        [
            _rated(("likely", "major"), declared="medium", assessed_on="2026-01-10"),
            _rated(("rare", "minor"), assessed_on="2026-06-30"),
        ],
        names=["Churn", "Credit"],
    )
    as_of = built.check_date()
    body = next(page.markdown for page in render_pages(built) if page.path == "risk.md")
    assert "| 1 | [Churn](#risk-m0) | **high** |" in body
    assert "above the declared tier" in body
    churn_due = dt.date(2026, 1, 10) + dt.timedelta(days=180)
    late = (dt.date.fromisoformat(as_of) - churn_due).days
    if late > 0:
        assert f"overdue by {late:,} day" in body
    assert '### <span id="risk-m0"></span>Churn' in body
    assert "**below what the assessment implies**" in body
    model_page = next(page.markdown for page in render_pages(built) if page.path == "models/m0/index.md")
    assert "[severity **high**](../../risk.md#risk-m0)" in model_page


def test_a_matrix_written_cell_by_cell_renders_without_scores() -> None:
    spec = RiskMatrixSpec.model_validate(
        {
            "probability": ["low", "high"],
            "impact": ["small", "large"],
            "levels": ["green", "red"],
            "table": {"low": ["green", "red"], "high": ["red", "red"]},
            "tiers": {"green": "low", "red": "high"},
        }
    )
    matrix = rated_matrix(spec)
    assessment = RiskAssessment.model_validate(
        {
            "assessed_by": "x",
            "assessed_on": "2026-03-01",
            "risks": {n: {"probability": "low", "impact": "small"} for n in ("unavailable", "decay", "skills_lost")}
            | {"bad_prediction": {"probability": "low", "impact": "large"}},
        }
    )
    built = _manifest_with([assess(assessment, matrix, "medium", TIERS), None]).model_copy(
        update={"risk_matrix": matrix}
    )
    body = next(page.markdown for page in render_pages(built) if page.path == "risk.md")
    assert "governance.yml writes out the severity of each cell" in body
    assert "score" not in body.split("## Models by severity")[1]
    assert "**No risk assessment recorded** for [Model 1]" in body
    data, _ = _figure(body)
    assert data[0]["text"][0][1].count("<b>1</b>") == 1 and "1. Model 0" in data[0]["customdata"][0][1]
