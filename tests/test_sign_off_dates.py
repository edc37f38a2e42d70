"""A sign-off dated before the evaluations it binds (it could not have decided on them: one of the
two dates is wrong), and a freshness rule that says a stale sign-off is too old as well."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from modelgov import manifest as manifest_io
from modelgov.audit import append
from modelgov.cli import main
from modelgov.decisions.evidence import version_evidence
from modelgov.workspace.load import load_workspace
from workspace_factory import edit, write_workspace

VERSION = "models/loans/versions/1.0/version.yml"
POLICY = """\
id: fresh
title: Fresh validation
rules:
  - id: validated-within-a-year
    title: Validated within a year
    max_age_days: {approvals: 365, approved_by: [model_risk]}
"""


def _approve(root: Path, day: dt.date) -> None:
    """A model-risk sign-off logged on ``day``, bound to the version's evidence as it is now (as
    ``modelgov approve`` binds it, with the entry's date chosen by hand)."""
    workspace = load_workspace(root)
    evidence = version_evidence(workspace, "loans", workspace.models["loans"].versions["1.0"])
    append(
        root, actor="rita@bank.example", action="approval", model="loans", version="1.0", outcome="approved",
        details={"role": "model_risk"}, concerns=VERSION, evidence=evidence.files,
        time=dt.datetime.combine(day, dt.time(10), dt.UTC),
    )  # fmt: skip


def _build(root: Path, out: Path, as_of: str = "2026-03-01") -> manifest_io.Manifest:
    main(["build", str(root), "-o", str(out), "--no-cache", "-j", "1", "-q", "--as-of", as_of])
    return manifest_io.read(out / "manifest.json")


def _logged(built: manifest_io.Manifest) -> manifest_io.Approval:
    (version,) = built.models[0].versions
    return next(a for a in version.approvals if a.entry is not None)


@pytest.mark.parametrize(("signed_on", "predates"), [("2026-01-10", ["holdout (2026-01-20)"]), ("2026-01-20", [])])
def test_a_sign_off_dated_before_the_evaluation_it_binds_is_marked_on_the_card(
    tmp_path: Path, signed_on: str, predates: list[str]
) -> None:
    """The holdout evaluation is dated 2026-01-20; a sign-off of 2026-01-10 bound to it is marked, one
    of the same day is not (an evaluation may be reviewed the day it is run)."""
    root = write_workspace(tmp_path / "ws")
    _approve(root, dt.date.fromisoformat(signed_on))
    built = _build(root, tmp_path / "site")
    approval = _logged(built)
    assert approval.evidence == "current" and approval.predates == predates
    card = (tmp_path / "site" / "models" / "loans" / "1.0" / "index.html").read_text(encoding="utf-8")
    assert ("A sign-off dated before the evidence it binds" in card) is bool(predates)
    assert ("dated before the evaluations it binds" in card) is bool(predates)
    if predates:
        assert "binds holdout (2026-01-20), dated after it" in card


def test_a_sign_off_whose_version_record_changed_since_is_not_judged_by_the_dates_written_now(
    tmp_path: Path,
) -> None:
    """The dates a stale sign-off saw may not be the dates written now: it is stale, not mis-dated."""
    root = write_workspace(tmp_path / "ws")
    edit(root, VERSION, "date: 2026-01-20", "date: 2026-01-05")
    _approve(root, dt.date(2026, 1, 10))  # after the evaluation as then dated
    edit(root, VERSION, "date: 2026-01-05", "date: 2026-01-20")  # the date moved after the sign-off
    approval = _logged(_build(root, tmp_path / "site"))
    assert approval.evidence == "stale" and VERSION in approval.changed and approval.predates == []


@pytest.mark.parametrize(("signed_on", "old"), [("2026-01-22", False), ("2024-06-03", True)])
def test_a_freshness_rule_says_when_a_stale_sign_off_is_too_old_as_well(
    tmp_path: Path, signed_on: str, old: bool
) -> None:
    """A stale sign-off does not count, so the rule fails either way; it also says when the sign-off
    is past the limit, since a new review is then owed, not a re-approval of the changed files."""
    root = write_workspace(tmp_path / "ws")
    (root / "approvals.yml").unlink(missing_ok=True)
    (root / VERSION).with_name("approvals.yml").unlink()  # the logged sign-off is the only one
    if old:
        edit(root, VERSION, "date: 2026-01-20", "date: 2024-05-20")
    (root / "policies").mkdir()
    (root / "policies" / "fresh.yml").write_text(POLICY, encoding="utf-8")
    _approve(root, dt.date.fromisoformat(signed_on))
    edit(root, "models/loans/model.yml", "\n", "\n# edited after the sign-off\n")  # the card: stale now
    out = tmp_path / "results.json"
    main(["check", str(root), "--no-cache", "-j", "1", "-q", "--as-of", "2026-03-01", "--results", str(out)])
    (result,) = [r for r in json.loads(out.read_text())["results"] if r["policy"] == "fresh"]
    assert result["outcome"] == "fail" and "is stale: evidence changed since sign-off" in result["message"]
    days = (dt.date(2026, 3, 1) - dt.date.fromisoformat(signed_on)).days
    assert (f"; it is also {days} days old (limit 365 days)" in result["message"]) is old


def test_the_dossier_and_the_readme_mark_a_sign_off_dated_before_its_evidence() -> None:
    """The archival dossier and the exported README say what the card says of such a sign-off."""
    from manifest_factory import make_manifest
    from modelgov.dossier.governance import signoff_section
    from modelgov.export.hf import hf_model_card

    built = make_manifest()
    model = built.models[0]
    version = next(v for v in model.versions if v.approvals)
    marked = [version.approvals[0].model_copy(update={"predates": ["holdout-2024q1 (2024-06-01)"]})]
    marked += version.approvals[1:]
    changed = version.model_copy(update={"approvals": marked})
    section = signoff_section(built, model, changed)
    assert "dated before the evaluations it binds</strong>: holdout-2024q1 (2024-06-01)" in section
    assert "dated before the evaluations it binds" not in signoff_section(built, model, version)
    readme = hf_model_card(built, model, changed)
    assert "; dated before the evaluations it binds: holdout-2024q1 (2024-06-01))" in readme
