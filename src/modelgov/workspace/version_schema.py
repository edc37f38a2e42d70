"""``models/<model-id>/versions/<version>/version.yml``: one trained version of a model — its status
and summary, and the sections defined in their own modules: training and evaluations
(:mod:`.training_schema`), monitoring (:mod:`.monitoring_schema`), an A/B test
(:mod:`.experiment_schema`) and a shadow test (:mod:`.shadow_schema`).
"""

from __future__ import annotations

import datetime as dt

from pydantic import Field

from modelgov.inputs import Status, Strict, Text
from modelgov.workspace.experiment_schema import Experiment
from modelgov.workspace.monitoring_schema import Monitoring
from modelgov.workspace.shadow_schema import ShadowTest
from modelgov.workspace.training_schema import Evaluation, Training


class Version(Strict):
    """`models/<model-id>/versions/<version>/version.yml`: one trained version of a model."""

    created: dt.date
    status: Status
    summary: Text = Field(description="What this version is and how it differs from the previous one.")
    previous: str | None = Field(None, description="The version this one retrains or replaces.")
    training: Training
    evaluations: list[Evaluation] = Field(min_length=1)
    experiment: Experiment | None = Field(
        None,
        description="An A/B test of this version (the challenger) against the champion it names: a log of "
        "requests with the arm that served each, and the test's design.",
    )
    monitoring: Monitoring | None = None
    shadow: ShadowTest | None = Field(
        None,
        description="A shadow test of this version (the challenger) beside the live version: a log of production "
        "requests scored by both.",
    )
