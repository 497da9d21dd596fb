"""Who may see and do what, in plain words: ``ruleform explain PATH --permissions``.

Per entity, a table role × action (✓ / ·), then per role a block: the actions and
transitions by their labels, the row scope in words (a ``where`` scope read back
alternative by alternative, with the condition as written under it), and field access
naming the fields by their labels (``只能查看：开票抬头、纳税人识别号、…``), sensitive ones
marked ``*``. Writable fields are what the policy lets the role write: readable, not
read-only, and only with a create or update right. Lines are wrapped to ``WIDTH`` display
columns (a CJK character counts two).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from .build_workflow import ACTIONS
from .explain_conditions import condition_alternatives, condition_words
from .explain_phrases import PHRASES
from .model import Entity, Permission, Rulebook

__all__ = ["permission_matrix", "permission_blocks", "WIDTH", "display_width", "wrap"]

WIDTH = 100
_TOKENS = re.compile(r"[^\s、，；：,;]+[、，；：,;]*\s*|[、，；：,;]+\s*|\s+")
_LONG = 24  # a run of CJK wider than this may break between any two characters
_CLOSING = set("、，。；：）」”’,.;:)")


def _is_en(locale: str) -> bool:
    return locale.split("-")[0].lower() == "en"


def _phrases(locale: str) -> dict:
    return PHRASES["en"] if _is_en(locale) else PHRASES["zh-CN"]


def display_width(text: str) -> int:
    """Columns ``text`` takes in a terminal: CJK and full-width characters count two."""
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def wrap(text: str, indent: str, hang: str = "  ", width: int = WIDTH) -> list[str]:
    """``text`` on lines of at most ``width`` columns: the first starts with ``indent``, the
    rest with ``indent + hang``. Breaks between words, or between CJK characters; never
    before closing punctuation."""
    lines: list[str] = []
    line: list[str] = [indent]
    for token in _tokens(text):
        if token.isspace() and len(line) == 1 and lines:
            continue
        room = width - display_width("".join(line))
        if display_width(token.rstrip()) > room and len(line) > 1 and not token.isspace():
            # a closing mark never starts a line: the word before it moves down too
            carry = [line.pop()] if token[0] in _CLOSING and len(line) > 2 else []
            lines.append("".join(line).rstrip())
            line = [indent + hang, *carry]
        line.append(token)
    lines.append("".join(line).rstrip())
    return lines


def _tokens(text: str) -> list[str]:
    """Words with their trailing separator (``信用额度、``, ``Bank, ``); a long CJK run is
    split into characters, since Chinese breaks anywhere."""
    out: list[str] = []
    for token in _TOKENS.findall(text):
        if display_width(token) > _LONG and any(ord(ch) > 0x2E80 for ch in token):
            out += list(token)
        else:
            out.append(token)
    return out


def _join(items: Iterable[str], locale: str) -> str:
    return (", " if _is_en(locale) else "、").join(items)


def _role_label(rb: Rulebook, role: str, locale: str) -> str:
    return rb.roles[role].label.get(locale) if role in rb.roles else role


def _labels(entity: Entity, names: Iterable[str], locale: str) -> str:
    """Field labels in the entity's field order, sensitive ones marked ``*``."""
    wanted = set(names)
    return _join([f.label.get(locale) + ("*" if f.sensitive else "")
                  for n, f in entity.fields.items() if n in wanted], locale)  # fmt: skip


def permission_matrix(rb: Rulebook, locale: str = "zh-CN", entity: str | None = None) -> str:
    """Every entity (or one) with its roles' rights: a table role × action, then per role
    the scope, field access and transitions in words."""
    p = _phrases(locale)
    m = p["matrix"]
    out = [m["title"].format(label=rb.label.get(locale))]
    for line in m["legend"]:
        out += wrap(line, "", "")
    for ent in rb.entities.values():
        if entity is not None and ent.name != entity:
            continue
        out += ["", p["entity"].format(label=ent.label.get(locale), name=ent.name)]
        if not ent.permissions:
            out.append("  " + m["no_roles"])
            continue
        out += _action_table(rb, ent, locale)
        for perm in ent.permissions.values():
            out += [""] + permission_blocks(rb, ent, perm, locale, "  ")
    return "\n".join(out)


def _action_table(rb: Rulebook, entity: Entity, locale: str) -> list[str]:
    p = _phrases(locale)
    header = [p["matrix"]["role"], *(p["act"][a] for a in ACTIONS)]
    rows = [header]
    for perm in entity.permissions.values():
        rows.append([f"{_role_label(rb, perm.role, locale)} {perm.role}",
                     *("✓" if a in perm.actions else "·" for a in ACTIONS)])  # fmt: skip
    widths = [max(display_width(r[i]) for r in rows) for i in range(len(header))]
    return ["  " + "  ".join(c + " " * (w - display_width(c))
                             for c, w in zip(r, widths, strict=True)).rstrip()
            for r in rows]  # fmt: skip


def permission_blocks(rb: Rulebook, entity: Entity, perm: Permission, locale: str,
                      indent: str = "") -> list[str]:  # fmt: skip
    """One role's rights on one entity: a title line and its details indented under it."""
    p = _phrases(locale)
    m = p["matrix"]
    sub = indent + "  "
    title = m["role_title"].format(label=_role_label(rb, perm.role, locale), name=perm.role)
    acts = _join([p["act"][a] for a in ACTIONS if a in perm.actions], locale) or m["none"]
    lines = [indent + title, *wrap(m["actions"].format(a=acts), sub, "    ")]
    if entity.transitions:
        names = [t.label.get(locale) for n, t in entity.transitions.items()
                 if n in perm.transitions]  # fmt: skip
        lines += wrap(m["transitions"].format(t=_join(names, locale) or m["none"]), sub, "    ")
    lines += _scope_lines(rb, entity, perm, locale, sub)
    lines += [line for text in _field_texts(entity, perm, locale)
              for line in wrap(text, sub, "    ")]  # fmt: skip
    return lines


def _scope_lines(rb: Rulebook, entity: Entity, perm: Permission, locale: str,
                 indent: str) -> list[str]:  # fmt: skip
    p = _phrases(locale)
    m = p["matrix"]
    scope = perm.scope
    if scope.kind != "where" or scope.where is None:
        return wrap(m["scope"].format(s=p["scope"][scope.kind]), indent, "    ")
    parts = condition_alternatives(scope.where.ast)
    if len(parts) == 1:
        lines = wrap(m["scope_where"].format(c=condition_words(rb, entity, parts[0], locale)),
                     indent, "    ")  # fmt: skip
    else:
        lines = [indent + m["scope_any"]]
        for part in parts:
            lines += wrap("· " + condition_words(rb, entity, part, locale), indent + "  ", "  ")
    return lines + wrap(m["written"].format(c=scope.where.text), indent, "    ")


def _field_texts(entity: Entity, perm: Permission, locale: str) -> list[str]:
    m = _phrases(locale)["matrix"]
    read, write = perm.read, perm.write
    if read.mode == "all":
        texts = [m["read_all"]]
    else:
        key = "read_only" if read.mode == "only" else "read_except"
        texts = [m[key].format(f=_labels(entity, read.names, locale) or m["none"])]
    if not {"create", "update"} & perm.actions:
        texts.append(m["write_no_right"])
    else:
        open_ = [n for n, f in entity.fields.items() if not f.read_only]
        writable = [n for n in open_ if write.allows(n) and read.allows(n)]
        if not writable:
            texts.append(m["write_nothing"])
        elif "only" in (read.mode, write.mode):
            texts.append(m["write_only"].format(f=_labels(entity, writable, locale)))
        elif len(writable) == len(open_):
            texts.append(m["write_all"])
        else:
            left_out = [n for n in open_ if n not in writable]
            texts.append(m["write_except"].format(f=_labels(entity, left_out, locale)))
    sensitive = [n for n, f in entity.fields.items() if f.sensitive and read.allows(n)]
    if sensitive:
        texts.append(m["sensitive"].format(f=_labels(entity, sensitive, locale)))
    return texts
