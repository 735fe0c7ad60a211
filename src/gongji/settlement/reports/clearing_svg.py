"""A month's province-to-province clearing as a picture: SVG from the standard library alone
(:func:`render_svg`, which the CLI, the API and the back-office page all call; PNG is made from
it by :mod:`gongji.kernel.png`).

The provinces that pay or receive sit on a circle; each province pair is an arrow from the
province whose insured contributors owe (参保地) to the province where the money was spent
(就医地), as wide as its amount relative to the largest. Opposite directions bend to opposite
sides so they never hide each other. A province is green when it receives on balance, red when
it pays; the table on the right lists every net position. Labels are Chinese, so the font list
names the usual CJK fonts of Linux, macOS and Windows before the generic fallback.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

from gongji.core.money import format_yuan
from gongji.settlement.domain.clearing import NetPosition, PairLine
from gongji.settlement.reports.clearing import name_of
from gongji.settlement.service.clearing import ClearingRun

FONTS = (
    "'Noto Sans CJK SC', 'Source Han Sans SC', 'WenQuanYi Micro Hei', 'PingFang SC', "
    "'Microsoft YaHei', 'SimHei', sans-serif"
)
WIDTH, CIRCLE_HEIGHT = 1160, 760
CENTRE_X, CENTRE_Y, RING_RADIUS = 400.0, 410.0, 250.0
NODE_RADIUS = 30.0
STROKE_MIN, STROKE_MAX = 3.0, 26.0
TABLE_X, TABLE_ROW = 800, 30
PALETTE = ("#1f77b4", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#7f7f7f")
RECEIVES, PAYS, EVEN = ("#2e7d32", "#e8f5e9"), ("#c62828", "#ffebee"), ("#616161", "#f5f5f5")

Point = tuple[float, float]


def yuan_text(fen: int) -> str:
    """Yuan with thousands separators, for reading (the data files keep plain yuan strings)."""
    plain = format_yuan(fen)
    sign, digits = ("-", plain[1:]) if plain.startswith("-") else ("", plain)
    whole, cents = digits.split(".")
    return f"{sign}{int(whole):,}.{cents}"


@dataclass(frozen=True, slots=True)
class _Node:
    code: str
    at: Point
    angle: float
    position: NetPosition


def canvas_size(run: ClearingRun) -> tuple[int, int]:
    """Width and height of the picture: taller when the net table needs it."""
    return WIDTH, max(CIRCLE_HEIGHT, 190 + TABLE_ROW * len(run.clearing.net_positions()))


def render_svg(run: ClearingRun, names: Mapping[str, str] | None = None) -> str:
    """The picture of a clearing run, as a complete, well-formed SVG document.

    ``names`` maps region codes to names (``{code: region.name for … in ctx.regions.items()}``);
    a region it does not know is labelled with its code.
    """
    names = names or {}
    clearing = run.clearing
    lines = clearing.province_lines()
    nodes = _layout(clearing.net_positions())
    height = canvas_size(run)[1]
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
        f'viewBox="0 0 {WIDTH} {height}" font-family={quoteattr(FONTS)}>',
        f'<rect width="{WIDTH}" height="{height}" fill="#ffffff"/>',
        *_header(run, len(lines)),
    ]
    if lines:
        largest = max(line.amount_fen for line in lines)
        colours = {node.code: PALETTE[n % len(PALETTE)] for n, node in enumerate(nodes.values())}
        parts += [_flow(line, nodes, largest, colours[line.payer]) for line in lines]
        parts += [_flow_label(line, nodes) for line in lines]
        parts += [_node(node, names) for node in nodes.values()]
    else:
        parts.append(_text(CENTRE_X, CENTRE_Y, "本月没有跨省清算金额", 20, "#616161", "middle"))
    parts += _net_table(nodes, names)
    parts += _legend(height)
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def _layout(positions: tuple[NetPosition, ...]) -> dict[str, _Node]:
    """Provinces on a circle in code order, the first on the left (two face each other)."""
    count = len(positions)
    nodes = {}
    for n, position in enumerate(positions):
        angle = math.pi + 2 * math.pi * n / max(count, 1)
        at = (CENTRE_X + RING_RADIUS * math.cos(angle), CENTRE_Y + RING_RADIUS * math.sin(angle))
        nodes[position.region] = _Node(position.region, at, angle, position)
    return nodes


def _text(
    x: float, y: float, text: str, size: int, fill: str, anchor: str, bold: bool = False
) -> str:
    weight = ' font-weight="bold"' if bold else ""
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" fill="{fill}" '
        f'text-anchor="{anchor}"{weight}>{escape(text)}</text>'
    )


def _header(run: ClearingRun, province_pairs: int) -> list[str]:
    clearing = run.clearing
    summary = (
        f"城市间 {len(clearing.lines)} 条 · 省际 {province_pairs} 条 · "
        f"合计 {yuan_text(clearing.total_fen)} 元 · 摘要 {clearing.digest[:12]}"
    )
    return [
        _text(40, 52, f"{clearing.month} 共济资金跨省清算", 26, "#212121", "start", bold=True),
        _text(40, 82, summary, 15, "#616161", "start"),
    ]


def _geometry(line: PairLine, nodes: Mapping[str, _Node]) -> tuple[Point, Point, Point]:
    """Start, control and end of the arrow's curve; the bend side follows the direction."""
    (px, py), (qx, qy) = nodes[line.payer].at, nodes[line.payee].at
    dx, dy = qx - px, qy - py
    length = math.hypot(dx, dy) or 1.0
    bend = 0.22 * length
    control = ((px + qx) / 2 - dy / length * bend, (py + qy) / 2 + dx / length * bend)
    return (px, py), control, (qx, qy)


def _towards(origin: Point, target: Point, distance: float) -> Point:
    dx, dy = target[0] - origin[0], target[1] - origin[1]
    length = math.hypot(dx, dy) or 1.0
    return origin[0] + dx / length * distance, origin[1] + dy / length * distance


def _width(amount_fen: int, largest_fen: int) -> float:
    return STROKE_MIN + (STROKE_MAX - STROKE_MIN) * amount_fen / max(largest_fen, 1)


def _flow(line: PairLine, nodes: Mapping[str, _Node], largest: int, colour: str) -> str:
    """The curve from the payer's circle to the payee's, ending in an arrowhead."""
    start, control, end = _geometry(line, nodes)
    width = _width(line.amount_fen, largest)
    head = max(width * 1.3, 12.0)
    tip = _towards(end, control, NODE_RADIUS + 2)
    base = _towards(end, control, NODE_RADIUS + 2 + head)
    begin = _towards(start, control, NODE_RADIUS + 2)
    ux, uy = (tip[0] - base[0]) / head, (tip[1] - base[1]) / head
    half = max(width * 0.95, 8.0)
    left = (base[0] - uy * half, base[1] + ux * half)
    right = (base[0] + uy * half, base[1] - ux * half)
    return (
        f'<g opacity="0.78"><path d="M {begin[0]:.1f} {begin[1]:.1f} '
        f'Q {control[0]:.1f} {control[1]:.1f} {base[0]:.1f} {base[1]:.1f}" fill="none" '
        f'stroke="{colour}" stroke-width="{width:.1f}" stroke-linecap="butt"/>'
        f'<polygon points="{tip[0]:.1f},{tip[1]:.1f} {left[0]:.1f},{left[1]:.1f} '
        f'{right[0]:.1f},{right[1]:.1f}" fill="{colour}"/></g>'
    )


def _flow_label(line: PairLine, nodes: Mapping[str, _Node]) -> str:
    """The amount at the middle of the curve, on a white halo so crossing curves stay readable.

    The halo is a second text drawn first with a wide white stroke: ``paint-order`` would do it
    in one, but cairosvg (the PNG) ignores it and paints the text white.
    """
    start, control, end = _geometry(line, nodes)
    x = 0.25 * start[0] + 0.5 * control[0] + 0.25 * end[0]
    y = 0.25 * start[1] + 0.5 * control[1] + 0.25 * end[1]
    amount = escape(yuan_text(line.amount_fen))
    common = f'x="{x:.1f}" y="{y + 5:.1f}" font-size="15" text-anchor="middle" font-weight="bold"'
    return (
        f'<text {common} fill="#ffffff" stroke="#ffffff" stroke-width="5" '
        f'stroke-linejoin="round">{amount}</text>'
        f'<text {common} fill="#212121">{amount}</text>'
    )


def _colours(position: NetPosition) -> tuple[str, str]:
    if position.net_fen > 0:
        return RECEIVES
    return PAYS if position.net_fen < 0 else EVEN


def _node(node: _Node, names: Mapping[str, str]) -> str:
    """The province's circle and, outside it, its name and net position."""
    line_colour, fill = _colours(node.position)
    x, y = node.at
    cos, sin = math.cos(node.angle), math.sin(node.angle)
    anchor = "start" if cos > 0.3 else "end" if cos < -0.3 else "middle"
    label_x = x + cos * (NODE_RADIUS + 12)
    label_y = y + sin * (NODE_RADIUS + 26) + (4 if abs(sin) < 0.5 else 0)
    net = node.position.net_fen
    net_text = f"净{'收' if net > 0 else '付' if net < 0 else '额'} {yuan_text(abs(net))}"
    return "".join(
        [
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{NODE_RADIUS}" fill="{fill}" '
            f'stroke="{line_colour}" stroke-width="3"/>',
            _text(x, y + 6, node.code[:2], 16, line_colour, "middle", bold=True),
            _text(label_x, label_y - 9, name_of(names, node.code), 18, "#212121", anchor, True),
            _text(label_x, label_y + 12, net_text, 14, line_colour, anchor),
        ]
    )


def _net_table(nodes: Mapping[str, _Node], names: Mapping[str, str]) -> list[str]:
    top = 140
    rows = [
        _text(TABLE_X, top, "各省净额（元）", 18, "#212121", "start", bold=True),
        _text(TABLE_X, top + 26, "省份", 13, "#757575", "start"),
        _text(TABLE_X + 300, top + 26, "收入 − 支出", 13, "#757575", "end"),
        f'<line x1="{TABLE_X}" y1="{top + 34}" x2="{TABLE_X + 300}" y2="{top + 34}" '
        'stroke="#bdbdbd" stroke-width="1"/>',
    ]
    for n, node in enumerate(nodes.values()):
        y = top + 60 + TABLE_ROW * n
        colour = _colours(node.position)[0]
        rows.append(_text(TABLE_X, y, name_of(names, node.code), 15, "#212121", "start"))
        rows.append(_text(TABLE_X + 300, y, yuan_text(node.position.net_fen), 15, colour, "end"))
    return rows


def _legend(height: int) -> list[str]:
    y = height - 30
    return [
        f'<circle cx="48" cy="{y - 5}" r="7" fill="{RECEIVES[1]}" stroke="{RECEIVES[0]}" '
        'stroke-width="2"/>',
        _text(62, y, "净收入省份", 14, "#424242", "start"),
        f'<circle cx="168" cy="{y - 5}" r="7" fill="{PAYS[1]}" stroke="{PAYS[0]}" '
        'stroke-width="2"/>',
        _text(182, y, "净支出省份", 14, "#424242", "start"),
        _text(
            290,
            y,
            "箭头：参保地（共济人所在地，付款）→ 就医地（收款）；线宽与金额成正比",
            14,
            "#424242",
            "start",
        ),
    ]
