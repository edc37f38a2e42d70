"""What the lineage pages show, computed from the manifest's lineage graph: the node tables, the
links of each node to its page, and a dataset's impact ("which model versions used this data,
directly or through data derived from it?")."""

from __future__ import annotations

from dataclasses import dataclass

from modelgov.manifest import Lineage, LineageNode, Manifest
from modelgov.render import text
from modelgov.render.lineage_svg import KINDS, ORIGINS

__all__ = ["KINDS", "Impact", "dataset_impact", "kind_label", "node_anchor", "origins_text", "sorted_nodes"]


def node_anchor(node_id: str) -> str:
    """The id of a node's row in the lineage page's table (an HTML id, stable across builds)."""
    return "node-" + text.slug(node_id.replace(":", "-").replace("/", "-").replace("@", "-"))


def kind_label(kind: str) -> str:
    return KINDS[kind][0]


def origins_text(node: LineageNode) -> str:
    return ", ".join(ORIGINS[origin] for origin in node.origins)


def sorted_nodes(lineage: Lineage) -> list[LineageNode]:
    """Nodes grouped by kind in reading order (data first), then by label."""
    order = list(KINDS)
    return sorted(lineage.nodes, key=lambda n: (order.index(n.kind), n.label.casefold(), n.id))


@dataclass(frozen=True)
class Impact:
    model: str
    version: str
    uses: tuple[str, ...]  # "training", "evaluation", "monitoring"…
    direct: bool  # False: only through data derived from the dataset


#: MLflow input contexts that mean the data was evaluated on, not fitted on (compared in any case).
_EVALUATION_CONTEXTS = frozenset({"eval", "evaluation", "validation", "valid", "val", "test", "testing", "holdout"})


def dataset_impact(manifest: Manifest, dataset_id: str) -> list[Impact]:
    """Every model version that trained or was evaluated on the dataset, or on data derived from it
    (through pipeline jobs and the datasets they wrote). The search stops at training runs and
    evaluations: a version's own evaluations are not uses of its training data."""
    lineage = manifest.lineage
    start = f"dataset:{dataset_id}"
    by_id = {node.id: node for node in lineage.nodes}
    if start not in by_id:
        return []
    successors: dict[str, list[tuple[str, str]]] = {}
    for edge in lineage.edges:
        successors.setdefault(edge.source, []).append((edge.target, edge.relation))
    found: dict[tuple[str, str], tuple[set[str], bool]] = {}
    queue, seen = [(start, True)], {start}
    while queue:
        node_id, direct = queue.pop(0)
        for child, relation in sorted(successors.get(node_id, [])):
            node = by_id[child]
            if node.kind in ("training", "evaluation") and node.model and node.version:
                # a training run's input logged in an evaluation context (MLflow's `eval`, `validation`,
                # `test`) was evaluated on during training, not fitted on; any other context counts as
                # training, so that data a model was fitted on is never hidden
                context = (
                    relation.removeprefix("used as ").strip().casefold() if relation.startswith("used as ") else ""
                )
                use = "evaluation" if node.kind == "evaluation" or context in _EVALUATION_CONTEXTS else "training"
                uses, was_direct = found.get((node.model, node.version), (set(), False))
                found[(node.model, node.version)] = (uses | {use}, was_direct or direct)
            elif node.kind in ("dataset", "job") and child not in seen:
                seen.add(child)
                queue.append((child, False))
    return [
        Impact(model, version, tuple(sorted(uses, key=["training", "evaluation"].index)), direct)
        for (model, version), (uses, direct) in sorted(found.items())
    ]
