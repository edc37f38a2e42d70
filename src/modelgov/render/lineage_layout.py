"""A layered (Sugiyama-style) layout of the lineage graph, computed in Python so the site needs
neither Graphviz's ``dot`` binary nor a JavaScript layout library, and looks the same on every build.

Steps, each deterministic (ties broken by node id, never by hash or dict order):

1. **Cycles** are broken by reversing the back edges of a depth-first search in id order (lineage
   is acyclic in practice; OpenLineage events can still describe a job that reads what it wrote).
2. **Layers** by longest path from the sources, so data sits left of the training that used it,
   versions right of their training, evaluations and monitoring right of the versions.
3. **Dummy points** split edges that span several layers, so they route between nodes, not over them.
4. **Order** within each layer by alternating barycentre sweeps (Sugiyama, Tagawa & Toda 1981),
   keeping the order with the fewest crossings seen.
5. **Coordinates**: columns per layer; in each column nodes move towards the mean height of their
   neighbours while keeping a minimum gap (a few relaxation passes).
"""

from __future__ import annotations

import bisect
import itertools
from collections import defaultdict
from dataclasses import dataclass

__all__ = ["Layout", "layered_layout"]

_SWEEPS = 12


@dataclass(frozen=True)
class Layout:
    positions: dict[str, tuple[float, float]]  # node id → (x, y) of the node's left-top corner
    routes: dict[tuple[str, str], list[tuple[float, float]]]  # edge → points from source to target
    width: float
    height: float
    layers: int


def _acyclic(nodes: list[str], edges: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Edges with each DFS back edge reversed (iterative DFS in id order)."""
    successors: dict[str, list[str]] = defaultdict(list)
    for source, target in edges:
        successors[source].append(target)
    for targets in successors.values():
        targets.sort()
    state: dict[str, int] = {}  # 1 = on the stack, 2 = done
    back: set[tuple[str, str]] = set()
    for root in nodes:
        if root in state:
            continue
        stack = [(root, iter(successors[root]))]
        state[root] = 1
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                state[node] = 2
                stack.pop()
            elif state.get(child) == 1:
                back.add((node, child))
            elif child not in state:
                state[child] = 1
                stack.append((child, iter(successors[child])))
    return [(t, s) if (s, t) in back else (s, t) for s, t in edges]


def _layers(nodes: list[str], edges: list[tuple[str, str]]) -> dict[str, int]:
    predecessors: dict[str, list[str]] = defaultdict(list)
    successors: dict[str, list[str]] = defaultdict(list)
    for source, target in edges:
        predecessors[target].append(source)
        successors[source].append(target)
    indegree = {node: len(predecessors[node]) for node in nodes}
    ready = sorted(node for node in nodes if indegree[node] == 0)
    layer = dict.fromkeys(nodes, 0)
    while ready:
        node = ready.pop(0)
        for child in sorted(successors[node]):
            layer[child] = max(layer[child], layer[node] + 1)
            indegree[child] -= 1
            if indegree[child] == 0:
                ready.append(child)
    return layer


def _crossings(order: list[list[str]], edges: list[tuple[str, str]], layer_of: dict[str, int]) -> int:
    position = {node: i for column in order for i, node in enumerate(column)}
    between: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for source, target in edges:
        between[layer_of[source]].append((position[source], position[target]))
    total = 0
    for pairs in between.values():
        pairs.sort()
        # two edges cross when the later one (by source, then target) ends above the earlier one:
        # for each edge, the earlier edges whose target is below its own, counted in a sorted list
        # (a fleet's lineage has thousands of edges between two layers, and every sweep counts them)
        targets: list[int] = []
        for _, target in pairs:
            total += len(targets) - bisect.bisect_right(targets, target)
            bisect.insort(targets, target)
    return total


def layered_layout(
    nodes: list[str],
    edges: list[tuple[str, str]],
    *,
    rank: dict[str, tuple[object, ...]] | None = None,
    node_width: float = 230,
    node_height: float = 48,
    column_gap: float = 90,
    row_gap: float = 18,
) -> Layout:
    """Place ``nodes`` (ids) left to right along ``edges``. ``rank`` gives each node's initial
    position in its layer (e.g. by model, then kind), which keeps related nodes together."""
    nodes = sorted(set(nodes))
    rank = rank or {}
    edges = sorted({(s, t) for s, t in edges if s in set(nodes) and t in set(nodes) and s != t})
    forward = _acyclic(nodes, edges)
    layer_of = _layers(nodes, forward)

    # dummy points for long edges; each original edge maps to its chain of unit edges
    chains: dict[tuple[str, str], list[str]] = {}
    unit_edges: list[tuple[str, str]] = []
    for (source, target), original in zip(forward, edges, strict=True):
        chain = [source]
        for step in range(layer_of[source] + 1, layer_of[target]):
            dummy = f"\0{source}\0{target}\0{step}"
            layer_of[dummy] = step
            chain.append(dummy)
        chain.append(target)
        unit_edges.extend(itertools.pairwise(chain))
        chains[original] = chain if original == (source, target) else list(reversed(chain))

    depth = max(layer_of.values(), default=-1) + 1
    order: list[list[str]] = [[] for _ in range(depth)]
    for node in sorted(layer_of, key=lambda n: (rank.get(n, ()), n)):
        order[layer_of[node]].append(node)
    up: dict[str, list[str]] = defaultdict(list)
    down: dict[str, list[str]] = defaultdict(list)
    for source, target in unit_edges:
        down[source].append(target)
        up[target].append(source)

    best, best_crossings = [list(column) for column in order], _crossings(order, unit_edges, layer_of)
    for sweep in range(_SWEEPS):
        downward = sweep % 2 == 0
        indices = range(1, depth) if downward else range(depth - 2, -1, -1)
        for index in indices:
            neighbour_column = order[index - 1] if downward else order[index + 1]
            position = {node: i for i, node in enumerate(neighbour_column)}
            keys = {}
            for i, node in enumerate(order[index]):
                linked = [position[n] for n in (up[node] if downward else down[node]) if n in position]
                keys[node] = (sum(linked) / len(linked) if linked else float(i), i)
            order[index].sort(key=keys.__getitem__)
        crossings = _crossings(order, unit_edges, layer_of)
        if crossings < best_crossings:
            best, best_crossings = [list(column) for column in order], crossings
    order = best

    # vertical placement: start stacked, then relax towards neighbours' mean height
    pitch = node_height + row_gap
    y = {node: i * pitch for column in order for i, node in enumerate(column)}
    for _ in range(8):
        for column in order:
            wanted = []
            for node in column:
                linked = [y[n] for n in up[node] + down[node]]
                wanted.append(sum(linked) / len(linked) if linked else y[node])
            placed: list[float] = []
            for target in wanted:
                placed.append(max(target, placed[-1] + pitch) if placed else target)
            # pushing down to keep the gap moves the column's centre: move it back as a whole
            shift = (sum(wanted) - sum(placed)) / len(placed) if placed else 0.0
            for node, value in zip(column, placed, strict=True):
                y[node] = value + shift
    top = min(y.values(), default=0.0)
    x_pitch = node_width + column_gap
    positions = {node: (layer_of[node] * x_pitch, y[node] - top) for node in layer_of}

    routes: dict[tuple[str, str], list[tuple[float, float]]] = {}
    for original, chain in chains.items():
        points = []
        for index, node in enumerate(chain):
            px, py = positions[node]
            dummy = node.startswith("\0")
            if dummy:
                points.append((px + node_width / 2, py + node_height / 2))
            elif index == 0:
                points.append((px + node_width, py + node_height / 2))
            else:
                points.append((px, py + node_height / 2))
        routes[original] = points
    real = [positions[node] for node in nodes]
    width = max((x for x, _ in real), default=0.0) + node_width
    height = max((y for _, y in positions.values()), default=0.0) + node_height
    return Layout({node: positions[node] for node in nodes}, routes, width, height, depth)
