"""The evidence graph of an alert or a case: who gave to whom, as an SVG drawn by hand.

No plotting library: the graph is a dozen people at most, laid out on a circle around the
subject, one arrow per giver → taker pair labelled with the sum and the number of grants. The
SVG carries its own text (title, labels), so it reads without the page around it and in a
screen reader (``role="img"`` with a title and a description).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from xml.sax.saxutils import escape

from gongji.core.money import format_yuan
from gongji.risk.domain.graph import Edge

SIZE = 520
RADIUS = 190
NODE_R = 34


def layout(subject: str, people: Sequence[str]) -> dict[str, tuple[float, float]]:
    """The subject in the middle (when it takes part), everyone else on a circle around it."""
    centre = SIZE / 2
    others = [p for p in people if p != subject]
    places = {subject: (centre, centre)} if subject in people else {}
    for k, person in enumerate(others):
        angle = 2 * math.pi * k / max(1, len(others)) - math.pi / 2
        places[person] = (centre + RADIUS * math.cos(angle), centre + RADIUS * math.sin(angle))
    return places


def render_graph(subject: str, edges: Sequence[Edge], title: str) -> str:
    people = sorted({e.giver for e in edges} | {e.taker for e in edges} | {subject})
    places = layout(subject, people)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {SIZE} {SIZE}" '
        f'width="100%" role="img" aria-labelledby="eg-t eg-d" '
        'class="evidence-graph">',
        f'<title id="eg-t">{escape(title)}</title>',
        f'<desc id="eg-d">{escape(_description(edges))}</desc>',
        '<defs><marker id="eg-arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" '
        'markerHeight="8" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" '
        'fill="#555"/></marker></defs>',
    ]
    parts += [_arrow(edge, places) for edge in edges]
    parts += [_node(person, places[person], person == subject) for person in people]
    parts.append("</svg>")
    return "\n".join(parts)


def _description(edges: Sequence[Edge]) -> str:
    return "; ".join(
        f"{e.giver} → {e.taker}: {format_yuan(e.amount_fen)} 元 ({e.grants})" for e in edges
    )


def _arrow(edge: Edge, places: dict[str, tuple[float, float]]) -> str:
    (x1, y1), (x2, y2) = places[edge.giver], places[edge.taker]
    length = math.hypot(x2 - x1, y2 - y1) or 1.0
    dx, dy = (x2 - x1) / length, (y2 - y1) / length
    # a pair given both ways gets two arrows: shift each to its own side
    sx, sy = -dy * 6, dx * 6
    a = (x1 + dx * NODE_R + sx, y1 + dy * NODE_R + sy)
    b = (x2 - dx * NODE_R + sx, y2 - dy * NODE_R + sy)
    label = f"{format_yuan(edge.amount_fen)} 元 ×{edge.grants}"
    mid = ((a[0] + b[0]) / 2 + sx * 2, (a[1] + b[1]) / 2 + sy * 2)
    return (
        f'<g class="edge"><line x1="{a[0]:.1f}" y1="{a[1]:.1f}" x2="{b[0]:.1f}" '
        f'y2="{b[1]:.1f}" stroke="#555" stroke-width="1.5" marker-end="url(#eg-arrow)"/>'
        f'<text x="{mid[0]:.1f}" y="{mid[1]:.1f}" font-size="11" text-anchor="middle" '
        f'fill="#222">{escape(label)}</text></g>'
    )


def _node(person: str, place: tuple[float, float], subject: bool) -> str:
    x, y = place
    fill = "#f6d5d5" if subject else "#e4ecf7"
    return (
        f'<g class="node"><circle cx="{x:.1f}" cy="{y:.1f}" r="{NODE_R}" fill="{fill}" '
        f'stroke="#333"/><text x="{x:.1f}" y="{y + 4:.1f}" font-size="10" '
        f'text-anchor="middle">{escape(person[-8:])}</text></g>'
    )
