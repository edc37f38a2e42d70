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


@pytest.mark.parametrize(
    ("signed_on", "predates"),
    [
        ("2026-01-10", ["holdout (2026-01-20)"]),
        ("2026-01-18", ["holdout (2026-01-20)"]),
        # the day before, in UTC: east of UTC the evaluation's local date is already the next day
        ("2026-01-19", []),
        ("2026-01-20", []),
    ],
)
def test_a_sign_off_dated_before_the_evaluation_it_binds_is_marked_on_the_card(
    tmp_path: Path, signed_on: str, predates: list[str]
) -> None:
    """The holdout evaluation is dated 2026-01-20; a sign-off two days or more before it, bound to it,
    is marked; one of the same day is not (an evaluation may be reviewed the day it is run), nor one
    of the day before (the evaluation's date is local, the entry's UTC: the loader's day of grace)."""
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


def test_a_stale_sign_off_is_on_the_title_line_and_in_the_exports_until_its_role_signs_again() -> None:
    """The card's title line and every export count each role whose latest sign-off is stale; a
    later sign-off of the role replaces it, and the stale one is then history."""
    from manifest_factory import make_manifest
    from modelgov.render.caveat_views import caveats
    from modelgov.render.decision_views import stale_sign_offs
    from modelgov.render.pages import render_pages

    built = make_manifest()
    model = built.models[0]
    version = next(v for v in model.versions if v.approvals)
    first = version.approvals[0]
    stale = first.model_copy(update={"evidence": "stale", "changed": ["models/credit-default/model.yml"]})
    again = first.model_copy(update={"date": "2024-08-01", "evidence": "current"})

    def card_and_caveats(approvals):
        changed = version.model_copy(update={"approvals": approvals})
        models = [model.model_copy(update={"versions": [changed if v is version else v for v in model.versions]})]
        new = built.model_copy(update={"models": [*models, *built.models[1:]]})
        page = f"models/{model.id}/{version.version}/index.md"
        card = next(p.markdown for p in render_pages(new) if p.path == page)
        return (
            stale_sign_offs(changed, new.check_date()),
            card.split("\n\n", 2)[1],
            [c.kind for c in caveats(new, models[0], changed)],
        )

    found, title, kinds = card_and_caveats([stale, *version.approvals[1:]])
    assert found == [stale] and "**1 sign-off stale** (model&#95;risk)" in title and "stale-sign-off" in kinds
    found, title, kinds = card_and_caveats([stale, *version.approvals[1:], again])
    assert found == [] and "sign-off stale" not in title and "stale-sign-off" not in kinds


def _fresh_workspace(tmp_path: Path) -> Path:
    """A workspace whose only model-risk sign-offs are logged ones, with the freshness policy; the
    version and its evaluation dated in 2024, so sign-offs from then on are after both."""
    root = write_workspace(tmp_path / "ws")
    (root / VERSION).with_name("approvals.yml").unlink()
    edit(root, VERSION, "date: 2026-01-20", "date: 2024-05-20")
    text = (root / VERSION).read_text(encoding="utf-8")
    (root / VERSION).write_text(text.replace(text[text.index("created:") :].split("\n", 1)[0], "created: 2024-05-15"))
    (root / "policies").mkdir()
    (root / "policies" / "fresh.yml").write_text(POLICY, encoding="utf-8")
    return root


def _fresh_message(root: Path, tmp_path: Path, env: dict[str, str] | None = None) -> str:
    out = tmp_path / "results.json"
    with pytest.MonkeyPatch.context() as patch:
        for name, value in (env or {}).items():
            patch.setenv(name, value)
        main(["check", str(root), "--no-cache", "-j", "1", "-q", "--as-of", "2026-03-01", "--results", str(out)])
    (result,) = [r for r in json.loads(out.read_text())["results"] if r["policy"] == "fresh"]
    assert result["outcome"] == "fail"
    return result["message"]


def test_the_age_is_of_the_sign_off_the_finding_names(tmp_path: Path) -> None:
    """A stale sign-off of 2024, then one dated after the check date: the finding names the later one
    (current: "dated after it"; stale too: the 2024 one, the latest dated by the check date), and the
    age it adds is that sign-off's, never another's."""
    card = "models/loans/model.yml"
    root = _fresh_workspace(tmp_path)
    _approve(root, dt.date(2024, 6, 3))
    edit(root, card, "\n", "\n# edited after the first sign-off\n")
    _approve(root, dt.date(2026, 6, 1))  # after the check date, current
    said = _fresh_message(root, tmp_path)
    assert "is dated 2026-06-01, after it" in said and "days old" not in said
    edit(root, card, "\n", "\n# edited after the second sign-off\n")  # both stale now
    said = _fresh_message(root, tmp_path)
    assert "the latest model_risk sign-off (rita@bank.example, 2024-06-03) is stale" in said
    assert "2026-06-01" not in said and "; it is also 636 days old (limit 365 days)" in said


def test_where_only_signed_sign_offs_count_an_old_unsigned_one_is_said_to_be_too_old_as_well(tmp_path: Path) -> None:
    root = _fresh_workspace(tmp_path)
    _approve(root, dt.date(2024, 6, 3))  # unsigned, current
    said = _fresh_message(root, tmp_path, {"MODELGOV_REQUIRE_SIGNATURES": "1"})
    assert "is unsigned; this rule requires a signed sign-off" in said
    assert "; it is also 636 days old (limit 365 days)" in said


def test_the_dossier_opens_with_what_the_build_found_in_the_exports_words() -> None:
    """The archived file's first section lists the warnings of the version's page, serious ones
    marked, with the same statements as the exports; a flag's text in it is escaped, not markup."""
    from manifest_factory import make_manifest
    from modelgov.dossier.document import build_dossier
    from modelgov.manifest import Flag
    from modelgov.render.caveat_views import caveats

    built = make_manifest()
    model = built.models[0]
    version = next(v for v in model.versions if v.status == "production")
    flag = Flag(
        id="0123456789ab", entry=7, by="Ines", time="2024-08-20T09:00:00Z", scope="version",
        text="Arrears <b>twice</b> the prediction", state="open", age_days=15,
    )  # fmt: skip
    flagged = version.model_copy(update={"flags": [flag]})
    models = [model.model_copy(update={"versions": [flagged if v is version else v for v in model.versions]})]
    built = built.model_copy(update={"models": [*models, *built.models[1:]]})
    html = build_dossier(built, model.id, version.version).html
    body = html.split('<section class="part">', 1)[1]
    assert body.startswith('<h2 id="findings">What the build found</h2>')  # the first section
    expected = caveats(built, models[0], flagged)
    assert sum(c.serious for c in expected) >= 2 and f"{sum(c.serious for c in expected)} serious findings" in body
    assert body.count("<li><strong>Serious:</strong> ") == sum(c.serious for c in expected)
    assert "1 open flag(s) from the business" in body and "Arrears &#60;b&#62;twice&#60;/b&#62;" in body
    assert "<b>twice</b>" not in body


@pytest.mark.parametrize(
    ("signed_on", "stale"),
    [
        ("2026-01-10", True),
        ("2026-01-18", True),
        ("2026-01-19", False),  # the day of grace: dates are local days
        ("2026-01-25", False),
    ],
)
def test_an_approvals_yml_sign_off_made_before_an_evaluation_of_the_version_is_stale(
    tmp_path: Path, signed_on: str, stale: bool
) -> None:
    """An approvals.yml sign-off binds no files, so it never went stale: an unsigned sign-off of 2025 kept
    counting after a 2026 re-evaluation, where a signed one, bound to its evidence, stopped. It could
    not have decided on an evaluation made after it: it is now stale, naming that evaluation's table,
    and no rule counts it."""
    root = write_workspace(tmp_path / "ws")
    edit(root, "models/loans/versions/1.0/approvals.yml", "date: 2026-01-25", f"date: {signed_on}")
    policy = root / "policies" / "risk.yml"
    policy.parent.mkdir(exist_ok=True)
    policy.write_text(
        "id: risk\ntitle: Risk\nrules:\n  - id: validated\n    title: Validated\n    approved_by: [model_risk]\n",
        encoding="utf-8",
    )
    built = _build(root, tmp_path / "site")
    (version,) = built.models[0].versions
    (approval,) = version.approvals
    assert (approval.evidence == "stale") is stale and approval.counts is not stale
    assert approval.changed == (["data/holdout.csv"] if stale else [])
    (result,) = [r for r in built.governance.results if r.policy == "risk"]
    assert result.outcome == ("fail" if stale else "pass"), result.message
    if stale:
        assert f"(Rita Reviewer, {signed_on}) is stale: evaluated again since sign-off (data/holdout.csv)" in (
            result.message
        )
        page = (tmp_path / "site" / "models" / "loans" / "1.0" / "index.html").read_text(encoding="utf-8")
        assert "stale: evaluated again since sign-off" in page
