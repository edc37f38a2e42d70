"""Stage: a version's shadow test beside the live version (:mod:`modelgov.monitoring.shadow_report`).

It runs for a version whose version.yml has ``shadow``, after the version's runs, and depends on the
shadow log's files, the champion's log and the outcomes (their content), the ``shadow`` section, the
card's task and the analysis settings (bootstrap, confidence level, small groups). The log is read
out of core by DuckDB (:mod:`modelgov.monitoring.shadow_scan`), whatever its size.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from modelgov import manifest
from modelgov.errors import Problem
from modelgov.stages.base import Inputs, Stage, StageFailed, VersionSubject
from modelgov.stages.evaluation import resampling

if TYPE_CHECKING:
    from modelgov.workspace.shadow_schema import ShadowOutput, ShadowTest


def _files(subject: VersionSubject, pattern: str | None) -> list[str]:
    from modelgov.sources.tables import expand_table_paths

    return expand_table_paths(subject.workspace.root, pattern) if pattern else []


def _decided_by(output: ShadowOutput, positive_label: object) -> str:
    if output.prediction is not None:
        return f"{output.prediction} = {positive_label}"
    return f"{output.score} ≥ {output.threshold:g}"


class ShadowStage(Stage):
    name = "shadow"
    scope = "version"
    evidence = ("models[].versions[].shadow",)
    result = manifest.ShadowReport

    def label(self, subject: VersionSubject) -> str:
        return f"{subject.model.id} {subject.version.id} shadow test"

    def units(self, subject: VersionSubject):
        if subject.version.spec.shadow is not None:
            yield subject

    def inputs(self, subject: VersionSubject) -> Inputs:
        shadow = subject.version.spec.shadow
        assert shadow is not None
        return Inputs(
            files={
                "logs": _files(subject, shadow.logs),
                "champion_logs": _files(subject, shadow.champion.logs),
                "ground_truth": shadow.ground_truth.data if shadow.ground_truth else None,
            },
            settings={
                "shadow": shadow.model_dump(mode="json"),
                "task": subject.model.card.task.value,
                "analysis": subject.settings.model_dump(mode="json"),
            },
        )

    def compute(self, subject: VersionSubject) -> manifest.ShadowReport:
        from modelgov.monitoring.aggregates import WindowSpec
        from modelgov.monitoring.logsource import ScanError
        from modelgov.monitoring.shadow_report import ShadowSettings, shadow_report
        from modelgov.monitoring.shadow_scan import Side, scan_shadow

        shadow: ShadowTest | None = subject.version.spec.shadow
        assert shadow is not None
        window = shadow.window
        spec_window = WindowSpec(kind=window) if isinstance(window, str) else WindowSpec(kind="rows", rows=window.rows)
        logs = _files(subject, shadow.logs)
        champion_logs = _files(subject, shadow.champion.logs)
        truth = shadow.ground_truth

        def side(output: ShadowOutput) -> Side:
            return Side(prediction=output.prediction, score=output.score, threshold=output.threshold)

        try:
            scan = scan_shadow(
                [subject.path(p) for p in logs],
                timestamp=shadow.timestamp,
                window=spec_window,
                challenger=side(shadow.challenger),
                champion=side(shadow.champion),
                positive_label=shadow.positive_label,
                request_id=shadow.id,
                champion_logs=[subject.path(p) for p in champion_logs] if champion_logs else None,
                sensitive=shadow.sensitive,
                truth=subject.path(truth.data) if truth else None,
                truth_id=truth.id if truth else None,
                truth_label=truth.label if truth else None,
            )
        except ScanError as exc:  # DuckDB names files by absolute path; the user knows them by workspace path
            message = str(exc).replace(f"{subject.workspace.root}{os.sep}", "")
            raise StageFailed(Problem(subject.version.source, None, "shadow", message)) from None
        settings = subject.settings
        report = shadow_report(
            scan,
            ShadowSettings(
                champion=shadow.champion.version,
                window_label=window if isinstance(window, str) else f"{window.rows:,} rows",
                positive_label=shadow.positive_label,
                decided_by={
                    "champion": _decided_by(shadow.champion, shadow.positive_label),
                    "challenger": _decided_by(shadow.challenger, shadow.positive_label),
                },
                level=settings.confidence_level,
                min_group_size=settings.min_group_size,
                exclude_small_groups=settings.exclude_small_groups,
                resampling=resampling(settings),
                logs=[subject.ref(p) for p in logs + champion_logs],
            ),
        )
        return report

    def contribute(
        self, node: manifest.ModelVersion, subject: VersionSubject, result: manifest.ShadowReport
    ) -> manifest.ModelVersion:
        return node.model_copy(update={"shadow": result})


STAGE = ShadowStage()
