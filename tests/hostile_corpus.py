"""A corpus of broken and hostile workspaces, each a one-change mutation of the valid factory workspace.

Every case states what the user must see:

* :class:`Refused` — the build stops with exit 2 and an error that names the file and the key or
  column to fix (and, optionally, words from the explanation);
* :class:`Degraded` — the build succeeds, and a page states plainly what could not be done and why
  (the phrases are those documented in ``docs/bad-input.md``).

No case may print a traceback or an "internal error", and no case may pass silently. The cases are
data, not tests, so ``test_hostile_corpus.py`` can run each one the same way through the command line.
"""

from __future__ import annotations

import os
import pickle
import textwrap
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from workspace_factory import edit, holdout_table

MODEL = "models/loans/model.yml"
VERSION = "models/loans/versions/1.0/version.yml"
APPROVALS = "models/loans/versions/1.0/approvals.yml"
HOLDOUT = "data/holdout.csv"
CARD = "models/loans/1.0/index.html"
EXPLAIN = "models/loans/1.0/explainability.html"


@dataclass(frozen=True)
class Refused:
    """Exit 2; the error names ``file`` and contains every string in ``says``."""

    file: str
    says: tuple[str, ...]


@dataclass(frozen=True)
class Degraded:
    """The build succeeds (exit 0 or 1) and ``page`` (site-relative HTML) states every phrase in ``says``."""

    page: str
    says: tuple[str, ...]
    absent: tuple[str, ...] = ()


@dataclass(frozen=True)
class Case:
    id: str
    mutate: Callable[[Path], None]
    expect: Refused | Degraded
    #: the build's output folder relative to the case folder (a few cases point it somewhere unsafe)
    out: Callable[[Path], Path] = field(default=lambda ws: ws.parent / "site")


def refused(file: str, *says: str) -> Refused:
    return Refused(file, says)


def degraded(page: str, *says: str, absent: tuple[str, ...] = ()) -> Degraded:
    return Degraded(page, says, absent)


# --------------------------------------------------------------------------- mutation helpers


def write(rel: str, content: str | bytes) -> Callable[[Path], None]:
    def mutate(ws: Path) -> None:
        path = ws / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")

    return mutate


def replace(rel: str, old: str, new: str) -> Callable[[Path], None]:
    return lambda ws: edit(ws, rel, old, new)


def append(rel: str, text: str) -> Callable[[Path], None]:
    def mutate(ws: Path) -> None:
        path = ws / rel
        path.write_text(path.read_text(encoding="utf-8") + textwrap.dedent(text), encoding="utf-8")

    return mutate


def table(change: Callable[[pd.DataFrame], pd.DataFrame]) -> Callable[[Path], None]:
    """Rewrite the holdout table through ``change``."""

    def mutate(ws: Path) -> None:
        change(holdout_table()).to_csv(ws / HOLDOUT, index=False)

    return mutate


def both(*mutations: Callable[[Path], None]) -> Callable[[Path], None]:
    def mutate(ws: Path) -> None:
        for m in mutations:
            m(ws)

    return mutate


def assign(**columns: object) -> Callable[[pd.DataFrame], pd.DataFrame]:
    return lambda frame: frame.assign(**{k: (v(frame) if callable(v) else v) for k, v in columns.items()})


MONITORING = """\
monitoring:
  logs: logs/*.csv
  timestamp: ts
  prediction: predicted
  score: score
  features: [income, age, sex]
  reference: holdout
"""


def with_log(change: Callable[[pd.DataFrame], pd.DataFrame] = lambda f: f) -> Callable[[Path], None]:
    """Add a monitoring log (two weeks of the holdout's rows) and the monitoring section."""

    def mutate(ws: Path) -> None:
        edit(ws, VERSION, "features: [income, age]", "features: [income, age, sex]")
        base = holdout_table()
        week = pd.concat([base.assign(ts="2026-08-03T10:00:00Z"), base.assign(ts="2026-08-10T10:00:00Z")])
        (ws / "logs").mkdir(exist_ok=True)
        change(week.reset_index(drop=True)).to_csv(ws / "logs" / "scores.csv", index=False)
        (ws / VERSION).write_text((ws / VERSION).read_text(encoding="utf-8") + MONITORING, encoding="utf-8")

    return mutate


def with_policy(text: str) -> Callable[[Path], None]:
    return write("policies/house.yml", textwrap.dedent(text))


def model_file(name: str, data: Callable[[Path], bytes], **options: object) -> Callable[[Path], None]:
    """Put a model file (``data(ws)``) beside the version and name it as the training artifact."""

    def mutate(ws: Path) -> None:
        rel = f"models/loans/versions/1.0/{name}"
        (ws / rel).write_bytes(data(ws))
        extra = "".join(f"\n      {k}: {str(v).lower() if isinstance(v, bool) else v}" for k, v in options.items())
        edit(ws, VERSION, "  algorithm:", f"  artifact:\n      path: {rel}{extra}\n  algorithm:")

    return mutate


#: Created next to the workspace if any case's pickle is ever unpickled.
TRIPWIRE = "UNPICKLED"


class _Tripwire:
    """Pickles into a payload that, when unpickled, creates the folder named by its argument."""

    def __init__(self, target: str):
        self.target = target

    def __reduce__(self):  # type: ignore[override]
        return (os.mkdir, (self.target,))


def pickle_payload(ws: Path) -> bytes:
    return pickle.dumps(_Tripwire(str(ws.parent / TRIPWIRE)))


def alias_bomb() -> str:
    levels = ["a: &a [x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 9):
        name, previous = chr(97 + i), chr(96 + i)
        levels.append(f"{name}: &{name} [{', '.join(['*' + previous] * 9)}]")
    return "\n".join(levels) + "\n"


def symlink_out(ws: Path) -> None:
    outside = ws.parent / "outside.csv"
    holdout_table().to_csv(outside, index=False)
    (ws / "data" / "link.csv").symlink_to(outside)
    edit(ws, VERSION, f"data: {HOLDOUT}", "data: data/link.csv")


def previous_cycle(ws: Path) -> None:
    """A second version whose `previous` is itself, and a first that names the second: a cycle."""
    second = ws / "models/loans/versions/2.0"
    second.mkdir(parents=True)
    text = (ws / VERSION).read_text(encoding="utf-8").replace("summary: First version.", "summary: Retrain.")
    (second / "version.yml").write_text(text + "previous: '1.0'\n", encoding="utf-8")
    (ws / VERSION).write_text((ws / VERSION).read_text(encoding="utf-8") + "previous: '2.0'\n", encoding="utf-8")


HOSTILE_DESCRIPTION = """\
description: |
  Predicts loan default. <script>window.__pwned = 1</script>
  <img src=x onerror="window.__pwned = 2"> and [click me](javascript:window.__pwned=3).
"""

RTL_NAME = "نموذج الموافقة على القروض — Kredit-Ampel ✓ 信用"


# --------------------------------------------------------------------------- the corpus


# fmt: off
CASES: list[Case] = [
    # ---- YAML that cannot be read
    Case("yaml-syntax", replace(MODEL, "task: binary_classification", "task: [binary_classification"),
         refused(MODEL, "invalid YAML")),
    Case("yaml-tab-indent", replace(VERSION, "  algorithm:", "\talgorithm:"), refused(VERSION, "invalid YAML")),
    Case("yaml-not-utf8", write(MODEL, "name: Pr\xeat\n".encode("latin-1")), refused(MODEL, "not valid UTF-8")),
    Case("yaml-binary", write("governance.yml", bytes(range(256)) * 4), refused("governance.yml", "not valid UTF-8")),
    Case("yaml-alias-bomb", write("governance.yml", alias_bomb()), refused("governance.yml", "expands to more than")),
    Case("yaml-recursive-alias", write("governance.yml", "title: &a [*a]\norganisation: X\n"),
         refused("governance.yml", "recursive YAML alias")),
    Case("yaml-deep-nesting", write("governance.yml", "title: " + "[" * 5000 + "]" * 5000 + "\n"),
         refused("governance.yml", "nested more than 100 levels")),
    Case("yaml-deep-nesting-through-aliases", write("governance.yml", "title: x\na0: &a0 1\n" + "".join(
        f"a{n}: &a{n} " + "[" * 95 + f"*a{n - 1}" + "]" * 95 + "\n" for n in range(1, 16))),
         refused("governance.yml", "nested more than 100 levels deep once aliases are expanded")),
    Case("yaml-key-laughs", write("governance.yml", "title: x\na: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"? &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 10)}]\n: 1\n" for i in range(8))),
         refused("governance.yml", "is a list or a mapping; a key is written as plain text")),
    Case("yaml-too-large", write("governance.yml", "title: x\norganisation: y\ndescription: " + "a" * 2_100_000),
         refused("governance.yml", "limited to")),
    Case("yaml-python-tag", write("governance.yml", "title: !!python/object/apply:os.system ['true']\n"),
         refused("governance.yml", "invalid YAML")),
    Case("yaml-nul-byte", write("governance.yml", b"title: a\x00b\n"), refused("governance.yml", "invalid YAML")),
    Case("yaml-unbuildable-value", write("governance.yml", "title: !!int\norganisation: 0000-0-0T0:00:00\n"),
         refused("governance.yml", "invalid YAML: a value cannot be read")),
    Case("yaml-key-like-a-type", append("governance.yml", "'[': x\nstr: y\n"),
         refused("governance.yml", "[: unknown key", "str: unknown key")),
    Case("yaml-top-level-list", write(MODEL, "- name: Loan approval\n"), refused(MODEL, "expected a mapping of keys, found a list")),
    Case("yaml-empty-file", write(MODEL, ""), refused(MODEL, "name", "required key is missing")),
    Case("yaml-duplicate-key", append(MODEL, "risk_tier: low\n"), refused(MODEL, "risk_tier", "duplicate key")),
    Case("yaml-keys-written-alike", replace(VERSION, "    C: 1.0\n", '    C: 1.0\n    grid: {.nan: 1, "NaN": 2}\n'),
         refused(VERSION, "training.params", "would both be written as 'NaN'")),
    # ---- wrong types and unknown keys
    Case("wrong-type-date", replace(VERSION, "created: 2026-01-15", "created: last tuesday"),
         refused(VERSION, "created", "valid date", "'last tuesday'")),
    Case("future-evaluation-date", replace(VERSION, "date: 2026-01-20", "date: 2099-01-20"),
         refused(VERSION, "evaluations[0].date: 2099-01-20 is in the future", "an evaluation is dated when it is run")),
    Case("future-created-date", replace(VERSION, "created: 2026-01-15", "created: 2099-01-15"),
         refused(VERSION, "created: 2099-01-15 is in the future")),
    Case("wrong-type-list", replace(MODEL, "tags: [credit]", "tags: {credit: yes}"), refused(MODEL, "tags", "valid list")),
    Case("wrong-type-threshold", replace(VERSION, "threshold: 0.5", "threshold: high"),
         refused(VERSION, "evaluations[0].threshold")),
    Case("wrong-enum", replace(VERSION, "status: production", "status: live"), refused(VERSION, "status", "'live'")),
    Case("unknown-key", replace(MODEL, "risk_tier: high", "risk_teir: high"),
         refused(MODEL, "risk_teir", "did you mean 'risk_tier'?")),
    Case("unknown-nested-key", replace(VERSION, "    label: defaulted", "    lable: defaulted"),
         refused(VERSION, "evaluations[0].lable")),
    # ---- ids and references
    Case("duplicate-evaluation-id",
         replace(VERSION, "evaluations:\n", "evaluations:\n  - {id: holdout, data: data/holdout.csv, dataset: loans-holdout,"
                 " date: 2026-01-21, label: defaulted, prediction: predicted}\n"),
         refused(VERSION, "evaluations[1].id", "holdout")),
    Case("unknown-dataset", replace(VERSION, "datasets: [loans-train]", "datasets: [loans-trian]"),
         refused(VERSION, "training.datasets[0]", "loans-train")),
    Case("unknown-risk-tier", replace(MODEL, "risk_tier: high", "risk_tier: extreme"), refused(MODEL, "risk_tier", "unknown risk tier 'extreme'")),
    Case("circular-previous", previous_cycle, refused("version.yml", "previous", "cycle")),
    Case("bad-model-folder", lambda ws: (ws / "models/loans").rename(ws / "models/Loans Model"),
         refused("models/Loans Model", "model id (folder name)")),
    # ---- files that are missing, outside or unreadable
    Case("missing-governance", lambda ws: (ws / "governance.yml").unlink(), refused("governance.yml", "file is missing")),
    Case("missing-table", replace(VERSION, f"data: {HOLDOUT}", "data: data/holdot.csv"),
         refused(VERSION, "evaluations[0].data", "holdot.csv")),
    Case("path-traversal", replace(VERSION, f"data: {HOLDOUT}", "data: ../../etc/passwd"),
         refused(VERSION, "evaluations[0].data", "outside the workspace")),
    Case("absolute-path", replace(VERSION, f"data: {HOLDOUT}", "data: /etc/passwd"),
         refused(VERSION, "evaluations[0].data", "must be a relative path")),
    Case("symlink-escape", symlink_out, refused(VERSION, "evaluations[0].data", "outside the workspace")),
    Case("table-unsupported-format", both(write("data/holdout.xlsx", b"PK\x03\x04"),
                                          replace(VERSION, f"data: {HOLDOUT}", "data: data/holdout.xlsx")),
         refused(VERSION, "evaluations[0].data", "unsupported table format")),
    Case("table-zero-bytes", write(HOLDOUT, b""), refused(HOLDOUT, "empty")),
    Case("table-corrupt-parquet", both(write("data/holdout.parquet", b"PAR1" + os.urandom(64) + b"PAR1"),
                                       replace(VERSION, f"data: {HOLDOUT}", "data: data/holdout.parquet")),
         refused("data/holdout.parquet", "cannot read table", "evaluations[0].data")),
    Case("table-not-utf8", write(HOLDOUT, holdout_table().assign(sex="Fé").to_csv(index=False).encode("latin-1")),
         refused(HOLDOUT, "UTF-8")),
    # ---- table contents
    Case("empty-table", table(lambda f: f.iloc[:0]), refused(HOLDOUT, "no rows")),
    Case("missing-column", table(lambda f: f.drop(columns=["score"])),
         refused(VERSION, "evaluations[0].score", "column 'score' is not in data/holdout.csv")),
    Case("label-gaps", table(assign(defaulted=lambda f: f["defaulted"].where(f.index > 5))),
         refused(HOLDOUT, "defaulted", "6 of 400 rows have no value")),
    Case("label-three-classes", table(assign(defaulted=lambda f: f.index % 3)),
         refused(HOLDOUT, "defaulted", "two classes")),
    Case("score-not-numeric", table(assign(score="high")), refused(HOLDOUT, "score", "not numbers", "'high'")),
    Case("score-outside-unit-interval", table(assign(score=lambda f: f["score"] * 3)),
         refused(HOLDOUT, "score", "outside [0, 1]", "1.2016")),
    Case("score-all-nan", table(assign(score=np.nan)), refused(HOLDOUT, "score", "no value")),
    Case("single-class-label", table(assign(defaulted=0)),
         degraded(CARD, "undefined: the evaluation labels contain only one class")),
    Case("group-of-one", table(assign(sex=lambda f: np.where(f.index == 0, "X", f["sex"]))),
         degraded(CARD, "small: unreliable", "A group with fewer than 30 rows is marked")),
    Case("sensitive-all-nan", table(assign(age_band=np.nan)), degraded(CARD, "(missing) 400 100.0%")),
    Case("sensitive-value-per-row", table(assign(sex=lambda f: [f"person-{i}" for i in f.index])),
         refused(HOLDOUT, "column 'sex'", "400 distinct values", "more than the 100 groups")),
    Case("very-wide-table",
         table(lambda f: pd.concat([f, pd.DataFrame(np.zeros((len(f), 3000)), columns=[f"c{i}" for i in range(3000)])],
                                   axis=1)),
         degraded(CARD, "Loan approval")),
    Case("huge-evaluation-table",
         both(append("governance.yml", "analysis:\n  max_evaluation_rows: 100\n")),
         refused(HOLDOUT, "max_evaluation_rows", "100")),
    # ---- monitoring logs
    Case("log-mixed-time-zones",
         with_log(assign(ts=lambda f: np.where(f.index % 2 == 0, "2026-08-03T12:00:00+02:00", "2026-08-10T10:00:00Z"))),
         degraded("models/loans/1.0/monitoring.html", "2026-08-03 400", "2026-08-10 400")),
    Case("log-naive-and-aware-timestamps",
         with_log(assign(ts=lambda f: np.where(f.index % 2 == 0, "2026-08-03 10:00:00", "2026-08-10T10:00:00Z"))),
         refused("logs/scores.csv", "ts", "UTC offset")),
    Case("log-unparseable-timestamps", with_log(assign(ts="yesterday")), refused("logs/scores.csv", "ts", "'yesterday', which is not a date-time")),
    Case("log-unseen-categories", with_log(assign(sex=lambda f: np.where(f.index % 4 == 0, "U", f["sex"]))),
         degraded("models/loans/1.0/monitoring.html", "Values the reference never had are marked new", "U (100)")),
    Case("log-invalid-glob", both(with_log(), replace(VERSION, "logs: logs/*.csv", "logs: logs/**.csv")),
         refused(VERSION, "monitoring.logs", "not a valid glob pattern")),
    Case("log-header-only", with_log(lambda f: f.iloc[:0]), degraded("models/loans/1.0/monitoring.html", "The production logs hold no records yet, so there is nothing to compare")),
    Case("log-score-not-numeric", with_log(assign(score="high")), refused("logs/scores.csv", "score", "\"high\"")),
    # ---- policies and waivers
    Case("policy-unknown-rule-kind", with_policy("""\
            id: house
            title: House rules
            rules:
              - id: auc-floor
                title: AUC at least 0.7
                evidnce: evaluation.roc_auc
                require: {">=": 0.7}
            """), refused("policies/house.yml", "rules[0].evidnce", "did you mean 'evidence'?")),
    Case("policy-threshold-not-number", with_policy("""\
            id: house
            title: House rules
            rules:
              - id: auc-floor
                title: AUC at least 0.7
                evidence: evaluation.roc_auc
                require: {">=": high}
            """), refused("policies/house.yml", "rules[0].require", "valid number")),
    Case("policy-too-many-rules", with_policy("id: house\ntitle: House rules\nrules:\n" + "".join(
            f"  - {{id: r{i}, title: t, evidence: 'fairness.*.groups.*.*', require: {{'>=': 0}}}}\n" for i in range(2001))),
         refused("policies/house.yml", "rules: 2,001 rules", "more than the 2,000 a workspace may hold")),
    Case("waiver-unknown-rule", write("waivers.yml", textwrap.dedent("""\
            waivers:
              - id: W-1
                policy: baseline
                rule: no-such-rule
                models: [loans]
                reason: x
                approved_by: Someone
                ticket: T-1
                granted: 2026-01-01
                expires: 2026-06-01
            """)), refused("waivers.yml", "waivers[0].policy", "no policy 'baseline'")),
    Case("approval-unknown-decision", replace(APPROVALS, "decision: approved", "decision: yes"),
         refused(APPROVALS, "approvals[0].decision", "quote a word you meant as text")),
    # ---- untrusted code and files
    Case("pickle-not-trusted", model_file("model.pkl", pickle_payload),
         degraded(EXPLAIN, "was not loaded", "trust_pickle")),
    Case("skops-corrupt", model_file("model.skops", lambda ws: b"PK\x03\x04 not really a zip"),
         degraded(EXPLAIN, "was not loaded", "not a readable .skops file")),
    # ---- what users write, shown faithfully and safely
    Case("unicode-rtl-names", replace(MODEL, "name: Loan approval", f"name: {RTL_NAME}"), degraded(CARD, RTL_NAME)),
    Case("html-in-name", replace(MODEL, "name: Loan approval", "name: <b onmouseover=alert(1)>Loans</b>"),
         degraded(CARD, "<b onmouseover=alert(1)>Loans</b>")),
    Case("hostile-markdown", replace(MODEL, "description: Predicts loan default.\n", HOSTILE_DESCRIPTION),
         degraded(CARD, "Predicts loan default.", "click me", "Not shown for safety: a <script> element, a javascript: address, an <img> element, an onerror attribute",
                  absent=("<script>window", "onerror=", "javascript:window"))),
    Case("untrusted-templates", write("templates/home.md.j2", "<script>document.title = 'PWNED'</script>\n"),
         refused("templates/", "set `trust_templates: true` in governance.yml")),
    # ---- where the site goes
    Case("output-is-workspace", lambda ws: None, refused("", "would contain the workspace"), out=lambda ws: ws),
    Case("output-is-parent", lambda ws: None, refused("", "would contain the workspace"), out=lambda ws: ws.parent),
    Case("output-inside-models", lambda ws: None, refused("", "models/ folder"), out=lambda ws: ws / "models" / "site"),
]
# fmt: on
