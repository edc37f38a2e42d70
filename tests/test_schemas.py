"""The committed JSON Schemas match the code, and manifests round-trip and refuse unknown majors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from modelgov import manifest, schemas
from modelgov.assemble import build_manifest
from modelgov.cli import main
from modelgov.errors import ManifestError
from modelgov.workspace.load import load_workspace
from shared_builds import demo_workspace
from workspace_factory import write_workspace

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("name", schemas.schema_names())
def test_committed_schema_matches_the_code(name: str) -> None:
    committed = REPO / schemas.COMMITTED_DIR / schemas.file_name(name)
    assert committed.is_file(), f"run `modelgov schema --write {schemas.COMMITTED_DIR}`"
    assert committed.read_text(encoding="utf-8") == schemas.schema_text(name), (
        f"{committed} is stale: run `modelgov schema --write {schemas.COMMITTED_DIR}`"
    )


def test_manifest_round_trips_and_validates_against_its_schema(tmp_path: Path) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    built = build_manifest(load_workspace(write_workspace(tmp_path / "ws")))
    path = tmp_path / "manifest.json"
    manifest.write(built, path)
    assert manifest.read(path) == built
    jsonschema.validate(json.loads(path.read_text()), schemas.json_schema("manifest"))


def test_unknown_schema_major_is_refused(tmp_path: Path) -> None:
    built = build_manifest(load_workspace(write_workspace(tmp_path / "ws")))
    data = json.loads(manifest.dumps(built))
    data["schema_version"] = "2.0"
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps(data))
    with pytest.raises(ManifestError, match=r"schema_version '2\.0' is not supported"):
        manifest.read(path)


def test_corrupted_manifest_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "manifest.json"
    path.write_text('{"schema_version": "1.0", ')
    with pytest.raises(ManifestError, match="cannot read manifest"):
        manifest.read(path)


def test_schema_command_prints_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema", "version"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert "evaluations" in printed["properties"]
    assert main(["schema", "nonsense"]) == 2
    assert "unknown schema 'nonsense'" in capsys.readouterr().err


def test_the_workspace_reference_page_is_generated_from_the_schemas(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    from modelgov.schemas import REFERENCE_PAGE, _children, _resolve, json_schema, write_reference

    repository = Path(__file__).resolve().parents[1]
    committed = (repository / REFERENCE_PAGE).read_text(encoding="utf-8")
    (tmp_path / "docs").mkdir()
    # the example workspace the test run generates once, as `python -m modelgov.schemas` generates it
    generated = write_reference(tmp_path, demo_workspace(tmp_path_factory)).read_text(encoding="utf-8")
    assert committed == generated, "docs/reference.md is stale: run `python -m modelgov.schemas`"

    def paths(schema: dict, node: dict, prefix: str = "") -> list[str]:
        found = []
        for key, child in node.get("properties", {}).items():
            found.append(prefix + key)
            inner = _children(schema, child)
            if inner is not None:
                marker = "[]." if _resolve(schema, child).get("type") == "array" else "."
                found += paths(schema, inner, prefix + key + marker)
        return found

    for name in ("governance", "model", "version", "approvals", "datasheet", "policy", "waivers"):
        schema = json_schema(name)
        for path in paths(schema, schema):
            assert f"| `{path}` |" in committed, f"{name}: {path} is missing from the reference"
    assert "| `owner.email` | text (or empty) | `null` |" in committed
    assert '`"Personal-loan default model (PD)"`' in committed  # examples come from the demo
