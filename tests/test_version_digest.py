"""What a sign-off records of version.yml, computed from the document the loader parsed.

``modelgov approve`` binds a sign-off to the SHA-256 of each evidence file; for version.yml it is
the digest of the parsed document without ``status`` (:func:`version_file_digest`). A build takes
that digest from the document the workspace loader already parsed instead of parsing the file
again, so the two must agree for every file the loader accepts, however it is written; an audit log
written before must not turn stale.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest
import yaml
from tests.workspace_factory import VERSION, write_workspace

from modelgov.decisions.evidence import version_evidence, version_file_digest
from modelgov.workspace.load import load_workspace

VERSION_FILE = "models/loans/versions/1.0/version.yml"

#: The factory's version.yml written in the other ways YAML allows: each must give the digest a
#: fresh parse of its bytes gives.
WRITTEN = {
    "as written": VERSION,
    "flow style, status last": (
        "{created: 2026-01-15, summary: First version., training: {datasets: [loans-train], "
        "algorithm: sklearn.linear_model.LogisticRegression, params: {C: 1.0}}, evaluations: [{id: holdout, "
        "data: data/holdout.csv, dataset: loans-holdout, date: 2026-01-20, label: defaulted, "
        "prediction: predicted, score: score, threshold: 0.5, features: [income, age]}], status: production}\n"
    ),
    "anchors and a merge key": VERSION.replace(
        "  params:\n    C: 1.0\n", "  params:\n    <<: &base {C: 1.0, tol: 0.01}\n    tol: 0.001\n    again: *base\n"
    ),
    "comments, a document marker, CRLF": "---\r\n# the first version\r\n"
    + VERSION.replace("\n", "  # note\r\n").replace("|  # note", "|"),
    "a byte-order mark": "\ufeff" + VERSION,
    # the loader drops two marks and safe_load one, so the first key reads differently: such a file
    # is parsed again from its bytes (an editor re-saving a file "with BOM" writes this)
    "two byte-order marks": "\ufeff\ufeff" + VERSION,
    "date keys under the parameters": VERSION.replace("    C: 1.0\n", "    C: 1.0\n    grid: {2024-01-01: 1}\n"),
    "keys of several types": VERSION.replace("    C: 1.0\n", "    C: 1.0\n    grid: {1: a, b: c}\n"),
    "quoted keys and tagged values": VERSION.replace("summary:", '"summary":').replace(
        "threshold: 0.5", "threshold: !!float 0.5"
    ),
    "a literal block": VERSION.replace("summary: First version.", "summary: |\n  First version.\n  Two lines."),
}


@pytest.mark.parametrize("name", sorted(WRITTEN))
def test_the_loaders_digest_is_that_of_the_files_bytes(tmp_path: Path, name: str) -> None:
    root = write_workspace(tmp_path)
    path = root / VERSION_FILE
    path.write_bytes(WRITTEN[name].encode("utf-8"))
    workspace = load_workspace(root)
    entry = workspace.models["loans"].versions["1.0"]
    assert entry.digest == version_file_digest(path.read_bytes())
    assert version_evidence(workspace, "loans", entry).files[VERSION_FILE] == entry.digest


def test_the_digest_is_independent_of_the_code_it_replaces(tmp_path: Path) -> None:
    """Computed here from PyYAML and the standard library alone: the canonical JSON of the document
    without ``status``."""
    root = write_workspace(tmp_path)
    document = yaml.safe_load((root / VERSION_FILE).read_bytes())
    del document["status"]
    expected = hashlib.sha256(
        json.dumps(document, sort_keys=True, separators=(",", ":"), default=str, ensure_ascii=False).encode()
    ).hexdigest()
    assert load_workspace(root).models["loans"].versions["1.0"].digest == expected


def test_status_alone_leaves_the_digest_and_anything_else_changes_it(tmp_path: Path) -> None:
    root = write_workspace(tmp_path)
    path = root / VERSION_FILE

    def digest() -> str:
        return load_workspace(root).models["loans"].versions["1.0"].digest

    first = digest()
    path.write_text(VERSION.replace("status: production", "status: retired  # moved on"), encoding="utf-8")
    assert digest() == first
    path.write_text(VERSION.replace("C: 1.0", "C: 2.0"), encoding="utf-8")
    assert digest() != first


def test_the_digest_is_of_the_bytes_the_build_read(tmp_path: Path) -> None:
    """The file is read once: a change after the workspace was loaded does not reach the evidence of
    the version the build describes (it is the next build's)."""
    root = write_workspace(tmp_path)
    workspace = load_workspace(root)
    entry = workspace.models["loans"].versions["1.0"]
    loaded = entry.digest
    (root / VERSION_FILE).write_text(VERSION.replace("C: 1.0", "C: 9.0"), encoding="utf-8")
    assert version_evidence(workspace, "loans", entry).files[VERSION_FILE] == loaded


@pytest.mark.parametrize("grid", ["{2024-01-01: 1}", "{1: a, b: c}", "[{2024-01-01: 1}]"])
def test_keys_json_cannot_sort_get_a_digest_of_their_own_and_the_build_goes_on(tmp_path: Path, grid: str) -> None:
    """Mapping keys JSON cannot hold or sort (dates, or keys of several types) under the free-form
    parameters: the loader accepts the file, so it gets a digest (each key written with its type),
    and validating, approving and building go on instead of ending in an internal error."""
    from modelgov.assemble import build_manifest
    from modelgov.cli import main

    root = write_workspace(tmp_path / "ws")
    path = root / VERSION_FILE
    path.write_text(VERSION.replace("    C: 1.0\n", f"    C: 1.0\n    grid: {grid}\n"), encoding="utf-8")
    assert main(["validate", str(root)]) == 0
    workspace = load_workspace(root)
    digest = workspace.models["loans"].versions["1.0"].digest
    assert digest == version_file_digest(path.read_bytes())
    path.write_text(VERSION.replace("    C: 1.0\n", "    C: 1.0\n    grid: {'2024-01-01': 1}\n"), encoding="utf-8")
    if "2024" in grid and grid.startswith("{"):  # the same key as text is another document
        assert load_workspace(root).models["loans"].versions["1.0"].digest != digest
    path.write_text(VERSION.replace("    C: 1.0\n", f"    C: 1.0\n    grid: {grid}\n"), encoding="utf-8")
    built = build_manifest(load_workspace(root))
    assert [v.version for v in built.models[0].versions] == ["1.0"]


@pytest.mark.parametrize("where", ["value", "key", "label"])
def test_an_integer_too_long_to_write_is_a_problem_naming_its_file_and_key(tmp_path: Path, where: str) -> None:
    """PyYAML builds an integer of any length; Python cannot write one of more than 4,300 digits as
    text, which the digest, the manifest and the pages all do. The loader refuses it, at its key."""
    from modelgov.errors import WorkspaceError

    root = write_workspace(tmp_path / "ws")
    huge = "0x" + "f" * 4000
    text = {
        "value": VERSION.replace("    C: 1.0\n", f"    C: 1.0\n    big: {huge}\n"),
        "key": VERSION.replace("    C: 1.0\n", f"    C: 1.0\n    ? {huge}\n    : 1\n"),  # a long key is written `? key`
        "label": VERSION.replace("    threshold: 0.5\n", f"    threshold: 0.5\n    positive_label: {huge}\n"),
    }[where]
    (root / VERSION_FILE).write_text(text, encoding="utf-8")
    with pytest.raises(WorkspaceError) as refused:
        load_workspace(root)
    message = str(refused.value)
    assert VERSION_FILE in message and "integer of more than 1,000 characters" in message
    assert {"value": "training.params.big", "key": "training.params", "label": "evaluations[0].positive_label"}[
        where
    ] in message
    (root / VERSION_FILE).write_text(VERSION.replace("    C: 1.0\n", "    C: 1.0\n    big: 0x" + "f" * 990 + "\n"))
    assert load_workspace(root).models["loans"].versions["1.0"].digest == version_file_digest(
        (root / VERSION_FILE).read_bytes()
    )


def test_a_set_of_text_has_the_same_digest_in_every_process(tmp_path: Path) -> None:
    """Python orders a set of text by a hash that changes between processes: ``approve`` and a later
    build must still agree. A set of numbers, ordered alike everywhere, keeps the digest it had."""
    import subprocess
    import sys

    root = write_workspace(tmp_path / "ws")
    sets = "    names: !!set {alpha, beta, gamma, delta, epsilon}\n    numbers: !!set {8, 1, 3}\n"
    (root / VERSION_FILE).write_text(VERSION.replace("    C: 1.0\n", "    C: 1.0\n" + sets), encoding="utf-8")
    script = (
        "import sys; from pathlib import Path; from modelgov.decisions.evidence import version_file_digest\n"
        "print(version_file_digest(Path(sys.argv[1]).read_bytes()))\n"
    )
    digests = {
        subprocess.run(
            [sys.executable, "-c", script, str(root / VERSION_FILE)],
            env={**os.environ, "PYTHONHASHSEED": str(seed)},
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        for seed in range(1, 6)
    }
    assert len(digests) == 1
    assert load_workspace(root).models["loans"].versions["1.0"].digest in digests
    document = yaml.safe_load((root / VERSION_FILE).read_bytes())
    del document["status"]
    document["training"]["params"]["names"] = "{'alpha', 'beta', 'delta', 'epsilon', 'gamma'}"
    document["training"]["params"]["numbers"] = str({8, 1, 3})  # as before: the same in every process
    expected = hashlib.sha256(
        json.dumps(document, sort_keys=True, separators=(",", ":"), default=str, ensure_ascii=False).encode()
    ).hexdigest()
    assert digests == {expected}
