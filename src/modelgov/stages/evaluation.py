"""Stage: the performance and fairness of one evaluation table (:mod:`modelgov.analysis.evaluation`).

Its result is the evaluation run, and the run's label, prediction and score arrays (with its row
ids), which the comparison stage pairs with another version's. It depends on the table and the
evaluation's and card's settings, not on the model file: a new model file with the same predictions
reuses it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from modelgov import manifest
from modelgov.errors import Problem
from modelgov.stages.base import Inputs, RunSubject, Stage, StageFailed

if TYPE_CHECKING:
    import numpy as np

    from modelgov.analysis.comparison import RunArrays
    from modelgov.analysis.resampling import Resampling
    from modelgov.workspace.governance_schema import AnalysisSettings


@dataclass(frozen=True)
class Evaluated:
    """An evaluation run and, for comparisons, its arrays: decoded from a cache entry only when a
    comparison has to be computed (a cached build never needs them)."""

    run: manifest.EvaluationRun
    decode: Callable[[], RunArrays] = field(repr=False)

    def arrays(self) -> RunArrays:
        return self.decode()


def resampling(settings: AnalysisSettings) -> Resampling:
    """The workspace's bootstrap settings (governance.yml ``analysis``)."""
    from modelgov.analysis.resampling import Resampling

    return Resampling(settings.bootstrap_resamples, settings.confidence_level, settings.seed)


class EvaluationStage(Stage):
    name = "evaluation"
    scope = "run"
    evidence = (
        "models[].versions[].evaluations[].performance",
        "models[].versions[].evaluations[].fairness",
    )

    def label(self, subject: RunSubject) -> str:
        return subject.label

    def inputs(self, subject: RunSubject) -> Inputs:
        card = subject.model.card
        evaluation = subject.evaluation
        return Inputs(
            files={"table": evaluation.data},
            settings={
                "evaluation": evaluation.model_dump(mode="json"),
                "task": card.task.value,
                "sensitive": list(card.sensitive_features),
                "intersections": [list(c) for c in card.intersections],
                "expected_groups": {k: list(v) for k, v in card.expected_groups.items()},
                "group_comparisons": {k: v.model_dump(mode="json") for k, v in card.group_comparisons.items()},
                "analysis": subject.settings.model_dump(mode="json"),
            },
        )

    def compute(self, subject: RunSubject) -> Evaluated:
        from modelgov.analysis.evaluation import DataProblem, EvaluationColumns, analyse_evaluation
        from modelgov.sources.tables import TableError, rows_at_most

        card = subject.model.card
        evaluation = subject.evaluation
        settings = subject.settings
        columns = EvaluationColumns(
            label=evaluation.label,
            prediction=evaluation.prediction,
            score=evaluation.score,
            sensitive=tuple(card.sensitive_features),
            positive_label=evaluation.positive_label,
            threshold=evaluation.threshold,
            intersections=tuple(tuple(c) for c in card.intersections),
            features=tuple(evaluation.features),
            expected_groups=tuple((k, tuple(v)) for k, v in card.expected_groups.items()),
            comparisons=tuple(
                (k, tuple((pair[0], pair[1]) for pair in spec.pairs)) for k, spec in card.group_comparisons.items()
            ),
            reference_groups=tuple((k, spec.reference) for k, spec in card.group_comparisons.items() if spec.reference),
        )
        try:
            rows = rows_at_most(subject.path(evaluation.data), settings.max_evaluation_rows)
            if rows is not None:
                raise StageFailed(
                    Problem(
                        evaluation.data,
                        None,
                        "",
                        f"the table has about {rows:,} rows, more than analysis.max_evaluation_rows "
                        f"({settings.max_evaluation_rows:,}) in governance.yml; evaluation tables are loaded into "
                        "memory, so evaluate on a sample, or raise the limit if this machine has the memory",
                    )
                )
            analysis = analyse_evaluation(
                subject.table(),
                columns,
                task=card.task.value,
                min_group_size=settings.min_group_size,
                exclude_small_groups=settings.exclude_small_groups,
                resampling=resampling(settings),
                row_id=evaluation.row_id,
            )
        except TableError as exc:
            raise StageFailed(Problem(evaluation.data, None, "", str(exc))) from None
        except DataProblem as exc:
            raise StageFailed(Problem(evaluation.data, None, exc.key, exc.message)) from None
        run = manifest.EvaluationRun(
            id=evaluation.id,
            dataset=evaluation.dataset,
            date=evaluation.date.isoformat(),
            data=subject.ref(evaluation.data),
            label=evaluation.label,
            prediction=evaluation.prediction,
            score=evaluation.score,
            features=list(evaluation.features),
            performance=analysis.performance,
            fairness=list(analysis.fairness),
            duplicates=analysis.duplicates,
        )
        arrays = analysis.arrays
        return Evaluated(run, lambda: arrays)

    def contribute(self, node: None, subject: RunSubject, result: Evaluated) -> manifest.EvaluationRun:
        return result.run

    def dump(self, result: Evaluated) -> tuple[dict, dict[str, np.ndarray]] | None:
        """The run and its arrays; None when the row ids cannot be stored exactly."""
        arrays = result.arrays()
        stored = {"y_true": arrays.y_true, "y_pred": arrays.y_pred}
        if arrays.y_score is not None:
            stored["y_score"] = arrays.y_score
        import numpy as np
        import pandas as pd

        payload: dict[str, Any] = {"run": result.run.model_dump(mode="json"), "row_ids": None, "groups": []}
        for position, (key, labels) in enumerate((arrays.groups or {}).items()):
            codes, names = pd.factorize(pd.Series(labels, dtype=object))  # labels are text, never missing
            stored[f"group_{position}"] = codes.astype(np.int64)
            payload["groups"].append({"key": key, "labels": [str(name) for name in names]})
        ids = arrays.row_ids
        if ids is not None:
            if ids.dtype.kind in "biuf":
                stored["row_ids"] = ids.to_numpy()
                payload["row_ids"] = {"name": ids.name, "stored": "array"}
            else:
                values = ids.tolist()
                if not all(v is None or isinstance(v, str | int | float | bool) for v in values):
                    return None  # ids such as timestamps would come back as text and pair differently
                payload["row_ids"] = {"name": ids.name, "stored": "json", "values": values}
        return payload, stored

    def load(self, text: bytes, stored: Mapping[str, np.ndarray]) -> Evaluated:
        entry = _StoredRun.model_validate_json(text)
        ids, groups = entry.row_ids, entry.groups
        if not isinstance(groups, list):
            raise ValueError("stored before the rows' groups were kept: recompute")
        needed = {"y_true", "y_pred"} | ({"row_ids"} if ids is not None and ids.get("stored") == "array" else set())
        needed |= {f"group_{position}" for position in range(len(groups))}
        if missing := sorted(needed - set(stored)):
            raise ValueError(f"missing array {missing[0]!r}")
        decode = functools.cache(lambda: _arrays(ids, stored, groups))
        return Evaluated(entry.run, decode)


class _StoredRun(BaseModel):
    """An evaluation's cache entry, parsed and validated by pydantic's JSON parser in one step: a
    warm build reads every evaluation, and ``json.loads`` then ``model_validate`` of the run took
    twice as long. The row ids and groups are checked as they were stored (:meth:`EvaluationStage.load`)."""

    run: manifest.EvaluationRun
    row_ids: Any = None
    groups: Any = None


def _arrays(ids: dict | None, stored: Mapping[str, np.ndarray], groups: list[dict]) -> RunArrays:
    import numpy as np
    import pandas as pd

    from modelgov.analysis.comparison import RunArrays

    row_ids = None
    if ids is not None:
        values = stored["row_ids"] if ids["stored"] == "array" else ids["values"]
        row_ids = pd.Series(values, name=ids["name"], dtype=None if ids["stored"] == "array" else object)
    labels = {
        entry["key"]: np.asarray(entry["labels"], dtype=object)[stored[f"group_{position}"]]
        for position, entry in enumerate(groups)
    }
    return RunArrays(stored["y_true"], stored["y_pred"], stored.get("y_score"), row_ids=row_ids, groups=labels or None)


STAGE = EvaluationStage()
