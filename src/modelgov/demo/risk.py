"""Each demo model's risk assessment, rated on the default risk matrix.

Three stories, so the risk page and its rules show each outcome (as of the demo's check date):

* credit-default (declared high): its worst risks rate high, which the high tier covers; assessed
  two months before the check, so not yet due again;
* customer-churn (declared medium): a wrong retention call on a likely, major risk rates high, so
  the assessment implies the high tier and the declared medium tier is below it;
* diabetes-progression (declared high): its risks rate medium, which the high tier covers, but it
  was assessed more than a year before the check, past the 180 days its declared tier allows.
"""

from __future__ import annotations

import datetime as dt


def _as_of() -> dt.date:
    from modelgov.demo.policies import AS_OF  # policies imports the model modules: read it late

    return AS_OF


def credit_assessment() -> dict:
    return {
        "assessed_by": "Rita Reviewer (Model Risk)",
        "assessed_on": (_as_of() - dt.timedelta(days=61)).isoformat(),
        "risks": {
            "unavailable": {
                "probability": "unlikely",
                "impact": "moderate",
                "note": "Applications fall back to the manual scorecard within the hour; decisions slow, none are lost.",
            },
            "bad_prediction": {
                "probability": "possible",
                "impact": "major",
                "note": "A wrong approval is a loan loss; a wrong referral delays an applicant and risks unfair treatment.",
            },
            "decay": {
                "probability": "likely",
                "impact": "moderate",
                "note": "Incomes and debt ratios move with the economy; the monitoring shows drift within months.",
            },
            "skills_lost": {
                "probability": "unlikely",
                "impact": "major",
                "note": "Two modellers know the pipeline; its training code is in version control.",
            },
        },
    }


def churn_assessment() -> dict:
    return {
        "assessed_by": "Marcus Lindqvist (Customer Analytics)",
        "assessed_on": (_as_of() - dt.timedelta(days=98)).isoformat(),
        "risks": {
            "unavailable": {
                "probability": "possible",
                "impact": "minor",
                "note": "Retention calls pause until the next scoring run; no customer decision depends on it alone.",
            },
            "bad_prediction": {
                "probability": "likely",
                "impact": "major",
                "note": "Offers go to customers who would have stayed, and leavers are missed; since the fee change "
                "wrong calls are frequent and each costs a customer or an unneeded discount.",
            },
            "decay": {
                "probability": "likely",
                "impact": "moderate",
                "note": "Pricing and competitor offers change churn within weeks.",
            },
            "skills_lost": {
                "probability": "possible",
                "impact": "moderate",
                "note": "One analyst maintains the model.",
            },
            "offer_fatigue": {
                "title": "Customers tire of repeated offers",
                "probability": "possible",
                "impact": "minor",
                "note": "Customers flagged every month receive the same offer again.",
            },
        },
    }


def diabetes_assessment() -> dict:
    return {
        "assessed_by": "Dr. Amira Haddad (Clinical Governance)",
        "assessed_on": (_as_of() - dt.timedelta(days=402)).isoformat(),
        "risks": {
            "unavailable": {
                "probability": "rare",
                "impact": "minor",
                "note": "Case managers prioritise by hand while it is down.",
            },
            "bad_prediction": {
                "probability": "unlikely",
                "impact": "major",
                "note": "A patient whose progression is underestimated may get support late; case managers review "
                "every ranking before outreach.",
            },
            "decay": {
                "probability": "possible",
                "impact": "moderate",
                "note": "Enrolment campaigns change who is scored.",
            },
            "skills_lost": {
                "probability": "unlikely",
                "impact": "moderate",
                "note": "A ridge regression on ten variables: simple to retrain and to explain.",
            },
        },
    }
