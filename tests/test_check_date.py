"""The check date (``--as-of``) cuts off every record dated after it, its day of grace aside: a
promotion, as sign-offs, conditions, flags and risk assessments are; and the calendar's last day
checks without overflowing."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from modelgov.audit import append
from modelgov.cli import main
from workspace_factory import write_workspace

POLICY = """\
id: dates
title: Dates
rules:
  - id: promoted
    title: Production reached through modelgov promote
    status_recorded: true
  - id: fresh
    title: Validated within a year
    max_age_days: {approvals: 365, approved_by: [model_risk]}
"""


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    root = write_workspace(tmp_path / "ws")
    (root / "policies").mkdir()
    (root / "policies" / "dates.yml").write_text(POLICY, encoding="utf-8")
    append(
        root, actor="olga@bank.example", action="status", model="loans", version="1.0", outcome="production",
        details={"from": "staging", "to": "production"}, concerns="models/loans/versions/1.0/version.yml",
        time=dt.datetime(2026, 2, 5, 10, tzinfo=dt.UTC),
    )  # fmt: skip
    return root


def _results(ws: Path, tmp_path: Path, as_of: str) -> dict[str, dict]:
    out = tmp_path / f"results-{as_of}.json"
    main(["check", str(ws), "--no-cache", "-j", "1", "-q", "--as-of", as_of, "--results", str(out)])
    return {r["rule"]: r for r in json.loads(out.read_text())["results"] if r["policy"] == "dates"}


@pytest.mark.parametrize(("as_of", "outcome"), [("2026-02-03", "fail"), ("2026-02-04", "pass"), ("2026-03-01", "pass")])
def test_a_promotion_dated_after_the_check_date_had_not_happened_on_it(
    ws: Path, tmp_path: Path, as_of: str, outcome: str
) -> None:
    promoted = _results(ws, tmp_path, as_of)["promoted"]
    assert promoted["outcome"] == outcome
    if outcome == "fail":
        assert "set the status on 2026-02-05, after the check date 2026-02-03" in promoted["message"]


def test_the_calendars_last_day_is_checked_without_overflowing(ws: Path, tmp_path: Path) -> None:
    results = _results(ws, tmp_path, "9999-12-31")
    assert results["fresh"]["outcome"] == "fail" and results["promoted"]["outcome"] == "pass"


def test_a_saved_manifest_whose_check_date_is_not_a_date_is_refused_by_render(
    ws: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Ages, expiries and due dates are counted to the manifest's check date: `render` of a saved
    manifest refuses one that is not a date, naming the key, rather than failing on the first page."""
    site = tmp_path / "site"
    main(["build", str(ws), "-o", str(site), "--no-cache", "-j", "1", "-q", "--as-of", "2026-03-01"])
    saved = json.loads((site / "manifest.json").read_text())
    assert saved["as_of"] == "2026-03-01"
    for key, value in (("as_of", "<script>"), ("as_of", "2026-03-01T00:00:00")):
        forged = tmp_path / "forged.json"
        forged.write_text(json.dumps({**saved, key: value}))
        assert main(["render", str(forged), "-o", str(tmp_path / "out")]) == 2
        assert "as_of: String should match pattern" in capsys.readouterr().err
        assert not (tmp_path / "out").exists()
    # the right shape, but no such day: refused by render and export alike, never an internal error
    for key, forged_value in (("as_of", "2026-13-45"), ("governance", {**saved["governance"], "as_of": "2026-02-30"})):
        forged = tmp_path / "forged.json"
        forged.write_text(json.dumps({**saved, key: forged_value}))
        for command in (
            ["render", str(forged), "-o", str(tmp_path / "out")],
            ["export", str(forged), "-o", str(tmp_path / "ex")],
        ):
            assert main(command) == 2, command
            err = capsys.readouterr().err
            assert "is not a day of the calendar (YYYY-MM-DD)" in err and "internal error" not in err, err
        assert not (tmp_path / "out").exists() and not (tmp_path / "ex").exists()


def test_a_condition_due_on_a_day_that_does_not_exist_is_refused_in_a_saved_manifest() -> None:
    """Conditions are judged against their due and met days on every page and in every export: a saved
    manifest cannot carry one that is not a day of the calendar (the pattern alone let 2026-02-30 by)."""
    from pydantic import ValidationError

    from modelgov.manifest import ApprovalCondition

    assert ApprovalCondition(text="review", due="2026-02-28", met="2026-02-27").due == "2026-02-28"
    for field in ("due", "met"):
        with pytest.raises(ValidationError, match="is not a day of the calendar"):
            ApprovalCondition(text="review", **{field: "2026-02-30"})
