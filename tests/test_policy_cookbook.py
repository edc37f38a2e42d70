"""Every policy file in the cookbook (docs/policy-cookbook.md) loads and is evaluated on a workspace
without errors, with the outcomes its text promises."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from modelgov.assemble import build_manifest
from modelgov.workspace.load import load_workspace
from workspace_factory import edit, write_workspace

COOKBOOK = Path(__file__).resolve().parents[1] / "docs" / "policy-cookbook.md"
AS_OF = __import__("datetime").date(2026, 12, 1)  # inside the example waiver's window


def _blocks() -> list[tuple[str, str]]:
    return re.findall(r"```yaml\n# (\S+)\n(.*?)```", COOKBOOK.read_text(encoding="utf-8"), flags=re.S)


def recipes() -> dict[str, str]:
    """First-line file name (``# policies/x.yml``) → the YAML block, for the files a recipe adds to a
    workspace (the ``# governance.yml`` blocks, which say which packs to enable, are read apart)."""
    return {name: body for name, body in _blocks() if name != "governance.yml"}


def enabled_packs() -> set[str]:
    """Every pack a ``# governance.yml`` block of the cookbook enables."""
    packs: set[str] = set()
    for name, body in _blocks():
        if name == "governance.yml":
            packs |= set(yaml.safe_load(body)["policies"]["packs"])
    return packs


def test_the_cookbook_has_its_recipes() -> None:
    assert set(recipes()) == {
        "policies/four-fifths.yml", "policies/freshness.yml", "policies/sign-off.yml", "policies/drift.yml",
        "policies/business-feedback.yml", "policies/estimated-performance.yml", "waivers.yml",
        "policies/production-fairness.yml", "policies/business-kpis.yml", "policies/champion-challenger.yml",
        "policies/shadow.yml", "policies/ab-test.yml", "policies/bank-validation-cadence.yml",
        "policies/osfi-review-medium.yml", "policies/colorado-credit-human-review.yml",
        "policies/aims-human-oversight.yml", "policies/eu-ai-act-annex-i-monitoring.yml",
    }  # fmt: skip
    assert enabled_packs() == {
        "baseline", "sr-26-2", "osfi-e-23", "colorado-sb-26-189", "iso-42001", "eu-ai-act-high-risk",
    }  # fmt: skip


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory):
    ws = write_workspace(tmp_path_factory.mktemp("cookbook") / "ws")
    for name, body in recipes().items():
        target = ws / name
        target.parent.mkdir(parents=True, exist_ok=True)
        # the waiver example is for the demo's credit model: point it at this workspace's model
        target.write_text(body.replace("credit-default", "loans").replace('["2.0"]', '["1.0"]'), encoding="utf-8")
    built = build_manifest(load_workspace(ws), as_of=AS_OF)
    return {(r.policy, r.rule): r for r in built.governance.results}


def test_every_recipe_is_evaluated_without_errors(results) -> None:
    assert {policy for policy, _ in results} == {
        "four-fifths", "freshness", "sign-off", "drift", "business-feedback", "estimated-performance",
        "production-fairness", "business-kpis", "champion-challenger", "shadow", "ab-test",
        "bank-validation-cadence", "osfi-review-medium", "colorado-credit-human-review", "aims-human-oversight",
        "eu-ai-act-annex-i-monitoring",
    }  # fmt: skip
    errors = [f"{p}/{r}: {res.message}" for (p, r), res in results.items() if res.outcome == "error"]
    assert errors == []


def test_the_recipes_do_what_they_say(results) -> None:
    # the factory holdout has a known gap between sexes, and one sensitive feature per check
    ratio = results["four-fifths", "selection-rate-ratio"]
    assert {c.path for c in ratio.checks} == {
        "fairness.sex.demographic_parity_ratio",
        "fairness.age_band.demographic_parity_ratio",
    }
    assert results["sign-off", "model-risk"].outcome == "pass"  # the factory approves model_risk
    assert results["sign-off", "compliance-for-high-risk"].outcome == "fail"  # high risk, no compliance sign-off
    assert results["drift", "sustained-drift"].outcome == "not-applicable"  # no monitoring log
    assert results["freshness", "evaluation-this-year"].outcome == "pass"
    assert results["business-feedback", "flags-answered"].outcome == "pass"  # no flag is open
    # no monitoring log, so no estimate: not applicable rather than an error
    assert results["estimated-performance", "estimated-roc-auc"].outcome == "not-applicable"
    assert results["estimated-performance", "estimate-confirmed"].outcome == "not-applicable"
    assert results["production-fairness", "four-fifths-this-week"].outcome == "not-applicable"
    assert results["production-fairness", "realized-opportunity-gap"].outcome == "not-applicable"
    # the factory's card states no business KPI: not applicable rather than an error
    assert results["business-kpis", "kpis-on-target"].outcome == "not-applicable"
    assert results["business-kpis", "no-sustained-miss"].outcome == "not-applicable"
    assert results["freshness", "validation-within-a-year"].outcome == "pass"
    # one version, in production: no champion to compare with; the sign-off is asked for, and the
    # factory's model_risk approval is unsigned
    assert results["champion-challenger", "auc-not-inferior"].outcome == "not-applicable"
    wide = results["champion-challenger", "wide-variation-needs-a-person"]
    assert wide.outcome == "fail" and wide.message.startswith("applies because its condition cannot be evaluated")
    # the factory's one version is live, not a challenger in shadow (tests/test_shadow.py runs the recipe on one)
    assert {results["shadow", rule].outcome for rule in ("few-decisions-changed", "accuracy-not-inferior")} == {
        "not-applicable"
    }
    # nor a challenger in an A/B test (tests/test_ab_test.py runs the recipe on one)
    assert {r.outcome for (policy, _), r in results.items() if policy == "ab-test"} == {"not-applicable"}
    # the factory's sex gap fails the rule; the cookbook's waiver covers it, keeping the failure on record
    assert (ratio.outcome, ratio.unwaived_outcome, ratio.waiver) == ("waived", "fail", "WV-2026-014")


def test_the_pack_recipes_do_what_they_say(results) -> None:
    # the factory's model is high risk, in production, tagged credit; its one model_risk approval is
    # of 2026-01-25, 310 days before the check: within the sr-26-2 pack's 365, beyond the bank's 182
    high = results["bank-validation-cadence", "review-cadence-high"]
    assert high.outcome == "fail" and high.not_in_force is None  # SR 26-2 is in force: it blocks
    assert high.message == "the latest model_risk decision (2026-01-25) is 310 days old (limit 182 days)"
    assert [(c.path, c.observed) for c in high.checks] == [("approvals.model_risk.age_days", 310)]
    assert {
        results["bank-validation-cadence", rule].outcome for rule in ("review-cadence-medium", "review-cadence-low")
    } == {"not-applicable"}
    assert results["osfi-review-medium", "review-current-medium"].outcome == "not-applicable"  # a high model
    # no human_oversight decision is recorded: the Colorado copy fails, reported as coming (never blocking)
    colorado = results["colorado-credit-human-review", "human-review-attested"]
    assert (colorado.outcome, colorado.not_in_force) == ("fail", "coming")
    # ISO/IEC 42001 copy without dates: the same missing sign-off fails and blocks
    oversight = results["aims-human-oversight", "human-oversight"]
    assert (oversight.outcome, oversight.not_in_force) == ("fail", None)
    # the model carries no eu-ai-act-annex-i tag
    assert {r.outcome for (p, _), r in results.items() if p == "eu-ai-act-annex-i-monitoring"} == {"not-applicable"}


def test_the_pack_recipes_load_with_every_pack_the_cookbook_enables(tmp_path: Path) -> None:
    """The workspace policies of the pack recipes load next to the packs they adapt (ids stay unique),
    and the packs' results on the check date are in force, coming or rescinded as the recipes say."""
    ws = write_workspace(tmp_path / "ws")
    for name, body in recipes().items():
        if name.startswith("policies/"):
            (ws / name).parent.mkdir(parents=True, exist_ok=True)
            (ws / name).write_text(body, encoding="utf-8")
    # the packs' traceability rules read the commit the version was trained from
    edit(
        ws,
        "models/loans/versions/1.0/version.yml",
        "  algorithm:",
        "  code: {repository: https://git.example.com/loans, commit: 9f2c1e4}\n  algorithm:",
    )
    packs = sorted(enabled_packs() | {"sr-11-7"})  # the rescinded pack the migration recipe moves from
    with (ws / "governance.yml").open("a", encoding="utf-8") as fh:
        fh.write(yaml.safe_dump({"policies": {"packs": packs}}))
    built = build_manifest(load_workspace(ws), as_of=AS_OF)
    by_policy: dict[str, set] = {}
    for r in built.governance.results:
        assert r.outcome != "error", f"{r.policy}/{r.rule}: {r.message}"
        if r.outcome != "not-applicable":  # a result out of scope carries no standing
            by_policy.setdefault(r.policy, set()).add(r.not_in_force)
    assert set(packs) <= set(by_policy)
    assert by_policy["sr-11-7"] == {"rescinded"}
    assert by_policy["sr-26-2"] == by_policy["iso-42001"] == {None}
    for coming in ("osfi-e-23", "colorado-sb-26-189", "eu-ai-act-high-risk"):
        assert by_policy[coming] == {"coming"}, coming
    # with the pack enabled, its default cadence passes the 310-day-old review and the bank's copy fails it
    outcome = {(r.policy, r.rule): r.outcome for r in built.governance.results}
    assert outcome["sr-26-2", "validation-cadence-high"] == "pass"
    assert outcome["bank-validation-cadence", "review-cadence-high"] == "fail"
