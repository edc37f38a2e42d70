"""Stage: the NYC Local Law 144 bias-audit summary of a version's most recent evaluation, for a model
whose card marks it as an automated employment decision tool (:mod:`modelgov.analysis.bias_audit`).

It runs on that one evaluation run of each version and reads the run's table (the card's sensitive
features, which include the audit's two columns, are among the columns every run reads). A run of
another model, or another run of the version, has nothing to add and no cache entry.
"""

from __future__ import annotations

from modelgov import manifest
from modelgov.errors import Problem
from modelgov.stages.base import Inputs, RunSubject, Stage, StageFailed
from modelgov.workspace.aedt_checks import audited_evaluation


def _audits(subject: RunSubject) -> bool:
    return (
        subject.model.card.employment_decision_tool is not None
        and audited_evaluation(subject.version.spec).id == subject.evaluation.id
    )


class BiasAuditStage(Stage):
    name = "bias_audit"
    scope = "run"
    evidence = ("models[].versions[].evaluations[].bias_audit",)
    result = manifest.BiasAudit

    def label(self, subject: RunSubject) -> str:
        return f"{subject.label} bias audit"

    def inputs(self, subject: RunSubject) -> Inputs | None:
        if not _audits(subject):
            return None
        tool = subject.model.card.employment_decision_tool
        return Inputs(
            files={"table": subject.evaluation.data},
            settings={
                "evaluation": subject.evaluation.model_dump(mode="json"),
                "task": subject.model.card.task.value,
                "tool": tool.model_dump(mode="json"),
                "analysis": subject.settings.model_dump(mode="json"),
            },
        )

    def compute(self, subject: RunSubject) -> manifest.BiasAudit | None:
        if not _audits(subject):
            return None
        import numpy as np

        from modelgov.analysis.bias_audit import bias_audit, selected_by_score
        from modelgov.analysis.resampling import Resampling
        from modelgov.sources.tables import TableError

        tool = subject.model.card.employment_decision_tool
        evaluation = subject.evaluation
        settings = subject.settings
        try:
            table = subject.table()
        except TableError as exc:
            raise StageFailed(Problem(evaluation.data, None, "", str(exc))) from None
        median = None
        if tool.output == "score":
            column = evaluation.score or evaluation.prediction
            scores = np.asarray(table[column].to_numpy(), dtype=float) if _numeric(table[column]) else None
            if scores is None or not np.isfinite(scores).all():
                raise StageFailed(
                    Problem(
                        evaluation.data,
                        None,
                        f"column {column!r}",
                        "the bias audit's scoring rates need a number for every applicant",
                    )
                )
            selected, median = selected_by_score(scores)
        else:
            from modelgov.analysis.evaluation import DataProblem, _is_positive  # the evaluation's own reading

            try:
                selected = _is_positive(table, evaluation.prediction, evaluation.positive_label) == 1
            except DataProblem as exc:
                raise StageFailed(Problem(evaluation.data, None, f"column {exc.column!r}", exc.message)) from None
        return bias_audit(
            table,
            sex=tool.sex,
            race_ethnicity=tool.race_ethnicity,
            selected=np.asarray(selected, dtype=bool),
            median_score=median,
            output=tool.output,
            unknown_values=list(tool.unknown_values),
            exclude_small=tool.exclude_small_categories,
            resampling=Resampling(settings.bootstrap_resamples, settings.confidence_level, settings.seed),
            audit_date=tool.audit_date.isoformat(),
            data_source=tool.data_source,
            data_description=tool.data_description,
            distribution_date=tool.distribution_date.isoformat() if tool.distribution_date else None,
        )

    def contribute(
        self, node: manifest.EvaluationRun, subject: RunSubject, result: manifest.BiasAudit
    ) -> manifest.EvaluationRun:
        return node.model_copy(update={"bias_audit": result})


def _numeric(column) -> bool:
    import pandas as pd

    return pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column)


STAGE = BiasAuditStage()
