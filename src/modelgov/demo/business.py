"""The demo's business KPIs: what each monitored model is for, and the log columns that measure it.

The columns are added to the scoring log and the outcome table after they are simulated, from their
own random stream (:func:`~modelgov.demo.common.stream` with the label ``business``), so every value
the other pages show stays as it was.

* **credit-default**: the share of applicants the model approves outright (those it predicts will
  default are referred to an underwriter, and are not counted as approved), beside the previous scorecard's decision logged in shadow mode; and credit losses as a
  share of the volume lent, which the downturn from the drift week pushes past its target once those
  weeks' outcomes arrive.
* **customer-churn**: the share of flagged customers still with the bank 90 days later, among those
  the retention team called and among a random fifth held out as a control group. The model ranks
  churners well, but the calls change nothing: the two shares stay level, week after week.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

#: Share of flagged churn customers held out of the retention campaign as a control group.
CONTROL_SHARE = 0.2


def credit_columns(
    rng: np.random.Generator, log: pd.DataFrame, truth: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``approved`` (the model's decision) and ``scorecard_approved`` (the previous scorecard's, run in
    shadow mode) in the log; ``granted_amount`` and ``loss_amount`` of approved loans in the outcomes."""
    log = log.copy()
    log["approved"] = log["prediction"].to_numpy() == 0
    log["scorecard_approved"] = (log["debt_ratio"].to_numpy() < 0.42) & (log["num_late_payments"].to_numpy() <= 2)
    lent = log.set_index("request_id")[["approved", "loan_amount"]]
    truth = truth.copy()
    joined = lent.loc[truth["request_id"].to_numpy()]
    granted = np.where(joined["approved"].to_numpy(), joined["loan_amount"].to_numpy(dtype=float), np.nan)
    # loss given default: the share of the loan not recovered
    lost = rng.beta(2.0, 8.0, len(truth))
    defaulted = truth["default"].to_numpy() == 1
    truth["granted_amount"] = granted
    truth["loss_amount"] = np.where(np.isnan(granted), np.nan, np.round(np.where(defaulted, granted * lost, 0.0), 2))
    return log, truth


def churn_columns(
    rng: np.random.Generator, log: pd.DataFrame, truth: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """In the outcomes, for customers the model flagged: ``stayed_called`` (1 if a customer the
    retention team called was still a customer 90 days later) and ``stayed_control`` (the same for the
    flagged customers held out at random); each is empty for the other group and for the unflagged."""
    flagged = log.set_index("request_id")["prediction"].to_numpy() == 1
    control = rng.random(len(log)) < CONTROL_SHARE
    group = pd.DataFrame({"flagged": flagged, "control": control}, index=log["request_id"].to_numpy()).loc[
        truth["request_id"].to_numpy()
    ]
    stayed = (truth["churned"].to_numpy() == 0).astype(float)
    truth = truth.copy()
    truth["stayed_called"] = np.where(group["flagged"] & ~group["control"], stayed, np.nan)
    truth["stayed_control"] = np.where(group["flagged"] & group["control"], stayed, np.nan)
    return log, truth


def credit_card() -> dict[str, Any]:
    """``business`` of credit-default's model.yml."""
    return {
        "objective": (
            "Lend to creditworthy applicants while keeping credit losses within the risk appetite the "
            "board set for the retail book: approve at least as many applicants as the previous "
            "scorecard did, with losses below 4 % of the volume lent."
        ),
        "kpis": [
            {
                "name": "approval_rate",
                "title": "Approval rate",
                "description": (
                    "Share of applicants the model approves outright (those it predicts will default are referred"
                    " to an underwriter, and are not counted here)."
                ),
                "definition": {"aggregation": "rate", "column": "approved"},
                "direction": "higher",
                "target": 0.6,
                "unit": "percent",
                "baseline": {
                    "description": "the previous scorecard's decision on the same applicants, logged in shadow mode",
                    "column": "scorecard_approved",
                },
            },
            {
                "name": "loss_rate",
                "title": "Credit losses",
                "description": (
                    "Amount written off on approved loans as a share of the amount lent, once the 12-month "
                    "outcome is known (in this example the 12 months are compressed to a few weeks, so that a "
                    "short log shows the outcomes arriving)."
                ),
                "definition": {
                    "aggregation": "ratio",
                    "numerator": "loss_amount",
                    "denominator": "granted_amount",
                    "table": "outcomes",
                },
                "direction": "lower",
                "target": 0.04,
                "unit": "percent",
                "baseline": {
                    "description": "losses under the previous scorecard",
                    "value": 0.038,
                    "source": "Retail credit annual loss report 2025 (written off ÷ lent)",
                },
            },
        ],
    }


def churn_card() -> dict[str, Any]:
    """``business`` of customer-churn's model.yml."""
    return {
        "objective": (
            "Keep more current-account customers: the retention team calls the customers the model "
            "flags, and a call should make them more likely to stay than they would be without one."
        ),
        "kpis": [
            {
                "name": "retained_after_call",
                "title": "Flagged customers retained after a call",
                "description": (
                    "Share of the flagged customers the retention team called who are still customers 90 days "
                    "later (in this example the 90 days are compressed to a few weeks, so that a short log shows "
                    "the outcomes arriving)."
                ),
                "definition": {"aggregation": "rate", "column": "stayed_called", "table": "outcomes"},
                "direction": "higher",
                "target": 0.5,
                "unit": "percent",
                "baseline": {
                    "description": (
                        "flagged customers held out of the campaign at random (one in five), who get no call"
                    ),
                    "column": "stayed_control",
                },
            }
        ],
    }
