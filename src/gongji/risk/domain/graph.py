"""Strongly connected components of a directed graph, without recursion.

A loop of grants of any length is a strongly connected group of two or more people; Tarjan's
algorithm finds every group in one pass over the edges, so a million grants need no search per
person. Iterative because Python's recursion limit is far below a long chain of grants.
"""

from __future__ import annotations

from collections.abc import Mapping, Set
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Edge:
    """Money given by one person to another: the sum and the number of grants."""

    giver: str
    taker: str
    amount_fen: int
    grants: int


def strongly_connected(edges: Mapping[str, Set[str]]) -> list[set[str]]:
    """Every strongly connected component of the graph (singletons included)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[set[str]] = []
    for root in edges:
        if root not in index:
            _visit(root, edges, index, low, on_stack, stack, found)
    return found


def _visit(
    root: str,
    edges: Mapping[str, Set[str]],
    index: dict[str, int],
    low: dict[str, int],
    on_stack: set[str],
    stack: list[str],
    found: list[set[str]],
) -> None:
    work = [(root, iter(edges.get(root, ())))]
    index[root] = low[root] = len(index)
    stack.append(root)
    on_stack.add(root)
    while work:
        node, successors = work[-1]
        step = next(successors, None)
        if step is None:
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                found.append(_pop_component(node, stack, on_stack))
        elif step not in index:
            index[step] = low[step] = len(index)
            stack.append(step)
            on_stack.add(step)
            work.append((step, iter(edges.get(step, ()))))
        elif step in on_stack:
            low[node] = min(low[node], index[step])


def _pop_component(node: str, stack: list[str], on_stack: set[str]) -> set[str]:
    component = set()
    while True:
        member = stack.pop()
        on_stack.discard(member)
        component.add(member)
        if member == node:
            return component
