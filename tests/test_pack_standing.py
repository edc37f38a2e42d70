"""Packs dated and sourced: every built-in pack states what it implements, since when and where its
clauses were read; the standing on the check date is computed at the boundaries; a rescinded pack
still renders its results under a banner; the crosswalk lists every clause exactly once per covering
rule; and a workspace pack's sources cannot put markup or a live script link on a page."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from pathlib import Path

import pytest
import yaml

from manifest_factory import HOSTILE, make_manifest
from modelgov import manifest
from modelgov.errors import WorkspaceError
from modelgov.policy.engine import LoadedPolicy, govern
from modelgov.policy.schema import PolicyFile
from modelgov.policy.standing import clause_standing, pack_standing
from modelgov.render.crosswalk_views import crosswalk_view
from modelgov.render.pages import render_pages
from modelgov.resources import builtin_packs
from modelgov.workspace.load import load_workspace
from workspace_factory import write_workspace

ALL_PACKS = sorted(builtin_packs())
SOURCE = manifest.FileRef(path="policies/x.yml", sha256="0" * 64, bytes=1)


def read_pack(name: str) -> PolicyFile:
    return PolicyFile.model_validate(yaml.safe_load(builtin_packs()[name].read_text(encoding="utf-8")))


def pack(**fields: object) -> PolicyFile:
    data: dict = {"id": "p", "title": "P", "rules": [{"id": "r", "title": "R", "evidence": "evaluation.rows",
                                                       "require": {">": 0}}]}  # fmt: skip
    data.update(fields)
    return PolicyFile.model_validate(data)


# --------------------------------------------------------------------------- every built-in pack


@pytest.mark.parametrize("name", ALL_PACKS)
def test_every_built_in_pack_states_its_instrument_status_dates_and_sources(name: str) -> None:
    policy = read_pack(name)
    assert policy.instrument is not None and policy.instrument.name, name
    assert policy.status is not None, name
    if policy.framework is not None:  # `baseline` implements no dated text, and says so
        assert policy.published is not None and policy.applies_from is not None, name
    assert policy.sources, name
    known = {s.id for s in policy.sources}
    for source in policy.sources:
        assert source.title.strip()
        assert source.url is not None and source.url.startswith("https://"), source.id
    for rule in policy.rules:
        for ref in rule.references:
            assert ref.source in known, f"{name}: {rule.id} cites {ref.clause} without a known source"
    for clause in policy.coverage:
        assert clause.source in known, f"{name}: clause {clause.clause} has no known source"
    if policy.status == "rescinded":
        assert policy.rescinded_on is not None and policy.superseded_by


def test_sr_11_7_is_rescinded_by_sr_26_2_and_the_dates_are_the_verified_ones() -> None:
    old, new = read_pack("sr-11-7"), read_pack("sr-26-2")
    assert (old.status, old.rescinded_on) == ("rescinded", dt.date(2026, 4, 17))
    assert "SR 26-2" in (old.superseded_by or "")
    assert (new.status, new.applies_from) == ("in_force", dt.date(2026, 4, 17))
    eu = read_pack("eu-ai-act-high-risk")
    assert eu.applies_from == dt.date(2027, 12, 2)  # Annex III, as the Digital Omnibus moved it
    assert read_pack("osfi-e-23").applies_from == dt.date(2027, 5, 1)
    assert read_pack("colorado-sb-26-189").applies_from == dt.date(2027, 1, 1)


def test_sr_26_2_sets_the_review_cadence_by_materiality() -> None:
    rules = {r.id: r for r in read_pack("sr-26-2").rules}
    cadence = {
        tuple(r.applies_to.risk_tier): r.max_age_days.approvals
        for r in rules.values()
        if r.id.startswith("validation-cadence-") and r.applies_to and r.max_age_days
    }
    assert cadence == {("high",): 365, ("medium",): 730, ("low",): 1095}


# --------------------------------------------------------------------------- standing at the boundaries

DAY = dt.date(2027, 12, 2)


@pytest.mark.parametrize(
    ("as_of", "state", "days"),
    [(DAY - dt.timedelta(days=1), "coming", 1), (DAY, "in force", 0), (DAY + dt.timedelta(days=1), "in force", -1)],
)
def test_a_pack_is_coming_until_the_day_it_applies(as_of: dt.date, state: str, days: int) -> None:
    standing = pack_standing(pack(applies_from=DAY, status="not_yet_applicable"), as_of)
    assert (standing.state, standing.date, standing.days) == (state, "2027-12-02", days)


@pytest.mark.parametrize(
    ("as_of", "state"),
    [(dt.date(2026, 4, 16), "in force"), (dt.date(2026, 4, 17), "rescinded"), (dt.date(2026, 4, 18), "rescinded")],
)
def test_a_pack_is_rescinded_from_its_rescission_day(as_of: dt.date, state: str) -> None:
    policy = pack(applies_from=dt.date(2011, 4, 4), status="rescinded", rescinded_on=dt.date(2026, 4, 17),
                  superseded_by="SR 26-2")  # fmt: skip
    standing = pack_standing(policy, as_of)
    assert standing.state == state
    if state == "rescinded":
        assert (standing.date, standing.by, standing.days) == (
            "2026-04-17",
            "SR 26-2",
            (dt.date(2026, 4, 17) - as_of).days,
        )


def test_a_clause_with_its_own_date_phases_in_and_a_rescinded_pack_takes_its_clauses_with_it() -> None:
    policy = pack(
        applies_from=dt.date(2026, 1, 1),
        coverage=[
            {"clause": "A", "title": "a", "rules": ["r"], "applies_from": "2028-08-02"},
            {"clause": "B", "title": "b"},
        ],
    )
    as_of = dt.date(2027, 1, 1)
    standing = pack_standing(policy, as_of)
    a, b = (clause_standing(c, standing, as_of) for c in policy.coverage)
    assert (a.state, a.days) == ("coming", (dt.date(2028, 8, 2) - as_of).days)
    assert b.state == "in force"
    gone = pack_standing(pack(status="rescinded", rescinded_on=dt.date(2026, 1, 1)), as_of)
    assert clause_standing(policy.coverage[0], gone, as_of).state == "rescinded"


def test_a_pack_without_dates_says_so() -> None:
    assert pack_standing(pack(), dt.date(2026, 1, 1)).state == "no dates"


def test_a_rescinded_status_needs_its_day(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="rescinded_on"):
        pack(status="rescinded")


# --------------------------------------------------------------------------- loading workspace packs


def _workspace_with_policy(tmp_path: Path, text: str) -> Path:
    root = write_workspace(tmp_path / "ws")
    (root / "policies").mkdir(exist_ok=True)
    (root / "policies" / "mine.yml").write_text(text, encoding="utf-8")
    return root


POLICY_TEXT = """id: mine
title: Mine
sources:
  - {id: law, title: The law, url: "URL"}
rules:
  - id: tested
    title: Tested
    evidence: evaluation.rows
    require: {">": 0}
    references:
      - {framework: Law, clause: "1", source: SOURCE}
"""


def test_a_clause_citing_an_unknown_source_is_reported_at_its_line(tmp_path: Path) -> None:
    root = _workspace_with_policy(tmp_path, POLICY_TEXT.replace("URL", "https://example.org").replace("SOURCE", "lwa"))
    with pytest.raises(WorkspaceError) as info:
        load_workspace(root)
    assert "policies/mine.yml:11: rules[0].references[0].source: no source 'lwa'" in str(info.value)
    assert "did you mean 'law'" in str(info.value)


def test_a_source_url_that_is_not_http_is_refused(tmp_path: Path) -> None:
    root = _workspace_with_policy(tmp_path, POLICY_TEXT.replace("URL", "javascript:alert(1)").replace("SOURCE", "law"))
    with pytest.raises(WorkspaceError) as info:
        load_workspace(root)
    assert "policies/mine.yml:4: sources[0].url" in str(info.value)


def test_a_workspace_pack_may_omit_dates(tmp_path: Path) -> None:
    text = POLICY_TEXT.replace("URL", "https://example.org").replace("SOURCE", "law")
    loaded = load_workspace(_workspace_with_policy(tmp_path, text)).policies
    assert [p.policy.id for p in loaded] == ["mine"]


# --------------------------------------------------------------------------- crosswalk


def _report(names: list[str], as_of: dt.date = dt.date(2026, 11, 24)) -> manifest.GovernanceReport:
    policies = [LoadedPolicy(read_pack(n), SOURCE, pack=n) for n in names]
    empty = make_manifest().model_copy(update={"models": [], "governance": None})
    return govern(empty, policies, [], as_of)


def test_the_crosswalk_lists_every_clause_once_per_covering_rule_and_the_uncovered_ones() -> None:
    report = _report(ALL_PACKS)
    view = crosswalk_view(report)
    shown = Counter(
        (item.policy.id, item.rule.id, ref.framework, ref.clause)
        for row in view.rows
        for item in row.rules
        for ref in item.clauses
    )
    expected: Counter = Counter()  # straight from the YAML files
    uncovered = set()
    for name in ALL_PACKS:
        data = yaml.safe_load(builtin_packs()[name].read_text(encoding="utf-8"))
        for rule in data["rules"]:
            for ref in rule.get("references", []):
                expected[(data["id"], rule["id"], ref["framework"], str(ref["clause"]))] += 1
        uncovered |= {(data["id"], str(c["clause"])) for c in data.get("coverage", []) if not c.get("rules")}
    assert shown == expected
    assert {(u.policy.id, u.clause.clause) for u in view.uncovered} == uncovered
    assert len(view.uncovered) == len(uncovered)
    # one row per distinct list of evidence, and rules that read the same evidence share it
    rows = [row.reads for row in view.rows]
    assert len(rows) == len(set(rows))
    held_out = next(row for row in view.rows if row.reads == ("evaluation.rows",))
    assert {"EU AI Act", "SR 26-2", "OSFI E-23", "ISO/IEC 42001", "NIST AI RMF"} <= set(held_out.frameworks)


def test_the_crosswalk_carries_each_clauses_standing() -> None:
    view = crosswalk_view(_report(["sr-11-7", "eu-ai-act-high-risk"], as_of=dt.date(2027, 12, 1)))
    states = {
        (item.policy.id, ref.standing.state, ref.standing.days)
        for row in view.rows
        for item in row.rules
        for ref in item.clauses
    }
    assert states == {
        ("sr-11-7", "rescinded", (dt.date(2026, 4, 17) - dt.date(2027, 12, 1)).days),
        ("eu-ai-act-high-risk", "coming", 1),
    }


# --------------------------------------------------------------------------- pages


def _pages(built: manifest.Manifest) -> dict[str, str]:
    return {p.path: p.markdown for p in render_pages(built)}


def _with_policies(
    policies: list[manifest.Policy], results: list[manifest.PolicyResult] | None = None, as_of: dt.date | None = None
) -> manifest.Manifest:
    built = make_manifest()
    report = built.governance
    assert report is not None
    update: dict = {"policies": policies, "results": results or [], "waivers": []}
    if as_of is not None:
        update["as_of"] = as_of.isoformat()
    return built.model_copy(update={"governance": report.model_copy(update=update)})


def test_the_rescinded_sr_11_7_still_renders_its_results_under_a_banner() -> None:
    built = make_manifest()
    model, version = built.models[0], built.models[0].versions[0]
    report = _report(["sr-11-7", "sr-26-2"])
    result = manifest.PolicyResult(policy="sr-11-7", rule="annual-review", model=model.id, version=version.version,
                                   severity="blocking", outcome="fail", message="model_risk approval 648 days old")  # fmt: skip
    pages = _pages(_with_policies(report.policies, [result], as_of=dt.date(2026, 11, 24)))
    page = pages["compliance/sr-11-7.md"]
    assert '!!! danger "Rescinded on 2026-04-17, replaced by SR 26-2' in page
    assert "approval 648 days old" in page  # the history still reads
    overview = pages["compliance/index.md"]
    assert "rescinded on 2026-04-17" in overview and "in force since 2026-04-17" in overview
    assert "compliance/crosswalk.md" in pages


def test_coming_obligations_are_listed_with_the_days_to_go() -> None:
    pages = _pages(
        _with_policies(
            _report(["eu-ai-act-high-risk", "osfi-e-23"], as_of=dt.date(2026, 11, 24)).policies,
            as_of=dt.date(2026, 11, 24),
        )
    )
    overview = pages["compliance/index.md"]
    assert "| 2027-05-01 | 158 |" in overview  # OSFI E-23, 158 days after 24 November 2026
    assert "| 2027-12-02 | 373 |" in overview
    eu = pages["compliance/eu-ai-act-high-risk.md"]
    assert "coming: applies from 2027-12-02, in 373 days" in eu
    row = next(line for line in eu.splitlines() if line.startswith("| **Annex IV, point 2(g)**"))
    assert "not verified against its source" in row  # the pack marks it verified: false
    assert "## Sources" in eu and "Regulation (EU) 2024/1689" in eu


def test_hostile_sources_reach_no_page_as_markup_or_a_live_link() -> None:
    policy = _report(["iso-42001"]).policies[0]
    hostile = policy.model_copy(
        update={
            "sources": [manifest.PolicySource(id="x", title=HOSTILE, url="javascript:alert(1)", date=HOSTILE)],
            "instrument": manifest.PolicyInstrument(name=HOSTILE, number=HOSTILE, issuer=HOSTILE),
            "version": HOSTILE,
            "superseded_by": HOSTILE,
            "coverage": [c.model_copy(update={"source": "x", "title": HOSTILE}) for c in policy.coverage],
        }
    )
    pages = _pages(_with_policies([hostile]))
    for path in ("compliance/iso-42001.md", "compliance/crosswalk.md", "compliance/index.md"):
        page = pages[path]
        assert "<script" not in page and "<img" not in page, path
        assert not re.search(r"\]\(\s*javascript:", page, re.I), path
        assert 'href="javascript:' not in page.lower(), path


# --------------------------------------------------------------------------- what blocks


def test_a_failure_under_a_coming_or_rescinded_text_is_reported_but_never_blocks() -> None:
    built = make_manifest()
    model, version = built.models[0], built.models[0].versions[0]
    rule = {"id": "owner", "title": "Owner", "evidence": "model.owner.email", "require": {"==": "nobody@nowhere"}}
    as_of = dt.date(2026, 11, 24)

    def verdict(**dates: object) -> tuple[str, str | None, bool]:
        policy = LoadedPolicy(pack(rules=[rule], **dates), SOURCE)
        report = govern(built, [policy], [], as_of)
        mine = next(r for r in report.results if (r.model, r.version) == (model.id, version.version))
        return mine.outcome, mine.not_in_force, report.blocking

    assert verdict(applies_from=as_of) == ("fail", None, True)  # in force from today: blocks
    assert verdict(applies_from=as_of + dt.timedelta(days=1)) == ("fail", "coming", False)
    assert verdict(status="rescinded", rescinded_on=as_of) == ("fail", "rescinded", False)
    assert verdict(status="rescinded", rescinded_on=as_of + dt.timedelta(days=1)) == ("fail", None, True)
    assert verdict() == ("fail", None, True)  # no dates declared: the workspace's own policy blocks as before


def test_the_ci_reports_show_a_result_not_in_force_without_failing() -> None:
    from modelgov.policy.outputs import junit_xml, results_csv

    built = make_manifest()
    rule = {"id": "owner", "title": "Owner", "evidence": "model.owner.email", "require": {"==": "nobody@nowhere"}}
    as_of = dt.date(2026, 11, 24)
    policy = LoadedPolicy(pack(rules=[rule], applies_from=as_of + dt.timedelta(days=10)), SOURCE)
    report = govern(built, [policy], [], as_of)
    assert not report.blocking
    xml = junit_xml(report)
    assert 'failures="0"' in xml and "fail, not yet in force" in xml
    rows = results_csv(report).splitlines()
    assert rows[0].endswith(",not_in_force") and all(row.endswith(",coming") for row in rows[1:] if ",fail," in row)


def test_the_crosswalk_names_the_clauses_only_a_sign_off_covers() -> None:
    view = crosswalk_view(_report(ALL_PACKS))
    expected = set()
    for name in ALL_PACKS:
        data = yaml.safe_load(builtin_packs()[name].read_text(encoding="utf-8"))
        sign_offs = {r["id"] for r in data["rules"] if "approved_by" in r}
        expected |= {
            (data["id"], str(c["clause"]))
            for c in data.get("coverage", [])
            if c.get("rules") and set(c["rules"]) <= sign_offs
        }
    assert {(c.policy.id, c.clause.clause) for c in view.signed_only} == expected
    assert ("eu-ai-act-high-risk", "Art. 14") in expected  # human oversight rests on a person's word


def test_a_pack_whose_date_has_passed_says_its_declared_status_is_out_of_date() -> None:
    """The EU pack is written as not yet applicable; checked after 2 December 2027 it is in force, and
    the page says the declaration is behind the dates rather than repeating it."""
    after = _report(["eu-ai-act-high-risk"], as_of=dt.date(2027, 12, 3)).policies
    page = _pages(_with_policies(after, as_of=dt.date(2027, 12, 3)))["compliance/eu-ai-act-high-risk.md"]
    assert "in force since 2027-12-02" in page
    assert "declares it not yet applicable; on 2027-12-03 its dates say otherwise" in page
    before = _report(["eu-ai-act-high-risk"], as_of=dt.date(2027, 12, 1)).policies
    page = _pages(_with_policies(before, as_of=dt.date(2027, 12, 1)))["compliance/eu-ai-act-high-risk.md"]
    assert "its dates say otherwise" not in page


def test_a_version_without_a_code_commit_fails_the_traceability_rules_and_says_why(tmp_path: Path) -> None:
    """A version.yml without training.code records no commit: the EU and Colorado traceability rules
    fail (as the warnings they are) and say what is missing, not that a value is undefined; with a
    commit recorded they pass."""
    from modelgov.assemble import build_manifest

    root = write_workspace(tmp_path / "ws")
    governance = root / "governance.yml"
    governance.write_text(
        governance.read_text() + "policies:\n  packs: [eu-ai-act-high-risk, colorado-sb-26-189]\n", encoding="utf-8"
    )
    as_of = dt.date(2028, 1, 1)  # both in force
    results = {(r.policy, r.rule): r for r in build_manifest(load_workspace(root), as_of=as_of).governance.results}
    for key in (("eu-ai-act-high-risk", "version-traceable"), ("colorado-sb-26-189", "updates-traceable")):
        result = results[key]
        assert (result.outcome, result.severity) == ("warn", "warning"), key
        assert "no code commit recorded for this version (version.yml training.code.commit)" in result.message
    version = root / "models/loans/versions/1.0/version.yml"
    version.write_text(
        version.read_text().replace(
            "training:\n", "training:\n  code: {repository: https://git.example/loans, commit: 4f2a9c1}\n", 1
        ),
        encoding="utf-8",
    )
    results = {(r.policy, r.rule): r for r in build_manifest(load_workspace(root), as_of=as_of).governance.results}
    assert results["eu-ai-act-high-risk", "version-traceable"].outcome == "pass"
    assert results["colorado-sb-26-189", "updates-traceable"].outcome == "pass"


def _coming_and_in_force(as_of: dt.date) -> tuple[manifest.Manifest, manifest.Model, manifest.ModelVersion]:
    """A manifest whose first version fails one rule of a pack still to come and passes one in force."""
    built = make_manifest()
    model, version = built.models[0], built.models[0].versions[0]
    failing = {"id": "owner", "title": "Owner", "evidence": "model.owner.email", "require": {"==": "nobody@nowhere"}}
    coming = LoadedPolicy(
        pack(id="coming", title="Coming", rules=[failing], applies_from=as_of + dt.timedelta(days=9)), SOURCE
    )
    in_force = LoadedPolicy(
        pack(id="now", title="Now", rules=[{**failing, "require": {"!=": "nobody@nowhere"}}]), SOURCE
    )
    report = govern(built, [coming, in_force], [], as_of)
    assert not [
        r for r in report.results if r.model == model.id and r.outcome in ("fail", "error") and not r.not_in_force
    ]
    return built.model_copy(update={"governance": report}), model, version


def test_a_failure_not_in_force_is_shown_apart_from_the_failures_that_block() -> None:
    """The matrix, the version's policy status and the counts show a failure under a text not in
    force as "not met, not in force", never as the red "fail" whose legend says it blocks; the rule's
    own line still says it fails, and why it does not block."""
    from modelgov.render.compliance_outcomes import shown_outcome
    from modelgov.render.policy_views import policy_status

    built, model, version = _coming_and_in_force(dt.date(2026, 11, 24))
    mine = [r for r in built.governance.results if (r.model, r.version) == (model.id, version.version)]
    assert sorted((r.policy, r.outcome, shown_outcome(r)) for r in mine) == [
        ("coming", "fail", "not-in-force"),
        ("now", "pass", "pass"),
    ]
    assert policy_status(built, model, version) == "not-in-force"
    page = _pages(built)["compliance/index.md"]
    row = next(line for line in page.splitlines() if line.startswith(f'| <span id="{model.id}--'))
    assert "mg-outcome--not-in-force" in row and "mg-outcome--fail" not in row, row
    assert "not met, not in force</span></div>" in page.replace('<span class="mg-stat__label">', "")
    assert re.search(r'mg-stat--fail"><span class="mg-stat__value">0<', page)
    assert "fails, and does not block: the obligation is not yet in force" in page  # results that need attention


def test_the_dossier_states_the_versions_verdict_and_what_does_not_block() -> None:
    """The dossier's policy section says whether this version blocks the release, not the gate's
    setting alone, and shows a failure under a text not in force as the site does."""
    from modelgov.dossier.governance import policy_section

    built, model, version = _coming_and_in_force(dt.date(2026, 11, 24))
    section = policy_section(built, model, version)
    assert "On this version, <strong>no result blocks the release</strong>." in section
    assert "not in force</span><br/>fail; does not block: the obligation is not yet in force" in section
    assert "blocks the release</strong>" not in section.replace("no result blocks the release</strong>", "")
    # the same rule in force: it blocks, and the dossier says so on the rule and in the verdict
    report = govern(built, [LoadedPolicy(pack(id="now", title="Now", rules=[
        {"id": "owner", "title": "Owner", "evidence": "model.owner.email", "require": {"==": "nobody@nowhere"}}
    ]), SOURCE)], [], dt.date(2026, 11, 24))  # fmt: skip
    section = policy_section(built.model_copy(update={"governance": report}), model, version)
    assert "On this version, <strong>1 result blocks the release</strong>" in section
    assert "<br/><strong>blocks the release</strong>" in section


def test_the_dossier_words_a_checks_result_as_the_site_does() -> None:
    """A rule that only warns has a check that is "not met": the dossier wrote the check's raw
    result ("— fail") beside a rule whose outcome is "warning", which the site never says."""
    from modelgov.dossier.governance import policy_section

    built, model, version = _coming_and_in_force(dt.date(2026, 11, 24))
    report = govern(built, [LoadedPolicy(pack(id="now", title="Now", rules=[
        {"id": "owner", "title": "Owner", "severity": "warning", "evidence": "model.owner.email",
         "require": {"==": "nobody@nowhere"}},
        {"id": "named", "title": "Named", "evidence": "model.owner.email", "require": {"!=": "nobody@nowhere"}},
    ]), SOURCE)], [], dt.date(2026, 11, 24))  # fmt: skip
    section = policy_section(built.model_copy(update={"governance": report}), model, version)
    assert "(requires model.owner.email == nobody@nowhere) — not met" in section
    assert "(requires model.owner.email != nobody@nowhere) — met" in section
    assert not re.search(r"\) — (fail|pass)\b", section)
