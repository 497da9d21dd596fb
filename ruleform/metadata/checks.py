"""Semantic checks that need the whole rulebook: reserved names, computed-field cycles,
required fields the form cannot show, and the examples carried by validation rules.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from ..errors import Problem
from .build_context import BuildContext
from .conditions import EvalContext, UserContext
from .field_types import ValueError_, parse_value
from .model import Entity, Rulebook
from .record_rules import rule_passes
from .validation import suggest

__all__ = ["RESERVED_WORDS", "check_identifiers", "check_computed_cycles", "run_examples"]

#: Words of the condition language and of SQL that may not name entities or fields.
RESERVED_WORDS = frozenset(
    """and or not in is empty contains starts ends with true false null today now
    current_user count where has role changed date datetime working day days hour hours
    minute minutes week weeks select from table insert update delete drop alter create
    index order group by having limit offset join on as union all distinct case when then
    else end primary foreign key references constraint default check unique user session
    grant revoke commit rollback between like exists into values set column database
    schema trigger view procedure function returning analyse analyze asc desc cast
    collate cross full inner left right natural outer using window""".split()
)


def check_identifiers(ctx: BuildContext, entities: dict[str, Any]) -> None:
    """Entity and field names must not be reserved words."""
    for name, spec in entities.items():
        if name in RESERVED_WORDS:
            ctx.error(("entities", name), f"'{name}' is a reserved word; choose another name",
                      prefer="key", code="reserved")  # fmt: skip
        for fname in spec.get("fields") or {}:
            if fname in RESERVED_WORDS:
                ctx.error(("entities", name, "fields", fname),
                          f"'{fname}' is a reserved word; choose another name", prefer="key",
                          code="reserved")  # fmt: skip


def check_computed_cycles(ctx: BuildContext, entity: Entity) -> None:
    """A computed field may not depend on itself, directly or through others."""
    deps = {
        name: set(f.expression.fields_used) & set(entity.fields)
        for name, f in entity.fields.items()
        if f.type == "computed" and f.expression is not None
    }
    reported: set[str] = set()
    for start in deps:
        stack, path = [(start, [start])], None
        seen: set[str] = set()
        while stack and path is None:
            node, trail = stack.pop()
            for nxt in deps.get(node, ()):
                if nxt == start:
                    path = [*trail, start]
                    break
                if nxt not in seen:
                    seen.add(nxt)
                    stack.append((nxt, [*trail, nxt]))
        if path and start not in reported:
            reported.update(path)
            ctx.error(("entities", entity.name, "fields", start, "expression"),
                      "computed fields depend on each other in a cycle: " + " → ".join(path),
                      code="cycle")  # fmt: skip


def run_examples(ctx: BuildContext, rulebook: Rulebook) -> None:
    """Run every validation example; a failing one is reported at its line."""
    now = datetime(2026, 1, 5, 2, 0, tzinfo=UTC)
    for entity in rulebook.entities.values():
        for rule in entity.validations:
            for example in rule.examples:
                record = _example_record(ctx, entity, example)
                if record is None:
                    continue
                eval_ctx = EvalContext(now=now, timezone=rulebook.timezone,
                                       user=UserContext(id=1, roles=frozenset(example.user_roles),
                                                        department=None))  # fmt: skip
                passed = rule_passes(rule, record, frozenset(example.user_roles), eval_ctx)
                if passed != example.expect_pass:
                    _report_example(ctx, rule.name, example, passed)


def _example_record(ctx: BuildContext, entity: Entity, example: Any) -> dict | None:
    record: dict[str, Any] = {}
    for key, raw in example.record.items():
        field = entity.fields.get(key)
        if key == "status" and entity.statuses is not None:
            states = entity.statuses.states
            if raw not in states:
                _report_at(ctx, example, f"example: '{raw}' is not a status of {entity.name}",
                           key, "value", suggest(raw, states))  # fmt: skip
                return None
            record[key] = raw
            continue
        if field is None:
            _report_at(ctx, example, f"example: unknown field '{key}'", key, "key",
                       suggest(key, entity.fields))  # fmt: skip
            return None
        try:
            record[key] = parse_value(field, raw)
        except ValueError_ as exc:
            _report_at(ctx, example, f"example: {key}={raw!r} does not fit the field ({exc.code})",
                       key, "value")  # fmt: skip
            return None
    return record


def _report_example(ctx: BuildContext, rule: str, example: Any, passed: bool) -> None:
    outcome = "passes" if passed else "fails"
    expected = "pass" if example.expect_pass else "fail"
    _report_at(ctx, example, f"validation '{rule}': this example {outcome} but is listed under "
                             f"'{expected}'", code="example")  # fmt: skip


def _report_at(ctx: BuildContext, example: Any, message: str, key: str | None = None,
               prefer: str = "key", hint: str = "", code: str = "example") -> None:  # fmt: skip
    """Report at the example, or at one of its keys (``prefer``: the key or its value)."""
    ref = example.source
    if key is not None:
        base = _parse_path(ref.path)
        inner = (*base, "record", key)
        path = inner if inner in ctx.tree.key_marks else (*base, key)
        ref = ctx.tree.where(path, prefer=prefer)
    ctx.problems.append(Problem(message, ref.file, ref.line, ref.column, ref.path, hint,
                                code=code))  # fmt: skip


def _parse_path(text: str) -> tuple:
    """``'entities.customer.validations.cap.examples.pass[0]'`` back to its tuple."""
    parts: list[Any] = []
    for segment in text.split("."):
        name, *indexes = segment.replace("]", "").split("[")
        parts.append(name)
        parts.extend(int(i) for i in indexes)
    return tuple(parts)
