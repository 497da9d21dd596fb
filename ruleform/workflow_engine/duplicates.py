"""Duplicate rules at entry (R17): normalised keys in ``duplicate_keys``, an indexed lookup
per rule, and what a match does — allow, warn, block or open a conflict case.

Keys are kept current by the record hooks on every create and update (and by transitions
whose ``set`` touches a matched field). A match is one indexed query per rule; the earliest
entered record (``created_at``, then id) is "the existing one" (time priority). Lookups
read every record, whatever the actor may see: a salesperson is told a customer exists
(as the rulebook's message says) but never shown it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ..errors import FieldErrors
from ..metadata.model import DuplicateRule, Entity
from ..platform.actors import SYSTEM, Actor
from ..platform.records.service import RecordService
from .normalise import rule_key
from .service import WorkflowService
from .texts import wf_text

__all__ = ["refresh_keys", "matches", "check_write", "open_conflicts"]


def refresh_keys(
    runtime: Any,
    conn: Connection,
    entity: Entity,
    record: Mapping[str, Any],
    changed: set[str] | None = None,
    created: bool = False,
) -> None:
    """Store the record's key per rule (only rules whose fields are in ``changed``); a
    ``created`` record has no keys to replace yet."""
    table = runtime.system_table("duplicate_keys")
    rows = []
    for rule in entity.duplicates:
        if changed is not None and not changed & {k.field for k in rule.match}:
            continue
        if not created:
            conn.execute(
                table.delete().where(
                    table.c.entity == entity.name,
                    table.c.rule == rule.name,
                    table.c.record_id == record["id"],
                )
            )
        key = rule_key(rule, record)
        if key is not None:
            rows.append(
                {"entity": entity.name, "rule": rule.name, "record_id": record["id"],
                 "key_hash": key}
            )  # fmt: skip
    if rows:
        conn.execute(table.insert(), rows)


def matches(
    runtime: Any, conn: Connection, entity: Entity, rule: DuplicateRule, record: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """Live records matching ``record`` under ``rule``, earliest entered first."""
    key = rule_key(rule, record)
    if key is None:
        return []
    query = runtime.cached(
        ("duplicate_matches", entity.name, rule.name), lambda: _matches_query(runtime, entity, rule)
    )
    params = {"key_hash": key, "own_id": record.get("id") or 0}  # ids start at 1
    return [dict(r) for r in conn.execute(query, params).mappings()]


def _matches_query(runtime: Any, entity: Entity, rule: DuplicateRule) -> sa.Select:
    """Built once per version, entity and rule; ``key_hash`` and ``own_id`` are bound."""
    keys, table = runtime.system_table("duplicate_keys"), runtime.table(entity)
    return (
        sa.select(table)
        .join(keys, keys.c.record_id == table.c.id)
        .where(
            keys.c.entity == entity.name,
            keys.c.rule == rule.name,
            keys.c.key_hash == sa.bindparam("key_hash"),
            table.c.archived.is_(False),
            table.c.id != sa.bindparam("own_id"),
        )
        .order_by(table.c.created_at, table.c.id)
        .limit(20)
    )


def check_write(
    runtime: Any,
    conn: Connection,
    actor: Actor,
    entity: Entity,
    record: Mapping[str, Any],
    changed: set[str] | None,
    conflicts: dict[str, list[dict[str, Any]]] | None = None,
) -> list[str]:
    """Before a write: ``block`` rules refuse it; ``warn`` (and ``conflict``) give warnings.

    On create (``changed`` is None) a ``conflict`` rule with a case is left to
    ``open_conflicts`` (after the insert), which gets the matches found here through
    ``conflicts`` (rule name → matches); on update it only warns.
    """
    locale = actor.locale or runtime.rulebook.default_locale
    warnings: list[str] = []
    errors: dict[str, list[str]] = {}
    for rule in entity.duplicates:
        if rule.on_match == "allow":
            continue
        if changed is not None and not changed & {k.field for k in rule.match}:
            continue
        found = matches(runtime, conn, entity, rule, record)
        if conflicts is not None and rule.on_match == "conflict":
            conflicts[rule.name] = found
        if not found:
            continue
        text = _message(rule, locale)
        if rule.on_match == "block":
            errors.setdefault(rule.match[0].field, []).append(text)
        elif rule.on_match == "conflict" and changed is None and rule.case is not None:
            if _same_owner(found[0], record):
                warnings.append(
                    wf_text("duplicate_own", locale, rule=rule.label.get(locale, rule.name))
                )
            else:
                warnings.append(text)
        else:
            warnings.append(text)
    if errors:
        raise FieldErrors(errors)
    return warnings


def open_conflicts(
    runtime: Any,
    conn: Connection,
    entity: Entity,
    record: Mapping[str, Any],
    now: datetime,
    known: Mapping[str, list[dict[str, Any]]] | None = None,
) -> list[int]:
    """After a create: a conflict case per matching ``conflict`` rule (R17); their ids.
    ``known``: the matches ``check_write`` found before the insert (no second lookup)."""
    opened = []
    for rule in entity.duplicates:
        if rule.on_match != "conflict" or rule.case is None:
            continue
        if known is not None and rule.name in known:
            found = known[rule.name]
        else:
            found = matches(runtime, conn, entity, rule, record)
        if found and not _same_owner(found[0], record):
            opened.append(_open_case(runtime, conn, entity, rule, found[0], record, now))
    return opened


def _same_owner(existing: Mapping[str, Any], new: Mapping[str, Any]) -> bool:
    return existing.get("owner") is not None and existing.get("owner") == new.get("owner")


def _message(rule: DuplicateRule, locale: str) -> str:
    if rule.message:
        return rule.message.get(locale)
    return wf_text("duplicate_found", locale, rule=rule.label.get(locale, rule.name))


def _open_case(
    runtime: Any,
    conn: Connection,
    entity: Entity,
    rule: DuplicateRule,
    existing: Mapping[str, Any],
    new: Mapping[str, Any],
    now: datetime,
) -> int:
    """Create the case record as the system, through the record service (the one write path)."""
    assert rule.case is not None
    target = runtime.entity(rule.case.entity)
    locale = runtime.rulebook.default_locale
    values = {
        name: _source(source, rule, entity, existing, new, locale, target.fields.get(name))
        for name, source in rule.case.fields.items()
    }
    if target.owner:
        values.setdefault("owner", existing.get("owner"))
    if target.department:
        values.setdefault("department", existing.get("department"))
    fixed = {k: v for k, v in values.items() if k in target.fields and target.fields[k].read_only}
    payload = {k: v for k, v in values.items() if k not in fixed}
    view = RecordService(runtime, conn, SYSTEM).create(target.name, payload)
    workflow = WorkflowService(runtime, conn, SYSTEM)
    stored = workflow.load(target, view.id, scoped=False)
    if fixed:  # read-only fields are the engine's to fill, like a transition's `set`
        stored = workflow.write_row(target, stored, fixed, now, by=None,
                                    note={"conflict_rule": rule.name})  # fmt: skip
    workflow.books.event(
        "conflict",
        rule.name,
        entity.name,
        new["id"],
        view.id,
        {
            "case_entity": target.name,
            "case_id": view.id,
            "existing_id": existing["id"],
            "existing_owner": existing.get("owner"),
            "claimant": new.get("owner"),
        },
        now,
    )
    if rule.case.auto_transition:
        workflow.apply(target.name, view.id, rule.case.auto_transition, {}, stored["row_version"])
    return view.id


def _source(
    source: str,
    rule: DuplicateRule,
    entity: Entity,
    existing: Mapping[str, Any],
    new: Mapping[str, Any],
    locale: str,
    field: Any,
) -> Any:
    if source == "rule":
        return rule.name
    if source == "summary":
        title = new.get(entity.title_field) or f"#{new.get('id')}"
        text = f"{rule.label.get(locale, rule.name)}: {title}"
        limit = getattr(field, "max_length", None) or 200
        return text[:limit]
    record, _, column = source.partition(".")
    values = existing if record == "existing" else new
    return values.get(column or "id")
