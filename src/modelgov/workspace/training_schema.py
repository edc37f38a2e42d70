"""What a ``version.yml`` records of how the version was made and tested: its training (data, code,
environment, model file and how it may be loaded) and its evaluation runs (a table with a row per
scored example, and which columns hold what).

Kept apart from the monitoring section (:mod:`.monitoring_schema`), which compares production
records with one of these evaluations.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import Field, StrictBool, field_validator

from modelgov.free_values import as_written
from modelgov.inputs import IDENTIFIER, IDENTIFIER_HINT, Strict, Text


class CodeRef(Strict):
    repository: Text
    commit: Text


class Environment(Strict):
    python: str | None = None
    packages: dict[str, str] = Field(default_factory=dict)


class Artifact(Strict):
    """A model file. Pickle-based formats (``.pkl``, ``.joblib``) run code when loaded, so they are
    loaded only when ``trust_pickle`` is true; ``.skops`` files load with a list of trusted types,
    which are code too (see :mod:`modelgov.workspace.refusals` for CI's refusal of both)."""

    path: Text = Field(description="Path of the model file, relative to the workspace.")
    #: Strict: only a YAML boolean. ``"yes"``, ``1`` or ``"true"`` are errors rather than coerced, so
    #: opting in to running a file's code is always the literal ``true`` a reviewer can see.
    trust_pickle: StrictBool = Field(
        False,
        description="Allow loading a pickle/joblib file (it can run arbitrary code). Only `true` or `false`. A build "
        "with `--refuse-pickle` refuses `true`.",
    )
    trusted_types: list[Text] = Field(
        default_factory=list,
        description="Extra types a `.skops` file may contain beyond those skops trusts by default. Each is code "
        "the file calls when the model loads or scores (`pydoc.pipepager` runs a shell command), as dangerous as a "
        "pickle: list a type only after reviewing it. A build with `--refuse-pickle` refuses a list that is not empty.",
    )


class Training(Strict):
    datasets: list[Text] = Field(description="Dataset ids (files under datasets/) used for training.")
    algorithm: Text = Field(description="E.g. `sklearn.linear_model.LogisticRegression`.")
    code: CodeRef | None = None
    params: dict[str, Any] = Field(default_factory=dict)
    environment: Environment = Field(default_factory=Environment)
    artifact: Text | Artifact | None = Field(
        None, description="The model file: a path, or a mapping with `path` and loading options."
    )
    feature_importance: dict[str, float] = Field(
        default_factory=dict, description="Importances computed at training time, shown when no model is loadable."
    )
    mlflow_run: str | None = Field(
        None,
        pattern=r"^[0-9a-f]{32}$",
        description="MLflow run id of this training run (32 hex digits), joining it to the store in "
        "governance.yml `lineage.mlflow`.",
    )

    @field_validator("params")
    @classmethod
    def _params_can_be_written(cls, params: dict[str, Any]) -> dict[str, Any]:
        """The manifest writes keys as text; two nested keys that would be the same text (``.nan``
        and ``"NaN"``) are refused here, naming them, rather than one of their values lost."""
        as_written(params)
        return params

    @property
    def artifact_spec(self) -> Artifact | None:
        if self.artifact is None or isinstance(self.artifact, Artifact):
            return self.artifact
        return Artifact(path=self.artifact)


class Evaluation(Strict):
    """One evaluation run: a table with a row per scored example."""

    id: Text = Field(description="Unique within the version, e.g. `holdout`.")
    data: Text = Field(description="Table path relative to the workspace (CSV, Parquet or JSON Lines).")
    dataset: Text = Field(description="Dataset id (datasets/<id>.yml) the table was drawn from.")
    date: dt.date = Field(description="When the evaluation was run.")
    label: Text = Field(description="Column with the ground truth.")
    prediction: Text = Field(description="Column with the model's prediction (class or value).")
    score: str | None = Field(None, description="Column with the positive-class probability (binary classification).")
    positive_label: Any = Field(1, description="Label value of the positive class (binary tasks).")
    threshold: float | None = Field(
        None, ge=0, le=1, description="Decision threshold applied to `score` to obtain `prediction`."
    )
    features: list[Text] = Field(
        default_factory=list, description="Model input columns present in the table, in the model's order."
    )
    row_id: str | None = Field(
        None, description="Column identifying each row, used to pair rows when versions are compared."
    )

    @field_validator("id")
    @classmethod
    def _identifier(cls, value: str) -> str:
        if not IDENTIFIER.match(value):
            raise ValueError(f"must be {IDENTIFIER_HINT}")
        return value

    def column_roles(self) -> dict[str, str]:
        """Every table column this run names, keyed by the key that names it (``features[2]``):
        the one list the loader checks and the build reads."""
        roles = {"label": self.label, "prediction": self.prediction}
        if self.score:
            roles["score"] = self.score
        if self.row_id:
            roles["row_id"] = self.row_id
        roles.update({f"features[{i}]": name for i, name in enumerate(self.features)})
        return roles
