"""The ``monitoring`` section of a ``version.yml``: where the production scoring logs are, how they
are cut into windows, what their records are compared with (the reference), and how drift is tested
per feature.

Its own module because it is the largest section of a version record and changes for its own
reasons (drift methods, reference kinds); the rest of the version is in :mod:`.training_schema`
and :mod:`.version_schema`.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field, StrictBool, model_validator

from modelgov.inputs import Strict, Text
from modelgov.workspace.training_schema import Evaluation


class GroundTruth(Strict):
    data: Text = Field(description="Table of late-arriving outcomes.")
    id: Text = Field(description="Column joining outcomes to scoring records.")
    label: Text = Field(description="Column with the observed outcome.")


DriftMethod = Literal["ks", "wasserstein", "chisquare", "z", "jensenshannon", "psi"]


class DriftTest(Strict):
    """Override of the default drift test (Evidently's rule) for all features or one feature."""

    method: DriftMethod | None = Field(None, description="Test to use instead of the default rule.")
    threshold: float | None = Field(
        None, gt=0, description="p-value below which (tests) or distance at or above which a feature drifts."
    )


class FeatureDriftTest(DriftTest):
    """One feature's drift settings: its kind, and an override of the default test."""

    kind: Literal["numeric", "categorical"] | None = Field(
        None,
        description="How drift compares the feature: `numeric` (its values as numbers in order) or `categorical` "
        "(the share of each value, numeric codes included). Default: inferred from the reference as Evidently "
        "does (integers with at most 10 distinct values, booleans and text are categorical); `modelgov init` "
        "writes the kind it inferred.",
    )


class DriftSettings(Strict):
    default: DriftTest = Field(default_factory=DriftTest, description="Applies to every feature.")
    features: dict[str, FeatureDriftTest] = Field(
        default_factory=dict, description="Per-feature kind, method and threshold."
    )
    dataset_share: float = Field(
        0.5, gt=0, le=1, description="A window shows dataset drift when at least this share of features drift."
    )
    count_output: StrictBool = Field(
        False,
        description="Count the model's output (score or prediction) in the share of drifted columns, as one more "
        "column, as Evidently's DriftedColumnsCount and DataDriftPreset do when the output is among their columns. "
        "Default false: the share measures the inputs alone, and the output's drift is shown and judged on its own "
        "(a window drifts when either does); counting it too would weigh one shift twice when the output moves "
        "because the inputs did.",
    )


class RowWindow(Strict):
    rows: int = Field(ge=10, description="Fixed number of records per window, in timestamp order.")


class Reference(Strict):
    """What production records are compared with: exactly one of an evaluation of this version, a
    table (for example a sample of the training data), or one window of the log itself."""

    evaluation: str | None = Field(None, description="Evaluation id of this version.")
    data: Text | None = Field(
        None, description="Table with the monitored feature columns (and, optionally, the output column)."
    )
    description: str | None = Field(None, description="What the `data` table is, shown on the pages.")
    window: int | dt.date | None = Field(
        None,
        description="A window of the log: its number (1 = the first) or, for calendar windows, a date inside it.",
    )
    seasonal: Literal["month", "quarter"] | None = Field(
        None,
        description="Compare each window with the reference rows of the same calendar month (or quarter), the one "
        "holding the window's midpoint, instead of with every reference row: features that follow the calendar "
        "(season, temperature, demand) then do not drift by construction. Needs each reference row's time "
        "(`timestamp`) and calendar windows.",
    )
    timestamp: Text | None = Field(
        None,
        description="Column of the evaluation or `data` table with each row's time (ISO 8601 or a timestamp type; "
        "none means UTC). Default: a column named like the log's timestamp, when the table has one. Read to place "
        "rows in their period (`seasonal`) and to tell how much of the calendar the reference spans.",
    )

    @model_validator(mode="after")
    def _exactly_one(self) -> Reference:
        chosen = [k for k in ("evaluation", "data", "window") if getattr(self, k) is not None]
        if len(chosen) != 1:
            raise ValueError(
                "set exactly one of evaluation, data or window" + (f" (found {', '.join(chosen)})" if chosen else "")
            )
        if self.description is not None and self.data is None:
            raise ValueError("description describes a data table: set data too")
        if self.window is not None and (self.seasonal or self.timestamp):
            raise ValueError(
                "seasonal and timestamp apply to a reference table (evaluation or data); a window of the log "
                "covers one period only"
            )
        if isinstance(self.window, int) and not isinstance(self.window, bool) and self.window < 1:
            raise ValueError("window numbers start at 1")
        return self


class Monitoring(Strict):
    logs: Text = Field(
        description="Scoring log path relative to the workspace: a file, a glob (`logs/*.parquet`) or a folder. "
        "With the Spark engine, also a URI Spark can read (`s3a://bucket/scoring/credit/`, `gs://…`, `abfss://…`, "
        "`hdfs://…`), read where it lives."
    )
    timestamp: Text = Field(description="Column with the scoring time (ISO 8601 or a native timestamp).")
    id: str | None = Field(None, description="Column with the record id (joins ground truth).")
    prediction: Text
    score: str | None = None
    features: list[Text] = Field(default_factory=list)
    ground_truth: GroundTruth | None = None
    window: Literal["day", "week", "month"] | RowWindow = Field(
        "week", description="Calendar windows (UTC, weeks start on Monday) or `{rows: N}`."
    )
    reference: str | Reference | None = Field(
        None,
        description="An evaluation id, or `{evaluation: id}`, `{data: path}` or `{window: N | date}` "
        "(default: the most recent evaluation); a table can be compared season by season (`seasonal: month`).",
    )
    drift: DriftSettings = Field(default_factory=DriftSettings)

    @model_validator(mode="after")
    def _window_reference(self) -> Monitoring:
        chosen = self.reference
        if isinstance(chosen, Reference) and isinstance(chosen.window, dt.date) and isinstance(self.window, RowWindow):
            raise ValueError("reference.window: with row-count windows, name the reference window by its number")
        if isinstance(chosen, Reference) and chosen.seasonal and isinstance(self.window, RowWindow):
            raise ValueError(
                f"reference.seasonal: a window of a number of rows has no calendar period; use day, week or month "
                f"windows to compare each with the same {chosen.seasonal} of the reference"
            )
        return self

    def reference_spec(self, evaluations: list[Evaluation]) -> Reference:
        """The reference in its long form; the default is the most recent evaluation."""
        if isinstance(self.reference, Reference):
            return self.reference
        if self.reference is not None:
            return Reference(evaluation=self.reference)
        return Reference(evaluation=max(evaluations, key=lambda e: (e.date, e.id)).id)
