"""A model card's marking as an automated employment decision tool (AEDT) under New York City Local
Law 144, and what its bias-audit summary needs: model.yml ``employment_decision_tool``.

The law requires an employer using an AEDT to publish a summary of its latest bias audit: the audit's
date, the source and explanation of the data, the number of people assessed and of those in an
unknown category, and the selection (or scoring) rate and impact ratio of every sex, race/ethnicity
and intersectional category. modelgov computes it from the version's evaluation table; the columns
named here must be among the card's ``sensitive_features`` (so every table is checked for them).
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field, StrictBool

from modelgov.inputs import Strict, Text


class EmploymentDecisionTool(Strict):
    """model.yml ``employment_decision_tool``: the model is an AEDT; its bias audit is computed from
    each version's most recent evaluation."""

    sex: Text = Field(description="Column of the evaluation table with each applicant's sex category.")
    race_ethnicity: Text = Field(description="Column with each applicant's race/ethnicity category.")
    audit_date: dt.date = Field(description="The date of the bias audit, shown at the top of the summary.")
    data_source: Literal["historical", "test"] = Field(
        description="`historical`: data from the tool's own use; `test`: other data, allowed when historical data is "
        "insufficient, which the summary must then explain (`data_description`)."
    )
    data_description: Text = Field(
        description="The source and explanation of the data, as the published summary must give it."
    )
    distribution_date: dt.date | None = Field(None, description="The date the tool was first distributed or used.")
    output: Literal["selection", "score"] = Field(
        "selection",
        description="`selection`: the tool selects (the evaluation's `prediction` equal to `positive_label` is "
        "selected), and rates are selection rates; `score`: the tool scores (the evaluation's `score`), and rates are "
        "scoring rates, the share of a category scoring above the median score of all applicants.",
    )
    unknown_values: list[str] = Field(
        default_factory=list,
        description="Category values that mean the applicant's category is unknown (e.g. `Unknown`, `Declined`); "
        "an empty cell is always unknown. Counted, and left out of the rates.",
    )
    exclude_small_categories: StrictBool = Field(
        True,
        description="Leave categories with less than 2 % of the audited applicants out of the impact ratios, as the "
        "rules allow; the summary discloses each, with its number of applicants and its rate.",
    )
