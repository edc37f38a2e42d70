"""The JSON Schemas modelgov publishes, generated from the code and committed under ``schemas/``.

``manifest`` is the output contract; the others describe the workspace files users write. A test
regenerates them and fails if the committed copies differ, so the published schemas never drift
from what the code accepts. Regenerate with ``modelgov schema --write schemas``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from modelgov.manifest import manifest_json_schema
from modelgov.policy.schema import PolicyFile, WaiversFile
from modelgov.workspace.schema import INPUT_MODELS

#: Policy files and waivers.yml are workspace files too, with their own schemas.
_ALL_INPUTS = {**INPUT_MODELS, "policy": PolicyFile, "waivers": WaiversFile}

#: Where the committed copies live, relative to the repository root.
COMMITTED_DIR = "schemas"


def schema_names() -> list[str]:
    return ["manifest", *_ALL_INPUTS]


def json_schema(name: str) -> dict[str, Any]:
    if name == "manifest":
        return manifest_json_schema()
    model = _ALL_INPUTS[name]
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **model.model_json_schema()}


def schema_text(name: str) -> str:
    return json.dumps(json_schema(name), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def file_name(name: str) -> str:
    return f"{name}.schema.json"


def write_all(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name in schema_names():
        path = folder / file_name(name)
        path.write_text(schema_text(name), encoding="utf-8")
        written.append(path)
    return written
