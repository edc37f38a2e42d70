"""Conditions of approval: a sign-off given under conditions (a quarterly review, a re-validation
when the default rate moves) lists them in approvals.yml; the card and the dossier show each as met,
open or overdue on the check date, and policies read how many are open and overdue."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from modelgov.cli import main
from modelgov.errors import WorkspaceError
from modelgov.manifest import ApprovalCondition
from modelgov.workspace.load import load_workspace
from workspace_factory import edit, write_workspace

APPROVALS = "models/loans/versions/1.0/approvals.yml"
CONDITIONS = """\
    date: 2026-01-25
    conditions:
      - text: Quarterly review of the selection-rate gap.
        due: 2026-04-30
        met: 2026-04-28
        met_by: Ada Analyst
        note: Review Q1 done.
      - text: Second quarterly review.
        due: 2026-07-31
      - text: Re-validation if the default rate moves five points.
"""
POLICY = """\
id: house
title: House rules
rules:
  - id: nothing-overdue
    title: No condition of approval overdue
    evidence: approvals.model_risk.conditions_overdue
    require: {le: 0}
  - id: open-conditions
    title: Open conditions counted
    evidence: approvals.model_risk.conditions_unmet
    require: {le: 5}
"""


@pytest.mark.parametrize(
    ("today", "state"),
    [
        ("2026-07-30", "open"),
        ("2026-07-31", "open"),  # the due date itself is still in time
        ("2026-08-01", "overdue"),
    ],
)
def test_a_condition_is_overdue_the_day_after_it_is_due(today: str, state: str) -> None:
    assert ApprovalCondition(text="x", due="2026-07-31").state(today) == state
    met = ApprovalCondition(text="x", due="2026-07-31", met="2026-08-03", met_by="someone")
    assert met.state(today) == state  # met after the check date: as of then, not met
    assert met.state("2026-08-03") == "met"
    assert met.state("2026-08-03", signed_only=True) == "overdue"  # a met: line in approvals.yml is unsigned
    signed = met.model_copy(update={"met_signature": "signed", "met_entry": 7})
    assert signed.state("2026-08-03", signed_only=True) == "met"
    refused = met.model_copy(update={"met_signature": "invalid", "met_entry": 7})
    assert refused.state("2026-08-03") == "overdue"  # a signature not accepted never counts
    assert ApprovalCondition(text="standing").state("2099-01-01") == "open"


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    root = write_workspace(tmp_path / "ws")
    edit(root, APPROVALS, "    date: 2026-01-25\n", CONDITIONS)
    (root / "policies").mkdir()
    (root / "policies" / "house.yml").write_text(POLICY, encoding="utf-8")
    return root


def _results(ws: Path, tmp_path: Path, as_of: str) -> dict[str, dict]:
    out = tmp_path / f"results-{as_of}.json"
    main(["check", str(ws), "--no-cache", "-j", "1", "-q", "--as-of", as_of, "--results", str(out)])
    return {r["rule"]: r for r in json.loads(out.read_text())["results"] if r["policy"] == "house"}


@pytest.mark.parametrize(
    ("as_of", "overdue", "open_"),
    [
        ("2026-04-29", 0, 2),  # the first is met the day before; the second not yet due; the standing one open
        ("2026-04-27", 0, 3),  # before the first was met
        ("2026-08-01", 1, 2),  # the second is past its due date
    ],
)
def test_policies_read_the_open_and_overdue_conditions_on_the_check_date(
    ws: Path, tmp_path: Path, as_of: str, overdue: int, open_: int
) -> None:
    results = _results(ws, tmp_path, as_of)
    assert results["nothing-overdue"]["checks"][0]["observed"] == overdue
    assert results["nothing-overdue"]["outcome"] == ("fail" if overdue else "pass")
    assert results["open-conditions"]["checks"][0]["observed"] == open_


def test_when_the_ci_requires_signatures_a_met_line_in_approvals_yml_does_not_count(
    ws: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A pull request can write `met:` in approvals.yml; a CI that requires signatures counts only a
    signed record of a condition met (`modelgov condition`). The conditions stay owed: they only ever
    add obligations, so one whose sign-off cannot be trusted is kept, not dropped."""
    monkeypatch.setenv("MODELGOV_REQUIRE_SIGNATURES", "1")
    results = _results(ws, tmp_path, "2026-08-01")
    assert results["nothing-overdue"]["checks"][0]["observed"] == 2  # the first too: its met line is unsigned
    assert results["open-conditions"]["checks"][0]["observed"] == 3


def test_the_card_lists_each_condition_with_its_state_and_marks_the_owners_confirmation(
    ws: Path, tmp_path: Path
) -> None:
    site = tmp_path / "site"
    main(["build", str(ws), "-o", str(site), "--no-cache", "-j", "1", "-q", "--as-of", "2026-08-10"])
    card = (site / "models/loans/1.0/index.html").read_text()
    assert "1 condition of approval overdue" in card  # in the line under the title
    assert "3 conditions the sign-offs above were given under" in card
    assert "<strong>2 not met</strong>, 1 of them past its due date" in card
    assert "<strong>overdue</strong> by 10 days" in card
    assert "met 2026-04-28, confirmed by Ada Analyst" in card
    assert "in approvals.yml, unsigned" in card and "approvals.yml, unsigned, condition 1" in card
    # Ada Analyst owns the model: her confirmation is not independent
    assert "<strong>confirmed by the model&rsquo;s owner</strong>, not independently" in card or (
        "<strong>confirmed by the model's owner</strong>, not independently" in card
    )
    assert card.index("<strong>overdue</strong>") < card.index(">open<") < card.index("met 2026-04-28")
    overview = (site / "compliance/index.html").read_text()
    section = overview[overview.index('id="conditions-of-approval-not-met"') :]
    assert "2 conditions are not met, 1 past its due date" in section
    assert section.index("Second quarterly review.") < section.index("Re-validation if the default rate")
    assert "Quarterly review of the selection-rate gap." not in section.split("Waivers")[0]  # met: on the card only
    assert 'href="../models/loans/1.0/index.html#conditions-of-approval"' in section


@pytest.mark.parametrize(
    ("as_of", "soon", "words"), [("2026-07-10", True, "due in 21 days"), ("2026-06-01", False, "due in 60 days")]
)
def test_a_condition_coming_due_within_30_days_is_marked_before_it_is_overdue(
    ws: Path, tmp_path: Path, as_of: str, soon: bool, words: str
) -> None:
    site = tmp_path / "site"
    main(["build", str(ws), "-o", str(site), "--no-cache", "-j", "1", "-q", "--as-of", as_of])
    card = (site / "models/loans/1.0/index.html").read_text()
    assert (f"open, <strong>{words}</strong>" in card) is soon
    assert (f"open, {words}" in card) is not soon
    assert ("<strong>2 not met</strong>, 1 due within 30 days." in card) is soon
    assert "conditions of approval overdue" not in card and "1 condition of approval overdue" not in card
    overview = (site / "compliance/index.html").read_text()
    section = overview[overview.index('id="conditions-of-approval-not-met"') :]
    assert (
        "2 conditions are not met, 1 due within 30 days; overdue ones first, then the soonest due" in section
    ) is soon
    # the one due comes before the standing one, which has no due date
    assert section.index("Second quarterly review.") < section.index("Re-validation if the default rate")
    # the dossier says the same (its HTML, before layout)
    from modelgov.dossier.document import build_dossier
    from modelgov.manifest import read

    dossier = build_dossier(read(site / "manifest.json"), "loans", "1.0").html
    assert (f"<strong>{words}</strong>" in dossier) is soon and (f", {words}" in dossier) is not soon


@pytest.mark.parametrize(("as_of", "overdue"), [("2026-07-31", False), ("2026-08-10", True)])
def test_without_policies_conditions_are_judged_on_the_check_date_asked_for(
    ws: Path, tmp_path: Path, as_of: str, overdue: bool
) -> None:
    """The check date is recorded in the manifest whether or not a policy applies: a build with
    ``--as-of`` and no policies judges its conditions on that date, not on the day it ran."""
    import shutil

    shutil.rmtree(ws / "policies")
    site = tmp_path / "site"
    main(["build", str(ws), "-o", str(site), "--no-cache", "-j", "1", "-q", "--as-of", as_of])
    built = json.loads((site / "manifest.json").read_text())
    assert built["governance"] is None and built["as_of"] == as_of
    card = (site / "models/loans/1.0/index.html").read_text()
    assert ("1 condition of approval overdue" in card) is overdue
    assert ("<strong>overdue</strong> by 10 days" in card) is overdue


@pytest.mark.parametrize(
    ("condition", "key", "words"),
    [
        ("      - {text: Review., met: 2026-02-01}\n", "approvals[0].conditions[0]", "`met` and `met_by` go together"),
        ("      - {text: Review., met_by: Rita}\n", "approvals[0].conditions[0]", "`met` and `met_by` go together"),
        ("      - {text: Review., met: 2099-01-01, met_by: Rita}\n", "approvals[0].conditions[0].met", "in the future"),
        ("      - {text: ''}\n", "approvals[0].conditions[0].text", "at least 1 character"),
        ("      - {text: '   '}\n", "approvals[0].conditions[0]", "`text` is blank"),
        (
            "      - {text: Review., met: 2026-01-02, met_by: Rita}\n",
            "approvals[0]",
            "before the approval it belongs to",
        ),
        ("      - {text: Review., due: 2026-01-02}\n", "approvals[0]", "due on 2026-01-02, before the approval"),
    ],
)
def test_a_malformed_condition_is_named_by_file_line_and_key(
    tmp_path: Path, condition: str, key: str, words: str
) -> None:
    root = write_workspace(tmp_path / "ws")
    edit(root, APPROVALS, "    date: 2026-01-25\n", "    date: 2026-01-25\n    conditions:\n" + condition)
    with pytest.raises(WorkspaceError) as info:
        load_workspace(root)
    [problem] = info.value.problems
    assert (problem.file, problem.key) == (APPROVALS, key) and problem.line is not None
    assert words in problem.message


def test_a_page_lists_at_most_the_200_most_pressing_conditions(tmp_path: Path) -> None:
    """A hostile log can hold millions of conditions; a page of them would hang the build. The card
    and the overview list the most pressing, overdue first, and say how many there are."""
    root = write_workspace(tmp_path / "ws")
    many = "".join(f"      - {{text: Review {n}., due: 2026-02-{1 + n % 28:02d}}}\n" for n in range(250))
    edit(root, APPROVALS, "    date: 2026-01-25\n", "    date: 2026-01-25\n    conditions:\n" + many)
    site = tmp_path / "site"
    main(["build", str(root), "-o", str(site), "--no-cache", "-j", "1", "-q", "--as-of", "2026-02-20"])
    card = (site / "models/loans/1.0/index.html").read_text()
    section = card[card.index('id="conditions-of-approval"') :]
    assert "The 200 most pressing of the 250 conditions are listed" in section
    assert section.count("Review ") == 200
    # judged on the check date asked for: 171 of the 250 fall due before 20 February, and come first
    assert section.count("<strong>overdue</strong>") == 171
    # then the 29 soonest due of the 79 open ones (all within 30 days), the soonest first; the rest are cut
    assert section.count("open, <strong>due") == 29
    assert section.rindex("<strong>overdue</strong>") < section.index("open, <strong>due that day</strong>")
    assert section.rindex("<strong>due that day</strong>") < section.index("<strong>due in 1 day</strong>")
    assert section.rindex("<strong>due in 2 days</strong>") < section.index("<strong>due in 3 days</strong>")
    assert "due in 4 days" not in section
