"""The human-written parts of `diabetes-progression`: model card, datasheets, version note, sign-offs.

Unlike the other models this one runs on real, published data, so the datasheets cite the source
exactly and say what the source does not tell us (recruitment, period, which sex code is which)
instead of filling the gaps with plausible fiction. The deployment around it is fictional.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from modelgov.demo.documents import Sheet, prose
from modelgov.demo.monitoring import week_start

OWNER = ("Dr. Amara Nwosu", "amara.nwosu@acme.example", "Health Analytics, Acme Health Insurance")
MODEL_OWNER = "Dr. Amara Nwosu (Health Analytics)"
MODEL_RISK = "Priya Raman (Model Validation)"
COMPLIANCE = "Hannah Becker (Compliance, Health & Data Protection)"

SOURCE = (
    'Efron, B., Hastie, T., Johnstone, I. and Tibshirani, R. (2004), "Least Angle Regression", '
    "Annals of Statistics 32(2), 407–499 — the diabetes data as distributed with scikit-learn "
    "(sklearn.datasets.load_diabetes, scaled=False)"
)
REFERENCES = (
    'Efron, Hastie, Johnstone and Tibshirani (2004), "Least Angle Regression", Annals of Statistics '
    "32(2), 407–499. https://web.stanford.edu/~hastie/Papers/LARS/LeastAngle_2002.pdf",
    "Original data page: https://www4.stat.ncsu.edu/~boos/var.select/diabetes.html",
    "scikit-learn diabetes dataset: https://scikit-learn.org/stable/datasets/toy_dataset.html",
)

VERSION_SUMMARY = prose("""
    Ridge regression (alpha = 1.0) on the ten baseline variables, standardised, trained on a seeded
    75 % split of the 442 patients. In production since 2026-06-01 for ordering nurse outreach in
    the diabetes care-management programme.
""")

APPROVALS: list[tuple[Any, ...]] = [
    ("model_owner", MODEL_OWNER, "approved", dt.date(2026, 5, 19)),
    (
        "model_risk",
        MODEL_RISK,
        "approved",
        dt.date(2026, 5, 27),
        "Approved for ordering outreach only. The training data is small (442 patients) and of unknown "
        "provenance beyond the 2004 publication; the holdout R² of about 0.5 is adequate for ranking "
        "outreach, not for any individual clinical judgement.",
    ),
    (
        "compliance",
        COMPLIANCE,
        "approved",
        dt.date(2026, 5, 29),
        "Health data of members is processed with explicit consent under the programme terms. Confirmed "
        "that scores are not shared with underwriting or pricing.",
    ),
]


def datasheet(dataset_id: str, rows: int, total: int) -> Sheet:
    role = "training" if dataset_id.endswith("train") else "holdout"
    return Sheet(
        id=dataset_id,
        name=f"Diabetes progression (Efron et al., 2004) — {role} split",
        description=prose(f"""
            **Real data.** Baseline measurements of {total} diabetes patients — age, sex, body-mass
            index, average blood pressure and six blood serum measurements — with a quantitative
            measure of disease progression one year after baseline (`progression`). This file is
            the seeded {role} split ({rows} rows) of the copy distributed with scikit-learn, in the
            original units (`scaled=False`).

            Column changes: scikit-learn's `s1`–`s6` are renamed to the abbreviations its
            documentation gives: `tc` (total serum cholesterol), `ldl` and `hdl` (low- and
            high-density lipoproteins), `tch` (total cholesterol / HDL), `ltg` (possibly the log
            of serum triglycerides) and `glu` (blood sugar). `sex` is coded 1/2 in the source,
            which does not say which code is female and which male; the codes are kept as `sex_1`
            and `sex_2` rather than guessed. `age_band` is derived from age; `patient_id` is the
            row number in the scikit-learn copy (P001–P{total:03d}).
        """),
        source=SOURCE,
        licence=(
            "Published with the paper for research use; redistributed by scikit-learn (BSD-3-Clause). "
            "The original authors state no separate licence."
        ),
        method=(
            "Collected and published by the original authors; the publication does not describe "
            "recruitment, sites or consent. Split here with a seeded random 75/25 partition."
        ),
        period="Not stated in the source (published 2004)",
        contains_pii=False,
        known_gaps=prose(f"""
            Only {total} patients; no ethnicity, medication, diabetes type or duration; the meaning
            of `ltg` is described as "possibly" log triglycerides; sex codes are undocumented.
            Patients aged 18-29 are few (under 10 % of rows), so results for that band are
            unreliable. No direct identifiers, but these are health measurements of real people:
            do not attempt re-identification or linkage.
        """),
        references=REFERENCES,
    )


def card(drift_week: int, total: int) -> dict[str, Any]:
    drift_date = week_start(drift_week)
    return {
        "name": "Diabetes progression score (care-management outreach)",
        "owner": {"name": OWNER[0], "email": OWNER[1], "team": OWNER[2]},
        "task": "regression",
        "risk_tier": "high",
        "tags": ["health", "care-management", "real-data"],
        "description": prose(f"""
            Predicts a quantitative measure of diabetes progression one year ahead from ten baseline
            variables: age, sex, body-mass index, average blood pressure and six blood serum
            measurements. A ridge regression trained on the real, public diabetes data of Efron et
            al. (2004) — {total} patients, distributed with scikit-learn. The prediction is on the
            study's own progression scale (roughly 25–350), not a probability.
        """),
        "intended_use": {
            "primary_uses": prose("""
                Ordering the call list of the voluntary diabetes care-management programme: members
                with a higher predicted progression are offered a nurse call sooner. Every enrolled
                member is called eventually; the score only changes the order.
            """),
            "primary_users": "Care-management nurses and the programme's operations lead.",
            "out_of_scope": prose("""
                Underwriting, premium setting, claims or coverage decisions; diagnosis, treatment or
                any individual clinical advice; people without diabetes; and populations unlike the
                study's (the source does not describe who was recruited, or where).
            """),
        },
        "factors": {
            "relevant": prose("""
                Sex and age (physiology and care access differ), body-mass index and the serum
                measurements' laboratory methods, and who enrols in the programme, which changes as
                outreach campaigns change.
            """),
            "evaluation": prose("""
                Errors are broken down by `sex` (`sex_1`, `sex_2` — the source's codes, which it does
                not map to female/male) and `age_band`. The holdout has about 110 patients, so three of
                the four age bands (18-29, 30-44 and 60+) fall below the minimum group size of 30 and are
                flagged, not dropped.
            """),
        },
        "metrics": {
            "performance_measures": prose("""
                Mean absolute error (in progression units, easy to explain to nurses), root mean
                squared error (penalises the large misses that would delay a call most) and R².
                Fairness: mean absolute error and mean signed error per group, so systematic
                under-prediction for a group — which would delay their calls — is visible.
            """),
            "variation_approaches": "95 % bootstrap intervals (seeded); with ~110 holdout rows they are wide.",
        },
        "ethical_considerations": prose("""
            The model processes health data (a special category under GDPR Art. 9): members consent
            explicitly when enrolling and the scores are walled off from underwriting and pricing.
            The training data is real: 442 people who took part in a study, published de-identified;
            it must not be used to re-identify anyone. Because the source does not say which sex code
            is which, the model card and the site report `sex_1` and `sex_2` instead of guessing.
            Under-prediction for a group would mean later calls for that group; per-group signed
            error is therefore reviewed at each validation.
        """),
        "caveats": prose(f"""
            A small, old study population of unknown provenance: performance on today's members is
            an assumption that monitoring has to keep checking. From the week of
            {drift_date:%Y-%m-%d} (monitoring week {drift_week}) an enrolment campaign aimed at
            members with obesity shifts the scored population to higher BMI and faster progression;
            the model under-predicts for the newly enrolled. In this example the monitoring records
            are real patients resampled with replacement — tilted towards high BMI and fast
            progression from that week — not new members.
        """),
        "sensitive_features": ["sex", "age_band"],
        "intersections": [["sex", "age_band"]],
        "licence": "Model: proprietary (fictional example). Data: see the datasheets.",
        "references": [
            "Mitchell et al. (2019), Model Cards for Model Reporting, FAT* '19",
            REFERENCES[0],
        ],
    }
