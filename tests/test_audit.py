"""The audit log: entries chain by hash; editing, deleting or reordering a line is found and named."""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import json
from pathlib import Path

import pytest

from modelgov.audit import GENESIS, LOG_PATH, AuditError, append, canonical, verify
from modelgov.cli import main
from workspace_factory import write_workspace

VERSION_FILE = "models/loans/versions/1.0/version.yml"


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    root = write_workspace(tmp_path / "ws")
    for i, (role, decision) in enumerate(
        [("model_risk", "approved"), ("compliance", "pending"), ("compliance", "approved")]
    ):
        append(
            root, actor=f"Person {i}", action="approval", model="loans", version="1.0", outcome=decision,
            details={"role": role}, concerns=VERSION_FILE, time=dt.datetime(2026, 1, 20 + i, 9, tzinfo=dt.UTC),
        )  # fmt: skip
    return root


def lines(root: Path) -> list[str]:
    return (root / LOG_PATH).read_text(encoding="utf-8").splitlines()


def test_entries_chain_and_hash_their_canonical_json(ws: Path) -> None:
    entries = [json.loads(line) for line in lines(ws)]
    assert [e["seq"] for e in entries] == [1, 2, 3]
    assert entries[0]["prev"] == GENESIS
    for before, entry in itertools.pairwise(entries):
        assert entry["prev"] == before["hash"]
    for entry in entries:  # recomputed here with hashlib and json, independently of the module
        body = {k: v for k, v in entry.items() if k != "hash"}
        text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        assert entry["hash"] == hashlib.sha256(text.encode()).hexdigest()
    subject = entries[0]["subject"]
    assert subject["file"] == VERSION_FILE
    assert subject["sha256"] == hashlib.sha256((ws / VERSION_FILE).read_bytes()).hexdigest()
    result = verify(ws / LOG_PATH)
    assert result.ok and result.entries == 3 and result.head == entries[-1]["hash"]


def test_an_edited_entry_is_found(ws: Path) -> None:
    rows = lines(ws)
    rows[1] = rows[1].replace('"outcome":"pending"', '"outcome":"approved"')
    (ws / LOG_PATH).write_text("\n".join(rows) + "\n")
    result = verify(ws / LOG_PATH)
    assert (result.broken_line, result.entries) == (2, 1) and "edited" in result.reason


def test_a_deleted_entry_is_found(ws: Path) -> None:
    rows = lines(ws)
    (ws / LOG_PATH).write_text("\n".join([rows[0], rows[2]]) + "\n")
    result = verify(ws / LOG_PATH)
    assert result.broken_line == 2 and "seq is 3, expected 2" in result.reason


def test_reordered_entries_are_found(ws: Path) -> None:
    rows = lines(ws)
    (ws / LOG_PATH).write_text("\n".join([rows[0], rows[2], rows[1]]) + "\n")
    assert verify(ws / LOG_PATH).broken_line == 2


def test_a_rehashed_forgery_still_breaks_the_next_link(ws: Path) -> None:
    """Editing an entry and recomputing its own hash is not enough: the next entry's prev points at
    the original."""
    rows = [json.loads(line) for line in lines(ws)]
    rows[0]["outcome"] = "rejected"
    rows[0]["hash"] = hashlib.sha256(canonical({k: v for k, v in rows[0].items() if k != "hash"})).hexdigest()
    (ws / LOG_PATH).write_text("\n".join(canonical(r).decode() for r in rows) + "\n")
    result = verify(ws / LOG_PATH)
    assert result.broken_line == 2 and "removed or reordered" in result.reason


def test_truncation_is_not_detectable_from_the_log_alone(ws: Path) -> None:
    """What a hash chain cannot prove (see docs): dropping the last entries leaves a valid chain.
    Comparing the head with a copy kept elsewhere shows it."""
    head = verify(ws / LOG_PATH).head
    (ws / LOG_PATH).write_text("\n".join(lines(ws)[:2]) + "\n")
    result = verify(ws / LOG_PATH)
    assert result.ok and result.head != head


def test_a_broken_log_is_not_extended_and_garbage_is_named(ws: Path) -> None:
    rows = lines(ws)
    (ws / LOG_PATH).write_text("\n".join([rows[0], "{not json", rows[2]]) + "\n")
    result = verify(ws / LOG_PATH)
    assert result.broken_line == 2 and "not valid JSON" in result.reason
    with pytest.raises(AuditError, match=r"audit/log.jsonl:2: not valid JSON"):
        append(ws, actor="X", action="approval", model="loans", version="1.0", outcome="approved")


def test_cli_approve_and_verify(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    root = write_workspace(tmp_path / "ws")
    assert main(["audit", "verify", str(root)]) == 0  # no log yet: nothing to contradict
    assert main(["approve", str(root), "loans", "1.0", "--role", "compliance", "--by", "Sam Counsel"]) == 0
    assert "Recorded: compliance approved loans 1.0" in capsys.readouterr().out
    assert main(["approve", str(root), "loans", "9.9", "--role", "compliance", "--by", "Sam"]) == 2
    assert "no version '9.9' of model 'loans'" in capsys.readouterr().err
    assert main(["audit", "verify", str(root)]) == 0
    path = root / LOG_PATH
    path.write_text(path.read_text().replace("Sam Counsel", "Someone Else"))
    assert main(["audit", "verify", str(root)]) == 1
    err = capsys.readouterr().err
    assert "audit/log.jsonl:1: hash does not match the entry's content (edited)" in err


def test_logged_sign_offs_reach_the_manifest_and_a_broken_chain_is_shown(tmp_path: Path) -> None:
    from modelgov.assemble import build_manifest
    from modelgov.workspace.load import load_workspace

    root = write_workspace(tmp_path / "ws")
    assert main(["approve", str(root), "loans", "1.0", "--role", "compliance", "--by", "Sam Counsel"]) == 0
    assert main(["approve", str(root), "loans", "1.0", "--role", "ethics", "--by", "Eve Ethicist"]) == 0
    built = build_manifest(load_workspace(root))
    approvals = {(a.role, a.by, a.source.path) for a in built.models[0].versions[0].approvals}
    assert ("compliance", "Sam Counsel", LOG_PATH) in approvals
    assert ("model_risk", "Rita Reviewer", "models/loans/versions/1.0/approvals.yml") in approvals
    assert built.audit.intact and built.audit.entries == 2
    assert built.audit.head == verify(root / LOG_PATH).head
    assert LOG_PATH in {f.path for f in built.inputs}

    path = root / LOG_PATH
    path.write_text(path.read_text().replace("Eve Ethicist", "Mallory"))
    broken = build_manifest(load_workspace(root))
    assert not broken.audit.intact and broken.audit.broken_line == 2 and broken.audit.entries == 1
    roles = {a.role for a in broken.models[0].versions[0].approvals}
    assert "compliance" in roles and "ethics" not in roles  # only the verified entries count


def test_a_broken_chain_is_reported_where_reviewers_and_the_ci_look(tmp_path: Path, capsys) -> None:
    """A byte changed in an entry drops it and every entry after it: the terminal, policy-results.json
    (`degraded`), the home page (and the compliance page, with policies) say so, and --fail-on-degraded fails the CI, not only
    the audit page."""
    root = write_workspace(tmp_path / "ws")
    assert main(["approve", str(root), "loans", "1.0", "--role", "compliance", "--by", "Sam Counsel"]) == 0
    assert main(["approve", str(root), "loans", "1.0", "--role", "ethics", "--by", "Eve Ethicist"]) == 0
    path = root / LOG_PATH
    path.write_text(path.read_text().replace("Eve Ethicist", "Mallory"))
    capsys.readouterr()
    site = tmp_path / "site"
    code = main(["build", str(root), "-o", str(site)])
    said = capsys.readouterr()
    assert "note  workspace audit/log.jsonl  audit log: the hash chain breaks at line 2" in said.out + said.err
    assert "The audit log is broken" in (site / "index.html").read_text()
    from modelgov import degraded, manifest

    (found,) = degraded.degradations(manifest.read(site / "manifest.json"))  # policy-results.json's `degraded`
    assert (found.analysis, found.page) == ("audit log", "audit.html")
    assert code == 0  # the workspace's policies pass: the break is a note, and with --fail-on-degraded a failure
    assert main(["check", str(root), "--fail-on-degraded", "-q"]) == 1


def test_the_trail_page_lists_the_verified_events(tmp_path: Path) -> None:
    import re

    root = write_workspace(tmp_path / "ws")
    main(["approve", str(root), "loans", "1.0", "--role", "compliance", "--by", "<b>Sam</b>", "--comment", "ok"])
    assert main(["build", str(root), "-o", str(tmp_path / "site"), "-q"]) == 0
    page = (tmp_path / "site" / "audit.html").read_text()
    assert "The chain verifies: 1 entr" in page
    assert "<b>Sam</b>" not in page and ("&#60;b&#62;Sam" in page or "&lt;b&gt;Sam" in page)  # escaped
    assert re.search(r'href="models/loans/1\.0/(index\.html)?"', page)
    assert verify(root / LOG_PATH).head[:12] in page
    build = (tmp_path / "site" / "build.html").read_text()
    assert "hash chain verifies" in build
    model_page = (tmp_path / "site" / "models" / "loans" / "index.html").read_text()
    assert "Audit trail" in model_page and "approval (compliance)" in model_page


def test_promote_changes_only_the_status_line_and_records_it(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    import yaml

    root = write_workspace(tmp_path / "ws")
    path = root / VERSION_FILE
    before = path.read_text()
    assert main(["promote", str(root), "loans", "1.0", "--to", "retired", "--by", "Ops"]) == 0
    after = path.read_text()
    assert yaml.safe_load(after) == {**yaml.safe_load(before), "status": "retired"}
    assert [a for a in after.splitlines() if a not in before.splitlines()] == ["status: retired"]
    (entry,) = [json.loads(line) for line in lines(root)]
    assert (entry["action"], entry["outcome"], entry["details"]) == (
        "status",
        "retired",
        {"from": "production", "to": "retired"},
    )
    assert entry["subject"]["sha256"] == hashlib.sha256(after.encode()).hexdigest()  # the file as changed
    assert main(["promote", str(root), "loans", "1.0", "--to", "retired", "--by", "Ops"]) == 2
    assert "already retired" in capsys.readouterr().err


def test_waive_appends_one_item_validates_and_records(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    import yaml

    from modelgov.workspace.load import load_workspace

    root = write_workspace(tmp_path / "ws")
    (root / "governance.yml").write_text((root / "governance.yml").read_text() + "policies: {packs: [baseline]}\n")
    (root / "waivers.yml").write_text("# accepted exceptions\nwaivers: []\n")
    args = ["waive", str(root), "--policy", "baseline", "--rule", "datasheets", "--model", "loans"]
    args += ["--reason", "Datasheets being written", "--by", "Rita", "--ticket", "RISK-7"]
    assert main([*args, "--id", "W-1", "--granted", "2026-03-01", "--expires", "2026-04-30"]) == 0
    text = (root / "waivers.yml").read_text()
    assert text.startswith("# accepted exceptions\n")  # what the user wrote is kept
    (waiver,) = load_workspace(root).waivers
    assert (waiver.waiver.id, waiver.waiver.expires.isoformat()) == ("W-1", "2026-04-30")
    (entry,) = [json.loads(line) for line in lines(root)]
    assert (entry["action"], entry["details"]["waiver"]) == ("waiver", "W-1")
    # a second one is appended after the first, and a waiver longer than allowed is refused and undone
    assert main([*args, "--id", "W-2", "--granted", "2026-03-01", "--expires", "2026-05-30"]) == 0
    assert [w["id"] for w in yaml.safe_load((root / "waivers.yml").read_text())["waivers"]] == ["W-1", "W-2"]
    before = (root / "waivers.yml").read_text()
    assert main([*args, "--id", "W-3", "--granted", "2026-03-01", "--expires", "2028-03-01"]) == 2
    assert "longer than the 365 allowed" in capsys.readouterr().err
    assert (root / "waivers.yml").read_text() == before and len(lines(root)) == 2
    assert main([*args, "--id", "W-1", "--granted", "2026-03-01", "--expires", "2026-04-30"]) == 2
    assert "exists already" in capsys.readouterr().err


def test_the_compliance_page_leads_with_a_broken_chain() -> None:
    from manifest_factory import make_manifest
    from modelgov import manifest
    from modelgov.render.pages import render_pages

    broken = manifest.AuditSummary(
        log=manifest.FileRef(path=LOG_PATH, sha256="0" * 64, bytes=1),
        entries=3,
        head="0" * 64,
        intact=False,
        broken_line=4,
        reason="hash does not match the entry's content (edited)",
    )
    pages = {p.path: p.markdown for p in render_pages(make_manifest().model_copy(update={"audit": broken}))}
    compliance = pages["compliance/index.md"]
    assert "The audit log is broken at line 4: no decision from that line on is counted" in compliance
    assert compliance.index("The audit log is broken") < compliance.index("## Policies")
    assert "The audit log is broken" in pages["index.md"]


@pytest.mark.parametrize(("created", "flagged"), [("2026-03-01", True), ("2020-01-01", False)])
def test_a_version_retired_by_hand_is_flagged_unless_it_predates_the_log(created: str, flagged: bool) -> None:
    """Retiring a version by hand takes it out of every pack scoped to candidates, staging and
    production, its failures with it: the compliance page says it was retired without a recorded
    status change, unless the version was created before the log began (and may have been retired
    before there was a log)."""
    from manifest_factory import make_manifest
    from modelgov import manifest
    from modelgov.render.decision_views import unrecorded_statuses
    from modelgov.render.pages import render_pages

    built = make_manifest()
    model = built.models[0]
    version = model.versions[0].model_copy(update={"status": "retired", "created": created, "status_change": None})
    event = manifest.AuditEvent(
        seq=1, time="2025-02-14T10:00:00Z", actor="a", action="approval", outcome="approved", hash="0" * 64
    )
    audit = manifest.AuditSummary(
        log=manifest.FileRef(path=LOG_PATH, sha256="0" * 64, bytes=1),
        entries=1,
        head="0" * 64,
        intact=True,
        events=[event],
    )
    built.models[0] = model.model_copy(update={"versions": [version, *model.versions[1:]]})
    built = built.model_copy(update={"audit": audit})
    assert ((model.id, version.version) in {(m.id, v.version) for m, v in unrecorded_statuses(built)}) is flagged
    page = {p.path: p.markdown for p in render_pages(built)}["compliance/index.md"]
    assert ("is retired without a recorded status change" in page) is flagged


def test_a_version_retired_by_hand_cannot_hide_by_backdating_its_creation() -> None:
    """`created` is the workspace's word: a version the log names, or evaluated since the log began,
    existed then, and retiring it by hand is flagged whatever `created` says."""
    from manifest_factory import make_manifest
    from modelgov import manifest
    from modelgov.render.decision_views import unrecorded_statuses

    built = make_manifest()
    model = built.models[0]
    old = model.versions[0].model_copy(update={"status": "retired", "created": "2020-01-01", "status_change": None})
    old = old.model_copy(update={"evaluations": [r.model_copy(update={"date": "2020-02-01"}) for r in old.evaluations]})
    event = manifest.AuditEvent(
        seq=1, time="2025-02-14T10:00:00Z", actor="a", action="approval", outcome="approved", hash="0" * 64
    )
    log = manifest.FileRef(path=LOG_PATH, sha256="0" * 64, bytes=1)

    def flagged(version, events) -> bool:
        audit = manifest.AuditSummary(log=log, entries=len(events), head="0" * 64, intact=True, events=events)
        built.models[0] = model.model_copy(update={"versions": [version, *model.versions[1:]]})
        found = unrecorded_statuses(built.model_copy(update={"audit": audit}))
        return (model.id, version.version) in {(m.id, v.version) for m, v in found}

    assert not flagged(old, [event])  # old by every date, and the log never names it
    named = event.model_copy(update={"model": model.id, "version": old.version})
    assert flagged(old, [event, named])
    evaluated = old.model_copy(
        update={"evaluations": [r.model_copy(update={"date": "2026-03-01"}) for r in old.evaluations]}
    )
    assert flagged(evaluated, [event])
