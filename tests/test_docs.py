"""The project's own documentation: it builds under MkDocs strict, its CI recipes are complete files
that run the commands they claim, and every command of the CLI is documented."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from shared_builds import DemoBuild

ROOT = Path(__file__).resolve().parents[1]
CI = ROOT / "examples" / "ci"


def test_the_documentation_site_builds_under_strict_with_the_demo_site(tmp_path: Path, demo_build: DemoBuild) -> None:
    command = [
        sys.executable,
        "-m",
        "mkdocs",
        "build",
        "--strict",
        "-q",
        "-f",
        str(ROOT / "mkdocs.yml"),
        "-d",
        str(tmp_path),
    ]
    environment = {"NO_MKDOCS_2_WARNING": "1", "PATH": "/usr/bin:/bin", "SOURCE_DATE_EPOCH": "1767225600"}
    # the hook builds the demo with the analysis cache: the shared demo build's, so nothing is computed again
    environment.update(demo_build.cache_env())
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, env=environment)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "methods.html").is_file()
    assert "actions/deploy-pages" in (tmp_path / "ci.html").read_text(encoding="utf-8")  # recipes embedded
    # the guide links the example governance site, which the build publishes beside it
    assert 'href="demo/index.html"' in (tmp_path / "index.html").read_text(encoding="utf-8")
    assert (tmp_path / "demo" / "index.html").is_file()
    assert (tmp_path / "demo" / "models" / "credit-default" / "2.0" / "index.html").is_file()


def commands_in(script: object) -> list[str]:
    if isinstance(script, str):
        return [script]
    return [str(line) for line in script or []]


def test_the_github_actions_recipe_builds_annotates_publishes_and_gates() -> None:
    workflow = yaml.safe_load((CI / "github-actions.yml").read_text(encoding="utf-8"))
    on = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` key as True
    assert "pull_request" in on and on["push"]["branches"] == ["main"]
    steps = workflow["jobs"]["build"]["steps"]
    runs = [step["run"] for step in steps if "run" in step]
    build = next(r for r in runs if r.startswith("modelgov build"))
    assert "--junit policy-results.xml" in build and "-o site" in build
    assert "--prune-cache" in build  # the cache the job saves holds what this build used
    uses = {step["uses"].split("@")[0]: step for step in steps if "uses" in step}
    assert uses["mikepenz/action-junit-report"]["with"]["report_paths"] == "policy-results.xml"
    assert uses["actions/upload-pages-artifact"]["with"]["path"] == "site"
    assert uses["actions/cache"]["with"]["path"] == ".modelgov-cache"  # outside the workspace, never in it
    assert workflow["env"]["MODELGOV_CACHE_DIR"].endswith("/.modelgov-cache")
    assert "secrets.MODELGOV_CACHE_KEY" in workflow["env"]["MODELGOV_CACHE_KEY"]
    # pull requests never build with the publishing builds' key, nor restore their cache
    assert (
        "github.event_name != 'pull_request' && secrets.MODELGOV_CACHE_KEY ||" in workflow["env"]["MODELGOV_CACHE_KEY"]
    )
    assert "github.event_name" in uses["actions/cache"]["with"]["key"]
    assert "github.event_name" in uses["actions/cache"]["with"]["restore-keys"]
    assert "pull_request" in workflow["env"]["MODELGOV_REFUSE_WORKSPACE_CODE"]  # pickles, skops types, templates
    assert workflow["env"]["MODELGOV_NO_WORKSPACE_SIGNERS"] == "1"  # fail closed when the secret is missing
    assert any("MODELGOV_ALLOWED_SIGNERS" in r for r in runs)
    assert any("audit verify governance --against" in r for r in runs)
    gate = steps[-1]
    assert gate["if"] == "steps.build.outcome == 'failure'" and gate["run"] == "exit 1"
    deploy = workflow["jobs"]["deploy"]
    assert deploy["needs"] == "build" and deploy["steps"][0]["uses"].startswith("actions/deploy-pages@")
    assert workflow["permissions"]["pages"] == "write" and workflow["permissions"]["id-token"] == "write"


def test_the_gitlab_recipe_builds_reports_and_publishes_pages() -> None:
    pipeline = yaml.safe_load((CI / "gitlab-ci.yml").read_text(encoding="utf-8"))
    job = pipeline["governance"]
    script = commands_in(job["script"])
    assert any(
        c.startswith("modelgov build governance -o site --junit policy-results.xml") and "--prune-cache" in c
        for c in script
    )
    assert job["artifacts"]["reports"]["junit"] == "policy-results.xml" and job["artifacts"]["when"] == "always"
    assert ".modelgov-cache" in job["cache"]["paths"]
    assert pipeline["variables"]["MODELGOV_CACHE_DIR"].endswith("/.modelgov-cache")
    assert any("MODELGOV_REFUSE_WORKSPACE_CODE=1" in c for c in script)
    assert pipeline["variables"]["MODELGOV_NO_WORKSPACE_SIGNERS"] == "1"
    pages = pipeline["pages"]
    assert commands_in(pages["script"]) == ["mv site public"] and pages["artifacts"]["paths"] == ["public"]
    assert pages["needs"][0]["job"] == "governance"
    assert set(pipeline["stages"]) == {job["stage"], pages["stage"]}


@pytest.mark.parametrize("recipe", ["github-actions.yml", "gitlab-ci.yml"])
def test_the_recipes_commands_are_real_modelgov_commands(recipe: str) -> None:
    from modelgov.cli_parser import build_parser

    text = (CI / recipe).read_text(encoding="utf-8")
    for line in text.splitlines():
        for part in line.split("run:")[-1].replace("&&", ";").split(";"):
            command = part.strip().lstrip("- ").strip()
            if command.startswith("modelgov "):
                build_parser().parse_args(command.split()[1:])  # raises SystemExit on an unknown option


def test_every_command_is_documented() -> None:
    from modelgov.cli_parser import build_parser

    parser = build_parser()
    commands = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction").choices
    reference = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    missing = [name for name in commands if f"`modelgov {name}" not in reference]
    assert missing == []


def test_the_troubleshooting_page_shows_the_messages_the_commands_really_print() -> None:
    sys.path.insert(0, str(Path(__file__).parent))
    import troubleshooting

    shown = troubleshooting.messages_on_page(troubleshooting.PAGE.read_text(encoding="utf-8"))
    assert len(shown) == len(troubleshooting.ENTRIES)
    for case_id, symptom, _ in troubleshooting.ENTRIES:
        assert shown[symptom.rstrip(".")] == troubleshooting.message_of(case_id), (
            f"{case_id}: the message changed; run `python tests/troubleshooting.py`"
        )


def test_every_metric_disparity_and_drift_method_is_described_in_methods() -> None:
    from modelgov.analysis.disparity import DISPARITIES
    from modelgov.analysis.fairness import CLASSIFICATION_GROUP_METRICS, REGRESSION_GROUP_METRICS
    from modelgov.analysis.performance import BINARY_METRICS, MULTICLASS_METRICS, REGRESSION_METRICS
    from modelgov.monitoring.drift import METHODS

    methods = (ROOT / "docs" / "methods.md").read_text(encoding="utf-8")
    keys = {
        *(m[0] for m in (*BINARY_METRICS, *MULTICLASS_METRICS, *REGRESSION_METRICS)),
        *CLASSIFICATION_GROUP_METRICS, *REGRESSION_GROUP_METRICS, *DISPARITIES, *METHODS,
    }  # fmt: skip
    missing = sorted(key for key in keys if f"`{key}`" not in methods)
    assert missing == []
