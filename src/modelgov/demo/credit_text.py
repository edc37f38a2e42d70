"""The human-written parts of `credit-default`: model card, datasheets, version notes, sign-offs.

This is what a risk manager reads on the generated site, so it is written the way a bank's model
documentation is written — specific about data, use and limits — and honest about the two things the
example data is built to show: the selection-rate gap between women and men, and the downturn that
starts in monitoring week ``CREDIT_DRIFT_START_WEEK``. Figures that depend on the seed are passed in,
never hard-coded, so the prose stays true for every seed.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from modelgov.demo.common import AGE_BAND_LABELS
from modelgov.demo.documents import Sheet, prose
from modelgov.demo.monitoring import MONITORING_START, MONITORING_WEEKS, week_start

OWNER = ("Dana Whitfield", "dana.whitfield@acme.example", "Retail Credit Risk Analytics")
MODEL_RISK = "Priya Raman (Model Validation)"
COMPLIANCE = "Tomás Ortega (Compliance, Consumer Credit)"
MODEL_OWNER = "Dana Whitfield (Retail Credit Risk Analytics)"

VERSION_SUMMARIES = {
    "1.0": prose("""
        First statistical default model for unsecured personal loans, replacing the manual
        underwriting grid. Logistic regression on seven application and bureau inputs, trained on
        applications from 2019–2020. Retired on 2025-03-03 when 1.1 went live. The fitted model
        file was not archived; the input importances from the 2022 training report are recorded
        with the training details instead.
    """),
    "1.1": prose("""
        Retrain of the logistic regression on 2022-01 to 2023-06 applications, adding two inputs
        (`open_credit_lines` from the new bureau feed, and `loan_term_months`) and stronger
        regularisation (C = 0.5). In production since 2025-03-03. Re-evaluated on 2026-07-20 on
        `credit-holdout-2026` as the champion in the 2.0 champion–challenger comparison.
    """),
    "2.0": prose("""
        Challenger: gradient-boosted trees (HistGradientBoostingClassifier) on the same nine inputs
        as 1.1, trained on the more recent 2023-07 to 2024-12 applications to capture non-linear
        effects of debt ratio and loan size. Evaluated on exactly the same `credit-holdout-2026`
        rows as 1.1 so the two versions can be compared like for like. Awaiting independent
        validation; not yet approved for production.
    """),
}

APPROVALS: dict[str, list[tuple[Any, ...]]] = {
    "1.0": [
        ("model_owner", MODEL_OWNER, "approved", dt.date(2022, 9, 13)),
        (
            "model_risk",
            MODEL_RISK,
            "approved",
            dt.date(2022, 9, 26),
            "Validated against the underwriting grid on the 2021 out-of-time sample. Approved.",
        ),
        ("compliance", COMPLIANCE, "approved", dt.date(2022, 9, 28)),
    ],
    "1.1": [
        ("model_owner", MODEL_OWNER, "approved", dt.date(2025, 1, 21)),
        (
            "model_risk",
            MODEL_RISK,
            "approved",
            dt.date(2025, 2, 14),
            "Approved with conditions: (1) quarterly review of the selection-rate gap between women "
            "and men, which is explained by income and debt ratio but remains below the four-fifths "
            "ratio; (2) re-validation if the monthly observed default rate moves more than five "
            "percentage points from the development sample. The conditions are in the signed audit log.",
        ),
        (
            "compliance",
            COMPLIANCE,
            "approved",
            dt.date(2025, 2, 20),
            "Confirmed that sex is not a model input and that every declined application receives "
            "adverse-action reasons derived from the model's largest contributions.",
        ),
    ],
    "2.0": [
        ("model_owner", MODEL_OWNER, "approved", dt.date(2026, 7, 22)),
        (
            "model_risk",
            MODEL_RISK,
            "pending",
            dt.date(2026, 7, 27),
            "Independent validation in progress: champion–challenger comparison on the shared "
            "credit-holdout-2026 rows, stability of the boosted model across segments, and whether "
            "adverse-action reasons can be produced as reliably as for the logistic model.",
        ),
    ],
}

_PERIODS = {
    "credit-train-2021": ("applications 2019-01 to 2020-12; outcomes observed to 2021-12", "training", "1.0"),
    "credit-holdout-2021": ("applications 2021-01 to 2021-06; outcomes observed to 2022-06", "holdout", "1.0"),
    "credit-train-2024": ("applications 2022-01 to 2023-06; outcomes observed to 2024-06", "training", "1.1"),
    "credit-holdout-2024": ("applications 2023-07 to 2023-12; outcomes observed to 2024-12", "holdout", "1.1"),
    "credit-train-2026": ("applications 2023-07 to 2024-12; outcomes observed to 2025-12", "training", "2.0"),
    "credit-holdout-2026": ("applications 2025-01 to 2025-06; outcomes observed to 2026-06", "holdout", "1.1 and 2.0"),
}


def datasheet(dataset_id: str) -> Sheet:
    period, role, versions = _PERIODS[dataset_id]
    use = (
        f"Development sample for version {versions}."
        if role == "training"
        else f"Out-of-time holdout used to evaluate version{'s' if 'and' in versions else ''} {versions}; never used for fitting."
    )
    gaps = (
        "Outcomes exist only for loans that were granted: declined applications are absent (no reject "
        "inference), so the riskiest applicants are under-represented. Income is self-declared and "
        "verified only above 60,000. `sex` is recorded as F/M from the application form, which offers "
        "no other option. Applicants aged 60+ and retired applicants are few, so their estimates are "
        "less certain."
    )
    if dataset_id == "credit-train-2021":
        gaps += " Applications from 2020 overlap COVID-19 payment holidays, which suppressed observed defaults."
    return Sheet(
        id=dataset_id,
        name=f"Personal-loan applications — {role} ({period.split(';')[0].removeprefix('applications ')})",
        description=prose(f"""
            One row per unsecured personal-loan application with the applicant's declared and
            bureau attributes at application time and whether the loan defaulted (90+ days past due
            within 12 months of origination). {use}
            Synthetic example data produced by the modelgov demo generator; the structure (lognormal
            income rising with age, a pay gap between sexes, late payments driven by debt load) is
            modelled on a real retail book, the rows are not real people.
        """),
        source=(
            "Acme Lending loan-origination system (applications) joined to the servicing ledger "
            "(12-month outcome) and the credit bureau feed — simulated by the modelgov demo generator"
        ),
        licence=(
            "Proprietary — Acme Financial Group internal use only (fictional; the synthetic files are "
            "distributed with modelgov under Apache-2.0)"
        ),
        method=(
            "Extract of all granted applications in the period, with the outcome taken from the "
            "servicing ledger 12 months after origination; application_id is a pseudonymous key."
        ),
        period=period,
        contains_pii=True,
        pii_fields=("age", "sex", "annual_income", "employment_type"),
        # application ids are pseudonymous keys: explained decisions may name them, the fields above stay masked
        publish_records=True,
        legal_basis=(
            "GDPR Art. 6(1)(b) (steps prior to a credit contract) and Art. 6(1)(c) (creditworthiness "
            "assessment required by consumer-credit law); `sex` is kept only for fairness monitoring "
            "under Art. 6(1)(f), as recorded in DPIA-2024-017."
        ),
        known_gaps=gaps,
        references=(
            "Gebru et al. (2021), Datasheets for Datasets, Communications of the ACM 64(12)",
            "EBA Guidelines on loan origination and monitoring (EBA/GL/2020/06)",
        ),
    )


def card(rates: dict[str, dict[str, dict[str, float]]], drift_week: int) -> dict[str, Any]:
    """``model.yml``. ``rates`` holds, for versions 1.1 and 2.0, the selection and observed default
    rates by sex on ``credit-holdout-2026``, so the disparity is quoted from the data the site shows
    (the card is the model's, shared by its versions, so each figure names its version); ``drift_week``
    is the monitoring week the downturn starts."""
    sel, obs = rates["1.1"]["selection"], rates["1.1"]["default"]
    ratio = min(sel.values()) / max(sel.values())
    candidate = rates["2.0"]["selection"]
    candidate_ratio = min(candidate.values()) / max(candidate.values())
    default_ratio = min(obs.values()) / max(obs.values())
    gap_1_1 = 100 * abs(sel["F"] - sel["M"])
    default_gap = 100 * abs(obs["F"] - obs["M"])
    gap_2_0 = 100 * abs(candidate["F"] - candidate["M"])
    same_gap = (
        ": its ratio is higher because it refers more applicants overall, not because it treats women and men more alike."
        if abs(gap_2_0 - gap_1_1) < 1 and candidate_ratio > ratio
        else "."
    )
    drift_date = week_start(drift_week)
    last = week_start(MONITORING_WEEKS)
    return {
        "name": "Personal-loan default model (PD)",
        "owner": {"name": OWNER[0], "email": OWNER[1], "team": OWNER[2]},
        "task": "binary_classification",
        "risk_tier": "high",
        "tags": ["credit", "lending", "probability-of-default", "eu-ai-act-annex-iii"],
        "description": prose("""
            Estimates the probability that an applicant for an unsecured personal loan
            (1,000–50,000, 12–60 months) defaults — 90+ days past due within 12 months of
            origination. Inputs are the applicant's age, declared annual income, employment type,
            debt-to-income ratio, length of credit history, late payments in the last 24 months,
            open credit lines, and the requested amount and term. Sex is **not** an input; it is
            kept beside the scores only to measure fairness.

            Versions 1.0 and 1.1 are logistic regressions (an auditable, scorecard-like form);
            2.0 is a gradient-boosted challenger. An application is referred to manual
            underwriting when the predicted probability of default is 0.5 or higher.
        """),
        "intended_use": {
            "primary_uses": prose("""
                Triage of personal-loan applications at origination: applications scoring below the
                threshold follow the automated approval path (still subject to affordability and
                fraud checks); applications at or above it are referred to an underwriter, who makes
                the decision. The score also informs the adverse-action reasons given to applicants.
            """),
            "primary_users": prose("""
                Retail underwriting team (referrals), the credit-decision engine (automated path),
                and Credit Risk for portfolio monitoring.
            """),
            "out_of_scope": prose("""
                Secured lending (mortgages, auto), business or sole-trader lending, credit-limit
                increases on existing accounts, collections prioritisation, pricing, and marketing
                pre-selection. Not for applicants under 18 or without a bureau file. Never to be used
                as the sole basis for declining an applicant.
            """),
        },
        "factors": {
            "relevant": prose("""
                Sex and age (protected characteristics); employment type, because contract and
                self-employed incomes are more volatile; income level, which carries a structural gap
                between women and men in this book; and the economic cycle, since default rates move
                with local unemployment and interest rates.
            """),
            "evaluation": prose("""
                Every evaluation is broken down by `sex` (F/M) and `age_band` (18-29, 30-44, 45-59,
                60+). Employment type is examined in the subgroup error analysis. A rate resting on
                fewer than 30 people is marked as such in the group tables, and a group with too few
                people behind a rate is left out of the gaps that use it, and named there; the 18-29
                and 60+ bands are the smallest.
            """),
        },
        "metrics": {
            "performance_measures": prose("""
                ROC AUC for ranking quality (the quantity underwriting capacity planning relies on);
                Brier score and the calibration curve because the probability feeds expected-loss
                provisioning; precision and recall at the threshold because they set the referral
                workload and the share of defaults caught. Fairness: selection rate (share referred),
                true- and false-positive rates by group, demographic-parity and equalized-odds ratios.
            """),
            "decision_threshold": prose("""
                0.5 on the predicted probability of default (positive label 1 = default), agreed with
                Underwriting in 2022 as the referral capacity the team can absorb; a referral is a
                human review, not a decline.
            """),
            "variation_approaches": prose("""
                95 % bootstrap intervals (seeded) for every metric and group; 1.1
                and 2.0 are compared on identical holdout rows so their difference is paired.
            """),
        },
        "ethical_considerations": prose(f"""
            Although sex is not an input, the model refers women more often than men. On
            `credit-holdout-2026` version 1.1 refers {sel["F"]:.1%} of women and {sel["M"]:.1%} of
            men (selection-rate ratio {ratio:.2f}, below the four-fifths rule of thumb), while the
            observed default rates are {obs["F"]:.1%} and {obs["M"]:.1%} (ratio {default_ratio:.2f}, a
            gap of {default_gap:.1f} points against {gap_1_1:.1f} points in referrals). A ratio and a gap
            in points can point different ways, and neither says whether applicants of the same risk are
            referred alike: the true and false positive rates by group on each version's fairness page do.
            On the same rows the candidate 2.0 refers {candidate["F"]:.1%} of women and
            {candidate["M"]:.1%} of men (ratio {candidate_ratio:.2f}): a gap of {gap_2_0:.1f} points
            against 1.1's {gap_1_1:.1f}{same_gap} Each
            version's fairness page has its own figures with their intervals, and the comparison
            of the two versions the paired difference. The gap follows from lower declared incomes
            and higher debt ratios among women in this book, a structural pay gap, and it is
            monitored rather than corrected by using sex in the model. Model Risk made a quarterly
            review of this gap a condition of approving 1.1, and referrals are reviewed by people,
            which limits but does not remove the harm of a disproportionate referral rate. Age is an
            input; its use is justified by its relation to credit history and is reviewed by
            Compliance against age-discrimination law.
        """),
        "caveats": prose(f"""
            Trained only on granted loans, so risk among applicants the old grid declined is
            extrapolated. Performance was measured on out-of-time holdouts before each release; it
            does not carry over automatically to a different economic climate. Monitoring of 1.1
            (weekly from {MONITORING_START:%Y-%m-%d} to the week of {last:%Y-%m-%d}) shows drift from
            the week of {drift_date:%Y-%m-%d} (week {drift_week}): declared incomes fall,
            debt ratios and open credit lines rise, more applicants are on contracts, and observed defaults rise well above the predicted rate, concentrated
            among contract and self-employed borrowers. Outcomes for the most recent weeks have not
            arrived yet. Until 2.0 is validated, Underwriting has been asked to review borderline
            scores (0.35–0.5) from contract and self-employed applicants.
        """),
        "sensitive_features": ["sex", "age_band"],
        "intersections": [["sex", "age_band"]],
        "expected_groups": {"sex": ["F", "M"], "age_band": list(AGE_BAND_LABELS)},
        # the age band most applicants are in, against which the fair-lending standard reads each other band
        "group_comparisons": {"age_band": {"reference": "30-44"}},
        "licence": "Proprietary — internal use only (fictional example)",
        "references": [
            "Mitchell et al. (2019), Model Cards for Model Reporting, FAT* '19",
            "Regulation (EU) 2024/1689 (AI Act), Annex III point 5(b): creditworthiness evaluation",
            "Federal Reserve SR 26-2 / OCC Bulletin 2026-13, Revised Guidance on Model Risk Management (2026)",
        ],
    }


#: What the explained-decisions page calls each input, and what a counterfactual may change.
EXPLAINED_FEATURES: dict[str, dict[str, Any]] = {
    "age": {"label": "Applicant's age", "immutable": True, "sensitive": True},
    "sex": {"label": "Sex", "immutable": True},
    "annual_income": {"label": "Annual income", "range": [0, 1_000_000]},
    "employment_type": {"label": "Type of employment"},
    "debt_ratio": {"label": "Debt-to-income ratio", "range": [0, 1]},
    "credit_history_months": {"label": "Length of credit history", "monotone": "increase"},
    "num_late_payments": {"label": "Late payments on record", "immutable": True},
    "open_credit_lines": {"label": "Open credit lines"},
    "loan_amount": {"label": "Amount requested", "range": [1000, 50000]},
    "loan_term_months": {"label": "Loan term"},
}


def explanations(records: list[str]) -> dict[str, Any]:
    """The card's ``explanations``: ten applicants named by id (complaints and audited cases)."""
    return {
        "records": records,
        "id_column": "application_id",
        "adverse": "high",
        "reason_codes": 4,
        "features": EXPLAINED_FEATURES,
    }
