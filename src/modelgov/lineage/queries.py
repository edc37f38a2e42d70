"""Questions asked of the lineage graph — what is upstream or downstream of a node — with networkx.

Kept apart from :mod:`.join` so the renderer can ask them without importing the workspace loader
and its analysis stack.
"""

from __future__ import annotations

import networkx as nx

from modelgov.manifest import Lineage

__all__ = ["downstream", "graph", "neighbourhood", "upstream"]


def graph(lineage: Lineage) -> nx.DiGraph:
    directed = nx.DiGraph()
    directed.add_nodes_from(node.id for node in lineage.nodes)
    directed.add_edges_from((edge.source, edge.target) for edge in lineage.edges)
    return directed


def upstream(lineage: Lineage, node_id: str) -> set[str]:
    return set(nx.ancestors(graph(lineage), node_id))


def downstream(lineage: Lineage, node_id: str) -> set[str]:
    return set(nx.descendants(graph(lineage), node_id))


def neighbourhood(
    lineage: Lineage, node_id: str, *, inputs_of_results: bool = True, directed: nx.DiGraph | None = None
) -> Lineage:
    """What ``node_id`` came from and what came of it, for the lineage section of one version's or
    dataset's page. ``inputs_of_results`` adds what those results also used (the dataset an
    evaluation of the version ran on); a dataset's page leaves it out to show only its impact.
    ``directed`` is ``graph(lineage)`` when the caller keeps it for many pages (building it for each
    page made the site's pages grow with the square of a fleet's size)."""
    directed = graph(lineage) if directed is None else directed
    if node_id not in directed:
        return Lineage(nodes=[], edges=[], sources=lineage.sources)
    after = nx.descendants(directed, node_id)
    keep = {node_id} | nx.ancestors(directed, node_id) | after
    for node in after if inputs_of_results else ():
        keep |= nx.ancestors(directed, node)
    return Lineage(
        nodes=[node for node in lineage.nodes if node.id in keep],
        edges=[edge for edge in lineage.edges if edge.source in keep and edge.target in keep],
        sources=lineage.sources,
    )
