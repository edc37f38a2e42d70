"""Red team: forging a verdict through the decisions — sign-offs, the audit log, promotions.

Each test is a hostile contributor's attempt (someone who can write the workspace in a pull request)
and asserts that it is detected: a forged, replayed or re-keyed signature is *not accepted*, a sign-off
whose evidence changed is *stale*, a future-dated or malformed entry breaks the chain at its line, a
truncated or rewritten log is found against the published manifest, and a blocked version cannot be
promoted without a signed override. Signatures are made by ``ssh-keygen -Y sign`` (as git makes
them) where OpenSSH is installed, else in Python in the same format.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
import subprocess
from pathlib import Path
from typing import ClassVar

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from modelgov import manifest
from modelgov.audit import LOG_PATH, canonical, entry_hash, signed_message, verify
from modelgov.cli import main
from modelgov.decisions.sign import openssh_public_key, sign_with_ed25519
from workspace_factory import edit, write_workspace

pytestmark = pytest.mark.redteam

VERSION_FILE = "models/loans/versions/1.0/version.yml"
SSH_KEYGEN = shutil.which("ssh-keygen")
needs_ssh = pytest.mark.skipif(SSH_KEYGEN is None, reason="ssh-keygen (OpenSSH) is not installed")

SIGNED_GATE = """\
id: gate
title: Release gate
rules:
  - id: signed-model-risk
    title: Model Risk signed off, with a signature
    approved_by: [model_risk]
    require_signature: true
  - id: through-the-gate
    title: Promoted with modelgov promote
    status_recorded: true
    severity: warning
"""


class Keys:
    """Ed25519 keys for the test's people, an allowed-signers file outside the workspace, and a way
    to sign as any of them (private keys in a folder outside the workspace)."""

    ROLES: ClassVar[dict[str, str]] = {
        "alice@bank.example": "model_risk",
        "carol@bank.example": "override",
        "mallory@bank.example": "none",
    }

    def __init__(self, folder: Path):
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        self.private = {p: Ed25519PrivateKey.generate() for p in self.ROLES}
        self.allowed = folder / "allowed_signers"
        self.allowed.write_text(
            "".join(
                f'{p} namespaces="modelgov" {openssh_public_key(k)} roles={self.ROLES[p]}\n'
                for p, k in self.private.items()
            )
        )

    def key_file(self, principal: str) -> Path:
        """The private key as an OpenSSH key file, for ``--key``."""
        from cryptography.hazmat.primitives import serialization

        path = self.folder / principal.split("@")[0]
        if not path.exists():
            data = self.private[principal].private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption()
            )
            path.write_bytes(data)
            path.chmod(0o600)
        return path

    def sign(self, principal: str, message: bytes) -> str:
        return sign_with_ed25519(self.private[principal], message)


@pytest.fixture
def keys(tmp_path: Path) -> Keys:
    return Keys(tmp_path / "outside" / "keys")


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    root = write_workspace(tmp_path / "ws")
    (root / "policies").mkdir()
    (root / "policies" / "gate.yml").write_text(SIGNED_GATE)
    return root


def check(root: Path, tmp: Path, keys: Keys | None, *extra: str) -> tuple[int, dict]:
    results = tmp / "results.json"
    args = ["check", str(root), "--results", str(results), "-q", *extra]
    if keys is not None:
        args += ["--allowed-signers", str(keys.allowed)]
    code = main(args)
    return code, json.loads(results.read_text())


def result(results: dict, rule: str) -> dict:
    return next(r for r in results["results"] if r["rule"] == rule)


def lines(root: Path) -> list[dict]:
    return [json.loads(line) for line in (root / LOG_PATH).read_text().splitlines()]


def write_lines(root: Path, entries: list[dict]) -> None:
    (root / LOG_PATH).write_text("".join(canonical(e).decode() + "\n" for e in entries))


def forge(root: Path, **fields) -> dict:
    """Append an entry by hand, correctly chained, as anyone who can write the file can."""
    entries = lines(root) if (root / LOG_PATH).exists() else []
    entry = {
        "seq": len(entries) + 1,
        "time": "2026-02-01T10:00:00Z",
        "actor": "alice@bank.example",
        "action": "approval",
        "subject": {"model": "loans", "version": "1.0", "evidence": current_evidence(root)},
        "outcome": "approved",
        "comment": None,
        "details": {"role": "model_risk"},
        "prev": entries[-1]["hash"] if entries else "0" * 64,
    }
    entry.update(fields)
    signer = entry.pop("_sign_with", None)
    if signer is not None:
        entry["signature"] = signer(signed_message(entry))
    entry["hash"] = entry_hash(entry)
    (root / LOG_PATH).parent.mkdir(exist_ok=True)
    write_lines(root, [*entries, entry])
    return entry


def current_evidence(root: Path) -> dict[str, str]:
    """What ``modelgov approve`` binds: the version's evidence as the workspace holds it now."""
    from modelgov.decisions.evidence import version_evidence
    from modelgov.workspace.load import load_workspace

    workspace = load_workspace(root)
    return dict(version_evidence(workspace, "loans", workspace.models["loans"].versions["1.0"]).files)


def approve(root: Path, keys: Keys, principal: str = "alice@bank.example", *extra: str) -> int:
    return main(
        ["approve", str(root), "loans", "1.0", "--role", "model_risk", "--by", principal,
         "--key", str(keys.key_file(principal)), "--allowed-signers", str(keys.allowed), *extra]
    )  # fmt: skip


# --------------------------------------------------------------------------- the honest path


@needs_ssh
def test_a_signed_sign_off_counts_and_ssh_keygen_verifies_it(ws: Path, keys: Keys, tmp_path: Path) -> None:
    assert approve(ws, keys) == 0
    entry = lines(ws)[-1]
    assert "BEGIN SSH SIGNATURE" in entry["signature"]
    assert set(entry["subject"]["evidence"]) >= {"data/holdout.csv", VERSION_FILE, "models/loans/model.yml"}
    # the tool teams already trust agrees: ssh-keygen -Y verify on the same bytes and allowed-signers file
    (tmp_path / "sig").write_text(entry["signature"])
    verified = subprocess.run(
        [SSH_KEYGEN, "-Y", "verify", "-f", str(keys.allowed), "-I", "alice@bank.example", "-n", "modelgov",
         "-s", str(tmp_path / "sig")],
        input=signed_message(entry), capture_output=True, check=False,
    )  # fmt: skip
    assert verified.returncode == 0, verified.stderr
    _code, results = check(ws, tmp_path, keys)
    assert result(results, "signed-model-risk")["outcome"] == "pass"


def test_python_signatures_are_the_format_ssh_keygen_verifies(keys: Keys, tmp_path: Path) -> None:
    if SSH_KEYGEN is None:
        pytest.skip("ssh-keygen (OpenSSH) is not installed")
    message = b"an entry"
    (tmp_path / "sig").write_text(keys.sign("alice@bank.example", message))
    done = subprocess.run(
        [SSH_KEYGEN, "-Y", "verify", "-f", str(keys.allowed), "-I", "alice@bank.example", "-n", "modelgov",
         "-s", str(tmp_path / "sig")],
        input=message, capture_output=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr


# --------------------------------------------------------------------------- forged sign-offs


def test_an_unsigned_entry_by_an_impressive_name_does_not_satisfy_a_signed_rule(
    ws: Path, keys: Keys, tmp_path: Path
) -> None:
    forge(ws, actor="Chief Risk Officer")
    code, results = check(ws, tmp_path, keys)
    found = result(results, "signed-model-risk")
    assert found["outcome"] == "fail" and "unsigned" in found["message"] and code == 1


def sign_with_the_pull_requests_own_key(ws: Path) -> None:
    """What a hostile pull request can do: list its own key as alice's in the workspace's
    allowed_signers, name that file in governance.yml, and append a sign-off signed with it."""
    intruder = Ed25519PrivateKey.generate()
    (ws / "audit").mkdir()
    (ws / "audit" / "allowed_signers").write_text(
        f"alice@bank.example {openssh_public_key(intruder)} roles=model_risk\n"
    )
    edit(ws, "governance.yml", "title:", "signing:\n  allowed_signers: audit/allowed_signers\ntitle:")
    forge(ws, _sign_with=lambda m: sign_with_ed25519(intruder, m))


def test_a_signature_by_a_key_the_ci_does_not_list_is_not_accepted(ws: Path, keys: Keys, tmp_path: Path) -> None:
    """The pull request adds its own key to the workspace's allowed_signers; CI passes its own file."""
    sign_with_the_pull_requests_own_key(ws)
    _, results = check(ws, tmp_path, keys)
    assert result(results, "signed-model-risk")["outcome"] == "fail"
    # without the CI's file the workspace's own file vouches for the intruder: the audit page says whose
    # file it was (test_the_signers_origin_is_recorded), which is why CI should pass its own
    _, results = check(ws, tmp_path, None)
    assert result(results, "signed-model-risk")["outcome"] == "pass"


def test_the_signers_origin_is_recorded(ws: Path, keys: Keys, tmp_path: Path) -> None:
    forge(ws, _sign_with=lambda m: keys.sign("alice@bank.example", m))
    assert main(["build", str(ws), "-o", str(tmp_path / "site"), "-q", "--allowed-signers", str(keys.allowed)]) == 0
    built = manifest.read(tmp_path / "site" / "manifest.json")
    assert built.audit.signers.origin == "external"
    approval = next(a for a in built.model("loans").versions[0].approvals if a.entry == 1)
    assert approval.signature == "signed" and approval.evidence == "current"
    page = (tmp_path / "site" / "audit.html").read_text()
    assert "given by the CI from outside the workspace" in page


@pytest.mark.parametrize(
    ("case", "principal", "signer", "why"),
    [
        ("someone-elses-key", "alice@bank.example", "mallory@bank.example", "does not list this key"),
        ("signer-without-the-role", "mallory@bank.example", "mallory@bank.example", "does not hold the role"),
    ],
)
def test_a_signature_by_the_wrong_person_or_role_is_not_accepted(
    ws: Path, keys: Keys, tmp_path: Path, case: str, principal: str, signer: str, why: str
) -> None:
    forge(ws, actor=principal, _sign_with=lambda m: keys.sign(signer, m))
    _code, results = check(ws, tmp_path, keys)
    found = result(results, "signed-model-risk")
    assert found["outcome"] == "fail" and why in found["message"], found["message"]


def test_a_signature_replayed_onto_another_entry_is_not_accepted(ws: Path, keys: Keys, tmp_path: Path) -> None:
    first = forge(ws, outcome="rejected", _sign_with=lambda m: keys.sign("alice@bank.example", m))
    forge(ws, time="2026-02-02T10:00:00Z", signature=first["signature"])
    _code, results = check(ws, tmp_path, keys)
    found = result(results, "signed-model-risk")
    assert found["outcome"] == "fail" and "does not verify" in found["message"]


def test_an_entry_edited_after_signing_and_rehashed_is_not_accepted(ws: Path, keys: Keys, tmp_path: Path) -> None:
    entry = forge(ws, outcome="rejected", _sign_with=lambda m: keys.sign("alice@bank.example", m))
    entry["outcome"] = "approved"
    entry["hash"] = entry_hash(entry)
    write_lines(ws, [entry])
    assert verify(ws / LOG_PATH).ok  # the chain alone cannot tell: the signature can
    _code, results = check(ws, tmp_path, keys)
    assert result(results, "signed-model-risk")["outcome"] == "fail"


def test_a_signature_made_for_git_is_not_a_modelgov_signature(ws: Path, keys: Keys, tmp_path: Path) -> None:
    import sshsig  # noqa: F401 - the namespace is checked by sshsig

    def git_signature(message: bytes) -> str:
        from modelgov.decisions import sign as signing

        original = signing.NAMESPACE
        try:
            signing.NAMESPACE = "git"
            return signing.sign_with_ed25519(keys.private["alice@bank.example"], message)
        finally:
            signing.NAMESPACE = original

    forge(ws, _sign_with=git_signature)
    _code, results = check(ws, tmp_path, keys)
    assert result(results, "signed-model-risk")["outcome"] == "fail"


def test_an_expired_key_does_not_sign(ws: Path, keys: Keys, tmp_path: Path) -> None:
    text = keys.allowed.read_text().replace('namespaces="modelgov"', 'namespaces="modelgov",valid-before="20260101"', 1)
    keys.allowed.write_text(text)
    forge(ws, _sign_with=lambda m: keys.sign("alice@bank.example", m))
    _code, results = check(ws, tmp_path, keys)
    found = result(results, "signed-model-risk")
    assert found["outcome"] == "fail" and "expired" in found["message"]


def test_a_broken_allowed_signers_file_is_named_with_its_line(ws: Path, keys: Keys, tmp_path: Path) -> None:
    keys.allowed.write_text(keys.allowed.read_text() + "bob@bank.example ssh-ed25519 not-base64!\n")
    code = main(["check", str(ws), "--results", str(tmp_path / "r.json"), "-q", "--allowed-signers", str(keys.allowed)])
    assert code == 2


@needs_ssh
def test_an_ecdsa_key_is_refused_when_signing_not_trusted(ws: Path, keys: Keys, tmp_path: Path) -> None:
    key = tmp_path / "outside" / "ecdsa"
    subprocess.run([SSH_KEYGEN, "-q", "-t", "ecdsa", "-N", "", "-f", str(key)], check=True)
    code = main(
        ["approve", str(ws), "loans", "1.0", "--role", "model_risk", "--by", "alice@bank.example",
         "--key", str(key), "--allowed-signers", str(keys.allowed)]
    )  # fmt: skip
    assert code == 2 and not (ws / LOG_PATH).exists()


@needs_ssh
def test_approve_refuses_a_key_that_would_not_be_accepted(ws: Path, keys: Keys, capsys) -> None:
    assert approve(ws, keys, "mallory@bank.example") == 2
    assert "does not hold the role 'model_risk'" in capsys.readouterr().err
    assert not (ws / LOG_PATH).exists()


# --------------------------------------------------------------------------- stale evidence


@needs_ssh
@pytest.mark.parametrize(
    ("case", "change"),
    [
        (
            "evaluation-table",
            lambda ws: (ws / "data/holdout.csv").write_text((ws / "data/holdout.csv").read_text() + "\n"),
        ),
        ("model-card", lambda ws: edit(ws, "models/loans/model.yml", "Ranking applications", "Deciding applications")),
        ("version-record", lambda ws: edit(ws, VERSION_FILE, "summary: First version.", "summary: Retrained.")),
        ("datasheet", lambda ws: edit(ws, "datasets/loans-holdout.yml", "name:", "known_gaps: none\nname:")),
    ],
)
def test_a_sign_off_is_stale_when_its_evidence_changes(ws: Path, keys: Keys, tmp_path: Path, case: str, change) -> None:
    assert approve(ws, keys) == 0
    change(ws)
    _code, results = check(ws, tmp_path, keys)
    found = result(results, "signed-model-risk")
    assert found["outcome"] == "fail" and "stale: evidence changed since sign-off" in found["message"], found


@needs_ssh
def test_a_stale_sign_off_takes_the_roles_older_unbound_ones_with_it(ws: Path, keys: Keys, tmp_path: Path) -> None:
    """The workspace's approvals.yml holds an unsigned model_risk approval that names no evidence (Rita,
    2026-01-25). A signed, bound one made later went stale when the evaluation table changed, and the
    rule that does not ask for signatures then passed on Rita's older one, of which less is known: it
    was made on evidence at least as old as the stale one's. It no longer counts."""
    edit(
        ws,
        "policies/gate.yml",
        "rules:\n",
        "rules:\n  - {id: any-model-risk, title: Model Risk signed off, approved_by: [model_risk]}\n",
    )
    _code, results = check(ws, tmp_path, keys)
    assert result(results, "any-model-risk")["outcome"] == "pass"  # on Rita's approval, before anything else
    assert approve(ws, keys) == 0
    (ws / "data/holdout.csv").write_text((ws / "data/holdout.csv").read_text() + "\n")
    _code, results = check(ws, tmp_path, keys)
    found = result(results, "any-model-risk")
    assert found["outcome"] == "fail", found
    assert "the latest model_risk sign-off (alice@bank.example" in found["message"]
    assert "stale: evidence changed since sign-off (data/holdout.csv)" in found["message"]
    assert approve(ws, keys) == 0  # signed again on the evidence as it is now: it counts
    _code, results = check(ws, tmp_path, keys)
    assert result(results, "any-model-risk")["outcome"] == "pass"


@needs_ssh
def test_a_stale_rejection_takes_the_earlier_approval_with_it_when_the_data_is_put_back(
    ws: Path, keys: Keys, tmp_path: Path
) -> None:
    """Alice approved the table, it changed, and she rejected it, all signed. Putting the first table
    back made her rejection stale and her approval current again, and the rule passed: she has not said
    the first table is good again. A fix she approves after her rejection counts, on the same day too."""
    holdout = ws / "data/holdout.csv"
    first = holdout.read_text()
    assert approve(ws, keys) == 0
    holdout.write_text(first + "\n")
    assert approve(ws, keys, "alice@bank.example", "--decision", "rejected") == 0
    holdout.write_text(first)  # put back: the approval is bound to these bytes again
    _code, results = check(ws, tmp_path, keys)
    found = result(results, "signed-model-risk")
    assert found["outcome"] == "fail", found
    assert approve(ws, keys) == 0  # approved again, after the rejection, in the log's order
    _code, results = check(ws, tmp_path, keys)
    assert result(results, "signed-model-risk")["outcome"] == "pass"


@needs_ssh
def test_promotion_does_not_make_sign_offs_stale(ws: Path, keys: Keys, tmp_path: Path) -> None:
    edit(ws, VERSION_FILE, "status: production", "status: staging")
    assert approve(ws, keys) == 0
    assert main(["promote", str(ws), "loans", "1.0", "--to", "production", "--by", "alice@bank.example",
                 "--key", str(keys.key_file("alice@bank.example")), "--allowed-signers", str(keys.allowed)]) == 0  # fmt: skip
    code, results = check(ws, tmp_path, keys)
    assert code == 0
    assert result(results, "signed-model-risk")["outcome"] == "pass"
    assert result(results, "through-the-gate")["outcome"] == "pass"


# --------------------------------------------------------------------------- conditions of approval

CONDITIONS_GATE = """\
id: conditions
title: Conditions of approval
rules:
  - id: none-overdue
    title: No condition of approval overdue
    evidence: approvals.model_risk.conditions_overdue
    require: {"<=": 0}
"""


def _conditions_result(ws: Path, tmp_path: Path, keys: Keys | None, as_of: dt.date) -> dict:
    _code, results = check(ws, tmp_path, keys, "--as-of", as_of.isoformat())
    return result(results, "none-overdue")


@needs_ssh
def test_a_signed_condition_is_met_only_by_a_signed_entry_of_its_role(ws: Path, keys: Keys, tmp_path: Path) -> None:
    """A condition written with the signed sign-off cannot be deleted or marked met by editing a file:
    it is met by a `modelgov condition` entry signed by a holder of the sign-off's role. One signed by
    someone without the role, or naming another role, marks nothing."""
    (ws / "policies" / "conditions.yml").write_text(CONDITIONS_GATE)
    today = dt.datetime.now(dt.UTC).date()
    due = today + dt.timedelta(days=30)
    assert approve(ws, keys, "alice@bank.example", "--condition", due.isoformat(), "Quarterly review of the gap.",
                   "--condition", "standing", "Re-validate if the default rate moves.") == 0  # fmt: skip
    [entry] = [e for e in lines(ws) if e["action"] == "approval"]
    assert entry["details"]["conditions"][1] == {"text": "Re-validate if the default rate moves.", "due": None}
    later = today + dt.timedelta(days=60)
    found = _conditions_result(ws, tmp_path, keys, later)
    assert (found["outcome"], found["checks"][0]["observed"]) == ("fail", 1)

    def meet(principal: str, *extra: str) -> int:
        return main(["condition", str(ws), "loans", "1.0", "--entry", str(entry["seq"]), "--number", "1",
                     "--by", principal, "--note", "Review MR-Q1 filed.", *extra])  # fmt: skip

    # mallory holds no model_risk role: her signed record is not accepted, and a hand-made entry naming
    # another role is not this condition's record at all
    forge(ws, action="condition", actor="mallory@bank.example", outcome="met", comment="done",
          time=lines(ws)[-1]["time"], subject={"model": "loans", "version": "1.0"},
          details={"approval": entry["seq"], "condition": 1, "role": "model_risk"},
          _sign_with=lambda m: keys.sign("mallory@bank.example", m))  # fmt: skip
    forge(ws, action="condition", actor="alice@bank.example", outcome="met", comment="done",
          time=lines(ws)[-1]["time"], subject={"model": "loans", "version": "1.0"},
          details={"approval": entry["seq"], "condition": 1, "role": "model_owner"})  # fmt: skip
    # and an unsigned record, with the right role, which anyone who can write the log can append
    forge(ws, action="condition", actor="mallory@bank.example", outcome="met", comment="done",
          time=lines(ws)[-1]["time"], subject={"model": "loans", "version": "1.0"},
          details={"approval": entry["seq"], "condition": 1, "role": "model_risk"})  # fmt: skip
    assert _conditions_result(ws, tmp_path, keys, later)["outcome"] == "fail"
    assert meet("alice@bank.example") == 2  # the sign-off is signed: a record of it met must be too
    assert meet("alice@bank.example", "--key", str(keys.key_file("alice@bank.example")),
                "--allowed-signers", str(keys.allowed)) == 0  # fmt: skip
    found = _conditions_result(ws, tmp_path, keys, later)
    assert (found["outcome"], found["checks"][0]["observed"]) == ("pass", 0)
    site = tmp_path / "site"
    main(["build", str(ws), "-o", str(site), "-q", "--no-cache", "-j", "1", "--allowed-signers", str(keys.allowed),
          "--as-of", later.isoformat()])  # fmt: skip
    card = (site / "models/loans/1.0/index.html").read_text()
    assert f"signed, audit entry {lines(ws)[-1]['seq']}" in card
    assert f"audit entry {entry['seq']}, signed, condition 2" in card  # the standing one, still open
    # built without the allowed signers, no signature can be checked: the conditions are still owed,
    # and the record of the first met no longer counts (they fail closed)
    found = _conditions_result(ws, tmp_path, None, later)
    assert (found["outcome"], found["checks"][0]["observed"]) == ("fail", 1)


def test_a_role_that_reads_as_the_policys_is_refused_by_approve(ws: Path, capsys) -> None:
    assert main(["approve", str(ws), "loans", "1.0", "--role", "Model_Risk", "--by", "a"]) == 2
    assert "--role 'Model_Risk' reads as 'model_risk', which policy 'gate' reads" in capsys.readouterr().err
    assert not (ws / LOG_PATH).exists()


def test_a_condition_entry_the_command_would_refuse_is_refused(ws: Path, tmp_path: Path, capsys) -> None:
    forge(ws, details={"role": "model_risk", "conditions": [{"text": "Review.", "due": "2026-03-01"}]})
    args = ["condition", str(ws), "loans", "1.0", "--entry", "1", "--by", "alice@bank.example", "--note", "x"]
    assert main([*args, "--number", "2"]) == 2
    assert "entry 1 has 1 condition(s); there is no number 2" in capsys.readouterr().err
    assert (
        main(["condition", str(ws), "loans", "1.0", "--entry", "9", "--number", "1", "--by", "a", "--note", "x"]) == 2
    )
    assert "entry 9 is not a sign-off" in capsys.readouterr().err
    assert main(["approve", str(ws), "loans", "1.0", "--role", "model_risk", "--by", "a",
                 "--condition", "next-week", "Review."]) == 2  # fmt: skip
    assert "DUE is a date like 2026-10-31, or `standing`" in capsys.readouterr().err
    assert main(["approve", str(ws), "loans", "1.0", "--role", "model_risk", "--by", "a", "--decision", "rejected",
                 "--condition", "standing", "Review."]) == 2  # fmt: skip
    assert "--condition goes with an approval" in capsys.readouterr().err
    assert main(["approve", str(ws), "loans", "1.0", "--role", "model_risk", "--by", "a",
                 "--condition", "2020-01-01", "Review."]) == 2  # fmt: skip
    assert "DUE is before today" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("conditions", "outcome"),
    [
        ("soon", "approved"),
        ([{"text": "", "due": None}], "approved"),
        ([{"text": "Review.", "due": "31/10/2026"}], "approved"),
        ([{"text": "Review.", "due": None, "met": "2026-03-01"}], "approved"),
        ([{"text": "Review."}], "approved"),  # no due: read as a KeyError by the build before
        ([{"text": "Review.", "due": "2026-01-15"}], "approved"),  # due before the sign-off (2026-02-01)
        ([{"text": "Review.", "due": None}], "rejected"),  # a rejection sets no condition
    ],
)
def test_a_malformed_condition_in_a_logged_sign_off_breaks_the_chain(ws: Path, conditions, outcome: str) -> None:
    forge(ws, details={"role": "model_risk", "conditions": conditions}, outcome=outcome)
    state = verify(ws / LOG_PATH)
    assert not state.ok and "details.conditions" in state.reason


def test_an_escaped_lone_surrogate_breaks_the_chain_instead_of_the_build(ws: Path, tmp_path: Path) -> None:
    entry = forge(ws, comment="fine")
    line = (ws / LOG_PATH).read_text().replace('"comment":"fine"', '"comment":"\\ud800"')
    (ws / LOG_PATH).write_text(line)
    state = verify(ws / LOG_PATH)
    assert not state.ok and state.broken_line == 1 and "lone surrogate" in state.reason
    assert entry["seq"] == 1
    code, _ = check(ws, tmp_path, None)
    assert code in (0, 1)  # a degraded audit log, never an internal error


def test_a_condition_recorded_met_before_its_sign_off_breaks_the_chain(ws: Path) -> None:
    forge(ws, action="condition", outcome="met", subject={"model": "loans", "version": "1.0"},
          details={"approval": 2, "condition": 1, "role": "model_risk"})  # fmt: skip
    forge(ws, details={"role": "model_risk", "conditions": [{"text": "Review.", "due": None}]})
    state = verify(ws / LOG_PATH)
    assert not state.ok and state.broken_line == 1 and "must name an earlier entry" in state.reason


def test_a_sign_off_made_after_the_check_date_owes_no_condition_yet(ws: Path, tmp_path: Path) -> None:
    (ws / "policies" / "conditions.yml").write_text(CONDITIONS_GATE)
    forge(
        ws,
        time="2026-02-01T10:00:00Z",
        details={"role": "model_risk", "conditions": [{"text": "Review.", "due": "2026-02-15"}]},
    )
    found = _conditions_result(ws, tmp_path, None, dt.date(2026, 1, 20))
    assert (found["outcome"], found["checks"][0]["observed"]) == ("pass", 0)
    found = _conditions_result(ws, tmp_path, None, dt.date(2026, 3, 1))
    assert (found["outcome"], found["checks"][0]["observed"]) == ("fail", 1)


# --------------------------------------------------------------------------- the freshness of sign-offs

FRESH_SIGN_OFF = """\
id: fresh
title: Fresh sign-offs
rules:
  - id: model-risk-within-90-days
    title: Model Risk approved the version within 90 days
    max_age_days: {approvals: 90, approved_by: [model_risk]}
"""
APPROVALS_FILE = "models/loans/versions/1.0/approvals.yml"
AS_OF = "2026-06-01"


def freshness(ws: Path, tmp_path: Path, keys: Keys, *extra: str) -> tuple[int, dict]:
    code, results = check(ws, tmp_path, keys, "--as-of", AS_OF, *extra)
    return code, result(results, "model-risk-within-90-days")


@pytest.fixture
def signed_months_ago(ws: Path, keys: Keys) -> Path:
    """A genuine sign-off, signed by alice (model_risk in the CI's file) on 2026-02-01, 120 days before
    the check; then a hand-written approvals.yml entry for the same role, dated two days before it."""
    (ws / "policies" / "fresh.yml").write_text(FRESH_SIGN_OFF)
    forge(ws, time="2026-02-01T10:00:00Z", _sign_with=lambda m: keys.sign("alice@bank.example", m))
    edit(ws, APPROVALS_FILE, "date: 2026-01-25", "date: 2026-05-30")
    return ws


def test_a_fresh_unsigned_sign_off_counts_only_where_unsigned_ones_do(
    signed_months_ago: Path, keys: Keys, tmp_path: Path
) -> None:
    """Without a requirement of signatures, the freshness of approvals counts what ``approved_by``
    counts: the unsigned entry of 2026-05-30 is the latest approval, 2 days old."""
    _code, found = freshness(signed_months_ago, tmp_path, keys)
    assert found["outcome"] == "pass", found
    assert found["checks"][0]["observed"] == 2


@pytest.mark.parametrize("required_by", ["environment", "policy"])
def test_a_fresh_unsigned_sign_off_does_not_refresh_a_signed_one(
    signed_months_ago: Path, keys: Keys, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, required_by: str
) -> None:
    """The red team's forge: a hand-written approvals.yml entry dated today passed the freshness rule
    even when the CI required signatures, and a policy could not ask for them on this rule."""
    if required_by == "environment":
        monkeypatch.setenv("MODELGOV_REQUIRE_SIGNATURES", "1")
    else:
        edit(
            signed_months_ago,
            "policies/fresh.yml",
            "approved_by: [model_risk]}",
            "approved_by: [model_risk]}\n    require_signature: true",
        )
    code, found = freshness(signed_months_ago, tmp_path, keys)
    assert code == 1 and found["outcome"] == "fail", found
    assert found["checks"][0]["observed"] == 120
    assert found["message"] == "the latest model_risk decision (2026-02-01) is 120 days old (limit 90 days)"
    assert "(signed approvals only)" in found["checks"][0]["requirement"]


def test_an_unsigned_sign_off_alone_is_no_fresh_approval_when_signatures_are_required(
    ws: Path, keys: Keys, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (ws / "policies" / "fresh.yml").write_text(FRESH_SIGN_OFF)
    edit(ws, APPROVALS_FILE, "date: 2026-01-25", "date: 2026-05-30")
    monkeypatch.setenv("MODELGOV_REQUIRE_SIGNATURES", "1")
    code, found = freshness(ws, tmp_path, keys)
    assert code == 1 and found["outcome"] == "fail"
    assert "the latest model_risk sign-off (Rita Reviewer, 2026-05-30) is unsigned" in found["message"], found


def test_a_fresh_rejection_is_not_a_fresh_approval(ws: Path, keys: Keys, tmp_path: Path) -> None:
    """The freshness rule asks for an approval: a recent decision of another kind does not make one."""
    (ws / "policies" / "fresh.yml").write_text(FRESH_SIGN_OFF)
    edit(ws, APPROVALS_FILE, "date: 2026-01-25", "date: 2026-05-30")
    edit(ws, APPROVALS_FILE, "decision: approved", "decision: rejected")
    code, found = freshness(ws, tmp_path, keys)
    assert code == 1 and found["outcome"] == "fail"
    assert found["message"] == "the latest model_risk decision is rejected (Rita Reviewer, 2026-05-30)", found


@pytest.mark.parametrize("required_by", ["environment", "policy"])
def test_a_fresh_signed_approval_still_passes_when_signatures_are_required(
    ws: Path, keys: Keys, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, required_by: str
) -> None:
    (ws / "policies" / "fresh.yml").write_text(FRESH_SIGN_OFF)
    forge(ws, time="2026-05-30T10:00:00Z", _sign_with=lambda m: keys.sign("alice@bank.example", m))
    if required_by == "environment":
        monkeypatch.setenv("MODELGOV_REQUIRE_SIGNATURES", "1")
    else:
        edit(
            ws,
            "policies/fresh.yml",
            "approved_by: [model_risk]}",
            "approved_by: [model_risk]}\n    require_signature: true",
        )
    code, found = freshness(ws, tmp_path, keys)
    assert code == 0 and found["outcome"] == "pass", found
    assert found["checks"][0]["observed"] == 2


def test_under_required_signatures_the_approvals_evidence_reads_signed_sign_offs(
    signed_months_ago: Path, keys: Keys, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same freshness written as an evidence rule reads the same sign-off: under the CI's
    setting, the latest signed one."""
    (signed_months_ago / "policies" / "fresh.yml").write_text(
        FRESH_SIGN_OFF.replace(
            "max_age_days: {approvals: 90, approved_by: [model_risk]}",
            "evidence: approvals.model_risk.age_days\n    require: {'<=': 90}",
        )
    )
    _code, found = freshness(signed_months_ago, tmp_path, keys)
    assert (found["outcome"], found["checks"][0]["observed"]) == ("pass", 2)  # unsigned ones count here
    monkeypatch.setenv("MODELGOV_REQUIRE_SIGNATURES", "1")
    code, found = freshness(signed_months_ago, tmp_path, keys)
    assert code == 1 and (found["outcome"], found["checks"][0]["observed"]) == ("fail", 120), found


# --------------------------------------------------------------------------- the log itself


def test_a_future_dated_entry_breaks_the_chain(ws: Path, tmp_path: Path, capsys) -> None:
    forge(ws, time="2099-01-01T00:00:00Z")
    assert main(["audit", "verify", str(ws)]) == 1
    assert "in the future" in capsys.readouterr().err
    _code, results = check(ws, tmp_path, None)
    assert result(results, "signed-model-risk")["outcome"] == "fail"


def test_a_backdated_entry_breaks_the_chain(ws: Path) -> None:
    forge(ws, time="2026-02-01T10:00:00Z")
    forge(ws, time="2025-01-01T10:00:00Z")
    state = verify(ws / LOG_PATH)
    assert state.broken_line == 2 and "backdated" in state.reason


def test_a_future_dated_approvals_file_is_refused(ws: Path, tmp_path: Path, capsys) -> None:
    edit(ws, "models/loans/versions/1.0/approvals.yml", "date: 2026-01-25", "date: 2099-01-25")
    assert main(["check", str(ws), "--results", str(tmp_path / "r.json"), "-q"]) == 2
    err = capsys.readouterr().err
    assert "approvals.yml" in err and "approvals[0].date" in err and "in the future" in err


@pytest.mark.parametrize(
    ("old", "new", "key", "dated"),
    [
        ("date: 2026-01-20", "date: 2099-01-20", "evaluations[0].date", "an evaluation is dated when it is run"),
        ("created: 2026-01-15", "created: 2099-01-15", "created", "a version is dated when it is created"),
    ],
)
def test_a_future_dated_version_or_evaluation_is_refused(
    ws: Path, tmp_path: Path, capsys, old: str, new: str, key: str, dated: str
) -> None:
    """An evaluation dated 2099 was -26,343 days old: it passed every freshness rule until then, and,
    the most recent by date, was the evaluation every policy read."""
    (ws / "policies" / "fresh.yml").write_text(
        "id: fresh\ntitle: Fresh\nrules:\n  - id: eval\n    title: t\n    max_age_days: {evaluation: 30}\n"
    )
    edit(ws, VERSION_FILE, old, new)
    assert main(["check", str(ws), "--results", str(tmp_path / "r.json"), "-q"]) == 2
    err = capsys.readouterr().err
    line = next(n for n, text in enumerate((ws / VERSION_FILE).read_text().splitlines(), 1) if new in text)
    assert f"{VERSION_FILE}:{line}: {key}: {new.split()[1]} is in the future (today is " in err, err
    assert dated in err and "Traceback" not in err
    assert not (tmp_path / "r.json").exists()


@pytest.mark.parametrize(
    ("case", "fields", "says"),
    [
        ("details-not-an-object", {"details": ["model_risk"]}, "details must be an object"),
        ("no-role", {"details": {}}, "needs details.role"),
        ("unknown-decision", {"outcome": "approved!"}, "outcome must be one of"),
        ("seq-as-string", {"seq": "1"}, "seq must be an integer"),
        ("time-not-utc", {"time": "2026-02-01 10:00"}, "time must be a UTC time"),
        ("impossible-date", {"time": "2026-02-30T10:00:00Z"}, "not a real date"),
        ("unknown-key", {"approved_by_ceo": True}, "unknown key"),
        ("subject-without-model", {"subject": {"version": "1.0"}}, "subject must be an object with a model"),
        ("empty-actor", {"actor": "  "}, "actor must be a non-empty string"),
        ("bogus-signature", {"signature": "trust me"}, "armored SSH signature"),
    ],
)
def test_a_well_chained_but_malformed_entry_is_named_never_a_crash(
    ws: Path, tmp_path: Path, capsys, case: str, fields: dict, says: str
) -> None:
    forge(ws, **fields)
    assert main(["audit", "verify", str(ws)]) == 1
    err = capsys.readouterr().err
    assert f"{LOG_PATH}:1:" in err and says in err, err
    code = main(["check", str(ws), "--results", str(tmp_path / "r.json"), "-q"])
    assert code in (0, 1)
    assert "internal error" not in capsys.readouterr().err


def test_a_duplicate_key_is_refused(ws: Path, capsys) -> None:
    entry = forge(ws)
    text = canonical(entry).decode()
    (ws / LOG_PATH).write_text(text[:-1] + ',"outcome":"rejected"}\n')
    assert main(["audit", "verify", str(ws)]) == 1
    assert "appears twice" in capsys.readouterr().err


def test_a_non_canonical_line_is_refused(ws: Path) -> None:
    entry = forge(ws)
    (ws / LOG_PATH).write_text(json.dumps(entry, indent=None) + "\n")  # spaces after separators
    assert "canonical" in verify(ws / LOG_PATH).reason


def test_an_oversized_line_is_refused_without_reading_it_whole(ws: Path) -> None:
    forge(ws, comment="x" * 400_000)
    state = verify(ws / LOG_PATH)
    assert state.broken_line == 1 and "longer than" in state.reason


# --------------------------------------------------------------------------- anchoring


@pytest.fixture
def published(ws: Path, tmp_path: Path) -> Path:
    for day in range(1, 5):
        forge(ws, time=f"2026-02-0{day}T10:00:00Z")
    assert main(["build", str(ws), "-o", str(tmp_path / "site"), "-q"]) in (0, 1)
    return tmp_path / "site"


@pytest.mark.slow
def test_truncation_is_found_against_the_published_site(ws: Path, published: Path, capsys) -> None:
    write_lines(ws, lines(ws)[:2])
    assert main(["audit", "verify", str(ws)]) == 0  # a shorter chain verifies on its own
    assert main(["audit", "verify", str(ws), "--against", str(published)]) == 1
    assert "truncated: the log has 2 verified entries, the published manifest recorded 4" in capsys.readouterr().err


@pytest.mark.slow
def test_a_rewrite_from_one_entry_on_is_found_and_named(ws: Path, published: Path, capsys) -> None:
    kept = lines(ws)[:2]
    write_lines(ws, kept)
    for day in range(3, 6):  # re-chained from entry 3 on: every hash is valid, the history is not
        forge(ws, time=f"2026-02-0{day}T11:00:00Z", comment="rewritten")
    assert verify(ws / LOG_PATH).ok
    assert main(["audit", "verify", str(ws), "--against", str(published / "manifest.json")]) == 1
    assert "rewritten: entry 3 differs" in capsys.readouterr().err


@pytest.mark.slow
def test_entries_added_after_publishing_are_fine(ws: Path, published: Path, capsys) -> None:
    forge(ws, time="2026-02-09T10:00:00Z")
    assert main(["audit", "verify", str(ws), "--against", str(published)]) == 0
    assert "1 entry added since" in capsys.readouterr().out


# --------------------------------------------------------------------------- promotion gate


BLOCKING = """\
id: floor
title: Performance floor
rules:
  - id: impossible-auc
    title: ROC AUC of at least 0.999
    evidence: performance.roc_auc
    require: {">=": 0.999}
"""


@pytest.fixture
def blocked(ws: Path) -> Path:
    (ws / "policies" / "gate.yml").unlink()
    (ws / "policies" / "floor.yml").write_text(BLOCKING)
    edit(ws, VERSION_FILE, "status: production", "status: staging")
    return ws


def test_promote_refuses_a_blocked_version_and_changes_nothing(blocked: Path, capsys) -> None:
    before = (blocked / VERSION_FILE).read_bytes()
    code = main(["promote", str(blocked), "loans", "1.0", "--to", "production", "--by", "anyone"])
    assert code == 1
    assert "floor/impossible-auc" in capsys.readouterr().err
    assert (blocked / VERSION_FILE).read_bytes() == before and not (blocked / LOG_PATH).exists()


def test_an_unsigned_override_is_refused(blocked: Path, capsys) -> None:
    code = main(
        ["promote", str(blocked), "loans", "1.0", "--to", "production", "--by", "anyone", "--override", "urgent"]
    )
    assert code == 2 and "--override must be signed" in capsys.readouterr().err
    assert "status: staging" in (blocked / VERSION_FILE).read_text()


@needs_ssh
def test_an_override_by_someone_without_the_role_is_refused(blocked: Path, keys: Keys, capsys) -> None:
    code = main(["promote", str(blocked), "loans", "1.0", "--to", "production", "--by", "alice@bank.example",
                 "--override", "urgent", "--key", str(keys.key_file("alice@bank.example")),
                 "--allowed-signers", str(keys.allowed)])  # fmt: skip
    assert code == 2 and "does not hold the role 'override'" in capsys.readouterr().err
    assert "status: staging" in (blocked / VERSION_FILE).read_text()


@needs_ssh
@pytest.mark.slow
def test_a_signed_override_is_recorded_and_shown(blocked: Path, keys: Keys, tmp_path: Path) -> None:
    code = main(["promote", str(blocked), "loans", "1.0", "--to", "production", "--by", "carol@bank.example",
                 "--override", "Regulator deadline; manual review of every decision", "--key",
                 str(keys.key_file("carol@bank.example")), "--allowed-signers", str(keys.allowed)])  # fmt: skip
    assert code == 0
    entry = lines(blocked)[-1]
    assert entry["details"]["override"]["rules"] == ["floor/impossible-auc"]
    main(["build", str(blocked), "-o", str(tmp_path / "site"), "-q", "--allowed-signers", str(keys.allowed)])
    built = manifest.read(tmp_path / "site" / "manifest.json")
    change = built.model("loans").versions[0].status_change
    assert change.override_reason.startswith("Regulator deadline") and change.signature == "signed"
    compliance = (tmp_path / "site" / "compliance" / "index.html").read_text()
    card = (tmp_path / "site" / "models" / "loans" / "1.0" / "index.html").read_text()
    assert "promoted over a blocked gate" in compliance and "Promoted over a blocked policy gate" in card


def test_a_status_written_by_hand_is_not_a_promotion(ws: Path, tmp_path: Path) -> None:
    forge(ws)  # the workspace keeps an audit log, but no entry sets the status
    _code, results = check(ws, tmp_path, None)
    found = result(results, "through-the-gate")
    assert found["outcome"] == "warn" and "edited, not promoted" in found["message"]


def test_entries_hash_their_canonical_json_independently(ws: Path) -> None:
    entry = forge(ws)
    body = {k: v for k, v in entry.items() if k != "hash"}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert entry["hash"] == hashlib.sha256(text.encode()).hexdigest()
    assert dt.datetime.strptime(entry["time"], "%Y-%m-%dT%H:%M:%SZ")


@pytest.mark.parametrize("case", ["log-is-a-link-out", "audit-folder-is-a-link-out", "log-is-a-fifo"])
def test_a_decision_is_never_written_outside_the_workspace_or_into_a_fifo(
    ws: Path, tmp_path: Path, capsys, case: str
) -> None:
    import os

    outside = tmp_path / "outside"
    outside.mkdir(exist_ok=True)
    if case == "log-is-a-link-out":
        (ws / "audit").mkdir()
        (ws / LOG_PATH).symlink_to(outside / "log.jsonl")
    elif case == "audit-folder-is-a-link-out":
        (ws / "audit").symlink_to(outside)
    else:
        (ws / "audit").mkdir()
        os.mkfifo(ws / LOG_PATH)
    code = main(["approve", str(ws), "loans", "1.0", "--role", "model_risk", "--by", "anyone"])
    assert code == 2
    assert "internal error" not in capsys.readouterr().err
    assert list(outside.iterdir()) == []


# --------------------------------------------------------------------------- waivers


def waive(root: Path, keys: Keys | None, *extra: str, by: str = "carol@bank.example") -> int:
    """``modelgov waive`` as the holder of the override role (a waiver lets a version through the gate)."""
    args = ["waive", str(root), "--id", "W-1", "--policy", "floor", "--rule", "impossible-auc", "--model", "loans",
            "--reason", "Known limit", "--by", by, "--ticket", "RISK-1", "--expires", "2026-12-31",
            "--granted", "2026-01-30"]  # fmt: skip
    if keys is not None:
        args += ["--key", str(keys.key_file(by)), "--allowed-signers", str(keys.allowed)]
    return main([*args, *extra])


#: A waiver written into waivers.yml by hand, as a pull request could: no audit entry, no signature.
HAND_WAIVER = (
    "waivers:\n  - {id: W-1, policy: floor, rule: impossible-auc, models: [loans], reason: trust me,\n"
    "     approved_by: Chief Risk Officer, ticket: X-1, granted: 2026-01-30, expires: 2026-12-31}\n"
)


@pytest.fixture
def strict_waivers(blocked: Path) -> Path:
    edit(blocked, "governance.yml", "title:", "policies:\n  require_signed_waivers: true\ntitle:")
    return blocked


def test_a_waiver_written_by_hand_does_not_open_the_gate_where_signed_waivers_are_required(
    strict_waivers: Path, keys: Keys, tmp_path: Path
) -> None:
    (strict_waivers / "waivers.yml").write_text(HAND_WAIVER)
    code, results = check(strict_waivers, tmp_path, keys, "--as-of", "2026-03-01")
    assert code == 1 and result(results, "impossible-auc")["outcome"] == "fail"
    state = results["waivers"][0]
    assert state["state"] == "not accepted" and state["record"]["entry"] is None
    from modelgov.decisions import commands

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(commands, "_now", lambda: dt.datetime(2026, 3, 1, 12, tzinfo=dt.UTC))
        assert main(["promote", str(strict_waivers), "loans", "1.0", "--to", "production", "--by", "x",
                     "--allowed-signers", str(keys.allowed)]) == 1  # fmt: skip
    site = tmp_path / "site"
    main(["build", str(strict_waivers), "-o", str(site), "-q", "--as-of", "2026-03-01"])
    page = (site / "compliance" / "waivers.html").read_text()
    assert "Not accepted" in page and "written into waivers.yml by hand, unsigned" in page


@needs_ssh
def test_a_signed_waiver_applies_and_one_extended_by_hand_no_longer_does(
    strict_waivers: Path, keys: Keys, tmp_path: Path, capsys
) -> None:
    assert waive(strict_waivers, keys) == 0
    code, results = check(strict_waivers, tmp_path, keys, "--as-of", "2026-03-01")
    assert code == 0 and result(results, "impossible-auc")["outcome"] == "waived"
    assert results["waivers"][0]["record"]["signature"] == "signed"
    edit(strict_waivers, "waivers.yml", '"expires": "2026-12-31"', '"expires": "2027-01-15"')
    capsys.readouterr()
    code, results = check(strict_waivers, tmp_path, keys, "--as-of", "2026-03-01")
    assert code == 1 and result(results, "impossible-auc")["outcome"] == "fail"
    assert results["waivers"][0]["record"]["changed"] == ["expires"]
    capsys.readouterr()
    main(["check", str(strict_waivers), "--results", str(tmp_path / "r.json"), "--as-of", "2026-03-01",
          "--allowed-signers", str(keys.allowed)])  # fmt: skip
    assert "W-1 is not accepted: changed since it was signed (expires)" in capsys.readouterr().out


@needs_ssh
def test_a_waiver_signed_without_the_override_role_is_refused_and_never_applies(
    strict_waivers: Path, keys: Keys, tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A waiver lets a version through a rule that blocks it, as an overriding promotion does: the
    signer must hold the override role. ``modelgov waive`` refuses another signer before writing
    anything, and an entry such a signer appended to the log does not make the waiver apply."""
    before = (strict_waivers / "waivers.yml").read_bytes() if (strict_waivers / "waivers.yml").exists() else None
    assert waive(strict_waivers, keys, by="alice@bank.example") != 0
    assert "does not hold the role 'override'" in capsys.readouterr().err
    after = (strict_waivers / "waivers.yml").read_bytes() if (strict_waivers / "waivers.yml").exists() else None
    assert after == before
    # the same entry, signed by alice and appended as the command would have without the check
    from modelgov.decisions import commands

    real = commands._signer
    monkeypatch.setattr(commands, "_signer", lambda args, root, role: real(args, root, None))
    assert waive(strict_waivers, keys, by="alice@bank.example") == 0
    code, results = check(strict_waivers, tmp_path, keys, "--as-of", "2026-03-01")
    assert code == 1 and result(results, "impossible-auc")["outcome"] == "fail"
    record = results["waivers"][0]["record"]
    assert record["signature"] == "invalid" and "does not hold the role 'override'" in record["signature_problem"]


def test_without_the_requirement_a_hand_written_waiver_applies_but_says_so(
    blocked: Path, keys: Keys, tmp_path: Path
) -> None:
    (blocked / "waivers.yml").write_text(HAND_WAIVER)
    code, results = check(blocked, tmp_path, keys, "--as-of", "2026-03-01")
    assert code == 0 and results["waivers"][0]["record"] == {
        "entry": None, "by": None, "signature": "unsigned", "signature_problem": None, "changed": []
    }  # fmt: skip


def test_a_signed_sign_off_that_names_no_evidence_does_not_satisfy_a_signed_rule(
    ws: Path, keys: Keys, tmp_path: Path
) -> None:
    """It says who, not on what: an entry from before evidence binding, or one written without it."""
    forge(ws, subject={"model": "loans", "version": "1.0"}, _sign_with=lambda m: keys.sign("alice@bank.example", m))
    _, results = check(ws, tmp_path, keys)
    found = result(results, "signed-model-risk")
    assert found["outcome"] == "fail" and "names no evidence" in found["message"]


@pytest.mark.parametrize("how", ["files-changed-after", "copied-from-another-workspace"])
def test_a_promotion_on_other_evidence_does_not_count(ws: Path, keys: Keys, tmp_path: Path, how: str) -> None:
    if how == "copied-from-another-workspace":
        other = write_workspace(tmp_path / "other")
        edit(other, "models/loans/model.yml", "Ranking applications", "Approving applications")
        evidence = current_evidence(other)
    else:
        evidence = current_evidence(ws)
    forge(ws, action="status", outcome="production", details={"from": "staging", "to": "production"},
          subject={"model": "loans", "version": "1.0", "evidence": evidence},
          _sign_with=lambda m: keys.sign("alice@bank.example", m))  # fmt: skip
    if how == "files-changed-after":
        edit(ws, VERSION_FILE, "summary: First version.", "summary: Retrained on new data.")
    _, results = check(ws, tmp_path, keys)
    found = result(results, "through-the-gate")
    assert found["outcome"] == "warn" and "set the status on other evidence" in found["message"]


def test_a_flow_style_version_file_cannot_hide_a_change_behind_its_status(ws: Path, keys: Keys, tmp_path: Path) -> None:
    """The status value is left out of the evidence by parsing the file, not by editing its text."""
    import yaml

    data = yaml.safe_load((ws / VERSION_FILE).read_text())
    data["created"] = str(data["created"])
    for run in data["evaluations"]:
        run["date"] = str(run["date"])
    flow = json.dumps({k: v for k, v in data.items() if k != "status"})
    (ws / VERSION_FILE).write_text("{" + '"status": "production",' + flow[1:] + "\n")
    forge(ws, _sign_with=lambda m: keys.sign("alice@bank.example", m))
    _, results = check(ws, tmp_path, keys)
    assert result(results, "signed-model-risk")["outcome"] == "pass"
    text = (ws / VERSION_FILE).read_text()
    (ws / VERSION_FILE).write_text(text.replace('"label": "defaulted"', '"label": "predicted"'))
    _, results = check(ws, tmp_path, keys)
    found = result(results, "signed-model-risk")
    assert found["outcome"] == "fail" and "stale" in found["message"]


@needs_ssh
@pytest.mark.parametrize(
    ("field", "old", "new"),
    [
        ("versions", '"versions": ["1.0"], ', ""),
        ("approved_by", '"approved_by": "carol@bank.example"', '"approved_by": "Chief Risk Officer"'),
        ("granted", '"granted": "2026-01-30"', '"granted": "2026-01-31"'),
        ("models", '"models": ["loans"]', '"models": ["loans", "other"]'),
        ("reason", '"reason": "Known limit"', '"reason": "Known limit, and more"'),
    ],
)
def test_a_signed_waiver_changed_by_hand_is_not_accepted(
    strict_waivers: Path, keys: Keys, tmp_path: Path, field: str, old: str, new: str
) -> None:
    assert waive(strict_waivers, keys, "--version", "1.0") == 0
    edit(strict_waivers, "waivers.yml", old, new)
    code, results = check(strict_waivers, tmp_path, keys, "--as-of", "2026-03-01")
    assert code == 1 and results["waivers"][0]["state"] == "not accepted"
    assert results["waivers"][0]["record"]["changed"] == [field]


# --------------------------------------------------------------------------- the CI's last word


def test_a_ci_that_lost_its_signers_file_accepts_no_signature_rather_than_the_workspaces(
    ws: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A fork's pull request gets no secrets: the CI's file is missing, and the workspace's own file
    lists the pull request's key. With MODELGOV_NO_WORKSPACE_SIGNERS the build fails closed."""
    sign_with_the_pull_requests_own_key(ws)
    monkeypatch.setenv("MODELGOV_NO_WORKSPACE_SIGNERS", "1")
    _, results = check(ws, tmp_path, None)
    found = result(results, "signed-model-risk")
    assert found["outcome"] == "fail" and "does not trust the workspace's audit/allowed_signers" in found["message"]
    assert main(["build", str(ws), "-o", str(tmp_path / "site"), "-q"]) == 1
    assert "this build does not trust the workspace" in (tmp_path / "site" / "audit.html").read_text()


def test_the_ci_can_require_signatures_whatever_the_policies_say(
    blocked: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A pull request can delete `require_signature` from a policy; MODELGOV_REQUIRE_SIGNATURES holds."""
    (blocked / "policies" / "gate.yml").write_text(
        "id: gate\ntitle: Gate\nrules:\n  - id: model-risk\n    title: Model Risk approved\n    approved_by: [model_risk]\n"
    )
    (blocked / "waivers.yml").write_text(HAND_WAIVER)
    code, results = check(blocked, tmp_path, None, "--as-of", "2026-03-01")
    assert code == 0  # the unsigned approvals.yml sign-off and the hand-written waiver both count
    monkeypatch.setenv("MODELGOV_REQUIRE_SIGNATURES", "1")
    code, results = check(blocked, tmp_path, None, "--as-of", "2026-03-01")
    assert code == 1 and results["results"]
    assert result(results, "model-risk")["outcome"] == "fail"
    assert result(results, "impossible-auc")["outcome"] == "fail"
    assert results["waivers"][0]["state"] == "not accepted"


# --------------------------------------------------------------------------- crashes and bounds


def test_a_json_nesting_bomb_in_the_log_is_a_broken_line_not_a_crash(ws: Path, tmp_path: Path, capsys) -> None:
    (ws / "audit").mkdir()
    (ws / LOG_PATH).write_text("[" * 100_000 + "]" * 100_000 + "\n")
    assert main(["audit", "verify", str(ws)]) == 1
    assert main(["check", str(ws), "--results", str(tmp_path / "r.json"), "-q"]) in (0, 1)
    err = capsys.readouterr().err
    assert "internal error" not in err and "Traceback" not in err


def test_a_deeply_nested_but_chained_entry_is_refused_before_it_renders(ws: Path, tmp_path: Path) -> None:
    nested: dict = {"role": "model_risk"}
    for _ in range(300):
        nested = {"x": nested, "role": "model_risk"}
    forge(ws, details=nested)
    state = verify(ws / LOG_PATH)
    assert state.broken_line == 1 and "nested more than" in state.reason
    assert main(["build", str(ws), "-o", str(tmp_path / "site"), "-q"]) in (0, 1)


def test_a_nesting_bomb_given_as_the_published_manifest_is_a_clear_error(ws: Path, tmp_path: Path, capsys) -> None:
    bomb = tmp_path / "manifest.json"
    bomb.write_text('{"schema_version": "1.7", "x": ' + "[" * 100_000 + "]" * 100_000 + "}")
    assert main(["audit", "verify", str(ws), "--against", str(bomb)]) == 2
    assert "internal error" not in capsys.readouterr().err


@pytest.mark.parametrize(
    ("file", "text"),
    [
        (VERSION_FILE, None),  # an anchor on the status that another key aliases
        ("waivers.yml", "waivers: " + "[" * 50_000 + "]" * 50_000 + "\n"),
        ("waivers.yml", "waivers: [\n"),
    ],
)
def test_promote_and_waive_name_a_file_they_cannot_change(ws: Path, capsys, file: str, text: str | None) -> None:
    if text is None:
        edit(ws, VERSION_FILE, "status: production", "status: &s staging")
        edit(ws, VERSION_FILE, "summary: First version.", "summary: *s")
        code = main(["promote", str(ws), "loans", "1.0", "--to", "production", "--by", "x"])
    else:
        (ws / file).write_text(text)
        code = main(["waive", str(ws), "--id", "W-9", "--policy", "gate", "--rule", "signed-model-risk", "--model",
                     "loans", "--reason", "r", "--by", "x", "--ticket", "T", "--expires", "2026-12-31"])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2 and file in err and "internal error" not in err, err


def test_an_oversized_line_is_refused_after_a_bounded_read(ws: Path) -> None:
    import resource

    (ws / "audit").mkdir()
    with (ws / LOG_PATH).open("w") as handle:
        for _ in range(200):
            handle.write("x" * 1_000_000)
        handle.write("\n")
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    state = verify(ws / LOG_PATH)
    assert state.broken_line == 1 and "longer than" in state.reason
    grown_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert grown_kb < 50_000, f"the 200 MB line raised the peak by {grown_kb} kB"


@pytest.mark.parametrize(
    ("principals", "principal", "named"),
    [
        ("*@bank.example,!mallory@bank.example", "mallory@bank.example", False),
        ("*@bank.example,!mallory@bank.example", "alice@bank.example", True),
        ("[am]*@bank.example", "alice@bank.example", False),  # no character classes, as in ssh-keygen
        ("al?ce@bank.example", "alice@bank.example", True),
        ("alice@bank.example", "ALICE@bank.example", False),
    ],
)
def test_principal_patterns_follow_ssh_keygen(principals: str, principal: str, named: bool) -> None:
    from modelgov.decisions.signers import Signer

    signer = Signer(tuple(principals.split(",")), None, frozenset(), None, None, None, 1)  # type: ignore[arg-type]
    assert signer.names(principal) is named


@pytest.mark.parametrize("value", ["20261301", "2026010112345", "2026-01-01", "20260230", "２０２６０１０１"])
def test_a_key_validity_time_ssh_keygen_would_refuse_is_refused(
    keys: Keys, ws: Path, tmp_path: Path, value: str
) -> None:
    text = keys.allowed.read_text().replace('namespaces="modelgov"', f'namespaces="modelgov",valid-before="{value}"', 1)
    keys.allowed.write_text(text)
    assert (
        main(["check", str(ws), "--results", str(tmp_path / "r.json"), "-q", "--allowed-signers", str(keys.allowed)])
        == 2
    )


def write_many(root: Path, count: int) -> None:
    """``count`` chained, unsigned approvals, as fast as a script writes them."""
    prev, lines_ = "0" * 64, []
    for seq in range(1, count + 1):
        entry = {"seq": seq, "time": "2026-02-01T10:00:00Z", "actor": f"person {seq}", "action": "approval",
                 "subject": {"model": "loans", "version": "1.0"}, "outcome": "approved", "comment": None,
                 "details": {"role": "model_risk"}, "prev": prev}  # fmt: skip
        entry["hash"] = prev = entry_hash(entry)
        lines_.append(canonical(entry).decode())
    (root / "audit").mkdir(exist_ok=True)
    (root / LOG_PATH).write_text("\n".join(lines_) + "\n")


def test_a_log_longer_than_the_limit_breaks_where_the_limit_is(ws: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from modelgov import audit

    monkeypatch.setattr(audit, "MAX_ENTRIES", 50)
    write_many(ws, 60)
    state = verify(ws / LOG_PATH)
    assert (state.entries, state.broken_line) == (50, 51) and "more than 50 entries" in state.reason


@pytest.mark.slow
def test_pages_show_the_latest_entries_of_a_long_log(ws: Path, tmp_path: Path) -> None:
    write_many(ws, 1_200)
    assert main(["build", str(ws), "-o", str(tmp_path / "site"), "-q"]) in (0, 1)
    audit_page = (tmp_path / "site" / "audit.html").read_text()
    card = (tmp_path / "site" / "models" / "loans" / "1.0" / "index.html").read_text()
    assert "The latest 1000 of the 1200 verified entries" in audit_page
    assert "The latest 100 of the 1201 sign-offs" in card  # 1,200 logged and one in approvals.yml
    assert len(manifest.read(tmp_path / "site" / "manifest.json").audit.events) == 1_200
