"""`export` and `dossier` of a workspace govern it under the CI's anchors, as `check` does.

A CI that runs `check --allowed-signers CI_FILE` and then publishes `dossier WORKSPACE …` or
`export WORKSPACE …` must not publish a verdict its own gate refused: the dossier took the option
for `verify` only, and the export had no way to be given it, so both checked signatures against the
workspace's own `signing.allowed_signers`, which a pull request writes.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from modelgov.cli import main
from modelgov.decisions.sign import openssh_public_key

MODEL, VERSION = "diabetes-progression", "1.0"
RULE = "acme-decisions/signed-model-risk-sign-off"


@pytest.fixture(scope="module")
def ci(demo_build, tmp_path_factory: pytest.TempPathFactory):
    """A copy of the demo's analysis cache (the commands may add entries), and a CI allowed-signers
    file that lists a key of the CI's own and none of the workspace's."""
    from modelgov.demo.policies import AS_OF

    folder = tmp_path_factory.mktemp("ci-anchors")
    shutil.copytree(demo_build.cache_dir, folder / "cache")
    signers = folder / "ci_allowed_signers"
    key = openssh_public_key(Ed25519PrivateKey.generate())
    signers.write_text(f'ci@example.org namespaces="modelgov" {key} roles=model_risk,compliance\n')
    env = {**demo_build.cache_env(), "MODELGOV_CACHE_DIR": str(folder / "cache")}
    return demo_build.workspace, signers, AS_OF.isoformat(), env, folder


def _outcome(results: dict, model: str, rule: str) -> str:
    policy, rule_id = rule.split("/")
    (found,) = [r for r in results["results"] if r["model"] == model and r["policy"] == policy and r["rule"] == rule_id]
    return found["outcome"]


def test_the_export_of_a_workspace_states_the_ci_gates_verdict(ci, monkeypatch, capsys) -> None:
    workspace, signers, as_of, env, folder = ci
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("MODELGOV_ALLOWED_SIGNERS", raising=False)
    results = folder / "results.json"
    gate = main(["check", str(workspace), "--allowed-signers", str(signers), "--as-of", as_of, "--results",
                 str(results), "-q"])  # fmt: skip
    assert gate == 1 and _outcome(json.loads(results.read_text()), MODEL, RULE) == "fail"

    def verdict(*options: str) -> str:
        out = folder / f"cards{len(options)}"
        code = main(["export", str(workspace), "-o", str(out), "--model", MODEL, "--version", VERSION,
                     "--format", "cyclonedx", "--as-of", as_of, *options])  # fmt: skip
        assert code == 0, capsys.readouterr()
        (bom,) = out.rglob("*.json")
        component = json.loads(bom.read_text())["metadata"]["component"]
        properties = {p["name"]: p["value"] for p in component["properties"]}
        return properties["modelgov:policy-verdict"] + " | " + json.dumps(component["modelCard"]["considerations"])

    with_ci = verdict("--allowed-signers", str(signers))
    assert RULE in with_ci and with_ci.startswith("fail"), with_ci[:400]
    # the workspace's own allowed-signers file accepts the signature: what the export said before
    own = verdict()
    assert RULE not in own


def test_the_dossier_of_a_workspace_is_governed_under_the_ci_anchors(ci, monkeypatch) -> None:
    """The dossier's manifest (attached to the PDF, and what it states) is governed with the CI's
    allowed-signers file and check date; laying out the PDF is the dossier tests' concern."""
    import modelgov.dossier

    workspace, signers, as_of, env, folder = ci
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("MODELGOV_ALLOWED_SIGNERS", raising=False)
    monkeypatch.delenv("MODELGOV_SIGNING_KEY", raising=False)
    seen = []
    monkeypatch.setattr(modelgov.dossier, "write_dossier", lambda built, *args: seen.append(built))
    code = main(["dossier", str(workspace), MODEL, VERSION, "-o", str(folder / "d.pdf"),
                 "--allowed-signers", str(signers), "--as-of", as_of, "--fail-on", "warning"])  # fmt: skip
    assert code == 0
    (built,) = seen
    assert built.governance is not None and str(built.governance.as_of) == as_of
    assert built.governance.fail_on == "warning"  # what blocks a release, as the gate said
    (result,) = [r for r in built.governance.results if r.model == MODEL and f"{r.policy}/{r.rule}" == RULE]
    assert result.outcome == "fail" and "not accepted" in result.message


def test_a_saved_manifest_refuses_the_options_it_cannot_honour(demo_build, tmp_path: Path, capsys) -> None:
    """A saved manifest holds the verdicts of the build that wrote it: given the CI's file or a check
    date, the command says so instead of seeming to apply them."""
    saved = demo_build.site / "manifest.json"
    code = main(["export", str(saved), "-o", str(tmp_path / "cards"), "--allowed-signers", str(tmp_path / "x")])
    said = capsys.readouterr().err
    assert code == 2 and "--allowed-signers apply to a workspace" in said and "Traceback" not in said
    code = main(["export", str(saved), "-o", str(tmp_path / "cards"), "--as-of", "2026-11-24"])
    assert code == 2 and "--as-of apply to a workspace" in capsys.readouterr().err
    code = main(
        ["export", str(saved), "-o", str(tmp_path / "cards"), "--fail-on", "warning", "--require-pack", "baseline"]
    )
    assert code == 2 and "--fail-on and --require-pack apply to a workspace" in capsys.readouterr().err
    # a saved manifest runs no workspace code: refusing it is already true
    assert (
        main(["export", str(saved), "-o", str(tmp_path / "cards"), "--format", "mct", "--refuse-workspace-code"]) == 0
    )
    assert main(["export", str(saved), "-o", str(tmp_path / "cards"), "--format", "mct"]) == 0


def test_a_saved_manifest_governed_without_the_ci_environments_anchors_is_refused(
    demo_build, tmp_path: Path, monkeypatch, capsys
) -> None:
    """The CI sets its anchors as variables for every command. A saved manifest governed without them
    (the demo counts unsigned decisions and checks signatures against its own file) is refused by
    `export`, naming each, instead of stating the verdicts the gate would not."""
    saved = demo_build.site / "manifest.json"
    for name in ("MODELGOV_REQUIRE_SIGNATURES", "MODELGOV_REQUIRE_PACKS", "MODELGOV_ALLOWED_SIGNERS"):
        monkeypatch.delenv(name, raising=False)
    assert main(["export", str(saved), "-o", str(tmp_path / "a"), "--format", "mct"]) == 0
    capsys.readouterr()
    monkeypatch.setenv("MODELGOV_REQUIRE_SIGNATURES", "1")
    monkeypatch.setenv("MODELGOV_REQUIRE_PACKS", "baseline,nist-ai-rmf")
    monkeypatch.setenv("MODELGOV_ALLOWED_SIGNERS", str(tmp_path / "ci_signers"))
    assert main(["export", str(saved), "-o", str(tmp_path / "b"), "--format", "mct"]) == 2
    said = capsys.readouterr().err
    assert "MODELGOV_REQUIRE_SIGNATURES is set" in said and "MODELGOV_REQUIRE_PACKS pins nist-ai-rmf" in said
    assert "baseline," not in said  # the demo applies baseline
    assert "MODELGOV_ALLOWED_SIGNERS is set, but its signatures were checked against the workspace's own file" in said
    assert not (tmp_path / "b").exists() or not any((tmp_path / "b").iterdir())
