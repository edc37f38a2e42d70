"""Red-team cases: the workspace boundary, the opt-ins to the workspace's code (pickles, skops
trusted types, templates) and CI's refusal of them, bounded input and ``serve``'s Host check.

A workspace is written by anyone who can open a pull request. Each case here is one thing such a
person can commit, run through the command line as CI would, with the outcome docs/security.md
promises: exit 2 and an error naming the file (and the key that referenced it), or a stated
degradation on the page; never a traceback or an "internal error"; never content from outside the
workspace on the site (a secret is planted outside it, and the output is searched for it); and for
each bomb, a peak memory under 1 GB, measured in a separate process.
"""

from __future__ import annotations

import gzip
import http.client
import http.server
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import textwrap
import threading
import time
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from hostile_corpus import TRIPWIRE, pickle_payload
from modelgov.cli import main
from test_serve import request
from workspace_factory import edit, holdout_table, write_workspace

pytestmark = pytest.mark.redteam

SECRET = "SECRET-FROM-OUTSIDE-c0ffee"
GOVERNANCE = "governance.yml"
MODEL = "models/loans/model.yml"
VERSION = "models/loans/versions/1.0/version.yml"
APPROVALS = "models/loans/versions/1.0/approvals.yml"
TRAIN = "datasets/loans-train.yml"
EXPLAIN = "models/loans/1.0/explainability.html"
ONE_GB = 1 << 30


# --------------------------------------------------------------------------- workspaces


def outside_copy(tmp_path: Path) -> Path:
    """A valid workspace *outside* the one under test, every file carrying :data:`SECRET`: whatever
    a link reads from it would show the secret on the site."""
    table = holdout_table().assign(sex=lambda t: np.where(t["sex"] == "F", SECRET, "M"))
    root = write_workspace(tmp_path / "outside", table=table)
    edit(root, GOVERNANCE, "title: Example Bank — Model Governance", f"title: {SECRET}")
    edit(root, MODEL, "description: Predicts loan default.", f"description: {SECRET}")
    edit(root, VERSION, "summary: First version.", f"summary: {SECRET}")
    edit(root, APPROVALS, "by: Rita Reviewer", f"by: {SECRET}")
    edit(root, TRAIN, "description: Applications from 2025.", f"description: {SECRET}")
    (root / "policies").mkdir()
    (root / "policies" / "extra.yml").write_text(f"id: extra\ntitle: {SECRET}\nrules: []\n")
    (root / "waivers.yml").write_text(f"waivers: []\n# {SECRET}\n")
    (root / "templates").mkdir()
    (root / "templates" / "model.md.j2").write_text(f"{SECRET}\n")
    (root / "audit").mkdir()
    (root / "audit" / "log.jsonl").write_text(json.dumps({"secret": SECRET}) + "\n")
    (root / "lineage").mkdir()
    (root / "lineage" / "events.json").write_text(json.dumps({"eventType": "COMPLETE", "note": SECRET}) + "\n")
    (root / "mlruns" / "0").mkdir(parents=True)
    (root / "mlruns" / "0" / "meta.yaml").write_text(f"name: {SECRET}\nexperiment_id: '0'\n")
    (root / "mlflow.db").write_bytes(SECRET.encode())
    (root / "model.skops").write_bytes(SECRET.encode())
    (root / "logs").mkdir()
    log_table(table).to_csv(root / "logs" / "week-1.csv", index=False)
    return root


def log_table(table: pd.DataFrame | None = None) -> pd.DataFrame:
    table = holdout_table() if table is None else table
    return table.assign(ts="2026-08-03T10:00:00Z", id=range(len(table)))


MONITORING = """\
monitoring:
  logs: logs/*.csv
  timestamp: ts
  id: id
  prediction: predicted
  score: score
  features: [income, age]
  reference: holdout
"""


def with_monitoring(ws: Path, extra: str = "") -> None:
    """Give the version a scoring log (``logs/week-1.csv``) and, in ``extra``, more monitoring keys."""
    (ws / "logs").mkdir(exist_ok=True)
    log_table().to_csv(ws / "logs" / "week-1.csv", index=False)
    (ws / VERSION).write_text((ws / VERSION).read_text() + MONITORING + extra)


def link(ws: Path, rel: str, target: Path | str) -> None:
    """Replace the workspace path ``rel`` (file or folder) by a symbolic link to ``target``."""
    path = ws / rel
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.symlink_to(target)


def fifo(ws: Path, rel: str) -> None:
    """Replace the workspace file ``rel`` by a named pipe nobody writes to: reading it would block."""
    path = ws / rel
    if path.exists():
        path.unlink()
    path.parent.mkdir(parents=True, exist_ok=True)
    os.mkfifo(path)


# --------------------------------------------------------------------------- cases


@dataclass(frozen=True)
class Case:
    id: str
    #: changes the valid workspace ``ws``; ``out`` is the outside copy full of secrets
    mutate: Callable[[Path, Path], None]
    #: the file the error must name, and further words it must contain (the key, the reason)
    file: str
    says: tuple[str, ...]


def case(id: str, mutate: Callable[[Path, Path], None], file: str, *says: str) -> Case:
    return Case(id, mutate, file, says)


OUTSIDE = "points outside the workspace"


def _artifact(ws: Path, name: str = "model.skops", extra: str = "") -> None:
    edit(ws, VERSION, "  params:\n", f"  artifact:\n    path: models/loans/versions/1.0/{name}\n{extra}  params:\n")


def _datasheet_file(ws: Path) -> None:
    edit(ws, TRAIN, "licence: Internal\n", "licence: Internal\nfiles:\n  - path: data/train.csv\n")


def _templates(ws: Path, trust: str = "true") -> None:
    (ws / GOVERNANCE).write_text((ws / GOVERNANCE).read_text() + f"trust_templates: {trust}\n")
    (ws / "templates").mkdir(exist_ok=True)


def _lineage(ws: Path, key: str, value: str) -> None:
    (ws / GOVERNANCE).write_text((ws / GOVERNANCE).read_text() + f"lineage:\n  {key}: {value}\n")


def _audit(ws: Path) -> None:
    (ws / "audit").mkdir(exist_ok=True)


def _loop(ws: Path) -> None:
    link(ws, "data/a.csv", ws / "data/b.csv")
    link(ws, "data/b.csv", ws / "data/a.csv")
    edit(ws, VERSION, "data: data/holdout.csv", "data: data/a.csv")


LINK_CASES = [
    # YAML files found by discovery, each a link to the same file outside
    case("link-governance", lambda ws, out: link(ws, GOVERNANCE, out / GOVERNANCE), GOVERNANCE, OUTSIDE),
    case("link-model-yml", lambda ws, out: link(ws, MODEL, out / MODEL), MODEL, OUTSIDE),
    case("link-version-yml", lambda ws, out: link(ws, VERSION, out / VERSION), VERSION, OUTSIDE),
    case("link-approvals", lambda ws, out: link(ws, APPROVALS, out / APPROVALS), APPROVALS, OUTSIDE),
    case("link-datasheet", lambda ws, out: link(ws, TRAIN, out / TRAIN), TRAIN, OUTSIDE),
    case(
        "link-policy",
        lambda ws, out: link(ws, "policies/extra.yml", out / "policies/extra.yml"),
        "policies/extra.yml",
        OUTSIDE,
    ),
    case("link-waivers", lambda ws, out: link(ws, "waivers.yml", out / "waivers.yml"), "waivers.yml", OUTSIDE),
    # folders on the way to them
    case("link-models-folder", lambda ws, out: link(ws, "models", out / "models"), "models/", OUTSIDE),
    case("link-model-folder", lambda ws, out: link(ws, "models/loans", out / "models/loans"), "models/loans/", OUTSIDE),
    case(
        "link-versions-folder",
        lambda ws, out: link(ws, "models/loans/versions", out / "models/loans/versions"),
        "models/loans/versions/",
        OUTSIDE,
    ),
    case(
        "link-version-folder",
        lambda ws, out: link(ws, "models/loans/versions/1.0", out / "models/loans/versions/1.0"),
        "models/loans/versions/1.0/",
        OUTSIDE,
    ),
    case("link-datasets-folder", lambda ws, out: link(ws, "datasets", out / "datasets"), "datasets/", OUTSIDE),
    case("link-policies-folder", lambda ws, out: link(ws, "policies", out / "policies"), "policies/", OUTSIDE),
    # tables: evaluation, reference, logs, ground truth, datasheet files
    case(
        "link-evaluation-table",
        lambda ws, out: link(ws, "data/holdout.csv", out / "data/holdout.csv"),
        VERSION,
        "evaluations[0].data",
        OUTSIDE,
    ),
    case("link-data-folder", lambda ws, out: link(ws, "data", out / "data"), VERSION, "evaluations[0].data", OUTSIDE),
    case(
        "link-log-file",
        lambda ws, out: (with_monitoring(ws), link(ws, "logs/week-1.csv", out / "logs/week-1.csv")),
        VERSION,
        "monitoring.logs",
        "logs/week-1.csv",
        OUTSIDE,
    ),
    case(
        "link-logs-folder",
        lambda ws, out: (with_monitoring(ws), link(ws, "logs", out / "logs")),
        VERSION,
        "monitoring.logs",
        OUTSIDE,
    ),
    case(
        "link-reference-table",
        lambda ws, out: (
            with_monitoring(ws),
            edit(ws, VERSION, "  reference: holdout\n", "  reference: {data: data/reference.csv}\n"),
            link(ws, "data/reference.csv", out / "data/holdout.csv"),
        ),
        VERSION,
        "monitoring.reference",
        OUTSIDE,
    ),
    case(
        "link-ground-truth",
        lambda ws, out: (
            with_monitoring(ws, "  ground_truth: {data: data/truth.csv, id: id, label: defaulted}\n"),
            link(ws, "data/truth.csv", out / "logs/week-1.csv"),
        ),
        VERSION,
        "monitoring.ground_truth.data",
        OUTSIDE,
    ),
    case(
        "link-datasheet-file",
        lambda ws, out: (_datasheet_file(ws), link(ws, "data/train.csv", out / "data/holdout.csv")),
        TRAIN,
        "files[0].path",
        OUTSIDE,
    ),
    # model files
    case(
        "link-model-file",
        lambda ws, out: (_artifact(ws), link(ws, "models/loans/versions/1.0/model.skops", out / "model.skops")),
        VERSION,
        "training.artifact.path",
        OUTSIDE,
    ),
    # templates
    case(
        "link-template-file",
        lambda ws, out: (_templates(ws), link(ws, "templates/model.md.j2", out / "templates/model.md.j2")),
        "templates/model.md.j2",
        OUTSIDE,
    ),
    case(
        "link-templates-folder",
        lambda ws, out: (_templates(ws), link(ws, "templates", out / "templates")),
        "templates/",
        OUTSIDE,
    ),
    # MLflow stores and OpenLineage events
    case(
        "link-mlflow-db",
        lambda ws, out: (_lineage(ws, "mlflow", "mlflow.db"), link(ws, "mlflow.db", out / "mlflow.db")),
        GOVERNANCE,
        "lineage.mlflow",
        OUTSIDE,
    ),
    case(
        "link-mlruns-folder",
        lambda ws, out: (_lineage(ws, "mlflow", "mlruns/"), link(ws, "mlruns", out / "mlruns")),
        GOVERNANCE,
        "lineage.mlflow",
        OUTSIDE,
    ),
    case(
        "link-mlruns-meta",
        lambda ws, out: (
            _lineage(ws, "mlflow", "mlruns/"),
            (ws / "mlruns/0").mkdir(parents=True),
            link(ws, "mlruns/0/meta.yaml", out / "mlruns/0/meta.yaml"),
        ),
        "mlruns/0/meta.yaml",
        OUTSIDE,
    ),
    case(
        "link-openlineage-file",
        lambda ws, out: (
            _lineage(ws, "openlineage", "lineage/events.json"),
            link(ws, "lineage/events.json", out / "lineage/events.json"),
        ),
        "lineage/events.json",
        OUTSIDE,
    ),
    case(
        "link-openlineage-folder",
        lambda ws, out: (_lineage(ws, "openlineage", "lineage/"), link(ws, "lineage", out / "lineage")),
        "lineage/events.json",
        OUTSIDE,
    ),
    # the audit log's location
    case(
        "link-audit-log",
        lambda ws, out: (_audit(ws), link(ws, "audit/log.jsonl", out / "audit/log.jsonl")),
        "audit/log.jsonl",
        OUTSIDE,
    ),
    case("link-audit-folder", lambda ws, out: link(ws, "audit", out / "audit"), "audit/", OUTSIDE),
    # devices, through links: refused by where they are (outside) before what they are
    case(
        "device-dev-zero-table",
        lambda ws, out: link(ws, "data/holdout.csv", "/dev/zero"),
        VERSION,
        "evaluations[0].data",
        OUTSIDE,
    ),
    case("device-dev-urandom-model-yml", lambda ws, out: link(ws, MODEL, "/dev/urandom"), MODEL, OUTSIDE),
    case(
        "device-dev-zero-audit-log",
        lambda ws, out: (_audit(ws), link(ws, "audit/log.jsonl", "/dev/zero")),
        "audit/log.jsonl",
        OUTSIDE,
    ),
    # FIFOs made in the workspace: refused by type, never opened (opening one would hang the build)
    case("fifo-governance", lambda ws, out: fifo(ws, GOVERNANCE), GOVERNANCE, "named pipe (FIFO)"),
    case("fifo-approvals", lambda ws, out: fifo(ws, APPROVALS), APPROVALS, "named pipe (FIFO)"),
    case("fifo-datasheet", lambda ws, out: fifo(ws, "datasets/extra.yml"), "datasets/extra.yml", "named pipe"),
    case(
        "fifo-evaluation-table",
        lambda ws, out: fifo(ws, "data/holdout.csv"),
        VERSION,
        "evaluations[0].data",
        "named pipe (FIFO)",
    ),
    case(
        "fifo-in-log-glob",
        lambda ws, out: (with_monitoring(ws), fifo(ws, "logs/week-2.csv")),
        VERSION,
        "monitoring.logs",
        "logs/week-2.csv",
        "named pipe",
    ),
    case("fifo-audit-log", lambda ws, out: (_audit(ws), fifo(ws, "audit/log.jsonl")), "audit/log.jsonl", "named pipe"),
    case(
        "fifo-template",
        lambda ws, out: (_templates(ws), fifo(ws, "templates/model.md.j2")),
        "templates/model.md.j2",
        "named pipe",
    ),
    case("symlink-loop", lambda ws, out: _loop(ws), VERSION, "evaluations[0].data", "loops back on itself"),
]


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(args)
    err = capsys.readouterr().err
    assert "Traceback" not in err and "internal error" not in err, err
    return code, err


def assert_refused(code: int, err: str, file: str, says: tuple[str, ...], site: Path) -> None:
    assert code == 2, f"expected exit 2, got {code}\n{err}"
    assert err.startswith("error:"), err
    assert file in err, f"the error does not name {file!r}:\n{err}"
    for phrase in says:
        assert phrase in err, f"the error does not say {phrase!r}:\n{err}"
    assert SECRET not in err
    assert not (site / "index.html").exists(), "a refused build wrote a site"


@pytest.mark.parametrize("hostile", LINK_CASES, ids=lambda c: c.id)
def test_paths_leaving_the_workspace_or_not_files_are_refused(
    hostile: Case, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ws = write_workspace(tmp_path / "ws")
    hostile.mutate(ws, outside_copy(tmp_path))
    site = tmp_path / "site"
    code, err = run(["build", str(ws), "-o", str(site), "--quiet", "--no-cache", "--jobs", "1"], capsys)
    assert_refused(code, err, hostile.file, hostile.says, site)


NUL = "contains a NUL character (\\x00)"


def _nul(ws: Path, rel: str, old: str, new: str) -> None:
    """Write ``new`` for ``old`` in ``rel``, its ``{NUL}`` a NUL character written as YAML's ``\\0``."""
    edit(ws, rel, old, new.replace("{NUL}", "\\0"))


def _append(ws: Path, rel: str, text: str) -> None:
    (ws / rel).write_text((ws / rel).read_text() + text.replace("{NUL}", "\\0"))


SHADOW_NUL = """\
shadow:
  logs: "data/shadow{NUL}.csv"
  timestamp: ts
  id: rid
  champion: {version: "0.9", logs: "data/champion{NUL}.csv", prediction: p}
  challenger: {prediction: q}
  ground_truth: {data: "data/outcomes{NUL}.csv", id: rid, label: y}
"""

EXPERIMENT_NUL = """\
experiment:
  name: A/B
  log: "data/ab{NUL}.csv"
  timestamp: ts
  id: rid
  arm: arm
  champion: "0.9"
  split: 0.5
  design: {type: fixed, sample_size: 9000, minimum_detectable_effect: 0.03}
  metric: {aggregation: rate, column: converted, table: outcomes, direction: higher, title: Converted}
  outcomes: {data: "data/outcomes{NUL}.csv", id: rid}
"""

# Every key that names a file, with a NUL character in its path ("embedded null byte" was an internal
# error): each is refused at load, naming the file and the key, before anything is opened.
NUL_CASES = [
    case(
        "nul-evaluation-table",
        lambda ws, out: _nul(ws, VERSION, "data: data/holdout.csv", 'data: "data/holdout.csv{NUL}"'),
        VERSION,
        "evaluations[0].data",
        NUL,
    ),
    case(
        "nul-in-a-folder-name",
        lambda ws, out: _nul(ws, VERSION, "data: data/holdout.csv", 'data: "data{NUL}/holdout.csv"'),
        VERSION,
        "evaluations[0].data",
        NUL,
    ),
    case(
        "nul-model-file",
        lambda ws, out: _nul(ws, VERSION, "  params:\n", '  artifact: {path: "model{NUL}.skops"}\n  params:\n'),
        VERSION,
        "training.artifact.path",
        NUL,
    ),
    case(
        "nul-model-file-short-form",
        lambda ws, out: _nul(ws, VERSION, "  params:\n", '  artifact: "model{NUL}.skops"\n  params:\n'),
        VERSION,
        "training.artifact",
        NUL,
    ),
    case(
        "nul-datasheet-file",
        lambda ws, out: _nul(
            ws, TRAIN, "licence: Internal\n", 'licence: Internal\nfiles:\n  - path: "data/t{NUL}.csv"\n'
        ),
        TRAIN,
        "files[0].path",
        NUL,
    ),
    case(
        "nul-log-glob",
        lambda ws, out: (with_monitoring(ws), _nul(ws, VERSION, "logs: logs/*.csv", 'logs: "logs/*{NUL}.csv"')),
        VERSION,
        "monitoring.logs",
        NUL,
    ),
    case(
        "nul-log-folder",
        lambda ws, out: (with_monitoring(ws), _nul(ws, VERSION, "logs: logs/*.csv", 'logs: "logs{NUL}/"')),
        VERSION,
        "monitoring.logs",
        NUL,
    ),
    case(
        "nul-log-file-uri",
        lambda ws, out: (
            with_monitoring(ws),
            _append(ws, GOVERNANCE, "monitoring:\n  engine: spark\n"),
            edit(ws, VERSION, "logs: logs/*.csv", f"logs: {(ws / 'logs').as_uri()}%00/"),
        ),
        VERSION,
        "monitoring.logs",
        NUL,
    ),
    case(
        "nul-reference-table",
        lambda ws, out: (
            with_monitoring(ws),
            _nul(ws, VERSION, "  reference: holdout\n", '  reference: {data: "data/reference{NUL}.csv"}\n'),
        ),
        VERSION,
        "monitoring.reference",
        NUL,
    ),
    case(
        "nul-ground-truth",
        lambda ws, out: with_monitoring(ws, '  ground_truth: {data: "data/truth\\0.csv", id: id, label: defaulted}\n'),
        VERSION,
        "monitoring.ground_truth.data",
        NUL,
    ),
    case("nul-shadow-log", lambda ws, out: _append(ws, VERSION, SHADOW_NUL), VERSION, "shadow.logs", NUL),
    case(
        "nul-shadow-champion-log",
        lambda ws, out: _append(ws, VERSION, SHADOW_NUL),
        VERSION,
        "shadow.champion.logs",
        NUL,
    ),
    case(
        "nul-shadow-outcomes",
        lambda ws, out: _append(ws, VERSION, SHADOW_NUL),
        VERSION,
        "shadow.ground_truth.data",
        NUL,
    ),
    case("nul-experiment-log", lambda ws, out: _append(ws, VERSION, EXPERIMENT_NUL), VERSION, "experiment.log", NUL),
    case(
        "nul-experiment-outcomes",
        lambda ws, out: _append(ws, VERSION, EXPERIMENT_NUL),
        VERSION,
        "experiment.outcomes.data",
        NUL,
    ),
    case(
        "nul-mlflow-store",
        lambda ws, out: _append(ws, GOVERNANCE, 'lineage:\n  mlflow: "mlruns{NUL}/"\n'),
        GOVERNANCE,
        "lineage.mlflow",
        NUL,
    ),
    case(
        "nul-openlineage-glob",
        lambda ws, out: _append(ws, GOVERNANCE, 'lineage:\n  openlineage: "lineage/*{NUL}.json"\n'),
        GOVERNANCE,
        "lineage.openlineage",
        NUL,
    ),
    case(
        "nul-allowed-signers",
        lambda ws, out: _append(ws, GOVERNANCE, 'signing:\n  allowed_signers: "audit/allowed{NUL}"\n'),
        GOVERNANCE,
        "signing.allowed_signers",
        NUL,
    ),
]


@pytest.mark.parametrize("hostile", NUL_CASES, ids=lambda c: c.id)
def test_a_path_with_a_nul_character_is_refused_naming_the_file_and_key(
    hostile: Case, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ws = write_workspace(tmp_path / "ws")
    hostile.mutate(ws, tmp_path)
    site = tmp_path / "site"
    code, err = run(["build", str(ws), "-o", str(site), "--quiet", "--no-cache", "--jobs", "1"], capsys)
    assert_refused(code, err, hostile.file, hostile.says, site)
    assert f"{hostile.says[0]}: " in err and NUL in err.split(f"{hostile.says[0]}: ", 1)[1].splitlines()[0]


def test_the_refusals_are_listed_with_the_workspaces_other_problems(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ws = write_workspace(tmp_path / "ws")
    out = outside_copy(tmp_path)
    link(ws, APPROVALS, out / APPROVALS)
    fifo(ws, "datasets/extra.yml")
    edit(ws, MODEL, "risk_tier: high", "risk_tier: hihg")
    code, err = run(["validate", str(ws)], capsys)
    assert code == 2
    assert "3 problems" in err and APPROVALS in err and "datasets/extra.yml" in err and "risk_tier" in err


@pytest.mark.slow
def test_a_link_that_stays_inside_the_workspace_is_followed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ws = write_workspace(tmp_path / "ws")
    outside_copy(tmp_path)
    (ws / "tables").mkdir()
    shutil.move(ws / "data" / "holdout.csv", ws / "tables" / "holdout.csv")
    link(ws, "data/holdout.csv", Path("../tables/holdout.csv"))
    site = tmp_path / "site"
    code, err = run(["build", str(ws), "-o", str(site), "--quiet", "--no-cache", "--jobs", "1"], capsys)
    assert code in (0, 1), err
    assert not any(SECRET in p.read_text(errors="replace") for p in site.rglob("*") if p.is_file())


# --------------------------------------------------------------------------- pickles


@pytest.mark.parametrize("value", ['"true"', "1", '"yes"', "0", "yes please"])
def test_trust_pickle_accepts_only_a_yaml_boolean(value: str, tmp_path: Path, capsys) -> None:
    ws = write_workspace(tmp_path / "ws")
    (ws / "models/loans/versions/1.0/model.pkl").write_bytes(pickle_payload(ws))
    _artifact(ws, "model.pkl", f"    trust_pickle: {value}\n")
    site = tmp_path / "site"
    code, err = run(["build", str(ws), "-o", str(site), "--quiet", "--no-cache", "--jobs", "1"], capsys)
    assert_refused(code, err, VERSION, ("training.artifact.trust_pickle", "valid boolean"), site)
    assert not (tmp_path / TRIPWIRE).exists()


def _trusting_workspace(tmp_path: Path) -> Path:
    ws = write_workspace(tmp_path / "ws")
    (ws / "models/loans/versions/1.0/model.pkl").write_bytes(pickle_payload(ws))
    _artifact(ws, "model.pkl", "    trust_pickle: true\n")
    return ws


def ci_command(how: str, ws: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The arguments of the command ``how`` names: ``build --refuse-pickle``, or ``validate with
    MODELGOV_REFUSE_PICKLE`` (the variable set to 1 instead of the option)."""
    command, *rest = how.split()
    args = [command, str(ws)]
    if command == "build":
        args += ["-o", str(tmp_path / "site"), "--quiet", "--no-cache", "--jobs", "1"]
    if command == "check":
        args += ["--results", str(tmp_path / "results.json"), "--quiet", "--no-cache", "--jobs", "1"]
    if rest[0] == "with":
        monkeypatch.setenv(rest[1], "1")
    else:
        args.append(rest[0])
    return args


REFUSING_PICKLES = [
    "build --refuse-pickle",
    "check --refuse-pickle",
    "build with MODELGOV_REFUSE_PICKLE",
    "validate with MODELGOV_REFUSE_PICKLE",
]
REFUSING_WORKSPACE_CODE = [
    "build --refuse-workspace-code",
    "check --refuse-workspace-code",
    "build with MODELGOV_REFUSE_WORKSPACE_CODE",
    "validate with MODELGOV_REFUSE_WORKSPACE_CODE",
]


@pytest.mark.parametrize("how", REFUSING_PICKLES)
def test_ci_refuses_pickles_whatever_the_workspace_says(
    how: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    ws = _trusting_workspace(tmp_path)
    code, err = run(ci_command(how, ws, tmp_path, monkeypatch), capsys)
    assert_refused(code, err, VERSION, ("training.artifact.trust_pickle", "refuses pickles"), tmp_path / "site")
    assert not (tmp_path / TRIPWIRE).exists(), "a pickle was opened"


def test_the_loader_never_opens_a_refused_pickle(tmp_path: Path) -> None:
    """Second line of defence: even handed an artifact that trusts pickles, a refusing load does not."""
    from modelgov.sources.models import ModelUnavailable, load_model
    from modelgov.workspace.training_schema import Artifact

    ws = _trusting_workspace(tmp_path)
    path = ws / "models/loans/versions/1.0/model.pkl"
    result = load_model(path, Artifact(path="model.pkl", trust_pickle=True), refuse_model_code=True)
    assert isinstance(result, ModelUnavailable) and "refuses pickle" in result.reason
    assert not (tmp_path / TRIPWIRE).exists()


# --------------------------------------------------------------------------- skops trusted types


MARKER = "ran-id"


def pipepager_skops(path: Path, marker: Path) -> None:
    """A ``.skops`` pipeline that runs ``id > marker`` when it scores: its first step is a
    ``FunctionTransformer`` whose function is :func:`pydoc.pipepager`, handed a shell command. skops
    refuses it unless ``pydoc.pipepager`` is trusted, and nothing here calls it."""
    import pydoc

    import skops.io
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    table = holdout_table()
    scorer = LogisticRegression().fit(table[["income", "age"]], table["defaulted"])
    command = FunctionTransformer(func=pydoc.pipepager, kw_args={"cmd": f"id > {marker}; true"})
    skops.io.dump(make_pipeline(command, scorer), path)
    assert skops.io.get_untrusted_types(file=path) == ["pydoc.pipepager"]


def _trusted_types_workspace(tmp_path: Path) -> Path:
    """A workspace whose model file runs a command when it scores, and whose version.yml trusts the
    function that runs it, as a pull request would write it."""
    ws = write_workspace(tmp_path / "ws")
    pipepager_skops(ws / "models/loans/versions/1.0/model.skops", tmp_path / MARKER)
    _artifact(ws, "model.skops", "    trusted_types: [pydoc.pipepager]\n")
    return ws


@pytest.mark.parametrize("how", REFUSING_PICKLES)
def test_ci_refuses_skops_trusted_types_whatever_the_workspace_says(
    how: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A trusted type is code the file calls (here a shell command): the refusal of pickles covers it."""
    ws = _trusted_types_workspace(tmp_path)
    code, err = run(ci_command(how, ws, tmp_path, monkeypatch), capsys)
    says = ("training.artifact.trusted_types", "refuses skops trusted types", "--refuse-pickle")
    assert_refused(code, err, VERSION, says, tmp_path / "site")
    lines = (ws / VERSION).read_text().splitlines()
    listed = next(number for number, line in enumerate(lines, 1) if "trusted_types" in line)
    assert f"{VERSION}:{listed}: training.artifact.trusted_types:" in err  # the line that lists them
    assert not (tmp_path / MARKER).exists(), "the model file's command ran"


def test_the_loader_never_uses_a_refused_trusted_type(tmp_path: Path) -> None:
    """Second line of defence: a refusing load does not build the model; a trusting one does, and its
    first prediction runs the command (so the refusals above are tested on a live payload)."""
    from modelgov.sources.models import LoadedModel, ModelUnavailable, load_model
    from modelgov.workspace.training_schema import Artifact

    ws = _trusted_types_workspace(tmp_path)
    path, marker = ws / "models/loans/versions/1.0/model.skops", tmp_path / MARKER
    artifact = Artifact(path="model.skops", trusted_types=["pydoc.pipepager"])
    refused = load_model(path, artifact, refuse_model_code=True)
    assert isinstance(refused, ModelUnavailable) and "refuses skops trusted types" in refused.reason
    assert not marker.exists()
    loaded = load_model(path, artifact)
    assert isinstance(loaded, LoadedModel) and not marker.exists()  # built, not yet called
    with pytest.raises(TypeError):  # pipepager writes the rows to the command, which is not text
        loaded.estimator.predict(holdout_table()[["income", "age"]])
    for _ in range(100):  # the shell runs beside this process
        if marker.exists():
            break
        time.sleep(0.05)
    assert marker.exists(), "the payload did not run: the refusals above would prove nothing"


# --------------------------------------------------------------------------- templates


@pytest.mark.parametrize("value", ['"true"', "1", '"yes"', "0", "yes please"])
def test_trust_templates_accepts_only_a_yaml_boolean(value: str, tmp_path: Path, capsys) -> None:
    ws = write_workspace(tmp_path / "ws")
    _templates(ws, value)
    site = tmp_path / "site"
    code, err = run(["build", str(ws), "-o", str(site), "--quiet", "--no-cache", "--jobs", "1"], capsys)
    assert_refused(code, err, GOVERNANCE, ("trust_templates", "valid boolean"), site)


# --------------------------------------------------------------------------- every opt-in to the workspace's code


def _trusting_templates_workspace(tmp_path: Path) -> Path:
    ws = write_workspace(tmp_path / "ws")
    _templates(ws)
    return ws


OPT_INS = {
    "trust_pickle": (_trusting_workspace, VERSION, "training.artifact.trust_pickle", "refuses pickles"),
    "trusted_types": (_trusted_types_workspace, VERSION, "training.artifact.trusted_types", "refuses skops trusted"),
    "trust_templates": (_trusting_templates_workspace, GOVERNANCE, "trust_templates", "refuses the workspace's templ"),
}


@pytest.mark.parametrize("how", REFUSING_WORKSPACE_CODE)
@pytest.mark.parametrize("opt_in", OPT_INS)
def test_ci_refuses_every_opt_in_to_the_workspaces_code(
    opt_in: str, how: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    make, file, key, says = OPT_INS[opt_in]
    ws = make(tmp_path)
    code, err = run(ci_command(how, ws, tmp_path, monkeypatch), capsys)
    assert_refused(code, err, file, (key, says, "--refuse-workspace-code"), tmp_path / "site")
    assert not (tmp_path / TRIPWIRE).exists() and not (tmp_path / MARKER).exists(), "the workspace's code ran"


# --------------------------------------------------------------------------- bombs, measured


MEASURE = textwrap.dedent(
    """
    import re, resource, sys
    from modelgov.cli import main
    code = main(sys.argv[1:])
    status = open("/proc/self/status").read()
    own = int(re.search(r"VmHWM:\\s+(\\d+) kB", status).group(1))
    peak = max(own, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
    sys.stderr.write(f"\\nPEAK_KB {peak}\\n")
    sys.exit(code)
    """
)


def measured_build(ws: Path, site: Path, *, timeout: float = 900) -> tuple[int, str, int]:
    """``modelgov build`` in a fresh process: exit code, stderr and peak resident memory in bytes —
    the process's own high-water mark (``VmHWM``: its ``ru_maxrss`` would include this test
    process's peak, which Linux carries across fork and exec) and that of any child it started.
    A build still running after ``timeout`` seconds is killed, and the test fails."""
    env = {**os.environ, "SOURCE_DATE_EPOCH": "1767225600"}
    args = ["build", str(ws), "-o", str(site), "--quiet", "--no-cache", "--jobs", "1"]
    done = subprocess.run(
        [sys.executable, "-c", MEASURE, *args], capture_output=True, text=True, env=env, timeout=timeout, check=False
    )
    err, _, peak = done.stderr.rpartition("PEAK_KB ")
    assert "Traceback" not in err and "internal error" not in err, err
    print(f"peak memory of the build: {int(peak) / 1024:.0f} MiB")  # shown with -s, for docs/security.md
    return done.returncode, err, int(peak.strip()) * 1024


def huge_field_csv(path: Path, size: int = 500 * 2**20, *, compressed: bool) -> None:
    """The factory's holdout with one 500 MB field (in a row of its own), streamed to disk 1 MiB at a
    time: gzip'd it is a couple of megabytes."""
    with gzip.open(path, "wb", compresslevel=1) if compressed else path.open("wb") as handle:
        holdout_table().to_csv(handle, index=False)
        handle.write(b'1000,30,F,"')
        chunk = b"x" * 2**20
        for _ in range(size // len(chunk)):
            handle.write(chunk)
        handle.write(b'",0,0.5,0\n')


def dictionary_bomb(
    path: Path,
    column: str,
    rows: int = 4000,
    value: int = 2**20,
    base: pd.DataFrame | None = None,
    *,
    value_type: pa.DataType | None = None,
    store_schema: bool = False,
):
    """A Parquet file of a few kilobytes whose ``column`` repeats one 1 MiB string on every row
    (dictionary encoding): 4 GB once decoded, while the footer reports about 1 MB. With
    ``store_schema`` (pyarrow's default) the file keeps its Arrow schema, and the column reads back as
    a dictionary, whose ``nbytes`` count the 1 MiB once: the defence once sized it so."""
    base = holdout_table(rows=rows) if base is None else base
    table = pa.Table.from_pandas(base.drop(columns=[column]), preserve_index=False)
    value_type = pa.string() if value_type is None else value_type
    one = "x" * value if pa.types.is_string(value_type) or pa.types.is_large_string(value_type) else b"x" * value
    bomb = pa.DictionaryArray.from_arrays(pa.array(np.zeros(len(base), dtype=np.int32)), pa.array([one], value_type))
    pq.write_table(table.append_column(column, bomb), path, compression="zstd", store_schema=store_schema)
    assert path.stat().st_size < 200_000


@pytest.mark.slow
@pytest.mark.parametrize("compressed", [True, False], ids=["gzip", "plain"])
def test_a_csv_with_one_500_mb_field_is_refused_in_bounded_memory(compressed: bool, tmp_path: Path) -> None:
    ws = write_workspace(tmp_path / "ws")
    name = "holdout.csv.gz" if compressed else "holdout.csv"
    huge_field_csv(ws / "data" / name, compressed=compressed)
    edit(ws, VERSION, "data: data/holdout.csv", f"data: data/{name}")
    code, err, peak = measured_build(ws, tmp_path / "site")
    assert_refused(code, err, f"data/{name}", ("longer than 16,777,216 bytes",), tmp_path / "site")
    assert peak < ONE_GB, f"peak memory {peak / 2**20:.0f} MiB"


def test_a_field_hidden_behind_quoted_line_breaks_is_still_one_record(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A 20 MB field made of short quoted lines: no line is long, but the record (and the field) is."""
    ws = write_workspace(tmp_path / "ws")
    with gzip.open(ws / "data" / "holdout.csv.gz", "wb", compresslevel=1) as handle:
        holdout_table().to_csv(handle, index=False)
        handle.write(b'1000,30,F,"')
        for _ in range(20 * 2**10):
            handle.write(b"y" * 1000 + b'""\n')  # an escaped quote and a line break, inside the field
        handle.write(b'",0,0.5,0\n')
    edit(ws, VERSION, "data: data/holdout.csv", "data: data/holdout.csv.gz")
    site = tmp_path / "site"
    code, err = run(["build", str(ws), "-o", str(site), "--quiet", "--no-cache", "--jobs", "1"], capsys)
    assert_refused(code, err, "data/holdout.csv.gz", ("longer than 16,777,216 bytes",), site)


@pytest.mark.slow
def test_a_json_lines_table_with_one_huge_line_is_refused_in_bounded_memory(tmp_path: Path) -> None:
    ws = write_workspace(tmp_path / "ws")
    path = ws / "data" / "holdout.jsonl.gz"
    with gzip.open(path, "wt", compresslevel=1) as handle:
        for record in holdout_table().to_dict("records"):
            handle.write(json.dumps(record) + "\n")
        handle.write('{"income": 1, "sex": "')
        for _ in range(300):
            handle.write("x" * 2**20)
        handle.write('"}\n')
    edit(ws, VERSION, "data: data/holdout.csv", "data: data/holdout.jsonl.gz")
    code, err, peak = measured_build(ws, tmp_path / "site")
    assert_refused(code, err, "data/holdout.jsonl.gz", ("longer than 16,777,216 bytes",), tmp_path / "site")
    assert peak < ONE_GB, f"peak memory {peak / 2**20:.0f} MiB"


@pytest.mark.slow
@pytest.mark.parametrize(
    ("value_type", "store_schema"),
    [(pa.string(), False), (pa.string(), True), (pa.large_string(), True), (pa.large_binary(), True)],
    ids=["string", "string-arrow-schema", "large-string-arrow-schema", "large-binary-arrow-schema"],
)
def test_a_parquet_column_that_expands_to_gigabytes_is_refused_in_bounded_memory(
    value_type: pa.DataType, store_schema: bool, tmp_path: Path
) -> None:
    """With the Arrow schema stored, the red team's 11.5 KB file was not refused: 42 s and 10 GB."""
    ws = write_workspace(tmp_path / "ws")
    dictionary_bomb(ws / "data" / "holdout.parquet", "sex", value_type=value_type, store_schema=store_schema)
    edit(ws, VERSION, "data: data/holdout.csv", "data: data/holdout.parquet")
    code, err, peak = measured_build(ws, tmp_path / "site")
    says = ("expand to more than 2,147,483,648 bytes", "column 'sex': 4,194,")
    assert_refused(code, err, "data/holdout.parquet", says, tmp_path / "site")
    assert peak < ONE_GB, f"peak memory {peak / 2**20:.0f} MiB"


ROWS, VALUE = 4000, 32 * 2**10  # 125 MiB decoded, against limits lowered to 64 MiB and 16 KiB


def _repeated(typ: pa.DataType) -> pa.Array:
    """One :data:`VALUE`-byte value on each of :data:`ROWS` rows, held once (a dictionary)."""
    one = "x" * VALUE if pa.types.is_string(typ) or pa.types.is_large_string(typ) else b"x" * VALUE
    return pa.DictionaryArray.from_arrays(pa.array(np.zeros(ROWS, dtype=np.int32)), pa.array([one], typ))


def _viewed(typ: pa.DataType) -> pa.Array:
    """The same as a string or binary view column, every row's view pointing at one buffer."""
    data = b"x" * VALUE
    views = pa.py_buffer(struct.pack("<i4sii", VALUE, data[:4], 0, 0) * ROWS)
    return pa.Array.from_buffers(typ, ROWS, [None, views, pa.py_buffer(data)])


REPEATED_COLUMNS = {
    "dictionary": lambda: _repeated(pa.string()),
    "large-string-dictionary": lambda: _repeated(pa.large_string()),
    "binary-dictionary": lambda: _repeated(pa.binary()),
    "large-binary-dictionary": lambda: _repeated(pa.large_binary()),
    "list-of-strings": lambda: pa.ListArray.from_arrays(
        pa.array(np.arange(ROWS + 1, dtype=np.int32)), _repeated(pa.string())
    ),
    "struct-of-a-string": lambda: pa.StructArray.from_arrays([_repeated(pa.string())], names=["code"]),
    "fixed-size-binary": lambda: pa.DictionaryArray.from_arrays(
        pa.array(np.zeros(ROWS, dtype=np.int32)), pa.array([b"x" * VALUE], pa.binary(VALUE))
    ),
    "string-view": lambda: _viewed(pa.string_view()),
    "binary-view": lambda: _viewed(pa.binary_view()),
}


@pytest.mark.parametrize("store_schema", [True, False], ids=["arrow-schema", "parquet-schema"])
@pytest.mark.parametrize("name", ["sex", "sex.code"])
@pytest.mark.parametrize("kind", list(REPEATED_COLUMNS))
def test_a_parquet_column_is_sized_as_it_decodes_whatever_its_type(
    kind: str, name: str, store_schema: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One value repeated by a dictionary, at any depth of a column, in any string or binary type,
    under a name with a dot (the footer's sizes were matched to columns by the part before a dot)
    or not: refused before it is decoded, by its decoded size or its value's. Limits are lowered
    so that a regression costs this process 125 MiB, not 4 GB (the measured test above)."""
    from modelgov.sources import tables

    monkeypatch.setattr(tables, "MAX_EXPANDED_BYTES", 64 * 2**20)
    path = tmp_path / "t.parquet"
    pq.write_table(pa.table({"y": np.zeros(ROWS), name: REPEATED_COLUMNS[kind]()}), path, store_schema=store_schema)
    assert path.stat().st_size < 200_000
    with pytest.raises(tables.TableError, match=rf"expand to (more than )?[\d,]+ bytes.*column '{re.escape(name)}'"):
        tables.read_table(path, ["y", name])
    monkeypatch.setattr(tables, "MAX_EXPANDED_BYTES", 2**30)
    monkeypatch.setattr(tables, "MAX_FIELD_BYTES", 16 * 2**10)
    with pytest.raises(tables.TableError, match=rf"column '{re.escape(name)}' holds (a value|values) of 32,768 bytes"):
        tables.read_table(path, ["y", name])


def test_parquet_columns_of_every_type_read_as_pyarrow_reads_them(tmp_path: Path) -> None:
    """Reading string and binary values as dictionaries, one row group at a time, and decoding them
    once sized changes no table: each column, dictionary or not, nested or not, in several row groups
    and more than one batch, is what pyarrow reads."""
    rows = 70_000
    values = np.array(["a", "bb", "ccc", None], dtype=object)[np.random.default_rng(1).integers(0, 4, rows)]
    table = pa.table(
        {
            "number": np.arange(rows),
            "text": pa.array(values),
            "large": pa.array(values, pa.large_string()),
            "view": pa.array(values, pa.string_view()),
            "dictionary": pa.array(values).dictionary_encode(),
            "binary": pa.array([v.encode() if v else None for v in values]),
            "list": pa.array([[v, "z"] if v else None for v in values]),
            "struct": pa.array([{"k": v, "n": 1} for v in values]),
            "map": pa.array([[("k", v)] if v else [] for v in values], pa.map_(pa.string(), pa.string())),
            "fixed": pa.array([b"abcd"] * rows, pa.binary(4)),
            "a.b": pa.array(values),
        }
    )
    from modelgov.sources.tables import read_table

    for store_schema in (True, False):
        path = tmp_path / f"valid-{store_schema}.parquet"
        pq.write_table(table, path, store_schema=store_schema, row_group_size=30_000)
        for columns in (table.column_names, ["dictionary", "number"], ["list", "map", "struct"], ["view", "a.b"]):
            expected = pq.read_table(path, columns=columns).to_pandas()
            pd.testing.assert_frame_equal(read_table(path, columns), expected, check_exact=True)


@pytest.mark.slow
def test_a_log_with_one_500_mb_field_is_refused_in_bounded_memory(tmp_path: Path) -> None:
    ws = write_workspace(tmp_path / "ws")
    with_monitoring(ws)
    path = ws / "logs" / "week-2.csv.gz"
    with gzip.open(path, "wb", compresslevel=1) as handle:
        log_table().to_csv(handle, index=False)
        handle.write(b"1000,30,")
        chunk = b"x" * 2**20
        for _ in range(500):
            handle.write(chunk)
        handle.write(b",0-29,0,0.5,0,2026-08-03T10:00:00Z,9999\n")
    edit(ws, VERSION, "logs: logs/*.csv", "logs: logs/")
    code, err, peak = measured_build(ws, tmp_path / "site")
    assert_refused(code, err, "logs/week-2.csv.gz", ("line size",), tmp_path / "site")
    assert peak < ONE_GB, f"peak memory {peak / 2**20:.0f} MiB"


@pytest.mark.slow
def test_a_parquet_log_that_expands_to_gigabytes_is_refused_in_bounded_memory(tmp_path: Path) -> None:
    """A dictionary-encoded log column the scan counts as categories: DuckDB streams the 4 GB within
    its memory limit, and a value longer than a CSV log's line limit is refused, naming the file."""
    ws = write_workspace(tmp_path / "ws")
    with_monitoring(ws)
    (ws / "logs" / "week-1.csv").unlink()
    base = log_table(holdout_table(rows=1000)).assign(ts=pd.Timestamp("2026-08-03T10:00:00Z"))
    dictionary_bomb(ws / "logs" / "week-1.parquet", "age_band", base=base, value=4 * 2**20)
    edit(ws, VERSION, "logs: logs/*.csv", "logs: logs/*.parquet")
    edit(ws, VERSION, "  features: [income, age]\n  reference", "  features: [income, age_band]\n  reference")
    code, err, peak = measured_build(ws, tmp_path / "site")
    assert_refused(code, err, "logs/week-1.parquet", ("age_band", "longer than 2,097,152 bytes"), tmp_path / "site")
    assert peak < ONE_GB, f"peak memory {peak / 2**20:.0f} MiB"


# --------------------------------------------------------------------------- lists where one value is due


def _listed(table: pa.Table, column: str) -> pa.Table:
    """``table`` with each value of ``column`` wrapped in a list of one."""
    values = pa.array([[value] for value in table.column(column).to_pylist()])
    return table.set_column(table.column_names.index(column), column, values)


def _parquet_monitoring(ws: Path, log_list: str | None = None, reference_list: str | None = None) -> None:
    """A Parquet log, and a Parquet reference table; ``log_list`` and ``reference_list`` name a column
    each that holds lists instead of values."""
    with_monitoring(ws)
    (ws / "logs" / "week-1.csv").unlink()
    log = pa.Table.from_pandas(log_table().assign(ts=pd.Timestamp("2026-08-03T10:00:00Z")), preserve_index=False)
    reference = pa.Table.from_pandas(holdout_table(), preserve_index=False)
    pq.write_table(_listed(log, log_list) if log_list else log, ws / "logs" / "week-1.parquet")
    pq.write_table(
        _listed(reference, reference_list) if reference_list else reference, ws / "data" / "reference.parquet"
    )
    edit(ws, VERSION, "logs: logs/*.csv", "logs: logs/*.parquet")
    edit(
        ws,
        VERSION,
        "  features: [income, age]\n  reference: holdout\n",
        "  features: [income, age_band]\n  reference: {data: data/reference.parquet}\n",
    )


@pytest.mark.parametrize(
    ("log_list", "reference_list", "file", "says"),
    [
        ("sex", None, "logs/week-1.parquet", "column 'sex' holds lists or objects (VARCHAR[]), not single values"),
        (
            "age_band",
            None,
            "logs/week-1.parquet",
            "column 'age_band' holds lists or objects (VARCHAR[]), not single values",
        ),
        (
            None,
            "age_band",
            "data/reference.parquet",
            "column 'age_band': 400 values are lists or objects, not single values",
        ),
        (
            None,
            "income",
            "data/reference.parquet",
            "column 'income': 400 values are lists or objects, not single values",
        ),
    ],
    ids=["log-sensitive-feature", "log-feature", "reference-categorical", "reference-numeric"],
)
def test_a_monitored_column_of_lists_is_refused_naming_the_file_and_column(
    log_list: str | None, reference_list: str | None, file: str, says: str, tmp_path: Path, capsys
) -> None:
    """A list in a log's sensitive feature was the internal error "unhashable type" (production
    fairness groups it); in a log's or the reference's feature, drift compared lists' text."""
    ws = write_workspace(tmp_path / "ws")
    _parquet_monitoring(ws, log_list, reference_list)
    site = tmp_path / "site"
    code, err = run(["build", str(ws), "-o", str(site), "--quiet", "--no-cache", "--jobs", "1"], capsys)
    assert_refused(code, err, file, (says,), site)


def test_the_same_monitoring_with_single_values_is_analysed(tmp_path: Path) -> None:
    from modelgov.assemble import build_manifest
    from modelgov.workspace.load import load_workspace

    ws = write_workspace(tmp_path / "ws")
    _parquet_monitoring(ws)
    drift = build_manifest(load_workspace(ws)).models[0].versions[0].drift
    assert drift is not None and drift.windows


@pytest.mark.slow
def test_a_sensitive_feature_with_a_value_per_row_is_refused_in_bounded_memory(tmp_path: Path) -> None:
    """The red team's 2.3 MB CSV: 50,000 rows, each with its own ``sex``. Grouped, it ran for more
    than 10 minutes and 9 GB (MkDocs' footnotes are quadratic in the groups) before it was killed."""
    table = pd.concat([holdout_table()] * 125, ignore_index=True)
    ws = write_workspace(tmp_path / "ws", table=table.assign(sex=[f"person-{i}" for i in range(len(table))]))
    code, err, peak = measured_build(ws, tmp_path / "site", timeout=120)
    assert_refused(
        code,
        err,
        "data/holdout.csv: column 'sex'",
        ("50,000 distinct values", "more than the 100 groups"),
        tmp_path / "site",
    )
    assert peak < ONE_GB, f"peak memory {peak / 2**20:.0f} MiB"


@pytest.mark.slow
def test_a_policy_of_15000_rules_is_refused_in_bounded_memory(tmp_path: Path) -> None:
    """The red team's 1.2 MB policy: 15,000 rules, each over every group's every metric. Checked, it
    took 10 minutes and 8.3 GB and wrote a 945 MB site."""
    ws = write_workspace(tmp_path / "ws")
    rule = "  - {{id: r{0}, title: t, evidence: 'fairness.*.groups.*.*', require: {{'>=': 0}}}}\n"
    (ws / "policies").mkdir()
    (ws / "policies" / "wide.yml").write_text(
        "id: wide\ntitle: Wide\nrules:\n" + "".join(map(rule.format, range(15_000)))
    )
    started = time.perf_counter()
    code, err, peak = measured_build(ws, tmp_path / "site", timeout=120)
    took = time.perf_counter() - started
    says = ("15,000 rules, which bring the workspace's policies to 15,000", "more than the 2,000 a workspace may hold")
    assert_refused(code, err, "policies/wide.yml:3: rules:", says, tmp_path / "site")
    assert peak < ONE_GB, f"peak memory {peak / 2**20:.0f} MiB"
    assert took < 30, f"refused after {took:.0f} s"


# --------------------------------------------------------------------------- model archives


def zeros_deflate(size: int) -> tuple[bytes, int]:
    """A raw DEFLATE stream of ``size`` zero bytes and its CRC-32, built without holding ``size``
    bytes: after a full flush the compressor's output for the same input repeats exactly."""
    chunk = bytes(2**20)
    assert size % len(chunk) == 0
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    first = compressor.compress(chunk) + compressor.flush(zlib.Z_FULL_FLUSH)
    repeat = compressor.compress(chunk) + compressor.flush(zlib.Z_FULL_FLUSH)
    end = compressor.flush()
    crc = 0
    for _ in range(size // len(chunk)):
        crc = zlib.crc32(chunk, crc)
    return first + repeat * (size // len(chunk) - 1) + end, crc


def handmade_zip(path: Path, name: str, data: bytes, crc: int, real_size: int, declared_size: int) -> None:
    """A one-member zip whose local header and central directory both say ``declared_size``
    (which may differ from ``real_size``, the size the DEFLATE data expands to)."""
    encoded = name.encode()
    local = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0x21, crc, len(data), declared_size, len(encoded), 0)
    central = struct.pack(
        "<IHHHHHHIIIHHHHHII",
        0x02014B50, 20, 20, 0, 8, 0, 0x21, crc, len(data), declared_size, len(encoded), 0, 0, 0, 0, 0, 0,
    )  # fmt: skip
    with open(path, "wb") as handle:
        handle.write(local + encoded + data)
        directory_at = handle.tell()
        handle.write(central + encoded)
        size = handle.tell() - directory_at
        handle.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 1, 1, size, directory_at, 0))
    assert real_size > 0


def skops_bomb(path: Path, *, lie: bool) -> None:
    """A ``.skops`` archive holding 3 GiB of zeros in a few megabytes; with ``lie``, its directory
    says the member is 1,000 bytes."""
    size = 3 * 2**30
    data, crc = zeros_deflate(size)
    handmade_zip(path, "schema.json", data, crc, size, 1000 if lie else size)


def many_members_zip(path: Path) -> None:
    with zipfile.ZipFile(path, "w") as archive:
        for index in range(100_001):
            archive.writestr(f"m{index}", b"")


def joblib_bomb(path: Path) -> None:
    """A zlib-compressed 'joblib' file of 3 GiB of zeros in about 3 MB, built like
    :func:`zeros_deflate` (its closing checksum covers two chunks only: the check refuses the file
    long before the end, and it is never unpickled)."""
    compressor = zlib.compressobj(9)
    chunk = bytes(2**20)
    first = compressor.compress(chunk) + compressor.flush(zlib.Z_FULL_FLUSH)
    repeat = compressor.compress(chunk) + compressor.flush(zlib.Z_FULL_FLUSH)
    path.write_bytes(first + repeat * (3 * 1024 - 1) + compressor.flush())


MODEL_BOMBS = [
    ("skops-zip-bomb", "model.skops", lambda p: skops_bomb(p, lie=False), "", "declares 3,221,225,472 bytes"),
    ("skops-lying-directory", "model.skops", lambda p: skops_bomb(p, lie=True), "", "expands beyond what"),
    ("skops-too-many-members", "model.skops", many_members_zip, "", "100,001 members"),
    ("joblib-compressed-bomb", "model.joblib", joblib_bomb, "    trust_pickle: true\n", "expands to more than"),
]


@pytest.fixture(scope="module")
def bombed_build(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    """One build, in a fresh process, of a workspace whose models each hold one of the bombs (a model
    per bomb, named after it): its site and the build's peak memory. One build for all four, since
    most of a build's time here is starting it; each bomb's page is still checked on its own."""
    tmp_path = tmp_path_factory.mktemp("model-bombs")
    ws = write_workspace(tmp_path / "ws")
    for bomb_id, name, make, extra, _ in MODEL_BOMBS:
        shutil.copytree(ws / "models/loans", ws / "models" / bomb_id)
        folder = f"models/{bomb_id}/versions/1.0"
        make(ws / folder / name)
        edit(ws, f"{folder}/version.yml", "  params:\n", f"  artifact:\n    path: {folder}/{name}\n{extra}  params:\n")
    shutil.rmtree(ws / "models/loans")
    site = tmp_path / "site"
    code, err, peak = measured_build(ws, site)
    assert code in (0, 1), err
    assert not (tmp_path / TRIPWIRE).exists()
    return site, peak


@pytest.mark.slow
@pytest.mark.parametrize("bomb", MODEL_BOMBS, ids=lambda b: b[0])
def test_a_model_file_that_expands_to_gigabytes_is_not_loaded(bomb: tuple, bombed_build: tuple[Path, int]) -> None:
    """Degraded, as for any model that cannot be loaded: the build goes on, the explainability page
    says why the model was not loaded, and memory stays bounded (below 1 GiB for the build that met
    all four bombs)."""
    bomb_id, _, _, _, reason = bomb
    site, peak = bombed_build
    page = (site / f"models/{bomb_id}/1.0/explainability.html").read_text(encoding="utf-8")
    assert "was not loaded" in page and reason in page, reason
    assert peak < ONE_GB, f"peak memory {peak / 2**20:.0f} MiB"


# --------------------------------------------------------------------------- serve: DNS rebinding


@pytest.fixture(scope="module")
def loopback_server(tmp_path_factory: pytest.TempPathFactory):
    """The handler `modelgov serve` uses, serving a one-page folder on a free loopback port."""
    from modelgov.serve import _LoopbackOnly, allowed_hosts

    folder = tmp_path_factory.mktemp("served")
    (folder / "index.html").write_text("<h1>Governance</h1>")
    handler_class = type("_Handler", (_LoopbackOnly,), {})

    def handler(*args, **kwargs):
        return handler_class(*args, directory=str(folder), **kwargs)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    port = server.server_address[1]
    handler_class.allowed = allowed_hosts(port)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield port
    server.shutdown()
    server.server_close()


def get(port: int, host: str | None) -> tuple[int, str]:
    return request(f"http://127.0.0.1:{port}/", host)


HOSTILE_HOSTS = [
    "evil.example:{port}",
    "evil.example",
    "127.0.0.1.nip.io:{port}",
    "localhost.evil.example:{port}",
    "127.0.0.1:{other}",
    "127.0.0.2:{port}",
    "0.0.0.0:{port}",
    "[::ffff:127.0.0.1]:{port}",
    "",
    None,
]


@pytest.mark.parametrize("host", HOSTILE_HOSTS, ids=lambda h: "no-host" if h is None else (h or "empty"))
def test_serve_refuses_a_request_for_another_host(host: str | None, loopback_server: int) -> None:
    port = loopback_server
    shown = None if host is None else host.format(port=port, other=port + 1)
    status, body = get(port, shown)
    assert status == 421, (shown, status)
    assert "Governance" not in body and "loopback" in body


@pytest.mark.parametrize("host", ["127.0.0.1:{port}", "localhost:{port}", "[::1]:{port}"])
def test_serve_answers_its_own_loopback_names(host: str, loopback_server: int) -> None:
    status, body = get(loopback_server, host.format(port=loopback_server))
    assert status == 200 and "Governance" in body


def test_an_mlflow_meta_file_of_nested_aliases_is_refused_without_expanding_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A kilobyte of nested YAML aliases in an MLflow file store's meta.yaml ("billion laughs") was
    expanded by a plain safe_load: 54 s and 6 GB, then an internal error. The store's meta files go
    through the workspace's bounded reader, and the build stops naming the file."""
    ws = write_workspace(tmp_path / "ws")
    levels = ["a: &a [" + ", ".join(['"' + "x" * 40 + '"'] * 10) + "]"]
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True):
        levels.append(f"{name}: &{name} [" + ", ".join([f"*{prev}"] * 10) + "]")
    experiment = ws / "mlruns" / "1"
    experiment.mkdir(parents=True)
    (experiment / "meta.yaml").write_text(
        "\n".join(levels) + "\nname: *i\nlifecycle_stage: active\nexperiment_id: '1'\n"
    )
    _lineage(ws, "mlflow", "mlruns")
    started = time.monotonic()
    code = main(["build", str(ws), "-o", str(tmp_path / "site"), "-q", "--no-cache", "-j", "1"])
    err = capsys.readouterr().err
    assert code == 2 and time.monotonic() - started < 30, err
    assert "mlruns/1/meta.yaml" in err and "internal error" not in err, err


def test_a_log_dated_in_the_future_does_not_make_monitoring_fresh(tmp_path: Path) -> None:
    """A scoring log whose records are timestamped 2099 made the latest window's age negative, and
    ``max_age_days: {monitoring: 30}`` passed for ever. Its window starts after the check date: the
    log has no age on that day, and the rule is an error."""
    ws = write_workspace(tmp_path / "ws")
    with_monitoring(ws)
    log_table().assign(ts="2099-08-03T10:00:00Z").to_csv(ws / "logs" / "week-1.csv", index=False)
    (ws / "policies").mkdir(exist_ok=True)
    (ws / "policies" / "fresh.yml").write_text(
        "id: fresh\ntitle: Fresh\nrules:\n  - id: monitored\n    title: Monitored lately\n"
        "    severity: blocking\n    max_age_days: {monitoring: 30}\n"
    )
    results = tmp_path / "results.json"
    code = main(["check", str(ws), "--results", str(results), "-q", "--no-cache"])
    found = next(r for r in json.loads(results.read_text())["results"] if r["rule"] == "monitored")
    assert code == 1 and found["outcome"] == "error", found
    assert "starts after the check date" in found["checks"][0]["message"]
