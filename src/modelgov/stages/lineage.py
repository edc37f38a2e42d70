"""Stage: one lineage graph from the workspace's records, its MLflow store and its OpenLineage
events, matched by location or digest (:mod:`modelgov.lineage.join`)."""

from __future__ import annotations

from modelgov import manifest
from modelgov.stages.base import ManifestSubject, Stage


class LineageStage(Stage):
    name = "lineage"
    scope = "manifest"
    evidence = ("lineage",)

    def compute(self, subject: ManifestSubject) -> manifest.Lineage:
        from modelgov.lineage.join import build_lineage

        subject.progress("Joining lineage")
        return build_lineage(subject.workspace)

    def contribute(
        self, node: manifest.Manifest, subject: ManifestSubject, result: manifest.Lineage
    ) -> manifest.Manifest:
        return node.model_copy(update={"lineage": result})


STAGE = LineageStage()
