"""The promotion record: `modelgov promote` writes the evidence a promotion was decided on into its
audit entry, the pages show it a year later as it was, and every forge of it is detected — an edit
(the chain), an edit re-hashed (the numbers no longer match; the signature fails), a record copied
from another version or other evidence (the chain), evidence changed since (stale, and named)."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from modelgov.assemble import build_manifest
from modelgov.audit import LOG_PATH, canonical, entry_hash, signed_message, verify
from modelgov.cli import main
from modelgov.decisions import commands
from modelgov.decisions.sign import openssh_public_key, sign_with_ed25519
from modelgov.render.pages import render_pages
from modelgov.workspace.load import load_workspace
from test_comparison_policies import AS_OF, workspace

APPROVED = "approvals:\n  - {role: model_risk, by: Rita Reviewer, decision: approved, date: 2026-02-20}\n"


@pytest.fixture(scope="module")
def promoted_once(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """1.1 (fewer false alarms for men) promoted to staging beside the live 1.0, model risk approving:
    made once for the module (the promotion analyses both versions), copied for each test."""
    root = workspace(tmp_path_factory.mktemp("promoted") / "ws", change="fairer")
    (root / "models/loans/versions/1.1/approvals.yml").write_text(APPROVED)
    args = ["promote", str(root), "loans", "1.1", "--to", "staging", "--by", "rita@bank.example"]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(
            commands, "_now", lambda: dt.datetime.combine(AS_OF, dt.time(12), dt.UTC)
        )  # the gate is checked on the day it is recorded
        assert main([*args, "--comment", "Fewer false alarms for men"]) == 0
    return root


@pytest.fixture
def promoted(promoted_once: Path, tmp_path: Path) -> Path:
    """A copy of :func:`promoted_once` for one test to read or change."""
    return Path(shutil.copytree(promoted_once, tmp_path / "ws", symlinks=True))


def lines(root: Path) -> list[dict]:
    return [json.loads(line) for line in (root / LOG_PATH).read_text().splitlines()]


def write_lines(root: Path, entries: list[dict]) -> None:
    (root / LOG_PATH).write_text("".join(canonical(e).decode() + "\n" for e in entries))


def rechain(entries: list[dict], sign=None) -> list[dict]:
    """What anyone who can write the file can do: recompute every link and hash after an edit."""
    previous = "0" * 64
    for seq, entry in enumerate(entries, start=1):
        entry.update(seq=seq, prev=previous)
        entry.pop("hash", None)
        if sign is not None and "signature" in entry:
            entry["signature"] = sign(signed_message(entry))
        entry["hash"] = entry_hash(entry)
        previous = entry["hash"]
    return entries


def version_of(root: Path, name: str, **kwargs):
    built = build_manifest(load_workspace(root), as_of=AS_OF, **kwargs)
    return next(v for v in built.model("loans").versions if v.version == name), built


def test_the_entry_records_the_comparison_policies_and_sign_offs(promoted: Path) -> None:
    [entry] = lines(promoted)
    record = entry["details"]["record"]
    assert record["version"] == "1.1" and record["live"] == "1.0" and record["as_of"] == AS_OF.isoformat()
    assert len(canonical(entry)) < 16_000, "compact: a few kilobytes"
    version, _ = version_of(promoted, "1.1")
    comparison = next(c for c in version.comparisons if c.other_version == "1.0")
    recorded = {m["name"]: m for m in record["comparison"]["metrics"]}
    for delta in comparison.deltas:
        item = recorded[delta.name]
        assert (item["delta"], item["low"], item["high"]) == (delta.delta, delta.interval.low, delta.interval.high)
    sex = next(f for f in comparison.fairness if f.feature == "sex")
    gap = next(g for g in sex.disparities if (g.name, g.method) == ("demographic_parity_difference", "between_groups"))
    recorded_gap = next(g for g in record["comparison"]["gaps"] if (g["feature"], g["name"]) == ("sex", gap.name))
    assert recorded_gap["delta"] == gap.delta and recorded_gap["this_groups"] == gap.this_groups
    assert record["counts"] == {"pass": 2}  # both gates of the workspace's policy
    assert record["sign_offs"] == [
        {"role": "model_risk", "by": "Rita Reviewer", "decision": "approved", "date": "2026-02-20",
         "signature": "unsigned", "evidence": "unbound"}
    ]  # fmt: skip
    [promotion] = version.promotions
    assert promotion.record.comparison.other_version == "1.0"
    assert (promotion.evidence, promotion.changed, promotion.moved) == ("current", [], [])
    assert promotion.comment == "Fewer false alarms for men"


def test_the_card_and_the_model_page_show_the_record(promoted: Path) -> None:
    _, built = version_of(promoted, "1.1")
    pages = {p.path: p.markdown for p in render_pages(built)}
    card = pages["models/loans/1.1/index.md"]
    section = card[card.index("### Promotion record") :]
    assert "#### To staging on" in section and "rita@bank.example promoted the version from candidate" in section
    assert "**Compared with the live version 1&#46;0** on the same 400 rows" in section
    assert "| ROC AUC | 0.995 | 0.992 | +0.003 | +0.001 to +0.007 |" in section
    assert "| Demographic parity difference by sex |" in section
    assert (
        f"**Policies at the decision** (checked as of {AS_OF.isoformat()}): nothing blocked; 2 rule results: 2 passed."
        in section
    )
    assert "| model&#95;risk | approved (2026-02-20) | Rita Reviewer |" in section
    assert "unchanged, and this build's comparison gives the recorded numbers" in section
    history = pages["models/loans/index.md"]
    row = next(line for line in history.splitlines() if "#promotion-record" in line)
    assert "| staging | rita@bank.example | 1&#46;0 | ROC AUC +0.003 (+0.001 to +0.007)" in row
    assert row.endswith("| passed | unchanged |")


def test_evidence_changed_since_the_decision_is_named(promoted: Path) -> None:
    path = promoted / "data" / "holdout-1.1.csv"
    table = pd.read_csv(path)
    table.loc[table.index[:40], "score"] = 1 - table.loc[table.index[:40], "score"]
    table["predicted"] = (table["score"] >= 0.5).astype(int)
    table.to_csv(path, index=False)
    version, built = version_of(promoted, "1.1")
    [promotion] = version.promotions
    assert promotion.evidence == "stale" and promotion.changed == ["data/holdout-1.1.csv"]
    roc = next(line for line in promotion.moved if line.startswith("ROC AUC against 1.0"))
    assert roc.startswith("ROC AUC against 1.0: +0.0033 (+0.0007 to +0.0067) at the promotion, -0.")
    assert promotion.record.comparison.metrics[5].delta == pytest.approx(0.0033, abs=1e-4), "the record is kept"
    card = next(p.markdown for p in render_pages(built) if p.path == "models/loans/1.1/index.md")
    assert '!!! warning "The evidence has changed since this decision"' in card
    assert "changed since" in next(p.markdown for p in render_pages(built) if p.path == "models/loans/index.md")


def test_an_edited_record_breaks_the_chain(promoted: Path) -> None:
    [entry] = lines(promoted)
    entry["details"]["record"]["comparison"]["metrics"][5]["delta"] = 0.05
    write_lines(promoted, [entry])
    state = verify(promoted / LOG_PATH)
    assert not state.ok and state.broken_line == 1 and "hash" in state.reason


def test_an_edited_record_rehashed_no_longer_matches_the_numbers(promoted: Path) -> None:
    [entry] = lines(promoted)
    metrics = entry["details"]["record"]["comparison"]["metrics"]
    auc = next(m for m in metrics if m["name"] == "roc_auc")
    auc.update(delta=0.05, low=0.03, high=0.07)
    write_lines(promoted, rechain([entry]))
    assert verify(promoted / LOG_PATH).ok, "the chain alone cannot tell an unsigned rewrite"
    version, _ = version_of(promoted, "1.1")
    [promotion] = version.promotions
    assert promotion.evidence == "current"
    assert promotion.moved == ["ROC AUC against 1.0: +0.0500 (+0.0300 to +0.0700) at the promotion, "
                               "+0.0033 (+0.0007 to +0.0067) now"]  # fmt: skip


def test_a_signed_record_edited_and_rehashed_loses_its_signature(promoted: Path, tmp_path: Path) -> None:
    key = Ed25519PrivateKey.generate()
    allowed = tmp_path / "outside" / "allowed_signers"
    allowed.parent.mkdir()
    allowed.write_text(f'rita@bank.example namespaces="modelgov" {openssh_public_key(key)} roles=model_risk\n')
    [entry] = lines(promoted)
    entry["signature"] = "placeholder BEGIN SSH SIGNATURE"
    write_lines(promoted, rechain([entry], sign=lambda m: sign_with_ed25519(key, m)))
    version, _ = version_of(promoted, "1.1", allowed_signers=allowed)
    assert version.promotions[0].signature == "signed"
    [entry] = lines(promoted)
    entry["details"]["record"]["counts"] = {"pass": 9}
    write_lines(promoted, rechain([entry]))  # re-hashed, not re-signed: the key is not the forger's
    assert verify(promoted / LOG_PATH).ok
    version, built = version_of(promoted, "1.1", allowed_signers=allowed)
    assert version.promotions[0].signature == "invalid"
    card = next(p.markdown for p in render_pages(built) if p.path == "models/loans/1.1/index.md")
    assert "signature not accepted" in card[card.index("### Promotion record") :]


def forged_promotion(root: Path, version: str, record: dict, evidence: dict) -> list[dict]:
    """The log with a status entry for ``version`` appended by hand, correctly chained."""
    entries = lines(root)
    entries.append(
        {"time": entries[-1]["time"], "actor": "mallory@bank.example", "action": "status",
         "subject": {"model": "loans", "version": version, "evidence": evidence,
                     "file": f"models/loans/versions/{version}/version.yml", "sha256": "0" * 64},
         "outcome": "production", "comment": None, "details": {"from": "staging", "to": "production", "record": record}}
    )  # fmt: skip
    return rechain(entries)


def evidence_of(root: Path, version: str) -> dict[str, str]:
    from modelgov.decisions.evidence import version_evidence

    loaded = load_workspace(root)
    return dict(version_evidence(loaded, "loans", loaded.models["loans"].versions[version]).files)


def test_a_record_of_another_version_breaks_the_chain(promoted: Path) -> None:
    [entry] = lines(promoted)
    write_lines(promoted, forged_promotion(promoted, "1.0", entry["details"]["record"], evidence_of(promoted, "1.0")))
    state = verify(promoted / LOG_PATH)
    assert state.broken_line == 2 and "record of version '1.1', not of the entry's version" in state.reason


def test_a_record_of_other_evidence_breaks_the_chain(promoted: Path) -> None:
    [entry] = lines(promoted)
    record = {**entry["details"]["record"], "version": "1.0", "comparison": None}
    write_lines(promoted, forged_promotion(promoted, "1.0", record, evidence_of(promoted, "1.0")))
    state = verify(promoted / LOG_PATH)
    assert state.broken_line == 2 and "describes other evidence than the entry binds" in state.reason


def test_a_whole_promotion_copied_onto_another_version_is_promoted_on_other_evidence(promoted: Path) -> None:
    [entry] = lines(promoted)
    record = {**entry["details"]["record"], "version": "1.0", "comparison": None}
    write_lines(promoted, forged_promotion(promoted, "1.0", record, entry["subject"]["evidence"]))
    assert verify(promoted / LOG_PATH).ok
    version, _ = version_of(promoted, "1.0")
    forged = version.promotions[-1]
    assert forged.evidence == "stale" and "models/loans/versions/1.1/version.yml" in forged.changed


@pytest.mark.parametrize(
    ("edit", "reason"),
    [
        (lambda r: r["comparison"]["metrics"][0].update(delta="0.9"), "details.record.comparison.metrics.0.delta"),
        (lambda r: r.update(approved=True), "details.record.approved: extra inputs are not permitted"),
        (lambda r: r.pop("evidence_digest"), "details.record.evidence_digest: field required"),
        (lambda r: r["comparison"].update(other_version="1.1"), "compares the version with itself"),
        (lambda r: r.update(blocking="no"), "details.record.blocking"),
    ],
)
def test_a_malformed_record_breaks_the_chain_naming_its_key(promoted: Path, capsys, edit, reason: str) -> None:
    [entry] = lines(promoted)
    edit(entry["details"]["record"])
    write_lines(promoted, rechain([entry]))
    state = verify(promoted / LOG_PATH)
    assert state.broken_line == 1 and reason in state.reason
    assert main(["audit", "verify", str(promoted)]) == 1
    err = capsys.readouterr().err
    assert "log.jsonl:1:" in err and reason in err and "Traceback" not in err


def test_a_record_in_an_approval_entry_breaks_the_chain(promoted: Path) -> None:
    [entry] = lines(promoted)
    approval = {"time": entry["time"], "actor": "rita@bank.example", "action": "approval",
                "subject": {"model": "loans", "version": "1.1", "evidence": entry["subject"]["evidence"]},
                "outcome": "approved", "comment": None,
                "details": {"role": "model_risk", "record": entry["details"]["record"]}}  # fmt: skip
    write_lines(promoted, rechain([entry, approval]))
    state = verify(promoted / LOG_PATH)
    assert state.broken_line == 2 and "belongs to a promotion to staging or production" in state.reason


def test_a_blocked_promotion_records_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = workspace(tmp_path / "ws", change="worse")  # non-inferiority fails; nobody signed off
    monkeypatch.setattr(commands, "_now", lambda: dt.datetime(2026, 3, 1, 12, tzinfo=dt.UTC))
    code = main(["promote", str(root), "loans", "1.1", "--to", "staging", "--by", "anyone"])
    assert code == 1 and not (root / LOG_PATH).exists(), "blocked: nothing is recorded"


def test_a_promotion_cannot_choose_the_day_its_gate_is_checked_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A gate checked on a chosen day passes what blocks today (an expired waiver, a stale sign-off):
    `--as-of` other than the day the promotion is recorded is refused, before anything is written,
    and SOURCE_DATE_EPOCH (which sets a build's date) does not move the gate either."""
    root = workspace(tmp_path / "ws", change="fairer")
    (root / "models/loans/versions/1.1/approvals.yml").write_text(APPROVED)
    (root / "policies" / "fresh.yml").write_text(
        "id: fresh\ntitle: Fresh\nrules:\n  - id: validation-fresh\n    title: Validated within 90 days\n"
        "    max_age_days: {approvals: 90, approved_by: [model_risk]}\n"
    )
    before = (root / "models/loans/versions/1.1/version.yml").read_bytes()
    monkeypatch.setattr(
        commands, "_now", lambda: dt.datetime(2027, 6, 1, 12, tzinfo=dt.UTC)
    )  # the sign-off is stale by then
    args = ["promote", str(root), "loans", "1.1", "--to", "staging", "--by", "rita@bank.example"]
    assert main([*args, "--as-of", AS_OF.isoformat()]) == 2
    assert (
        "a promotion is checked against the policies on the day it is recorded (2027-06-01" in capsys.readouterr().err
    )
    assert (root / "models/loans/versions/1.1/version.yml").read_bytes() == before and not (root / LOG_PATH).exists()
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(int(dt.datetime(2026, 3, 1, tzinfo=dt.UTC).timestamp())))
    assert main(args) == 1, "checked on 2027-06-01, where the freshness rule blocks"
    assert not (root / LOG_PATH).exists()
    monkeypatch.setattr(commands, "_now", lambda: dt.datetime.combine(AS_OF, dt.time(12), dt.UTC))
    assert main(args) == 0, "and on the day it is fresh, it passes"


def test_a_record_checked_on_another_day_than_it_was_recorded_says_so(promoted: Path) -> None:
    """An entry written by hand (or by an older modelgov) can carry a record checked on a chosen day:
    the card says the gate was not checked on the policies of the day the promotion was recorded."""
    [entry] = lines(promoted)
    entry["details"]["record"]["as_of"] = "2026-01-02"
    write_lines(promoted, rechain([entry]))
    _, built = version_of(promoted, "1.1")
    card = next(p.markdown for p in render_pages(built) if p.path == "models/loans/1.1/index.md")
    assert (
        f"**Policies at the decision** (checked as of 2026-01-02, **not on {AS_OF.isoformat()}, the day it was "
        "recorded**: the gate was not checked on the policies of that day): nothing blocked" in card
    )


def test_a_promotion_recorded_without_a_record_says_so(promoted: Path) -> None:
    [entry] = lines(promoted)
    del entry["details"]["record"]
    write_lines(promoted, rechain([entry]))
    version, built = version_of(promoted, "1.1")
    assert version.promotions[0].record is None
    card = next(p.markdown for p in render_pages(built) if p.path == "models/loans/1.1/index.md")
    assert "recorded without a summary of its evidence" in card
    history = next(p.markdown for p in render_pages(built) if p.path == "models/loans/index.md")
    assert "| not recorded |" in history


def test_a_demotion_keeps_no_record(promoted: Path) -> None:
    assert main(["promote", str(promoted), "loans", "1.1", "--to", "retired", "--by", "rita@bank.example"]) == 0
    assert "record" not in lines(promoted)[-1]["details"]
    version, _ = version_of(promoted, "1.1")
    assert [p.to_status for p in version.promotions] == ["staging"]
    assert dt.date.fromisoformat(version.promotions[0].time[:10])


def test_a_signed_override_records_what_blocked_it(tmp_path: Path) -> None:
    from cryptography.hazmat.primitives import serialization

    root = workspace(tmp_path / "ws", change="worse")  # non-inferiority fails; nobody signed off
    key = Ed25519PrivateKey.generate()
    folder = tmp_path / "outside"
    folder.mkdir()
    key_file = folder / "carol"
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption())
    )
    key_file.chmod(0o600)
    allowed = folder / "allowed_signers"
    allowed.write_text(f'carol@bank.example namespaces="modelgov" {openssh_public_key(key)} roles=override\n')
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(commands, "_now", lambda: dt.datetime.combine(AS_OF, dt.time(12), dt.UTC))
        code = main(["promote", str(root), "loans", "1.1", "--to", "staging", "--by", "carol@bank.example",
                     "--override", "Committee decision RISK-9", "--key", str(key_file),
                     "--allowed-signers", str(allowed)])  # fmt: skip
    assert code == 0
    record = lines(root)[-1]["details"]["record"]
    assert record["blocking"] is True
    assert {r["rule"] for r in record["results"]} == {
        "champion-challenger/non-inferior-auc",
        "champion-challenger/wide-variation",
    }
    version, built = version_of(root, "1.1", allowed_signers=allowed)
    [promotion] = version.promotions
    assert promotion.signature == "signed" and promotion.override_reason == "Committee decision RISK-9"
    card = next(p.markdown for p in render_pages(built) if p.path == "models/loans/1.1/index.md")
    section = card[card.index("### Promotion record") :]
    assert '!!! danger "Over a blocked policy gate"' in section and "the gate blocked" in section
    assert "champion-challenger/non-inferior-auc" in section


def test_the_audit_trail_links_a_promotion_to_its_record(promoted: Path) -> None:
    _, built = version_of(promoted, "1.1")
    trail = next(p.markdown for p in render_pages(built) if p.path == "audit.md")
    assert "[what it was decided on](models/loans/1.1/index.md#promotion-record)" in trail


def test_hostile_text_in_a_record_is_shown_as_text(promoted: Path) -> None:
    [entry] = lines(promoted)
    record = entry["details"]["record"]
    record["comparison"]["metrics"][0]["label"] = "<script>alert(1)</script>"
    record["comparison"]["dataset"] = "x` <img src=x onerror=alert(1)> `"
    record["results"] = [{"rule": "p/r", "outcome": "<b>fail</b>", "message": "[click](javascript:alert(1)) | col"}]
    record["counts"] = {"<i>x</i>": 1}
    record["sign_offs"][0]["by"] = "<iframe src=//evil>"
    write_lines(promoted, rechain([entry]))
    _, built = version_of(promoted, "1.1")
    pages = {p.path: p.markdown for p in render_pages(built)}
    for page in (pages["models/loans/1.1/index.md"], pages["models/loans/index.md"]):
        for live in ("<script>alert", "<img src=x", "<iframe src", "<b>fail", "<i>x</i>", "](javascript:"):
            assert live not in page
    assert "alert(1)" in pages["models/loans/1.1/index.md"], "shown, as text"


def test_the_record_keeps_the_shadow_and_ab_results_of_the_demo(demo_build) -> None:
    """The demo's credit 2.0 runs in shadow beside 1.1 and churn 1.2 in an A/B test against 1.1: a
    promotion of either would record the test's summary as the build described it."""
    from modelgov import manifest as manifest_io
    from modelgov.decisions.promotion_record import promotion_record, record_json, shape_problem

    built = manifest_io.read(demo_build.site / "manifest.json")
    credit = next(v for v in built.model("credit-default").versions if v.version == "2.0")
    record = promotion_record(built, "credit-default", "2.0", credit.evidence.digest, set())
    assert record.shadow["overall.agreement"] == credit.shadow.overall.agreement
    assert record.shadow["overall.agreement_interval.low"] == credit.shadow.overall.agreement_interval.low
    assert record.live == "1.1" and record.comparison.other_version == "1.1"
    churn = next(v for v in built.model("customer-churn").versions if v.version == "1.2")
    record = promotion_record(built, "customer-churn", "1.2", churn.evidence.digest, set())
    assert record.experiment["posterior.probability_better"] == churn.experiment.posterior.probability_better
    assert record.experiment["horizon.at_horizon"] is False
    entry = {
        "action": "status", "outcome": "staging", "details": {"record": record_json(record)},
        "subject": {"model": "customer-churn", "version": "1.2",
                    "evidence": {f.path: f.sha256 for f in churn.evidence.files}},
    }  # fmt: skip
    assert shape_problem(entry) is None
    assert len(canonical(entry)) < 32_000


def test_a_record_citing_entries_that_are_other_decisions_is_said_to_be_so(monkeypatch) -> None:
    """An unsigned status entry can be appended by anyone who computes its hash, with a record that
    cites earlier entries as signed approvals: each cited entry is checked (an earlier sign-off of this
    version, by that person, in that role, with that decision, signed if the record says so), and the
    card names every one that is not."""
    from modelgov import manifest
    from modelgov.decisions.promotion_review import cited_sign_offs

    def entry(seq: int, action: str, actor: str, outcome: str, role: str | None = None) -> dict:
        return {
            "seq": seq,
            "action": action,
            "actor": actor,
            "outcome": outcome,
            "details": {"role": role} if role else {},
        }

    entries = [
        entry(1, "approval", "priya@acme.example", "approved", "model_risk"),
        entry(2, "status", "dana@acme.example", "production"),
        entry(3, "approval", "tomas@acme.example", "rejected", "compliance"),
    ]
    promotion = entry(4, "status", "mallory", "production")

    def signed(role: str, by: str, decision: str, at: int | None, signature: str = "unsigned"):
        return manifest.RecordedSignOff(
            role=role,
            by=by,
            decision=decision,
            date="2026-11-20",
            entry=at,
            signature=signature,
            evidence="current" if at is not None or signature == "signed" else "unbound",
        )

    record = manifest.PromotionRecord(
        version="2.0",
        as_of="2026-11-24",
        evidence_digest="0" * 64,
        blocking=False,
        sign_offs=[
            signed("model_risk", "priya@acme.example", "approved", 1),  # matches, unsigned as recorded
            signed("compliance", "tomas@acme.example", "approved", 2),  # entry 2 is a status change
            signed("compliance", "tomas@acme.example", "approved", 3),  # entry 3 is a rejection
            signed("model_risk", "priya@acme.example", "approved", 1, "signed"),  # entry 1 is not signed
            signed("ethics", "eve", "approved", 9),  # no such entry
            signed("owner", "olga", "approved", None),  # from approvals.yml: nothing to check
            signed("ethics", "eve", "approved", None, "signed"),  # no entry, yet signed: forged
        ],
    )
    import modelgov.decisions.review as review

    verified = type("Checked", (), {"status": "unsigned", "reason": None})()
    monkeypatch.setattr(review, "signature_of", lambda entry, signers, role: verified)
    problems = cited_sign_offs(record, promotion, entries, object())  # entry 1's signature does not verify
    assert problems == [
        "the compliance sign-off by tomas@acme.example cites audit entry 2, which is no earlier sign-off of this version",
        "the compliance sign-off by tomas@acme.example cites audit entry 3, which records rejected by "
        "tomas@acme.example as compliance",
        "the model_risk sign-off by priya@acme.example cites audit entry 1 as signed; that entry's signature does "
        "not verify",
        "the ethics sign-off by eve cites audit entry 9, which is no earlier sign-off of this version",
        "the ethics sign-off by eve cites no audit entry, yet is recorded as signed: only a sign-off in the audit "
        "log can be",
    ]
    # without an allowed-signers file no signature is verified, so none is held against the record
    assert not [p for p in cited_sign_offs(record, promotion, entries, None) if "does not verify" in p]
    later = entry(5, "approval", "priya@acme.example", "approved", "model_risk")
    too_late = record.model_copy(update={"sign_offs": [signed("model_risk", "priya@acme.example", "approved", 5)]})
    assert cited_sign_offs(too_late, promotion, [*entries, later], object()) == [
        "the model_risk sign-off by priya@acme.example cites audit entry 5, which is no earlier sign-off of this version"
    ]


def test_the_card_warns_before_a_record_whose_sign_offs_are_not_the_logs() -> None:
    from manifest_factory import make_manifest
    from modelgov import manifest
    from modelgov.render.page_paths import version_path
    from modelgov.render.pages import render_pages

    built = make_manifest()
    model = built.models[0]
    record = manifest.PromotionRecord(
        version=model.versions[0].version, as_of="2026-11-24", evidence_digest="0" * 64, blocking=False
    )
    promotion = manifest.Promotion(
        entry=4, by="mallory", time="2026-11-20T10:00:00Z", to_status="production", record=record,
        record_problems=["the compliance sign-off by tomas cites audit entry 2, which is no earlier sign-off of this version"],
    )  # fmt: skip
    version = model.versions[0].model_copy(update={"promotions": [promotion]})
    built.models[0] = model.model_copy(update={"versions": [version, *model.versions[1:]]})
    card = {p.path: p.markdown for p in render_pages(built)}[version_path(built.models[0], version)]
    assert "This record's sign-offs are not the audit log's" in card
    assert "this entry is not signed: anyone who can change the workspace could have written it" in card


@pytest.mark.parametrize("model_file_changed", [True, False])
def test_a_promotion_on_other_evidence_says_whether_the_model_file_itself_changed(model_file_changed: bool) -> None:
    """A new evaluation added after a promotion leaves the same model in production: the card says the
    gate was passed on other evidence, not that another model is live; a changed model file is."""
    from manifest_factory import make_manifest
    from modelgov.manifest import StatusChange
    from modelgov.render.caveat_views import caveats
    from modelgov.render.pages import render_pages

    built = make_manifest()
    model = built.models[0]
    version = next(v for v in model.versions if v.status == "production")
    assert version.training.artifact is not None
    changed = ["data/credit-default/holdout-2024q3.parquet"]
    if model_file_changed:
        changed.append(version.training.artifact.path)
    change = StatusChange(
        entry=4, by="Dana", date="2024-05-10", from_status="staging", to_status="production", evidence="stale",
        changed=changed,
    )  # fmt: skip
    moved = version.model_copy(update={"status_change": change})
    models = [model.model_copy(update={"versions": [moved if v is version else v for v in model.versions]})]
    built = built.model_copy(update={"models": [*models, *built.models[1:]]})
    card = next(p.markdown for p in render_pages(built) if p.path == f"models/{model.id}/{version.version}/index.md")
    exported = " ".join(c.text for c in caveats(built, models[0], moved))
    assert "Promoted on other evidence" in card and "Promoted on other evidence" in exported
    if model_file_changed:
        assert "the model file itself changed, so what is in production is not what passed the gate" in card
        assert "the model file itself changed" in exported
    else:
        assert "The model file is unchanged: check the promotion against what changed" in card
        assert "not what passed the gate" not in card and "The model file is unchanged" in exported
