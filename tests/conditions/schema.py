"""A small rulebook for condition tests: customers, their activities, and partners.

``SCOPE`` is what the compiler would hand to ``compile_condition``; ``TABLES`` are real
tables using the platform's column types; :class:`Db` loads records and runs a condition
both ways (Python and SQL) so tests can compare.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from ruleform.metadata.conditions import (
    EntityInfo,
    EvalContext,
    FieldInfo,
    Scope,
    SqlContext,
    UserContext,
    compile_condition,
)
from ruleform.metadata.sqltypes import ExactDecimal, JSONList, UTCDateTime

F = FieldInfo
SYSTEM = {
    "id": F("id", "number"),
    "owner": F("owner", "user"),
    "department": F("department", "department"),
    "created_at": F("created_at", "datetime"),
    "updated_at": F("updated_at", "datetime"),
}
STATUSES = ("prospect", "interested", "won", "lost")

CUSTOMER = EntityInfo(
    "customer",
    {
        **SYSTEM,
        "status": F("status", "string", STATUSES),
        "level": F("level", "string", ("a", "b", "c")),
        "name": F("name", "string"),
        "email": F("email", "string"),
        "amount": F("amount", "number"),
        "employees": F("employees", "number"),
        "vip": F("vip", "boolean"),
        "tags": F("tags", "list"),
        "channels": F("channels", "list", ("web", "phone", "shop")),
        "signed_on": F("signed_on", "date"),
        "last_contact_at": F("last_contact_at", "datetime"),
        "partner": F("partner", "reference", target="partner"),
        "reviewer": F("reviewer", "user"),
    },
    {"activity": "customer"},
)
ACTIVITY = EntityInfo(
    "activity",
    {
        **SYSTEM,
        "customer": F("customer", "reference", target="customer"),
        "kind": F("kind", "string", ("call", "visit", "email")),
        "happened_at": F("happened_at", "datetime"),
        "minutes": F("minutes", "number"),
    },
)
PARTNER = EntityInfo(
    "partner",
    {
        **SYSTEM,
        "name": F("name", "string"),
        "level": F("level", "string", ("a", "b", "c")),
        "tags": F("tags", "list"),
    },
    {"customer": "partner"},
)
ROLES = frozenset({"sales", "sales_manager", "sales_director", "finance"})
ENTITIES = {"customer": CUSTOMER, "activity": ACTIVITY, "partner": PARTNER}
SCOPE = Scope(ENTITIES, "customer", ROLES)

METADATA = sa.MetaData()


def _system() -> list[sa.Column[Any]]:
    return [
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("owner", sa.BigInteger),
        sa.Column("department", sa.BigInteger),
        sa.Column("created_at", UTCDateTime()),
        sa.Column("updated_at", UTCDateTime()),
    ]


TABLES = {
    "partner": sa.Table(
        "partner",
        METADATA,
        *_system(),
        sa.Column("name", sa.String(200)),
        sa.Column("level", sa.String(20)),
        sa.Column("tags", JSONList()),
    ),
    "customer": sa.Table(
        "customer",
        METADATA,
        *_system(),
        sa.Column("status", sa.String(40)),
        sa.Column("level", sa.String(20)),
        sa.Column("name", sa.String(200)),
        sa.Column("email", sa.String(254)),
        sa.Column("amount", ExactDecimal(18, 2)),
        sa.Column("employees", sa.BigInteger),
        sa.Column("vip", sa.Boolean),
        sa.Column("tags", JSONList()),
        sa.Column("channels", JSONList()),
        sa.Column("signed_on", sa.Date),
        sa.Column("last_contact_at", UTCDateTime()),
        sa.Column("partner", sa.BigInteger),
        sa.Column("reviewer", sa.BigInteger),
    ),
    "activity": sa.Table(
        "activity",
        METADATA,
        *_system(),
        sa.Column("customer", sa.BigInteger),
        sa.Column("kind", sa.String(20)),
        sa.Column("happened_at", UTCDateTime()),
        sa.Column("minutes", sa.BigInteger),
    ),
}

NOW = datetime(2026, 3, 4, 2, 30, tzinfo=UTC)  # Wednesday 10:30 in Shanghai
TZ = "Asia/Shanghai"
USER = UserContext(id=7, roles=frozenset({"sales"}), department=3, departments=frozenset({3, 4}))


@dataclass
class Db:
    """Records loaded into real tables, and the same records as plain dicts."""

    engine: sa.Engine
    records: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def load(self, entity: str, rows: Sequence[Mapping[str, Any]]) -> None:
        table = TABLES[entity]
        full = [{c.name: row.get(c.name) for c in table.columns} for row in rows]
        with self.engine.begin() as conn:
            if full:
                conn.execute(table.insert(), full)
        self.records.setdefault(entity, []).extend(full)

    def clear(self) -> None:
        with self.engine.begin() as conn:
            for table in reversed(METADATA.sorted_tables):
                conn.execute(table.delete())
        self.records = {}

    def eval_context(
        self,
        now: datetime = NOW,
        tz: str = TZ,
        user: UserContext | None = USER,
        calendar: Any = None,
    ) -> EvalContext:
        def related(entity: str, fk: str, record_id: Any) -> list[dict[str, Any]]:
            return [r for r in self.records.get(entity, []) if r.get(fk) == record_id]

        def lookup(entity: str, record_id: Any) -> dict[str, Any] | None:
            return next((r for r in self.records.get(entity, []) if r["id"] == record_id), None)

        return EvalContext(
            now=now, timezone=tz, calendar=calendar, user=user, related=related, lookup=lookup
        )

    def sql_context(
        self,
        entity: str = "customer",
        now: datetime = NOW,
        tz: str = TZ,
        user: UserContext | None = USER,
        calendar: Any = None,
    ) -> SqlContext:
        return SqlContext(
            tables=TABLES, entity=entity, now=now, timezone=tz, calendar=calendar, user=user
        )

    def python_ids(self, cond: Any, entity: str = "customer", **kw: Any) -> set[int]:
        ctx = self.eval_context(**kw)
        return {r["id"] for r in self.records.get(entity, []) if cond.evaluate(r, ctx)}

    def sql_ids(self, cond: Any, entity: str = "customer", **kw: Any) -> set[int]:
        table = TABLES[entity]
        query = sa.select(table.c.id).where(cond.to_sql(self.sql_context(entity, **kw)))
        with self.engine.connect() as conn:
            return set(conn.execute(query).scalars())

    def ids(self, text: str, entity: str = "customer", **kw: Any) -> set[int]:
        """The ids selected by ``text``; fails unless Python and SQL agree."""
        cond = compile_condition(text, Scope(ENTITIES, entity, ROLES))
        python, sql = self.python_ids(cond, entity, **kw), self.sql_ids(cond, entity, **kw)
        assert python == sql, f"{text!r}: Python selects {sorted(python)}, SQL {sorted(sql)}"
        return python


def at(*args: int) -> datetime:
    """An aware UTC datetime."""
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


PARTNERS = [
    {"id": 1, "name": "Acme", "level": "a", "tags": ["gold"]},
    {"id": 2, "name": "Beta", "level": "b", "tags": []},
]

CUSTOMERS = [
    {
        "id": 1,
        "status": "won",
        "level": "a",
        "name": "上海某某有限公司",
        "amount": Decimal("150000.00"),
        "employees": 120,
        "vip": True,
        "tags": ["vip", "key"],
        "channels": ["web"],
        "signed_on": date(2026, 2, 27),
        "last_contact_at": at(2026, 1, 10, 3, 0),
        "partner": 1,
        "owner": 7,
        "department": 3,
        "email": "a@example.com",
        "created_at": at(2026, 1, 1),
    },
    {
        "id": 2,
        "status": "prospect",
        "level": "b",
        "name": "100% Pure_Water",
        "amount": Decimal("99.50"),
        "employees": 5,
        "vip": False,
        "tags": [],
        "channels": ["phone", "shop"],
        "signed_on": date(2026, 3, 2),
        "last_contact_at": at(2026, 3, 3, 20, 0),
        "partner": 2,
        "owner": 8,
        "department": 4,
        "email": "",
        "created_at": at(2026, 3, 3, 16, 0),
    },
    {
        "id": 3,
        "status": "lost",
        "level": "c",
        "name": "ACME trading",
        "amount": None,
        "employees": None,
        "vip": None,
        "tags": None,
        "channels": None,
        "signed_on": None,
        "last_contact_at": None,
        "partner": None,
        "owner": 9,
        "department": 5,
        "email": None,
        "created_at": at(2026, 3, 3, 15, 59, 59),
    },
    {
        "id": 4,
        "status": None,
        "level": None,
        "name": "acme",
        "amount": Decimal("-3.25"),
        "employees": 0,
        "vip": False,
        "tags": ["VIP"],
        "channels": [],
        "signed_on": date(2026, 3, 4),
        "last_contact_at": at(2026, 3, 4, 2, 30),
        "partner": 99,
        "owner": None,
        "department": None,
        "email": "x@y",
        "created_at": at(2026, 3, 4),
    },
]

ACTIVITIES = [
    {"id": 1, "customer": 1, "kind": "call", "happened_at": at(2026, 3, 1), "minutes": 10},
    {"id": 2, "customer": 1, "kind": "visit", "happened_at": at(2026, 2, 1), "minutes": 60},
    {"id": 3, "customer": 1, "kind": "call", "happened_at": at(2026, 3, 3), "minutes": 5},
    {"id": 4, "customer": 2, "kind": "email", "happened_at": at(2026, 3, 2), "minutes": None},
    {"id": 5, "customer": None, "kind": "call", "happened_at": at(2026, 3, 2), "minutes": 1},
]


HUMAN_COLLATION = "en-US-x-icu"


def use_human_collation(engine: sa.Engine, columns: Sequence[sa.Column[Any]]) -> bool:
    """On PostgreSQL, give text columns a language collation (as production servers often
    have), so the tests prove that ordering does not depend on it. Returns whether it did."""
    if engine.dialect.name != "postgresql":
        return False
    with engine.begin() as conn:
        found = conn.execute(
            sa.text("SELECT 1 FROM pg_collation WHERE collname = :name"),
            {"name": HUMAN_COLLATION},
        ).first()
        if found is None:
            return False
        preparer = engine.dialect.identifier_preparer
        for column in columns:
            table = preparer.format_table(column.table)
            name = preparer.format_column(column)
            type_ = column.type.compile(dialect=engine.dialect)
            conn.execute(
                sa.text(
                    f"ALTER TABLE {table} ALTER COLUMN {name} TYPE {type_} "
                    f"COLLATE {preparer.quote_identifier(HUMAN_COLLATION)}"
                )
            )
    return True
