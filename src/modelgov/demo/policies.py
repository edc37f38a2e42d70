"""The example's own policy and waivers: a realistic mix of verdicts to read on the compliance pages.

Acme's fair-lending policy holds credit models to the four-fifths rule on selection rates by sex.
Every credit version misses it (the planted income gap): the live 1.1 under a waiver granted while
the 2.0 retrain was prepared, the candidate 2.0 without one, so the build reports a blocking
failure: the release of 2.0 is blocked, as it should be. Under SR 26-2 the live 1.1, a
high-materiality model whose last independent review was in February 2025, is overdue for review,
which blocks too; the packs coming in 2027 report what is missing (no human-oversight sign-off)
without blocking. A waiver that accepted the churn model's drift while the fee change bedded in has
expired, and drift on the diabetes model is a warning.

The workspace is a snapshot: :data:`AS_OF` is the day its policies are checked on (``modelgov demo``
passes it as ``--as-of``), so waiver expiry and freshness read the same whenever the demo is built.
"""

from __future__ import annotations

import datetime as dt

from modelgov.demo import churn, credit
from modelgov.demo.monitoring import MONITORING_START, MONITORING_WEEKS
from modelgov.demo.writer import WorkspaceWriter

#: The day after the last monitored week ends.
AS_OF = MONITORING_START + dt.timedelta(weeks=MONITORING_WEEKS, days=1)

#: The built-in packs a US and EU lender with Canadian and Colorado business would enable in late
#: 2026: the bank supervisors' guidance in force (SR 26-2, whose materiality cadence finds the live
#: credit model's validation overdue), and the texts coming in 2027 (Colorado SB 26-189, OSFI E-23,
#: the EU AI Act's Annex III obligations), whose results show readiness and do not block yet.
PACKS = ["baseline", "sr-26-2", "colorado-sb-26-189", "osfi-e-23", "eu-ai-act-high-risk"]

FAIR_LENDING = {
    "id": "acme-fair-lending",
    "title": "Acme fair lending standard",
    "description": (
        "Credit decisions must not disadvantage customers by sex or age. Acme applies the four-fifths "
        "rule of thumb to referral (selection) rates and asks for evidence that the model ranks risk "
        "well enough to be used at all."
    ),
    "applies_to": {"risk_tier": ["high"], "tags": ["credit"], "status": ["candidate", "staging", "production"]},
    "rules": [
        {
            "id": "four-fifths-by-sex",
            "title": "The referral rate of either sex is at least four fifths of the other's",
            "evidence": "fairness.sex.demographic_parity_ratio",
            "require": {">=": 0.8},
            "severity": "blocking",
            "references": [
                {
                    "framework": "US EEOC Uniform Guidelines",
                    "clause": "29 CFR 1607.4(D)",
                    "title": "Adverse impact and the four-fifths rule",
                }
            ],
        },
        {
            "id": "four-fifths-by-age-band",
            "title": "The referral rate of every age band is at least four fifths of any other's, or compliance is told",
            "description": (
                "Age bands differ in credit history, so part of a referral gap by age is expected: the standard "
                "does not block on it, but puts every gap below four fifths in front of compliance as a warning."
            ),
            "evidence": "fairness.age_band.demographic_parity_ratio",
            "require": {">=": 0.8},
            "severity": "warning",
        },
        {
            "id": "ranking-quality",
            "title": "ROC AUC is at least 0.70, even at the low end of its confidence interval",
            "evidence": "performance.roc_auc.ci_low",
            "require": {">=": 0.7},
            "severity": "blocking",
        },
        {
            "id": "compliance-sign-off",
            "title": "Compliance signed off the version",
            "approved_by": ["compliance"],
            "applies_to": {"status": ["production"]},
        },
    ],
}


DECISIONS = {
    "id": "acme-decisions",
    "title": "Acme decision standard",
    "description": (
        "Who decided, on which evidence, must be provable: high-risk releases need a model-risk "
        "sign-off signed with the validator's SSH key, every version in production must have "
        "reached it through `modelgov promote`, which checks the policies first, and no version "
        "serves customers in an A/B test without Model Risk's signed approval of the test."
    ),
    "applies_to": {"status": ["candidate", "staging", "production"]},
    "rules": [
        {
            "id": "signed-model-risk-sign-off",
            "title": "Model Risk signed off the version with a signature (high risk)",
            "approved_by": ["model_risk"],
            "require_signature": True,
            "applies_to": {"risk_tier": ["high"], "status": ["production"]},
            "severity": "blocking",
        },
        {
            "id": "promoted-through-the-gate",
            "title": "The version reached production through modelgov promote",
            "status_recorded": True,
            "applies_to": {"status": ["production"]},
            "severity": "warning",
        },
        {
            # a candidate in an A/B test decides for real customers: its owner's approval alone is not enough.
            # The approval has a role of its own (Model Risk's validators hold it), so that the release
            # rules, which ask for model_risk, never count an approval given for the test.
            "id": "live-test-approved-by-model-risk",
            "title": "A version serving customers in an A/B test has Model Risk's signed approval of the test (role live_test)",
            "applies_to": {"status": ["candidate", "staging"]},
            "when": {
                "any_of": [{"evidence": "experiment.challenger.requests", "require": {">": 0}}],
                "missing": "not-applicable",
            },
            "approved_by": ["live_test"],
            # signed by a key the allowed-signers file gives live_test: an entry anyone can write in
            # approvals.yml, the owner's included, does not count
            "require_signature": True,
            "severity": "blocking",
        },
    ],
}


MODEL_RISK = {
    "id": "acme-model-risk",
    "title": "Acme model risk standard",
    "description": (
        "Every model's risks are assessed on the group's risk matrix, the model is governed at least "
        "at the tier its assessment implies, and the assessment is repeated on the tier's schedule."
    ),
    "applies_to": {"status": ["candidate", "staging", "production"]},
    "rules": [
        {
            "id": "tier-covers-assessed-risk",
            "title": "The declared risk tier is at least the tier the risk assessment implies",
            "evidence": "risk.implied_tier_met",
            "require": {"==": True},
            "severity": "warning",
        },
        {
            "id": "risk-reassessed-on-time",
            "title": "The risk assessment is not overdue for reassessment",
            "evidence": "risk.reassessment_overdue",
            "require": {"==": False},
            "severity": "warning",
        },
    ],
}


def waivers() -> dict:
    return {
        "waivers": [
            {
                "id": "W-2026-014",
                "policy": "acme-fair-lending",
                "rule": "four-fifths-by-sex",
                "models": [credit.MODEL_ID],
                "versions": ["1.1"],
                "reason": (
                    "1.1 stays live while the 2.0 retrain addresses the referral gap; Underwriting "
                    "reviews every referred application from women by hand in the meantime."
                ),
                "approved_by": "Helena Brandt (Chief Risk Officer)",
                "ticket": "RISK-2291",
                "granted": "2026-08-20",
                "expires": "2026-12-31",
            },
            {
                "id": "W-2026-009",
                "policy": "baseline",
                "rule": "no-sustained-drift",
                "models": [churn.MODEL_ID],
                "reason": "Drift is expected while the new account fee beds in; retraining is scheduled.",
                "approved_by": "Marcus Lindqvist (Customer Analytics)",
                "ticket": "CA-418",
                "granted": "2026-10-14",
                "expires": "2026-11-13",
            },
        ]
    }


def build(writer: WorkspaceWriter) -> None:
    writer.yaml("policies/acme-fair-lending.yml", FAIR_LENDING)
    writer.yaml("policies/acme-decisions.yml", DECISIONS)
    writer.yaml("policies/acme-model-risk.yml", MODEL_RISK)
    writer.yaml("waivers.yml", waivers())
