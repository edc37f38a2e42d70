"""Stage: individual decisions of one evaluation run, explained (:mod:`modelgov.analysis.record_explanations`).

Runs only for a model whose card has ``explanations``. It reads the evaluation table (with the id
column) and the version's model file; what may be published comes from the run's datasheet
(``publish_records``, ``pii_fields``), so a change there changes the key and the pages. A model that
cannot be loaded or explained leaves a result with a note saying why, never a failed build.
"""

from __future__ import annotations

from modelgov import manifest
from modelgov.errors import Problem
from modelgov.stages.base import Inputs, RunSubject, Stage, StageFailed

#: Longest exception text quoted in a note.
MAX_MESSAGE = 300


class RecordExplanationStage(Stage):
    name = "record_explanation"
    scope = "run"
    evidence = ("models[].versions[].evaluations[].explainability.records",)
    result = manifest.RecordExplanations

    def label(self, subject: RunSubject) -> str:
        return f"{subject.label} explained decisions"

    def inputs(self, subject: RunSubject) -> Inputs | None:
        card = subject.model.card
        if card.explanations is None:
            return None
        training = subject.version.spec.training
        artifact = training.artifact_spec
        sheet = self._sheet(subject)
        return Inputs(
            files={"table": subject.evaluation.data, "model": artifact.path if artifact else None},
            settings={
                "evaluation": subject.evaluation.model_dump(mode="json"),
                "task": card.task.value,
                "sensitive": list(card.sensitive_features),
                "explanations": card.explanations.model_dump(mode="json"),
                "artifact": artifact.model_dump(mode="json") if artifact else None,
                "publish": bool(sheet and sheet.publish_records),
                "withheld": list(sheet.pii_fields) if sheet else [],
                "analysis": subject.settings.model_dump(mode="json"),
                "ids": "single values",  # results from before an id column of lists was refused are not reused
            },
        )

    @staticmethod
    def _sheet(subject: RunSubject):
        entry = subject.workspace.datasets.get(subject.evaluation.dataset)
        return entry.sheet if entry is not None else None

    def compute(self, subject: RunSubject) -> manifest.RecordExplanations | None:
        card = subject.model.card
        spec = card.explanations
        if spec is None:
            return None
        from threadpoolctl import threadpool_limits

        from modelgov.analysis.evaluation import DataProblem, scalars_only
        from modelgov.analysis.explain import positive_index
        from modelgov.analysis.record_explanations import explain_records
        from modelgov.analysis.shapley import ShapUnavailable
        from modelgov.sources.models import LoadedModel
        from modelgov.sources.tables import TableError, read_table

        evaluation = subject.evaluation
        loaded = subject.model_file()
        if not isinstance(loaded, LoadedModel):
            why = getattr(loaded, "reason", None) or "no model file in the training metadata"
            return _unexplained(f"Individual decisions need the model, which is not available: {why.rstrip('.')}.")
        if card.task.value == "multiclass_classification":
            return _unexplained("Individual decisions are explained for binary classification and regression only.")
        if not evaluation.features:
            return _unexplained("Individual decisions not explained: the evaluation run lists no `features`.")
        id_column = spec.id_column or evaluation.row_id
        sheet = self._sheet(subject)
        try:
            table = subject.table()
            if id_column and id_column not in table.columns:
                extra = read_table(subject.path(evaluation.data), [id_column])
                table = table.assign(**{id_column: extra[id_column].to_numpy()})
            if id_column:
                scalars_only(table, id_column)  # a record's id is one value, not a list or an object
        except TableError as exc:
            raise StageFailed(Problem(evaluation.data, None, "explanations.id_column", str(exc))) from None
        except DataProblem as exc:
            key = "explanations.id_column" if spec.id_column else "row_id"  # where the user named it
            raise StageFailed(Problem(evaluation.data, None, key, f"{exc.key}: {exc.message}")) from None
        model = loaded.estimator
        index = positive_index(model, evaluation.positive_label) if card.task.value == "binary_classification" else 0
        try:
            with threadpool_limits(limits=1):
                return explain_records(
                    model,
                    table,
                    spec=spec,
                    features=list(evaluation.features),
                    label=evaluation.label,
                    task=card.task.value,
                    positive_label=evaluation.positive_label,
                    positive_index=index,
                    sensitive=[f for f in card.sensitive_features if f in table.columns],
                    id_column=id_column,
                    threshold=evaluation.threshold,
                    min_group_size=subject.settings.min_group_size,
                    seed=subject.settings.seed,
                    publish=bool(sheet and sheet.publish_records),
                    withheld=list(sheet.pii_fields) if sheet else [],
                )
        except ShapUnavailable as exc:
            return _unexplained(f"{exc}.")
        except Exception as exc:  # the model is third-party code: a failure is a note, not a crash
            text = f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}"
            return _unexplained(f"Individual decisions not explained: {text[:MAX_MESSAGE]}.")

    def contribute(
        self, node: manifest.EvaluationRun, subject: RunSubject, result: manifest.RecordExplanations
    ) -> manifest.EvaluationRun:
        explainability = node.explainability or manifest.Explainability()
        return node.model_copy(update={"explainability": explainability.model_copy(update={"records": result})})


def _unexplained(note: str) -> manifest.RecordExplanations:
    return manifest.RecordExplanations(
        explainer="none", scale="none", threshold=0.5, adverse_side="high", published=False, notes=[note]
    )


STAGE = RecordExplanationStage()
