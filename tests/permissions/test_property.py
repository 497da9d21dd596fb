"""Property: what the API list returns is what the declared rules allow.

Hypothesis draws a small department tree, users holding random roles of the CRM rulebook in
random departments, and customers, contacts, access requests (R13) and tickets in random
hands and departments. For every user, ``GET /api/v1/customer`` and ``GET /api/v1/contact``
must return exactly the records — and on each record exactly the fields — that a
brute-force oracle finds by walking the compiled model's permission declarations in plain
Python: row scopes ``own``, ``department``, ``department_tree``, ``all`` and the
conditions below, field read access ``all`` / ``only`` / ``except``, several roles = the
union of each role's rights *on its own rows* (a field of a record is readable when a role
whose scope holds the record reads it; the list's columns are the union over the roles),
related rows (counts, ``customer.owner``) seen through the related entity's own rules.
``GET /api/v1/<entity>/<id>`` of every record listed must show the same fields as its row.

The oracle shares no code with the policy: it reads only the declarations. Conditions are
interpreted by hand (``CONDITIONS``); a rulebook change that adds a condition this file
does not know fails ``test_the_oracle_knows_every_condition`` instead of passing silently.

One app and database serve every example; each example cleans up after itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from ruleform.app import state
from ruleform.platform.auth.tokens import create_token
from ruleform.platform.auth.users import (
    api_tokens_table,
    create_department,
    create_user,
    departments_table,
    user_roles_table,
    users_table,
)
from ruleform.platform.runtime import utcnow

pytestmark = pytest.mark.app

LISTED = ("customer", "contact")  # what the API is asked for
STORED = ("access_request", "ticket", "contact", "customer")  # cleanup order (children first)
#: Columns every reader of a record sees (docs/permissions.md, "Field-level access").
ALWAYS = {"id", "created_at", "updated_at", "created_by", "updated_by", "owner", "department",
          "status", "row_version", "archived"}  # fmt: skip
MASK = "••••"


# --- the world ------------------------------------------------------------------------------


@dataclass
class Rec:
    entity: str
    owner: int | None  # user index
    department: int | None  # department index
    values: dict[str, Any] = field(default_factory=dict)
    archived: bool = False
    id: int = 0  # set when stored


@dataclass
class World:
    parents: list[int | None]  # department i's parent (an earlier index) or None
    users: list[tuple[frozenset[str], int | None]]  # roles, department index
    records: list[Rec]


def worlds(roles: list[str], statuses: list[str]) -> st.SearchStrategy[World]:
    @st.composite
    def build(draw: Any) -> World:
        n_dept = draw(st.integers(1, 4))  # one tree under department 0, often a chain
        parents = [None, *(draw(st.sampled_from([i - 1, i - 1, 0, *range(i)]))
                           for i in range(1, n_dept))]  # fmt: skip
        dept = st.sampled_from([None, *range(n_dept), *range(n_dept)])  # None now and then
        n_users = draw(st.integers(1, 4))
        users = [(frozenset(draw(st.sets(st.sampled_from(roles), min_size=1, max_size=2))),
                  draw(dept)) for _ in range(n_users)]  # fmt: skip
        user = st.sampled_from([None, *range(n_users), *range(n_users)])
        records = []
        for i in range(draw(st.integers(0, 6))):
            records.append(Rec("customer", draw(user), draw(dept), {
                "company_name": f"客户{i}", "status": draw(st.sampled_from(statuses)),
                "mobile": draw(st.sampled_from([None, "13900001234"]))},
                archived=draw(st.booleans())))  # fmt: skip
        customers = [r for r in records if r.entity == "customer"]
        if customers:
            which = st.sampled_from(range(len(customers)))
            for i in range(draw(st.integers(0, 5))):
                records.append(Rec("contact", draw(user), draw(dept), {
                    "full_name": f"联系人{i}", "customer": draw(st.none() | which)},
                    archived=draw(st.booleans())))  # fmt: skip
            for _ in range(draw(st.integers(0, 3))):
                records.append(Rec("access_request", draw(user), draw(dept), {
                    "customer": draw(which),
                    "status": draw(st.sampled_from(["granted", "draft", "revoked"])),
                    "valid_until": draw(st.integers(-2, 2))}))  # days from today  # fmt: skip
            for _ in range(draw(st.integers(0, 3))):
                records.append(Rec("ticket", draw(user), draw(dept), {
                    "customer": draw(which), "technical_assignee": draw(user),
                    "status": draw(st.sampled_from(["received", "in_progress"]))}))  # fmt: skip
        return World(parents, users, records)

    return build()


# --- the oracle: the declarations, read in plain Python --------------------------------------


class Oracle:
    """Which records and fields each user may read, by brute force over the declarations."""

    def __init__(self, rulebook: Any, world: World, today: date):
        self.rulebook, self.world, self.today = rulebook, world, today
        self.by_entity: dict[str, list[Rec]] = {}
        for rec in world.records:
            self.by_entity.setdefault(rec.entity, []).append(rec)

    def subtree(self, dept: int | None) -> set[int]:
        if dept is None:
            return set()
        found, grew = {dept}, True
        while grew:
            more = {i for i, p in enumerate(self.world.parents) if p in found} - found
            found |= more
            grew = bool(more)
        return found

    def perms(self, entity: str, user: int) -> list[Any]:
        declared = self.rulebook.entities[entity].permissions
        return [declared[r] for r in self.world.users[user][0]
                if r in declared and "read" in declared[r].actions]  # fmt: skip

    def may_read(self, rec: Rec, user: int, stack: tuple[str, ...] = ()) -> bool:
        """The record passes one of the user's read scopes (an entity already being decided
        higher up sees no rows: the documented answer to a cycle)."""
        if rec.entity in stack:
            return False
        return any(self._in_scope(p, rec, user, (*stack, rec.entity))
                   for p in self.perms(rec.entity, user))  # fmt: skip

    def _in_scope(self, perm: Any, rec: Rec, user: int, stack: tuple[str, ...]) -> bool:
        dept = self.world.users[user][1]
        kind = perm.scope.kind
        if kind == "all":
            return True
        if kind == "own":
            return rec.owner == user
        if kind == "department":
            return dept is not None and rec.department == dept
        if kind == "department_tree":
            return rec.department in self.subtree(dept)
        assert kind == "where", kind
        return CONDITIONS[(rec.entity, perm.scope.where.text)](self, rec, user, stack)

    def children(self, entity: str, parent: Rec, user: int, stack: tuple[str, ...]) -> list[Rec]:
        """``count(entity …)``: the related rows pointing at ``parent`` that the user may read."""
        customers = self.by_entity.get("customer", [])
        linked = [r for r in self.by_entity.get(entity, []) if r.values["customer"] is not None
                  and customers[r.values["customer"]] is parent]  # fmt: skip
        return [r for r in linked if self.may_read(r, user, stack)]

    def reference(self, rec: Rec, user: int, stack: tuple[str, ...]) -> Rec | None:
        """``customer.x``: the referenced customer, if the user may read it, else null."""
        index = rec.values.get("customer")
        if index is None:
            return None
        target = self.by_entity["customer"][index]
        return target if self.may_read(target, user, stack) else None

    def rows(self, entity: str, user: int) -> set[int]:
        return {r.id for r in self.by_entity.get(entity, [])
                if not r.archived and self.may_read(r, user)}  # fmt: skip

    def fields(self, entity: str, user: int, columns: set[str]) -> set[str]:
        """The columns of the list: the union over the roles that read the entity."""
        model = self.rulebook.entities[entity]
        names = {n for n in model.fields if n in columns
                 and any(_allows(p.read, n) for p in self.perms(entity, user))}  # fmt: skip
        return names | (ALWAYS & columns)

    def record_fields(self, rec: Rec, user: int, columns: set[str]) -> set[str]:
        """The fields of one record: those of the roles whose scope holds *that* record."""
        model = self.rulebook.entities[rec.entity]
        reaching = [p for p in self.perms(rec.entity, user)
                    if self._in_scope(p, rec, user, (rec.entity,))]  # fmt: skip
        names = {n for n in model.fields if n in columns
                 and any(_allows(p.read, n) for p in reaching)}  # fmt: skip
        return names | (ALWAYS & columns)

    def record(self, entity: str, record_id: int) -> Rec:
        return next(r for r in self.by_entity[entity] if r.id == record_id)


def _allows(access: Any, name: str) -> bool:
    if access.mode == "only":
        return name in access.names
    if access.mode == "except":
        return name not in access.names
    assert access.mode == "all", access.mode
    return True


def _owner_is(rec: Rec | None, user: int) -> bool:
    return rec is not None and rec.owner == user


#: Every condition scope on the entities the oracle meets, interpreted by hand.
CONDITIONS: dict[tuple[str, str], Callable[[Oracle, Rec, int, tuple[str, ...]], bool]] = {
    ("customer", "owner = current_user or count(access_request where owner = current_user and "
                 "status = 'granted' and valid_until >= today()) > 0"):
        lambda o, rec, u, stack: rec.owner == u or any(
            a.owner == u and a.values["status"] == "granted"
            and o.today + timedelta(days=a.values["valid_until"]) >= o.today
            for a in o.children("access_request", rec, u, stack)),
    ("customer", "count(ticket where technical_assignee = current_user) > 0"):
        lambda o, rec, u, stack: any(t.values["technical_assignee"] == u
                                     for t in o.children("ticket", rec, u, stack)),
    ("contact", "owner = current_user or customer.owner = current_user"):
        lambda o, rec, u, stack: rec.owner == u or _owner_is(o.reference(rec, u, stack), u),
    ("ticket", "owner = current_user or customer.owner = current_user"):
        lambda o, rec, u, stack: rec.owner == u or _owner_is(o.reference(rec, u, stack), u),
    ("ticket", "owner = current_user or status = 'received'"):
        lambda o, rec, u, stack: rec.owner == u or rec.values["status"] == "received",
    ("ticket", "technical_assignee = current_user"):
        lambda o, rec, u, stack: rec.values["technical_assignee"] == u,
}  # fmt: skip


def test_the_oracle_knows_every_condition(app):
    """Every condition scope of the entities drawn here is one the oracle interprets."""
    rulebook = state(app).runtime.rulebook
    perms = [(name, p) for name in STORED for p in rulebook.entities[name].permissions.values()]
    declared = {(name, p.scope.where.text) for name, p in perms if p.scope.kind == "where"}
    assert declared == set(CONDITIONS)
    kinds = {p.scope.kind for _, p in perms}
    assert kinds <= {"own", "department", "department_tree", "all", "where"}


# --- storing a world and asking the API -------------------------------------------------------


class Store:
    """Writes a world into the app's database and removes it again."""

    def __init__(self, app: Any):
        self.st = state(app)
        self.rt = self.st.runtime
        self.serial = 0

    def write(self, world: World, today: date) -> tuple[list[int], list[str]]:
        """Store the world; returns the user ids and their bearer tokens."""
        self.serial += 1
        with self.st.engine.begin() as conn:
            depts: list[int] = []
            for i, parent in enumerate(world.parents):
                name = f"pt{self.serial}d{i}"
                above = None if parent is None else depts[parent]
                depts.append(create_department(conn, name, name, name, above))
            users, tokens = [], []
            for i, (roles, dept) in enumerate(world.users):
                uid = create_user(conn, f"pt{self.serial}u{i}", None, roles=sorted(roles),
                                  department_id=None if dept is None else depts[dept])  # fmt: skip
                users.append(uid)
                tokens.append(create_token(conn, uid, "property test").token)
            stored: dict[str, list[Rec]] = {}
            for rec in sorted(world.records, key=lambda r: STORED.index(r.entity), reverse=True):
                rec.id = self._insert(conn, rec, users, depts, stored, today)
                stored.setdefault(rec.entity, []).append(rec)
        return users, tokens

    def _insert(self, conn: Any, rec: Rec, users: list[int], depts: list[int],
                stored: dict[str, list[Rec]], today: date) -> int:  # fmt: skip
        model = self.rt.entity(rec.entity)
        table = self.rt.table(model)
        values = dict(rec.values)
        if "customer" in values and values["customer"] is not None:
            values["customer"] = stored["customer"][values["customer"]].id
        if "technical_assignee" in values and values["technical_assignee"] is not None:
            values["technical_assignee"] = users[values["technical_assignee"]]
        if rec.entity == "access_request":
            values["valid_until"] = today + timedelta(days=values["valid_until"])
        now = utcnow()
        row = {"created_at": now, "updated_at": now, "row_version": 1, "archived": rec.archived,
               "rulebook_version": self.rt.version,
               "owner": None if rec.owner is None else users[rec.owner],
               "department": None if rec.department is None else depts[rec.department],
               **values}  # fmt: skip
        if model.statuses is not None:
            row.setdefault("status", model.statuses.initial)
        return conn.execute(table.insert().values(**row).returning(table.c.id)).scalar_one()

    def clear(self, users_before: int, depts_before: int) -> None:
        with self.st.engine.begin() as conn:
            for name in STORED:
                conn.execute(self.rt.table(self.rt.entity(name)).delete())
            for name in ("read_audit", "outbox"):
                conn.execute(self.rt.system_table(name).delete())
            tokens, roles = api_tokens_table(), user_roles_table()
            users, depts = users_table(), departments_table()
            conn.execute(tokens.delete().where(tokens.c.user_id > users_before))
            conn.execute(roles.delete().where(roles.c.user_id > users_before))
            conn.execute(users.delete().where(users.c.id > users_before))
            for (dept,) in conn.execute(sa.select(depts.c.id).where(depts.c.id > depts_before)
                                        .order_by(depts.c.id.desc())).all():  # fmt: skip
                conn.execute(depts.delete().where(depts.c.id == dept))

    def high_water(self) -> tuple[int, int]:
        users, depts = users_table(), departments_table()
        with self.st.engine.connect() as conn:
            top_user = conn.execute(sa.select(sa.func.max(users.c.id))).scalar() or 0
            top_dept = conn.execute(sa.select(sa.func.max(depts.c.id))).scalar() or 0
        return top_user, top_dept


def _today(timezone: str) -> date:
    return datetime.now(ZoneInfo(timezone)).date()


def _customer(owner: int | None, dept: int | None, archived: bool = False) -> Rec:
    return Rec("customer", owner, dept, {"company_name": f"客户{owner}{dept}", "status": "prospect",
                                         "mobile": "13900001234"}, archived)  # fmt: skip


#: A world every run checks, whatever hypothesis draws: a chain of departments 0 → 1 → 2;
#: a sales manager in 1 (sees 1 and 2, not 0), a salesperson in 2 with one live and one
#: expired grant (R13), a technician with one ticket, finance + customer service (fields),
#: finance + sales (payment fields on every customer, all fields on their own only).
EVERY_SCOPE = World(
    parents=[None, 0, 1],
    users=[(frozenset({"sales_manager"}), 1), (frozenset({"sales"}), 2),
           (frozenset({"technical"}), 0), (frozenset({"finance", "customer_service"}), 0),
           (frozenset({"it"}), 2), (frozenset({"finance", "sales"}), 2)],
    records=[_customer(1, 2), _customer(0, 1), _customer(2, 0), _customer(None, 0),
             _customer(1, 2, archived=True), _customer(3, 1), _customer(5, 2),
             Rec("access_request", 1, 2, {"customer": 2, "status": "granted", "valid_until": 0}),
             Rec("access_request", 1, 2, {"customer": 3, "status": "granted", "valid_until": -1}),
             Rec("access_request", 0, 1, {"customer": 5, "status": "granted", "valid_until": 2}),
             Rec("ticket", 3, 0, {"customer": 3, "technical_assignee": 2, "status": "received"}),
             Rec("contact", 0, 2, {"full_name": "甲", "customer": 0}),
             Rec("contact", 1, 0, {"full_name": "乙", "customer": 2}),
             Rec("contact", None, 1, {"full_name": "丙", "customer": 1}),
             Rec("contact", 2, None, {"full_name": "丁", "customer": None})],
)  # fmt: skip


def test_the_api_list_returns_what_the_declared_rules_allow(app):
    store = Store(app)
    rulebook = store.rt.rulebook
    client = app.test_client()
    columns = {name: set(store.rt.table(store.rt.entity(name)).c.keys()) for name in LISTED}
    before = store.high_water()
    statuses = list(rulebook.entities["customer"].statuses.states)

    @settings(max_examples=25, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])  # fmt: skip
    @given(world=worlds(sorted(rulebook.roles), statuses))
    @example(world=EVERY_SCOPE)
    def check(world: World) -> None:
        today = _today(rulebook.timezone)
        try:
            users, tokens = store.write(world, today)
            oracle = Oracle(rulebook, world, today)
            for u, token in enumerate(tokens):
                for entity in LISTED:
                    _compare(client, token, entity, oracle, u, columns[entity], rulebook)
        finally:
            store.clear(*before)

    check()


def _compare(client: Any, token: str, entity: str, oracle: Oracle, user: int,
             columns: set[str], rulebook: Any) -> None:  # fmt: skip
    response = client.get(f"/api/v1/{entity}?page_size=200",
                          headers={"Authorization": f"Bearer {token}"})  # fmt: skip
    roles = sorted(oracle.world.users[user][0])
    if not oracle.perms(entity, user):  # no role reads the entity: it does not exist for them
        assert response.status_code == 404, (entity, roles)
        return
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    got = {r["id"] for r in body["data"]}
    assert got == oracle.rows(entity, user), (entity, roles)
    assert body["meta"]["count"] == len(got)
    fields = oracle.fields(entity, user, columns)
    assert set(body["meta"]["columns"]) == fields, (entity, roles)
    model = rulebook.entities[entity]
    headers = {"Authorization": f"Bearer {token}"}
    for row in body["data"]:
        expected = oracle.record_fields(oracle.record(entity, row["id"]), user, columns)
        assert set(row) == expected, (entity, roles, row["id"])
        for name, value in row.items():
            if name in model.fields and model.fields[name].sensitive and value is not None:
                assert str(value).startswith(MASK), (entity, name)  # masked in lists (R40)
        one = client.get(f"/api/v1/{entity}/{row['id']}", headers=headers)
        assert one.status_code == 200, one.get_json()
        assert set(one.get_json()["data"]) == expected, (entity, roles, row["id"])
