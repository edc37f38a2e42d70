"""Stage: each version against its previous version and against the live one, on every evaluation
dataset both were run on, when their rows can be paired (:mod:`modelgov.analysis.comparison`).

One result per pair of runs, cached on the two runs' evaluation inputs (through their cache keys),
the pairing column and the bootstrap settings: a new version computes its own comparisons and
reuses every other, and a cached build reads them without decoding a run's arrays.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from modelgov import manifest
from modelgov.stages import records
from modelgov.stages.base import Inputs, ModelSubject, Outcome, Stage
from modelgov.stages.evaluation import resampling

if TYPE_CHECKING:
    from modelgov.workspace.load import VersionEntry
    from modelgov.workspace.training_schema import Evaluation


@dataclass(kw_only=True)
class PairSubject(ModelSubject):
    """One run of ``version`` and the run of ``other`` on the same dataset."""

    version: VersionEntry
    other: VersionEntry
    relation: str  # "previous" or "live"
    evaluation: Evaluation
    other_evaluation: Evaluation

    def evaluated(self, which: str) -> Outcome | None:
        """The evaluation stage's outcome for ``this`` run or the ``other``; None when it failed."""
        version, evaluation = (
            (self.version, self.evaluation) if which == "this" else (self.other, self.other_evaluation)
        )
        return self.outcome("evaluation", version.id, evaluation.id)


@dataclass(frozen=True)
class Paired:
    """Two runs paired row by row, and the deltas of their metrics; or why they cannot be paired."""

    rows: int | None = None
    matched_by: str | None = None
    deltas: tuple[manifest.MetricDelta, ...] = ()
    not_comparable: str | None = None
    fairness: tuple[manifest.FairnessDelta, ...] = ()
    fairness_note: str | None = None


class ComparisonStage(Stage):
    name = "comparison"
    scope = "model"
    evidence = ("models[].versions[].comparisons",)

    def units(self, subject: ModelSubject) -> Iterator[PairSubject]:
        """Each version's runs, newest version first, against its previous version's run and then the
        live version's on the same dataset (the newest run of that dataset when there are several)."""
        model = subject.model
        versions = records.newest_first(model.versions.values())
        for version in versions:
            # the newest other version in production: while a promotion to production is checked, the
            # version it replaces is still there, and is the champion it must be compared with
            live = next((v.id for v in versions if v.spec.status.value == "production" and v.id != version.id), None)
            previous = version.spec.previous
            targets = [(previous, "previous")] if previous else []
            if live and live not in (version.id, previous):
                targets.append((live, "live"))
            for other_id, relation in targets:
                other = model.versions.get(other_id)
                if other is None:
                    continue
                for evaluation in _newest_first(version.spec.evaluations):
                    other_evaluation = next(
                        (e for e in _newest_first(other.spec.evaluations) if e.dataset == evaluation.dataset), None
                    )
                    if other_evaluation is None:
                        continue
                    yield PairSubject(
                        workspace=subject.workspace,
                        progress=subject.progress,
                        model=model,
                        outcomes=subject.outcomes,
                        version=version,
                        other=other,
                        relation=relation,
                        evaluation=evaluation,
                        other_evaluation=other_evaluation,
                    )

    def label(self, subject: PairSubject) -> str:
        return (
            f"{subject.model.id} {subject.version.id} {subject.evaluation.id} against "
            f"{subject.other.id} {subject.other_evaluation.id}"
        )

    def inputs(self, subject: PairSubject) -> Inputs:
        return Inputs(
            results={which: getattr(subject.evaluated(which), "key", None) for which in ("this", "other")},
            settings={
                "row_id": subject.evaluation.row_id,
                "task": subject.model.card.task.value,
                "analysis": subject.settings.model_dump(mode="json"),
                "compared": "metrics, group rates, disparities",  # what a result holds: older ones recompute
            },
        )

    def compute(self, subject: PairSubject) -> Paired | None:
        this, other = subject.evaluated("this"), subject.evaluated("other")
        if this is None or other is None:
            return None  # a run that failed, already reported
        from modelgov.analysis.comparison import NotComparable, metric_deltas, pair_rows

        this_arrays, other_arrays = this.value.arrays(), other.value.arrays()
        try:
            pairing = pair_rows(this_arrays, other_arrays, row_id=subject.evaluation.row_id)
        except NotComparable as exc:
            return Paired(not_comparable=str(exc))
        deltas = metric_deltas(
            this_arrays,
            other_arrays,
            pairing,
            task=subject.model.card.task.value,
            resampling=resampling(subject.settings),
        )
        fairness, note = _fairness(subject, this_arrays, other_arrays, pairing)
        return Paired(len(pairing.this_rows), pairing.matched_by, tuple(deltas), None, tuple(fairness), note)

    def contribute(self, node: manifest.Model, subject: PairSubject, result: Paired) -> manifest.Model:
        if result.not_comparable is not None:
            return node  # rows that cannot be paired are not compared
        assert result.rows is not None and result.matched_by is not None
        comparison = manifest.Comparison(
            other_version=subject.other.id,
            relation=subject.relation,
            evaluation=subject.evaluation.id,
            other_evaluation=subject.other_evaluation.id,
            dataset=subject.evaluation.dataset,
            rows=result.rows,
            matched_by=result.matched_by,
            deltas=list(result.deltas),
            fairness=list(result.fairness),
            fairness_note=result.fairness_note,
        )
        versions = [
            version.model_copy(update={"comparisons": [*version.comparisons, comparison]})
            if version.version == subject.version.id
            else version
            for version in node.versions
        ]
        return node.model_copy(update={"versions": versions})

    def dump(self, result: Paired) -> tuple[dict[str, Any], dict]:
        if result.not_comparable is not None:
            return {"not_comparable": result.not_comparable}, {}
        deltas = [delta.model_dump(mode="json") for delta in result.deltas]
        fairness = [item.model_dump(mode="json") for item in result.fairness]
        return {
            "rows": result.rows,
            "matched_by": result.matched_by,
            "deltas": deltas,
            "fairness": fairness,
            "fairness_note": result.fairness_note,
        }, {}

    def load(self, text: bytes, arrays: dict) -> Paired:
        payload = json.loads(text)
        if not isinstance(payload, dict):
            raise ValueError("not a comparison")
        if "not_comparable" in payload:
            return Paired(not_comparable=str(payload["not_comparable"]))
        rows, matched_by = payload.get("rows"), payload.get("matched_by")
        if not isinstance(rows, int) or not isinstance(matched_by, str) or not isinstance(payload.get("deltas"), list):
            raise ValueError("not a comparison")
        if not isinstance(payload.get("fairness"), list):
            raise ValueError("a comparison without its groups")
        note = payload.get("fairness_note")
        return Paired(
            rows,
            matched_by,
            tuple(manifest.MetricDelta.model_validate(d) for d in payload["deltas"]),
            None,
            tuple(manifest.FairnessDelta.model_validate(f) for f in payload["fairness"]),
            note if isinstance(note, str) else None,
        )


def _fairness(subject: PairSubject, this, other, pairing) -> tuple[list[manifest.FairnessDelta], str | None]:
    """The groups' deltas of a binary classifier, or why they are not compared."""
    if subject.model.card.task.value != "binary_classification" or not this.groups:
        return [], None
    from modelgov.analysis.comparison_fairness import GroupsDiffer, fairness_deltas

    try:
        found = fairness_deltas(
            this,
            other,
            pairing,
            resampling=resampling(subject.settings),
            min_group_size=subject.settings.min_group_size,
            exclude_small=subject.settings.exclude_small_groups,
        )
    except GroupsDiffer as exc:
        return [], str(exc)
    return found, None


def _newest_first(evaluations: list[Evaluation]) -> list[Evaluation]:
    return sorted(evaluations, key=lambda e: (e.date, e.id), reverse=True)


STAGE = ComparisonStage()
