"""Flags from the business: ``modelgov flag`` records and closes them in the audit log, refuses what
it cannot record, the chain and the signatures catch forged flags, pages show them with their age,
and ``max_age_days.open_flags`` fails a version whose flag stays open too long."""

from __future__ import annotations

import datetime as dt
import html
import json
import re
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from modelgov.audit import LOG_PATH, canonical, compare_with_published, entry_hash, signed_message, verify
from modelgov.audit_flags import flag_id
from modelgov.cli import main
from modelgov.decisions.flag import record_flag, resolve_flag, window_scope
from modelgov.decisions.sign import openssh_public_key, sign_with_ed25519
from workspace_factory import write_workspace

VERSION = "models/loans/versions/1.0/version.yml"
POLICY = """\
id: business-feedback
title: Business feedback is answered
rules:
  - id: flags-answered
    title: No flag from the business stays open more than 14 days
    max_age_days: {open_flags: 14}
"""
SIGNED_POLICY = POLICY.replace(
    "max_age_days: {open_flags: 14}", "max_age_days: {open_flags: 14}\n    require_signature: true"
)


def day(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    root = write_workspace(tmp_path / "ws")
    (root / "policies").mkdir()
    (root / "policies" / "feedback.yml").write_text(POLICY)
    return root


def log_lines(root: Path) -> list[str]:
    return (root / LOG_PATH).read_text(encoding="utf-8").splitlines()


def write_lines(root: Path, rows: list[str]) -> None:
    (root / LOG_PATH).write_text("\n".join(rows) + "\n", encoding="utf-8")


def rehashed(entry: dict) -> str:
    """An entry after a hand edit whose author recomputed its hash."""
    entry["hash"] = entry_hash(entry)
    return canonical(entry).decode()


class Signer:
    """One Ed25519 key, its allowed-signers file outside the workspace, and an OpenSSH key file."""

    def __init__(self, folder: Path, principal: str = "ines@bank.example"):
        folder.mkdir(parents=True, exist_ok=True)
        self.principal = principal
        self.key = Ed25519PrivateKey.generate()
        self.allowed = folder / "allowed_signers"
        self.allowed.write_text(f'{principal} namespaces="modelgov" {openssh_public_key(self.key)} roles=business\n')
        self.file = folder / "id_ed25519"
        self.file.write_bytes(
            self.key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption()
            )
        )
        self.file.chmod(0o600)

    def sign(self, message: bytes) -> str:
        return sign_with_ed25519(self.key, message)


def built(root: Path, as_of: dt.date, signer: Signer | None = None):
    from modelgov.assemble import build_manifest
    from modelgov.workspace.load import load_workspace

    allowed = signer.allowed if signer else None
    return build_manifest(load_workspace(root), as_of=as_of, allowed_signers=allowed)


def flags_of(manifest) -> list:
    return manifest.models[0].versions[0].flags


def result_of(manifest):
    (found,) = [r for r in manifest.governance.results if r.rule == "flags-answered"]
    return found


# --------------------------------------------------------------------------- the command


def test_flag_records_prints_its_id_and_resolve_closes_it(ws: Path, capsys: pytest.CaptureFixture) -> None:
    args = ["flag", str(ws), "loans", "1.0", "--by", "Ines Moreau"]
    assert main([*args, "--window", "2026-10-19/2026-10-25", "--text", "Arrears up among low scores"]) == 0
    out = capsys.readouterr().out
    (entry,) = [json.loads(line) for line in log_lines(ws)]
    assert entry["action"] == "flag" and entry["outcome"] == "open"
    assert entry["details"] == {"scope": "window", "start": "2026-10-19", "end": "2026-10-25"}
    assert entry["comment"] == "Arrears up among low scores" and entry["subject"]["file"] == VERSION
    ident = entry["hash"][:12]
    assert f"Flag {ident} raised on loans 1.0" in out and "unsigned" in out

    assert main([*args, "--records", "A-17, A-18", "--text", "Declined twice"]) == 0
    assert main([*args, "--text", "Approval rate looks too high"]) == 0  # the version as a whole
    entries = [json.loads(line) for line in log_lines(ws)]
    assert entries[1]["details"] == {"scope": "records", "records": ["A-17", "A-18"]}
    assert entries[2]["details"] == {"scope": "version"}

    assert main(["flag", str(ws), "loans", "1.0", "--by", "Rita", "--resolve", ident, "--text", "Cutoff fixed"]) == 0
    assert f"Resolved flag {ident} on loans 1.0" in capsys.readouterr().out
    last = json.loads(log_lines(ws)[-1])
    assert (last["outcome"], last["details"], last["comment"]) == ("resolved", {"flag": ident}, "Cutoff fixed")
    assert main(["audit", "verify", str(ws)]) == 0


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--window", "2026-13-01", "--text", "x"], "is not a date or a range of dates"),
        (["--window", "last week", "--text", "x"], "is not a date or a range of dates"),
        (["--window", "2026-10-05/", "--text", "x"], "is not a date or a range of dates"),
        (["--window", "2026-10-05/2026-10-01", "--text", "x"], "ends before it starts"),
        (["--records", "a,,b", "--text", "x"], "none of them empty"),
        (["--records", "a,a", "--text", "x"], "names a record twice"),
        (["--text", "   "], "--text is empty"),
        (["--resolve", "0123456789ab", "--text", "done"], "no flag '0123456789ab' was raised"),
    ],
)
def test_refusals_name_the_problem_and_write_nothing(
    ws: Path, capsys: pytest.CaptureFixture, extra: list[str], message: str
) -> None:
    assert main(["flag", str(ws), "loans", "1.0", "--by", "Ines", *extra]) == 2
    assert message in capsys.readouterr().err
    assert not (ws / LOG_PATH).exists() and not (ws / "audit").exists()


def test_unknown_versions_and_resolves_of_closed_or_foreign_flags_are_refused(
    ws: Path, capsys: pytest.CaptureFixture
) -> None:
    assert main(["flag", str(ws), "loans", "9.9", "--by", "Ines", "--text", "x"]) == 2
    assert "no version '9.9' of model 'loans'" in capsys.readouterr().err
    assert main(["flag", str(ws), "mortgages", "1.0", "--by", "Ines", "--text", "x"]) == 2
    assert "of model 'mortgages'" in capsys.readouterr().err
    assert not (ws / LOG_PATH).exists()

    (ws / "models/loans/versions/2.0").mkdir()
    (ws / "models/loans/versions/2.0/version.yml").write_text((ws / VERSION).read_text())  # only its file is read
    entry = record_flag(ws, "loans", "1.0", by="Ines", scope={"scope": "version"}, text="Too many declines")
    ident = flag_id(entry)
    before = (ws / LOG_PATH).read_bytes()
    assert main(["flag", str(ws), "loans", "2.0", "--by", "Rita", "--resolve", ident, "--text", "n/a"]) == 2
    assert f"flag {ident} was raised on loans 1.0, not on loans 2.0" in capsys.readouterr().err
    assert main(["flag", str(ws), "loans", "1.0", "--by", "Rita", "--resolve", ident.upper(), "--text", "ok"]) == 2
    capsys.readouterr()
    assert (ws / LOG_PATH).read_bytes() == before

    resolve_flag(ws, "loans", "1.0", ident, by="Rita", note="Explained by the campaign")
    before = (ws / LOG_PATH).read_bytes()
    assert main(["flag", str(ws), "loans", "1.0", "--by", "Rita", "--resolve", ident, "--text", "again"]) == 2
    assert f"flag {ident} was already resolved by Rita" in capsys.readouterr().err
    assert (ws / LOG_PATH).read_bytes() == before


def test_a_signed_flag_and_resolve_through_the_cli(ws: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    pytest.importorskip("shutil").which("ssh-keygen") or pytest.skip("needs ssh-keygen")
    signer = Signer(tmp_path / "outside")
    common = ["--by", signer.principal, "--key", str(signer.file), "--allowed-signers", str(signer.allowed)]
    assert main(["flag", str(ws), "loans", "1.0", *common, "--text", "Scores look off"]) == 0
    ident = json.loads(log_lines(ws)[0])["hash"][:12]
    assert "signed" in capsys.readouterr().out
    assert main(["flag", str(ws), "loans", "1.0", *common, "--resolve", ident, "--text", "Checked"]) == 0
    (flag,) = flags_of(built(ws, dt.date.today(), signer))
    assert flag.signature == "signed" and flag.resolution.signature == "signed" and flag.state == "resolved"

    # a key not listed for the principal is refused before anything is written
    before = (ws / LOG_PATH).read_bytes()
    stranger = Signer(tmp_path / "stranger", principal="mallory@bank.example")
    args = ["--by", signer.principal, "--key", str(stranger.file), "--allowed-signers", str(signer.allowed)]
    assert main(["flag", str(ws), "loans", "1.0", *args, "--text", "x"]) == 2
    assert "would not be accepted" in capsys.readouterr().err
    assert (ws / LOG_PATH).read_bytes() == before


# --------------------------------------------------------------------------- forged flags


@pytest.fixture
def flagged(ws: Path, tmp_path: Path) -> tuple[Path, Signer, str]:
    """A signed flag of 2 Nov 2026 on loans 1.0 and its signed resolution of 20 Nov."""
    signer = Signer(tmp_path / "outside")
    entry = record_flag(
        ws, "loans", "1.0", by=signer.principal, scope=window_scope("2026-10-19/2026-10-25"),
        text="Arrears up among low scores", sign=signer.sign, time=day("2026-11-02T09:00:00"),
    )  # fmt: skip
    ident = flag_id(entry)
    resolve_flag(
        ws, "loans", "1.0", ident, by=signer.principal, note="A data feed was late; rescored",
        sign=signer.sign, time=day("2026-11-20T09:00:00"),
    )  # fmt: skip
    return ws, signer, ident


def test_an_edited_flag_text_breaks_the_chain(flagged: tuple[Path, Signer, str]) -> None:
    ws, signer, _ = flagged
    rows = log_lines(ws)
    rows[0] = rows[0].replace("Arrears up among low scores", "Nothing to see")
    write_lines(ws, rows)
    state = verify(ws / LOG_PATH)
    assert (state.broken_line, state.entries) == (1, 0) and "edited" in state.reason
    assert flags_of(built(ws, dt.date(2026, 11, 24), signer)) == []

    rows[0] = rehashed(json.loads(rows[0]))  # the hash recomputed: the next entry's link still breaks
    write_lines(ws, rows)
    state = verify(ws / LOG_PATH)
    assert state.broken_line == 2 and "prev does not match" in state.reason
    (flag,) = flags_of(built(ws, dt.date(2026, 11, 24), signer))
    assert flag.signature == "invalid" and flag.state == "open"  # the signature no longer covers the text


def test_a_removed_resolve_is_found(flagged: tuple[Path, Signer, str]) -> None:
    ws, signer, ident = flagged
    record_flag(ws, "loans", "1.0", by="Ines", scope={"scope": "version"}, text="Another one")
    published = verify(ws / LOG_PATH)
    rows = log_lines(ws)
    write_lines(ws, [rows[0], rows[2]])  # the resolve cut out of the middle
    state = verify(ws / LOG_PATH)
    assert state.broken_line == 2 and "seq is 3, expected 2" in state.reason

    write_lines(ws, rows[:1])  # the resolve and what follows cut off the end: a valid, shorter chain
    state = verify(ws / LOG_PATH)
    assert state.ok
    anchor = compare_with_published(
        state, published.entries, published.head, {e["seq"]: e["hash"] for e in published.valid}
    )
    assert not anchor.ok and anchor.message.startswith("truncated")
    (flag,) = flags_of(built(ws, dt.date(2026, 11, 24), signer))
    assert flag.id == ident and flag.state == "open"


def test_a_resolve_with_no_matching_flag_breaks_the_chain(flagged: tuple[Path, Signer, str]) -> None:
    ws, _, _ = flagged
    rows = log_lines(ws)
    forged = json.loads(rows[1])
    forged.update(seq=3, prev=json.loads(rows[1])["hash"], details={"flag": "0123456789ab"})
    forged.pop("signature")
    write_lines(ws, [*rows, rehashed(forged)])
    state = verify(ws / LOG_PATH)
    assert state.broken_line == 3 and "resolves flag 0123456789ab, which no earlier entry raised" in state.reason


def test_a_second_resolve_and_a_resolve_on_another_model_break_the_chain(ws: Path) -> None:
    opened = record_flag(ws, "loans", "1.0", by="Ines", scope={"scope": "version"}, text="Odd")
    rows = log_lines(ws)
    resolve = {
        **{k: v for k, v in opened.items() if k not in ("hash", "signature")},
        "seq": 2, "prev": opened["hash"], "outcome": "resolved", "comment": "closed",
        "details": {"flag": flag_id(opened)}, "subject": {**opened["subject"], "model": "mortgages"},
    }  # fmt: skip
    write_lines(ws, [*rows, rehashed(dict(resolve))])
    state = verify(ws / LOG_PATH)
    assert state.broken_line == 2 and "it was raised on loans 1.0" in state.reason

    first = rehashed({**resolve, "subject": opened["subject"]})
    second = rehashed({**resolve, "subject": opened["subject"], "seq": 3, "prev": json.loads(first)["hash"]})
    write_lines(ws, [*rows, first, second])
    state = verify(ws / LOG_PATH)
    assert state.broken_line == 3 and "already resolved by entry 2" in state.reason


def test_a_flag_moved_to_another_model_is_an_edit(flagged: tuple[Path, Signer, str]) -> None:
    ws, _, _ = flagged
    rows = log_lines(ws)
    moved = json.loads(rows[0])
    moved["subject"]["model"] = "mortgages"
    write_lines(ws, [canonical(moved).decode(), *rows[1:]])
    assert "edited" in verify(ws / LOG_PATH).reason
    # re-signed by nobody: with its hash recomputed the signature no longer matches, and the link breaks
    write_lines(ws, [rehashed(moved), *rows[1:]])
    state = verify(ws / LOG_PATH)
    assert state.broken_line == 2


def test_unsigned_resolves_do_not_close_flags_when_signatures_are_required(
    ws: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    signer = Signer(tmp_path / "outside")
    opened = record_flag(
        ws, "loans", "1.0", by=signer.principal, scope={"scope": "version"}, text="Odd",
        sign=signer.sign, time=day("2026-11-02T09:00:00"),
    )  # fmt: skip
    resolve_flag(
        ws, "loans", "1.0", flag_id(opened), by="Someone", note="closed by hand", time=day("2026-11-03T09:00:00")
    )
    (flag,) = flags_of(built(ws, dt.date(2026, 11, 30), signer))
    assert flag.state == "resolved" and flag.resolution.signature == "unsigned"

    # a policy that requires signatures does not count the unsigned resolution
    (ws / "policies" / "feedback.yml").write_text(SIGNED_POLICY)
    found = result_of(built(ws, dt.date(2026, 11, 30), signer))
    assert found.outcome == "fail" and "unsigned resolution does not count" in found.message

    # nor does the CI's setting, which also keeps the flag open on the pages
    (ws / "policies" / "feedback.yml").write_text(POLICY)
    monkeypatch.setenv("MODELGOV_REQUIRE_SIGNATURES", "1")
    manifest = built(ws, dt.date(2026, 11, 30), signer)
    (flag,) = flags_of(manifest)
    assert flag.state == "open" and not flag.resolution.accepted and flag.age_days == 28
    assert result_of(manifest).outcome == "fail"


def test_a_resolve_signed_with_an_unlisted_key_never_closes_a_flag(ws: Path, tmp_path: Path) -> None:
    signer = Signer(tmp_path / "outside")
    mallory = Signer(tmp_path / "mallory")
    opened = record_flag(
        ws, "loans", "1.0", by="Ines", scope={"scope": "version"}, text="Odd", time=day("2026-11-02T09:00:00")
    )
    resolve_flag(
        ws, "loans", "1.0", flag_id(opened), by=signer.principal, note="closed", sign=mallory.sign,
        time=day("2026-11-03T09:00:00"),
    )  # fmt: skip
    (flag,) = flags_of(built(ws, dt.date(2026, 11, 30), signer))
    assert flag.state == "open" and flag.resolution.signature == "invalid" and not flag.resolution.accepted


def test_signatures_cover_the_flag(flagged: tuple[Path, Signer, str]) -> None:
    ws, _, _ = flagged
    entry = json.loads(log_lines(ws)[0])
    from modelgov.decisions.signers import check_signature, read_allowed_signers

    signers = read_allowed_signers(flagged[1].allowed, "allowed_signers", "external")
    ok = check_signature(signers, entry["actor"], signed_message(entry), entry["signature"], day("2026-11-02T09:00:00"))
    assert ok.status == "signed"
    entry["comment"] = "Nothing to see"
    bad = check_signature(
        signers, entry["actor"], signed_message(entry), entry["signature"], day("2026-11-02T09:00:00")
    )
    assert bad.status == "invalid"


# --------------------------------------------------------------------------- policy


def test_the_open_flags_rule_passes_and_fails_with_the_check_date(ws: Path) -> None:
    record_flag(
        ws, "loans", "1.0", by="Ines", scope=window_scope("2026-10-19"), text="Odd", time=day("2026-11-02T09:00:00")
    )
    passing = result_of(built(ws, dt.date(2026, 11, 16)))
    assert passing.outcome == "pass" and passing.checks[0].observed == 14
    failing = result_of(built(ws, dt.date(2026, 11, 17)))
    assert failing.outcome == "fail" and failing.checks[0].observed == 15
    assert "open for 15 days (limit 14 days)" in failing.message

    results = ws.parent / "results.json"
    assert main(["check", str(ws), "--as-of", "2026-11-24", "-q", "--results", str(results)]) == 1
    assert main(["check", str(ws), "--as-of", "2026-11-10", "-q", "--results", str(results)]) == 0


def test_a_resolved_flag_passes_and_evidence_paths_count_open_flags(flagged: tuple[Path, Signer, str]) -> None:
    from modelgov.policy.evidence_index import evidence_index

    ws, signer, _ = flagged
    manifest = built(ws, dt.date(2027, 1, 31), signer)
    assert result_of(manifest).outcome == "pass"
    assert "no flag from the business is open" in result_of(manifest).message
    model = manifest.models[0]
    index = evidence_index(model, model.versions[0], dt.date(2027, 1, 31))
    assert index["flags.open"].value == 0 and index["flags.oldest_open_days"].value == 0
    record_flag(
        ws, "loans", "1.0", by="Ines", scope={"scope": "version"}, text="Still odd", time=day("2026-11-21T09:00:00")
    )
    model = built(ws, dt.date(2026, 11, 24), signer).models[0]
    index = evidence_index(model, model.versions[0], dt.date(2026, 11, 24))
    assert index["flags.open"].value == 1 and index["flags.oldest_open_days"].value == 3


def test_require_signature_goes_with_open_flags_and_approvals_only_among_the_age_limits() -> None:
    from pydantic import ValidationError

    from modelgov.policy.schema import Rule

    Rule(id="r", title="t", max_age_days={"open_flags": 30}, require_signature=True)
    Rule(id="r", title="t", max_age_days={"approvals": 90, "approved_by": ["model_risk"]}, require_signature=True)
    with pytest.raises(ValidationError, match="require_signature goes with"):
        Rule(id="r", title="t", max_age_days={"evaluation": 30}, require_signature=True)


# --------------------------------------------------------------------------- pages


def page_text(path: Path) -> str:
    body = re.sub(r"<[^>]+>", " ", path.read_text(encoding="utf-8"))
    return re.sub(r"\s+", " ", html.unescape(body))


def test_pages_show_open_flags_with_their_age_and_resolved_ones_with_their_note(
    flagged: tuple[Path, Signer, str], tmp_path: Path
) -> None:
    ws, signer, resolved_id = flagged
    opened = record_flag(
        ws, "loans", "1.0", by="Ines <b>Moreau</b>", scope={"scope": "records", "records": ["A-17"]},
        text="Declined **twice** in a week", time=day("2026-11-21T09:00:00"),
    )  # fmt: skip
    site = tmp_path / "site"
    args = ["build", str(ws), "-o", str(site), "-q", "--as-of", "2026-11-24", "--allowed-signers", str(signer.allowed)]
    assert main(args) == 0  # the rule passes: 3 days open, limit 14

    card = page_text(site / "models/loans/1.0/index.html")
    assert "Flags from the business" in card and "1 open flag from the business" in card
    assert "A flag is a note from someone who uses this model's results" in card
    assert f"{flag_id(opened)} audit entry 3 2026-11-21 Ines <b>Moreau</b>" in card  # escaped, shown as text
    assert "<b>Moreau</b>" not in (site / "models/loans/1.0/index.html").read_text()
    assert "record A-17" in card and "3 days" in card
    assert f"{resolved_id} 2026-11-02" in card and "A data feed was late; rescored" in card
    assert "2026-10-19 to 2026-10-25" in card and "after 18 days" in card

    home = page_text(site / "index.html")
    assert "Open flags" in home and "1 open , the oldest 3 days" in home

    compliance = page_text(site / "compliance/index.html")
    assert "Open flags from the business" in compliance and "1 flag is open" in compliance
    assert "Declined **twice** in a week" in compliance and "3 days" in compliance
    assert "A data feed was late" not in compliance  # resolved flags stay on the card


def test_the_monitoring_page_shows_the_flags() -> None:
    from manifest_factory import make_manifest
    from modelgov.manifest import Flag
    from modelgov.render.pages import render_pages

    manifest = make_manifest()
    model = next(m for m in manifest.models if any(v.drift for v in m.versions))
    version = next(v for v in model.versions if v.drift)
    flag = Flag(
        id="0123456789ab", entry=1, by="Ines", time="2026-11-02T09:00:00Z", scope="window", start="2026-10-19",
        end=None, text="Arrears up", state="open", age_days=22,
    )  # fmt: skip
    versions = [v.model_copy(update={"flags": [flag]}) if v is version else v for v in model.versions]
    models = [m.model_copy(update={"versions": versions}) if m is model else m for m in manifest.models]
    pages = {page.path: page.markdown for page in render_pages(manifest.model_copy(update={"models": models}))}
    monitoring = pages[f"models/{model.id}/{version.version}/monitoring.md"]
    assert "## Flags from the business" in monitoring and "A flag is a note from someone" in monitoring
    assert "the window starting 2026-10-19" in monitoring and "**22 days**" in monitoring
    card = pages[f"models/{model.id}/{version.version}/index.md"]
    assert "1 open flag from the business" in card


@pytest.mark.parametrize(("as_of", "state"), [("2026-11-18", "open"), ("2026-11-21", "resolved")])
def test_a_resolution_dated_after_the_check_date_leaves_the_flag_open_on_it(
    flagged: tuple[Path, Signer, str], as_of: str, state: str
) -> None:
    """Checked as of a day before the resolution (a past day, with --as-of), the flag was open then,
    and its age counts to that day, as sign-offs and conditions dated after the check date do not count."""
    ws, signer, _ = flagged
    manifest = built(ws, dt.date.fromisoformat(as_of), signer)
    (flag,) = flags_of(manifest)
    assert flag.state == state and flag.resolution is not None and flag.resolution.accepted
    assert flag.age_days == (16 if state == "open" else 18)
    assert result_of(manifest).outcome == ("fail" if state == "open" else "pass")  # open 16 days of 14 allowed
    from modelgov.render.pages import render_pages

    card = next(p.markdown for p in render_pages(manifest) if p.path == "models/loans/1.0/index.md")
    assert (f"after the check date {as_of}: open on it" in card) is (state == "open")
