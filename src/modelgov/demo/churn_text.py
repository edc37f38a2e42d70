"""The human-written parts of `customer-churn`: model card, datasheets, version notes, sign-offs.

The churn model's story is about data coverage (version 1.0 was rejected because its extract had
almost no customers from the migrated northern region) and about who receives retention offers — a
benefit, so the fairness question is who is *left out*. Seed-dependent figures are passed in.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from modelgov.demo.documents import Sheet, prose
from modelgov.demo.experiment import START as TEST_START
from modelgov.demo.monitoring import week_start

OWNER = ("Marcus Lindqvist", "marcus.lindqvist@acme.example", "Customer Analytics")
MODEL_OWNER = "Marcus Lindqvist (Customer Analytics)"
MODEL_RISK = "Samuel Okafor (Model Validation)"
COMPLIANCE = "Tomás Ortega (Compliance, Consumer Credit)"

VERSION_SUMMARIES = {
    "1.0": prose("""
        First churn model: logistic regression on eight account and usage inputs, trained on the
        2025-09-30 customer snapshot. Rejected by Model Risk because the snapshot extract had lost
        most customers from region `north`; never deployed.
    """),
    "1.1": prose("""
        Retrained on the corrected 2025-12-31 snapshot, which includes the customers migrated from
        Northern Savings, with gradient-boosted trees to capture the first-year and
        complaints-without-contract effects the linear model missed. Same inputs and threshold
        (0.4) as 1.0. In production since 2026-05-04.
    """),
    "1.2": prose(f"""
        Candidate: the same inputs, data and threshold as 1.1, with deeper gradient-boosted trees
        (300 trees of depth 4) to rank the first-year switchers better. In an A/B test against 1.1
        since {TEST_START:%Y-%m-%d}: each customer due for review is assigned at random to one version, half to
        each (1.1's production log keeps its half, the same records), and the share still with the
        bank 90 days later decides.
    """),
}


def approvals(north_share: float) -> dict[str, list[tuple[Any, ...]]]:
    """Sign-offs; ``north_share`` is the share of region-north rows in the faulty 2025-09 extract."""
    return {
        "1.0": [
            ("model_owner", MODEL_OWNER, "approved", dt.date(2026, 1, 20)),
            (
                "model_risk",
                MODEL_RISK,
                "rejected",
                dt.date(2026, 2, 6),
                f"Rejected. Only {north_share:.1%} of the training rows are from region north, against "
                "about 18% of the customer book: the extract dropped customers migrated from Northern "
                "Savings, who churn well above the average rate. Performance for them is unknown "
                "and the holdout has the same gap. Re-extract the full book, report results by region "
                "and resubmit.",
            ),
        ],
        "1.1": [
            ("model_owner", MODEL_OWNER, "approved", dt.date(2026, 4, 14)),
            (
                "model_risk",
                MODEL_RISK,
                "approved",
                dt.date(2026, 4, 28),
                "Region coverage now matches the book and results are reported per region. Approved "
                "for retention targeting; re-validate after any change to fees or contract terms.",
            ),
            (
                "compliance",
                COMPLIANCE,
                "approved",
                dt.date(2026, 4, 30),
                "Offers are discretionary goodwill, not pricing; no objection. Keep the age-band "
                "breakdown of offer rates in the quarterly report.",
            ),
        ],
        "1.2": [
            (
                "model_owner",
                MODEL_OWNER,
                "approved",
                dt.date(2026, 10, 22),
                "Approved for an A/B test against 1.1 on half of the customers due for review; promotion "
                "waits for the test's horizon.",
            ),
        ],
    }


_SNAPSHOTS = {
    "churn-snapshot-2025-09": ("2025-09-30", "training", "1.0", True),
    "churn-holdout-2025-09": ("2025-09-30", "holdout", "1.0", True),
    "churn-snapshot-2025-12": ("2025-12-31", "training", "1.1", False),
    "churn-holdout-2025-12": ("2025-12-31", "holdout", "1.1", False),
}


def datasheet(dataset_id: str, north_share: float) -> Sheet:
    date, role, version, faulty = _SNAPSHOTS[dataset_id]
    gaps = (
        "Business accounts and customers with only a savings product are excluded. Usage "
        "(`logins_30d`) is missing for customers without online banking and recorded as 0, which "
        "conflates 'not registered' with 'inactive'."
    )
    if faulty:
        gaps = (
            f"The extract silently dropped most customers migrated from Northern Savings: region north "
            f"is {north_share:.1%} of rows against about 18% of the book. Found by Model Risk during "
            f"validation of version 1.0; corrected from the 2025-12-31 snapshot onwards. " + gaps
        )
    split = "70 % of customers, drawn at random" if role == "training" else "the other 30 % of the customers"
    return Sheet(
        id=dataset_id,
        name=f"Current-account customers at {date} — {role}",
        description=prose(f"""
            One row per personal current-account customer at the {date} snapshot ({split}), with
            tenure, contract, product holding, fees, support contacts and digital usage, and whether
            the customer closed all accounts within the following 90 days. Used as the {role} set of
            version {version}. Synthetic example data produced by the modelgov demo generator; the
            rows are not real customers.
        """),
        source=(
            "Acme Bank customer data warehouse (account and contact-centre tables), snapshot "
            f"{date} — simulated by the modelgov demo generator"
        ),
        licence=(
            "Proprietary — Acme Financial Group internal use only (fictional; the synthetic files are "
            "distributed with modelgov under Apache-2.0)"
        ),
        method=(
            "Warehouse snapshot of all active personal current accounts on the snapshot date; outcome "
            "from account-closure events in the 90 days after it; customer_id is a pseudonymous key."
        ),
        period=f"snapshot {date}; outcomes over the following 90 days",
        contains_pii=True,
        pii_fields=("age", "region"),
        legal_basis=(
            "GDPR Art. 6(1)(f) legitimate interests (customer retention), balanced in LIA-2025-031; "
            "customers can object to profiling for marketing under Art. 21(2)."
        ),
        known_gaps=gaps,
        references=("Gebru et al. (2021), Datasheets for Datasets, Communications of the ACM 64(12)",),
    )


def card(offer_rates: dict[str, dict[str, float]], drift_week: int) -> dict[str, Any]:
    """``model.yml``; ``offer_rates`` holds versions 1.1's and 1.2's selection rates per age band on
    their shared holdout (the card is the model's, read on every version's page, so each figure names
    its version)."""
    drift_date = week_start(drift_week)
    young, old = offer_rates["1.1"].get("18-29", 0.0), offer_rates["1.1"].get("60+", 0.0)
    young_1_2, old_1_2 = offer_rates["1.2"].get("18-29", 0.0), offer_rates["1.2"].get("60+", 0.0)
    return {
        "name": "Current-account churn model",
        "owner": {"name": OWNER[0], "email": OWNER[1], "team": OWNER[2]},
        "task": "binary_classification",
        "risk_tier": "medium",
        "tags": ["retail-banking", "retention", "marketing"],
        "description": prose("""
            Estimates the probability that a personal current-account customer closes all accounts
            within the next 90 days. Inputs: age, tenure, contract type (month-to-month, one-year or
            two-year package), number of products, monthly account charges, support calls in the last
            90 days, online-banking logins in the last 30 days, and region. Each customer is scored
            once a month, in the week of their account review (a few hundred customers a week);
            customers at or above 0.4 are offered a retention call.
        """),
        "intended_use": {
            "primary_uses": prose("""
                Prioritising proactive retention calls and goodwill fee waivers by the retention team,
                whose capacity is roughly a quarter of the book per quarter.
            """),
            "primary_users": "Retention team and Customer Analytics (campaign planning and reporting).",
            "out_of_scope": prose("""
                Pricing or fee setting for individual customers, credit or limit decisions, deciding
                whether to serve or close an account, staff performance assessment, and any use
                outside personal current accounts.
            """),
        },
        "factors": {
            "relevant": prose("""
                Age (digital usage and switching behaviour differ strongly by age), region (the north
                was migrated from Northern Savings in 2023–24 and has fewer branches), contract type,
                and fee changes, which move churn across the whole book at once.
            """),
            "evaluation": prose("""
                Results are broken down by `age_band` and `region`; region is also a model input,
                reported separately because the rejected version 1.0 had almost no northern
                customers.
            """),
        },
        "metrics": {
            "performance_measures": prose("""
                ROC AUC and PR AUC for ranking; precision at the threshold (share of calls that reach
                a customer who would have left) and recall (share of leavers reached); Brier score for
                calibration, because expected retained revenue is computed from the probabilities.
            """),
            "decision_threshold": prose("""
                0.4 on the churn probability (positive label 1 = churned), set so the number of
                customers flagged matches the retention team's call capacity.
            """),
            "variation_approaches": "95 % bootstrap intervals (seeded) for metrics and group rates.",
        },
        "ethical_considerations": prose(f"""
            A retention offer is a benefit, so the concern is who is left out. On the 1.1 holdout,
            {young:.1%} of customers aged 18-29 are flagged against {old:.1%} of those aged 60+ (by
            the candidate 1.2 on the same rows, {young_1_2:.1%} against {old_1_2:.1%}):
            older customers churn less, but those who do leave are less likely to be offered a fee
            waiver. Age is an input because usage and switching differ by age; the offer-rate gap is
            reported quarterly to Compliance. Customers can object to profiling for marketing, and
            objectors are removed before scoring.
        """),
        "caveats": prose(f"""
            The 90-day outcome means performance is known only three months after scoring. From the
            week of {drift_date:%Y-%m-%d} (monitoring week {drift_week}) a new 4.00 monthly account fee
            and a competitor's switching bonus raise monthly charges and churn across the book; the
            model was trained before both and under-estimates churn since, especially for
            month-to-month customers. Region `north` has the shortest history in the data.
        """),
        "sensitive_features": ["age_band", "region"],
        "licence": "Proprietary — internal use only (fictional example)",
        "references": ["Mitchell et al. (2019), Model Cards for Model Reporting, FAT* '19"],
    }
