"""Property-based tests (hypothesis) of the workspace loader and the policy evaluator.

Loader: whatever a user puts into one YAML file of a valid workspace (arbitrary bytes, arbitrary
text, generated YAML documents, mutations of the valid file), ``load_workspace`` returns a
:class:`Workspace` or raises :class:`WorkspaceError` whose problems name workspace-relative files at
lines that exist; it never raises anything else, is deterministic, and keeps what the user wrote.

Policy evaluator (``govern``): a threshold rule passes exactly when the comparison holds (the
expected verdict is computed here, independently); undefined evidence is never a pass; a waiver
covers a failure only while it is in force; tightening a threshold never turns a failure into a
pass; the order of models, versions, evaluations, policies and rules does not change the results;
the exit code is 1 exactly when something blocks under the ``fail_on`` setting.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import re
import shutil
import tempfile
import typing
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from manifest_factory import make_manifest
from modelgov import manifest
from modelgov.errors import Problem, WorkspaceError
from modelgov.free_values import as_written
from modelgov.policy.engine import LoadedPolicy, LoadedWaiver, govern
from modelgov.policy.outputs import EXIT_BLOCKED, EXIT_PASSED, exit_code
from modelgov.policy.schema import PolicyFile, Waiver, WaiversFile
from modelgov.workspace import schema as ws_schema
from modelgov.workspace.load import Workspace, load_workspace
from workspace_factory import write_workspace

SETTINGS = {
    "deadline": None,
    "suppress_health_check": [HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
}
#: The fuzzing properties stop at the first kind of crash they find (and shrink only that one), so a
#: run stays short while the loader still has one; fix it and the next one is reported.
FUZZ = {**SETTINGS, "report_multiple_bugs": False}

MODEL = "models/loans/model.yml"
VERSION = "models/loans/versions/1.0/version.yml"
APPROVALS = "models/loans/versions/1.0/approvals.yml"
TRAIN = "datasets/loans-train.yml"
HOLDOUT = "datasets/loans-holdout.yml"


# =========================================================================== workspaces on disk

#: A richer valid workspace: the factory's, plus a monitoring section (with a log), a built-in pack,
#: a workspace policy and a waiver, so every kind of YAML file the loader reads can be fuzzed.
MONITORING = """\
monitoring:
  logs: logs/*.csv
  timestamp: ts
  prediction: predicted
  score: score
  features: [income, age]
  reference: holdout
  drift:
    features:
      income: {method: psi, threshold: 0.2}
"""

GOVERNANCE_POLICIES = """\
policies:
  packs: [baseline]
  fail_on: blocking
  waiver_max_days: 365
"""

GATE = """\
id: gate
title: Release gate
rules:
  - id: auc
    title: AUC is high enough
    evidence: performance.roc_auc
    require: {'>=': 0.6}
    applies_to: {risk_tier: [high]}
  - id: compliance-sign-off
    title: Compliance approved
    approved_by: [compliance]
    severity: warning
"""

WAIVERS = """\
waivers:
  - id: W-1
    policy: gate
    rule: compliance-sign-off
    models: [loans]
    versions: ['1.0']
    reason: Compliance review is scheduled.
    approved_by: Chief Risk Officer
    ticket: RISK-1
    granted: 2026-02-01
    expires: 2026-06-30
"""


def write_rich_workspace(root: Path) -> Path:
    write_workspace(root)
    (root / "governance.yml").write_text((root / "governance.yml").read_text() + GOVERNANCE_POLICIES)
    (root / VERSION).write_text((root / VERSION).read_text() + MONITORING)
    (root / "logs").mkdir()
    holdout = (root / "data" / "holdout.csv").read_text().splitlines()
    rows = [holdout[0] + ",ts"] + [line + ",2026-02-03T10:00:00Z" for line in holdout[1:]]
    (root / "logs" / "week-1.csv").write_text("\n".join(rows) + "\n")
    (root / "policies").mkdir()
    (root / "policies" / "gate.yml").write_text(GATE)
    (root / "waivers.yml").write_text(WAIVERS)
    return root


BASES: dict[str, Callable[[Path], Path]] = {"plain": write_workspace, "rich": write_rich_workspace}

#: (base workspace, file) pairs whose content the loader properties replace.
TARGETS = [
    ("plain", "governance.yml"),
    ("plain", MODEL),
    ("plain", VERSION),
    ("plain", APPROVALS),
    ("plain", TRAIN),
    ("plain", HOLDOUT),
    ("rich", "governance.yml"),
    ("rich", VERSION),
    ("rich", "policies/gate.yml"),
    ("rich", "waivers.yml"),
]


@pytest.fixture(scope="module")
def bases(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One valid workspace per base, written once; each example changes one file and restores it."""
    out = {}
    for name, writer in BASES.items():
        root = writer(tmp_path_factory.mktemp(f"props-{name}") / "ws")
        load_workspace(root)  # the base itself is valid
        out[name] = root
    return out


@contextmanager
def replaced(root: Path, rel: str, content: bytes) -> Iterator[Path]:
    path = root / rel
    original = path.read_bytes()
    path.write_bytes(content)
    try:
        yield root
    finally:
        path.write_bytes(original)


def yaml_line_count(text: str) -> int:
    """Lines as PyYAML numbers them (``\\r\\n`` is one break; ``\\r``, NEL, LS, PS are breaks too).
    The position just after a final line break is a line of its own: errors at the end of the
    stream are reported there, as an editor shows it."""
    text = text.replace("\r\n", "\n")
    return 1 + sum(text.count(ch) for ch in "\n\r\x85\u2028\u2029")


def check_problems(root: Path, problems: list[Problem]) -> None:
    """Every problem names a non-empty, workspace-relative file; a line, when given, exists in it."""
    assert problems, "WorkspaceError without problems"
    for problem in problems:
        name = problem.file
        assert isinstance(name, str) and name.strip(), f"problem names no file: {problem!r}"
        assert not PurePosixPath(name).is_absolute() and not PureWindowsPath(name).is_absolute(), problem
        assert str(root) not in name, f"absolute path in {problem!r}"
        assert not os.path.normpath(name).startswith(".."), f"file outside the workspace: {problem!r}"
        assert (root / name).resolve().is_relative_to(root.resolve()), f"not a workspace file: {problem!r}"
        if not problem.message.startswith(("file is missing", "folder is missing")):
            assert (root / name).exists(), f"names a file that is not in the workspace: {problem!r}"
        if problem.line is not None:
            assert problem.line >= 1, problem
            path = root / name
            assert path.is_file(), f"a line in a file that does not exist: {problem!r}"
            text = path.read_bytes().decode("utf-8-sig", errors="replace")
            count = yaml_line_count(text)
            assert problem.line <= count, f"line {problem.line} of a {count}-line file: {problem!r}"


def outcome_of(root: Path) -> tuple[str, Any]:
    """Load ``root``: ("ok", comparable workspace content) or ("problems", the problems). Any other
    exception propagates and fails the property."""
    try:
        workspace = load_workspace(root)
    except WorkspaceError as exc:
        check_problems(root, exc.problems)
        return "problems", exc.problems
    assert isinstance(workspace, Workspace)
    return "ok", (workspace.governance, workspace.models, workspace.datasets, workspace.policies, workspace.waivers)


def check_load(root: Path, *, twice: bool = False) -> tuple[str, Any]:
    """The loader contract; with ``twice``, determinism too: loading again gives the same result."""
    first = outcome_of(root)
    if twice:
        assert outcome_of(root) == first, "loading the same workspace twice gave different results"
    return first


# --------------------------------------------------------------------------- strategies: YAML text


def _field_names(models: list[type[BaseModel]]) -> list[str]:
    """Every key the input schemas know, to make generated documents hit real validation paths."""
    seen_models: set[type] = set()
    names: set[str] = set()

    def visit(annotation: Any) -> None:
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            if annotation in seen_models:
                return
            seen_models.add(annotation)
            for name, info in annotation.model_fields.items():
                names.add(info.alias or name)
                visit(info.annotation)
        for arg in typing.get_args(annotation):
            visit(arg)

    for model in models:
        visit(model)
    return sorted(names)


KNOWN_KEYS = _field_names([*ws_schema.INPUT_MODELS.values(), PolicyFile, WaiversFile])

#: Values that mean something in this workspace (ids, columns, paths, enum values).
KNOWN_VALUES = [
    "loans", "loans-train", "loans-holdout", "holdout", "1.0", "high", "low", "production", "candidate",
    "approved", "rejected", "binary_classification", "regression", "data/holdout.csv", "logs/*.csv",
    "defaulted", "predicted", "score", "income", "age", "sex", "age_band", "baseline", "gate", "auc",
    "compliance-sign-off", "model_risk", "compliance", "performance.roc_auc", "psi", "week", "ts",
]  # fmt: skip

_token = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789_-.", min_size=1, max_size=12)
_path_like = st.from_regex(
    r"(\.\./|/|data/|logs/|[a-z]:\\)?[a-z*?.\[\]/\\-]{1,12}(\.(csv|parquet|jsonl|yml))?", fullmatch=True
)
_date_like = st.one_of(
    st.from_regex(r"[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}", fullmatch=True),
    st.from_regex(
        r"[0-9]{4}-[0-9]{2}-[0-9]{2}[ T][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})?", fullmatch=True
    ),
)
#: Explicit YAML tags: PyYAML builds these values itself (``!!python/…`` is refused by the safe loader).
YAML_TAGS = ["!!int", "!!float", "!!bool", "!!timestamp", "!!str", "!!null", "!!binary", "!!seq", "!!map", "!!set",
             "!!omap", "!!pairs", "!!python/name:os.system", "!custom"]  # fmt: skip
_tagged = st.builds(
    lambda tag, value: f"{tag} {value}",
    st.sampled_from(YAML_TAGS),
    st.one_of(_token, _date_like, st.sampled_from(["[a]", "{a: 1}", "''", "=="])),
)

#: YAML syntax typed as a value: indicators, anchors and aliases, flow collections, special floats.
RAW_SPECIALS = ["", "~", "null", "true", "no", "[]", "{}", "''", '""', "-1", "0", "1e400", ".nan", ".inf", "[", "{",
                "'", '"', "|", ">", "&a x", "*a", "*", "- x", "? x", "%", "@", "`", "#", "[a, [b]]", "{a: {b: c}}",
                "[*a]", "&a [*a]"]  # fmt: skip

#: A raw scalar as a user might type it after ``key: `` (not quoted by any dumper).
raw_values = st.one_of(
    st.sampled_from(KNOWN_VALUES),
    _token,
    _path_like,
    _date_like,
    _tagged,
    st.sampled_from(RAW_SPECIALS),
    st.integers(-(10**30), 10**30).map(str),
    st.floats().map(repr),
    st.text(max_size=20),
)

yaml_keys = st.one_of(st.sampled_from(KNOWN_KEYS), _token, st.text(max_size=8), st.integers(-3, 3))
yaml_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(max_size=20),
    st.sampled_from(KNOWN_VALUES),
    st.dates(),
    st.datetimes(),
    _date_like,
)
yaml_values = st.recursive(
    yaml_scalars,
    lambda children: st.one_of(st.lists(children, max_size=4), st.dictionaries(yaml_keys, children, max_size=5)),
    max_leaves=16,
)


def dump(data: Any, flow: bool | None, unicode: bool) -> str:
    return yaml.safe_dump(data, default_flow_style=flow, allow_unicode=unicode, sort_keys=False)


yaml_documents = st.builds(
    dump,
    st.one_of(yaml_values, st.dictionaries(yaml_keys, yaml_values, max_size=8)),
    st.sampled_from([None, False, True]),
    st.booleans(),
)


def _nested(depth: int, kind: str, key: str) -> str:
    head = f"{key}: " if key else ""
    if kind == "flow":
        return head + "[" * depth + "]" * depth
    return (
        (f"{key}:\n" if key else "") + "".join(" " * (2 * i) + "- \n" for i in range(depth)) + " " * (2 * depth) + "x\n"
    )


#: Deep nesting: PyYAML's composer recurses once per level.
nested_documents = st.builds(
    _nested, st.integers(1, 1200), st.sampled_from(["flow", "block"]), st.sampled_from(["", "title", "evaluations"])
)


def _key_value_lines(lines: list[str]) -> list[int]:
    return [i for i, line in enumerate(lines) if re.match(r"^\s*(- )?[A-Za-z_][\w-]*:", line)]


@st.composite
def mutated_text(draw: st.DrawFn, original: str) -> str:
    """The valid file after one to three edits a person could make by mistake."""
    lines = original.splitlines()
    for _ in range(draw(st.integers(1, 3))):
        if not lines:
            lines = [draw(raw_values)]
            continue
        kind = draw(st.sampled_from(["drop", "duplicate", "key", "value", "swap", "indent", "insert", "list"]))
        i = draw(st.integers(0, len(lines) - 1))
        if kind == "drop":
            del lines[i]
        elif kind == "duplicate":
            lines.insert(i, lines[i])
        elif kind == "swap":
            j = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
        elif kind == "indent":
            lines[i] = draw(st.sampled_from(["", " ", "  ", "    ", "\t"])) + lines[i].lstrip()
        elif kind == "insert":
            key = draw(st.one_of(st.sampled_from(KNOWN_KEYS), _token))
            indent = draw(st.sampled_from(["", "  ", "    "]))
            lines.insert(i, f"{indent}{key}: {draw(raw_values)}")
        elif kind == "list":  # duplicate or drop one element of a flow list
            flows = [n for n, line in enumerate(lines) if re.search(r"\[[^\[\]]+\]", line)]
            if not flows:
                continue
            n = draw(st.sampled_from(flows))
            match = re.search(r"\[([^\[\]]+)\]", lines[n])
            assert match is not None
            items = [item.strip() for item in match.group(1).split(",")]
            k = draw(st.integers(0, len(items) - 1))
            items = items[: k + 1] + items[k:] if draw(st.booleans()) else items[:k] + items[k + 1 :]
            lines[n] = lines[n][: match.start()] + "[" + ", ".join(items) + "]" + lines[n][match.end() :]
        else:
            candidates = _key_value_lines(lines)
            if not candidates:
                continue
            n = draw(st.sampled_from(candidates))
            # DOTALL: an earlier edit may have put a line break after the colon (a key of "a:\n")
            match = re.match(r"^(\s*(?:- )?)([A-Za-z_][\w-]*):(.*)$", lines[n], re.DOTALL)
            assert match is not None
            prefix, key, rest = match.groups()
            if kind == "key":
                new_key = draw(st.one_of(st.sampled_from(KNOWN_KEYS), _token, st.text(min_size=1, max_size=8)))
                lines[n] = f"{prefix}{new_key}:{rest}"
            else:
                lines[n] = f"{prefix}{key}: {draw(raw_values)}"
    ending = draw(st.sampled_from(["\n", "", "\r\n"]))
    return ending.join(lines) + (ending if lines else "")


@st.composite
def mutated_data(draw: st.DrawFn, original: str) -> str:
    """The valid file parsed, one value replaced / one key deleted, renamed or added, dumped again."""
    data = yaml.safe_load(original)
    places: list[tuple[Any, Any]] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                places.append((node, key))
                walk(value)
        elif isinstance(node, list):
            for index, value in enumerate(node):
                places.append((node, index))
                walk(value)

    walk(data)
    container, key = draw(st.sampled_from(places))
    action = draw(st.sampled_from(["replace", "delete", "rename", "add"]))
    if action == "replace":
        container[key] = draw(yaml_values)
    elif action == "delete":
        del container[key]
    elif action == "rename" and isinstance(container, dict):
        value = container.pop(key)
        container[draw(yaml_keys)] = value
    elif isinstance(container, dict):
        container[draw(yaml_keys)] = draw(yaml_values)
    else:
        container.insert(key, draw(yaml_values))
    return dump(data, draw(st.sampled_from([None, False, True])), draw(st.booleans()))


def original_text(bases: dict[str, Path], base: str, rel: str) -> str:
    return (bases[base] / rel).read_text(encoding="utf-8")


targets = st.sampled_from(TARGETS)


# --------------------------------------------------------------------------- loader properties


@settings(max_examples=120, **FUZZ)
@given(target=targets, content=st.binary(max_size=300))
def test_loader_arbitrary_bytes(bases: dict[str, Path], target: tuple[str, str], content: bytes) -> None:
    base, rel = target
    with replaced(bases[base], rel, content) as root:
        check_load(root)


@settings(max_examples=120, **FUZZ)
@given(target=targets, text=st.text(max_size=300), bom=st.booleans())
def test_loader_arbitrary_text(bases: dict[str, Path], target: tuple[str, str], text: str, bom: bool) -> None:
    base, rel = target
    with replaced(bases[base], rel, (b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8")) as root:
        check_load(root)


@settings(max_examples=120, **FUZZ)
@given(target=targets, text=st.one_of(yaml_documents, nested_documents))
def test_loader_generated_yaml_documents(bases: dict[str, Path], target: tuple[str, str], text: str) -> None:
    base, rel = target
    with replaced(bases[base], rel, text.encode("utf-8")) as root:
        check_load(root)


@settings(max_examples=250, **FUZZ)
@given(target=targets, data=st.data())
def test_loader_mutated_valid_file(bases: dict[str, Path], target: tuple[str, str], data: st.DataObject) -> None:
    base, rel = target
    text = data.draw(mutated_text(original_text(bases, base, rel)), label="file text")
    with replaced(bases[base], rel, text.encode("utf-8")) as root:
        check_load(root)


@settings(max_examples=250, **FUZZ)
@given(target=targets, data=st.data())
def test_loader_mutated_valid_data(bases: dict[str, Path], target: tuple[str, str], data: st.DataObject) -> None:
    base, rel = target
    text = data.draw(mutated_data(original_text(bases, base, rel)), label="file text")
    with replaced(bases[base], rel, text.encode("utf-8")) as root:
        check_load(root)


@settings(max_examples=80, **FUZZ)
@given(target=targets, data=st.data())
def test_loading_the_same_broken_workspace_twice_gives_the_same_problems(
    bases: dict[str, Path], target: tuple[str, str], data: st.DataObject
) -> None:
    base, rel = target
    text = data.draw(
        st.one_of(mutated_text(original_text(bases, base, rel)), mutated_data(original_text(bases, base, rel))),
        label="file text",
    )
    with replaced(bases[base], rel, text.encode("utf-8")) as root:
        check_load(root, twice=True)


def _flow_lists() -> list[tuple[str, str, int]]:
    """Every one-line ``[a, b]`` list of the valid files, as (base, file, line index)."""
    scratch = Path(tempfile.mkdtemp(prefix="props-flow-"))
    try:
        roots = {name: writer(scratch / name) for name, writer in BASES.items()}
        return [
            (base, rel, n)
            for base, rel in TARGETS
            for n, line in enumerate((roots[base] / rel).read_text(encoding="utf-8").splitlines())
            if re.search(r"\[[^\[\]]+\]", line)
        ]
    finally:
        shutil.rmtree(scratch)


@pytest.mark.parametrize(("base", "rel", "n"), _flow_lists())
@settings(max_examples=8, **FUZZ)
@given(data=st.data())
def test_loader_list_element_duplicated_dropped_or_replaced(
    bases: dict[str, Path], base: str, rel: str, n: int, data: st.DataObject
) -> None:
    """Every one-line list of the valid files with one element repeated, removed or replaced."""
    lines = original_text(bases, base, rel).splitlines()
    match = re.search(r"\[([^\[\]]+)\]", lines[n])
    assert match is not None
    items = [item.strip() for item in match.group(1).split(",")]
    k = data.draw(st.integers(0, len(items) - 1), label="element")
    action = data.draw(st.sampled_from(["repeat", "remove", "replace"]), label="action")
    if action == "repeat":
        items.insert(k, items[k])
    elif action == "remove":
        del items[k]
    else:
        items[k] = data.draw(st.one_of(st.sampled_from(KNOWN_VALUES), _token), label="replacement")
    lines[n] = lines[n][: match.start()] + "[" + ", ".join(items) + "]" + lines[n][match.end() :]
    with replaced(bases[base], rel, ("\n".join(lines) + "\n").encode("utf-8")) as root:
        check_load(root)


#: What a keyboard types after ``key: `` (printable ASCII): the raw values without control characters.
typed_values = st.one_of(
    st.sampled_from(KNOWN_VALUES),
    _token,
    _path_like,
    _date_like,
    _tagged,
    st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=20),
)


@settings(max_examples=200, **FUZZ)
@given(target=targets, data=st.data())
def test_loader_one_value_typed_differently(
    bases: dict[str, Path], target: tuple[str, str], data: st.DataObject
) -> None:
    """One value of the valid file retyped: a date with a day that does not exist, an explicit tag,
    a path, a number, any printable text."""
    base, rel = target
    lines = original_text(bases, base, rel).splitlines()
    candidates = _key_value_lines(lines)
    n = data.draw(st.sampled_from(candidates), label="line index")
    match = re.match(r"^(\s*(?:- )?)([A-Za-z_][\w-]*):(.*)$", lines[n])
    assert match is not None
    lines[n] = f"{match.group(1)}{match.group(2)}: {data.draw(typed_values, label='value')}"
    with replaced(bases[base], rel, ("\n".join(lines) + "\n").encode("utf-8")) as root:
        check_load(root)


@pytest.mark.parametrize("tag", [*YAML_TAGS, ""])
@settings(max_examples=15, **FUZZ)
@given(target=targets, data=st.data())
def test_loader_explicit_tags_and_date_like_values(
    bases: dict[str, Path], tag: str, target: tuple[str, str], data: st.DataObject
) -> None:
    """Values PyYAML builds itself (explicit ``!!`` tags, implicit timestamps) that parse but may
    not be buildable: each is a problem in the file, never a crash. Every tag is tried."""
    base, rel = target
    lines = original_text(bases, base, rel).splitlines()
    n = data.draw(st.sampled_from(_key_value_lines(lines)), label="line index")
    match = re.match(r"^(\s*(?:- )?)([A-Za-z_][\w-]*):(.*)$", lines[n])
    assert match is not None
    value = data.draw(
        st.one_of(st.just(""), _token, _date_like, st.sampled_from(["[a]", "{a: 1}", "''"])), label="value"
    )
    lines[n] = f"{match.group(1)}{match.group(2)}: {tag} {value}".rstrip()
    with replaced(bases[base], rel, ("\n".join(lines) + "\n").encode("utf-8")) as root:
        check_load(root)


#: Path segments: folders, dots, globs (valid and not), table names, drive letters, backslashes.
PATH_SEGMENTS = ["data", "logs", "..", ".", "", "~", "*", "**", "?", "[a-z]", "[", "]", "{a,b}", "holdout.csv",
                 "week-1.csv", "*.csv", "**.csv", "w*k-1.csv", "x.parquet", "x.jsonl", "x.csv.gz", "C:", "\\"]  # fmt: skip
_segments = st.one_of(
    st.sampled_from(PATH_SEGMENTS),
    _token,
    st.from_regex(r"[a-z*?.]{1,8}", fullmatch=True),  # glob-like: *.csv, **.csv, w?ek*, ...
)
paths_written = st.lists(_segments, min_size=1, max_size=4).map("/".join)

#: Keys that name workspace files (or globs), as (file, the line as written, its replacement).
PATH_KEYS = [
    (VERSION, "    data: data/holdout.csv", "    data: {}"),
    (VERSION, "  logs: logs/*.csv", "  logs: {}"),
    (
        VERSION,
        "  algorithm: sklearn.linear_model.LogisticRegression",
        "  algorithm: sklearn.linear_model.LogisticRegression\n  artifact: {}",
    ),
    (HOLDOUT, "licence: Internal", "licence: Internal\nfiles:\n  - path: {}"),
    (VERSION, "  reference: holdout", "  reference: {{data: {}}}"),
]


@settings(max_examples=200, **FUZZ)
@given(key=st.sampled_from(PATH_KEYS), path=paths_written)
def test_loader_any_path_in_a_path_key(bases: dict[str, Path], key: tuple[str, str, str], path: str) -> None:
    """Whatever a path (or glob) key names, the loader loads or reports problems, never crashes."""
    rel, old, new = key
    text = original_text(bases, "rich", rel)
    assert old in text, old
    text = text.replace(old, new.format(double_quoted(path)), 1)
    with replaced(bases["rich"], rel, text.encode("utf-8")) as root:
        check_load(root)


# --------------------------------------------------------------------------- what the user wrote is kept

#: PyYAML reads these characters literally inside a quoted scalar; everything else is escaped.
_LITERAL = re.compile("[\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]")


def double_quoted(value: str) -> str:
    """A YAML double-quoted scalar for ``value``: the spec's escapes, written by hand."""
    out = []
    for ch in value:
        if ch in '"\\':
            out.append("\\" + ch)
        elif _LITERAL.match(ch):
            out.append(ch)
        elif ord(ch) <= 0xFF:
            out.append(f"\\x{ord(ch):02X}")
        elif ord(ch) <= 0xFFFF:
            out.append(f"\\u{ord(ch):04X}")
        else:
            out.append(f"\\U{ord(ch):08X}")
    return '"' + "".join(out) + '"'


def single_quoted(value: str) -> str | None:
    if not all(_LITERAL.match(ch) for ch in value):
        return None  # single quotes have no escapes
    return "'" + value.replace("'", "''") + "'"


SPECIAL_TEXT = [
    "<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "&amp; &lt;b&gt; &#x27;", "[x](javascript:alert(1))",
    "{{ config }} {% raw %}", "مرحبا بالعالم — نموذج الائتمان", "שלום עולם", "\u202eevil\u202c", "\u200f\u200e",
    "👩\u200d👩\u200d👧\u200d👦 🇪🇺 ✅ 🏳️\u200d🌈", "e\u0301 é Å Å", "日本語のモデル", "Ελληνικά", "  leading and trailing  ",
    "line one\nline two\n", "tab\there", "null", "~", "true", "0.5", "2026-01-15", "#not a comment", "key: value",
    "- item", "a\\b\\c", "'single' \"double\"", "\\u0041", "%20", "\u00a0nbsp\u00a0", "\x85NEL\u2028LS\u2029PS",
    "\x00\x01\x7f", "\ufeffBOM",
]  # fmt: skip

user_text = st.lists(
    st.one_of(st.sampled_from(SPECIAL_TEXT), st.text(min_size=1, max_size=15)), min_size=1, max_size=4
).map("".join)


def set_top_level(text: str, key: str, scalar: str) -> str:
    new, count = re.subn(rf"(?m)^{key}: .*$", lambda _: f"{key}: {scalar}", text, count=1)
    assert count == 1, key
    return new


@settings(max_examples=150, **SETTINGS)
@given(name=user_text, description=user_text, summary=user_text, style=st.sampled_from(["double", "single"]))
def test_loaded_text_is_what_the_user_wrote(
    bases: dict[str, Path], name: str, description: str, summary: str, style: str
) -> None:
    """Text written (correctly quoted) into the card's name and description and the version's summary
    comes back from the loaded workspace exactly: not trimmed, normalised, escaped or truncated."""

    def scalar(value: str) -> str:
        written = single_quoted(value) if style == "single" else None
        return written or double_quoted(value)

    root = bases["plain"]
    model = set_top_level(
        set_top_level(original_text(bases, "plain", MODEL), "name", scalar(name)), "description", scalar(description)
    )
    version = set_top_level(original_text(bases, "plain", VERSION), "summary", scalar(summary))
    with replaced(root, MODEL, model.encode("utf-8")), replaced(root, VERSION, version.encode("utf-8")):
        workspace = load_workspace(root)
    card = workspace.models["loans"].card
    assert card.name == name
    assert card.description == description
    assert workspace.models["loans"].versions["1.0"].spec.summary == summary


# --------------------------------------------------------------------------- determinism across write orders

DATASHEET_BROKEN = "name: Loans\ndescription: x\nsource: y\n"  # licence and collection missing
VERSION_VARIANTS: dict[str, Callable[[str], str]] = {
    "valid": lambda text: text,
    "bad-status": lambda text: text.replace("status: production", "status: live"),
    "unknown-previous": lambda text: text.replace("summary: First version.", "summary: First.\nprevious: '0.9'"),
    "previous-1.0": lambda text: text.replace("summary: First version.", "summary: First.\nprevious: '1.0'"),
    "previous-2.0": lambda text: text.replace("summary: First version.", "summary: First.\nprevious: '2.0'"),
    "bad-column": lambda text: text.replace("label: defaulted", "label: default"),
    "broken-yaml": lambda text: "created: [2026\n",
}


@st.composite
def workspace_layouts(draw: st.DrawFn, sources: dict[str, str]) -> dict[str, bytes]:
    """A workspace as a map of files: some datasets (valid, broken, unparsable, duplicated under two
    extensions), some models with versions and approvals, some of them wrong."""
    files: dict[str, str] = {}
    files["governance.yml"] = draw(
        st.sampled_from([sources["governance.yml"], "title: [unclosed\n", sources["governance.yml"] + "title: again\n"])
    )
    for dataset in draw(st.sets(st.sampled_from(["loans-train", "loans-holdout", "extra", "Bad_Id"]), max_size=4)):
        content = draw(st.sampled_from([sources[TRAIN], DATASHEET_BROKEN, "name: [x\n", "- a list\n"]))
        for ext in draw(st.sampled_from([["yml"], ["yaml"], ["yml", "yaml"]])):
            files[f"datasets/{dataset}.{ext}"] = content
    for model in draw(st.sets(st.sampled_from(["loans", "cards", "Bad Model"]), min_size=1, max_size=3)):
        card = draw(
            st.sampled_from(
                [sources[MODEL], sources[MODEL].replace("risk_tier: high", "risk_tier: hgh"), "name: [x\n", None]
            )
        )
        if card is not None:
            files[f"models/{model}/model.yml"] = card
        for version in draw(st.sets(st.sampled_from(["1.0", "2.0", "Bad V"]), max_size=3)):
            variant = draw(st.sampled_from(sorted(VERSION_VARIANTS)))
            files[f"models/{model}/versions/{version}/version.yml"] = VERSION_VARIANTS[variant](sources[VERSION])
            approvals = draw(st.sampled_from([None, sources[APPROVALS], "approvals: [{role: x}]\n"]))
            if approvals is not None:
                files[f"models/{model}/versions/{version}/approvals.yml"] = approvals
    return {rel: text.encode("utf-8") for rel, text in files.items()}


def write_files(root: Path, files: dict[str, bytes], order: list[str], table: bytes) -> Path:
    root.mkdir(parents=True)
    for rel in order:
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(files[rel])
    (root / "data").mkdir(exist_ok=True)
    (root / "data" / "holdout.csv").write_bytes(table)
    return root


@settings(max_examples=60, **SETTINGS)
@given(data=st.data())
def test_loading_is_deterministic_and_independent_of_write_order(bases: dict[str, Path], data: st.DataObject) -> None:
    """The same files written in two orders into two folders load to the same result, twice each."""
    sources = {rel: original_text(bases, "plain", rel) for rel in ["governance.yml", MODEL, VERSION, APPROVALS, TRAIN]}
    files = data.draw(workspace_layouts(sources), label="files")
    first = data.draw(st.permutations(sorted(files)), label="first write order")
    second = data.draw(st.permutations(sorted(files)), label="second write order")
    table = (bases["plain"] / "data" / "holdout.csv").read_bytes()
    scratch = Path(tempfile.mkdtemp(prefix="props-order-"))
    try:
        a = check_load(write_files(scratch / "a", files, first, table), twice=True)
        b = check_load(write_files(scratch / "b", files, second, table), twice=True)
        if a[0] == "problems" or b[0] == "problems":
            assert a == b
        else:  # loaded: the same content (the roots differ, so compare what was read)
            assert a[1][:3] == b[1][:3]
    finally:
        shutil.rmtree(scratch)


# =========================================================================== the policy evaluator

TODAY = dt.date(2026, 3, 1)
SOURCE = manifest.FileRef(path="policies/props.yml", sha256="0" * 64, bytes=1)
ABSENT = "absent"  # the metric is not in the evaluation at all
OPERATORS: dict[str, Callable[[float, float], bool]] = {
    ">=": lambda a, b: a >= b,
    ">": lambda a, b: a > b,
    "<=": lambda a, b: a <= b,
    "<": lambda a, b: a < b,
    "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
}
BASE = make_manifest()
TEMPLATE_VERSIONS = [(model, version) for model in BASE.models for version in model.versions]

finite = st.floats(allow_nan=False, allow_infinity=False)
metric_values = st.one_of(
    finite,
    st.sampled_from([0.0, -0.0, 0.5, 1.0, -1.0, 5e-324, 1e308]),
    st.none(),  # undefined (a rate with no eligible rows)
    st.just(math.nan),
    st.sampled_from([math.inf, -math.inf]),
    st.just(ABSENT),
)
thresholds = st.one_of(finite, st.integers(-5, 5), st.sampled_from([0.0, -0.0, 0.5, 1.0]))
metric_names = st.sampled_from(["prop_a", "prop_b", "prop_c"])


def primary_of(version: manifest.ModelVersion) -> manifest.EvaluationRun:
    """The evaluation a rule reads: the most recent one, by date then id (docs/policies.md)."""
    return max(version.evaluations, key=lambda run: (dt.date.fromisoformat(run.date), run.id))


def with_metrics(run: manifest.EvaluationRun, values: dict[str, Any]) -> manifest.EvaluationRun:
    """``run`` whose metrics named in ``values`` are replaced (or removed, for ABSENT)."""
    metrics = [m for m in run.performance.metrics if m.name not in values]
    metrics += [
        manifest.Metric(name=name, label=name, value=value) for name, value in values.items() if value is not ABSENT
    ]
    return run.model_copy(update={"performance": run.performance.model_copy(update={"metrics": metrics})})


@st.composite
def version_specs(draw: st.DrawFn) -> dict[str, Any]:
    """A version: a template of the test manifest, the metrics of its primary evaluation, and decoys
    in the other evaluations (never read, since only the primary evaluation counts)."""
    template = draw(st.integers(0, len(TEMPLATE_VERSIONS) - 1))
    values = draw(st.dictionaries(metric_names, metric_values, min_size=0, max_size=3))
    decoy = draw(st.dictionaries(metric_names, metric_values, max_size=3))
    return {"template": template, "values": values, "decoy": decoy}


@st.composite
def model_specs(draw: st.DrawFn) -> list[dict[str, Any]]:
    count = draw(st.integers(1, 3))
    return [
        {
            "template": draw(st.integers(0, len(BASE.models) - 1)),
            "versions": draw(st.lists(version_specs(), min_size=1, max_size=3)),
        }
        for _ in range(count)
    ]


def build(models: list[dict[str, Any]]) -> manifest.Manifest:
    """A manifest with model ``m<i>``, versions ``<j>.0``, built from the test manifest's templates."""
    built = []
    for i, spec in enumerate(models):
        versions = []
        for j, vspec in enumerate(spec["versions"]):
            _, template = TEMPLATE_VERSIONS[vspec["template"]]
            primary = primary_of(template)
            runs = [
                with_metrics(run, vspec["values"] if run is primary else vspec["decoy"]) for run in template.evaluations
            ]
            versions.append(template.model_copy(update={"version": f"{j}.0", "evaluations": runs}))
        model = BASE.models[spec["template"]].model_copy(update={"id": f"m{i}", "versions": versions})
        built.append(model)
    return BASE.model_copy(update={"models": built})


def evidence_rule(rule_id: str, evidence: str, op: str, threshold: Any, **fields: Any) -> dict[str, Any]:
    return {"id": rule_id, "title": "A rule", "evidence": evidence, "require": {op: threshold}, **fields}


def loaded_policy(rules: list[dict[str, Any]], policy_id: str = "p", **fields: Any) -> LoadedPolicy:
    return LoadedPolicy(
        PolicyFile.model_validate({"id": policy_id, "title": "Props", "rules": rules, **fields}), SOURCE
    )


def expected_check(value: Any, op: str, threshold: Any) -> str:
    """The verdict on one defined-or-not value, worked out here, not by the engine."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "error"  # undefined evidence is never a pass
    return "pass" if OPERATORS[op](float(value), float(threshold)) else "fail"


def expected_outcome(
    values: dict[str, Any], evidence: str, op: str, threshold: Any, severity: str, missing: str
) -> str:
    name = evidence.split(".", 1)[1]
    present = {k: v for k, v in values.items() if v is not ABSENT}
    # performance.* ranges over every metric of the primary evaluation, the template's own included
    checked = list(present.values()) if name == "*" else ([present[name]] if name in present else [])
    if not checked:
        if name == "*":
            raise AssertionError("performance.* always matches the template's metrics")
        return {
            "error": "error",
            "fail": "fail" if severity == "blocking" else "warn",
            "not-applicable": "not-applicable",
        }[missing]
    verdicts = [expected_check(v, op, threshold) for v in checked]
    if "error" in verdicts:
        return "error"
    if "fail" in verdicts:
        return "fail" if severity == "blocking" else "warn"
    return "pass"


def version_values(spec: dict[str, Any]) -> dict[str, Any]:
    """The metrics of the primary evaluation, after the spec's changes: what a rule can read."""
    _, template = TEMPLATE_VERSIONS[spec["template"]]
    primary = primary_of(template)
    values: dict[str, Any] = {m.name: m.value for m in primary.performance.metrics}
    values.update(spec["values"])
    return values


def results_by_key(report: manifest.GovernanceReport) -> dict[tuple[str, str, str, str], manifest.PolicyResult]:
    keyed = {(r.policy, r.rule, r.model, r.version): r for r in report.results}
    assert len(keyed) == len(report.results), "two results for the same policy, rule and version"
    return keyed


evidence_paths = st.one_of(metric_names.map(lambda n: f"performance.{n}"), st.just("performance.*"))
operators = st.sampled_from(sorted(OPERATORS))
severities = st.sampled_from(["blocking", "warning", "info"])
missings = st.sampled_from(["error", "fail", "not-applicable"])


def boundary_thresholds(models: list[dict[str, Any]]) -> st.SearchStrategy[Any]:
    """Any threshold, or one equal to a value the versions have (where ``>=`` and ``>`` differ)."""
    present = sorted(
        {
            v
            for m in models
            for vs in m["versions"]
            for v in vs["values"].values()
            if isinstance(v, float) and math.isfinite(v)
        }
    )
    return st.one_of(thresholds, st.sampled_from(present)) if present else thresholds


@settings(max_examples=300, **SETTINGS)
@given(
    models=model_specs(), evidence=evidence_paths, op=operators, severity=severities, missing=missings, data=st.data()
)
def test_threshold_rule_passes_exactly_when_the_comparison_holds(
    models: list[dict[str, Any]], evidence: str, op: str, severity: str, missing: str, data: st.DataObject
) -> None:
    """Each version's result is the verdict worked out here: pass when the comparison holds on every
    matched value, error when one is undefined (None or NaN), fail (warn for a warning or info rule)
    otherwise, and the ``missing`` outcome when nothing matches."""
    threshold = data.draw(boundary_thresholds(models), label="threshold")
    built = build(models)
    rule = evidence_rule("r", evidence, op, threshold, severity=severity, missing=missing)
    report = govern(built, [loaded_policy([rule])], [], TODAY)
    results = results_by_key(report)
    assert len(results) == sum(len(m["versions"]) for m in models)
    for i, spec in enumerate(models):
        for j, vspec in enumerate(spec["versions"]):
            values = version_values(vspec)
            result = results[("p", "r", f"m{i}", f"{j}.0")]
            expected = expected_outcome(values, evidence, op, threshold, severity, missing)
            assert result.outcome == expected, (values, result)
            for check in result.checks:  # every check records what it read, and undefined is never a pass
                observed = check.observed  # as the manifest holds it: a NaN is the text "NaN" (free_values)
                if observed is None or observed == "NaN":
                    assert check.outcome != "pass", check
                elif evidence != "performance.*":
                    assert observed == as_written(values[evidence.split(".", 1)[1]]), check


@settings(max_examples=200, **SETTINGS)
@given(
    value=st.one_of(st.none(), st.just(math.nan), st.just(ABSENT)),
    op=operators,
    threshold=thresholds,
    severity=severities,
    fail_on=st.sampled_from(["blocking", "warning"]),
)
def test_undefined_evidence_never_passes(value: Any, op: str, threshold: Any, severity: str, fail_on: str) -> None:
    """None, NaN or a missing metric is an error, whatever the comparison; it blocks when the rule is
    blocking or ``fail_on`` is ``warning``."""
    built = build([{"template": 0, "versions": [{"template": 0, "values": {"prop_a": value}, "decoy": {}}]}])
    report = govern(
        built,
        [loaded_policy([evidence_rule("r", "performance.prop_a", op, threshold, severity=severity)])],
        [],
        TODAY,
        fail_on=fail_on,
    )
    (result,) = report.results
    assert result.outcome == "error", result
    assert report.blocking is (severity == "blocking" or fail_on == "warning")


# --------------------------------------------------------------------------- waivers

dates = st.dates(min_value=dt.date(2025, 1, 1), max_value=dt.date(2027, 12, 31))


@st.composite
def waiver_specs(draw: st.DrawFn, index: int = 0) -> dict[str, Any]:
    granted = draw(dates)
    expires = granted + dt.timedelta(days=draw(st.integers(0, 500)))
    return {
        "id": f"W-{index}",
        "policy": draw(st.sampled_from(["p", "p", "other"])),
        "rule": draw(st.sampled_from(["r", "r", "r2"])),
        "models": draw(st.sampled_from([["*"], ["m0"], ["m*"], ["m1"], ["x"]])),
        "versions": draw(st.sampled_from([None, ["0.0"], ["1.0"], ["*.0"], ["9"]])),
        "reason": "Accepted while fixed.",
        "approved_by": "CRO",
        "ticket": "RISK-1",
        "granted": granted,
        "expires": expires,
    }


def loaded_waiver(spec: dict[str, Any]) -> LoadedWaiver:
    return LoadedWaiver(Waiver.model_validate(spec), SOURCE)


def covers(spec: dict[str, Any], policy: str, rule: str, model: str, version: str) -> bool:
    def glob(pattern: str, name: str) -> bool:
        return re.fullmatch(re.escape(pattern).replace(r"\*", ".*"), name) is not None

    return (
        spec["policy"] == policy
        and spec["rule"] == rule
        and any(glob(m, model) for m in spec["models"])
        and (spec["versions"] is None or any(glob(v, version) for v in spec["versions"]))
    )


def in_force(spec: dict[str, Any], today: dt.date) -> bool:
    return spec["granted"] <= today <= spec["expires"]


@settings(max_examples=300, **SETTINGS)
@given(
    models=model_specs(),
    op=operators,
    threshold=thresholds,
    severity=severities,
    waiver=waiver_specs(),
    today=dates,
    fail_on=st.sampled_from(["blocking", "warning"]),
)
def test_a_waiver_covers_a_failure_only_while_in_force(
    models: list[dict[str, Any]],
    op: str,
    threshold: Any,
    severity: str,
    waiver: dict[str, Any],
    today: dt.date,
    fail_on: str,
) -> None:
    """A failure, warning or error is waived exactly when a matching waiver is in force on the check
    date (granted <= as_of <= expires); otherwise the outcome stands, and never becomes a pass."""
    built = build(models)
    policy = loaded_policy([evidence_rule("r", "performance.prop_a", op, threshold, severity=severity)])
    report = govern(built, [policy], [loaded_waiver(waiver)], today, fail_on=fail_on)
    results = results_by_key(report)
    (state,) = report.waivers
    for i, spec in enumerate(models):
        for j, vspec in enumerate(spec["versions"]):
            model, version = f"m{i}", f"{j}.0"
            unwaived = expected_outcome(version_values(vspec), "performance.prop_a", op, threshold, severity, "error")
            result = results[("p", "r", model, version)]
            waived = unwaived in ("fail", "warn", "error") and covers(waiver, "p", "r", model, version)
            waived = waived and in_force(waiver, today)
            if waived:
                assert (result.outcome, result.unwaived_outcome, result.waiver) == ("waived", unwaived, waiver["id"])
                assert f"{model}@{version}" in state.used_by
            else:
                assert (result.outcome, result.waiver) == (unwaived, None), (waiver, today, result)
                assert f"{model}@{version}" not in state.used_by
            if unwaived != "pass":
                assert result.outcome != "pass"  # a waiver never turns a failure into a pass
            if today > waiver["expires"]:
                assert result.outcome != "waived"  # an expired waiver never covers anything
    assert (state.state == "expired") is (today > waiver["expires"])


# --------------------------------------------------------------------------- monotonicity and order


STRICTER = {">=": ">", ">": ">", "<=": "<", "<": "<"}


@settings(max_examples=250, **SETTINGS)
@given(
    models=model_specs(),
    evidence=evidence_paths,
    op=st.sampled_from([">=", ">", "<=", "<"]),
    strict=st.booleans(),
    severity=severities,
    missing=missings,
    data=st.data(),
)
def test_tightening_a_threshold_never_turns_a_failure_into_a_pass(
    models: list[dict[str, Any]],
    evidence: str,
    op: str,
    strict: bool,
    severity: str,
    missing: str,
    data: st.DataObject,
) -> None:
    """Raising a ``>=``/``>`` bar (lowering a ``<=``/``<`` one), or making it strict, demands more."""
    pair = data.draw(st.tuples(boundary_thresholds(models), boundary_thresholds(models)), label="thresholds")
    low, high = sorted(pair, key=float)
    loose, tight = (low, high) if op in (">=", ">") else (high, low)  # ">= high" demands more than ">= low"
    tight_op = STRICTER[op] if strict else op
    built = build(models)
    before = results_by_key(
        govern(
            built,
            [loaded_policy([evidence_rule("r", evidence, op, loose, severity=severity, missing=missing)])],
            [],
            TODAY,
        )
    )
    after = results_by_key(
        govern(
            built,
            [loaded_policy([evidence_rule("r", evidence, tight_op, tight, severity=severity, missing=missing)])],
            [],
            TODAY,
        )
    )
    assert before.keys() == after.keys()
    for key, result in before.items():
        if result.outcome != "pass":
            assert after[key].outcome != "pass", (key, loose, tight, result, after[key])
    assert sum(r.outcome == "pass" for r in after.values()) <= sum(r.outcome == "pass" for r in before.values())


@st.composite
def policy_specs(draw: st.DrawFn) -> list[dict[str, Any]]:
    policies = []
    for p in range(draw(st.integers(1, 2))):
        rules = []
        for r in range(draw(st.integers(1, 3))):
            scope = draw(
                st.sampled_from([None, {"status": ["production"]}, {"risk_tier": ["high"]}, {"models": ["m1"]}])
            )
            fields = {"severity": draw(severities), "missing": draw(missings)}
            if scope is not None:
                fields["applies_to"] = scope
            rules.append(evidence_rule(f"r{r}", draw(evidence_paths), draw(operators), draw(thresholds), **fields))
        policies.append({"id": f"p{p}", "rules": rules})
    return policies


def retargeted(waivers: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Waivers for :func:`policy_specs` policies (``p0``, rules ``r0``/``r1``), with unique ids."""
    return [
        {
            **w,
            "id": f"W-{i}",
            "policy": "p0" if w["policy"] == "p" else w["policy"],
            "rule": {"r": "r0", "r2": "r1"}[w["rule"]],
        }
        for i, w in enumerate(waivers)
    ]


def normalised(report: manifest.GovernanceReport) -> tuple[Any, ...]:
    results = sorted(r.model_dump_json() for r in report.results)
    waivers = sorted(
        w.model_copy(
            update={"used_by": sorted(w.used_by), "would_apply_to": sorted(w.would_apply_to)}
        ).model_dump_json()
        for w in report.waivers
    )
    # a policy's description lists its rules as written: compare them as a set
    policies = sorted(
        p.model_copy(update={"rules": sorted(p.rules, key=lambda r: r.id)}).model_dump_json() for p in report.policies
    )
    return report.blocking, report.as_of, report.fail_on, results, waivers, policies


@settings(max_examples=150, **SETTINGS)
@given(
    models=model_specs(),
    policies=policy_specs(),
    waivers=st.lists(waiver_specs(), max_size=2),
    today=dates,
    fail_on=st.sampled_from(["blocking", "warning"]),
    data=st.data(),
)
def test_results_do_not_depend_on_the_order_of_the_input(
    models: list[dict[str, Any]],
    policies: list[dict[str, Any]],
    waivers: list[dict[str, Any]],
    today: dt.date,
    fail_on: str,
    data: st.DataObject,
) -> None:
    """Shuffling models, versions, evaluations, policies and rules changes no result (results are
    compared as a set; a waiver's lists of covered versions as sets)."""
    waivers = retargeted(waivers)
    built = build(models)
    loaded = [loaded_policy(p["rules"], p["id"]) for p in policies]
    waived = [loaded_waiver(w) for w in waivers]
    reference = normalised(govern(built, loaded, waived, today, fail_on=fail_on))

    def order(items: list[Any], label: str) -> list[Any]:  # drawn as indices, to keep reports short
        return [items[i] for i in data.draw(st.permutations(range(len(items))), label=label)]

    shuffled_models = []
    for model in order(built.models, "model order"):
        versions = []
        for version in order(model.versions, f"version order of {model.id}"):
            runs = order(version.evaluations, f"evaluation order of {model.id} {version.version}")
            versions.append(version.model_copy(update={"evaluations": runs}))
        shuffled_models.append(model.model_copy(update={"versions": versions}))
    shuffled_policies = [
        loaded_policy(order(p["rules"], f"rule order of {p['id']}"), p["id"]) for p in order(policies, "policy order")
    ]
    shuffled = govern(
        built.model_copy(update={"models": shuffled_models}), shuffled_policies, waived, today, fail_on=fail_on
    )
    assert normalised(shuffled) == reference


# --------------------------------------------------------------------------- exit code


@settings(max_examples=300, **SETTINGS)
@given(
    models=model_specs(),
    policies=policy_specs(),
    waivers=st.lists(waiver_specs(), max_size=2),
    today=dates,
    fail_on=st.sampled_from(["blocking", "warning"]),
)
def test_exit_code_is_1_exactly_when_something_blocks(
    models: list[dict[str, Any]],
    policies: list[dict[str, Any]],
    waivers: list[dict[str, Any]],
    today: dt.date,
    fail_on: str,
) -> None:
    """``blocking`` (and so the exit code) is worked out here from the rules, values, waivers and
    ``fail_on``: a blocking rule that fails or errs blocks; under ``fail_on: warning`` so does any
    warning (of a warning or info rule) and any error; a waiver in force lifts what it covers."""
    waivers = retargeted(waivers)
    built = build(models)
    report = govern(
        built,
        [loaded_policy(p["rules"], p["id"]) for p in policies],
        [loaded_waiver(w) for w in waivers],
        today,
        fail_on=fail_on,
    )

    blocked = False
    for p in policies:
        for rule in p["rules"]:
            for i, spec in enumerate(models):
                model = built.models[i]
                for j, vspec in enumerate(spec["versions"]):
                    version = model.versions[j]
                    scope = rule.get("applies_to") or {}
                    facts = {"status": version.status, "risk_tier": model.risk_tier, "models": model.id}
                    if not all(facts[key] in allowed for key, allowed in scope.items()):
                        continue  # out of the rule's scope: not applicable
                    ((op, threshold),) = rule["require"].items()
                    outcome = expected_outcome(
                        version_values(vspec), rule["evidence"], op, threshold, rule["severity"], rule["missing"]
                    )
                    if outcome in ("pass", "not-applicable"):
                        continue
                    if any(
                        covers(w, p["id"], rule["id"], model.id, version.version) and in_force(w, today)
                        for w in waivers
                    ):
                        continue
                    severity = rule["severity"]
                    if severity == "blocking" and outcome in ("fail", "error"):
                        blocked = True
                    if fail_on == "warning":  # warnings (of warning and info rules) and any error block too
                        blocked = True
    assert report.blocking is blocked
    assert exit_code(report) == (EXIT_BLOCKED if blocked else EXIT_PASSED)
