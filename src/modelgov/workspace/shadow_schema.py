"""A version's shadow test: production requests scored by the live version (the champion) and by this
one (the challenger), where only the champion's decision was acted on.

The log holds both outputs on each request, or the champion's outputs are in a log of their own
joined on the request id. Each side's decision is its prediction column (equal to the positive
label) or, without one, its score at or above its threshold. Outcomes that arrive later are joined
on the same id, so paired metric deltas can be computed on the labelled requests.

Only the shape is checked here; the loader checks the champion version and the columns of every
table against their headers (:mod:`.shadow_checks`), where files and lines are known.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

from modelgov.feature_names import policy_key
from modelgov.inputs import Strict, Text


class ShadowOutput(Strict):
    """One side's output columns, and how they become a decision."""

    prediction: Text | None = Field(
        None,
        description="Column with this side's predicted class; a request is a positive decision when it equals `positive_label`.",
    )
    score: Text | None = Field(None, description="Column with this side's positive-class probability.")
    threshold: float | None = Field(
        None,
        ge=0,
        le=1,
        description="Decision threshold on the score, used when there is no prediction column: a score at or "
        "above it is a positive decision.",
    )

    @model_validator(mode="after")
    def _decision(self) -> ShadowOutput:
        if self.prediction is None and (self.score is None or self.threshold is None):
            raise ValueError("a decision needs a prediction column, or a score column and its threshold")
        if self.prediction is not None and self.threshold is not None:
            raise ValueError(
                "threshold turns a score into a decision when there is no prediction column; with a prediction "
                "column, remove threshold (or remove prediction to decide on the score)"
            )
        if self.threshold is not None and self.score is None:
            raise ValueError("threshold applies to a score: set score too")
        return self


class ShadowChampion(ShadowOutput):
    """The live version's side: which version it is and, when its outputs are logged apart, where."""

    version: Text = Field(description="The version being shadowed (a version of the same model).")
    logs: Text | None = Field(
        None,
        description="A separate log of the champion's outputs (a file, a glob or a folder), joined to the shadow "
        "log on `id`. Without it, the champion's columns are in the shadow log.",
    )


class ShadowOutcomes(Strict):
    """Outcomes as they arrive, one per request."""

    data: Text = Field(description="Table of outcomes (CSV, Parquet or JSON Lines).")
    id: Text = Field(description="Column with the request id, as in the shadow log's `id` column.")
    label: Text = Field(description="Column with the observed outcome.")


class ShadowRowWindow(Strict):
    rows: int = Field(ge=10, description="Fixed number of requests per window, in timestamp order.")


class ShadowTest(Strict):
    """`shadow:` in version.yml: the shadow log of this version (the challenger)."""

    logs: Text = Field(
        description="The shadow log: a file, a glob (`shadow/*.parquet`) or a folder, one row per production request."
    )
    timestamp: Text = Field(description="Column with the request's time (ISO 8601 or a native timestamp).")
    id: Text | None = Field(
        None, description="Column with the request id: joins the champion's log and the outcomes. Unique per request."
    )
    champion: ShadowChampion
    challenger: ShadowOutput = Field(description="This version's output columns in the shadow log.")
    positive_label: Any = Field(1, description="The prediction value that is a positive decision.")
    sensitive: list[Text] = Field(
        default_factory=list,
        description="Columns of the shadow log whose groups are compared: how much more the challenger changes "
        "decisions for one group than another.",
    )
    ground_truth: ShadowOutcomes | None = Field(None, description="Outcomes of the requests, as they arrive.")
    window: Literal["day", "week", "month"] | ShadowRowWindow = Field(
        "week", description="Calendar windows (UTC, weeks start on Monday) or `{rows: N}`."
    )

    @model_validator(mode="after")
    def _joins(self) -> ShadowTest:
        if self.id is None and self.champion.logs is not None:
            raise ValueError("champion.logs is joined to the shadow log on the request id: set id too")
        if self.id is None and self.ground_truth is not None:
            raise ValueError("ground_truth is joined to the shadow log on the request id: set id too")
        if self.timestamp in self.sensitive:
            raise ValueError(f"sensitive: the timestamp column {self.timestamp!r} is not a group")
        named: dict[str, str] = {}
        for column in self.sensitive:  # each column's evidence is shadow.groups.<policy key>.…
            key = policy_key(column)
            if key in named:
                raise ValueError(
                    f"sensitive: {named[key]!r} and {column!r} would both be shadow.groups.{key} in policy paths "
                    "('.' is written '_'), and one would hide the other: list each column once, or rename one"
                )
            named[key] = column
        return self

    def log_columns(self) -> dict[str, str]:
        """The shadow log's columns by key path (``champion.prediction``), for the loader's checks."""
        columns = {"timestamp": self.timestamp}
        if self.id:
            columns["id"] = self.id
        sides: list[tuple[str, ShadowOutput]] = [("challenger", self.challenger)]
        if self.champion.logs is None:
            sides.append(("champion", self.champion))
        for side, output in sides:
            for key in ("prediction", "score"):
                if getattr(output, key):
                    columns[f"{side}.{key}"] = getattr(output, key)
        columns.update({f"sensitive[{i}]": name for i, name in enumerate(self.sensitive)})
        return columns
