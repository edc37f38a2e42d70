"""The example's audit log: signed, unsigned and stale decisions, and a status set by hand.

The example keeps its sign-offs in ``approvals.yml`` files (unsigned, as most teams start) and, since
2025, also records decisions with ``modelgov approve`` / ``promote`` in ``audit/log.jsonl``. Its
signers' keys are derived from the seed (the private keys exist only while the example is written;
only the public keys are in ``audit/allowed_signers``), and signatures are made in Python in the
format of ``ssh-keygen -Y sign``, so the example needs no OpenSSH and is the same bytes every time.

What a reviewer should find on the site:

* credit-default 1.1: its model-risk validation sign-off and its promotion to production, both
  **signed** in 2025, on the version as it then was: evaluated on ``holdout-2024`` only. The
  re-evaluation on ``holdout-2026`` (July 2026, for the 2.0 champion–challenger comparison) was
  added to the version afterwards, so both are **stale** now, and the validation is also older than
  a year, which the packs' freshness rules flag (:func:`_before_the_2026_re_evaluation`);
* customer-churn 1.1: a compliance sign-off recorded by name only (**unsigned**), and a status of
  production that no audit entry set (the version.yml was edited by hand);
* diabetes-progression 1.0: a signed promotion, a signed compliance sign-off that is **stale** (the
  model card's intended use was widened after it, see :data:`WIDENED_USE`), and a signed model-risk
  re-validation made after the change, which is current;
* credit-default 1.1: one **open flag** from the business (:data:`CREDIT_FLAG`), signed by the
  collections lead and recorded by :func:`modelgov.decisions.flag.record_flag`, the code of
  ``modelgov flag``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
from collections.abc import Iterator

import yaml
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from modelgov.audit import append
from modelgov.decisions.commands import waiver_details
from modelgov.decisions.evidence import version_evidence
from modelgov.decisions.flag import record_flag, window_scope
from modelgov.decisions.sign import openssh_public_key, sign_with_ed25519
from modelgov.demo import churn, credit, diabetes, policies
from modelgov.demo.writer import WorkspaceWriter, dump_yaml

ALLOWED_SIGNERS = "audit/allowed_signers"
LOG = "audit/log.jsonl"

#: principal → (roles, display name)
SIGNERS: dict[str, tuple[tuple[str, ...], str]] = {
    # model risk's validators also approve live tests, under a role of their own (live_test)
    "priya.raman@acme.example": (("model_risk", "live_test"), "Priya Raman (Model Validation)"),
    "tomas.ortega@acme.example": (("compliance",), "Tomás Ortega (Compliance, Consumer Credit)"),
    "hannah.becker@acme.example": (("compliance",), "Hannah Becker (Compliance, Health & Data Protection)"),
    "dana.whitfield@acme.example": (("model_owner",), "Dana Whitfield (Retail Credit Risk Analytics)"),
    "amara.nwosu@acme.example": (("model_owner",), "Dr. Amara Nwosu (Health Analytics)"),
    "helena.brandt@acme.example": (("override",), "Helena Brandt (Chief Risk Officer)"),
    "ines.moreau@acme.example": (("business",), "Inès Moreau (Collections, Retail Credit)"),
}

#: (time, principal, window, text) of the flag raised on credit-default 1.1, still open at the
#: example's check date (2026-11-24).
CREDIT_FLAG = (
    "2026-11-06T08:30:00",
    "ines.moreau@acme.example",
    "2026-10-19/2026-10-25",
    "Applicants scored low risk in the week of 19 October are reaching early arrears about twice as often as "
    "low-risk applicants did last quarter (collections report CQ-2026-44). Outcomes for these weeks are not in "
    "yet; please check whether the scores still rank risk as they should.",
)

#: The sentence added to the diabetes card after its compliance sign-off, which makes it stale.
WIDENED_USE = (
    " Since June 2026 the score also orders the waiting list for dietitian appointments, a use the"
    " compliance sign-off of 2 June 2026 did not consider."
)


#: The conditions of credit-default 1.1's validation (``modelgov approve --condition``): the first
#: review was met, signed by the validator (the third entry); the third-quarter review of 2026 is
#: overdue on the example's check date; the re-validation trigger stands while the model is used.
CREDIT_CONDITIONS = [
    {"text": "Quarterly review of the selection-rate gap between women and men: first review.", "due": "2025-05-31"},
    {"text": "Quarterly review of the selection-rate gap between women and men: third quarter of 2026.",
     "due": "2026-10-31"},
    {"text": "Re-validation if the monthly observed default rate moves more than five percentage points from the "
     "development sample.", "due": None},
]  # fmt: skip

#: (time, principal, action, model, version, outcome, details, comment), oldest first; the diabetes
#: card is widened after the sixth, which makes that compliance sign-off stale.
DECISIONS: list[tuple[str, str, str, str, str, str, dict, str]] = [
    ("2025-02-14T10:00:00", "priya.raman@acme.example", "approval", credit.MODEL_ID, "1.1", "approved",
     {"role": "model_risk", "conditions": CREDIT_CONDITIONS}, "Validation report VR-2025-03 signed."),
    ("2025-03-03T09:30:00", "dana.whitfield@acme.example", "status", credit.MODEL_ID, "1.1", "production",
     {"from": "staging", "to": "production"}, "Released after validation and the compliance sign-off."),
    ("2025-05-22T16:00:00", "priya.raman@acme.example", "condition", credit.MODEL_ID, "1.1", "met",
     {"approval": 1, "condition": 1, "role": "model_risk"},
     "Review MR-2025-Q2: the gap is unchanged and still explained by income and debt ratio."),
    ("2026-04-20T15:10:00", "Tomás Ortega", "approval", churn.MODEL_ID, "1.1", "approved",
     {"role": "compliance"}, "Recorded by name from the review meeting; not signed."),
    ("2026-06-01T08:45:00", "amara.nwosu@acme.example", "status", diabetes.MODEL_ID, "1.0", "production",
     {"from": "candidate", "to": "production"}, "Outreach ordering goes live."),
    ("2026-06-02T14:00:00", "hannah.becker@acme.example", "approval", diabetes.MODEL_ID, "1.0", "approved",
     {"role": "compliance"}, "Consent wording re-checked for outreach ordering."),
    ("2026-06-12T11:20:00", "priya.raman@acme.example", "approval", diabetes.MODEL_ID, "1.0", "approved",
     {"role": "model_risk"}, "Re-validated for the widened use (dietitian waiting list)."),
]  # fmt: skip

#: Model Risk's signed approval of customer-churn 1.2's A/B test, under the role of its own that the
#: example's decision standard asks of a version serving customers in a test (after the waiver of
#: August in the log, before the flag of November).
LIVE_TEST_APPROVAL = (
    "2026-10-23T14:00:00", "priya.raman@acme.example", "approval", churn.MODEL_ID, "1.2", "approved",
    {"role": "live_test"},
    "Approved for the A/B test only: half of the customers due for review, from 26 October to the test's "
    "horizon, as its design states. Not an approval to promote, which needs Model Risk's decision on the "
    "test's result.",
)  # fmt: skip


def _key(seed: int, principal: str) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(hashlib.sha256(f"modelgov-demo/{seed}/{principal}".encode()).digest())


def _time(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


def build(writer: WorkspaceWriter, seed: int) -> None:
    """Write ``audit/allowed_signers`` and ``audit/log.jsonl`` (governance.yml names the former)."""
    from modelgov.workspace.load import load_workspace

    root = writer.root
    keys = {principal: _key(seed, principal) for principal in SIGNERS}
    writer.text(
        ALLOWED_SIGNERS,
        "# Who may sign decisions about the example's models (git's allowed-signers format; roles= in the comment).\n"
        + "".join(
            f'{principal} namespaces="modelgov" {openssh_public_key(keys[principal])} roles={",".join(roles)}\n'
            for principal, (roles, _) in SIGNERS.items()
        ),
    )

    def record(when: str, by: str, action: str, model: str, version: str, outcome: str, **extra) -> None:
        workspace = load_workspace(root)
        evidence = version_evidence(workspace, model, workspace.models[model].versions[version])
        bound = None if action == "condition" else evidence.files  # `modelgov condition` binds no evidence
        signed = by in keys  # the one entry by a plain name is recorded unsigned
        append(
            root,
            actor=by,
            action=action,
            model=model,
            version=version,
            outcome=outcome,
            concerns=f"models/{model}/versions/{version}/version.yml",
            evidence=bound,
            sign=(lambda message: sign_with_ed25519(keys[by], message)) if signed else None,
            time=_time(when),
            **extra,
        )

    before_2026 = [decision for decision in DECISIONS[:6] if decision[0] < "2026"]
    assert DECISIONS[: len(before_2026)] == before_2026, "the decisions of 2025 come first"
    with _before_the_2026_re_evaluation(writer):
        for when, by, action, model, version, outcome, details, comment in before_2026:
            record(when, by, action, model, version, outcome, details=details, comment=comment)
    for when, by, action, model, version, outcome, details, comment in DECISIONS[len(before_2026) : 6]:
        record(when, by, action, model, version, outcome, details=details, comment=comment)
    _widen_diabetes_use(writer)
    for when, by, action, model, version, outcome, details, comment in DECISIONS[6:]:
        record(when, by, action, model, version, outcome, details=details, comment=comment)
    _record_fair_lending_waiver(root, keys["helena.brandt@acme.example"])
    when, by, action, model, version, outcome, details, comment = LIVE_TEST_APPROVAL
    record(when, by, action, model, version, outcome, details=details, comment=comment)
    when, by, window, text = CREDIT_FLAG
    record_flag(
        root, credit.MODEL_ID, "1.1", by=by, scope=window_scope(window), text=text,
        sign=lambda message: sign_with_ed25519(keys[by], message), time=_time(when),
    )  # fmt: skip
    writer.written[LOG] = hashlib.sha256((root / LOG).read_bytes()).hexdigest()


def _record_fair_lending_waiver(root, key: Ed25519PrivateKey) -> None:
    """The credit waiver, as ``modelgov waive --key`` records it: signed by the Chief Risk Officer,
    with what waivers.yml says (the other waiver of the example is in waivers.yml only: unsigned)."""
    waiver = next(w for w in policies.waivers()["waivers"] if w["id"] == "W-2026-014")
    append(
        root,
        actor="helena.brandt@acme.example",
        action="waiver",
        model=",".join(waiver["models"]),
        version=waiver["versions"][0],
        outcome="granted",
        comment=waiver["reason"],
        details=waiver_details(waiver),
        concerns="waivers.yml",
        sign=lambda message: sign_with_ed25519(key, message),
        time=_time(waiver["granted"] + "T16:00:00"),
    )


@contextlib.contextmanager
def _before_the_2026_re_evaluation(writer: WorkspaceWriter) -> Iterator[None]:
    """Credit-default 1.1's version.yml as it was in 2025, while the decisions of 2025 are recorded:
    without the ``holdout-2026`` evaluation (dated July 2026) and the summary's sentences since. A
    sign-off binds the evidence there is when it is made, so the 2025 validation binds the 2024
    holdout only, and the later re-evaluation makes it stale, as it would in a real workspace."""
    relpath = f"models/{credit.MODEL_ID}/versions/1.1/version.yml"
    path = writer.root / relpath
    now = path.read_bytes()
    record = yaml.safe_load(now.decode("utf-8"))
    record["evaluations"] = [run for run in record["evaluations"] if str(run["date"]) < "2026"]
    assert " In production since " in record["summary"], "the summary's sentences written after 2025 have moved"
    record["summary"] = record["summary"].split(" In production since ", 1)[0].rstrip() + "\n"
    path.write_bytes(dump_yaml(record).encode("utf-8"))
    try:
        yield
    finally:
        path.write_bytes(now)


def _widen_diabetes_use(writer: WorkspaceWriter) -> None:
    """Change the diabetes card after its compliance sign-off (the story of a stale approval)."""
    relpath = f"models/{diabetes.MODEL_ID}/model.yml"
    path = writer.root / relpath
    card = yaml.safe_load(path.read_text(encoding="utf-8"))
    card["intended_use"]["primary_uses"] = card["intended_use"]["primary_uses"].rstrip() + WIDENED_USE
    data = dump_yaml(card).encode("utf-8")
    path.write_bytes(data)
    writer.written[relpath] = hashlib.sha256(data).hexdigest()
