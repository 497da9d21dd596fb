""" "Why can this user see this?" — a decision with its reasons, in zh-CN or en.

``explain(...)`` answers for one user, one record and optionally one field: which of the
user's roles grant reading the entity, whether each role's row scope reaches the record
(each part of a ``where`` scope joined by ``or`` is tested on its own, so a grant through
an access request shows as such), and which roles let them read the field, whether it is
sensitive (masked until revealed, audited) and writable. The scope tests run in the
database with the same clauses the queries use; nothing here decides access.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from ..metadata.conditions import ast as a
from ..metadata.conditions.to_sql import SqlBuilder
from ..metadata.model import Entity, Permission
from .actors import Actor
from .clock import utcnow
from .policy_scopes import ScopeCompiler


@dataclass(frozen=True)
class Decision:
    """An explained yes/no: which roles (and grants) allow or deny it."""

    allowed: bool
    reasons: tuple[str, ...] = ()


__all__ = ["explain", "Decision", "TEXTS"]

TEXTS = {
    "en": {
        "no_record": "There is no {entity} #{id}.",
        "system": "The system acts without limits.",
        "no_roles": "{user} holds no role with access to {entity}.",
        "role_none": "Role {role}: no permission on {entity}.",
        "role_no_read": "Role {role}: may {actions} but not read {entity}.",
        "scope_all": "Role {role}: reads all records — allows.",
        "scope_own": "Role {role}: reads own records — {verdict} (owner is {owner}).",
        "scope_department": "Role {role}: reads records of their department — {verdict}.",
        "scope_department_tree": "Role {role}: reads records of their department and below — "
                                 "{verdict}.",
        "scope_where": "Role {role}: reads records where “{text}” — {verdict}.",
        "scope_part": "  · “{text}”: {verdict}",
        "allows": "allows", "denies": "does not reach this record",
        "holds": "holds", "fails": "does not hold",
        "allowed": "{user} may read {entity} #{id}.",
        "denied": "{user} may not read {entity} #{id}; a request for it answers 404.",
        "field_unknown": "{entity} has no field “{field}”.",
        "field_read": "Field {field}: readable through {roles}.",
        "field_hidden": "Field {field}: no role of {user} may read it (it is left out everywhere).",
        "field_elsewhere": "Field {field}: readable through {roles} on their own records only; "
                           "none of them reaches this one.",
        "field_sensitive": "Field {field} is sensitive: masked until revealed; every reveal is "
                           "written to the read audit.",
        "field_write": "Field {field}: writable through {roles}.",
        "field_no_write": "Field {field}: not writable by {user}.",
    },
    "zh-CN": {
        "no_record": "不存在{entity} #{id}。",
        "system": "系统身份不受权限限制。",
        "no_roles": "{user} 没有可访问{entity}的角色。",
        "role_none": "角色 {role}：对{entity}没有权限。",
        "role_no_read": "角色 {role}：可以{actions}，但不能查看{entity}。",
        "scope_all": "角色 {role}：可查看全部记录 —— 允许。",
        "scope_own": "角色 {role}：只可查看本人的记录 —— {verdict}（负责人为 {owner}）。",
        "scope_department": "角色 {role}：可查看本部门的记录 —— {verdict}。",
        "scope_department_tree": "角色 {role}：可查看本部门及下级部门的记录 —— {verdict}。",
        "scope_where": "角色 {role}：可查看满足“{text}”的记录 —— {verdict}。",
        "scope_part": "  · “{text}”：{verdict}",
        "allows": "允许", "denies": "不包括这条记录",
        "holds": "成立", "fails": "不成立",
        "allowed": "{user} 可以查看{entity} #{id}。",
        "denied": "{user} 不能查看{entity} #{id}；访问时返回 404。",
        "field_unknown": "{entity}没有字段“{field}”。",
        "field_read": "字段 {field}：通过角色 {roles} 可查看。",
        "field_hidden": "字段 {field}：{user} 的任何角色都不能查看（各处均不显示）。",
        "field_elsewhere": "字段 {field}：角色 {roles} 只能在各自范围内的记录上查看，"
                           "都不包括这条记录。",
        "field_sensitive": "字段 {field} 为敏感字段：默认遮盖，需主动显示；每次显示都记入查看日志。",
        "field_write": "字段 {field}：通过角色 {roles} 可修改。",
        "field_no_write": "字段 {field}：{user} 不能修改。",
    },
}  # fmt: skip


def _say(locale: str, key: str, **params: Any) -> str:
    table = TEXTS["zh-CN" if (locale or "").startswith("zh") else "en"]
    return table[key].format(**params)


def explain(policy: Any, conn: Any, tables: Any, actor: Actor, entity: Entity,
            record_id: int, field: str | None = None, locale: str = "en") -> Any:  # fmt: skip
    """The Decision for ``actor`` reading ``record_id`` of ``entity`` (and ``field``)."""
    name = entity.label.get(locale, entity.name)
    user = actor.display_name or actor.username
    table = tables[entity.name]
    row = conn.execute(sa.select(table).where(table.c.id == record_id)).mappings().first()
    if row is None:
        return Decision(False, (_say(locale, "no_record", entity=name, id=record_id),))
    if actor.is_system:
        return Decision(True, (_say(locale, "system"),))
    reasons: list[str] = []
    allowed = False
    reaching: set[str] = set()  # a role's fields are read on the records its scope holds
    for role in sorted(actor.roles):
        perm = entity.permissions.get(role)
        if perm is None:
            continue
        if "read" not in perm.actions:
            reasons.append(_say(locale, "role_no_read", role=role, entity=name,
                                actions=", ".join(sorted(perm.actions)) or "—"))  # fmt: skip
            continue
        ok, lines = _scope(policy, conn, tables, actor, entity, perm, row, locale)
        allowed = allowed or ok
        if ok:
            reaching.add(role)
        reasons += lines
    if not reasons:
        reasons.append(_say(locale, "no_roles", user=user, entity=name))
    reasons.append(_say(locale, "allowed" if allowed else "denied", user=user, entity=name,
                        id=record_id))  # fmt: skip
    field_ok = True
    if field is not None:
        field_ok, lines = _field(policy, actor, entity, field, locale, user, reaching)
        reasons += lines
    return Decision(allowed and field_ok, tuple(reasons))


def _scope(policy: Any, conn: Any, tables: Any, actor: Actor, entity: Entity, perm: Permission,
           row: Any, locale: str) -> tuple[bool, list[str]]:  # fmt: skip
    kind, role = perm.scope.kind, perm.role
    if kind == "all":
        return True, [_say(locale, "scope_all", role=role)]
    ok = _matches(policy, conn, tables, actor, entity, perm, row["id"])
    verdict = _say(locale, "allows" if ok else "denies")
    if kind != "where":
        return ok, [_say(locale, f"scope_{kind}", role=role, verdict=verdict,
                         owner=row.get("owner"))]  # fmt: skip
    where = perm.scope.where
    lines = [_say(locale, "scope_where", role=role, text=where.text, verdict=verdict)]
    for text, node in _parts(where):
        hit = _node_matches(policy, conn, tables, actor, entity, node, row["id"])
        lines.append(_say(locale, "scope_part", text=text, verdict=_say(locale, "holds" if hit
                                                                        else "fails")))  # fmt: skip
    return ok, lines


def _matches(policy: Any, conn: Any, tables: Any, actor: Actor, entity: Entity,
             perm: Permission, record_id: int) -> bool:  # fmt: skip

    compiler: ScopeCompiler = policy._scopes
    clause = compiler.build(actor.user_context(), entity, [perm], tables, _now())
    table = tables[entity.name]
    query = sa.select(sa.literal(1)).where(table.c.id == record_id, clause)
    return conn.execute(query).first() is not None


def _node_matches(policy: Any, conn: Any, tables: Any, actor: Actor, entity: Entity,
                  node: a.Node, record_id: int) -> bool:  # fmt: skip

    table = tables[entity.name]
    ctx = policy._scopes.sql_context(actor.user_context(), entity, table, tables, _now(), ())
    clause = SqlBuilder(ctx, table).positive(node)
    return conn.execute(sa.select(sa.literal(1)).where(table.c.id == record_id, clause)).first() \
        is not None  # fmt: skip


def _parts(where: Any) -> list[tuple[str, a.Node]]:
    """The parts of a top-level ``or`` with their source text (none for a single part)."""
    node = where.ast
    if not isinstance(node, a.BoolOp) or node.op != "or":
        return []
    text = where.text
    starts = [min(n.pos for n in a.walk(item)) for item in node.items] + [len(text)]
    parts = []
    for i, item in enumerate(node.items):
        piece = text[starts[i] : starts[i + 1]].strip()
        if i < len(node.items) - 1 and piece.lower().endswith("or"):
            piece = piece[:-2].rstrip()
        parts.append((piece.strip("() ") if piece.count("(") != piece.count(")") else piece, item))
    return parts


def _field(policy: Any, actor: Actor, entity: Entity, name: str, locale: str,
           user: str, reaching: set[str]) -> tuple[bool, list[str]]:  # fmt: skip
    f = entity.fields.get(name)
    label = f.label.get(locale, name) if f is not None else name
    if f is None:
        return False, [_say(locale, "field_unknown", entity=entity.label.get(locale, entity.name),
                            field=name)]  # fmt: skip
    anywhere = [p.role for p in policy.permissions(actor, entity, "read") if p.read.allows(name)]
    readers = [r for r in anywhere if r in reaching] if reaching else anywhere
    lines = []
    if readers:
        lines.append(_say(locale, "field_read", field=label, roles=", ".join(readers)))
    elif anywhere:  # read by a role whose scope does not hold this record
        lines.append(_say(locale, "field_elsewhere", field=label, roles=", ".join(anywhere)))
    else:
        lines.append(_say(locale, "field_hidden", field=label, user=user))
    if f.sensitive and readers:
        lines.append(_say(locale, "field_sensitive", field=label))
    writers = [p.role for p in policy.permissions(actor, entity, "update")
               if p.write.allows(name) and p.read.allows(name) and not f.read_only]  # fmt: skip
    lines.append(_say(locale, "field_write", field=label, roles=", ".join(writers)) if writers
                 else _say(locale, "field_no_write", field=label, user=user))  # fmt: skip
    return bool(readers), lines


def _now() -> Any:
    return utcnow()
