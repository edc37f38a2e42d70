"""Stage: what explains one evaluation run's predictions (:mod:`modelgov.analysis.explain`):
permutation importance, partial dependence and ICE, error slices and, when available, SHAP.

It reads the evaluation table and the version's model file (loaded once per version, and only when
an explanation has to be computed); without a loadable model, the importances the training record
declares are shown instead, with a note saying why.
"""

from __future__ import annotations

from modelgov import manifest
from modelgov.errors import Problem
from modelgov.stages.base import Inputs, RunSubject, Stage, StageFailed


class ExplanationStage(Stage):
    name = "explanation"
    scope = "run"
    evidence = ("models[].versions[].evaluations[].explainability",)
    result = manifest.Explainability

    def label(self, subject: RunSubject) -> str:
        return f"{subject.label} explanation"

    def inputs(self, subject: RunSubject) -> Inputs:
        card = subject.model.card
        training = subject.version.spec.training
        artifact = training.artifact_spec
        return Inputs(
            files={"table": subject.evaluation.data, "model": artifact.path if artifact else None},
            settings={
                "evaluation": subject.evaluation.model_dump(mode="json"),
                "task": card.task.value,
                "sensitive": list(card.sensitive_features),
                "artifact": artifact.model_dump(mode="json") if artifact else None,
                "feature_importance": training.model_dump(mode="json").get("feature_importance"),
                "analysis": subject.settings.model_dump(mode="json"),
            },
        )

    def compute(self, subject: RunSubject) -> manifest.Explainability:
        from modelgov.analysis.evaluation import DataProblem
        from modelgov.analysis.explain import explain
        from modelgov.sources.models import LoadedModel, ModelUnavailable
        from modelgov.sources.tables import TableError

        evaluation = subject.evaluation
        card = subject.model.card
        training = subject.version.spec.training
        artifact = training.artifact_spec
        loaded = subject.model_file()
        try:
            return explain(
                loaded.estimator if isinstance(loaded, LoadedModel) else None,
                subject.table(),
                features=list(evaluation.features),
                label=evaluation.label,
                prediction=evaluation.prediction,
                task=card.task.value,
                positive_label=evaluation.positive_label,
                settings=subject.settings,
                precomputed=training.feature_importance,
                model_ref=subject.ref(artifact.path) if artifact else None,
                unavailable_reason=loaded.reason if isinstance(loaded, ModelUnavailable) else None,
                model_notes=loaded.notes if isinstance(loaded, LoadedModel) else (),
                slice_features=list(dict.fromkeys([*evaluation.features, *card.sensitive_features])),
                score=evaluation.score,
            )
        except TableError as exc:
            raise StageFailed(Problem(evaluation.data, None, "", str(exc))) from None
        except DataProblem as exc:
            raise StageFailed(Problem(evaluation.data, None, f"column {exc.column!r}", exc.message)) from None

    def contribute(
        self, node: manifest.EvaluationRun, subject: RunSubject, result: manifest.Explainability
    ) -> manifest.EvaluationRun:
        return node.model_copy(update={"explainability": result})


STAGE = ExplanationStage()
