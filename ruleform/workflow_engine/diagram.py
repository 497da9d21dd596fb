"""The status graph of an entity as a self-contained SVG (no scripts, fonts or links).

Layout: statuses in columns by breadth-first distance from the initial status; arrows for
transitions (forward ones straight, backward ones curved below), labelled with the
transition; a transition with approval carries its steps (``审批: 销售主管审核 → 财务核定``);
an exception transition (R48) is dashed and marked. Every label is XML-escaped. Pure.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from html import escape

from ..metadata.model import Entity, Rulebook, Transition

__all__ = ["entity_svg", "rulebook_svg", "layers"]

FONT = 13
NODE_H = 40
COL_GAP = 190
ROW_GAP = 70
PAD = 30
WORDS = {
    "approval": {"zh": "审批", "en": "Approval"},
    "exception": {"zh": "例外", "en": "exception"},
    "none": {"zh": "没有状态", "en": "No statuses"},
}


def _word(key: str, locale: str) -> str:
    return WORDS[key]["zh" if locale.startswith("zh") else "en"]


def _width(text: str, size: int = FONT) -> float:
    return sum(size if ord(ch) > 0x2E7F else size * 0.62 for ch in text)


def layers(entity: Entity) -> list[list[str]]:
    """Statuses grouped by their distance from the initial status (unreached ones last)."""
    if entity.statuses is None:
        return []
    states = list(entity.statuses.states)
    depth = {entity.statuses.initial: 0}
    queue = deque([entity.statuses.initial])
    while queue:
        current = queue.popleft()
        for t in entity.transitions.values():
            if current in t.sources and t.target not in depth:
                depth[t.target] = depth[current] + 1
                queue.append(t.target)
    last = max(depth.values(), default=0) + 1
    grouped: dict[int, list[str]] = {}
    for name in states:
        grouped.setdefault(depth.get(name, last), []).append(name)
    return [grouped[k] for k in sorted(grouped)]


@dataclass
class _Box:
    x: float
    y: float
    w: float
    h: float = NODE_H

    @property
    def cx(self) -> float:
        return self.x + self.w / 2

    @property
    def cy(self) -> float:
        return self.y + self.h / 2


def _place(entity: Entity, locale: str) -> dict[str, _Box]:
    assert entity.statuses is not None
    states = entity.statuses.states
    boxes: dict[str, _Box] = {}
    columns = layers(entity)
    where = {name: i for i, column in enumerate(columns) for name in column}
    x = PAD + 20.0
    for i, column in enumerate(columns):
        width = max(_width(states[s].label.get(locale, s)) + 28 for s in column)
        for row, name in enumerate(column):
            boxes[name] = _Box(x, PAD + 30 + row * (NODE_H + ROW_GAP), width)
        labels = [
            _width(line, FONT - 2)
            for t in entity.transitions.values()
            for src in t.sources
            if where.get(src) == i and where.get(t.target, -1) > i
            for line in _edge_label(t, locale)
        ]
        x += width + max([COL_GAP, *(w + 40 for w in labels)])
    return boxes


def _edge_label(t: Transition, locale: str) -> list[str]:
    lines = [t.label.get(locale, t.name)]
    word = _word("exception", locale)
    if t.exception and word.lower() not in lines[0].lower():
        lines[0] += f" ({word})"
    if t.approval is not None:
        steps = " → ".join(s.label.get(locale, s.name) for s in t.approval.steps)
        lines.append(f"✓ {_word('approval', locale)}: {steps}")
    return lines


def entity_svg(entity: Entity, locale: str = "zh-CN") -> str:
    """The entity's status diagram as a complete SVG document."""
    body, width, height = _entity_parts(entity, locale)
    return _document(body, width, height, entity.label.get(locale, entity.name))


def rulebook_svg(rulebook: Rulebook, locale: str | None = None) -> str:
    """Every entity with statuses, one diagram below the other, in one SVG document."""
    locale = locale or rulebook.default_locale
    parts, y, width = [], 0.0, 300.0
    for entity in rulebook.entities.values():
        if entity.statuses is None:
            continue
        body, w, h = _entity_parts(entity, locale)
        parts.append(f'<svg x="0" y="{y:.0f}" width="{w:.0f}" height="{h:.0f}">{body}</svg>')
        y, width = y + h, max(width, w)
    return _document("".join(parts), width, max(y, 60), rulebook.label.get(locale, rulebook.name))


def _document(body: str, width: float, height: float, title: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" role="img" font-family="sans-serif" '
        f'font-size="{FONT}"><title>{escape(title)}</title>'
        f"<defs>{_marker('arrow', '#555')}{_marker('arrow-x', '#b42318')}</defs>"
        f'<rect width="100%" height="100%" fill="#fff"/>{body}</svg>'
    )


def _marker(name: str, color: str) -> str:
    return (
        f'<marker id="{name}" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="9" '
        f'markerHeight="9" markerUnits="userSpaceOnUse" orient="auto-start-reverse">'
        f'<path d="M0,0 L10,5 L0,10 z" fill="{color}"/></marker>'
    )


def _entity_parts(entity: Entity, locale: str) -> tuple[str, float, float]:
    title = escape(entity.label.get(locale, entity.name))
    if entity.statuses is None:
        text = escape(_word("none", locale))
        return (
            f'<text x="{PAD}" y="{PAD + 10}" font-weight="bold">{title}</text>'
            f'<text x="{PAD}" y="{PAD + 34}">{text}</text>',
            300,
            80,
        )
    boxes = _place(entity, locale)
    out = [f'<text x="{PAD}" y="{PAD}" font-weight="bold" font-size="{FONT + 2}">{title}</text>']
    bottom = max(b.y + b.h for b in boxes.values())
    right = max(b.x + b.w for b in boxes.values())
    edges, lowest = _edges(entity, boxes, locale, bottom)
    out += edges
    out += _nodes(entity, boxes, locale)
    return "".join(out), right + PAD + 120, max(bottom, lowest) + PAD + 10


def _nodes(entity: Entity, boxes: dict[str, _Box], locale: str) -> list[str]:
    assert entity.statuses is not None
    out = []
    initial = boxes[entity.statuses.initial]
    out.append(
        f'<circle cx="{initial.x - 14:.1f}" cy="{initial.cy:.1f}" r="5" fill="#333"/>'
        f'<line x1="{initial.x - 9:.1f}" y1="{initial.cy:.1f}" x2="{initial.x:.1f}" '
        f'y2="{initial.cy:.1f}" stroke="#333" marker-end="url(#arrow)"/>'
    )
    fills = {"won": "#e7f6ec", "lost": "#fdecec", "closed": "#eef0f3", "open": "#eef4ff"}
    for name, box in boxes.items():
        status = entity.statuses.states[name]
        label = escape(status.label.get(locale, name))
        fill = fills.get(status.category, "#eef4ff")
        out.append(
            f'<g class="status" data-status="{escape(name)}"><rect x="{box.x:.1f}" '
            f'y="{box.y:.1f}" width="{box.w:.1f}" height="{box.h}" rx="8" fill="{fill}" '
            f'stroke="#345" stroke-width="{2.5 if status.final else 1.2}"/>'
        )
        if status.final:
            out.append(
                f'<rect x="{box.x + 3:.1f}" y="{box.y + 3:.1f}" width="{box.w - 6:.1f}" '
                f'height="{box.h - 6}" rx="6" fill="none" stroke="#345"/>'
            )
        out.append(
            f'<text x="{box.cx:.1f}" y="{box.cy + 4.5:.1f}" text-anchor="middle">{label}'
            f"<title>{escape(name)}</title></text></g>"
        )
    return out


def _edges(
    entity: Entity, boxes: dict[str, _Box], locale: str, bottom: float
) -> tuple[list[str], float]:
    out: list[str] = []
    seen: dict[tuple[str, str], int] = {}
    leaving: dict[str, int] = {}
    lowest = bottom
    for t in entity.transitions.values():
        for source in t.sources:
            if source not in boxes or t.target not in boxes:
                continue
            a, b = boxes[source], boxes[t.target]
            n = seen.get((source, t.target), 0)
            seen[(source, t.target)] = n + 1
            k = leaving.get(source, 0)
            leaving[source] = k + 1
            if b.x < a.x:  # every backward edge gets its own depth below the boxes
                n = back = leaving.get("\0back", 0)
                leaving["\0back"] = back + 1
            lines = _edge_label(t, locale)
            path, lx, ly = _route(a, b, n, bottom, k)
            ly -= 15 * (len(lines) - 1) if b.x > a.x else 0
            lowest = max(lowest, ly + 15 * len(lines))
            color, marker = ("#b42318", "arrow-x") if t.exception else ("#555", "arrow")
            dash = ' stroke-dasharray="6 4"' if t.exception else ""
            width = 2 if t.approval is not None else 1.2
            out.append(
                f'<g class="transition" data-transition="{escape(t.name)}">'
                f'<path d="{path}" fill="none" stroke="{color}" stroke-width="{width}"'
                f'{dash} marker-end="url(#{marker})"/>'
            )
            for i, line in enumerate(lines):
                weight = ' font-weight="bold"' if i == 1 else ""
                fill = "#1f5f3a" if i == 1 else color
                out.append(
                    f'<text x="{lx:.1f}" y="{ly + i * 15:.1f}" text-anchor="middle" '
                    f'font-size="{FONT - 2}" fill="{fill}"{weight} '
                    f'paint-order="stroke" stroke="#fff" stroke-width="3">'
                    f"{escape(line)}</text>"
                )
            out.append("</g>")
    return out, lowest


def _route(a: _Box, b: _Box, n: int, bottom: float, k: int = 0) -> tuple[str, float, float]:
    """The path from box ``a`` to box ``b`` and where its label goes (``k``: how many edges
    left ``a`` before, to stagger labels along their lines)."""
    shift = n * 16
    if b.x > a.x:  # forward: right side to left side
        x1, y1, x2, y2 = a.x + a.w, a.cy + shift - 6, b.x, b.cy + shift - 6
        at = 0.5 if y1 == y2 else (0.3, 0.5, 0.7)[k % 3]
        mx, my = x1 + (x2 - x1) * at, y1 + (y2 - y1) * at
        return f"M{x1:.1f},{y1:.1f} L{x2:.1f},{y2:.1f}", mx, my - 8
    if b.x == a.x:  # same column: an arc on the right
        x1, y1, x2, y2 = a.x + a.w, a.cy, b.x + b.w, b.cy
        bend = x1 + 60 + shift
        return (
            f"M{x1:.1f},{y1:.1f} C{bend:.1f},{y1:.1f} {bend:.1f},{y2:.1f} {x2:.1f},{y2:.1f}",
            bend,
            (y1 + y2) / 2,
        )
    # backward: from the bottom of a, below every box, to the bottom of b
    depth = bottom + 40 + n * 26
    x1, y1, x2, y2 = a.cx + 10, a.y + a.h, b.cx - 10, b.y + b.h
    return (
        f"M{x1:.1f},{y1:.1f} C{x1:.1f},{depth:.1f} {x2:.1f},{depth:.1f} {x2:.1f},{y2:.1f}",
        (x1 + x2) / 2,
        (y1 + y2) / 8 + depth * 0.75 + 14,
    )  # the curve's lowest point
