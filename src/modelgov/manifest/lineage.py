"""The lineage graph: datasets, jobs, training runs, versions, evaluations and monitoring, and the
edges between them, merged from the workspace, an MLflow store and OpenLineage events.

It names the rest of the manifest by id only, never by reference, so it stands on its own.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from modelgov.manifest.base import Node

LineageKind = Literal["dataset", "job", "training", "version", "registered", "evaluation", "monitoring"]
LineageOrigin = Literal["workspace", "mlflow", "openlineage"]


class LineageNode(Node):
    """One thing in the lineage graph. Records of the same thing from several sources are one node
    whose ``origins`` lists every source that mentions it."""

    id: str = Field(description="Stable id, e.g. `dataset:credit-train-2024`, `version:credit-default/2.0`.")
    kind: LineageKind
    label: str
    detail: str | None = Field(None, description="A second line: algorithm, experiment, aliases, namespace.")
    model: str | None = None
    version: str | None = None
    dataset: str | None = Field(None, description="Workspace dataset id, for a dataset with a datasheet.")
    origins: list[LineageOrigin]
    properties: dict[str, str] = Field(default_factory=dict, description="What the sources say about it.")


class LineageEdge(Node):
    source: str
    target: str
    relation: str = Field(description="E.g. `trained on`, `produced`, `evaluated on`, `registered as`.")
    origins: list[LineageOrigin]


class Lineage(Node):
    """Datasets → jobs and training runs → model versions → evaluations and monitoring, from the
    workspace, the MLflow store and OpenLineage events named in governance.yml `lineage`."""

    nodes: list[LineageNode] = Field(description="Sorted by id.")
    edges: list[LineageEdge] = Field(description="Sorted by (source, target, relation).")
    sources: list[str] = Field(default_factory=list, description="What was read besides the workspace, as text.")
    notes: list[str] = Field(
        default_factory=list,
        description="Records that could not be joined, or were left out of the graph, and why.",
    )
