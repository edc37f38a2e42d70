"""Policies: every rule kind × outcome, waivers at their expiry boundary, scoping, wildcards, load
errors and the exit codes of ``modelgov check`` / ``build`` whatever the output format.

The evidence comes from a real build of the small hand-written workspace (``workspace_factory``):
one high-risk credit model ``loans`` 1.0 (production, created 2026-01-15, evaluated 2026-01-20,
approved by model_risk on 2026-01-25) with sex and age_band as sensitive features. Expected values
are read from the manifest's own evaluation (itself checked against scikit-learn and fairlearn in
the analysis tests), so these tests check the policy logic, not the metrics again.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml

from modelgov import manifest
from modelgov.assemble import build_manifest
from modelgov.cli import main
from modelgov.errors import WorkspaceError
from modelgov.policy import evidence_index, paths, rule_context
from modelgov.policy.engine import LoadedPolicy, LoadedWaiver, govern
from modelgov.policy.outputs import exit_code, junit_xml, results_csv
from modelgov.policy.rule_context import compare
from modelgov.policy.schema import PolicyFile, Requirement, Waiver
from modelgov.resources import builtin_packs
from modelgov.workspace.load import load_workspace
from workspace_factory import edit, write_workspace

TODAY = dt.date(2026, 3, 1)
SOURCE = manifest.FileRef(path="policies/test.yml", sha256="0" * 64, bytes=1)
VERSION_YML = "models/loans/versions/1.0/version.yml"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> manifest.Manifest:
    root = write_workspace(tmp_path_factory.mktemp("policy") / "ws")
    return build_manifest(load_workspace(root), as_of=TODAY)


def policy(*rules: dict, **fields) -> LoadedPolicy:
    data = {"id": "p", "title": "Test policy", "rules": list(rules), **fields}
    return LoadedPolicy(PolicyFile.model_validate(data), SOURCE)


def rule(rule_id: str = "r", **fields) -> dict:
    return {"id": rule_id, "title": "A rule", **fields}


def run(built: manifest.Manifest, *policies: LoadedPolicy, waivers=(), today=TODAY, fail_on="blocking"):
    return govern(built, list(policies), list(waivers), today, fail_on=fail_on)


def only(report: manifest.GovernanceReport) -> manifest.PolicyResult:
    assert len(report.results) == 1, report.results
    return report.results[0]


def evidence(built: manifest.Manifest, path: str):
    model = built.models[0]
    return evidence_index.evidence_index(model, model.versions[0], TODAY)[path].value


# --------------------------------------------------------------------------- comparisons


@pytest.mark.parametrize(
    ("observed", "requirement", "outcome"),
    [
        (0.8, {">=": 0.8}, "pass"),
        (0.79, {">=": 0.8}, "fail"),
        (0.8, {">": 0.8}, "fail"),
        (3, {"<=": 3}, "pass"),
        (3, {"<": 3}, "fail"),
        ("approved", {"==": "approved"}, "pass"),
        ("pending", {"==": "approved"}, "fail"),
        (True, {"==": False}, "fail"),
        (None, {">=": 0.8}, "error"),  # undefined is never a pass
        (float("nan"), {">=": 0.8}, "error"),
        ("high", {">=": 0.8}, "error"),  # text where a number is required
        (1, {"==": True}, "error"),  # a number is not a boolean
    ],
)
def test_compare_each_operator_and_type(observed, requirement, outcome) -> None:
    assert compare(observed, Requirement.model_validate(requirement))[0] == outcome


# --------------------------------------------------------------------------- evidence rules


def test_threshold_pass_fail_warn_and_error(built: manifest.Manifest) -> None:
    auc = evidence(built, "performance.roc_auc")
    assert isinstance(auc, float)
    passing = only(run(built, policy(rule(evidence="performance.roc_auc", require={">=": auc}))))
    assert passing.outcome == "pass" and passing.checks[0].observed == auc
    assert passing.checks[0].page == "models/loans/1.0/index.html#metrics"
    failing = only(run(built, policy(rule(evidence="performance.roc_auc", require={">": auc}))))
    assert failing.outcome == "fail" and "does not meet > " in failing.message
    warning = only(run(built, policy(rule(evidence="performance.roc_auc", require={">": auc}, severity="warning"))))
    assert warning.outcome == "warn"
    info = only(run(built, policy(rule(evidence="performance.roc_auc", require={">": auc}, severity="info"))))
    assert info.outcome == "warn" and info.severity == "info"


def test_how_the_numbers_were_measured_is_evidence_a_rule_can_pin(built: manifest.Manifest, tmp_path: Path) -> None:
    """The workspace's `analysis` settings narrow intervals or leave groups out of the summaries; a rule
    on `evaluation.confidence_level`, `.resamples` and `.min_group_size` catches a pull request that
    changes them."""
    assert evidence(built, "evaluation.confidence_level") == 0.95
    assert (
        evidence(built, "evaluation.resamples")
        == built.models[0].versions[0].evaluations[0].performance.metrics[0].interval.resamples
    )
    assert evidence(built, "evaluation.min_group_size") == 30
    pins = policy(
        rule("level", evidence="evaluation.confidence_level", require={">=": 0.95}),
        rule("groups", evidence="evaluation.min_group_size", require={"<=": 30}),
    )
    assert [r.outcome for r in run(built, pins).results] == ["pass", "pass"]

    root = write_workspace(tmp_path / "ws")
    with (root / "governance.yml").open("a", encoding="utf-8") as handle:
        handle.write("analysis:\n  confidence_level: 0.8\n  min_group_size: 500\n")
    loosened = build_manifest(load_workspace(root), as_of=TODAY)
    results = run(loosened, pins).results
    assert [r.outcome for r in results] == ["fail", "fail"]
    assert "0.8" in results[0].message and "500" in results[1].message


def test_the_interval_can_be_tested_instead_of_the_point(built: manifest.Manifest) -> None:
    low, value = evidence(built, "performance.accuracy.ci_low"), evidence(built, "performance.accuracy")
    assert low < value
    point = only(run(built, policy(rule(evidence="performance.accuracy", require={">=": (low + value) / 2}))))
    interval = only(run(built, policy(rule(evidence="performance.accuracy.ci_low", require={">=": (low + value) / 2}))))
    assert (point.outcome, interval.outcome) == ("pass", "fail")


def test_a_misspelt_group_is_suggested_from_the_paths_beside_it_only(built: manifest.Manifest) -> None:
    """A suggestion is looked for among the paths that differ in one segment (the other groups'
    same rate), not every value of the family: the nearest group is still found."""
    from modelgov.policy.paths import EvidenceTree

    model = built.models[0]
    groups = [p for p in evidence_index.evidence_index(model, model.versions[0], TODAY) if p.startswith("fairness.")]
    rate = next(p for p in groups if p.endswith(".selection_rate"))
    misspelt = rate.replace(".selection_rate", ".selection_rat")
    result = only(run(built, policy(rule(evidence=misspelt, require={">=": 0}))))
    assert result.outcome == "error" and f"did you mean {rate!r}?" in result.message
    near = EvidenceTree(groups).near(misspelt)
    assert rate in near
    for path in near:  # every candidate differs from the misspelt path in one segment
        assert sum(a != b for a, b in zip(path.split("."), misspelt.split("."), strict=True)) == 1, path


def test_missing_evidence_is_an_error_naming_the_closest_path(built: manifest.Manifest) -> None:
    result = only(run(built, policy(rule(evidence="performance.roc_acu", require={">=": 0.7}))))
    assert result.outcome == "error"
    assert (
        "no evidence 'performance.roc_acu'" in result.message
        and "did you mean 'performance.roc_auc'?" in result.message
    )
    missing_ok = run(built, policy(rule(evidence="drift.share_drifted", require={"<=": 0.5}, missing="not-applicable")))
    assert only(missing_ok).outcome == "not-applicable"
    missing_fails = run(built, policy(rule(evidence="drift.share_drifted", require={"<=": 0.5}, missing="fail")))
    assert only(missing_fails).outcome == "fail"


def test_a_wildcard_checks_every_sensitive_feature(built: manifest.Manifest) -> None:
    report = run(built, policy(rule(evidence="fairness.*.demographic_parity_ratio", require={">=": 0.0})))
    result = only(report)
    evaluation = built.models[0].versions[0].evaluations[0]
    expected = {
        f"fairness.{'+'.join(r.features)}.demographic_parity_ratio": next(
            d.value for d in r.disparities if d.name == "demographic_parity_ratio" and d.method == "between_groups"
        )
        for r in evaluation.fairness
    }
    assert {"fairness.sex.demographic_parity_ratio", "fairness.age_band.demographic_parity_ratio"} <= set(expected)
    assert {c.path: c.observed for c in result.checks} == expected
    # one group below the bar makes the whole rule fail, and says which
    worst = min(expected, key=expected.get)
    strict = only(
        run(built, policy(rule(evidence="fairness.*.demographic_parity_ratio", require={">": expected[worst]})))
    )
    assert strict.outcome == "fail" and worst in strict.message


# --------------------------------------------------------------------------- the other rule kinds


def test_documented_fields_must_be_written_and_not_placeholders(tmp_path: Path) -> None:
    root = write_workspace(tmp_path / "ws")
    edit(root, "models/loans/model.yml", "caveats: Not validated outside the home market.", "caveats: TBD")
    built = build_manifest(load_workspace(root), as_of=TODAY)
    result = only(run(built, policy(rule(documented=["description", "caveats"]))))
    assert result.outcome == "fail"
    assert [(c.path, c.outcome) for c in result.checks] == [("card.description", "pass"), ("card.caveats", "fail")]
    assert "placeholder" in result.checks[1].message


@pytest.mark.parametrize(
    "text",
    [
        *(
            "\u200b",
            "<b></b>",
            "&nbsp;",
            "TO\u00adDO",
            "ＴＢＤ",
            "<!-- to do -->",
            "\ufeff\u2060",
            "TO\u034fDO",
            "\u2800",
        ),
        *("\u0301", " \u0301\u0308 ", "TO\u180bDO", "T\u180fBD"),  # marks on nothing, Mongolian selectors
        *("lorem i\u0307psum", "TO\u0332DO", "n/\u0338a"),  # marks drawn over what is there
    ],
)
def test_documented_fields_that_show_nothing_or_a_placeholder_are_not_written(tmp_path: Path, text: str) -> None:
    """A field is read as a page shows it: a zero-width space, an empty tag, an entity for a space, a
    soft hyphen inside TODO or a full-width TBD is not a written field."""
    root = write_workspace(tmp_path / "ws")
    edit(
        root,
        "models/loans/model.yml",
        "caveats: Not validated outside the home market.",
        f"caveats: {json.dumps(text)}",
    )
    built = build_manifest(load_workspace(root), as_of=TODAY)
    result = only(run(built, policy(rule(documented=["description", "caveats"]))))
    assert [(c.path, c.outcome) for c in result.checks] == [("card.description", "pass"), ("card.caveats", "fail")]


def test_documented_fields_with_markup_around_words_are_written() -> None:
    from modelgov.policy.placeholders import is_placeholder

    for text in ["Credit <b>scoring</b>", "a < b and c > d", "Caf\u00e9 \u2014 ok", "Not for loans &amp; leases"]:
        assert not is_placeholder(text), text


def test_approvals_need_the_latest_decision_approved_after_creation(tmp_path: Path, built: manifest.Manifest) -> None:
    result = only(run(built, policy(rule(approved_by=["model_risk", "compliance"]))))
    assert result.outcome == "fail"
    assert [(c.path, c.outcome) for c in result.checks] == [
        ("approvals.model_risk", "pass"),
        ("approvals.compliance", "fail"),
    ]
    root = write_workspace(tmp_path / "ws")
    approvals = "models/loans/versions/1.0/approvals.yml"
    edit(root, approvals, "date: 2026-01-25", "date: 2026-01-10")  # before the version was created
    early = build_manifest(load_workspace(root), as_of=TODAY)
    # and so before its evaluation (2026-01-20): stale, as a sign-off made before its evidence is
    said = only(run(early, policy(rule(approved_by=["model_risk"])))).message
    assert "(Rita Reviewer, 2026-01-10) is stale: evaluated again since sign-off" in said
    (root / approvals).write_text(
        (root / approvals).read_text().replace("date: 2026-01-10", "date: 2026-01-25")
        + "  - {role: model_risk, by: Rita Reviewer, decision: rejected, date: 2026-02-01}\n"
    )
    rejected = build_manifest(load_workspace(root), as_of=TODAY)
    assert (
        "latest model_risk decision is rejected"
        in only(run(rejected, policy(rule(approved_by=["model_risk"])))).message
    )


@pytest.mark.parametrize(("days_after", "outcome"), [(0, "pass"), (1, "fail")])
def test_freshness_at_the_boundary(built: manifest.Manifest, days_after: int, outcome: str) -> None:
    evaluated = dt.date.fromisoformat(built.models[0].versions[0].evaluations[0].date)
    today = evaluated + dt.timedelta(days=30 + days_after)
    result = only(run(built, policy(rule(max_age_days={"evaluation": 30})), today=today))
    assert result.outcome == outcome and result.checks[0].observed == 30 + days_after


def test_a_record_dated_after_the_check_date_has_no_age(built: manifest.Manifest) -> None:
    """The loader refuses a date after the day it runs; a check date set earlier (``--as-of``) can
    still precede a record: its age is not negative, and never a pass."""
    version = built.models[0].versions[0]  # evaluated 2026-01-20, model_risk approved 2026-01-25
    early = only(run(built, policy(rule(max_age_days={"evaluation": 30})), today=dt.date(2026, 1, 18)))
    assert early.outcome == "error" and early.checks[0].observed is None
    evaluation = version.evaluations[0]
    assert early.message == (
        f"evaluation {evaluation.id} is dated 2026-01-20, after the check date 2026-01-18: it has no age on that day"
    )
    # dated the day after: the loader's day of grace (east of UTC), an age of 0, not an error
    grace = only(run(built, policy(rule(max_age_days={"evaluation": 30})), today=dt.date(2026, 1, 19)))
    assert (grace.outcome, grace.checks[0].observed) == ("pass", 0)
    fresh = policy(rule(max_age_days={"evaluation": 30, "approvals": 30, "approved_by": ["model_risk"]}))
    between = only(run(built, fresh, today=dt.date(2026, 1, 22)))
    # as of 2026-01-22 the sign-off of 2026-01-25 had not been made: no rule counts it (the red team's
    # --as-of counted a later sign-off for approved_by while the freshness rule refused it)
    assert [(c.path, c.outcome) for c in between.checks] == [
        ("evaluation.age_days", "pass"),
        ("approvals.model_risk.age_days", "fail"),
    ]
    assert "the model_risk sign-off by Rita Reviewer is dated 2026-01-25, after it" in between.message
    signed_off = only(run(built, policy(rule(approved_by=["model_risk"])), today=dt.date(2026, 1, 22)))
    assert signed_off.outcome == "fail" and "dated 2026-01-25, after it" in signed_off.message
    assert only(run(built, fresh, today=dt.date(2026, 1, 24))).outcome == "pass"  # the loader's day of grace
    assert only(run(built, fresh, today=dt.date(2026, 1, 25))).outcome == "pass"


def test_drift_limits_do_not_apply_without_a_production_log(built: manifest.Manifest) -> None:
    assert only(run(built, policy(rule(drift_limits={"max_share_drifted": 0.5})))).outcome == "not-applicable"


@pytest.mark.parametrize(
    "lookalike",
    [
        "age\u200b",
        "ＡＧＥ",
        "\u0430ge",
        "a-g-e",
        "Age ",
        "\u0430\u0261\u0435",
        "a-\u0335ge",
        "age\u0337",
        "age_\u0332",
        "\ua4ee\u0301ge",
    ],
)
def test_prohibited_features_are_compared_as_they_look(built: manifest.Manifest, lookalike: str) -> None:
    """A zero-width space, full-width letters, a Cyrillic а, dashes or a trailing space do not hide a
    prohibited input: the rule fails and says which name it took for which."""

    def rename(features: list[str]) -> list[str]:
        return [lookalike if f == "age" else f for f in features]

    model, version = built.models[0], built.models[0].versions[0]
    evaluations = [run_.model_copy(update={"features": rename(run_.features)}) for run_ in version.evaluations]
    monitoring = version.monitoring and version.monitoring.model_copy(
        update={"features": rename(version.monitoring.features)}
    )
    version = version.model_copy(update={"evaluations": evaluations, "monitoring": monitoring})
    model = model.model_copy(update={"versions": [version, *model.versions[1:]]})
    renamed = built.model_copy(update={"models": [model, *built.models[1:]]})
    assert lookalike in renamed.models[0].versions[0].evaluations[0].features
    result = only(run(renamed, policy(rule(prohibited_features=["age"]))))
    assert result.outcome == "fail", result.message
    assert "(reads as age" in result.message
    if "\u0430" in lookalike:  # a name that looks the same on the page is spelt out
        assert "U+0430 CYRILLIC SMALL LETTER A" in result.message and "\u200b" not in result.message.replace(
            "\\u200b", ""
        )
    assert result.checks[0].observed == [lookalike]


def test_prohibited_features_pii_and_datasheets(tmp_path: Path, built: manifest.Manifest) -> None:
    assert only(run(built, policy(rule(prohibited_features=["Age"])))).outcome == "fail"  # case-insensitive
    assert only(run(built, policy(rule(prohibited_features=["religion"])))).outcome == "pass"
    assert only(run(built, policy(rule(pii_legal_basis=True)))).outcome == "not-applicable"  # no PII declared
    fields = only(run(built, policy(rule(datasheet_fields=["source", "known_gaps"]))))
    assert fields.outcome == "fail" and "missing known_gaps" in fields.message
    root = write_workspace(tmp_path / "ws")
    edit(root, "datasets/loans-train.yml", "licence: Internal", "licence: Internal\ncontains_pii: true")
    with_pii = build_manifest(load_workspace(root), as_of=TODAY)
    result = only(run(with_pii, policy(rule(pii_legal_basis=True))))
    assert result.outcome == "fail" and "loans-train holds personal data and does not state" in result.message


# --------------------------------------------------------------------------- scope


@pytest.mark.parametrize(
    ("scope", "applies"),
    [
        ({"risk_tier": ["high"]}, True),
        ({"risk_tier": ["low", "medium"]}, False),
        ({"status": ["production"]}, True),
        ({"status": ["candidate"]}, False),
        ({"tags": ["credit", "marketing"]}, True),
        ({"tags": ["marketing"]}, False),
        ({"models": ["loan*"]}, True),
        ({"models": ["credit-*"]}, False),
        ({"risk_tier": ["high"], "status": ["candidate"]}, False),  # every key must match
    ],
)
def test_scope(built: manifest.Manifest, scope: dict, applies: bool) -> None:
    report = run(built, policy(rule(approved_by=["model_risk"]), applies_to=scope))
    assert (only(report).outcome != "not-applicable") is applies
    excluded = run(built, policy(rule(approved_by=["model_risk"]), exclude=scope))
    assert (only(excluded).outcome == "not-applicable") is applies
    narrowed = run(built, policy(rule(approved_by=["model_risk"], applies_to=scope)))
    assert (only(narrowed).outcome != "not-applicable") is applies


# --------------------------------------------------------------------------- waivers


def waiver(expires: dt.date, **fields) -> LoadedWaiver:
    data = {
        "id": "W-1", "policy": "p", "rule": "r", "models": ["loans"], "reason": "Accepted while fixed.",
        "approved_by": "Chief Risk Officer", "ticket": "RISK-1", "granted": "2026-02-01", "expires": expires, **fields,
    }  # fmt: skip
    return LoadedWaiver(Waiver.model_validate(data), SOURCE)


FAILING = {"approved_by": ["compliance"]}


@pytest.mark.parametrize(
    ("today", "outcome", "state"),
    [
        (dt.date(2026, 3, 31), "waived", "expiring"),  # the expiry day itself is covered
        (dt.date(2026, 4, 1), "fail", "expired"),  # the day after, it stops applying
        (dt.date(2026, 3, 1), "waived", "expiring"),  # 30 days left: listed as expiring
        (dt.date(2026, 2, 28), "waived", "active"),  # 31 days left
    ],
)
def test_waiver_expiry_boundary(built: manifest.Manifest, today: dt.date, outcome: str, state: str) -> None:
    report = run(built, policy(rule(**FAILING)), waivers=[waiver(dt.date(2026, 3, 31))], today=today)
    result = only(report)
    assert result.outcome == outcome
    assert report.waivers[0].state == state
    if outcome == "waived":
        assert (result.waiver, result.unwaived_outcome) == ("W-1", "fail")
        assert report.waivers[0].used_by == ["loans@1.0"] and not report.blocking
    else:
        assert result.waiver is None and report.waivers[0].would_apply_to == ["loans@1.0"] and report.blocking


def test_unused_and_non_matching_waivers(built: manifest.Manifest) -> None:
    far = dt.date(2026, 12, 31)
    report = run(
        built,
        policy(rule(**FAILING), rule("ok", approved_by=["model_risk"])),
        waivers=[waiver(far, id="W-other", models=["credit-*"]), waiver(far, id="W-pass", rule="ok")],
    )
    assert {r.rule: r.outcome for r in report.results} == {"r": "fail", "ok": "pass"}
    assert all(not w.used_by for w in report.waivers)  # both are reported as unused
    assert {w.state for w in report.waivers} == {"active"}


def test_a_waiver_can_cover_missing_evidence(built: manifest.Manifest) -> None:
    broken = rule(evidence="drift.share_drifted", require={"<=": 0.5})
    result = only(run(built, policy(broken), waivers=[waiver(dt.date(2026, 12, 31))]))
    assert (result.outcome, result.unwaived_outcome) == ("waived", "error")


# --------------------------------------------------------------------------- blocking and outputs


def test_blocking_follows_severity_and_fail_on(built: manifest.Manifest) -> None:
    warn = policy(rule(**FAILING, severity="warning"))
    assert not run(built, warn).blocking
    assert run(built, warn, fail_on="warning").blocking
    error_warning = policy(rule(evidence="drift.share_drifted", require={"<=": 0.5}, severity="warning"))
    assert not run(built, error_warning).blocking
    error_blocking = policy(rule(evidence="drift.share_drifted", require={"<=": 0.5}))
    assert run(built, error_blocking).blocking  # evidence that cannot be checked blocks like a failure


XSD = Path(__file__).parent / "data" / "junit.xsd"


def test_junit_validates_and_counts_match(built: manifest.Manifest) -> None:
    xmlschema = pytest.importorskip("xmlschema", reason="pip install 'modelgov[test]' for JUnit schema validation")
    report = run(
        built,
        policy(
            rule("fails", **FAILING),
            rule("passes", approved_by=["model_risk"]),
            rule("errs", evidence="drift.share_drifted", require={"<=": 0.5}),
            rule("warns", **FAILING, severity="warning"),
            rule("skips", approved_by=["model_risk"], applies_to={"status": ["candidate"]}),
            rule("waived", **FAILING),
        ),
        waivers=[waiver(dt.date(2026, 12, 31), rule="waived")],
    )
    text = junit_xml(report)
    xmlschema.XMLSchema(XSD).validate(text)
    root = ET.fromstring(text)
    suite = root.find("testsuite")
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors"), suite.get("skipped")) == (
        "6",
        "1",
        "1",
        "2",
    )
    failure = root.find(".//testcase[@name='fails: A rule']/failure")
    assert failure is not None and "no compliance decision is recorded" in failure.text
    assert failure.get("message") == "no compliance decision is recorded"
    assert "loans@1.0" in {c.get("classname") for c in root.iter("testcase")}
    csv_rows = results_csv(report).splitlines()
    assert len(csv_rows) == 7 and csv_rows[0].startswith("model,version,policy,rule")


def test_junit_stays_parseable_and_the_csv_keeps_cells_whole_whatever_a_title_or_message_holds(
    built: manifest.Manifest,
) -> None:
    """XML 1.0 cannot hold U+FFFE, U+FFFF or a lone surrogate: one in a rule's title made the whole
    report unparseable for a CI viewer. And a spreadsheet whose list separator is `;` splits an
    unquoted cell at it, where the next piece would start a formula."""
    import csv
    import io

    title = "Gap \ufffe under \uffff limit;=1+2;@SUM(1);-2+3"
    report = run(built, policy({**rule("fails", **FAILING), "title": title}))
    root = ET.fromstring(junit_xml(report))  # parses
    case = next(root.iter("testcase"))
    assert case.get("name") == "fails: Gap \\ufffe under \\uffff limit;=1+2;@SUM(1);-2+3"
    message = "spoken;=1+2;@SUM(1)"
    forged = report.model_copy(update={"results": [r.model_copy(update={"message": message}) for r in report.results]})
    text = results_csv(forged)
    assert "spoken;'=1+2;'@SUM(1)" in text  # split at the semicolons, no piece is a formula
    for delimiter in (",", ";"):
        for row in csv.reader(io.StringIO(text), delimiter=delimiter):
            assert not any(cell.startswith(("=", "+", "@")) for cell in row), (delimiter, row)
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[1][7] == "spoken;'=1+2;'@SUM(1)" and len({len(row) for row in rows}) == 1


def write_policy(root: Path, text: str) -> None:
    (root / "policies").mkdir(exist_ok=True)
    (root / "policies" / "gate.yml").write_text(text)


GATE = """\
id: gate
title: Release gate
rules:
  - id: compliance-sign-off
    title: Compliance approved
    approved_by: [compliance]
    severity: {severity}
"""


@pytest.mark.parametrize("junit", [False, True])
@pytest.mark.parametrize(
    ("severity", "fail_on", "code"),
    [("blocking", None, 1), ("warning", None, 0), ("warning", "warning", 1)],
)
def test_exit_codes_are_the_same_whatever_the_output(
    tmp_path: Path, capsys: pytest.CaptureFixture, severity: str, fail_on: str | None, code: int, junit: bool
) -> None:
    root = write_workspace(tmp_path / "ws")
    write_policy(root, GATE.format(severity=severity))
    args = ["check", str(root), "--results", str(tmp_path / "results.json"), "--as-of", "2026-03-01"]
    args += ["--junit", str(tmp_path / "junit.xml")] if junit else []
    args += ["--fail-on", fail_on] if fail_on else []
    assert main(args) == code
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["exit_code"] == code and results["as_of"] == "2026-03-01"
    assert (tmp_path / "junit.xml").is_file() is junit
    out = capsys.readouterr().out
    assert ("BLOCKED" in out) is (code == 1)


def test_an_invalid_policy_exits_2_naming_file_line_and_closest_path(tmp_path: Path, capsys) -> None:
    root = write_workspace(tmp_path / "ws")
    write_policy(
        root,
        "id: gate\ntitle: Gate\nrules:\n  - id: auc\n    title: AUC\n"
        "    evidence: perfromance.roc_auc\n    require: {'>=': 0.7}\n",
    )
    assert main(["check", str(root)]) == 2
    err = capsys.readouterr().err
    assert "policies/gate.yml:4" in err and "did you mean 'performance.roc_auc'?" in err
    assert "Traceback" not in err


def test_load_errors_for_packs_and_waivers(tmp_path: Path) -> None:
    root = write_workspace(tmp_path / "ws")
    (root / "governance.yml").write_text((root / "governance.yml").read_text() + "policies: {packs: [baselin]}\n")
    with pytest.raises(WorkspaceError) as caught:
        load_workspace(root)
    assert "no built-in policy pack 'baselin'; did you mean 'baseline'?" in str(caught.value)
    edit(root, "governance.yml", "packs: [baselin]", "packs: [baseline], waiver_max_days: 90")
    (root / "waivers.yml").write_text(
        "waivers:\n  - {id: W-1, policy: baseline, rule: model-risk-signoff, models: [loans], reason: r,"
        " approved_by: a, ticket: t, granted: 2026-01-01, expires: 2026-06-30}\n"
    )
    with pytest.raises(WorkspaceError) as caught:
        load_workspace(root)
    text = str(caught.value)
    assert "waivers.yml:2" in text and "did you mean 'model-risk-sign-off'?" in text
    assert "the waiver runs 180 days, longer than the 90 allowed" in text


def test_a_rule_checks_exactly_one_thing() -> None:
    with pytest.raises(ValueError, match="a rule checks exactly one thing"):
        PolicyFile.model_validate({"id": "p", "title": "t", "rules": [rule(approved_by=["a"], documented=["caveats"])]})
    with pytest.raises(ValueError, match="ranges over names"):
        PolicyFile.model_validate(
            {"id": "p", "title": "t", "rules": [rule(evidence="performance.roc_auc.*", require={">": 0})]}
        )


# --------------------------------------------------------------------------- bounds


def many_rules(count: int, evidence: str = "fairness.*.groups.*.*", start: int = 0, **extra: str) -> str:
    more = "".join(f", {key}: {value}" for key, value in extra.items())
    return "rules:\n" + "".join(
        f"  - {{id: r{i}, title: t, evidence: '{evidence}', require: {{'>=': 0}}{more}}}\n"
        for i in range(start, start + count)
    )


def test_a_workspace_holds_at_most_2000_rules(tmp_path: Path, capsys) -> None:
    """One rule over the bound is refused at its ``rules`` key, before its rules are validated, and
    `check` writes no results. (The red team's 1.2 MB file of 15,000 rules, which took 10 minutes and
    8.3 GB before the bound, is refused in seconds and bounded memory: tests/test_redteam_boundary.py.)"""
    root = write_workspace(tmp_path / "ws")
    write_policy(root, "id: gate\ntitle: Gate\n" + many_rules(2_001))
    assert main(["check", str(root), "--results", str(tmp_path / "r.json"), "-q"]) == 2
    err = capsys.readouterr().err
    assert "policies/gate.yml:3: rules: 2,001 rules, which bring the workspace's policies to 2,001" in err, err
    assert "more than the 2,000 a workspace may hold" in err and "Traceback" not in err
    assert not (tmp_path / "r.json").exists()


def test_the_bound_on_rules_counts_the_packs_and_every_file(tmp_path: Path, capsys) -> None:
    root = write_workspace(tmp_path / "ws")
    (root / "governance.yml").write_text((root / "governance.yml").read_text() + "policies: {packs: [baseline]}\n")
    baseline = len(yaml.safe_load(builtin_packs()["baseline"].read_text())["rules"])
    write_policy(root, "id: a\ntitle: A\n" + many_rules(2_000 - baseline))
    assert main(["check", str(root), "--results", str(tmp_path / "r.json"), "-q"]) in (0, 1)  # at the bound
    (root / "policies" / "more.yml").write_text("id: b\ntitle: B\n" + many_rules(1, start=5_000))
    assert main(["check", str(root), "--results", str(tmp_path / "r.json"), "-q"]) == 2
    err = capsys.readouterr().err
    assert "policies/more.yml:3: rules: 1 rules, which bring the workspace's policies to 2,001" in err, err
    assert "policies/gate.yml" not in err


def test_a_workspace_holds_at_most_2000_conditions(tmp_path: Path, capsys) -> None:
    root = write_workspace(tmp_path / "ws")
    condition = "{evidence: performance.roc_auc, require: {'>': 0}}"
    when = "{any_of: [" + ", ".join([condition] * 401) + "]}"
    write_policy(root, "id: gate\ntitle: Gate\n" + many_rules(5, "performance.roc_auc", when=when))
    assert main(["check", str(root), "--results", str(tmp_path / "r.json"), "-q"]) == 2
    err = capsys.readouterr().err
    assert "policies/gate.yml:3: rules: 2,005 `when` conditions, which bring the workspace's policies to 2,005" in err


def test_a_pattern_that_matches_too_much_is_an_error_naming_it_never_expanded(
    built: manifest.Manifest, monkeypatch: pytest.MonkeyPatch
) -> None:
    matched = len(only(run(built, policy(rule(evidence="fairness.*.groups.*.*", require={">=": 0})))).checks)
    monkeypatch.setattr(rule_context, "MAX_MATCHES", matched - 1)
    wide = only(run(built, policy(rule(evidence="fairness.*.groups.*.*", require={">=": 0}))))
    assert wide.outcome == "error" and len(wide.checks) == 1 and wide.checks[0].path == "fairness.*.groups.*.*"
    assert wide.message == (
        f"fairness.*.groups.*.* matches {matched:,} evidence values on this version, more than the "
        f"{matched - 1:,} one pattern may check; name the feature, group or metric where it says '*'"
    )
    condition = {"any_of": [{"evidence": "fairness.*.groups.*.*", "require": {">": 2}}]}
    guarded = only(run(built, policy(rule(when=condition, evidence="performance.roc_auc", require={">": 0}))))
    assert guarded.outcome == "error" and "fairness.*.groups.*.* matches" in guarded.message
    monkeypatch.setattr(rule_context, "MAX_MATCHES", 1)  # a long list in the rule itself
    roles = only(run(built, policy(rule(approved_by=["model_risk", "compliance"]))))
    assert roles.outcome == "error" and roles.message == (
        "the rule makes 2 checks on this version, more than the 1 one may"
    )


def test_a_version_s_rules_read_a_bounded_number_of_values(
    built: manifest.Manifest, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rules are read in order until the version's budget is spent; every later one is an error, never
    a pass, naming the rules that spent it."""
    wide = rule(evidence="fairness.*.groups.*.*", require={">=": 0})
    matched = len(only(run(built, policy(wide))).checks)
    monkeypatch.setattr(rule_context, "MAX_CHECKS_PER_VERSION", 2 * matched)
    report = run(built, policy(*(rule(f"r{i}", **{k: v for k, v in wide.items() if k != "id"}) for i in range(4))))
    assert [r.outcome for r in report.results] == ["pass", "pass", "error", "error"]
    assert report.results[2].message == (
        f"not checked: the rules before it read {2 * matched:,} evidence values on this version, and the "
        f"policies may read at most {2 * matched:,} on one version; narrow the patterns of the rules that "
        f"read the most (p/r0 ({matched:,}), p/r1 ({matched:,}))"
    )
    assert report.blocking


def test_an_evidence_age_of_a_record_dated_after_the_check_date_is_no_age(built: manifest.Manifest) -> None:
    """``evaluation.age_days <= 30`` passed on -1 with a check date before the evaluation; now the age
    of the next day is 0 (the day of grace) and a later record has none: an error, never a pass."""
    rule_ = rule(evidence="evaluation.age_days", require={"<=": 30})
    grace = only(run(built, policy(rule_), today=dt.date(2026, 1, 19)))  # evaluated 2026-01-20
    assert (grace.outcome, grace.checks[0].observed) == ("pass", 0)
    early = only(run(built, policy(rule_), today=dt.date(2026, 1, 10)))
    assert early.outcome == "error" and early.checks[0].observed is None


def test_all_versions_rules_read_a_bounded_number_of_values(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The bound per version, copied onto many versions, grew the build with the versions (the second
    red-team pass: 21 versions, 4 min, 4.2 GB). The rules of all versions together read at most
    MAX_CHECKS_PER_WORKSPACE values; past it every rule is an error on the versions after, never a pass."""
    root = write_workspace(tmp_path / "ws")
    second = root / "models/loans/versions/2.0"
    shutil.copytree(root / "models/loans/versions/1.0", second)
    edit(root, "models/loans/versions/2.0/version.yml", "status: production", "status: candidate")
    built = build_manifest(load_workspace(root), as_of=TODAY)
    wide = rule(evidence="fairness.*.groups.*.*", require={">=": 0})
    matched = len(run(built, policy(wide)).results[0].checks)
    monkeypatch.setattr(rule_context, "MAX_CHECKS_PER_WORKSPACE", matched)
    report = run(built, policy(wide))
    assert [r.outcome for r in report.results] == ["pass", "error"]
    assert report.results[1].message.startswith(
        f"not checked: the rules read {matched:,} evidence values on the versions before this one, and the "
        f"policies may read at most {matched:,} in one workspace"
    )


@pytest.mark.parametrize(
    "pattern",
    [
        "fairness.*.groups.*.*",
        "fairness.sex.groups.*.tpr",
        "fairness.*.demographic_parity_ratio",
        "performance.roc_auc",
        "performance.*",
        "performance.*.ci_low",
        "performance.roc_acu",
        "approvals.*.decision",
        "drift.features.*.psi",
    ],
)
def test_the_evidence_tree_matches_what_matches_matches(built: manifest.Manifest, pattern: str) -> None:
    model = built.models[0]
    index = evidence_index.evidence_index(model, model.versions[0], TODAY)
    expected = sorted(path for path in index if paths.matches(pattern, path))
    assert sorted(paths.EvidenceTree(index).expand(pattern)) == expected


def test_build_writes_results_and_exit_code(tmp_path: Path) -> None:
    root = write_workspace(tmp_path / "ws")
    write_policy(root, GATE.format(severity="blocking"))
    assert main(["build", str(root), "-o", str(tmp_path / "site"), "-q", "--junit", str(tmp_path / "j.xml")]) == 1
    results = json.loads((tmp_path / "site" / "policy-results.json").read_text())
    assert results["blocking"] is True and results["counts"]["fail"] == 1
    assert (tmp_path / "site" / "policy-results.csv").is_file() and (tmp_path / "j.xml").is_file()
    assert exit_code(None) == 0


FAIR_LENDING = """\
id: fair
title: Fair lending
rules:
  - id: four-fifths
    title: Four-fifths rule by sex
    evidence: fairness.sex.demographic_parity_ratio
    require: {'>=': 0.99}
  - id: pair
    title: Women against men
    evidence: fairness.sex.pairs.F.M.demographic_parity_difference
    require: {'<=': 0.0}
"""


def test_disparity_findings_name_their_groups_in_every_output(tmp_path: Path, capsys) -> None:
    """The CLI line, policy-results.json and the JUnit report all say which groups make the gap."""
    root = write_workspace(tmp_path / "ws")
    edit(root, "models/loans/model.yml", "sensitive_features: [sex, age_band]",
         "sensitive_features: [sex, age_band]\ngroup_comparisons: {sex: {pairs: [[F, M]]}}")  # fmt: skip
    write_policy(root, FAIR_LENDING)
    args = ["check", str(root), "--results", str(tmp_path / "r.json"), "--junit", str(tmp_path / "j.xml")]
    assert main(args) == 1
    out = capsys.readouterr().out
    results = json.loads((tmp_path / "r.json").read_text())
    messages = [c["message"] for r in results["results"] for c in r.get("checks", [])] or [
        r["message"] for r in results["results"]
    ]
    ratio = next(m for m in messages if m.startswith("fairness.sex.demographic_parity_ratio"))
    assert re.search(r"\[(F|M) \d\.\d{3} ÷ (F|M) \d\.\d{3} \(selection rate\)\]$", ratio), ratio
    pair = next(m for m in messages if m.startswith("fairness.sex.pairs.F.M.demographic_parity_difference"))
    assert re.search(r"\[(F|M) \d\.\d{3} − (F|M) \d\.\d{3} \(selection rate\)\]$", pair), pair
    assert ratio in out or ratio.split(" [")[1].rstrip("]") in out
    junit = (tmp_path / "j.xml").read_text()
    assert "÷" in junit and "(selection rate)" in junit


@pytest.mark.parametrize(
    ("rule", "says"),
    [
        ({"status_recorded": True}, "a version in staging or production got its status through modelgov promote"),
        (
            {"status_recorded": True, "require_signature": True},
            "a version in staging or production got its status through modelgov promote (a signed entry)",
        ),
        ({"datasheet_fields": ["licence", "source"]}, "datasheets fill in: licence, source"),
        ({"approved_by": ["model_risk"]}, "approved by: model_risk"),
        # the rules table must say that only a signed decision counts, not the title alone
        ({"approved_by": ["live_test"], "require_signature": True}, "approved by: live_test (signed decisions only)"),
    ],
)
def test_each_rule_kind_states_its_own_requirement(rule: dict, says: str) -> None:
    """The pages' "Requires" column: a status_recorded rule said "datasheets fill in:" with nothing
    after it, the words of another kind."""
    from modelgov.policy.engine import requirement_text
    from modelgov.policy.schema import Rule

    assert requirement_text(Rule.model_validate({"id": "r", "title": "R", **rule})) == says
